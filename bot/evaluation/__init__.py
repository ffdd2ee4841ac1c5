"""Measuring what students get: held-out questions, the answer set, conversation tests."""

from bot.evaluation.heldout import AnswerReport, check_answers, off_topic_share

__all__ = ["AnswerReport", "check_answers", "off_topic_share"]

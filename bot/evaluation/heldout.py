"""Checking answers end to end: does the bot's reply to a question name the right entry?

Used by the held-out test and by `benchmarks/heldout_answers.py`; questions are
`{text, intent, expect: [entry ids], contains?: "phrase"}` (tests/data/heldout_questions.yml).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.agent import Agent


@dataclass
class AnswerReport:
    total: int = 0
    right: int = 0
    intent_right: int = 0
    misses: list[str] = field(default_factory=list)

    @property
    def share(self) -> float:
        return self.right / self.total if self.total else 0.0

    @property
    def intent_accuracy(self) -> float:
        return self.intent_right / self.total if self.total else 0.0


def check_answers(agent: Agent, questions: list[dict[str, Any]]) -> AnswerReport:
    """Asks each question in a fresh conversation and checks the reply names every expected entry."""
    kb = agent.project.knowledge
    report = AnswerReport(total=len(questions))
    for number, question in enumerate(questions):
        parse = agent.parse(question["text"])
        replies = agent.dialogue.handle(f"evaluation-{number}", question["text"], parse)
        text = "\n".join(reply.get("text", "") for reply in replies).lower()
        wanted = [kb.get(entry_id).name.lower() for entry_id in question["expect"]]
        report.intent_right += parse["intent"]["name"] == question.get("intent")
        if all(name in text for name in wanted) and question.get("contains", "").lower() in text:
            report.right += 1
        else:
            report.misses.append(f"{question['text']!r}: wanted {question['expect']}, "
                                 f"understood {parse['intent']['name']}, answered {text[:70]!r}")
    return report


def off_topic_share(agent: Agent, texts: list[str]) -> float:
    """The share of off-topic messages the NLU recognises as off-topic or unsure."""
    handled = [agent.parse(text)["intent"]["name"] in ("out_of_scope", "nlu_fallback") for text in texts]
    return sum(handled) / len(handled) if handled else 0.0

"""Amazon Comprehend on the student's own text.

One form serves the five analyses: the intent that started it sets `text_analysis`
(sentiment, entities, ...), the form finds the text in quotes or after a colon, or
asks for it, and `action_analyze_text` answers in a sentence or a short list.
"""

from __future__ import annotations

from typing import Any

from bot.aws import AwsServices
from bot.dialogue.actions import ActionContext
from bot.dialogue.events import Event, SlotSet
from bot.dialogue.forms import FormValidator

from .aws_support import MeteredAction, quoted_text, text_answer

TEXT = "analysis_text"
ANALYSIS = "text_analysis"
LANGUAGES = {"en": "English", "es": "Spanish", "fr": "French", "de": "German", "it": "Italian", "pt": "Portuguese",
             "ja": "Japanese", "zh": "Chinese", "ko": "Korean", "ar": "Arabic", "hi": "Hindi", "nl": "Dutch"}


class ValidateTextAnalysisForm(FormValidator):
    name = "validate_text_analysis_form"

    def extract_analysis_text(self, context: ActionContext) -> str | None:
        return quoted_text(context.text)

    def validate_analysis_text(self, value: Any, context: ActionContext) -> str | None:
        return text_answer(value)


class ActionAnalyzeText(MeteredAction):
    name = "action_analyze_text"

    def run_metered(self, context: ActionContext, aws: AwsServices) -> list[Event]:
        analysis = context.slots.get(ANALYSIS) or "sentiment"
        text = self.limited_text(context.slots.get(TEXT) or "", aws)
        context.say(_describe(analysis, aws.comprehend.analyze(analysis, text), text))
        return [SlotSet(TEXT, None)]

    def after_problem(self, context: ActionContext) -> list[Event]:
        return [SlotSet(TEXT, None)]


def _span(item: dict[str, Any], text: str) -> str:
    """An entity's or phrase's words: its Text, else the offsets into what was sent."""
    return item.get("Text") or text[item.get("BeginOffset", 0):item.get("EndOffset", 0)]


def _describe(analysis: str, answer: dict[str, Any], text: str) -> str:
    if analysis == "sentiment":
        sentiment = answer["Sentiment"]
        score = answer.get("SentimentScore", {}).get(sentiment.capitalize(), 0)
        return f"Comprehend finds it {sentiment.lower()} ({score:.0%} sure)."
    if analysis == "language":
        languages = answer.get("Languages", [])
        if not languages:
            return "Comprehend could not tell the language."
        top = languages[0]
        code = top["LanguageCode"]
        return f"Comprehend says it is {LANGUAGES.get(code, code)} ({code}, {top['Score']:.0%} sure)."
    if analysis == "key_phrases":
        phrases = [_span(p, text) for p in answer.get("KeyPhrases", [])]
        return "Key phrases: " + "; ".join(phrases) + "." if phrases else "Comprehend found no key phrases."
    entities = answer.get("Entities", [])
    if analysis == "pii":
        if not entities:
            return "Comprehend found no personal information (PII) in it."
        kinds = sorted({e["Type"].replace("_", " ").lower() for e in entities})
        return f"Comprehend found {len(entities)} piece(s) of personal information: {', '.join(kinds)}."
    if not entities:
        return "Comprehend found no named entities in it."
    return "Entities: " + "; ".join(f"{_span(e, text)} ({e['Type'].replace('_', ' ').lower()})" for e in entities) + "."

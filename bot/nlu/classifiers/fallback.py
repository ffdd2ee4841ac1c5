"""Unsure answers become `nlu_fallback`, as Rasa's FallbackClassifier does.

When the top intent's confidence is under `threshold`, or the top two are closer than
`ambiguity_threshold`, the intent becomes nlu_fallback (with the threshold as its
confidence) and the original ranking is kept, so the dialogue can ask "did you mean ...?".
"""

from __future__ import annotations

from bot.errors import ConfigError
from bot.nlu.component import Component
from bot.nlu.message import Message

FALLBACK_INTENT = "nlu_fallback"


class FallbackClassifier(Component):
    name = "fallback_classifier"
    defaults = {"threshold": 0.3, "ambiguity_threshold": 0.05}

    def validate_options(self) -> None:
        for key in ("threshold", "ambiguity_threshold"):
            value = self.options[key]
            if not isinstance(value, (int, float)) or not 0 <= value <= 1:
                raise ConfigError(f"'{key}' of {self.name} must be a number from 0 to 1, got {value!r}")

    def process(self, message: Message) -> None:
        ranking = message.intent_ranking
        if not ranking:
            return
        top = ranking[0]["confidence"]
        second = ranking[1]["confidence"] if len(ranking) > 1 else 0.0
        if top < self.options["threshold"] or top - second < self.options["ambiguity_threshold"]:
            message.intent = {"name": FALLBACK_INTENT, "confidence": float(self.options["threshold"])}
            message.intent_ranking = [dict(message.intent), *ranking]

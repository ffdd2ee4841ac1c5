"""Whole messages that mean one thing, whatever the NLU model makes of them.

"yes", "no", "cancel" and "start over" steer the conversation: they must not depend on
how one training run came out on one CPU. The project lists them (`dialogue:
explicit_intents` in coursebot.yml); a message that is exactly one of them, ignoring
case, spacing and a final "." or "!", gets that intent with full confidence. A final
"?" is kept, so "yes?" is not a yes. Confirmations of anything billable take only these
phrases (or the button's payload) as a yes: "hmm", "wait" or "uh" never start a notebook,
however the classifier reads them. An acknowledgement before the phrase ("ok, what's
next?", "found it, then?") does not hide it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

_SPACES = re.compile(r"\s+")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})
_ACKNOWLEDGED = re.compile(r"^(?:ok(?:ay)?|alright|all right|done|found it|got it|great|cool|right)\s*[,.!]?\s+(?=\S)")


def normalise(text: str) -> str:
    """The form in which messages and phrases are compared."""
    text = unicodedata.normalize("NFKC", text).translate(_APOSTROPHES).casefold()
    return _SPACES.sub(" ", text).strip(" \t\n.!,")


class ExplicitIntents:
    """The project's explicit phrases, each naming its intent."""

    def __init__(self, phrases: Mapping[str, Iterable[str]] | None = None):
        self._intent_of: dict[str, str] = {}
        for intent, texts in (phrases or {}).items():
            for text in texts:
                key = normalise(str(text))
                if key and self._intent_of.setdefault(key, intent) != intent:
                    raise ValueError(f"the explicit phrase {text!r} is listed under both "
                                     f"{self._intent_of[key]!r} and {intent!r}")

    def __bool__(self) -> bool:
        return bool(self._intent_of)

    def intent(self, text: str) -> str | None:
        """The intent `text` explicitly means, or None. A button's payload ("/affirm")
        means its intent."""
        stripped = text.strip()
        if stripped.startswith("/") and re.fullmatch(r"/\w+(\{.*\})?", stripped, re.DOTALL):
            return stripped[1:].split("{", 1)[0]
        return self._lookup(text)

    def _lookup(self, text: str) -> str | None:
        key = normalise(text)
        return self._intent_of.get(key) or self._intent_of.get(_ACKNOWLEDGED.sub("", key), None)

    def means(self, text: str, intent: str) -> bool:
        return self.intent(text) == intent

    def apply(self, text: str, parse: dict[str, Any]) -> dict[str, Any]:
        """`parse` with the explicit intent of `text` on top, if it has one; the model's
        ranking stays below it, for the record."""
        intent = self._lookup(text)
        if intent is None:
            return parse
        top = {"name": intent, "confidence": 1.0}
        ranking = [r for r in parse.get("intent_ranking") or [] if r.get("name") != intent]
        return {**parse, "intent": top, "intent_ranking": [top, *ranking]}

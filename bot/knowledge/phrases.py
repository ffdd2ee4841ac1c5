"""Finding known names inside free text.

A PhraseIndex compiles surface forms into one case-insensitive regular expression,
longest alternatives first, so "model tuning" wins over "model" at the same place.
Spaces and hyphens inside a name match either ("scikit learn" finds "scikit-learn").
Offsets refer to the original text, as entity start/end must (Rasa's shape).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from bot.text import normalize


@dataclass(frozen=True)
class PhraseMatch:
    start: int
    end: int
    text: str
    value: str


class PhraseIndex:
    """Maps surface forms (any case) to values and finds them as whole phrases."""

    def __init__(self, forms: Mapping[str, str]):
        self._values = {phrase_key(form): value for form, value in forms.items() if phrase_key(form)}
        patterns = sorted({normalize(form) for form in forms if phrase_key(form)}, key=len, reverse=True)
        body = "|".join(_flexible(form) for form in patterns)
        self._regex = re.compile(rf"(?<![\w.])(?:{body})(?![\w]|\.\w)", re.IGNORECASE) if body else None

    def __len__(self) -> int:
        return len(self._values)

    def get(self, form: str) -> str | None:
        """The value of an exact surface form (case and punctuation ignored)."""
        return self._values.get(phrase_key(form))

    def find(self, text: str) -> list[PhraseMatch]:
        """Non-overlapping matches, leftmost first, longest at each position."""
        if self._regex is None:
            return []
        found = []
        for match in self._regex.finditer(text):
            value = self._values.get(phrase_key(match.group()))
            if value is not None:
                found.append(PhraseMatch(match.start(), match.end(), match.group(), value))
        return found


def phrase_key(form: str) -> str:
    """The identity of a surface form: case, punctuation, spaces and hyphens ignored."""
    return re.sub(r"[\s-]+", "", normalize(form))


def _flexible(form: str) -> str:
    """A pattern for a normalised form where each space or hyphen matches either, or none."""
    parts = re.split(r"[\s-]+", form)
    return r"[\s-]?".join(re.escape(part) for part in parts)

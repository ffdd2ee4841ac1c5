"""Text normalisation shared by matching, validation and evaluation."""

from __future__ import annotations

import re
import unicodedata

_PUNCTUATION = re.compile(r"[^\w\s.+-]|(?<!\w)[.+-]|[.+-](?!\w)")
_SPACES = re.compile(r"\s+")


def normalize(text: str) -> str:
    """Case-folds, strips accents and punctuation and collapses spaces.

    Dots, pluses and hyphens inside words survive ("ml.t2.medium", "c5n", "scikit-learn"),
    so names keep their shape while sentence punctuation goes.
    """
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = _PUNCTUATION.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def words(text: str) -> list[str]:
    """The normalised words of a text."""
    return normalize(text).split()

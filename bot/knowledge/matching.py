"""Ranking entries against a described task ("something to read scanned forms").

A light lexical matcher (standard library only, so it also runs in the Lex Lambda):
TF-IDF cosine over stemmed content words plus ordered word pairs, so "speech to
text" and "text to speech" stay different. Each entry is scored by its best
`use_for` phrase, with its name, summary, examples and details as weaker evidence.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from bot.knowledge.entry import Entry
from bot.text import words

STOPWORDS = frozenset("""
a an the and or of to for in on at by with from into onto about as is are was were be been being
do does did doing done can could should would will shall may might must i me my we our you your it
its this that these those what which who whom whose how when where why there here some any all
want need use using used get make let please thing something someone aws amazon service services
tool best good way help just like so if then than also very really kind sort one ones
""".split())

_SUFFIXES = ("ations", "ation", "ings", "ing", "ers", "er", "ies", "es", "ed", "ly", "s", "e")
# How much each field of an entry counts; use_for phrases are written to be matched.
_WEIGHTS = {"use_for": 1.0, "name": 0.6, "summary": 0.35, "examples": 0.3, "details": 0.25}


def stem(word: str) -> str:
    """A deliberately crude suffix stripper: enough to join 'transcribing' and 'transcribe'."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def terms(text: str) -> list[str]:
    """Stemmed content words and ordered pairs of neighbouring content words."""
    content = [stem(w) for w in words(text) if w not in STOPWORDS]
    return content + [f"{a}>{b}" for a, b in zip(content, content[1:])]


@dataclass(frozen=True)
class TaskMatch:
    entry: Entry
    score: float
    phrase: str


class TaskMatcher:
    """Scores how well each entry's `use_for` phrases describe a task."""

    def __init__(self, entries: Iterable[Entry]):
        self._entries = [e for e in entries if e.use_for]
        fields = [_fields(e) for e in self._entries]
        documents = [terms(text) for entry_fields in fields for texts in entry_fields.values() for text in texts]
        frequency = Counter(term for doc in documents for term in set(doc))
        total = len(documents) or 1
        self._idf = {term: math.log((1 + total) / (1 + df)) + 1 for term, df in frequency.items()}
        self._vectors = [{name: [(self._vector(terms(t)), t) for t in texts] for name, texts in f.items()}
                         for f in fields]

    def rank(self, task: str, limit: int = 3) -> list[TaskMatch]:
        """Entries best suited to the task, best first; empty when nothing matches."""
        query = self._vector(terms(task))
        if not query:
            return []
        scored = []
        for entry, vectors in zip(self._entries, self._vectors):
            score, phrase = 0.0, entry.use_for[0]
            for name, weight in _WEIGHTS.items():
                best, text = max(((self._cosine(query, v), t) for v, t in vectors[name]), default=(0.0, ""))
                score += weight * best
                if name == "use_for":
                    phrase = text
            if score > 0:
                scored.append(TaskMatch(entry, score, phrase))
        scored.sort(key=lambda match: match.score, reverse=True)
        return scored[:limit]

    def _vector(self, doc: list[str]) -> dict[str, float]:
        counts = Counter(doc)
        return {t: c * self._idf.get(t, 0.0) for t, c in counts.items() if t in self._idf}

    @staticmethod
    def _cosine(a: dict[str, float], b: dict[str, float]) -> float:
        if not a or not b:
            return 0.0
        dot = sum(weight * b.get(term, 0.0) for term, weight in a.items())
        norm = math.sqrt(sum(w * w for w in a.values())) * math.sqrt(sum(w * w for w in b.values()))
        return dot / norm if norm else 0.0


def _fields(entry: Entry) -> dict[str, tuple[str, ...]]:
    return {"use_for": entry.use_for, "name": (entry.name,), "summary": (entry.summary,),
            "examples": entry.examples, "details": (entry.details,)}

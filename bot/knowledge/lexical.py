"""Okapi BM25 over the passages: the lexical half of retrieval.

Words are lower-cased and stemmed with the Snowball English stemmer ("features" and
"featuring" meet at "featur"); stop words are left out. The index is plain data (terms,
postings, lengths), built at train time and stored with the model as JSON, so that the
Lex code hook scores questions with it in pure Python, without NumPy or scikit-learn.
"""

from __future__ import annotations

import math
import re
import threading
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

_WORD = re.compile(r"[a-z0-9]+(?:['.][a-z0-9]+)*")
K1, B = 1.2, 0.75


_local = threading.local()


def _stemmer() -> Any:
    """This thread's stemmer: a Snowball stemmer keeps the word it works on in itself, so
    two threads sharing one (the server's turn threads) get each other's stems."""
    stemmer = getattr(_local, "stemmer", None)
    if stemmer is None:
        import snowballstemmer

        stemmer = _local.stemmer = snowballstemmer.stemmer("english")
    return stemmer


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    return _stemmer().stemWord(word)


def words(text: str) -> list[str]:
    """The lower-cased words of a text, keeping "ml.t3.medium" and "don't" whole."""
    return _WORD.findall(text.casefold().replace("\u2019", "'"))


class LexicalIndex:
    """BM25 over a list of texts; `search` returns (position, score), best first."""

    def __init__(self, postings: dict[str, list[list[int]]], lengths: list[int], stop_words: frozenset[str]):
        self.postings = postings
        self.lengths = lengths
        self.stop_words = stop_words
        self.average = sum(lengths) / len(lengths) if lengths else 1.0
        count = len(lengths)
        self.idf = {term: math.log(1 + (count - len(found) + 0.5) / (len(found) + 0.5))
                    for term, found in postings.items()}

    @classmethod
    def build(cls, texts: Iterable[str], stop_words: Iterable[str]) -> LexicalIndex:
        stops = frozenset(stop_words)
        postings: dict[str, list[list[int]]] = {}
        lengths = []
        for position, text in enumerate(texts):
            terms = Counter(cls._terms(text, stops))
            lengths.append(sum(terms.values()))
            for term, frequency in terms.items():
                postings.setdefault(term, []).append([position, frequency])
        return cls(postings, lengths, stops)

    @staticmethod
    def _terms(text: str, stop_words: frozenset[str]) -> list[str]:
        return [stem(word) for word in words(text) if word not in stop_words]

    def terms(self, text: str) -> list[str]:
        return self._terms(text, self.stop_words)

    def search(self, text: str, limit: int = 50) -> list[tuple[int, float]]:
        scores: dict[int, float] = {}
        # In the question's order, never a set's: a set's order changes with each process's
        # hash seed, and with it the sums' last bits and which of two tied passages wins.
        for term in dict.fromkeys(self.terms(text)):
            idf = self.idf.get(term)
            if idf is None:
                continue
            for position, frequency in self.postings[term]:
                norm = frequency + K1 * (1 - B + B * self.lengths[position] / self.average)
                scores[position] = scores.get(position, 0.0) + idf * frequency * (K1 + 1) / norm
        return sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:limit]

    def known(self, term: str) -> bool:
        return term in self.postings

    def as_dict(self) -> dict[str, Any]:
        return {"postings": self.postings, "lengths": self.lengths, "stop_words": sorted(self.stop_words)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LexicalIndex:
        return cls(data["postings"], data["lengths"], frozenset(data["stop_words"]))

"""Which words of a question the course knows: the signal behind most honest declines.

"how do I attach an EBS volume", "what is DynamoDB", "how does k-means pick centroids":
near misses share most of their words with the course ("how", "instance", "what is"),
and retrieval alone finds something close to them. What gives them away is a word that
carries the question and that neither the notes, the knowledge base nor the way students
ask in-scope questions ever use, and that is not an everyday English word either (so
"honestly" or "lecture" in a rambling in-scope question are no such sign). A typo of a
known word is known ("overfiting").

Standard library only; the word lists are built at train time (bot/knowledge/index_build.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from bot.knowledge.lexical import stem, words

_PRODUCT = re.compile(r"\b(?:aws|amazon|sagemaker)\s+([a-z][a-z0-9-]+)", re.IGNORECASE)
# An acronym or a code as the student writes it: "VPC", "EBS", "PCA", "G4", "Inf1", "L2".
_NAME = re.compile(r"\b(?:[A-Z][A-Z0-9]+|[A-Za-z]+[0-9][A-Za-z0-9]*)\b")


class Vocabulary:
    def __init__(self, known: Iterable[str], common: Iterable[str], stop_words: Iterable[str],
                 words_of: dict[str, str] | None = None, spelled: Iterable[str] = ()):
        self.known = frozenset(known)          # stems the course and in-scope questions use
        # The words themselves (of five letters or more), for typos that change the stem:
        # "differnce" stems to "differnc", two edits from "differ", one from "difference".
        self.spelled = frozenset(spelled)
        self._spelled_by_length: dict[int, list[str]] = {}
        for word in sorted(self.spelled):
            self._spelled_by_length.setdefault(len(word), []).append(word)
        self._words = dict(words_of or {})     # stem -> a word the course writes it as
        self.common = frozenset(common)        # everyday English words
        self.stop_words = frozenset(stop_words)
        # The stems a typo is corrected to: those the course writes (a typo students often
        # make, "notebok", is known, but the notes never hold it).
        self._by_length: dict[int, list[str]] = {}
        for term in sorted(self._words):  # sorted: the same correction in every process
            self._by_length.setdefault(len(term), []).append(term)

    def unknown(self, text: str) -> list[str]:
        """The words of `text` that the course never uses and that are not everyday words."""
        found = []
        for word in words(text):
            name = _model_name(word)  # "l1" is an everyday token to wordfreq, but a name here
            if ((len(word) < 3 and not name) or word in self.stop_words or word.isdigit()
                    or (word in self.common and not name) or self._is_known(word)):
                continue
            found.append(word)
        return found

    def knows_none(self, text: str) -> bool:
        """Whether no word of `text` is known, common or a stop word ("blorf zyxt?"): not a
        question about something the course lacks, but one the bot did not understand."""
        found = words(text)
        return bool(found) and len(self.unknown(text)) == len(found)

    def corrected(self, text: str) -> str:
        """`text` with each typo of a course word replaced by that word ("notebok" ->
        "notebook"), so that the lexical half finds what the student meant."""
        def fix(match: re.Match) -> str:
            word = match.group(0)
            lower = word.lower()
            if len(lower) < 5 or lower in self.common or stem(lower) in self._words or lower in self.stop_words:
                return word
            term = stem(lower)
            for size in (len(term), len(term) - 1, len(term) + 1):
                for other in self._by_length.get(size, ()):
                    if _one_edit(term, other):
                        return self._words[other]
            # a typo that changes the stem: "unsupervized" is one edit from "unsupervised"
            for size in (len(lower), len(lower) - 1, len(lower) + 1):
                for other in self._spelled_by_length.get(size, ()):
                    if _one_edit(lower, other):
                        return other
            return word

        return re.sub(r"[A-Za-z]+", fix, text)

    def unknown_products(self, text: str) -> list[str]:
        """"AWS Glue", "Amazon Kendra", "SageMaker Autopilot": a product the course never names."""
        return [name for name in (m.group(1).lower() for m in _PRODUCT.finditer(text))
                if name not in self.stop_words and stem(name) not in self.known and name not in self.known]

    def unknown_names(self, text: str) -> list[str]:
        """"VPC", "G4", "SMOTE": acronyms and codes the course never uses. Like a product, such
        a name is what the question is about, so one is enough to give a near miss away,
        however close the rest of its words are to the notes."""
        unknown = set(self.unknown(text))
        return [m.group(0) for m in _NAME.finditer(text) if m.group(0).lower() in unknown]

    def _is_known(self, word: str) -> bool:
        term = stem(word)
        if term in self.known or word in self.known:
            return True
        if len(term) < 5:
            return False
        # A typo: one edit away from a known stem, or from a known word, of about the same length.
        return any(_one_edit(term, other) for size in (len(term) - 1, len(term), len(term) + 1)
                   for other in self._by_length.get(size, ())) or (
            len(word) >= 5 and any(_one_edit(word, other) for size in (len(word) - 1, len(word), len(word) + 1)
                                   for other in self._spelled_by_length.get(size, ())))

    def as_dict(self) -> dict[str, Any]:
        return {"known": sorted(self.known), "common": sorted(self.common), "stop_words": sorted(self.stop_words),
                "words": self._words, "spelled": sorted(self.spelled)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Vocabulary:
        return cls(data["known"], data["common"], data["stop_words"], data.get("words"), data.get("spelled", ()))


def _model_name(word: str) -> bool:
    """"g4", "l1", "p3": two characters, but a name (an instance family, a norm), not a stray letter pair."""
    return any(c.isdigit() for c in word) and any(c.isalpha() for c in word)


def _one_edit(a: str, b: str) -> bool:
    """Whether a and b differ by one insertion, deletion, substitution or swap."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1
                                  and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    for i in range(len(long_)):
        if long_[:i] + long_[i + 1:] == short:
            return True
    return False

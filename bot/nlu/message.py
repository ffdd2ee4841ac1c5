"""A message on its way through the NLU pipeline, and its parse result."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

# A passage in quotes of two words or more: what a student wants analysed or spoken
# ("say 'the pipeline has six stages' out loud"), not how they ask.
_QUOTED = re.compile(r"\"[^\"]*\s[^\"]*\"|“[^”]*\s[^”]*”|‘[^’]*\s[^’]*’|(?<!\w)'[^']*\s[^']*'(?!\w)")
QUOTED_PLACEHOLDER = "text"
LEANS_OUT_OF_SCOPE = "leans_out_of_scope"   # a parse key only CourseBot's NLU sets


@dataclass
class Message:
    text: str
    intent: dict[str, Any] | None = None
    intent_ranking: list[dict[str, Any]] = field(default_factory=list)
    entities: list[dict[str, Any]] = field(default_factory=list)
    # Featurizers' output by featurizer name (dense NumPy vectors or sparse rows);
    # classifiers read them. Never part of the parse result.
    features: dict[str, Any] = field(default_factory=dict, repr=False)
    # The fallback classifier's mark on an in-scope intent given with a real out-of-scope share.
    leans_out_of_scope: bool = False

    def quoted_spans(self) -> list[tuple[int, int]]:
        """Where the quoted passages of two or more words are (quotes included)."""
        return [match.span() for match in _QUOTED.finditer(self.text)]

    def intent_text(self, *, mask_entities: bool = False) -> str:
        """The text as intent features see it: each quoted passage of two or more words
        becomes '"text"', so that its words do not decide what the student asks for;
        with `mask_entities`, each entity outside them becomes its type (`__concept__`)."""
        spans = [(start, end, f'"{QUOTED_PLACEHOLDER}"') for start, end in self.quoted_spans()]
        if mask_entities:
            spans += [(e["start"], e["end"], f"__{e['entity']}__") for e in self.entities
                      if not any(start <= e["start"] and e["end"] <= end for start, end, _ in spans)]
        text = self.text
        for start, end, replacement in sorted(spans, reverse=True):
            text = f"{text[:start]}{replacement}{text[end:]}"
        return text

    def add_entity(self, entity: str, value: str, start: int, end: int, confidence: float,
                   extractor: str) -> bool:
        """Adds an entity unless it overlaps one found earlier; True when added."""
        if not self.is_free(start, end):
            return False
        self.entities.append({"entity": entity, "value": value, "start": start, "end": end,
                              "confidence": round(float(confidence), 4), "extractor": extractor})
        self.entities.sort(key=lambda e: e["start"])
        return True

    def is_free(self, start: int, end: int) -> bool:
        """Whether no entity found so far overlaps the characters start..end."""
        return not any(start < other["end"] and other["start"] < end for other in self.entities)

    def set_ranking(self, ranking: list[tuple[str, float]], length: int) -> None:
        """Stores a classifier's (intent, confidence) pairs, best first."""
        self.intent_ranking = [{"name": name, "confidence": round(float(p), 4)} for name, p in ranking[:length]]
        self.intent = dict(self.intent_ranking[0]) if self.intent_ranking else None

    def as_parse(self) -> dict[str, Any]:
        """The parse result in the shape of Rasa's /model/parse."""
        parse = {"text": self.text, "intent": self.intent or {"name": None, "confidence": 0.0},
                 "entities": self.entities, "intent_ranking": self.intent_ranking}
        if self.leans_out_of_scope:
            parse[LEANS_OUT_OF_SCOPE] = True
        return parse

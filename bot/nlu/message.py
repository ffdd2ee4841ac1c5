"""A message on its way through the NLU pipeline, and its parse result."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Message:
    text: str
    intent: dict[str, Any] | None = None
    intent_ranking: list[dict[str, Any]] = field(default_factory=list)
    entities: list[dict[str, Any]] = field(default_factory=list)
    # Featurizers' output by featurizer name (dense NumPy vectors or sparse rows);
    # classifiers read them. Never part of the parse result.
    features: dict[str, Any] = field(default_factory=dict, repr=False)

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
        return {"text": self.text, "intent": self.intent or {"name": None, "confidence": 0.0},
                "entities": self.entities, "intent_ranking": self.intent_ranking}

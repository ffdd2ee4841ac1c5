"""Entities by name: every way the project names a thing, mapped to its canonical value.

The names come from the knowledge base (display names and aliases, valued by entry
id, typed by category), the lookup tables and synonyms in nlu_data/, and the surface
forms annotated in training examples. Longest match wins; see PhraseIndex.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.knowledge.phrases import PhraseIndex
from bot.nlu.component import Component, TrainingInput
from bot.nlu.message import Message
from bot.nlu.persistence import load_json, save_json

_SEPARATOR = "\t"
_FILE = "forms.json"


class KnowledgeEntityExtractor(Component):
    name = "knowledge_entity_extractor"
    defaults = {"use_examples": True}

    def __init__(self, **options: Any):
        super().__init__(**options)
        self.forms_: dict[str, list[str]] = {}
        self._index: PhraseIndex | None = None

    def train(self, training: TrainingInput) -> None:
        synonyms = training.data.synonym_map()
        forms: dict[str, list[str]] = {}

        def add(form: str, entity: str, value: str) -> None:
            forms.setdefault(form.lower(), [entity, synonyms.get(value.lower(), value)])

        if training.knowledge is not None:
            for entry in training.knowledge:
                entity = training.knowledge.entity_of(entry)
                for form in entry.surface_forms:
                    add(form, entity, entry.id)
        for lookup in training.data.lookups:
            if lookup.name in training.entities:
                for item in lookup.items:
                    add(item, lookup.name, item)
        if self.options["use_examples"]:
            for example in training.data.examples:
                for entity in example.entities:
                    add(entity.text, entity.entity, entity.value)
        self.forms_ = forms
        self._index = None

    def process(self, message: Message) -> None:
        for match in self._phrases().find(message.text):
            entity, value = match.value.split(_SEPARATOR, 1)
            message.add_entity(entity, value, match.start, match.end, 1.0, self.name)

    def _phrases(self) -> PhraseIndex:
        if self._index is None:
            self._index = PhraseIndex({form: _SEPARATOR.join(pair) for form, pair in self.forms_.items()})
        return self._index

    def persist(self, directory: Path) -> None:
        save_json(directory, _FILE, self.forms_)

    @classmethod
    def load(cls, directory: Path, options: dict[str, Any]) -> KnowledgeEntityExtractor:
        component = cls(**options)
        component.forms_ = load_json(directory, _FILE)
        return component

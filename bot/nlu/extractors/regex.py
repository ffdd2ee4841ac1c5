"""Entities by pattern: each regex in nlu_data/ whose name is an entity (Rasa's
RegexEntityExtractor convention), e.g. SageMaker instance types like ml.m5.xlarge.
Values go through the synonyms, like every other extractor's.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from bot.errors import ConfigError
from bot.nlu.component import Component, TrainingInput
from bot.nlu.message import Message
from bot.nlu.persistence import load_json, save_json

_FILE = "patterns.json"


class RegexEntityExtractor(Component):
    name = "regex_entity_extractor"
    defaults = {"case_sensitive": False}

    def __init__(self, **options: Any):
        super().__init__(**options)
        self.patterns_: dict[str, list[str]] = {}
        self.synonyms_: dict[str, str] = {}
        self._compiled: list[tuple[str, re.Pattern]] | None = None

    def train(self, training: TrainingInput) -> None:
        self.patterns_ = {}
        for regex in training.data.regexes:
            if regex.name in training.entities:
                for pattern in regex.items:
                    try:
                        re.compile(pattern)
                    except re.error as error:
                        raise ConfigError(f"{regex.location}: the regex '{pattern}' for '{regex.name}' "
                                          f"is invalid: {error}") from None
                    self.patterns_.setdefault(regex.name, []).append(pattern)
        self.synonyms_ = training.data.synonym_map()
        self._compiled = None

    def process(self, message: Message) -> None:
        for entity, regex in self._patterns():
            for match in regex.finditer(message.text):
                value = self.synonyms_.get(match.group().lower(), match.group())
                message.add_entity(entity, value, match.start(), match.end(), 1.0, self.name)

    def _patterns(self) -> list[tuple[str, re.Pattern]]:
        if self._compiled is None:
            flags = 0 if self.options["case_sensitive"] else re.IGNORECASE
            self._compiled = [(entity, re.compile(rf"(?<![\w.])(?:{pattern})(?![\w])", flags))
                              for entity, patterns in self.patterns_.items() for pattern in patterns]
        return self._compiled

    def persist(self, directory: Path) -> None:
        save_json(directory, _FILE, {"patterns": self.patterns_, "synonyms": self.synonyms_})

    @classmethod
    def load(cls, directory: Path, options: dict[str, Any]) -> RegexEntityExtractor:
        component = cls(**options)
        stored = load_json(directory, _FILE)
        component.patterns_, component.synonyms_ = stored["patterns"], stored["synonyms"]
        return component

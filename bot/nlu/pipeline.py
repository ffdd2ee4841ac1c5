"""An NLU pipeline: components in order, each adding to the message.

Messages of the form `/intent{"entity": "value"}` skip the components and are taken
at their word with full confidence, as Rasa does; buttons send such payloads.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.errors import ModelError
from bot.nlu.component import Component, TrainingInput
from bot.nlu.message import Message
from bot.nlu.persistence import load_json, save_json
from bot.nlu.registry import component_class
from bot.settings import ComponentSpec

MODEL_FORMAT = 1
METADATA_FILE = "metadata.json"
_DIRECT = re.compile(r"^/(?P<intent>[\w-]+)(?P<entities>\{.*\})?\s*$", re.DOTALL)

StepCallback = Callable[[str, int, int], None]


class NLUPipeline:
    def __init__(self, components: list[Component], specs: list[ComponentSpec], intents: list[str]):
        self.components = components
        self.specs = specs
        self.intents = intents

    @classmethod
    def build(cls, specs: list[ComponentSpec] | tuple[ComponentSpec, ...], intents: list[str]) -> NLUPipeline:
        components = [component_class(spec.name)(**spec.options) for spec in specs]
        return cls(components, list(specs), intents)

    def train(self, training: TrainingInput, on_step: StepCallback | None = None) -> None:
        total = len(self.components)
        for index, component in enumerate(self.components):
            if on_step:
                on_step(f"training {component.name}", index, total)
            component.train(training)
        if on_step:
            on_step("done", total, total)

    def parse(self, text: str) -> dict[str, Any]:
        """The parse result for a text, in the shape of Rasa's /model/parse."""
        direct = self._direct(text)
        if direct is not None:
            return direct.as_parse()
        message = Message(text)
        for component in self.components:
            component.process(message)
        return message.as_parse()

    def _direct(self, text: str) -> Message | None:
        match = _DIRECT.match(text.strip())
        if not match or match.group("intent") not in self.intents:
            return None
        message = Message(text, {"name": match.group("intent"), "confidence": 1.0})
        message.intent_ranking = [dict(message.intent)]
        try:
            values = json.loads(match.group("entities") or "{}")
        except json.JSONDecodeError:
            values = {}
        for entity, value in (values.items() if isinstance(values, dict) else []):
            message.entities.append({"entity": entity, "value": value, "start": 0, "end": 0,
                                     "confidence": 1.0, "extractor": "direct"})
        return message

    def persist(self, directory: Path, metadata: dict[str, Any]) -> None:
        directory.mkdir(parents=True)
        for index, component in enumerate(self.components):
            component_dir = directory / f"{index}_{component.name}"
            component_dir.mkdir()
            component.persist(component_dir)
        save_json(directory, METADATA_FILE, {
            **metadata, "model_format": MODEL_FORMAT, "intents": self.intents,
            "pipeline": [spec.as_dict() for spec in self.specs]})

    @classmethod
    def load(cls, directory: Path) -> tuple[NLUPipeline, dict[str, Any]]:
        if not (directory / METADATA_FILE).exists():
            raise ModelError(f"no trained model in {directory}; run `coursebot train`")
        metadata = load_json(directory, METADATA_FILE)
        if metadata.get("model_format") != MODEL_FORMAT:
            raise ModelError(f"the model in {directory} has format {metadata.get('model_format')}, this "
                             f"CourseBot reads format {MODEL_FORMAT}; run `coursebot train --force`")
        specs = [ComponentSpec(spec["name"], {k: v for k, v in spec.items() if k != "name"})
                 for spec in metadata["pipeline"]]
        components = [component_class(spec.name).load(directory / f"{index}_{spec.name}", spec.options)
                      for index, spec in enumerate(specs)]
        return cls(components, specs, metadata.get("intents", [])), metadata

"""An NLU pipeline: components in order, each adding to the message.

Training runs the components in order on the examples. Components that calibrate
themselves (the fallback's thresholds) learn from predictions on data the model did
not see: a validation set when one is given, otherwise a stratified share of the
training data held out for a validation model, while the final one learns from all of
it. The validation model borrows the final model's costly components that calibration
hardly depends on (`trains_once`: the entity model), so their training is paid once.

Messages of the form `/intent{"entity": "value"}` skip the components and are taken
at their word with full confidence, as Rasa does; buttons send such payloads.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.errors import ConfigError, ModelError
from bot.nlu.bounded_text import bound
from bot.nlu.component import Component, TrainingInput
from bot.nlu.message import Message
from bot.nlu.persistence import load_json, save_json
from bot.nlu.registry import component_class
from bot.settings import ComponentSpec

MODEL_FORMAT = 3
METADATA_FILE = "metadata.json"
_DIRECT = re.compile(r"^/(?P<intent>[\w-]+)(?P<entities>\{.*\})?\s*$", re.DOTALL)

StepCallback = Callable[[str, int, int], None]
VALIDATION_SHARE = 0.2


class NLUPipeline:
    def __init__(self, components: list[Component], specs: list[ComponentSpec], intents: list[str]):
        self.components = components
        self.specs = specs
        self.intents = intents

    @classmethod
    def build(cls, specs: list[ComponentSpec] | tuple[ComponentSpec, ...], intents: list[str]) -> NLUPipeline:
        components = [component_class(spec.name)(**spec.options) for spec in specs]
        check_order(components)
        return cls(components, list(specs), intents)

    def train(self, training: TrainingInput, on_step: StepCallback | None = None, *,
              validation: TrainingInput | None = None) -> None:
        """Trains every component; see the module docstring for calibration."""
        calibrating = [c for c in self.components if c.calibrates]
        if calibrating and validation is None:
            held_in, validation = split_for_validation(training)
            self._train_components(training, on_step)
            first = NLUPipeline.build(self.specs, self.intents)
            first.components = [own if own.trains_once else fresh
                                for own, fresh in zip(self.components, first.components, strict=True)]
            first._train_components(held_in, on_step, validation_model=True)
            predictions = first.predict_uncalibrated(validation.messages)
        else:
            self._train_components(training, on_step)
            predictions = self.predict_uncalibrated(validation.messages) if calibrating and validation else []
        for component in calibrating:
            component.calibrate(predictions, validation.labels)
        if on_step:
            on_step("done", len(self.components), len(self.components))

    def _train_components(self, training: TrainingInput, on_step: StepCallback | None, *,
                          validation_model: bool = False) -> None:
        """Trains each component in turn but, in a validation model, the `trains_once`
        ones: those are the final model's, already trained."""
        total = len(self.components)
        prefix = "validation model: " if validation_model else ""
        for index, component in enumerate(self.components):
            borrowed = validation_model and component.trains_once
            if on_step:
                on_step(f"{prefix}{'reusing' if borrowed else 'training'} {component.name}", index, total)
            if not borrowed:
                component.train(training)

    def embedder(self) -> Callable[[list[str]], Any] | None:
        """The pipeline's sentence encoder, for other uses of the very vectors parsing
        makes (answer retrieval reads them, so a question is encoded once)."""
        for component in self.components:
            embed = getattr(component, "embed", None)
            if callable(embed):
                return lambda texts, embed=embed: embed([Message(text).intent_text() for text in texts])
        return None

    def predict_uncalibrated(self, examples: list[Message]) -> list[Message]:
        """Fresh predictions for the examples' texts from every component except the calibrating ones."""
        messages = [Message(m.text) for m in examples]
        for component in self.components:
            if not component.calibrates:
                component.process_batch(messages)
        return messages

    def parse_batch(self, texts: list[str]) -> list[dict[str, Any]]:
        """Parse results for many texts, each component batching its work."""
        messages = [Message(text) for text in texts]
        for component in self.components:
            component.process_batch(messages)
        return [message.as_parse() for message in messages]

    def parse(self, text: str) -> dict[str, Any]:
        """The parse result for a text, in the shape of Rasa's /model/parse; the components
        read only its first words (see `bounded_text`), so no text costs much more than a question."""
        direct = self._direct(text)
        if direct is not None:
            return direct.as_parse()
        bounded = bound(text)
        message = Message(bounded.text)
        for component in self.components:
            component.process(message)
        return bounded.restore(message.as_parse())

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
        try:
            specs = [ComponentSpec(spec["name"], {k: v for k, v in spec.items() if k != "name"})
                     for spec in metadata["pipeline"]]
        except (KeyError, TypeError, AttributeError) as error:
            raise ModelError(f"the model in {directory} is damaged (its {METADATA_FILE} lacks {error}); "
                             "run `coursebot train --force`") from None
        components = [_load_component(directory / f"{index}_{spec.name}", spec) for index, spec in enumerate(specs)]
        return cls(components, specs, metadata.get("intents", [])), metadata


def _load_component(directory: Path, spec: ComponentSpec) -> Component:
    """One component from its folder. Its files are data that anything may have damaged
    (a copy cut short, a hand edit): whatever they make a loader raise becomes one
    ModelError that says how to fix it, never a traceback."""
    kind = component_class(spec.name)
    try:
        return kind.load(directory, spec.options)
    except (ModelError, ConfigError):
        raise
    except Exception as error:  # noqa: BLE001  (numpy, torch, spaCy and JSON shapes each fail their own way)
        raise ModelError(f"the model is damaged: {directory.name} cannot be read ({type(error).__name__}: "
                         f"{str(error)[:200]}); run `coursebot train --force`") from None


def check_order(components: list[Component]) -> None:
    """Refuses a pipeline where a component reads what no earlier component adds."""
    given: set[str] = set()
    for component in components:
        missing = [need for need in component.requirements if need not in given]
        if missing:
            raise ConfigError(f"the NLU component '{component.name}' needs {', '.join(missing)} from a "
                              f"component before it in the pipeline")
        given.update(component.gives)


def split_for_validation(training: TrainingInput, share: float = VALIDATION_SHARE,
                         seed: int = 0) -> tuple[TrainingInput, TrainingInput]:
    """A stratified split: `share` of each intent's examples (at least one, when an
    intent has two or more) is held out."""
    import random

    rng = random.Random(seed)
    by_intent: dict[str, list[int]] = {}
    for index, example in enumerate(training.data.examples):
        by_intent.setdefault(example.intent, []).append(index)
    held_out: set[int] = set()
    for indices in by_intent.values():
        if len(indices) >= 2:
            rng.shuffle(indices)
            held_out.update(indices[:max(1, round(len(indices) * share))])
    examples = training.data.examples

    def part(keep: bool) -> TrainingInput:
        chosen = [e for i, e in enumerate(examples) if (i in held_out) != keep]
        return TrainingInput(training.data.with_examples(chosen), training.knowledge, training.entities,
                             training.progress)

    return part(True), part(False)

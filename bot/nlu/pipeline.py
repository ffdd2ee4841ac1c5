"""An NLU pipeline: components in order, each adding to the message.

Training runs the components in order on the examples. Components that calibrate
themselves (the fallback's thresholds) learn from predictions on data the model did
not see: a validation set when one is given, otherwise a stratified share of the
training data held out for a validation model, while the final one learns from all of
it. The validation model borrows the final model's costly components that calibration
hardly depends on (`trains_once`: the entity model), so their training is paid once.

Retraining after a small edit can keep what the previous model learned at most cost
(`take_over`: the fine-tuned encoders, final and validation, and the entity model), so
one new intent does not move every other answer; the held-out share is chosen per example, so
an edit leaves every other example on its side of the split.

Messages of the form `/intent{"entity": "value"}` skip the components and are taken
at their word with full confidence, as Rasa does; buttons send such payloads.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
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
VALIDATION_DIR = "validation"


class NLUPipeline:
    def __init__(self, components: list[Component], specs: list[ComponentSpec], intents: list[str]):
        self.components = components
        self.specs = specs
        self.intents = intents
        # The validation model's reusable components, stored for the next training.
        self.validation_components: dict[int, Component] = {}

    @classmethod
    def build(cls, specs: list[ComponentSpec] | tuple[ComponentSpec, ...], intents: list[str]) -> NLUPipeline:
        components = [component_class(spec.name)(**spec.options) for spec in specs]
        check_order(components)
        return cls(components, list(specs), intents)

    def train(self, training: TrainingInput, on_step: StepCallback | None = None, *,
              validation: TrainingInput | None = None, previous: PreviousModel | None = None) -> list[str]:
        """Trains every component; see the module docstring for calibration and for what
        `previous` (a stored model's reusable parts) may spare. Returns a sentence for each
        part kept from the previous model."""
        previous = previous or PreviousModel()
        calibrating = [c for c in self.components if c.calibrates]
        if calibrating and validation is None:
            held_in, validation = split_for_validation(training)
            kept = self._train_components(training, on_step, previous.final)
            first = NLUPipeline.build(self.specs, self.intents)
            first.components = [own if own.trains_once else fresh
                                for own, fresh in zip(self.components, first.components, strict=True)]
            # Both encoders are kept or neither: calibrating a kept final encoder's answers
            # with a freshly fine-tuned validation one (or the reverse) would mismatch them.
            own_kept = {i for i in kept if _held_in_copy(self.components[i])}
            validation_kept = first._train_components(held_in, on_step,
                                                      {i: c for i, c in previous.validation.items() if i in own_kept},
                                                      validation_model=True)
            if set(validation_kept) != own_kept:
                return self.train(training, on_step)
            self.validation_components = {i: c for i, c in enumerate(first.components) if _held_in_copy(c)}
            predictions = first.predict_uncalibrated(validation.messages)
        else:
            kept = self._train_components(training, on_step, previous.final)
            predictions = self.predict_uncalibrated(validation.messages) if calibrating and validation else []
        for index, component in enumerate(self.components):
            if component.calibrates:
                note = component.calibrate(predictions, validation.labels, previous.final.get(index))
                if note is not None:
                    kept[index] = note
        if on_step:
            on_step("done", len(self.components), len(self.components))
        return list(kept.values())

    def _train_components(self, training: TrainingInput, on_step: StepCallback | None,
                          previous: dict[int, Component], *, validation_model: bool = False) -> dict[int, str]:
        """Trains each component in turn but, in a validation model, the `trains_once`
        ones: those are the final model's, already trained; and any that takes over its
        counterpart in `previous` (by position). Returns what each take-over said, by position."""
        total = len(self.components)
        prefix = "validation model: " if validation_model else ""
        kept = {}
        for index, component in enumerate(self.components):
            borrowed = validation_model and component.trains_once
            if borrowed:
                self._step(on_step, f"{prefix}reusing {component.name}", index, total)
                continue
            note = component.take_over(previous[index], training) if index in previous else None
            if note is not None:
                self._step(on_step, f"{prefix}keeping {component.name}", index, total)
                kept[index] = note
                continue
            self._step(on_step, f"{prefix}training {component.name}", index, total)
            component.train(training)
        return kept

    @staticmethod
    def _step(on_step: StepCallback | None, what: str, done: int, total: int) -> None:
        if on_step:
            on_step(what, done, total)

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
        for index, component in self.validation_components.items():
            component_dir = directory / VALIDATION_DIR / f"{index}_{component.name}"
            component_dir.mkdir(parents=True)
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

    @staticmethod
    def reusable_parts(directory: Path, specs: list[ComponentSpec] | tuple[ComponentSpec, ...],
                       version: str) -> PreviousModel:
        """What a stored model offers a new training of `specs`: its reusable components
        (final and validation) at the same position under the same name, trained by this
        CourseBot `version`. Anything missing, older or unreadable offers nothing: the
        new training then learns that part afresh, which is always correct."""
        try:
            metadata = load_json(directory, METADATA_FILE)
            stored = [spec["name"] for spec in metadata["pipeline"]]
            if metadata.get("model_format") != MODEL_FORMAT or metadata.get("coursebot_version") != version:
                return PreviousModel()
            offered = PreviousModel()
            for index, spec in enumerate(specs):
                kind = component_class(spec.name)
                if index >= len(stored) or stored[index] != spec.name or not kind(**spec.options).reusable:
                    continue
                options = {k: v for k, v in metadata["pipeline"][index].items() if k != "name"}
                final, held_in = (directory / f"{index}_{spec.name}",
                                  directory / VALIDATION_DIR / f"{index}_{spec.name}")
                if final.is_dir() and (held_in.is_dir() or kind.trains_once or kind.calibrates):
                    offered.final[index] = kind.load(final, options)
                if final.is_dir() and held_in.is_dir():
                    offered.validation[index] = kind.load(held_in, options)
            return offered
        except Exception:  # noqa: BLE001  (a damaged old model is simply not reused)
            return PreviousModel()


@dataclass
class PreviousModel:
    """A stored model's reusable components by position, for the final and the validation model."""

    final: dict[int, Component] = field(default_factory=dict)
    validation: dict[int, Component] = field(default_factory=dict)


def _held_in_copy(component: Component) -> bool:
    """Whether a later training that keeps this component needs its validation model's
    one too: not for one the validation model borrows, nor for one that calibrates (the
    validation model does not run those)."""
    return component.reusable and not component.trains_once and not component.calibrates


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
    """A split stratified by intent, each example's side drawn from a hash of its intent and
    text: about `share` of each intent's examples is held out (at least one, and never
    all, when an intent has two or more), and adding or removing an example moves no other
    across the split."""
    examples = training.data.examples
    draws = [int(hashlib.sha256(f"{seed}|{e.intent}|{e.text}".encode()).hexdigest()[:12], 16) / 16 ** 12
             for e in examples]
    by_intent: dict[str, list[int]] = {}
    for index, example in enumerate(examples):
        by_intent.setdefault(example.intent, []).append(index)
    held_out: set[int] = set()
    for indices in by_intent.values():
        if len(indices) < 2:
            continue
        ranked = sorted(indices, key=lambda i: draws[i])
        chosen = [i for i in ranked if draws[i] < share] or ranked[:1]
        held_out.update(chosen if len(chosen) < len(ranked) else chosen[:-1])

    def part(keep: bool) -> TrainingInput:
        chosen = [e for i, e in enumerate(examples) if (i in held_out) != keep]
        return TrainingInput(training.data.with_examples(chosen), training.knowledge, training.entities,
                             training.progress)

    return part(True), part(False)

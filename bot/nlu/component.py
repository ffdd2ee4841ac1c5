"""The base of every NLU pipeline component.

A component is configured by keyword options (checked when it is built, with errors
that list what is allowed), learns in `train`, works on messages in `process` (one) or
`process_batch` (many, which featurizers override to batch their model), and persists
to its own directory.

Components say what they read from a message (`needs`) and what they add (`gives`), so
a pipeline in the wrong order is refused when it is built, not at the first message.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from bot.errors import ConfigError
from bot.knowledge.base import KnowledgeBase
from bot.nlu.message import Message
from bot.nlu.training_data import Example, TrainingData

# (what is happening, units done, units in total); total 0 when unknown.
ProgressCallback = Callable[[str, int, int], None]

ENTITIES, FEATURES, INTENT = "entities", "features", "intent"


def example_message(example: Example) -> Message:
    """A training example as a message, carrying its annotated entities."""
    return Message(example.text, {"name": example.intent, "confidence": 1.0}, entities=[
        {"entity": a.entity, "value": a.value, "start": a.start, "end": a.end,
         "confidence": 1.0, "extractor": "annotation"} for a in example.entities])


@dataclass
class TrainingInput:
    """Everything a component may learn from.

    `messages` are the examples as messages, in order: featurizers add their features
    to them during training so that the classifiers after them can learn from those.
    """

    data: TrainingData
    knowledge: KnowledgeBase | None = None
    entities: list[str] = field(default_factory=list)
    progress: ProgressCallback | None = None
    messages: list[Message] = field(init=False)

    def __post_init__(self) -> None:
        self.messages = [example_message(example) for example in self.data.examples]

    @property
    def labels(self) -> list[str]:
        return [example.intent for example in self.data.examples]

    def report(self, what: str, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(what, done, total)


class Component(ABC):
    name: ClassVar[str] = ""
    # Option name -> default; anything else passed in is refused.
    defaults: ClassVar[dict[str, Any]] = {}
    # What the component reads from a message, and what it adds (ENTITIES, FEATURES, INTENT).
    needs: ClassVar[tuple[str, ...]] = ()
    gives: ClassVar[tuple[str, ...]] = ()
    # True for components that tune themselves on predictions for data the model did not
    # learn from (see `calibrate`).
    calibrates: ClassVar[bool] = False
    # True for components whose training is costly and whose findings the calibration
    # hardly reads (the entity model: intents are calibrated, entities only mask words).
    # When a pipeline holds data out to calibrate, its validation model borrows these,
    # trained, from the final model instead of training its own; so they must learn from
    # the annotations and add nothing to training messages that later components read.
    # Not the encoder: one that had learned the held-out examples would make the
    # calibration overconfident.
    trains_once: ClassVar[bool] = False
    # Options that change how the component runs, not what it learns (thread counts, how
    # much a small edit may change before `take_over` refuses): a trained state learned
    # under other values of these is still the same state.
    RUNTIME_OPTIONS: ClassVar[tuple[str, ...]] = ()

    def __init__(self, **options: Any):
        unknown = set(options) - set(self.defaults)
        if unknown:
            allowed = ", ".join(sorted(self.defaults)) or "none"
            raise ConfigError(f"the component '{self.name}' has no option "
                              f"{', '.join(sorted(unknown))}; its options: {allowed}")
        self.options = {**self.defaults, **options}
        self.validate_options()

    @property
    def requirements(self) -> tuple[str, ...]:
        """What this component, as configured, reads from a message (`needs` by default)."""
        return self.needs

    def validate_options(self) -> None:
        """Raise ConfigError for an option value out of range; override where needed."""

    def train(self, training: TrainingInput) -> None:
        """Learns from the training data; components with nothing to learn keep this."""

    def calibrate(self, predictions: list[Message], labels: list[str], previous: Component | None = None
                  ) -> str | None:
        """Tunes settings on held-out predictions (made without this component). `previous`:
        the same component of the model stored before, when `reusable`, whose settings it
        may keep where they still fit; returns a sentence for the trainer when it did."""
        return None

    @property
    def reusable(self) -> bool:
        """True when a later training may keep this component's trained state (see
        `take_over`): then the pipeline stores its validation model's one as well."""
        return False

    def learned_like(self, previous: Component) -> bool:
        """Whether `previous` is this kind of component, trained under the options that decide
        what it learns (all but `RUNTIME_OPTIONS`): what `take_over` checks first."""
        def learning(options: dict[str, Any]) -> dict[str, Any]:
            return {key: value for key, value in options.items() if key not in self.RUNTIME_OPTIONS}

        return type(previous) is type(self) and learning(previous.options) == learning(self.options)

    def take_over(self, previous: Component, training: TrainingInput) -> str | None:
        """Instead of `train`: adopts `previous` (the same component of the model stored
        before, loaded) when its training is costly, a small edit of the data would move
        everything it answers, and what it learned still fits `training`. Returns a
        sentence for the trainer saying what was kept and why, or None to be trained."""
        return None

    @abstractmethod
    def process(self, message: Message) -> None:
        """Adds this component's findings (intent, entities, features) to the message."""

    def process_batch(self, messages: list[Message]) -> None:
        for message in messages:
            self.process(message)

    def persist(self, directory: Path) -> None:
        """Writes learned state into `directory` (which exists and is empty)."""

    @classmethod
    def load(cls, directory: Path, options: dict[str, Any]) -> Component:
        """Rebuilds a trained component from `persist`'s output."""
        return cls(**options)

    def option_error(self, key: str, expected: str) -> ConfigError:
        return ConfigError(f"'{key}' of {self.name} must be {expected}, got {self.options[key]!r}")

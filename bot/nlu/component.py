"""The base of every NLU pipeline component.

A component is configured by keyword options (checked when it is built, with errors
that list what is allowed), learns in `train`, works on one message in `process`, and
persists to its own directory as JSON and NumPy arrays, never pickle.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from bot.errors import ConfigError
from bot.knowledge.base import KnowledgeBase
from bot.nlu.message import Message
from bot.nlu.training_data import TrainingData


@dataclass
class TrainingInput:
    """Everything a component may learn from."""

    data: TrainingData
    knowledge: KnowledgeBase | None = None
    entities: list[str] = field(default_factory=list)


class Component(ABC):
    name: ClassVar[str] = ""
    # Option name -> default; anything else passed in is refused.
    defaults: ClassVar[dict[str, Any]] = {}

    def __init__(self, **options: Any):
        unknown = set(options) - set(self.defaults)
        if unknown:
            allowed = ", ".join(sorted(self.defaults)) or "none"
            raise ConfigError(f"the component '{self.name}' has no option "
                              f"{', '.join(sorted(unknown))}; its options: {allowed}")
        self.options = {**self.defaults, **options}
        self.validate_options()

    def validate_options(self) -> None:
        """Raise ConfigError for an option value out of range; override where needed."""

    def train(self, training: TrainingInput) -> None:
        """Learns from the training data; components with nothing to learn keep this."""

    @abstractmethod
    def process(self, message: Message) -> None:
        """Adds this component's findings (intent, entities) to the message."""

    def persist(self, directory: Path) -> None:
        """Writes learned state into `directory` (which exists and is empty)."""

    @classmethod
    def load(cls, directory: Path, options: dict[str, Any]) -> Component:
        """Rebuilds a trained component from `persist`'s output."""
        return cls(**options)

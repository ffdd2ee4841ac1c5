"""The one small interface every tracker store implements."""

from __future__ import annotations

from typing import Protocol

from bot.dialogue.tracker import Tracker


class TrackerStore(Protocol):
    def retrieve(self, sender_id: str) -> Tracker | None:
        """The sender's conversation, or None for a new sender."""

    def save(self, tracker: Tracker) -> None:
        """Persists the whole conversation."""

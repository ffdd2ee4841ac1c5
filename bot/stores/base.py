"""The small interfaces every tracker store and lock store implements.

A tracker store keeps each sender's conversation between messages; a lock store makes
sure two messages from one sender are never handled at the same time (in one process,
or across several server processes when the lock lives in Redis).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Protocol

from bot.dialogue.tracker import Tracker


class TrackerStore(Protocol):
    def retrieve(self, sender_id: str) -> Tracker | None:
        """The sender's conversation, or None for a new sender."""

    def save(self, tracker: Tracker) -> None:
        """Persists the whole conversation (stores may append only the new events)."""


class LockStore(Protocol):
    def lock(self, sender_id: str) -> AbstractContextManager[None]:
        """Held while one message from `sender_id` is handled; blocks a second one."""

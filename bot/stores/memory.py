"""Conversations and locks kept in process memory: for one-shot questions, the terminal
and tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from bot.dialogue.tracker import Tracker


class InMemoryTrackerStore:
    def __init__(self) -> None:
        self._trackers: dict[str, Tracker] = {}

    def retrieve(self, sender_id: str) -> Tracker | None:
        return self._trackers.get(sender_id)

    def save(self, tracker: Tracker) -> None:
        self._trackers[tracker.sender_id] = tracker


class InProcessLockStore:
    """One lock per sender, for the threads of one process."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}

    @contextmanager
    def lock(self, sender_id: str) -> Iterator[None]:
        with self._guard:
            lock = self._locks.setdefault(sender_id, threading.Lock())
        with lock:
            yield

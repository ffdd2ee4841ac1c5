"""Conversations and locks kept in process memory: for one-shot questions, the terminal
and tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from bot.dialogue.events import Event
from bot.dialogue.tracker import Tracker
from bot.stores.base import Lease, check_stored


class InMemoryTrackerStore:
    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._events: dict[str, list[Event]] = {}

    def retrieve(self, sender_id: str) -> Tracker | None:
        with self._guard:
            events = list(self._events.get(sender_id, ()))
        return Tracker(sender_id, events, stored=len(events)) if events else None

    def save(self, tracker: Tracker, lease: Lease | None = None) -> None:
        """Compare-and-append under the store's own lock (a lease here is always held)."""
        with self._guard:
            events = self._events.get(tracker.sender_id, [])
            check_stored(tracker, len(events))
            self._events[tracker.sender_id] = events + tracker.events[tracker.stored:]
        tracker.stored = len(tracker.events)


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

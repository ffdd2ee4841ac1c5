"""Conversations kept in process memory: for one-shot questions and tests."""

from __future__ import annotations

from bot.dialogue.tracker import Tracker


class InMemoryTrackerStore:
    def __init__(self) -> None:
        self._trackers: dict[str, Tracker] = {}

    def retrieve(self, sender_id: str) -> Tracker | None:
        return self._trackers.get(sender_id)

    def save(self, tracker: Tracker) -> None:
        self._trackers[tracker.sender_id] = tracker

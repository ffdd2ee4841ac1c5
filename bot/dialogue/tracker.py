"""The state of one conversation, derived from its events."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bot.dialogue.events import (
    ActionExecuted,
    ActiveLoop,
    Event,
    Restarted,
    SlotSet,
    UserUttered,
)


class Tracker:
    """An append-only event list for one sender; slots and the active form are computed.

    `stored` is how many of the first events the tracker store held when the tracker was
    read (0 for a new sender); a save appends the rest only if the store still holds that
    many, and then sets it to the number of events.
    """

    def __init__(self, sender_id: str, events: Iterable[Event] = (),
                 initial_slots: dict[str, Any] | None = None, *, stored: int = 0):
        self.sender_id = sender_id
        self.events: list[Event] = []
        self._initial_slots = dict(initial_slots or {})
        for event in events:
            self.add(event)
        self.stored = stored

    def add(self, event: Event) -> None:
        self.events.append(event)

    def extend(self, events: Iterable[Event]) -> None:
        for event in events:
            self.add(event)

    @property
    def current_events(self) -> list[Event]:
        """Events since the last restart."""
        for index in range(len(self.events) - 1, -1, -1):
            if isinstance(self.events[index], Restarted):
                return self.events[index + 1:]
        return list(self.events)

    @property
    def slots(self) -> dict[str, Any]:
        values = dict(self._initial_slots)
        for event in self.current_events:
            if isinstance(event, SlotSet):
                values[event.name] = event.value
        return values

    @property
    def active_loop(self) -> str | None:
        for event in reversed(self.current_events):
            if isinstance(event, ActiveLoop):
                return event.name
        return None

    @property
    def latest_message(self) -> UserUttered | None:
        for event in reversed(self.current_events):
            if isinstance(event, UserUttered):
                return event
        return None

    def events_since_user(self) -> list[Event]:
        """Events after the latest user message (all events when there is none)."""
        events = self.current_events
        for index in range(len(events) - 1, -1, -1):
            if isinstance(events[index], UserUttered):
                return events[index + 1:]
        return events

    def previous_turn(self) -> list[Event]:
        """Events between the last two user messages: what the bot did for the one before."""
        events = self.current_events
        users = [i for i, e in enumerate(events) if isinstance(e, UserUttered)]
        return events[users[-2] + 1:users[-1]] if len(users) >= 2 else []

    def actions_since_user(self) -> list[str]:
        """Names of actions run since the latest user message."""
        names: list[str] = []
        for event in reversed(self.current_events):
            if isinstance(event, UserUttered):
                break
            if isinstance(event, ActionExecuted):
                names.append(event.name)
        return names[::-1]

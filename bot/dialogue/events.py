"""Conversation events. A tracker is an append-only list of these.

Each event turns into a plain dict (with Rasa's event names) and back, so tracker
stores can persist conversations as JSON.

This module, like the rest of the light core, also runs on Python 3.9: Rasa 3.6's own
interpreter imports it when `rasa run actions` serves our actions.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True)
class Event:
    type_name: ClassVar[str] = ""
    # Not an __init__ argument, so subclasses may declare required fields (Python 3.9
    # has no keyword-only fields); `event_from_dict` restores a stored one.
    timestamp: float = field(default_factory=time.time, init=False, compare=False)

    def as_dict(self) -> dict[str, Any]:
        return {"event": self.type_name, **asdict(self)}


@dataclass(frozen=True)
class UserUttered(Event):
    """A user message with its parse result (Rasa's /model/parse shape)."""

    type_name: ClassVar[str] = "user"
    text: str
    parse: dict[str, Any] = field(default_factory=dict)

    @property
    def intent(self) -> str | None:
        return (self.parse.get("intent") or {}).get("name")

    @property
    def entities(self) -> list[dict[str, Any]]:
        return list(self.parse.get("entities") or [])


@dataclass(frozen=True)
class BotUttered(Event):
    """A bot message in Rasa's REST channel shape, without the recipient."""

    type_name: ClassVar[str] = "bot"
    message: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SlotSet(Event):
    type_name: ClassVar[str] = "slot"
    name: str
    value: Any = None


@dataclass(frozen=True)
class ActionExecuted(Event):
    type_name: ClassVar[str] = "action"
    name: str


@dataclass(frozen=True)
class ActiveLoop(Event):
    """A form activated (name) or deactivated (None)."""

    type_name: ClassVar[str] = "active_loop"
    name: str | None = None


@dataclass(frozen=True)
class FollowupAction(Event):
    """Run this action next, whatever the policies would say (Rasa's `followup`): how an
    action hands over to a form only when it has something to confirm."""

    type_name: ClassVar[str] = "followup"
    name: str


@dataclass(frozen=True)
class Restarted(Event):
    """Forget everything before this event."""

    type_name: ClassVar[str] = "restart"


EVENT_TYPES: dict[str, type[Event]] = {
    cls.type_name: cls for cls in (UserUttered, BotUttered, SlotSet, ActionExecuted, ActiveLoop, FollowupAction,
                                        Restarted)
}


def event_from_dict(data: dict[str, Any]) -> Event:
    """Rebuilds an event from `as_dict` output; raises ValueError for an unknown type."""
    data = dict(data)
    kind = data.pop("event", None)
    if kind not in EVENT_TYPES:
        raise ValueError(f"unknown event type {kind!r}; known: {', '.join(EVENT_TYPES)}")
    timestamp = data.pop("timestamp", None)
    event = EVENT_TYPES[kind](**data)
    if timestamp is not None:
        object.__setattr__(event, "timestamp", timestamp)
    return event

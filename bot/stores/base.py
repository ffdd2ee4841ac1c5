"""The small interfaces every tracker store and lock store implements.

A tracker store keeps each sender's conversation between messages; a lock store makes
sure two messages from one sender are never handled at the same time (in one process,
or across several server processes when the lock lives in SQLite or Redis).

A save is a compare-and-append: it appends `tracker.events[tracker.stored:]` only if the
store still holds exactly `tracker.stored` events for the sender, in one atomic step, and
raises ConversationConflict otherwise. When the sender's lock lives in the same place as
the conversation (one SQLite file, one Redis), the same step also checks that this
process still holds the lock (the save is *fenced* by its lease), so a process whose lease
ran out can never append.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

from bot.dialogue.tracker import Tracker
from bot.errors import ConversationConflict


@dataclass(frozen=True)
class Lease:
    """A sender's lock while this process holds it.

    `backend` names where the lock lives (("sqlite", path) or ("redis", host, port, db)),
    so that a tracker store in the same place can check `token` when it saves; `key` is
    the lock's Redis key.
    """

    sender_id: str
    token: str
    backend: tuple
    key: str = ""


class TrackerStore(Protocol):
    def retrieve(self, sender_id: str) -> Tracker | None:
        """The sender's conversation (with `stored` set), or None for a new sender."""

    def save(self, tracker: Tracker, lease: Lease | None = None) -> None:
        """Appends the events after `tracker.stored` and sets `stored` to their count.

        Raises:
            ConversationConflict: the store holds another number of events for the sender,
                or `lease` is a lock in this store that this process no longer holds.
        """


class LockStore(Protocol):
    def lock(self, sender_id: str) -> AbstractContextManager[Lease | None]:
        """Held while one message from `sender_id` is handled; blocks a second one.
        Gives the lease a save can be fenced with (None for a lock in process memory)."""


def check_stored(tracker: Tracker, held: int) -> None:
    """Raises ConversationConflict unless the store holds what the tracker was read at."""
    if held != tracker.stored or tracker.stored > len(tracker.events):
        raise ConversationConflict(
            f"the conversation of {tracker.sender_id!r} changed while this message was handled: the store holds "
            f"{held} events, this message read {tracker.stored}; another process saved it meanwhile, so nothing "
            "was stored. Give every server process the same shared lock store (lock_store in endpoints.yml)")


def lease_lost(sender_id: str) -> ConversationConflict:
    return ConversationConflict(
        f"this process no longer holds the lock of {sender_id!r} (its lease ran out, and another process may hold "
        "it now), so the message was not stored; raise lock_lifetime in endpoints.yml if the server is very busy")

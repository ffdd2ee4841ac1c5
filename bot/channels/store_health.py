"""Whether the conversation store and the lock store can be used, for `/health`.

A cheap check of each: the tracker store reads a conversation that does not exist (a
corrupt SQLite file or a Redis that is down fails there); a store in Redis answers PING;
one in a local file (SQLite) can be written and its disk has room. Checks run on a thread of
their own, one at a time, and `/health` waits for one at most `WAIT_S`: a store that hangs
makes `/health` say so, quickly, instead of hanging too. What went wrong is logged once,
when a store goes down; the report names no host or path, since `/health` is open.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from pathlib import Path
from typing import Any

from bot.dialogue.manager import DialogueManager
from bot.stores import LockStore, TrackerStore

log = logging.getLogger(__name__)

WAIT_S = 0.5
MIN_FREE_BYTES = 1024 * 1024
PROBE_SENDER = "coursebot-health-check"

Report = dict[str, dict[str, str]]


class StoreDown(Exception):
    """A store that cannot be used; the message is safe to show anyone."""


class StoreHealth:
    """The health of the stores `dialogue` uses (looked up at each check)."""

    def __init__(self, dialogue: DialogueManager):
        self.dialogue = dialogue
        self._running: asyncio.Future[Report] | None = None
        self._down: set[str] = set()

    async def report(self) -> Report:
        """`{"store": {"status": "ok" | "down", "type": ..., "reason"?: ...}, "lock_store": {...}}`."""
        if self._running is None or self._running.done():
            self._running = self._start()
        try:
            return await asyncio.wait_for(asyncio.shield(self._running), WAIT_S)
        except TimeoutError:
            return {name: _status(part, f"did not answer within {WAIT_S:g} s") for name, part in self._parts().items()}

    def _parts(self) -> dict[str, Any]:
        return {"store": self.dialogue.store, "lock_store": self.dialogue.locks}

    def _start(self) -> asyncio.Future[Report]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Report] = loop.create_future()

        def run() -> None:
            report = self._check_all()
            try:
                loop.call_soon_threadsafe(lambda: future.done() or future.set_result(report))
            except RuntimeError:  # the server stopped meanwhile
                pass

        # A daemon thread: a store that never answers must not keep the server from stopping.
        threading.Thread(target=run, name="coursebot-health", daemon=True).start()
        return future

    def _check_all(self) -> Report:
        report: Report = {}
        for name, part in self._parts().items():
            try:
                (_check_tracker_store if name == "store" else _check_lock_store)(part)
            except StoreDown as down:
                report[name] = self._went_down(name, part, str(down), str(down))
            except Exception as error:  # noqa: BLE001 - any failure of a store is "down"
                report[name] = self._went_down(name, part, f"cannot be used ({type(error).__name__})", str(error))
            else:
                if name in self._down:
                    self._down.discard(name)
                    log.warning("the %s (%s) can be used again", name.replace("_", " "), type(part).__name__)
                report[name] = _status(part)
        return report

    def _went_down(self, name: str, part: Any, reason: str, detail: str) -> dict[str, str]:
        if name not in self._down:
            self._down.add(name)
            log.error("the %s (%s) %s: %s", name.replace("_", " "), type(part).__name__, reason, detail)
        return _status(part, reason)


def _status(part: Any, reason: str | None = None) -> dict[str, str]:
    status = {"status": "ok" if reason is None else "down", "type": type(part).__name__}
    return status if reason is None else {**status, "reason": reason}


def _check_tracker_store(store: TrackerStore) -> None:
    store.retrieve(PROBE_SENDER)
    _check_backend(store)


def _check_lock_store(locks: LockStore) -> None:
    _check_backend(locks)  # in-process locks have nothing to check


def _check_backend(part: Any) -> None:
    """A store in Redis answers PING; one in a local file (SQLite) can write, with room to."""
    client = getattr(part, "redis", None)
    if client is not None:
        client.ping()
    path = getattr(part, "path", None)
    if isinstance(path, Path):
        if not os.access(path if path.exists() else path.parent, os.W_OK):
            raise StoreDown("is read-only")
        stats = os.statvfs(path.parent)
        if stats.f_bavail * stats.f_frsize < MIN_FREE_BYTES:
            raise StoreDown(f"has less than {MIN_FREE_BYTES // (1024 * 1024)} MB of disk space left")

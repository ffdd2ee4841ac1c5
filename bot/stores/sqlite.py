"""Conversations and sender locks in a local SQLite file: the default of `coursebot
serve`, so that students' conversations survive a server restart without any server to run.

Each event is one row (sender, position, JSON), appended and never rewritten. The web
server handles requests in a thread pool, and several server processes on one machine may
share the file: one connection guarded by a lock serves the threads, while WAL mode, a busy
timeout and `BEGIN IMMEDIATE` keep processes from stepping on each other. A save appends
only if the file still holds the number of events the tracker was read at, and, with the
SQLite lock store on the same file, only while this process holds the sender's lock row.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from bot.dialogue.events import event_from_dict
from bot.dialogue.tracker import Tracker
from bot.errors import ConfigError
from bot.stores.base import Lease, check_stored, lease_lost
from bot.stores.lease import LeasedLockStore

BUSY_TIMEOUT_S = 30.0

_EVENTS = """
CREATE TABLE IF NOT EXISTS events (
    sender_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    event TEXT NOT NULL,
    PRIMARY KEY (sender_id, position)
) WITHOUT ROWID
"""
_LOCKS = """
CREATE TABLE IF NOT EXISTS locks (
    sender_id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    expires REAL NOT NULL
) WITHOUT ROWID
"""

T = TypeVar("T")


def _set_up(db: sqlite3.Connection, statements: tuple[str, ...]) -> None:
    """Runs the set-up statements, waiting out another process that sets up the same file:
    switching a new file to WAL answers "database is locked" at once, without SQLite's busy
    wait, when two servers start together (it failed one of them in CI)."""
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    for statement in statements:
        while True:
            try:
                db.execute(statement)
                break
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)


class _Database:
    """One connection to the file, shared by the threads, with a write-transaction helper."""

    def __init__(self, path: Path | str, schema: str, synchronous: str = "FULL"):
        self.path = Path(path).expanduser()
        self._guard = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None,
                                       check_same_thread=False)
            _set_up(self._db, ("PRAGMA journal_mode=WAL", f"PRAGMA synchronous={synchronous}", schema))
        except (OSError, sqlite3.Error) as error:
            raise ConfigError(
                f"cannot open the conversation database {self.path}: {error}; check the tracker_store "
                "`db` in endpoints.yml (it must be a writable SQLite file)") from None

    def read(self, sql: str, parameters: tuple) -> list[tuple]:
        with self._guard:
            return self._db.execute(sql, parameters).fetchall()

    def write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Runs `work` in one `BEGIN IMMEDIATE` transaction: committed, or rolled back if it raises."""
        with self._guard:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                result = work(self._db)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            return result

    def close(self) -> None:
        with self._guard:
            self._db.close()


class SQLiteTrackerStore:
    """Every sender's events in one SQLite file; creates the file and its folders."""

    def __init__(self, path: Path | str):
        self._file = _Database(path, _EVENTS)
        self.path = self._file.path
        self._backend = ("sqlite", str(self.path.resolve()))

    def retrieve(self, sender_id: str) -> Tracker | None:
        rows = self._file.read("SELECT event FROM events WHERE sender_id = ? ORDER BY position", (sender_id,))
        if not rows:
            return None
        return Tracker(sender_id, [event_from_dict(json.loads(row[0])) for row in rows], stored=len(rows))

    def save(self, tracker: Tracker, lease: Lease | None = None) -> None:
        """Appends the events after `tracker.stored`, in one transaction that first checks
        the count in the file and, for a lease on this file, that its lock row is still ours."""
        fenced = lease is not None and lease.backend == self._backend

        def append(db: sqlite3.Connection) -> None:
            if fenced and not db.execute("SELECT 1 FROM locks WHERE sender_id = ? AND owner = ? AND expires > ?",
                                         (tracker.sender_id, lease.token, time.time())).fetchone():
                raise lease_lost(tracker.sender_id)
            (held,) = db.execute("SELECT COALESCE(MAX(position) + 1, 0) FROM events WHERE sender_id = ?",
                                 (tracker.sender_id,)).fetchone()
            check_stored(tracker, held)
            db.executemany("INSERT INTO events (sender_id, position, event) VALUES (?, ?, ?)",
                           [(tracker.sender_id, position, json.dumps(event.as_dict()))
                            for position, event in enumerate(tracker.events[held:], start=held)])

        self._file.write(append)
        tracker.stored = len(tracker.events)

    def close(self) -> None:
        self._file.close()


class SQLiteLockStore(LeasedLockStore):
    """Sender locks as rows (sender, owner token, expiry) of a `locks` table, in the same
    file as the conversations: shared by every server process on this machine, and the
    tracker store fences its saves with them."""

    def __init__(self, path: Path | str, **lease: float | None):
        super().__init__(**lease)
        self._file = _Database(path, _LOCKS, synchronous="NORMAL")   # a lost lock row after a power cut is harmless
        self.path = self._file.path
        self.backend = ("sqlite", str(self.path.resolve()))

    def _acquire(self, sender_id: str, token: str) -> bool:
        now = time.time()
        return self._file.write(lambda db: db.execute(
            "INSERT INTO locks (sender_id, owner, expires) VALUES (?, ?, ?) ON CONFLICT (sender_id) DO UPDATE "
            "SET owner = excluded.owner, expires = excluded.expires WHERE locks.expires <= ?",
            (sender_id, token, now + self.lock_lifetime, now)).rowcount == 1)

    def _renew(self, sender_id: str, token: str) -> bool:
        return self._file.write(lambda db: db.execute(
            "UPDATE locks SET expires = ? WHERE sender_id = ? AND owner = ?",
            (time.time() + self.lock_lifetime, sender_id, token)).rowcount == 1)

    def _release(self, sender_id: str, token: str) -> bool:
        def delete(db: sqlite3.Connection) -> bool:
            row = db.execute("SELECT expires FROM locks WHERE sender_id = ? AND owner = ?",
                             (sender_id, token)).fetchone()
            db.execute("DELETE FROM locks WHERE sender_id = ? AND owner = ?", (sender_id, token))
            return row is not None and row[0] > time.time()

        return self._file.write(delete)

    def close(self) -> None:
        self._file.close()

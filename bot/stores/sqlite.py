"""Conversations in a local SQLite file: the default of `coursebot serve`, so that
students' conversations survive a server restart without any server to run.

Each event is one row (sender, position, JSON), appended and never rewritten. The web
server handles requests in a thread pool, and several server processes may share the
file: one connection guarded by a lock serves the threads, while WAL mode, a busy
timeout and `BEGIN IMMEDIATE` keep processes from stepping on each other.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

from bot.dialogue.events import event_from_dict
from bot.dialogue.tracker import Tracker
from bot.errors import ConfigError, CourseBotError

BUSY_TIMEOUT_S = 30.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    sender_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    event TEXT NOT NULL,
    PRIMARY KEY (sender_id, position)
) WITHOUT ROWID
"""


class SQLiteTrackerStore:
    """Every sender's events in one SQLite file; creates the file and its folders."""

    def __init__(self, path: Path | str):
        self.path = Path(path).expanduser()
        self._guard = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None,
                                       check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(_SCHEMA)
        except (OSError, sqlite3.Error) as error:
            raise ConfigError(
                f"cannot open the conversation database {self.path}: {error}; check the tracker_store "
                "`db` in endpoints.yml (it must be a writable SQLite file)") from None

    def retrieve(self, sender_id: str) -> Tracker | None:
        with self._guard:
            rows = self._db.execute(
                "SELECT event FROM events WHERE sender_id = ? ORDER BY position", (sender_id,)).fetchall()
        if not rows:
            return None
        return Tracker(sender_id, [event_from_dict(json.loads(row[0])) for row in rows])

    def save(self, tracker: Tracker) -> None:
        """Appends the events not stored yet, counting what the file holds (not what
        this instance wrote), so several processes can share the file."""
        with self._guard:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                (stored,) = self._db.execute(
                    "SELECT COALESCE(MAX(position) + 1, 0) FROM events WHERE sender_id = ?",
                    (tracker.sender_id,)).fetchone()
                if stored > len(tracker.events):
                    raise CourseBotError(
                        f"the stored conversation of {tracker.sender_id!r} has {stored} events, more than the "
                        f"{len(tracker.events)} being saved: another process saved it meanwhile; share one "
                        "lock store between server processes (lock_store in endpoints.yml)")
                self._db.executemany(
                    "INSERT INTO events (sender_id, position, event) VALUES (?, ?, ?)",
                    [(tracker.sender_id, position, json.dumps(event.as_dict()))
                     for position, event in enumerate(tracker.events[stored:], start=stored)])
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def close(self) -> None:
        with self._guard:
            self._db.close()

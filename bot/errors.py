"""The project's exceptions and problem reports.

Every message says what is wrong and how to fix it; where the cause is in a project
file, it carries the file and line so an editor can jump there.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Location:
    """A place in a project file; `line` is 1-based, None when the whole file is meant."""

    path: Path
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.path}:{self.line}" if self.line else str(self.path)


@dataclass(frozen=True)
class Problem:
    """One finding about a project: a short code, what is wrong and how to fix it."""

    code: str
    message: str
    location: Location | None = None
    severity: Severity = "error"

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location else ""
        return f"{where}{self.severity}: {self.message} [{self.code}]"


class CourseBotError(Exception):
    """Base of every error CourseBot reports to a user instead of a traceback."""


class ProjectError(CourseBotError):
    """A project directory that cannot be loaded; carries every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


class ModelError(CourseBotError):
    """A trained model that is missing, damaged or from an incompatible version."""


class ConfigError(CourseBotError):
    """Engine settings that name something unknown or hold an invalid value."""


class ConversationConflict(CourseBotError):
    """A save refused because the stored conversation is not the one this message read.

    Either the store holds another number of events for the sender than when the tracker
    was read (another process saved in between), or this process's lease on the sender's
    lock ran out and another process may hold it now. Nothing of the message is stored, so
    it was not acknowledged: the HTTP layer answers it with a "try again" status
    (409 or 503), never 200. It means the sender's lock was not shared between the server
    processes (or was lost), never that the actions should be run again.
    """


class LockTimeout(CourseBotError):
    """Another message from the same sender held the lock for longer than we may wait."""

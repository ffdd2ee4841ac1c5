"""Shape checks shared by every project-file loader.

Loaders describe what a file may hold (allowed keys, required keys, types) and a
FileChecker collects every problem with its line, so one run of `coursebot data
validate` reports all mistakes in a file instead of stopping at the first.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from bot.errors import Location, Problem, ProjectError, Severity
from bot.yamlfile import LineDict, LineList, line_of


class FileChecker:
    """Collects problems found in one file."""

    def __init__(self, path: Path):
        self.path = path
        self.problems: list[Problem] = []

    def report(self, code: str, message: str, line: int | None = None,
               severity: Severity = "error") -> None:
        self.problems.append(Problem(code, message, Location(self.path, line), severity))

    def raise_if_errors(self) -> None:
        errors = [p for p in self.problems if p.severity == "error"]
        if errors:
            raise ProjectError(errors)

    def mapping(self, node: Any, what: str, line: int | None = None) -> LineDict | None:
        """Returns node if it is a mapping, else reports it and returns None."""
        if isinstance(node, LineDict):
            return node
        self.report("wrong-type", f"{what} must be a mapping of 'key: value' lines, "
                    f"found {_kind(node)}", line_of(node) or line)
        return None

    def sequence(self, node: Any, what: str, line: int | None = None) -> LineList | None:
        """Returns node if it is a list, else reports it and returns None."""
        if isinstance(node, LineList):
            return node
        self.report("wrong-type", f"{what} must be a list of '- item' lines, found {_kind(node)}",
                    line_of(node) or line)
        return None

    def keys(self, node: LineDict, what: str, allowed: Iterable[str],
             required: Iterable[str] = ()) -> None:
        """Reports unknown keys (with the closest allowed one) and missing required keys."""
        allowed = list(allowed)
        for key in node:
            if key not in allowed:
                close = difflib.get_close_matches(str(key), allowed, n=1)
                hint = f"did you mean '{close[0]}'?" if close else f"allowed keys: {', '.join(allowed)}"
                self.report("unknown-key", f"unknown key '{key}' in {what}; {hint}", node.line_of(key))
        for key in required:
            if key not in node or node[key] in (None, ""):
                self.report("missing-key", f"{what} needs a '{key}'", node.line)

    def text(self, node: LineDict, key: str, what: str, required: bool = False) -> str | None:
        """A string value (numbers are accepted and turned into text)."""
        value = node.get(key)
        if value is None:
            if required:
                self.report("missing-key", f"{what} needs a '{key}'", node.line)
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            self.report("wrong-type", f"'{key}' in {what} must be text, found {_kind(value)}",
                        node.line_of(key))
            return None
        return str(value)

    def text_list(self, node: LineDict, key: str, what: str) -> list[str]:
        """A list of strings; a single string is accepted as a list of one."""
        value = node.get(key)
        if value is None:
            return []
        if isinstance(value, str):
            return [value]
        if not isinstance(value, list) or not all(isinstance(v, (str, int, float)) for v in value):
            self.report("wrong-type", f"'{key}' in {what} must be a list of text items",
                        node.line_of(key))
            return []
        return [str(v) for v in value]


def _kind(node: Any) -> str:
    if node is None:
        return "nothing"
    if isinstance(node, dict):
        return "a mapping"
    if isinstance(node, list):
        return "a list"
    return f"the value {node!r}"

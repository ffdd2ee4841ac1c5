"""YAML loading that remembers where things came from.

Project files are edited by hand, so every error must point at a file and line.
PyYAML's safe loader is extended to build mappings and sequences that record the
line of each key and item, and to refuse duplicate keys (which PyYAML would
otherwise silently overwrite, losing an instructor's work). Booleans are YAML 1.2's,
as Rasa reads them: only true and false; `- user: yes` is the text "yes", not True.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from bot.errors import Location, Problem, ProjectError


class LineDict(dict):
    """A mapping that knows its own line and the line of each key's value."""

    line: int = 0
    key_lines: dict[str, int]
    value_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class LineList(list):
    """A sequence that knows its own line and the line of each item."""

    line: int = 0
    item_lines: list[int]

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if index < len(self.item_lines) else self.line


class _LineLoader(yaml.SafeLoader):
    """SafeLoader building LineDict / LineList, with 1-based lines."""

    def __init__(self, stream: str, path: Path):
        super().__init__(stream)
        self.path = path

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> LineDict:
        self.flatten_mapping(node)
        mapping = LineDict()
        mapping.line = node.start_mark.line + 1
        mapping.key_lines, mapping.value_lines = {}, {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, (str, int, float, bool)) and key is not None:
                raise ProjectError([Problem(
                    "yaml-key", "a mapping key must be a plain value, not a list or mapping",
                    Location(self.path, key_node.start_mark.line + 1))])
            if key in mapping:
                raise ProjectError([Problem(
                    "duplicate-key",
                    f"the key '{key}' appears twice in the same mapping; "
                    "merge the two or rename one (YAML would keep only the last)",
                    Location(self.path, key_node.start_mark.line + 1))])
            mapping[key] = self.construct_object(value_node, deep=True)
            mapping.key_lines[key] = key_node.start_mark.line + 1
            mapping.value_lines[key] = _content_line(value_node)
        return mapping

    def construct_sequence(self, node: yaml.SequenceNode, deep: bool = False) -> LineList:
        sequence = LineList(self.construct_object(child, deep=True) for child in node.value)
        sequence.line = node.start_mark.line + 1
        sequence.item_lines = [child.start_mark.line + 1 for child in node.value]
        return sequence


def _content_line(node: yaml.Node) -> int:
    """The line where a node's content starts; block scalars start below their `|`."""
    if isinstance(node, yaml.ScalarNode) and node.style in ("|", ">"):
        return node.start_mark.line + 2
    return node.start_mark.line + 1


_LineLoader.add_constructor("tag:yaml.org,2002:map", _LineLoader.construct_mapping)
_LineLoader.add_constructor("tag:yaml.org,2002:seq", _LineLoader.construct_sequence)
_BOOL = "tag:yaml.org,2002:bool"
_LineLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != _BOOL]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
_LineLoader.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def load_yaml(path: Path) -> Any:
    """Parses one YAML file; raises ProjectError with file and line on any fault."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise ProjectError([Problem(
            "encoding", f"the file is not valid UTF-8 ({error.reason} at byte {error.start}); "
            "save it as UTF-8", Location(path))]) from None
    except OSError as error:
        raise ProjectError([Problem(
            "unreadable", f"cannot read the file: {error.strerror}", Location(path))]) from None
    loader = _LineLoader(text, path)
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else None
        detail = error.problem or error.context or "invalid YAML"
        raise ProjectError([Problem(
            "yaml-syntax", f"invalid YAML: {detail}; check the indentation and quoting here",
            Location(path, line))]) from None
    except yaml.YAMLError as error:
        raise ProjectError([Problem("yaml-syntax", f"invalid YAML: {error}", Location(path))]) from None
    finally:
        loader.dispose()


def line_of(node: Any, key: str | int | None = None) -> int | None:
    """The best line known for a node (or one of its keys/items), None if unknown."""
    if isinstance(node, LineDict):
        return node.line_of(key) if isinstance(key, str) else node.line
    if isinstance(node, LineList):
        return node.line_of(key) if isinstance(key, int) else node.line
    return None

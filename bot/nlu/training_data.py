"""NLU training data in Rasa 3.x YAML: examples with entity annotations, synonyms,
lookup tables and regexes.

Standard library and PyYAML only. Annotations follow Rasa:
`[text](entity)`, `[text](entity:value)` and `[text]{"entity": ..., "value": ..., "role": ..., "group": ...}`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from bot.errors import Location
from bot.filecheck import FileChecker
from bot.yamlfile import LineDict

_ANNOTATION = re.compile(r"\[(?P<text>[^\]]+)\](?:\((?P<short>[^)]+)\)|(?P<long>\{[^}]*\}))")
_NLU_ITEM_KINDS = ("intent", "synonym", "lookup", "regex")
_ANNOTATION_KEYS = ("entity", "value", "role", "group")


@dataclass(frozen=True)
class EntityAnnotation:
    """An entity marked in a training example; `value` is already the synonym's target."""

    entity: str
    value: str
    start: int
    end: int
    text: str
    role: str | None = None
    group: str | None = None


@dataclass(frozen=True)
class Example:
    text: str
    intent: str
    entities: tuple[EntityAnnotation, ...] = ()
    location: Location | None = field(default=None, compare=False)


@dataclass(frozen=True)
class NamedList:
    """A synonym, lookup table or regex: a name and its items, with where it was defined."""

    name: str
    items: tuple[str, ...]
    location: Location | None = field(default=None, compare=False)


@dataclass
class TrainingData:
    examples: list[Example] = field(default_factory=list)
    synonyms: list[NamedList] = field(default_factory=list)
    lookups: list[NamedList] = field(default_factory=list)
    regexes: list[NamedList] = field(default_factory=list)

    def examples_of(self, intent: str) -> list[Example]:
        return [example for example in self.examples if example.intent == intent]

    def synonym_map(self) -> dict[str, str]:
        """Surface form (lower case) -> canonical value, from synonyms and inline values."""
        mapping = {item.lower(): synonym.name for synonym in self.synonyms for item in synonym.items}
        for example in self.examples:
            for entity in example.entities:
                if entity.value != entity.text:
                    mapping.setdefault(entity.text.lower(), entity.value)
        return mapping

    def entity_names(self) -> set[str]:
        return {entity.entity for example in self.examples for entity in example.entities}

    def with_examples(self, examples: list[Example]) -> TrainingData:
        """The same synonyms, lookups and regexes with other examples (for data splits)."""
        return TrainingData(list(examples), self.synonyms, self.lookups, self.regexes)

    def merge(self, other: TrainingData) -> None:
        self.examples += other.examples
        self.synonyms += other.synonyms
        self.lookups += other.lookups
        self.regexes += other.regexes


def parse_annotated(text: str) -> tuple[str, list[dict]]:
    """Strips annotations from an example and returns the plain text and raw annotations.

    Each raw annotation holds the plain-text offsets and either `short` ("entity" or
    "entity:value") or `long` (the JSON object), for the caller to interpret.
    """
    plain, raw, cursor = [], [], 0
    for match in _ANNOTATION.finditer(text):
        plain.append(text[cursor:match.start()])
        start = sum(len(part) for part in plain)
        plain.append(match.group("text"))
        raw.append({"start": start, "end": start + len(match.group("text")), "text": match.group("text"),
                    "short": match.group("short"), "long": match.group("long")})
        cursor = match.end()
    plain.append(text[cursor:])
    return "".join(plain), raw


def read_nlu_section(items: object, checker: FileChecker, line: int) -> TrainingData:
    """Reads the list under an `nlu:` key, reporting every problem to the checker."""
    data = TrainingData()
    sequence = checker.sequence(items, "'nlu'", line)
    for index, node in enumerate(sequence or []):
        item = checker.mapping(node, "an nlu item", sequence.line_of(index))
        if item is None:
            continue
        kinds = [kind for kind in _NLU_ITEM_KINDS if kind in item]
        if len(kinds) != 1:
            checker.report("nlu-item", "each nlu item needs exactly one of "
                           f"{', '.join(_NLU_ITEM_KINDS)}", item.line)
            continue
        kind = kinds[0]
        allowed = (kind, "examples", "metadata") if kind == "intent" else (kind, "examples")
        checker.keys(item, f"the {kind} item", allowed=allowed, required=(kind, "examples"))
        name = checker.text(item, kind, f"the {kind} item")
        if not name:
            continue
        lines = list(_example_lines(item, checker))
        if kind == "intent":
            data.examples += [_read_example(text, name, line_no, checker) for text, line_no in lines]
        else:
            named = NamedList(name, tuple(text for text, _ in lines), Location(checker.path, item.line))
            {"synonym": data.synonyms, "lookup": data.lookups, "regex": data.regexes}[kind].append(named)
    return data


def _example_lines(item: LineDict, checker: FileChecker) -> Iterator[tuple[str, int]]:
    """The examples of an item with their lines: a `|` block of '- ' lines, or a list."""
    examples = item.get("examples")
    if isinstance(examples, str):
        first_line = item.value_lines.get("examples", item.line)
        for offset, raw in enumerate(examples.splitlines()):
            stripped = raw.strip()
            if not stripped:
                continue
            if not stripped.startswith("- "):
                checker.report("example-format", "each example line must start with '- '",
                               first_line + offset)
                continue
            yield stripped[2:].strip(), first_line + offset
    elif isinstance(examples, list):
        for index, example in enumerate(examples):
            text = example.get("text") if isinstance(example, dict) else example
            if not isinstance(text, str):
                checker.report("example-format", "each example must be text or have a 'text' key",
                               examples.line_of(index))
                continue
            yield text.strip(), examples.line_of(index)
    elif examples is not None:
        checker.report("example-format", "'examples' must be a '|' block of '- ' lines or a list",
                       item.line_of("examples"))


def _read_example(text: str, intent: str, line: int, checker: FileChecker) -> Example:
    plain, raw_annotations = parse_annotated(text)
    entities = []
    for raw in raw_annotations:
        spec = _annotation_spec(raw, checker, line)
        if spec is not None:
            entities.append(EntityAnnotation(
                entity=spec["entity"], value=spec.get("value") or raw["text"], start=raw["start"],
                end=raw["end"], text=raw["text"], role=spec.get("role"), group=spec.get("group")))
    return Example(plain, intent, tuple(entities), Location(checker.path, line))


def _annotation_spec(raw: dict, checker: FileChecker, line: int) -> dict | None:
    if raw["short"] is not None:
        entity, _, value = raw["short"].strip().strip('"').partition(":")
        return {"entity": entity.strip(), "value": value.strip() or None}
    try:
        spec = json.loads(raw["long"])
    except json.JSONDecodeError as error:
        checker.report("annotation", f"the annotation {raw['long']} is not valid JSON ({error.msg}); "
                       'write it like {"entity": "concept", "value": "overfitting"}', line)
        return None
    if not isinstance(spec, dict) or not isinstance(spec.get("entity"), str):
        checker.report("annotation", f"the annotation {raw['long']} needs an \"entity\" name", line)
        return None
    unknown = set(spec) - set(_ANNOTATION_KEYS)
    if unknown:
        checker.report("annotation", f"the annotation {raw['long']} has unknown keys "
                       f"{', '.join(sorted(unknown))}; allowed: {', '.join(_ANNOTATION_KEYS)}", line)
    return spec

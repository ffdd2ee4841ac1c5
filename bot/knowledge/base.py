"""The course knowledge base: loading `knowledge/*.yml` and looking entries up.

Standard library and PyYAML only: the Lex Lambda bundle answers from this too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import cached_property
from pathlib import Path

from bot.errors import Location, Problem, ProjectError
from bot.filecheck import FileChecker
from bot.knowledge.entry import SOURCE_KINDS, Category, Entry, GuideStep
from bot.knowledge.matching import TaskMatch, TaskMatcher
from bot.knowledge.phrases import PhraseIndex, PhraseMatch
from bot.yamlfile import LineDict, load_yaml

CATEGORIES_FILE = "categories.yml"
ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
_LIST_FIELDS = ("aliases", "examples", "related", "questions", "substeps", "use_for", "compares")
_ENTRY_KEYS = ("id", "name", "category", "summary", "details", "source", "source_kind", "order",
               "steps", "contrast", "url", *_LIST_FIELDS)
_REFERENCE_FIELDS = ("related", "substeps", "compares")


class KnowledgeBase:
    """Entries by id, with the lookups the answers need."""

    def __init__(self, entries: Iterable[Entry], categories: dict[str, Category]):
        self.categories = categories
        self._entries = {entry.id: entry for entry in entries}
        self._task_matchers: dict[tuple[str, ...], TaskMatcher] = {}

    def __iter__(self) -> Iterator[Entry]:
        return iter(self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, entry_id: object) -> bool:
        return entry_id in self._entries

    def get(self, entry_id: str) -> Entry | None:
        return self._entries.get(entry_id)

    def entity_of(self, entry: Entry) -> str:
        """The NLU entity that names this entry (set by its category)."""
        return self.categories[entry.category].entity

    def in_categories(self, *names: str) -> list[Entry]:
        return [entry for entry in self if entry.category in names]

    @cached_property
    def _phrases(self) -> PhraseIndex:
        return PhraseIndex(self.surface_forms())

    def surface_forms(self) -> dict[str, str]:
        """Every name and alias, mapped to its entry id."""
        forms: dict[str, str] = {}
        for entry in self:
            for form in entry.surface_forms:
                forms.setdefault(form, entry.id)
        return forms

    def find(self, value: str, entity: str | None = None) -> Entry | None:
        """The entry an entity value names: an id, a name or an alias.

        With `entity`, only entries named by that entity count. A dotted name such as
        "ml.p3.2xlarge" falls back to a part that names an entry ("p3").
        """
        candidates = [value, *(value.split(".") if "." in value else [])]
        for candidate in candidates:
            entry = self.get(candidate) or self.get(self._phrases.get(candidate) or "")
            if entry is not None and (entity is None or self.entity_of(entry) == entity):
                return entry
        return None

    def mentions(self, text: str) -> list[tuple[PhraseMatch, Entry]]:
        """Entries named in a free text, in order of appearance."""
        return [(match, self._entries[match.value]) for match in self._phrases.find(text)]

    def pipeline_stages(self) -> list[Entry]:
        """The ML pipeline stages in order."""
        return sorted((e for e in self if e.order is not None), key=lambda e: e.order or 0)

    def comparison_of(self, entry_ids: Iterable[str]) -> Entry | None:
        """The comparison entry covering all the given entries, the tightest one first."""
        wanted = set(entry_ids)
        candidates = [e for e in self if e.compares and wanted <= set(e.compares)]
        return min(candidates, key=lambda e: len(e.compares), default=None)

    def rank_for_task(self, task: str, categories: tuple[str, ...], limit: int = 3) -> list[TaskMatch]:
        """Entries of the given categories whose `use_for` best fits a described task."""
        matcher = self._task_matchers.get(categories)
        if matcher is None:
            matcher = self._task_matchers[categories] = TaskMatcher(self.in_categories(*categories))
        return matcher.rank(task, limit)


def load_knowledge(directory: Path) -> KnowledgeBase:
    """Loads a knowledge directory; raises ProjectError listing every error found."""
    knowledge, problems = read_knowledge(directory)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise ProjectError(errors)
    return knowledge


def read_knowledge(directory: Path) -> tuple[KnowledgeBase, list[Problem]]:
    """Loads what it can and returns it with every problem found, for validation."""
    problems: list[Problem] = []
    categories = _read_categories(directory / CATEGORIES_FILE, problems)
    entries: dict[str, Entry] = {}
    for path in sorted(directory.glob("*.yml")):
        if path.name == CATEGORIES_FILE:
            continue
        checker = FileChecker(path)
        try:
            document = load_yaml(path)
        except ProjectError as error:
            problems.extend(error.problems)
            continue
        root = checker.mapping(document, "a knowledge file", 1)
        if root is not None:
            checker.keys(root, "a knowledge file", allowed=("entries",), required=("entries",))
            items = checker.sequence(root.get("entries"), "'entries'", root.line) if "entries" in root else None
            for index, item in enumerate(items or []):
                entry = _read_entry(item, checker, categories, items.line_of(index))
                if entry is None:
                    continue
                if entry.id in entries:
                    checker.report("duplicate-id", f"the id '{entry.id}' is already used at "
                                   f"{entries[entry.id].location}; ids must be unique",
                                   entry.location.line if entry.location else None)
                    continue
                entries[entry.id] = entry
        problems.extend(checker.problems)
    problems.extend(_check_references(entries))
    return KnowledgeBase(entries.values(), categories), problems


def _read_categories(path: Path, problems: list[Problem]) -> dict[str, Category]:
    if not path.exists():
        problems.append(Problem("missing-file", f"the knowledge base needs {CATEGORIES_FILE}, "
                                "which lists the categories and the entity of each", Location(path)))
        return {}
    checker = FileChecker(path)
    try:
        document = load_yaml(path)
    except ProjectError as error:
        problems.extend(error.problems)
        return {}
    categories = {}
    root = checker.mapping(document, CATEGORIES_FILE, 1)
    if root is not None:
        checker.keys(root, CATEGORIES_FILE, allowed=("categories",), required=("categories",))
        table = checker.mapping(root.get("categories"), "'categories'", root.line) if root.get("categories") else None
        for name, spec in (table or {}).items():
            what = f"the category '{name}'"
            spec = checker.mapping(spec, what, table.line_of(name))
            if spec is None:
                continue
            checker.keys(spec, what, allowed=("entity", "label"), required=("entity", "label"))
            entity, label = checker.text(spec, "entity", what), checker.text(spec, "label", what)
            if entity and label:
                categories[str(name)] = Category(str(name), entity, label)
    problems.extend(checker.problems)
    return categories


def _read_entry(node: object, checker: FileChecker, categories: dict[str, Category],
                line: int) -> Entry | None:
    item = checker.mapping(node, "a knowledge entry", line)
    if item is None:
        return None
    entry_id = checker.text(item, "id", "a knowledge entry")
    what = f"the entry '{entry_id}'" if entry_id else "a knowledge entry"
    checker.keys(item, what, allowed=_ENTRY_KEYS,
                 required=("id", "name", "category", "summary", "details", "source"))
    if entry_id is None:
        return None
    if not ID_PATTERN.match(entry_id):
        checker.report("bad-id", f"the id '{entry_id}' must be lower_snake_case "
                       "(letters, digits and underscores, starting with a letter)", item.line_of("id"))
    category = checker.text(item, "category", what)
    if category is not None and category not in categories:
        checker.report("unknown-category", f"{what} has the category '{category}', which "
                       f"{CATEGORIES_FILE} does not define; known: {', '.join(sorted(categories))}",
                       item.line_of("category"))
    source_kind = checker.text(item, "source_kind", what) or "course"
    if source_kind not in SOURCE_KINDS:
        checker.report("bad-value", f"source_kind must be one of {', '.join(SOURCE_KINDS)}",
                       item.line_of("source_kind"))
    order = item.get("order")
    if order is not None and (isinstance(order, bool) or not isinstance(order, int) or order < 1):
        checker.report("bad-value", f"'order' in {what} must be a whole number from 1",
                       item.line_of("order"))
        order = None
    lists = {name: tuple(checker.text_list(item, name, what)) for name in _LIST_FIELDS}
    return Entry(
        id=entry_id, name=checker.text(item, "name", what) or entry_id,
        category=category or "", summary=checker.text(item, "summary", what) or "",
        details=checker.text(item, "details", what) or "", source=checker.text(item, "source", what) or "",
        source_kind=source_kind, order=order, steps=_read_steps(item, checker, what),
        contrast=_read_contrast(item, checker, what), url=checker.text(item, "url", what),
        location=Location(checker.path, item.line), **lists,
    )


def _read_steps(item: LineDict, checker: FileChecker, what: str) -> tuple[GuideStep, ...]:
    if "steps" not in item:
        return ()
    steps = checker.sequence(item["steps"], f"'steps' in {what}", item.line_of("steps")) or []
    result = []
    for index, node in enumerate(steps, start=1):
        step_what = f"step {index} of {what}"
        step = checker.mapping(node, step_what, steps.line_of(index - 1))
        if step is not None:
            checker.keys(step, step_what, allowed=("title", "instructions"), required=("title",))
            result.append(GuideStep(checker.text(step, "title", step_what) or "",
                                    tuple(checker.text_list(step, "instructions", step_what))))
    return tuple(result)


def _read_contrast(item: LineDict, checker: FileChecker, what: str) -> dict[str, str]:
    if "contrast" not in item:
        return {}
    table = checker.mapping(item["contrast"], f"'contrast' in {what}", item.line_of("contrast"))
    return {str(k): str(v) for k, v in (table or {}).items()}


def _check_references(entries: dict[str, Entry]) -> list[Problem]:
    problems = []
    for entry in entries.values():
        for field_name in _REFERENCE_FIELDS:
            for ref in getattr(entry, field_name):
                if ref not in entries:
                    problems.append(Problem(
                        "unknown-reference", f"'{field_name}' of the entry '{entry.id}' names "
                        f"'{ref}', which is not an entry id; fix the id or add the entry",
                        entry.location))
        for ref in entry.contrast:
            if ref not in entry.compares:
                problems.append(Problem(
                    "unknown-reference", f"'contrast' of the entry '{entry.id}' describes '{ref}', "
                    "which its 'compares' list does not name", entry.location))
    return problems

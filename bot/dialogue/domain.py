"""The domain (`domain.yml`, Rasa 3.x format): intents, entities, slots, responses,
actions and forms, plus the names Rasa defines by default.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.errors import Location, ProjectError
from bot.filecheck import FileChecker
from bot.yamlfile import LineDict, LineList, load_yaml

# Names every Rasa bot has without declaring them.
DEFAULT_INTENTS = ("restart", "back", "out_of_scope", "session_start", "nlu_fallback")
DEFAULT_ACTIONS = (
    "action_listen", "action_restart", "action_session_start", "action_default_fallback",
    "action_deactivate_loop", "action_revert_fallback_events", "action_default_ask_affirmation",
    "action_default_ask_rephrase", "action_two_stage_fallback", "action_unlikely_intent",
    "action_back", "action_extract_slots",
)
# The slot a form is asking for; every Rasa bot has it without declaring it.
REQUESTED_SLOT = "requested_slot"
SLOT_TYPES = ("text", "bool", "categorical", "float", "list", "any")
MAPPING_TYPES = ("from_entity", "from_text", "from_intent", "from_trigger_intent", "custom")
RESPONSE_KEYS = ("text", "buttons", "image", "custom", "attachment", "channel", "condition",
                 "quick_replies", "elements", "id", "metadata")
_DOMAIN_KEYS = ("version", "intents", "entities", "slots", "responses", "actions", "forms",
                "session_config", "config", "e2e_actions")


@dataclass(frozen=True)
class MappingCondition:
    """A mapping applies only while this form is active (and asking for this slot)."""

    active_loop: str | None
    requested_slot: str | None = None


@dataclass(frozen=True)
class SlotMapping:
    type: str
    entity: str | None = None
    intent: tuple[str, ...] = ()
    not_intent: tuple[str, ...] = ()
    value: Any = None
    conditions: tuple[MappingCondition, ...] = ()


@dataclass(frozen=True)
class Slot:
    name: str
    type: str
    mappings: tuple[SlotMapping, ...] = ()
    initial_value: Any = None
    influence_conversation: bool = True
    values: tuple[str, ...] = ()


@dataclass
class Domain:
    intents: list[str] = field(default_factory=list)
    entities: list[str] = field(default_factory=list)
    slots: dict[str, Slot] = field(default_factory=dict)
    responses: dict[str, list[dict]] = field(default_factory=dict)
    actions: list[str] = field(default_factory=list)
    forms: dict[str, dict] = field(default_factory=dict)
    # Where each name was declared ("intent:greet" -> location), for validation messages.
    locations: dict[str, Location] = field(default_factory=dict)

    def knows_intent(self, name: str) -> bool:
        return name in self.intents or name in DEFAULT_INTENTS

    def knows_action(self, name: str) -> bool:
        return (name in self.actions or name in self.responses or name in self.forms
                or name in DEFAULT_ACTIONS)

    def required_slots(self, form: str) -> list[str]:
        """The slots a form asks for, in order (Rasa 3's `required_slots` list)."""
        return [str(slot) for slot in (self.forms.get(form) or {}).get("required_slots") or []]


def load_domain(path: Path) -> Domain:
    """Loads domain.yml, or every YAML file of a domain directory merged; raises ProjectError."""
    domain, checker_problems = Domain(), []
    paths = sorted(path.glob("*.yml")) if path.is_dir() else [path]
    for file in paths:
        checker = FileChecker(file)
        read_domain_file(load_yaml(file), checker, domain)
        checker_problems += checker.problems
    errors = [p for p in checker_problems if p.severity == "error"]
    if errors:
        raise ProjectError(errors)
    return domain


def read_domain_file(document: Any, checker: FileChecker, domain: Domain) -> None:
    """Adds one domain file's content to `domain`, reporting problems to the checker."""
    root = checker.mapping(document, "the domain", 1)
    if root is None:
        return
    checker.keys(root, "the domain", allowed=_DOMAIN_KEYS)
    for name, line in _names(root, "intents", checker):
        _declare(domain, domain.intents, "intent", name, checker, line)
    for name, line in _names(root, "entities", checker):
        _declare(domain, domain.entities, "entity", name, checker, line)
    for name, line in _names(root, "actions", checker):
        _declare(domain, domain.actions, "action", name, checker, line)
    _read_slots(root, checker, domain)
    _read_responses(root, checker, domain)
    forms = checker.mapping(root["forms"], "'forms'", root.line_of("forms")) if root.get("forms") else None
    for name, spec in (forms or {}).items():
        domain.forms[str(name)] = spec or {}
        domain.locations[f"form:{name}"] = Location(checker.path, forms.line_of(name))


def _names(root: LineDict, key: str, checker: FileChecker) -> list[tuple[str, int]]:
    """Names under a list key; items may be plain names or one-key mappings with options."""
    if not root.get(key):
        return []
    items = checker.sequence(root[key], f"'{key}'", root.line_of(key)) or LineList()
    names = []
    for index, item in enumerate(items):
        if isinstance(item, dict) and len(item) == 1:
            item = next(iter(item))
        if isinstance(item, str):
            names.append((item, items.line_of(index)))
        else:
            checker.report("wrong-type", f"each item of '{key}' must be a name", items.line_of(index))
    return names


def _declare(domain: Domain, names: list[str], kind: str, name: str,
             checker: FileChecker, line: int) -> None:
    key = f"{kind}:{name}"
    if key in domain.locations:
        checker.report("duplicate-name", f"the {kind} '{name}' is declared twice "
                       f"(also at {domain.locations[key]})", line)
        return
    names.append(name)
    domain.locations[key] = Location(checker.path, line)


def _read_slots(root: LineDict, checker: FileChecker, domain: Domain) -> None:
    slots = checker.mapping(root["slots"], "'slots'", root.line_of("slots")) if root.get("slots") else None
    for name, spec in (slots or {}).items():
        what = f"the slot '{name}'"
        spec = checker.mapping(spec, what, slots.line_of(name))
        if spec is None:
            continue
        checker.keys(spec, what, required=("type", "mappings"), allowed=(
            "type", "mappings", "initial_value", "influence_conversation", "values",
            "min_value", "max_value"))
        slot_type = checker.text(spec, "type", what) or "any"
        if slot_type not in SLOT_TYPES:
            checker.report("bad-value", f"{what} has the type '{slot_type}'; "
                           f"use one of {', '.join(SLOT_TYPES)}", spec.line_of("type"))
        mappings = []
        items = checker.sequence(spec["mappings"], f"'mappings' of {what}", spec.line) if spec.get("mappings") else []
        for index, item in enumerate(items or []):
            mapping = checker.mapping(item, f"a mapping of {what}", items.line_of(index))
            if mapping is None:
                continue
            checker.keys(mapping, f"a mapping of {what}", required=("type",), allowed=(
                "type", "entity", "intent", "not_intent", "value", "role", "group", "conditions",
                "action"))
            mapping_type = checker.text(mapping, "type", what) or ""
            if mapping_type not in MAPPING_TYPES:
                checker.report("bad-value", f"a mapping of {what} has the type '{mapping_type}'; "
                               f"use one of {', '.join(MAPPING_TYPES)}", mapping.line_of("type"))
            if mapping_type == "from_entity" and not mapping.get("entity"):
                checker.report("missing-key", f"a from_entity mapping of {what} needs an 'entity'",
                               mapping.line)
            mappings.append(SlotMapping(
                mapping_type, mapping.get("entity"),
                tuple(checker.text_list(mapping, "intent", what)),
                tuple(checker.text_list(mapping, "not_intent", what)), mapping.get("value"),
                _conditions(mapping, checker, what)))
        domain.slots[str(name)] = Slot(
            str(name), slot_type, tuple(mappings), spec.get("initial_value"),
            bool(spec.get("influence_conversation", True)), tuple(checker.text_list(spec, "values", what)))
        domain.locations[f"slot:{name}"] = Location(checker.path, slots.line_of(name))


def _conditions(mapping: LineDict, checker: FileChecker, what: str) -> tuple[MappingCondition, ...]:
    items = mapping.get("conditions")
    if items is None:
        return ()
    conditions = []
    sequence = checker.sequence(items, f"the conditions of a mapping of {what}", mapping.line_of("conditions"))
    for index, item in enumerate(sequence or []):
        condition = checker.mapping(item, f"a condition of {what}", sequence.line_of(index))
        if condition is None:
            continue
        checker.keys(condition, f"a condition of {what}", allowed=("active_loop", "requested_slot"),
                     required=("active_loop",))
        loop, requested = condition.get("active_loop"), condition.get("requested_slot")
        conditions.append(MappingCondition(None if loop is None else str(loop),
                                           None if requested is None else str(requested)))
    return tuple(conditions)


def _read_responses(root: LineDict, checker: FileChecker, domain: Domain) -> None:
    responses = checker.mapping(root["responses"], "'responses'", root.line_of("responses")) \
        if root.get("responses") else None
    for name, variations in (responses or {}).items():
        what = f"the response '{name}'"
        items = checker.sequence(variations, what, responses.line_of(name))
        if not items:
            checker.report("empty-response", f"{what} needs at least one variation ('- text: ...')",
                           responses.line_of(name))
            continue
        checked = []
        for index, item in enumerate(items):
            variation = checker.mapping(item, f"a variation of {what}", items.line_of(index))
            if variation is None:
                continue
            checker.keys(variation, f"a variation of {what}", allowed=RESPONSE_KEYS)
            if not any(variation.get(k) for k in ("text", "image", "custom", "attachment", "buttons")):
                checker.report("empty-response", f"a variation of {what} has nothing to say; "
                               "give it a 'text'", variation.line)
            checked.append(dict(variation))
        domain.responses[str(name)] = checked
        domain.locations[f"response:{name}"] = Location(checker.path, responses.line_of(name))

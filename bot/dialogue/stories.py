"""Rules and stories (Rasa 3.x YAML): named sequences of user intents and bot actions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from bot.errors import Location
from bot.filecheck import FileChecker

STEP_KINDS = ("intent", "action", "slot_was_set", "active_loop", "checkpoint", "or", "user")
_STEP_EXTRAS = ("entities", "user")
_ITEM_KEYS = {
    "rule": ("rule", "steps", "condition", "conversation_start", "wait_for_user_input", "metadata"),
    "story": ("story", "steps", "metadata"),
}


@dataclass(frozen=True)
class Step:
    """One step: `kind` is intent, action, slot_was_set, active_loop, checkpoint or or."""

    kind: str
    name: str
    value: Any = None
    line: int | None = None


@dataclass(frozen=True)
class Flow:
    """A rule or a story."""

    kind: str
    name: str
    steps: tuple[Step, ...]
    conditions: tuple[Step, ...] = ()
    conversation_start: bool = False
    location: Location | None = field(default=None, compare=False)


def read_flows(items: object, kind: str, checker: FileChecker, line: int) -> list[Flow]:
    """Reads the list under a `rules:` or `stories:` key."""
    flows = []
    sequence = checker.sequence(items, f"'{kind}s'", line)
    for index, node in enumerate(sequence or []):
        item = checker.mapping(node, f"a {kind}", sequence.line_of(index))
        if item is None:
            continue
        name = checker.text(item, kind, f"a {kind}", required=True) or f"{kind} {index + 1}"
        what = f"the {kind} '{name}'"
        checker.keys(item, what, allowed=_ITEM_KEYS[kind], required=(kind, "steps"))
        steps = _read_steps(item.get("steps"), checker, what, item.line)
        conditions = _read_steps(item.get("condition"), checker, what, item.line) if "condition" in item else []
        flows.append(Flow(kind, name, tuple(steps), tuple(conditions),
                          bool(item.get("conversation_start")), Location(checker.path, item.line)))
    return flows


def _read_steps(items: object, checker: FileChecker, what: str, line: int) -> list[Step]:
    steps = []
    sequence = checker.sequence(items, f"the steps of {what}", line) if items is not None else None
    for index, node in enumerate(sequence or []):
        step_line = sequence.line_of(index)
        item = checker.mapping(node, f"a step of {what}", step_line)
        if item is None:
            continue
        kinds = [k for k in STEP_KINDS if k in item and k != "user"]
        if len(kinds) != 1:
            checker.report("step-format", f"a step of {what} needs exactly one of "
                           "intent, action, slot_was_set, active_loop, checkpoint or or", step_line)
            continue
        step_kind = kinds[0]
        checker.keys(item, f"a step of {what}", allowed=(step_kind, *_STEP_EXTRAS))
        value = item[step_kind]
        if step_kind == "slot_was_set":
            for slot in value if isinstance(value, list) else [value]:
                name = next(iter(slot)) if isinstance(slot, dict) else str(slot)
                steps.append(Step("slot_was_set", name, slot.get(name) if isinstance(slot, dict) else None,
                                  step_line))
        elif step_kind == "or":
            for alternative in value or []:
                if isinstance(alternative, dict) and "intent" in alternative:
                    steps.append(Step("or", str(alternative["intent"]), None, step_line))
        else:
            steps.append(Step(step_kind, "" if value is None else str(value), item.get("entities"), step_line))
    return steps


def form_starts(rules: list[Flow], forms: Iterable[str]) -> dict[str, str]:
    """Intent -> the form it starts, from rules whose first steps are intents and whose next
    action is a form (the Lex export gives that intent the form's slots; the Lex code hook
    names it when it asks for one)."""
    known = set(forms)
    starts: dict[str, str] = {}
    for rule in rules:
        leading = []
        for step in rule.steps:
            if step.kind in ("intent", "or"):
                leading.append(step.name)
                continue
            if step.kind == "action" and step.name in known and not rule.conditions:
                for intent in leading:
                    starts.setdefault(intent, step.name)
            break
    return starts

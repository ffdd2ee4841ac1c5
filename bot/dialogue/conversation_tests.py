"""Conversation tests written as data, like Rasa's test stories (`coursebot test --stories`).

A test file holds `stories:`; each story is a list of steps. A `user` step sends a
message (entity annotations such as `[P3](instance_type)` are checked, then stripped);
the steps after it, up to the next `user`, say what must happen in that turn:
`intent` (the intent the bot acts on: the NLU's, or an explicit phrase's), `action` (the actions the bot runs, in
order), `bot` (text one of the bot's replies must contain, ignoring case),
`slot_was_set` (slot values after the turn) and `active_loop` (the form running after
the turn; null for none). A story stops at its first failure, which is reported with
the file and line, the turn, and what happened instead.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.dialogue.events import ActionExecuted, UserUttered
from bot.dialogue.policies import LISTEN
from bot.errors import Location, Problem, ProjectError
from bot.filecheck import FileChecker
from bot.nlu.training_data import parse_annotated
from bot.yamlfile import load_yaml

_STEP_KEYS = ("user", "intent", "action", "bot", "slot_was_set", "active_loop")


@dataclass
class Turn:
    text: str
    line: int
    entities: list[tuple[str, str]] = field(default_factory=list)  # (entity, text)
    intent: str | None = None
    actions: list[str] = field(default_factory=list)
    bot: list[str] = field(default_factory=list)
    slots: dict[str, Any] = field(default_factory=dict)
    active_loop: tuple[bool, str | None] = (False, None)  # (checked, expected)


@dataclass
class ConversationTest:
    name: str
    location: Location
    turns: list[Turn]


@dataclass
class Failure:
    test: ConversationTest
    turn: Turn
    reason: str

    def __str__(self) -> str:
        return (f"{self.test.location.path}:{self.turn.line}: story '{self.test.name}', "
                f"after \"{self.turn.text}\": {self.reason}")


@dataclass
class Outcome:
    tests: list[ConversationTest]
    failures: list[Failure]

    @property
    def passed(self) -> int:
        return len(self.tests) - len(self.failures)


def read_conversation_tests(path: Path) -> list[ConversationTest]:
    """Every story in a file, or in each YAML file of a folder; ProjectError on bad files."""
    files = sorted(path.rglob("*.yml")) if path.is_dir() else [path]
    tests, problems = [], []
    for file in files:
        checker = FileChecker(file)
        root = checker.mapping(load_yaml(file), "a conversation test file", 1)
        stories = checker.sequence(root.get("stories"), "'stories'", root.line) if root is not None else None
        if root is not None and "stories" not in root:
            checker.report("missing-key", "a conversation test file needs 'stories:'", root.line)
        for index, node in enumerate(stories or []):
            item = checker.mapping(node, "a story", stories.line_of(index))
            if item is None:
                continue
            checker.keys(item, "a story", allowed=("story", "steps", "metadata"), required=("story", "steps"))
            name = str(item.get("story") or f"story {index + 1}")
            turns = _read_turns(item.get("steps"), checker, name, item.line)
            if turns:
                tests.append(ConversationTest(name, Location(file, item.line), turns))
        problems += checker.problems
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise ProjectError(errors)
    if not tests:
        raise ProjectError([Problem("no-tests", "no stories found; a conversation test file holds "
                                    "'stories:' with 'user' and 'action' steps", Location(path))])
    return tests


def _read_turns(items: Any, checker: FileChecker, name: str, line: int) -> list[Turn]:
    turns: list[Turn] = []
    steps = checker.sequence(items, f"the steps of story '{name}'", line) or []
    for index, node in enumerate(steps):
        step_line = steps.line_of(index)
        step = checker.mapping(node, f"a step of story '{name}'", step_line)
        if step is None:
            continue
        checker.keys(step, f"a step of story '{name}'", allowed=_STEP_KEYS)
        if "user" in step:
            text, raw = parse_annotated(str(step["user"]).strip())
            turns.append(Turn(text, step_line, [(_entity_name(r), r["text"]) for r in raw],
                              intent=step.get("intent")))
            continue
        if not turns:
            checker.report("step-format", f"story '{name}' must start with a 'user' step", step_line)
            return []
        turn = turns[-1]
        if "intent" in step:
            turn.intent = str(step["intent"])
        if "action" in step:
            turn.actions.append(str(step["action"]))
        if "bot" in step:
            turn.bot.append(str(step["bot"]))
        if "slot_was_set" in step:
            for slot in step["slot_was_set"] or []:
                turn.slots.update(slot if isinstance(slot, dict) else {str(slot): None})
        if "active_loop" in step:
            turn.active_loop = (True, step["active_loop"])
    return turns


def _entity_name(raw: dict) -> str:
    if raw.get("short"):
        return str(raw["short"]).split(":")[0]
    return str(json.loads(raw["long"]).get("entity", ""))


def run_conversation_tests(agent: Any, tests: list[ConversationTest]) -> Outcome:
    """Plays every story through `agent` (an Agent), each as a new sender."""
    failures = []
    for test in tests:
        failure = _play(agent, test)
        if failure is not None:
            failures.append(failure)
    return Outcome(tests, failures)


def _play(agent: Any, test: ConversationTest) -> Failure | None:
    sender = f"story-{uuid.uuid4().hex[:12]}"
    for turn in test.turns:
        parse = agent.dialogue.explicit.apply(turn.text, agent.parse(turn.text))
        found = {(e.get("entity"), turn.text[e.get("start", 0):e.get("end", 0)].lower()) for e in parse["entities"]}
        for entity, text in turn.entities:
            if (entity, text.lower()) not in found:
                names = ", ".join(f"{e['entity']}='{e['value']}'" for e in parse["entities"]) or "none"
                return Failure(test, turn, f"expected the entity {entity} '{text}'; found {names}")
        predicted = parse["intent"]["name"]
        if turn.intent is not None and predicted != turn.intent:
            return Failure(test, turn, f"expected the intent {turn.intent}, got {predicted} "
                                       f"({parse['intent']['confidence']:.2f})")
        replies = agent.dialogue.handle(sender, turn.text, parse)
        tracker = agent.dialogue.tracker_for(sender)
        reason = _check_turn(turn, replies, tracker)
        if reason:
            return Failure(test, turn, reason)
    return None


def _check_turn(turn: Turn, replies: list[dict], tracker: Any) -> str | None:
    events = tracker.events  # all of them: a restart in this turn hides its own action otherwise
    last_user = max((i for i, e in enumerate(events) if isinstance(e, UserUttered)), default=-1)
    actions = [e.name for e in events[last_user + 1:] if isinstance(e, ActionExecuted) and e.name != LISTEN]
    if turn.actions and actions != turn.actions:
        return f"expected the actions {', '.join(turn.actions)}; the bot ran {', '.join(actions) or 'nothing'}"
    texts = [str(r.get("text") or "") for r in replies]
    for expected in turn.bot:
        if not any(expected.lower() in text.lower() for text in texts):
            said = " | ".join(t.replace("\n", " ")[:120] for t in texts) or "nothing"
            return f"expected a reply containing \"{expected}\"; the bot said: {said}"
    slots = tracker.slots
    for slot, value in turn.slots.items():
        if slots.get(slot) != value:
            return f"expected the slot {slot} to be {value!r}, it is {slots.get(slot)!r}"
    checked, loop = turn.active_loop
    if checked and tracker.active_loop != loop:
        return f"expected the active form {loop!r}, it is {tracker.active_loop!r}"
    return None

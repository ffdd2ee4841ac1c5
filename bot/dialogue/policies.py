"""Policies choose the next action. They are asked in priority order; the first to
answer wins.

FormPolicy keeps an active form going: it runs the form when the student's message
answered it, and re-asks after a digression ("what is an instance type?" in the middle
of a form is answered, then the form asks again). FlowPolicy serves rules and stories
alike: it finds flows whose steps so far match the end of the conversation and predicts
the flow's next action, preferring the flow that matches the most context; a rule's
`condition: - active_loop: <form>` holds only when that form was active as the rule
began. FallbackPolicy answers when nothing else does.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from bot.dialogue.events import ActionExecuted, ActiveLoop, SlotSet, UserUttered
from bot.dialogue.stories import Flow
from bot.dialogue.tracker import Tracker

LISTEN = "action_listen"
FALLBACK = "action_default_fallback"
FALLBACK_INTENT = "nlu_fallback"
NO_LOOP = ""  # an `active_loop: null` step

Token = tuple[str, str]  # ("intent" | "action" | "loop", name)


class Policy(Protocol):
    def predict(self, tracker: Tracker) -> str | None:
        """The next action's name, or None to let a later policy decide."""


class FormPolicy:
    """Runs the active form when the latest message filled one of its slots, and
    re-asks its question after another action answered a digression."""

    def __init__(self, forms: dict[str, list[str]]):
        self._forms = forms

    def predict(self, tracker: Tracker) -> str | None:
        form = tracker.active_loop
        if form not in self._forms:
            return None
        since = tracker.actions_since_user()
        if not since:
            return form if self._answered(tracker, form) else None
        return LISTEN if since[-1] == form else form

    def _answered(self, tracker: Tracker, form: str) -> bool:
        return any(isinstance(e, SlotSet) and e.name in self._forms[form] for e in tracker.events_since_user())


@dataclass(frozen=True)
class _Position:
    options: frozenset[Token]

    @property
    def is_action(self) -> bool:
        return all(kind == "action" for kind, _ in self.options)

    @property
    def is_loop(self) -> bool:
        return all(kind == "loop" for kind, _ in self.options)


class FlowPolicy:
    """Follows rules or stories (Rasa's RulePolicy and MemoizationPolicy, simplified)."""

    def __init__(self, flows: Iterable[Flow]):
        self._flows = [(flow, _positions(flow), _required_loop(flow)) for flow in flows]

    def predict(self, tracker: Tracker) -> str | None:
        history = _history(tracker)
        best: tuple[int, int, str] | None = None
        for flow, positions, required_loop in self._flows:
            for index, position in enumerate(positions):
                if not position.is_action or index == 0:
                    continue
                prefix = positions[:index]
                if not any(kind in ("intent", "loop") for p in prefix for kind, _ in p.options):
                    continue
                start = _match_start(history, prefix)
                if start is None:
                    continue
                if flow.conversation_start and any(not _is_loop(t) for t, _ in history[:start]):
                    continue
                if required_loop is not None and not _loop_was_active(history, start, required_loop):
                    continue
                # More matched context wins; then a rule that names its form's condition.
                rank = (len(prefix), int(required_loop is not None))
                if best is None or rank > best[:2]:
                    best = (*rank, next(iter(position.options))[1])
        return best[2] if best else None


class FallbackPolicy:
    """After a user message nobody handles: the fallback; otherwise wait for the student."""

    def predict(self, tracker: Tracker) -> str | None:
        if tracker.actions_since_user():
            return LISTEN
        return FALLBACK if tracker.latest_message is not None else LISTEN


def _positions(flow: Flow) -> list[_Position]:
    """A flow as positions, each the set of tokens allowed there ('or' groups);
    slot_was_set and checkpoint steps are not matched."""
    positions: list[set[Token]] = []
    previous_kind = None
    for step in flow.steps:
        if step.kind == "or":
            if previous_kind == "or":
                positions[-1].add(("intent", step.name))
            else:
                positions.append({("intent", step.name)})
        elif step.kind in ("intent", "action"):
            positions.append({(step.kind, step.name)})
        elif step.kind == "active_loop":
            positions.append({("loop", step.name or NO_LOOP)})
        previous_kind = step.kind
    return [_Position(frozenset(p)) for p in positions]


def _required_loop(flow: Flow) -> str | None:
    return next((step.name for step in flow.conditions if step.kind == "active_loop" and step.name), None)


def _history(tracker: Tracker) -> list[tuple[Token, str | None]]:
    """The conversation as tokens, each with the form active just before it."""
    tokens: list[tuple[Token, str | None]] = []
    loop: str | None = None
    for event in tracker.current_events:
        if isinstance(event, UserUttered) and event.intent:
            tokens.append((("intent", event.intent), loop))
        elif isinstance(event, ActionExecuted) and event.name != LISTEN:
            tokens.append((("action", event.name), loop))
        elif isinstance(event, ActiveLoop):
            tokens.append((("loop", event.name or NO_LOOP), loop))
            loop = event.name
    return tokens


def _is_loop(token: Token) -> bool:
    return token[0] == "loop"


def _match_start(history: list[tuple[Token, str | None]], prefix: list[_Position]) -> int | None:
    """Where the flow prefix begins if it matches the end of the history, else None.

    Form (de)activations the flow does not mention are skipped, so a rule need not
    spell out every ActiveLoop event a form emits within one action.
    """
    h = len(history) - 1
    for position in reversed(prefix):
        while h >= 0 and _is_loop(history[h][0]) and not position.is_loop:
            h -= 1
        if h < 0 or history[h][0] not in position.options:
            return None
        h -= 1
    return h + 1


def _loop_was_active(history: list[tuple[Token, str | None]], start: int, loop: str) -> bool:
    """True when `loop` was active as the matched part began, or became active within it."""
    return history[start][1] == loop or any(token == ("loop", loop) for token, _ in history[start:])

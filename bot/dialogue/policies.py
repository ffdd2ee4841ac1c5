"""Policies choose the next action. They are asked in priority order; the first to
answer wins.

FlowPolicy serves rules and stories alike: it finds flows whose steps so far match
the end of the conversation and predicts the flow's next action, preferring the flow
that matches the most context. FallbackPolicy answers when nothing else does.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from bot.dialogue.events import ActionExecuted, UserUttered
from bot.dialogue.stories import Flow
from bot.dialogue.tracker import Tracker

LISTEN = "action_listen"
FALLBACK = "action_default_fallback"
FALLBACK_INTENT = "nlu_fallback"

Token = tuple[str, str]  # ("intent", name) or ("action", name)


class Policy(Protocol):
    def predict(self, tracker: Tracker) -> str | None:
        """The next action's name, or None to let a later policy decide."""


class FlowPolicy:
    """Follows rules or stories (Rasa's RulePolicy and MemoizationPolicy, simplified)."""

    def __init__(self, flows: Iterable[Flow]):
        self._flows = [(flow, _positions(flow)) for flow in flows]

    def predict(self, tracker: Tracker) -> str | None:
        history = _tokens(tracker)
        best: tuple[int, str] | None = None
        for flow, positions in self._flows:
            for index, options in enumerate(positions):
                if not _is_action(options) or index == 0:
                    continue
                prefix = positions[:index]
                if not any(kind == "intent" for opts in prefix for kind, _ in opts):
                    continue
                if flow.conversation_start and len(history) != len(prefix):
                    continue
                if _ends_with(history, prefix) and (best is None or len(prefix) > best[0]):
                    best = (len(prefix), next(iter(options))[1])
        return best[1] if best else None


class FallbackPolicy:
    """After a user message nobody handles, or one the NLU was unsure of: the fallback."""

    def predict(self, tracker: Tracker) -> str | None:
        if tracker.actions_since_user():
            return LISTEN
        latest = tracker.latest_message
        return FALLBACK if latest is not None else LISTEN


def _positions(flow: Flow) -> list[set[Token]]:
    """A flow as a list of positions, each the set of tokens allowed there ('or' groups)."""
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
        previous_kind = step.kind
    return positions


def _tokens(tracker: Tracker) -> list[Token]:
    tokens: list[Token] = []
    for event in tracker.current_events:
        if isinstance(event, UserUttered) and event.intent:
            tokens.append(("intent", event.intent))
        elif isinstance(event, ActionExecuted) and event.name != LISTEN:
            tokens.append(("action", event.name))
    return tokens


def _is_action(options: set[Token]) -> bool:
    return all(kind == "action" for kind, _ in options)


def _ends_with(history: list[Token], prefix: list[set[Token]]) -> bool:
    if len(prefix) > len(history):
        return False
    tail = history[len(history) - len(prefix):]
    return all(token in options for token, options in zip(tail, prefix, strict=True))

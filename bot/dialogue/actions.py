"""Actions: what the bot does after a user message.

An action has a `name` and `run(context) -> events`. The context is everything an
action may use: slots, the latest parse, the sender, `say(...)`, the knowledge base.
Channel adapters (the rasa-sdk server, Lex code hooks) wrap the same actions.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

from bot.dialogue.domain import Domain
from bot.dialogue.events import Event, Restarted
from bot.dialogue.responses import ResponseRenderer
from bot.dialogue.tracker import Tracker
from bot.knowledge.base import KnowledgeBase


class ActionContext:
    """What an action sees and how it speaks; messages are collected, not sent."""

    def __init__(self, tracker: Tracker, domain: Domain, knowledge: KnowledgeBase,
                 responses: ResponseRenderer):
        self.tracker = tracker
        self.domain = domain
        self.knowledge = knowledge
        self.responses = responses
        self.messages: list[dict[str, Any]] = []

    @property
    def sender_id(self) -> str:
        return self.tracker.sender_id

    @property
    def slots(self) -> dict[str, Any]:
        return self.tracker.slots

    @property
    def text(self) -> str:
        latest = self.tracker.latest_message
        return latest.text if latest else ""

    @property
    def intent(self) -> str | None:
        latest = self.tracker.latest_message
        return latest.intent if latest else None

    def entities(self, *names: str) -> list[dict[str, Any]]:
        """Entities of the latest message, in text order, optionally only of some types."""
        latest = self.tracker.latest_message
        found = latest.entities if latest else []
        return sorted((e for e in found if not names or e.get("entity") in names),
                      key=lambda e: e.get("start", 0))

    def say(self, text: str | None = None, *, buttons: list[dict] | None = None,
            image: str | None = None, attachment: Any = None, custom: dict | None = None) -> None:
        message = {"text": text, "buttons": buttons, "image": image, "attachment": attachment,
                   "custom": custom}
        self.messages.append({key: value for key, value in message.items() if value is not None})

    def utter(self, response: str, **values: Any) -> bool:
        """Says the domain response `response`; False when the domain lacks it."""
        message = self.responses.render(response, self.slots, **values)
        if message is None:
            return False
        self.messages.append(message)
        return True


class Action(ABC):
    """Subclass with a unique `name`; the engine finds subclasses in the project's actions/."""

    name: ClassVar[str] = ""

    @abstractmethod
    def run(self, context: ActionContext) -> list[Event]:
        """Does the work, speaks through `context.say`, returns events such as SlotSet."""


class ResponseAction(Action):
    """Says a response from the domain: every `utter_*` name is one of these."""

    def __init__(self, response: str):
        self.response = response

    @property
    def name(self) -> str:  # type: ignore[override]
        return self.response

    def run(self, context: ActionContext) -> list[Event]:
        context.utter(self.response)
        return []


class RestartAction(Action):
    name = "action_restart"

    def run(self, context: ActionContext) -> list[Event]:
        context.utter("utter_restart")
        return [Restarted()]


class DefaultFallbackAction(Action):
    """Says `utter_default`: what the bot can help with."""

    name = "action_default_fallback"

    def run(self, context: ActionContext) -> list[Event]:
        if not context.utter("utter_default"):
            context.say("Sorry, I didn't get that. Could you say it another way?")
        return []


DEFAULT_ACTIONS: tuple[type[Action], ...] = (RestartAction, DefaultFallbackAction)

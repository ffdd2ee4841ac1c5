"""Actions: what the bot does after a user message.

An action has a `name` and `run(context) -> events`. The context is everything an
action may use: slots, the latest parse, the sender, `say(...)`, the knowledge base.
Channel adapters (the rasa-sdk server, Lex code hooks) wrap the same actions.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from bot.dialogue.domain import Domain
from bot.dialogue.events import ActiveLoop, BotUttered, Event, Restarted, UserUttered
from bot.dialogue.explicit import ExplicitIntents
from bot.dialogue.responses import ResponseRenderer
from bot.dialogue.tracker import Tracker
from bot.knowledge.base import KnowledgeBase

if TYPE_CHECKING:
    from bot.aws import AwsServices


class ActionContext:
    """What an action sees and how it speaks; messages are collected, not sent."""

    def __init__(self, tracker: Tracker, domain: Domain, knowledge: KnowledgeBase,
                 responses: ResponseRenderer, actions: Callable[[str], Action] | None = None,
                 aws: AwsServices | None = None, explicit: ExplicitIntents | None = None,
                 answers: Any = None):
        self.tracker = tracker
        self._aws = aws
        self.explicit = explicit or ExplicitIntents()
        # The answer engine (bot.knowledge.answers.AnswerEngine), or None for a project without
        # a trained answer index: actions then answer from the knowledge base alone.
        self.answers = answers
        self.domain = domain
        self.knowledge = knowledge
        self.responses = responses
        self.messages: list[dict[str, Any]] = []
        self._actions = actions

    @property
    def aws(self) -> AwsServices:
        """The AWS service layer; actions never call boto3 themselves."""
        if self._aws is None:
            raise RuntimeError("this bot was loaded without AWS services")
        return self._aws

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

    @property
    def explicit_intent(self) -> str | None:
        """What the latest message explicitly means ("yes", "cancel", a button), or None."""
        return self.explicit.intent(self.text)

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

    def action(self, name: str) -> Action:
        """Another action of the project, by name."""
        if self._actions is None:
            raise RuntimeError("this context cannot reach other actions")
        return self._actions(name)

    def run(self, action: str) -> list[Event]:
        """Runs another action by name in this context (its messages join this turn's)."""
        return list(self.action(action).run(self) or [])

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


class DeactivateLoopAction(Action):
    """Ends the active form (a rule's `action: action_deactivate_loop`, e.g. on cancel)."""

    name = "action_deactivate_loop"

    def run(self, context: ActionContext) -> list[Event]:
        return [ActiveLoop(None)]


class TwoStageFallbackAction(Action):
    """Rasa's two-stage fallback, with the top two guesses at once.

    First time unsure: "Did you mean ...?" with a button for each of the two likeliest
    intents (carrying the message's entities) and one for something else. Unsure again
    right after that: say what the bot can help with.
    """

    name = "action_two_stage_fallback"
    NOT_OFFERED = ("nlu_fallback", "out_of_scope")
    SOMETHING_ELSE = "/nlu_fallback"

    def __init__(self, intent_titles: dict[str, str] | None = None):
        self.intent_titles = dict(intent_titles or {})

    def run(self, context: ActionContext) -> list[Event]:
        # answering imports this module, so not at the top
        from bot.dialogue.answering import (
            ask,
            engine_answers,
            say_answer,
            say_english_only,
        )

        if engine_answers(context):
            # Unsure which intent, but the course may still answer it outright, or be
            # sure that it does not cover it: either beats "did you mean". Gibberish
            # ("blorf zyxt?") was not understood at all: that is the question below.
            answer = ask(context)
            vocabulary = context.answers.index.vocabulary
            covered_or_not = not answer.declined or answer.reason.startswith("the course never")
            if covered_or_not and not vocabulary.knows_none(context.text):
                return say_answer(context, answer)
            if answer.declined and _plainly_asked(context.text) and not vocabulary.unknown(context.text):
                # "do I get a certificate when I finish this course": every word understood,
                # a whole question, and nothing in the course close to it. Not a message the
                # bot misread, so "did you mean" would only offer what it did not ask.
                return say_answer(context, answer)
        if say_english_only(context):
            return []
        latest = context.tracker.latest_message
        guesses = self._guesses(latest) if latest else []
        if self._asked_last_turn(context) or not guesses:
            return DefaultFallbackAction().run(context)
        entities = {e["entity"]: e["value"] for e in (latest.entities if latest else []) if "entity" in e}
        suffix = json.dumps(entities, ensure_ascii=False) if entities else ""
        # What the student would call them ("Public data"), never the knowledge base's ids.
        names = ", ".join(_title_of(context, v) for v in entities.values())
        buttons = [{"title": self.title(intent) + (f": {names}" if names else ""), "payload": f"/{intent}{suffix}"}
                   for intent in guesses]
        buttons.append({"title": "Something else", "payload": self.SOMETHING_ELSE})
        context.say("Sorry, I'm not sure I understood. Did you mean one of these?", buttons=buttons)
        return []

    def title(self, intent: str) -> str:
        return self.intent_titles.get(intent) or intent.replace("_", " ").capitalize()

    def _guesses(self, latest: UserUttered) -> list[str]:
        ranking = latest.parse.get("intent_ranking") or []
        return [r["name"] for r in ranking if r.get("name") not in self.NOT_OFFERED][:2]

    def _asked_last_turn(self, context: ActionContext) -> bool:
        """Whether the bot's last reply before this message was the "Did you mean" question."""
        return any(isinstance(e, BotUttered) and any(b.get("payload") == self.SOMETHING_ELSE
                                                     for b in e.message.get("buttons") or [])
                   for e in context.tracker.previous_turn())


PLAIN_QUESTION_WORDS = 5  # a question this long, in words the bot knows, was not misread


def _plainly_asked(text: str) -> bool:
    from bot.dialogue.form_answers import is_question  # it imports this module

    return is_question(text) and len(text.split()) >= PLAIN_QUESTION_WORDS


def _title_of(context: ActionContext, value: Any) -> str:
    entry = context.knowledge.get(str(value)) if context.knowledge is not None else None
    return entry.name if entry is not None else str(value)


DEFAULT_ACTIONS: tuple[type[Action], ...] = (RestartAction, DefaultFallbackAction, DeactivateLoopAction)

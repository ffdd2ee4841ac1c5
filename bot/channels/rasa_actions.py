"""Our actions behind rasa-sdk's action server, so that `rasa run actions` serves them.

Under Rasa, Rasa runs the conversation (its policies, its forms, its responses) and calls
each custom action over HTTP with the whole tracker. An adapter here turns that tracker
into ours, runs the very Action our engine runs, and hands back its messages and events
in Rasa's terms: one implementation, two engines. Forms are Rasa's own there, so
`validate_<form>` adapts our FormValidator to Rasa's validation call instead.

The project's actions package imports this module only when rasa-sdk is running it
(actions/rasa_sdk_adapters.py), so rasa-sdk stays an optional extra. This module runs on
Rasa 3.6's Python 3.9 and rasa-sdk 3.6 as well as on our Python with a newer rasa-sdk.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar

import rasa_sdk

from bot.aws import AwsServices
from bot.dialogue.action_loader import ActionRegistry, actions_in_package
from bot.dialogue.actions import ActionContext
from bot.dialogue.domain import REQUESTED_SLOT
from bot.dialogue.events import (
    EVENT_TYPES,
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    Event,
    SlotSet,
    UserUttered,
    event_from_dict,
)
from bot.dialogue.forms import FormValidator
from bot.dialogue.manager import APOLOGY
from bot.dialogue.responses import ResponseRenderer
from bot.dialogue.tracker import Tracker
from bot.project import Project, load_project

log = logging.getLogger(__name__)

MESSAGE_KEYS = ("text", "buttons", "image", "attachment", "custom")


class ServedProject:
    """A project loaded once for the action server: its domain, knowledge, actions, AWS."""

    def __init__(self, project: Project, actions: ActionRegistry, aws: AwsServices, answers: Any = None):
        self.project = project
        self.actions = actions
        self.aws = aws
        self.answers = answers  # the answer engine (bot.knowledge.answers), or None
        self.responses = ResponseRenderer(project.domain.responses,
                                          selection=project.settings.dialogue.response_selection)

    @classmethod
    def for_package(cls, package: ModuleType) -> ServedProject:
        """The project whose actions/ package this is (its parent directory)."""
        root = Path(package.__file__).resolve().parent.parent
        project = load_project(root)
        actions = ActionRegistry.for_project(root, project.domain, project.settings.dialogue.intent_titles,
                                             actions_in_package(package))
        return cls(project, actions, AwsServices(project.settings.aws, language=project.settings.language),
                   _answer_engine(project))

    def context(self, tracker: Tracker) -> ActionContext:
        return ActionContext(tracker, self.project.domain, self.project.knowledge, self.responses,
                             self.actions.get, self.aws, self.project.settings.dialogue.explicit(), self.answers)


def _answer_engine(project: Project) -> Any:
    """The answer engine over the project's trained model, so that Rasa's answers come
    from the notes as every other channel's do; lexical, as in the Lex hook (Rasa brings
    its own NLU, and the action server loads no sentence encoder). None, with a warning,
    where no model is trained: entries then answer with their summaries."""
    from bot.errors import ModelError
    from bot.knowledge.answers import AnswerEngine
    from bot.nlu.training import model_dir

    try:
        return AnswerEngine.load(model_dir(project), project.knowledge)
    except ModelError as problem:
        log.warning("no answer index (%s): course questions get the entries' summaries; run `coursebot train`",
                    problem)
        return None


class _Adapter:
    """What every served action does; mixed into one rasa-sdk Action class per name,
    because rasa-sdk instantiates each Action subclass it finds without arguments."""

    served: ClassVar[ServedProject]
    action_name: ClassVar[str]

    def name(self) -> str:
        return self.action_name

    async def run(self, dispatcher: Any, tracker: Any, domain: dict[str, Any]) -> list[dict[str, Any]]:
        # Our actions block on boto3; keep them off the server's event loop.
        messages, events = await asyncio.get_running_loop().run_in_executor(None, self.turn, tracker)
        for message in messages:
            dispatcher.utter_message(**rasa_message(message))
        return events

    def turn(self, rasa_tracker: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The action's messages and events for one call; a failure costs one apology."""
        try:
            context = self.served.context(tracker_from_rasa(rasa_tracker))
            events = [rasa_event(event) for event in self.events(context)]
        except Exception:
            log.exception("the action %s failed for sender %s", self.action_name, rasa_tracker.sender_id)
            return [{"text": APOLOGY}], []
        return context.messages, events

    def events(self, context: ActionContext) -> list[Event]:
        return list(self.served.actions.get(self.action_name).run(context) or [])


class _ValidatorAdapter(_Adapter):
    """`validate_<form>`: Rasa's form validation call, answered by our FormValidator."""

    def events(self, context: ActionContext) -> list[Event]:
        validator = self.served.actions.get(self.action_name)
        return form_validation(validator, self.action_name[len("validate_"):], context)


def form_validation(validator: FormValidator, form: str, context: ActionContext) -> list[Event]:
    """Rasa's `validate_<form>` call, answered by our validator.

    Rasa sends the tracker with the form's slot candidates appended after an
    `ActionExecuted(<form>)` marker; what the student's message filled sits before it.
    At activation (the form's ActiveLoop event is in this turn) Rasa offers every
    required slot that already has a value: those from an earlier run of the form are
    cleared, so that, as in our engine, a form starts empty. The answer always names the
    slot to ask next (None when complete), as the validator may skip slots the settings
    already answer.
    """
    tracker = context.tracker
    required_slots = context.domain.required_slots(form)
    slots = [*required_slots, *(slot for slot in validator.optional_slots if slot not in required_slots)]
    this_turn = tracker.events_since_user()
    markers = [i for i, e in enumerate(this_turn) if isinstance(e, ActionExecuted) and e.name == form]
    before_marker = this_turn[:markers[-1]] if markers else this_turn
    fresh = {e.name: e.value for e in before_marker if isinstance(e, SlotSet) and e.name in slots}
    known = dict(tracker.slots)
    activating = tracker.active_loop != form or ActiveLoop(form) in before_marker
    if activating:
        known.update({slot: None for slot in slots})
        known.update(fresh)
    required = validator.required_slots(list(required_slots), context)
    answers = validator.answers(required, fresh, known, context)
    known.update(answers)
    cleared = {slot: None for slot in slots if known.get(slot) is None and tracker.slots.get(slot) is not None}
    events: list[Event] = [SlotSet(slot, value) for slot, value in {**cleared, **answers}.items()]
    missing = next((slot for slot in required if known.get(slot) is None), None)
    return [*events, SlotSet(REQUESTED_SLOT, missing)]


class RasaTracker(Tracker):
    """Rasa's tracker as ours: its events for the history, and its own slot values, which
    are the truth (Rasa resets slots at a session start without slot events)."""

    def __init__(self, sender_id: str, events: list[Event], slots: dict[str, Any]):
        super().__init__(sender_id, events)
        self._rasa_slots = dict(slots)

    @property
    def slots(self) -> dict[str, Any]:
        return dict(self._rasa_slots)


def tracker_from_rasa(rasa_tracker: Any) -> Tracker:
    """Our tracker for a rasa-sdk Tracker."""
    events = [event for event in (event_from_rasa(data) for data in rasa_tracker.events or []) if event]
    return RasaTracker(str(rasa_tracker.sender_id), events, rasa_tracker.slots or {})


def event_from_rasa(data: dict[str, Any]) -> Event | None:
    """One of Rasa's event dicts as ours; None for events our actions never read
    (session starts, featurizations, rejections)."""
    kind = data.get("event")
    if kind not in EVENT_TYPES:
        return None
    fields: dict[str, Any] = {"event": kind, "timestamp": data.get("timestamp")}
    if kind == UserUttered.type_name:
        parse = dict(data.get("parse_data") or {})
        fields.update(text=data.get("text") or "", parse=parse)
    elif kind == BotUttered.type_name:
        message = {"text": data.get("text"), **(data.get("data") or {})}
        fields["message"] = {key: message[key] for key in MESSAGE_KEYS if message.get(key) is not None}
    elif kind == SlotSet.type_name:
        fields.update(name=data.get("name"), value=data.get("value"))
    elif "name" in data:
        fields["name"] = data["name"]
    return event_from_dict(fields)


def rasa_event(event: Event) -> dict[str, Any]:
    """Our event as Rasa's dict: the same names, but for the user's and the bot's words."""
    data = event.as_dict()
    if isinstance(event, UserUttered):
        data["parse_data"] = data.pop("parse")
    elif isinstance(event, BotUttered):
        message = dict(data.pop("message"))
        data.update(text=message.pop("text", None), data=message)
    return data


def rasa_message(message: dict[str, Any]) -> dict[str, Any]:
    """A bot message in Rasa's REST shape as `CollectingDispatcher.utter_message` arguments."""
    arguments = {key: message[key] for key in ("text", "buttons", "image", "attachment") if key in message}
    if message.get("custom") is not None:
        arguments["json_message"] = message["custom"]
    return arguments


def rasa_sdk_actions(served: ServedProject) -> list[type]:
    """One rasa-sdk Action class per custom action the domain lists."""
    classes = []
    for name in served.project.domain.actions:
        action = served.actions.get(name)
        adapter = _ValidatorAdapter if isinstance(action, FormValidator) else _Adapter
        classes.append(type(f"Rasa_{name}", (adapter, rasa_sdk.Action),
                            {"served": served, "action_name": name, "__module__": __name__}))
    return classes


_SERVED: dict[str, list[type]] = {}


def serve_package(package: ModuleType) -> list[type]:
    """The adapters for a project's actions package, made once per package."""
    if package.__name__ not in _SERVED:
        _SERVED[package.__name__] = rasa_sdk_actions(ServedProject.for_package(package))
    return _SERVED[package.__name__]

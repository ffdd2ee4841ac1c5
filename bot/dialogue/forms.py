"""Forms: ask for each required slot in turn, check each answer, re-ask with a reason.

As in Rasa, a form is declared in domain.yml (`forms: <name>: required_slots: [...]`)
and runs as an action named after the form; `requested_slot` holds the slot it last
asked for, and the question is the response `utter_ask_<form>_<slot>` or
`utter_ask_<slot>`, or an action `action_ask_<form>_<slot>` / `action_ask_<slot>`
when the question depends on the conversation. A project checks answers with a
`validate_<form>` action: a FormValidator subclass whose `validate_<slot>(value,
context)` returns the value to keep (possibly cleaned up), or None after saying,
through `context.say`, why it cannot be used; `extract_<slot>(context)` finds a value
no slot mapping can, and `required_slots` drops slots the settings already answer.
A form starts empty, so a second notebook never inherits the first one's answers.
"""

from __future__ import annotations

from typing import Any

from bot.dialogue.actions import Action, ActionContext
from bot.dialogue.domain import REQUESTED_SLOT
from bot.dialogue.events import ActiveLoop, Event, SlotSet
from bot.dialogue.slot_filling import slot_events


class FormValidator(Action):
    """Subclass with `name = "validate_<form>"` and `validate_<slot>` methods.

    `optional_slots` are slots the form never asks for but takes, checked, when a message
    gives them (a training job's name); like the required ones, they start empty.
    """

    optional_slots: tuple[str, ...] = ()

    def run(self, context: ActionContext) -> list[Event]:
        return []  # Called through `validate`, by the form.

    def validate(self, slot: str, value: Any, context: ActionContext) -> Any:
        method = getattr(self, f"validate_{slot}", None)
        return value if method is None else method(value, context)

    def extract(self, slot: str, context: ActionContext) -> Any:
        method = getattr(self, f"extract_{slot}", None)
        return None if method is None else method(context)

    def required_slots(self, slots: list[str], context: ActionContext) -> list[str]:
        """The slots to ask for this time; by default all of the domain's."""
        return slots

    def answers(self, required: list[str], fresh: dict[str, Any], known: dict[str, Any],
                context: ActionContext, *, extract: bool = True) -> dict[str, Any]:
        """This turn's answers, checked: what the message filled (`fresh`), plus what
        `extract_<slot>` finds for required slots with no value in `known` (unless not
        `extract`: the message was a digression another action answered). An answer that
        fails its check is None. Our forms and Rasa's (through rasa-sdk) both call this."""
        found = dict(fresh)
        for slot in (*required, *self.optional_slots) if extract else ():
            if slot not in found and known.get(slot) is None:
                extracted = self.extract(slot, context)
                if extracted is not None:
                    found[slot] = extracted
        return {slot: None if value is None else self.validate(slot, value, context)
                for slot, value in found.items()}


class FormAction(Action):
    def __init__(self, name: str, required_slots: list[str], validator: FormValidator | None = None,
                 ask_actions: dict[str, Action] | None = None):
        self._name = name
        self.required_slots = required_slots
        self.validator = validator
        self.ask_actions = ask_actions or {}

    @property
    def name(self) -> str:  # type: ignore[override]
        return self._name

    @property
    def slots(self) -> tuple[str, ...]:
        """Every slot the form fills: the required ones, then the optional ones."""
        optional = self.validator.optional_slots if self.validator else ()
        return (*self.required_slots, *(slot for slot in optional if slot not in self.required_slots))

    def run(self, context: ActionContext) -> list[Event]:
        tracker = context.tracker
        events: list[Event] = []
        slots = dict(tracker.slots)
        fresh = self._set_this_turn(context)
        if tracker.active_loop != self.name:
            events.append(ActiveLoop(self.name))
            latest = tracker.latest_message
            extracted = slot_events(context.domain, latest, self.name, None, only_conditional=True) if latest else []
            fresh.update({e.name: e.value for e in extracted if e.name in self.slots})
            # Start empty: forget answers from an earlier run of this form.
            slots.update({slot: None for slot in self.slots})
        required = self.required_slots
        if self.validator:
            required = self.validator.required_slots(list(self.required_slots), context)
            digression = any(name != self.name for name in tracker.actions_since_user())
            fresh = self.validator.answers(required, fresh, slots, context, extract=not digression)
        slots.update(fresh)
        events += [SlotSet(slot, slots.get(slot)) for slot in self.slots if slots.get(slot) != tracker.slots.get(slot)]
        missing = next((slot for slot in required if slots.get(slot) is None), None)
        if missing is None:
            return [*events, SlotSet(REQUESTED_SLOT, None), ActiveLoop(None)]
        return [*events, *self._ask(missing, context), SlotSet(REQUESTED_SLOT, missing)]

    def _ask(self, slot: str, context: ActionContext) -> list[Event]:
        if slot in self.ask_actions:
            return list(self.ask_actions[slot].run(context) or [])
        if not (context.utter(f"utter_ask_{self.name}_{slot}") or context.utter(f"utter_ask_{slot}")):
            context.say(f"What should the {slot.replace('_', ' ')} be?")
        return []

    def _set_this_turn(self, context: ActionContext) -> dict[str, Any]:
        """Values for the form's slots that the latest message filled."""
        return {event.name: event.value for event in context.tracker.events_since_user()
                if isinstance(event, SlotSet) and event.name in self.slots}

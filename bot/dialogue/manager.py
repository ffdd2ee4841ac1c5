"""The dialogue manager: one user message in, the bot's messages out.

It records the message and its parse in the sender's tracker, fills slots from the
domain's mappings, then asks the policies for actions until one says to listen. A
failing action costs the student one apology, never the conversation.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.aws import AwsServices
from bot.dialogue.action_loader import ActionRegistry
from bot.dialogue.actions import ActionContext
from bot.dialogue.domain import REQUESTED_SLOT, Domain
from bot.dialogue.events import (
    ActionExecuted,
    BotUttered,
    Event,
    FollowupAction,
    SlotSet,
    UserUttered,
)
from bot.dialogue.explicit import ExplicitIntents
from bot.dialogue.form_answers import requested_answer
from bot.dialogue.forms import FormValidator
from bot.dialogue.policies import (
    FALLBACK,
    LISTEN,
    FallbackPolicy,
    FlowPolicy,
    FormPolicy,
    Policy,
)
from bot.dialogue.responses import ResponseRenderer
from bot.dialogue.routing import QuestionRouting
from bot.dialogue.slot_filling import slot_events
from bot.dialogue.stories import form_starts
from bot.dialogue.tracker import Tracker
from bot.knowledge.base import KnowledgeBase
from bot.stores import (
    InMemoryTrackerStore,
    InProcessLockStore,
    Lease,
    LockStore,
    TrackerStore,
)

log = logging.getLogger(__name__)

MAX_ACTIONS_PER_TURN = 10
APOLOGY = "Sorry, something went wrong on my side while answering that. Please try again or ask me something else."


class DialogueManager:
    def __init__(self, domain: Domain, actions: ActionRegistry, knowledge: KnowledgeBase,
                 policies: list[Policy], store: TrackerStore | None = None,
                 responses: ResponseRenderer | None = None, locks: LockStore | None = None,
                 aws: AwsServices | None = None, explicit: ExplicitIntents | None = None,
                 answers: Any = None, routing: QuestionRouting | None = None):
        self.domain = domain
        self.explicit = explicit or ExplicitIntents()
        self.answers = answers  # the answer engine (bot.knowledge.answers), when the project has one
        self.form_starts: dict[str, str] = {}  # intent -> the form its rule starts (for channels such as Lex)
        self.routing = routing or QuestionRouting()
        self.aws = aws
        self.actions = actions
        self.knowledge = knowledge
        self.policies = policies
        self.store = store or InMemoryTrackerStore()
        self.locks = locks or InProcessLockStore()
        self.responses = responses or ResponseRenderer(domain.responses)

    @classmethod
    def for_flows(cls, domain: Domain, actions: ActionRegistry, knowledge: KnowledgeBase,
                  rules: list, stories: list, store: TrackerStore | None = None,
                  locks: LockStore | None = None, response_selection: str = "random",
                  aws: AwsServices | None = None, explicit: ExplicitIntents | None = None,
                  answers: Any = None, routing: QuestionRouting | None = None,
                  channel: str | None = None) -> DialogueManager:
        """The default policy ensemble: the active form, rules, stories, then the fallback."""
        forms = {form: domain.required_slots(form) for form in domain.forms}
        policies: list[Policy] = [FormPolicy(forms), FlowPolicy(rules), FlowPolicy(stories), FallbackPolicy()]
        responses = ResponseRenderer(domain.responses, selection=response_selection, channel=channel)
        manager = cls(domain, actions, knowledge, policies, store, responses, locks, aws, explicit, answers, routing)
        manager.form_starts = form_starts(rules, domain.forms)
        return manager

    def tracker_for(self, sender_id: str) -> Tracker:
        initial = {name: slot.initial_value for name, slot in self.domain.slots.items()}
        stored = self.store.retrieve(sender_id)
        return Tracker(sender_id, stored.events if stored else (), initial_slots=initial,
                       stored=stored.stored if stored else 0)

    def handle(self, sender_id: str, text: str, parse: dict[str, Any], *,
               filled_slots: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Processes one message and returns the bot's replies in Rasa's REST shape.

        `filled_slots` are values a channel's own NLU already read from the message (Lex
        slots); they are set after the domain's mappings, and forms still validate them.

        The sender's lock is held throughout, so two messages from one student never
        interleave, even across server processes sharing a SQLite or Redis lock store.

        Raises:
            ConversationConflict: the save found the conversation changed, or this
                process's lease on the lock ran out; nothing of the turn was stored, and its
                actions are not run again (the lock was not shared, or it expired).
            LockTimeout: another message from the sender held the lock too long.
        """
        with self.locks.lock(sender_id) as lease:
            return self._handle(sender_id, text, parse, filled_slots or {}, lease)

    def _handle(self, sender_id: str, text: str, parse: dict[str, Any],
                filled_slots: dict[str, Any], lease: Lease | None) -> list[dict[str, Any]]:
        tracker = self.tracker_for(sender_id)
        last = tracker.slots.get("last_answer")
        earlier = str(last.get("question") or "") if isinstance(last, dict) else ""
        listed = bool(last.get("items")) and not tracker.active_loop if isinstance(last, dict) else False
        # Inside a form a message answers the form's question, however it leans.
        parse = parse if tracker.active_loop else self.routing.out_of_scope_if_leaning(parse)
        parse = self.routing.route(text, self.explicit.apply(text, parse), self.answers, earlier, listed)
        user = UserUttered(text, parse)
        tracker.add(user)
        tracker.extend(slot_events(self.domain, user, tracker.active_loop, tracker.slots.get(REQUESTED_SLOT)))
        tracker.extend(SlotSet(name, value) for name, value in filled_slots.items() if name in self.domain.slots)
        answer = requested_answer(tracker, self.domain, self._validator(tracker.active_loop),
                                  lambda: self._context(tracker), self.explicit.intent(text))
        if answer is not None:
            tracker.add(answer)
        replies: list[dict[str, Any]] = []
        followup: str | None = None
        for _ in range(MAX_ACTIONS_PER_TURN):
            name = followup or self.predict(tracker)
            if name == LISTEN:
                break
            replies += self._run(name, tracker)
            followup = self._followup(tracker)
        else:
            log.warning("stopped after %d actions for one message from %s", MAX_ACTIONS_PER_TURN, sender_id)
        tracker.add(ActionExecuted(LISTEN))
        self.store.save(tracker, lease)   # fenced compare-and-append; a conflict propagates, unacknowledged
        return [{"recipient_id": sender_id, **message} for message in replies]

    def predict(self, tracker: Tracker) -> str:
        for policy in self.policies:
            name = policy.predict(tracker)
            if name is not None:
                if name != LISTEN and name not in self.actions:
                    log.error("a policy predicted the unknown action %s; falling back", name)
                    return FALLBACK
                return name
        return LISTEN

    def _context(self, tracker: Tracker) -> ActionContext:
        return ActionContext(tracker, self.domain, self.knowledge, self.responses, self.actions.get, self.aws,
                             self.explicit, self.answers)

    def _validator(self, form: str | None) -> FormValidator | None:
        validator = self.actions.get(f"validate_{form}") if form and f"validate_{form}" in self.actions else None
        return validator if isinstance(validator, FormValidator) else None

    def _run(self, name: str, tracker: Tracker) -> list[dict[str, Any]]:
        context = self._context(tracker)
        try:
            events: list[Event] = list(self.actions.get(name).run(context) or [])
        except Exception:
            log.exception("the action %s failed for sender %s", name, tracker.sender_id)
            context.messages = [{"text": APOLOGY}]
            events = []
        tracker.add(ActionExecuted(name))
        tracker.extend(BotUttered(message) for message in context.messages)
        tracker.extend(events)
        return context.messages

    def _followup(self, tracker: Tracker) -> str | None:
        """The action the last one asked to run next, if it named a known one."""
        for event in reversed(tracker.events):
            if isinstance(event, ActionExecuted):
                return None
            if isinstance(event, FollowupAction):
                if event.name in self.actions:
                    return event.name
                log.error("an action asked to run the unknown action %s next; ignored", event.name)
                return None
        return None

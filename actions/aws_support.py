"""What every AWS action shares: plain-sentence errors, one confirmation before anything
billable or destructive, and finding which of the student's resources they mean.

Confirmation works as in Rasa: an action that needs a yes plans its request, keeps
the question in `pending_summary` and hands over to `confirm_form` (a FollowupAction),
whose only slot, `confirmed`, is filled by "yes" or "no". When the form ends, the rule
"Run what the student confirmed" runs `action_run_confirmed`, which sends the request
planned again from the slots, so the guardrails are checked at the moment of sending.
"""

from __future__ import annotations

import json
import re
import time
from abc import abstractmethod
from collections.abc import Callable
from typing import Any, TypeVar

from bot.aws import AwsProblem, AwsServices, BillableRequest, checks
from bot.dialogue.actions import Action, ActionContext
from bot.dialogue.events import (
    ActionExecuted,
    ActiveLoop,
    Event,
    FollowupAction,
    SlotSet,
    UserUttered,
)
from bot.dialogue.forms import FormValidator

CONFIRM_FORM = "confirm_form"
PENDING_ACTION = "pending_action"
PENDING_SUMMARY = "pending_summary"
PENDING_TARGET = "pending_target"
CONFIRMED = "confirmed"
YES_NO = [{"title": "Yes, go ahead", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]
T = TypeVar("T")
_QUOTED = re.compile(r"\"([^\"]+)\"|“([^”]+)”|‘([^’]+)’|(?<![\w])'(.+)'(?![\w])")
# "named nb-1", "called 'nb-1'", "call it nb-1", "with the name nb-1", "name: nb-1"; then
# "nb-1 as the name".
_GIVEN_NAME = re.compile(r"\b(?:named|called|call it|name it|with (?:the )?name|(?:the |its )?name(?: is|:|=))\s+"
                         r"[\"'“‘]?([^\s\"'“”‘’,;]+)", re.IGNORECASE)
_NAME_FIRST = re.compile(r"[\"'“‘]?([^\s\"'“”‘’,;]+)[\"'”’]?\s+as (?:the|its) name\b", re.IGNORECASE)


class AwsAction(Action):
    """An action that uses AWS; an AwsProblem becomes its sentence, never a traceback."""

    def run(self, context: ActionContext) -> list[Event]:
        try:
            return self.run_aws(context, context.aws)
        except AwsProblem as problem:
            context.say(problem.student_message)
            return self.after_problem(context)

    @abstractmethod
    def run_aws(self, context: ActionContext, aws: AwsServices) -> list[Event]:
        ...

    def after_problem(self, context: ActionContext) -> list[Event]:
        return []


class MeteredAction(AwsAction):
    """A call AWS bills per request or character (Comprehend, Polly, Rekognition): at most
    `aws: metered_per_hour` of them per student per hour, counted from the conversation
    itself so that every server process sees the same count, and texts of at most
    `aws: max_text_chars`."""

    def run_aws(self, context: ActionContext, aws: AwsServices) -> list[Event]:
        limit = aws.settings.metered_per_hour
        since = time.time() - 3600
        metered = _names_of_subclasses(MeteredAction)
        used = sum(1 for event in context.tracker.events
                   if isinstance(event, ActionExecuted) and event.name in metered and event.timestamp >= since)
        if used >= limit:
            raise AwsProblem(f"You have used Comprehend, Polly and Rekognition {used} times in the last hour, "
                             f"the most your instructor allows ({limit}). Please try again later.", "rate-limited")
        return self.run_metered(context, aws)

    @abstractmethod
    def run_metered(self, context: ActionContext, aws: AwsServices) -> list[Event]:
        ...

    @staticmethod
    def limited_text(text: str, aws: AwsServices) -> str:
        """`text` if it is within the instructor's length limit."""
        limit = aws.settings.max_text_chars
        if len(text) > limit:
            raise AwsProblem(f"That text is {len(text):,} characters long; your instructor allows at most "
                             f"{limit:,} here. Please send a shorter one.", "too-long")
        return text


def _names_of_subclasses(cls: type[Action]) -> set[str]:
    names, todo = set(), [cls]
    while todo:
        for sub in todo.pop().__subclasses__():
            names.add(sub.name)
            todo.append(sub)
    return names


class ConfirmedAction(AwsAction):
    """Asks once before `execute`; subclasses say what would happen in `question`."""

    def run_aws(self, context: ActionContext, aws: AwsServices) -> list[Event]:
        question, events = self.question(context, aws)
        if question is None:
            return events
        return [*events, SlotSet(PENDING_ACTION, self.name), SlotSet(PENDING_SUMMARY, question),
                SlotSet(CONFIRMED, None), FollowupAction(CONFIRM_FORM)]

    @abstractmethod
    def question(self, context: ActionContext, aws: AwsServices) -> tuple[str | None, list[Event]]:
        """The yes/no question and events to keep (e.g. the target), or (None, events)
        after saying why there is nothing to confirm."""

    @abstractmethod
    def execute(self, context: ActionContext, aws: AwsServices) -> list[Event]:
        """Does it, after the student said yes."""


class BillableAction(ConfirmedAction):
    """A request that costs money: planned, priced, confirmed, then sent (or shown)."""

    @abstractmethod
    def plan(self, context: ActionContext, aws: AwsServices, fresh: bool) -> BillableRequest | None:
        """The request from the slots; `fresh` when asking, False when sending what was asked.
        None (only when fresh) after asking the student which resource they mean."""

    @abstractmethod
    def created(self, context: ActionContext, aws: AwsServices, request: BillableRequest,
                answer: dict[str, Any]) -> list[Event]:
        """Tells the student what was started."""

    def question(self, context: ActionContext, aws: AwsServices) -> tuple[str | None, list[Event]]:
        request = self.plan(context, aws, fresh=True)
        if request is None:
            return None, []
        dry = " (Dry run: I will only show the request, not send it.)" if aws.dry_run else ""
        return (f"I'm about to {request.summary}. {request.price_sentence()}.{dry} Shall I go ahead?",
                self.remember(context, request))

    def remember(self, context: ActionContext, request: BillableRequest) -> list[Event]:
        return []

    def execute(self, context: ActionContext, aws: AwsServices) -> list[Event]:
        request = self.plan(context, aws, fresh=False)
        if request is None:
            raise AwsProblem("I lost track of what you confirmed; please ask again.", "invalid")
        answer = aws.sagemaker.submit(request)
        if answer.get("DryRun"):
            context.say("Dry run: I did not send anything. This is the exact request I would send:\n"
                        f"```json\n{request.as_json()}\n```")
            return []
        return self.created(context, aws, request, answer)


class ActionAskConfirmed(Action):
    name = "action_ask_confirmed"

    def run(self, context: ActionContext) -> list[Event]:
        question = context.slots.get(PENDING_SUMMARY) or "Shall I go ahead?"
        context.say(question, buttons=YES_NO)
        return []


class ValidateConfirmForm(FormValidator):
    """Consent is an explicit yes: a phrase the project lists as `affirm` in `dialogue:
    explicit_intents`, or the button. Whatever the classifier makes of "hmm", "wait" or
    "yes?", it is not a yes: the question is asked once more, then the request is dropped
    with nothing done. Any no is a no. Lex's confirmationState counts only with a
    transcript that says yes, so nothing a client sends stands in for it."""

    name = "validate_confirm_form"

    def validate_confirmed(self, value: Any, context: ActionContext) -> bool | None:
        explicit = context.explicit_intent
        if explicit == "affirm":
            return True
        if explicit == "deny" or value is False or context.intent == "deny":
            return False
        if self._asked_twice(context):
            context.utter("utter_confirm_dropped")
            return False
        context.utter("utter_confirm_unclear")
        return None

    @staticmethod
    def _asked_twice(context: ActionContext) -> bool:
        """Whether an earlier message already failed to answer this confirmation."""
        answers = 0
        for event in reversed(context.tracker.current_events):
            if isinstance(event, ActiveLoop) and event.name == CONFIRM_FORM:
                break
            answers += isinstance(event, UserUttered)
        return answers > 1


class ActionRunConfirmed(Action):
    """Runs the pending action's `execute` after a yes; after a no, does nothing."""

    name = "action_run_confirmed"

    def run(self, context: ActionContext) -> list[Event]:
        pending = context.slots.get(PENDING_ACTION)
        cleared: list[Event] = [SlotSet(PENDING_ACTION, None), SlotSet(PENDING_SUMMARY, None),
                                SlotSet(CONFIRMED, None)]
        if context.slots.get(CONFIRMED) is not True or not pending:
            context.say("OK, I won't. Nothing was started or changed.")
            return cleared
        action = context.action(pending)
        if not isinstance(action, ConfirmedAction):
            raise TypeError(f"{pending} cannot be confirmed")
        try:
            return [*action.execute(context, context.aws), *cleared]
        except AwsProblem as problem:
            context.say(problem.student_message)
            return cleared


class SageMakerFormValidator(FormValidator):
    """A form that needs an IAM execution role asks for one only when the instructor allows
    several; a student picks among those and never types in a new one."""

    role_slot: str = ""

    def required_slots(self, slots: list[str], context: ActionContext) -> list[str]:
        if len(context.aws.guardrails.allowed_roles()) == 1:
            return [slot for slot in slots if slot != self.role_slot]
        return slots

    def validate_role(self, value: Any, context: ActionContext) -> str | None:
        return checked(context, context.aws.guardrails.role, value)


class AskForRole(Action):
    """Offers the instructor's execution roles as buttons; with none configured, says so
    and ends the form, since nothing could be started."""

    def run(self, context: ActionContext) -> list[Event]:
        allowed = context.aws.guardrails.allowed_roles()
        if not allowed:
            try:
                context.aws.guardrails.role(None)
            except AwsProblem as problem:
                context.say(problem.student_message)
            return [ActiveLoop(None)]
        question = context.responses.render(f"utter_ask_{self.name.removeprefix('action_ask_')}") or {}
        context.say(question.get("text") or "Which IAM role should SageMaker use?",
                    buttons=[{"title": role.rsplit("/", 1)[-1], "payload": role} for role in allowed])
        return []


def given_name(text: str) -> str | None:
    """The name a request gives its resource: "named X", "called X", "X as the name"."""
    match = _GIVEN_NAME.search(text) or _NAME_FIRST.search(text)
    return match.group(1).rstrip(".!?") or None if match else None


def valid_name(value: Any, context: ActionContext, what: str) -> str | None:
    """A SageMaker resource name, or None after saying why not and suggesting one."""
    text = str(value).strip().strip(" .!\"'`")
    name = checked(context, lambda v: checks.sagemaker_name(v, what), text)
    suggestion = re.sub(r"[^a-zA-Z0-9]+", "-", text).strip("-")[:63]
    if name is None and suggestion and suggestion != text:
        context.say(f"For example \"{suggestion}\".")
    return name


def checked(context: ActionContext, check: Callable[[str], T], value: Any) -> T | None:
    """`check(value)`, or None after telling the student why the value cannot be used."""
    try:
        return check(str(value))
    except AwsProblem as problem:
        context.say(f"Sorry: {problem.student_message}")
        return None


def offer_instance_types(context: ActionContext, question: str, prices: dict[str, float]) -> None:
    """Asks for an instance type with a button per allowed one, priced."""
    context.say(question, buttons=[{"title": f"{name} (about ${price:.3f}/hour)", "payload": name}
                                   for name, price in prices.items()])


def text_answer(value: Any) -> str | None:
    """A typed answer to "which text?": the part in quotes if quoted, else all of it."""
    text = str(value).strip()
    return quoted_text(text) if text[:1] in "\"'“‘" else text or None


def quoted_text(text: str) -> str | None:
    """The text in quotes, or after the first colon: what a student wants analysed."""
    match = _QUOTED.search(text)
    if match:
        return next(group for group in match.groups() if group is not None).strip() or None
    if ":" in text and not text.lstrip().lower().startswith(("http", "s3:")):
        after = text.split(":", 1)[1].strip()
        return after or None
    return None


def named_resource(context: ActionContext, names: list[str], *entities: str) -> str | None:
    """The resource the latest message names: by entity, or one of `names` in the text."""
    for entity in context.entities(*entities):
        return str(entity["value"])
    words = set(re.findall(r"[A-Za-z0-9-]+", context.text))
    return next((name for name in names if name in words), None)


def choose(context: ActionContext, question: str, intent: str, entity: str, names: list[str]) -> None:
    """Asks which one, with a button per resource that repeats the request for it."""
    context.say(question, buttons=[{"title": name, "payload": f"/{intent}{json.dumps({entity: name})}"}
                                   for name in names[:10]])


def hours(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    minutes, secs = divmod(int(seconds), 60)
    hrs, minutes = divmod(minutes, 60)
    return f"{hrs} h {minutes} min" if hrs else f"{minutes} min {secs} s"

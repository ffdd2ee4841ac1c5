"""A student's own SageMaker notebook instance: the setup guide, done for them.

The notebook form asks for a name, an instance type from the instructor's allowlist
and, when the settings name none, an IAM role; each answer is checked the way
SageMaker checks it. Creating and starting cost money, deleting loses the notebook's
files: all three are confirmed first. Students act only on notebooks the bot started
for them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from bot.aws import AwsServices, BillableRequest
from bot.dialogue.actions import Action, ActionContext
from bot.dialogue.events import Event, SlotSet

from .aws_support import (
    PENDING_TARGET,
    AskForRole,
    AwsAction,
    BillableAction,
    ConfirmedAction,
    SageMakerFormValidator,
    checked,
    choose,
    given_name,
    named_resource,
    offer_instance_types,
    valid_name,
)

FORM_SLOTS = ("notebook_name", "notebook_instance_type", "notebook_role")
_LEAD_IN = re.compile(r"^(?:let'?s\s+)?(?:call it|name it|it'?s called|it is called|the name is|name is|name:|"
                      r"call the notebook|name the notebook)\s+", re.IGNORECASE)
INSTANCE_TEXT = re.compile(r"\b(?:ml\.)?([a-z][a-z0-9]*)[.\s-]+(nano|micro|small|medium|large|\d*xlarge)\b",
                           re.IGNORECASE)
NAME_ENTITIES = ("notebook_name", "job_name")
INSTANCE_PATTERN = re.compile(r"^ml\.[a-z][a-z0-9-]*\.[a-z0-9]+$")


def instance_type_from(text: str) -> str:
    """"t3 medium", "ML.T3.Medium" and "ml.t3.medium" all mean ml.t3.medium."""
    match = INSTANCE_TEXT.search(text.strip())
    return f"ml.{match.group(1)}.{match.group(2)}".lower() if match else text.strip().lower()


def allowed_instance_type(value: Any, context: ActionContext, check: Callable[[str], float]) -> str | None:
    """The instance type named in `value` if the guardrail `check` allows it, else None
    after saying why."""
    candidate = instance_type_from(str(value))
    if not INSTANCE_PATTERN.fullmatch(candidate):  # an entity may hold only "t3": read the message
        candidate = instance_type_from(context.text)
    if not INSTANCE_PATTERN.fullmatch(candidate):
        context.say(f"Sorry, \"{value}\" is not a full instance type: give the family and the size, "
                    "like ml.t3.medium.")
        return None
    return candidate if checked(context, check, candidate) is not None else None


class ValidateNotebookForm(SageMakerFormValidator):
    name = "validate_notebook_form"
    role_slot = "notebook_role"

    def extract_notebook_name(self, context: ActionContext) -> str | None:
        return given_name(context.text)

    def validate_notebook_name(self, value: Any, context: ActionContext) -> str | None:
        return valid_name(_LEAD_IN.sub("", str(value).strip()), context, "notebook instance name")

    def validate_notebook_instance_type(self, value: Any, context: ActionContext) -> str | None:
        return allowed_instance_type(value, context, context.aws.guardrails.notebook_instance)

    def validate_notebook_role(self, value: Any, context: ActionContext) -> str | None:
        return self.validate_role(value, context)


class ActionAskNotebookRole(AskForRole):
    name = "action_ask_notebook_role"


class ActionAskNotebookInstanceType(Action):
    """Offers the instructor's allowed instance types, each with its price."""

    name = "action_ask_notebook_instance_type"

    def run(self, context: ActionContext) -> list[Event]:
        offer_instance_types(context, "Which instance type should it run on? Your instructor allows these; the "
                             "first is plenty for the course.", context.aws.settings.notebook_instance_types)
        return []


class ActionCreateNotebook(BillableAction):
    """Runs when the notebook form is complete: confirm, then create."""

    name = "action_create_notebook"

    def plan(self, context: ActionContext, aws: AwsServices, fresh: bool) -> BillableRequest:
        name, instance_type, role = (context.slots.get(slot) for slot in FORM_SLOTS)
        return aws.sagemaker.plan_notebook(name or "", instance_type or "", role, context.sender_id)

    def created(self, context: ActionContext, aws: AwsServices, request: BillableRequest,
                answer: dict[str, Any]) -> list[Event]:
        name = request.params["NotebookInstanceName"]
        context.say(f"Done: {name} is being created on {request.instance_type}. It takes a few minutes; ask "
                    f"\"is my notebook ready?\" and, once it is InService, \"open my notebook\". It is billed "
                    f"while it runs, so say \"stop my notebook\" when you finish.")
        return [SlotSet("topic", "sagemaker_notebook_setup")]


def pick_notebook(context: ActionContext, aws: AwsServices, intent: str, question: str) -> str | None:
    """The notebook the student means: named, their only one, or asked with buttons."""
    mine = [n["NotebookInstanceName"] for n in aws.sagemaker.my_notebooks(context.sender_id)]
    named = named_resource(context, mine, *NAME_ENTITIES)
    if named:
        return named
    if not mine:
        context.say("I haven't started any notebook instance for you. Say \"create a notebook\" to make one.")
        return None
    if len(mine) == 1:
        return mine[0]
    choose(context, question, intent, "notebook_name", mine)
    return None


class ActionNotebookStatus(AwsAction):
    name = "action_notebook_status"

    def run_aws(self, context: ActionContext, aws: AwsServices) -> list[Event]:
        name = pick_notebook(context, aws, "notebook_status", "Which notebook instance?")
        if name:
            notebook = aws.sagemaker.notebook(name, context.sender_id)
            status = notebook["NotebookInstanceStatus"]
            advice = {"InService": "It is running (and billed): say \"open my notebook\" for its link.",
                      "Pending": "It is starting; this takes a few minutes.",
                      "Stopped": "It is stopped and not billed for compute; say \"start my notebook\" to resume.",
                      "Failed": f"It failed: {notebook.get('FailureReason', 'no reason given')}."}
            context.say(f"{name} ({notebook.get('InstanceType')}) is {status}. {advice.get(status, '')}".strip())
        return []


class ActionStartNotebook(BillableAction):
    """Starting a stopped notebook resumes its billing: priced and confirmed like creating one."""

    name = "action_start_notebook"

    def plan(self, context: ActionContext, aws: AwsServices, fresh: bool) -> BillableRequest | None:
        name = pick_notebook(context, aws, "start_notebook", "Which notebook instance should I start?") if fresh \
            else context.slots.get(PENDING_TARGET)
        return aws.sagemaker.plan_start_notebook(name, context.sender_id) if name else None

    def remember(self, context: ActionContext, request: BillableRequest) -> list[Event]:
        return [SlotSet(PENDING_TARGET, request.params["NotebookInstanceName"])]

    def created(self, context: ActionContext, aws: AwsServices, request: BillableRequest,
                answer: dict[str, Any]) -> list[Event]:
        context.say(f"Starting {request.params['NotebookInstanceName']}; it takes a few minutes. Ask \"is my "
                    "notebook ready?\".")
        return [SlotSet(PENDING_TARGET, None)]


class ActionStopNotebook(AwsAction):
    name = "action_stop_notebook"

    def run_aws(self, context: ActionContext, aws: AwsServices) -> list[Event]:
        name = pick_notebook(context, aws, "stop_notebook", "Which notebook instance should I stop?")
        if name:
            aws.sagemaker.stop_notebook(name, context.sender_id)
            context.say(f"Stopping {name}. Its files stay on its volume, and compute billing stops once it is "
                        "Stopped.")
        return []


class ActionDeleteNotebook(ConfirmedAction):
    name = "action_delete_notebook"

    def question(self, context: ActionContext, aws: AwsServices) -> tuple[str | None, list[Event]]:
        name = pick_notebook(context, aws, "delete_notebook", "Which notebook instance should I delete?")
        if not name:
            return None, []
        name = aws.sagemaker.deletable_notebook(name, context.sender_id)
        return (f"Deleting {name} also deletes every file on it, for good. Shall I delete it?",
                [SlotSet(PENDING_TARGET, name)])

    def execute(self, context: ActionContext, aws: AwsServices) -> list[Event]:
        name = context.slots.get(PENDING_TARGET) or ""
        aws.sagemaker.delete_notebook(name, context.sender_id)
        context.say(f"Deleting {name}. It will disappear from the console in a minute.")
        return [SlotSet(PENDING_TARGET, None)]


class ActionOpenNotebook(AwsAction):
    name = "action_open_notebook"

    def run_aws(self, context: ActionContext, aws: AwsServices) -> list[Event]:
        name = pick_notebook(context, aws, "open_notebook", "Which notebook instance should I open?")
        if name:
            url = aws.sagemaker.notebook_url(name, context.sender_id)
            context.say(f"Here is {name}'s Jupyter link (valid for a few minutes, and only for you):",
                        attachment={"type": "link", "payload": {"src": url, "title": f"Open {name}"}})
        return []

"""Training jobs with SageMaker's built-in algorithms (XGBoost, Linear Learner).

The training form collects the algorithm, the S3 training data, the S3 output path,
an allowed instance type and, when the settings name none, an IAM role. The job gets
a generated name, one instance, the instructor's stopping condition and the sender's
tags, and starts only after the student confirms the price.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

from bot.aws import AwsServices, BillableRequest
from bot.dialogue.actions import Action, ActionContext
from bot.dialogue.events import Event, SlotSet

from .aws_support import (
    AskForRole,
    AwsAction,
    BillableAction,
    SageMakerFormValidator,
    checked,
    choose,
    given_name,
    hours,
    named_resource,
    offer_instance_types,
    valid_name,
)
from .notebook import allowed_instance_type

FORM_SLOTS = ("training_algorithm", "training_data", "training_output", "training_instance_type", "training_role")
JOB_NAME = "training_job_name"
ALGORITHM_NAMES = {"xgboost": "xgboost", "xg boost": "xgboost", "linear learner": "linear-learner",
                   "linear-learner": "linear-learner", "linear": "linear-learner"}


class ValidateTrainingForm(SageMakerFormValidator):
    """The job's name is never asked for: one the student gives ("called churn-1") is
    checked and used, otherwise the job gets a generated one."""

    name = "validate_training_form"
    role_slot = "training_role"
    optional_slots = (JOB_NAME,)

    def extract_training_job_name(self, context: ActionContext) -> str | None:
        return given_name(context.text)

    def validate_training_job_name(self, value: Any, context: ActionContext) -> str | None:
        return valid_name(value, context, "training job name")

    def extract_training_data(self, context: ActionContext) -> str | None:
        uris = context.entities("s3_uri")
        return str(uris[0]["value"]) if uris else None

    def extract_training_output(self, context: ActionContext) -> str | None:
        """"train on s3://a/train/ and save to s3://a/out/": the second URI is the output."""
        uris = context.entities("s3_uri")
        return str(uris[1]["value"]) if len(uris) > 1 else None

    def validate_training_algorithm(self, value: Any, context: ActionContext) -> str | None:
        text = str(value).strip().lower()
        allowed = context.aws.settings.algorithms
        name = text if text in allowed else next((v for k, v in ALGORITHM_NAMES.items() if k in text), None)
        if name in allowed:
            return name
        context.say(f"Sorry, I can train with {' or '.join(allowed)}; which one?")
        return None

    def validate_training_data(self, value: Any, context: ActionContext) -> str | None:
        return _s3(value, context)

    def validate_training_output(self, value: Any, context: ActionContext) -> str | None:
        return _s3(value, context)

    def validate_training_instance_type(self, value: Any, context: ActionContext) -> str | None:
        return allowed_instance_type(value, context, context.aws.guardrails.training_instance)

    def validate_training_role(self, value: Any, context: ActionContext) -> str | None:
        return self.validate_role(value, context)


def _s3(value: Any, context: ActionContext) -> str | None:
    location = checked(context, context.aws.guardrails.s3_location, value)
    return location.uri if location else None


class ActionAskTrainingRole(AskForRole):
    name = "action_ask_training_role"


class ActionAskTrainingInstanceType(Action):
    name = "action_ask_training_instance_type"

    def run(self, context: ActionContext) -> list[Event]:
        offer_instance_types(context, "Which instance type should train it? Your instructor allows these:",
                             context.aws.settings.training_instance_types)
        return []


class ActionCreateTrainingJob(BillableAction):
    """Runs when the training form is complete: confirm the price, then start the job."""

    name = "action_create_training_job"

    def plan(self, context: ActionContext, aws: AwsServices, fresh: bool) -> BillableRequest:
        algorithm, data, output, instance_type, role = (context.slots.get(slot) or "" for slot in FORM_SLOTS)
        job_name = context.slots.get(JOB_NAME) or (_job_name(algorithm) if fresh else "")
        return aws.sagemaker.plan_training_job(job_name, algorithm, data, output, instance_type, role or None,
                                               context.sender_id)

    def remember(self, context: ActionContext, request: BillableRequest) -> list[Event]:
        return [SlotSet(JOB_NAME, request.params["TrainingJobName"])]

    def created(self, context: ActionContext, aws: AwsServices, request: BillableRequest,
                answer: dict[str, Any]) -> list[Event]:
        name = request.params["TrainingJobName"]
        context.say(f"Started the training job {name}. Ask \"how is my job doing?\" to follow it; the model "
                    f"will be written under {request.params['OutputDataConfig']['S3OutputPath']}.")
        return [SlotSet(JOB_NAME, None)]

    def after_problem(self, context: ActionContext) -> list[Event]:
        return [SlotSet(JOB_NAME, None)]


def _job_name(algorithm: str) -> str:
    return f"coursebot-{algorithm or 'job'}-{datetime.now(timezone.utc):%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:4]}"


def pick_job(context: ActionContext, aws: AwsServices, intent: str, running_only: bool = False) -> str | None:
    """The job the student means: named, else their latest (or their only running one)."""
    jobs = aws.sagemaker.my_training_jobs(context.sender_id)
    names = [job["TrainingJobName"] for job in jobs]
    named = named_resource(context, names, "job_name")
    if named:
        return named
    if running_only:
        jobs = [job for job in jobs if job["TrainingJobStatus"] == "InProgress"]
    if not jobs:
        context.say("You have no training jobs running that I started." if running_only else
                    "I haven't started any training job for you. Say \"train an xgboost model\" to start one.")
        return None
    if running_only and len(jobs) > 1:
        choose(context, "Which training job should I stop?", intent, "job_name",
               [job["TrainingJobName"] for job in jobs])
        return None
    return jobs[0]["TrainingJobName"]


class ActionTrainingJobStatus(AwsAction):
    name = "action_training_job_status"

    def run_aws(self, context: ActionContext, aws: AwsServices) -> list[Event]:
        name = pick_job(context, aws, "training_job_status")
        if name:
            job = aws.sagemaker.training_job(name, context.sender_id)
            line = (f"{name} is {job['TrainingJobStatus']} ({job.get('SecondaryStatus', 'no detail')}). "
                    f"Elapsed: {hours(job.get('ElapsedSeconds'))}; "
                    f"billable: {hours(job.get('BillableTimeInSeconds'))}.")
            if job.get("FailureReason"):
                line += f" Reason: {job['FailureReason']}."
            if job["TrainingJobStatus"] == "Completed":
                model = job.get("ModelArtifacts", {}).get("S3ModelArtifacts")
                line += f" The model is at {model}." if model else ""
            context.say(line)
        return []


class ActionListTrainingJobs(AwsAction):
    name = "action_list_training_jobs"

    def run_aws(self, context: ActionContext, aws: AwsServices) -> list[Event]:
        jobs = aws.sagemaker.my_training_jobs(context.sender_id)
        if not jobs:
            context.say("I haven't started any training job for you yet.")
            return []
        lines = [f"- {job['TrainingJobName']}: {job['TrainingJobStatus']}" for job in jobs[:20]]
        context.say("Your training jobs, newest first:\n" + "\n".join(lines))
        return []


class ActionStopTrainingJob(AwsAction):
    name = "action_stop_training_job"

    def run_aws(self, context: ActionContext, aws: AwsServices) -> list[Event]:
        name = pick_job(context, aws, "stop_training_job", running_only=True)
        if name:
            aws.sagemaker.stop_training_job(name, context.sender_id)
            context.say(f"Stopping {name}. Billing ends once it has stopped; what it trained so far is not saved.")
        return []

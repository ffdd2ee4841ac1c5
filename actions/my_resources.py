""""What have I started?" and "stop everything I started": the notebook instances and
training jobs tagged with this student's sender id."""

from __future__ import annotations

from bot.aws import AwsProblem, AwsServices
from bot.dialogue.actions import ActionContext
from bot.dialogue.events import Event

from .aws_support import AwsAction, ConfirmedAction

RUNNING_NOTEBOOKS = ("Pending", "InService", "Updating")


def _running(aws: AwsServices, sender_id: str) -> tuple[list[str], list[str]]:
    notebooks = [n["NotebookInstanceName"] for n in aws.sagemaker.my_notebooks(sender_id)
                 if n["NotebookInstanceStatus"] in RUNNING_NOTEBOOKS]
    jobs = [j["TrainingJobName"] for j in aws.sagemaker.my_training_jobs(sender_id)
            if j["TrainingJobStatus"] == "InProgress"]
    return notebooks, jobs


class ActionListMyResources(AwsAction):
    name = "action_list_my_resources"

    def run_aws(self, context: ActionContext, aws: AwsServices) -> list[Event]:
        notebooks = aws.sagemaker.my_notebooks(context.sender_id)
        jobs = aws.sagemaker.my_training_jobs(context.sender_id)
        if not notebooks and not jobs:
            context.say("I haven't started anything for you: no notebook instances, no training jobs.")
            return []
        lines = [f"- notebook instance {n['NotebookInstanceName']} ({n.get('InstanceType')}): "
                 f"{n['NotebookInstanceStatus']}" for n in notebooks]
        lines += [f"- training job {j['TrainingJobName']}: {j['TrainingJobStatus']}" for j in jobs]
        billed = sum(n["NotebookInstanceStatus"] in RUNNING_NOTEBOOKS for n in notebooks) + \
            sum(j["TrainingJobStatus"] == "InProgress" for j in jobs)
        tail = (f"\n{billed} of them may be billing now; say \"stop everything I started\" to stop them."
                if billed else "\nNone of them is running now.")
        context.say("What I started for you:\n" + "\n".join(lines) + tail)
        return []


class ActionStopEverything(ConfirmedAction):
    name = "action_stop_everything"

    def question(self, context: ActionContext, aws: AwsServices) -> tuple[str | None, list[Event]]:
        notebooks, jobs = _running(aws, context.sender_id)
        if not notebooks and not jobs:
            context.say("Nothing I started for you is running, so there is nothing to stop.")
            return None, []
        things = [f"notebook instance {n}" for n in notebooks] + [f"training job {j}" for j in jobs]
        return f"I'll stop {len(things)} thing(s): {', '.join(things)}. Stopped training jobs cannot resume. " \
               "Stop them all?", []

    def execute(self, context: ActionContext, aws: AwsServices) -> list[Event]:
        notebooks, jobs = _running(aws, context.sender_id)
        stopped, failed = [], []
        for name, stop in [*((n, aws.sagemaker.stop_notebook) for n in notebooks),
                           *((j, aws.sagemaker.stop_training_job) for j in jobs)]:
            try:
                stop(name, context.sender_id)
                stopped.append(name)
            except AwsProblem as problem:  # one failure must not keep the rest running
                failed.append(f"{name}: {problem.student_message}")
        if stopped:
            context.say(f"Stopping {', '.join(stopped)}.")
        if failed:
            context.say("I could not stop:\n" + "\n".join(f"- {line}" for line in failed))
        if not stopped and not failed:
            context.say("Everything had already stopped.")
        return []

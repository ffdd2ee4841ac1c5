"""SageMaker for students: notebook instances and training jobs with built-in algorithms.

Anything that starts billing is planned first (`plan_*`), checked against the
guardrails and tagged with the sender, and sent by `submit` only after the student
confirms. Students act only on what the bot started for them.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from bot.aws import checks
from bot.aws.errors import AwsProblem
from bot.aws.guardrails import BillableRequest, Guardrails
from bot.aws.images import training_image
from bot.aws.session import AwsSession

SERVICE = "sagemaker"
RUNNING_NOTEBOOK = ("Pending", "InService", "Updating")
RUNNING_JOB = ("InProgress",)


class SageMakerService:
    def __init__(self, session: AwsSession, guardrails: Guardrails):
        self.session = session
        self.guardrails = guardrails

    # -- planning what costs money -------------------------------------------------------

    def plan_notebook(self, name: str, instance_type: str, role_arn: str | None, sender_id: str) -> BillableRequest:
        name = checks.sagemaker_name(name, "notebook instance name")
        price = self.guardrails.notebook_instance(instance_type)
        params = {"NotebookInstanceName": name, "InstanceType": instance_type,
                  "RoleArn": self.guardrails.role(role_arn), "Tags": self.guardrails.tags(sender_id)}
        return BillableRequest(SERVICE, "CreateNotebookInstance", params,
                               f"create the notebook instance {name} on {instance_type}", instance_type, price)

    def plan_training_job(self, job_name: str, algorithm: str, training_data: str, output_path: str,
                          instance_type: str, role_arn: str | None, sender_id: str) -> BillableRequest:
        job_name = checks.sagemaker_name(job_name, "training job name")
        spec = self.session.settings.algorithms.get(algorithm)
        if spec is None:
            raise AwsProblem(f"I can train with {', '.join(self.session.settings.algorithms)}, not {algorithm}.",
                             "not-allowed")
        train = self.guardrails.s3_location(training_data)
        output = self.guardrails.s3_location(output_path)
        price = self.guardrails.training_instance(instance_type)
        params = {
            "TrainingJobName": job_name,
            "AlgorithmSpecification": {"TrainingImage": training_image(spec, self.session.region),
                                       "TrainingInputMode": "File"},
            "RoleArn": self.guardrails.role(role_arn),
            "InputDataConfig": [{"ChannelName": "train", "ContentType": "text/csv",
                                 "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": train.uri,
                                                                 "S3DataDistributionType": "FullyReplicated"}}}],
            "OutputDataConfig": {"S3OutputPath": output.uri},
            # One instance per job, always: the guardrail is not a setting.
            "ResourceConfig": {"InstanceType": instance_type, "InstanceCount": 1, "VolumeSizeInGB": 10},
            "StoppingCondition": self.guardrails.stopping_condition(),
            "HyperParameters": dict(spec.hyperparameters),
            "Tags": self.guardrails.tags(sender_id),
        }
        return BillableRequest(SERVICE, "CreateTrainingJob", params,
                               f"start the training job {job_name} ({algorithm} on {train.uri}, output to "
                               f"{output.uri}) on one {instance_type}", instance_type, price,
                               self.guardrails.max_training_hours)

    def plan_start_notebook(self, name: str, sender_id: str) -> BillableRequest:
        notebook = self.notebook(name, sender_id)
        name = notebook["NotebookInstanceName"]
        price = self.guardrails.notebook_instance(notebook["InstanceType"])
        return BillableRequest(SERVICE, "StartNotebookInstance", {"NotebookInstanceName": name},
                               f"start the notebook instance {name} ({notebook['InstanceType']})",
                               notebook["InstanceType"], price)

    def submit(self, request: BillableRequest) -> dict[str, Any]:
        """Sends a confirmed request; in dry-run mode returns {"DryRun": True} instead."""
        if self.session.settings.dry_run:
            return {"DryRun": True}
        self.session.require_credentials()
        return self.session.call(request.service, request.operation, **request.params)

    # -- notebook instances -----------------------------------------------------------------

    def notebook(self, name: str, sender_id: str) -> dict[str, Any]:
        """Describes one of the sender's notebook instances."""
        name = checks.sagemaker_name(name, "notebook instance name")
        found = self._call("DescribeNotebookInstance", NotebookInstanceName=name)
        self._require_mine(found["NotebookInstanceArn"], sender_id, f"the notebook instance {name}")
        return {**found, "NotebookInstanceName": name}  # the checked name, for the calls that follow

    def stop_notebook(self, name: str, sender_id: str) -> None:
        name = self.notebook(name, sender_id)["NotebookInstanceName"]
        self._call("StopNotebookInstance", NotebookInstanceName=name)

    def deletable_notebook(self, name: str, sender_id: str) -> str:
        """The sender's notebook's name if SageMaker would delete it now (it is stopped)."""
        notebook = self.notebook(name, sender_id)
        name, status = notebook["NotebookInstanceName"], notebook["NotebookInstanceStatus"]
        if status not in ("Stopped", "Failed"):
            raise AwsProblem(f"{name} is {status}; SageMaker deletes only stopped notebook instances. "
                             f"Say \"stop {name}\" first, then delete it once it has stopped.", "invalid")
        return name

    def delete_notebook(self, name: str, sender_id: str) -> None:
        self._call("DeleteNotebookInstance", NotebookInstanceName=self.deletable_notebook(name, sender_id))

    def notebook_url(self, name: str, sender_id: str) -> str:
        notebook = self.notebook(name, sender_id)
        name, status = notebook["NotebookInstanceName"], notebook["NotebookInstanceStatus"]
        if status != "InService":
            raise AwsProblem(f"{name} is {status}; it can be opened once it is InService.", "invalid")
        return self._call("CreatePresignedNotebookInstanceUrl", NotebookInstanceName=name,
                          SessionExpirationDurationInSeconds=1800)["AuthorizedUrl"]

    # -- training jobs ------------------------------------------------------------------------

    def training_job(self, name: str, sender_id: str) -> dict[str, Any]:
        """Describes one of the sender's training jobs, with its elapsed time in seconds."""
        name = checks.sagemaker_name(name, "training job name")
        job = {**self._call("DescribeTrainingJob", TrainingJobName=name), "TrainingJobName": name}
        self._require_mine(job["TrainingJobArn"], sender_id, f"the training job {name}")
        start = job.get("TrainingStartTime") or job.get("CreationTime")
        end = job.get("TrainingEndTime") or datetime.now(timezone.utc)
        job["ElapsedSeconds"] = max(0, int((end - start).total_seconds())) if start else None
        return job

    def stop_training_job(self, name: str, sender_id: str) -> None:
        job = self.training_job(name, sender_id)
        name, status = job["TrainingJobName"], job["TrainingJobStatus"]
        if status not in RUNNING_JOB:
            raise AwsProblem(f"{name} is already {status}; there is nothing to stop.", "invalid")
        self._call("StopTrainingJob", TrainingJobName=name)

    # -- what the sender started --------------------------------------------------------------

    def my_notebooks(self, sender_id: str) -> list[dict[str, Any]]:
        found = self._paginate("ListNotebookInstances", "NotebookInstances")
        return [n for n in found if self._is_mine(n["NotebookInstanceArn"], sender_id)]

    def my_training_jobs(self, sender_id: str) -> list[dict[str, Any]]:
        found = self._paginate("ListTrainingJobs", "TrainingJobSummaries", SortBy="CreationTime",
                               SortOrder="Descending")
        return [j for j in found if self._is_mine(j["TrainingJobArn"], sender_id)]

    # -- plumbing ---------------------------------------------------------------------------

    def _call(self, operation: str, **params: Any) -> dict[str, Any]:
        self.session.require_credentials()
        return self.session.call(SERVICE, operation, **params)

    def _paginate(self, operation: str, key: str, **params: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        token = None
        while True:
            page = self._call(operation, **params, **({"NextToken": token} if token else {}))
            items += page.get(key, [])
            token = page.get("NextToken")
            if not token:
                return items

    def _is_mine(self, arn: str, sender_id: str) -> bool:
        return self.guardrails.is_mine(self._call("ListTags", ResourceArn=arn).get("Tags", []), sender_id)

    def _require_mine(self, arn: str, sender_id: str, what: str) -> None:
        if not self._is_mine(arn, sender_id):
            raise AwsProblem(f"I did not start {what} for you, so I will not touch it. I only manage what "
                             "I started in this conversation's name.", "not-mine")

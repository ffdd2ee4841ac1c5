"""`coursebot deploy lex`: the bundle and the template to S3, then one CloudFormation stack.

The template is uploaded rather than sent inline because the course bot's is about
280 KB (CloudFormation takes 51,200 bytes inline). The stack is created the first time
and updated after; its events are reported as they happen, and its outputs (the bot's
ids) at the end. The function's secret key (the `SecretKey` parameter) is made here when
the stack is created and kept on every update, so the tags on what the bot started stay
its own. Every call goes through the `bot.aws` session, so errors are sentences.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bot.aws.errors import AwsProblem
from bot.aws.session import AwsSession

DONE = ("CREATE_COMPLETE", "UPDATE_COMPLETE")
FAILED = ("CREATE_FAILED", "ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "UPDATE_ROLLBACK_COMPLETE",
          "UPDATE_ROLLBACK_FAILED", "DELETE_COMPLETE", "DELETE_FAILED")
CAPABILITIES = ["CAPABILITY_IAM"]
SECRET_PARAMETER = "SecretKey"


@dataclass(frozen=True)
class DeployPlan:
    stack: str
    bucket: str
    bundle: Path
    template: Path
    execution_role: str
    image_bucket: str
    prefix: str = "coursebot"

    @property
    def bundle_key(self) -> str:
        return f"{self.prefix}/lambda-{_digest(self.bundle)}.zip"

    @property
    def template_key(self) -> str:
        return f"{self.prefix}/template-{_digest(self.template)}.json"

    def describe(self) -> list[str]:
        return [f"upload {self.bundle} to s3://{self.bucket}/{self.bundle_key}",
                f"upload {self.template} to s3://{self.bucket}/{self.template_key}",
                f"create or update the CloudFormation stack {self.stack} (capabilities: {', '.join(CAPABILITIES)}) "
                f"with CodeBucket={self.bucket} CodeKey={self.bundle_key} ExecutionRoleArn={self.execution_role} "
                f"ImageBucket={self.image_bucket} {SECRET_PARAMETER}=(made on create, kept on updates)",
                "wait for it, printing its events, then print the bot's ids"]


@dataclass
class DeployResult:
    action: str
    status: str
    outputs: dict[str, str] = field(default_factory=dict)


class LexDeployer:
    def __init__(self, session: AwsSession, on_event: Callable[[str], None] = print, poll_seconds: float = 5.0,
                 timeout_seconds: float = 1800.0):
        self.session = session
        self.on_event = on_event
        self.poll_seconds = poll_seconds
        self.timeout_seconds = timeout_seconds

    def deploy(self, plan: DeployPlan) -> DeployResult:
        """Raises AwsProblem for a failed call or a stack that ends failed or rolled back."""
        self.session.require_credentials()
        for path, key in ((plan.bundle, plan.bundle_key), (plan.template, plan.template_key)):
            self.session.call("s3", "PutObject", Bucket=plan.bucket, Key=key, Body=path.read_bytes())
            self.on_event(f"uploaded s3://{plan.bucket}/{key}")
        existing = self._existing(plan.stack)
        action = "update" if existing is not None else "create"
        arguments = {"StackName": plan.stack, "Capabilities": CAPABILITIES,
                     "TemplateURL": f"https://{plan.bucket}.s3.amazonaws.com/{plan.template_key}",
                     "Parameters": [{"ParameterKey": "CodeBucket", "ParameterValue": plan.bucket},
                                    {"ParameterKey": "CodeKey", "ParameterValue": plan.bundle_key},
                                    {"ParameterKey": "ExecutionRoleArn", "ParameterValue": plan.execution_role},
                                    {"ParameterKey": "ImageBucket", "ParameterValue": plan.image_bucket},
                                    _secret_key(existing)],
                     "Tags": [{"Key": "created-by", "Value": "coursebot"}]}
        started = time.time()
        try:
            self.session.call("cloudformation", "UpdateStack" if action == "update" else "CreateStack", **arguments)
        except AwsProblem as problem:
            if "No updates are to be performed" in problem.student_message:
                self.on_event(f"{plan.stack} is already up to date")
                return DeployResult("none", "UPDATE_COMPLETE", self._outputs(plan.stack)[1])
            raise
        self.on_event(f"{action} of the stack {plan.stack} started")
        status = self._wait(plan.stack, started)
        status, outputs = self._outputs(plan.stack)
        if status not in DONE:
            raise AwsProblem(f"The stack {plan.stack} ended {status}; its events above say why.", "deploy-failed")
        return DeployResult(action, status, outputs)

    def _existing(self, stack: str) -> dict | None:
        """The stack as DescribeStacks says it is, or None when there is none to update."""
        try:
            found = self.session.call("cloudformation", "DescribeStacks", StackName=stack)["Stacks"]
        except AwsProblem as problem:
            if problem.code in ("not-found", "invalid") and "does not exist" in problem.student_message:
                return None
            raise
        return found[0] if found and found[0]["StackStatus"] != "DELETE_COMPLETE" else None

    def _wait(self, stack: str, started: float) -> str:
        seen: set[str] = set()
        while True:
            events = self.session.call("cloudformation", "DescribeStackEvents", StackName=stack)["StackEvents"]
            for event in reversed(events):
                if event["EventId"] in seen or event["Timestamp"].timestamp() < started - 60:
                    continue
                seen.add(event["EventId"])
                reason = f" ({event['ResourceStatusReason']})" if event.get("ResourceStatusReason") else ""
                self.on_event(f"{event['LogicalResourceId']}: {event['ResourceStatus']}{reason}")
            status = self._outputs(stack)[0]
            if status in DONE or status in FAILED or status.endswith("_FAILED"):
                return status
            if time.time() - started > self.timeout_seconds:
                raise AwsProblem(f"The stack {stack} is still {status} after {self.timeout_seconds / 60:.0f} "
                                 "minutes; follow it in the CloudFormation console.", "timeout")
            time.sleep(self.poll_seconds)

    def _outputs(self, stack: str) -> tuple[str, dict[str, str]]:
        found = self.session.call("cloudformation", "DescribeStacks", StackName=stack)["Stacks"][0]
        return found["StackStatus"], {o["OutputKey"]: o["OutputValue"] for o in found.get("Outputs", [])}


def _secret_key(existing: dict | None) -> dict:
    """The stack's key if it has one (CloudFormation keeps it; it is never read back here),
    else a new one: 64 hex digits."""
    if existing is not None and any(p.get("ParameterKey") == SECRET_PARAMETER for p in existing.get("Parameters", [])):
        return {"ParameterKey": SECRET_PARAMETER, "UsePreviousValue": True}
    return {"ParameterKey": SECRET_PARAMETER, "ParameterValue": secrets.token_hex(32)}


def _digest(path: Path) -> str:
    """Content-addressed keys: a changed bundle gets a new key, so Lambda sees new code."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]

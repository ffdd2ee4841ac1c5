"""The instructor's limits on anything that costs money, applied before a request exists.

Billable requests are planned first and sent only after the student confirms: the plan
carries the exact request (what dry-run mode shows), the instance type from the
allowlist, its estimated hourly price, and the tags that let the bot find what each
student started. A sender id is not a secret and tags are not private (anyone allowed
`sagemaker:ListTags` reads them), so the owner tag is a keyed hash of the sender id
(bot/server_key.py), which cannot be traced back to a student or forged for one.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from bot.aws import checks
from bot.aws.errors import AwsProblem
from bot.aws.settings import AwsSettings
from bot.server_key import keyed_hash, server_key

log = logging.getLogger("coursebot.aws")

CREATED_BY = ("created-by", "coursebot")
SENDER_TAG = "coursebot:owner"
TAG_PURPOSE = "aws-owner-tag"


@dataclass(frozen=True)
class BillableRequest:
    """A request that costs money, checked and tagged, waiting for the student's yes."""

    service: str
    operation: str
    params: dict[str, Any]
    summary: str
    instance_type: str
    hourly_price: float
    max_hours: float | None = None

    def price_sentence(self) -> str:
        sentence = f"{self.instance_type} costs about ${self.hourly_price:.3f} per hour"
        if self.max_hours is not None:
            sentence += (f"; it stops after at most {self.max_hours:g} hour(s), so at most about "
                         f"${self.hourly_price * self.max_hours:.2f}")
        else:
            sentence += " while it runs (stop it when you are done)"
        return sentence

    def as_json(self) -> str:
        return json.dumps({"Operation": f"{self.service}:{self.operation}", **self.params}, indent=2)


class Guardrails:
    """`key` gives the server's secret key (by default the project's, made on first use)."""

    def __init__(self, settings: AwsSettings, key: Callable[[], bytes] | None = None):
        self.settings = settings
        self._key = key or (lambda: server_key(settings.project_root))

    def notebook_instance(self, instance_type: str) -> float:
        return self._allowed(instance_type, self.settings.notebook_instance_types, "notebook instances")

    def training_instance(self, instance_type: str) -> float:
        return self._allowed(instance_type, self.settings.training_instance_types, "training jobs")

    def allowed_notebook_types(self) -> list[str]:
        return list(self.settings.notebook_instance_types)

    def allowed_training_types(self) -> list[str]:
        return list(self.settings.training_instance_types)

    def allowed_roles(self) -> tuple[str, ...]:
        """The execution roles the instructor allows: the one `role_arn`, or `role_arns`."""
        return (self.settings.role_arn,) if self.settings.role_arn else self.settings.role_arns

    def role(self, role_arn: str | None) -> str:
        """The execution role to use: the instructor's only one, or the student's pick among
        the instructor's; a role a student types is never taken on trust (PassRole to an
        admin role, or to another account's, would be the student's privilege escalation)."""
        allowed = self.allowed_roles()
        if not allowed:
            raise AwsProblem("Your instructor has not set up a SageMaker execution role for me yet ('aws: role_arn' "
                             "in coursebot.yml), so I can't start this.", "no-role")
        if role_arn is None and len(allowed) == 1:
            return allowed[0]
        role = checks.role_arn(str(role_arn or ""))
        if role not in allowed:
            raise AwsProblem(f"That role is not one your instructor allows. Pick one of: {', '.join(allowed)}.",
                             "not-allowed")
        return role

    def s3_location(self, uri: str) -> checks.S3Location:
        """An S3 URI inside a bucket or prefix the instructor allows."""
        location = checks.s3_uri(uri)
        prefixes = self.settings.s3_prefixes
        if not prefixes:
            raise AwsProblem("Your instructor has not named an S3 bucket I may use ('aws: s3_prefixes' in "
                             "coursebot.yml), so I can't read or write S3 here.", "not-allowed")
        candidate = location.uri if location.uri.endswith("/") else location.uri + "/"
        if not any(candidate.startswith(prefix) for prefix in prefixes):
            raise AwsProblem(f"I may only use these S3 locations: {', '.join(prefixes)}; "
                             f"{location.uri} is not inside them.", "not-allowed")
        return location

    def stopping_condition(self) -> dict[str, int]:
        return {"MaxRuntimeInSeconds": self.settings.max_training_minutes * 60}

    @property
    def max_training_hours(self) -> float:
        return self.settings.max_training_minutes / 60

    def tags(self, sender_id: str) -> list[dict[str, str]]:
        return [{"Key": CREATED_BY[0], "Value": CREATED_BY[1]}, {"Key": SENDER_TAG, "Value": self.owner(sender_id)}]

    def owner(self, sender_id: str) -> str:
        """The owner tag's value for a sender: a keyed hash, never the id itself."""
        try:
            return keyed_hash(self._key(), sender_id, TAG_PURPOSE)
        except (OSError, ValueError) as error:
            log.error("the server key is unusable: %s; set COURSEBOT_SECRET_KEY or make .coursebot/secret.key "
                      "writable", error)
            raise AwsProblem("I can't act on AWS here: the bot's secret key is not set up. Ask your instructor.",
                             "no-key") from None

    def is_mine(self, tags: list[dict[str, str]], sender_id: str) -> bool:
        values = {tag.get("Key"): tag.get("Value") for tag in tags}
        return values.get(CREATED_BY[0]) == CREATED_BY[1] and values.get(SENDER_TAG) == self.owner(sender_id)

    @staticmethod
    def _allowed(instance_type: str, prices: dict[str, float], what: str) -> float:
        if instance_type not in prices:
            newer = newer_equivalent(instance_type, prices)
            if newer is not None:  # the notes' ml.t2.medium, where the course allows ml.t3.medium
                raise AwsProblem(f"{instance_type} is not allowed for {what} in this course, but its newer "
                                 f"equivalent {newer} is (about ${prices[newer]:.3f}/hour): say {newer} to use it.",
                                 "not-allowed")
            allowed = ", ".join(f"{name} (about ${price:.3f}/hour)" for name, price in prices.items())
            raise AwsProblem(f"{instance_type} is not allowed for {what} in this course. "
                             f"Your instructor allows: {allowed}.", "not-allowed")
        return prices[instance_type]


_INSTANCE = re.compile(r"^ml\.([a-z]+)(\d+)([a-z]*)\.(\w+)$")


def newer_equivalent(instance_type: str, allowed: Iterable[str]) -> str | None:
    """The allowed type of the same family and size but a later generation ("ml.t2.medium"
    -> "ml.t3.medium"), the oldest such one; None if there is none."""
    asked = _INSTANCE.match(instance_type)
    if asked is None:
        return None
    family, generation, size = asked.group(1), int(asked.group(2)), asked.group(4)
    newer = [(int(m.group(2)), name) for name in allowed if (m := _INSTANCE.match(name))
             and m.group(1) == family and m.group(4) == size and int(m.group(2)) > generation]
    return min(newer)[1] if newer else None

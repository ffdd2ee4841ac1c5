"""The instructor's limits on anything that costs money, applied before a request exists.

Billable requests are planned first and sent only after the student confirms: the plan
carries the exact request (what dry-run mode shows), the instance type from the
allowlist, its estimated hourly price, and the tags that let the bot find what each
student started.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from bot.aws.errors import AwsProblem
from bot.aws.settings import AwsSettings

CREATED_BY = ("created-by", "coursebot")
SENDER_TAG = "coursebot:sender"
# SageMaker tag values: letters, digits, spaces and _ . : / = + - @, at most 256.
_TAG_VALUE = re.compile(r"^[\w .:/=+\-@]{1,256}$", re.ASCII)


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
    def __init__(self, settings: AwsSettings):
        self.settings = settings

    def notebook_instance(self, instance_type: str) -> float:
        return self._allowed(instance_type, self.settings.notebook_instance_types, "notebook instances")

    def training_instance(self, instance_type: str) -> float:
        return self._allowed(instance_type, self.settings.training_instance_types, "training jobs")

    def allowed_notebook_types(self) -> list[str]:
        return list(self.settings.notebook_instance_types)

    def allowed_training_types(self) -> list[str]:
        return list(self.settings.training_instance_types)

    def stopping_condition(self) -> dict[str, int]:
        return {"MaxRuntimeInSeconds": self.settings.max_training_minutes * 60}

    @property
    def max_training_hours(self) -> float:
        return self.settings.max_training_minutes / 60

    def tags(self, sender_id: str) -> list[dict[str, str]]:
        return [{"Key": CREATED_BY[0], "Value": CREATED_BY[1]}, {"Key": SENDER_TAG, "Value": sender_tag(sender_id)}]

    @staticmethod
    def _allowed(instance_type: str, prices: dict[str, float], what: str) -> float:
        if instance_type not in prices:
            allowed = ", ".join(f"{name} (about ${price:.3f}/hour)" for name, price in prices.items())
            raise AwsProblem(f"{instance_type} is not allowed for {what} in this course. "
                             f"Your instructor allows: {allowed}.", "not-allowed")
        return prices[instance_type]


def sender_tag(sender_id: str) -> str:
    """The sender id as a tag value: itself when SageMaker accepts it, else a stable hash."""
    if _TAG_VALUE.fullmatch(sender_id):
        return sender_id
    return "sha256:" + hashlib.sha256(sender_id.encode("utf-8")).hexdigest()[:40]


def is_mine(tags: list[dict[str, str]], sender_id: str) -> bool:
    values = {tag.get("Key"): tag.get("Value") for tag in tags}
    return values.get(CREATED_BY[0]) == CREATED_BY[1] and values.get(SENDER_TAG) == sender_tag(sender_id)

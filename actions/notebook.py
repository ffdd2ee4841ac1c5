"""The notebook form: the settings of a student's own SageMaker notebook instance.

The form asks for a name and an instance type, checks each answer against what
SageMaker accepts, and ends with the exact settings to enter in the console.
"""

from __future__ import annotations

import re
from typing import Any

from bot.dialogue.actions import Action, ActionContext
from bot.dialogue.events import Event, SlotSet
from bot.dialogue.forms import FormValidator

FORM_SLOTS = ("notebook_name", "notebook_instance_type")
# SageMaker's NotebookInstanceName: letters, digits and hyphens, no leading or trailing
# hyphen, at most 63 characters.
NAME_PATTERN = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9])*$")
NAME_MAX = 63
_LEAD_IN = re.compile(r"^(?:let'?s\s+)?(?:call it|name it|it'?s called|it is called|the name is|name is|name:|"
                      r"call the notebook|name the notebook)\s+", re.IGNORECASE)
INSTANCE_PATTERN = re.compile(r"^ml\.[a-z][a-z0-9]*\.[a-z0-9]+$")
_INSTANCE_TEXT = re.compile(r"\b(?:ml\.)?([a-z][a-z0-9]*)[.\s-]+(nano|micro|small|medium|large|\d*xlarge)\b",
                            re.IGNORECASE)


class ValidateNotebookForm(FormValidator):
    name = "validate_notebook_form"

    def validate_notebook_name(self, value: Any, context: ActionContext) -> str | None:
        text = _LEAD_IN.sub("", str(value).strip()).strip(" .!\"'`")
        if NAME_PATTERN.fullmatch(text) and len(text) <= NAME_MAX:
            return text
        if len(text) > NAME_MAX:
            reason = f"that name has {len(text)} characters; SageMaker allows at most {NAME_MAX}"
        else:
            suggestion = re.sub(r"[^a-zA-Z0-9]+", "-", text).strip("-")[:NAME_MAX]
            reason = "a notebook name may only have letters, digits and hyphens (no spaces), " \
                     "and cannot start or end with a hyphen"
            if suggestion:
                reason += f", for example \"{suggestion}\""
        context.say(f"Sorry, {reason}.")
        return None

    def validate_notebook_instance_type(self, value: Any, context: ActionContext) -> str | None:
        text = str(value).strip().lower()
        match = _INSTANCE_TEXT.search(text)
        candidate = f"ml.{match.group(1)}.{match.group(2)}".lower() if match else text
        if INSTANCE_PATTERN.fullmatch(candidate):
            return candidate
        context.say(f"Sorry, \"{value}\" is not a full instance type: give the family and the size, "
                    "like ml.t3.medium.")
        return None


class ActionNotebookSettings(Action):
    """What the form collected, as the settings to enter in the SageMaker console."""

    name = "action_notebook_settings"

    def run(self, context: ActionContext) -> list[Event]:
        name, instance_type = (context.slots.get(slot) for slot in FORM_SLOTS)
        context.say(
            f"Here are the settings for your notebook instance:\n"
            f"- Notebook instance name: {name}\n"
            f"- Instance type: {instance_type}\n"
            "- IAM role: \"Create a new role\" with access to \"Any S3 bucket\" (or an existing role "
            "that can read your S3 buckets)\n"
            "In the SageMaker console, open Notebook instances > Create notebook instance, enter these, "
            "and click Create notebook instance. Say \"setup guide\" to go through every step.")
        return [SlotSet("topic", "sagemaker_notebook_setup")]

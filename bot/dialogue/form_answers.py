"""The requested slot wins: inside a form, a message that checks out as the answer to
the question the form just asked fills that slot, whatever the intent classifier says.

A role ARN may read to the classifier like a request to find personal data, and
"ml.t3.medium" like a question about a term; both answer the question the student was
just asked. Whether they do is decided by the form's own validator (`validate_<slot>`),
run silently, not by a confidence that differs from one training run to the next.
Only an explicit change of mind (a phrase the project lists, such as "cancel") or a
clear question leaves the message to its intent. Slots whose validator has no check of
their own keep the domain's mappings alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.dialogue.actions import ActionContext
from bot.dialogue.domain import REQUESTED_SLOT, Domain
from bot.dialogue.events import SlotSet
from bot.dialogue.forms import FormValidator
from bot.dialogue.slot_filling import candidate
from bot.dialogue.tracker import Tracker

_QUESTION = re.compile(
    r"\?\s*$|^\s*(?:what|what's|whats|how|why|which|when|where|who|whose|is|are|can|could|does|do|did|"
    r"should|would|will|explain|tell me|describe)\b", re.IGNORECASE)


def is_question(text: str) -> bool:
    """A clear question: it ends with "?" or opens as questions do."""
    return bool(_QUESTION.search(text))


def requested_answer(tracker: Tracker, domain: Domain, validator: FormValidator | None,
                     context: Callable[[], ActionContext], explicit_intent: str | None) -> SlotSet | None:
    """The SlotSet for the form's requested slot when the latest message answers it
    (and no mapping filled it already), else None.

    `context` makes a throwaway action context for the silent check; `explicit_intent`
    is what the message explicitly means, if anything (such a message is never an answer).
    """
    form, slot = tracker.active_loop, tracker.slots.get(REQUESTED_SLOT)
    user = tracker.latest_message
    if not form or not slot or user is None or validator is None or explicit_intent is not None:
        return None
    if not hasattr(validator, f"validate_{slot}") or is_question(user.text):
        return None
    if any(isinstance(e, SlotSet) and e.name == slot for e in tracker.events_since_user()):
        return None
    value = candidate(domain, user, slot, form, slot)
    if value is None:
        return None
    probe = context()
    if validator.validate(slot, value, probe) is None:
        return None
    return SlotSet(slot, value)

"""A question is answered, never acted on.

"how long is the AWS Educate course?" may read to the NLU like a request about the
student's training job; answering it with "AWS credentials are not configured" helps no
one. When a message the NLU reads as an intent it may confuse with a course question (the
project lists them: `answers: reroute_intents` in coursebot.yml, the AWS actions and
"what can you do") is shaped as a question, is not a request ("can you create my
notebook?", "analyse 'this text'"), and the course answers it with confidence, it becomes
a question about the course. A question about the student's own things is never rerouted ("is my notebook ready?",
"what objects are in my picture?"); `answers: own_resource_intents` lists the read-only
intents that, asked about things in general ("what status does a new notebook start
in?"), are the course's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot.dialogue.form_answers import is_question

# A request, even when worded as a question: a polite one ("can you create ...", "please"),
# one about what the student started, or one carrying something to act on (a quoted text,
# an S3 URI, an image file).
_REQUEST = re.compile(r"^\s*(?:can|could|would|will)\s+(?:you|u)\b|\bplease\b|\bpls\b"
                      r"|^\s*i\s+(?:want|need|would like)\b"
                      r"|\b(?:what|which)\b.{0,30}\bi(?:'ve| have)?\s+(?:started|created|made|running)\b"
                      r"|[\"“‘]|(?<!\w)'\w|s3://|\.(?:jpe?g|png)\b", re.IGNORECASE)


# "what does 'identify features and labels' mean?": the quotes name a term of the course.
_ABOUT_A_TERM = re.compile(r"^\W*(?:what\s+(?:does|do|is|are)|what's|whats|define|explain|meaning of)\b[^?]*[\"'“‘][^\"'”’]+"
                           r"[\"'”’][^?]*(?:\bmean\b|\?)", re.IGNORECASE)
_OWN = re.compile(r"\b(?:my|mine|me)\b", re.IGNORECASE)
_WHAT_NOW = re.compile(r"\b(?:what\s+(?:now|next)|now what|what do i do (?:now|next)|what should i do)\b",
                       re.IGNORECASE)


@dataclass(frozen=True)
class QuestionRouting:
    reroute_intents: tuple[str, ...] = ()
    own_resource_intents: tuple[str, ...] = ()
    answer_intent: str | None = None   # the question intent such a message becomes

    def route(self, text: str, parse: dict[str, Any], answers: Any, earlier: str = "") -> dict[str, Any]:
        """`earlier`: the question the last answer answered, for a follow-up ("images only?")."""
        intent = (parse.get("intent") or {}).get("name")
        request = _REQUEST.search(text) and not _ABOUT_A_TERM.search(text)
        if answers is None or self.answer_intent is None or not is_question(text) or request:
            return parse
        # "what objects are in my picture?", "is my notebook ready?": about the student's own
        # things, so the action's, whatever the course says about pictures or notebooks.
        # "my notebook says InService, what now?" reports where the student is and asks the course.
        if (_OWN.search(text) and not _WHAT_NOW.search(text)) or intent not in (*self.reroute_intents,
                                                                                 *self.own_resource_intents):
            return parse
        answer = answers.answer(text)
        if (answer.declined or answer.support < answers.strong) and earlier and len(text.split()) <= 8:
            answer = answers.answer(f"{earlier} {text}")
        if answer.declined or answer.support < answers.strong:
            return parse
        top = {"name": self.answer_intent, "confidence": (parse.get("intent") or {}).get("confidence", 0.0)}
        return {**parse, "intent": top, "routed_from": intent,
                "intent_ranking": [top, *(r for r in parse.get("intent_ranking") or []
                                          if r.get("name") != top["name"])]}

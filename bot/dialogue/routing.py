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

from bot.dialogue.answering import asks_what_next, points_into_list
from bot.dialogue.form_answers import is_question
from bot.nlu.message import LEANS_OUT_OF_SCOPE

# A request, even when worded as a question: a polite one ("can you create ...", "please"),
# one about what the student started, or one carrying something to act on (a quoted text,
# an S3 URI, an image file).
_REQUEST = re.compile(r"^\s*(?:can|could|would|will)\s+(?:you|u)\b|\bplease\b|\bpls\b"
                      r"|^\s*i\s+(?:want|need|would like)\b"
                      r"|\b(?:what|which)\b.{0,30}\bi(?:'ve| have)?\s+(?:started|created|made|running)\b"
                      r"|[\"“‘]|(?<!\w)'\w|s3://|\.(?:jpe?g|png)\b", re.IGNORECASE)


# "what's the sentiment of a text?", "what objects are in a picture?": a question about
# something the student has to hand (it asks for the action's result), unless it asks which
# service or how ("which service finds the sentiment of a text?" is the course's).
_ACTS_ON = re.compile(r"\b(?:a|an|this|that|my|some|the following)\s+(?:text|sentence|review|tweet|message|paragraph|"
                      r"document|picture|photo|image|pic|file)s?\b", re.IGNORECASE)
_ABOUT_TOOLS = re.compile(r"\b(?:which|services?|tools?|how|amazon|aws|course)\b", re.IGNORECASE)

# "what does 'identify features and labels' mean?": the quotes name a term of the course;
# "where is 'Notebook instances'?": a label on the screen the course describes.
_ABOUT_A_TERM = re.compile(r"^\W*(?:(?:what\s+(?:does|do|is|are)|what's|whats|define|explain|meaning of)\b[^?]*[\"'“‘]"
                           r"[^\"'”’]+[\"'”’][^?]*(?:\bmean\b|\?)|(?:where|how)\b)", re.IGNORECASE)
# "name the three problem types", "list the stages", "link to the ML blog": asking, though
# not worded as a question
_ASKING = re.compile(r"^\W*(?:name|list|define|give me|show me|(?:the\s+)?(?:link|url|website)s?\s+(?:to|for|of))\b",
                     re.IGNORECASE)
# "besides the videos is there a project or an exam or something": a question that does not
# open as one ("hey can you start my notebook" is a request: "you" does it)
_ASKS_INSIDE = re.compile(r"\b(?:is|are)\s+there\b|\b(?:do|can|should|must)\s+(?:i|we)\s+(?!want\b)\w+", re.IGNORECASE)
_OWN = re.compile(r"\b(?:my|mine|me)\b(?!\s+own\b)", re.IGNORECASE)
# "can I link a git repo to my notebook?", "how do I break out my instances?": how to do a
# thing, which the course explains, not a look at the student's own; nor "my notebook says
# Pending, is something wrong?", which reports where the student is.
_HOW_TO = re.compile(r"^\W*(?:(?:how|where|when)\s+(?:do|can|should|would)\s+i|can\s+i|should\s+i|do\s+i\s+(?:need|have)"
                     r")\b|\b(?:says|shows|showing)\b", re.IGNORECASE)


# The parse key that marks a question the NLU read as a request ("how do I stop my notebook
# instance?" as stopping it): its answer must say that doing (actions/concepts.py).
ROUTED_FROM_REQUEST = "routed_from_request"


@dataclass(frozen=True)
class QuestionRouting:
    reroute_intents: tuple[str, ...] = ()
    own_resource_intents: tuple[str, ...] = ()
    answer_intent: str | None = None   # the question intent such a message becomes
    out_of_scope_intent: str | None = None  # the intent a message leaning out of scope becomes

    @classmethod
    def for_answers(cls, settings: Any) -> QuestionRouting:
        """The routing `coursebot.yml`'s `answers:` section describes (an `AnswerSettings`)."""
        return cls(settings.reroute_intents, settings.own_resource_intents,
                   settings.question_intents[0] if settings.question_intents else None,
                   settings.out_of_scope_intents[0] if settings.out_of_scope_intents else None)

    def out_of_scope_if_leaning(self, parse: dict[str, Any]) -> dict[str, Any]:
        """A message the NLU gave a course intent but marked as leaning out of scope ("how
        do I label my images with SageMaker Ground Truth?") is out of scope here, and its
        action answers it only where the course's notes clearly do. Its own intent stays in
        the ranking and in `routed_from`."""
        intent = (parse.get("intent") or {}).get("name")
        if not parse.get(LEANS_OUT_OF_SCOPE) or self.out_of_scope_intent in (None, intent):
            return parse
        ranking = parse.get("intent_ranking") or []
        share = sum(r.get("confidence", 0.0) for r in ranking if r.get("name") == self.out_of_scope_intent)
        top = {"name": self.out_of_scope_intent, "confidence": round(share, 4)}
        return {**parse, "intent": top, "routed_from": intent,
                "intent_ranking": [top, *(r for r in ranking if r.get("name") != top["name"])]}

    def route(self, text: str, parse: dict[str, Any], answers: Any, earlier: str = "", listed: bool = False
              ) -> dict[str, Any]:
        """`earlier`: the question the last answer answered, for a follow-up ("images only?");
        `listed`: whether a list was shown, so that "the second one?" is a question about it."""
        intent = (parse.get("intent") or {}).get("name")
        if listed and answers is not None and self.answer_intent is not None and points_into_list(text):
            return self._as_question(parse, intent)
        request = ((_REQUEST.search(text) and not _ABOUT_A_TERM.search(text))
                   or (_ACTS_ON.search(text) and not _ABOUT_TOOLS.search(text)))
        if self.answer_intent is None or not (is_question(text) or _ASKING.search(text) or _ASKS_INSIDE.search(text)) \
                or request:
            return parse
        # "what objects are in my picture?", "is my notebook ready?": about the student's own
        # things, so the action's, whatever the course says about pictures or notebooks.
        # "my notebook says InService, what now?" reports where the student is and asks the course.
        if _OWN.search(text) and not asks_what_next(text) and not _HOW_TO.search(text):
            return parse
        parse = self._questions_guessed(parse, intent)
        if answers is None or intent not in (*self.reroute_intents, *self.own_resource_intents):
            return parse
        # Said at a step ("status is InService, what now?"), a close passage is enough: the
        # student asks the course's way on, whatever the status check makes of it.
        enough = answers.floor if asks_what_next(text) else answers.strong
        answer = answers.answer(text)
        if (answer.declined or answer.support < enough) and earlier and len(text.split()) <= 8:
            answer = answers.answer(f"{earlier} {text}")
        # Close to the course yet declined ("when is the final evaluation due?": the notes
        # name it, but give no date): still a question, which the course says it does not answer.
        if answer.support < enough or (answer.declined and answer.support < answers.strong):
            return parse
        return self._as_question(parse, intent, request=intent in self.reroute_intents)

    def _as_question(self, parse: dict[str, Any], intent: str | None, request: bool = False) -> dict[str, Any]:
        """`request`: the NLU read the question as a request to act (ROUTED_FROM_REQUEST)."""
        top = {"name": self.answer_intent, "confidence": (parse.get("intent") or {}).get("confidence", 0.0)}
        return {**parse, "intent": top, "routed_from": intent, **({ROUTED_FROM_REQUEST: True} if request else {}),
                "intent_ranking": [top, *(r for r in parse.get("intent_ranking") or []
                                          if r.get("name") != top["name"])]}

    def _questions_guessed(self, parse: dict[str, Any], intent: str | None) -> dict[str, Any]:
        """A question's runner-up guesses, as "Did you mean...?" offers them, are never
        actions: the student asked something, so only what they could have asked is offered."""
        actions = {*self.reroute_intents, *self.own_resource_intents}
        ranking = [r for r in parse.get("intent_ranking") or [] if r.get("name") == intent
                   or r.get("name") not in actions]
        return {**parse, "intent_ranking": ranking} if "intent_ranking" in parse else parse

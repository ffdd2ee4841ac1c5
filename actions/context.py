"""Follow-ups that lean on what was just said: "tell me more", "why?", "and P3?",
"next", "back" and "repeat".

The `topic` slot holds the knowledge entry last talked about (every answering action
sets it), `guide_step` the setup-guide step last shown; the tracker holds the rest.
"""

from __future__ import annotations

import re

from bot.dialogue.actions import Action, ActionContext
from bot.dialogue.answering import (
    LAST_ANSWER,
    ask,
    asks_what_next,
    engine_answers,
    last_answer,
    say_answer,
)
from bot.dialogue.events import ActionExecuted, BotUttered, Event, SlotSet
from bot.knowledge.answers import Answer
from bot.knowledge.entry import Entry
from bot.knowledge.passages import NOTE

from .setup_guide import show_step, walk_guide
from .topics import main_topic, remember, topics

# Actions that answer a question about a topic, and so can be re-asked with another one.
REASKABLE = ("action_answer_concept", "action_give_example", "action_compare", "action_tell_more",
             "action_explain_why", "action_list_pipeline", "action_next_stage", "action_previous_stage")
_REASON = re.compile(r"\b(because|so that|so you|so the|which means|helps?|matters?|important|"
                     r"the right choice|in order to|to avoid|otherwise|lets you|allows?|prevents?)\b", re.IGNORECASE)
# "tell me more", "and?", "go on about it": asking for more and nothing else
_MORE_ONLY = re.compile(r"\b(?:and|so|ok(?:ay)?|tell|me|us|more|about|it|that|this|them|those|what|else|go|on|"
                        r"please|pls|continue|keep|going|details?|explain|further|anything|something|can|could|"
                        r"you|say|the|a|is|there|any)\b", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def current_topic(context: ActionContext) -> Entry | None:
    """The entry named in the latest message, else the one talked about last."""
    return main_topic(context) or context.knowledge.get(context.slots.get("topic") or "")


def no_topic_yet(context: ActionContext) -> list[Event]:
    context.utter("utter_no_topic_yet")
    return []


class ActionTellMore(Action):
    name = "action_tell_more"

    def run(self, context: ActionContext) -> list[Event]:
        entry = current_topic(context)
        if entry is None:
            return no_topic_yet(context)
        shown = last_answer(context).get("shown") or []
        if engine_answers(context) and _MORE_ONLY.sub(" ", context.text).strip(" ?.!,"):
            # "and the IAM role?" asks about something of its own: the line that says it,
            # when the notes clearly do, rather than the next lines of the topic
            answer = ask(context, topics=[e.id for e in topics(context)])
            if context.answers.stands(answer):
                return say_answer(context, answer)
        if context.answers is not None and shown:
            # What the notes say next about the same thing, not the same passages again.
            more = context.answers.more(shown, entry.id)
            if more is not None:
                events = say_answer(context, more, lead_in=f"More on {entry.name}:")
                # what this chain of "tell me more" has said, so that the next one goes on
                # instead of coming back to the first answer's lines
                return [SlotSet(e.name, {**e.value, "shown": list(dict.fromkeys([*shown, *e.value["shown"]]))})
                        if isinstance(e, SlotSet) and e.name == LAST_ANSWER else e for e in events]
        kb = context.knowledge
        related = [kb.get(i).name for i in entry.related if kb.get(i) is not None][:3]
        text = f"More on {entry.name}: {entry.details}"
        if related:
            text += f"\nRelated topics: {', '.join(related)}."
        context.say(text)
        return remember(entry)


class ActionExplainWhy(Action):
    """'Why?': the sentences of the notes that give reasons, else the longer explanation."""

    name = "action_explain_why"

    def run(self, context: ActionContext) -> list[Event]:
        entry = current_topic(context)
        # A bare "why?" (or "but why") is about the topic just answered: its reasons, not the
        # same passages again. A question of its own ("why split the data?") is the engine's.
        bare = len(re.findall(r"\w+", context.text)) <= 3 and entry is not None
        if engine_answers(context) and not bare:
            answer = ask(context, topics=[e.id for e in topics(context)])
            if not answer.declined:
                return say_answer(context, answer)
        if bare and context.answers is not None:
            reason = _reason_said(context)
            if reason is not None:
                return say_answer(context, reason)
        if entry is None:
            return no_topic_yet(context)
        sentences = _SENTENCE_END.split(f"{entry.summary} {entry.details}".strip())
        reasons = [s for s in sentences if _REASON.search(s)][:3]
        context.say(f"Why it matters ({entry.name}): {' '.join(reasons) if reasons else entry.details}")
        return remember(entry)


class ActionFollowUp(Action):
    """'And P3?' / 'what about Polly?': the last question again, about the new topic."""

    name = "action_follow_up"

    def run(self, context: ActionContext) -> list[Event]:
        return context.run(_last_reaskable(context) or "action_answer_concept")


class ActionNextStep(Action):
    """'Next': the next setup-guide step, or the next pipeline stage, whichever we are in."""

    name = "action_next_step"
    offset = 1
    stage_action = "action_next_stage"

    def run(self, context: ActionContext) -> list[Event]:
        walked = walk_guide(context, self.offset) or self._from_answered_step(context)
        if walked is not None:
            return walked
        topic = context.knowledge.get(context.slots.get("topic") or "")
        if topic is not None and (topic.order is not None or context.slots.get("pipeline_stage")):
            return context.run(self.stage_action)
        described = self._from_described_step(context)
        if described is not None:
            return described
        context.utter("utter_nothing_to_walk")
        return []

    @staticmethod
    def _from_described_step(context: ActionContext) -> list[Event] | None:
        """With nothing walked yet, the message itself may say where the student is ("ok I'm
        signed into the console, now what?": the step after signing in) or ask the course
        something ("what do I do about missing values?"): the notes' answer, when they have
        a close one (as close as the routing asks of a question at a step)."""
        if not engine_answers(context):
            return None
        engine = context.answers
        answer = ask(context)
        enough = engine.floor if asks_what_next(context.text) else engine.strong
        if answer.declined or answer.lead is None or answer.support < enough:
            return None
        return say_answer(context, answer)


    def _from_answered_step(self, context: ActionContext) -> list[Event] | None:
        """After the course answered with a step of a guide ("where do I click to create a
        notebook instance?"), the step next to that one."""
        lead = last_answer(context).get("lead")
        engine = context.answers
        if engine is None or not isinstance(lead, int) or not 0 <= lead < len(engine.index.passages):
            return None
        passage = engine.passage(lead)
        guide = context.knowledge.get(passage.entry or "")
        if passage.step is None or guide is None or not 1 <= passage.step + self.offset <= len(guide.steps):
            return None
        return show_step(context, guide, passage.step + self.offset)


class ActionPreviousStep(ActionNextStep):
    name = "action_previous_step"
    offset = -1
    stage_action = "action_previous_stage"


class ActionRepeat(Action):
    """'Say that again': the bot's messages of the previous turn, once more."""

    name = "action_repeat"

    def run(self, context: ActionContext) -> list[Event]:
        messages = [e.message for e in context.tracker.previous_turn() if isinstance(e, BotUttered)]
        if not messages:
            context.say("There's nothing to repeat yet. Ask me something about the course!")
        context.messages.extend(dict(m) for m in messages)
        return []


def _reason_said(context: ActionContext) -> Answer | None:
    """A bare "why?" after an answer whose own lines give the reason ("... Prevents
    redundancy and overfitting", "... because you no longer need to over-provision"):
    that line, in the notes' words, rather than the knowledge base's summary."""
    engine = context.answers
    shown = [engine.passage(i) for i in last_answer(context).get("shown") or []
             if isinstance(i, int) and 0 <= i < len(engine.index.passages)]
    if not shown or shown[0].kind != NOTE:
        return None  # after a section's outline, "why?" is about the section, not one of its items
    lead = shown[0]
    own = [p for p in shown if p is lead or p.parent == lead.id or p.group == lead.group]
    reasons = [p for p in sorted(own, key=lambda p: p.id) if p.kind == NOTE and _REASON.search(p.text)]
    return Answer("why", reasons[0], [], reasons[0].entry, 1.0) if reasons else None


def _last_reaskable(context: ActionContext) -> str | None:
    for event in reversed(context.tracker.current_events):
        if isinstance(event, ActionExecuted) and event.name in REASKABLE:
            return event.name
    return None

"""Explaining a course topic, giving an example of it, and when to use ML."""

from __future__ import annotations

import re

from bot.dialogue.actions import Action, ActionContext
from bot.dialogue.answering import (
    ask,
    engine_answers,
    is_follow_up,
    last_answer,
    say_answer,
)
from bot.dialogue.events import Event
from bot.dialogue.form_answers import is_question
from bot.dialogue.routing import ROUTED_FROM_REQUEST

from .topics import (
    KNOWLEDGE_ENTITIES,
    answer_text,
    bullet_list,
    describe,
    main_topic,
    most_specific,
    remember,
    topics,
    unknown_subject,
)

# "what is X?", "explain X", "X?": asking what something is, not a detail of it.
_DEFINITION = re.compile(r"^\W*(?:(?:so\s+)?what(?:'s| is| are| r)\s+(?:an?\s+|the\s+)?[\w\s.-]{1,40}\??\W*$|"
                         r"(?:explain|define|describe|tell me about)\b.{0,40}$|[\w\s.-]{1,30}\?+\W*$)", re.IGNORECASE)


# "what ML problem types are there?", "name the three problem types": the topic's list.
_LISTING = re.compile(r"\b(?:types|kinds|sorts|categories|stages|steps|layers)\b.{0,30}\b(?:are there|exist)\b"
                      r"|^\W*(?:name|list)\b", re.IGNORECASE)


def _opens_with_asked(context: ActionContext, text: str) -> bool:
    """Whether `text` opens with a topic the message names, as the message says it."""
    opening = text.casefold().lstrip(" (\"'")
    return any(opening.startswith(context.text[e.get("start", 0):e.get("end", 0)].casefold().strip() or "\0")
               for e in context.entities(*KNOWLEDGE_ENTITIES))


# "how do I stop ...", "how can I delete ...": the doing asked about
_HOW_TO_DO = re.compile(r"^\W*how\s+(?:do|can|should|would|could)\s+(?:i|we|you|one)\s+(?P<verb>[a-z]+)\b",
                        re.IGNORECASE)


def _how_to_do_what_was_read(context: ActionContext) -> str | None:
    """The verb of "how do I stop my notebook instance?" when the NLU read the question as
    the request to do it (the router made it a question): the course answers it only with
    a line that says that doing; lines that match its object ("notebook instance", the
    setup guide's) do not tell the student how to stop one."""
    latest = context.tracker.latest_message
    match = _HOW_TO_DO.match(context.text)
    return match.group("verb") if match and latest is not None and latest.parse.get(ROUTED_FROM_REQUEST) else None


def _bare_definition(context: ActionContext) -> bool:
    """"What is feature engineering?": the question is the topic and nothing more."""
    text = context.text
    for entity in sorted(context.entities(*KNOWLEDGE_ENTITIES), key=lambda e: -e.get("start", 0)):
        text = text[:entity.get("start", 0)] + " " + text[entity.get("end", 0):]
    rest = [w for w in re.findall(r"[a-z']+", text.lower()) if w not in _QUESTION_WORDS]
    return bool(_DEFINITION.search(context.text)) and not rest


_QUESTION_WORDS = {"what", "what's", "whats", "is", "are", "r", "a", "an", "the", "explain", "define", "describe",
                   "tell", "me", "about", "so", "please", "pls", "exactly", "actually", "mean", "means", "by"}


class ActionAnswerConcept(Action):
    """'What is X?': the summary, plus what kind of thing X is where that helps."""

    name = "action_answer_concept"

    def run(self, context: ActionContext) -> list[Event]:
        if engine_answers(context):
            return answer_from_course(context, offer_example=True)
        entry = main_topic(context)
        if entry is None:
            return ask_for_topic(context)
        offer = "\nWant an example?" if entry.examples else ""
        context.say(answer_text(context, entry) + offer)
        return remember(entry)


# Above this confidence the NLU's "not the course" stands, however close a passage looks.
SURE_OUT_OF_SCOPE = 0.6


class ActionOutOfScope(Action):
    """The NLU says "not the course": the course still answers if its notes clearly do;
    otherwise the bot says so plainly and names the nearest thing the course covers."""

    name = "action_out_of_scope"

    def run(self, context: ActionContext) -> list[Event]:
        engine = context.answers
        if engine is None:
            context.utter("utter_out_of_scope")
            return []
        confidence = (context.tracker.latest_message.parse.get("intent") or {}).get("confidence", 0.0) \
            if context.tracker.latest_message else 0.0
        # A follow-up ("how big are they usually?") reads as out of scope on its own; asked
        # with the question before it, the answer's support is what counts, as its words
        # are mostly the question before it.
        follow_up = is_follow_up(context.text) and bool(last_answer(context))
        # Sure, unless a passage holds every word asked ("how do I get predictions on a
        # whole dataset?"): then the notes may still answer it, if they are close in meaning.
        sure = confidence >= SURE_OUT_OF_SCOPE and not follow_up and not engine.holds_every_word(context.text)
        if not sure and any(not engine.in_notes(entry.id) for entry in most_specific(topics(context))):
            # It names a topic the notes never name: an entry of the knowledge base's own (an
            # instructor's addition, "what is an epoch?"), which is the course by definition.
            return answer_from_course(context, offer_example=True)
        answer = ask(context)
        answered = answer.support >= engine.strong if follow_up else engine.clearly_answers(answer)
        if not answer.declined and (sure or not answered):
            answer.declined, answer.reason = True, "the NLU reads it as out of scope"
            if answer.support >= engine.strong:  # a near miss: name what it is near
                answer.nearest = answer.nearest or answer.entry
        if answer.declined:
            return say_answer(context, answer)
        # The notes answer it: as the course question it is ("what is Amazon Elastic
        # Inference?" is its callout, not the first line about inference).
        return answer_from_course(context, offer_example=True)


def answer_from_course(context: ActionContext, kinds: tuple[str, ...] = (), offer_example: bool = False,
                       about: str | None = None) -> list[Event]:
    """The engine's answer, with the topics the message names first, and the offer of an
    example when the entry has one (a "yes" then gives it). "What is X?", for an X the
    notes give a section of its own, is that section's outline.

    `about`: the entry the intent itself is about ("when to use ML"), first of the topics."""
    named = [*([about] if about and context.knowledge.get(about) else []),
             *(entry.id for entry in most_specific(topics(context)) if entry.id != about)]
    answer = ask(context, topics=named, kinds=kinds)
    if not answer.declined and offer_example and len(named) == 1 and (_bare_definition(context)
                                                                      or _LISTING.search(context.text)):
        # "What is X?": its section's outline, else, when the engine's best passage does
        # not even name X, or is another topic's line that names X only in passing ("In
        # Amazon SageMaker, the virtual machines ..." is about notebooks), the bullet that
        # defines X. A line that opens with what was asked ("normalization to common
        # scale") says what it is.
        lead = answer.lead
        elsewhere = lead is not None and not _opens_with_asked(context, lead.text) and (
            lead.entry not in (None, named[0]) or not context.answers.mentions(lead, named[0]))
        answer = (context.answers.overview(named[0])
                  or (context.answers.definition(named[0]) if elsewhere else None) or answer)
    if not answer.declined and len(named) == 1 and answer.lead is not None and context.answers.mentions(
            answer.lead, named[0]):
        answer.entry = named[0]  # the conversation's topic is what the student named ("clustering")
    doing = _how_to_do_what_was_read(context)
    if not answer.declined and doing and not context.answers.says(answer, doing):
        answer.declined, answer.reason = True, f"the course never says how to {doing}"
        answer.nearest = answer.nearest or answer.entry
    events = say_answer(context, answer)
    entry = context.knowledge.get(answer.entry or "")
    if offer_example and not answer.declined and entry is not None and entry.examples and context.messages:
        context.messages[-1]["text"] += "\nWant an example?"
    return events


# "an example of X", "give me one", "examples?", "for instance?", "like what?": asking for an example
_ASKS_FOR_EXAMPLE = re.compile(r"\b(?:an|another|some|any|more|one|two|few|give|show|need|want|e\.g\.)\s+(?:\w+\s+)?"
                               r"examples?\b|\bexamples?\s+(?:of|for|from|in|with|please|pls)\b|^\W*(?:and\s+)?examples?\b"
                               r"|\bfor (?:example|instance)\b|\bsuch as\b|\blike what\b"
                               r"|\b(?:give|show|tell) me (?:one|some)\b", re.IGNORECASE)


class ActionGiveExample(Action):
    name = "action_give_example"

    def run(self, context: ActionContext) -> list[Event]:
        if engine_answers(context) and is_question(context.text) and not _ASKS_FOR_EXAMPLE.search(context.text):
            # "what kind of ML problem is the fraud example?" names an example; it asks
            # what kind of problem it is, which is the course's answer
            return answer_from_course(context, offer_example=True)
        entry = main_topic(context) or context.knowledge.get(context.slots.get("topic") or "")
        if entry is None and engine_answers(context):
            return answer_from_course(context, kinds=("example",))
        if entry is None:
            return ask_for_topic(context)
        if entry.examples:
            examples = bullet_list(list(entry.examples[:2]))
            context.say(f"An example of {entry.name}:\n{examples}")
        else:
            context.say(f"The course notes don't give an example of {entry.name}. "
                        f"Here's what it is: {entry.summary}")
        return remember(entry)


class ActionWhenToUseML(Action):
    """The course's guidance on ML versus rules written by hand."""

    name = "action_when_to_use_ml"
    topic_id = "when_to_use_ml"

    def run(self, context: ActionContext) -> list[Event]:
        if engine_answers(context):
            return answer_from_course(context, about=self.topic_id)
        entry = context.knowledge.get(self.topic_id)
        if entry is None:
            context.utter("utter_unknown_topic", topic="when to use machine learning")
            return []
        context.say(f"{describe(entry)}\n\n{entry.details}")
        return remember(entry)


def ask_for_topic(context: ActionContext) -> list[Event]:
    subject = unknown_subject(context)
    if subject:
        context.utter("utter_unknown_topic", topic=subject)
    else:
        context.utter("utter_ask_topic")
    return []

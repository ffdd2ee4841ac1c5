"""Saying an answer of the answer engine, or its honest no, in a conversation.

Every answer names where it comes from ("From the course: ML Pipeline > Feature
engineering", the last line), and carries in its `custom` payload what channels and the
answer-set runner need: the source, the entry, the passages said. A decline says that the
course does not cover it and names the nearest thing it does cover, and is marked
`declined: true`. What was said is remembered (`last_answer`), so that "tell me more"
goes on instead of repeating, and "the second one" finds the list just shown.
"""

from __future__ import annotations

import re
from typing import Any

from bot.dialogue.actions import ActionContext
from bot.dialogue.events import Event, SlotSet
from bot.knowledge.answers import Answer
from bot.knowledge.composition import answer_lines, source_of

LAST_ANSWER = "last_answer"
TOPIC = "topic"
SOURCE_PREFIX = "From the course: "
_NOT_COVERED = "The course doesn't cover that."
_NEAREST = " The nearest thing it does cover is {nearest}: ask me about it if that helps."


def say_answer(context: ActionContext, answer: Answer, *, lead_in: str = "") -> list[Event]:
    """Says `answer` (or its decline) and returns the events that remember it."""
    if answer.declined or answer.lead is None:
        return say_decline(context, answer)
    lines = answer_lines(answer, context.knowledge)
    source = source_of(answer)
    text = "\n".join([*([lead_in] if lead_in else []), *lines, *([f"{SOURCE_PREFIX}{source}"] if source else [])])
    shown = [p.id for p in answer.passages]
    context.say(text, custom={"answer": {"source": source, "entry": answer.entry, "support": round(answer.support, 3),
                                         "passages": [_brief(p) for p in answer.passages]}})
    events: list[Event] = [SlotSet(LAST_ANSWER, {"lead": answer.lead.id, "shown": shown, "question": answer.question,
                                                 "items": [p.id for p in answer.more]})]
    if answer.entry and context.domain.slots.get(TOPIC) is not None:
        events.append(SlotSet(TOPIC, answer.entry))
    return events


def say_decline(context: ActionContext, answer: Answer) -> list[Event]:
    """"The course doesn't cover that", naming the nearest thing it does (the project's
    `utter_not_covered` / `utter_not_covered_nearest` responses, when it has them)."""
    if say_english_only(context):
        return []
    nearest = context.knowledge.get(answer.nearest or "")
    if nearest is not None:
        if not context.utter("utter_not_covered_nearest", nearest=nearest.name):
            context.say(_NOT_COVERED + _NEAREST.format(nearest=nearest.name))
    elif not context.utter("utter_not_covered"):
        context.say(_NOT_COVERED)
    context.messages[-1]["custom"] = {"declined": True, "reason": answer.reason,
                                      "nearest": nearest.id if nearest else None}
    return []


ENGLISH_ONLY = "I can only answer in English, the language of the course. Could you ask that in English?"

_ORDINALS = {"first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2, "fourth": 3, "4th": 3,
             "fifth": 4, "5th": 4, "sixth": 5, "6th": 5, "last": -1}
_ORDINAL = re.compile(rf"\b(?:the\s+)?({'|'.join(_ORDINALS)})(?:\s+(?:one|item|kind|type|stage|step|method|option))?\b",
                      re.IGNORECASE)
_FOLLOW_UP = re.compile(r"^\W*(?:and|so|but|then|also|ok|okay|found it|now|what about|how about|how|why|by how much|"
                        r"which|is it|"
                        r"does it|can it|are they|do they)\b|\b(?:it|its|they|them|their|this|that|these|those|each|"
                        r"one|ones)\b", re.IGNORECASE)


def say_english_only(context: ActionContext) -> bool:
    """"Please ask in English" (the project's `utter_english_only`, when it has one) for a
    message clearly in another language; whether it was said."""
    from bot.knowledge.language import other_language

    if context.text.startswith("/") or other_language(context.text) is None:
        return False
    if not context.utter("utter_english_only"):
        context.say(ENGLISH_ONLY)
    return True


def engine_answers(context: ActionContext) -> bool:
    """Whether the answer engine reads this message: it has one, and the message is words,
    not a button's payload ("/ask_concept{...}", answered from the knowledge base entry)."""
    return context.answers is not None and not context.text.startswith("/")


def ask(context: ActionContext, *, topics: list[str] | None = None, kinds: tuple[str, ...] = ()) -> Answer:
    """The engine's answer to the latest message, read in the conversation: a short
    follow-up with no topic of its own ("how big are they usually?", "by how much?") is
    asked together with the question the last answer answered; "the second one" is the
    second item of the list just shown; "what now?" after a step of a guide is the next step."""
    engine = context.answers
    question, topic = context.text, context.slots.get(TOPIC)
    last = last_answer(context)
    named = list(topics or [])
    ordinal = _ORDINAL.search(question)
    items = [engine.passage(i) for i in last.get("items", []) if 0 <= i < len(engine.index.passages)]
    if ordinal and items and not named:
        position = _ORDINALS[ordinal.group(1).lower()]
        if -len(items) <= position < len(items):
            item = items[position]
            rest = _ORDINAL.sub(" ", question)
            question = f"{item.context + ': ' if item.context else ''}{item.text} {rest}"
            named = [item.entry] if item.entry else []
    answer = engine.answer(question, topics=named, context_topic=topic, kinds=kinds)
    earlier = str(last.get("question") or "")
    if earlier and not named and is_follow_up(question):
        bare_is_enough = _NEW_SUBJECT.search(question) and not answer.declined and answer.support >= engine.strong
        if not bare_is_enough:
            contextual = engine.answer(f"{earlier} {question}", context_topic=topic, kinds=kinds)
            if not contextual.declined:
                answer = contextual
    return engine.then(answer) if _WHAT_NEXT.search(context.text) else answer


def is_follow_up(text: str) -> bool:
    """A short message that leans on what was just said."""
    return len(text.split()) <= 8 and bool(_FOLLOW_UP.search(text))


_NEW_SUBJECT = re.compile(r"^\W*(?:and|what about|how about)\b", re.IGNORECASE)
_WHAT_NEXT = re.compile(r"\b(?:(?:now\s+)?what\s+(?:now|next)|now what|then\s*\?|what do i do (?:now|next)|now\s*\?)",
                        re.IGNORECASE)


def last_answer(context: ActionContext) -> dict[str, Any]:
    value = context.slots.get(LAST_ANSWER)
    return value if isinstance(value, dict) else {}


def _brief(passage: Any) -> dict[str, Any]:
    return {"id": passage.id, "section": passage.section, "kind": passage.kind, "text": passage.text[:120]}

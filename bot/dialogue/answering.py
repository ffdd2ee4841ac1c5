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
from bot.knowledge.composition import answer_lines, nesting, source_of
from bot.knowledge.language import other_language
from bot.knowledge.passages import BULLET, HEADING

LAST_ANSWER = "last_answer"
TOPIC = "topic"
SOURCE_PREFIX = "From the course: "
_NOT_COVERED = "The course doesn't cover that."
_ASKS_FOR_LINK = re.compile(r"\b(?:link|url|web\s*site|web\s*page|address)\b", re.IGNORECASE)
_NEAREST = " The nearest thing it does cover is {nearest}: ask me about it if that helps."


def say_answer(context: ActionContext, answer: Answer, *, lead_in: str = "") -> list[Event]:
    """Says `answer` (or its decline) and returns the events that remember it."""
    if answer.declined or answer.lead is None:
        return say_decline(context, answer)
    lines = answer_lines(answer, context.knowledge)
    entry = context.knowledge.get(answer.entry or "")
    if entry is not None and entry.url and _ASKS_FOR_LINK.search(context.text) and not any(
            entry.url in line for line in lines):
        lines.append(f"Link: {entry.url}")  # "link to the AWS machine learning blog": the link
    source = source_of(answer)
    text = "\n".join([*([lead_in] if lead_in else []), *lines, *([f"{SOURCE_PREFIX}{source}"] if source else [])])
    shown = [p.id for p in answer.passages]
    context.say(text, custom={"answer": {"source": source, "entry": answer.entry, "support": round(answer.support, 3),
                                         "passages": [_brief(p) for p in answer.passages]}})
    # The items of the list this answer shows, else those of the last list shown: "the
    # third one" after "an example of the second one?" is still the list's third item.
    items = [] if answer.pointed else list_items(answer)
    if len(items) < 2:
        items = [i for i in last_answer(context).get("items") or [] if isinstance(i, int)]
    events: list[Event] = [SlotSet(LAST_ANSWER, {"lead": answer.lead.id, "shown": shown, "question": answer.question,
                                                 "items": items})]
    if answer.entry and context.domain.slots.get(TOPIC) is not None:
        events.append(SlotSet(TOPIC, answer.entry))
    return events


def list_items(answer: Answer) -> list[int]:
    """The items of the innermost list an answer shows, in the notes' order, one per bullet
    (a long bullet's sentences are one item): what "the second one" points at."""
    shown = {p.id: p for p in answer.passages}
    lists: dict[int, list[Any]] = {}
    for passage in sorted(shown.values(), key=lambda p: p.id):
        one_bullet = passage.group.startswith(BULLET)
        if passage.parent in shown and not (one_bullet and any(p.group == passage.group
                                                                for p in lists.get(passage.parent, []))):
            lists.setdefault(passage.parent, []).append(passage)
    candidates = [(nesting(shown[parent], shown), -parent, items) for parent, items in lists.items()
                  if len(items) >= 2]
    return [p.id for p in max(candidates, key=lambda c: c[:2])[2]] if candidates else []


def remember_list(context: ActionContext, passages: list[Any]) -> list[Event]:
    """Remembers a list an action showed in its own words (the pipeline's stages, as the
    notes' headings of them), so that "the last one?" is its last item."""
    if len(passages) < 2:
        return []
    last = last_answer(context)
    return [SlotSet(LAST_ANSWER, {**last, "lead": None, "items": [p.id for p in passages]})]


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
             "fifth": 4, "5th": 4, "sixth": 5, "6th": 5, "last": -1, "other": None, "opposite": None}
_ORDINAL = re.compile(rf"\b(?:the\s+)?({'|'.join(_ORDINALS)})(?:\s+(?:one|item|kind|type|stage|step|method|option|"
                      r"layer|ones?))?\b", re.IGNORECASE)
# "the second one?", "and the last one?", "tell me more about the third kind": a message
# that is only a pointer into the list just shown.
_POINTER = re.compile(rf"^\W*(?:(?:and|so|ok|okay|what about|how about|then)\W+)?(?:(?:tell me\s+)?(?:more\s+)?about\s+|"
                      rf"(?:an?\s+)?examples?\s+(?:of|for)\s+|explain\s+|what(?:'s| is| about)\s+)?(?:the\s+)?"
                      rf"(?:{'|'.join(_ORDINALS)})(?:\s+(?:one|item|kind|type|stage|step|method|option|layer))?\W*$",
                      re.IGNORECASE)
_FOLLOW_UP = re.compile(r"^\W*(?:and|so|but|then|also|ok|okay|found it|now|what about|how about|how|why|by how much|"
                        r"which|is it|"
                        r"does it|can it|are they|do they)\b|\b(?:it|its|they|them|their|this|that|these|those|each|"
                        r"one|ones|in there)\b", re.IGNORECASE)


def say_english_only(context: ActionContext) -> bool:
    """"Please ask in English" (the project's `utter_english_only`, when it has one) for a
    message clearly in another language; whether it was said."""
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
    if ordinal and _ORDINALS[ordinal.group(1).lower()] is None and not points_into_list(question):
        ordinal = None  # "what other tools are there?" points at nothing
    items = [engine.passage(i) for i in last.get("items", []) if 0 <= i < len(engine.index.passages)]
    if ordinal and items and not named:
        position = _position(ordinal.group(1).lower(), items, last.get("shown") or [])
        if -len(items) <= position < len(items):
            item = items[position]
            if points_into_list(context.text) and not _ASKS_MORE.search(context.text):
                # "the last one?": that item as the notes say it (a stage's heading with its list)
                pointed = engine.outline(item) if item.kind == HEADING else Answer(
                    item.text, item, [*_rest_of_bullet(engine, item), *engine.children(item)], item.entry, 1.0)
                pointed.pointed = True
                return pointed
            rest = _ORDINAL.sub(" ", question)
            question = f"{item.context + ': ' if item.context else ''}{item.text} {rest}"
            named = [item.entry] if item.entry else []
            pointed = engine.answer(question, topics=named, context_topic=topic, kinds=kinds)
            pointed.pointed = True
            return pointed
    chosen = _item_asked_for(engine, question, items) if items and points_into_list(question) \
        and _WHICH_ONE.search(question) else None
    if chosen is not None:
        # "and which one risks overfitting?": the item of the list just shown that says so
        pointed = Answer(chosen.text, chosen, [*_rest_of_bullet(engine, chosen), *engine.children(chosen)],
                         chosen.entry, 1.0, pointed=True)
        return pointed
    answer = engine.answer(question, topics=named, context_topic=topic, kinds=kinds)
    earlier = str(last.get("question") or "")
    framed = _reframed(earlier, question) if earlier and _NEW_SUBJECT.search(question) else None
    if framed is not None:
        # "and recommendations?" after "which service for fraud detection?" is "which service
        # for recommendations?" (the topic it names, if any, is the new subject's), when that
        # is at least as close as the bare words
        candidate = engine.answer(framed, topics=named, context_topic=topic, kinds=kinds)
        fresh = candidate.lead is not None and candidate.lead.id not in (last.get("shown") or [])
        if not candidate.declined and fresh and (answer.declined or candidate.support >= answer.support):
            return engine.then(candidate) if asks_what_next(context.text) else candidate
    # "images only?": a few words with no subject of their own lean on the last question too
    short = len(re.findall(r"\w+", question)) <= 2
    # "can I use them in SageMaker?" after the frameworks: what it names is where, "them"
    # is still what the last answer was about
    refers_back = is_follow_up(question) and bool(_REFERS_BACK.search(question))
    if earlier and (not named or refers_back) and (is_follow_up(question) or short):
        stands_alone = _NEW_SUBJECT.search(question) or not is_follow_up(question)
        bare_is_enough = stands_alone and not answer.declined and answer.support >= engine.strong
        if not bare_is_enough:
            contextual = engine.answer(f"{earlier} {question}", context_topic=topic, kinds=kinds)
            # "and recommendations?" after fraud detection: read with the question before, it
            # finds that question's answer again; a new subject that stands on its own wins.
            repeats = contextual.lead is not None and (contextual.lead.id in (last.get("shown") or [])
                                                       or (topic is not None and contextual.entry == topic))
            if not contextual.declined and not (repeats and _NEW_SUBJECT.search(question) and not answer.declined):
                answer = contextual
    elif earlier and named and is_follow_up(question) and not _NEW_SUBJECT.search(question) and not any(
            _said_by_name(context, entry_id) for entry_id in named):
        # "how do developers benefit?" after the AWS Marketplace: "benefit" is close to a
        # name of the ML benefits, but asked in the conversation the question is closer to
        # the notes' line about the Marketplace's developers. "how is ML different?" names
        # ML outright: a new subject.
        contextual = engine.answer(f"{earlier} {question}", context_topic=topic, kinds=kinds)
        if not contextual.declined and contextual.support > answer.support:
            answer = contextual
    return engine.then(answer) if asks_what_next(context.text) else answer


def _said_by_name(context: ActionContext, entry_id: str) -> bool:
    """Whether the message names the entry by its name or an alias, word for word (not a
    fuzzy match of one: "benefit" for "benefits")."""
    entry = context.knowledge.get(entry_id)
    return entry is not None and any(
        e.get("value") == entry_id and context.knowledge.find(context.text[e.get("start", 0):e.get("end", 0)]) is entry
        for e in context.entities())


_REFERS_BACK = re.compile(r"\b(?:it|its|they|them|their|those|these)\b", re.IGNORECASE)
_WHICH_ONE = re.compile(r"\bwhich\s+(?:one|of them|of these|of those|is|are)\b", re.IGNORECASE)


def _item_asked_for(engine: Any, question: str, items: list[Any]) -> Any:
    """The one item of the list whose words hold most of what the question asks, if one does."""
    terms, idf = engine.index.notes.terms, engine.index.notes.idf
    asked = set(terms(question))
    scores = [sum(idf.get(t, 0.0) for t in asked & set(terms(item.text))) for item in items]
    best = max(scores, default=0.0)
    return items[scores.index(best)] if best > 0 and scores.count(best) == 1 else None


_ASKS_MORE = re.compile(r"\bexamples?\b", re.IGNORECASE)  # "an example of the second one?" is the engine's


def _rest_of_bullet(engine: Any, item: Any) -> list[Any]:
    """The other sentences of a long bullet, when the item is its first."""
    if not item.group.startswith(BULLET):
        return []
    return [p for p in engine.group(item) if p.id != item.id]


def _position(word: str, items: list[Any], shown: list[Any]) -> int:
    """Which item an ordinal points at; "the other one" is the one item the last answer
    did not say (the second, when it said the whole list)."""
    position = _ORDINALS[word]
    if position is not None:
        return position
    others = [i for i, item in enumerate(items) if item.id not in shown]
    return others[0] if len(others) == 1 else 1


def points_into_list(text: str) -> bool:
    """Whether a message is only a pointer into the last list ("the second one?"), or asks
    which of its items does something ("and which one risks overfitting?")."""
    return bool(_POINTER.search(text)) or (len(text.split()) <= 8 and bool(_WHICH_ONE.search(text)))


def is_follow_up(text: str) -> bool:
    """A short message that leans on what was just said."""
    return len(text.split()) <= 8 and bool(_FOLLOW_UP.search(text))


_FRAME = re.compile(r"^\W*((?:[\w'-]+\s+){0,4}?(?:for|of|about|with|in|on)\b)", re.IGNORECASE)
_PREPOSITION = re.compile(r"^(?:for|of|about|with|in|on)\s+", re.IGNORECASE)


def _reframed(earlier: str, question: str) -> str | None:
    """The earlier question asked about the follow-up's new subject: its opening up to the
    preposition that introduced the old subject, then the new one."""
    frame = _FRAME.match(earlier)
    subject = _PREPOSITION.sub("", _NEW_SUBJECT.sub("", question).strip(" ?.!,"))
    return f"{frame.group(1)} {subject}?" if frame and subject else None


_NEW_SUBJECT = re.compile(r"^\W*(?:and|what about|how about)\b", re.IGNORECASE)
_WHAT_NEXT = re.compile(r"\b(?:(?:now\s+)?what\s+(?:now|next)|now what|then\s*\?|what do i do (?:now|next)|"
                        r"what should i do\b|now\s*\?)", re.IGNORECASE)


def asks_what_next(text: str) -> bool:
    """"It says InService now, what next?": the student is at a step and asks for the next."""
    return bool(_WHAT_NEXT.search(text))


def last_answer(context: ActionContext) -> dict[str, Any]:
    value = context.slots.get(LAST_ANSWER)
    return value if isinstance(value, dict) else {}


def _brief(passage: Any) -> dict[str, Any]:
    return {"id": passage.id, "section": passage.section, "kind": passage.kind, "text": passage.text[:120]}

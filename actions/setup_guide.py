"""The SageMaker notebook setup guide: the overview, one step by number, and walking it
step by step ("next", "back") once a student is in it."""

from __future__ import annotations

import re

from bot.dialogue.actions import Action, ActionContext
from bot.dialogue.answering import ask, engine_answers, say_answer
from bot.dialogue.events import Event, SlotSet
from bot.knowledge.entry import Entry

from .topics import bullet_list, remember, topics

_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
                 "eight": 8, "nine": 9, "ten": 10, "first": 1, "second": 2, "third": 3, "fourth": 4,
                 "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10}
# "walk me through setting up a notebook", "all the steps": the whole guide, not one step.
_WHOLE_GUIDE = re.compile(r"\bwalk\b|step[- ]by[- ]step|\bsteps\b|\bset(?:ting)?[- ]?up\b(?![- ]guide)|start to finish"
                          r"|from scratch|\boverview\b", re.IGNORECASE)
# "how do I start setting up a notebook?": where to begin is the first step.
_WHERE_TO_BEGIN = re.compile(r"\b(?:how|where)\s+(?:do|should|can|would)\s+(?:i|we|you)\s+(?:start|begin)\b"
                             r"|\bget(?:ting)?\s+started\b|\bfirst\s+thing\b", re.IGNORECASE)
_EVERY_STEP = re.compile(r"\b(?:all|every|each|whole|list)\b|\bsteps\b|start to finish|\boverview\b", re.IGNORECASE)
_NUMBER = rf"(\d+|{'|'.join(_NUMBER_WORDS)})"
_STEP = re.compile(rf"\bstep\s*(?:#|no\.?|number)?\s*{_NUMBER}\b|\b{_NUMBER}(?:st|nd|rd|th)?\s+step\b",
                   re.IGNORECASE)


class ActionSetupGuide(Action):
    name = "action_setup_guide"

    def run(self, context: ActionContext) -> list[Event]:
        guide = _guide(context)
        if guide is None:
            context.utter("utter_unknown_topic", topic="the notebook setup guide")
            return []
        number = step_number(context.text, len(guide.steps))
        if number is None and _WHERE_TO_BEGIN.search(context.text) and not _EVERY_STEP.search(context.text):
            number = 1
        if number is None and engine_answers(context) and not _WHOLE_GUIDE.search(context.text):
            # "where do I click to create a notebook instance": the step that says so, not all
            # ten; a question the NLU took for the guide ("how many ways can I deploy a model?")
            # gets the course's answer. One about the whole set-up gets every step.
            named = [entry.id for entry in topics(context)]
            split = _report_and_question(context.text)
            if split is not None:
                # "jupyter is open, how do I make a notebook?": the student is at the step the
                # report matches (opening Jupyter); the question on its own asks for the next
                # step (creating a notebook), which is the answer. A question that on its own
                # points elsewhere in the guide is read with the report, as one message.
                at, asked = (_step_of(context, guide, text) for text in split)
                if at is not None and asked == at + 1:
                    return show_step(context, guide, asked)
            answer = ask(context, topics=named)
            lead = answer.lead
            if not answer.declined and lead is not None:
                if lead.entry == guide.id and lead.step is not None and 1 <= lead.step <= len(guide.steps):
                    return show_step(context, guide, lead.step)
                return say_answer(context, answer)
            if answer.declined and context.answers.unfamiliar(context.text):
                return say_answer(context, answer)  # "... inside a VPC": not a step the guide has
        if number is None:
            titles = "\n".join(f"{i}. {step.title}" for i, step in enumerate(guide.steps, start=1))
            context.say(f"{guide.name}, in {len(guide.steps)} steps:\n{titles}\n"
                        "Say \"next\" to go through them one by one, or ask for any step, e.g. \"step 4\". "
                        "Or shall I help you fill in your own notebook's settings now?")
            return [*remember(guide), SlotSet("guide_step", 0.0)]
        return show_step(context, guide, number)


# "jupyter is open, how do I make a notebook?", "I'm on the dashboard, where ...?": where
# the student is, then what they ask
_REPORT_THEN_QUESTION = re.compile(r"^\s*(?!(?:how|what|where|which|why|when|who|can|could|do|does|is|are|should)\b)"
                                   r"(?P<report>[^,?]{3,80}),\s*(?P<question>[^,]+\?)\s*$", re.IGNORECASE)


def _report_and_question(text: str) -> tuple[str, str] | None:
    match = _REPORT_THEN_QUESTION.match(text)
    return (match.group("report"), match.group("question")) if match else None


def _step_of(context: ActionContext, guide: Entry, text: str) -> int | None:
    """The step of the guide that clearly answers `text` on its own, if one does."""
    answer = context.answers.answer(text)
    lead = answer.lead
    if lead is None or lead.entry != guide.id or lead.step is None or not context.answers.stands(answer):
        return None
    return lead.step if 1 <= lead.step <= len(guide.steps) else None


def show_step(context: ActionContext, guide: Entry, number: int) -> list[Event]:
    """Says step `number` (1-based) of `guide` and remembers it for "next" and "back":
    the notes' own words for that step when the answer engine has them."""
    step = guide.steps[number - 1]
    hint = "Say \"next\" when you're done, or \"back\"." if number < len(guide.steps) else "That's the last step."
    answer = context.answers.step(guide.id, number) if context.answers is not None else None
    if answer is not None:
        events = say_answer(context, answer, lead_in=f"{guide.name}, step {number} of {len(guide.steps)}:")
        context.messages[-1]["text"] += f"\n{hint}"
        return [*events, *remember(guide), SlotSet("guide_step", float(number))]
    context.say(f"{guide.name}, step {number} of {len(guide.steps)}: {step.title}\n"
                f"{bullet_list(list(step.instructions))}\n{hint}")
    return [*remember(guide), SlotSet("guide_step", float(number))]


def walk_guide(context: ActionContext, offset: int) -> list[Event] | None:
    """Moves `offset` steps through the guide the student is in; None when not in one."""
    guide = context.knowledge.get(context.slots.get("topic") or "")
    if guide is None or not guide.steps or context.slots.get("guide_step") is None:
        return None
    current = int(context.slots["guide_step"])
    target = current + offset
    if target < 1:
        context.say(f"We're at the start of {guide.name}. Say \"next\" for step 1.")
        return []
    if target > len(guide.steps):
        context.say(f"That was the last of the {len(guide.steps)} steps of {guide.name}. "
                    "Ask for any step again by number, e.g. \"step 4\".")
        return []
    return show_step(context, guide, target)


def step_number(text: str, total: int) -> int | None:
    """The step a message asks for ("step 4", "the 3rd step", "last step"), if in range."""
    if re.search(r"\b(last|final) step\b", text, re.IGNORECASE):
        return total
    for match in _STEP.finditer(text):
        token = next(group for group in match.groups() if group).lower()
        number = int(token) if token.isdigit() else _NUMBER_WORDS.get(token)
        if number is not None and 1 <= number <= total:
            return number
    return None


def _guide(context: ActionContext) -> Entry | None:
    named = [entry for entry in topics(context) if entry.steps]
    guides = [entry for entry in context.knowledge if entry.steps]
    return (named or guides or [None])[0]

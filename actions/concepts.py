"""Explaining a course topic, giving an example of it, and when to use ML."""

from __future__ import annotations

from bot.dialogue.actions import Action, ActionContext
from bot.dialogue.events import Event

from .topics import answer_text, bullet_list, describe, main_topic, remember, unknown_subject


class ActionAnswerConcept(Action):
    """'What is X?': the summary, plus what kind of thing X is where that helps."""

    name = "action_answer_concept"

    def run(self, context: ActionContext) -> list[Event]:
        entry = main_topic(context)
        if entry is None:
            return ask_for_topic(context)
        offer = "\nWant an example?" if entry.examples else ""
        context.say(answer_text(context, entry) + offer)
        return remember(entry)


class ActionGiveExample(Action):
    name = "action_give_example"

    def run(self, context: ActionContext) -> list[Event]:
        entry = main_topic(context) or context.knowledge.get(context.slots.get("topic") or "")
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

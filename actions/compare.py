"""'X vs Y': the comparison entry that covers both, or the two summaries side by side."""

from __future__ import annotations

import re

from bot.dialogue.actions import Action, ActionContext
from bot.dialogue.answering import ask, engine_answers, say_answer
from bot.dialogue.events import Event

from .concepts import answer_from_course
from .topics import answer_text, bullet_list, describe, most_specific, remember, topics

# "how is that different from X?": the other side is the topic just talked about.
_REFERS_BACK = re.compile(r"\b(?:that|it|this|those|these|them|the (?:last|previous) one)\b", re.IGNORECASE)
_COMPARISON = re.compile(r"\b(?:vs\.?|versus|differ\w*|compar\w*|or|than|between|same as|like)\b", re.IGNORECASE)


class ActionCompare(Action):
    name = "action_compare"

    def run(self, context: ActionContext) -> list[Event]:
        kb = context.knowledge
        named = most_specific(topics(context))
        if engine_answers(context):
            sides = [entry.id for entry in named if not entry.compares]
            previous = context.slots.get("topic")
            if len(sides) == 1 and previous and previous not in sides and _REFERS_BACK.search(context.text):
                sides.insert(0, previous)  # "how is that different from X?"
            if len(sides) >= 2 and _COMPARISON.search(context.text):
                return say_answer(context, context.answers.compare(context.text, sides))
            if not named and not previous:
                answer = ask(context, kinds=("contrast",))
                if answer.declined and context.answers.unfamiliar(context.text):
                    return say_answer(context, answer)  # "L1 vs L2 regularisation": two things, not the course's
                if answer.declined or answer.support < context.answers.strong:
                    context.utter("utter_ask_compare")  # "what's the difference?", with nothing to compare
                    return []
                return say_answer(context, answer)
            return answer_from_course(context, kinds=("contrast",))
        comparisons = [entry for entry in named if entry.compares]
        if comparisons and len(named) == 1:
            entries, comparison = [kb.get(i) for i in comparisons[0].compares], comparisons[0]
        else:
            entries = [entry for entry in named if not entry.compares]
            previous = kb.get(context.slots.get("topic") or "")
            if len(entries) == 1 and previous is not None and previous not in entries:
                entries.insert(0, previous)  # "how is that different from X?"
            comparison = kb.comparison_of(e.id for e in entries) if len(entries) >= 2 else None
        if not entries:
            context.utter("utter_ask_compare")
            return []
        if len(entries) == 1:
            # Only one thing we know was named: explain it, and say what we can compare it with.
            context.say(f"{answer_text(context, entries[0])}\nName a second topic and I'll compare them.")
            return remember(entries[0])
        if comparison is not None:
            lines = [f"{kb.get(i).name}: {comparison.contrast[i]}"
                     for i in comparison.compares if i in comparison.contrast]
            context.say(f"{describe(comparison)}\n{bullet_list(lines)}")
            return remember(comparison)
        lines = [f"{entry.name}: {entry.summary}" for entry in entries]
        context.say(f"Here's how they differ:\n{bullet_list(lines)}")
        return remember(entries[-1])

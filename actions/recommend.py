"""'Which service for this task?' and 'which instance for this need?'.

Candidates are the knowledge entries named by the `service` (or `instance_type`)
entity, ranked by how well their `use_for` phrases fit the described task.
"""

from __future__ import annotations

from bot.dialogue.actions import Action, ActionContext
from bot.dialogue.answering import engine_answers
from bot.dialogue.events import Event

from .concepts import answer_from_course
from .topics import remember

# A runner-up is mentioned when it scores at least this share of the best score.
RUNNER_UP_SHARE = 0.8


class _Recommend(Action):
    entity = ""
    no_match_response = ""

    def run(self, context: ActionContext) -> list[Event]:
        if engine_answers(context):
            return answer_from_course(context, kinds=("use",))
        kb = context.knowledge
        categories = tuple(c.name for c in kb.categories.values() if c.entity == self.entity)
        ranked = kb.rank_for_task(context.text, categories)
        if not ranked:
            context.utter(self.no_match_response)
            return []
        best = ranked[0]
        text = f"Use {best.entry.name}: {best.entry.summary}"
        if len(ranked) > 1 and ranked[1].score >= RUNNER_UP_SHARE * best.score:
            text += f"\nAlso worth a look: {ranked[1].entry.name} ({ranked[1].phrase})."
        context.say(text)
        return remember(best.entry)


class ActionRecommendService(_Recommend):
    name = "action_recommend_service"
    entity = "service"
    no_match_response = "utter_no_task_match"


class ActionRecommendInstance(_Recommend):
    name = "action_recommend_instance"
    entity = "instance_type"
    no_match_response = "utter_no_need_match"

from bot.dialogue.actions import Action
from bot.dialogue.events import SlotSet


class ActionExplain(Action):
    name = "action_explain"

    def run(self, context):
        entities = context.entities("concept")
        entry = context.knowledge.find(entities[0]["value"]) if entities else None
        if entry is None:
            raise RuntimeError("no topic")  # exercised by the failing-action test
        context.say(f"{entry.name}: {entry.summary}")
        return [SlotSet("topic", entry.id)]

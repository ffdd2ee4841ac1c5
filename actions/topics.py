"""Working out which knowledge entries a student's message is about, and phrasing them.

Shared by every knowledge-answering action. Entities come first (they carry canonical
ids); when the NLU found none, names are looked for in the text itself. When several
topics are named, a topic that contains another ("the ML pipeline" and "feature
engineering") gives way to the more specific one.
"""

from __future__ import annotations

from bot.dialogue.actions import ActionContext
from bot.dialogue.events import Event, SlotSet
from bot.knowledge.entry import Entry

KNOWLEDGE_ENTITIES = ("concept", "service", "instance_type", "pipeline_stage")


def topics(context: ActionContext, entities: tuple[str, ...] = KNOWLEDGE_ENTITIES) -> list[Entry]:
    """Entries named in the latest message, in the order they appear, without repeats."""
    kb = context.knowledge
    found = [kb.find(str(e["value"]), e["entity"]) for e in context.entities(*entities)]
    found = [entry for entry in found if entry is not None]
    if not found:
        found = [entry for _, entry in kb.mentions(context.text)]
    return list(dict.fromkeys(found))


def main_topic(context: ActionContext, entities: tuple[str, ...] = KNOWLEDGE_ENTITIES) -> Entry | None:
    """The one entry the message is about, or None."""
    return (most_specific(topics(context, entities)) or [None])[0]


def most_specific(entries: list[Entry]) -> list[Entry]:
    """Drops entries that contain another of the list ("feature selection" when
    "filter methods" is also named)."""
    specific = [e for e in entries if not any(_contains(e, other) for other in entries if other != e)]
    return specific or entries


def unknown_subject(context: ActionContext) -> str | None:
    """What the student named that the knowledge base does not know, for an honest reply."""
    values = [str(e["value"]) for e in context.entities(*KNOWLEDGE_ENTITIES)]
    return values[0] if values else None


def remember(entry: Entry) -> list[Event]:
    """Events that make `entry` the topic follow-up questions refer to."""
    return [SlotSet("topic", entry.id)]


def describe(entry: Entry) -> str:
    """The short answer: the name and the summary."""
    return f"{entry.name}: {entry.summary}"


def answer_text(context: ActionContext, entry: Entry) -> str:
    """The answer to 'what is X', shaped by the kind of entry."""
    kb = context.knowledge
    text = describe(entry)
    if entry.order is not None:
        text += f" It is stage {entry.order} of {len(kb.pipeline_stages())} in the ML pipeline."
    if entry.contrast:
        lines = [f"{kb.get(i).name}: {entry.contrast[i]}" for i in entry.compares if i in entry.contrast]
        text += "\n" + bullet_list(lines)
    elif entry.steps:
        text += f" It has {len(entry.steps)} steps; ask me for the setup guide to go through them."
    elif entry.substeps and len(entry.substeps) <= 10:
        text += f"\nIt covers: {', '.join(kb.get(i).name for i in entry.substeps)}."
    if entry.url:
        text += f"\nLink: {entry.url}"
    return text


def bullet_list(lines: list[str]) -> str:
    return "\n".join(f"- {line}" for line in lines)


def _contains(container: Entry, part: Entry) -> bool:
    return part.id in container.substeps or part.id in container.compares

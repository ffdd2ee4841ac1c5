"""An answer as the student reads it: its passages in the notes' order, lists as lists,
and where in the course it comes from.

Nothing is made up: every line is a passage's text, at most prefixed by the term it
defines ("Inference: ..."). The source is its own part, so each channel shows it its way
(a small line in the widget, a last line in the terminal, left out of speech).
"""

from __future__ import annotations

from bot.knowledge.answers import Answer
from bot.knowledge.base import KnowledgeBase
from bot.knowledge.passages import BULLET, HEADING, NOTE, Passage, display_section


def answer_lines(answer: Answer, knowledge: KnowledgeBase) -> list[str]:
    """The answer's text, one line per passage; items nested under a shown passage are '- '.
    The lead's passages come first, in the notes' order, then a runner-up's."""
    own = [p for p in (answer.lead, *answer.more) if p is not None]
    shown = sorted(own, key=lambda p: p.id) + sorted(answer.aside, key=lambda p: p.id)
    ids = {p.id for p in shown}
    lines: list[str] = []
    previous_label = ""
    by_id = {p.id: p for p in shown}
    previous: Passage | None = None
    for passage in shown:
        if (previous is not None and passage.group.startswith(BULLET) and passage.group == previous.group
                and passage.parent == previous.parent and lines):
            lines[-1] += f" {passage.text}"   # the next sentence of the same bullet: the same line
            previous = passage
            continue
        previous = passage
        if passage.parent in ids:
            label = _label(passage, knowledge)
            parent = by_id[passage.parent]
            bullet = "  " * nesting(parent, by_id) + "- "   # an item of an item is indented under it
            if label and label.casefold() not in parent.text.casefold():
                lines.append(f"{bullet}{label}: {passage.text}")
            else:
                lines.append(f"{bullet}{passage.text}")
            continue
        label = _label(passage, knowledge)
        lines.append(f"{label}: {passage.text}" if label and label != previous_label else passage.text)
        previous_label = label
    return lines


def nesting(passage: Passage, shown: dict[int, Passage]) -> int:
    """How many of the shown passages `passage` is nested under."""
    depth, seen = 0, {passage.id}
    while passage.parent in shown and passage.parent not in seen:
        passage = shown[passage.parent]
        seen.add(passage.id)
        depth += 1
    return depth


def source_of(answer: Answer) -> str:
    """"ML Pipeline > Feature engineering": where the lead passage is in the notes."""
    return display_section(answer.lead.section) if answer.lead else ""


def _label(passage: Passage, knowledge: KnowledgeBase) -> str:
    if passage.kind == HEADING:
        return ""
    if passage.kind == NOTE:
        return passage.context.rsplit(" > ", 1)[-1] if passage.context else ""
    entry = knowledge.get(passage.entry or "")
    return entry.name if entry else ""

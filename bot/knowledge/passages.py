"""Passages: everything the bot may say about the course, each with where it comes from.

An answer is made of passages, never of made-up sentences. They come from two places:
the course notes themselves (`knowledge/*.md`: every paragraph sentence, every bullet and
each sentence of a long bullet, under its heading path), and the knowledge base (each
entry's summary, each sentence of its details, examples, questions, guide steps, `use_for`
lines and comparison contrasts). Each passage keeps its heading path in the notes and,
where one covers it, its entry id, so that an answer can say where it comes from and
"tell me more" can go on within the same place.

Standard library only: the Lex code hook builds nothing, but reads these from the model.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from bot.knowledge.base import KnowledgeBase
from bot.knowledge.entry import Entry

NOTE, HEADING = "note", "heading"
BULLET = "bullet:"  # the group of the sentences of one long bullet
FROM_NOTES = (NOTE, HEADING)
KINDS = (*FROM_NOTES, "summary", "detail", "example", "question", "step", "use", "contrast")

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_ITEM = re.compile(r"^(\s*)(?:[-*+]|\d+[.)])\s+(.*)$")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_CALLOUT = re.compile(r"^>\s*\[!\w+\][-+]?\s*(.*)$")
_TERM = re.compile(r"^\*\*(.+?)\*\*\s*:\s*(.*)$|^_(.+?)_\s*:\s*(.*)$")
# A sentence ends at . ! or ? followed by a space and a capital, digit or quote; "e.g." and
# "i.e." do not end one.
_SENTENCE_END = re.compile(r"(?<!\be\.g)(?<!\bi\.e)(?<=[.!?])\s+(?=[A-Z0-9\"'(])")


@dataclass(frozen=True)
class Passage:
    """One thing the bot may say. `text` is what is said; `context` is what it is about
    when the text alone does not say it (the term a bullet defines, the bullet above a
    nested one); `section` is its heading path in the notes ("Course: ML Pipeline >
    Feature engineering"); `group` collects the passages that read on from each other
    (one bullet, one entry, one section), in `position` order."""

    id: int
    text: str
    kind: str
    section: str
    group: str
    position: int
    entry: str | None = None
    context: str = ""
    step: int | None = None
    parent: int | None = None  # the bullet this one is nested under, in the notes

    def as_dict(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if value not in (None, "")}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Passage:
        return cls(**data)

    @property
    def searchable(self) -> str:
        """What retrieval reads: the text with what it is about."""
        return f"{self.context}: {self.text}" if self.context else self.text


def build_passages(knowledge: KnowledgeBase, notes: list[Path]) -> list[Passage]:
    """Every passage of the notes, then of the knowledge base, numbered from 0."""
    builder = _Builder(knowledge)
    for path in notes:
        builder.add_notes(path.read_text(encoding="utf-8"))
    builder.name_lists()
    for entry in knowledge:
        builder.add_entry(entry)
    return builder.passages


def display_section(section: str) -> str:
    """A heading path as students read it: "Course: ML Pipeline > X" -> "ML Pipeline > X"."""
    return " > ".join(part.removeprefix("Course: ") for part in section.split(" > ") if part)


def plain(markdown: str) -> str:
    """Markdown inline formatting removed: links become their text, emphasis goes."""
    text = _LINK.sub(lambda m: m.group(1), markdown)
    text = re.sub(r"\*\*(.+?)\*\*|__(.+?)__", lambda m: m.group(1) or m.group(2), text)
    text = re.sub(r"(?<!\w)[*_](.+?)[*_](?!\w)", r"\1", text)
    text = text.replace("`", "")
    return re.sub(r"\s+", " ", text).strip()


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


class _Builder:
    def __init__(self, knowledge: KnowledgeBase):
        self.knowledge = knowledge
        self.passages: list[Passage] = []
        self._positions: dict[str, int] = {}
        # Which entry covers which heading path: the one whose source it is, when only one is.
        sources: dict[str, list[str]] = {}
        for entry in knowledge:
            sources.setdefault(entry.source, []).append(entry.id)
        self._entry_of = {source: ids[0] for source, ids in sources.items() if len(ids) == 1}
        # A section of the notes titled like a guide's step is that step ("Step 4: Configure ...").
        self._steps: dict[str, tuple[str, int]] = {}
        for entry in knowledge:
            for number, guide_step in enumerate(entry.steps, start=1):
                self._steps[f"Step {number}: {guide_step.title}"] = (entry.id, number)
        self._headings: dict[str, int] = {}  # heading path -> its passage

    def add(self, text: str, kind: str, section: str, group: str, *, entry: str | None = None,
            context: str = "", step: int | None = None, parent: int | None = None) -> int | None:
        text = plain(text)
        if len(re.findall(r"\w+", text)) < 1:
            return None
        position = self._positions.get(group, 0)
        self._positions[group] = position + 1
        self.passages.append(Passage(len(self.passages), text, kind, section, group, position,
                                     entry, plain(context), step, parent))
        return len(self.passages) - 1

    # -- the notes ---------------------------------------------------------------------

    def add_notes(self, markdown: str) -> None:
        headings: list[tuple[int, str]] = []
        parents: list[tuple[int, str, int | None]] = []  # (indent, text, passage) above this bullet
        in_comment = False
        callout: tuple[str, int | None, str] | None = None  # the titled box being read
        # "... a couple of different methods:" then a list: the sentence the list's items belong to
        intro: int | None = None
        for line in markdown.splitlines():
            if "<!--" in line:
                in_comment = "-->" not in line
                continue
            if in_comment:
                in_comment = "-->" not in line
                continue
            heading = _HEADING.match(line)
            if heading:
                level = len(heading.group(1))
                headings = [(lvl, title) for lvl, title in headings if lvl < level]
                title = plain(heading.group(2))
                if level > 1:
                    self._add_heading(" > ".join(t for lvl, t in headings if lvl > 1), title)
                headings.append((level, title))
                parents, intro = [], None
                continue
            if not line.strip() or line.strip().startswith("!["):
                callout = intro = None
                continue
            # The top heading is the document's title, not a section students would name.
            section = " > ".join(title for level, title in headings if level > 1)
            if not section:
                continue
            entry, step = self._entry_of.get(section), self._steps.get(section.rsplit(" > ", 1)[-1])
            if step is not None:
                entry = step[0]
            item = _ITEM.match(line.expandtabs(4))
            if item:
                indent, content = len(item.group(1)), item.group(2).strip()
                parents = [(i, text, at) for i, text, at in parents if i < indent]
                names = (_term_or_text(content), *(t for _, t, _ in parents[::-1]))
                named = [self.knowledge.find(text) for text in names]
                entry = next((found.id for found in named if found is not None), entry)
                above = parents[-1][2] if parents else intro if intro is not None else self._headings.get(section)
                first = self._add_bullet(content, section, entry, " > ".join(text for _, text, _ in parents),
                                         above, step and step[1])
                parents.append((indent, _term_or_text(content), first))
                continue
            callout_title = _CALLOUT.match(line.strip())
            if callout_title:  # "> [!note] Amazon EC2 P3 Instances": a titled box of sentences
                title = plain(callout_title.group(1))
                named_entry = self.knowledge.find(title)  # the box is about the entry its title names
                entry = named_entry.id if named_entry is not None else entry
                at = self.add(title, NOTE, section, f"{BULLET}{section}:{len(self.passages)}", entry=entry,
                              parent=self._headings.get(section))
                callout = (title, at, self.passages[at].group if at is not None else "", entry)
                continue
            if callout and line.lstrip().startswith(">"):
                for sentence in sentences(plain(line.strip().lstrip(">").strip())):
                    self.add(sentence, NOTE, section, callout[2], entry=callout[3], context=callout[0],
                             parent=callout[1])
                continue
            callout = intro = None
            text = line.strip().lstrip(">").strip()
            for number, sentence in enumerate(sentences(plain(text))):
                at = self.add(sentence, NOTE, section, f"notes:{section}", entry=entry, step=step and step[1],
                              parent=self._headings.get(section))
                intro = at if sentence.rstrip().endswith(":") else None

    def name_lists(self) -> None:
        """A heading no entry names ("Problems") is about the entry whose parts are what it
        lists (the problem types, whose sub-steps are binary classification, ...)."""
        listed: dict[int, set[str]] = {}
        for passage in self.passages:
            if passage.parent is not None and passage.entry:
                listed.setdefault(passage.parent, set()).add(passage.entry)
        for at, passage in enumerate(self.passages):
            parts = listed.get(passage.id, set())
            if passage.kind == HEADING and passage.entry is None and len(parts) >= 2:
                whole = next((e for e in self.knowledge if e.substeps and parts <= set(e.substeps)), None)
                if whole is not None:
                    self.passages[at] = replace(passage, entry=whole.id)

    def _add_heading(self, parent_section: str, title: str) -> None:
        """A heading is a passage too: the section above lists it ("the stages of the ML
        pipeline" are the headings under "ML Pipeline")."""
        section = f"{parent_section} > {title}" if parent_section else title
        step = self._steps.get(title)
        named = self.knowledge.find(title)
        entry = step[0] if step else (named.id if named is not None else self._entry_of.get(section))
        at = self.add(title, HEADING, section, f"headings:{parent_section}", entry=entry,
                      step=step[1] if step else None, parent=self._headings.get(parent_section))
        if at is not None:
            self._headings[section] = at

    def _add_bullet(self, content: str, section: str, entry: str | None, context: str,
                    parent: int | None, step: int | None) -> int | None:
        """Adds one bullet (each sentence of a long one); returns its first passage."""
        term = _TERM.match(content)
        group = f"{BULLET}{section}:{len(self.passages)}"
        if term is None:
            return self.add(content, NOTE, section, f"notes:{section}", entry=entry, context=context, parent=parent,
                            step=step)
        name, body = (term.group(1), term.group(2)) if term.group(1) else (term.group(3), term.group(4))
        parts = sentences(plain(body))
        context = f"{context} > {name}" if context else name
        if len(parts) <= 1:
            return self.add(body, NOTE, section, f"notes:{section}", entry=entry, context=context, parent=parent,
                            step=step)
        added = [self.add(sentence, NOTE, section, group, entry=entry, context=context, parent=parent, step=step)
                 for sentence in parts]
        return next((at for at in added if at is not None), None)

    # -- the knowledge base ----------------------------------------------------------------

    def add_entry(self, entry: Entry) -> None:
        group, section = f"entry:{entry.id}", entry.source
        self.add(entry.summary, "summary", section, group, entry=entry.id, context=entry.name)
        for sentence in sentences(entry.details):
            self.add(sentence, "detail", section, group, entry=entry.id, context=entry.name)
        for example in entry.examples:
            self.add(example, "example", section, group, entry=entry.id, context=entry.name)
        for question in entry.questions:
            self.add(question, "question", section, group, entry=entry.id, context=entry.name)
        for task in entry.use_for:
            self.add(task, "use", section, group, entry=entry.id, context=entry.name)
        for other, line in entry.contrast.items():
            known = self.knowledge.get(other)
            self.add(line, "contrast", section, group, entry=entry.id, context=known.name if known else other)
        for number, step in enumerate(entry.steps, start=1):
            text = f"Step {number}: {step.title}. " + " ".join(step.instructions)
            self.add(text, "step", section, group, entry=entry.id, context=entry.name, step=number)


def _term_or_text(content: str) -> str:
    """What a bullet is about: its bold term, the words before its colon, or all of it."""
    term = _TERM.match(content)
    if term:
        return term.group(1) or term.group(3)
    text = plain(content).rstrip(":")
    head, colon, _ = text.partition(":")
    return head.strip() if colon and len(head) <= 60 else text

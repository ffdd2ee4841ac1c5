"""The answer set: questions written from the course notes alone, each with the words a
right reply must contain (`coursebot test --answers FILE`).

A question passes when the bot's reply contains what was asked, not when it names the
right topic: every `all_of` text, at least one `any_of` text, no `none_of` text, ignoring
case. An `out_of_scope` question passes when the bot declines it: a message whose
`custom` says `declined: true` (the answer engine's "the course does not cover that", and
the out-of-scope response). An in-scope question that is declined fails. Conversations
are played turn by turn in one conversation; each turn is judged like a question.
Figures are given per section of the notes, so weak places show.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.errors import ConfigError
from bot.yamlfile import load_yaml

Respond = Callable[[str, str], list[dict[str, Any]]]  # (sender, text) -> the bot's messages
OUT_OF_SCOPE = "Out of scope"


@dataclass(frozen=True)
class Check:
    """What one reply must contain."""

    text: str
    section: str
    any_of: tuple[str, ...] = ()
    all_of: tuple[str, ...] = ()
    none_of: tuple[str, ...] = ()
    out_of_scope: bool = False


@dataclass(frozen=True)
class Item:
    """A single question, or a conversation (its turns in order)."""

    id: str
    section: str
    checks: tuple[Check, ...]
    is_conversation: bool = False


@dataclass
class Outcome:
    item: Item
    turn: int  # which check failed (or -1 when all passed)
    reply: str = ""
    declined: bool = False
    passages: list[Any] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.turn < 0


@dataclass
class AnswerSetReport:
    outcomes: list[Outcome]

    def share(self, outcomes: Iterable[Outcome] | None = None) -> float:
        chosen = list(self.outcomes if outcomes is None else outcomes)
        return sum(o.passed for o in chosen) / len(chosen) if chosen else 0.0

    def by_section(self, *, conversations: bool) -> dict[str, tuple[int, int]]:
        """Section -> (passed, total), for questions or for conversations."""
        table: dict[str, list[int]] = {}
        for outcome in self.outcomes:
            if outcome.item.is_conversation == conversations:
                row = table.setdefault(outcome.item.section, [0, 0])
                row[0] += outcome.passed
                row[1] += 1
        return {section: (passed, total) for section, (passed, total) in sorted(table.items())}

    @property
    def questions(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.item.is_conversation]

    @property
    def conversations(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.item.is_conversation]

    def declined_share(self, out_of_scope: bool) -> float:
        """Of the single questions that are (not) out of scope, the share the bot declined."""
        chosen = [o for o in self.questions if o.item.checks[0].out_of_scope == out_of_scope]
        return sum(o.declined for o in chosen) / len(chosen) if chosen else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "questions": {"passed": sum(o.passed for o in self.questions), "total": len(self.questions),
                          "by_section": self.by_section(conversations=False)},
            "conversations": {"passed": sum(o.passed for o in self.conversations), "total": len(self.conversations),
                              "by_section": self.by_section(conversations=True)},
            "out_of_scope_declined": round(self.declined_share(True), 4),
            "in_scope_declined": round(self.declined_share(False), 4),
            "misses": [{"id": o.item.id, "turn": o.turn, "asked": o.item.checks[o.turn].text,
                        "wanted": {"any_of": o.item.checks[o.turn].any_of, "all_of": o.item.checks[o.turn].all_of,
                                   "none_of": o.item.checks[o.turn].none_of,
                                   "out_of_scope": o.item.checks[o.turn].out_of_scope},
                        "reply": o.reply, "declined": o.declined, "passages": o.passages}
                       for o in self.outcomes if not o.passed],
        }


def read_answer_set(path: Path) -> list[Item]:
    """Reads an answer set file; a malformed one is a ConfigError naming the item."""
    data = load_yaml(path)
    if not isinstance(data, dict) or not isinstance(data.get("questions", []), list):
        raise ConfigError(f"{path}: an answer set is a mapping with 'questions:' and 'conversations:' lists")
    items = []
    for raw in data.get("questions") or []:
        items.append(Item(str(raw.get("id")), str(raw.get("section", "")), (_check(raw, raw, path),)))
    for raw in data.get("conversations") or []:
        turns = raw.get("turns")
        if not isinstance(turns, list) or not turns:
            raise ConfigError(f"{path}: the conversation {raw.get('id')!r} has no turns")
        section = str(raw.get("section", ""))
        items.append(Item(str(raw.get("id")), section, tuple(_check({**turn, "section": section}, raw, path)
                                                           for turn in turns), is_conversation=True))
    return items


def _check(raw: dict[str, Any], item: dict[str, Any], path: Path) -> Check:
    text = raw.get("text", raw.get("user"))
    if not isinstance(text, str):
        raise ConfigError(f"{path}: the item {item.get('id')!r} has no text")
    words = {key: tuple(str(w) for w in raw.get(key) or ()) for key in ("any_of", "all_of", "none_of")}
    return Check(text, str(raw.get("section", "")), **words, out_of_scope=bool(raw.get("out_of_scope")))


def run_answer_set(respond: Respond, items: list[Item], progress: Callable[[int, int], None] | None = None
                   ) -> AnswerSetReport:
    """Plays every item, each in a conversation of its own."""
    outcomes = []
    for number, item in enumerate(items):
        outcomes.append(_play(respond, item, f"answer-set-{number}-{item.id}"))
        if progress is not None:
            progress(number + 1, len(items))
    return AnswerSetReport(outcomes)


def _play(respond: Respond, item: Item, sender: str) -> Outcome:
    declined = False
    for turn, check in enumerate(item.checks):
        messages = respond(sender, check.text)
        reply = "\n".join(_message_text(m) for m in messages)
        declined = any(_custom(m).get("declined") is True for m in messages)
        passages = [p for m in messages for p in (_custom(m).get("answer") or {}).get("passages", [])]
        if not judge(check, reply, declined):
            return Outcome(item, turn, reply, declined, passages)
    return Outcome(item, -1, declined=declined)


def judge(check: Check, reply: str, declined: bool) -> bool:
    text = normalised(reply)
    if any(normalised(word) in text for word in check.none_of):
        return False
    if check.out_of_scope:
        return declined
    if declined:
        return False
    return (all(normalised(word) in text for word in check.all_of)
            and (not check.any_of or any(normalised(word) in text for word in check.any_of)))


def normalised(text: str) -> str:
    """Case, spacing, quotes and dashes do not decide whether a fact was said."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = text.translate(str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"',
                                         "\u2013": "-", "\u2014": "-"}))
    text = re.sub(r"[*_`]", "", text)  # markdown emphasis
    return re.sub(r"\s+", " ", text)


def _message_text(message: dict[str, Any]) -> str:
    titles = " ".join(str(b.get("title", "")) for b in message.get("buttons") or [])
    return " ".join(part for part in (str(message.get("text") or ""), titles) if part)


def _custom(message: dict[str, Any]) -> dict[str, Any]:
    custom = message.get("custom")
    return custom if isinstance(custom, dict) else {}


def write_report(report: AnswerSetReport, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "answers_report.json"
    path.write_text(json.dumps(report.as_dict(), indent=1, ensure_ascii=False), encoding="utf-8")
    return path

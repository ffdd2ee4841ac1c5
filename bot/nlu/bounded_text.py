"""What the NLU reads of a message, so that no message costs much more than a question.

spaCy's tokenizer and the phrase matcher are far from linear on long runs of symbols:
5,000 characters of `!?.,;` took 10 s and 5,000 emoji 7.5 s, under the one parse lock
every student waits on. So before the pipeline sees a text, each run of more than
`MAX_SYMBOL_RUN` symbols (anything but letters, digits and spaces: punctuation, emoji)
keeps its first `MAX_SYMBOL_RUN`, and only the first `MAX_WORDS` words and `MAX_CHARS`
characters are read. A question never gets near these bounds; the dialogue still
records the whole message.

The parse result speaks of the original text: its `text` is the message as sent, and
each entity's `start` and `end` point into it.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import Any

MAX_SYMBOL_RUN = 3
MAX_WORDS = 50
MAX_CHARS = 500

# The texts that cost seconds before these bounds (5,000 characters each): the tests check
# that what the NLU reads of each is bounded, benchmarks/costly_texts.py what each costs.
_EMOJI = "".join(chr(0x1F600 + i % 80) for i in range(5000))
COSTLY_TEXTS = {
    "punctuation": "!?.,;" * 1000,
    "one emoji": "\U0001F600" * 5000,
    "many emoji": _EMOJI,
    "spaced emoji": " ".join(_EMOJI[:2500]),
    "one-letter words": " ".join("a" for _ in range(2500)),
    "varied one-letter words": " ".join(chr(97 + i % 26) for i in range(2500)),
    "long url": "https://example.com/" + "a/" * 2490,
    "one long word": "x" * 5000,
    "mixed scripts": ("日本語 русский ελληνικά العربية हिन्दी p3 " * 130)[:5000],
    "spaced punctuation": " ".join("!?.,;" * 500),
}

_LONG_SYMBOL_RUN = re.compile(rf"[^\w\s]{{{MAX_SYMBOL_RUN + 1},}}")
_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class BoundedText:
    """`text`, the part of `original` the NLU reads; `pieces` maps it back: each
    (start in text, start in original) begins a stretch copied unchanged."""

    original: str
    text: str
    pieces: tuple[tuple[int, int], ...]

    @property
    def changed(self) -> bool:
        return self.text != self.original

    def original_offset(self, offset: int) -> int:
        """Where the character at `offset` in `text` is in `original` (`len(text)`: the end)."""
        if offset >= len(self.text):
            return self._original_end()
        index = bisect.bisect_right(self.pieces, (offset, len(self.original))) - 1
        start, original_start = self.pieces[index]
        return original_start + offset - start

    def restore(self, parse: dict[str, Any]) -> dict[str, Any]:
        """`parse` (made from `text`) as a parse of `original`."""
        if not self.changed:
            return parse
        for entity in parse.get("entities", []):
            start, end = entity["start"], entity["end"]
            entity["start"] = self.original_offset(start)
            entity["end"] = self.original_offset(end - 1) + 1 if end > start else entity["start"]
        return {**parse, "text": self.original}

    def _original_end(self) -> int:
        if not self.text:
            return 0
        return self.original_offset(len(self.text) - 1) + 1


def bound(text: str) -> BoundedText:
    """The first words of `text` with long runs of symbols cut short (see the module docstring)."""
    pieces: list[tuple[int, int]] = []
    parts: list[str] = []
    length = 0
    kept_from = 0
    for run in _LONG_SYMBOL_RUN.finditer(text):
        cut = run.start() + MAX_SYMBOL_RUN
        pieces.append((length, kept_from))
        parts.append(text[kept_from:cut])
        length += cut - kept_from
        kept_from = run.end()
    pieces.append((length, kept_from))
    parts.append(text[kept_from:])
    collapsed = "".join(parts)
    end = min(len(collapsed), MAX_CHARS)
    for count, word in enumerate(_WORD.finditer(collapsed, 0, end), start=1):
        if count == MAX_WORDS:
            end = word.end()
            break
    return BoundedText(text, collapsed[:end], tuple(piece for piece in pieces if piece[0] < end or piece[0] == 0))

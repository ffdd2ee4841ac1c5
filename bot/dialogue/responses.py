"""Turning a named response from the domain into a bot message.

Variations are picked at random, as Rasa does, or in turn (`dialogue:
response_selection: in_turn` in coursebot.yml) so that a student asking twice hears
the next variation; `{name}` placeholders are filled from
the values an action passes, then from slots. Unknown placeholders stay visible, so a
typo in a response shows up in testing rather than silently vanishing.
"""

from __future__ import annotations

import random
import re
from typing import Any

_PLACEHOLDER = re.compile(r"\{(\w+)\}")
MESSAGE_KEYS = ("text", "buttons", "image", "attachment", "custom")


class ResponseRenderer:
    def __init__(self, responses: dict[str, list[dict]], rng: random.Random | None = None,
                 selection: str = "random", channel: str | None = None):
        """`channel`: the channel the bot speaks on; a response's variations for that
        channel (Rasa's `channel:` key) win over the general ones ("lex" asks for an S3
        image, not a local file a Lambda cannot read)."""
        if selection not in ("random", "in_turn"):
            raise ValueError(f"unknown response selection {selection!r}; use 'random' or 'in_turn'")
        self._responses = responses
        self.channel = channel
        self._rng = rng or random.Random()
        self._selection = selection
        self._turns: dict[str, int] = {}

    def render(self, name: str, slots: dict[str, Any] | None = None, **values: Any) -> dict | None:
        """A message for the response `name`, or None when the domain has no such response."""
        every = self._responses.get(name, [])
        variations = ([v for v in every if self.channel and v.get("channel") == self.channel]
                      or [v for v in every if not v.get("channel")])
        if not variations:
            return None
        variation = self._pick(name, variations)
        filling = {**(slots or {}), **values}
        message = {key: variation[key] for key in MESSAGE_KEYS if variation.get(key) is not None}
        if "text" in message:
            message["text"] = fill(str(message["text"]), filling)
        if "buttons" in message:
            message["buttons"] = [{**b, "title": fill(str(b.get("title", "")), filling)}
                                  for b in message["buttons"]]
        return message

    def _pick(self, name: str, variations: list[dict]) -> dict:
        if self._selection == "random":
            return self._rng.choice(variations)
        turn = self._turns.get(name, 0)
        self._turns[name] = turn + 1
        return variations[turn % len(variations)]


def fill(template: str, values: dict[str, Any]) -> str:
    """Replaces {name} with values[name] where known and not None."""
    def replace(match: re.Match) -> str:
        value = values.get(match.group(1))
        return match.group(0) if value is None else str(value)
    return _PLACEHOLDER.sub(replace, template)

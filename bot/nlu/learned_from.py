"""What a component learned from, stored with it, so that a later training can tell how
much of it an edit changed (see `Component.take_over`): a short digest per example."""

from __future__ import annotations

import hashlib

from bot.nlu.component import TrainingInput


def example_keys(training: TrainingInput, *, entities: bool = False) -> list[str]:
    """One digest per distinct example: its intent and text as the intent model reads
    them, and with `entities` its annotated spans too (what an entity model learns)."""
    keys = set()
    for label, message in zip(training.labels, training.messages, strict=True):
        spans = sorted((e["start"], e["end"], e["entity"]) for e in message.entities) if entities else []
        keys.add(hashlib.sha256(f"{label}\t{message.intent_text()}\t{spans}".encode()).hexdigest()[:12])
    return sorted(keys)


def changed_since(learned: list[str], training: TrainingInput, *, entities: bool = False) -> int:
    """How many examples were added, removed or edited since the component learned from `learned`."""
    return len(set(learned) ^ set(example_keys(training, entities=entities)))


def kept_note(what: str, changed: int, learned: list[str]) -> str:
    return f"kept the {what}: {changed} of the {len(learned):,} examples it learned from changed since"

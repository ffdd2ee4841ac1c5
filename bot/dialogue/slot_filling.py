"""Filling slots from a user message, per the domain's slot mappings (Rasa 3 semantics).

Runs after every user message. A mapping with `conditions` applies only while the named
form is active (and, if given, asking for the named slot); a form that is just being
activated applies its own conditional mappings to the message that activated it, so
"create a notebook on ml.t3.medium" fills the instance type at once.
"""

from __future__ import annotations

from typing import Any

from bot.dialogue.domain import Domain, SlotMapping
from bot.dialogue.events import SlotSet, UserUttered


def slot_events(domain: Domain, user: UserUttered, active_loop: str | None,
                requested_slot: str | None, *, only_conditional: bool = False) -> list[SlotSet]:
    """SlotSet events for every slot one of whose mappings applies to `user`."""
    events = []
    for slot in domain.slots.values():
        for mapping in slot.mappings:
            if only_conditional and not mapping.conditions:
                continue
            if not _applies(mapping, user, active_loop, requested_slot):
                continue
            value = _value(mapping, user, slot.type)
            if value is not None:
                events.append(SlotSet(slot.name, value))
                break
    return events


def candidate(domain: Domain, user: UserUttered, slot_name: str, active_loop: str | None,
              requested_slot: str | None) -> Any:
    """What the slot's entity and text mappings would take from `user`, whatever its
    intent: the candidate answer that a form checks with its validator."""
    slot = domain.slots.get(slot_name)
    for mapping in slot.mappings if slot else ():
        if mapping.type not in ("from_entity", "from_text"):
            continue
        if mapping.conditions and not _conditions_hold(mapping, active_loop, requested_slot):
            continue
        value = _value(mapping, user, slot.type)
        if value is not None:
            return value
    return None


def _applies(mapping: SlotMapping, user: UserUttered, active_loop: str | None,
             requested_slot: str | None) -> bool:
    if mapping.intent and user.intent not in mapping.intent:
        return False
    if user.intent in mapping.not_intent:
        return False
    if mapping.conditions and not _conditions_hold(mapping, active_loop, requested_slot):
        return False
    if mapping.type == "from_trigger_intent":
        return active_loop is None
    return True


def _conditions_hold(mapping: SlotMapping, active_loop: str | None, requested_slot: str | None) -> bool:
    return any(condition.active_loop == active_loop
               and (condition.requested_slot is None or condition.requested_slot == requested_slot)
               for condition in mapping.conditions)


def _value(mapping: SlotMapping, user: UserUttered, slot_type: str) -> Any:
    if mapping.type == "from_entity":
        values = [e["value"] for e in user.entities if e.get("entity") == mapping.entity]
        if not values:
            return None
        return values if slot_type == "list" else values[0]
    if mapping.type == "from_text":
        return user.text.strip() or None
    if mapping.type in ("from_intent", "from_trigger_intent"):
        return mapping.value
    return None  # custom: set by actions

"""Amazon Lex V2 as a channel: a code-hook event in, one turn of our dialogue, a Lex response out.

Lex does the language understanding (intent and slots); everything after that is the
engine's own: the same rules, forms, validations, confirmations, actions and responses.
Lambda keeps no state between calls, so the conversation's slots, its active form and
the last turn travel in one session attribute, kept under Lex's size limits.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from typing import Any

from bot.dialogue.domain import REQUESTED_SLOT
from bot.dialogue.events import ActionExecuted, ActiveLoop, BotUttered, Event, SlotSet, UserUttered
from bot.dialogue.manager import APOLOGY, DialogueManager
from bot.dialogue.tracker import Tracker
from bot.stores import InMemoryTrackerStore

log = logging.getLogger(__name__)

STATE_ATTRIBUTE = "coursebot"
MAX_STATE_CHARS = 8_000  # Lex passes session attributes on every turn; stay well inside its limits
FALLBACK_INTENT = "FallbackIntent"
CONFIRMATION_INTENTS = {"Confirmed": "affirm", "Denied": "deny"}
CARD_BUTTONS, CARD_TEXT, CARD_TITLE = 5, 50, 250
_URL = re.compile(r"https?://\S+")
_MARKDOWN = re.compile(r"[*_`#>]+|^\s*[-•]\s+", re.MULTILINE)


class MalformedEvent(ValueError):
    """An event without what every Lex V2 code-hook event carries."""


@dataclass
class LexRequest:
    """What one Lex V2 event says, in the engine's terms."""

    session_id: str
    text: str
    lex_intent: str
    intent: str
    entities: list[dict[str, Any]]
    filled_slots: dict[str, Any]
    speech: bool
    state: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_event(cls, event: dict[str, Any], dialogue: DialogueManager) -> LexRequest:
        try:
            session = event["sessionState"]
            lex_intent = session["intent"]["name"]
            session_id = str(event["sessionId"])
        except (KeyError, TypeError) as missing:
            raise MalformedEvent(f"no {missing} in the event") from None
        if not isinstance(lex_intent, str) or not lex_intent:
            raise MalformedEvent("the event names no intent")
        attributes = session.get("sessionAttributes") or {}
        state = _load_state(attributes.get(STATE_ATTRIBUTE))
        domain = dialogue.domain
        intent = "nlu_fallback" if lex_intent == FALLBACK_INTENT or lex_intent not in domain.intents else lex_intent
        confirmation = session["intent"].get("confirmationState")
        if confirmation in CONFIRMATION_INTENTS:
            intent = CONFIRMATION_INTENTS[confirmation]
        text = str(event.get("inputTranscript") or "")
        entities, filled = [], {}
        for name, value in _slot_values(session["intent"].get("slots")).items():
            if name in domain.slots:
                filled[name] = value
            if name in domain.entities:
                entities.append({"entity": name, "value": value, "extractor": "lex"})
        requested = state.get("slots", {}).get(REQUESTED_SLOT)
        if requested and requested not in filled and lex_intent == state.get("lex_intent") and text \
                and intent not in CONFIRMATION_INTENTS.values():
            filled[requested] = text  # Lex could not read the answer: our validation says why
        return cls(session_id, text, lex_intent, intent, entities, filled,
                   event.get("inputMode") == "Speech", state)

    def parse(self) -> dict[str, Any]:
        return {"text": self.text, "intent": {"name": self.intent, "confidence": 1.0},
                "intent_ranking": [{"name": self.intent, "confidence": 1.0}], "entities": self.entities}


def handle_event(event: dict[str, Any], dialogue: DialogueManager) -> dict[str, Any]:
    """One Lex V2 code-hook call; never raises (a bad event gets an apology and a log line)."""
    try:
        request = LexRequest.from_event(event, dialogue)
    except MalformedEvent as problem:
        log.error("malformed Lex event: %s", problem)
        return _close(None, {}, [{"text": APOLOGY}], speech=False, fulfilled=False)
    dialogue.store = InMemoryTrackerStore()  # this call's conversation comes from the session
    dialogue.store.save(_restore(request))
    try:
        replies = dialogue.handle(request.session_id, request.text, request.parse(), filled_slots=request.filled_slots)
    except Exception:
        log.exception("the Lex turn failed for session %s", request.session_id)
        return _close(request, {}, [{"text": APOLOGY}], request.speech, fulfilled=False)
    tracker = dialogue.tracker_for(request.session_id)
    attributes = {STATE_ATTRIBUTE: _save_state(tracker, request.lex_intent)}
    if not replies and event.get("invocationSource") == "DialogCodeHook":
        # The engine has nothing to add: Lex continues with its own prompts and slots.
        return {"sessionState": {"sessionAttributes": attributes, "dialogAction": {"type": "Delegate"},
                                 "intent": {key: value for key, value in event["sessionState"]["intent"].items()
                                            if key in ("name", "slots", "state", "confirmationState")}}}
    requested = tracker.slots.get(REQUESTED_SLOT)
    if tracker.active_loop == "confirm_form":
        return _respond(request, attributes, replies, {"type": "ConfirmIntent"}, "InProgress")
    if tracker.active_loop and requested:
        return _respond(request, attributes, replies, {"type": "ElicitSlot", "slotToElicit": requested},
                        "InProgress")
    return _close(request, attributes, replies, request.speech, fulfilled=APOLOGY not in _texts(replies))


def _slot_values(slots: Any) -> dict[str, Any]:
    """Lex slots as {name: value}: the interpreted value, else what the user said."""
    values = {}
    for name, slot in (slots or {}).items() if isinstance(slots, dict) else []:
        value = (slot or {}).get("value") or {}
        chosen = value.get("interpretedValue") or value.get("originalValue")
        if isinstance(chosen, str) and chosen:
            values[name] = chosen
    return values


def _restore(request: LexRequest) -> Tracker:
    """The conversation so far, as far as the session keeps it: slots, form, last turn."""
    events: list[Event] = [SlotSet(name, value) for name, value in request.state.get("slots", {}).items()]
    if request.state.get("loop"):
        events.insert(0, ActiveLoop(request.state["loop"]))
    last = request.state.get("last") or {}
    if last.get("intent"):
        events.append(UserUttered(last.get("text", ""), {"intent": {"name": last["intent"], "confidence": 1.0},
                                                          "entities": []}))
        events += [ActionExecuted(name) for name in last.get("actions", [])]
        events += [BotUttered({"text": text}) for text in last.get("said", [])]
        events.append(ActionExecuted("action_listen"))
    return Tracker(request.session_id, events)


def _save_state(tracker: Tracker, lex_intent: str) -> str:
    turn = tracker.events_since_user()
    latest = tracker.latest_message
    state: dict[str, Any] = {
        "slots": {name: value for name, value in tracker.slots.items() if value is not None},
        "loop": tracker.active_loop, "lex_intent": lex_intent,
        "last": {"intent": latest.intent if latest else None, "text": latest.text if latest else "",
                 "actions": [e.name for e in turn if isinstance(e, ActionExecuted) and e.name != "action_listen"],
                 "said": [e.message.get("text") for e in turn if isinstance(e, BotUttered) and e.message.get("text")]},
    }
    encoded = json.dumps(state, ensure_ascii=False, separators=(",", ":"))
    if len(encoded) > MAX_STATE_CHARS:  # the last turn's words go first; the slots matter more
        state["last"]["said"] = []
        encoded = json.dumps(state, ensure_ascii=False, separators=(",", ":"))
    return encoded


def _load_state(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, str) or not raw:
        return {}
    try:
        state = json.loads(raw)
    except ValueError:
        log.warning("ignored an unreadable %s session attribute", STATE_ATTRIBUTE)
        return {}
    return state if isinstance(state, dict) else {}


def _respond(request: LexRequest, attributes: dict[str, str], replies: list[dict[str, Any]],
             action: dict[str, Any], state: str) -> dict[str, Any]:
    return {"sessionState": {"sessionAttributes": attributes, "dialogAction": action,
                             "intent": {"name": request.lex_intent, "state": state,
                                        "confirmationState": "None"}},
            "messages": _messages(replies, request.speech)}


def _close(request: LexRequest | None, attributes: dict[str, str], replies: list[dict[str, Any]],
           speech: bool, fulfilled: bool) -> dict[str, Any]:
    intent = {"name": request.lex_intent if request else FALLBACK_INTENT,
              "state": "Fulfilled" if fulfilled else "Failed"}
    return {"sessionState": {"sessionAttributes": attributes, "dialogAction": {"type": "Close"}, "intent": intent},
            "messages": _messages(replies, speech)}


def _texts(replies: list[dict[str, Any]]) -> list[str]:
    return [reply["text"] for reply in replies if reply.get("text")]


def _messages(replies: list[dict[str, Any]], speech: bool) -> list[dict[str, Any]]:
    """Text: plain text, and a response card for choices. Voice: one short SSML message."""
    if speech:
        spoken = " ".join(_speakable(reply) for reply in replies if reply.get("text"))
        return [{"contentType": "SSML", "content": f"<speak>{_escape(spoken)}</speak>"}] if spoken else []
    messages = []
    for reply in replies:
        if reply.get("text"):
            messages.append({"contentType": "PlainText", "content": reply["text"]})
        buttons = [b for b in reply.get("buttons") or [] if b.get("title")][:CARD_BUTTONS]
        if buttons:
            title = (reply.get("text") or "Choose one")[:CARD_TITLE]
            messages.append({"contentType": "ImageResponseCard", "imageResponseCard": {
                "title": title, "buttons": [{"text": b["title"][:CARD_TEXT], "value": b["title"][:CARD_TEXT]}
                                            for b in buttons]}})
    return messages


def _speakable(reply: dict[str, Any]) -> str:
    """Words that read well aloud: no links, no markdown, list items as sentences."""
    text = _URL.sub("the link in the chat", reply["text"])
    lines = [_MARKDOWN.sub("", line).strip() for line in text.splitlines()]
    sentences = [line if line.endswith((".", "?", "!", ":")) else f"{line}." for line in lines if line]
    spoken = " ".join(sentences)
    buttons = [b["title"] for b in reply.get("buttons") or [] if b.get("title")]
    if buttons:
        spoken += " You can say: " + ", or ".join(buttons[:CARD_BUTTONS]) + "."
    return spoken


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")

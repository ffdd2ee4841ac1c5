"""Amazon Lex V2 as a channel: a code-hook event in, one turn of our dialogue, a Lex response out.

Lex does the language understanding (intent and slots); everything after that is the
engine's own: the same rules, forms, validations, confirmations, actions and responses.
Lambda keeps no state between calls, so the conversation's slots, its active form and
the last turn travel in one session attribute, kept under Lex's size limits.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import logging
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from bot.dialogue.answering import SOURCE_PREFIX
from bot.dialogue.domain import REQUESTED_SLOT
from bot.dialogue.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    Event,
    SlotSet,
    UserUttered,
)
from bot.dialogue.manager import APOLOGY, DialogueManager
from bot.dialogue.policies import FALLBACK_INTENT as FALLBACK
from bot.dialogue.tracker import Tracker
from bot.nlu.message import LEANS_OUT_OF_SCOPE
from bot.stores import InMemoryTrackerStore

log = logging.getLogger(__name__)

STATE_ATTRIBUTE = "coursebot"
MAX_STATE_CHARS = 8_000  # Lex passes session attributes on every turn; stay well inside its limits
MAX_MESSAGE_CHARS = 1_000  # Lex's limit on one message is 1,024 characters
MAX_TEXT_CHARS = 1_000  # what of a transcript the engine reads
MAX_KEPT_CHARS = 300  # what of a text the session keeps (the last turn's words, a slot's value)
FALLBACK_INTENT = "FallbackIntent"
CONFIRMATION_INTENTS = {"Confirmed": "affirm", "Denied": "deny"}
CONTROL_INTENTS = ("cancel", "restart")
CARD_BUTTONS, CARD_TEXT, CARD_TITLE = 5, 50, 250
_URL = re.compile(r"https?://\S+")
_MARKDOWN = re.compile(r"[*_`#>]+|^\s*[-•]\s+", re.MULTILINE)
_SESSION_KEY = secrets.token_bytes(32)  # without a configured key: valid within this container only


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
    client_attributes: dict[str, str] = field(default_factory=dict)
    # (the out-of-scope intent, its share) for a message Lex could not place that the
    # answer engine's scope model reads as leaning out of scope
    out_of_scope: tuple[str, float] | None = None

    @classmethod
    def from_event(cls, event: dict[str, Any], dialogue: DialogueManager, key: bytes = _SESSION_KEY) -> LexRequest:
        """Reads an event; what the client controls (session attributes, slot values) is
        taken only where it cannot stand in for the bot's own state: the bot's state comes
        back only with this session's signature, and Lex slots fill only the slots of the
        form that Lex's intent or the running form asks for."""
        session = event.get("sessionState")
        intent_state = session.get("intent") if isinstance(session, dict) else None
        if not isinstance(intent_state, dict):
            raise MalformedEvent("no sessionState.intent in the event")
        lex_intent, session_id = intent_state.get("name"), event.get("sessionId")
        if not isinstance(lex_intent, str) or not lex_intent:
            raise MalformedEvent("the event names no intent")
        if not isinstance(session_id, (str, int)) or not str(session_id):
            raise MalformedEvent("the event has no sessionId")
        session_id = str(session_id)[:200]
        raw_attributes = session.get("sessionAttributes")
        attributes = {str(k): v for k, v in raw_attributes.items() if isinstance(v, str)} \
            if isinstance(raw_attributes, dict) else {}
        state = _load_state(attributes.pop(STATE_ATTRIBUTE, None), session_id, key)
        domain = dialogue.domain
        text = event.get("inputTranscript")
        text = text[:MAX_TEXT_CHARS] if isinstance(text, str) else ""
        intent = FALLBACK if lex_intent == FALLBACK_INTENT or lex_intent not in domain.intents else lex_intent
        confirmation = intent_state.get("confirmationState")
        if isinstance(confirmation, str) and confirmation in CONFIRMATION_INTENTS:
            intent = CONFIRMATION_INTENTS[confirmation]
        control = dialogue.explicit.intent(text) in CONTROL_INTENTS
        entities: list[dict[str, Any]] = []
        filled: dict[str, Any] = {}
        allowed = _form_slots(dialogue, lex_intent, state.get("loop"))
        for name, value in _slot_values(intent_state.get("slots")).items():
            if name in domain.entities:
                entities.append({"entity": name, "value": value, "extractor": "lex"})
            if name in allowed and not control:
                filled[name] = value
        requested = state.get("slots", {}).get(REQUESTED_SLOT)
        if requested and requested not in filled and requested in allowed and text and not control \
                and intent not in CONFIRMATION_INTENTS.values():
            filled[requested] = text  # Lex could not read the answer: our validation says why
        return cls(session_id, text, lex_intent, intent, entities, filled,
                   event.get("inputMode") == "Speech", state, attributes, _leaning(dialogue, intent, text))

    def parse(self) -> dict[str, Any]:
        """The parse the dialogue gets; for a message leaning out of scope, in the shape the
        NLU gives one, so that the dialogue treats it the same way on every channel."""
        parse = {"text": self.text, "intent": {"name": self.intent, "confidence": 1.0},
                 "intent_ranking": [{"name": self.intent, "confidence": 1.0}], "entities": self.entities}
        if self.out_of_scope is None:
            return parse
        name, share = self.out_of_scope
        ranking = sorted([{"name": self.intent, "confidence": round(1.0 - share, 4)},
                          {"name": name, "confidence": round(share, 4)}], key=lambda r: -r["confidence"])
        return {**parse, "intent": ranking[0], "intent_ranking": ranking, LEANS_OUT_OF_SCOPE: True}


def _leaning(dialogue: DialogueManager, intent: str, text: str) -> tuple[str, float] | None:
    """What Lex could not place may be "tell me a joke" as well as a course question Lex
    missed: the answer engine's scope model tells them apart, from the words alone."""
    out_of_scope = dialogue.routing.out_of_scope_intent
    if intent != FALLBACK or not text or dialogue.answers is None or out_of_scope is None:
        return None
    share = dialogue.answers.leans_out_of_scope(text)
    return (out_of_scope, share) if share is not None else None


def _form_slots(dialogue: DialogueManager, lex_intent: str, loop: Any) -> set[str]:
    """The slots a Lex slot may fill: those of the form Lex's intent starts, and of the form
    running; never the bot's own (a pending action, a confirmation, a requested slot)."""
    forms = {dialogue.form_starts.get(lex_intent), loop if isinstance(loop, str) else None} - {None}
    return {slot for form in forms for slot in dialogue.domain.required_slots(form) if form != "confirm_form"}


def handle_event(event: dict[str, Any], dialogue: DialogueManager, key: bytes | None = None) -> dict[str, Any]:
    """One Lex V2 code-hook call; never raises (a bad event gets an apology and a log line).

    `key` signs the bot's state in the session attributes (the function's secret key); the
    same manager serves every call, each with a store of its own, so nothing is shared.
    """
    key = key or _SESSION_KEY
    try:
        return _handle(event if isinstance(event, dict) else {}, dialogue, key)
    except MalformedEvent as problem:
        log.error("malformed Lex event: %s", problem)
    except Exception:  # noqa: BLE001  (Lex needs an answer whatever happened; the log has the trace)
        log.exception("the Lex turn failed")
    return _close(None, {}, [{"text": APOLOGY}], speech=False, fulfilled=False)


def _handle(event: dict[str, Any], dialogue: DialogueManager, key: bytes) -> dict[str, Any]:
    request = LexRequest.from_event(event, dialogue, key)
    turn = copy.copy(dialogue)  # this call's conversation comes from the session, in a store of its own
    turn.store = InMemoryTrackerStore()
    turn.store.save(_restore(request))
    replies = turn.handle(request.session_id, request.text, request.parse(), filled_slots=request.filled_slots)
    tracker = turn.tracker_for(request.session_id)
    attributes = {**request.client_attributes,
                  STATE_ATTRIBUTE: _save_state(tracker, request.lex_intent, request.session_id, key,
                                               _confirm_intent(request, tracker))}
    if not replies and event.get("invocationSource") == "DialogCodeHook":
        # The engine has nothing to add: Lex continues with its own prompts and slots.
        intent = event["sessionState"]["intent"]
        return {"sessionState": {"sessionAttributes": attributes, "dialogAction": {"type": "Delegate"},
                                 "intent": {key: value for key, value in intent.items()
                                            if key in ("name", "slots", "state", "confirmationState")}}}
    requested = tracker.slots.get(REQUESTED_SLOT)
    if tracker.active_loop == "confirm_form":
        name = _confirm_intent(request, tracker)
        return _respond(request, attributes, replies, {"type": "ConfirmIntent"}, name,
                        _lex_slots(turn, tracker, name))
    if tracker.active_loop and requested:
        owner = _owner(turn, tracker.active_loop)
        if owner and requested in _form_slots(turn, owner, None):
            return _respond(request, attributes, replies, {"type": "ElicitSlot", "slotToElicit": requested}, owner,
                            _lex_slots(turn, tracker, owner))
        # No Lex intent has this slot: let Lex hear the answer as a new message.
        return _respond(request, attributes, replies, {"type": "ElicitIntent"}, None, {})
    return _close(request, attributes, replies, request.speech, fulfilled=APOLOGY not in _texts(replies))


def _owner(dialogue: DialogueManager, form: str) -> str | None:
    """The Lex intent whose rule starts `form` (it holds the form's slots in the export)."""
    return next((intent for intent, started in dialogue.form_starts.items() if started == form), None)


def _confirm_intent(request: LexRequest, tracker: Tracker) -> str:
    """The intent a confirmation is asked on: the one it began under, kept in the state."""
    if tracker.active_loop != "confirm_form":
        return ""
    return str(request.state.get("confirm_intent") or request.lex_intent)


def _lex_slots(dialogue: DialogueManager, tracker: Tracker, intent: str) -> dict[str, Any]:
    """The intent's slots as Lex should keep them: ours, as validated."""
    slots: dict[str, Any] = {}
    for name in sorted(_form_slots(dialogue, intent, None)):
        value = tracker.slots.get(name)
        slots[name] = None if value is None else {"value": {"originalValue": str(value)[:MAX_KEPT_CHARS],
                                                            "interpretedValue": str(value)[:MAX_KEPT_CHARS],
                                                            "resolvedValues": [str(value)[:MAX_KEPT_CHARS]]}}
    return slots


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


def _save_state(tracker: Tracker, lex_intent: str, session_id: str, key: bytes, confirm_intent: str = "") -> str:
    """The bot's state as one signed session attribute, within its size budget whatever the
    input: texts are cut, then the last turn's words go, then the slots that matter least."""
    turn = tracker.events_since_user()
    latest = tracker.latest_message
    slots = {name: _kept(value) for name, value in tracker.slots.items() if value is not None}
    state: dict[str, Any] = {
        "slots": slots, "loop": tracker.active_loop, "lex_intent": lex_intent, "confirm_intent": confirm_intent,
        "last": {"intent": latest.intent if latest else None, "text": (latest.text if latest else "")[:MAX_KEPT_CHARS],
                 "actions": [e.name for e in turn if isinstance(e, ActionExecuted) and e.name != "action_listen"],
                 "said": [str(e.message.get("text"))[:MAX_KEPT_CHARS] for e in turn
                          if isinstance(e, BotUttered) and e.message.get("text")]},
    }
    for shrink in (lambda: None, lambda: state["last"].update(said=[]),
                   lambda: [slots.pop(name) for name in list(slots) if name not in _ESSENTIAL],
                   lambda: state.update(slots={}, last={})):
        shrink()
        encoded = _signed(json.dumps(state, ensure_ascii=False, separators=(",", ":")), session_id, key)
        if len(encoded) <= MAX_STATE_CHARS:
            return encoded
    return encoded


# Kept when the state must shrink: what a form and a confirmation in progress need.
_ESSENTIAL = (REQUESTED_SLOT, "pending_action", "pending_summary", "pending_target", "confirmed")


def _kept(value: Any) -> Any:
    if isinstance(value, str):
        return value[:MAX_KEPT_CHARS]
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    encoded = json.dumps(value, ensure_ascii=False, default=str)
    return value if len(encoded) <= MAX_KEPT_CHARS * 4 else None


def _signed(payload: str, session_id: str, key: bytes) -> str:
    mac = hmac.new(key, f"{session_id}\0{payload}".encode("utf-8"), hashlib.sha256).hexdigest()[:32]
    return f"{payload}|{mac}"


def _load_state(raw: Any, session_id: str, key: bytes) -> dict[str, Any]:
    """The state the bot saved in this session, or {} for a missing, damaged or forged one
    (a client can send any session attributes; only the bot can sign them)."""
    if not isinstance(raw, str) or not raw or len(raw) > MAX_STATE_CHARS * 2:
        return {}
    payload, _, mac = raw.rpartition("|")
    if not payload or not hmac.compare_digest(_signed(payload, session_id, key), raw):
        log.warning("ignored a %s session attribute this bot did not sign", STATE_ATTRIBUTE)
        return {}
    try:
        state = json.loads(payload)
    except ValueError:
        return {}
    if not isinstance(state, dict) or not isinstance(state.get("slots", {}), dict):
        return {}
    return state


def _respond(request: LexRequest, attributes: dict[str, str], replies: list[dict[str, Any]],
             action: dict[str, Any], intent: str | None, slots: dict[str, Any]) -> dict[str, Any]:
    session: dict[str, Any] = {"sessionAttributes": attributes, "dialogAction": action}
    if intent:
        session["intent"] = {"name": intent, "state": "InProgress", "confirmationState": "None", "slots": slots}
    return {"sessionState": session, "messages": _messages(replies, request.speech)}


def _close(request: LexRequest | None, attributes: dict[str, str], replies: list[dict[str, Any]],
           speech: bool, fulfilled: bool) -> dict[str, Any]:
    intent = {"name": request.lex_intent if request else FALLBACK_INTENT,
              "state": "Fulfilled" if fulfilled else "Failed"}
    return {"sessionState": {"sessionAttributes": attributes, "dialogAction": {"type": "Close"}, "intent": intent},
            "messages": _messages(replies, speech)}


def _texts(replies: list[dict[str, Any]]) -> list[str]:
    return [reply["text"] for reply in replies if reply.get("text")]


def _messages(replies: list[dict[str, Any]], speech: bool) -> list[dict[str, Any]]:
    """Text: plain text, and a response card for choices. Voice: one short SSML message.
    Every message stays within Lex's length limit; audio the bot made is spoken by Lex in
    voice, and its words are given in text (Lex cannot play a file)."""
    if speech:
        spoken = " ".join(_speakable(reply) for reply in replies if reply.get("text") or _audio_text(reply))
        budget = MAX_MESSAGE_CHARS - len("<speak></speak>")
        return [{"contentType": "SSML", "content": f"<speak>{_cut(_escape(spoken), budget)}</speak>"}] \
            if spoken else []
    messages = []
    for reply in replies:
        text = reply.get("text") or ""
        if _audio_text(reply):
            text = f"{text}\n(Audio cannot play here; in voice, I say: {_audio_text(reply)})".strip()
        if text:
            messages.append({"contentType": "PlainText", "content": _cut(text, MAX_MESSAGE_CHARS)})
        buttons = [b for b in reply.get("buttons") or [] if b.get("title")][:CARD_BUTTONS]
        if buttons:
            title = (reply.get("text") or "Choose one")[:CARD_TITLE]
            messages.append({"contentType": "ImageResponseCard", "imageResponseCard": {
                "title": title, "buttons": [{"text": b["title"][:CARD_TEXT], "value": b["title"][:CARD_TEXT]}
                                            for b in buttons]}})
    return messages


def _audio_text(reply: dict[str, Any]) -> str:
    attachment = reply.get("attachment")
    payload = attachment.get("payload") if isinstance(attachment, dict) else None
    if isinstance(attachment, dict) and attachment.get("type") == "audio" and isinstance(payload, dict):
        return str(payload.get("text") or "")
    return ""


def _cut(text: str, limit: int) -> str:
    """`text` within `limit` characters, cut at a line or a word, never mid-word."""
    if len(text) <= limit:
        return text
    cut = text[:limit - 1]
    cut = cut.rsplit("\n", 1)[0] if "\n" in cut[limit // 2:] else cut.rsplit(" ", 1)[0]
    return cut.rstrip() + "…"


def _speakable(reply: dict[str, Any]) -> str:
    """Words that read well aloud: no links, no markdown, no source line, list items as sentences."""
    text = _URL.sub("the link in the chat", reply.get("text") or "")
    lines = [_MARKDOWN.sub("", line).strip() for line in text.splitlines()
             if not line.startswith(SOURCE_PREFIX)]
    sentences = [line if line.endswith((".", "?", "!", ":")) else f"{line}." for line in lines if line]
    spoken = " ".join(sentences)
    if _audio_text(reply):
        spoken = f"{spoken} {_audio_text(reply)}".strip()
    buttons = [b["title"] for b in reply.get("buttons") or [] if b.get("title")]
    if buttons:
        spoken += " You can say: " + ", or ".join(buttons[:CARD_BUTTONS]) + "."
    return spoken


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")

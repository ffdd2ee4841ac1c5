"""`export_lex`: a project as an Amazon Lex V2 import zip and a CloudFormation template.

The zip is what the Lex console writes when it exports a bot (Manifest.json, Bot.json,
BotLocale.json, Intent.json, Slot.json, SlotType.json) for the en_US locale, checked by
`bot.lex.schema` against the `lexv2-models` service model and real exports; the
template defines the same bot inline (AWS::Lex::Bot) with its Lambda code hook.
"""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

from bot.lex.cloudformation import (
    BOT_DESCRIPTION,
    IDLE_SESSION_TTL,
    LOCALE,
    MAX_RETRIES,
    NLU_THRESHOLD,
    VOICE,
    build_template,
)
from bot.lex.definition import (
    DECLINATION,
    LexBot,
    LexIntent,
    LexSlot,
    SkippedExample,
    SlotType,
    build_bot,
)

LOCALE_NAME = "English (US)"
FALLBACK_ID = "FALLBCKINT"  # the console's id of every bot's FallbackIntent
MANIFEST = {"metaData": {"schemaVersion": "1", "resourceType": "BOT", "fileFormat": "LexJson"}}


@dataclass(frozen=True)
class LexExport:
    """What `export_lex` wrote, with counts for a summary line."""

    zip_path: Path
    template_path: Path
    intents: int
    utterances: int
    slot_types: int
    skipped: tuple[SkippedExample, ...] = ()

    def summary(self) -> str:
        return (f"{self.intents} intents, {self.utterances} sample utterances, {self.slot_types} slot types "
                f"({len(self.skipped)} examples skipped) -> {self.zip_path}, {self.template_path}")


def export_lex(project, out_dir: Path, *, bot_name: str = "CourseBot",
               lambda_code: tuple[str, str] | None = None) -> LexExport:
    """Writes the Lex V2 import zip and the CloudFormation template of a project.

    Args:
        project: a loaded `bot.project.Project`.
        out_dir: where to write `<bot_name>-DRAFT-LexJson.zip` and `<bot_name>.template.json`.
        bot_name: the Lex bot's name.
        lambda_code: (S3 bucket, key) of the Lambda bundle, the template's parameter defaults.

    Raises:
        ProjectError: something Lex refuses (a name, a length, a quota), with file and line.
    """
    bot = build_bot(project, bot_name)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    zip_path = out_dir / zip_name(bot_name)
    write_zip(bot, zip_path)
    template_path = out_dir / f"{bot_name}.template.json"
    policy = json.loads((project.root / "docs" / "iam-policy.json").read_text(encoding="utf-8")) \
        if (project.root / "docs" / "iam-policy.json").exists() else {"Statement": []}
    template = build_template(bot, policy["Statement"], lambda_code,
                              call_deadline=project.settings.aws.call_deadline)
    template_path.write_text(json.dumps(template, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return LexExport(zip_path, template_path, len(bot.intents), bot.utterance_count, len(bot.slot_types),
                     tuple(bot.skipped))


def zip_name(bot_name: str) -> str:
    """As the console names an export of the draft: `<bot>-DRAFT-LexJson.zip`."""
    return f"{bot_name}-DRAFT-LexJson.zip"


def import_files(bot: LexBot) -> dict[str, dict]:
    """The import zip's files by path, in the console export's layout and spelling
    (checked against the service model and real exports by `bot.lex.schema`)."""
    locale = f"{bot.name}/BotLocales/{LOCALE}"
    files = {
        "Manifest.json": MANIFEST,
        f"{bot.name}/Bot.json": {
            "name": bot.name, "version": "DRAFT", "description": BOT_DESCRIPTION,
            "identifier": identifier("bot", bot.name), "idleSessionTTLInSeconds": IDLE_SESSION_TTL,
            "dataPrivacy": {"childDirected": False}},
        f"{locale}/BotLocale.json": {
            "name": LOCALE_NAME, "identifier": LOCALE, "version": None, "description": None,
            "voiceSettings": {"voiceId": VOICE}, "nluConfidenceThreshold": NLU_THRESHOLD},
    }
    for intent in bot.intents:
        files[f"{locale}/Intents/{intent.name}/Intent.json"] = intent_json(intent)
        for slot in intent.slots:
            files[f"{locale}/Intents/{intent.name}/Slots/{slot.name}/Slot.json"] = slot_json(intent, slot)
    for slot_type in bot.slot_types:
        files[f"{locale}/SlotTypes/{slot_type.name}/SlotType.json"] = slot_type_json(slot_type)
    return files


def write_zip(bot: LexBot, path: Path) -> None:
    """Compact UTF-8 JSON without a trailing newline, deflated, no folder entries, as exports are."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in import_files(bot).items():
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type, info.external_attr = zipfile.ZIP_DEFLATED, 0o100644 << 16
            archive.writestr(info, json.dumps(content, ensure_ascii=False, separators=(",", ":")))


def identifier(*names: str) -> str:
    """A stable 10-character [A-Z2-7] id, as exports give every bot, intent, slot and slot type."""
    return base64.b32encode(hashlib.sha256("/".join(names).encode("utf-8")).digest()).decode("ascii")[:10]


def intent_json(intent: LexIntent) -> dict:
    fallback = intent.parent_signature is not None
    confirmation = None
    if intent.confirmation:
        confirmation = {"isActive": True,
                        "promptSpecification": _prompt([intent.confirmation]),
                        "declinationResponse": {"messageGroupsList": _messages([DECLINATION]), "allowInterrupt": True}}
    return {
        "name": intent.name, "identifier": FALLBACK_ID if fallback else identifier("intent", intent.name),
        "description": intent.description, "parentIntentSignature": intent.parent_signature,
        "sampleUtterances": [{"utterance": utterance} for utterance in intent.utterances] or None,
        "intentConfirmationSetting": confirmation,
        "intentClosingSetting": None, "inputContexts": None, "outputContexts": None, "kendraConfiguration": None,
        # Lex lets the fallback intent call the fulfillment code hook only.
        "dialogCodeHook": None if fallback else {"enabled": True},
        "fulfillmentCodeHook": {"enabled": True, "fulfillmentUpdatesSpecification": None,
                                "postFulfillmentStatusSpecification": None},
        "slotPriorities": [{"priority": rank, "slotName": slot.name} for rank, slot in enumerate(intent.slots, 1)],
    }


def slot_json(intent: LexIntent, slot: LexSlot) -> dict:
    return {
        "name": slot.name, "identifier": identifier("slot", intent.name, slot.name),
        "description": slot.description or None, "slotTypeName": slot.slot_type, "obfuscationSetting": None,
        "valueElicitationSetting": {
            "defaultValueSpecification": None, "waitAndContinueSpecification": None,
            "slotConstraint": "Required" if slot.required else "Optional",
            "promptSpecification": _prompt(slot.prompt), "sampleUtterances": None},
        "multipleValuesSetting": None,
    }


def slot_type_json(slot_type: SlotType) -> dict:
    return {
        "name": slot_type.name, "identifier": identifier("slot type", slot_type.name),
        "description": f"Values of the entity '{slot_type.entity}'",
        "slotTypeValues": [{"sampleValue": {"value": value},
                            "synonyms": [{"value": synonym} for synonym in synonyms] or None}
                           for value, synonyms in slot_type.values.items()],
        "parentSlotTypeSignature": None,
        "valueSelectionSetting": {"regexFilter": None, "resolutionStrategy": slot_type.strategy},
    }


def _prompt(texts) -> dict:
    return {"maxRetries": MAX_RETRIES, "allowInterrupt": True, "messageGroupsList": _messages(texts)}


def _messages(texts) -> list[dict]:
    """One message group; Lex allows a message and up to two variations."""
    texts = list(texts)
    variations = [_message(text) for text in texts[1:3]]
    return [{"message": _message(texts[0]), "variations": variations or None}]


def _message(text: str) -> dict:
    return {"plainTextMessage": {"value": text}, "customPayload": None, "ssmlMessage": None, "imageResponseCard": None}

"""`export_lex`: a project as an Amazon Lex V2 import zip and a CloudFormation template.

The zip follows Lex V2's JSON import/export format (Manifest.json, Bot.json,
BotLocale.json, Intent.json, Slot.json, SlotType.json) for the en_US locale; the
template defines the same bot inline (AWS::Lex::Bot) with its Lambda code hook.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

from bot.lex.cloudformation import IDLE_SESSION_TTL, LOCALE, MAX_RETRIES, NLU_THRESHOLD, VOICE, build_template
from bot.lex.definition import DECLINATION, LexBot, LexIntent, LexSlot, SkippedExample, SlotType, build_bot

LOCALE_NAME = "English (US)"


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
        out_dir: where to write `<bot_name>_LexJson.zip` and `<bot_name>.template.json`.
        bot_name: the Lex bot's name.
        lambda_code: (S3 bucket, key) of the Lambda bundle, the template's parameter defaults.

    Raises:
        ProjectError: something Lex refuses (a name, a length, a quota), with file and line.
    """
    bot = build_bot(project, bot_name)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    zip_path = out_dir / f"{bot_name}_LexJson.zip"
    write_zip(bot, zip_path)
    template_path = out_dir / f"{bot_name}.template.json"
    policy = json.loads((project.root / "docs" / "iam-policy.json").read_text(encoding="utf-8")) \
        if (project.root / "docs" / "iam-policy.json").exists() else {"Statement": []}
    template = build_template(bot, policy["Statement"], lambda_code)
    template_path.write_text(json.dumps(template, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return LexExport(zip_path, template_path, len(bot.intents), bot.utterance_count, len(bot.slot_types),
                     tuple(bot.skipped))


def write_zip(bot: LexBot, path: Path) -> None:
    locale = f"{bot.name}/BotLocales/{LOCALE}"
    files = {
        "Manifest.json": {"metadata": {"schemaVersion": "1.0", "fileFormat": "LexJson", "resourceType": "Bot"}},
        f"{bot.name}/Bot.json": {
            "name": bot.name, "version": "DRAFT", "description": "CourseBot, exported from its Rasa project",
            "dataPrivacy": {"childDirected": False}, "idleSessionTTLInSeconds": IDLE_SESSION_TTL},
        f"{locale}/BotLocale.json": {
            "name": LOCALE_NAME, "identifier": LOCALE, "version": "DRAFT", "description": None,
            "voiceSettings": {"voiceId": VOICE}, "nluConfidenceThreshold": NLU_THRESHOLD},
    }
    for intent in bot.intents:
        files[f"{locale}/Intents/{intent.name}/Intent.json"] = intent_json(intent)
        for slot in intent.slots:
            files[f"{locale}/Intents/{intent.name}/Slots/{slot.name}/Slot.json"] = slot_json(slot)
    for slot_type in bot.slot_types:
        files[f"{locale}/SlotTypes/{slot_type.name}/SlotType.json"] = slot_type_json(slot_type)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, json.dumps(content, indent=2, ensure_ascii=False))


def intent_json(intent: LexIntent) -> dict:
    fallback = intent.parent_signature is not None
    confirmation = None
    if intent.confirmation:
        confirmation = {"confirmationPrompt": {"messageGroupList": _messages([intent.confirmation]),
                                               "maxRetries": MAX_RETRIES},
                        "declinationResponse": {"messageGroupList": _messages([DECLINATION])}}
    return {
        "name": intent.name, "description": intent.description,
        "parentIntentSignature": intent.parent_signature,
        "sampleUtterances": [{"utterance": utterance} for utterance in intent.utterances] or None,
        "intentConfirmationSetting": confirmation,
        "intentClosingSetting": None, "inputContexts": None, "outputContexts": None, "kendraConfiguration": None,
        # Lex lets the fallback intent call the fulfillment code hook only.
        "dialogCodeHook": None if fallback else {"enabled": True},
        "fulfillmentCodeHook": {"enabled": True},
        "slotPriorities": [{"slotName": slot.name, "priority": rank}
                           for rank, slot in enumerate(intent.slots, start=1)] or None,
    }


def slot_json(slot: LexSlot) -> dict:
    return {
        "name": slot.name, "description": slot.description or None, "slotTypeName": slot.slot_type,
        "obfuscationSetting": None, "slotConstraint": "Required" if slot.required else "Optional",
        "defaultValueSpec": None,
        "slotValueElicitationSetting": {
            "promptSpecification": {"messageGroupList": _messages(slot.prompt), "maxRetries": MAX_RETRIES},
            "sampleValueElicitingUtterances": None, "waitAndContinueSpecification": None},
    }


def slot_type_json(slot_type: SlotType) -> dict:
    return {
        "name": slot_type.name, "description": f"Values of the entity '{slot_type.entity}'",
        "slotTypeValues": [{"sampleValue": {"value": value},
                            "synonyms": [{"value": synonym} for synonym in synonyms] or None}
                           for value, synonyms in slot_type.values.items()],
        "parentSlotTypeSignature": None, "slotTypeConfiguration": None,
        "valueSelectionStrategy": slot_type.strategy,
    }


def _messages(texts) -> list[dict]:
    """One message group; Lex allows a message and up to two variations."""
    texts = list(texts)
    variations = [{"plainTextMessage": {"value": text}} for text in texts[1:3]]
    return [{"message": {"plainTextMessage": {"value": texts[0]}, "ssmlMessage": None, "customPayload": None,
                         "imageResponseCard": None},
             "variations": variations or None}]

"""The Lex import-file validator: it accepts every real console export we keep, rejects the
zip CourseBot wrote before issue 17, and rejects each kind of mistake one at a time."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from bot.lex.schema import (
    ENUM_SPELLINGS,
    EXPORT_ONLY,
    ROOT_SHAPES,
    SPELLINGS,
    check_references,
    read_folder,
    service_model,
    validate_file,
    validate_files,
)

EXPORTS = Path(__file__).parent / "data" / "lex_exports"
ROOTS = sorted(path.parent for path in EXPORTS.rglob("Manifest.json"))
# Exports copied whole; the others are a selection of their files (see their SOURCE.md).
COMPLETE = ("PizzaShopLexExport", "SST_Doc_Bot-DRAFT-WPCKL6OHLO-LexJson", "OrderFlower-repeat-DRAFT-LexJson",
            "OrderBirthStone-DRAFT-EGMYCAGN5I-LexJson")
PIZZA = EXPORTS / "lomibaod__lexV2Demos" / "PizzaShopLexExport"
PIZZA_SLOT = "PizzaShop/BotLocales/en_US/Intents/MakePizza/Slots/crust/Slot.json"
PIZZA_INTENT = "PizzaShop/BotLocales/en_US/Intents/MakePizza/Intent.json"
PIZZA_TYPE = "PizzaShop/BotLocales/en_US/SlotTypes/GoOn/SlotType.json"

# What `coursebot export lex` wrote before issue 17, verbatim but for shortened lists
# (create_notebook's utterances and slots, Voice's values).
_CONFIRMATION_MESSAGE = {"plainTextMessage": {"value": "Creating a SageMaker notebook instance costs money while "
                                                       "it runs. Shall I go ahead?"},
                         "ssmlMessage": None, "customPayload": None, "imageResponseCard": None}
_DECLINATION_MESSAGE = {"plainTextMessage": {"value": "Okay, I haven't done anything. What else can I help with?"},
                        "ssmlMessage": None, "customPayload": None, "imageResponseCard": None}
_NAME_PROMPT = {"plainTextMessage": {"value": "What should your notebook instance be called? Letters, digits and "
                                              "hyphens, up to 63 characters, for example my-first-notebook. (Say "
                                              "\"cancel\" to stop.)"},
                "ssmlMessage": None, "customPayload": None, "imageResponseCard": None}
OLD_ZIP = {
    "Manifest.json": {"metadata": {"schemaVersion": "1.0", "fileFormat": "LexJson", "resourceType": "Bot"}},
    "CourseBot/Bot.json": {"name": "CourseBot", "version": "DRAFT", "description": "CourseBot, exported from its "
                           "Rasa project", "dataPrivacy": {"childDirected": False}, "idleSessionTTLInSeconds": 300},
    "CourseBot/BotLocales/en_US/BotLocale.json": {
        "name": "English (US)", "identifier": "en_US", "version": "DRAFT", "description": None,
        "voiceSettings": {"voiceId": "Joanna"}, "nluConfidenceThreshold": 0.4},
    "CourseBot/BotLocales/en_US/Intents/create_notebook/Intent.json": {
        "name": "create_notebook", "description": "CourseBot intent create_notebook", "parentIntentSignature": None,
        "sampleUtterances": [{"utterance": "create a notebook instance for me"}],
        "intentConfirmationSetting": {
            "confirmationPrompt": {"messageGroupList": [{"message": _CONFIRMATION_MESSAGE, "variations": None}],
                                   "maxRetries": 2},
            "declinationResponse": {"messageGroupList": [{"message": _DECLINATION_MESSAGE, "variations": None}]}},
        "intentClosingSetting": None, "inputContexts": None, "outputContexts": None, "kendraConfiguration": None,
        "dialogCodeHook": {"enabled": True}, "fulfillmentCodeHook": {"enabled": True},
        "slotPriorities": [{"slotName": "notebook_name", "priority": 1}]},
    "CourseBot/BotLocales/en_US/Intents/create_notebook/Slots/notebook_name/Slot.json": {
        "name": "notebook_name", "description": None, "slotTypeName": "AMAZON.AlphaNumeric",
        "obfuscationSetting": None, "slotConstraint": "Required", "defaultValueSpec": None,
        "slotValueElicitationSetting": {
            "promptSpecification": {"messageGroupList": [{"message": _NAME_PROMPT, "variations": None}],
                                    "maxRetries": 2},
            "sampleValueElicitingUtterances": None, "waitAndContinueSpecification": None}},
    "CourseBot/BotLocales/en_US/SlotTypes/Voice/SlotType.json": {
        "name": "Voice", "description": "Values of the entity 'voice'",
        "slotTypeValues": [{"sampleValue": {"value": "Joanna"}, "synonyms": None}],
        "parentSlotTypeSignature": None, "slotTypeConfiguration": None, "valueSelectionStrategy": "ORIGINAL_VALUE"},
}
OLD_SLOT = "CourseBot/BotLocales/en_US/Intents/create_notebook/Slots/notebook_name/Slot.json"
OLD_INTENT = "CourseBot/BotLocales/en_US/Intents/create_notebook/Intent.json"
OLD_TYPE = "CourseBot/BotLocales/en_US/SlotTypes/Voice/SlotType.json"


def _export_files() -> list[tuple[Path, str]]:
    return [(root, path.relative_to(root).as_posix()) for root in ROOTS for path in sorted(root.rglob("*.json"))]


def _problems(name: str, body) -> str:
    return "\n".join(validate_file(name, body))


@pytest.fixture(scope="module")
def pizza() -> dict:
    return read_folder(PIZZA)


def test_the_fixtures_hold_every_kind_of_file_from_several_exports():
    kinds = {Path(name).name for _, name in _export_files()}
    assert {*ROOT_SHAPES, "Manifest.json"} <= kinds
    assert len(ROOTS) == 6 and len(_export_files()) >= 50


@pytest.mark.parametrize("root, name", _export_files(), ids=[f"{r.name}/{n}" for r, n in _export_files()])
def test_every_file_of_every_real_export_is_accepted(root: Path, name: str):
    body = json.loads((root / name).read_text(encoding="utf-8"))
    assert validate_file(name, body) == []


@pytest.mark.parametrize("root", ROOTS, ids=[root.name for root in ROOTS])
def test_every_real_export_has_an_accepted_layout(root: Path):
    files = read_folder(root)
    assert validate_files(files) == []
    if root.name in COMPLETE:
        assert check_references(files) == []


def test_the_spelling_table_names_what_the_model_has():
    """If botocore's model changes under the table, this says which entry to revisit."""
    model = service_model()
    for spelling in SPELLINGS:
        shape = model.shape_for(spelling.shape)
        assert spelling.key not in shape.members or spelling.key == spelling.member, spelling
        if spelling.value_shape is None:
            assert spelling.member in shape.members, spelling
        elif not spelling.value_shape.startswith("<"):
            model.shape_for(spelling.value_shape)
    for (enum, export_value), model_value in ENUM_SPELLINGS.items():
        assert model_value in model.shape_for(enum).enum and export_value not in model.shape_for(enum).enum
    for shape, key in EXPORT_ONLY:
        assert key not in model.shape_for(shape).members, f"{shape} has {key} now: drop it from EXPORT_ONLY"


def test_the_zip_written_before_issue_17_is_rejected_for_each_named_mistake():
    problems = "\n".join(validate_files(OLD_ZIP))
    expected = [
        f"{OLD_SLOT}: slotValueElicitationSetting: unknown member of CreateSlotRequest",
        f"{OLD_SLOT}: slotConstraint: unknown member of CreateSlotRequest",
        f"{OLD_SLOT}: defaultValueSpec: unknown member of CreateSlotRequest",
        f"{OLD_SLOT}: valueElicitationSetting: required member of CreateSlotRequest is missing",
        f"{OLD_TYPE}: valueSelectionStrategy: unknown member of CreateSlotTypeRequest",
        f"{OLD_TYPE}: slotTypeConfiguration: unknown member of CreateSlotTypeRequest",
        f"{OLD_INTENT}: intentConfirmationSetting.confirmationPrompt: unknown member of IntentConfirmationSetting",
        f"{OLD_INTENT}: intentConfirmationSetting.declinationResponse.messageGroupList: unknown member of "
        "ResponseSpecification",
        f"{OLD_INTENT}: intentConfirmationSetting.declinationResponse.messageGroupsList: required member",
        "Manifest.json: must be {\"metaData\": {\"schemaVersion\": \"1\", \"resourceType\": \"BOT\", "
        "\"fileFormat\": \"LexJson\"}} (the key is 'metaData')",
    ]
    for line in expected:
        assert line in problems, f"{line}\nnot in\n{problems}"


def test_the_manifest_must_be_as_exports_write_it():
    good = {"metaData": {"fileFormat": "LexJson", "resourceType": "BOT", "schemaVersion": "1"}}
    assert validate_file("Manifest.json", good) == []
    for key, value, said in (("schemaVersion", "1.0", 'is "1.0"; exports write "1"'),
                             ("resourceType", "Bot", 'is "Bot"; exports write "BOT"'),
                             ("fileFormat", "TSV", 'is "TSV"; exports write "LexJson"')):
        wrong = copy.deepcopy(good)
        wrong["metaData"][key] = value
        assert said in _problems("Manifest.json", wrong)
    assert "metaData.fileFormat is missing" in _problems("Manifest.json", {"metaData": {"schemaVersion": "1",
                                                                                       "resourceType": "BOT"}})


def _mutated(pizza: dict, name: str, change) -> str:
    body = copy.deepcopy(pizza[name])
    change(body)
    return _problems(name, body)


def _prompt(body: dict) -> dict:
    return body["valueElicitationSetting"]["promptSpecification"]


def test_each_kind_of_mistake_in_a_real_file_is_rejected(pizza):
    slot, intent, slot_type = PIZZA_SLOT, PIZZA_INTENT, PIZZA_TYPE
    cases = [
        # The model's own spelling where exports write another one.
        (slot, lambda b: _prompt(b).update(messageGroups=_prompt(b).pop("messageGroupsList")),
         "exports write 'messageGroupsList' for the model's 'messageGroups'"),
        (slot_type, lambda b: b["valueSelectionSetting"].update(resolutionStrategy="TopResolution"),
         "exports write 'TOP_RESOLUTION' for the model's 'TopResolution'"),
        (intent, lambda b: b["intentClosingSetting"].update(active=b["intentClosingSetting"].pop("isActive")),
         "exports write 'isActive' for the model's 'active'"),
        # Unknown keys at any depth, and values outside enums, ranges, lengths and patterns.
        (slot, lambda b: _prompt(b)["messageGroupsList"][0]["message"]["plainTextMessage"].update(text="x"),
         "plainTextMessage.text: unknown member of PlainTextMessage"),
        (slot, lambda b: b["valueElicitationSetting"].update(slotConstraint="Mandatory"),
         "'Mandatory' is not one of Required, Optional"),
        (slot_type, lambda b: b["valueSelectionSetting"].update(resolutionStrategy="FIRST_VALUE"),
         "'FIRST_VALUE' is not one of ORIGINAL_VALUE, TOP_RESOLUTION, Concatenation"),
        (slot, lambda b: _prompt(b).update(maxRetries=9), "maxRetries: 9; PromptMaxRetries takes at most 5"),
        (slot, lambda b: _prompt(b).update(maxRetries="4"), "must be a number"),
        (slot, lambda b: _prompt(b).update(allowInterrupt="yes"), "must be true or false"),
        (slot, lambda b: b.update(name="crust type"), "does not match ^([0-9a-zA-Z][_-]?){1,100}$ (Name)"),
        (slot, lambda b: b.update(identifier="BJB1N0"), "identifier: 6 characters; Id takes at least 10"),
        (slot, lambda b: b.update(slotTypeName="AMAZON.Date.Extra"), "(BuiltInOrCustomSlotTypeId)"),
        (slot, lambda b: _prompt(b).update(messageGroupsList=[]), "MessageGroupsList takes at least 1"),
        (slot, lambda b: _prompt(b).update(messageGroupsList=_prompt(b)["messageGroupsList"] * 6),
         "MessageGroupsList takes at most 5"),
        (slot, lambda b: _prompt(b)["messageGroupsList"].append(None), "null in a list"),
        (slot_type, lambda b: b["slotTypeValues"][0]["sampleValue"].update(value="x" * 141),
         "141 characters; Value takes at most 140"),
        (intent, lambda b: b.update(sampleUtterances="I want a pizza"), "must be a list"),
        # Required members, including the ones exports spell their own way.
        (slot, lambda b: b["valueElicitationSetting"].pop("slotConstraint"),
         "valueElicitationSetting.slotConstraint: required member of SlotValueElicitationSetting is missing"),
        (slot, lambda b: _prompt(b).pop("messageGroupsList"), "messageGroupsList: required member"),
        (slot, lambda b: b.pop("name"), "name: required member of CreateSlotRequest is missing"),
        (intent, lambda b: b["slotPriorities"][0].pop("slotName"), "slotName: required member of SlotPriority"),
        (intent, lambda b: b["slotPriorities"][0].update(slotId="BJB1N0OM5J"),
         "exports write 'slotName' for the model's 'slotId'"),
    ]
    for name, change, said in cases:
        assert said in _mutated(pizza, name, change), said


def test_explicit_nulls_stand_for_unset_members_but_not_for_required_ones(pizza):
    assert _mutated(pizza, PIZZA_SLOT, lambda b: b.update(description=None, multipleValuesSetting=None)) == ""
    assert "slotConstraint: required member" in _mutated(
        pizza, PIZZA_SLOT, lambda b: b["valueElicitationSetting"].update(slotConstraint=None))
    assert "exports write it only as null" in _mutated(pizza, PIZZA_INTENT,
                                                       lambda b: b.update(bedrockAgentIntentConfiguration={}))


def test_the_layout_and_the_references_between_files_are_checked(pizza):
    moved = dict(pizza)
    moved["PizzaShop/BotLocales/en_US/Intents/OrderPizza/Intent.json"] = moved.pop(PIZZA_INTENT)
    assert "the folder is 'OrderPizza' but the file's name is 'MakePizza'" in "\n".join(validate_files(moved))
    stray = {**pizza, "PizzaShop/Intents/MakePizza/Intent.json": pizza[PIZZA_INTENT]}
    assert "not where a Lex export keeps its files" in "\n".join(validate_files(stray))
    no_manifest = {name: body for name, body in pizza.items() if name != "Manifest.json"}
    assert "one Manifest.json at the top of the zip is needed, found 0" in validate_files(no_manifest)
    broken = copy.deepcopy(pizza)
    broken[PIZZA_INTENT]["sampleUtterances"].append({"utterance": "a {size} pizza"})
    broken[PIZZA_INTENT]["slotPriorities"].pop()
    del broken[PIZZA_TYPE]
    problems = "\n".join(check_references(broken))
    assert "references ['size'], not slots of MakePizza" in problems
    assert "slotPriorities name ['crust', 'topping'], the Slots folder holds ['crust', 'topping', 'waitStop']" \
        in problems
    assert "the slot type 'GoOn' is neither built in nor in SlotTypes/" in problems

"""Checks Lex V2 import files against the real thing: the `lexv2-models` service model that
botocore ships, and what the Lex console writes when it exports a bot.

Each file of an import zip is read as the request that creates it (Bot.json as
CreateBotRequest, BotLocale.json as CreateBotLocaleRequest, Intent.json as
CreateIntentRequest, Slot.json as CreateSlotRequest, SlotType.json as
CreateSlotTypeRequest) and walked member by member: unknown keys, missing required
members, enum values, string lengths and patterns, number ranges and list sizes. The
export spells some members differently from the model; `SPELLINGS` and `ENUM_SPELLINGS`
list every difference found by comparing real console exports (tests/data/lex_exports)
with the model, and nothing else is forgiven. Manifest.json and the folder layout are
checked against the same exports.

botocore is imported on first use (it is there wherever boto3 is).
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Any

ROOT_SHAPES = {"Bot.json": "CreateBotRequest", "BotLocale.json": "CreateBotLocaleRequest",
               "Intent.json": "CreateIntentRequest", "Slot.json": "CreateSlotRequest",
               "SlotType.json": "CreateSlotTypeRequest"}
# Written by the console's visual conversation builder; the model has no shape for it.
UNCHECKED_FILES = ("ConversationFlow.json",)
MANIFEST = {"metaData": {"schemaVersion": "1", "resourceType": "BOT", "fileFormat": "LexJson"}}
# The model spelling of the manifest's values (enums ImportResourceType, ImportExportFileFormat).
MANIFEST_ENUMS = {"resourceType": ("ImportResourceType", "Bot"), "fileFormat": ("ImportExportFileFormat", "LexJson")}
BUILT_IN = "AMAZON."


@dataclass(frozen=True)
class Spelling:
    """In shape `shape`, the export writes `key` for the model member `member`; its value is
    checked against `value_shape` (default: the member's own shape)."""

    shape: str
    key: str
    member: str
    value_shape: str | None = None
    why: str = ""


# Every difference between the export's keys and the model's members (lex_facts §9).
SPELLINGS = (
    Spelling("PromptSpecification", "messageGroupsList", "messageGroups"),
    Spelling("ResponseSpecification", "messageGroupsList", "messageGroups"),
    Spelling("IntentClosingSetting", "isActive", "active"),
    Spelling("IntentConfirmationSetting", "isActive", "active"),
    Spelling("FulfillmentCodeHookSettings", "isActive", "active"),
    Spelling("DialogCodeHookInvocationSetting", "isActive", "active"),
    Spelling("ImageResponseCard", "buttonsList", "buttons"),
    Spelling("SlotPriority", "slotName", "slotId", "Name", "the export names the slot; the API takes its id"),
    # The files' own names and ids, which the requests take under other names (or in the URI).
    Spelling("CreateBotRequest", "name", "botName"),
    Spelling("CreateBotRequest", "identifier", "botId", "Id", "UpdateBotRequest's member"),
    Spelling("CreateBotRequest", "version", "botVersion", "BotVersion", "DescribeBotVersion's member"),
    Spelling("CreateBotLocaleRequest", "identifier", "localeId"),
    Spelling("CreateBotLocaleRequest", "name", "localeName", "LocaleName", "DescribeBotLocale's member"),
    Spelling("CreateBotLocaleRequest", "version", "botVersion"),
    Spelling("CreateBotLocaleRequest", "nluConfidenceThreshold", "nluIntentConfidenceThreshold"),
    Spelling("CreateIntentRequest", "name", "intentName"),
    Spelling("CreateIntentRequest", "identifier", "intentId", "Id", "UpdateIntentRequest's member"),
    Spelling("CreateIntentRequest", "slotPriorities", "slotPriorities", "SlotPrioritiesList",
             "only UpdateIntentRequest has it: the import sets it once the slots exist"),
    Spelling("CreateSlotRequest", "name", "slotName"),
    Spelling("CreateSlotRequest", "identifier", "slotId", "Id", "UpdateSlotRequest's member"),
    Spelling("CreateSlotRequest", "slotTypeName", "slotTypeId", "<slot type reference>",
             "a custom type's name or a built-in AMAZON.* type, not an id"),
    Spelling("CreateSlotTypeRequest", "name", "slotTypeName"),
    Spelling("CreateSlotTypeRequest", "identifier", "slotTypeId", "Id", "UpdateSlotTypeRequest's member"),
)
# Enum values the export writes in another spelling: (enum shape, export value) -> model value.
ENUM_SPELLINGS = {
    ("SlotValueResolutionStrategy", "TOP_RESOLUTION"): "TopResolution",
    ("SlotValueResolutionStrategy", "ORIGINAL_VALUE"): "OriginalValue",
}
# Keys newer exports write that this botocore's model lacks; accepted only as null.
EXPORT_ONLY = {("CreateIntentRequest", "bedrockAgentIntentConfiguration"), ("DialogAction", "intentsInScope")}
# Required members an import file does not carry: the URI members (bot, version, locale and
# intent come from the folder layout) and the bot's role (StartImport's roleArn).
SUPPLIED_ON_IMPORT = {("CreateBotRequest", "roleArn")}



@dataclass(frozen=True)
class Dialect:
    """How a document spells a service model's shapes: the Lex console's export spells
    some members and enum values its own way; a runtime response spells them as the model."""

    service: str
    spellings: tuple[Spelling, ...] = ()
    enum_spellings: Mapping[tuple[str, str], str] = field(default_factory=dict)
    export_only: frozenset[tuple[str, str]] = frozenset()
    supplied: frozenset[tuple[str, str]] = frozenset()

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_key", {(s.shape, s.key): s for s in self.spellings})
        object.__setattr__(self, "model_spelled", {(s.shape, s.member): s.key for s in self.spellings
                                                   if s.member != s.key})
        object.__setattr__(self, "enum_model_spelled", {(shape, model): export for (shape, export), model
                                                        in self.enum_spellings.items()})

    def shape(self, name: str):
        return service_model(self.service).shape_for(name)


EXPORT = Dialect("lexv2-models", SPELLINGS, ENUM_SPELLINGS, frozenset(EXPORT_ONLY), frozenset(SUPPLIED_ON_IMPORT))
RUNTIME = Dialect("lexv2-runtime")
# A code hook's answer is RecognizeText's answer less what Lex itself adds (interpretations,
# sessionId): sessionState, messages and requestAttributes, in the runtime model's shapes.
CODE_HOOK_RESPONSE = "RecognizeTextResponse"
_SLOT_REFERENCE = re.compile(r"\{([^{}]*)\}")


@lru_cache(maxsize=2)
def service_model(service: str = "lexv2-models"):
    """A Lex V2 service model (`lexv2-models`, `lexv2-runtime`) of the installed botocore."""
    import botocore.session

    return botocore.session.get_session().get_service_model(service)


def validate_file(name: str, body: Any) -> list[str]:
    """Problems of one import file (`name` is its path in the zip), as sentences; [] if none."""
    base = PurePosixPath(name).name
    if base == "Manifest.json":
        return [f"{name}: {problem}" for problem in _manifest(body)]
    if base in UNCHECKED_FILES:
        return []
    if base not in ROOT_SHAPES:
        return [f"{name}: not a file of a Lex V2 bot export"]
    problems: list[str] = []
    _check(body, EXPORT.shape(ROOT_SHAPES[base]), "", problems, EXPORT)
    return [f"{name}: {problem}" for problem in problems]


def validate_code_hook_response(response: Any) -> list[str]:
    """Problems of a Lambda code hook's response, against the `lexv2-runtime` model's
    shapes (SessionState, DialogAction, Intent, Message, ImageResponseCard, ...); [] if none."""
    problems: list[str] = []
    _check(response, RUNTIME.shape(CODE_HOOK_RESPONSE), "", problems, RUNTIME)
    return problems


def validate_files(files: Mapping[str, Any]) -> list[str]:
    """Problems of a whole export ({path in the zip: parsed JSON}): every file, the manifest
    and the folder layout. Cross-file references are `check_references`'s."""
    problems = []
    for name in sorted(files):
        problems += validate_file(name, files[name])
    return problems + _layout(files)


def validate_zip(path: Path) -> list[str]:
    """`validate_files` and `check_references` of an import zip; a file that is not UTF-8 JSON is a problem."""
    files, problems = {}, []
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            try:
                files[info.filename] = json.loads(archive.read(info).decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as error:
                problems.append(f"{info.filename}: not UTF-8 JSON ({error})")
    return problems + validate_files(files) + check_references(files)


def read_folder(root: Path) -> dict[str, Any]:
    """An unpacked export as `validate_files` takes it."""
    return {path.relative_to(root).as_posix(): json.loads(path.read_text(encoding="utf-8"))
            for path in sorted(root.rglob("*.json"))}


def check_references(files: Mapping[str, Any]) -> list[str]:
    """What one file says of another, for a complete export: every slot of an intent has a
    priority and no priority names a missing slot, utterances reference only the intent's
    slots, custom slot types exist, every locale has its FallbackIntent."""
    problems = []
    for locale, parts in _locales(files).items():
        types = {PurePosixPath(n).parent.name for n in parts if n.endswith("/SlotType.json")}
        intents = {PurePosixPath(n).parent.name: n for n in parts if n.endswith("/Intent.json")}
        if "FallbackIntent" not in intents:
            problems.append(f"{locale}: no Intents/FallbackIntent/Intent.json (every export has one)")
        for intent, name in intents.items():
            body = files[name]
            prefix = f"{locale}/Intents/{intent}/Slots/"
            slots = {n[len(prefix):].split("/")[0]: n for n in parts if n.startswith(prefix)}
            ranked = [p.get("slotName") for p in body.get("slotPriorities") or [] if isinstance(p, dict)]
            if sorted(ranked) != sorted(slots):
                problems.append(f"{name}: slotPriorities name {sorted(ranked)}, the Slots folder holds {sorted(slots)}")
            for utterance in body.get("sampleUtterances") or []:
                text = utterance.get("utterance", "") if isinstance(utterance, dict) else ""
                unknown = sorted(set(_SLOT_REFERENCE.findall(text)) - set(slots))
                if unknown:
                    problems.append(f"{name}: the utterance {text!r} references {unknown}, not slots of {intent}")
            for slot_file in slots.values():
                slot_type = files[slot_file].get("slotTypeName")
                if isinstance(slot_type, str) and not slot_type.startswith(BUILT_IN) and slot_type not in types:
                    problems.append(f"{slot_file}: the slot type {slot_type!r} is neither built in nor in SlotTypes/")
    return problems


def _manifest(body: Any) -> list[str]:
    if not isinstance(body, dict) or set(body) != {"metaData"} or not isinstance(body["metaData"], dict):
        return [f"must be {json.dumps(MANIFEST)} (the key is 'metaData'), not {json.dumps(body)[:200]}"]
    meta, wanted = body["metaData"], MANIFEST["metaData"]
    problems = [f"metaData.{key} is missing" for key in wanted if key not in meta]
    problems += [f"metaData.{key} is not a manifest member" for key in meta if key not in wanted]
    for key, value in wanted.items():
        if key in meta and meta[key] != value:
            problems.append(f"metaData.{key} is {json.dumps(meta[key])}; exports write {json.dumps(value)}")
    model = service_model()
    for key, (enum, model_value) in MANIFEST_ENUMS.items():
        if model_value not in model.shape_for(enum).enum:  # the model moved on: re-check the facts
            problems.append(f"metaData.{key}: the model's {enum} no longer has {model_value!r}")
    return problems


def _check(value: Any, shape, path: str, problems: list[str], dialect: Dialect) -> None:
    kind = shape.type_name
    where = path or "(top level)"
    if kind == "structure":
        _structure(value, shape, path, problems, dialect)
    elif kind == "list":
        if not isinstance(value, list):
            problems.append(f"{where}: must be a list ({shape.name}), not {type(value).__name__}")
            return
        _size(len(value), shape, where, "items", problems)
        for index, item in enumerate(value):
            if item is None:
                problems.append(f"{where}[{index}]: null in a list")
            else:
                _check(item, shape.member, f"{path}[{index}]", problems, dialect)
    elif kind == "map":
        if not isinstance(value, dict):
            problems.append(f"{where}: must be an object ({shape.name}), not {type(value).__name__}")
            return
        _size(len(value), shape, where, "entries", problems)
        for key, item in value.items():
            _check(key, shape.key, f"{path}{{key {key!r}}}", problems, dialect)
            if item is not None:
                _check(item, shape.value, f"{path}.{key}", problems, dialect)
    elif kind == "string":
        _string(value, shape, where, problems, dialect)
    elif kind in ("integer", "long", "double", "float"):
        accepted = (int,) if kind in ("integer", "long") else (int, float)
        if isinstance(value, bool) or not isinstance(value, accepted):
            problems.append(f"{where}: must be a number ({shape.name}, {kind}), not {json.dumps(value)[:60]}")
            return
        _size(value, shape, where, "", problems)
    elif kind == "boolean":
        if not isinstance(value, bool):
            problems.append(f"{where}: must be true or false ({shape.name}), not {json.dumps(value)[:60]}")
    elif not isinstance(value, str):  # timestamp, blob
        problems.append(f"{where}: must be a text ({shape.name}, {kind})")


def _structure(value: Any, shape, path: str, problems: list[str], dialect: Dialect) -> None:
    where = path or "(top level)"
    if not isinstance(value, dict):
        problems.append(f"{where}: must be an object ({shape.name}), not {type(value).__name__}")
        return
    members, present = shape.members, set()
    for key, item in value.items():
        at = f"{path}.{key}" if path else key
        spelling = dialect.by_key.get((shape.name, key))
        if spelling is None and (shape.name, key) in dialect.model_spelled:
            problems.append(f"{at}: exports write {dialect.model_spelled[shape.name, key]!r} for the model's {key!r} "
                            f"in {shape.name}")
            continue
        if spelling is None and key not in members:
            if (shape.name, key) in dialect.export_only:
                if item is not None:
                    problems.append(f"{at}: exports write it only as null ({shape.name} has no such member)")
                continue
            problems.append(f"{at}: unknown member of {shape.name} (it has {', '.join(_known(shape, dialect))})")
            continue
        member = spelling.member if spelling else key
        if item is None:
            continue  # exports write unset members as explicit nulls
        present.add(member)
        if spelling and spelling.value_shape == "<slot type reference>":
            target = "BuiltInOrCustomSlotTypeId" if str(item).startswith(BUILT_IN) else "Name"
            _check(item, dialect.shape(target), at, problems, dialect)
        elif spelling and spelling.value_shape:
            _check(item, dialect.shape(spelling.value_shape), at, problems, dialect)
        else:
            _check(item, members[member], at, problems, dialect)
    for required in shape.required_members:
        if required in present or (shape.name, required) in dialect.supplied:
            continue
        if members[required].serialization.get("location"):  # in the request's URI: from the folders
            continue
        spelled = dialect.model_spelled.get((shape.name, required), required)
        problems.append(f"{path + '.' if path else ''}{spelled}: required member of {shape.name} is missing")


def _known(shape, dialect: Dialect) -> list[str]:
    """The keys a file may use for a shape's members: the dialect's spellings, no URI members."""
    keys = {dialect.model_spelled.get((shape.name, name), name) for name, member in shape.members.items()
            if not member.serialization.get("location")}
    keys |= {s.key for s in dialect.spellings if s.shape == shape.name}
    return sorted(keys)


def _string(value: Any, shape, where: str, problems: list[str], dialect: Dialect) -> None:
    if not isinstance(value, str):
        problems.append(f"{where}: must be a text ({shape.name}), not {json.dumps(value)[:60]}")
        return
    enum = shape.enum
    if enum:
        if (shape.name, value) in dialect.enum_spellings:
            return
        if (shape.name, value) in dialect.enum_model_spelled:
            problems.append(f"{where}: exports write {dialect.enum_model_spelled[shape.name, value]!r} for the model's "
                            f"{value!r}")
        elif value not in enum:
            allowed = [dialect.enum_model_spelled.get((shape.name, v), v) for v in enum]
            problems.append(f"{where}: {value!r} is not one of {', '.join(allowed)} ({shape.name})")
        return
    _size(len(value), shape, where, "characters", problems)
    pattern = shape.metadata.get("pattern")
    if pattern and not re.search(pattern, value):
        problems.append(f"{where}: {value!r} does not match {pattern} ({shape.name})")


def _size(size: float, shape, where: str, unit: str, problems: list[str]) -> None:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    what = f"{size:g} {unit}".strip()
    if low is not None and size < low:
        problems.append(f"{where}: {what}; {shape.name} takes at least {low}")
    if high is not None and size > high:
        problems.append(f"{where}: {what}; {shape.name} takes at most {high}")


_LAYOUT = (
    re.compile(r"^(?P<bot>[^/]+)/Bot\.json$"),
    re.compile(r"^(?P<bot>[^/]+)/BotLocales/(?P<locale>[^/]+)/BotLocale\.json$"),
    re.compile(r"^(?P<bot>[^/]+)/BotLocales/(?P<locale>[^/]+)/Intents/(?P<intent>[^/]+)/Intent\.json$"),
    re.compile(r"^(?P<bot>[^/]+)/BotLocales/(?P<locale>[^/]+)/Intents/(?P<intent>[^/]+)/ConversationFlow\.json$"),
    re.compile(r"^(?P<bot>[^/]+)/BotLocales/(?P<locale>[^/]+)/Intents/(?P<intent>[^/]+)/Slots/(?P<slot>[^/]+)"
               r"/Slot\.json$"),
    re.compile(r"^(?P<bot>[^/]+)/BotLocales/(?P<locale>[^/]+)/SlotTypes/(?P<slot_type>[^/]+)/SlotType\.json$"),
)


def _layout(files: Mapping[str, Any]) -> list[str]:
    """Manifest.json at the top, one bot folder, folders named after what they hold (the
    locale folder after the locale's identifier). The bot folder's name is not checked: a
    real export (lomibaod's DemoBot of JavaLambdaBot) differs from its bot's name."""
    top = {PurePosixPath(n).parent for n in files if PurePosixPath(n).name == "Manifest.json"}
    if len(top) != 1:
        return [f"one Manifest.json at the top of the zip is needed, found {len(top)}"]
    [root] = top
    problems, bots = [], set()
    for name, body in files.items():
        relative = PurePosixPath(name).relative_to(root).as_posix() if PurePosixPath(name).is_relative_to(root) \
            else None
        if relative == "Manifest.json":
            continue
        match = next((m for m in (p.match(relative or "") for p in _LAYOUT) if m), None)
        if match is None:
            problems.append(f"{name}: not where a Lex export keeps its files")
            continue
        bots.add(match["bot"])
        folder, key = _named_by(match)
        if folder is not None and isinstance(body, dict) and body.get(key) != folder:
            problems.append(f"{name}: the folder is {folder!r} but the file's {key} is {body.get(key)!r}")
    if len(bots) != 1:
        problems.append(f"one bot folder is needed next to Manifest.json, found {sorted(bots)}")
    return problems


def _named_by(match: re.Match) -> tuple[str | None, str]:
    name = PurePosixPath(match.string).name
    if name == "BotLocale.json":
        return match["locale"], "identifier"
    if name == "Slot.json":
        return match["slot"], "name"
    if name == "SlotType.json":
        return match["slot_type"], "name"
    if name == "Intent.json":
        return match["intent"], "name"
    if name == "ConversationFlow.json":
        return match["intent"], "intentName"
    return None, "name"


def _locales(files: Mapping[str, Any]) -> dict[str, list[str]]:
    locales: dict[str, list[str]] = {}
    for name in files:
        parts = name.split("/")
        if "BotLocales" in parts and len(parts) > parts.index("BotLocales") + 2:
            end = parts.index("BotLocales") + 2
            locales.setdefault("/".join(parts[:end]), []).append(name)
    return locales

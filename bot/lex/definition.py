"""The Lex V2 view of a project: intents with sample utterances and slots, and slot types.

Built once from a loaded project and checked against Lex's naming rules and quotas
before anything is written; both artefacts (the import zip and the CloudFormation
template) are renderings of this one model. Standard library only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.dialogue.domain import Domain
from bot.dialogue.stories import form_starts
from bot.errors import Location, Problem, ProjectError
from bot.nlu.training_data import Example, TrainingData

# Lex V2 names (intents, slots, slot types, bots): CloudFormation's AWS::Lex::Bot schema
# and the CreateIntent API both give ^([0-9a-zA-Z][_-]?)+$, 1 to 100 characters.
NAME_PATTERN = re.compile(r"^([0-9a-zA-Z][_-]?)+$")
MAX_NAME = 100
MAX_UTTERANCE = 500           # characters per sample utterance (Lex V2 quotas)
MAX_UTTERANCES_PER_INTENT = 1500
MAX_SLOTS_PER_INTENT = 100
MAX_PROMPT = 1000             # characters of a plain-text message
MAX_SLOT_VALUE = 140          # characters of a slot type value or synonym (SampleValue)
MAX_SLOT_TYPE_VALUES = 10000  # values and synonyms per custom slot type
FALLBACK_INTENT = "FallbackIntent"
FALLBACK_SIGNATURE = "AMAZON.FallbackIntent"
ALPHANUMERIC = "AMAZON.AlphaNumeric"
FREE_FORM = "AMAZON.FreeFormInput"
# The entity whose slot type holds every instance type the instructor allows
# (`aws: notebook_instance_types` and `training_instance_types` in coursebot.yml).
INSTANCE_TYPE_ENTITY = "instance_type"
# Characters Lex reserves in an utterance: braces mark slot references.
_RESERVED = re.compile(r"[{}\x00-\x1f\x7f]")

# Intents that start something billable or destructive, with the question Lex asks.
CONFIRMATIONS = {
    "create_notebook": "Creating a SageMaker notebook instance costs money while it runs. Shall I go ahead?",
    "create_training_job": "A SageMaker training job is billed while it runs. Shall I start it?",
    "start_notebook": "A running notebook instance is billed by the hour. Shall I start it?",
    "delete_notebook": "Deleting a notebook instance cannot be undone. Shall I delete it?",
    "stop_everything": "This stops every notebook instance and training job I started for you. Go ahead?",
}
DECLINATION = "Okay, I haven't done anything. What else can I help with?"


@dataclass(frozen=True)
class LexSlot:
    name: str
    slot_type: str
    required: bool
    prompt: tuple[str, ...]
    description: str = ""


@dataclass(frozen=True)
class SkippedExample:
    intent: str
    text: str
    reason: str
    location: Location | None


@dataclass
class LexIntent:
    name: str
    description: str
    utterances: list[str] = field(default_factory=list)
    slots: list[LexSlot] = field(default_factory=list)
    confirmation: str | None = None
    parent_signature: str | None = None


@dataclass
class LexBot:
    name: str
    intents: list[LexIntent]
    slot_types: list[SlotType]
    skipped: list[SkippedExample]

    @property
    def utterance_count(self) -> int:
        return sum(len(intent.utterances) for intent in self.intents)


def build_bot(project, bot_name: str) -> LexBot:
    """The Lex model of a project; raises ProjectError on anything Lex would refuse."""
    domain, nlu = project.domain, project.nlu
    problems: list[Problem] = []
    _check_name(bot_name, "bot", None, problems)
    aws = project.settings.aws
    allowed = {INSTANCE_TYPE_ENTITY: [*aws.notebook_instance_types, *aws.training_instance_types]}
    slot_types = build_slot_types(nlu, domain, problems, allowed)
    typed = {slot_type.entity: slot_type.name for slot_type in slot_types}
    starts = form_starts(project.rules, project.domain.forms)
    intents, skipped = [], []
    for name in domain.intents:
        where = domain.locations.get(f"intent:{name}")
        _check_name(name, "intent", where, problems)
        if name == FALLBACK_INTENT:
            problems.append(Problem("lex-name", f"the intent name '{name}' is Lex's built-in fallback "
                                    "intent; rename the intent", where))
        intent = LexIntent(name, f"CourseBot intent {name}", confirmation=CONFIRMATIONS.get(name))
        resolver = _SlotResolver(domain, starts.get(name), typed)
        for example in nlu.examples_of(name):
            utterance, reason = _utterance(example, resolver)
            if reason:
                skipped.append(SkippedExample(name, example.text, reason, example.location))
                continue
            if len(utterance) > MAX_UTTERANCE:
                problems.append(Problem("lex-limit", f"the example '{example.text[:60]}...' becomes a Lex "
                                        f"utterance of {len(utterance)} characters; Lex allows at most "
                                        f"{MAX_UTTERANCE}; shorten or split it", example.location))
            elif utterance.lower() not in {u.lower() for u in intent.utterances}:
                intent.utterances.append(utterance)
        if len(intent.utterances) > MAX_UTTERANCES_PER_INTENT:
            problems.append(Problem("lex-limit", f"the intent '{name}' has {len(intent.utterances)} sample "
                                    f"utterances; Lex allows at most {MAX_UTTERANCES_PER_INTENT}", where))
        intent.slots = resolver.slots()
        if len(intent.slots) > MAX_SLOTS_PER_INTENT:
            problems.append(Problem("lex-limit", f"the intent '{name}' needs {len(intent.slots)} slots; "
                                    f"Lex allows at most {MAX_SLOTS_PER_INTENT}", where))
        for slot in intent.slots:
            _check_name(slot.name, "slot", domain.locations.get(f"slot:{slot.name}", where), problems)
        intents.append(intent)
    intents.append(LexIntent(FALLBACK_INTENT, "Anything the bot did not understand; the Lambda answers",
                             parent_signature=FALLBACK_SIGNATURE))
    if problems:
        raise ProjectError(problems)
    return LexBot(bot_name, intents, slot_types, skipped)


class _SlotResolver:
    """Decides which Lex slot of one intent each entity fills, collecting the slots used."""

    def __init__(self, domain: Domain, form: str | None, typed: dict[str, str]):
        self.domain, self.form, self.typed = domain, form, typed
        self._slots: dict[str, LexSlot] = {}
        for slot in domain.required_slots(form) if form else []:
            self._slots[slot] = LexSlot(slot, self._type_of_slot(slot), True, self._prompt(slot))

    def slot_for(self, entity: str) -> str:
        name = self.slot_name(entity)
        if name not in self._slots:
            slot_type = self.typed.get(entity, ALPHANUMERIC)
            self._slots[name] = LexSlot(name, slot_type, False, self._prompt(name))
        elif self._slots[name].slot_type == FREE_FORM:
            # Lex refuses AMAZON.FreeFormInput slots in sample utterances.
            self._slots[name] = LexSlot(name, self.typed.get(entity, ALPHANUMERIC), True, self._slots[name].prompt)
        return name

    def slots(self) -> list[LexSlot]:
        return list(self._slots.values())

    def slot_name(self, entity: str) -> str:
        slots = self.domain.slots
        for name in self.domain.required_slots(self.form) if self.form else []:
            if name == entity or any(m.type == "from_entity" and m.entity == entity and all(
                    c.active_loop == self.form for c in m.conditions) for m in slots[name].mappings):
                return name
        for slot in slots.values():
            if any(m.type == "from_entity" and m.entity == entity and not m.conditions for m in slot.mappings):
                return slot.name
        return entity

    def _type_of_slot(self, name: str) -> str:
        for mapping in self.domain.slots[name].mappings if name in self.domain.slots else ():
            if mapping.type == "from_entity" and mapping.entity:
                return self.typed.get(mapping.entity, ALPHANUMERIC)
        return FREE_FORM

    def _prompt(self, slot: str) -> tuple[str, ...]:
        for response in (f"utter_ask_{self.form}_{slot}", f"utter_ask_{slot}"):
            texts = [str(v["text"]) for v in self.domain.responses.get(response, []) if v.get("text")]
            if texts:
                return tuple(_message(text) for text in texts[:3])
        return (f"What {slot.replace('_', ' ')} should I use?",)


def _utterance(example: Example, resolver: _SlotResolver) -> tuple[str, str | None]:
    """The Lex utterance of an example, or the reason it cannot be one."""
    if _RESERVED.search(example.text):
        return "", "contains a brace or control character, which Lex reserves"
    entities = sorted(example.entities, key=lambda entity: entity.start)
    names = [resolver.slot_name(entity.entity) for entity in entities]
    if len(set(names)) < len(names):
        return "", "marks the same slot twice; a Lex utterance can reference a slot once"
    parts, cursor = [], 0
    for entity in entities:
        parts += [example.text[cursor:entity.start], "{" + resolver.slot_for(entity.entity) + "}"]
        cursor = entity.end
    parts.append(example.text[cursor:])
    return " ".join("".join(parts).split()), None


def _message(text: str) -> str:
    """A response text as a Lex plain-text message: no slot braces, within the length limit."""
    text = text.replace("{", "").replace("}", "")
    return text if len(text) <= MAX_PROMPT else text[:MAX_PROMPT - 3] + "..."


def _check_name(name: str, kind: str, where: Location | None, problems: list[Problem]) -> None:
    if len(name) > MAX_NAME or not NAME_PATTERN.match(name):
        problems.append(Problem("lex-name", f"the {kind} name '{name}' is not a valid Lex name: use letters, "
                                f"digits and single '_' or '-' between them, starting with a letter or digit, "
                                f"at most {MAX_NAME} characters", where))


@dataclass
class SlotType:
    """A custom slot type: canonical value -> synonyms, from an entity's lookup and synonyms."""

    name: str
    entity: str
    values: dict[str, list[str]]
    location: Location | None = None

    @property
    def strategy(self) -> str:
        return "TOP_RESOLUTION" if any(self.values.values()) else "ORIGINAL_VALUE"


def slot_type_name(entity: str) -> str:
    """instance_type -> InstanceType."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[_\-\s]+", entity) if part)


def build_slot_types(nlu: TrainingData, domain: Domain, problems: list[Problem],
                     allowed: dict[str, list[str]] | None = None) -> list[SlotType]:
    """One custom slot type per entity with a lookup table (or `allowed` values); synonyms,
    annotated values and the entity's `allowed` values (what the settings permit) join it."""
    allowed = allowed or {}
    canonical = {item.lower(): synonym.name for synonym in nlu.synonyms for item in synonym.items}
    canonical.update({synonym.name.lower(): synonym.name for synonym in nlu.synonyms})
    synonym_items: dict[str, list[str]] = {}
    for synonym in nlu.synonyms:
        synonym_items.setdefault(synonym.name, []).extend(synonym.items)
    types = []
    for entity in domain.entities:
        lookups = [lookup for lookup in nlu.lookups if lookup.name == entity]
        if not lookups and not allowed.get(entity):
            continue
        slot_type = SlotType(slot_type_name(entity), entity, {}, lookups[0].location if lookups else None)
        owner: dict[str, str] = {}
        pairs = [(canonical.get(item.lower(), item), item) for lookup in lookups for item in lookup.items]
        pairs += [(canonical.get(item.lower(), item), item) for item in allowed.get(entity, ())]
        pairs += [(a.value, a.text) for example in nlu.examples for a in example.entities if a.entity == entity]
        for value in list(dict.fromkeys(value for value, _ in pairs)):
            pairs += [(value, item) for item in synonym_items.get(value, [])]
        for value, surface in pairs:
            _add_value(slot_type, owner, value, surface)
        _check_slot_type(slot_type, problems)
        types.append(slot_type)
    return types


def _add_value(slot_type: SlotType, owner: dict[str, str], value: str, surface: str) -> None:
    """Adds a surface form under its canonical value; Lex wants each name once per slot type,
    so a value already known (as a value or a synonym) gathers the new forms instead."""
    value, surface = value.strip(), surface.strip()
    value = owner.get(value.lower(), value)
    if value not in slot_type.values:
        slot_type.values[value] = []
        owner[value.lower()] = value
    if surface.lower() not in owner:
        slot_type.values[value].append(surface)
        owner[surface.lower()] = value


def _check_slot_type(slot_type: SlotType, problems: list[Problem]) -> None:
    where = slot_type.location
    _check_name(slot_type.name, "slot type", where, problems)
    count = len(slot_type.values) + sum(len(synonyms) for synonyms in slot_type.values.values())
    if count > MAX_SLOT_TYPE_VALUES:
        problems.append(Problem("lex-limit", f"the lookup '{slot_type.entity}' gives {count} values and "
                                f"synonyms; a Lex slot type holds at most {MAX_SLOT_TYPE_VALUES}", where))
    for value, synonyms in slot_type.values.items():
        for text in (value, *synonyms):
            if len(text) > MAX_SLOT_VALUE:
                problems.append(Problem("lex-limit", f"the value '{text[:40]}...' of '{slot_type.entity}' has "
                                        f"{len(text)} characters; Lex allows at most {MAX_SLOT_VALUE}", where))

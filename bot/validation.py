"""`coursebot data validate`: everything loading checks, and the quality checks a
careful reviewer would make (Rasa's `data validate` and more).

Errors make the bot wrong or unloadable; warnings make it weaker. Each problem
carries a code, so a team can see at a glance which kind of mistake it is.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

from bot.errors import Location, Problem
from bot.knowledge.nlu_export import GENERATED_FILE, is_stale
from bot.knowledge.phrases import phrase_key
from bot.project import ACTIONS_DIR, DATA_DIR, KNOWLEDGE_DIR, Project, read_project
from bot.text import normalize

MIN_EXAMPLES = 10
# Responses the built-in actions say (action_default_fallback, action_restart, answers'
# declines), and the slot the engine remembers answers in (bot/dialogue/answering.py).
BUILTIN_RESPONSES = ("utter_default", "utter_restart", "utter_not_covered", "utter_not_covered_nearest")
BUILTIN_SLOTS = ("last_answer",)
_TEXT_FILES = ("*.yml", "*.md")


def validate(root: Path | str) -> list[Problem]:
    """Every problem in the project at `root`, errors first."""
    root = Path(root).resolve()
    project, problems = read_project(root)
    problems += broken_characters(root)
    if project is not None:
        for check in (duplicate_examples, thin_intents, unused_names, unimplemented_actions,
                      alias_conflicts, stale_generated, unreachable_entries, unknown_entity_values):
            problems += check(project)
    return sorted(problems, key=lambda p: (p.severity != "error", str(p.location or "")))


def duplicate_examples(project: Project) -> list[Problem]:
    """The same example (ignoring case and punctuation) twice: an error across intents."""
    seen: dict[str, tuple[str, Location | None]] = {}
    problems = []
    for example in project.nlu.examples:
        key = normalize(example.text)
        if key not in seen:
            seen[key] = (example.intent, example.location)
            continue
        intent, first = seen[key]
        if intent != example.intent:
            problems.append(Problem("conflicting-example", f"'{example.text}' is an example of both "
                                    f"'{intent}' (at {first}) and '{example.intent}'; keep it under one",
                                    example.location))
        else:
            problems.append(Problem("repeated-example", f"'{example.text}' repeats an example of "
                                    f"'{intent}' (at {first}); remove one", example.location, "warning"))
    return problems


def thin_intents(project: Project) -> list[Problem]:
    counts: dict[str, int] = defaultdict(int)
    for example in project.nlu.examples:
        counts[example.intent] += 1
    problems = []
    for intent in project.domain.intents:
        if counts[intent] < MIN_EXAMPLES:
            problems.append(Problem("few-examples", f"the intent '{intent}' has {counts[intent]} examples; "
                                    f"give it at least {MIN_EXAMPLES} varied ones",
                                    project.domain.locations.get(f"intent:{intent}"), "warning"))
    return problems


def unused_names(project: Project) -> list[Problem]:
    """Intents, entities, slots, responses and actions declared but used nowhere."""
    domain = project.domain
    flows = project.rules + project.stories
    used_intents = {s.name for f in flows for s in f.steps if s.kind in ("intent", "or")}
    used_actions = {s.name for f in flows for s in f.steps if s.kind == "action"}
    # A form runs its validate_<form> action and asks with [action|utter]_ask[_<form>]_<slot> itself.
    form_names = {f"validate_{form}" for form in domain.forms} | {
        name for form in domain.forms for slot in domain.required_slots(form)
        for kind in ("utter", "action") for name in (f"{kind}_ask_{slot}", f"{kind}_ask_{form}_{slot}")}
    used_actions |= form_names
    code_strings = _string_literals(project.root / ACTIONS_DIR)
    templates = " ".join(str(v.get("text", "")) for vs in domain.responses.values() for v in vs)
    used_entities = (project.nlu.entity_names() | {c.entity for c in project.knowledge.categories.values()}
                     | {m.entity for s in domain.slots.values() for m in s.mappings if m.entity}
                     | {r.name for r in project.nlu.regexes} | {lk.name for lk in project.nlu.lookups})
    used_slots = ({s.name for f in flows for s in f.steps if s.kind == "slot_was_set"}
                  | set(re.findall(r"\{(\w+)\}", templates)) | code_strings
                  | {s.name for s in domain.slots.values() if any(m.type != "custom" for m in s.mappings)}
                  | set(BUILTIN_SLOTS))
    checks = [
        ("intent", domain.intents, used_intents, "no rule or story uses it"),
        ("entity", domain.entities, used_entities, "no example, lookup, regex, slot or category uses it"),
        ("slot", domain.slots, used_slots, "nothing fills or reads it"),
        ("response", domain.responses, used_actions | code_strings | set(BUILTIN_RESPONSES),
         "no rule, story or action says it"),
        ("action", domain.actions, used_actions, "no rule or story runs it"),
    ]
    problems = []
    for kind, declared, used, why in checks:
        for name in declared:
            if name not in used:
                problems.append(Problem(f"unused-{kind}", f"the {kind} '{name}' is declared but {why}",
                                        domain.locations.get(f"{kind}:{name}"), "warning"))
    return problems


def unimplemented_actions(project: Project) -> list[Problem]:
    """Custom actions the domain lists but no code in actions/ names (read, not run)."""
    code_strings = _string_literals(project.root / ACTIONS_DIR)
    return [Problem("unimplemented-action", f"the domain lists the action '{name}', but no Action in "
                    f"{ACTIONS_DIR}/ has that name; add a class with `name = \"{name}\"`",
                    project.domain.locations.get(f"action:{name}"))
            for name in project.domain.actions
            if not name.startswith("utter_") and name not in code_strings]


def alias_conflicts(project: Project) -> list[Problem]:
    """A name or alias that two knowledge entries claim: the bot could not tell which."""
    owners: dict[str, str] = {}
    problems = []
    for entry in project.knowledge:
        for form in dict.fromkeys(entry.surface_forms):
            key = phrase_key(form)
            owner = owners.setdefault(key, entry.id)
            if owner != entry.id:
                problems.append(Problem("alias-conflict", f"'{form}' names both '{owner}' and '{entry.id}'; "
                                        "keep it on one entry", entry.location))
    return problems


def stale_generated(project: Project) -> list[Problem]:
    """The generated lookups and synonyms no longer match the knowledge base."""
    data_dir = project.root / DATA_DIR
    if not is_stale(project.knowledge, data_dir):
        return []
    return [Problem("stale-generated", f"{DATA_DIR}/{GENERATED_FILE} does not match the knowledge "
                    "base's names and aliases; run `coursebot data sync`",
                    Location(data_dir / GENERATED_FILE), "warning")]


def unreachable_entries(project: Project) -> list[Problem]:
    """Entries no lookup table or synonym in nlu_data/ can name."""
    lookups = {(lk.name, phrase_key(item)) for lk in project.nlu.lookups for item in lk.items}
    synonym_targets = {s.name for s in project.nlu.synonyms}
    problems = []
    for entry in project.knowledge:
        entity = project.knowledge.entity_of(entry)
        if entry.id in synonym_targets or any((entity, phrase_key(f)) in lookups for f in entry.surface_forms):
            continue
        problems.append(Problem("unreachable-entry", f"no lookup or synonym names the entry '{entry.id}'; "
                                "run `coursebot data sync`", entry.location, "warning"))
    return problems


def unknown_entity_values(project: Project) -> list[Problem]:
    """Annotated values that name no knowledge entry and fit no regex of their entity."""
    knowledge_entities = {c.entity for c in project.knowledge.categories.values()}
    patterns = defaultdict(list)
    for regex in project.nlu.regexes:
        patterns[regex.name] += [re.compile(p, re.IGNORECASE) for p in regex.items if _compiles(p)]
    problems = []
    for example in project.nlu.examples:
        for entity in example.entities:
            if entity.entity not in knowledge_entities:
                continue
            if project.knowledge.find(entity.value, entity.entity):
                continue
            if any(p.fullmatch(entity.value) for p in patterns[entity.entity]):
                continue
            problems.append(Problem("unknown-entity-value", f"'{entity.text}' is marked as {entity.entity}, "
                                    "but no knowledge entry has that name or alias; add it to an entry's "
                                    "aliases or give the annotation a \"value\"", example.location, "warning"))
    return problems


def broken_characters(root: Path) -> list[Problem]:
    """Mojibake, byte-order marks and replacement characters in the bot's content files."""
    import ftfy.badness

    problems = []
    content = [*root.glob("*.yml"), *(root / DATA_DIR).rglob("*.yml"),
               *(p for pattern in _TEXT_FILES for p in (root / KNOWLEDGE_DIR).glob(pattern))]
    for path in sorted(set(content)):
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            continue  # loading reports unreadable files
        for number, line in enumerate(lines, start=1):
            if "\ufeff" in line or "\ufffd" in line or ftfy.badness.is_bad(line):
                fixed = ftfy.fix_text(line).strip()
                problems.append(Problem("broken-characters", "broken characters (mojibake or a stray "
                                        f"byte-order mark); it probably should read: {fixed[:80]!r}",
                                        Location(path, number)))
    return problems


def _string_literals(package: Path) -> set[str]:
    strings: set[str] = set()
    for path in package.rglob("*.py"):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (OSError, SyntaxError, UnicodeDecodeError):
            continue
        strings |= {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant)
                    and isinstance(node.value, str)}
    return strings


def _compiles(pattern: str) -> bool:
    try:
        re.compile(pattern)
    except re.error:
        return False
    return True


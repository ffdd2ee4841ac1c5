"""A bot project directory, loaded and checked.

The project is the bot's content: `coursebot.yml` (engine settings), `config.yml`
(Rasa's), `domain.yml`, `nlu_data/` (NLU examples, synonyms, lookups, regexes, rules,
stories), `knowledge/` and `actions/`. The engine could run another course's bot from
another directory. Loading reports every problem with its file and line; a reference
to something undefined is an error here, so a broken project never starts.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from bot.dialogue.domain import REQUESTED_SLOT, Domain, read_domain_file
from bot.dialogue.stories import Flow, read_flows
from bot.errors import Location, Problem, ProjectError
from bot.filecheck import FileChecker
from bot.knowledge.base import KnowledgeBase, read_knowledge
from bot.nlu.training_data import TrainingData, read_nlu_section
from bot.settings import SETTINGS_FILE, EngineSettings, load_settings
from bot.yamlfile import load_yaml

DOMAIN_FILE = "domain.yml"
RASA_CONFIG_FILE = "config.yml"
DATA_DIR = "nlu_data"
KNOWLEDGE_DIR = "knowledge"
ACTIONS_DIR = "actions"
SUPPORTED_DATA_VERSIONS = ("2.0", "3.0", "3.1")
_DATA_KEYS = ("version", "nlu", "rules", "stories")


@dataclass
class Project:
    root: Path
    settings: EngineSettings
    domain: Domain
    nlu: TrainingData
    rules: list[Flow]
    stories: list[Flow]
    knowledge: KnowledgeBase
    data_files: list[Path] = field(default_factory=list)

    def training_fingerprint(self) -> str:
        """A hash of everything training reads: data files, the knowledge base and the notes,
        and the settings that shape the model and the answer index."""
        digest = hashlib.sha256()
        knowledge = self.root / KNOWLEDGE_DIR
        files = [*self.data_files, *sorted(knowledge.glob("*.yml")), *sorted(knowledge.glob("*.md")),
                 self.root / DOMAIN_FILE]
        for path in files:
            if path.exists():
                digest.update(str(path.relative_to(self.root)).encode())
                digest.update(path.read_bytes())
        # Of the engine settings only the language and the pipeline shape the model, so
        # changing, say, the AWS allowlist does not retrain.
        pipeline = [spec.as_dict() for spec in self.settings.pipeline]
        answers = self.settings.answers
        digest.update(json.dumps([self.settings.language, pipeline, answers.question_intents,
                                  answers.out_of_scope_intents], sort_keys=True, default=str).encode())
        return digest.hexdigest()


# Problems that stop a file from being read at all.
ROOT_CAUSES = ("yaml-syntax", "duplicate-key", "encoding", "unreadable", "missing-file")


PROJECT_FILES = ("domain.yml", "config.yml", "coursebot.yml", "endpoints.yml", "credentials.yml",
                 "nlu_data", "knowledge", "actions")


def copy_project(source: Path, target: Path) -> Path:
    """A copy of a project's own files (not its models): for a test or a benchmark to
    change and train without touching the original."""
    target.mkdir(parents=True)
    for name in PROJECT_FILES:
        path = source / name
        if path.is_dir():
            shutil.copytree(path, target / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif path.exists():
            shutil.copy(path, target / name)
    return target


def load_project(root: Path | str = ".") -> Project:
    """Loads a project; raises ProjectError listing every error (warnings are dropped)."""
    project, problems = read_project(root)
    errors = [p for p in problems if p.severity == "error"]
    if errors or project is None:
        raise ProjectError(errors)
    return project


def read_project(root: Path | str = ".") -> tuple[Project | None, list[Problem]]:
    """Loads what it can and returns every problem found; None when nothing usable loaded."""
    root = Path(root).resolve()
    problems: list[Problem] = []
    if not (root / DOMAIN_FILE).exists() and not (root / SETTINGS_FILE).exists():
        return None, [Problem("not-a-project", f"{root} is not a bot project: it has neither "
                              f"{DOMAIN_FILE} nor {SETTINGS_FILE}; run from the project directory "
                              "or pass --project", Location(root))]
    settings = _collect(problems, lambda: load_settings(root))
    domain = _read_domain(root, problems)
    nlu, rules, stories, data_files = _read_data(root / DATA_DIR, problems)
    _check_rasa_config(root / RASA_CONFIG_FILE, problems)
    knowledge, knowledge_problems = read_knowledge(root / KNOWLEDGE_DIR)
    problems += knowledge_problems
    root_causes = [p for p in problems if p.code in ROOT_CAUSES and p.severity == "error"]
    if root_causes:
        # A file that could not be read leaves its names undefined everywhere else: those
        # hundreds of follow-on errors would hide the one to fix.
        return None, root_causes
    problems += check_references(domain, nlu, rules + stories, knowledge)
    if settings is None:
        return None, problems
    problems += [Problem("undefined-intent", f"'dialogue: explicit_intents' in {SETTINGS_FILE} lists phrases "
                         f"for '{intent}', which {DOMAIN_FILE} does not list under 'intents'",
                         Location(root / SETTINGS_FILE))
                 for intent in settings.dialogue.explicit_intents if not domain.knows_intent(intent)]
    project = Project(root, settings, domain, nlu, rules, stories, knowledge, data_files)
    return project, problems + check_answer_settings(project)


def check_references(domain: Domain, nlu: TrainingData, flows: list[Flow],
                     knowledge: KnowledgeBase) -> list[Problem]:
    """Errors for names used somewhere but defined nowhere."""
    problems = []
    for example in nlu.examples:
        if not domain.knows_intent(example.intent):
            problems.append(Problem("undefined-intent", f"the intent '{example.intent}' has examples "
                                    f"but is not listed under 'intents' in {DOMAIN_FILE}",
                                    example.location))
        for entity in example.entities:
            if entity.entity not in domain.entities:
                problems.append(Problem(
                    "undefined-entity", f"the example '{example.text}' marks '{entity.text}' as the "
                    f"entity '{entity.entity}', which {DOMAIN_FILE} does not list under 'entities'; "
                    "add it there or fix the annotation", example.location))
    for flow in flows:
        for step in (*flow.conditions, *flow.steps):
            where = Location(flow.location.path, step.line) if flow.location else None
            if step.kind in ("intent", "or") and not domain.knows_intent(step.name):
                problems.append(Problem("undefined-intent", f"the {flow.kind} '{flow.name}' expects the "
                                        f"intent '{step.name}', which {DOMAIN_FILE} does not list", where))
            elif step.kind == "action" and not domain.knows_action(step.name):
                kind = "response" if step.name.startswith("utter_") else "action"
                fix = ("add it under 'responses'" if kind == "response" else "add it under 'actions'")
                problems.append(Problem(f"undefined-{kind}", f"the {flow.kind} '{flow.name}' runs the "
                                        f"{kind} '{step.name}', which {DOMAIN_FILE} does not define; {fix}",
                                        where))
            elif step.kind == "slot_was_set" and step.name not in domain.slots and step.name != REQUESTED_SLOT:
                problems.append(Problem("undefined-slot", f"the {flow.kind} '{flow.name}' checks the slot "
                                        f"'{step.name}', which {DOMAIN_FILE} does not define", where))
    for name in domain.actions:
        if name.startswith("utter_") and name not in domain.responses:
            problems.append(Problem("undefined-response", f"the action '{name}' looks like a response "
                                    "but no response of that name exists under 'responses'",
                                    domain.locations.get(f"action:{name}")))
    for slot in domain.slots.values():
        for mapping in slot.mappings:
            if mapping.entity and mapping.entity not in domain.entities:
                problems.append(Problem("undefined-entity", f"the slot '{slot.name}' is filled from the "
                                        f"entity '{mapping.entity}', which is not under 'entities'",
                                        domain.locations.get(f"slot:{slot.name}")))
    for form in domain.forms:
        for slot in domain.required_slots(form):
            if slot not in domain.slots:
                problems.append(Problem("undefined-slot", f"the form '{form}' asks for the slot '{slot}', "
                                        f"which {DOMAIN_FILE} does not define under 'slots'",
                                        domain.locations.get(f"form:{form}")))
    for category in knowledge.categories.values():
        if category.entity not in domain.entities:
            problems.append(Problem("undefined-entity", f"the knowledge category '{category.name}' is named "
                                    f"by the entity '{category.entity}', which {DOMAIN_FILE} does not list",
                                    Location(Path(KNOWLEDGE_DIR) / "categories.yml")))
    return problems


def _collect(problems: list[Problem], load):
    try:
        return load()
    except ProjectError as error:
        problems.extend(error.problems)
        return None


def _read_domain(root: Path, problems: list[Problem]) -> Domain:
    domain = Domain()
    path = root / DOMAIN_FILE
    paths = sorted(path.glob("*.yml")) if path.is_dir() else [path]
    for file in paths:
        if not file.exists():
            problems.append(Problem("missing-file", f"{DOMAIN_FILE} is missing; it lists the intents, "
                                    "entities, slots, responses and actions", Location(file)))
            continue
        checker = FileChecker(file)
        document = _collect(problems, lambda f=file: load_yaml(f))
        if document is not None:
            read_domain_file(document, checker, domain)
        problems.extend(checker.problems)
    return domain


def read_nlu_file(path: Path) -> TrainingData:
    """The NLU examples of one Rasa YAML file (for test data); errors raise ProjectError."""
    problems: list[Problem] = []
    nlu, _, _ = _read_data_file(path, problems)
    if any(problem.severity == "error" for problem in problems):
        raise ProjectError(problems)
    return nlu


def _read_data(directory: Path, problems: list[Problem]):
    nlu, rules, stories, files = TrainingData(), [], [], []
    if not directory.is_dir():
        problems.append(Problem("missing-file", f"the training data folder {DATA_DIR}/ is missing",
                                Location(directory)))
        return nlu, rules, stories, files
    for path in sorted(directory.rglob("*.yml")):
        files.append(path)
        file_nlu, file_rules, file_stories = _read_data_file(path, problems)
        nlu.merge(file_nlu)
        rules += file_rules
        stories += file_stories
    return nlu, rules, stories, files


def _read_data_file(path: Path, problems: list[Problem]) -> tuple[TrainingData, list[Flow], list[Flow]]:
    nlu, rules, stories = TrainingData(), [], []
    checker = FileChecker(path)
    document = _collect(problems, lambda: load_yaml(path))
    root = checker.mapping(document, "a training data file", 1) if document is not None else None
    if root is not None:
        checker.keys(root, "a training data file", allowed=_DATA_KEYS)
        version = root.get("version")
        if version is not None and str(version) not in SUPPORTED_DATA_VERSIONS:
            checker.report("bad-version", f"version '{version}' is not one we read; use "
                           f"\"{SUPPORTED_DATA_VERSIONS[-1]}\" (Rasa 3.x)", root.line_of("version"))
        if "nlu" in root:
            nlu.merge(read_nlu_section(root["nlu"], checker, root.line_of("nlu")))
        if "rules" in root:
            rules += read_flows(root["rules"], "rule", checker, root.line_of("rules"))
        if "stories" in root:
            stories += read_flows(root["stories"], "story", checker, root.line_of("stories"))
    problems.extend(checker.problems)
    return nlu, rules, stories


def _check_rasa_config(path: Path, problems: list[Problem]) -> None:
    """config.yml belongs to Rasa; we only check that it exists and parses."""
    if not path.exists():
        problems.append(Problem("missing-file", f"{RASA_CONFIG_FILE} is missing; Rasa needs it "
                                "(our engine reads coursebot.yml)", Location(path), "warning"))
        return
    _collect(problems, lambda: load_yaml(path))


def check_answer_settings(project: Project) -> list[Problem]:
    """Errors for answer settings that name intents the domain does not list."""
    answers = project.settings.answers
    named = [*answers.question_intents, *answers.out_of_scope_intents, *answers.reroute_intents,
             *answers.own_resource_intents]
    return [Problem("undefined-intent", f"'answers' in {SETTINGS_FILE} names the intent '{intent}', which "
                    f"{DOMAIN_FILE} does not list under 'intents'", Location(project.root / SETTINGS_FILE))
            for intent in dict.fromkeys(named) if not project.domain.knows_intent(intent)]

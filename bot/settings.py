"""Engine settings: `coursebot.yml` in the project root.

Rasa reads `config.yml` and would reject keys it does not know, so everything our
engine needs lives in this separate file, which Rasa never opens.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.aws.settings import AwsSettings
from bot.dialogue.explicit import ExplicitIntents
from bot.errors import ConfigError
from bot.filecheck import FileChecker
from bot.nlu.registry import check_name
from bot.yamlfile import load_yaml

SETTINGS_FILE = "coursebot.yml"


@dataclass(frozen=True)
class ComponentSpec:
    """A pipeline component by registered name, with its keyword options."""

    name: str
    options: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, **self.options}


RESPONSE_SELECTIONS = ("random", "in_turn")


@dataclass(frozen=True)
class DialogueSettings:
    """How the bot speaks: how response variations are picked, how the "Did you mean
    ...?" buttons of the two-stage fallback name each intent, and which whole messages
    mean one intent whatever the model says (a confirmation's only yes)."""

    response_selection: str = "random"
    intent_titles: dict[str, str] = field(default_factory=dict)
    explicit_intents: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def explicit(self) -> ExplicitIntents:
        return ExplicitIntents(self.explicit_intents)


@dataclass(frozen=True)
class AnswerSettings:
    """Which intents are questions about the course (the answer engine answers them from
    the notes and the knowledge base), which mean "not the course", and which the NLU may
    confuse with a course question (such a question is answered, not acted on; for
    `own_resource_intents`, only when it does not ask about the student's own things)."""

    question_intents: tuple[str, ...] = ()
    out_of_scope_intents: tuple[str, ...] = ("out_of_scope",)
    reroute_intents: tuple[str, ...] = ()
    own_resource_intents: tuple[str, ...] = ()


@dataclass(frozen=True)
class EngineSettings:
    pipeline: tuple[ComponentSpec, ...]
    model_dir: Path
    language: str = "en"
    dialogue: DialogueSettings = field(default_factory=DialogueSettings)
    aws: AwsSettings = field(default_factory=AwsSettings)
    answers: AnswerSettings = field(default_factory=AnswerSettings)


def load_settings(root: Path, checker: FileChecker | None = None) -> EngineSettings:
    """Reads coursebot.yml; a missing file is an error that says what it should hold."""
    path = root / SETTINGS_FILE
    checker = checker or FileChecker(path)
    if not path.exists():
        checker.report("missing-file", f"{SETTINGS_FILE} is missing; it holds the engine's NLU "
                       "pipeline (see the README's 'Engine settings')")
        checker.raise_if_errors()
    root_node = checker.mapping(load_yaml(path), SETTINGS_FILE, 1)
    pipeline: list[ComponentSpec] = []
    model_dir = root / "models"
    language = "en"
    dialogue = DialogueSettings()
    answers = AnswerSettings()
    aws = AwsSettings.from_mapping(None, root)
    if root_node is not None:
        checker.keys(root_node, SETTINGS_FILE, allowed=("language", "nlu", "models", "dialogue", "aws", "answers"),
                     required=("nlu",))
        if "dialogue" in root_node:
            dialogue = _read_dialogue(root_node, checker)
        if root_node.get("answers") is not None:
            answers = _read_answers(root_node, checker)
        if root_node.get("aws") is not None:
            try:
                aws = AwsSettings.from_mapping(checker.mapping(root_node["aws"], "'aws'", root_node.line_of("aws")),
                                               root)
            except ConfigError as error:
                checker.report("bad-value", str(error), root_node.line_of("aws"))
        language = checker.text(root_node, "language", SETTINGS_FILE) or language
        if checker.text(root_node, "models", SETTINGS_FILE):
            model_dir = root / str(root_node["models"])
        nlu = checker.mapping(root_node.get("nlu"), "'nlu'", root_node.line) if "nlu" in root_node else None
        if nlu is not None:
            checker.keys(nlu, "'nlu'", allowed=("pipeline",), required=("pipeline",))
            steps = checker.sequence(nlu.get("pipeline"), "the NLU pipeline", nlu.line) if nlu.get("pipeline") else None
            for index, step in enumerate(steps or []):
                spec = checker.mapping(step, "a pipeline component", steps.line_of(index))
                if spec is None:
                    continue
                name = checker.text(spec, "name", "a pipeline component", required=True)
                if name:
                    try:
                        check_name(name)
                    except ConfigError as error:
                        checker.report("unknown-component", str(error), spec.line_of("name"))
                    pipeline.append(ComponentSpec(name, {k: v for k, v in spec.items() if k != "name"}))
    checker.raise_if_errors()
    return EngineSettings(tuple(pipeline), model_dir, language, dialogue, aws, answers)


def _read_dialogue(root_node: Any, checker: FileChecker) -> DialogueSettings:
    node = checker.mapping(root_node.get("dialogue"), "'dialogue'", root_node.line_of("dialogue"))
    if node is None:
        return DialogueSettings()
    checker.keys(node, "'dialogue'", allowed=("response_selection", "intent_titles", "explicit_intents"))
    selection = checker.text(node, "response_selection", "'dialogue'") or "random"
    if selection not in RESPONSE_SELECTIONS:
        checker.report("bad-value", f"'response_selection' is '{selection}'; use one of "
                       f"{', '.join(RESPONSE_SELECTIONS)}", node.line_of("response_selection"))
    titles = {}
    if node.get("intent_titles") is not None:
        titles_node = checker.mapping(node["intent_titles"], "'intent_titles'", node.line_of("intent_titles"))
        titles = {str(k): str(v) for k, v in (titles_node or {}).items()}
    explicit: dict[str, tuple[str, ...]] = {}
    if node.get("explicit_intents") is not None:
        line = node.line_of("explicit_intents")
        explicit_node = checker.mapping(node["explicit_intents"], "'explicit_intents'", line)
        for intent, phrases in (explicit_node or {}).items():
            items = checker.sequence(phrases, f"the explicit phrases of '{intent}'", explicit_node.line_of(intent))
            explicit[str(intent)] = tuple(str(p) for p in items or [])
        try:
            ExplicitIntents(explicit)
        except ValueError as error:
            checker.report("bad-value", str(error), line)
    return DialogueSettings(selection, titles, explicit)


def _read_answers(root_node: Any, checker: FileChecker) -> AnswerSettings:
    node = checker.mapping(root_node.get("answers"), "'answers'", root_node.line_of("answers"))
    if node is None:
        return AnswerSettings()
    keys = ("question_intents", "out_of_scope_intents", "reroute_intents", "own_resource_intents")
    checker.keys(node, "'answers'", allowed=keys)
    values = {}
    for key in keys:
        if node.get(key) is not None:
            items = checker.sequence(node[key], f"'answers: {key}'", node.line_of(key))
            values[key] = tuple(str(item) for item in items or [])
    return AnswerSettings(**values)

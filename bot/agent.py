"""An Agent is a loaded bot: a project, its trained NLU pipeline and its dialogue manager.

Channels (terminal, HTTP) and the CLI talk to an Agent: `parse(text)` for the NLU
result, `handle(text, sender_id)` for the bot's replies.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from bot.aws import AwsServices
from bot.dialogue.action_loader import ActionRegistry
from bot.dialogue.manager import DialogueManager
from bot.dialogue.routing import QuestionRouting
from bot.knowledge.answers import AnswerEngine
from bot.nlu import training
from bot.nlu.pipeline import NLUPipeline, StepCallback
from bot.project import Project, load_project
from bot.stores import LockStore, TrackerStore


class Agent:
    def __init__(self, project: Project, nlu: NLUPipeline, dialogue: DialogueManager,
                 nlu_lock: threading.Lock | None = None):
        self.project = project
        self.nlu = nlu
        self.dialogue = dialogue
        # One parse at a time: the encoder already uses every core, and spaCy and the
        # embedding cache are not meant to be shared between threads. The answer engine
        # encodes questions with the same encoder, under the same lock.
        self._nlu_lock = nlu_lock or threading.Lock()

    @classmethod
    def load(cls, project_dir: Path | str = ".", *, train_if_needed: bool = True,
             on_step: StepCallback | None = None, store: TrackerStore | None = None,
             locks: LockStore | None = None, aws: AwsServices | None = None) -> Agent:
        """Loads a project; trains its model first when it is missing or out of date.

        Raises:
            ProjectError: the project has errors (each with file and line).
            ModelError: no usable model and `train_if_needed` is False.
        """
        return cls.from_project(load_project(project_dir), train_if_needed=train_if_needed,
                                on_step=on_step, store=store, locks=locks, aws=aws)

    @classmethod
    def from_project(cls, project: Project, *, train_if_needed: bool = True,
                     on_step: StepCallback | None = None, store: TrackerStore | None = None,
                     locks: LockStore | None = None, aws: AwsServices | None = None) -> Agent:
        """`aws` defaults to the project's settings against the usual AWS configuration."""
        if train_if_needed:
            training.train(project, on_step=on_step)
        nlu, _ = NLUPipeline.load(training.model_dir(project))
        settings = project.settings.dialogue
        actions = ActionRegistry.for_project(project.root, project.domain, settings.intent_titles)
        aws = aws or AwsServices(project.settings.aws, language=project.settings.language)
        nlu_lock = threading.Lock()
        answers = AnswerEngine.load(training.model_dir(project), project.knowledge, _locked(nlu.embedder(), nlu_lock))
        routing = QuestionRouting.for_answers(project.settings.answers)
        dialogue = DialogueManager.for_flows(project.domain, actions, project.knowledge, project.rules,
                                             project.stories, store, locks, settings.response_selection, aws,
                                             settings.explicit(), answers, routing)
        return cls(project, nlu, dialogue, nlu_lock)

    def parse(self, text: str) -> dict[str, Any]:
        with self._nlu_lock:
            return self.nlu.parse(text)

    def handle(self, text: str, sender_id: str = "default") -> list[dict[str, Any]]:
        """The bot's replies to one message, in Rasa's REST channel shape."""
        return self.dialogue.handle(sender_id, text, self.parse(text))


def _locked(embed: Any, lock: threading.Lock) -> Any:
    if embed is None:
        return None

    def locked(texts: list[str]) -> Any:
        with lock:
            return embed(texts)

    return locked

"""Training a project's NLU model, and knowing when it needs it.

The model directory records a fingerprint of what training read (data, knowledge,
domain, settings) and of the code version, so an unchanged project is not retrained.
A new model is written beside the old one and swapped in at the end, so a failed or
interrupted training never leaves the bot without a working model. A retraining keeps
what the stored model learned at most cost when the edit since is small (the fine-tuned
encoder; see `Component.take_over`), unless asked to start `fresh`.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from bot import __version__
from bot.dialogue.domain import DEFAULT_INTENTS
from bot.knowledge.answer_index import FORMAT as INDEX_FORMAT
from bot.knowledge.index_build import build_answer_index
from bot.nlu.component import TrainingInput
from bot.nlu.pipeline import METADATA_FILE, MODEL_FORMAT, NLUPipeline, StepCallback
from bot.project import Project

NLU_MODEL_DIR = "nlu"


@dataclass(frozen=True)
class TrainResult:
    model_dir: Path
    trained: bool
    seconds: float
    fingerprint: str
    kept: tuple[str, ...] = ()  # what was kept from the model stored before, in words


def model_dir(project: Project) -> Path:
    return project.settings.model_dir / NLU_MODEL_DIR


def fingerprint(project: Project) -> str:
    """Changes whenever training would produce a different model."""
    return hashlib.sha256(
        f"{project.training_fingerprint()}|{__version__}|{MODEL_FORMAT}|{INDEX_FORMAT}".encode()).hexdigest()


def is_current(project: Project) -> bool:
    """True when the stored model was trained from exactly this project and code."""
    return why_not_current(project) is None


def why_not_current(project: Project) -> str | None:
    """Why the stored model cannot serve this project ("is missing", ...), or None."""
    path = model_dir(project) / METADATA_FILE
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return "is missing"
    except (OSError, ValueError):
        return "is damaged"
    if not isinstance(stored, dict):
        return "is damaged"
    if stored.get("fingerprint") != fingerprint(project):
        return "is out of date (the data, the settings or CourseBot changed)"
    return None


def train(project: Project, *, force: bool = False, fresh: bool = False,
          on_step: StepCallback | None = None) -> TrainResult:
    """Trains and stores the NLU model unless an identical one is already stored; `fresh`
    learns every part anew instead of keeping what the stored model may lend."""
    target, current = model_dir(project), fingerprint(project)
    if not force and not fresh and is_current(project):
        return TrainResult(target, False, 0.0, current)
    started = time.perf_counter()
    intents = list(dict.fromkeys([*project.domain.intents, *DEFAULT_INTENTS]))
    pipeline = NLUPipeline.build(project.settings.pipeline, intents)
    previous = None if fresh else NLUPipeline.reusable_parts(target, project.settings.pipeline, __version__)
    kept = pipeline.train(TrainingInput(project.nlu, project.knowledge, list(project.domain.entities),
                                        progress=on_step), on_step, previous=previous)
    if on_step:
        on_step("building the answer index", 0, 1)
    answers = project.settings.answers
    index = build_answer_index(project, pipeline.embedder(), answers.question_intents, answers.out_of_scope_intents)
    staging = target.with_name(f".{target.name}.training-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        pipeline.persist(staging, {"fingerprint": current, "coursebot_version": __version__,
                                   "trained_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "kept": kept})
        index.save(staging)
        _swap_in(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return TrainResult(target, True, time.perf_counter() - started, current, tuple(kept))


def _swap_in(staging: Path, target: Path) -> None:
    retired = target.with_name(f".{target.name}.old-{os.getpid()}")
    if target.exists():
        target.rename(retired)
    staging.rename(target)
    shutil.rmtree(retired, ignore_errors=True)

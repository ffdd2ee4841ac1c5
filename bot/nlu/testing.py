"""Evaluating the NLU model the way `rasa test nlu` does: k-fold cross-validation over
the project's examples, or the trained model on separate annotated test data.

Each fold trains the configured pipeline from scratch on the other folds (thresholds
included), so the figures say how the engine does on sentences it never saw.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.errors import ConfigError
from bot.nlu.component import TrainingInput
from bot.nlu.pipeline import NLUPipeline
from bot.nlu.report import EntitySpan, Prediction
from bot.nlu.training_data import Example, TrainingData
from bot.project import Project

StepCallback = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Evaluation:
    predictions: list[Prediction]
    mode: str


def stratified_folds(examples: list[Example], folds: int, seed: int = 0) -> list[list[int]]:
    """Example indices in `folds` groups, each intent spread evenly over them."""
    rng = random.Random(seed)
    by_intent: dict[str, list[int]] = {}
    for index, example in enumerate(examples):
        by_intent.setdefault(example.intent, []).append(index)
    groups: list[list[int]] = [[] for _ in range(folds)]
    offset = 0
    for intent in sorted(by_intent):
        indices = by_intent[intent]
        rng.shuffle(indices)
        for position, index in enumerate(indices):
            groups[(offset + position) % folds].append(index)
        offset += len(indices)
    return groups


def cross_validate(project: Project, folds: int = 5, on_step: StepCallback | None = None) -> Evaluation:
    examples = project.nlu.examples
    if folds < 2:
        raise ConfigError(f"cross-validation needs at least 2 folds, got {folds}")
    if len(examples) < folds:
        raise ConfigError(f"{folds}-fold cross-validation needs at least {folds} examples, "
                          f"the project has {len(examples)}")
    predictions: list[Prediction] = []
    intents = project.domain.intents
    for fold, held_out in enumerate(stratified_folds(examples, folds)):
        chosen = set(held_out)

        def fold_step(what: str, done: int, total: int, fold: int = fold) -> None:
            if on_step:
                on_step(f"fold {fold + 1}/{folds}: {what}", done, total)

        train = [e for i, e in enumerate(examples) if i not in chosen]
        test = [examples[i] for i in held_out]
        pipeline = NLUPipeline.build(project.settings.pipeline, intents)
        pipeline.train(_input(project, project.nlu.with_examples(train), fold_step), fold_step)
        predictions += predict(pipeline, test)
    return Evaluation(predictions, f"{folds}-fold cross-validation")


def evaluate_model(pipeline: NLUPipeline, test: TrainingData) -> Evaluation:
    if not test.examples:
        raise ConfigError("the test data has no examples")
    return Evaluation(predict(pipeline, test.examples), "trained model on test data")


def predict(pipeline: NLUPipeline, examples: list[Example]) -> list[Prediction]:
    parses = pipeline.parse_batch([e.text for e in examples])
    return [_prediction(example, parse) for example, parse in zip(examples, parses, strict=True)]


def _prediction(example: Example, parse: dict[str, Any]) -> Prediction:
    intent = parse.get("intent") or {}
    return Prediction(
        text=example.text, intent=example.intent, predicted=str(intent.get("name")),
        confidence=float(intent.get("confidence") or 0.0),
        ranking=tuple((r["name"], float(r["confidence"])) for r in parse.get("intent_ranking", [])),
        entities=tuple(EntitySpan(a.entity, a.start, a.end, a.value) for a in example.entities),
        predicted_entities=tuple(EntitySpan(e["entity"], e["start"], e["end"], str(e["value"]))
                                 for e in parse.get("entities", [])))


def _input(project: Project, data: TrainingData, on_step: StepCallback | None) -> TrainingInput:
    return TrainingInput(data, project.knowledge, list(project.domain.entities), progress=on_step)

"""`coursebot benchmark nlu`: train the configured pipeline from scratch on public data
and measure it as the literature does.

Figures: in-scope accuracy (a fallback counts as wrong), macro F1, out-of-scope recall
and precision (`out_of_scope` and `nlu_fallback` both count as "out of scope"), entity
F1 where the data has entities, training time, single-message parse latency (p50/p99,
one message at a time, as a chat would send them) and the process's peak memory.

Thresholds are chosen on the validation split; without one, 10% of the training data
(stratified) is held out for them and the model learns from the rest.
"""

from __future__ import annotations

import resource
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

from bot.benchmarks.datasets import OUT_OF_SCOPE, BenchmarkData
from bot.nlu.classifiers.fallback import FALLBACK_INTENT
from bot.nlu.component import TrainingInput
from bot.nlu.pipeline import NLUPipeline, split_for_validation
from bot.nlu.report import EntitySpan, Prediction, entity_report
from bot.settings import ComponentSpec

StepCallback = Callable[[str, int, int], None]
VALIDATION_SHARE = 0.1
OUT_OF_SCOPE_PREDICTIONS = (OUT_OF_SCOPE, FALLBACK_INTENT)


@dataclass(frozen=True)
class BenchmarkResult:
    dataset: str
    train_examples: int
    test_examples: int
    in_scope_accuracy: float
    macro_f1: float
    oos_recall: float | None
    oos_precision: float | None
    entity_f1: float | None
    training_seconds: float
    parse_p50_ms: float
    parse_p99_ms: float
    peak_rss_mb: float
    thresholds: dict

    def as_dict(self) -> dict:
        return asdict(self)


def run(data: BenchmarkData, specs: tuple[ComponentSpec, ...], on_step: StepCallback | None = None) -> BenchmarkResult:
    training = TrainingInput(data.train, progress=on_step)
    validation = TrainingInput(data.valid) if data.valid else None
    if validation is None:
        training, validation = split_for_validation(training, share=VALIDATION_SHARE)
    intents = sorted({e.intent for e in data.train.examples})
    started = time.perf_counter()
    pipeline = NLUPipeline.build(specs, intents)
    pipeline.train(training, on_step, validation=validation)
    training_seconds = time.perf_counter() - started
    predictions, latencies = [], []
    examples = data.test.examples
    for index, example in enumerate(examples):
        begun = time.perf_counter()
        parse = pipeline.parse(example.text)
        latencies.append((time.perf_counter() - begun) * 1000)
        predictions.append(_prediction(example, parse))
        if on_step and (index % 100 == 0 or index == len(examples) - 1):
            on_step("parsing the test messages one by one", index + 1, len(examples))
    return _result(data, predictions, latencies, training_seconds, len(training.messages), pipeline)


def _prediction(example, parse: dict) -> Prediction:
    intent = parse["intent"]
    return Prediction(example.text, example.intent, str(intent["name"]), float(intent["confidence"]),
                      entities=tuple(EntitySpan(a.entity, a.start, a.end, a.value) for a in example.entities),
                      predicted_entities=tuple(EntitySpan(e["entity"], e["start"], e["end"], str(e["value"]))
                                               for e in parse["entities"]))


def _result(data: BenchmarkData, predictions: list[Prediction], latencies: list[float], training_seconds: float,
            train_examples: int, pipeline: NLUPipeline) -> BenchmarkResult:
    from sklearn.metrics import f1_score

    def folded(label: str) -> str:
        return OUT_OF_SCOPE if label in OUT_OF_SCOPE_PREDICTIONS else label

    in_scope = [p for p in predictions if p.intent != OUT_OF_SCOPE]
    accuracy = sum(p.predicted == p.intent for p in in_scope) / max(len(in_scope), 1)
    gold, predicted = [folded(p.intent) for p in predictions], [folded(p.predicted) for p in predictions]
    macro_f1 = f1_score(gold, predicted, labels=sorted(set(gold)), average="macro", zero_division=0)
    oos_recall = oos_precision = None
    if data.has_out_of_scope:
        out = [p for p in predictions if p.intent == OUT_OF_SCOPE]
        flagged = [p for p in predictions if p.predicted in OUT_OF_SCOPE_PREDICTIONS]
        oos_recall = sum(p.predicted in OUT_OF_SCOPE_PREDICTIONS for p in out) / max(len(out), 1)
        oos_precision = sum(p.intent == OUT_OF_SCOPE for p in flagged) / max(len(flagged), 1)
    has_entities = any(p.entities for p in predictions)
    entity_f1 = entity_report(predictions)["micro avg"]["f1-score"] if has_entities else None
    latencies.sort()
    thresholds = {}
    for component in pipeline.components:
        if component.calibrates:
            thresholds = {"threshold": round(component.threshold_, 4),
                          "ambiguity_threshold": round(component.margin_, 4)}
    return BenchmarkResult(
        dataset=data.name, train_examples=train_examples, test_examples=len(predictions),
        in_scope_accuracy=round(accuracy, 4), macro_f1=round(float(macro_f1), 4),
        oos_recall=None if oos_recall is None else round(oos_recall, 4),
        oos_precision=None if oos_precision is None else round(oos_precision, 4),
        entity_f1=None if entity_f1 is None else round(float(entity_f1), 4),
        training_seconds=round(training_seconds, 1),
        parse_p50_ms=round(statistics.median(latencies), 2),
        parse_p99_ms=round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], 2),
        peak_rss_mb=round(_peak_rss_mb(), 1), thresholds=thresholds)


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024

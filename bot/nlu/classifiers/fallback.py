"""Unsure answers become `nlu_fallback`, as Rasa's FallbackClassifier does.

When the top intent's confidence is under `threshold`, or the top two are closer than
`ambiguity_threshold`, the intent becomes nlu_fallback (with the threshold as its
confidence) and the original ranking is kept, so the dialogue can ask "did you mean ...?".

With `auto` (the default) both are chosen on held-out predictions, not by hand: the
pair that catches the most out-of-scope messages (or, without any, the most wrong
answers) while costing at most `max_accuracy_drop` of in-scope accuracy; among equals,
the strictest.

A message the classifier gives to an in-scope intent while still giving out-of-scope a
real share ("how do I label my images with SageMaker Ground Truth": a course intent, with
P(out_of_scope) far above what course questions get) keeps its intent and is marked as
leaning out of scope (`"leans_out_of_scope": true` in the parse); the dialogue then treats
it as out of scope, which answers it only if the course's notes clearly do. With
`out_of_scope_lean: auto` the share is chosen on the same held-out predictions: the lowest
that at most `max_out_of_scope_lean` of in-scope messages reach.

A retraining that can read the model stored before (`previous`) keeps its thresholds
while they still meet the bar on the new held-out predictions (within one message: the
accuracy budget and what is caught), and lie within `keep_within` of the new choice: those are chosen on a few hundred messages, so a small edit moves them
by less than they can be known, and moving them would flip answers at the margin
everywhere.

A message none of whose words the training data ever used, and in which no entity was
found ("qwzx plorp vrenk"), is nlu_fallback whatever the classifier says: it can only
guess there, and a guess that moves with every training run must not steer anything.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from bot.nlu.component import INTENT, Component, TrainingInput
from bot.nlu.message import Message
from bot.nlu.persistence import load_json, save_json

FALLBACK_INTENT = "nlu_fallback"
AUTO = "auto"
_STATE = "thresholds.json"
_MARGINS = (0.0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3)
_WORD = re.compile(r"[^\W\d_]+")


def words(text: str) -> set[str]:
    return {word.casefold() for word in _WORD.findall(text)}


class FallbackClassifier(Component):
    name = "fallback_classifier"
    needs = (INTENT,)
    gives = (INTENT,)
    calibrates = True
    defaults = {"threshold": AUTO, "ambiguity_threshold": AUTO, "max_accuracy_drop": 0.005,
                "out_of_scope_intents": ["out_of_scope"], "out_of_scope_lean": AUTO,
                "max_out_of_scope_lean": 0.05, "keep_within": 0.01}

    def __init__(self, **options: Any):
        super().__init__(**options)
        self.threshold_ = self.options["threshold"] if self.options["threshold"] != AUTO else 0.3
        self.margin_ = (self.options["ambiguity_threshold"]
                        if self.options["ambiguity_threshold"] != AUTO else 0.05)
        self.lean_ = self.options["out_of_scope_lean"] if self.options["out_of_scope_lean"] != AUTO else 1.01
        self.calibration_: dict[str, Any] = {}
        self.vocabulary_: frozenset[str] = frozenset()

    def train(self, training: TrainingInput) -> None:
        self.vocabulary_ = frozenset().union(*(words(m.intent_text()) for m in training.messages))

    def validate_options(self) -> None:
        for key in ("threshold", "ambiguity_threshold", "out_of_scope_lean", "max_accuracy_drop",
                    "max_out_of_scope_lean", "keep_within"):
            value = self.options[key]
            auto_allowed = not key.startswith(("max_", "keep_"))
            if not (value == AUTO and auto_allowed) and (
                    isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1):
                raise self.option_error(key, "'auto' or a number from 0 to 1" if auto_allowed
                                        else "a number from 0 to 1")
        intents = self.options["out_of_scope_intents"]
        if not isinstance(intents, list) or not all(isinstance(i, str) for i in intents):
            raise self.option_error("out_of_scope_intents", "a list of intent names")

    @property
    def reusable(self) -> bool:
        return True

    def calibrate(self, predictions: list[Message], labels: list[str], previous: Component | None = None
                  ) -> str | None:
        same = isinstance(previous, FallbackClassifier) and previous.options == self.options
        kept = self._calibrate_fallback(predictions, labels, previous if same else None)
        if self.options["out_of_scope_lean"] == AUTO:
            kept = self._calibrate_lean(predictions, labels, previous if same else None) or kept
        return "kept the fallback's thresholds, which still meet the bar on the new held-out data" if kept else None

    def _calibrate_lean(self, predictions: list[Message], labels: list[str],
                        previous: FallbackClassifier | None) -> bool:
        """The lowest out-of-scope share that at most `max_out_of_scope_lean` of the held-out
        in-scope messages reach (never when the data has no out-of-scope intent), or the
        previous model's, when it still meets that bar and is near. Whether it kept that."""
        out_of_scope = set(self.options["out_of_scope_intents"])
        shares = sorted((self._out_of_scope_share(m.intent_ranking) for m, label in zip(predictions, labels)
                         if label not in out_of_scope), reverse=True)
        if not shares or not out_of_scope & {r["name"] for m in predictions for r in m.intent_ranking}:
            return False
        allowed = int(self.options["max_out_of_scope_lean"] * len(shares))
        # just above the (allowed+1)-th highest share, so that at most `allowed` reach it
        self.lean_ = min(1.01, round(shares[allowed] + 1e-4, 4)) if allowed < len(shares) else 0.0
        if previous is not None and abs(previous.lean_ - self.lean_) <= self.options["keep_within"] \
                and sum(share >= previous.lean_ for share in shares) <= allowed:
            self.lean_ = previous.lean_
            return True
        return False

    def _out_of_scope_share(self, ranking: list[dict[str, Any]]) -> float:
        out_of_scope = self.options["out_of_scope_intents"]
        return sum(r["confidence"] for r in ranking if r["name"] in out_of_scope)

    def _calibrate_fallback(self, predictions: list[Message], labels: list[str],
                            previous: FallbackClassifier | None) -> bool:
        """See the module docstring; whether it kept the previous model's pair."""
        import numpy as np

        auto_threshold = self.options["threshold"] == AUTO
        auto_margin = self.options["ambiguity_threshold"] == AUTO
        if not predictions or not (auto_threshold or auto_margin):
            return False
        out_of_scope = set(self.options["out_of_scope_intents"])
        top = np.array([m.intent_ranking[0]["confidence"] if m.intent_ranking else 0.0 for m in predictions])
        second = np.array([m.intent_ranking[1]["confidence"] if len(m.intent_ranking) > 1 else 0.0
                           for m in predictions])
        predicted = np.array([(m.intent or {}).get("name") for m in predictions])
        gold = np.array(labels)
        in_scope = ~np.isin(gold, list(out_of_scope))
        correct = (predicted == gold) & in_scope
        # What a fallback should catch: out-of-scope messages the classifier did not
        # already call out of scope, or, with none in the data, its wrong answers.
        targets = ~in_scope if (~in_scope).any() else ~correct
        baseline = correct[in_scope].mean() if in_scope.any() else 1.0
        thresholds = np.unique(np.round(top, 3)) if auto_threshold else np.array([self.threshold_])
        thresholds = np.concatenate([[0.0], thresholds[thresholds < 1.0]])
        margins = np.array(_MARGINS) if auto_margin else np.array([self.margin_])
        def scores(threshold: float, margin: float) -> tuple[float, float]:
            """(share caught, in-scope accuracy) with this pair."""
            rejected = ((top - second) < margin) | (top < threshold)
            accuracy = (correct & ~rejected)[in_scope].mean() if in_scope.any() else 1.0
            caught = ((rejected | np.isin(predicted, list(out_of_scope))) & targets).sum() / max(targets.sum(), 1)
            return float(caught), float(accuracy)

        floor = baseline - self.options["max_accuracy_drop"] - 1e-9
        best = (-1.0, 0.0, 0.0, 0.0)
        for margin in margins:
            for threshold in thresholds:
                caught, accuracy = scores(threshold, margin)
                if accuracy < floor:
                    break  # higher thresholds only reject more
                # Ties go to the stricter setting: unsure answers the budget allows to
                # refuse are better refused (gibberish, topics the data never showed).
                if caught >= best[0] - 1e-9:
                    best = (caught, float(threshold), float(margin), accuracy)
        kept = False
        if previous is not None and best[0] >= 0 and previous.margin_ == best[2] \
                and abs(previous.threshold_ - best[1]) <= self.options["keep_within"]:
            caught, accuracy = scores(previous.threshold_, previous.margin_)
            # as good within one message each way: the calibration cannot tell them apart
            if accuracy >= floor - 1 / max(in_scope.sum(), 1) and caught >= best[0] - 1 / max(targets.sum(), 1) - 1e-9:
                best, kept = (caught, previous.threshold_, previous.margin_, accuracy), True
        if best[0] >= 0:
            self.threshold_, self.margin_ = best[1], best[2]
        self.calibration_ = {"examples": len(predictions), "in_scope_accuracy_before": round(float(baseline), 4),
                             "in_scope_accuracy_after": round(best[3], 4), "caught": round(best[0], 4),
                             "caught_what": "out-of-scope messages" if (~in_scope).any() else "wrong answers"}
        return kept

    def process(self, message: Message) -> None:
        ranking = message.intent_ranking
        if not ranking:
            return
        top = ranking[0]["confidence"]
        second = ranking[1]["confidence"] if len(ranking) > 1 else 0.0
        if top < self.threshold_ or top - second < self.margin_ or self._unknown_words_only(message):
            message.intent = {"name": FALLBACK_INTENT, "confidence": round(float(self.threshold_), 4)}
            message.intent_ranking = [dict(message.intent), *ranking]
            return
        out_of_scope, leaning = self.options["out_of_scope_intents"], self._out_of_scope_share(ranking)
        message.leans_out_of_scope = bool(out_of_scope) and ranking[0]["name"] not in out_of_scope \
            and leaning >= self.lean_

    def _unknown_words_only(self, message: Message) -> bool:
        found = words(message.intent_text())
        return bool(found) and bool(self.vocabulary_) and not message.entities and found.isdisjoint(self.vocabulary_)

    def persist(self, directory: Path) -> None:
        save_json(directory, _STATE, {"threshold": self.threshold_, "ambiguity_threshold": self.margin_,
                                      "out_of_scope_lean": self.lean_, "calibration": self.calibration_,
                                      "vocabulary": sorted(self.vocabulary_)})

    @classmethod
    def load(cls, directory: Path, options: dict[str, Any]) -> FallbackClassifier:
        component = cls(**options)
        state = load_json(directory, _STATE)
        component.threshold_, component.margin_ = state["threshold"], state["ambiguity_threshold"]
        component.lean_ = state.get("out_of_scope_lean", 1.01)
        component.calibration_ = state.get("calibration", {})
        component.vocabulary_ = frozenset(state["vocabulary"])
        return component

"""Whether a message is the course's at all, from its words alone: for the Lex code hook.

Lex sends the hook what it could not place (FallbackIntent), and that is where both the
course questions Lex missed and "tell me a joke" land. The hook has no NLU, so without
this it answered both from the notes. The scope model is a logistic regression over the
message's stemmed words, word pairs and character n-grams (typos keep most of theirs),
trained at train time on the project's examples (out_of_scope against every other
intent) and stored as plain weights in the answer index, so that the hook scores a
message in pure Python. Its threshold is chosen on held-out examples (see
`bot.knowledge.index_build`), as every other threshold is.

The features are computed here, by the one function both training and the hook use, so
the two can never disagree on what a message's features are.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bot.knowledge.lexical import stem, words

CHARACTER_NGRAMS = (3, 4, 5)
_BLOCKS = ("w:", "p:", "c:")  # stemmed words, word pairs, character n-grams of each word
WEIGHT_DIGITS = 4  # weights are stored rounded; smaller ones are dropped


def features(text: str) -> dict[str, float]:
    """The message's features, each block scaled to unit length so that a long message's
    many n-grams do not outweigh its words."""
    found = words(text)
    stems = [stem(word) for word in found]
    counts: dict[str, Counter[str]] = {block: Counter() for block in _BLOCKS}
    counts["w:"].update(stems)
    counts["p:"].update(f"{a} {b}" for a, b in zip(stems, stems[1:]))
    for word in found:
        padded = f" {word} "
        counts["c:"].update(padded[i:i + n] for n in CHARACTER_NGRAMS for i in range(len(padded) - n + 1))
    result: dict[str, float] = {}
    for block, counted in counts.items():
        norm = math.sqrt(sum(count * count for count in counted.values())) or 1.0
        for name in sorted(counted):  # sorted: the same sums, in the same order, in every process
            result[block + name] = counted[name] / norm
    return result


@dataclass
class ScopeModel:
    """P(out of scope | message) as a linear model; `threshold` is where the hook starts
    treating a message as leaning out of scope."""

    weights: dict[str, float]
    bias: float
    threshold: float = 1.0
    trained_on: dict[str, int] = field(default_factory=dict)  # examples per side, for the record

    def out_of_scope(self, text: str) -> float:
        score = self.bias + sum(value * self.weights.get(name, 0.0) for name, value in features(text).items())
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, score))))

    def leans_out_of_scope(self, text: str) -> float | None:
        """The out-of-scope probability when it reaches the threshold, else None."""
        share = self.out_of_scope(text)
        return share if share >= self.threshold else None

    def as_dict(self) -> dict[str, Any]:
        return {"weights": self.weights, "bias": self.bias, "threshold": self.threshold,
                "trained_on": self.trained_on}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScopeModel:
        return cls({str(k): float(v) for k, v in data["weights"].items()}, float(data["bias"]),
                   float(data["threshold"]), {str(k): int(v) for k, v in data.get("trained_on", {}).items()})


def train_scope_model(in_scope: list[str], out_of_scope: list[str], *, regularisation: float = 1.0,
                      folds: int = 5, seed: int = 0) -> tuple[ScopeModel, list[float]]:
    """The model trained on every example, and each example's out-of-scope probability
    from a model that did not see it (in-scope examples first, as given), for choosing
    the threshold.

    Heavy (scikit-learn): only `coursebot train` calls it.
    """
    import numpy as np
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    rows = [features(text) for text in [*in_scope, *out_of_scope]]
    labels = np.array([0] * len(in_scope) + [1] * len(out_of_scope))

    def fitted(positions: Any) -> tuple[Any, Any]:
        vectorizer = DictVectorizer()
        model = LogisticRegression(C=regularisation, max_iter=2000)
        model.fit(vectorizer.fit_transform([rows[i] for i in positions]), labels[positions])
        return vectorizer, model

    held_out = np.zeros(len(rows))
    splits = min(folds, len(in_scope), len(out_of_scope))
    if splits >= 2:
        for train, test in StratifiedKFold(splits, shuffle=True, random_state=seed).split(rows, labels):
            vectorizer, model = fitted(train)
            held_out[test] = model.predict_proba(vectorizer.transform([rows[i] for i in test]))[:, 1]
    vectorizer, model = fitted(np.arange(len(rows)))
    weights = {name: round(float(weight), WEIGHT_DIGITS)
               for name, weight in zip(vectorizer.get_feature_names_out(), model.coef_[0], strict=True)}
    scope = ScopeModel({name: weight for name, weight in weights.items() if weight},
                       round(float(model.intercept_[0]), WEIGHT_DIGITS),
                       trained_on={"in_scope": len(in_scope), "out_of_scope": len(out_of_scope)})
    return scope, [float(p) for p in held_out]

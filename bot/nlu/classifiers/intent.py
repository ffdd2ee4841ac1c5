"""The intent classifier: logistic regression (scikit-learn) over every feature the
featurizers before it produced, dense sentence embeddings and sparse n-grams side by
side. `out_of_scope` is a class like any other; the fallback classifier after it
decides when the answer is too unsure to act on.

`dense_weight` scales dense features against the sparse ones: both are unit-length
per message, and the embeddings carry more of the meaning.

Persisted as the classes and feature layout (JSON) and coefficients (NumPy), and
rebuilt through scikit-learn's public fitted attributes, without pickle.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.errors import ConfigError, ModelError
from bot.nlu.component import FEATURES, INTENT, Component, TrainingInput
from bot.nlu.message import Message
from bot.nlu.persistence import load_arrays, load_json, save_arrays, save_json

_STATE, _ARRAYS = "state.json", "arrays.npz"


class IntentClassifier(Component):
    name = "intent_classifier"
    needs = (FEATURES,)
    gives = (INTENT,)
    defaults = {
        "C": 10.0,
        "dense_weight": 2.0,
        "max_iter": 3000,
        "class_weight": "balanced",
        "ranking_length": 10,
        "random_state": 0,
    }

    def __init__(self, **options: Any):
        super().__init__(**options)
        self.classes_: list[str] = []
        self.feature_names_: list[str] = []
        self._model = None

    def validate_options(self) -> None:
        for key in ("C", "dense_weight"):
            if not isinstance(self.options[key], (int, float)) or self.options[key] <= 0:
                raise self.option_error(key, "a positive number")
        if self.options["class_weight"] not in ("balanced", None):
            raise self.option_error("class_weight", "'balanced' or null")
        if not isinstance(self.options["ranking_length"], int) or self.options["ranking_length"] < 2:
            raise self.option_error("ranking_length", "a whole number, 2 or more")

    def train(self, training: TrainingInput) -> None:
        from sklearn.linear_model import LogisticRegression

        labels = training.labels
        if len(set(labels)) < 2:
            raise ConfigError(f"{self.name} needs examples of at least two intents, found {len(set(labels))}")
        self.feature_names_ = sorted(training.messages[0].features) if training.messages else []
        if not self.feature_names_:
            raise ConfigError(f"{self.name} needs a featurizer before it in the pipeline "
                              "(sentence_embedder and/or ngram_featurizer)")
        training.report(f"fitting {self.name}", 0, 1)
        self._model = LogisticRegression(C=float(self.options["C"]), max_iter=int(self.options["max_iter"]),
                                         class_weight=self.options["class_weight"],
                                         random_state=self.options["random_state"])
        self._model.fit(self._matrix(training.messages), labels)
        self.classes_ = [str(c) for c in self._model.classes_]
        training.report(f"fitting {self.name}", 1, 1)

    def process(self, message: Message) -> None:
        self.process_batch([message])

    def process_batch(self, messages: list[Message]) -> None:
        if self._model is None:
            raise ModelError(f"{self.name} is not trained; run `coursebot train`")
        if not messages:
            return
        probabilities = self._model.predict_proba(self._matrix(messages))
        for message, row in zip(messages, probabilities, strict=True):
            ranking = sorted(zip(self.classes_, row, strict=True), key=lambda pair: pair[1], reverse=True)
            message.set_ranking(ranking, self.options["ranking_length"])

    def _matrix(self, messages: list[Message]) -> Any:
        import numpy as np
        from scipy.sparse import csr_matrix, hstack, issparse, vstack

        blocks = []
        for name in self.feature_names_:
            if any(name not in m.features for m in messages):
                raise ModelError(f"{self.name} was trained with features from '{name}', which this "
                                 f"pipeline did not produce; run `coursebot train --force`")
            column = [m.features[name] for m in messages]
            if issparse(column[0]):
                blocks.append(vstack(column).tocsr())
            else:
                blocks.append(csr_matrix(np.vstack(column) * float(self.options["dense_weight"])))
        return hstack(blocks).tocsr()

    def persist(self, directory: Path) -> None:
        save_json(directory, _STATE, {"classes": self.classes_, "features": self.feature_names_})
        save_arrays(directory, _ARRAYS, coef=self._model.coef_, intercept=self._model.intercept_)

    @classmethod
    def load(cls, directory: Path, options: dict[str, Any]) -> IntentClassifier:
        import numpy as np
        from sklearn.linear_model import LogisticRegression

        component = cls(**options)
        state, arrays = load_json(directory, _STATE), load_arrays(directory, _ARRAYS)
        model = LogisticRegression()
        model.classes_ = np.array(state["classes"])
        model.coef_, model.intercept_ = arrays["coef"], arrays["intercept"]
        model.n_features_in_ = model.coef_.shape[1]
        component._model, component.classes_ = model, list(state["classes"])
        component.feature_names_ = list(state["features"])
        return component

"""The simplest honest intent classifier: TF-IDF word and character n-grams with
logistic regression (scikit-learn).

With `mask_entities`, entity spans are replaced by their type before featurising
("what is overfitting" -> "what is __concept__"), so the model learns how students
ask rather than which topics happened to appear under which intent.

State is persisted as the vectorisers' vocabularies (JSON) and the IDF weights and
regression coefficients (NumPy), and rebuilt through scikit-learn's public fitted
attributes, without pickle.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.errors import ConfigError, ModelError
from bot.nlu.component import Component, TrainingInput
from bot.nlu.message import Message
from bot.nlu.persistence import load_arrays, load_json, save_arrays, save_json

_STATE, _ARRAYS = "state.json", "arrays.npz"


class TfidfIntentClassifier(Component):
    name = "tfidf_intent_classifier"
    defaults = {
        "word_ngrams": [1, 2],
        "char_ngrams": [2, 5],
        "C": 10.0,
        "max_iter": 2000,
        "mask_entities": True,
        "ranking_length": 10,
        "random_state": 0,
    }

    def __init__(self, **options: Any):
        super().__init__(**options)
        self.classes_: list[str] = []
        self._vectorizers: list = []
        self._model = None

    def validate_options(self) -> None:
        for key in ("word_ngrams", "char_ngrams"):
            value = self.options[key]
            if (not isinstance(value, (list, tuple)) or len(value) != 2
                    or not all(isinstance(n, int) and n >= 1 for n in value) or value[0] > value[1]):
                raise ConfigError(f"'{key}' of {self.name} must be [min, max] with 1 <= min <= max, got {value!r}")
        if not isinstance(self.options["C"], (int, float)) or self.options["C"] <= 0:
            raise ConfigError(f"'C' of {self.name} must be a positive number, got {self.options['C']!r}")

    def train(self, training: TrainingInput) -> None:
        from sklearn.linear_model import LogisticRegression

        examples = training.data.examples
        intents = sorted({example.intent for example in examples})
        if len(intents) < 2:
            raise ConfigError(f"{self.name} needs examples of at least two intents, found {len(intents)}")
        texts = [self._featurised_text(e.text, [(a.start, a.end, a.entity) for a in e.entities])
                 for e in examples]
        self._vectorizers = self._new_vectorizers()
        features = self._transform(texts, fit=True)
        self._model = LogisticRegression(C=float(self.options["C"]), max_iter=int(self.options["max_iter"]),
                                         class_weight="balanced", random_state=self.options["random_state"])
        self._model.fit(features, [e.intent for e in examples])
        self.classes_ = [str(c) for c in self._model.classes_]

    def process(self, message: Message) -> None:
        if self._model is None:
            raise ModelError(f"{self.name} is not trained; run `coursebot train`")
        spans = [(e["start"], e["end"], e["entity"]) for e in message.entities]
        probabilities = self._model.predict_proba(self._transform([self._featurised_text(message.text, spans)]))[0]
        ranking = sorted(zip(self.classes_, probabilities, strict=True), key=lambda pair: pair[1], reverse=True)
        message.intent_ranking = [{"name": name, "confidence": round(float(p), 4)}
                                  for name, p in ranking[: self.options["ranking_length"]]]
        message.intent = dict(message.intent_ranking[0])

    def _featurised_text(self, text: str, spans: list[tuple[int, int, str]]) -> str:
        if not self.options["mask_entities"]:
            return text
        for start, end, entity in sorted(spans, reverse=True):
            text = f"{text[:start]}__{entity}__{text[end:]}"
        return text

    def _new_vectorizers(self) -> list:
        from sklearn.feature_extraction.text import TfidfVectorizer

        return [
            TfidfVectorizer(analyzer="word", ngram_range=tuple(self.options["word_ngrams"]),
                            lowercase=True, sublinear_tf=True, token_pattern=r"(?u)\b\w+\b"),
            TfidfVectorizer(analyzer="char_wb", ngram_range=tuple(self.options["char_ngrams"]),
                            lowercase=True, sublinear_tf=True, min_df=2),
        ]

    def _transform(self, texts: list[str], fit: bool = False):
        from scipy.sparse import hstack

        parts = [v.fit_transform(texts) if fit else v.transform(texts) for v in self._vectorizers]
        return hstack(parts).tocsr()

    def persist(self, directory: Path) -> None:
        save_json(directory, _STATE, {
            "classes": self.classes_,
            "vocabularies": [{term: int(i) for term, i in v.vocabulary_.items()} for v in self._vectorizers],
        })
        save_arrays(directory, _ARRAYS, coef=self._model.coef_, intercept=self._model.intercept_,
                    **{f"idf_{i}": v.idf_ for i, v in enumerate(self._vectorizers)})

    @classmethod
    def load(cls, directory: Path, options: dict[str, Any]) -> TfidfIntentClassifier:
        import numpy as np
        from sklearn.linear_model import LogisticRegression

        component = cls(**options)
        state, arrays = load_json(directory, _STATE), load_arrays(directory, _ARRAYS)
        component._vectorizers = component._new_vectorizers()
        for index, vectorizer in enumerate(component._vectorizers):
            vectorizer.vocabulary_ = state["vocabularies"][index]
            vectorizer.idf_ = arrays[f"idf_{index}"]
        model = LogisticRegression()
        model.classes_ = np.array(state["classes"])
        model.coef_, model.intercept_ = arrays["coef"], arrays["intercept"]
        model.n_features_in_ = model.coef_.shape[1]
        component._model, component.classes_ = model, list(state["classes"])
        return component

"""Sparse word and character n-gram features (TF-IDF, scikit-learn).

They complement sentence embeddings where exact wording matters: rare course terms,
misspellings (character n-grams still overlap), and short commands like "next".

With `mask_entities`, entity spans are replaced by their type before featurising
("what is overfitting" -> "what is __concept__"), so the classifier learns how
students ask rather than which topics happened to appear under which intent. Quoted
passages (a text to analyse or speak) are masked likewise (`Message.intent_text`).

Vocabularies are stored as JSON and IDF weights as NumPy arrays; the vectorisers are
rebuilt through scikit-learn's public fitted attributes, without pickle.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.nlu.component import ENTITIES, FEATURES, Component, TrainingInput
from bot.nlu.message import Message
from bot.nlu.persistence import load_arrays, load_json, save_arrays, save_json

_STATE, _ARRAYS = "state.json", "arrays.npz"


class NgramFeaturizer(Component):
    name = "ngram_featurizer"
    gives = (FEATURES,)
    defaults = {
        "word_ngrams": [1, 2],
        "char_ngrams": [2, 5],
        "min_df": 2,
        "mask_entities": True,
    }

    def __init__(self, **options: Any):
        super().__init__(**options)
        self._vectorizers: list = []

    @property
    def requirements(self) -> tuple[str, ...]:
        return (ENTITIES,) if self.options["mask_entities"] else ()

    def validate_options(self) -> None:
        for key in ("word_ngrams", "char_ngrams"):
            value = self.options[key]
            if (not isinstance(value, (list, tuple)) or len(value) != 2
                    or not all(isinstance(n, int) and n >= 1 for n in value) or value[0] > value[1]):
                raise self.option_error(key, "[min, max] with 1 <= min <= max")
        if not isinstance(self.options["min_df"], int) or self.options["min_df"] < 1:
            raise self.option_error("min_df", "a positive whole number")

    def train(self, training: TrainingInput) -> None:
        self._vectorizers = self._new_vectorizers()
        texts = [self._featurised_text(m) for m in training.messages]
        for vectorizer in self._vectorizers:
            vectorizer.fit(texts)
        self._add(training.messages, texts)

    def process(self, message: Message) -> None:
        self._add([message], [self._featurised_text(message)])

    def process_batch(self, messages: list[Message]) -> None:
        self._add(messages, [self._featurised_text(m) for m in messages])

    def _add(self, messages: list[Message], texts: list[str]) -> None:
        from scipy.sparse import hstack

        matrix = hstack([v.transform(texts) for v in self._vectorizers]).tocsr()
        for row, message in enumerate(messages):
            message.features[self.name] = matrix[row]

    def _featurised_text(self, message: Message) -> str:
        return message.intent_text(mask_entities=self.options["mask_entities"])

    def _new_vectorizers(self) -> list:
        import numpy as np
        from sklearn.feature_extraction.text import TfidfVectorizer

        return [
            TfidfVectorizer(analyzer="word", ngram_range=tuple(self.options["word_ngrams"]),
                            lowercase=True, sublinear_tf=True, token_pattern=r"(?u)\b\w+\b", dtype=np.float32),
            TfidfVectorizer(analyzer="char_wb", ngram_range=tuple(self.options["char_ngrams"]),
                            lowercase=True, sublinear_tf=True, min_df=self.options["min_df"], dtype=np.float32),
        ]

    def persist(self, directory: Path) -> None:
        save_json(directory, _STATE, {
            "vocabularies": [{term: int(i) for term, i in v.vocabulary_.items()} for v in self._vectorizers]})
        save_arrays(directory, _ARRAYS, **{f"idf_{i}": v.idf_ for i, v in enumerate(self._vectorizers)})

    @classmethod
    def load(cls, directory: Path, options: dict[str, Any]) -> NgramFeaturizer:
        component = cls(**options)
        state, arrays = load_json(directory, _STATE), load_arrays(directory, _ARRAYS)
        component._vectorizers = component._new_vectorizers()
        for index, vectorizer in enumerate(component._vectorizers):
            vectorizer.vocabulary_ = state["vocabularies"][index]
            vectorizer.idf_ = arrays[f"idf_{index}"]
        return component

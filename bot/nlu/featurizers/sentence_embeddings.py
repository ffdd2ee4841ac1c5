"""Sentence embeddings from all-MiniLM-L6-v2: what a sentence means, as 384 numbers,
so that "which instance should I train on" lands near "best machine for training"
without sharing a word.

Options:
- `model`: a packaged model's name or a folder of weights (offline, never downloaded).
- `layers`: how many transformer layers to keep; fewer are faster and, once
  fine-tuned, nearly as good.
- `fine_tune_epochs`: 0 keeps the published weights; more fine-tunes the encoder on
  the training intents (see fine_tuning.py), for at most `max_steps` batches, which
  bounds training time on large data (500 batches: about 2.5 minutes on 2 cores).
- `quantize`: int8 weights for the encoder's linear layers once trained (true by default):
  parsing about 5 times faster on a CPU, at no measured cost in accuracy
  (docs/benchmarks.md); false keeps float weights.
- `threads`: torch threads for training, 0 for automatic.
- `keep_share`: when retraining, the fine-tuned encoder of the model stored before is
  kept (and not fine-tuned again) if at most this share of the examples it was
  fine-tuned on have changed since (0.1 by default; 0 always fine-tunes afresh). An
  instructor's new intent then leaves every other answer where it was; a larger edit, a
  changed option or `coursebot train --fresh` fine-tunes again.
- `parse_threads`: torch threads for parsing, 1 by default. A single message gains
  nothing from a second thread on 2 cores (p50 16.7 ms on one, 17.5 ms on two), and when
  another process holds a core, two threads waiting on each other made a parse take
  600 ms instead of 24.

Vectors are cached per text: in memory while parsing, and across trainings of the same
frozen encoder in one process (a validation split and the final model embed the same
examples once).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from pathlib import Path
from typing import Any

from bot.nlu.component import FEATURES, Component, TrainingInput
from bot.nlu.featurizers import encoder as enc
from bot.nlu.learned_from import changed_since, example_keys, kept_note
from bot.nlu.message import Message
from bot.nlu.persistence import load_json, save_json

_STATE = "state.json"
REPORT_EVERY = 256  # texts between progress reports, and the batch size for float weights
_FROZEN_CACHE: dict[tuple[str, str], Any] = {}


class SentenceEmbedder(Component):
    name = "sentence_embedder"
    gives = (FEATURES,)
    defaults = {
        "model": "all-MiniLM-L6-v2",
        "layers": 6,
        "fine_tune_epochs": 0,
        "max_steps": 500,
        "learning_rate": 5e-5,
        "batch_size": 32,
        "max_length": 64,
        "threads": 0,
        "parse_threads": 1,
        "quantize": True,
        "cache_size": 4096,
        "random_state": 0,
        "keep_share": 0.1,
    }
    RUNTIME_OPTIONS = ("threads", "parse_threads", "cache_size", "keep_share")

    def __init__(self, **options: Any):
        super().__init__(**options)
        self._encoder = None
        self._tokenizer = None
        self._frozen_key: str | None = None
        self._cache: OrderedDict[str, Any] = OrderedDict()
        self._fine_tuned_on: list[str] = []  # example_key of each example fine-tuning saw

    def validate_options(self) -> None:
        o = self.options
        for key in ("layers", "batch_size", "max_length", "max_steps"):
            if not isinstance(o[key], int) or o[key] < 1:
                raise self.option_error(key, "a positive whole number")
        if not isinstance(o["fine_tune_epochs"], (int, float)) or o["fine_tune_epochs"] < 0:
            raise self.option_error("fine_tune_epochs", "a number of epochs, 0 or more")
        if not isinstance(o["learning_rate"], (int, float)) or not 0 < o["learning_rate"] < 1:
            raise self.option_error("learning_rate", "a number between 0 and 1")
        for key in ("threads", "parse_threads"):
            if not isinstance(o[key], int) or o[key] < 0:
                raise self.option_error(key, "0 (automatic) or a number of threads")
        if not isinstance(o["quantize"], bool):
            raise self.option_error("quantize", "true or false")
        if not isinstance(o["cache_size"], int) or o["cache_size"] < 0:
            raise self.option_error("cache_size", "0 or more")
        if not isinstance(o["keep_share"], (int, float)) or not 0 <= o["keep_share"] <= 1:
            raise self.option_error("keep_share", "a share between 0 and 1")

    @property
    def reusable(self) -> bool:
        return self.options["fine_tune_epochs"] > 0

    def take_over(self, previous: Component, training: TrainingInput) -> str | None:
        if not (self.reusable and self.learned_like(previous) and previous._fine_tuned_on):
            return None
        changed = changed_since(previous._fine_tuned_on, training)
        if changed > self.options["keep_share"] * len(previous._fine_tuned_on):
            return None
        self._encoder, self._tokenizer = previous._encoder, previous._tokenizer
        self._fine_tuned_on = previous._fine_tuned_on
        self.process_batch(training.messages, progress=training.report)
        enc.set_threads(self.options["parse_threads"])
        return kept_note("fine-tuned sentence encoder", changed, self._fine_tuned_on)

    def train(self, training: TrainingInput) -> None:
        enc.set_threads(self.options["threads"])
        folder = enc.model_folder(self.options["model"])
        self._tokenizer = enc.load_tokenizer(folder / enc.TOKENIZER_FILE, self.options["max_length"])
        self._encoder = enc.pooled_encoder(enc.pretrained_transformer(folder, self.options["layers"]))
        if self.options["fine_tune_epochs"] > 0:
            from bot.nlu.featurizers.fine_tuning import fine_tune

            fine_tune(self._encoder, self._tokenizer, [m.intent_text() for m in training.messages], training.labels,
                      epochs=self.options["fine_tune_epochs"], max_steps=self.options["max_steps"],
                      learning_rate=self.options["learning_rate"],
                      batch_size=self.options["batch_size"], seed=self.options["random_state"],
                      progress=training.progress)
            self._frozen_key = None
            self._fine_tuned_on = example_keys(training)
        else:
            self._frozen_key = (f"{folder.resolve()}|{self.options['layers']}|{self.options['max_length']}|"
                                f"{self.options['quantize']}")
        self._encoder.eval()
        if self.options["quantize"]:
            self._encoder = enc.quantized(self._encoder)
        self.process_batch(training.messages, progress=training.report)
        enc.set_threads(self.options["parse_threads"])

    def process(self, message: Message) -> None:
        self.process_batch([message])

    def process_batch(self, messages: list[Message], progress=None) -> None:
        vectors = self.embed([m.intent_text() for m in messages], progress=progress)
        for message, vector in zip(messages, vectors, strict=True):
            message.features[self.name] = vector

    def embed(self, texts: list[str], progress=None) -> Any:
        """One normalised vector per text, as a (len(texts), dimensions) array."""
        import numpy as np

        found = {text: self._cached(text) for text in set(texts)}
        missing = sorted((t for t, v in found.items() if v is None), key=len)
        # Quantized activations are scaled per batch, so a text's vector would depend on
        # its batch-mates: one text at a time gives it the very vector a parse gives.
        batch = 1 if self.options["quantize"] else REPORT_EVERY
        for start in range(0, len(missing), batch):
            chunk = missing[start:start + batch]
            for text, vector in zip(chunk, self._encode(chunk), strict=True):
                found[text] = vector
                self._remember(text, vector)
            done = min(start + batch, len(missing))
            if progress is not None and len(missing) > REPORT_EVERY and (done % REPORT_EVERY == 0 or done == len(missing)):
                progress("embedding sentences", done, len(missing))
        return np.stack([found[text] for text in texts]) if texts else np.zeros((0, 0), dtype=np.float32)

    def _encode(self, texts: list[str]) -> Any:
        import torch

        ids, mask = enc.batch_tensors(self._tokenizer, texts)
        with torch.inference_mode():
            return self._encoder(ids, mask).numpy()

    def _cached(self, text: str) -> Any:
        if self._frozen_key is not None and (self._frozen_key, text) in _FROZEN_CACHE:
            return _FROZEN_CACHE[(self._frozen_key, text)]
        vector = self._cache.get(text)
        if vector is not None:
            self._cache.move_to_end(text)
        return vector

    def _remember(self, text: str, vector: Any) -> None:
        if self._frozen_key is not None:
            _FROZEN_CACHE[(self._frozen_key, text)] = vector
        if self.options["cache_size"]:
            self._cache[text] = vector
            if len(self._cache) > self.options["cache_size"]:
                self._cache.popitem(last=False)

    def persist(self, directory: Path) -> None:
        enc.save_encoder(self._encoder, self._tokenizer, directory)
        digest = hashlib.sha256((directory / enc.ENCODER_FILE).read_bytes()).hexdigest()
        save_json(directory, _STATE, {"encoder_sha256": digest, "fine_tuned_on": self._fine_tuned_on})

    @classmethod
    def load(cls, directory: Path, options: dict[str, Any]) -> SentenceEmbedder:
        component = cls(**options)
        state = load_json(directory, _STATE)
        component._fine_tuned_on = [str(key) for key in state.get("fine_tuned_on", [])]
        enc.set_threads(component.options["parse_threads"])
        component._tokenizer = enc.load_tokenizer(directory / enc.TOKENIZER_FILE, component.options["max_length"])
        component._encoder = enc.load_encoder(directory)
        return component

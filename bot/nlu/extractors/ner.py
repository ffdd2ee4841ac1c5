"""Entities no list can hold, learned from the annotated examples with spaCy's
trainable `ner` on a blank pipeline (no downloaded model): notebook and job names,
new service names, SNIPS' playlists and places.

It runs after the lookup and regex extractors and only adds entities where they found
nothing. Confidence comes from a small beam search over the same model: the share of
the beam's probability mass that agrees with the entity. Entities under
`min_confidence` are dropped (0.2: on SNIPS, 0.5 kept precision at 95% but lost two
points of recall). Values go through the synonyms like every other
extractor's. The trained pipeline is stored with spaCy's own serialisation.

A retraining keeps the stored model when at most `keep_share` of the examples it learned
from (texts and their annotated spans) changed and no entity type came or went: a new
intent's examples then leave every entity found elsewhere as it was.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from bot.errors import ModelError
from bot.nlu.component import ENTITIES, Component, TrainingInput
from bot.nlu.learned_from import changed_since, example_keys, kept_note
from bot.nlu.message import Message
from bot.nlu.persistence import load_json, save_json

_STATE = "state.json"
_PIPELINE = "spacy"


class SpacyNerExtractor(Component):
    name = "spacy_ner_extractor"
    gives = (ENTITIES,)
    trains_once = True
    RUNTIME_OPTIONS = ("keep_share",)
    defaults = {
        "epochs": 20,
        "dropout": 0.2,
        "batch_size": 32,
        "beam_width": 4,
        "min_confidence": 0.2,
        "entities": None,
        "language": "en",
        "random_state": 0,
        "keep_share": 0.1,
    }

    def __init__(self, **options: Any):
        super().__init__(**options)
        self._nlp = None
        self.synonyms_: dict[str, str] = {}
        self.labels_: list[str] = []
        self.learned_from_: list[str] = []

    def validate_options(self) -> None:
        for key in ("epochs", "batch_size", "beam_width"):
            if not isinstance(self.options[key], int) or self.options[key] < 1:
                raise self.option_error(key, "a positive whole number")
        for key in ("dropout", "min_confidence"):
            if not isinstance(self.options[key], (int, float)) or not 0 <= self.options[key] <= 1:
                raise self.option_error(key, "a number from 0 to 1")
        entities = self.options["entities"]
        if entities is not None and (not isinstance(entities, list) or not all(isinstance(e, str) for e in entities)):
            raise self.option_error("entities", "null (all annotated) or a list of entity names")
        if not isinstance(self.options["keep_share"], (int, float)) or not 0 <= self.options["keep_share"] <= 1:
            raise self.option_error("keep_share", "a share between 0 and 1")

    @property
    def reusable(self) -> bool:
        return True

    def take_over(self, previous: Component, training: TrainingInput) -> str | None:
        if not (self.learned_like(previous) and previous.learned_from_):
            return None
        if previous.labels_ != sorted(self.options["entities"] or training.data.entity_names()):
            return None
        changed = changed_since(previous.learned_from_, training, entities=True)
        if changed > self.options["keep_share"] * len(previous.learned_from_):
            return None
        self._nlp, self.labels_, self.learned_from_ = previous._nlp, previous.labels_, previous.learned_from_
        self.synonyms_ = training.data.synonym_map()
        return kept_note("entity model", changed, self.learned_from_)

    def train(self, training: TrainingInput) -> None:
        import spacy
        from spacy.training import Example
        from spacy.util import compounding, minibatch

        wanted = set(self.options["entities"] or training.data.entity_names())
        nlp = spacy.blank(self.options["language"])
        ner = nlp.add_pipe("ner")
        examples = []
        for message in training.messages:
            doc = nlp.make_doc(message.text)
            spans = [doc.char_span(e["start"], e["end"], label=e["entity"], alignment_mode="contract")
                     for e in message.entities if e["entity"] in wanted]
            spans = spacy.util.filter_spans([s for s in spans if s is not None])
            examples.append(Example.from_dict(doc, {"entities": [(s.start_char, s.end_char, s.label_) for s in spans]}))
        self.labels_ = sorted(wanted)
        self.synonyms_ = training.data.synonym_map()
        self.learned_from_ = example_keys(training, entities=True)
        if not self.labels_ or not any(e.reference.ents for e in examples):
            self._nlp = None  # nothing annotated: nothing to learn, nothing to find
            return
        for label in self.labels_:
            ner.add_label(label)
        rng = random.Random(self.options["random_state"])
        spacy.util.fix_random_seed(self.options["random_state"])
        optimizer = nlp.initialize(lambda: examples)
        epochs = self.options["epochs"]
        for epoch in range(epochs):
            rng.shuffle(examples)
            # Batches grow from 4 to batch_size, so small data still gets many updates.
            for batch in minibatch(examples, size=compounding(4.0, self.options["batch_size"], 1.001)):
                nlp.update(batch, sgd=optimizer, drop=self.options["dropout"])
            training.report(f"training {self.name}", epoch + 1, epochs)
        self._nlp = nlp

    def process(self, message: Message) -> None:
        self.process_batch([message])

    def process_batch(self, messages: list[Message]) -> None:
        if self._nlp is None:
            return
        ner = self._nlp.get_pipe("ner")
        docs = list(ner.pipe((self._nlp.make_doc(m.text) for m in messages), batch_size=256))
        # The beam that scores entities costs more than the greedy pass that finds them, so
        # it runs only for messages where the greedy pass found a span no extractor before
        # this one holds (only those spans can be added).
        found = [index for index, doc in enumerate(docs)
                 if any(messages[index].is_free(span.start_char, span.end_char) for span in doc.ents)]
        scores: dict[int, dict] = {}
        if found and self.options["beam_width"] > 1:
            beams = ner.beam_parse([self._nlp.make_doc(messages[i].text) for i in found],
                                   beam_width=self.options["beam_width"])
            scores = dict(zip(found, ner.scored_ents(beams), strict=True))
        for index in found:
            for span in docs[index].ents:
                confidence = scores[index].get((span.start, span.end, span.label_), 0.0) if scores else 1.0
                if confidence >= self.options["min_confidence"]:
                    value = self.synonyms_.get(span.text.lower(), span.text)
                    messages[index].add_entity(span.label_, value, span.start_char, span.end_char, confidence,
                                               self.name)

    def persist(self, directory: Path) -> None:
        save_json(directory, _STATE, {"labels": self.labels_, "synonyms": self.synonyms_,
                                      "trained": self._nlp is not None, "learned_from": self.learned_from_})
        if self._nlp is not None:
            self._nlp.to_disk(directory / _PIPELINE)

    @classmethod
    def load(cls, directory: Path, options: dict[str, Any]) -> SpacyNerExtractor:
        import spacy

        component = cls(**options)
        state = load_json(directory, _STATE)
        component.labels_, component.synonyms_ = state["labels"], state["synonyms"]
        component.learned_from_ = [str(key) for key in state.get("learned_from", [])]
        if state["trained"]:
            try:
                component._nlp = spacy.load(directory / _PIPELINE)
            except (OSError, ValueError) as error:
                raise ModelError(f"the entity model in {directory} is damaged ({error}); "
                                 "run `coursebot train --force`") from None
        return component

"""Entities by name: every way the project names a thing, mapped to its canonical value,
found with spaCy's matchers and tolerant of typos.

The names come from the knowledge base (display names and aliases, valued by entry
id, typed by category) and the lookup tables and synonyms in nlu_data/. Surface forms
annotated in training examples are added only with `use_examples: true`: in open-ended
data they are often everyday words ("music", "now") that then match everywhere, which
cost 25 points of entity F1 on SNIPS; the learned `ner` generalises from them instead.
Exact names are found by a PhraseMatcher on
lower-cased tokens ("scikit learn" and "scikit-learn" both count). A Matcher with
spaCy's FUZZY operator finds misspellings ("sagemkaer"): words of five letters or more
may be one edit off, of nine or more two. Fuzzy matching runs only when the message
has a word the extractor has never seen, since a typo is by definition such a word.
Longer matches win over shorter ones, exact over fuzzy.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.nlu.component import ENTITIES, Component, TrainingInput
from bot.nlu.message import Message
from bot.nlu.persistence import load_json, save_json

_FILE = "forms.json"
_SEPARATOR = "\t"


def allowed_edits(word: str) -> int:
    """How many typing errors a word of this length may carry and still be recognised."""
    return 0 if len(word) < 5 or not word.isalpha() else 1 if len(word) < 9 else 2


class PhraseEntityExtractor(Component):
    name = "phrase_entity_extractor"
    gives = (ENTITIES,)
    defaults = {"use_examples": False, "fuzzy": True, "language": "en"}

    def __init__(self, **options: Any):
        super().__init__(**options)
        self.forms_: dict[str, list[str]] = {}
        self.known_words_: list[str] = []
        self._matchers: tuple[Any, Any, Any, list[tuple[str, str, str]]] | None = None

    def train(self, training: TrainingInput) -> None:
        synonyms = training.data.synonym_map()
        forms: dict[str, list[str]] = {}

        def add(form: str, entity: str, value: str) -> None:
            if form.strip():
                forms.setdefault(form.strip().lower(), [entity, synonyms.get(value.lower(), value)])

        if training.knowledge is not None:
            for entry in training.knowledge:
                entity = training.knowledge.entity_of(entry)
                for form in entry.surface_forms:
                    add(form, entity, entry.id)
        for lookup in training.data.lookups:
            if lookup.name in training.entities:
                for item in lookup.items:
                    add(item, lookup.name, item)
        if self.options["use_examples"]:
            for example in training.data.examples:
                for entity in example.entities:
                    add(entity.text, entity.entity, entity.value)
        # A synonym's other spellings are names too, of whatever type its value has.
        types = {value.lower(): entity for entity, value in forms.values()}
        for synonym in training.data.synonyms:
            entity = types.get(synonym.name.lower())
            for item in synonym.items if entity else ():
                add(item, entity, synonym.name)
        self.forms_ = forms
        self._matchers = None
        nlp = self._nlp()
        words = {t.lower_ for text in [*forms, *(m.text for m in training.messages)] for t in nlp.make_doc(text)}
        self.known_words_ = sorted(words)

    def process(self, message: Message) -> None:
        for start, end, entity, value, confidence in self.find(message.text):
            message.add_entity(entity, value, start, end, confidence, self.name)

    def find(self, text: str) -> list[tuple[int, int, str, str, float]]:
        """Non-overlapping (start, end, entity, value, confidence), by character offsets."""
        from spacy.matcher.levenshtein import levenshtein

        if not self.forms_:
            return []
        nlp, exact, fuzzy, targets = self._build()
        doc = nlp.make_doc(text)
        candidates = [(start, end, match_id, 1.0) for match_id, start, end in exact(doc)]
        if fuzzy is not None and any(t.lower_ not in self._known for t in doc if t.is_alpha):
            for match_id, start, end in fuzzy(doc):
                form = targets[int(nlp.vocab.strings[match_id])][2]
                if not self._misspells(nlp, doc[start:end], form):
                    continue
                seen = doc[start:end].text.lower()
                edits = levenshtein(seen, form)
                candidates.append((start, end, match_id, max(0.5, 1.0 - edits / max(len(form), 1))))
        chosen: list[tuple[int, int, str, str, float]] = []
        taken: set[int] = set()
        for start, end, match_id, confidence in sorted(candidates, key=lambda c: (c[0] - c[1], -c[3], c[0])):
            if taken.intersection(range(start, end)):
                continue
            taken.update(range(start, end))
            entity, value, _ = targets[int(nlp.vocab.strings[match_id])]
            span = doc[start:end]
            chosen.append((span.start_char, span.end_char, entity, value, confidence))
        return sorted(chosen)

    def _misspells(self, nlp: Any, span: Any, form: str) -> bool:
        """Whether the words of `span` that differ from `form`'s are all words never seen:
        "difference" is two edits from "inference", but a word the bot knows is itself, not
        a typo of another."""
        wanted = [t.lower_ for t in nlp.make_doc(form.replace("-", " "))]
        return all(token.lower_ == word or token.lower_ not in self._known for token, word in zip(span, wanted))

    def _nlp(self) -> Any:
        import spacy

        return spacy.blank(self.options["language"])

    def _build(self) -> tuple[Any, Any, Any, list[tuple[str, str, str]]]:
        """spaCy matchers for the forms, built on first use (and after training)."""
        if self._matchers is not None:
            return self._matchers
        from spacy.matcher import Matcher, PhraseMatcher

        nlp = self._nlp()
        exact = PhraseMatcher(nlp.vocab, attr="LOWER")
        fuzzy = Matcher(nlp.vocab) if self.options["fuzzy"] else None
        targets: list[tuple[str, str, str]] = []
        for form, (entity, value) in self.forms_.items():
            key = str(len(targets))
            targets.append((entity, value, form))
            variants = {form, form.replace("-", " "), form.replace("-", ""), form.replace(" ", "-")}
            exact.add(key, [nlp.make_doc(variant) for variant in variants if variant.strip()])
            words = [t.lower_ for t in nlp.make_doc(form.replace("-", " "))]
            if fuzzy is not None and any(allowed_edits(w) for w in words):
                fuzzy.add(key, [[{"LOWER": {f"FUZZY{allowed_edits(w)}": w}} if allowed_edits(w) else {"LOWER": w}
                                 for w in words]])
        self._known = set(self.known_words_)
        self._matchers = (nlp, exact, fuzzy if fuzzy is not None and len(fuzzy) else None, targets)
        return self._matchers

    def persist(self, directory: Path) -> None:
        save_json(directory, _FILE, {"forms": self.forms_, "known_words": self.known_words_})

    @classmethod
    def load(cls, directory: Path, options: dict[str, Any]) -> PhraseEntityExtractor:
        component = cls(**options)
        stored = load_json(directory, _FILE)
        component.forms_, component.known_words_ = stored["forms"], stored["known_words"]
        return component

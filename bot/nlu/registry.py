"""Every NLU component, by the name engine settings use for it.

One table, in one module, so a component cannot go missing because of import order,
and so settings can be checked without importing scikit-learn or torch: the class
is imported only when a pipeline is built.
"""

from __future__ import annotations

import difflib
import importlib
from typing import TYPE_CHECKING

from bot.errors import ConfigError

if TYPE_CHECKING:
    from bot.nlu.component import Component

COMPONENTS: dict[str, str] = {
    "phrase_entity_extractor": "bot.nlu.extractors.phrases:PhraseEntityExtractor",
    "regex_entity_extractor": "bot.nlu.extractors.regex:RegexEntityExtractor",
    "spacy_ner_extractor": "bot.nlu.extractors.ner:SpacyNerExtractor",
    "sentence_embedder": "bot.nlu.featurizers.sentence_embeddings:SentenceEmbedder",
    "ngram_featurizer": "bot.nlu.featurizers.ngrams:NgramFeaturizer",
    "intent_classifier": "bot.nlu.classifiers.intent:IntentClassifier",
    "fallback_classifier": "bot.nlu.classifiers.fallback:FallbackClassifier",
}


def check_name(name: str) -> None:
    """Raises ConfigError naming the closest known component when `name` is unknown."""
    if name not in COMPONENTS:
        close = difflib.get_close_matches(name, COMPONENTS, n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        raise ConfigError(f"unknown NLU component '{name}'; {hint}"
                          f"known components: {', '.join(sorted(COMPONENTS))}")


def component_class(name: str) -> type[Component]:
    """The class registered under `name`, imported on first use."""
    check_name(name)
    module_name, _, class_name = COMPONENTS[name].partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    if getattr(cls, "name", None) != name:
        raise ConfigError(f"the component class {COMPONENTS[name]} says its name is "
                          f"'{getattr(cls, 'name', None)}', not '{name}'")
    return cls

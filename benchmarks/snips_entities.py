"""Entity F1 on SNIPS for the entity extractors alone, to compare their settings.

Trains only the extractors (no intent model) on all SNIPS training files and scores
exact span and type on the 700 `validate_*` messages:

    .venv/bin/python benchmarks/snips_entities.py [--folder ../shared/benchmarks/snips]

Each configuration takes about 6-7 minutes on 2 cores (spaCy `ner`, 8 epochs).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from bot.benchmarks.datasets import read_snips
from bot.nlu.component import TrainingInput
from bot.nlu.message import Message
from bot.nlu.registry import component_class
from bot.nlu.report import EntitySpan, Prediction, entity_report

CONFIGURATIONS = {
    "phrases from examples + ner (0.5)": [("phrase_entity_extractor", {"use_examples": True}),
                                          ("spacy_ner_extractor", {"epochs": 8, "min_confidence": 0.5})],
    "ner alone (0.5)": [("spacy_ner_extractor", {"epochs": 8, "min_confidence": 0.5})],
    "defaults: phrases from lookups + ner (0.2)": [("phrase_entity_extractor", {}),
                                                   ("spacy_ner_extractor", {"epochs": 8})],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, default=Path("../shared/benchmarks/snips"))
    args = parser.parse_args()
    data = read_snips(args.folder)
    for name, specs in CONFIGURATIONS.items():
        started = time.perf_counter()
        components = [component_class(component)(**options) for component, options in specs]
        training = TrainingInput(data.train)
        for component in components:
            component.train(training)
        predictions = []
        for example in data.test.examples:
            message = Message(example.text)
            for component in components:
                component.process(message)
            predictions.append(Prediction(
                example.text, example.intent, example.intent, 1.0,
                entities=tuple(EntitySpan(a.entity, a.start, a.end, a.value) for a in example.entities),
                predicted_entities=tuple(EntitySpan(e["entity"], e["start"], e["end"], str(e["value"]))
                                         for e in message.entities)))
        scores = entity_report(predictions)["micro avg"]
        print(f"{name}: precision {scores['precision']:.1%}, recall {scores['recall']:.1%}, "
              f"F1 {scores['f1-score']:.1%} ({time.perf_counter() - started:.0f} s)", flush=True)


if __name__ == "__main__":
    main()

"""Public NLU benchmark data as CourseBot training data.

Three formats: CSV files with a header and `text,label` columns (or `text,category`, or
`text,intent`; one file per split),
CLINC150's `data_full.json` (Larson et al. 2019), and the SNIPS 2017 benchmark folder
(`train_<Intent>_full.json` and `validate_<Intent>.json`, with slot spans, which
become entity annotations). Bad files are reported with what is wrong and where.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

from bot.errors import ConfigError
from bot.nlu.training_data import EntityAnnotation, Example, TrainingData

OUT_OF_SCOPE = "out_of_scope"
# What intent CSVs call the label column: `label`, or `category` (BANKING77, HWU64's
# CSV exports) or `intent`; the first one the header names is read.
LABEL_COLUMNS = ("label", "category", "intent")


@dataclass(frozen=True)
class BenchmarkData:
    name: str
    train: TrainingData
    test: TrainingData
    valid: TrainingData | None = None
    has_out_of_scope: bool = False


def read_csv_split(path: Path, oos_label: str | None) -> TrainingData:
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            columns = [name.strip().lower() for name in reader.fieldnames or []]
            reader.fieldnames = columns
            labels = [name for name in LABEL_COLUMNS if name in columns]
            if "text" not in columns or not labels:
                raise ConfigError(f"{path}: the header must name a text column and a label column "
                                  f"({' or '.join(LABEL_COLUMNS)}); it names: {', '.join(columns) or 'nothing'}")
            examples = []
            for row in reader:
                text, label = (row.get("text") or "").strip(), (row.get(labels[0]) or "").strip()
                if not text or not label:
                    raise ConfigError(f"{path}:{reader.line_num}: each row needs a text and a label")
                examples.append(Example(text, OUT_OF_SCOPE if label == oos_label else label))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except (UnicodeDecodeError, csv.Error) as error:
        raise ConfigError(f"{path}: not a readable UTF-8 CSV file ({error})") from None
    if not examples:
        raise ConfigError(f"{path}: no examples")
    return TrainingData(examples)


def read_csv(train: Path, test: Path, valid: Path | None, oos_label: str | None) -> BenchmarkData:
    data = [read_csv_split(path, oos_label) if path else None for path in (train, test, valid)]
    has_oos = oos_label is not None and any(e.intent == OUT_OF_SCOPE for e in data[1].examples)
    if oos_label is not None and not has_oos:
        raise ConfigError(f"{test}: no example has the out-of-scope label '{oos_label}'")
    return BenchmarkData(train.stem, data[0], data[1], data[2], has_oos)


def read_clinc(path: Path) -> BenchmarkData:
    """CLINC150: in-scope and out-of-scope ('oos_*') splits of [text, intent] pairs."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ConfigError(f"{path}: not CLINC150 JSON ({error})") from None
    needed = ("train", "val", "test", "oos_train", "oos_val", "oos_test")
    if not isinstance(raw, dict) or any(not isinstance(raw.get(key), list) for key in needed):
        raise ConfigError(f"{path}: CLINC150 data needs the lists {', '.join(needed)}")

    def split(name: str) -> TrainingData:
        try:
            return TrainingData([Example(str(text), str(label)) for text, label in raw[name]]
                                + [Example(str(text), OUT_OF_SCOPE) for text, _ in raw[f"oos_{name}"]])
        except (TypeError, ValueError):
            raise ConfigError(f"{path}: '{name}' must hold [text, intent] pairs") from None

    return BenchmarkData(f"CLINC150 ({path.name})", split("train"), split("test"), split("val"), True)


def read_snips(folder: Path) -> BenchmarkData:
    """SNIPS 2017: per-intent training files and the held-out `validate_*` files."""
    if not folder.is_dir():
        raise ConfigError(f"{folder}: not a folder (expected the SNIPS benchmark folder)")
    train, test = _snips_files(folder, "train_*_full.json"), _snips_files(folder, "validate_*.json")
    if not train or not test:
        raise ConfigError(f"{folder}: no SNIPS files (train_<Intent>_full.json and validate_<Intent>.json)")
    return BenchmarkData("SNIPS", TrainingData(train), TrainingData(test))


def _snips_files(folder: Path, pattern: str) -> list[Example]:
    examples = []
    for path in sorted(folder.glob(pattern)):
        # One file stores an emoji as a CESU-8 surrogate pair; decode it as such.
        text = path.read_bytes().decode("utf-8", "surrogatepass")
        text = text.encode("utf-16", "surrogatepass").decode("utf-16")
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as error:
            raise ConfigError(f"{path}: not SNIPS JSON ({error})") from None
        for intent, utterances in raw.items():
            for utterance in utterances:
                examples.append(_snips_example(intent, utterance.get("data", []), path))
    return examples


def _snips_example(intent: str, segments: list[dict], path: Path) -> Example:
    text, entities = "", []
    for segment in segments:
        part = segment.get("text", "")
        if "entity" in segment and part.strip():
            stripped = part.strip()
            start = len(text) + part.index(stripped)
            entities.append(EntityAnnotation(segment["entity"], stripped, start, start + len(stripped), stripped))
        text += part
    leading = len(text) - len(text.lstrip())
    entities = [EntityAnnotation(e.entity, e.value, e.start - leading, e.end - leading, e.text) for e in entities]
    return Example(text.strip(), intent, tuple(entities))

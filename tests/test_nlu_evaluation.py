"""`coursebot test` and `coursebot benchmark nlu`, end to end on small data."""

import json
from pathlib import Path

import pytest

from bot.benchmarks import datasets
from bot.errors import ConfigError
from bot.nlu.testing import stratified_folds
from bot.nlu.training_data import Example
from tests.test_cli import coursebot


def test_cross_validation_writes_every_report_file(tiny, tmp_path):
    out = tmp_path / "results"
    result = coursebot("test", "--folds", "3", "--out", str(out), project=tiny)
    assert result.returncode == 0, result.stderr
    assert "3-fold cross-validation: intent accuracy" in result.stdout
    for name in ("intent_report.json", "entity_report.json", "errors.json", "intent_confusion_matrix.png",
                 "intent_histogram.png", "report.html"):
        assert (out / name).stat().st_size > 0, name
    report = json.loads((out / "intent_report.json").read_text())
    assert report["greet"]["support"] == 10 and report["ask_concept"]["support"] == 10
    assert "concept" in json.loads((out / "entity_report.json").read_text())


def test_testing_a_trained_model_on_separate_data(tiny, tmp_path):
    test_file = tmp_path / "test.yml"
    test_file.write_text('version: "3.1"\nnlu:\n  - intent: greet\n    examples: |\n      - hello there\n'
                         '  - intent: ask_concept\n    examples: |\n      - what is a [widget](concept)\n')
    result = coursebot("test", "--test-data", str(test_file), "--out", str(tmp_path / "r"), project=tiny)
    assert result.returncode == 0, result.stderr
    assert "trained model on test data" in result.stdout and "on 2 examples" in result.stdout


def test_broken_test_data_is_reported_with_its_line(tiny, tmp_path):
    test_file = tmp_path / "test.yml"
    test_file.write_text('version: "3.1"\nnlu:\n  - intent: greet\n    examples: hello\n')
    result = coursebot("test", "--test-data", str(test_file), project=tiny)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "test.yml:4" in result.stderr


def write_csv(path: Path, rows: list[tuple[str, str]], header: str = "text,label") -> Path:
    path.write_text(header + "\n" + "".join(f'"{t}",{label}\n' for t, label in rows), encoding="utf-8")
    return path


TRAIN = ([(f"hello {w}", "greet") for w in ("there", "friend", "bot", "you", "all", "again", "folks", "team")]
         + [(f"what is {w}", "ask") for w in ("ml", "ai", "sagemaker", "polly", "s3", "xgboost", "ec2", "iam")]
         + [(w, "oos") for w in ("pizza recipe", "weather today", "football score", "sing a song")])
TEST = [("hello mate", "greet"), ("what is comprehend", "ask"), ("best pasta", "oos")]


def test_csv_benchmark_reports_accuracy_oos_and_latency(tmp_path, tiny):
    train, test = write_csv(tmp_path / "train.csv", TRAIN), write_csv(tmp_path / "test.csv", TEST)
    out = tmp_path / "result.json"
    result = coursebot("benchmark", "nlu", "--train", str(train), "--test", str(test), "--oos-label", "oos",
                       "--json", str(out), project=tiny)
    assert result.returncode == 0, result.stderr
    figures = json.loads(out.read_text())
    assert figures["test_examples"] == 3 and 0 <= figures["in_scope_accuracy"] <= 1
    assert figures["oos_recall"] is not None and figures["parse_p50_ms"] > 0 and figures["peak_rss_mb"] > 0
    assert "in-scope accuracy" in result.stdout


@pytest.mark.parametrize("args, message", [
    ((), "give exactly one data source"),
    (("--train", "{train}"), "need both --train and --test"),
    (("--train", "{bad}", "--test", "{train}"), "the header must name a text column and a label column"),
    (("--train", "{train}", "--test", "{train}", "--oos-label", "nothing"), "no example has the out-of-scope"),
])
def test_bad_benchmark_input_is_a_clear_error(tmp_path, tiny, args, message):
    files = {"train": str(write_csv(tmp_path / "train.csv", TRAIN)),
             "bad": str(write_csv(tmp_path / "bad.csv", TRAIN, header="sentence,intent"))}
    result = coursebot("benchmark", "nlu", *(a.format(**files) for a in args), project=tiny)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert message in result.stderr


@pytest.mark.parametrize("header", ["text,label", "text,category", "Text,Category", "category,text", "text,intent"])
def test_an_intent_csv_may_call_its_label_column_label_category_or_intent(tmp_path, header):
    rows = ["what is my balance,balance", "card not working,card_broken"]
    if header.lower().startswith("category"):
        rows = [",".join(reversed(row.split(","))) for row in rows]
    path = tmp_path / "data.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    data = datasets.read_csv_split(path, None)
    assert [(e.text, e.intent) for e in data.examples] == [("what is my balance", "balance"),
                                                          ("card not working", "card_broken")]


def test_clinc_and_snips_readers(tmp_path):
    clinc = tmp_path / "clinc.json"
    clinc.write_text(json.dumps({"train": [["hi", "greet"]], "val": [["hey", "greet"]], "test": [["yo", "greet"]],
                                 "oos_train": [["pizza", "oos"]], "oos_val": [], "oos_test": [["pasta", "oos"]]}))
    data = datasets.read_clinc(clinc)
    assert [e.intent for e in data.train.examples] == ["greet", "out_of_scope"] and data.has_out_of_scope
    (tmp_path / "snips").mkdir()
    (tmp_path / "snips" / "train_Play_full.json").write_text(json.dumps({"Play": [{"data": [
        {"text": " play "}, {"text": "Abbey Road ", "entity": "album"}, {"text": "now"}]}]}))
    (tmp_path / "snips" / "validate_Play.json").write_text(json.dumps({"Play": [{"data": [{"text": "play it"}]}]}))
    snips = datasets.read_snips(tmp_path / "snips")
    example = snips.train.examples[0]
    assert example.text == "play Abbey Road now"
    assert [(a.entity, example.text[a.start:a.end]) for a in example.entities] == [("album", "Abbey Road")]
    clinc.write_text("{}")
    with pytest.raises(ConfigError, match="needs the lists"):
        datasets.read_clinc(clinc)


def test_folds_are_stratified_and_cover_every_example():
    examples = [Example(f"{i}", intent) for intent in "ab" for i in range(10)]
    folds = stratified_folds(examples, 5)
    assert sorted(i for fold in folds for i in fold) == list(range(20))
    assert all(sorted(examples[i].intent for i in fold) == ["a", "a", "b", "b"] for fold in folds)

"""The NLU pipeline: training, persistence, parsing and the fallback."""

import json
from dataclasses import replace

import pytest

from bot.errors import ConfigError, ModelError, ProjectError
from bot.nlu import training
from bot.nlu.pipeline import METADATA_FILE, NLUPipeline
from bot.project import load_project
from bot.settings import ComponentSpec
from tests.conftest import edit


@pytest.fixture
def tiny_project(tiny, tmp_path):
    project = load_project(tiny)
    project.settings = replace(project.settings, model_dir=tmp_path / "models")
    return project


def test_training_writes_a_model_with_its_fingerprint(tiny_project):
    result = training.train(tiny_project)
    assert result.trained
    metadata = json.loads((result.model_dir / METADATA_FILE).read_text())
    assert metadata["fingerprint"] == training.fingerprint(tiny_project)
    assert [c["name"] for c in metadata["pipeline"]] == [
        "phrase_entity_extractor", "ngram_featurizer", "intent_classifier", "fallback_classifier"]
    assert training.is_current(tiny_project)


def test_unchanged_project_is_not_retrained_and_changed_one_is(tiny_project, tiny):
    training.train(tiny_project)
    assert not training.train(tiny_project).trained
    assert training.train(tiny_project, force=True).trained
    edit(tiny / "nlu_data" / "nlu.yml", "      - yo\n", "      - yo\n      - hi bot\n")
    changed = load_project(tiny)
    changed.settings = tiny_project.settings
    assert not training.is_current(changed)
    assert training.train(changed).trained


def test_a_failed_training_keeps_the_previous_model(tiny_project, tiny):
    training.train(tiny_project)
    broken = load_project(tiny)
    broken.settings = replace(broken.settings, model_dir=tiny_project.settings.model_dir)
    broken.nlu.examples = [e for e in broken.nlu.examples if e.intent == "greet"]  # one intent: cannot train
    with pytest.raises(ConfigError, match="at least two intents"):
        training.train(broken, force=True)
    pipeline, metadata = NLUPipeline.load(training.model_dir(tiny_project))
    assert metadata["fingerprint"] == training.fingerprint(tiny_project)
    assert pipeline.parse("hello")["intent"]["name"] == "greet"


def test_loaded_model_parses_exactly_like_the_trained_one(tiny_project):
    specs = list(tiny_project.settings.pipeline)
    trained = NLUPipeline.build(specs, ["greet", "ask_concept"])
    from bot.nlu.component import TrainingInput
    trained.train(TrainingInput(tiny_project.nlu, tiny_project.knowledge, tiny_project.domain.entities))
    training.train(tiny_project)
    loaded, _ = NLUPipeline.load(training.model_dir(tiny_project))
    for text in ("hello", "what is a gizmo", "explain widgets to me", "zzz qqq"):
        assert loaded.parse(text) == trained.parse(text)


def test_parse_has_rasas_shape_and_canonical_entities(agent):
    parse = agent.parse("what is the difference between overfiting and underfitting?")
    assert set(parse) == {"text", "intent", "entities", "intent_ranking"}
    assert parse["intent"]["name"] == "compare" and 0 < parse["intent"]["confidence"] <= 1
    assert parse["intent_ranking"][0]["name"] == "compare"
    first = parse["entities"][0]
    assert first == {"entity": "concept", "value": "overfitting", "start": 31, "end": 41,
                     "confidence": 1.0, "extractor": "phrase_entity_extractor"}
    assert parse["text"][first["start"]:first["end"]] == "overfiting"


def test_regex_finds_instance_types_no_list_holds(agent):
    entities = agent.parse("is ml.g4dn.xlarge good for training?")["entities"]
    assert {"entity": "instance_type", "value": "ml.g4dn.xlarge"}.items() <= entities[0].items()
    assert entities[0]["extractor"] == "regex_entity_extractor"


def test_gibberish_falls_back_and_keeps_the_ranking(agent):
    parse = agent.parse("qwzx plorp vrenk")
    assert parse["intent"]["name"] == "nlu_fallback"
    assert len(parse["intent_ranking"]) > 2 and parse["intent_ranking"][1]["name"] != "nlu_fallback"


def test_direct_intent_messages_skip_the_model(agent):
    parse = agent.parse('/ask_concept{"concept": "overfitting"}')
    assert parse["intent"] == {"name": "ask_concept", "confidence": 1.0}
    assert parse["entities"][0]["value"] == "overfitting"
    assert agent.parse("/not_an_intent")["intent"]["name"] != "not_an_intent"


def test_missing_model_is_a_clear_error(tmp_path):
    with pytest.raises(ModelError, match="coursebot train"):
        NLUPipeline.load(tmp_path)


def test_model_of_another_format_is_refused(tiny_project):
    directory = training.train(tiny_project).model_dir
    metadata = json.loads((directory / METADATA_FILE).read_text())
    metadata["model_format"] = 999
    (directory / METADATA_FILE).write_text(json.dumps(metadata))
    with pytest.raises(ModelError, match="format 999.*train --force"):
        NLUPipeline.load(directory)


def test_unknown_component_in_settings_names_the_known_ones(tiny):
    edit(tiny / "coursebot.yml", "- name: intent_classifier", "- name: intent_clasifier")
    with pytest.raises(ProjectError) as raised:
        load_project(tiny)
    problem = raised.value.problems[0]
    assert problem.code == "unknown-component" and "did you mean 'intent_classifier'" in problem.message
    assert problem.location.path.name == "coursebot.yml" and problem.location.line == 5


@pytest.mark.parametrize("name, options, message", [
    ("fallback_classifier", {"treshold": 0.3}, "no option treshold"),
    ("fallback_classifier", {"threshold": 3}, "from 0 to 1"),
    ("ngram_featurizer", {"word_ngrams": [2, 1]}, r"\[min, max\]"),
    ("sentence_embedder", {"layers": 0}, "positive whole number"),
    ("sentence_embedder", {"parse_threads": -1}, "number of threads"),
    ("spacy_ner_extractor", {"min_confidence": 2}, "from 0 to 1"),
    ("intent_classifier", {"C": -1}, "positive number"),
])
def test_bad_component_options_are_refused(name, options, message):
    with pytest.raises(ConfigError, match=message):
        NLUPipeline.build([ComponentSpec(name, options)], [])

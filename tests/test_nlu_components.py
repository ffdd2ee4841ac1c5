"""Each NLU component on small data: spaCy entity matching (exact, fuzzy, learned),
the sentence encoder (a real, tiny fine-tuning), the fallback's calibration, pipeline
order checks, and messages no one should have to worry about (empty, huge, emoji)."""

import json
from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.nlu.classifiers.fallback import FallbackClassifier
from bot.nlu.component import TrainingInput
from bot.nlu.extractors.ner import SpacyNerExtractor
from bot.nlu.extractors.phrases import PhraseEntityExtractor, allowed_edits
from bot.nlu.extractors.regex import RegexEntityExtractor
from bot.nlu.message import Message
from bot.nlu.pipeline import NLUPipeline, split_for_validation
from bot.nlu.training_data import EntityAnnotation, Example, NamedList, TrainingData
from bot.project import load_project
from bot.settings import ComponentSpec


def example(text: str, intent: str, *spans: tuple[str, str]) -> Example:
    """An example with entities given as (surface text, entity)."""
    annotations = []
    for surface, entity in spans:
        start = text.index(surface)
        annotations.append(EntityAnnotation(entity, surface, start, start + len(surface), surface))
    return Example(text, intent, tuple(annotations))


@pytest.fixture(scope="module")
def phrase_extractor():
    data = TrainingData(
        [example("what is gradient descent", "ask", ("gradient descent", "concept"))],
        synonyms=[NamedList("sagemaker", ("amazon sagemaker", "sage maker"))],
        lookups=[NamedList("service", ("comprehend", "rekognition", "amazon sagemaker"))])
    extractor = PhraseEntityExtractor(use_examples=True)
    extractor.train(TrainingInput(data, entities=["service", "concept"]))
    return extractor


def test_annotated_example_values_are_phrases_only_when_asked_for():
    data = TrainingData([example("play some music now", "play", ("music", "type"), ("now", "time"))],
                        lookups=[NamedList("service", ("comprehend",))])
    default = PhraseEntityExtractor()
    default.train(TrainingInput(data, entities=["service", "type", "time"]))
    assert [e["value"] for e in entities_of(default, "music now with comprehend")] == ["comprehend"]


def entities_of(component, text: str) -> list[dict]:
    message = Message(text)
    component.process(message)
    return message.entities


def test_exact_names_map_to_canonical_values_whatever_the_case_or_hyphen(phrase_extractor):
    found = entities_of(phrase_extractor, "Is Amazon SageMaker like Gradient-Descent?")
    assert [(e["entity"], e["value"], e["confidence"]) for e in found] == [
        ("service", "sagemaker", 1.0), ("concept", "gradient descent", 1.0)]
    assert found[0]["start"] == 3 and found[0]["end"] == 19


def test_typos_are_matched_with_lower_confidence(phrase_extractor):
    found = entities_of(phrase_extractor, "how does rekognitoin work with gradiant descent")
    assert [(e["value"], e["extractor"]) for e in found] == [
        ("rekognition", "phrase_entity_extractor"), ("gradient descent", "phrase_entity_extractor")]
    assert all(0.5 <= e["confidence"] < 1.0 for e in found)


def test_a_word_the_extractor_knows_is_never_a_typo_of_another():
    """"difference" is two edits from "inference"; a word seen in training is itself."""
    data = TrainingData([example("what's the difference between them", "compare")],
                        lookups=[NamedList("concept", ("inference",))])
    extractor = PhraseEntityExtractor()
    extractor.train(TrainingInput(data, entities=["concept"]))
    assert entities_of(extractor, "what's the difference between L1 and L2 regularisation") == []
    assert [e["value"] for e in entities_of(extractor, "what's the differance with infrence")] == ["inference"]


def test_short_words_are_never_fuzzy():
    assert allowed_edits("ec2") == 0 and allowed_edits("model") == 1 and allowed_edits("rekognition") == 2
    assert allowed_edits("ml.t3.medium") == 0


def test_phrase_extractor_survives_persistence(phrase_extractor, tmp_path):
    phrase_extractor.persist(tmp_path)
    loaded = PhraseEntityExtractor.load(tmp_path, {})
    text = "compare comprehnd and sage maker"
    assert entities_of(loaded, text) == entities_of(phrase_extractor, text)
    assert [e["value"] for e in entities_of(loaded, text)] == ["comprehend", "sagemaker"]


def test_regexes_find_s3_uris_and_job_names():
    data = load_project_data()
    extractor = RegexEntityExtractor()
    extractor.train(TrainingInput(data, entities=["s3_uri", "job_name", "instance_type"]))
    found = entities_of(extractor, "train xgboost-churn-2024-01 on s3://my-bucket/data/train.csv with ml.m5.large")
    assert {(e["entity"], e["value"]) for e in found} == {
        ("job_name", "xgboost-churn-2024-01"), ("s3_uri", "s3://my-bucket/data/train.csv"),
        ("instance_type", "ml.m5.large")}


def load_project_data() -> TrainingData:
    from tests.conftest import ROOT

    return load_project(ROOT).nlu


def test_learned_extractor_finds_names_no_list_holds():
    names = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet"]
    examples = []
    for name in names:
        examples += [example(f"start the notebook {name}-nb please", "start", (f"{name}-nb", "notebook")),
                     example(f"stop notebook {name}-nb", "stop", (f"{name}-nb", "notebook")),
                     example(f"is {name}-nb running", "status", (f"{name}-nb", "notebook"))]
    extractor = SpacyNerExtractor(epochs=15, min_confidence=0.1)
    extractor.train(TrainingInput(TrainingData(examples)))
    found = entities_of(extractor, "please stop the notebook kilo-nb")
    assert [(e["entity"], e["value"], e["extractor"]) for e in found] == [
        ("notebook", "kilo-nb", "spacy_ner_extractor")]
    assert 0.1 <= found[0]["confidence"] <= 1.0

    # A span an earlier extractor holds stays theirs (and is not scored again: the beam
    # runs only where the learned extractor can add something).
    taken = Message("please stop the notebook kilo-nb")
    taken.add_entity("notebook", "kilo-nb", 25, 32, 1.0, "phrase_entity_extractor")
    extractor.process(taken)
    assert [e["extractor"] for e in taken.entities] == ["phrase_entity_extractor"]


def test_the_entity_model_is_kept_after_a_small_edit_and_relearned_after_a_new_entity_type(tmp_path):
    names = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet")
    examples = [example(f"start the notebook {name}-nb please", "start", (f"{name}-nb", "notebook"))
                for name in names] + [Example(f"hello {name}", "greet") for name in names]
    trained = SpacyNerExtractor(epochs=5)
    trained.train(TrainingInput(TrainingData(examples)))
    trained.persist(tmp_path)
    stored = SpacyNerExtractor.load(tmp_path, {"epochs": 5})

    edited = TrainingData([*examples, Example("when are office hours", "office_hours")])
    kept = SpacyNerExtractor(epochs=5)
    assert kept.take_over(stored, TrainingInput(edited)) == (
        "kept the entity model: 1 of the 20 examples it learned from changed since")
    assert entities_of(kept, "stop notebook kilo-nb") == entities_of(stored, "stop notebook kilo-nb")

    typed = TrainingData([*examples, example("train job zulu-job", "train", ("zulu-job", "job"))])
    assert SpacyNerExtractor(epochs=5).take_over(stored, TrainingInput(typed)) is None  # a new entity type
    assert SpacyNerExtractor(epochs=6).take_over(stored, TrainingInput(edited)) is None  # another option
    # how much may change is a runtime option: a model learned under another share is the same model
    assert SpacyNerExtractor(epochs=5, keep_share=0.5).take_over(stored, TrainingInput(edited)) is not None
    moved = TrainingData([*examples[:17], Example("hi", "greet")])
    assert SpacyNerExtractor(epochs=5).take_over(stored, TrainingInput(moved)) is None  # 4 of 20 changed


def test_learned_extractor_without_annotations_finds_nothing(tmp_path):
    extractor = SpacyNerExtractor()
    extractor.train(TrainingInput(TrainingData([Example("hi", "greet"), Example("bye", "goodbye")])))
    extractor.persist(tmp_path)
    assert entities_of(SpacyNerExtractor.load(tmp_path, {}), "hi there") == []


ENCODER_PIPELINE = [
    ComponentSpec("sentence_embedder", {"layers": 1, "fine_tune_epochs": 2, "batch_size": 8, "learning_rate": 1e-4}),
    ComponentSpec("intent_classifier", {}),
    ComponentSpec("fallback_classifier", {}),
]


def test_the_encoder_path_fine_tunes_persists_and_loads(tiny, tmp_path):
    """A real (tiny) fine-tuning of the transformer, then the TorchScript round trip."""
    from bot.nlu.pipeline import METADATA_FILE

    project = load_project(tiny)
    pipeline = NLUPipeline.build(ENCODER_PIPELINE, project.domain.intents)
    steps = []
    pipeline.train(TrainingInput(project.nlu, progress=lambda what, done, total: steps.append(what)))
    assert "fine-tuning the sentence encoder" in steps
    assert pipeline.parse("hello there")["intent"]["name"] == "greet"
    assert pipeline.parse("what is a widget")["intent"]["name"] == "ask_concept"
    pipeline.persist(tmp_path / "model", {"fingerprint": "x"})
    assert (tmp_path / "model" / METADATA_FILE).exists()
    import torch

    torch.set_num_threads(2)
    loaded, _ = NLUPipeline.load(tmp_path / "model")
    assert torch.get_num_threads() == 1  # parse_threads: one message, one thread
    for text in ("hello there", "explain gizmos", "ok"):
        before, after = pipeline.parse(text), loaded.parse(text)
        assert before["intent"]["name"] == after["intent"]["name"]
        assert before["intent"]["confidence"] == pytest.approx(after["intent"]["confidence"], abs=1e-3)


def _vectors(model: Path):
    """What the stored encoder makes of a few sentences (its file's bytes differ from save to save)."""
    return NLUPipeline.load(model)[0].embedder()(["hello there", "what is a widget", "zzz"])


def test_a_retraining_after_a_small_edit_keeps_the_fine_tuned_encoder(tiny, tmp_path):
    """An instructor's small edit must not move every unrelated answer: the retraining
    keeps both fine-tuned encoders (final and validation) and learns the rest anew; a
    larger edit, a changed option or --fresh fine-tunes again."""
    from dataclasses import replace

    from bot.nlu import training
    from tests.conftest import edit

    def project(**options):
        loaded = load_project(tiny)
        specs = (replace(ENCODER_PIPELINE[0], options={**ENCODER_PIPELINE[0].options, **options}),
                 *ENCODER_PIPELINE[1:])
        loaded.settings = replace(loaded.settings, pipeline=specs, model_dir=tmp_path / "models")
        return loaded

    def retrain(edited=None, fresh=False, **options):
        steps: list[str] = []
        result = training.train(edited or project(**options), fresh=fresh,
                                on_step=lambda what, done, total: steps.append(what))
        return result, "fine-tuning the sentence encoder" in steps

    first, fine_tuned = retrain()
    model = first.model_dir
    assert fine_tuned and first.kept == ()
    assert (model / "validation" / "0_sentence_embedder" / "encoder.pt").exists()
    trained = _vectors(model)

    edit(tiny / "nlu_data" / "nlu.yml", "      - yo\n", "      - yo\n      - good evening\n")  # 1 of 21
    kept, fine_tuned = retrain()
    assert kept.trained and not fine_tuned
    assert kept.kept[0] == "kept the fine-tuned sentence encoder: 1 of the 20 examples it learned from changed since"
    assert (_vectors(model) == trained).all()
    assert json.loads((model / "metadata.json").read_text())["kept"] == list(kept.kept)
    pipeline, _ = NLUPipeline.load(model)
    assert pipeline.parse("hello there")["intent"]["name"] == "greet"

    for changed in ({"learning_rate": 2e-4}, {"fresh": True}):  # what it learns changed; asked to
        result, fine_tuned = retrain(**changed)
        assert fine_tuned and not any("encoder" in note for note in result.kept), changed
    edit(tiny / "nlu_data" / "nlu.yml", "      - yo\n", "      - yo\n      - sup\n      - hullo\n      - oi\n")
    result, fine_tuned = retrain()
    assert fine_tuned and not any("encoder" in note for note in result.kept)  # 3 more of 21: over a tenth


def test_the_validation_model_borrows_the_entity_model_and_trains_the_rest_anew(tiny, monkeypatch):
    """The entity model is trained once, on all the data; the validation model that
    calibrates the fallback reuses it but learns its own intent model from its share."""
    trained: list[int] = []
    original = SpacyNerExtractor.train

    def counting(self, training):
        trained.append(len(training.messages))
        original(self, training)

    monkeypatch.setattr(SpacyNerExtractor, "train", counting)
    project = load_project(tiny)
    specs = [ComponentSpec("spacy_ner_extractor", {"epochs": 2}), ComponentSpec("ngram_featurizer", {}),
             ComponentSpec("intent_classifier", {}), ComponentSpec("fallback_classifier", {})]
    pipeline = NLUPipeline.build(specs, project.domain.intents)
    steps: list[str] = []
    pipeline.train(TrainingInput(project.nlu), lambda what, done, total: steps.append(what))
    assert trained == [len(project.nlu.examples)]
    assert "validation model: reusing spacy_ner_extractor" in steps
    assert "validation model: training intent_classifier" in steps


def test_fine_tuning_moves_the_encoder(tiny):
    import numpy as np

    from bot.nlu.featurizers.sentence_embeddings import SentenceEmbedder

    project = load_project(tiny)
    frozen, tuned = SentenceEmbedder(layers=1), SentenceEmbedder(layers=1, fine_tune_epochs=2, batch_size=8)
    frozen.train(TrainingInput(project.nlu))
    tuned.train(TrainingInput(project.nlu))
    a, b = frozen.embed(["hello", "what is a widget"]), tuned.embed(["hello", "what is a widget"])
    assert a.shape == b.shape == (2, 384)
    assert np.allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-4)
    assert not np.allclose(a, b, atol=1e-3)


def test_the_quantized_encoder_stays_close_to_the_float_one(tiny, tmp_path):
    import numpy as np

    from bot.errors import ConfigError
    from bot.nlu.featurizers.sentence_embeddings import SentenceEmbedder

    project = load_project(tiny)
    whole, quantized = SentenceEmbedder(layers=1, quantize=False), SentenceEmbedder(layers=1)
    whole.train(TrainingInput(project.nlu))
    quantized.train(TrainingInput(project.nlu))
    texts = ["hello", "what is a widget", "explain gizmos to me please"]
    a, b = whole.embed(texts), quantized.embed(texts)
    assert np.allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-4)
    assert not np.allclose(a, b, atol=1e-4)  # int8 weights: not the same numbers
    assert (a * b).sum(axis=1).min() > 0.9  # but nearly the same directions
    quantized.persist(tmp_path)
    assert np.allclose(SentenceEmbedder.load(tmp_path, {}).embed(texts), b, atol=1e-5)
    with pytest.raises(ConfigError, match="quantize"):
        SentenceEmbedder(quantize="yes")


def ranked(*pairs: tuple[str, float], gold_text: str = "x") -> Message:
    message = Message(gold_text)
    message.set_ranking(list(pairs), 10)
    return message


def test_calibration_picks_thresholds_that_catch_out_of_scope_without_costing_accuracy():
    predictions = ([ranked(("a", 0.9), ("b", 0.05)) for _ in range(20)]
                   + [ranked(("b", 0.8), ("a", 0.1)) for _ in range(20)]
                   + [ranked(("a", 0.4), ("b", 0.35)) for _ in range(10)])  # unsure: out of scope
    labels = ["a"] * 20 + ["b"] * 20 + ["out_of_scope"] * 10
    fallback = FallbackClassifier()
    fallback.calibrate(predictions, labels)
    assert 0.4 < fallback.threshold_ <= 0.8 or fallback.margin_ > 0.05
    assert fallback.calibration_["caught"] == 1.0
    assert fallback.calibration_["in_scope_accuracy_after"] == 1.0
    message = ranked(("a", 0.45), ("b", 0.4))
    fallback.process(message)
    assert message.intent["name"] == "nlu_fallback" and message.intent_ranking[1]["name"] == "a"


def test_a_recalibration_keeps_the_previous_thresholds_while_they_still_meet_the_bar():
    """A small edit moves the chosen thresholds by less than a few hundred held-out messages
    can tell; keeping them keeps every answer at the margin where it was."""
    def held_out(shift: float) -> tuple[list[Message], list[str]]:
        # 100 in-scope answers, right and sure in varying degrees, 20 out of scope, unsure;
        # `shift` makes the classifier a little surer, and less drawn out of scope
        sure = [ranked(("a", 0.3 + i / 200 + shift), ("out_of_scope", 0.2 + i / 400 - shift)) for i in range(100)]
        unsure = [ranked(("a", 0.2 + i / 200 + shift), ("out_of_scope", 0.19)) for i in range(20)]
        return sure + unsure, ["a"] * 100 + ["out_of_scope"] * 20

    before = FallbackClassifier(ambiguity_threshold=0.0)
    assert before.calibrate(*held_out(0.0)) is None  # nothing to keep from
    after = FallbackClassifier(ambiguity_threshold=0.0)
    note = after.calibrate(*held_out(0.004), before)
    assert note == "kept the fallback's thresholds, which still meet the bar on the new held-out data"
    assert (after.threshold_, after.lean_) == (before.threshold_, before.lean_)
    fresh = FallbackClassifier(ambiguity_threshold=0.0)
    fresh.calibrate(*held_out(0.004))
    assert (fresh.threshold_, fresh.lean_) != (before.threshold_, before.lean_)  # what it would choose anew
    # far from the new choice, or no longer within the bar: chosen anew
    for shift in (0.05, -0.008):
        moved = FallbackClassifier(ambiguity_threshold=0.0)
        assert moved.calibrate(*held_out(shift), before) is None, shift
        assert moved.threshold_ != before.threshold_ and moved.lean_ != before.lean_


def test_calibration_never_trades_more_accuracy_than_allowed():
    # Every in-scope answer is right but unsure: any threshold would cost accuracy.
    predictions = [ranked(("a", 0.3), ("b", 0.2)) for _ in range(10)] + [ranked(("a", 0.3), ("b", 0.25))]
    labels = ["a"] * 10 + ["out_of_scope"]
    fallback = FallbackClassifier(max_accuracy_drop=0.0)
    fallback.calibrate(predictions, labels)
    kept = ranked(("a", 0.3), ("b", 0.2))
    fallback.process(kept)
    assert kept.intent["name"] == "a"


def test_an_in_scope_answer_that_leans_out_of_scope_is_marked_so(tmp_path):
    # 100 held-out in-scope messages give out_of_scope 0.000 to 0.495 of their share; 5% may lean.
    predictions = [ranked(("a", 1 - i / 200), ("out_of_scope", i / 200)) for i in range(100)]
    labels = ["a"] * 100
    fallback = FallbackClassifier(threshold=0.0, ambiguity_threshold=0.0, max_out_of_scope_lean=0.05)
    fallback.calibrate(predictions, labels)
    leaning = sum(p.intent_ranking[1]["confidence"] >= fallback.lean_ for p in predictions)
    assert leaning == 5
    fallback.persist(tmp_path)
    loaded = FallbackClassifier.load(tmp_path, {"threshold": 0.0, "ambiguity_threshold": 0.0})
    for component in (fallback, loaded):
        near_miss, course = ranked(("a", 0.51), ("out_of_scope", 0.49)), ranked(("a", 0.8), ("out_of_scope", 0.2))
        component.process(near_miss)
        component.process(course)
        assert near_miss.intent["name"] == "a" and near_miss.as_parse()["leans_out_of_scope"] is True
        assert course.intent["name"] == "a" and "leans_out_of_scope" not in course.as_parse()


def test_without_an_out_of_scope_intent_nothing_leans():
    predictions = [ranked(("a", 0.6), ("b", 0.4)) for _ in range(20)]
    fallback = FallbackClassifier(threshold=0.0, ambiguity_threshold=0.0)
    fallback.calibrate(predictions, ["a"] * 20)
    message = ranked(("a", 0.6), ("b", 0.4))
    fallback.process(message)
    assert fallback.lean_ > 1 and not message.leans_out_of_scope


def test_a_message_of_words_the_training_never_used_falls_back_whatever_its_confidence(tmp_path):
    data = TrainingData([example("what is a gizmo", "ask"), example("hello there", "greet")])
    fallback = FallbackClassifier(threshold=0.1, ambiguity_threshold=0.0)
    fallback.train(TrainingInput(data))
    fallback.persist(tmp_path)
    loaded = FallbackClassifier.load(tmp_path, {"threshold": 0.1, "ambiguity_threshold": 0.0})
    for component in (fallback, loaded):
        unknown, known, named = (ranked(("greet", 0.99), ("ask", 0.01), gold_text=text)
                                 for text in ("qwzx plorp!", "hello qwzx", "qwzx plorp"))
        named.add_entity("concept", "plorp", 5, 10, 1.0, "phrase_entity_extractor")
        for message in (unknown, known, named):
            component.process(message)
        assert unknown.intent["name"] == "nlu_fallback"
        assert known.intent["name"] == "greet" and named.intent["name"] == "greet"


@pytest.mark.parametrize("text, seen", [
    ("say 'the pipeline has six stages' out loud", 'say "text" out loud'),
    ('what\'s the sentiment of "I love this course"', 'what\'s the sentiment of "text"'),
    ("what is 'overfitting'?", "what is 'overfitting'?"),    # one quoted word is a topic, not a text
    ("it's the students' notes", "it's the students' notes"),
])
def test_intent_features_do_not_read_the_words_of_a_quoted_text(text, seen):
    assert Message(text).intent_text() == seen


def test_entities_are_masked_outside_quoted_texts():
    message = Message("explain P3 and say 'P3 is fast' aloud")
    message.add_entity("instance_type", "ec2_p3", 8, 10, 1.0, "phrase_entity_extractor")
    message.add_entity("instance_type", "ec2_p3", 20, 22, 1.0, "phrase_entity_extractor")
    assert message.intent_text(mask_entities=True) == 'explain __instance_type__ and say "text" aloud'


def test_fixed_thresholds_are_not_calibrated():
    fallback = FallbackClassifier(threshold=0.7, ambiguity_threshold=0.1)
    fallback.calibrate([ranked(("a", 0.9), ("b", 0.05))], ["a"])
    assert (fallback.threshold_, fallback.margin_) == (0.7, 0.1)


def test_a_pipeline_in_the_wrong_order_is_refused():
    with pytest.raises(ConfigError, match="'intent_classifier' needs features"):
        NLUPipeline.build([ComponentSpec("intent_classifier", {}), ComponentSpec("ngram_featurizer", {})], [])
    with pytest.raises(ConfigError, match="'ngram_featurizer' needs entities"):
        NLUPipeline.build([ComponentSpec("ngram_featurizer", {})], [])


def test_validation_split_is_stratified_and_disjoint():
    data = TrainingData([Example(f"{intent} {i}", intent) for intent in "abc" for i in range(200)]
                        + [Example("lonely", "d"), Example("pair 1", "e"), Example("pair 2", "e")])
    held_in, held_out = split_for_validation(TrainingInput(data), share=0.2)
    for intent in "abc":
        assert 0.12 <= held_out.labels.count(intent) / 200 <= 0.28
    assert "d" in held_in.labels and "d" not in held_out.labels  # one example: kept for training
    assert held_in.labels.count("e") == held_out.labels.count("e") == 1  # never all held out
    assert not {m.text for m in held_in.messages} & {m.text for m in held_out.messages}


def test_an_added_intent_moves_no_other_example_across_the_validation_split():
    """The held-out examples calibrate the fallback with the validation encoder, which a
    retraining may keep: an example it learned from must not become a held-out one."""
    before = [Example(f"{intent} {i}", intent) for intent in "abc" for i in range(30)]
    added = [Example(f"new {i}", "z") for i in range(8)]
    _, out_before = split_for_validation(TrainingInput(TrainingData(before)))
    _, out_after = split_for_validation(TrainingInput(TrainingData(added[:4] + before + added[4:])))
    assert [m.text for m in out_after.messages if not m.text.startswith("new")] == [
        m.text for m in out_before.messages]
    assert "z" in out_after.labels


@pytest.mark.parametrize("text", [
    "", "   ", "x" * 100_000, "what is overfitting " * 5000, "🙂🚀🤖", "что такое машинное обучение",
    "機械学習とは何ですか", "مرحبا", "<script>alert(1)</script>", "ml." * 1000, "\x00\x01 null bytes"])
def test_any_text_parses_without_error(agent, text):
    parse = agent.parse(text)
    assert parse["text"] == text
    assert parse["intent"]["name"] is not None
    assert all(0 <= e["start"] <= e["end"] <= len(text) for e in parse["entities"])

"""The Lex hook's scope model: pure-Python scoring that agrees with scikit-learn, a
threshold within its held-out budget, and stored with the answer index."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LogisticRegression

from bot.knowledge.answer_index import AnswerIndex
from bot.knowledge.index_build import _lowest_within_budget
from bot.knowledge.scope import ScopeModel, features, train_scope_model
from bot.nlu import training

COURSE = ["what is feature engineering", "which instance type for training", "how do I clean my data",
          "what does amazon polly do", "explain overfitting", "what comes after data collection",
          "what is a notebook instance", "how do I evaluate my model", "what is supervised learning",
          "which service reads text in images"]
OTHER = ["what's the weather like today", "tell me a joke", "who won the football game",
         "recommend a good pizza place", "how tall is mount everest", "sing me a song",
         "what time is it in tokyo", "book a table for two", "how do i make pancakes", "what's your favorite color"]


def test_each_feature_block_has_unit_length_and_typos_keep_most_character_ngrams():
    found = features("What is Feature Engineering?")
    for block in ("w:", "p:", "c:"):
        assert math.isclose(sum(v * v for k, v in found.items() if k.startswith(block)), 1.0)
    assert "w:featur" in found and "p:featur engin" in found
    right = {k for k in found if k.startswith("c:")}
    typo = {k for k in features("what is feture engineering") if k.startswith("c:")}
    assert len(right & typo) / len(right) > 0.7
    assert features("") == {}


def test_the_pure_python_score_is_scikit_learns_probability():
    rows = [features(text) for text in COURSE + OTHER]
    labels = np.array([0] * len(COURSE) + [1] * len(OTHER))
    vectorizer = DictVectorizer()
    expected = LogisticRegression(max_iter=2000).fit(vectorizer.fit_transform(rows), labels)
    model, held_out = train_scope_model(COURSE, OTHER, folds=2)
    assert len(held_out) == len(COURSE) + len(OTHER) and all(0.0 <= p <= 1.0 for p in held_out)
    assert model.trained_on == {"in_scope": len(COURSE), "out_of_scope": len(OTHER)}
    for text in ["what is a feature", "will it rain in paris", "polly voices", ""]:
        wanted = expected.predict_proba(vectorizer.transform([features(text)]))[0, 1]
        assert model.out_of_scope(text) == pytest.approx(wanted, abs=2e-3)  # weights stored to 4 digits


def test_a_message_leans_out_of_scope_only_from_the_threshold_up():
    model = ScopeModel({"w:joke": 3.0}, bias=-1.0, threshold=0.5)
    assert model.leans_out_of_scope("tell me a joke") == pytest.approx(model.out_of_scope("tell me a joke"))
    assert model.leans_out_of_scope("what is a feature") is None  # sigmoid(-1) < 0.5
    assert ScopeModel.from_dict(model.as_dict()) == model


def test_a_damaged_scope_model_says_how_to_mend_it(tmp_path):
    from bot.errors import ModelError

    damaged = tmp_path / "scope.json"
    damaged.write_text('{"weights": ', encoding="utf-8")
    index = AnswerIndex([], None, None, [], [], None, {}, scope_path=damaged)
    with pytest.raises(ModelError, match="coursebot train --force"):
        index.scope_model()


@pytest.mark.parametrize(("shares", "budget", "reached"), [
    ([0.9, 0.8, 0.1, 0.05], 0, 0), ([0.9, 0.8, 0.1, 0.05], 1, 1), ([0.9, 0.8, 0.1, 0.05], 2, 2),
    ([0.5, 0.5, 0.5, 0.1], 1, 0),  # a tie is never half in
    ([0.3], 1, 1),  # fewer than the budget: every one may reach it
])
def test_the_threshold_is_the_lowest_that_at_most_the_budget_reaches(shares, budget, reached):
    threshold = _lowest_within_budget(shares, budget)
    assert sum(share >= threshold for share in shares) == reached
    if reached < len(shares):  # and it is the lowest such threshold: a little lower lets one more in
        assert sum(share >= threshold - 2e-4 for share in shares) > budget


def test_the_course_model_stores_a_scope_model_trained_on_its_examples(agent, course_project):
    index = AnswerIndex.load(training.model_dir(course_project), vectors=False)
    assert index.scope is None  # read only when asked for: no other process pays for it
    scope = index.scope_model()
    assert scope is not None and 0.0 < scope.threshold < 1.0
    out_of_scope = sum(e.intent == "out_of_scope" for e in course_project.nlu.examples)
    assert scope.trained_on["out_of_scope"] == out_of_scope
    assert scope.trained_on["in_scope"] == len(course_project.nlu.examples) - out_of_scope
    # far from the threshold on both sides: no borderline decides this test
    assert scope.out_of_scope("how do i cook rice") > 2 * scope.threshold
    assert scope.out_of_scope("which feature selection method is the fastest") < scope.threshold / 2

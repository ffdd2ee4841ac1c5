"""Explicit phrases: whole messages that mean one intent whatever the model says."""

import pytest

from bot.dialogue.explicit import ExplicitIntents
from bot.errors import ProjectError
from bot.project import load_project
from tests.conftest import edit

PHRASES = ExplicitIntents({"affirm": ["yes", "go ahead", "that's right"], "cancel": ["cancel", "never mind"]})


@pytest.mark.parametrize("text, intent", [
    ("yes", "affirm"), ("  YES!! ", "affirm"), ("Yes.", "affirm"), ("go   ahead", "affirm"),
    ("that\u2019s right", "affirm"), ("Never mind.", "cancel"), ("/affirm", "affirm"), ('/deny{"x": 1}', "deny"),
    ("yes?", None), ("yes please maybe", None), ("hmm", None), ("cancel-demo", None), ("", None),
    ("ok, cancel", "cancel"), ("found it. never mind", "cancel"), ("ok", None), ("ok maybe cancel", None),
])
def test_only_a_whole_listed_phrase_or_a_payload_is_explicit(text, intent):
    assert PHRASES.intent(text) == intent


def test_the_explicit_intent_goes_on_top_of_the_parse_and_keeps_the_models_ranking():
    parse = {"text": "Cancel.", "intent": {"name": "detect_pii", "confidence": 0.4},
             "intent_ranking": [{"name": "detect_pii", "confidence": 0.4}, {"name": "cancel", "confidence": 0.3}]}
    applied = PHRASES.apply("Cancel.", parse)
    assert applied["intent"] == {"name": "cancel", "confidence": 1.0}
    assert [r["name"] for r in applied["intent_ranking"]] == ["cancel", "detect_pii"]
    assert PHRASES.apply("what is cancel?", parse) is parse


def test_one_phrase_under_two_intents_is_refused():
    with pytest.raises(ValueError, match="'ok' is listed under both 'affirm' and 'deny'"):
        ExplicitIntents({"affirm": ["OK"], "deny": ["ok"]})


def test_the_course_lists_its_phrases_and_each_names_a_domain_intent():
    course = load_project(".")
    explicit = course.settings.dialogue.explicit()
    assert explicit.intent("yes") == "affirm" and explicit.intent("stop") == "cancel"
    assert all(course.domain.knows_intent(i) for i in course.settings.dialogue.explicit_intents)


@pytest.mark.parametrize("phrases, problem", [
    ("agree: [yes]", "lists phrases for 'agree', which domain.yml does not list"),
    ("greet: [hi, yes]\n    ask_concept: [Yes]", "'Yes' is listed under both 'greet' and 'ask_concept'"),
])
def test_a_phrase_for_an_unknown_intent_or_under_two_intents_is_a_project_error(tiny, phrases, problem):
    edit(tiny / "coursebot.yml", "nlu:", f"dialogue:\n  explicit_intents:\n    {phrases}\nnlu:")
    with pytest.raises(ProjectError, match=problem):
        load_project(tiny)

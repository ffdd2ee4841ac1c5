"""The dialogue manager: rules, slots, fallback, failures, restart, and actions by name."""

import logging
from dataclasses import replace
from pathlib import Path

import pytest

from bot.agent import Agent
from bot.dialogue.action_loader import ActionRegistry, load_project_actions
from bot.dialogue.events import (
    ActionExecuted,
    BotUttered,
    Restarted,
    SlotSet,
    UserUttered,
    event_from_dict,
)
from bot.dialogue.manager import APOLOGY
from bot.dialogue.policies import FlowPolicy
from bot.dialogue.responses import ResponseRenderer
from bot.dialogue.stories import Flow, Step
from bot.dialogue.tracker import Tracker
from bot.errors import CourseBotError
from bot.project import load_project
from tests.conftest import edit


@pytest.fixture
def tiny_agent(tiny: Path, tmp_path: Path) -> Agent:
    project = load_project(tiny)
    project.settings = replace(project.settings, model_dir=tmp_path / "models")
    return Agent.from_project(project)


def texts(replies: list[dict]) -> list[str]:
    return [reply.get("text") for reply in replies]


def test_rule_answers_with_a_response_addressed_to_the_sender(tiny_agent):
    assert tiny_agent.handle("hello", "ann") == [{"recipient_id": "ann", "text": "Hello there!"}]


def test_entities_fill_slots_and_actions_set_more(tiny_agent):
    assert texts(tiny_agent.handle("what is a gizmo", "ann")) == ["Gizmo: A gizmo is a clever device."]
    slots = tiny_agent.dialogue.tracker_for("ann").slots
    assert slots["concept"] == "gizmo" and slots["topic"] == "gizmo"


def test_a_failing_action_costs_one_apology_not_the_conversation(tiny_agent, caplog):
    with caplog.at_level(logging.ERROR):
        replies = tiny_agent.dialogue.handle("bob", "what is a thing", {
            "intent": {"name": "ask_concept", "confidence": 0.9}, "entities": []})
    assert texts(replies) == [APOLOGY]
    assert "action_explain failed" in caplog.text and "no topic" in caplog.text
    assert texts(tiny_agent.handle("hello", "bob")) == ["Hello there!"]


def test_unsure_parse_gets_the_default_response(tiny_agent):
    replies = tiny_agent.dialogue.handle("cy", "hmm", {"intent": {"name": "nlu_fallback", "confidence": 0.3},
                                                       "entities": []})
    assert texts(replies) == ["Sorry?"]


def test_conversations_are_kept_per_sender(tiny_agent):
    tiny_agent.handle("what is a widget", "dee")
    tiny_agent.handle("what is a gizmo", "eve")
    assert tiny_agent.dialogue.tracker_for("dee").slots["topic"] == "widget"
    assert tiny_agent.dialogue.tracker_for("eve").slots["topic"] == "gizmo"


def test_restart_forgets_slots(agent):
    agent.handle("what is overfitting", "restarter")
    assert agent.dialogue.tracker_for("restarter").slots["topic"] == "overfitting"
    assert texts(agent.handle("/restart", "restarter")) == ["Okay, let's start over."]
    assert agent.dialogue.tracker_for("restarter").slots["topic"] is None


def test_flow_policy_follows_multi_step_flows_and_prefers_more_context():
    short = Flow("rule", "short", (Step("intent", "greet"), Step("action", "utter_hi")))
    long = Flow("story", "long", (Step("intent", "greet"), Step("action", "utter_hi"), Step("intent", "affirm"),
                                  Step("action", "utter_glad"), Step("action", "utter_more")))
    either = Flow("rule", "either", (Step("or", "deny"), Step("or", "cancel"), Step("action", "utter_ok")))
    policy = FlowPolicy([short, long, either])
    tracker = Tracker("t", [UserUttered("hi", {"intent": {"name": "greet"}})])
    assert policy.predict(tracker) == "utter_hi"
    tracker.extend([ActionExecuted("utter_hi"), ActionExecuted("action_listen"),
                    UserUttered("yes", {"intent": {"name": "affirm"}})])
    assert policy.predict(tracker) == "utter_glad"
    tracker.add(ActionExecuted("utter_glad"))
    assert policy.predict(tracker) == "utter_more"
    tracker.add(ActionExecuted("utter_more"))
    assert policy.predict(tracker) is None
    assert policy.predict(Tracker("u", [UserUttered("no", {"intent": {"name": "cancel"}})])) == "utter_ok"


def test_events_survive_a_round_trip_through_dicts():
    events = [UserUttered("hi", {"intent": {"name": "greet"}}), BotUttered({"text": "Hello"}),
              SlotSet("topic", "overfitting"), ActionExecuted("utter_greet"), Restarted()]
    restored = [event_from_dict(event.as_dict()) for event in events]
    assert restored == events
    assert [e.timestamp for e in restored] == [e.timestamp for e in events]
    with pytest.raises(ValueError, match="unknown event type"):
        event_from_dict({"event": "teleport"})


def test_tracker_derives_slots_from_events_and_restarts():
    tracker = Tracker("t", [SlotSet("a", 1), SlotSet("a", 2), SlotSet("b", 3)], initial_slots={"c": 0})
    assert tracker.slots == {"a": 2, "b": 3, "c": 0}
    tracker.add(Restarted())
    assert tracker.slots == {"c": 0}


def test_responses_fill_placeholders_and_keep_unknown_ones_visible():
    renderer = ResponseRenderer({"utter_x": [{"text": "About {topic} and {nothing}",
                                              "buttons": [{"title": "More on {topic}", "payload": "/more"}]}]})
    message = renderer.render("utter_x", {"topic": "P3"})
    assert message["text"] == "About P3 and {nothing}"
    assert message["buttons"][0]["title"] == "More on P3"
    assert renderer.render("utter_missing") is None


def test_project_actions_are_found_by_name(tiny):
    assert set(load_project_actions(tiny / "actions")) == {"action_explain"}


def test_action_listed_in_the_domain_but_not_defined(tiny):
    edit(tiny / "domain.yml", "  - action_explain\n", "  - action_explain\n  - action_ghost\n")
    with pytest.raises(CourseBotError, match="action_ghost"):
        ActionRegistry.for_project(tiny, load_project(tiny).domain)


def test_two_actions_with_one_name_are_refused(tiny):
    (tiny / "actions" / "copy.py").write_text((tiny / "actions" / "explain.py").read_text().replace(
        "class ActionExplain", "class ActionExplainAgain"))
    with pytest.raises(CourseBotError, match="two actions are named 'action_explain'"):
        load_project_actions(tiny / "actions")

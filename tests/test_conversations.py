"""Conversations as data: the course's conversation tests, the runner that plays them,
and the dialogue pieces they rest on (forms, two-stage fallback, conditional rules,
slot mappings, response rotation, the per-sender lock)."""

import threading
from contextlib import contextmanager
from pathlib import Path

import pytest

from bot.dialogue.conversation_tests import (
    read_conversation_tests,
    run_conversation_tests,
)
from bot.dialogue.domain import Domain, MappingCondition, Slot, SlotMapping
from bot.dialogue.events import ActionExecuted, ActiveLoop, UserUttered
from bot.dialogue.policies import FlowPolicy, FormPolicy
from bot.dialogue.responses import ResponseRenderer
from bot.dialogue.slot_filling import slot_events
from bot.dialogue.stories import Flow, Step
from bot.dialogue.tracker import Tracker
from bot.errors import ProjectError
from tests.test_cli import coursebot

CONVERSATIONS = Path(__file__).parent / "conversations"


def test_every_course_conversation_passes(agent):
    tests = read_conversation_tests(CONVERSATIONS)
    outcome = run_conversation_tests(agent, tests)
    assert len(tests) >= 25
    assert not outcome.failures, "\n".join(str(f) for f in outcome.failures)


def test_a_wrong_expectation_is_reported_with_file_line_and_what_happened(agent, tmp_path):
    stories = tmp_path / "wrong.yml"
    stories.write_text('stories:\n  - story: Greeting\n    steps:\n      - user: hello\n'
                       '      - action: utter_goodbye\n  - story: Fine\n    steps:\n      - user: hello\n'
                       '      - action: utter_greet\n')
    outcome = run_conversation_tests(agent, read_conversation_tests(stories))
    assert outcome.passed == 1
    [failure] = outcome.failures
    assert str(failure).startswith(f"{stories}:4: story 'Greeting', after \"hello\"")
    assert "expected the actions utter_goodbye; the bot ran utter_greet" in str(failure)


def test_a_malformed_test_file_names_the_problem(tmp_path):
    stories = tmp_path / "bad.yml"
    stories.write_text("stories:\n  - story: No user\n    steps:\n      - action: utter_greet\n")
    with pytest.raises(ProjectError, match="must start with a 'user' step"):
        read_conversation_tests(stories)
    (tmp_path / "bad.yml").write_text("nothing: here\n")
    with pytest.raises(ProjectError, match="needs 'stories:'"):
        read_conversation_tests(stories)


def test_cli_runs_the_stories_and_fails_on_a_failure(course_copy, tmp_path):
    passing = coursebot("test", "--stories", str(CONVERSATIONS), project=course_copy)
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert "conversations passed" in passing.stdout
    wrong = tmp_path / "wrong.yml"
    wrong.write_text("stories:\n  - story: Oops\n    steps:\n      - user: hello\n      - action: utter_goodbye\n")
    failing = coursebot("test", "--stories", str(wrong), project=course_copy)
    assert failing.returncode == 1
    assert "FAIL" in failing.stdout and "0 of 1 conversations passed" in failing.stdout


def unsure(text: str, ranking: list[tuple[str, float]], entities: list[dict] | None = None) -> dict:
    return {"text": text, "intent": {"name": "nlu_fallback", "confidence": ranking[0][1]},
            "intent_ranking": [{"name": n, "confidence": c} for n, c in ranking], "entities": entities or []}


def test_two_stage_fallback_offers_the_top_two_intents_with_the_entities_then_gives_up(agent, monkeypatch):
    # The fallback itself: with the answer engine, the course would answer "overfitting?!" outright.
    monkeypatch.setattr(agent.dialogue, "answers", None)
    entity = {"entity": "concept", "value": "overfitting", "start": 0, "end": 11}
    first = agent.dialogue.handle("unsure", "overfitting?!", unsure(
        "overfitting?!", [("nlu_fallback", 0.4), ("out_of_scope", 0.3), ("ask_example", 0.2),
                          ("ask_concept", 0.15), ("compare", 0.1)], [entity]))
    [message] = first
    assert message["text"].startswith("Sorry, I'm not sure I understood. Did you mean")
    assert message["buttons"] == [
        {"title": "Give an example: Overfitting", "payload": '/ask_example{"concept": "overfitting"}'},
        {"title": "Explain a term: Overfitting", "payload": '/ask_concept{"concept": "overfitting"}'},
        {"title": "Something else", "payload": "/nlu_fallback"}]
    clicked = agent.handle(message["buttons"][1]["payload"], "unsure")
    assert clicked[0]["text"].startswith("Overfitting")
    agent.dialogue.handle("unsure2", "hm", unsure("hm", [("nlu_fallback", 0.3), ("help", 0.2), ("greet", 0.1)]))
    second = agent.dialogue.handle("unsure2", "hmm", unsure("hmm", [("nlu_fallback", 0.3), ("help", 0.2)]))
    assert second[0]["text"].startswith("Sorry, I'm not sure what you mean. I can explain")
    assert "buttons" not in second[0]


def test_did_you_mean_offers_a_question_only_questions_and_a_request_its_action(agent, monkeypatch):
    monkeypatch.setattr(agent.dialogue, "answers", None)
    ranking = [("nlu_fallback", 0.4), ("create_notebook", 0.35), ("notebook_status", 0.3), ("setup_guide", 0.2),
               ("ask_concept", 0.1)]
    question = "how do you make a notebook?"
    [asked] = agent.dialogue.handle("unsure-q", question, unsure(question, ranking))
    assert [b["payload"] for b in asked["buttons"]] == ["/setup_guide", "/ask_concept", "/nlu_fallback"]
    request = "make me a notebook"
    [requested] = agent.dialogue.handle("unsure-r", request, unsure(request, ranking))
    assert [b["payload"] for b in requested["buttons"]] == ["/create_notebook", "/notebook_status", "/nlu_fallback"]


def test_a_conditional_rule_beats_the_general_one_only_while_its_form_is_active():
    general = Flow("rule", "cancel", (Step("intent", "cancel"), Step("action", "utter_cancelled")))
    in_form = Flow("rule", "cancel form", (Step("intent", "cancel"), Step("action", "action_deactivate_loop"),
                                           Step("active_loop", ""), Step("action", "utter_cancelled")),
                   conditions=(Step("active_loop", "form"),))
    policy = FlowPolicy([general, in_form])
    cancel = UserUttered("stop", {"intent": {"name": "cancel"}})
    assert policy.predict(Tracker("a", [cancel])) == "utter_cancelled"
    tracker = Tracker("b", [ActionExecuted("form"), ActiveLoop("form"), cancel])
    assert policy.predict(tracker) == "action_deactivate_loop"
    tracker.extend([ActionExecuted("action_deactivate_loop"), ActiveLoop(None)])
    assert policy.predict(tracker) == "utter_cancelled"


def test_form_policy_runs_the_form_on_an_answer_and_re_asks_after_a_digression():
    policy = FormPolicy({"form": ["name"]})
    from bot.dialogue.events import SlotSet

    tracker = Tracker("f", [ActiveLoop("form"), UserUttered("what is x?", {"intent": {"name": "ask_concept"}})])
    assert policy.predict(tracker) is None  # the rules answer the question first
    tracker.add(ActionExecuted("action_answer_concept"))
    assert policy.predict(tracker) == "form"  # then the form asks again
    tracker.extend([ActionExecuted("form"), UserUttered("nb-1", {}), SlotSet("name", "nb-1")])
    assert policy.predict(tracker) == "form"
    tracker.add(ActionExecuted("form"))
    assert policy.predict(tracker) == "action_listen"
    assert policy.predict(Tracker("g", [UserUttered("hi", {})])) is None


def test_conditional_slot_mappings_fill_only_while_their_form_asks():
    domain = Domain(slots={
        "name": Slot("name", "text", (SlotMapping("from_text", not_intent=("cancel",), conditions=(
            MappingCondition("form", "name"),)),)),
        "kind": Slot("kind", "text", (SlotMapping("from_entity", entity="kind", conditions=(
            MappingCondition("form"),)),)),
        "topic": Slot("topic", "text", (SlotMapping("from_entity", entity="concept"),))})
    message = UserUttered("nb-1 on ml.t3.medium", {"intent": {"name": "inform"}, "entities": [
        {"entity": "kind", "value": "ml.t3.medium"}, {"entity": "concept", "value": "x"}]})
    assert {e.name: e.value for e in slot_events(domain, message, None, None)} == {"topic": "x"}
    assert {e.name: e.value for e in slot_events(domain, message, "form", "name")} == {
        "name": "nb-1 on ml.t3.medium", "kind": "ml.t3.medium", "topic": "x"}
    cancel = UserUttered("stop", {"intent": {"name": "cancel"}})
    assert slot_events(domain, cancel, "form", "name") == []


def test_responses_in_turn_cycle_through_the_variations():
    renderer = ResponseRenderer({"utter_x": [{"text": "one"}, {"text": "two"}]}, selection="in_turn")
    assert [renderer.render("utter_x")["text"] for _ in range(3)] == ["one", "two", "one"]
    with pytest.raises(ValueError, match="in_turn"):
        ResponseRenderer({}, selection="sometimes")


def test_the_sender_lock_is_held_while_a_message_is_handled(agent):
    held: list[str] = []

    class RecordingLocks:
        @contextmanager
        def lock(self, sender_id):
            held.append(f"enter {sender_id}")
            yield
            held.append(f"exit {sender_id}")

    original = agent.dialogue.locks
    agent.dialogue.locks = RecordingLocks()
    try:
        agent.handle("hello", "locked")
    finally:
        agent.dialogue.locks = original
    assert held == ["enter locked", "exit locked"]


def test_one_senders_messages_never_interleave(agent):
    """Threads sending for one sender: each turn's events stay together in the tracker."""
    def talk():
        for _ in range(3):
            agent.handle("what is overfitting?", "busy")
    threads = [threading.Thread(target=talk) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    kinds = [type(e).__name__ for e in agent.dialogue.tracker_for("busy").events]
    turns = "".join("U" if k == "UserUttered" else "." for k in kinds).split("U")[1:]
    assert len(turns) == 12 and len(set(turns)) == 1

"""Hesitation is not consent: nothing billable or destructive happens on a "hmm".

Each filler below is answered to "Shall I go ahead?" twice: once with the parse the real
NLU model gives it, and once with the worst parse a model could give it (`affirm` at full
confidence). Neither may confirm anything: AWS (moto) must hold nothing afterwards.
"""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from bot.dialogue.events import ActionExecuted, SlotSet
from tests.test_aws_conversations import REGION, ROLE, Student

FILLERS = [
    "wait", "hmm", "uh", "huh", "?", "maybe", "lol", "erm", "hmm let me think", "yes?", "um", "uhh", "umm",
    "hmmm", "eh", "er", "mm", "mhm", "uh huh", "let me think", "hold on", "hang on", "one sec", "not sure",
    "idk", "i don't know", "dunno", "perhaps", "possibly", "i guess", "i suppose", "could be", "kinda",
    "sort of", "whatever", "yeah?", "ok?", "sure?", "really?", "what?", "...", "??", "!", "haha", "k",
    "wait what", "hmm ok maybe", "brb", "yes or no", "not yet",
]


@pytest.fixture
def moto_env(monkeypatch):
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield boto3.client("sagemaker", region_name=REGION)


def test_the_list_is_long_enough():
    assert len(set(FILLERS)) >= 40


def ask_to_create(student: Student) -> None:
    student.says("create a notebook", "create_notebook")
    student.says("nb-filler")
    assert "Shall I go ahead?" in student.hears("ml.t3.medium", instance_type="ml.t3.medium")


@pytest.mark.parametrize("filler", FILLERS)
def test_a_filler_read_as_yes_at_full_confidence_creates_nothing(course, moto_env, tmp_path, filler):
    ann = Student(course, tmp_path, role_arn=ROLE)
    ask_to_create(ann)
    first = ann.hears(filler, "affirm", confidence=1.0)
    assert "clear yes or no" in first and "Shall I go ahead?" in first
    second = ann.hears(filler, "affirm", confidence=1.0)
    assert "isn't a yes" in second and "Nothing was started" in second
    assert ann.dialogue.tracker_for("ann").active_loop is None
    ann.says("yes", "affirm")  # a yes to nothing starts nothing either
    assert moto_env.list_notebook_instances()["NotebookInstances"] == []


def test_an_explicit_yes_after_a_hesitation_still_goes_ahead(course, moto_env, tmp_path):
    bo = Student(course, tmp_path, sender="bo", role_arn=ROLE)
    ask_to_create(bo)
    bo.says("hmm", "affirm", confidence=0.95)
    assert "is being created" in bo.hears("Yes, go ahead!", "inform", confidence=0.2)
    assert [n["NotebookInstanceName"] for n in moto_env.list_notebook_instances()["NotebookInstances"]] \
        == ["nb-filler"]


@pytest.mark.parametrize("action, setup", [("delete", "stop my notebook"), ("stop everything", None),
                                           ("start", "stop my notebook")])
def test_deleting_stopping_and_starting_take_only_an_explicit_yes_too(course, moto_env, tmp_path, action, setup):
    cy = Student(course, tmp_path, sender="cy", role_arn=ROLE)
    ask_to_create(cy)
    cy.says("yes", "affirm")
    if setup:
        cy.says(setup, "stop_notebook")
    intent = {"delete": "delete_notebook", "stop everything": "stop_everything", "start": "start_notebook"}[action]
    assert "?" in cy.hears(f"{action} my notebook", intent)
    for filler in ("uh", "wait"):
        cy.says(filler, "affirm", confidence=1.0)
    [notebook] = moto_env.list_notebook_instances()["NotebookInstances"]
    expected = "InService" if action == "stop everything" else "Stopped"
    assert notebook["NotebookInstanceStatus"] == expected


@pytest.mark.parametrize("filler", FILLERS)
def test_no_filler_confirms_through_the_real_model(agent, filler):
    sender = f"filler-{FILLERS.index(filler)}"
    agent.handle("create a notebook instance named nb-filler on ml.t3.medium with role "
                 "arn:aws:iam::123456789012:role/CourseRole", sender)
    assert agent.dialogue.tracker_for(sender).active_loop == "confirm_form"
    replies = [agent.handle(filler, sender) for _ in range(2)]
    assert not confirmed_when_run(agent.dialogue.tracker_for(sender).events), (agent.parse(filler), replies)


def confirmed_when_run(events) -> bool:
    """Whether `confirmed` was true when action_run_confirmed ran: what makes it act. (The
    form may fill the slot from a "yes?" for a moment; its validation empties it again.)"""
    confirmed = None
    for event in events:
        if isinstance(event, SlotSet) and event.name == "confirmed":
            confirmed = event.value
        elif isinstance(event, ActionExecuted) and event.name == "action_run_confirmed" and confirmed is True:
            return True
    return False

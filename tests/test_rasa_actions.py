"""Our actions behind the real rasa-sdk action server, sent the requests Rasa sends.

The server is `python -m rasa_sdk --actions actions` (what `rasa run actions` runs) on a
free loopback port, with AWS pointed at moto's server. The requests in
tests/data/rasa_requests/ were recorded from Rasa 3.6.21 talking to this action server
in a conversation over its REST channel (only the domain, which our actions do not
read, is left out).
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import boto3
import httpx
import pytest

from bot.channels import action_server_requirements as requirements
from bot.channels.rasa_actions import event_from_rasa, rasa_event
from bot.dialogue.events import (
    ActiveLoop,
    BotUttered,
    FollowupAction,
    Restarted,
    SlotSet,
    UserUttered,
)
from bot.project import copy_project, load_project
from tests.conftest import ROOT, owner_tag
from tests.http_server import free_port, moto_server, running

REQUESTS = Path(__file__).parent / "data" / "rasa_requests"
REGION = "us-east-1"


@pytest.fixture(scope="module")
def aws_env() -> Iterator[dict[str, str]]:
    with moto_server() as url:
        yield {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION,
               "AWS_ENDPOINT_URL": url}


def serving(project: Path, env: dict[str, str], log: Path) -> Iterator[str]:
    """The rasa-sdk action server serving `project`'s actions/ package."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with running([sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", str(port)], f"{url}/health",
                 log=log, cwd=project, env={**env, "SANIC_HOST": "127.0.0.1"}):
        yield url


@pytest.fixture(scope="module")
def untrained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the project with no trained model, whatever is trained in the repository
    on this machine."""
    return copy_project(ROOT, tmp_path_factory.mktemp("untrained") / "project")


@pytest.fixture(scope="module")
def action_server(aws_env: dict[str, str], untrained: Path, tmp_path_factory: pytest.TempPathFactory
                  ) -> Iterator[str]:
    """The server for the untrained copy: entries answer with their own words."""
    project = untrained
    log = tmp_path_factory.mktemp("rasa_sdk") / "server.log"
    yield from serving(project, aws_env, log)
    output = log.read_text(errors="replace")
    # The one traceback is the failure a test causes on purpose, logged with its action.
    assert output.count("Traceback") == output.count("the action action_tell_more failed for sender"), output
    assert "no answer index" in output  # and it said why it answers without the notes


@pytest.fixture(scope="module")
def trained_action_server(aws_env: dict[str, str], course_copy: Path, tmp_path_factory: pytest.TempPathFactory
                          ) -> Iterator[str]:
    """The server for a copy with the session's trained model: the answer engine answers."""
    log = tmp_path_factory.mktemp("rasa_sdk_trained") / "server.log"
    yield from serving(course_copy, aws_env, log)
    assert "Traceback" not in log.read_text(errors="replace")


def recorded(name: str) -> dict:
    return json.loads((REQUESTS / f"{name}.json").read_text(encoding="utf-8"))


def call(url: str, request: dict) -> dict:
    response = httpx.post(f"{url}/webhook", json=request, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


def texts(answer: dict) -> str:
    return "\n".join(message.get("text") or "" for message in answer["responses"])


def slot_events(answer: dict) -> dict:
    return {event["name"]: event["value"] for event in answer["events"] if event["event"] == "slot"}


def test_the_server_offers_every_custom_action_of_the_domain(action_server):
    served = {action["name"] for action in httpx.get(f"{action_server}/actions", timeout=30).json()}
    assert served == set(load_project(ROOT).domain.actions)


def test_a_course_question_is_answered_from_the_knowledge_base(action_server):
    answer = call(action_server, recorded("answer_concept"))
    entry = load_project(ROOT).knowledge.get("overfitting")
    assert entry.summary in texts(answer)
    assert slot_events(answer) == {"topic": "overfitting"}


@pytest.mark.parametrize("question, fact", [
    ("what does the racing car in reinforcement learning have to learn", "when to steer and throttle"),
    ("which feature selection method is the fastest?", "Filtering based"),
])
def test_with_a_trained_model_rasa_gets_the_answer_engines_fact_and_its_source(trained_action_server, question,
                                                                             fact):
    """Under Rasa too, a question is answered with the fact from the notes, and where it
    comes from: the action server loads the model's answer index."""
    request = copy.deepcopy(recorded("answer_concept"))
    message = request["tracker"]["latest_message"]
    message["text"], message["entities"] = question, []
    request["tracker"]["slots"]["concept"] = None
    for event in request["tracker"]["events"]:
        if event.get("event") == "user" and event.get("text") == "what is overfitting?":
            event["text"], event["parse_data"]["entities"] = question, []
    said = texts(call(trained_action_server, request))
    assert fact in said and "From the course:" in said, said


def test_a_follow_up_uses_the_topic_rasa_keeps(action_server):
    request = recorded("tell_more")
    assert request["tracker"]["slots"]["topic"] == "overfitting"
    assert texts(call(action_server, request)).startswith("More on Overfitting:")


def test_and_x_asks_the_last_question_again_about_x(action_server):
    answer = call(action_server, recorded("follow_up"))
    assert texts(answer).startswith("More on Underfitting:")
    assert slot_events(answer) == {"topic": "underfitting"}


def test_form_validation_rejects_a_bad_name_with_the_reason(action_server):
    answer = call(action_server, recorded("validate_bad_name"))
    assert "is not a valid notebook instance name" in texts(answer)
    assert slot_events(answer) == {"notebook_name": None, "requested_slot": "notebook_name"}


def test_form_validation_keeps_a_good_name_and_names_the_next_slot(action_server):
    answer = call(action_server, recorded("validate_good_name"))
    assert answer["responses"] == []
    assert slot_events(answer) == {"notebook_name": "my-first-notebook", "requested_slot": "notebook_instance_type"}


def test_a_form_starts_empty_under_rasa_too(action_server):
    request = recorded("validate_second_activation")
    assert request["tracker"]["slots"]["notebook_name"] == "my-first-notebook"  # from the first run
    answer = call(action_server, request)
    assert slot_events(answer) == {"notebook_name": None, "requested_slot": "notebook_name"}


def test_a_question_that_depends_on_the_settings_offers_the_allowed_types(action_server):
    answer = call(action_server, recorded("ask_instance_type"))
    buttons = [button["payload"] for message in answer["responses"] for button in message["buttons"]]
    assert buttons == ["ml.t3.medium", "ml.t3.large"]


def test_a_billable_action_hands_over_to_the_confirmation_form(action_server):
    answer = call(action_server, recorded("create_notebook"))
    events = {event["event"]: event for event in answer["events"]}
    assert events["followup"]["name"] == "confirm_form"
    assert "about $0.050 per hour" in slot_events(answer)["pending_summary"]
    assert answer["responses"] == []  # confirm_form asks, through action_ask_confirmed


def test_no_creates_nothing_and_yes_creates_the_tagged_notebook(action_server, aws_env, untrained):
    sagemaker = boto3.client("sagemaker", region_name=REGION, endpoint_url=aws_env["AWS_ENDPOINT_URL"],
                             aws_access_key_id="testing", aws_secret_access_key="testing")
    declined = recorded("run_confirmed_no")
    assert "Nothing was started" in texts(call(action_server, declined))
    assert sagemaker.list_notebook_instances()["NotebookInstances"] == []

    accepted = copy.deepcopy(declined)
    accepted["tracker"]["slots"]["confirmed"] = True
    confirmed = [e for e in accepted["tracker"]["events"] if e["event"] == "slot" and e["name"] == "confirmed"]
    confirmed[-1]["value"] = True
    answer = call(action_server, accepted)
    assert "my-first-notebook" in texts(answer)
    notebook = sagemaker.describe_notebook_instance(NotebookInstanceName="my-first-notebook")
    tags = {t["Key"]: t["Value"] for t in sagemaker.list_tags(ResourceArn=notebook["NotebookInstanceArn"])["Tags"]}
    assert notebook["InstanceType"] == "ml.t3.medium"
    owner = owner_tag(untrained, declined["sender_id"])  # the served project's key
    assert tags == {"created-by": "coursebot", owner["Key"]: owner["Value"]}


def test_an_action_that_fails_costs_one_apology(action_server):
    request = recorded("tell_more")
    request["tracker"]["slots"]["topic"] = ["overfitting"]  # a slot of the wrong type: the lookup raises
    answer = call(action_server, request)
    assert texts(answer).startswith("Sorry, something went wrong on my side")
    assert answer["events"] == []


def test_rasa_events_and_ours_translate_both_ways():
    ours = [UserUttered("hi", {"text": "hi", "intent": {"name": "greet", "confidence": 1.0}, "entities": []}),
            BotUttered({"text": "Hello", "buttons": [{"title": "Help", "payload": "/help"}]}),
            SlotSet("topic", "overfitting"), ActiveLoop("notebook_form"), FollowupAction("confirm_form"),
            Restarted()]
    rasa = [rasa_event(event) for event in ours]
    assert rasa[0]["parse_data"]["intent"]["name"] == "greet"
    assert rasa[1] == {"event": "bot", "timestamp": ours[1].timestamp, "text": "Hello",
                       "data": {"buttons": [{"title": "Help", "payload": "/help"}]}}
    assert [event_from_rasa(event) for event in rasa] == ours
    assert event_from_rasa({"event": "session_started"}) is None


def test_our_engine_never_imports_rasa_sdk():
    script = ("import sys; from bot.dialogue.action_loader import load_project_actions; from pathlib import Path; "
              f"actions = load_project_actions(Path({str(ROOT / 'actions')!r})); "
              "assert 'action_answer_concept' in actions; print('rasa_sdk' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_the_action_servers_requirements_are_the_light_core_of_pyproject():
    """actions/requirements.txt is what an environment without CourseBot installs to serve
    our actions; it must not drift from what CourseBot itself declares."""
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    assert sorted(requirements.read(ROOT / "actions" / "requirements.txt")) == sorted(declared)


def test_a_requirement_this_environment_lacks_is_named_with_what_it_has():
    problems = requirements.missing(["PyYAML>=6.0", "PyYAML>=999", "no-such-package-for-coursebot>=1"])
    assert problems == [f"PyYAML>=999 (installed: {metadata.version('PyYAML')})",
                        "no-such-package-for-coursebot>=1 (not installed)"]


def test_the_action_server_refuses_to_start_without_its_requirements_and_says_what_to_install(untrained, tmp_path):
    """As `rasa run actions` in Rasa's own environment did before requirements.txt: without
    the stemmer, every course question got an apology. Now the server does not start."""
    project = copy_project(untrained, tmp_path / "project")
    listed = project / "actions" / "requirements.txt"
    listed.write_text(listed.read_text(encoding="utf-8") + "no-such-package-for-coursebot>=1\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", str(free_port())],
                            cwd=project, capture_output=True, text=True, timeout=120,
                            env={**os.environ, "SANIC_HOST": "127.0.0.1"})
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "lacks no-such-package-for-coursebot>=1 (not installed)" in output
    assert f"pip install -r {listed}" in output
    assert "Traceback" not in output

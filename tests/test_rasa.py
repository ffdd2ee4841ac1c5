"""The repository under real Rasa 3.6, step by step, as an instructor who runs Rasa uses it:
`rasa data validate`, `rasa train`, then `rasa run actions` and `rasa run --enable-api`
on loopback, and a conversation through Rasa's REST channel that answers from the
knowledge base, follows up on context and runs a form with our validation.

These tests need RASA_BIN, the `rasa` executable of a Rasa 3.6 installation (for
example the one ../shared/tools/rasa-env.sh builds). Without it they are skipped; under
`make rasa-check` (COURSEBOT_REQUIRE_RASA=1) they fail instead. Training takes about
12 minutes on 2 cores, so CI does not run them; tests/test_rasa_actions.py covers the
action server there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from tests.conftest import ROOT
from tests.http_server import free_port, running

pytestmark = pytest.mark.rasa

TRAIN_TIMEOUT_S = 3600
START_TIMEOUT_S = 300
QUIET = {"RASA_TELEMETRY_ENABLED": "false", "SQLALCHEMY_SILENCE_UBER_WARNING": "1"}


@pytest.fixture(scope="module")
def rasa_bin() -> Path:
    configured = os.environ.get("RASA_BIN", "")
    if not configured or shutil.which(configured) is None:
        reason = (f"RASA_BIN={configured!r} is not a rasa executable" if configured else
                  "RASA_BIN is not set (point it at Rasa 3.6's `rasa`, e.g. from ../shared/tools/rasa-env.sh)")
        if os.environ.get("COURSEBOT_REQUIRE_RASA") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return Path(shutil.which(configured))


def rasa(rasa_bin: Path, *args: str, timeout: float, cache: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, **QUIET, "RASA_CACHE_DIRECTORY": str(cache)}
    return subprocess.run([str(rasa_bin), *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("rasa")


def test_rasa_data_validate_finds_no_errors(rasa_bin, work):
    result = rasa(rasa_bin, "data", "validate", "--data", "nlu_data", timeout=600, cache=work / "cache")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert " ERROR " not in result.stdout + result.stderr


@pytest.fixture(scope="module")
def rasa_model(rasa_bin: Path, work: Path) -> Path:
    result = rasa(rasa_bin, "train", "--data", "nlu_data", "--out", str(work / "models"),
                  "--fixed-model-name", "coursebot", timeout=TRAIN_TIMEOUT_S, cache=work / "cache")
    model = work / "models" / "coursebot.tar.gz"
    assert result.returncode == 0 and model.exists(), result.stdout[-3000:] + result.stderr[-3000:]
    return model


def test_rasa_train_builds_a_model_from_our_files(rasa_model):
    assert rasa_model.stat().st_size > 0


@pytest.fixture(scope="module")
def action_server_path(rasa_bin: Path, work: Path) -> dict[str, str]:
    """The PYTHONPATH for `rasa run actions` in Rasa's environment: the repository (our
    `bot` package, which Rasa's environment has not installed), and what that environment
    lacks of actions/requirements.txt (the answer engine's stemmer, in Rasa 3.6's),
    installed as the README says but into a folder of this test's own, so that the Rasa
    environment is left as it was."""
    check = ("from pathlib import Path; from bot.channels import action_server_requirements as r; "
             "print(' '.join(p.split(' (')[0] for p in r.missing(r.read(Path('actions/requirements.txt')))))")
    python = rasa_bin.parent / "python"
    lacking = subprocess.run([str(python), "-c", check], cwd=ROOT, capture_output=True, text=True, timeout=120,
                             check=True).stdout.split()
    path = [str(ROOT)]
    if lacking:
        target = work / "action-requirements"
        installed = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                                    "--target", str(target), *lacking], capture_output=True, text=True, timeout=600)
        assert installed.returncode == 0, installed.stderr[-3000:]
        path.insert(0, str(target))
    return {"PYTHONPATH": os.pathsep.join(path)}


@pytest.fixture(scope="module")
def rasa_server(rasa_bin: Path, rasa_model: Path, work: Path, action_server_path: dict[str, str],
                course_copy: Path) -> Iterator[str]:
    """`rasa run actions` and `rasa run --enable-api`, wired by our endpoints.yml (its
    action server URL moved to a free port) and credentials.yml. The action server serves
    a copy of the project with the session's trained CourseBot model, so that its answers
    come from the notes (with no model, entries answer with their summaries)."""
    actions_port, rasa_port = free_port(), free_port()
    endpoints = yaml.safe_load((ROOT / "endpoints.yml").read_text(encoding="utf-8"))
    endpoints["action_endpoint"]["url"] = f"http://127.0.0.1:{actions_port}/webhook"
    (work / "endpoints.yml").write_text(yaml.safe_dump(endpoints), encoding="utf-8")
    actions = [str(rasa_bin), "run", "actions", "--port", str(actions_port)]
    server = [str(rasa_bin), "run", "--enable-api", "-m", str(rasa_model), "-i", "127.0.0.1", "-p", str(rasa_port),
              "--endpoints", str(work / "endpoints.yml"), "--credentials", "credentials.yml"]
    with running(actions, f"http://127.0.0.1:{actions_port}/health", log=work / "actions.log", cwd=course_copy,
                 env={**QUIET, **action_server_path, "SANIC_HOST": "127.0.0.1"}, timeout=START_TIMEOUT_S), \
            running(server, f"http://127.0.0.1:{rasa_port}/", log=work / "rasa.log", cwd=ROOT, env=QUIET,
                    timeout=START_TIMEOUT_S):
        yield f"http://127.0.0.1:{rasa_port}"
    assert "Traceback" not in (work / "actions.log").read_text(errors="replace")


def say(url: str, sender: str, text: str) -> str:
    replies = httpx.post(f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=120)
    assert replies.status_code == 200, replies.text
    return "\n".join(reply.get("text") or "" for reply in replies.json())


def test_rasa_answers_a_course_question_with_the_fact_from_the_notes_and_its_source(rasa_server):
    reply = say(rasa_server, "kb", "what is overfitting?")
    assert "Overfitting: performs well in training, bad in testing" in reply, reply
    assert "From the course: ML Pipeline > Select and train model" in reply, reply


def test_rasa_follows_up_on_context(rasa_server):
    say(rasa_server, "context", "what is overfitting?")
    assert say(rasa_server, "context", "tell me more").startswith("More on Overfitting:")
    assert "Underfitting" in say(rasa_server, "context", "and underfitting?")
    assert say(rasa_server, "context", "what comes after data collection?").startswith(
        "After Data collection comes Feature engineering")


def test_rasa_runs_the_notebook_form_with_our_validation(rasa_server):
    assert "What should your notebook instance be called?" in say(rasa_server, "form", "create a notebook instance for me")
    assert "is not a valid notebook instance name" in say(rasa_server, "form", "my notebook!!")
    assert "Which instance type" in say(rasa_server, "form", "my-first-notebook")
    refused = say(rasa_server, "form", "ml.p3.2xlarge")
    assert "ml.p3.2xlarge is not allowed" in refused and "ml.t3.medium" in refused
    assert "Which IAM role" in say(rasa_server, "form", "ml.t3.medium")  # coursebot.yml names no role_arn
    question = say(rasa_server, "form", "arn:aws:iam::123456789012:role/CourseRole")
    assert "create the notebook instance my-first-notebook on ml.t3.medium" in question
    assert "Nothing was started" in say(rasa_server, "form", "no")


def test_rasa_cancels_a_form_and_the_next_one_starts_empty(rasa_server):
    say(rasa_server, "cancel", "create a notebook instance for me")
    assert "Which instance type" in say(rasa_server, "cancel", "my-first-notebook")
    assert "dropped that" in say(rasa_server, "cancel", "cancel")
    assert "What should your notebook instance be called?" in say(rasa_server, "cancel",
                                                                  "create a notebook instance for me")

"""Shared fixtures: the shipped course project (trained once per session into a
temporary model directory) and a tiny project that tests copy and break."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from bot.agent import Agent
from bot.aws import AwsServices
from bot.project import Project, copy_project, load_project

ROOT = Path(__file__).resolve().parents[1]
TINY = Path(__file__).parent / "data" / "tiny_project"


def edit(path: Path, old: str, new: str) -> None:
    """Replaces text in a project file; fails loudly when the text is not there."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    """A fresh copy of the tiny project, for a test to break."""
    return copy_project(TINY, tmp_path / "tiny")


@pytest.fixture(scope="session")
def course() -> Project:
    """The shipped project as loaded, for tests that need no trained model."""
    return load_project(ROOT)


@pytest.fixture(scope="session")
def course_project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """The shipped project, with its models going to a temporary directory."""
    project = load_project(ROOT)
    project.settings = replace(project.settings, model_dir=tmp_path_factory.mktemp("models"))
    return project


def owner_tag(project_root: Path, sender_id: str) -> dict[str, str]:
    """The owner tag a bot serving `project_root` puts on what it starts for `sender_id`."""
    from bot.aws.guardrails import SENDER_TAG, TAG_PURPOSE
    from bot.server_key import keyed_hash, server_key

    return {"Key": SENDER_TAG, "Value": keyed_hash(server_key(project_root), sender_id, TAG_PURPOSE)}


def unreachable_aws(project: Project) -> AwsServices:
    """AWS services that can never reach a real account: a closed loopback port, fake
    keys and no retries, so a conversation test that ends in an AWS call costs nothing
    even on a machine with credentials."""
    settings = project.settings.aws.with_changes(region="us-east-1", endpoint_url="http://127.0.0.1:9",
                                                 max_attempts=1, connect_timeout=1, read_timeout=1)
    return AwsServices(settings, {"aws_access_key_id": "offline", "aws_secret_access_key": "offline"})


@pytest.fixture(scope="session")
def agent(course_project: Project) -> Agent:
    return Agent.from_project(course_project, aws=unreachable_aws(course_project))


@pytest.fixture(scope="session")
def course_copy(tmp_path_factory: pytest.TempPathFactory, agent: Agent, course_project: Project) -> Path:
    """A copy of the shipped project for command-line tests, with the session's trained
    model in it (its fingerprint matches, so the commands do not train again)."""
    from bot.nlu import training

    copy = copy_project(ROOT, tmp_path_factory.mktemp("course") / "project")
    shutil.copytree(training.model_dir(course_project), copy / "models" / training.NLU_MODEL_DIR)
    return copy


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory):
    """A real, throwaway redis-server for the session: "redis://127.0.0.1:PORT/0".

    Skips when redis-server is not installed, or fails when COURSEBOT_REQUIRE_SERVERS=1
    (as in CI). Tests share the server, so each uses its own keys (e.g. a unique prefix).
    """
    import os
    import socket
    import subprocess
    import time

    server = shutil.which("redis-server")
    if server is None:
        reason = "redis-server is not installed (apt-get install redis-server)"
        if os.environ.get("COURSEBOT_REQUIRE_SERVERS") == "1":
            pytest.fail(f"{reason}, and COURSEBOT_REQUIRE_SERVERS=1 requires it")
        pytest.skip(reason)
    for _attempt in range(3):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        folder = tmp_path_factory.mktemp("redis")
        with open(folder / "redis.log", "wb") as log:
            process = subprocess.Popen(
                [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                 "--dir", str(folder)], stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while process.poll() is None and time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as connection:
                    connection.sendall(b"PING\r\n")
                    if connection.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                time.sleep(0.05)
        else:
            process.kill()
            process.wait()
            output = (folder / "redis.log").read_text(errors="replace")
            continue   # the port was taken meanwhile, or the server failed: try another port
        try:
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        return
    pytest.fail(f"redis-server did not answer PING on 127.0.0.1:{port}:\n{output[-2000:]}")


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Says plainly that the real-Rasa tests are opt-in, so a green run never hides them."""
    skipped = [report for report in terminalreporter.stats.get("skipped", [])
               if "rasa" in getattr(report, "keywords", {})]
    if skipped:
        terminalreporter.write_line(f"{len(skipped)} real-Rasa tests were not run: they are opt-in, "
                                    "`make rasa-check` runs them against Rasa 3.6 (RASA_BIN).", yellow=True)

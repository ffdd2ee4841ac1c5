"""`coursebot serve` under students who are hostile but fair: one student cannot stall the
others (costly texts, turns hanging on AWS, connections left open), conversations are read
only by their owners, tokens stay out of the log, and faults say what they are."""

from __future__ import annotations

import re
import shutil
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from bot.agent import Agent
from bot.channels import http_errors
from bot.channels import server as http_server
from bot.channels.http import create_app
from bot.errors import (
    ConfigError,
    ConversationConflict,
    CourseBotError,
    LockTimeout,
    ModelError,
)
from bot.nlu.bounded_text import (
    COSTLY_TEXTS,
    MAX_CHARS,
    MAX_SYMBOL_RUN,
    MAX_WORDS,
    bound,
)
from bot.stores import SQLiteTrackerStore
from tests.conftest import TINY, copy_project, edit
from tests.http_server import ServeProcess, endpoints_file, serving, serving_app

FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                    "AWS_DEFAULT_REGION": "us-east-1"}
SLACK_S = 3  # a timer fires on a busy 2-core machine a little late


@pytest.fixture(scope="module")
def tiny_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_project(TINY, tmp_path_factory.mktemp("hardening") / "tiny")


@pytest.fixture(scope="module")
def tiny_server(tiny_copy: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    folder = tmp_path_factory.mktemp("hardening-store")
    with serving(tiny_copy, "--endpoints", str(endpoints_file(folder)), log_dir=folder) as server:
        yield server


def say(url: str, message: str, sender: str, **kwargs) -> httpx.Response:
    return httpx.post(f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": message}, timeout=60,
                      **kwargs)


# One student cannot stall everyone: what a parse costs


@pytest.mark.parametrize("name", COSTLY_TEXTS)
def test_the_nlu_reads_a_bounded_part_of_any_text(name):
    read = bound(COSTLY_TEXTS[name]).text
    assert len(read) <= MAX_CHARS and len(read.split()) <= MAX_WORDS
    assert not re.search(rf"[^\w\s]{{{MAX_SYMBOL_RUN + 1},}}", read), read[:80]


def test_a_bounded_parse_still_speaks_of_the_text_as_sent(agent: Agent):
    text = "c5 vs p3" + "!" * 4000
    parse = agent.parse(text)
    assert parse["text"] == text and parse["intent"]["name"] == agent.parse("c5 vs p3!")["intent"]["name"]
    late = "what????????? is the difference between c5 and p3"
    entities = agent.parse(late)["entities"]
    assert [late[e["start"]:e["end"]] for e in entities] == ["c5", "p3"]
    assert len(bound("word " * 5000).text) <= MAX_CHARS and bound("what is a model?").text == "what is a model?"


# One student cannot stall everyone: turns that hang on AWS


@contextmanager
def hanging_endpoint() -> Iterator[tuple[str, list[socket.socket]]]:
    """A loopback HTTP "AWS" that accepts every connection and never answers."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", accepted
    finally:
        listener.close()
        for connection in accepted:
            connection.close()


def test_health_and_the_widget_answer_while_turns_hang_on_aws(course_copy, tmp_path):
    with hanging_endpoint() as (endpoint, accepted):
        project = tmp_path / "project"
        shutil.copytree(course_copy, project, ignore=shutil.ignore_patterns(".coursebot"))
        edit(project / "coursebot.yml", "aws:\n", f"aws:\n  endpoint_url: {endpoint}\n  region: us-east-1\n")
        with serving(project, log_dir=tmp_path, env=FAKE_CREDENTIALS) as server:
            pool = ThreadPoolExecutor(max_workers=12)
            for i in range(12):
                pool.submit(_quietly, say, server.url, "what have i started?", f"waiting-{i}")
            deadline = time.monotonic() + 60
            while len(accepted) < 8 and time.monotonic() < deadline:  # every turn thread waits on "AWS"
                time.sleep(0.1)
            assert len(accepted) >= 8, server.stderr[-2000:]
            # Behind the turns, these would wait as long as AWS hangs (its 20 s deadline): the timeout fails them.
            for method, path in [("GET", "/health"), ("HEAD", "/health"), ("GET", "/"), ("HEAD", "/"),
                                 ("GET", "/static/widget.js"), ("GET", "/health")]:
                response = httpx.request(method, server.url + path, timeout=10)
                assert response.status_code == 200, (method, path, response.text)
            server.kill()
            pool.shutdown(wait=True, cancel_futures=True)


def _quietly(function, *args) -> None:
    try:
        function(*args)
    except httpx.TransportError:
        pass  # the server was stopped under it


# One student cannot stall everyone: connections


def test_idle_half_sent_and_slow_connections_are_closed_and_the_server_still_answers(tiny_server):
    port = int(tiny_server.url.rsplit(":", 1)[1])
    head = b"POST /webhooks/rest/webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    openings = {
        "idle": b"",
        "half a request line": b"GET /hea",
        "half the headers": b"GET /health HTTP/1.1\r\nHost: x\r\n",
        "half the body": head + b"Content-Length: 100\r\n\r\n{\"sender\": ",
        "after one answer": b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n",
    }
    sockets = {name: socket.create_connection(("127.0.0.1", port)) for name in openings}
    crowd = [socket.create_connection(("127.0.0.1", port)) for _ in range(300)]
    started = time.monotonic()
    for name, data in openings.items():
        sockets[name].sendall(data)
    assert httpx.get(f"{tiny_server.url}/health", timeout=5).status_code == 200  # 305 open: still answers
    with ThreadPoolExecutor(max_workers=len(sockets) + len(crowd)) as pool:
        closed = dict(zip(openings, pool.map(_until_closed, sockets.values()), strict=True))
        crowd_closed = list(pool.map(_until_closed, crowd))
    limit = http_server.REQUEST_TIMEOUT_S + SLACK_S
    for name, (seconds, _) in closed.items():
        assert seconds - started <= limit, (name, closed)
    assert closed["after one answer"][0] - started <= http_server.KEEP_ALIVE_S + SLACK_S, closed
    assert closed["after one answer"][1].startswith(b"HTTP/1.1 200")
    slow_body = closed["half the body"][1]
    assert b"408 Request Timeout" in slow_body and b"did not arrive within" in slow_body
    assert max(seconds for seconds, _ in crowd_closed) - started <= limit
    assert httpx.get(f"{tiny_server.url}/health", timeout=5).status_code == 200


def _until_closed(connection: socket.socket) -> tuple[float, bytes]:
    """When the server closed `connection` (time.monotonic()), and what it sent first."""
    connection.settimeout(60)
    received = b""
    try:
        while chunk := connection.recv(65536):
            received += chunk
    except TimeoutError:
        return float("inf"), received
    except OSError:
        pass
    finally:
        connection.close()
    return time.monotonic(), received


def test_a_huge_request_head_is_431(tiny_server):
    response = httpx.get(f"{tiny_server.url}/health", headers={"X-Padding": "a" * 100_000}, timeout=10)
    assert response.status_code == 431 and "64 KB" in response.json()["error"]
    assert httpx.get(f"{tiny_server.url}/health", timeout=5).status_code == 200


def test_more_connections_than_descriptors_are_refused_and_the_server_recovers(tiny_copy, tmp_path):
    """With 256 file descriptors, 400 idle sockets used to take them all; now the ones over
    the limit get a 503 at once, and the server answers again when the idle ones time out."""
    if shutil.which("prlimit") is None:
        pytest.skip("prlimit (util-linux) is not installed")
    server = ServeProcess(tiny_copy, log_dir=tmp_path)
    server.command = ["prlimit", "--nofile=256:256", *server.command]
    server.start()
    try:
        port = int(server.url.rsplit(":", 1)[1])
        crowd = [socket.create_connection(("127.0.0.1", port)) for _ in range(400)]
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=len(crowd)) as pool:
            closed = list(pool.map(_until_closed, crowd))
        refused = [seconds for seconds, first in closed if first.startswith(b"HTTP/1.1 503")]
        assert len(refused) >= 400 - (256 - http_server.RESERVED_DESCRIPTORS), len(refused)
        assert max(refused) - started < 2
        assert max(seconds for seconds, _ in closed) - started <= http_server.REQUEST_TIMEOUT_S + SLACK_S
        assert httpx.get(f"{server.url}/health", timeout=5).status_code == 200
    finally:
        server.kill()
    assert "Too many open files" not in server.stderr and "Traceback" not in server.stderr


# Identity and privacy: the token stays out of the log


def test_the_token_is_not_in_the_access_log(tiny_copy, tmp_path):
    token = "very-secret-token-123"
    server = ServeProcess(tiny_copy, log_dir=tmp_path, env={"COURSEBOT_AUTH_TOKEN": token})
    server.command.insert(3, "-v")  # python -m bot -v serve: every request is logged
    server.start()
    try:
        assert say(server.url, "hello", "logged", params={"token": token}).status_code == 200
        assert say(server.url, "hello", "logged", params={"token": "wrong-guess-456"}).status_code == 401
        assert httpx.get(f"{server.url}/conversations/logged/messages", params={"token": token}).status_code == 200
    finally:
        server.kill()
    log = server.stdout + server.stderr
    assert "POST /webhooks/rest/webhook?token=[redacted]" in log  # the requests are logged, the token not
    assert token not in log and "wrong-guess-456" not in log


# Faults say what they are


def test_a_corrupt_store_is_503_with_a_reason_and_health_says_so(tiny_copy, tmp_path):
    endpoints = endpoints_file(tmp_path)
    with serving(tiny_copy, "--endpoints", str(endpoints), log_dir=tmp_path) as server:
        assert say(server.url, "hello", "before").status_code == 200
        assert httpx.get(f"{server.url}/health").json()["store"] == {"status": "ok", "type": "SQLiteTrackerStore"}
        database = tmp_path / "conversations.db"
        with sqlite3.connect(database) as other:  # everything into the main file, then break it
            other.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        database.write_bytes(b"not a database " * 1000)
        turn = say(server.url, "hello", "after")
        health = httpx.get(f"{server.url}/health")
        head = httpx.head(f"{server.url}/health")
    assert turn.status_code == 503 and turn.headers["retry-after"] == "5"
    assert "conversation store" in turn.json()["error"] and "try again" in turn.json()["error"]
    assert health.status_code == head.status_code == 503
    body = health.json()
    assert body["status"] == "degraded"
    assert body["store"] == {"status": "down", "type": "SQLiteTrackerStore", "reason": "cannot be used (DatabaseError)"}
    assert body["lock_store"]["status"] == "ok"
    assert str(tmp_path) not in health.text + turn.text
    assert "file is not a database" in server.stderr  # the operator learns what happened, once per request


@pytest.fixture
def tiny_agent(tiny_copy: Path, tiny_server) -> Agent:
    """The tiny bot in this process (tiny_server trained it), for a test to break."""
    return Agent.load(tiny_copy, train_if_needed=False)


def test_a_store_that_hangs_makes_health_say_so_quickly(tiny_agent):
    release = threading.Event()

    class Hanging:
        def retrieve(self, sender_id):
            release.wait(30)

    try:
        with serving_app(create_app(tiny_agent)) as url:
            tiny_agent.dialogue.store = Hanging()
            start = time.monotonic()
            health = httpx.get(f"{url}/health", timeout=10)
            elapsed = time.monotonic() - start
    finally:
        release.set()
    assert health.status_code == 503 and elapsed < 2
    assert health.json()["store"] == {"status": "down", "type": "Hanging", "reason": "did not answer within 0.5 s"}


def test_health_reports_a_redis_that_is_down(tiny_agent):
    pytest.importorskip("redis")
    from bot.stores import RedisLockStore, RedisTrackerStore

    with serving_app(create_app(tiny_agent)) as url:
        tiny_agent.dialogue.store = RedisTrackerStore("redis://127.0.0.1:9/0")
        tiny_agent.dialogue.locks = RedisLockStore("redis://127.0.0.1:9/0")
        health = httpx.get(f"{url}/health", timeout=10)
        turn = say(url, "hello", "redis-down")
    assert health.status_code == 503
    assert {part: health.json()[part]["status"] for part in ("store", "lock_store")} == {
        "store": "down", "lock_store": "down"}
    assert turn.status_code == 503 and "conversation store" in turn.json()["error"]
    assert "127.0.0.1:9" not in health.text + turn.text


class DiskFails(SQLiteTrackerStore):
    """A real SQLite store whose disk refuses every write, as a read-only or full one does."""

    def __init__(self, path: Path, message: str):
        super().__init__(path)
        self.message = message

    def save(self, tracker, lease=None) -> None:
        raise sqlite3.OperationalError(self.message)


@pytest.mark.parametrize("message", ["attempt to write a readonly database", "database or disk is full"])
def test_a_store_that_cannot_write_is_503_with_retry_after(tiny_agent, tmp_path, message, caplog):
    tiny_agent.dialogue.store = DiskFails(tmp_path / "conversations.db", message)
    with serving_app(create_app(tiny_agent)) as url:
        turn = say(url, "hello", "cannot-write")
    assert turn.status_code == 503 and turn.headers["retry-after"] == "5"
    assert turn.json() == {"error": http_errors.STORE_DOWN.sentence}
    assert message in caplog.text and "Traceback" not in caplog.text


@pytest.mark.parametrize(("error", "status", "words"), [
    (LockTimeout("another message from 'x' is still being handled after 60 s"), 503, "still being handled"),
    (ConversationConflict("the stored conversation of 'x' has 9 events, more than 8"), 409, "send it again"),
    (ModelError("the model in /srv/secret/models is damaged; run `coursebot train --force`"), 500, "not set up"),
    (ConfigError("settings in /srv/secret/coursebot.yml name an unknown component"), 500, "not set up"),
    (CourseBotError("no action named 'action_secret'"), 500, "not set up"),
])
def test_each_kind_of_fault_has_its_status_and_sentence(tiny_agent, error, status, words):
    def failing(text, sender_id="default"):
        raise error

    tiny_agent.handle = failing
    with serving_app(create_app(tiny_agent)) as url:
        turn = say(url, "hello", "faulty")
    assert turn.status_code == status and words in turn.json()["error"]
    assert ("retry-after" in turn.headers) == (status == 503)
    assert "secret" not in turn.text and str(error) not in turn.text


def test_health_reports_a_store_whose_disk_is_full(tiny_agent, tmp_path, monkeypatch):
    from bot.channels import store_health

    tiny_agent.dialogue.store = SQLiteTrackerStore(tmp_path / "conversations.db")
    with serving_app(create_app(tiny_agent)) as url:
        monkeypatch.setattr(store_health, "MIN_FREE_BYTES", 2 ** 62)  # more than any disk has free
        health = httpx.get(f"{url}/health", timeout=10)
    assert health.status_code == 503
    assert health.json()["store"]["status"] == "down" and "disk space left" in health.json()["store"]["reason"]

"""The HTTP channel against real `coursebot serve` processes: Rasa's REST shapes, errors
as JSON, the token, CORS, many senders at once, and conversations that outlive a restart."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from bot.agent import Agent
from bot.channels.http import KEY_HEADER, KEY_PURPOSE, SENDER_HEADER, create_app
from bot.server_key import keyed_hash, server_key
from tests.conftest import TINY, copy_project
from tests.http_server import ServeProcess, endpoints_file, serving, serving_app

TOKEN = "s3cret-token"
ALLOWED_ORIGIN = "http://allowed.example"
JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def tiny_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_project(TINY, tmp_path_factory.mktemp("http") / "tiny")


@pytest.fixture(scope="module")
def tiny_url(tiny_copy: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The tiny project with the defaults: no token, no CORS, conversations in SQLite."""
    with serving(tiny_copy, log_dir=tmp_path_factory.mktemp("logs")) as server:
        yield server.url


@pytest.fixture(scope="module")
def guarded_url(tiny_copy: Path, tmp_path_factory: pytest.TempPathFactory, tiny_url: str) -> Iterator[str]:
    """The tiny project with a token (from the environment, as in production) and one CORS origin."""
    with serving(tiny_copy, "--cors", ALLOWED_ORIGIN, log_dir=tmp_path_factory.mktemp("logs"),
                 env={"COURSEBOT_AUTH_TOKEN": TOKEN}) as server:
        yield server.url


@pytest.fixture(scope="module")
def course_url(course_copy: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serving(course_copy, "--endpoints", str(endpoints_file(tmp_path_factory.mktemp("store"))),
                 log_dir=tmp_path_factory.mktemp("logs")) as server:
        yield server.url


def history(url: str, sender: str, project: Path | None = None, key: str | None = None, **kwargs) -> httpx.Response:
    """GET the conversation of `sender` with its key (given, or made from `project`'s server key)."""
    if key is None and project is not None:
        key = keyed_hash(server_key(project), sender, KEY_PURPOSE)
    headers = {KEY_HEADER: key} if key else {}
    return httpx.get(f"{url}/conversations/{sender}/messages", headers=headers, **kwargs)


def say(url: str, message: object, sender: str | None = None, **kwargs) -> httpx.Response:
    body = {"message": message} if sender is None else {"sender": sender, "message": message}
    return httpx.post(f"{url}/webhooks/rest/webhook", json=body, timeout=60, **kwargs)


def assert_error(response: httpx.Response, status: int, *words: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert isinstance(body["error"], str) and body["error"]
    assert "Traceback" not in response.text
    for word in words:
        assert word in body["error"], body
    return body


# The REST channel, /model/parse and /health


def test_webhook_answers_in_rasa_rest_shape(tiny_url):
    response = say(tiny_url, "what is a widget?", sender="alice")
    assert response.status_code == 200
    replies = response.json()
    assert replies == [{"recipient_id": "alice", "text": "Widget: A widget is a small part."}]


def test_a_message_without_sender_starts_a_conversation_of_its_own(tiny_url, tiny_copy):
    """Rasa puts every sender-less message in the conversation "default", where anyone read
    everyone's; here each gets a fresh id, returned as `recipient_id` and in a header."""
    first, second = say(tiny_url, "what is a gizmo"), say(tiny_url, "hello")
    ids = [response.headers[SENDER_HEADER] for response in (first, second)]
    assert ids[0] != ids[1] and all(i.startswith("anon-") and len(i) > 20 for i in ids)
    assert [reply["recipient_id"] for reply in first.json() + second.json()] == [ids[0], ids[1]]
    assert second.json()[0]["text"] == "Hello there!"
    mine = history(tiny_url, ids[1], key=second.headers[KEY_HEADER]).json()["messages"]
    assert [m["text"] for m in mine if m["role"] == "user"] == ["hello"]
    assert history(tiny_url, "default", tiny_copy).json()["messages"] == []


def test_model_parse_has_rasa_shape_and_keeps_no_conversation(tiny_url, tiny_copy):
    response = httpx.post(f"{tiny_url}/model/parse", json={"text": "tell me about gizmos"})
    assert response.status_code == 200
    parse = response.json()
    assert parse["text"] == "tell me about gizmos"
    assert parse["intent"]["name"] == "ask_concept" and 0 < parse["intent"]["confidence"] <= 1
    assert [item["name"] for item in parse["intent_ranking"]][0] == "ask_concept"
    assert [(e["entity"], e["value"], e["start"], e["end"]) for e in parse["entities"]] == [
        ("concept", "gizmo", 14, 20)]
    assert history(tiny_url, "default-parse", tiny_copy).json()["messages"] == []


def test_health_names_the_model_and_the_stores(tiny_url, tiny_copy):
    from bot.nlu.training import model_dir
    from bot.project import load_project

    body = httpx.get(f"{tiny_url}/health").json()
    metadata = json.loads((model_dir(load_project(tiny_copy)) / "metadata.json").read_text())
    assert body["status"] == "ok"
    assert body["model"]["fingerprint"] == metadata["fingerprint"]
    assert body["store"] == {"status": "ok", "type": "SQLiteTrackerStore"}
    assert body["lock_store"] == {"status": "ok", "type": "SQLiteLockStore"}  # serve's default: the same file


def test_head_answers_on_the_widget_and_health_for_load_balancers(tiny_url):
    for path in ("/", "/health", "/static/widget.js"):
        head, get = httpx.head(tiny_url + path), httpx.get(tiny_url + path)
        assert head.status_code == get.status_code == 200, path
        assert head.content == b"" and head.headers["content-type"] == get.headers["content-type"]


def test_conversation_history_lists_user_and_bot_messages(tiny_url, tiny_copy):
    first = say(tiny_url, "hello", sender="historian")
    second = say(tiny_url, "what is a gizmo", sender="historian")
    key = first.headers[KEY_HEADER]
    assert KEY_HEADER not in second.headers  # only the reply that starts the conversation has it
    body = history(tiny_url, "historian", key=key).json()
    assert body["sender_id"] == "historian"
    assert [(m["role"], m["text"]) for m in body["messages"]] == [
        ("user", "hello"), ("bot", "Hello there!"),
        ("user", "what is a gizmo"), ("bot", "Gizmo: A gizmo is a clever device.")]
    assert history(tiny_url, "nobody-yet", tiny_copy).json()["messages"] == []


def test_a_conversation_is_read_only_with_its_key(tiny_url):
    """Knowing a sender id is not enough to read that conversation: its key is."""
    key = say(tiny_url, "what is a gizmo", sender="private-student").headers[KEY_HEADER]
    other_key = say(tiny_url, "hello", sender="curious-student").headers[KEY_HEADER]
    assert_error(history(tiny_url, "private-student"), 401, KEY_HEADER)
    assert_error(history(tiny_url, "private-student", key=other_key), 403, "not the key")
    assert_error(history(tiny_url, "private-student", key="0" * 32), 403, "not the key")
    assert history(tiny_url, "private-student", key=key).status_code == 200
    # Messages sent as that student later do not hand out the key again.
    assert KEY_HEADER not in say(tiny_url, "hello", sender="private-student").headers


@pytest.mark.parametrize(("raw", "field"), [(rb'{"sender": "s", "message": "\ud800"}', "message"),
                                          (rb'{"sender": "\udfff", "message": "hi"}', "sender"),
                                          (rb'{"sender": "s", "message": "hello \udc80 there"}', "message")])
def test_a_lone_surrogate_is_400_naming_it(tiny_url, raw, field):
    response = httpx.post(f"{tiny_url}/webhooks/rest/webhook", content=raw, headers=JSON)
    assert_error(response, 400, field, "lone surrogate")


def test_a_surrogate_pair_is_an_emoji_and_fine(tiny_url):
    response = httpx.post(f"{tiny_url}/webhooks/rest/webhook", headers=JSON,
                          content=rb'{"sender": "s", "message": "hi \ud83d\ude00"}')
    assert response.status_code == 200


def test_a_lone_surrogate_in_a_parse_is_400(tiny_url):
    response = httpx.post(f"{tiny_url}/model/parse", content=rb'{"text": "\ud800"}', headers=JSON)
    assert_error(response, 400, "text", "lone surrogate")


# Errors: always JSON, always 4xx for what the client can fix


def test_invalid_json_is_400(tiny_url):
    response = httpx.post(f"{tiny_url}/webhooks/rest/webhook", content=b'{"message": "hi"',
                          headers={"Content-Type": "application/json"})
    assert_error(response, 400, "not valid JSON")


def test_a_body_that_is_not_json_is_415(tiny_url):
    response = httpx.post(f"{tiny_url}/webhooks/rest/webhook", content=b"message=hi",
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert_error(response, 415, "application/json")


@pytest.mark.parametrize(("body", "field"), [({"sender": "x"}, "message"),
                                             ({"sender": "x", "message": 42}, "message"),
                                             ({"sender": ["x"], "message": "hi"}, "sender"),
                                             ({"sender": "", "message": "hi"}, "sender"),
                                             (["hi"], "body")])
def test_missing_or_wrong_fields_are_400_naming_the_field(tiny_url, body, field):
    response = httpx.post(f"{tiny_url}/webhooks/rest/webhook", json=body)
    error = assert_error(response, 400, field)
    assert [problem["field"] for problem in error["detail"]] == [field]


def test_parse_needs_text(tiny_url):
    assert_error(httpx.post(f"{tiny_url}/model/parse", json={"message": "hi"}), 400, "text")


@pytest.mark.parametrize("message", ["", "   \n\t"])
def test_empty_message_is_400(tiny_url, message):
    assert_error(say(tiny_url, message, sender="blank"), 400, "empty")


def test_message_over_the_character_limit_is_413_naming_the_limit(tiny_url):
    assert_error(say(tiny_url, "widget " * 1000, sender="long"), 413, "7000 characters", "5000")


def test_100_kb_message_is_413(tiny_url, tiny_copy):
    assert_error(say(tiny_url, "x" * 100_000, sender="huge"), 413, "65536 bytes")
    assert history(tiny_url, "huge", tiny_copy).json()["messages"] == []


def test_body_too_large_without_content_length_is_413(tiny_url):
    chunks = (b" " * 1000 for _ in range(100))  # streamed: the server learns the size as it reads
    response = httpx.post(f"{tiny_url}/webhooks/rest/webhook", content=chunks,
                          headers={"Content-Type": "application/json"})
    assert "content-length" not in response.request.headers
    assert_error(response, 413, "65536 bytes")


def test_unknown_route_is_404_json(tiny_url):
    assert_error(httpx.get(f"{tiny_url}/webhooks/nope"), 404, "/webhooks/nope")


def test_wrong_method_is_405_json_naming_the_right_one(tiny_url):
    response = httpx.get(f"{tiny_url}/webhooks/rest/webhook")
    assert_error(response, 405, "GET", "POST")
    assert response.headers["allow"] == "POST"


def test_an_unexpected_error_is_500_json_and_logged(tiny_copy, tiny_url, caplog):
    agent = Agent.load(tiny_copy)  # tiny_url trained it already

    def broken(text, sender_id="default"):
        raise RuntimeError("a bug in an action")

    agent.handle = broken
    with serving_app(create_app(agent)) as url:
        crash = say(url, "hello", sender="victim")
    body = assert_error(crash, 500)
    assert "bug" not in crash.text and "retry-after" not in crash.headers
    assert "RuntimeError: a bug in an action" in caplog.text  # the server log has the details
    assert body.keys() == {"error"}


def test_a_store_that_is_down_is_503_and_names_no_host(tiny_copy, tiny_url, caplog):
    pytest.importorskip("redis")
    from bot.stores import RedisTrackerStore

    agent = Agent.load(tiny_copy)
    with serving_app(create_app(agent)) as url:
        agent.dialogue.store = RedisTrackerStore("redis://127.0.0.1:9/0")  # nothing listens there
        down = history(url, "victim", tiny_copy)
        turn = say(url, "hello", sender="victim")
    for response in (down, turn):
        assert_error(response, 503, "try again")
        assert response.headers["retry-after"] == "5"
        assert "127.0.0.1:9" not in response.text
    assert "127.0.0.1:9" in caplog.text


# The token and CORS


def test_api_needs_the_token_when_one_is_set(guarded_url):
    for response in (say(guarded_url, "hello", sender="t"),
                     say(guarded_url, "hello", sender="t", params={"token": "wrong"}),
                     say(guarded_url, "hello", sender="t", headers={"Authorization": "Bearer wrong"}),
                     httpx.post(f"{guarded_url}/model/parse", json={"text": "hello"}),
                     history(guarded_url, "t")):
        assert_error(response, 401, "token")
        assert response.headers["www-authenticate"] == "Bearer"


def test_the_right_token_works_as_query_and_as_bearer(guarded_url):
    by_query = say(guarded_url, "hello", sender="q", params={"token": TOKEN})
    by_header = say(guarded_url, "hello", sender="b", headers={"Authorization": f"Bearer {TOKEN}"})
    assert by_query.status_code == by_header.status_code == 200
    assert by_query.json()[0]["recipient_id"] == "q" and by_header.json()[0]["recipient_id"] == "b"
    parse = httpx.post(f"{guarded_url}/model/parse", params={"token": TOKEN}, json={"text": "hello"})
    assert parse.json()["intent"]["name"] == "greet"


def test_the_token_or_the_key_reads_a_conversation_on_a_guarded_server(guarded_url):
    key = say(guarded_url, "hello", sender="guarded-reader", params={"token": TOKEN}).headers[KEY_HEADER]
    by_token = history(guarded_url, "guarded-reader", params={"token": TOKEN})
    by_key = history(guarded_url, "guarded-reader", key=key)
    assert by_token.status_code == by_key.status_code == 200
    assert by_token.json() == by_key.json() and len(by_key.json()["messages"]) == 2
    assert_error(history(guarded_url, "guarded-reader", params={"token": "wrong"}), 401, "token")


def test_widget_and_health_stay_open_with_a_token(guarded_url):
    assert httpx.get(f"{guarded_url}/health").status_code == 200
    assert httpx.get(f"{guarded_url}/").status_code == 200
    assert httpx.get(f"{guarded_url}/static/widget.js").status_code == 200


def test_no_cors_headers_by_default(tiny_url):
    preflight = httpx.options(f"{tiny_url}/webhooks/rest/webhook",
                              headers={"Origin": ALLOWED_ORIGIN, "Access-Control-Request-Method": "POST"})
    simple = say(tiny_url, "hello", sender="cors", headers={"Origin": ALLOWED_ORIGIN})
    assert simple.status_code == 200
    for response in (preflight, simple):
        assert "access-control-allow-origin" not in response.headers


def test_cors_allows_the_configured_origin_only(guarded_url):
    headers = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    preflight = httpx.options(f"{guarded_url}/webhooks/rest/webhook", headers={"Origin": ALLOWED_ORIGIN, **headers})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    answer = say(guarded_url, "hello", sender="c", params={"token": TOKEN}, headers={"Origin": ALLOWED_ORIGIN})
    assert answer.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    exposed = {name.strip().lower() for name in answer.headers["access-control-expose-headers"].split(",")}
    assert {KEY_HEADER.lower(), SENDER_HEADER.lower()} <= exposed  # a page on that origin can read the key
    reading = httpx.options(f"{guarded_url}/conversations/c/messages", headers={
        "Origin": ALLOWED_ORIGIN, "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": KEY_HEADER.lower()})
    assert reading.status_code == 200 and KEY_HEADER.lower() in reading.headers["access-control-allow-headers"].lower()
    denied = httpx.options(f"{guarded_url}/webhooks/rest/webhook", headers={"Origin": "http://evil.example", **headers})
    assert "access-control-allow-origin" not in denied.headers


# The widget's files and media


def test_root_serves_the_widget_and_its_files(tiny_url):
    page = httpx.get(f"{tiny_url}/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for asset, kind in (("widget.js", "javascript"), ("widget.css", "text/css")):
        assert f"static/{asset}" in page.text
        response = httpx.get(f"{tiny_url}/static/{asset}")
        assert response.status_code == 200 and kind in response.headers["content-type"]


def test_media_dir_is_served_and_nothing_outside_it(tiny_copy, tmp_path):
    media = tmp_path / "media"
    media.mkdir()
    (media / "hello.mp3").write_bytes(b"ID3 fake audio")
    (tmp_path / "secret.txt").write_text("do not serve")
    (media / "link.txt").symlink_to(tmp_path / "secret.txt")
    with serving(tiny_copy, "--media-dir", str(media), log_dir=tmp_path) as server:
        audio = httpx.get(f"{server.url}/media/hello.mp3")
        assert audio.status_code == 200 and audio.content == b"ID3 fake audio"
        for path in ("/media/%2e%2e/secret.txt", "/media/..%2fsecret.txt", "/media/link.txt", "/media/nope.mp3"):
            response = httpx.get(server.url + path)
            assert response.status_code == 404, path
            assert "do not serve" not in response.text


# Many students at once


def test_200_concurrent_senders_each_get_their_own_answers(course_url, agent):
    """Two turns each ("what is X?", then "give me an example"), all at once: every reply must
    name its own sender and be exactly what the server answers that conversation alone."""
    entries = sorted(agent.project.knowledge, key=lambda entry: entry.id)
    conversations = [[f"what is {entry.name}?", "give me an example"] for entry in entries]
    conversations += [[f"tell me about {entry.name}", "how is it different from overfitting?"] for entry in entries]
    conversations += [[f"explain {entry.name}", "tell me more"] for entry in entries]
    expected = [[_texts(agent.handle(text, f"alone-{i}")) for text in turns] for i, turns in enumerate(conversations)]
    # Keep conversations whose answers no other conversation shares, so a mix-up cannot go unseen.
    seen: dict[str, int] = {}
    for answers in expected:
        seen[repr(answers)] = seen.get(repr(answers), 0) + 1
    chosen = [i for i, answers in enumerate(expected) if seen[repr(answers)] == 1][:200]
    assert len(chosen) == 200

    # What the server itself answers each conversation alone, one at a time: this process's
    # model may differ from the server's in the last bits of a float (threads, int8 kernels).
    with httpx.Client(base_url=course_url, timeout=120) as alone:
        for i in chosen:
            expected[i] = [_texts(alone.post("/webhooks/rest/webhook", json={"sender": f"alone-{i}", "message": text})
                                  .json()) for text in conversations[i]]
    start = threading.Barrier(len(chosen))
    client = httpx.Client(base_url=course_url, timeout=120, limits=httpx.Limits(max_connections=len(chosen)))

    def converse(i: int) -> list[tuple[set[str], list[str]]]:
        sender = f"student-{i}"
        start.wait()
        results = []
        for text in conversations[i]:
            replies = client.post("/webhooks/rest/webhook", json={"sender": sender, "message": text}).json()
            results.append(({reply["recipient_id"] for reply in replies}, _texts(replies)))
        return results

    with client, ThreadPoolExecutor(max_workers=len(chosen)) as pool:
        results = dict(zip(chosen, pool.map(converse, chosen), strict=True))
    for i, turns in results.items():
        for (recipients, texts), wanted in zip(turns, expected[i], strict=True):
            assert recipients == {f"student-{i}"}
            assert texts == wanted, conversations[i]


def _texts(replies: list[dict]) -> list[str]:
    return [reply.get("text", "") for reply in replies]


# Conversations outlive the server


@pytest.mark.parametrize("store", ["sqlite", "redis"])
def test_the_conversation_goes_on_after_a_restart(store, course_copy, agent, tmp_path, request):
    if store == "redis":
        url = request.getfixturevalue("redis_url")
        host, port = url.removeprefix("redis://").split("/")[0].split(":")
        endpoints = endpoints_file(tmp_path, {"type": "redis", "url": host, "port": int(port),
                                          "key_prefix": f"restart-{tmp_path.name}"})
    else:
        endpoints = endpoints_file(tmp_path)
    first, follow_up = "what is overfitting?", "give me an example"
    alone = _texts(agent.handle(first, "alone-restart")) + _texts(agent.handle(follow_up, "alone-restart"))
    without_context = _texts(agent.handle(follow_up, "no-context"))

    server = ServeProcess(course_copy, "--endpoints", str(endpoints), log_dir=tmp_path)
    try:
        server.start()
        before = say(server.url, first, sender="carol").json()
        assert "overfit" in before[0]["text"].lower()
        server.kill()  # a crash: nothing gets the chance to flush
        server.start()
        after = say(server.url, follow_up, sender="carol").json()
        messages = history(server.url, "carol", course_copy).json()["messages"]
        assert server.stop() == 0  # Ctrl-C stops cleanly
    finally:
        server.kill()
    assert _texts(before) + _texts(after) == alone
    assert _texts(after) != without_context  # the topic came from before the restart
    assert [m["text"] for m in messages if m["role"] == "user"] == [first, follow_up]
    assert "Stopped." in server.stdout and "Traceback" not in server.stderr


# The command line


def test_serve_has_help():
    result = subprocess.run([sys.executable, "-m", "bot", "serve", "--help"], capture_output=True, text=True)
    assert result.returncode == 0
    for option in ("--host", "--port", "--endpoints", "--auth-token", "COURSEBOT_AUTH_TOKEN", "--cors", "--media-dir"):
        assert option in result.stdout


def test_a_busy_port_is_a_clear_error(tiny_copy, tiny_url):
    port = tiny_url.rsplit(":", 1)[1]
    result = subprocess.run([sys.executable, "-m", "bot", "serve", "--project", str(tiny_copy), "--port", port],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert f"port {port}" in result.stderr and "already in use" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(("args", "words"), [(["--port", "70000"], "70000"),
                                             (["--media-dir", "/no/such/folder"], "does not exist")])
def test_bad_options_are_usage_errors(tiny_copy, args, words):
    result = subprocess.run([sys.executable, "-m", "bot", "serve", "--project", str(tiny_copy), *args],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and words in result.stderr


def test_a_bad_endpoints_file_is_a_clear_error(tiny_copy, tmp_path):
    endpoints = endpoints_file(tmp_path, {"type": "mongo"})
    result = subprocess.run([sys.executable, "-m", "bot", "serve", "--project", str(tiny_copy),
                             "--endpoints", str(endpoints)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "mongo" in result.stderr and "Traceback" not in result.stderr


def test_sigterm_also_stops_the_server(tiny_copy, tmp_path):
    server = ServeProcess(tiny_copy, log_dir=tmp_path)
    server.start()
    assert server.stop(signal.SIGTERM) in (0, -signal.SIGTERM)
    assert "Traceback" not in server.stderr

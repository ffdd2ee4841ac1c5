"""Tracker stores and lock stores against real backends: SQLite files, a real
redis-server (the `redis_url` fixture in conftest.py) and DynamoDB through moto.

Every store must give back exactly the events it was given, in order, across saves,
senders, restarts and sizes beyond DynamoDB's 400 KB item limit; a save is a
compare-and-append that refuses a tracker read at another length, and, fenced by a lease,
a process that lost its lock; locks must serialize one sender's messages across threads
and processes, renew their leases while held, and endpoints.yml must configure all of it
or say clearly what is wrong.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.dialogue.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    Event,
    Restarted,
    SlotSet,
    UserUttered,
)
from bot.dialogue.tracker import Tracker
from bot.errors import ConfigError, ConversationConflict, CourseBotError
from bot.stores import (
    DynamoTrackerStore,
    InMemoryTrackerStore,
    InProcessLockStore,
    LockTimeout,
    RedisLockStore,
    RedisTrackerStore,
    SQLiteLockStore,
    SQLiteTrackerStore,
    TrackerStore,
    check_shared,
    lock_store_from_config,
    read_endpoints,
    stores_from_endpoints,
    tracker_store_from_config,
)

ROOT = Path(__file__).resolve().parents[1]
BACKENDS = ["memory", "sqlite", "redis", "dynamodb"]
PERSISTENT = ["sqlite", "redis", "dynamodb"]
REGION = "us-east-1"


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A moto DynamoDB, with fake credentials so that no real account is ever touched."""
    from moto import mock_aws

    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield


@pytest.fixture
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], TrackerStore]]:
    """Opens a new store instance on the same backing data each call (like a server
    restart, or a second server process); the memory store has only one instance."""
    kind = request.param
    opened: list[SQLiteTrackerStore] = []
    if kind == "memory":
        memory = InMemoryTrackerStore()
        yield lambda: memory
    elif kind == "sqlite":
        def open_sqlite() -> SQLiteTrackerStore:
            opened.append(SQLiteTrackerStore(tmp_path / "conversations.db"))
            return opened[-1]
        yield open_sqlite
    elif kind == "redis":
        url, prefix = request.getfixturevalue("redis_url"), unique("test")
        yield lambda: RedisTrackerStore(url, key_prefix=prefix)
    else:
        request.getfixturevalue("aws")
        table = unique("conversations")
        yield lambda: DynamoTrackerStore(table, REGION)
    for store in opened:
        store.close()


def every_event_type() -> list[Event]:
    parse = {"text": "what is SageMaker?", "intent": {"name": "ask_concept", "confidence": 0.93},
             "intent_ranking": [{"name": "ask_concept", "confidence": 0.93}, {"name": "greet", "confidence": 0.07}],
             "entities": [{"entity": "concept", "value": "SageMaker", "start": 8, "end": 17, "confidence": 0.99,
                           "extractor": "lookup"}]}
    return [
        UserUttered("what is SageMaker? ünïcödé ✓", parse),
        ActionExecuted("action_explain"),
        BotUttered({"text": "SageMaker is…", "buttons": [{"title": "More", "payload": "/more"}]}),
        SlotSet("concept", "SageMaker"),
        SlotSet("topics", ["training", "inference"]),
        SlotSet("details", {"nested": {"n": 1.5, "none": None}}),
        SlotSet("cleared", None),
        ActiveLoop("instance_form"),
        ActiveLoop(None),
        Restarted(),
        ActionExecuted("action_listen"),
    ]


def converse(store: TrackerStore, sender_id: str, *events: Event) -> Tracker:
    """What the dialogue manager does for one message: retrieve, append, save."""
    tracker = store.retrieve(sender_id) or Tracker(sender_id)
    tracker.extend(events)
    store.save(tracker)
    return tracker


@pytest.mark.parametrize("open_store", BACKENDS, indirect=True)
def test_every_event_type_round_trips(open_store):
    store, events = open_store(), every_event_type()
    assert store.retrieve("ann") is None
    store.save(Tracker("ann", events))
    restored = store.retrieve("ann")
    assert restored.sender_id == "ann"
    assert [event.as_dict() for event in restored.events] == [event.as_dict() for event in events]
    assert restored.events == events


@pytest.mark.parametrize("open_store", BACKENDS, indirect=True)
def test_saves_append_without_duplicates(open_store):
    store, expected = open_store(), []
    for turn in range(6):
        new = [UserUttered(f"message {turn}"), ActionExecuted("utter_answer"), BotUttered({"text": f"answer {turn}"})]
        expected += new
        tracker = converse(store, "ann", *new)
        store.save(tracker)          # saving again with nothing new adds nothing
    assert store.retrieve("ann").events == expected


@pytest.mark.parametrize("open_store", BACKENDS, indirect=True)
def test_senders_are_kept_apart(open_store):
    store = open_store()
    senders = ["ann", "ann2", "ann:2", "zoë", "a b"]
    for turn in range(3):
        for sender in senders:
            converse(store, sender, UserUttered(f"{sender} says {turn}"))
    for sender in senders:
        assert [event.text for event in store.retrieve(sender).events] == [f"{sender} says {t}" for t in range(3)]


@pytest.mark.parametrize("open_store", PERSISTENT, indirect=True)
def test_a_new_instance_sees_and_continues_the_conversation(open_store):
    first = open_store()
    converse(first, "ann", UserUttered("before the restart"))
    second = open_store()                       # a restarted server, or a second process
    assert [event.text for event in second.retrieve("ann").events] == ["before the restart"]
    converse(second, "ann", UserUttered("on the second server"))
    converse(first, "ann", UserUttered("back on the first"))   # it must count what is stored, not what it wrote
    texts = [event.text for event in open_store().retrieve("ann").events]
    assert texts == ["before the restart", "on the second server", "back on the first"]


@pytest.mark.parametrize("open_store", BACKENDS, indirect=True)
def test_a_long_conversation_with_huge_events_survives(open_store):
    store, expected = open_store(), []
    huge = BotUttered({"text": "é" * 650_000})            # 1.3 MB of UTF-8 in one event
    for turn in range(20):     # 2.8 MB in all: more than one DynamoDB item or Query page holds
        new = [UserUttered(f"question {turn} " + "x" * 5_000), BotUttered({"text": f"answer {turn} " + "y" * 5_000})]
        if turn in (3, 15):
            new.append(huge)
        expected += new
        converse(store, "ann", *new)
    restored = open_store().retrieve("ann")
    assert len(restored.events) == len(expected)
    assert restored.events == expected


@pytest.mark.parametrize("open_store", PERSISTENT, indirect=True)
def test_a_stale_tracker_is_refused_instead_of_losing_events(open_store):
    store = open_store()
    converse(store, "ann", UserUttered("one"), UserUttered("two"))
    with pytest.raises(ConversationConflict, match="another process"):
        store.save(Tracker("ann", [UserUttered("one")]))
    assert [event.text for event in store.retrieve("ann").events] == ["one", "two"]


@pytest.mark.parametrize("open_store", BACKENDS, indirect=True)
def test_of_two_messages_read_at_one_length_only_the_first_is_appended(open_store):
    """Two processes without a shared lock read the conversation at once: the second save
    is refused whole, never dropped in silence, merged or interleaved."""
    first, second = open_store(), open_store()
    converse(first, "ann", UserUttered("hello"))
    mine, theirs = first.retrieve("ann"), second.retrieve("ann")
    assert (mine.stored, theirs.stored) == (1, 1)
    mine.extend([UserUttered("mine"), BotUttered({"text": "for mine"})])
    theirs.extend([UserUttered("theirs"), BotUttered({"text": "for theirs"})])
    first.save(mine)
    assert mine.stored == 3
    with pytest.raises(ConversationConflict, match=r"changed while this message was handled: the store holds 3 "
                                                   r"events, this message read 1"):
        second.save(theirs)
    assert theirs.stored == 1
    assert open_store().retrieve("ann").events == [UserUttered("hello"), *mine.events[1:]]
    converse(second, "ann", UserUttered("read again"))     # a fresh read appends again
    assert [e.text for e in first.retrieve("ann").events if isinstance(e, UserUttered)] == [
        "hello", "mine", "read again"]


@pytest.mark.parametrize("open_store", BACKENDS, indirect=True)
def test_a_new_sender_saved_twice_at_once_keeps_the_first(open_store):
    first, second = open_store(), open_store()
    assert first.retrieve("new") is None and second.retrieve("new") is None
    first.save(Tracker("new", [UserUttered("first")]))
    with pytest.raises(ConversationConflict):
        second.save(Tracker("new", [UserUttered("second")]))
    assert [event.text for event in open_store().retrieve("new").events] == ["first"]


# Not DynamoDB: moto's backend is not thread-safe (its transact_write_items deep-copies
# tables that other threads are changing), though boto3 clients and DynamoDB are.
@pytest.mark.parametrize("open_store", ["memory", "sqlite", "redis"], indirect=True)
def test_threads_can_share_one_store(open_store):
    store, errors = open_store(), []

    def talk(sender: str) -> None:
        try:
            for turn in range(8):
                converse(store, sender, UserUttered(f"{sender} {turn}"), BotUttered({"text": str(turn)}))
        except Exception as error:   # reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=talk, args=(f"student{n}",)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for n in range(6):
        assert [e.text for e in store.retrieve(f"student{n}").events[::2]] == [f"student{n} {t}" for t in range(8)]


# --- SQLite ----------------------------------------------------------------------------

def test_sqlite_creates_its_folders_and_refuses_a_path_it_cannot_open(tmp_path):
    store = SQLiteTrackerStore(tmp_path / "deep" / "er" / "conversations.db")
    converse(store, "ann", UserUttered("hi"))
    assert (tmp_path / "deep" / "er" / "conversations.db").is_file()
    store.close()
    with pytest.raises(ConfigError, match="cannot open the conversation database"):
        SQLiteTrackerStore(tmp_path)                # a folder, not a database
    (tmp_path / "text.db").write_text("not a database " * 100)
    with pytest.raises(ConfigError, match="text.db"):
        SQLiteTrackerStore(tmp_path / "text.db")


# --- Redis -----------------------------------------------------------------------------

def test_redis_pushes_only_new_events_and_renews_the_expiry(redis_url):
    import redis

    store = RedisTrackerStore(redis_url, key_prefix=unique("test"), record_exp=100)
    converse(store, "ann", UserUttered("one"))
    converse(store, "ann", UserUttered("two"), UserUttered("three"))
    client = redis.Redis.from_url(redis_url)
    assert client.llen(store.key("ann")) == 3
    assert 0 < client.ttl(store.key("ann")) <= 100


def test_redis_accepts_rasas_host_and_port_spelling(redis_url):
    port = int(redis_url.rsplit(":", 1)[1].split("/")[0])
    store = RedisTrackerStore("127.0.0.1", port=port, db=0, key_prefix=unique("test"))
    converse(store, "ann", UserUttered("hi"))
    assert store.retrieve("ann").events[0].text == "hi"


def test_an_unreachable_redis_is_one_clear_error():
    import socket

    with socket.socket() as probe:           # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    store = RedisTrackerStore(f"redis://127.0.0.1:{port}/0")
    with pytest.raises(CourseBotError, match=f"cannot use Redis at 127.0.0.1:{port}"):
        store.retrieve("ann")


def test_without_redis_py_the_error_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "redis", None)    # makes `import redis` fail
    with pytest.raises(ConfigError, match=r"pip install 'coursebot\[redis\]'"):
        tracker_store_from_config({"type": "redis", "url": "localhost"}, tmp_path)


def test_importing_the_stores_loads_neither_redis_nor_boto3():
    code = "import sys, bot.stores; print(sorted({'redis', 'boto3', 'botocore'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert result.stdout.strip() == "[]"


# --- DynamoDB --------------------------------------------------------------------------

def dynamo_items(table: str) -> list[dict]:
    import boto3

    pages = boto3.client("dynamodb", region_name=REGION).get_paginator("scan").paginate(TableName=table)
    return [item for page in pages for item in page["Items"]]


def test_dynamo_creates_an_on_demand_table_and_keeps_items_small(aws):
    import boto3

    store, huge = DynamoTrackerStore("chats", REGION), BotUttered({"text": "z" * 900_000})
    converse(store, "ann", UserUttered("hi"), huge)
    table = boto3.client("dynamodb", region_name=REGION).describe_table(TableName="chats")["Table"]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert {key["AttributeName"]: key["KeyType"] for key in table["KeySchema"]} == {
        "sender_id": "HASH", "position": "RANGE"}
    items = dynamo_items("chats")
    assert len(items) >= 4                      # the huge event took several items
    assert max(len(item["data"]["B"]) for item in items) < 400_000
    assert DynamoTrackerStore("chats", REGION).retrieve("ann").events[1] == huge


def test_dynamo_saves_hundreds_of_events_in_one_save(aws):
    store = DynamoTrackerStore("chats", REGION)
    events = [SlotSet(f"slot{n}", n) for n in range(250)]     # more than one transaction holds
    store.save(Tracker("ann", events))
    assert DynamoTrackerStore("chats", REGION).retrieve("ann").events == events


def test_dynamo_ignores_the_remains_of_a_save_that_died(aws):
    import boto3

    store = DynamoTrackerStore("chats", REGION)
    converse(store, "ann", UserUttered("one"))
    boto3.client("dynamodb", region_name=REGION).put_item(TableName="chats", Item={
        "sender_id": {"S": "ann"}, "position": {"N": "1"}, "event": {"N": "1"}, "part": {"N": "0"},
        "parts": {"N": "2"}, "data": {"B": b'{"event": "user", "te'}})          # first half of an event
    assert [event.text for event in store.retrieve("ann").events] == ["one"]
    converse(store, "ann", UserUttered("two"))
    assert [event.text for event in store.retrieve("ann").events] == ["one", "two"]


def test_dynamo_refuses_to_overwrite_what_another_process_wrote(aws, monkeypatch):
    first, second = DynamoTrackerStore("chats", REGION), DynamoTrackerStore("chats", REGION)
    converse(first, "ann", UserUttered("one"))
    monkeypatch.setattr(second, "_end_of", lambda client, sender: (0, 0))   # as if it read before the write
    with pytest.raises(CourseBotError, match="at the same time"):
        second.save(Tracker("ann", [UserUttered("other")]))
    assert [event.text for event in first.retrieve("ann").events] == ["one"]


def test_dynamo_refuses_a_table_with_another_key_schema(aws):
    import boto3

    boto3.client("dynamodb", region_name=REGION).create_table(
        TableName="states", KeySchema=[{"AttributeName": "sender_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "sender_id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    with pytest.raises(ConfigError, match="'states' exists with another key schema"):
        DynamoTrackerStore("states", REGION).retrieve("ann")


def test_dynamo_without_a_region_says_where_to_set_one(aws, monkeypatch, tmp_path):
    for name in ("AWS_DEFAULT_REGION", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    with pytest.raises(ConfigError, match="needs a region"):
        DynamoTrackerStore("chats").retrieve("ann")


# --- Locks -----------------------------------------------------------------------------

def assert_not_interleaved(log: list[str]) -> None:
    """The log of start/end markers shows each holder finishing before the next starts."""
    assert len(log) % 2 == 0
    for start, end in zip(log[::2], log[1::2], strict=True):
        assert start.startswith("start ") and end == "end " + start.removeprefix("start "), log


def test_in_process_lock_serializes_one_senders_threads():
    locks, log = InProcessLockStore(), []

    def handle(name: str) -> None:
        for _ in range(5):
            with locks.lock("ann"):
                log.append(f"start {name}")
                time.sleep(0.002)
                log.append(f"end {name}")

    threads = [threading.Thread(target=handle, args=(f"t{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(log) == 40
    assert_not_interleaved(log)


@pytest.mark.parametrize(("senders", "meet"), [(("ann", "bob"), True), (("ann", "ann"), False)])
def test_in_process_lock_lets_only_other_senders_run_at_once(senders, meet):
    """Two threads holding their sender's lock wait for each other at a barrier: they
    meet only when the senders differ."""
    locks, barrier, met = InProcessLockStore(), threading.Barrier(2, timeout=0.5), []

    def handle(sender: str) -> None:
        with locks.lock(sender):
            try:
                barrier.wait()
                met.append(sender)
            except threading.BrokenBarrierError:
                pass

    threads = [threading.Thread(target=handle, args=(sender,)) for sender in senders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (len(met) == 2) is meet


LOCK_WORKER = textwrap.dedent("""
    import os, sys, time
    from bot.stores import RedisLockStore, SQLiteLockStore

    kind, where, prefix, name, folder = sys.argv[1:6]
    locks = RedisLockStore(where, key_prefix=prefix) if kind == "redis" else SQLiteLockStore(where)
    open(os.path.join(folder, name + ".ready"), "w").close()
    while not os.path.exists(os.path.join(folder, "go")):
        time.sleep(0.005)
    log = os.open(os.path.join(folder, "log"), os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    for _ in range(5):
        with locks.lock("ann"):
            os.write(log, ("start " + name + "\\n").encode())
            time.sleep(0.03)
            os.write(log, ("end " + name + "\\n").encode())
""")


@pytest.fixture(params=["sqlite", "redis"])
def shared(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    """Where a shared lock store lives: (kind, SQLite path or Redis URL, key prefix)."""
    if request.param == "sqlite":
        yield "sqlite", str(tmp_path / "conversations.db"), ""
    else:
        yield "redis", request.getfixturevalue("redis_url"), unique("locks")


def shared_locks(where: tuple[str, str, str], **lease: float) -> SQLiteLockStore | RedisLockStore:
    kind, location, prefix = where
    return SQLiteLockStore(location, **lease) if kind == "sqlite" else RedisLockStore(location, key_prefix=prefix,
                                                                                    **lease)


def shared_store(where: tuple[str, str, str]) -> SQLiteTrackerStore | RedisTrackerStore:
    kind, location, prefix = where
    return SQLiteTrackerStore(location) if kind == "sqlite" else RedisTrackerStore(location, key_prefix=prefix)


def test_a_shared_lock_serializes_one_sender_across_processes(shared, tmp_path):
    kind, where, prefix = shared
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    workers = [subprocess.Popen([sys.executable, "-c", LOCK_WORKER, kind, where, prefix, name, str(tmp_path)],
                                cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True) for name in ("p1", "p2")]
    deadline = time.monotonic() + 30
    while not all((tmp_path / f"{name}.ready").exists() for name in ("p1", "p2")) and time.monotonic() < deadline:
        time.sleep(0.02)
    (tmp_path / "go").touch()                          # both start at once
    for worker in workers:
        _, stderr = worker.communicate(timeout=60)
        assert worker.returncode == 0, stderr
    log = (tmp_path / "log").read_text().splitlines()
    assert len(log) == 20 and {entry.split()[1] for entry in log} == {"p1", "p2"}
    assert_not_interleaved(log)


def test_a_shared_lock_waits_then_gives_a_clear_error(shared):
    holder, waiter = shared_locks(shared), shared_locks(shared, blocking_timeout=0.3)
    with holder.lock("ann"):
        with waiter.lock("bob"):               # other senders are not held up
            pass
        started = time.monotonic()
        with pytest.raises(LockTimeout, match="still being handled after 0.3 s"):
            with waiter.lock("ann"):
                pytest.fail("two messages from one sender were handled at once")
        assert time.monotonic() - started >= 0.25    # it waited
    with waiter.lock("ann"):                   # released, so free again
        pass


def test_a_shared_lock_is_renewed_while_its_message_is_handled(shared, caplog):
    slow, other = shared_locks(shared, lock_lifetime=0.3), shared_locks(shared, blocking_timeout=0.05)
    with caplog.at_level(logging.WARNING, logger="bot.stores"):
        with slow.lock("ann"):
            for _ in range(4):                   # 1.2 s: four lifetimes, renewed every 0.1 s
                time.sleep(0.3)
                with pytest.raises(LockTimeout):
                    with other.lock("ann"):
                        pytest.fail("the lease of a message still being handled ran out")
        with other.lock("ann"):
            pass
    assert "expired" not in caplog.text


def test_the_lease_defaults_are_short_and_waiting_is_longer(tmp_path, redis_url):
    for locks in (SQLiteLockStore(tmp_path / "c.db"), RedisLockStore(redis_url)):
        assert (locks.lock_lifetime, locks.blocking_timeout) == (10.0, 30.0)


def test_a_save_after_the_lease_ran_out_and_another_took_the_lock_is_refused(shared, monkeypatch, caplog):
    store, stalled, other = shared_store(shared), shared_locks(shared, lock_lifetime=0.3), shared_locks(shared)
    monkeypatch.setattr(stalled, "_renew", lambda sender, token: True)   # a stalled process renews nothing
    converse(store, "ann", UserUttered("hello"))
    late = stalled.lock("ann")
    lease = late.__enter__()
    tracker = store.retrieve("ann")
    tracker.add(UserUttered("late"))
    time.sleep(0.5)                                       # its lease ran out
    on_time = other.lock("ann")
    theirs = on_time.__enter__()                          # another process took the lock
    with pytest.raises(ConversationConflict, match="no longer holds the lock of 'ann'"):
        store.save(tracker, lease)                        # the count still matches: only the fence refuses it
    with caplog.at_level(logging.WARNING, logger="bot.stores"):
        late.__exit__(None, None, None)                   # its release leaves the other's lock alone
    assert "expired before its message was handled" in caplog.text
    with pytest.raises(LockTimeout):
        with shared_locks(shared, blocking_timeout=0.1).lock("ann"):
            pass
    fresh = store.retrieve("ann")
    fresh.add(UserUttered("on time"))
    store.save(fresh, theirs)
    on_time.__exit__(None, None, None)
    assert [event.text for event in store.retrieve("ann").events] == ["hello", "on time"]


def test_a_save_with_an_expired_lease_is_refused_even_if_nobody_took_the_lock(shared, monkeypatch):
    store, stalled = shared_store(shared), shared_locks(shared, lock_lifetime=0.2)
    monkeypatch.setattr(stalled, "_renew", lambda sender, token: True)
    with stalled.lock("ann") as lease:
        store.save(Tracker("ann", [UserUttered("in time")]), lease)
        time.sleep(0.4)
        with pytest.raises(ConversationConflict, match="no longer holds the lock"):
            store.save(converse_tracker(store, "ann", UserUttered("too late")), lease)
    assert [event.text for event in store.retrieve("ann").events] == ["in time"]


def converse_tracker(store: TrackerStore, sender_id: str, *events: Event) -> Tracker:
    tracker = store.retrieve(sender_id) or Tracker(sender_id)
    tracker.extend(events)
    return tracker


def test_a_lease_from_another_place_does_not_fence(tmp_path, redis_url):
    store = SQLiteTrackerStore(tmp_path / "conversations.db")
    with SQLiteLockStore(tmp_path / "other.db").lock("ann") as other_file, \
            RedisLockStore(redis_url, key_prefix=unique("locks")).lock("ann") as in_redis:
        store.save(Tracker("ann", [UserUttered("one")]), other_file)
        store.save(converse_tracker(store, "ann", UserUttered("two")), in_redis)
    redis_store = RedisTrackerStore(redis_url, key_prefix=unique("test"))
    with SQLiteLockStore(tmp_path / "conversations.db").lock("ann") as in_sqlite:
        redis_store.save(Tracker("ann", [UserUttered("three")]), in_sqlite)
    assert [event.text for event in store.retrieve("ann").events] == ["one", "two"]
    assert [event.text for event in redis_store.retrieve("ann").events] == ["three"]


# --- endpoints.yml ---------------------------------------------------------------------

def endpoints(tmp_path: Path, text: str) -> dict:
    path = tmp_path / "endpoints.yml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return read_endpoints(path)


def test_defaults_are_memory_or_the_projects_sqlite_file(tmp_path):
    assert read_endpoints(tmp_path / "endpoints.yml") == {}
    assert isinstance(tracker_store_from_config(None, tmp_path), InMemoryTrackerStore)
    store = tracker_store_from_config(None, tmp_path, default="sqlite")
    assert isinstance(store, SQLiteTrackerStore)
    assert store.path == tmp_path / ".coursebot" / "conversations.db" and store.path.is_file()
    assert isinstance(lock_store_from_config(None), InProcessLockStore)
    locks = lock_store_from_config(None, store)        # without a lock_store: the lock in the same file
    assert isinstance(locks, SQLiteLockStore) and locks.path == store.path
    assert isinstance(lock_store_from_config(None, InMemoryTrackerStore()), InProcessLockStore)


def test_a_redis_tracker_store_gets_a_redis_lock_on_its_connection(tmp_path, redis_url):
    store, locks = stores_from_endpoints({"tracker_store": {"type": "redis", "url": redis_url, "key_prefix": "k"}},
                                         tmp_path)
    assert isinstance(locks, RedisLockStore) and locks.redis is store.redis and locks.key_prefix == "k"
    with locks.lock("ann") as lease:                   # and it fences the saves
        assert lease.backend == ("redis", "127.0.0.1", int(redis_url.rsplit(":", 1)[1].split("/")[0]), 0)
        store.save(Tracker("ann", [UserUttered("hi")]), lease)
        store.redis.delete(locks.key("ann"))            # as if the lease had run out
        with pytest.raises(ConversationConflict):
            store.save(converse_tracker(store, "ann", UserUttered("again")), lease)


def test_sqlite_lock_from_endpoints(tmp_path):
    config = endpoints(tmp_path, """
        tracker_store:
          type: sqlite
          db: chats.db
        lock_store:
          type: sqlite
          lock_lifetime: 4
          blocking_timeout: 7
    """)
    store, locks = stores_from_endpoints(config, tmp_path)
    assert isinstance(locks, SQLiteLockStore) and locks.path == store.path == tmp_path / "chats.db"
    assert (locks.lock_lifetime, locks.blocking_timeout) == (4, 7)
    elsewhere = lock_store_from_config({"type": "sqlite", "db": "locks/l.db"}, store, tmp_path)
    assert elsewhere.path == tmp_path / "locks" / "l.db"


@pytest.mark.parametrize(("tracker", "lock", "expected"), [
    ("sqlite", None, None),
    ("sqlite", {"type": "sqlite"}, None),
    ("sqlite", {"type": "in_memory"}, r"the SQLite file .*chats.db.* Put lock_store: \{type: sqlite\}"),
    ("redis", {"type": "in_memory"}, r"in Redis.* Put lock_store: \{type: redis\} with the tracker store's url"),
    ("dynamo", None, r"the DynamoDB table 'chats'.* Put lock_store: \{type: redis, url: ...\} in endpoints.yml"),
    ("in_memory", None, None),
])
def test_start_up_warns_when_processes_could_share_conversations_but_not_locks(tmp_path, redis_url, caplog,
                                                                                tracker, lock, expected):
    stores = {"sqlite": {"type": "sqlite", "db": "chats.db"}, "redis": {"type": "redis", "url": redis_url},
              "dynamo": {"type": "dynamo", "table_name": "chats", "region": REGION}, "in_memory": {"type": "in_memory"}}
    with caplog.at_level(logging.WARNING, logger="bot.stores"):
        store, locks = stores_from_endpoints({"tracker_store": stores[tracker], "lock_store": lock}, tmp_path)
    warning = check_shared(store, locks)
    if expected is None:
        assert warning is None and caplog.text == ""
    else:
        assert re.search(expected, warning) and "two of them may handle one student's messages at once" in warning
        assert warning in caplog.text


@pytest.mark.parametrize(("text", "expected"), [
    ("type: SQL\n  dialect: sqlite\n  db: chats.db", "chats.db"),
    ("type: sqlite\n  db: data/chats.db", "data/chats.db"),
    ("type: sqlite", ".coursebot/conversations.db"),
])
def test_sqlite_from_endpoints(tmp_path, text, expected):
    config = endpoints(tmp_path, f"tracker_store:\n  {text}\n")
    store = tracker_store_from_config(config["tracker_store"], tmp_path)
    assert isinstance(store, SQLiteTrackerStore) and store.path == tmp_path / expected


def test_memory_from_endpoints(tmp_path):
    config = endpoints(tmp_path, "tracker_store:\n  type: in_memory\nlock_store:\n  type: in_memory\n")
    assert isinstance(tracker_store_from_config(config["tracker_store"], tmp_path, "sqlite"), InMemoryTrackerStore)
    assert isinstance(lock_store_from_config(config["lock_store"]), InProcessLockStore)


def test_redis_from_endpoints_with_environment_variables(tmp_path, redis_url, monkeypatch):
    port = redis_url.rsplit(":", 1)[1].split("/")[0]
    monkeypatch.setenv("TEST_REDIS_HOST", "127.0.0.1")
    monkeypatch.setenv("TEST_REDIS_PORT", port)
    prefix = unique("cfg")
    config = endpoints(tmp_path, f"""
        tracker_store:
          type: redis
          url: ${{TEST_REDIS_HOST}}
          port: ${{TEST_REDIS_PORT}}
          db: 0
          use_ssl: false
          key_prefix: {prefix}
          record_exp: 30
        lock_store:
          type: redis
          url: redis://${{TEST_REDIS_HOST}}:${{TEST_REDIS_PORT}}/0
          key_prefix: {prefix}
          lock_lifetime: 5
    """)
    assert config["tracker_store"]["port"] == port
    store = tracker_store_from_config(config["tracker_store"], tmp_path)
    assert isinstance(store, RedisTrackerStore) and store.record_exp == 30 and store.key_prefix == prefix
    converse(store, "ann", UserUttered("hello"))
    assert store.retrieve("ann").events[0].text == "hello"
    locks = lock_store_from_config(config["lock_store"])
    assert isinstance(locks, RedisLockStore) and locks.lock_lifetime == 5 and locks.blocking_timeout == 30
    with locks.lock("ann"):
        assert locks.redis.exists(locks.key("ann"))


def test_dynamo_from_endpoints(tmp_path, aws):
    config = endpoints(tmp_path, f"""
        tracker_store:
          type: dynamo
          table_name: course-chats
          region: {REGION}
    """)
    store = tracker_store_from_config(config["tracker_store"], tmp_path)
    assert isinstance(store, DynamoTrackerStore) and (store.table_name, store.region) == ("course-chats", REGION)
    converse(store, "ann", UserUttered("hello"))
    assert store.retrieve("ann").events[0].text == "hello"


@pytest.mark.parametrize(("text", "expected"), [
    ("tracker_store:\n  type: mongod\n", r"line 2: tracker_store.type: the unknown type 'mongod'; "
                                         r"accepted types: in_memory, sqlite, sql, redis, dynamo"),
    ("tracker_store:\n  url: localhost\n", r"tracker_store.type: no type; accepted types"),
    ("tracker_store:\n  type: SQL\n  dialect: postgresql\n", r"line 3: tracker_store.dialect: only the sqlite"),
    ("tracker_store:\n  type: redis\n  hots: x\n", r"tracker_store.hots: unknown option for type redis; its options: "
                                                   r"url, host, port, db, password, use_ssl, key_prefix, record_exp"),
    ("tracker_store:\n  type: redis\n  port: sixty\n", r"tracker_store.port: must be a whole number"),
    ("tracker_store:\n  type: redis\n  record_exp: -1\n", r"tracker_store.record_exp: must be a number of seconds"),
    ("tracker_store:\n  type: redis\n  use_ssl: maybe\n", r"tracker_store.use_ssl: must be true or false"),
    ("tracker_store: redis\n", r"tracker_store: must be a mapping with a type"),
])
def test_tracker_store_mistakes_are_clear(tmp_path, text, expected):
    config = endpoints(tmp_path, text)
    with pytest.raises(ConfigError, match=f"^endpoints.yml.*{expected}"):
        tracker_store_from_config(config["tracker_store"], tmp_path)


@pytest.mark.parametrize(("text", "expected"), [
    ("lock_store:\n  type: concurrent\n", r"lock_store.type: the unknown type 'concurrent'; accepted types: "
                                          r"in_memory, sqlite, redis"),
    ("lock_store:\n  type: redis\n  record_exp: 5\n", r"lock_store.record_exp: unknown option for type redis"),
    ("lock_store:\n  type: redis\n  lock_lifetime: 0\n", r"lock_store.lock_lifetime: must be a number of seconds"),
])
def test_lock_store_mistakes_are_clear(tmp_path, text, expected):
    config = endpoints(tmp_path, text)
    with pytest.raises(ConfigError, match=f"^endpoints.yml.*{expected}"):
        lock_store_from_config(config["lock_store"])


def test_endpoints_file_mistakes_name_the_file(tmp_path, monkeypatch):
    monkeypatch.delenv("COURSEBOT_UNSET_VARIABLE", raising=False)
    with pytest.raises(ConfigError, match=r"endpoints.yml.*COURSEBOT_UNSET_VARIABLE.*not set"):
        endpoints(tmp_path, "tracker_store:\n  type: redis\n  password: ${COURSEBOT_UNSET_VARIABLE}\n")
    with pytest.raises(ConfigError, match=r"endpoints.yml:3: error: invalid YAML"):
        endpoints(tmp_path, "tracker_store:\n  type: [redis\n")
    with pytest.raises(ConfigError, match=r"endpoints.yml: the file must be a mapping"):
        endpoints(tmp_path, "- tracker_store\n")
    assert endpoints(tmp_path, "# nothing configured\n") == {}

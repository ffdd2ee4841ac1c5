"""Choosing the tracker store and lock store from Rasa's `endpoints.yml`.

Rasa users already describe their stores there (`tracker_store:`, `lock_store:`), so we
read the same file, the same types and spellings, and Rasa's `${ENV_VAR}` substitution.
Every mistake becomes a ConfigError that names endpoints.yml, the key and what is
accepted, never a traceback. Without a `lock_store:`, the lock lives where the
conversations do (the SQLite file, the Redis server), so that several server processes
share it; `check_shared` says when a configuration still cannot give a shared lock.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.errors import ConfigError, ProjectError
from bot.stores.base import LockStore, TrackerStore
from bot.stores.memory import InMemoryTrackerStore, InProcessLockStore
from bot.yamlfile import line_of, load_yaml

log = logging.getLogger(__name__)

ENDPOINTS = "endpoints.yml"
DEFAULT_SQLITE_PATH = Path(".coursebot") / "conversations.db"

_ENV_VAR = re.compile(r"\$\{([^}]*)\}")
_REDIS = ("url", "host", "port", "db", "password", "use_ssl", "key_prefix")
TRACKER_OPTIONS: dict[str, tuple[str, ...]] = {
    "in_memory": (),
    "sqlite": ("db",),
    "sql": ("dialect", "db"),
    "redis": (*_REDIS, "record_exp"),
    "dynamo": ("table_name", "region", "endpoint_url"),
}
_LEASE = ("lock_lifetime", "blocking_timeout")
LOCK_OPTIONS: dict[str, tuple[str, ...]] = {
    "in_memory": (),
    "sqlite": ("db", *_LEASE),
    "redis": (*_REDIS, *_LEASE),
}


def read_endpoints(path: Path) -> dict[str, Any]:
    """The endpoints file as a mapping ({} when there is none), `${VAR}` replaced by the
    environment variable's value.

    Raises:
        ConfigError: invalid YAML, not a mapping, or an environment variable not set.
    """
    if not path.exists():
        return {}
    try:
        data = load_yaml(path)
    except ProjectError as error:
        raise ConfigError(str(error)) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the file must be a mapping of sections such as tracker_store: and lock_store:")
    return _substitute(data, path)


def _substitute(node: Any, path: Path) -> Any:
    """Replaces `${VAR}` in every string value, in place, so line numbers stay known."""
    if isinstance(node, dict):
        for key, value in node.items():
            node[key] = _substitute(value, path)
    elif isinstance(node, list):
        node[:] = [_substitute(value, path) for value in node]
    elif isinstance(node, str):
        missing = [name for name in _ENV_VAR.findall(node) if name not in os.environ]
        if missing:
            raise ConfigError(f"{path}: the environment variable(s) {', '.join(missing)} used in {node!r} "
                              "are not set; set them or write the value into the file")
        return _ENV_VAR.sub(lambda match: os.environ[match.group(1)], node)
    return node


def tracker_store_from_config(config: dict[str, Any] | None, project_root: Path,
                              default: str = "memory") -> TrackerStore:
    """The tracker store that endpoints.yml's `tracker_store:` mapping describes.

    Args:
        config: the `tracker_store:` mapping; None means `default` ("memory" or "sqlite").
        project_root: where a relative SQLite `db` path starts.
    Raises:
        ConfigError: an unknown type or option, or an invalid value.
    """
    if config is None:
        config = {"type": "in_memory" if default == "memory" else default}
    options = _Options("tracker_store", config, TRACKER_OPTIONS)
    kind = options.kind
    if kind == "in_memory":
        return InMemoryTrackerStore()
    if kind in ("sql", "sqlite"):
        from bot.stores.sqlite import SQLiteTrackerStore

        if kind == "sql" and options.text("dialect", "sqlite").lower() != "sqlite":
            raise options.error("dialect", "only the sqlite dialect is supported; for a shared store use "
                                "type: redis or type: dynamo")
        path = Path(options.text("db", str(DEFAULT_SQLITE_PATH))).expanduser()
        return SQLiteTrackerStore(path if path.is_absolute() else project_root / path)
    if kind == "redis":
        from bot.stores.redis import RedisTrackerStore

        return RedisTrackerStore(**options.redis(), record_exp=options.number("record_exp", None))
    from bot.stores.dynamodb import DEFAULT_TABLE, DynamoTrackerStore

    return DynamoTrackerStore(options.text("table_name", DEFAULT_TABLE), options.text("region", None),
                              options.text("endpoint_url", None))


def stores_from_endpoints(endpoints: dict[str, Any], project_root: Path,
                          default: str = "memory") -> tuple[TrackerStore, LockStore]:
    """The tracker store and the lock store of an endpoints.yml mapping (see
    `tracker_store_from_config` and `lock_store_from_config`); logs `check_shared`'s
    warning when several server processes could not share the lock.

    Raises:
        ConfigError: an unknown type or option, or an invalid value.
    """
    store = tracker_store_from_config(endpoints.get("tracker_store"), project_root, default)
    locks = lock_store_from_config(endpoints.get("lock_store"), store, project_root)
    warning = check_shared(store, locks)
    if warning:
        log.warning("%s", warning)
    return store, locks


def lock_store_from_config(config: dict[str, Any] | None, tracker_store: TrackerStore | None = None,
                           project_root: Path | None = None) -> LockStore:
    """The lock store that endpoints.yml's `lock_store:` mapping describes.

    Args:
        config: the `lock_store:` mapping; None means a lock where `tracker_store` keeps
            the conversations: the SQLite lock in its file, the Redis lock on its
            connection, otherwise (and without a tracker store) a lock in process.
        tracker_store: the conversations' store, for that default and for a SQLite lock
            without a `db` (it then uses the tracker store's file).
        project_root: where a relative SQLite `db` path starts (default: the current folder).
    Raises:
        ConfigError: an unknown type or option, or an invalid value.
    """
    from bot.stores.lease import DEFAULT_LOCK_LIFETIME_S
    from bot.stores.redis import RedisLockStore, RedisTrackerStore
    from bot.stores.sqlite import SQLiteLockStore, SQLiteTrackerStore

    if config is None:
        if isinstance(tracker_store, SQLiteTrackerStore):
            return SQLiteLockStore(tracker_store.path)
        if isinstance(tracker_store, RedisTrackerStore):
            return RedisLockStore(client=tracker_store.redis, key_prefix=tracker_store.key_prefix)
        return InProcessLockStore()
    options = _Options("lock_store", config, LOCK_OPTIONS)
    if options.kind == "in_memory":
        return InProcessLockStore()
    lease = {"lock_lifetime": options.number("lock_lifetime", DEFAULT_LOCK_LIFETIME_S),
             "blocking_timeout": options.number("blocking_timeout", None)}
    if options.kind == "sqlite":
        same_file = tracker_store.path if isinstance(tracker_store, SQLiteTrackerStore) else None
        path = Path(options.text("db", None) or same_file or DEFAULT_SQLITE_PATH).expanduser()
        return SQLiteLockStore(path if path.is_absolute() else (project_root or Path.cwd()) / path, **lease)
    return RedisLockStore(**options.redis(), **lease)


def check_shared(tracker_store: TrackerStore, lock_store: LockStore) -> str | None:
    """A warning for the log at start-up when server processes could share the
    conversations but not the sender locks (None when they share both, or nothing).

    Two processes handling one student's messages at once then refuse one of them
    (ConversationConflict): nothing is lost, but students see errors.
    """
    from bot.stores.dynamodb import DynamoTrackerStore
    from bot.stores.redis import RedisTrackerStore
    from bot.stores.sqlite import SQLiteTrackerStore

    if not isinstance(lock_store, InProcessLockStore):
        return None
    if isinstance(tracker_store, SQLiteTrackerStore):
        where, fix = f"the SQLite file {tracker_store.path}", "lock_store: {type: sqlite} (or no lock_store at all)"
    elif isinstance(tracker_store, RedisTrackerStore):
        where, fix = "Redis", "lock_store: {type: redis} with the tracker store's url (or no lock_store at all)"
    elif isinstance(tracker_store, DynamoTrackerStore):
        where, fix = f"the DynamoDB table {tracker_store.table_name!r}", "lock_store: {type: redis, url: ...}"
    else:
        return None
    return (f"the conversations are in {where}, which several server processes can share, but the sender locks "
            "are only in this process (lock_store type in_memory): if more than one server process uses these "
            "conversations, two of them may handle one student's messages at once and refuse one. Put "
            f"{fix} in {ENDPOINTS} to share the locks.")


class _Options:
    """One endpoints.yml section, checked against the options its type accepts."""

    def __init__(self, section: str, config: Any, accepted: dict[str, tuple[str, ...]]):
        self.section = section
        self.config = config
        if not isinstance(config, dict):
            raise self.error(None, f"must be a mapping with a type ({', '.join(accepted)}), not {config!r}")
        kind = config.get("type")
        self.kind = str(kind).lower()
        if self.kind not in accepted:
            found = "no type" if kind is None else f"the unknown type {kind!r}"
            raise self.error("type", f"{found}; accepted types: {', '.join(accepted)}")
        unknown = [key for key in config if key != "type" and key not in accepted[self.kind]]
        if unknown:
            allowed = ", ".join(accepted[self.kind]) or "none"
            raise self.error(unknown[0], f"unknown option for type {kind}; its options: {allowed}")

    def error(self, key: str | None, message: str) -> ConfigError:
        line = line_of(self.config, key)
        where = f"{ENDPOINTS}, line {line}" if line else ENDPOINTS
        return ConfigError(f"{where}: {self.section}{'.' + key if key else ''}: {message}")

    def _value(self, key: str, default: Any, convert: Callable[[Any], Any], expected: str) -> Any:
        value = self.config.get(key)
        if value is None:
            return default
        try:
            return convert(value)
        except (TypeError, ValueError):
            raise self.error(key, f"must be {expected}, not {value!r}") from None

    def text(self, key: str, default: str | None) -> str | None:
        return self._value(key, default, _text, "a text")

    def integer(self, key: str) -> int | None:
        return self._value(key, None, _non_negative_int, "a whole number of 0 or more")

    def number(self, key: str, default: float | None) -> float | None:
        return self._value(key, default, _positive_number, "a number of seconds above 0")

    def flag(self, key: str) -> bool:
        return self._value(key, False, _flag, "true or false")

    def redis(self) -> dict[str, Any]:
        """The connection options shared by the Redis tracker and lock stores."""
        connection = {"url": self.text("url", None), "port": self.integer("port"), "db": self.integer("db"),
                      "password": self.text("password", None), "use_ssl": self.flag("use_ssl")}
        connection["host"] = self.text("host", "localhost")
        prefix = self.text("key_prefix", None)
        if prefix:
            connection["key_prefix"] = prefix
        return connection


def _text(value: Any) -> str:
    if isinstance(value, (dict, list)):
        raise TypeError(value)
    return str(value)


def _non_negative_int(value: Any) -> int:
    if isinstance(value, bool) or isinstance(value, float) or int(value) < 0:
        raise ValueError(value)
    return int(value)


def _positive_number(value: Any) -> float:
    if isinstance(value, bool) or float(value) <= 0:
        raise ValueError(value)
    return float(value)


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if str(value).lower() in ("true", "false"):
        return str(value).lower() == "true"
    raise ValueError(value)

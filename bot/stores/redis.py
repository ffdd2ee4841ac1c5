"""Conversations and per-sender locks in Redis, for several server processes (or
machines) serving the same students.

Each sender's events are one Redis list, to which a save pushes only the events the list
does not hold yet; the lock is redis-py's own `Lock`, with a lifetime so that a crashed
process cannot block a student forever. redis-py is an optional dependency, imported
only when a Redis store is configured.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from bot.dialogue.events import event_from_dict
from bot.dialogue.tracker import Tracker
from bot.errors import ConfigError, CourseBotError

if TYPE_CHECKING:
    import redis

log = logging.getLogger(__name__)

DEFAULT_KEY_PREFIX = "coursebot"
DEFAULT_LOCK_LIFETIME_S = 60.0


class LockTimeout(CourseBotError):
    """Another message from the same sender held the lock for longer than we may wait."""


def connect(url: str | None = None, *, host: str = "localhost", port: int | None = None, db: int | None = None,
            password: str | None = None, use_ssl: bool = False) -> redis.Redis:
    """A client (it connects on first use). `url` is a `redis://` or `rediss://` URL, or,
    as in Rasa's endpoints.yml, just the host name."""
    try:
        import redis
    except ImportError:
        raise ConfigError("a Redis store is configured in endpoints.yml but the redis package is not "
                          "installed; run: pip install 'coursebot[redis]'") from None
    if url and "://" in url:
        options: dict[str, Any] = {"password": password} if password is not None else {}
        if db is not None:
            options["db"] = db
        try:
            return redis.Redis.from_url(url, **options)
        except ValueError as error:
            raise ConfigError(f"the Redis url {url!r} in endpoints.yml is not valid: {error}") from None
    return redis.Redis(host=url or host, port=port or 6379, db=db or 0, password=password, ssl=use_ssl)


@contextmanager
def _reachable(client: redis.Redis) -> Iterator[None]:
    """Turns a Redis that is down or refuses us into one plain sentence."""
    import redis

    try:
        yield
    except (redis.ConnectionError, redis.TimeoutError, redis.AuthenticationError) as error:
        where = client.connection_pool.connection_kwargs
        raise CourseBotError(f"cannot use Redis at {where.get('host', where.get('path'))}:{where.get('port', '')}: "
                             f"{error}; check that it runs and the settings in endpoints.yml") from None


class RedisTrackerStore:
    """Each sender's events as a Redis list `<key_prefix>:tracker:<sender>`."""

    def __init__(self, url: str | None = None, *, host: str = "localhost", port: int | None = None,
                 db: int | None = None, password: str | None = None, use_ssl: bool = False,
                 key_prefix: str = DEFAULT_KEY_PREFIX, record_exp: float | None = None,
                 client: redis.Redis | None = None):
        self.redis = client or connect(url, host=host, port=port, db=db, password=password, use_ssl=use_ssl)
        self.key_prefix = key_prefix
        self.record_exp = record_exp

    def key(self, sender_id: str) -> str:
        return f"{self.key_prefix}:tracker:{sender_id}"

    def retrieve(self, sender_id: str) -> Tracker | None:
        with _reachable(self.redis):
            raw = self.redis.lrange(self.key(sender_id), 0, -1)
        if not raw:
            return None
        return Tracker(sender_id, [event_from_dict(json.loads(item)) for item in raw])

    def save(self, tracker: Tracker) -> None:
        """Pushes the events the list does not hold yet (the sender's lock keeps another
        process from pushing in between) and renews the expiry."""
        key = self.key(tracker.sender_id)
        with _reachable(self.redis):
            stored = self.redis.llen(key)
            if stored > len(tracker.events):
                raise CourseBotError(
                    f"Redis holds {stored} events for {tracker.sender_id!r}, more than the {len(tracker.events)} "
                    "being saved: another process saved meanwhile; share a Redis lock store (endpoints.yml)")
            new = [json.dumps(event.as_dict()) for event in tracker.events[stored:]]
            if not new:
                return
            with self.redis.pipeline(transaction=True) as pipe:
                pipe.rpush(key, *new)
                if self.record_exp:
                    pipe.pexpire(key, int(self.record_exp * 1000))
                pipe.execute()


class RedisLockStore:
    """One Redis lock per sender, shared by every process using the same Redis.

    `lock_lifetime` bounds how long one message may hold the lock (after that Redis frees
    it, in case the process died); `blocking_timeout` (by default the lifetime) is how long
    a second message waits before LockTimeout is raised.
    """

    def __init__(self, url: str | None = None, *, host: str = "localhost", port: int | None = None,
                 db: int | None = None, password: str | None = None, use_ssl: bool = False,
                 key_prefix: str = DEFAULT_KEY_PREFIX, lock_lifetime: float = DEFAULT_LOCK_LIFETIME_S,
                 blocking_timeout: float | None = None, client: redis.Redis | None = None):
        self.redis = client or connect(url, host=host, port=port, db=db, password=password, use_ssl=use_ssl)
        self.key_prefix = key_prefix
        self.lock_lifetime = lock_lifetime
        self.blocking_timeout = lock_lifetime if blocking_timeout is None else blocking_timeout

    def key(self, sender_id: str) -> str:
        return f"{self.key_prefix}:lock:{sender_id}"

    @contextmanager
    def lock(self, sender_id: str) -> Iterator[None]:
        import redis

        lock = self.redis.lock(self.key(sender_id), timeout=self.lock_lifetime,
                               blocking_timeout=self.blocking_timeout)
        with _reachable(self.redis):
            acquired = lock.acquire()
        if not acquired:
            raise LockTimeout(
                f"another message from {sender_id!r} is still being handled after {self.blocking_timeout:g} s; "
                "please send this one again in a moment")
        try:
            yield
        finally:
            try:
                lock.release()
            except redis.exceptions.LockNotOwnedError:
                log.warning("handling a message from %s took longer than the lock lifetime (%g s), so another "
                            "message may have been handled at the same time; raise lock_lifetime in "
                            "endpoints.yml", sender_id, self.lock_lifetime)
            except (redis.ConnectionError, redis.TimeoutError):
                log.warning("could not release the Redis lock of %s; it expires after %g s",
                            sender_id, self.lock_lifetime)

"""Conversations and per-sender locks in Redis, for several server processes (or
machines) serving the same students.

Each sender's events are one Redis list, to which a save pushes only the events the list
does not hold yet, in one Lua script that first checks the list's length (and, when the
lock is in the same Redis, that the sender's lock key still holds this process's token).
A lock is a key set with NX and a short expiry, renewed while its message is handled, so
a crashed process frees its student within one lifetime. redis-py is an optional
dependency, imported only when a Redis store is configured.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from bot.dialogue.events import event_from_dict
from bot.dialogue.tracker import Tracker
from bot.errors import ConfigError, CourseBotError, LockTimeout
from bot.stores.base import Lease, check_stored, lease_lost
from bot.stores.lease import DEFAULT_LOCK_LIFETIME_S, LeasedLockStore

if TYPE_CHECKING:
    import redis

__all__ = ["DEFAULT_LOCK_LIFETIME_S", "LockTimeout", "RedisLockStore", "RedisTrackerStore", "connect"]

log = logging.getLogger(__name__)

DEFAULT_KEY_PREFIX = "coursebot"

# KEYS: the tracker list, the lock key. ARGV: the expected length, the expiry in ms (0: none),
# the lock token ("": not fenced), then the events. Returns {0, length}: appended; {1, length}:
# another length; {2, 0}: the lock is not ours.
_APPEND = """
if ARGV[3] ~= '' and redis.call('GET', KEYS[2]) ~= ARGV[3] then return {2, 0} end
local held = redis.call('LLEN', KEYS[1])
if held ~= tonumber(ARGV[1]) then return {1, held} end
for first = 4, #ARGV, 100 do
  redis.call('RPUSH', KEYS[1], unpack(ARGV, first, math.min(first + 99, #ARGV)))
end
if tonumber(ARGV[2]) > 0 and #ARGV > 3 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return {0, held}
"""
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


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


def backend(client: redis.Redis) -> tuple:
    """Which Redis server and database a client talks to, to tell whether a lock and a
    conversation live in the same one."""
    where = client.connection_pool.connection_kwargs
    return ("redis", where.get("host", where.get("path")), where.get("port"), where.get("db", 0))


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
        self._append = self.redis.register_script(_APPEND)

    def key(self, sender_id: str) -> str:
        return f"{self.key_prefix}:tracker:{sender_id}"

    def retrieve(self, sender_id: str) -> Tracker | None:
        with _reachable(self.redis):
            raw = self.redis.lrange(self.key(sender_id), 0, -1)
        if not raw:
            return None
        return Tracker(sender_id, [event_from_dict(json.loads(item)) for item in raw], stored=len(raw))

    def save(self, tracker: Tracker, lease: Lease | None = None) -> None:
        """Pushes the events after `tracker.stored` if the list still has that length (and,
        for a lease in this Redis, the lock key still holds its token), and renews the expiry."""
        key = self.key(tracker.sender_id)
        fenced = lease is not None and lease.backend == backend(self.redis)
        new = [json.dumps(event.as_dict()) for event in tracker.events[tracker.stored:]]
        expiry_ms = int(self.record_exp * 1000) if self.record_exp else 0
        with _reachable(self.redis):
            status, held = self._append(keys=[key, lease.key if fenced else key],
                                        args=[tracker.stored, expiry_ms, lease.token if fenced else "", *new])
        if status == 2:
            raise lease_lost(tracker.sender_id)
        check_stored(tracker, held)
        tracker.stored = len(tracker.events)


class RedisLockStore(LeasedLockStore):
    """One lock per sender, `<key_prefix>:lock:<sender>`, shared by every process using the
    same Redis; a Redis tracker store on the same server fences its saves with it.

    `lock_lifetime` is the lease (renewed every third of it while a message is handled, so
    a crashed process holds its sender at most that long); `blocking_timeout` is how long
    a second message waits before LockTimeout is raised.
    """

    def __init__(self, url: str | None = None, *, host: str = "localhost", port: int | None = None,
                 db: int | None = None, password: str | None = None, use_ssl: bool = False,
                 key_prefix: str = DEFAULT_KEY_PREFIX, lock_lifetime: float = DEFAULT_LOCK_LIFETIME_S,
                 blocking_timeout: float | None = None, client: redis.Redis | None = None):
        super().__init__(lock_lifetime, blocking_timeout)
        self.redis = client or connect(url, host=host, port=port, db=db, password=password, use_ssl=use_ssl)
        self.key_prefix = key_prefix
        self.backend = backend(self.redis)
        self._renew_script = self.redis.register_script(_RENEW)
        self._release_script = self.redis.register_script(_RELEASE)

    def key(self, sender_id: str) -> str:
        return f"{self.key_prefix}:lock:{sender_id}"

    _key = key

    def _acquire(self, sender_id: str, token: str) -> bool:
        with _reachable(self.redis):
            return bool(self.redis.set(self.key(sender_id), token, nx=True, px=self._lifetime_ms))

    def _renew(self, sender_id: str, token: str) -> bool:
        return bool(self._renew_script(keys=[self.key(sender_id)], args=[token, self._lifetime_ms]))

    def _release(self, sender_id: str, token: str) -> bool:
        import redis

        try:
            return bool(self._release_script(keys=[self.key(sender_id)], args=[token]))
        except (redis.ConnectionError, redis.TimeoutError):
            log.warning("could not release the Redis lock of %s; it expires after %g s", sender_id,
                        self.lock_lifetime)
            return True

    @property
    def _lifetime_ms(self) -> int:
        return max(1, int(self.lock_lifetime * 1000))

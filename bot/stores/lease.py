"""Sender locks shared by several processes, held as short, renewed leases.

A lock is a row (SQLite) or a key (Redis) naming its owner, a random token, and the time
it expires. While a message is handled, a small thread extends the lease every third of
its lifetime; a process killed with `kill -9` stops renewing, so its sender is free again
within one lifetime. The subclasses give the three atomic steps: take a lock that is free
or expired, extend it if still ours, and delete it if still ours.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from bot.errors import LockTimeout
from bot.stores.base import Lease

log = logging.getLogger(__name__)

DEFAULT_LOCK_LIFETIME_S = 10.0      # a crashed process holds its sender this long at most
DEFAULT_BLOCKING_TIMEOUT_S = 30.0   # how long a second message from the sender waits
POLL_S = 0.025                      # pause between attempts (plus up to as much again, at random)


class LeasedLockStore:
    """One lock per sender with an expiring, renewed lease; see the module docstring.

    Args:
        lock_lifetime: seconds a lease lasts without renewal (how long a crashed process
            can hold its sender).
        blocking_timeout: seconds a second message waits for the lock before LockTimeout.
    """

    backend: tuple = ()

    def __init__(self, lock_lifetime: float = DEFAULT_LOCK_LIFETIME_S,
                 blocking_timeout: float | None = None):
        self.lock_lifetime = lock_lifetime
        self.blocking_timeout = DEFAULT_BLOCKING_TIMEOUT_S if blocking_timeout is None else blocking_timeout

    def _acquire(self, sender_id: str, token: str) -> bool:
        raise NotImplementedError

    def _renew(self, sender_id: str, token: str) -> bool:
        raise NotImplementedError

    def _release(self, sender_id: str, token: str) -> bool:
        raise NotImplementedError

    def _key(self, sender_id: str) -> str:
        return ""

    @contextmanager
    def lock(self, sender_id: str) -> Iterator[Lease]:
        """Waits up to `blocking_timeout` for the sender's lock, then holds it, renewed.

        Raises:
            LockTimeout: another message from the sender kept the lock all that time.
        """
        token = uuid.uuid4().hex
        deadline = time.monotonic() + self.blocking_timeout
        while not self._acquire(sender_id, token):
            if time.monotonic() >= deadline:
                raise LockTimeout(
                    f"another message from {sender_id!r} is still being handled after {self.blocking_timeout:g} s; "
                    "please send this one again in a moment")
            time.sleep(POLL_S * (1 + random.random()))
        try:
            with self._renewed(sender_id, token):
                yield Lease(sender_id, token, self.backend, self._key(sender_id))
        finally:
            if not self._release(sender_id, token):
                log.warning("the lock of %s expired before its message was handled (no renewal for %g s: the "
                            "process was stalled or the lock store unreachable); its save was refused if another "
                            "process took the lock", sender_id, self.lock_lifetime)

    @contextmanager
    def _renewed(self, sender_id: str, token: str) -> Iterator[None]:
        """Extends the lease every third of its lifetime while the block runs."""
        stop = threading.Event()

        def keep() -> None:
            while not stop.wait(self.lock_lifetime / 3):
                try:
                    if not self._renew(sender_id, token):
                        return           # lost: the release and the fenced save say so
                except Exception as error:   # a store that is briefly down: try again next time
                    log.warning("could not renew the lock of %s: %s", sender_id, error)

        thread = threading.Thread(target=keep, name=f"lease-{sender_id}", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()

"""Tracker stores (where conversations are kept) and lock stores (one message per
sender at a time). redis-py and boto3 are imported only when such a store is used."""

from bot.errors import ConversationConflict, LockTimeout
from bot.stores.base import Lease, LockStore, TrackerStore
from bot.stores.config import (
    check_shared,
    lock_store_from_config,
    read_endpoints,
    stores_from_endpoints,
    tracker_store_from_config,
)
from bot.stores.dynamodb import DynamoTrackerStore
from bot.stores.memory import InMemoryTrackerStore, InProcessLockStore
from bot.stores.redis import RedisLockStore, RedisTrackerStore
from bot.stores.sqlite import SQLiteLockStore, SQLiteTrackerStore

__all__ = ["ConversationConflict", "DynamoTrackerStore", "InMemoryTrackerStore", "InProcessLockStore", "Lease",
           "LockStore", "LockTimeout", "RedisLockStore", "RedisTrackerStore", "SQLiteLockStore",
           "SQLiteTrackerStore", "TrackerStore", "check_shared", "lock_store_from_config", "read_endpoints",
           "stores_from_endpoints", "tracker_store_from_config"]

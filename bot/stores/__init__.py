"""Tracker stores (where conversations are kept) and lock stores (one message per
sender at a time). redis-py and boto3 are imported only when such a store is used."""

from bot.stores.base import LockStore, TrackerStore
from bot.stores.config import lock_store_from_config, read_endpoints, tracker_store_from_config
from bot.stores.dynamodb import DynamoTrackerStore
from bot.stores.memory import InMemoryTrackerStore, InProcessLockStore
from bot.stores.redis import LockTimeout, RedisLockStore, RedisTrackerStore
from bot.stores.sqlite import SQLiteTrackerStore

__all__ = ["DynamoTrackerStore", "InMemoryTrackerStore", "InProcessLockStore", "LockStore", "LockTimeout",
           "RedisLockStore", "RedisTrackerStore", "SQLiteTrackerStore", "TrackerStore", "lock_store_from_config",
           "read_endpoints", "tracker_store_from_config"]

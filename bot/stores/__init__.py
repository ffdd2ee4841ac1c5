"""Tracker stores: where conversations are kept between messages."""

from bot.stores.base import TrackerStore
from bot.stores.memory import InMemoryTrackerStore

__all__ = ["InMemoryTrackerStore", "TrackerStore"]

"""Conversations in Amazon DynamoDB, for a bot served from AWS.

A DynamoDB item holds at most 400 KB and a long conversation holds more, so each event
is its own item (hash key `sender_id`, range key `position`), and an event too large for
one item is split over consecutive items (`part` of `parts`). A save appends items, only
if the table holds as many events as the tracker was read at, in transactions whose puts
refuse to overwrite an existing position, so an event is never lost, written twice or
interleaved with another process's; reading is a paginated, consistent Query in position order.
The table (on-demand billing) is created on first use when it does not exist.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bot.dialogue.events import Event, event_from_dict
from bot.dialogue.tracker import Tracker
from bot.errors import ConfigError, ConversationConflict, CourseBotError
from bot.stores.base import Lease, check_stored

DEFAULT_TABLE = "coursebot-conversations"
PART_BYTES = 300_000                 # data per item, well below the 400 KB item limit
TRANSACTION_ITEMS = 100              # DynamoDB's limits for one TransactWriteItems call
TRANSACTION_BYTES = 3_500_000        # (100 items, 4 MB), with room for keys and names

_KEY_SCHEMA = [{"AttributeName": "sender_id", "KeyType": "HASH"},
               {"AttributeName": "position", "KeyType": "RANGE"}]
_ATTRIBUTES = [{"AttributeName": "sender_id", "AttributeType": "S"},
               {"AttributeName": "position", "AttributeType": "N"}]


class DynamoTrackerStore:
    """Every sender's events as items of one DynamoDB table."""

    def __init__(self, table_name: str = DEFAULT_TABLE, region: str | None = None,
                 endpoint_url: str | None = None):
        self.table_name = table_name
        self.region = region
        self.endpoint_url = endpoint_url
        self._guard = threading.Lock()
        self._client: Any = None

    def retrieve(self, sender_id: str) -> Tracker | None:
        client = self._ready_client()
        events: list[Event] = []
        parts: list[bytes] = []
        with self._aws_errors():
            pages = client.get_paginator("query").paginate(
                TableName=self.table_name, ConsistentRead=True, KeyConditionExpression="sender_id = :s",
                ExpressionAttributeValues={":s": {"S": sender_id}})
            for page in pages:
                for item in page["Items"]:
                    if int(item["part"]["N"]) == 0:
                        parts = []   # drops the remains of a save that died between transactions
                    parts.append(item["data"]["B"])
                    if len(parts) == int(item["parts"]["N"]):
                        events.append(event_from_dict(json.loads(b"".join(parts))))
                        parts = []
        return Tracker(sender_id, events, stored=len(events)) if events else None

    def save(self, tracker: Tracker, lease: Lease | None = None) -> None:
        """Appends the events after `tracker.stored` if the table still holds that many.

        The items go to the next free positions with puts that refuse an existing
        position, so a process that saved in between (it took those positions) makes this
        save fail instead of interleaving. A save of more than one transaction (over 100
        items) is atomic per transaction only; the sender's lock keeps others out meanwhile.
        """
        client = self._ready_client()
        with self._aws_errors():
            position, held = self._end_of(client, tracker.sender_id)
            check_stored(tracker, held)
            items = []
            for index, event in enumerate(tracker.events[held:], start=held):
                data = json.dumps(event.as_dict()).encode("utf-8")
                chunks = [data[start:start + PART_BYTES] for start in range(0, len(data), PART_BYTES)]
                for part, chunk in enumerate(chunks):
                    items.append({"sender_id": {"S": tracker.sender_id}, "position": {"N": str(position)},
                                  "event": {"N": str(index)}, "part": {"N": str(part)},
                                  "parts": {"N": str(len(chunks))}, "data": {"B": chunk}})
                    position += 1
            for batch in _transactions(items):
                try:
                    client.transact_write_items(TransactItems=[
                        {"Put": {"TableName": self.table_name, "Item": item,
                                 "ConditionExpression": "attribute_not_exists(#p)",
                                 "ExpressionAttributeNames": {"#p": "position"}}} for item in batch])
                except client.exceptions.TransactionCanceledException as error:
                    reasons = {reason.get("Code") for reason in error.response.get("CancellationReasons", [])}
                    if "ConditionalCheckFailed" not in reasons:
                        raise
                    raise ConversationConflict(
                        f"another process saved the conversation of {tracker.sender_id!r} at the same time, so this "
                        "message was not stored; share a Redis lock store between server processes (lock_store in "
                        "endpoints.yml)") from None
        tracker.stored = len(tracker.events)

    def _end_of(self, client: Any, sender_id: str) -> tuple[int, int]:
        """The next free position and the number of complete events stored."""
        last = client.query(TableName=self.table_name, ConsistentRead=True, ScanIndexForward=False, Limit=1,
                            KeyConditionExpression="sender_id = :s",
                            ExpressionAttributeValues={":s": {"S": sender_id}})["Items"]
        if not last:
            return 0, 0
        item = last[0]
        complete = int(item["part"]["N"]) + 1 == int(item["parts"]["N"])
        return int(item["position"]["N"]) + 1, int(item["event"]["N"]) + complete

    def _ready_client(self) -> Any:
        """The boto3 client, once the table exists (created and waited for if missing)."""
        with self._guard:
            if self._client is None:
                import boto3

                with self._aws_errors():
                    client = boto3.client("dynamodb", region_name=self.region, endpoint_url=self.endpoint_url)
                    self._ensure_table(client)
                self._client = client
            return self._client

    def _ensure_table(self, client: Any) -> None:
        try:
            table = client.describe_table(TableName=self.table_name)["Table"]
        except client.exceptions.ResourceNotFoundException:
            try:
                client.create_table(TableName=self.table_name, KeySchema=_KEY_SCHEMA,
                                    AttributeDefinitions=_ATTRIBUTES, BillingMode="PAY_PER_REQUEST")
            except client.exceptions.ResourceInUseException:
                pass         # another process created it a moment ago
        else:
            if sorted(table["KeySchema"], key=str) != sorted(_KEY_SCHEMA, key=str):
                raise ConfigError(
                    f"the DynamoDB table {self.table_name!r} exists with another key schema "
                    f"({table['KeySchema']}); CourseBot needs sender_id (hash) and position (range). "
                    "Choose another tracker_store table_name in endpoints.yml")
        client.get_waiter("table_exists").wait(TableName=self.table_name, WaiterConfig={"Delay": 2, "MaxAttempts": 90})

    @contextmanager
    def _aws_errors(self) -> Iterator[None]:
        """Turns missing settings and AWS refusals into one plain sentence."""
        from botocore.exceptions import BotoCoreError, ClientError, NoRegionError

        try:
            yield
        except NoRegionError:
            raise ConfigError("the DynamoDB tracker store needs a region: set tracker_store `region` in "
                              "endpoints.yml or AWS_DEFAULT_REGION") from None
        except ClientError as error:
            detail = error.response.get("Error", {})
            raise CourseBotError(f"DynamoDB refused to use the table {self.table_name!r}: "
                                 f"{detail.get('Code')}: {detail.get('Message')}") from None
        except BotoCoreError as error:
            raise CourseBotError(f"cannot use the DynamoDB table {self.table_name!r}: {error}") from None


def _transactions(items: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    """Consecutive groups of items within one transaction's limits, in order."""
    batch: list[dict[str, Any]] = []
    size = 0
    for item in items:
        data = len(item["data"]["B"])
        if batch and (len(batch) == TRANSACTION_ITEMS or size + data > TRANSACTION_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(item)
        size += data
    if batch:
        yield batch

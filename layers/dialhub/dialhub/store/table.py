"""The table's client and the request shapes shared by every group of items (updates, batch reads, pages)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from dialhub.parallel import PARALLEL_WRITES
from dialhub.store.codec import from_item, to_item

T = TypeVar("T")

BATCH_GET_LIMIT = 100
BATCH_WRITE_LIMIT = 25
# A listing with filters reads on until its page is full, but no further than this many query pages (about a
# megabyte each) per request, so a filter that matches little answers in time with a cursor to go on from.
FILTERED_QUERY_PAGES = 8
# A write is committed or given up within ATTEMPTS x (CONNECT + READ) seconds plus the standard retry mode's
# backoff (at most 1 + 2 s before the 2nd and 3rd attempts): the outcome feed relies on that bound.
WRITE_ATTEMPTS = 3
CONNECT_TIMEOUT_SECONDS = 3
READ_TIMEOUT_SECONDS = 8
LONGEST_WRITE_SECONDS = WRITE_ATTEMPTS * (CONNECT_TIMEOUT_SECONDS + READ_TIMEOUT_SECONDS) + 1 + 2


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a listing: its items in order, and where the next page starts (None: there is none)."""

    items: list[T]
    after: str | None


def chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def is_condition_failure(exc: ClientError) -> bool:
    return str(exc.response.get("Error", {}).get("Code")) == "ConditionalCheckFailedException"


class Table:
    """The table and the request shapes every group of items shares; the groups are mixins of DynamoStore."""

    def __init__(
        self,
        table_name: str,
        client: Any = None,
        retention_days: int = 400,
        raw_retention_days: int = 30,
        clock: Callable[[], dt.datetime] = utc_now,
    ) -> None:
        self.table_name = table_name
        self._client = client
        self.retention = dt.timedelta(days=retention_days)
        self.raw_retention = dt.timedelta(days=raw_retention_days)
        self.clock = clock  # stamps the outcome feed at the moment of writing, and bounds what it serves

    @property
    def client(self) -> Any:
        if self._client is None:
            # Requests are built here, one way each, and DynamoDB validates them anyway: botocore's own
            # parameter check would cost a stored callback more CPU than dialhub's code does (`make bench`).
            # One connection per write in flight (parallel.py), not botocore's 10 with the rest thrown away.
            # DynamoDB answers in milliseconds: bounded attempts (LONGEST_WRITE_SECONDS) instead of botocore's
            # ten attempts of up to a minute each, so a write that has not landed soon never will.
            self._client = boto3.client(
                "dynamodb",
                config=Config(
                    parameter_validation=False,
                    max_pool_connections=PARALLEL_WRITES,
                    connect_timeout=CONNECT_TIMEOUT_SECONDS,
                    read_timeout=READ_TIMEOUT_SECONDS,
                    retries={"mode": "standard", "max_attempts": WRITE_ATTEMPTS},
                ),
            )
        return self._client

    def _expires_at(self, now: dt.datetime) -> int:
        return int((now + self.retention).timestamp())

    def _update(
        self,
        key: dict[str, Any],
        sets: dict[str, Any],
        *,
        removes: Iterable[str] = (),
        condition: str | None = None,
        values: dict[str, Any] | None = None,
        names: dict[str, str] | None = None,
    ) -> bool:
        """SET attributes (a None value removes it) under an optional condition; False when it fails."""
        names = dict(names or {})
        values = dict(values or {})
        assignments, removals = [], []
        for index, (attr, value) in enumerate(sets.items()):
            names[f"#a{index}"] = attr
            if value is None:
                removals.append(f"#a{index}")
            else:
                values[f":a{index}"] = value
                assignments.append(f"#a{index} = :a{index}")
        for index, attr in enumerate(removes):
            names[f"#r{index}"] = attr
            removals.append(f"#r{index}")
        expression = " ".join(
            part
            for part in (
                "SET " + ", ".join(assignments) if assignments else "",
                "REMOVE " + ", ".join(removals) if removals else "",
            )
            if part
        )
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "Key": key,
            "UpdateExpression": expression,
            "ExpressionAttributeNames": names,
        }
        if values:
            kwargs["ExpressionAttributeValues"] = to_item(values)
        if condition:
            kwargs["ConditionExpression"] = condition
        try:
            self.client.update_item(**kwargs)
        except ClientError as exc:
            if is_condition_failure(exc):
                return False
            raise
        return True

    def _batch_get(
        self, keys: list[dict[str, Any]], projection: str | None = None, names: dict[str, str] | None = None
    ) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for chunk in chunks(keys, BATCH_GET_LIMIT):
            request: dict[str, Any] = {"Keys": chunk, "ConsistentRead": True}
            if projection:
                request["ProjectionExpression"] = projection
                request["ExpressionAttributeNames"] = names or {}
            pending = {self.table_name: request}
            while pending:
                response = self.client.batch_get_item(RequestItems=pending)
                found.extend(from_item(item) for item in response["Responses"].get(self.table_name, []))
                pending = response.get("UnprocessedKeys") or {}
        return found

    def _query(self, **kwargs: Any) -> Iterator[list[dict[str, Any]]]:
        kwargs["TableName"] = self.table_name
        while True:
            response = self.client.query(**kwargs)
            yield [from_item(item) for item in response.get("Items", [])]
            if "LastEvaluatedKey" not in response:
                return
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def _page(
        self, query: dict[str, Any], limit: int, start: dict[str, Any] | None, filtered: bool
    ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        """Up to `limit` items from `start` on, and the key to go on from (None: nothing follows).

        Unfiltered, one request asks for one item more than the page, to know whether another page follows.
        Filtered, DynamoDB applies the filter after reading, so requests go on (each reading up to a
        megabyte) until the page is full, the items end, or FILTERED_QUERY_PAGES were read; the key is then
        the last item returned, or the last one DynamoDB read (a page may be short, even empty, yet go on).
        """
        request = {**query, "TableName": self.table_name}
        found: list[dict[str, Any]] = []
        for _ in range(FILTERED_QUERY_PAGES):
            if start is not None:
                request["ExclusiveStartKey"] = start
            if not filtered:
                request["Limit"] = limit + 1 - len(found)
            response = self.client.query(**request)
            start = response.get("LastEvaluatedKey")
            for item in response.get("Items", []):
                if len(found) == limit:  # one more than the page: the next page starts after the last kept
                    return found, self._key_of(found[-1], request)
                found.append(item)
            if start is None:
                return found, None
            if len(found) == limit:
                return found, self._key_of(found[-1], request)
        return found, start

    @staticmethod
    def _key_of(item: dict[str, Any], query: dict[str, Any]) -> dict[str, Any]:
        """An item's key in the table (and in the index the query reads), to start the next query after it."""
        names = ["pk", "sk"]
        if "IndexName" in query:
            names += [f"{query['IndexName']}pk", f"{query['IndexName']}sk"]
        return {name: item[name] for name in names}

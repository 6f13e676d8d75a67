"""The only code that talks to EventBridge: dialhub's events on its bus, delivered at least once.

PutEvents takes up to 10 entries and 256 KB a request and may refuse some entries of a request while taking
the others; only the refused ones are sent again. An entry that can never be taken (too large, malformed) is
handed back to the caller to report, never dropped without a word.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3

from dialhub.settings import MissingSetting

SOURCE = "dialhub"
ENTRIES_PER_REQUEST = 10
BYTES_PER_REQUEST = 256 * 1024  # also the most one entry may be
TIME_BYTES = 14  # what an entry's Time counts for, whatever its text (EventBridge's size rule)
ATTEMPTS = 4
RETRY_DELAY_SECONDS = 0.2  # doubled after each attempt
RETRIED_ERRORS = frozenset({"ThrottlingException", "InternalFailure", "InternalException", "ServiceUnavailable"})


@dataclass(frozen=True)
class Event:
    detail_type: str
    detail: dict[str, Any]  # carries its own "eventId", the same for the same change, for consumers to dedupe
    time: dt.datetime

    @property
    def event_id(self) -> str:
        return str(self.detail["eventId"])


@dataclass
class Delivery:
    sent: list[Event] = field(default_factory=list)
    failed: list[tuple[Event, str]] = field(default_factory=list)  # still refused after every attempt: retry later
    rejected: list[tuple[Event, str]] = field(default_factory=list)  # can never be sent: report it


def entry_size(entry: dict[str, Any]) -> int:
    """An entry's size as EventBridge counts it against its limits."""
    text = (entry["Source"], entry["DetailType"], entry["Detail"], *entry.get("Resources", []))
    return TIME_BYTES + sum(len(part.encode()) for part in text)


class EventBus:
    def __init__(self, name: str | None, client: Any = None, sleep: Callable[[float], None] = time.sleep) -> None:
        self._name = name
        self._client = client
        self._sleep = sleep

    @property
    def name(self) -> str:
        if self._name is None:  # only a function that publishes nothing is made without it
            raise MissingSetting("EVENT_BUS_NAME not set")
        return self._name

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = boto3.client("events")
        return self._client

    def _entry(self, event: Event) -> dict[str, Any]:
        return {
            "Source": SOURCE,
            "DetailType": event.detail_type,
            "Detail": json.dumps(event.detail, separators=(",", ":"), ensure_ascii=False),
            "EventBusName": self.name,
            "Time": event.time,
        }

    def publish(self, events: list[Event]) -> Delivery:
        delivery = Delivery()
        pending: list[tuple[Event, dict[str, Any]]] = []
        for event in events:
            entry = self._entry(event)
            if (size := entry_size(entry)) > BYTES_PER_REQUEST:
                delivery.rejected.append((event, f"{size} bytes, more than EventBridge takes ({BYTES_PER_REQUEST})"))
            else:
                pending.append((event, entry))
        for attempt in range(ATTEMPTS):
            refused: list[tuple[Event, dict[str, Any], str]] = []
            for request in _requests(pending):
                response = self.client.put_events(Entries=[entry for _, entry in request])
                for (event, entry), result in zip(request, response["Entries"], strict=True):
                    if "ErrorCode" not in result:
                        delivery.sent.append(event)
                    elif result["ErrorCode"] in RETRIED_ERRORS:
                        refused.append((event, entry, result["ErrorCode"]))
                    else:
                        delivery.rejected.append((event, f"{result['ErrorCode']}: {result.get('ErrorMessage', '')}"))
            pending = [(event, entry) for event, entry, _ in refused]
            if not pending:
                break
            if attempt + 1 == ATTEMPTS:
                delivery.failed.extend((event, code) for event, _, code in refused)
            else:
                self._sleep(RETRY_DELAY_SECONDS * 2**attempt)
        return delivery


def _requests(entries: list[tuple[Event, dict[str, Any]]]) -> Iterator[list[tuple[Event, dict[str, Any]]]]:
    """Entries in requests of at most ENTRIES_PER_REQUEST entries and BYTES_PER_REQUEST bytes, in order."""
    request: list[tuple[Event, dict[str, Any]]] = []
    size = 0
    for event, entry in entries:
        entry_bytes = entry_size(entry)
        if request and (len(request) == ENTRIES_PER_REQUEST or size + entry_bytes > BYTES_PER_REQUEST):
            yield request
            request, size = [], 0
        request.append((event, entry))
        size += entry_bytes
    if request:
        yield request

"""PutEvents as EventBridge takes it: at most 10 entries and 256 KB a request, the refused entries of a request
sent again (only those), and an entry that can never be taken handed back rather than dropped."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from typing import Any

from dialhub.bus import BYTES_PER_REQUEST, ENTRIES_PER_REQUEST, Event, EventBus, entry_size
from tests.conftest import RecordingEvents

T0 = dt.datetime(2026, 11, 30, tzinfo=dt.UTC)


def _events(count: int, size: int = 10) -> list[Event]:
    return [Event("Call Outcome Recorded", {"eventId": f"{n:032x}", "pad": "x" * size}, T0) for n in range(count)]


def _bus(client: Any, sleeps: list[float] | None = None) -> EventBus:
    return EventBus("dialhub-test", client=client, sleep=(sleeps if sleeps is not None else []).append)


def test_a_thousand_events_go_in_a_hundred_requests_in_order() -> None:
    client = RecordingEvents()
    delivery = _bus(client).publish(_events(1_000))
    assert client.requests == [ENTRIES_PER_REQUEST] * 100
    assert [json.loads(entry["Detail"])["eventId"] for entry in client.taken] == [f"{n:032x}" for n in range(1_000)]
    assert len(delivery.sent) == 1_000 and not delivery.failed and not delivery.rejected
    assert {entry["EventBusName"] for entry in client.taken} == {"dialhub-test"}


def test_requests_stay_under_the_byte_limit() -> None:
    client = RecordingEvents()
    _bus(client).publish(_events(9, size=100_000))  # three fit in 256 KB, a fourth does not
    assert client.requests == [2, 2, 2, 2, 1]
    assert all(entry_size(entry) < BYTES_PER_REQUEST for entry in client.taken)


def test_only_the_refused_entries_are_sent_again_until_taken() -> None:
    refusals = Counter[str]()

    def refuse_twice_each_odd_one(entry: dict[str, Any]) -> str | None:
        event_id = json.loads(entry["Detail"])["eventId"]
        if int(event_id, 16) % 2 and refusals[event_id] < 2:
            refusals[event_id] += 1
            return "ThrottlingException"
        return None

    client, sleeps = RecordingEvents(refuse_twice_each_odd_one), []
    delivery = _bus(client, sleeps).publish(_events(20))
    assert client.requests == [10, 10, 10, 10]  # 20, then the 10 refused, then the same 10 again
    assert sorted(json.loads(entry["Detail"])["eventId"] for entry in client.taken) == [f"{n:032x}" for n in range(20)]
    assert len(delivery.sent) == 20 and sleeps == [0.2, 0.4]


def test_an_entry_refused_at_every_attempt_is_failed_and_one_never_takeable_is_rejected() -> None:
    client = RecordingEvents(lambda entry: "InternalFailure" if '"pad":"xx"' in entry["Detail"] else None)
    events = [*_events(2), Event("Call Outcome Recorded", {"eventId": "a" * 32, "pad": "xx"}, T0)]
    too_large = Event("Call Outcome Recorded", {"eventId": "b" * 32, "pad": "x" * BYTES_PER_REQUEST}, T0)
    malformed = RecordingEvents(lambda entry: "MalformedDetail")
    delivery = _bus(client).publish([*events, too_large])
    assert [event.event_id for event, _ in delivery.failed] == ["a" * 32]
    assert [event.event_id for event, _ in delivery.rejected] == ["b" * 32]
    assert len(delivery.sent) == 2 and client.requests == [3, 1, 1, 1]
    refused = _bus(malformed).publish(_events(1))
    assert len(refused.rejected) == 1 and malformed.requests == [1]  # not retried: it would be refused again

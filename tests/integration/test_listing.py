"""Results out, a page at a time: the campaign and contact listings and the outcome feed, through the real
handler, with their cursors, filters and limits, and the DynamoDB requests a page costs."""

from __future__ import annotations

import base64
import datetime as dt
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from bench.instrument import AwsRequestCounter
from dialhub.dispositions import CallStatus, Disposition
from dialhub.models import CallOutcome, OutcomeSource
from dialhub.outcomes import record_outcomes, record_polled
from dialhub.store import DynamoStore
from dialhub.wiring import Dependencies
from local.scenario import demo_contacts
from tests.conftest import api_event, call_api


class Clock:
    """A clock the test moves; the store stamps the feed with it and the feed's horizon follows it."""

    def __init__(self) -> None:
        self.now = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)
        self._lock = threading.Lock()

    def __call__(self) -> dt.datetime:
        with self._lock:
            self.now += dt.timedelta(milliseconds=1)  # every reading is later than the one before
            return self.now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += dt.timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def timed(deps: Dependencies, clock: Clock) -> Dependencies:
    """deps whose API, store and feed all read the test's clock; the feed serves outcomes 5 s old."""
    store = DynamoStore(deps.store.table_name, clock=clock)
    settings = deps.settings.model_copy(update={"outcome_feed_delay_seconds": 5})
    return Dependencies(settings=settings, store=store, queue=deps.queue, adapters=deps.adapters, clock=clock)


def _create(deps: Dependencies, name: str, count: int = 3, vendor: str = "blu", **extra: Any) -> str:
    options = {"blu": {"botId": 1}, "nxtele": {"sceneID": 7}}[vendor]
    body = {
        "name": name,
        "vendor": vendor,
        "vendorOptions": options,
        "contacts": demo_contacts(count, prefix=name.replace(" ", "-")),
    } | extra
    status, created = call_api(deps, api_event("api/create_campaign.json", body=body))
    assert status == 201, created
    return created["campaignId"]


def _get(deps: Dependencies, event: str, query: dict[str, Any] | None = None, **path: str) -> tuple[int, Any]:
    return call_api(deps, api_event(event, path=path or None, query=query or {}))


def _pages(deps: Dependencies, event: str, query: dict[str, Any], **path: str) -> Iterator[dict[str, Any]]:
    cursor = None
    while True:
        status, page = _get(deps, event, {**query, **({"cursor": cursor} if cursor else {})}, **path)
        assert status == 200, page
        yield page
        cursor = page["nextCursor"]
        if cursor is None:
            return


def _close(
    deps: Dependencies,
    campaign_id: str,
    contact_id: str,
    disposition: Disposition = Disposition.PROMISE_TO_PAY,
    call_id: str | None = None,
    source: OutcomeSource = OutcomeSource.WEBHOOK,
    **fields: Any,
) -> CallOutcome:
    outcome = CallOutcome(
        vendor="blu",
        vendor_call_id=call_id or f"call-{campaign_id}-{contact_id}",
        campaign_id=campaign_id,
        contact_id=contact_id,
        status=CallStatus.ANSWERED,
        disposition=disposition,
        duration_seconds=42,
        source=source,
        started_at=dt.datetime(2026, 11, 30, 9, 5, tzinfo=dt.UTC),
        variables={"slots": {"promiseDate": "2026-12-05", "promiseAmount": 4500}},
        **fields,
    )
    [result] = record_outcomes([outcome], deps.store, deps.clock()).values()
    assert result == 1
    return outcome


# --------------------------------------------------------------------------- GET /campaigns


def test_campaigns_are_listed_newest_first_across_pages_with_filters(timed: Dependencies) -> None:
    created = [_create(timed, f"c{index}", vendor="nxtele" if index % 3 == 0 else "blu") for index in range(7)]
    call_api(timed, api_event("api/pause_campaign.json", path={"campaignId": created[5]}))

    pages = list(_pages(timed, "api/list_campaigns.json", {"limit": 2}))
    listed = [item["campaignId"] for page in pages for item in page["items"]]
    assert listed == created[::-1]
    assert [len(page["items"]) for page in pages] == [2, 2, 2, 1]
    first = pages[-1]["items"][-1]
    assert first["name"] == "c0" and first["vendor"] == "nxtele" and first["totals"] == {"contacts": 3}
    assert {"status", "dialDate", "timezone", "createdAt"} <= set(first)

    blu = [
        item["campaignId"]
        for page in _pages(timed, "api/list_campaigns.json", {"vendor": "blu", "limit": 2})
        for item in page["items"]
    ]
    assert blu == [cid for index, cid in enumerate(created) if index % 3][::-1]
    paused = [
        item["campaignId"]
        for page in _pages(timed, "api/list_campaigns.json", {"status": "paused", "limit": 1})
        for item in page["items"]
    ]
    assert paused == [created[5]]
    status, none = _get(timed, "api/list_campaigns.json", {"status": "cancelled"})
    assert status == 200 and none == {"items": [], "nextCursor": None}


def test_totals_count_contacts_taken_in_across_requests(deps: Dependencies) -> None:
    campaign_id = _create(deps, "grows", count=4)
    more = {"contacts": demo_contacts(6, prefix="grows-more") + demo_contacts(2, prefix="grows")[:1]}
    status, body = call_api(deps, api_event("api/add_contacts.json", path={"campaignId": campaign_id}, body=more))
    assert status == 200 and body["accepted"] == 6 and body["duplicates"] == 1
    _, page = _get(deps, "api/list_campaigns.json", {})
    assert page["items"][0]["totals"] == {"contacts": 10}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"limit": 0}, "query.limit"),
        ({"limit": 1001}, "query.limit"),
        ({"limit": "ten"}, "query.limit"),
        ({"status": "sleeping"}, "query.status"),
        ({"vendor": "acme"}, "query.vendor"),
    ],
)
def test_campaign_listing_refuses_bad_parameters_with_a_422_naming_them(
    deps: Dependencies, query: dict[str, Any], field: str
) -> None:
    status, body = _get(deps, "api/list_campaigns.json", query)
    assert status == 422
    assert [error["field"] for error in body["errors"]] == [field]


# --------------------------------------------------------------------------- GET /campaigns/{id}/contacts


def test_contacts_page_in_order_with_their_closing_outcome_inline(deps: Dependencies) -> None:
    campaign_id = _create(deps, "paged", count=250)
    for index in range(0, 250, 7):
        _close(deps, campaign_id, f"paged-{index:05d}")
    pages = list(_pages(deps, "api/list_contacts.json", {"limit": 100}, campaignId=campaign_id))
    assert [len(page["items"]) for page in pages] == [100, 100, 50]
    items = [item for page in pages for item in page["items"]]
    assert [item["contactId"] for item in items] == [f"paged-{index:05d}" for index in range(250)]
    closed = {item["contactId"]: item for item in items if item["outcome"]}
    assert set(closed) == {f"paged-{index:05d}" for index in range(0, 250, 7)}
    sample = closed["paged-00007"]
    assert sample["state"] == "final" and sample["phone"].startswith("***") and len(sample["phone"]) == 7
    assert sample["outcome"] | {"startedAt": None} == {
        "vendor": "blu",
        "vendorCallId": f"call-{campaign_id}-paged-00007",
        "status": "answered",
        "disposition": "promise_to_pay",
        "attempt": 1,
        "source": "webhook",
        "startedAt": None,
        "answeredAt": None,
        "endedAt": None,
        "durationSeconds": 42,
        "recordingUrl": None,
        "variables": {"slots": {"promiseDate": "2026-12-05", "promiseAmount": 4500}},
    }
    queued = items[1]
    assert queued["state"] == "queued" and queued["outcome"] is None and queued["variables"]["loanId"] == "L1"


def test_contact_filters_hold_across_page_boundaries(deps: Dependencies) -> None:
    campaign_id = _create(deps, "mixed", count=60)
    for index in range(0, 60, 2):
        _close(
            deps,
            campaign_id,
            f"mixed-{index:05d}",
            Disposition.WRONG_PERSON if index % 4 else Disposition.PROMISE_TO_PAY,
        )
    finals = [
        item["contactId"]
        for page in _pages(deps, "api/list_contacts.json", {"state": "final", "limit": 7}, campaignId=campaign_id)
        for item in page["items"]
    ]
    assert finals == [f"mixed-{index:05d}" for index in range(0, 60, 2)]
    promised = [
        item
        for page in _pages(
            deps,
            "api/list_contacts.json",
            {"state": "final", "disposition": "promise_to_pay", "limit": 4},
            campaignId=campaign_id,
        )
        for item in page["items"]
    ]
    assert [item["contactId"] for item in promised] == [f"mixed-{index:05d}" for index in range(0, 60, 4)]
    assert {item["outcome"]["disposition"] for item in promised} == {"promise_to_pay"}
    queued = [
        item["contactId"]
        for page in _pages(deps, "api/list_contacts.json", {"state": "queued", "limit": 1000}, campaignId=campaign_id)
        for item in page["items"]
    ]
    assert queued == [f"mixed-{index:05d}" for index in range(1, 60, 2)]


def test_an_empty_campaign_an_empty_filter_and_an_unknown_campaign(deps: Dependencies) -> None:
    empty = _create(deps, "empty", count=0)
    assert _get(deps, "api/list_contacts.json", {}, campaignId=empty) == (200, {"items": [], "nextCursor": None})
    some = _create(deps, "some", count=3)
    assert _get(deps, "api/list_contacts.json", {"state": "failed"}, campaignId=some) == (
        200,
        {"items": [], "nextCursor": None},
    )
    status, body = _get(deps, "api/list_contacts.json", {}, campaignId="cmp-unknown")
    assert status == 404 and "cmp-unknown" in body["message"]
    status, body = _get(deps, "api/list_contacts.json", {"state": "dialling"}, campaignId=some)
    assert status == 422 and body["errors"][0]["field"] == "query.state"


def test_a_page_that_ends_exactly_at_the_last_contact_says_there_is_no_next_page(deps: Dependencies) -> None:
    campaign_id = _create(deps, "exact", count=10)
    status, page = _get(deps, "api/list_contacts.json", {"limit": 10}, campaignId=campaign_id)
    assert status == 200 and len(page["items"]) == 10 and page["nextCursor"] is None
    status, page = _get(deps, "api/list_contacts.json", {"limit": 9}, campaignId=campaign_id)
    assert len(page["items"]) == 9 and page["nextCursor"] is not None


def test_one_page_of_100_contacts_costs_two_dynamodb_requests(deps: Dependencies) -> None:
    campaign_id = _create(deps, "costed", count=150)
    for index in range(150):
        _close(deps, campaign_id, f"costed-{index:05d}")
    counter = AwsRequestCounter()
    counter.attach(deps.store.client)
    status, page = _get(deps, "api/list_contacts.json", {"limit": 100}, campaignId=campaign_id)
    assert status == 200 and sum(item["outcome"] is not None for item in page["items"]) == 100
    # One query, one batch read of the 100 closing outcomes (the campaign is read only for an empty page).
    assert dict(counter.by_operation) == {"Query": 1, "BatchGetItem": 1}


# --------------------------------------------------------------------------- cursors


def _tampered(cursor: str) -> list[str]:
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    flipped = bytearray(raw)
    flipped[-3] ^= 0x01  # one bit of the position
    return [
        cursor[:-4],
        cursor[: len(cursor) // 2],
        base64.urlsafe_b64encode(bytes(flipped)).decode().rstrip("="),
        "not-a-cursor",
        "%%%",
        "A" * 5000,
        base64.urlsafe_b64encode(b'{"k":"contacts"}').decode(),
    ]


def test_a_tampered_truncated_or_foreign_cursor_is_a_400_naming_it(deps: Dependencies) -> None:
    mine = _create(deps, "mine", count=5)
    theirs = _create(deps, "theirs", count=5)
    _, page = _get(deps, "api/list_contacts.json", {"limit": 2}, campaignId=mine)
    cursor = page["nextCursor"]
    for bad in _tampered(cursor):
        status, body = _get(deps, "api/list_contacts.json", {"limit": 2, "cursor": bad}, campaignId=mine)
        assert status == 400, bad
        assert body["errors"][0]["field"] == "cursor" and "Traceback" not in str(body)
    # Another campaign's route, another filter, another listing: refused, never read as a position there.
    for event, query, path in [
        ("api/list_contacts.json", {"cursor": cursor}, {"campaignId": theirs}),
        ("api/list_contacts.json", {"cursor": cursor, "state": "queued"}, {"campaignId": mine}),
        ("api/list_campaigns.json", {"cursor": cursor}, {}),
    ]:
        status, body = _get(deps, event, query, **path)
        assert status == 400 and body["errors"][0]["field"] == "cursor", (event, query)
        assert "another listing" in body["errors"][0]["problem"]
    _, campaigns = _get(deps, "api/list_campaigns.json", {"limit": 1})
    status, body = _get(deps, "api/list_contacts.json", {"cursor": campaigns["nextCursor"]}, campaignId=mine)
    assert status == 400
    status, body = _get(deps, "api/outcome_feed.json", {"after": cursor})
    assert status == 400 and body["errors"][0]["field"] == "after"


# --------------------------------------------------------------------------- GET /outcomes


def _feed(deps: Dependencies, after: str | None = None, limit: int = 100) -> dict[str, Any]:
    status, page = _get(deps, "api/outcome_feed.json", {"limit": limit, **({"after": after} if after else {})})
    assert status == 200, page
    return page


def test_the_feed_serves_closing_outcomes_in_recorded_order_once_they_are_old_enough(
    timed: Dependencies, clock: Clock
) -> None:
    campaign_id = _create(timed, "feed", count=6)
    for index in (3, 1, 4):
        _close(timed, campaign_id, f"feed-{index:05d}")
    assert _feed(timed)["items"] == []  # recorded, but not 5 s old yet
    clock.advance(6)
    page = _feed(timed)
    assert [item["contactId"] for item in page["items"]] == ["feed-00003", "feed-00001", "feed-00004"]
    assert page["hasMore"] is False
    recorded = [dt.datetime.fromisoformat(item["recordedAt"]) for item in page["items"]]
    assert recorded == sorted(recorded) and all(moment < clock.now for moment in recorded)
    assert page["items"][0]["variables"]["slots"]["promiseAmount"] == 4500
    again = _feed(timed, page["nextCursor"])
    assert again["items"] == [] and again["nextCursor"]  # nothing new: the cursor still goes on from there
    _close(timed, campaign_id, "feed-00000")
    clock.advance(6)
    assert [item["contactId"] for item in _feed(timed, again["nextCursor"])["items"]] == ["feed-00000"]


def test_the_feed_holds_polled_outcomes_and_leaves_out_calls_that_closed_nothing(
    timed: Dependencies, clock: Clock
) -> None:
    campaign_id = _create(timed, "kinds", count=4)
    polled = CallOutcome(
        vendor="blu",
        vendor_call_id="polled-1",
        campaign_id=campaign_id,
        contact_id="kinds-00000",
        status=CallStatus.NO_ANSWER,
        disposition=Disposition.NOT_CONNECTED,
        source=OutcomeSource.POLL,
    )
    record_polled("blu", [polled], timed.store, clock())
    attempt = CallOutcome(
        vendor="blu",
        vendor_call_id="attempt-1",
        campaign_id=campaign_id,
        contact_id="kinds-00001",
        status=CallStatus.NO_ANSWER,
        closes_contact=False,
    )
    ringing = CallOutcome(
        vendor="blu",
        vendor_call_id="ringing-1",
        campaign_id=campaign_id,
        contact_id="kinds-00002",
        status=CallStatus.RINGING,
    )
    orphan = CallOutcome(
        vendor="blu",
        vendor_call_id="orphan-1",
        campaign_id=campaign_id,
        contact_id="nobody",
        status=CallStatus.ANSWERED,
    )
    record_outcomes([attempt, ringing, orphan], timed.store, clock())
    _close(timed, campaign_id, "kinds-00003")
    _close(timed, campaign_id, "kinds-00003", call_id=f"call-{campaign_id}-kinds-00003")  # a repeat
    clock.advance(6)
    items = _feed(timed)["items"]
    assert [(item["vendorCallId"], item["source"]) for item in items] == [
        ("polled-1", "poll"),
        (f"call-{campaign_id}-kinds-00003", "webhook"),
    ]
    # The attempt the vendor redials becomes a closing outcome when the vendor reports it closed: then it is in.
    record_outcomes([attempt.model_copy(update={"closes_contact": True})], timed.store, clock())
    clock.advance(6)
    page = _feed(timed)
    assert [item["vendorCallId"] for item in page["items"]][-1] == "attempt-1" and len(page["items"]) == 3


def test_the_feed_resumes_exactly_where_it_stopped_while_outcomes_keep_arriving(
    timed: Dependencies, clock: Clock
) -> None:
    campaign_id = _create(timed, "flow", count=40)
    seen: list[str] = []
    cursor = None
    for index in range(40):
        _close(timed, campaign_id, f"flow-{index:05d}")
        clock.advance(1.3)
        if index % 3 == 0:
            page = _feed(timed, cursor, limit=2)
            seen += [item["contactId"] for item in page["items"]]
            cursor = page["nextCursor"]
    clock.advance(6)
    while True:
        page = _feed(timed, cursor, limit=4)
        seen += [item["contactId"] for item in page["items"]]
        cursor = page["nextCursor"]
        if not page["hasMore"]:
            break
    assert seen == [f"flow-{index:05d}" for index in range(40)]


@pytest.mark.heavy
def test_a_reader_racing_slow_writers_skips_nothing_and_repeats_nothing(deps: Dependencies) -> None:
    """Real threads and the real clock: writers stamp an outcome, then take up to 0.4 s to commit it, while a
    reader follows the feed. With a 2 s delay (room for a loaded machine) the reader never passes an outcome
    still on its way; without one it skips about half of them."""
    delay_deps = Dependencies(
        settings=deps.settings.model_copy(update={"outcome_feed_delay_seconds": 2}),
        store=deps.store,
        queue=deps.queue,
        adapters=deps.adapters,
    )
    campaign_id = _create(delay_deps, "race", count=90)
    client = deps.store.client
    real_transact = client.transact_write_items
    slow = threading.local()

    def slow_commit(**kwargs: Any) -> Any:
        time.sleep(getattr(slow, "seconds", 0.0))
        return real_transact(**kwargs)

    client.transact_write_items = slow_commit
    stop = threading.Event()

    def write(offset: int) -> None:
        for index in range(offset, 90, 3):
            slow.seconds = 0.4 if index % 2 else 0.0
            _close(delay_deps, campaign_id, f"race-{index:05d}")

    seen: list[str] = []

    def read() -> None:
        cursor = None
        while not stop.is_set():
            page = _feed(delay_deps, cursor, limit=5)
            seen.extend(item["contactId"] for item in page["items"])
            cursor = page["nextCursor"]
        time.sleep(2.5)
        while True:
            page = _feed(delay_deps, cursor, limit=50)
            seen.extend(item["contactId"] for item in page["items"])
            cursor = page["nextCursor"]
            if not page["hasMore"]:
                return

    try:
        writers = [threading.Thread(target=write, args=(offset,)) for offset in range(3)]
        reader = threading.Thread(target=read)
        for thread in [*writers, reader]:
            thread.start()
        for thread in writers:
            thread.join()
        stop.set()
        reader.join()
    finally:
        client.transact_write_items = real_transact
    assert sorted(seen) == [f"race-{index:05d}" for index in range(90)]
    assert len(seen) == len(set(seen)) == 90


def test_the_feed_costs_two_requests_per_100_outcomes(timed: Dependencies, clock: Clock) -> None:
    campaign_id = _create(timed, "cost", count=120)
    for index in range(120):
        _close(timed, campaign_id, f"cost-{index:05d}")
    clock.advance(6)
    counter = AwsRequestCounter()
    counter.attach(timed.store.client)
    page = _feed(timed, limit=100)
    assert len(page["items"]) == 100 and page["hasMore"] is True
    assert dict(counter.by_operation) == {"Query": 1, "BatchGetItem": 1}
    counter.reset()
    rest = _feed(timed, page["nextCursor"], limit=100)
    assert len(rest["items"]) == 20 and rest["hasMore"] is False
    assert counter.total == 2

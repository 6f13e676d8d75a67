"""Planning's edges on the table: contacts beyond a vendor's daily cap (held for its next day, or sent down the
campaign's line of fallbacks), which due campaigns a run plans and which it passes over, and a run out of time."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from dialhub import planning
from dialhub.capacity import CAPACITY_HOLD
from dialhub.models import (
    Campaign,
    CampaignStatus,
    CapacityOverflow,
    Contact,
    DialState,
    FailoverCause,
    Hold,
    VendorShare,
)
from dialhub.observability import logger
from dialhub.planning import plan_campaign, plan_due_campaigns
from dialhub.queue import SEND_BATCH_LIMIT
from dialhub.store import DynamoStore

NOW = dt.datetime(2026, 11, 25, 4, 0, tzinfo=dt.UTC)  # noon in Manila, 23:00 the day before in New York
TODAY = dt.date(2026, 11, 25)  # in Manila
MANILA = ZoneInfo("Asia/Manila")
NEXT_MANILA_DAY = dt.datetime(2026, 11, 26, tzinfo=MANILA)


class _Vendor:
    """A vendor account whose day is Manila's."""

    def __init__(self, batch_limit: int) -> None:
        self.batch_limit = batch_limit

    def today(self) -> dt.date:
        return NOW.astimezone(MANILA).date()

    def day_starts(self, day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(), MANILA).astimezone(dt.UTC)


class _Adapters:
    """Vendors with these daily caps (none for the others), `batch_limit` requests a batch."""

    def __init__(self, caps: dict[str, int] | None = None, batch_limit: int = 100) -> None:
        self.caps = caps or {}
        self.batch_limit = batch_limit

    def get(self, vendor: str) -> _Vendor:
        return _Vendor(self.batch_limit)

    def terms(self, vendor: str) -> dict[str, Any]:
        return {"dailyCap": self.caps[vendor]} if vendor in self.caps else {}


class _Queue:
    def __init__(self) -> None:
        self.sent: list[Any] = []

    def send(self, batches: list[Any]) -> None:
        self.sent.extend(batches)


def _campaign(campaign_id: str, **changes: Any) -> Campaign:
    """A Blu campaign in Manila, due today, with AIRudder then NXTele as its line of fallbacks."""
    fields: dict[str, Any] = {
        "campaign_id": campaign_id,
        "name": "n",
        "vendor": "blu",
        "dial_date": TODAY,
        "timezone": "Asia/Manila",
        "created_at": NOW - dt.timedelta(days=1),
        "vendors": [
            VendorShare(vendor="blu", share=100),
            VendorShare(vendor="airudder", share=0),
            VendorShare(vendor="nxtele", share=0),
        ],
    }
    return Campaign(**(fields | changes))


def _stored(store: DynamoStore, campaign: Campaign, *contacts: Contact, due: dt.date | None = None) -> Campaign:
    """The campaign and its contacts in the table, the campaign due on `due` (its dial date unless given)."""
    assert store.create_campaign(campaign)
    store.add_contacts(list(contacts), NOW - dt.timedelta(hours=1))
    store.mark_campaign_due(campaign, due or campaign.dial_date)
    return campaign


def _contact(campaign_id: str, contact_id: str, index: int = 0, **changes: Any) -> Contact:
    return Contact(campaign_id=campaign_id, contact_id=contact_id, phone=f"+6391712{index:05d}", **changes)


def _due_ids(store: DynamoStore) -> list[str]:
    return [campaign.campaign_id for campaign in store.iter_due_campaigns(TODAY + dt.timedelta(days=1))]


def test_contacts_beyond_a_daily_cap_wait_for_the_vendors_next_day_and_an_existing_wait_is_left_as_it_is(
    store: DynamoStore,
) -> None:
    """The campaign has a fallback, but says to wait. A lapsed hold for another reason is replaced; a contact
    held for the same next day already is not written again."""
    earlier = NOW - dt.timedelta(hours=2)
    lapsed = Hold(reason="outside_window", until=NOW - dt.timedelta(hours=1), checked_at=earlier)
    waiting = Hold(reason=CAPACITY_HOLD, detail="from an earlier run", until=NEXT_MANILA_DAY, checked_at=earlier)
    campaign = _stored(
        store,
        _campaign("cmp", capacity_overflow=CapacityOverflow.WAIT),
        _contact("cmp", "c0", 0),
        _contact("cmp", "c1", 1, hold=lapsed),
        _contact("cmp", "c2", 2, hold=waiting),
    )
    queue = _Queue()

    summary = plan_campaign(campaign, store, queue, _Adapters({"blu": 0}), TODAY, NOW)  # type: ignore[arg-type]

    assert (summary.contacts, summary.held, summary.failed_over) == (0, 3, 0) and queue.sent == []
    contacts = store.get_contacts("cmp", ["c0", "c1", "c2"])
    for contact_id in ("c0", "c1"):
        hold = contacts[contact_id].hold
        assert hold is not None, contact_id
        assert (hold.reason, hold.until, hold.checked_at) == (CAPACITY_HOLD, NEXT_MANILA_DAY, NOW), contact_id
        assert "blu's daily cap of 0 requests" in (hold.detail or "")
    assert contacts["c2"].hold == waiting
    assert {(c.state, c.failed_over_from) for c in contacts.values()} == {(DialState.QUEUED, None)}  # no fallback
    assert _due_ids(store) == ["cmp"]  # looked at again by the next run


def test_capacity_overflow_goes_down_the_line_and_the_run_counts_every_campaigns_failovers(store: DynamoStore) -> None:
    """Contacts already moved to AIRudder, whose cap is used up, go to the vendor after it, never back to it."""
    campaigns = ("cmp_a", "cmp_b")
    for campaign_id in campaigns:
        _stored(
            store,
            _campaign(campaign_id, capacity_overflow=CapacityOverflow.FALLBACK),
            _contact(campaign_id, "moved", 0, vendor="airudder", failed_over_from="blu"),
            _contact(campaign_id, "blus", 1, vendor="blu"),
        )
    queue = _Queue()

    total = plan_due_campaigns(store, queue, _Adapters({"airudder": 0}), NOW)  # type: ignore[arg-type]

    assert (total.campaigns, total.contacts, total.failed_over, total.held) == (2, 2, 2, 0)
    for campaign_id in campaigns:
        moved = store.get_contact(campaign_id, "moved")
        assert moved is not None and moved.state is DialState.QUEUED
        assert (moved.vendor, moved.failed_over_from, moved.failover_cause) == (
            "nxtele",
            "airudder",
            FailoverCause.CAPACITY,
        )
        assert "airudder's daily cap of 0 requests" in (moved.failover_reason or "")
        blus = store.get_contact(campaign_id, "blus")
        assert blus is not None and (blus.state, blus.vendor) == (DialState.PLANNED, "blu")
    assert sorted((batch.campaign_id, batch.vendor) for batch in queue.sent) == [("cmp_a", "blu"), ("cmp_b", "blu")]


def test_the_daily_run_plans_due_active_campaigns_and_passes_over_paused_and_not_yet_due_ones_wherever_they_come(
    store: DynamoStore,
) -> None:
    """The due index lists them by date, then id: a campaign passed over comes before others to plan."""
    campaigns = [
        _campaign("a_paused", status=CampaignStatus.PAUSED),
        _campaign("b_new"),
        _campaign("c_new_york", timezone="America/New_York"),  # its 25 November has not begun
        _campaign("d_running", last_planned_on=TODAY),
    ]
    for index, campaign in enumerate(campaigns):
        _stored(store, campaign, _contact(campaign.campaign_id, "c0", index))

    total = plan_due_campaigns(store, _Queue(), _Adapters(), NOW)  # type: ignore[arg-type]

    assert (total.campaigns, total.contacts) == (2, 2)
    planned = {c.campaign_id: store.get_contact(c.campaign_id, "c0").state for c in campaigns}  # type: ignore[union-attr]
    assert planned == {
        "a_paused": DialState.QUEUED,
        "b_new": DialState.PLANNED,
        "c_new_york": DialState.QUEUED,
        "d_running": DialState.PLANNED,
    }


def test_the_frequent_run_passes_over_a_campaign_not_started_today_and_plans_the_running_one_after_it(
    store: DynamoStore,
) -> None:
    _stored(store, _campaign("a_new"), _contact("a_new", "c0", 0))
    _stored(store, _campaign("b_running", last_planned_on=TODAY), _contact("b_running", "c0", 1))

    total = plan_due_campaigns(store, _Queue(), _Adapters(), NOW, running_only=True)  # type: ignore[arg-type]

    assert (total.campaigns, total.contacts) == (1, 1)
    assert store.get_contact("a_new", "c0").state is DialState.QUEUED  # type: ignore[union-attr]
    assert store.get_contact("b_running", "c0").state is DialState.PLANNED  # type: ignore[union-attr]
    assert _due_ids(store) == ["a_new"]  # waits for the daily run


def test_a_run_out_of_time_leaves_every_campaign_due_today_and_running_for_the_frequent_run(
    store: DynamoStore,
) -> None:
    yesterday = TODAY - dt.timedelta(days=1)
    for index, campaign_id in enumerate(("cmp_a", "cmp_b")):
        _stored(store, _campaign(campaign_id, dial_date=yesterday), _contact(campaign_id, "c0", index))

    total = plan_due_campaigns(store, _Queue(), _Adapters(), NOW, deadline=-1.0)  # type: ignore[arg-type]

    assert (total.campaigns, total.contacts, total.unfinished) == (0, 0, 2)
    for campaign_id in ("cmp_a", "cmp_b"):
        stored = store.get_campaign(campaign_id)
        assert stored is not None and (stored.dial_date, stored.last_planned_on) == (TODAY, TODAY), campaign_id
        assert store.get_contact(campaign_id, "c0").state is DialState.QUEUED  # type: ignore[union-attr]
    assert _due_ids(store) == ["cmp_a", "cmp_b"]
    running = plan_due_campaigns(store, _Queue(), _Adapters(), NOW, running_only=True)  # type: ignore[arg-type]
    assert (running.campaigns, running.contacts) == (2, 2)


def test_a_campaign_begun_in_time_stops_at_the_runs_deadline_between_sends(
    store: DynamoStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The clock is before the deadline when the run reaches the campaign, past it after the first send."""
    ids = [f"c{index:02d}" for index in range(SEND_BATCH_LIMIT + 2)]
    _stored(store, _campaign("cmp"), *(_contact("cmp", contact_id, index) for index, contact_id in enumerate(ids)))
    clock: Iterator[float] = iter([0.0])
    monkeypatch.setattr("dialhub.planning.time.monotonic", lambda: next(clock, 100.0))

    total = plan_due_campaigns(store, _Queue(), _Adapters(batch_limit=1), NOW, deadline=50.0)  # type: ignore[arg-type]

    # Ten one-contact batches fill the first send; the two contacts after them wait for the next run.
    assert (total.campaigns, total.contacts, total.unfinished) == (1, SEND_BATCH_LIMIT, 1)
    left = store.get_contacts("cmp", ids[SEND_BATCH_LIMIT:])
    assert [contact.state for contact in left.values()] == [DialState.QUEUED] * 2
    assert _due_ids(store) == ["cmp"]


def test_while_a_campaign_is_planned_every_log_line_names_it_and_its_vendor_and_no_line_after(
    store: DynamoStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the README's Logs Insights queries find a campaign's planning by."""
    _stored(store, _campaign("a_blu"), _contact("a_blu", "c0", 0))
    nxtele = _campaign("b_nxtele", vendor="nxtele", vendors=[VendorShare(vendor="nxtele", share=100)])
    _stored(store, nxtele, _contact("b_nxtele", "c0", 1))
    keys_seen: list[dict[str, Any]] = []

    def planning_one(campaign: Campaign, *args: Any) -> Any:
        keys_seen.append(dict(logger.thread_safe_get_current_keys()))
        return plan_campaign(campaign, *args)

    monkeypatch.setattr(planning, "plan_campaign", planning_one)
    plan_due_campaigns(store, _Queue(), _Adapters(), NOW)  # type: ignore[arg-type]
    named = [{name: keys.get(name) for name in ("campaign_id", "vendor")} for keys in keys_seen]
    assert named == [{"campaign_id": "a_blu", "vendor": "blu"}, {"campaign_id": "b_nxtele", "vendor": "nxtele"}]
    assert not {"campaign_id", "vendor"} & set(logger.thread_safe_get_current_keys())

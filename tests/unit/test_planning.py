"""Planning cuts batches by the vendor's limit and by what fits in one SQS message."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from dialhub import planning
from dialhub.models import Campaign, CampaignStatus, Contact, VendorShare
from dialhub.planning import (
    ADMISSION_CHUNK,
    MESSAGE_ID_BUDGET,
    PlanSummary,
    _Batches,
    plan_campaign,
    plan_due_campaigns,
)
from dialhub.queue import SEND_BATCH_LIMIT

T0 = dt.datetime(2026, 11, 25, tzinfo=dt.UTC)
CAMPAIGN = Campaign(campaign_id="cmp", name="n", vendor="airudder", dial_date=T0.date(), timezone="UTC", created_at=T0)


class _QueuedStore:
    def __init__(self, ids: list[str]) -> None:
        self.ids = ids

    def iter_queued_contacts(self, campaign_id: str) -> Iterator[list[Contact]]:
        for start in range(0, len(self.ids), 1000):
            yield [
                Contact(campaign_id=campaign_id, contact_id=cid, phone="+639171234567")
                for cid in self.ids[start : start + 1000]
            ]


def _plan(ids: list[str], limit: int) -> list[Any]:
    pages = _QueuedStore(ids).iter_queued_contacts("cmp")
    return list(_Batches(CAMPAIGN, {CAMPAIGN.vendor: limit}, T0.date()).cut_from(pages))


def test_batches_follow_the_vendor_limit_when_ids_are_short() -> None:
    batches = _plan([f"c{i}" for i in range(12_001)], 5_000)
    assert [len(batch.contact_ids) for batch in batches] == [5_000, 5_000, 2_001]


def test_long_ids_close_a_batch_before_the_message_outgrows_sqs() -> None:
    ids = [f"{i:05d}".ljust(128, "x") for i in range(5_000)]
    batches = _plan(ids, 5_000)
    assert len(batches) > 1 and sum(len(b.contact_ids) for b in batches) == 5_000
    assert all(len(batch.model_dump_json(by_alias=True)) < 256 * 1024 for batch in batches)
    assert all(sum(len(cid) + 3 for cid in batch.contact_ids) <= MESSAGE_ID_BUDGET for batch in batches)
    assert [cid for batch in batches for cid in batch.contact_ids] == ids  # nothing lost, order kept


def test_each_batch_after_a_cut_has_the_whole_message_budget_again() -> None:
    ids = [f"{index:04d}".ljust(197, "x") for index in range(2_000)]  # 1,000 of them fill a message exactly
    assert [batch.contact_ids for batch in _plan(ids, 5_000)] == [ids[:1_000], ids[1_000:]]


def test_a_split_campaigns_vendors_fill_their_own_batches_side_by_side() -> None:
    split = CAMPAIGN.model_copy(
        update={"vendors": [VendorShare(vendor="airudder", share=50), VendorShare(vendor="blu", share=50)]}
    )
    contacts = [
        Contact(campaign_id="cmp", contact_id=f"c{n}", phone="+639171234567", vendor=("blu", "airudder")[n % 2])
        for n in range(7)
    ]
    batches = list(_Batches(split, {"airudder": 2, "blu": 3}, T0.date()).cut_from([contacts]))
    assert [(batch.vendor, batch.contact_ids) for batch in batches] == [
        ("airudder", ["c1", "c3"]),  # cut when its third contact comes
        ("blu", ["c0", "c2", "c4"]),
        ("airudder", ["c5"]),  # what is left, in the campaign's order of vendors
        ("blu", ["c6"]),
    ]


# ------------------------------------------------------------------ runs that must stop in time


class _PlanStore:
    """Queued contacts to plan (in query pages of `page` contacts), and a record of what planning reads and writes."""

    def __init__(self, count: int, page: int = 10_000, vendors: tuple[str, ...] = ("airudder",)) -> None:
        self.contacts = [
            Contact(campaign_id="cmp", contact_id=f"c{n:03d}", phone=f"+63917{n:07d}", vendor=vendors[n % len(vendors)])
            for n in range(count)
        ]
        self.page = page
        self.planned: list[str] = []
        self.due: list[tuple[str, dt.date, bool]] = []
        self.suppression_reads: list[int] = []

    def clear_campaign_due(self, campaign_id: str, planned_on: dt.date | None = None) -> None:
        pass

    def iter_queued_contacts(self, campaign_id: str) -> Iterator[list[Contact]]:
        for start in range(0, len(self.contacts), self.page):
            yield self.contacts[start : start + self.page]

    def suppressions(self, phones: Any, now: dt.datetime) -> dict[str, Any]:
        self.suppression_reads.append(len(list(phones)))
        return {}

    def move_contact(self, campaign_id: str, contact_id: str, to: Any, **_: Any) -> bool:
        self.planned.append(contact_id)
        return True

    def mark_campaign_due(self, campaign: Campaign, dial_date: dt.date, running: bool = False, **_: Any) -> None:
        self.due.append((campaign.campaign_id, dial_date, running))


class _Queue:
    def __init__(self) -> None:
        self.sends: list[int] = []

    def send(self, batches: list[Any]) -> None:
        self.sends.append(len(batches))


class _OneByOne:
    """A vendor taking one contact per batch, with no daily cap."""

    batch_limit = 1

    def get(self, vendor: str) -> Any:
        return self

    def terms(self, vendor: str) -> dict[str, Any]:
        return {}


def test_a_campaign_is_planned_in_sends_of_ten_batches_and_not_left_due_when_done() -> None:
    store, queue = _PlanStore(25), _Queue()
    summary = plan_campaign(CAMPAIGN, store, queue, _OneByOne(), T0.date(), T0)  # type: ignore[arg-type]
    assert queue.sends == [SEND_BATCH_LIMIT, SEND_BATCH_LIMIT, 5]
    assert (summary.batches, summary.contacts, summary.unfinished) == (25, 25, 0)
    assert len(store.planned) == 25 and store.due == []


def test_past_its_deadline_a_run_stops_after_a_send_and_leaves_the_campaign_due(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store, queue = _PlanStore(25), _Queue()
    monkeypatch.setattr(planning.time, "monotonic", lambda: 100.0)
    summary = plan_campaign(CAMPAIGN, store, queue, _OneByOne(), T0.date(), T0, deadline=99.0)  # type: ignore[arg-type]
    assert queue.sends == [SEND_BATCH_LIMIT] and len(store.planned) == SEND_BATCH_LIMIT
    assert summary.unfinished == 1 and summary.contacts == SEND_BATCH_LIMIT
    assert store.due == [("cmp", T0.date(), False)]  # the next run goes on with the rest


class _Limits:
    """Vendors with these batch limits and no daily cap."""

    def __init__(self, **limits: int) -> None:
        self.limits = limits

    def get(self, vendor: str) -> Any:
        return SimpleNamespace(batch_limit=self.limits[vendor])

    def terms(self, vendor: str) -> dict[str, Any]:
        return {}


def test_admission_takes_the_queue_a_full_read_at_a_time_whatever_its_pages() -> None:
    store, queue = _PlanStore(250, page=37), _Queue()
    summary = plan_campaign(CAMPAIGN, store, queue, _Limits(airudder=5_000), T0.date(), T0)  # type: ignore[arg-type]
    assert store.suppression_reads == [ADMISSION_CHUNK, ADMISSION_CHUNK, 50]
    assert summary.contacts == 250 and store.planned == [contact.contact_id for contact in store.contacts]


def test_a_split_run_stopped_at_its_deadline_sends_what_its_other_vendors_had_read_and_reads_no_more(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    split = CAMPAIGN.model_copy(
        update={"vendors": [VendorShare(vendor="airudder", share=50), VendorShare(vendor="blu", share=50)]}
    )
    store, queue = _PlanStore(400, page=30, vendors=("blu", "airudder")), _Queue()
    monkeypatch.setattr(planning.time, "monotonic", lambda: 100.0)
    adapters = _Limits(blu=1, airudder=1_000)
    summary = plan_campaign(split, store, queue, adapters, T0.date(), T0, deadline=99.0)  # type: ignore[arg-type]
    # Ten one-contact blu batches fill the first send; the airudder contacts read beside them go out with it.
    assert queue.sends == [SEND_BATCH_LIMIT, 1] and summary.batches == SEND_BATCH_LIMIT + 1
    assert sorted(store.planned) == [f"c{n:03d}" for n in range(20)]  # c020 came with the tenth cut: read again
    assert store.suppression_reads == [ADMISSION_CHUNK]  # the first hundred only: 80 of them are read again
    assert summary.unfinished == 1 and store.due == [("cmp", T0.date(), False)]


class _DueStore:
    def __init__(self, campaigns: list[Campaign]) -> None:
        self.campaigns = campaigns
        self.up_to: dt.date | None = None
        self.due: list[tuple[str, dt.date, bool]] = []

    def iter_due_campaigns(self, up_to: dt.date) -> Iterator[Campaign]:
        self.up_to = up_to
        yield from self.campaigns

    def mark_campaign_due(self, campaign: Campaign, dial_date: dt.date, running: bool = False, **_: Any) -> None:
        self.due.append((campaign.campaign_id, dial_date, running))


def _due(campaign_id: str, **changes: Any) -> Campaign:
    return CAMPAIGN.model_copy(update={"campaign_id": campaign_id, **changes})


DUE = [
    _due("tomorrow", dial_date=T0.date() + dt.timedelta(days=1)),
    _due("paused", status=CampaignStatus.PAUSED),
    _due("running", last_planned_on=T0.date()),
    _due("new"),
    _due("running-too", last_planned_on=T0.date()),
]


@pytest.fixture
def planned(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dt.date, float]]:
    """plan_campaign replaced by a record of what it was asked to plan (two contacts each)."""
    calls: list[tuple[str, dt.date, float]] = []

    def plan(campaign: Campaign, store: Any, queue: Any, adapters: Any, today: dt.date, now: Any, deadline: float):
        calls.append((campaign.campaign_id, today, deadline))
        return PlanSummary(campaigns=1, contacts=2)

    monkeypatch.setattr(planning, "plan_campaign", plan)
    return calls


def test_the_daily_run_plans_every_active_campaign_whose_day_has_come_and_passes_on_the_rest(
    planned: list[tuple[str, dt.date, float]],
) -> None:
    store = _DueStore(DUE)
    total = plan_due_campaigns(store, None, None, T0, deadline=1e12)  # type: ignore[arg-type]
    assert planned == [(campaign, T0.date(), 1e12) for campaign in ("running", "new", "running-too")]
    assert total == PlanSummary(campaigns=3, contacts=6) and store.due == []
    assert store.up_to == T0.date()  # 14 hours ahead of midnight UTC is still the same date


def test_the_frequent_run_plans_only_campaigns_already_running_today(planned: list[tuple[str, dt.date, float]]) -> None:
    total = plan_due_campaigns(_DueStore(DUE), None, None, T0, running_only=True)  # type: ignore[arg-type]
    assert [campaign for campaign, _, _ in planned] == ["running", "running-too"]
    assert total.contacts == 4


def test_a_run_out_of_time_leaves_every_campaign_it_did_not_reach_due_for_the_frequent_run(
    planned: list[tuple[str, dt.date, float]],
) -> None:
    store = _DueStore(DUE)
    total = plan_due_campaigns(store, None, None, T0, deadline=-1.0)  # type: ignore[arg-type]
    assert planned == []
    assert store.due == [(campaign, T0.date(), True) for campaign in ("running", "new", "running-too")]
    assert total.unfinished == 3

"""The sweep's decisions one contact at a time, against the table: whose results a stuck claim is left to (its own
vendor's, or its campaign's for a contact stored before splits), where the poll horizon ends, what a claim
without a task date or a campaign gets, that a claim taken again meanwhile is left alone, and what it counts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from dialhub.models import Campaign, Contact, DialState, VendorTask
from dialhub.store import DynamoStore
from dialhub.store.keys import contact_key
from dialhub.sweep import ABANDONED, LEFT_TO_RESULTS, SweepSummary, sweep_stuck_claims
from dialhub.vendors import StaticAdapters
from tests.integration.test_outcome_metrics import _names

CLAIMED = dt.datetime(2026, 11, 25, 1, 0, tzinfo=dt.UTC)
STUCK_AFTER = dt.timedelta(hours=6)
NOW = CLAIMED + STUCK_AFTER + dt.timedelta(minutes=1)
TASK_DATE = dt.date(2026, 11, 25)
HORIZON_DAYS = 2


class _Vendor:
    """All the sweep asks of an adapter: the vendor's own date, which decides the poll horizon."""

    def __init__(self, today: dt.date) -> None:
        self._today = today

    def today(self) -> dt.date:
        return self._today


def _adapters(today: dt.date = TASK_DATE) -> Any:
    return StaticAdapters({"blu": _Vendor(today), "nxtele": _Vendor(today)})  # type: ignore[dict-item]


def _claimed(
    store: DynamoStore, campaign_id: str, contact_id: str, vendor: str | None, task_vendor: str = "blu"
) -> VendorTask:
    """A contact claimed by batch b-1 for a task of `task_vendor`, which the table holds, and never settled."""
    task = store.create_task(
        VendorTask(
            campaign_id=campaign_id, vendor=task_vendor, local_date=TASK_DATE, vendor_task_id=f"t-{campaign_id}"
        ),
        CLAIMED,
    )
    contact = Contact(campaign_id=campaign_id, contact_id=contact_id, phone="+639171234567", vendor=vendor)
    store.add_contacts([contact], CLAIMED)
    assert store.claim_contact(contact, "b-1", task, CLAIMED, CLAIMED)
    return task


def _campaign(store: DynamoStore, campaign_id: str, vendor: str = "blu") -> None:
    assert store.create_campaign(
        Campaign(
            campaign_id=campaign_id,
            created_at=CLAIMED,
            name="n",
            vendor=vendor,
            dial_date=TASK_DATE,
            timezone="Asia/Manila",
        )
    )


def _sweep(store: DynamoStore, adapters: Any = None) -> SweepSummary:
    return sweep_stuck_claims(store, adapters or _adapters(), NOW, STUCK_AFTER, HORIZON_DAYS)


def _state(store: DynamoStore, campaign_id: str, contact_id: str) -> tuple[DialState, str | None]:
    contact = store.get_contact(campaign_id, contact_id)
    assert contact is not None
    return contact.state, contact.reason


def test_contacts_stored_before_splits_are_left_to_their_campaigns_vendor_and_one_without_a_campaign_fails(
    store: DynamoStore,
) -> None:
    _campaign(store, "old")
    task = _claimed(store, "old", "c1", vendor=None)
    _claimed(store, "old", "c2", vendor=None)  # the campaign's vendor, read once, serves both
    _claimed(store, "gone", "c3", vendor=None)  # its campaign record is gone: nothing says whose task to ask
    assert _sweep(store) == SweepSummary(stuck=3, to_results=2, abandoned=1)
    assert _state(store, "old", "c1") == (DialState.UNCONFIRMED, LEFT_TO_RESULTS)
    assert _state(store, "old", "c2") == (DialState.UNCONFIRMED, LEFT_TO_RESULTS)
    assert _state(store, "gone", "c3") == (DialState.FAILED, ABANDONED)
    counted = store.get_task("old", "blu", task.local_date)
    assert counted is not None and (counted.submitted, counted.unconfirmed) == (2, 2)


def test_a_contact_split_to_another_vendor_is_left_to_that_vendors_task_not_the_campaigns(
    store: DynamoStore,
) -> None:
    _campaign(store, "split", vendor="blu")
    _claimed(store, "split", "c1", vendor="nxtele", task_vendor="nxtele")
    assert _sweep(store) == SweepSummary(stuck=1, to_results=1, abandoned=0)
    assert _state(store, "split", "c1") == (DialState.UNCONFIRMED, LEFT_TO_RESULTS)
    nxtele = store.get_task("split", "nxtele", TASK_DATE)
    assert nxtele is not None and nxtele.unconfirmed == 1
    assert store.get_task("split", "blu", TASK_DATE) is None


@pytest.mark.parametrize(
    ("days_after_the_task", "state"),
    [(HORIZON_DAYS, DialState.UNCONFIRMED), (HORIZON_DAYS + 1, DialState.FAILED)],
)
def test_the_poll_horizons_last_day_still_leaves_a_claim_to_the_results_and_the_day_after_does_not(
    store: DynamoStore, days_after_the_task: int, state: DialState
) -> None:
    _campaign(store, "cmp")
    _claimed(store, "cmp", "c1", vendor="blu")
    _sweep(store, _adapters(TASK_DATE + dt.timedelta(days=days_after_the_task)))
    assert _state(store, "cmp", "c1")[0] is state


def test_a_claim_with_no_task_date_cannot_be_asked_about_and_fails(store: DynamoStore) -> None:
    _campaign(store, "cmp")
    _claimed(store, "cmp", "c1", vendor="blu")
    boto3.client("dynamodb").update_item(  # a claim written before claims recorded their task's date
        TableName=store.table_name, Key=contact_key("cmp", "c1"), UpdateExpression="REMOVE vendorTaskDate"
    )
    assert _sweep(store) == SweepSummary(stuck=1, to_results=0, abandoned=1)
    assert _state(store, "cmp", "c1") == (DialState.FAILED, ABANDONED)


class _ClaimedAgainMeanwhile(DynamoStore):
    """Between the sweep's read of a page and its writes, each contact on it is settled and claimed again by
    another batch (a redial's new attempt, say): what the sweep read is out of date."""

    def iter_stuck_claims(self, claimed_before: dt.datetime, since: dt.datetime) -> Iterator[list[Contact]]:
        for page in super().iter_stuck_claims(claimed_before, since):
            for contact in page:
                allowed = {DialState.SUBMITTING}
                assert self.move_contact(
                    contact.campaign_id, contact.contact_id, DialState.QUEUED, allowed_from=allowed, now=NOW
                )
                task = self.get_task(contact.campaign_id, "blu", TASK_DATE)
                assert task is not None
                fresh = self.get_contact(contact.campaign_id, contact.contact_id)
                assert fresh is not None and self.claim_contact(fresh, "b-2", task, NOW, NOW)
            yield page


def test_a_claim_taken_again_by_another_batch_after_the_sweep_read_it_is_left_to_that_batch(
    table_name: str,
) -> None:
    store = _ClaimedAgainMeanwhile(table_name)
    _campaign(store, "cmp")
    _claimed(store, "cmp", "c1", vendor="blu")
    adapters = _adapters(TASK_DATE + dt.timedelta(days=HORIZON_DAYS + 1))  # past the horizon: it would fail
    assert _sweep(store, adapters) == SweepSummary(stuck=1, to_results=0, abandoned=0)
    contact = store.get_contact("cmp", "c1")
    assert contact is not None
    assert (contact.state, contact.batch_id, contact.reason) == (DialState.SUBMITTING, "b-2", None)


def test_the_sweep_counts_what_it_settled_and_what_it_abandoned(store: DynamoStore, metrics: Any) -> None:
    _campaign(store, "cmp")
    _claimed(store, "cmp", "c1", vendor="blu")
    _claimed(store, "cmp", "c2", vendor="blu")
    _claimed(store, "gone", "c3", vendor=None)
    _claimed(store, "gone", "c4", vendor=None)
    metrics()
    assert _sweep(store) == SweepSummary(stuck=4, to_results=2, abandoned=2)
    assert _names(metrics()) == {"ContactsSweptFromDispatch": 4, "ContactsAbandonedByDispatch": 2}
    assert _sweep(store) == SweepSummary()  # nothing left stuck: nothing counted
    assert _names(metrics()) == {}

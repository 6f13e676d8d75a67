"""What the campaign and contact writes leave in the table, item by item: the listing and due indexes, the
queue, the claims in flight the sweep looks for, each contact's dial state and the conditions that keep one
writer from undoing another's work; and how values become DynamoDB attribute values."""

from __future__ import annotations

import datetime as dt
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from http import HTTPStatus
from typing import Any

import pytest

from dialhub.models import (
    Campaign,
    CampaignStatus,
    Contact,
    DialState,
    FailoverCause,
    Hold,
    VendorShare,
    VendorTask,
)
from dialhub.store import DynamoStore
from dialhub.store.codec import to_item
from tests.conftest import first_batch_write_left_partly_unprocessed, table_items

T0 = dt.datetime(2026, 11, 25, 1, 0, tzinfo=dt.UTC)
MANILA = dt.timezone(dt.timedelta(hours=8))
PHONE = "+639171234567"
TASK = VendorTask(campaign_id="cmp", vendor="blu", local_date=dt.date(2026, 11, 25), vendor_task_id="t-1")


def _item(store: DynamoStore, pk: str, sk: str) -> dict[str, Any]:
    return table_items(store)[(pk, sk)]


def _contact_item(store: DynamoStore, contact_id: str = "c1") -> dict[str, Any]:
    return _item(store, "CAMPAIGN#cmp", f"CONTACT#{contact_id}")


def _campaign(campaign_id: str = "cmp", created_at: dt.datetime = T0, **changes: Any) -> Campaign:
    fields: dict[str, Any] = {"name": "n", "vendor": "blu", "dial_date": T0.date(), "timezone": "Asia/Manila"}
    return Campaign(campaign_id=campaign_id, created_at=created_at, **(fields | changes))


def _with_contacts(store: DynamoStore, *contact_ids: str, vendor: str | None = None) -> list[Contact]:
    store.create_campaign(_campaign())
    contacts = [Contact(campaign_id="cmp", contact_id=cid, phone=PHONE, vendor=vendor) for cid in contact_ids]
    store.add_contacts(contacts, T0)
    return contacts


def _shard(contact_id: str) -> int:
    return zlib.crc32(contact_id.encode()) % 8


# Campaigns: the listing, the id taken once, the due index.


def test_a_new_campaign_is_listed_newest_first_with_all_its_vendors_and_expires_after_the_retention(
    store: DynamoStore,
) -> None:
    split = [VendorShare(vendor="blu", share=60), VendorShare(vendor="nxtele", share=40)]
    assert store.create_campaign(_campaign("cmp-a", vendors=[*split, VendorShare(vendor="airudder", share=0)]))
    assert store.create_campaign(_campaign("cmp-b", created_at=T0 + dt.timedelta(hours=1)))
    item = _item(store, "CAMPAIGN#cmp-a", "CAMPAIGN")
    assert item["gsi2pk"] == {"S": "CAMPAIGNS"}
    assert item["gsi2sk"] == {"S": "2026-11-25T01:00:00.000000Z#cmp-a"}
    assert item["expiresAt"] == {"N": str(int((T0 + store.retention).timestamp()))}
    assert item["vendorList"] == {"S": "|blu|nxtele|airudder|"}
    assert [campaign.campaign_id for campaign in store.page_campaigns(10).items] == ["cmp-b", "cmp-a"]
    assert [campaign.campaign_id for campaign in store.page_campaigns(10, vendor="airudder").items] == ["cmp-a"]


def test_a_campaign_id_is_taken_once_and_the_first_campaign_stays(store: DynamoStore) -> None:
    assert store.create_campaign(_campaign(name="first")) is True
    assert store.create_campaign(_campaign(name="second", created_at=T0 + dt.timedelta(hours=1))) is False
    stored = store.get_campaign("cmp")
    assert stored is not None and stored.name == "first" and stored.created_at == T0


def test_a_campaign_marked_due_is_on_the_due_index_for_that_day_and_nothing_else_changes(store: DynamoStore) -> None:
    store.create_campaign(_campaign())
    day = T0.date() + dt.timedelta(days=2)
    store.mark_campaign_due(_campaign(), day)
    item = _item(store, "CAMPAIGN#cmp", "CAMPAIGN")
    assert item["dialDate"] == {"S": day.isoformat()}
    assert (item["gsi1pk"], item["gsi1sk"]) == ({"S": "DUE"}, {"S": f"{day.isoformat()}#cmp"})
    assert "lastPlannedOn" not in item  # not a planning run's re-mark
    assert item["totalContacts"] == {"N": "0"}  # no contacts were taken in
    assert [campaign.campaign_id for campaign in store.iter_due_campaigns(day)] == ["cmp"]


def test_a_running_campaign_marked_due_is_planned_that_day_and_counts_the_contacts_taken_in(
    store: DynamoStore,
) -> None:
    store.create_campaign(_campaign())
    day = T0.date() + dt.timedelta(days=1)
    store.mark_campaign_due(_campaign(), day, running=True, new_contacts=3)
    store.mark_campaign_due(_campaign(), day, new_contacts=2)
    item = _item(store, "CAMPAIGN#cmp", "CAMPAIGN")
    assert item["lastPlannedOn"] == {"S": day.isoformat()} and item["dialDate"] == {"S": day.isoformat()}
    assert (item["gsi1pk"], item["gsi1sk"]) == ({"S": "DUE"}, {"S": f"{day.isoformat()}#cmp"})
    assert item["totalContacts"] == {"N": "5"}
    campaign = store.get_campaign("cmp")
    assert campaign is not None and campaign.total_contacts == 5 and campaign.last_planned_on == day


def test_a_campaign_cleared_from_the_due_index_by_planning_says_which_day_it_was_planned(store: DynamoStore) -> None:
    store.create_campaign(_campaign())
    store.mark_campaign_due(_campaign(), T0.date())
    store.clear_campaign_due("cmp", planned_on=T0.date())
    item = _item(store, "CAMPAIGN#cmp", "CAMPAIGN")
    assert item["lastPlannedOn"] == {"S": T0.date().isoformat()}
    assert "gsi1pk" not in item and "gsi1sk" not in item
    assert list(store.iter_due_campaigns(T0.date() + dt.timedelta(days=30))) == []
    store.mark_campaign_due(_campaign(), T0.date() + dt.timedelta(days=1))
    store.clear_campaign_due("cmp")  # cleared without planning: the day it last ran stays
    item = _item(store, "CAMPAIGN#cmp", "CAMPAIGN")
    assert item["lastPlannedOn"] == {"S": T0.date().isoformat()} and "gsi1pk" not in item and "gsi1sk" not in item


def test_a_campaign_status_changes_until_it_is_cancelled_and_never_after(store: DynamoStore) -> None:
    store.create_campaign(_campaign())
    assert store.set_campaign_status("cmp", CampaignStatus.PAUSED) is True
    assert _item(store, "CAMPAIGN#cmp", "CAMPAIGN")["status"] == {"S": "paused"}
    assert store.set_campaign_status("cmp", CampaignStatus.CANCELLED) is True
    assert store.set_campaign_status("cmp", CampaignStatus.ACTIVE) is False
    assert _item(store, "CAMPAIGN#cmp", "CAMPAIGN")["status"] == {"S": "cancelled"}
    assert store.set_campaign_status("nope", CampaignStatus.PAUSED) is False
    assert ("CAMPAIGN#nope", "CAMPAIGN") not in table_items(store)


# Contacts: the queue and the moves forward.


def test_new_contacts_are_queued_in_their_campaigns_queue_and_expire_after_the_retention(store: DynamoStore) -> None:
    store.create_campaign(_campaign())
    taken_in = T0 + dt.timedelta(minutes=5)
    store.add_contacts([Contact(campaign_id="cmp", contact_id=cid, phone=PHONE) for cid in ("c1", "c2")], taken_in)
    for contact_id in ("c1", "c2"):
        item = _contact_item(store, contact_id)
        assert item["state"] == {"S": "queued"} and item["phone"] == {"S": PHONE}
        assert (item["gsi1pk"], item["gsi1sk"]) == ({"S": "QUEUE#cmp"}, {"S": contact_id})
        assert item["expiresAt"] == {"N": str(int((taken_in + store.retention).timestamp()))}
    assert sorted(contact.contact_id for page in store.iter_queued_contacts("cmp") for contact in page) == ["c1", "c2"]


def test_every_contact_is_written_when_dynamodb_leaves_part_of_a_write_unprocessed(
    store: DynamoStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.create_campaign(_campaign())
    requests = first_batch_write_left_partly_unprocessed(store, monkeypatch)
    store.add_contacts([Contact(campaign_id="cmp", contact_id=f"c{i:02d}", phone=PHONE) for i in range(30)], T0)
    assert requests == [25, 20, 5]
    assert sorted(sk for pk, sk in table_items(store) if sk.startswith("CONTACT#")) == [
        f"CONTACT#c{i:02d}" for i in range(30)
    ]


def test_a_moved_contact_leaves_the_queue_and_says_when(store: DynamoStore) -> None:
    _with_contacts(store, "c1", "c2")
    moved = T0 + dt.timedelta(minutes=7)
    assert store.move_contact("cmp", "c1", DialState.PLANNED, allowed_from=[DialState.QUEUED], now=moved) is True
    item = _contact_item(store)
    assert item["state"] == {"S": "planned"} and item["updatedAt"] == {"S": moved.isoformat()}
    assert "gsi1pk" not in item and "gsi1sk" not in item
    assert [contact.contact_id for page in store.iter_queued_contacts("cmp") for contact in page] == ["c2"]


def test_a_contact_moves_only_from_the_states_allowed_and_only_if_it_exists(store: DynamoStore) -> None:
    _with_contacts(store, "c1")
    later = T0 + dt.timedelta(minutes=1)
    assert not store.move_contact("cmp", "c1", DialState.FINAL, allowed_from=[DialState.SUBMITTED], now=later)
    assert not store.move_contact("cmp", "c9", DialState.PLANNED, allowed_from=[DialState.QUEUED], now=later)
    assert ("CAMPAIGN#cmp", "CONTACT#c9") not in table_items(store)
    assert store.move_contact(
        "cmp", "c1", DialState.SUBMITTED, allowed_from=[DialState.PLANNED, DialState.QUEUED], now=later
    )
    item = _contact_item(store)
    assert item["state"] == {"S": "submitted"} and item["updatedAt"] == {"S": later.isoformat()}


def test_a_move_for_a_batch_leaves_a_contact_another_batch_claimed(store: DynamoStore) -> None:
    _with_contacts(store, "c1", "c2", "c3")
    for contact in store.get_contacts("cmp", ["c1", "c2"]).values():
        assert store.claim_contact(contact, "b-1", TASK, T0, T0)
    submitting = {DialState.SUBMITTING}
    assert not store.move_contact("cmp", "c1", DialState.SUBMITTED, allowed_from=submitting, now=T0, batch_id="b-2")
    assert _contact_item(store)["state"] == {"S": "submitting"}
    assert store.move_contact("cmp", "c2", DialState.SUBMITTED, allowed_from=submitting, now=T0, batch_id="b-1")
    # not claimed by any batch yet: any batch may move it
    queued = {DialState.QUEUED}
    assert store.move_contact("cmp", "c3", DialState.FAILED, allowed_from=queued, now=T0, batch_id="b-2")
    assert [_contact_item(store, cid)["state"]["S"] for cid in ("c1", "c2", "c3")] == [
        "submitting",
        "submitted",
        "failed",
    ]


# Claims: indexed by when they were made, found by the sweep until a move settles them.


def test_a_claim_records_its_batch_and_task_and_is_indexed_by_the_utc_day_and_time_it_was_made(
    store: DynamoStore,
) -> None:
    [contact] = _with_contacts(store, "c1")
    claimed_at = dt.datetime(2026, 11, 25, 7, 30, tzinfo=MANILA)  # 23:30 UTC, the day before
    now = claimed_at + dt.timedelta(minutes=2)
    assert store.claim_contact(contact, "b-1", TASK, claimed_at, now) is True
    item = _contact_item(store)
    assert {name: item[name] for name in ("state", "batchId", "vendorTaskId", "vendorTaskDate")} == {
        "state": {"S": "submitting"},
        "batchId": {"S": "b-1"},
        "vendorTaskId": {"S": "t-1"},
        "vendorTaskDate": {"S": "2026-11-25"},
    }
    assert item["claimedAt"] == {"S": claimed_at.isoformat()} and item["updatedAt"] == {"S": now.isoformat()}
    assert item["gsi1pk"] == {"S": f"CLAIMED#2026-11-24#{_shard('c1')}"}
    assert item["gsi1sk"] == {"S": "2026-11-24T23:30:00.000000Z#c1"}
    assert list(store.iter_queued_contacts("cmp")) == [[]]  # out of the queue


def test_a_redelivered_batch_claims_its_contacts_again_and_no_other_batch_takes_them(store: DynamoStore) -> None:
    [contact] = _with_contacts(store, "c1")
    assert store.claim_contact(contact, "b-1", TASK, T0, T0)
    again = T0 + dt.timedelta(minutes=5)
    claimed = store.get_contact("cmp", "c1")
    assert claimed is not None
    assert store.claim_contact(claimed, "b-1", TASK, T0, again) is True
    item = _contact_item(store)
    assert item["updatedAt"] == {"S": again.isoformat()} and item["claimedAt"] == {"S": T0.isoformat()}
    assert store.claim_contact(claimed, "b-2", TASK.model_copy(update={"vendor_task_id": "t-2"}), again, again) is False
    assert _contact_item(store) == item


def test_a_planned_contact_is_claimed_by_whichever_of_its_batches_comes_first(store: DynamoStore) -> None:
    """A contact planned again carries its new batch; a late delivery of the old one may still claim it, and
    then the new batch finds it taken: it is sent once either way."""
    [contact] = _with_contacts(store, "c1")
    assert store.move_contact(
        "cmp", "c1", DialState.PLANNED, allowed_from=[DialState.QUEUED], now=T0, sets={"batchId": "b-new"}
    )
    assert store.claim_contact(contact, "b-old", TASK, T0, T0) is True
    assert store.claim_contact(contact, "b-new", TASK, T0, T0) is False
    assert _contact_item(store)["batchId"] == {"S": "b-old"}


def test_a_contact_sent_or_closed_or_missing_is_not_claimed(store: DynamoStore) -> None:
    contacts = _with_contacts(store, "c1", "c2")
    store.move_contact("cmp", "c1", DialState.SUBMITTED, allowed_from=[DialState.QUEUED], now=T0)
    store.move_contact("cmp", "c2", DialState.FINAL, allowed_from=[DialState.QUEUED], now=T0)
    before = table_items(store)
    for contact in contacts:
        assert store.claim_contact(contact, "b-1", TASK, T0, T0) is False
    missing = Contact(campaign_id="cmp", contact_id="c9", phone=PHONE)
    assert store.claim_contact(missing, "b-1", TASK, T0, T0) is False
    assert table_items(store) == before


def test_the_sweep_finds_every_claim_still_in_flight_between_its_two_times_in_every_shard(
    store: DynamoStore,
) -> None:
    """`since` and `claimed_before` are Manila times whose UTC days differ from their own: the claims are
    indexed by UTC day; a claim at `since` is found, one at `claimed_before` is not."""
    since = dt.datetime(2026, 11, 24, 7, 0, tzinfo=MANILA)  # 2026-11-23 23:00 UTC
    before = dt.datetime(2026, 11, 26, 6, 0, tzinfo=MANILA)  # 2026-11-25 22:00 UTC
    tick = dt.timedelta(microseconds=1)
    claimed_at = {
        "c0": since,
        "c1": dt.datetime(2026, 11, 24, 0, 0, tzinfo=dt.UTC),
        "c2": dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC),
        "c3": dt.datetime(2026, 11, 24, 23, 59, tzinfo=dt.UTC),
        "c4": dt.datetime(2026, 11, 25, 0, 0, tzinfo=dt.UTC),
        "c5": dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC),
        "c6": dt.datetime(2026, 11, 25, 21, 0, tzinfo=dt.UTC),
        "c7": before - tick,
        "c8": since - tick,  # too early
        "c9": before,  # not before `claimed_before`: SQS may still deliver its batch
        "c10": since - dt.timedelta(days=2),
        "c11": since + dt.timedelta(hours=2),  # settled below
        "c12": since + dt.timedelta(hours=3),  # moved on, its index entry kept
    }
    assert {_shard(contact_id) for contact_id in [f"c{i}" for i in range(8)]} == set(range(8))
    contacts = _with_contacts(store, *claimed_at, "c13")
    for contact in contacts[:-1]:
        assert store.claim_contact(contact, "b-1", TASK, claimed_at[contact.contact_id], T0)
    store.move_contact("cmp", "c11", DialState.SUBMITTED, allowed_from={DialState.SUBMITTING}, now=T0)
    kept = _contact_item(store, "c12")
    index = {"gsi1pk": kept["gsi1pk"]["S"], "gsi1sk": kept["gsi1sk"]["S"]}
    store.move_contact("cmp", "c12", DialState.UNCONFIRMED, allowed_from={DialState.SUBMITTING}, now=T0, sets=index)
    assert _contact_item(store, "c12")["gsi1pk"] == kept["gsi1pk"]

    pages = list(store.iter_stuck_claims(before, since))
    assert pages and all(pages)  # no empty pages
    found = {contact.contact_id: contact for page in pages for contact in page}
    assert sorted(found) == [f"c{i}" for i in range(8)]
    assert {(contact.state, contact.batch_id) for contact in found.values()} == {(DialState.SUBMITTING, "b-1")}
    assert found["c0"].claimed_at == since


def test_the_sweep_finds_nothing_where_nothing_is_claimed(store: DynamoStore) -> None:
    [contact] = _with_contacts(store, "c1")
    assert list(store.iter_stuck_claims(T0 + dt.timedelta(days=1), T0 - dt.timedelta(days=1))) == []
    store.claim_contact(contact, "b-1", TASK, T0, T0)
    assert list(store.iter_stuck_claims(T0 - dt.timedelta(seconds=1), T0 - dt.timedelta(days=1))) == []


@contextmanager
def _host_in(zone: str, offset: int) -> Iterator[None]:
    """The host's own time zone (TZ) set to `zone`, `offset` hours from UTC, and put back after."""
    try:
        with pytest.MonkeyPatch.context() as host:
            host.setenv("TZ", zone)
            time.tzset()
            assert T0.astimezone().utcoffset() == dt.timedelta(hours=offset)
            yield
    finally:
        time.tzset()


HOST_ZONES = pytest.mark.parametrize(("host_zone", "offset"), [("MNL-8", 8), ("PST8", -8)])


@HOST_ZONES
def test_the_sweep_reads_claims_by_their_utc_day_whatever_the_hosts_time_zone(
    store: DynamoStore, host_zone: str, offset: int
) -> None:
    """On a host in Manila `since` falls on the next day, in Los Angeles `claimed_before` on the day before."""
    since = dt.datetime(2026, 11, 23, 23, 0, tzinfo=dt.UTC)
    before = dt.datetime(2026, 11, 25, 3, 0, tzinfo=dt.UTC)
    first, last = _with_contacts(store, "c1", "c2")
    assert store.claim_contact(first, "b-1", TASK, since, T0)
    assert store.claim_contact(last, "b-1", TASK, before - dt.timedelta(hours=2), T0)
    with _host_in(host_zone, offset):
        found = sorted(contact.contact_id for page in store.iter_stuck_claims(before, since) for contact in page)
    assert found == ["c1", "c2"]


@HOST_ZONES
def test_a_claim_is_indexed_by_its_utc_day_whatever_the_hosts_time_zone(
    store: DynamoStore, host_zone: str, offset: int
) -> None:
    """23:30 UTC is the next day in Manila, 03:00 UTC the day before in Los Angeles: the index keeps UTC's."""
    late, early = _with_contacts(store, "c1", "c2")
    with _host_in(host_zone, offset):
        assert store.claim_contact(late, "b-1", TASK, dt.datetime(2026, 11, 24, 23, 30, tzinfo=dt.UTC), T0)
        assert store.claim_contact(early, "b-1", TASK, dt.datetime(2026, 11, 25, 3, 0, tzinfo=dt.UTC), T0)
    assert _contact_item(store, "c1")["gsi1pk"] == {"S": f"CLAIMED#2026-11-24#{_shard('c1')}"}
    assert _contact_item(store, "c2")["gsi1pk"] == {"S": f"CLAIMED#2026-11-25#{_shard('c2')}"}


# Back to the queue: requeued, held, failed over.


def test_only_a_queued_contact_is_held_and_a_planned_one_is_requeued_with_its_hold(store: DynamoStore) -> None:
    _with_contacts(store, "c1", "c2")
    hold = Hold(reason="outside_window", until=T0 + dt.timedelta(hours=2), checked_at=T0)
    assert store.hold_contact("cmp", "c1", hold) is True
    assert store.get_contact("cmp", "c1").hold == hold  # type: ignore[union-attr]
    store.move_contact("cmp", "c2", DialState.PLANNED, allowed_from=[DialState.QUEUED], now=T0, sets={"batchId": "b"})
    assert store.hold_contact("cmp", "c2", hold) is False
    assert "hold" not in _contact_item(store, "c2")
    later = T0 + dt.timedelta(minutes=3)
    assert store.requeue_contact("cmp", "c2", later, hold) is True
    item = _contact_item(store, "c2")
    assert item["state"] == {"S": "queued"} and item["updatedAt"] == {"S": later.isoformat()} and "batchId" not in item
    assert (item["gsi1pk"], item["gsi1sk"]) == ({"S": "QUEUE#cmp"}, {"S": "c2"})
    assert store.get_contact("cmp", "c2").hold == hold  # type: ignore[union-attr]
    assert store.requeue_contact("cmp", "c1", later) is True  # requeued without a hold: its old one goes
    assert "hold" not in _contact_item(store, "c1")


def test_a_claimed_contact_fails_over_to_the_fallback_with_its_claim_and_hold_cleared(store: DynamoStore) -> None:
    [contact] = _with_contacts(store, "c1", vendor="blu")
    store.hold_contact("cmp", "c1", Hold(reason="capped", checked_at=T0))
    assert store.claim_contact(contact, "b-1", TASK, T0, T0)
    claimed = store.get_contact("cmp", "c1")
    assert claimed is not None
    later = T0 + dt.timedelta(minutes=4)
    reason = "".join(f"{i % 10}" for i in range(700))
    assert store.fail_over_contact(claimed, "b-1", "blu", "nxtele", FailoverCause.BATCH_REFUSED, reason, later)
    item = _contact_item(store)
    assert {name: item[name] for name in ("state", "vendor", "failedOverFrom", "failoverCause", "updatedAt")} == {
        "state": {"S": "queued"},
        "vendor": {"S": "nxtele"},
        "failedOverFrom": {"S": "blu"},
        "failoverCause": {"S": "batch_refused"},
        "updatedAt": {"S": later.isoformat()},
    }
    assert item["failoverReason"] == {"S": reason[:500]}
    assert (item["gsi1pk"], item["gsi1sk"]) == ({"S": "QUEUE#cmp"}, {"S": "c1"})
    for gone in ("batchId", "hold", "claimedAt", "vendorTaskId", "vendorTaskDate"):
        assert gone not in item, gone


def test_a_contact_fails_over_only_from_its_own_vendor_or_the_campaigns_when_it_has_none(store: DynamoStore) -> None:
    store.create_campaign(_campaign())
    contacts = [
        Contact(campaign_id="cmp", contact_id="theirs", phone=PHONE, vendor="nxtele"),
        Contact(campaign_id="cmp", contact_id="old", phone=PHONE),  # stored before splits
    ]
    store.add_contacts(contacts, T0)
    before = _contact_item(store, "theirs")
    cause = FailoverCause.VENDOR_DOWN
    assert store.fail_over_contact(contacts[0], "b-1", "blu", "airudder", cause, "down", T0) is False
    assert _contact_item(store, "theirs") == before
    assert store.fail_over_contact(contacts[1], "b-1", "blu", "airudder", cause, "down", T0) is True
    assert _contact_item(store, "old")["vendor"] == {"S": "airudder"}


def test_a_contact_another_batch_claimed_or_already_sent_does_not_fail_over(store: DynamoStore) -> None:
    contacts = _with_contacts(store, "c1", "c2", vendor="blu")
    assert store.claim_contact(contacts[0], "b-1", TASK, T0, T0)
    store.move_contact("cmp", "c2", DialState.SUBMITTED, allowed_from=[DialState.QUEUED], now=T0)
    before = table_items(store)
    cause = FailoverCause.VENDOR_DOWN
    assert store.fail_over_contact(contacts[0], "b-2", "blu", "airudder", cause, "down", T0) is False
    assert store.fail_over_contact(contacts[1], "b-1", "blu", "airudder", cause, "down", T0) is False
    assert table_items(store) == before


# Vendor tasks.


def test_submissions_with_none_in_doubt_leave_cleared_doubts_cleared(store: DynamoStore) -> None:
    """The poller looks for results while the task's doubt count is set: sure submissions never set it."""
    task = store.create_task(TASK, T0)
    store.add_task_submissions(task, 2, "job-1", unconfirmed=1)
    doubted = store.get_task("cmp", "blu", TASK.local_date)
    assert doubted is not None and doubted.unconfirmed == 1
    assert store.clear_task_doubts(doubted) is True
    store.add_task_submissions(task, 3, "job-2")
    item = _item(store, "CAMPAIGN#cmp", "TASK#blu#2026-11-25")
    assert item["submitted"] == {"N": "5"} and "unconfirmed" not in item


# Values as DynamoDB attribute values.


def test_a_number_of_an_int_subclass_is_written_as_its_value() -> None:
    assert to_item({"status": HTTPStatus.ACCEPTED, "n": 7}) == {"status": {"N": "202"}, "n": {"N": "7"}}


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan")])
def test_infinity_and_nan_are_refused_saying_why(value: float) -> None:
    with pytest.raises(TypeError, match=r"^Infinity and NaN not supported$"):
        to_item({"a": value})

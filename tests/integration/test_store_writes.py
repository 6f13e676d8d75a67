"""What the store's writes leave in the table, item by item: the attributes a later read, a TTL or an index
relies on, and the conditions that keep one writer from undoing another's work."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from botocore.exceptions import ClientError

from dialhub.dispositions import CallStatus, Disposition
from dialhub.models import (
    CallOutcome,
    Campaign,
    Contact,
    DialState,
    ExportFormat,
    ExportJob,
    ExportPhase,
    ExportProgress,
    ExportState,
    Hold,
    Suppression,
    VendorTask,
)
from dialhub.store import Circuit, DynamoStore, RecordResult, RedialRequest
from dialhub.store.circuits import FAILURES_TO_OPEN, OPEN_FOR
from dialhub.store.compliance import DIAL_HISTORY_RETENTION, DialRecord
from dialhub.store.keys import feed_key, stamp
from tests.conftest import first_batch_write_left_partly_unprocessed, table_items

T0 = dt.datetime(2026, 11, 25, 1, 0, tzinfo=dt.UTC)
PHONE = "+639171234567"


def _item(store: DynamoStore, pk: str, sk: str) -> dict[str, Any]:
    return table_items(store)[(pk, sk)]


def _campaign_with_contact(store: DynamoStore) -> None:
    store.create_campaign(
        Campaign(campaign_id="cmp", name="n", vendor="blu", dial_date=T0.date(), timezone="Asia/Manila", created_at=T0)
    )
    store.add_contacts([Contact(campaign_id="cmp", contact_id="c1", phone=PHONE)], T0)


def _suppression_item(store: DynamoStore) -> dict[str, Any]:
    [item] = [item for (pk, _), item in table_items(store).items() if pk.startswith("SUPPRESSION#")]
    return item


def test_a_timed_suppression_expires_from_the_table_one_second_after_it_ends(store: DynamoStore) -> None:
    until = T0 + dt.timedelta(days=30)
    store.put_suppression(Suppression(phone=PHONE, reason="asked", until=until, created_at=T0))
    assert _suppression_item(store)["expiresAt"] == {"N": str(int(until.timestamp()) + 1)}


def test_a_suppression_for_good_has_no_expiry(store: DynamoStore) -> None:
    store.put_suppression(Suppression(phone=PHONE, reason="opt_out", created_at=T0))
    assert "expiresAt" not in _suppression_item(store)


def test_a_plain_put_replaces_a_suppression_for_good(store: DynamoStore) -> None:
    """Only callers that ask (`unless_for_good`) keep a for-good suppression; the API's own put replaces it."""
    store.put_suppression(Suppression(phone=PHONE, reason="opt_out", created_at=T0))
    until = T0 + dt.timedelta(days=1)
    assert store.put_suppression(Suppression(phone=PHONE, reason="asked", until=until, created_at=T0)) is True
    stored = store.get_suppression(PHONE)
    assert stored is not None and stored.reason == "asked" and stored.until == until


def test_unless_for_good_keeps_a_suppression_for_good_and_replaces_a_timed_one(store: DynamoStore) -> None:
    until = T0 + dt.timedelta(days=1)
    store.put_suppression(Suppression(phone=PHONE, reason="asked", until=until, created_at=T0))
    for_good = Suppression(phone=PHONE, reason="opt_out", source="blu", created_at=T0)
    assert store.put_suppression(for_good, unless_for_good=True) is True
    assert store.get_suppression(PHONE) == for_good
    later = Suppression(phone=PHONE, reason="do_not_call", source="nxtele", created_at=T0 + dt.timedelta(hours=1))
    assert store.put_suppression(later, unless_for_good=True) is False
    assert store.get_suppression(PHONE) == for_good


def test_a_requeued_contact_is_back_on_the_queue_index_without_its_batch(store: DynamoStore) -> None:
    _campaign_with_contact(store)
    later = T0 + dt.timedelta(minutes=7)
    assert store.move_contact(
        "cmp", "c1", DialState.PLANNED, allowed_from=[DialState.QUEUED], now=T0, sets={"batchId": "b-1"}
    )
    hold = Hold(reason="outside_window", until=T0 + dt.timedelta(hours=2), checked_at=later)
    assert store.requeue_contact("cmp", "c1", later, hold) is True
    item = _item(store, "CAMPAIGN#cmp", "CONTACT#c1")
    assert item["state"] == {"S": "queued"} and item["updatedAt"] == {"S": later.isoformat()}
    assert item["gsi1pk"] == {"S": "QUEUE#cmp"} and item["gsi1sk"] == {"S": "c1"}
    assert "batchId" not in item
    contact = store.get_contact("cmp", "c1")
    assert contact is not None and contact.hold == hold and contact.updated_at == later


def test_a_contact_already_submitted_is_not_requeued(store: DynamoStore) -> None:
    _campaign_with_contact(store)
    store.move_contact("cmp", "c1", DialState.SUBMITTED, allowed_from=[DialState.QUEUED], now=T0)
    assert store.requeue_contact("cmp", "c1", T0) is False
    assert _item(store, "CAMPAIGN#cmp", "CONTACT#c1")["state"] == {"S": "submitted"}


def test_a_closed_task_leaves_the_open_tasks_index(store: DynamoStore) -> None:
    task = VendorTask(campaign_id="cmp", vendor="blu", local_date=T0.date(), vendor_task_id="t-1")
    store.create_task(task, T0)
    assert [open_task.vendor_task_id for open_task in store.iter_open_tasks()] == ["t-1"]
    store.close_task(task)
    [item] = [item for key, item in table_items(store).items() if key[1].startswith("TASK#")]
    assert item["open"] == {"BOOL": False}
    assert "gsi1pk" not in item and "gsi1sk" not in item
    assert list(store.iter_open_tasks()) == []


def test_cancellations_add_up_on_their_task_and_never_make_one(store: DynamoStore) -> None:
    task = VendorTask(campaign_id="cmp", vendor="nxtele", local_date=T0.date(), vendor_task_id="t-1")
    store.create_task(task, T0)
    store.add_task_cancellation(task)
    store.add_task_cancellation(task)
    assert store.get_task("cmp", "nxtele", T0.date()).cancelled == 2
    with pytest.raises(ClientError, match="ConditionalCheckFailed"):
        store.add_task_cancellation(task.model_copy(update={"local_date": T0.date() + dt.timedelta(days=1)}))
    assert len([key for key in table_items(store) if key[1].startswith("TASK#")]) == 1


def test_a_task_made_by_a_racing_writer_first_is_the_one_used_and_a_zero_count_writes_nothing(
    store: DynamoStore,
) -> None:
    first = VendorTask(campaign_id="cmp", vendor="blu", local_date=T0.date(), vendor_task_id="t-1")
    assert store.create_task(first, T0) == first
    late = first.model_copy(update={"vendor_task_id": "t-2"})  # another dispatcher made its own meanwhile
    assert store.create_task(late, T0).vendor_task_id == "t-1"
    before = table_items(store)
    store.add_task_submissions(first, 0, "job-9")
    assert table_items(store) == before
    store.add_task_submissions(first, 3, "job-9")
    [task] = store.iter_open_tasks()
    assert (task.vendor_task_id, task.submitted, task.job_ids) == ("t-1", 3, ["job-9"])


def test_submissions_and_doubts_add_up_and_reopen_a_closed_task(
    store: DynamoStore,
) -> None:
    task = store.create_task(VendorTask(campaign_id="cmp", vendor="blu", local_date=T0.date(), vendor_task_id="t"), T0)
    key = ("CAMPAIGN#cmp", f"TASK#blu#{T0.date().isoformat()}")
    created = _item(store, *key)
    assert (created["gsi1pk"], created["gsi1sk"]) == ({"S": "OPENTASK"}, {"S": f"blu#{T0.date().isoformat()}#cmp"})
    assert int(created["expiresAt"]["N"]) > T0.timestamp() and "jobIds" not in created
    store.add_task_submissions(task, 1, "job-1")
    store.close_task(task)
    store.add_task_submissions(task, 4, "job-2", unconfirmed=2)
    store.add_task_submissions(task, 2, unconfirmed=1)
    item = _item(store, *key)
    assert (item["open"], item["gsi1pk"]) == ({"BOOL": True}, {"S": "OPENTASK"})
    assert item["gsi1sk"] == {"S": f"blu#{T0.date().isoformat()}#cmp"}
    [reopened] = store.iter_open_tasks()
    assert (reopened.submitted, reopened.unconfirmed, sorted(reopened.job_ids)) == (7, 3, ["job-1", "job-2"])


def _running_export(store: DynamoStore) -> ExportJob:
    job = ExportJob(
        export_id="exp-1", campaign_id="cmp", format=ExportFormat.CSV, object_key="exports/exp-1.csv", created_at=T0
    )
    store.create_export(job, T0 + dt.timedelta(days=7))
    return job


def test_a_failed_export_drops_its_lease_and_says_when_it_ended(store: DynamoStore) -> None:
    _running_export(store)
    assert store.claim_export("exp-1", "owner-a", T0 + dt.timedelta(minutes=15), T0) is not None
    ended = T0 + dt.timedelta(minutes=3)
    assert store.fail_export("exp-1", "the campaign is gone", ended) is True
    item = _item(store, "EXPORT#exp-1", "EXPORT")
    assert "leaseOwner" not in item and "leaseUntil" not in item
    assert item["finishedAt"] == {"S": ended.isoformat()}
    job = store.get_export("exp-1")
    assert job is not None and job.state is ExportState.FAILED and job.error == "the campaign is gone"
    assert job.finished_at == ended
    assert store.fail_export("exp-1", "again", ended) is False  # an ended export stays as it ended
    assert store.get_export("exp-1").error == "the campaign is gone"  # type: ignore[union-attr]


def test_a_redialled_contact_remembers_the_call_it_was_redialled_after(store: DynamoStore) -> None:
    _campaign_with_contact(store)
    store.move_contact(
        "cmp", "c1", DialState.SUBMITTED, allowed_from=[DialState.QUEUED], now=T0, sets={"batchId": "b-1"}
    )
    later = T0 + dt.timedelta(minutes=9)
    hold = Hold(reason="redial", until=later + dt.timedelta(hours=1), checked_at=later)
    outcome = CallOutcome(
        vendor="blu",
        vendor_call_id="call-9",
        campaign_id="cmp",
        contact_id="c1",
        status=CallStatus.NO_ANSWER,
        disposition=Disposition.NOT_CONNECTED,
    )
    store.record_outcome(outcome, later, redial=RedialRequest(hold=hold, max_attempts=3, dial_date=T0.date()))
    item = _item(store, "CAMPAIGN#cmp", "CONTACT#c1")
    assert item["state"] == {"S": "queued"} and item["disposition"] == {"S": "not_connected"}
    assert item["lastCallId"] == {"S": "call-9"} and item["lastCallVendor"] == {"S": "blu"}
    assert item["updatedAt"] == {"S": later.isoformat()} and item["attempt"] == {"N": "2"}
    assert item["gsi1pk"] == {"S": "QUEUE#cmp"} and item["gsi1sk"] == {"S": "c1"} and "batchId" not in item


def test_a_released_export_keeps_no_lease_and_another_invocation_takes_it_at_once(store: DynamoStore) -> None:
    _running_export(store)
    until = T0 + dt.timedelta(minutes=15)
    assert store.claim_export("exp-1", "owner-a", until, T0) is not None
    assert store.release_export("exp-1", "owner-b") is False  # only the holder gives a lease up
    assert store.release_export("exp-1", "owner-a") is True
    item = _item(store, "EXPORT#exp-1", "EXPORT")
    assert "leaseOwner" not in item and "leaseUntil" not in item
    assert store.claim_export("exp-1", "owner-b", until, T0 + dt.timedelta(seconds=1)) is not None


def _redial_after_talking(store: DynamoStore, **times: dt.datetime) -> dict[str, Any]:
    _campaign_with_contact(store)
    store.move_contact("cmp", "c1", DialState.SUBMITTED, allowed_from=[DialState.QUEUED], now=T0)
    hold = Hold(reason="redial", until=T0 + dt.timedelta(hours=2), checked_at=T0)
    outcome = CallOutcome(
        vendor="blu",
        vendor_call_id="call-3",
        campaign_id="cmp",
        contact_id="c1",
        status=CallStatus.ANSWERED,
        disposition=Disposition.CALLBACK_REQUESTED,
        **times,
    )
    store.record_outcome(
        outcome, T0 + dt.timedelta(minutes=30), redial=RedialRequest(hold=hold, max_attempts=3, dial_date=T0.date())
    )
    return _item(store, "CAMPAIGN#cmp", "CONTACT#c1")


def test_a_contact_redialled_after_a_conversation_remembers_when_it_ended(store: DynamoStore) -> None:
    """The quiet period after a conversation counts from its end, also when the policy calls again."""
    ended = T0 + dt.timedelta(minutes=12)
    item = _redial_after_talking(store, answered_at=T0 + dt.timedelta(minutes=10), ended_at=ended)
    assert item["state"] == {"S": "queued"} and item["lastConversationAt"] == {"S": ended.isoformat()}


def test_a_conversation_without_times_counts_from_when_it_was_recorded(store: DynamoStore) -> None:
    item = _redial_after_talking(store)
    assert item["lastConversationAt"] == {"S": (T0 + dt.timedelta(minutes=30)).isoformat()}


def test_an_export_job_expires_with_its_file_and_is_created_once(store: DynamoStore) -> None:
    job = _running_export(store)
    assert _item(store, "EXPORT#exp-1", "EXPORT")["expiresAt"] == {
        "N": str(int((T0 + dt.timedelta(days=7)).timestamp()))
    }
    with pytest.raises(ClientError) as again:
        store.create_export(job.model_copy(update={"format": ExportFormat.JSONL}), T0 + dt.timedelta(days=9))
    assert again.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    assert store.get_export("exp-1").format is ExportFormat.CSV  # type: ignore[union-attr]


def test_a_lease_held_by_another_invocation_is_not_taken_until_it_ends(store: DynamoStore) -> None:
    _running_export(store)
    until = T0 + dt.timedelta(minutes=15)
    assert store.claim_export("exp-1", "owner-a", until, T0) is not None
    assert store.claim_export("exp-1", "owner-b", until, T0 + dt.timedelta(minutes=14)) is None
    taken = store.claim_export("exp-1", "owner-b", until + dt.timedelta(minutes=15), until + dt.timedelta(seconds=1))
    assert taken is not None and _item(store, "EXPORT#exp-1", "EXPORT")["leaseOwner"] == {"S": "owner-b"}


def test_saved_progress_keeps_the_lease_unless_it_is_given_up(store: DynamoStore) -> None:
    _running_export(store)
    assert store.claim_export("exp-1", "owner-a", T0 + dt.timedelta(minutes=15), T0) is not None
    progress = ExportProgress(phase=ExportPhase.ROWS, after="c9", rows=10)
    assert store.save_export_progress("exp-1", "owner-a", progress) is True
    assert _item(store, "EXPORT#exp-1", "EXPORT")["leaseOwner"] == {"S": "owner-a"}
    assert store.save_export_progress("exp-1", "owner-a", progress, release=True) is True
    item = _item(store, "EXPORT#exp-1", "EXPORT")
    assert "leaseOwner" not in item and "leaseUntil" not in item
    assert store.get_export("exp-1").progress == progress  # type: ignore[union-attr]


def test_a_finished_export_drops_its_lease_and_says_when_it_ended(store: DynamoStore) -> None:
    _running_export(store)
    assert store.claim_export("exp-1", "owner-a", T0 + dt.timedelta(minutes=15), T0) is not None
    ended = T0 + dt.timedelta(minutes=2)
    assert store.finish_export("exp-1", "owner-b", ExportProgress(rows=3), ended) is False  # not the holder
    assert store.finish_export("exp-1", "owner-a", ExportProgress(rows=3), ended) is True
    item = _item(store, "EXPORT#exp-1", "EXPORT")
    assert "leaseOwner" not in item and "leaseUntil" not in item and item["finishedAt"] == {"S": ended.isoformat()}
    assert store.get_export("exp-1").state is ExportState.DONE  # type: ignore[union-attr]


def test_a_raw_payload_that_is_not_utf8_is_kept_with_replacement_characters(store: DynamoStore) -> None:
    _campaign_with_contact(store)
    outcome = CallOutcome(
        vendor="blu",
        vendor_call_id="call-7",
        campaign_id="cmp",
        contact_id="c1",
        status=CallStatus.NO_ANSWER,
        disposition=Disposition.NOT_CONNECTED,
    )
    store.record_outcome(outcome, T0, raw=b'{"callId": "call-7", "note": "\xff\xfe"}')
    [raw] = [item for (pk, sk), item in table_items(store).items() if sk.startswith("RAW#")]
    assert raw["body"] == {"S": '{"callId": "call-7", "note": "\ufffd\ufffd"}'}
    assert raw["receivedAt"] == {"S": T0.isoformat()}


def test_every_dial_record_is_kept_when_dynamodb_leaves_part_of_a_write_unprocessed(
    store: DynamoStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    dials = [
        DialRecord(
            phone=f"+6391712300{i % 3:02d}",
            at=T0 + dt.timedelta(minutes=i),
            campaign_id="cmp",
            contact_id=f"c{i}",
            attempt=1 + i % 2,
            calls=i % 4,
        )
        for i in range(30)  # two write requests of at most 25
    ]
    requests = first_batch_write_left_partly_unprocessed(store, monkeypatch)
    store.record_dials(dials)

    assert requests == [25, 20, 5]
    kept = [record for phone in sorted({dial.phone for dial in dials}) for record in store.dial_history(phone, T0)]
    assert sorted(kept, key=lambda record: record.at) == dials
    for dial in dials:
        sk = f"DIAL#{stamp(dial.at)}#cmp#{dial.contact_id}#{dial.attempt}"
        item = _item(store, f"PHONE#{dial.phone}", sk)
        assert int(item["expiresAt"]["N"]) == int((dial.at + DIAL_HISTORY_RETENTION).timestamp())


def test_a_daily_cap_is_never_handed_out_past_its_size_and_what_is_given_back_can_be_taken_again(
    store: DynamoStore,
) -> None:
    day = T0.date()
    assert store.take_capacity("blu", day, 200, 5) == 5  # more asked than the cap, on a day not begun
    assert store.take_capacity("blu", day, 1, 5) == 0
    store.give_back_capacity("blu", day, 2)
    assert store.take_capacity("blu", day, 10, 5) == 2
    assert store.take_capacity("blu", day + dt.timedelta(days=1), 3, 5) == 3  # another day, its own count
    item = _item(store, "VENDOR#blu", f"TAKEN#{day.isoformat()}")
    assert item["taken"] == {"N": "5"}
    assert item["expiresAt"] == {"N": str(int(dt.datetime(2026, 12, 2, tzinfo=dt.UTC).timestamp()))}


def _capacity_requests(store: DynamoStore, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """Every request take_capacity makes: ("update", the amount it asks for) or ("read", its ConsistentRead)."""
    requests: list[tuple[str, Any]] = []
    update, get = store.client.update_item, store.client.get_item

    def counted_update(**kwargs: Any) -> Any:
        if wanted := kwargs["ExpressionAttributeValues"].get(":wanted"):  # not a give-back
            requests.append(("update", int(wanted["N"])))
        return update(**kwargs)

    def counted_get(**kwargs: Any) -> Any:
        requests.append(("read", kwargs.get("ConsistentRead")))
        return get(**kwargs)

    monkeypatch.setattr(store.client, "update_item", counted_update)
    monkeypatch.setattr(store.client, "get_item", counted_get)
    return requests


def test_a_partly_taken_cap_costs_one_refused_write_one_consistent_read_and_one_write(
    store: DynamoStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    day = T0.date()
    assert store.take_capacity("blu", day, 7, 10) == 7
    requests = _capacity_requests(store, monkeypatch)
    assert store.take_capacity("blu", day, 5, 10) == 3  # what is left of the cap, read back after the refusal
    assert requests == [("update", 5), ("read", True), ("update", 3)]
    requests.clear()
    assert store.take_capacity("blu", day, 1, 10) == 0
    assert requests == [("update", 1), ("read", True)]  # nothing left: no write of nothing
    requests.clear()
    assert store.take_capacity("nxtele", day, 200, 0) == 0
    assert requests == []  # a cap of 0 is never asked for


def test_capacity_given_back_while_a_planner_was_refused_is_taken_without_asking_for_more_than_it_wanted(
    store: DynamoStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The planner's write is refused (the cap is used up); before it reads the count, another run gives all
    of it back. It asks again for one less than before (so a run under contention always ends), not more."""
    day = T0.date()
    assert store.take_capacity("blu", day, 10, 10) == 10
    requests = _capacity_requests(store, monkeypatch)
    get = store.client.get_item

    def given_back_first(**kwargs: Any) -> Any:
        store.give_back_capacity("blu", day, 10)
        return get(**kwargs)

    monkeypatch.setattr(store.client, "get_item", given_back_first)
    assert store.take_capacity("blu", day, 5, 10) == 4
    assert requests == [("update", 5), ("read", True), ("update", 4)]
    assert _item(store, "VENDOR#blu", f"TAKEN#{day.isoformat()}")["taken"] == {"N": "4"}


def test_a_circuit_opens_on_the_fifth_failure_in_a_row_and_a_success_closes_it(store: DynamoStore) -> None:
    for failures in range(1, FAILURES_TO_OPEN):
        assert store.record_submission_failure("blu", T0) == Circuit(failures)
    opened = store.record_submission_failure("blu", T0)
    assert opened == Circuit(FAILURES_TO_OPEN, T0 + OPEN_FOR) == store.get_circuit("blu")
    assert opened.is_open(T0 + OPEN_FOR - dt.timedelta(seconds=1)) and not opened.is_open(T0 + OPEN_FOR)
    assert store.get_circuit("nxtele") == Circuit()  # each vendor its own
    store.record_submission_success("blu")
    assert store.get_circuit("blu") == Circuit()
    assert store.record_submission_failure("blu", T0) == Circuit(1)


def _call(call_id: str = "call-1", **changes: Any) -> CallOutcome:
    fields: dict[str, Any] = {
        "vendor": "blu",
        "vendor_call_id": call_id,
        "campaign_id": "cmp",
        "contact_id": "c1",
        "status": CallStatus.ANSWERED,
        "disposition": Disposition.PROMISE_TO_PAY,
    }
    return CallOutcome(**(fields | changes))


def test_a_closing_outcome_enters_the_feed_and_its_contact_closes_on_it(store: DynamoStore) -> None:
    _campaign_with_contact(store)
    store.move_contact("cmp", "c1", DialState.SUBMITTED, allowed_from=[DialState.QUEUED], now=T0)
    talked = T0 + dt.timedelta(minutes=4)
    later = T0 + dt.timedelta(minutes=5)
    outcome = _call(answered_at=talked, started_at=T0 + dt.timedelta(minutes=1))
    before = feed_key("blu", "call-1", store.clock())
    assert store.record_outcome(outcome, later, raw=b"{}") is RecordResult.STORED
    after = feed_key("blu", "call-1", store.clock())
    item = _item(store, "CALL#blu#call-1", "CALL")
    assert item["gsi3pk"] == {"S": "FEED"}
    assert before <= item["gsi3sk"]["S"] <= after  # stamped with the store's clock when it was recorded
    assert item["gsi3sk"]["S"].endswith("Z#blu#call-1")
    assert item["gsi2pk"] == {"S": "CONTACT#cmp#c1"}
    assert item["gsi2sk"] == {"S": f"{(T0 + dt.timedelta(minutes=1)).isoformat()}#call-1"}
    contact = _item(store, "CAMPAIGN#cmp", "CONTACT#c1")
    assert contact["state"] == {"S": "final"} and contact["lastCallId"] == {"S": "call-1"}
    assert contact["lastCallVendor"] == {"S": "blu"} and contact["updatedAt"] == {"S": later.isoformat()}
    assert contact["lastConversationAt"] == {"S": talked.isoformat()}  # no end: from when it was answered


def test_an_attempt_stays_out_of_the_feed_keeps_its_first_sighting_and_its_raw_payload(store: DynamoStore) -> None:
    _campaign_with_contact(store)
    ringing = _call(status=CallStatus.IN_PROGRESS, disposition=Disposition.UNKNOWN)
    assert store.record_outcome(ringing, T0, raw=b'{"state": "ringing"}') is RecordResult.STORED
    item = _item(store, "CALL#blu#call-1", "CALL")
    assert "gsi3pk" not in item and "gsi3sk" not in item
    assert item["gsi2sk"] == {"S": f"{T0.isoformat()}#call-1"}  # no start time: from when it was recorded
    store.record_outcome(ringing.model_copy(update={"duration_seconds": 3}), T0 + dt.timedelta(minutes=1))
    item = _item(store, "CALL#blu#call-1", "CALL")
    assert item["firstSeenAt"] == {"S": T0.isoformat()}
    assert item["lastUpdatedAt"] == {"S": (T0 + dt.timedelta(minutes=1)).isoformat()}
    assert [sk for (pk, sk) in table_items(store) if pk == "CALL#blu#call-1" and sk.startswith("RAW#")] == [
        f"RAW#{stamp(T0)}"
    ]


def test_a_campaign_planned_today_says_so_and_leaves_the_due_index(store: DynamoStore) -> None:
    _campaign_with_contact(store)
    campaign = store.get_campaign("cmp")
    store.mark_campaign_due(campaign, T0.date())
    assert _item(store, "CAMPAIGN#cmp", "CAMPAIGN")["gsi1pk"] == {"S": "DUE"}
    store.clear_campaign_due("cmp", planned_on=T0.date())
    item = _item(store, "CAMPAIGN#cmp", "CAMPAIGN")
    assert item["lastPlannedOn"] == {"S": T0.date().isoformat()} and "gsi1pk" not in item and "gsi1sk" not in item
    store.clear_campaign_due("cmp")  # cleared without planning (a cancel): the day it last ran stays
    assert _item(store, "CAMPAIGN#cmp", "CAMPAIGN")["lastPlannedOn"] == {"S": T0.date().isoformat()}


def test_a_contact_moved_says_when(store: DynamoStore) -> None:
    _campaign_with_contact(store)
    moved = T0 + dt.timedelta(minutes=7)
    assert store.move_contact("cmp", "c1", DialState.PLANNED, allowed_from=[DialState.QUEUED], now=moved)
    assert _item(store, "CAMPAIGN#cmp", "CONTACT#c1")["updatedAt"] == {"S": moved.isoformat()}

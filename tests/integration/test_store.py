"""The store's promises, against moto: outcomes only move forward, and contacts move with them."""

from __future__ import annotations

import datetime as dt

import pytest

from dialhub.dispositions import CallStatus, Disposition
from dialhub.models import CallOutcome, Campaign, Contact, DialState, OutcomeSource
from dialhub.store import DynamoStore, RecordResult

T0 = dt.datetime(2026, 11, 25, 1, 0, tzinfo=dt.UTC)


def _outcome(status: CallStatus, disposition: Disposition = Disposition.UNKNOWN, **changes: object) -> CallOutcome:
    fields = {"vendor": "blu", "vendor_call_id": "777", "campaign_id": "cmp", "contact_id": "c1"} | changes
    return CallOutcome(status=status, disposition=disposition, **fields)


def _contact(store: DynamoStore) -> None:
    store.create_campaign(
        Campaign(campaign_id="cmp", name="n", vendor="blu", dial_date=T0.date(), timezone="Asia/Manila", created_at=T0)
    )
    store.add_contacts([Contact(campaign_id="cmp", contact_id="c1", phone="+639171234567")], T0)


def test_a_final_outcome_never_regresses_and_keeps_its_first_seen_time(store: DynamoStore) -> None:
    _contact(store)
    later = T0 + dt.timedelta(minutes=5)
    assert store.record_outcome(_outcome(CallStatus.IN_PROGRESS), T0) is RecordResult.STORED
    assert store.get_contact("cmp", "c1").state == DialState.QUEUED  # in-flight news leaves the contact alone
    final = _outcome(CallStatus.ANSWERED, Disposition.PROMISE_TO_PAY, source=OutcomeSource.POLL)
    assert store.record_outcome(final, later) is RecordResult.STORED
    assert store.record_outcome(_outcome(CallStatus.IN_PROGRESS), later) is RecordResult.DUPLICATE
    assert store.record_outcome(_outcome(CallStatus.NO_ANSWER), later) is RecordResult.DUPLICATE
    stored = store.get_outcome("blu", "777")
    assert stored.status == CallStatus.ANSWERED and stored.disposition == Disposition.PROMISE_TO_PAY
    assert stored.first_seen_at == T0 and stored.last_updated_at == later and stored.source == OutcomeSource.POLL
    contact = store.get_contact("cmp", "c1")
    assert contact.state == DialState.FINAL and contact.disposition == Disposition.PROMISE_TO_PAY
    assert [o.vendor_call_id for o in store.contact_history("cmp", "c1")] == ["777"]


def test_outcome_for_an_unknown_contact_is_kept_as_an_orphan(store: DynamoStore) -> None:
    assert store.record_outcome(_outcome(CallStatus.BUSY), T0) is RecordResult.ORPHAN
    assert store.get_outcome("blu", "777").status == CallStatus.BUSY
    assert store.record_outcome(_outcome(CallStatus.BUSY), T0) is RecordResult.DUPLICATE


def test_do_not_call_dispositions_mark_the_contact(store: DynamoStore) -> None:
    _contact(store)
    store.record_outcome(_outcome(CallStatus.ANSWERED, Disposition.DO_NOT_CALL), T0)
    assert store.get_contact("cmp", "c1").do_not_call


def test_moves_are_conditional_and_none_removes_an_attribute(store: DynamoStore) -> None:
    _contact(store)
    assert store.move_contact(
        "cmp",
        "c1",
        DialState.SUBMITTING,
        allowed_from={DialState.QUEUED},
        now=T0,
        batch_id="b1",
        sets={"batchId": "b1", "reason": "x"},
    )
    # Another batch cannot take a contact that b1 is submitting; b1 itself can come back to it.
    assert not store.move_contact(
        "cmp", "c1", DialState.SUBMITTING, allowed_from={DialState.SUBMITTING}, now=T0, batch_id="b2"
    )
    assert store.move_contact(
        "cmp",
        "c1",
        DialState.SUBMITTED,
        allowed_from={DialState.SUBMITTING},
        now=T0,
        batch_id="b1",
        sets={"reason": None},
    )
    contact = store.get_contact("cmp", "c1")
    assert contact.state == DialState.SUBMITTED and contact.reason is None and contact.batch_id == "b1"
    assert not store.move_contact("cmp", "c1", DialState.CANCELLED, allowed_from={DialState.QUEUED}, now=T0)
    assert not store.move_contact("cmp", "nobody", DialState.CANCELLED, allowed_from={DialState.QUEUED}, now=T0)


def test_finished_calls_reads_a_page_of_calls_at_once(store: DynamoStore) -> None:
    store.record_outcome(_outcome(CallStatus.ANSWERED), T0)
    store.record_outcome(_outcome(CallStatus.RINGING, vendor_call_id="778"), T0)
    store.record_outcome(_outcome(CallStatus.NO_ANSWER, vendor_call_id="780", closes_contact=False), T0)
    assert store.finished_calls("blu", ["777", "778", "779", "780"]) == {"777": True, "780": False}


def test_an_attempt_the_vendor_will_redial_leaves_the_contact_open_until_a_call_closes_it(store: DynamoStore) -> None:
    store.add_contacts(
        [Contact(campaign_id="cmp", contact_id="c1", phone="+639171234567", state=DialState.SUBMITTED)], T0
    )
    attempt = _outcome(CallStatus.NO_ANSWER, vendor_call_id="a1", closes_contact=False)
    assert store.record_outcome(attempt, T0) is RecordResult.STORED
    assert store.get_contact("cmp", "c1").state == DialState.SUBMITTED
    assert store.record_outcome(attempt, T0) is RecordResult.DUPLICATE
    # The same call reported again as the order's last one closes the contact; a regression cannot follow.
    closing = _outcome(CallStatus.NO_ANSWER, vendor_call_id="a1")
    assert store.record_outcome(closing, T0) is RecordResult.STORED
    assert store.get_contact("cmp", "c1").state == DialState.FINAL
    assert store.record_outcome(attempt, T0) is RecordResult.DUPLICATE
    assert store.get_outcome("blu", "a1").closes_contact


def test_the_vendor_confirming_a_cancel_leaves_the_contact_cancelled_but_a_real_call_wins(store: DynamoStore) -> None:
    _contact(store)
    store.move_contact("cmp", "c1", DialState.CANCELLED, allowed_from={DialState.QUEUED}, now=T0)
    confirmation = _outcome(CallStatus.CANCELLED, Disposition.CANCELLED, vendor_call_id="x1")
    assert store.record_outcome(confirmation, T0) is RecordResult.ORPHAN
    assert store.get_contact("cmp", "c1").state == DialState.CANCELLED
    assert store.get_outcome("blu", "x1") is not None  # kept, as every vendor report is
    raced = _outcome(CallStatus.ANSWERED, Disposition.PROMISE_TO_PAY, vendor_call_id="x2")
    assert store.record_outcome(raced, T0) is RecordResult.STORED
    assert store.get_contact("cmp", "c1").state == DialState.FINAL


def test_the_client_has_a_connection_for_every_write_in_flight(store: DynamoStore) -> None:
    from dialhub.parallel import PARALLEL_WRITES

    assert store.client.meta.config.max_pool_connections >= PARALLEL_WRITES


def test_botocore_does_not_check_the_stores_requests_again(store: DynamoStore) -> None:
    # DynamoDB checks every request; botocore's own check cost a stored callback more CPU than dialhub's code.
    # With the check on, an unknown parameter is refused by it (ParamValidationError), not met by the serializer.
    with pytest.raises(KeyError):
        store.client.get_item(TableName=store.table_name, Key={"pk": {"S": "x"}, "sk": {"S": "y"}}, Unknown=1)

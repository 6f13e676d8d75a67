"""The outcome store at its edges: DynamoDB errors it must hand back rather than read as a duplicate or an
orphan, outcomes that name only part of their contact, and a first sighting a caller cannot rewrite."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from botocore.exceptions import ClientError

from dialhub.dispositions import CallStatus, Disposition
from dialhub.models import CallOutcome, DialState
from dialhub.store import DynamoStore, RecordResult
from tests.conftest import table_items
from tests.integration.test_store_writes import T0, _campaign_with_contact


def _call(**changes: Any) -> CallOutcome:
    fields: dict[str, Any] = {
        "vendor": "blu",
        "vendor_call_id": "call-1",
        "campaign_id": "cmp",
        "contact_id": "c1",
        "status": CallStatus.ANSWERED,
        "disposition": Disposition.PROMISE_TO_PAY,
    }
    return CallOutcome(**(fields | changes))


def _call_item(store: DynamoStore) -> dict[str, Any]:
    return table_items(store)[("CALL#blu#call-1", "CALL")]


def _reasons(*codes: str) -> list[dict[str, str]]:
    return [{"Code": code} for code in codes]


@pytest.mark.parametrize(
    "response",
    [
        pytest.param({"Error": {"Code": "ProvisionedThroughputExceededException"}}, id="throttled-no-reasons"),
        pytest.param(
            {"Error": {"Code": "TransactionCanceledException"}, "CancellationReasons": []}, id="cancelled-no-reasons"
        ),
        pytest.param(
            {"Error": {"Code": "InternalServerError"}, "CancellationReasons": _reasons("ConditionalCheckFailed")},
            id="not-a-cancel-with-reasons",
        ),
        pytest.param({"CancellationReasons": _reasons("ConditionalCheckFailed", "None")}, id="no-error-code"),
        pytest.param(
            {
                "Error": {"Code": "TransactionCanceledException"},
                "CancellationReasons": _reasons("None", "ConditionalCheckFailed", "TransactionConflict"),
            },
            id="condition-and-conflict",
        ),
        pytest.param(
            {"Error": {"Code": "TransactionCanceledException"}, "CancellationReasons": _reasons("None", "None")},
            id="cancelled-for-no-named-item",
        ),
    ],
)
def test_a_failed_outcome_write_that_is_neither_a_duplicate_nor_an_orphan_is_raised_as_it_came(
    store: DynamoStore, monkeypatch: pytest.MonkeyPatch, response: dict[str, Any]
) -> None:
    """Only a cancel whose reasons are all failed conditions (or none) tells a duplicate or an orphan apart;
    anything else (a throttle, a conflict, an answer without reasons or code) goes back to the caller, so the
    vendor retries, and nothing is written in its place."""
    _campaign_with_contact(store)
    error = ClientError(response, "TransactWriteItems")

    def failing(**kwargs: Any) -> Any:
        raise error

    monkeypatch.setattr(store.client, "transact_write_items", failing)
    with pytest.raises(ClientError) as raised:
        store.record_outcome(_call(), T0)
    assert raised.value is error
    assert store.get_outcome("blu", "call-1") is None


def test_a_cancel_on_the_contact_alone_is_an_orphan_and_the_outcome_is_still_kept(
    store: DynamoStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    _campaign_with_contact(store)
    error = ClientError(
        {
            "Error": {"Code": "TransactionCanceledException"},
            "CancellationReasons": _reasons("None", "ConditionalCheckFailed"),
        },
        "TransactWriteItems",
    )

    def failing(**kwargs: Any) -> Any:
        raise error

    monkeypatch.setattr(store.client, "transact_write_items", failing)
    assert store.record_outcome(_call(), T0) is RecordResult.ORPHAN
    assert store.get_outcome("blu", "call-1") is not None


@pytest.mark.parametrize(
    ("campaign_id", "contact_id"), [("cmp", None), (None, "c1")], ids=["no-contact", "no-campaign"]
)
def test_an_outcome_naming_only_part_of_its_contact_joins_no_contact_history(
    store: DynamoStore, campaign_id: str | None, contact_id: str | None
) -> None:
    _campaign_with_contact(store)
    outcome = _call(campaign_id=campaign_id, contact_id=contact_id)
    assert store.record_outcome(outcome, T0) is RecordResult.STORED
    item = _call_item(store)
    assert "gsi2pk" not in item and "gsi2sk" not in item
    assert store.contact_history(str(campaign_id), str(contact_id)) == []
    contact = store.get_contact("cmp", "c1")
    assert contact is not None and contact.state is DialState.QUEUED


def test_an_outcome_carrying_its_own_first_sighting_does_not_move_when_the_call_was_first_seen(
    store: DynamoStore,
) -> None:
    """A stored outcome read back (it carries firstSeenAt) and recorded again keeps the first sighting the
    table already holds."""
    _campaign_with_contact(store)
    ringing = _call(status=CallStatus.IN_PROGRESS, disposition=Disposition.UNKNOWN)
    assert store.record_outcome(ringing, T0) is RecordResult.STORED
    read_back = store.get_outcome("blu", "call-1")
    assert read_back is not None and read_back.first_seen_at == T0
    later = T0 + dt.timedelta(minutes=5)
    moved = read_back.model_copy(update={"duration_seconds": 3, "first_seen_at": later})
    assert store.record_outcome(moved, later) is RecordResult.STORED
    item = _call_item(store)
    assert item["firstSeenAt"] == {"S": T0.isoformat()}
    assert item["lastUpdatedAt"] == {"S": later.isoformat()} and item["durationSeconds"] == {"N": "3"}

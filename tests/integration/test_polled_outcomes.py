"""A polled page mostly repeats what callbacks stored already: the calls that can change no more cost one batch
read and no write, and every outcome of the page is counted once, as stored or as a repeat."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from dialhub.dispositions import CallStatus, Disposition
from dialhub.models import CallOutcome, Campaign, Contact, OutcomeSource
from dialhub.outcomes import record_polled
from dialhub.store import DynamoStore, RecordResult
from tests.conftest import what_it_wrote

T0 = dt.datetime(2026, 11, 25, 1, 0, tzinfo=dt.UTC)


def _outcome(call_id: str, contact_id: str, status: CallStatus, closes: bool = True) -> CallOutcome:
    disposition = Disposition.PROMISE_TO_PAY if status is CallStatus.ANSWERED else Disposition.UNKNOWN
    return CallOutcome(
        vendor="blu",
        vendor_call_id=call_id,
        campaign_id="cmp",
        contact_id=contact_id,
        status=status,
        disposition=disposition,
        closes_contact=closes,
        source=OutcomeSource.POLL,
    )


def _campaign(store: DynamoStore) -> None:
    store.create_campaign(
        Campaign(campaign_id="cmp", name="n", vendor="blu", dial_date=T0.date(), timezone="Asia/Manila", created_at=T0)
    )
    store.add_contacts(
        [Contact(campaign_id="cmp", contact_id=f"c{i}", phone=f"+6391712345{i:02d}") for i in range(3)], T0
    )


def test_a_page_of_calls_already_closed_writes_nothing_and_counts_each_as_a_repeat(store: DynamoStore) -> None:
    _campaign(store)
    page = [_outcome("call-0", "c0", CallStatus.ANSWERED), _outcome("call-1", "c1", CallStatus.NO_ANSWER)]
    assert record_polled("blu", page, store, T0) == Counter({RecordResult.STORED: 2})
    later = T0 + dt.timedelta(minutes=5)
    writes, changed = what_it_wrote(store, lambda: record_polled("blu", page, store, later))
    assert (writes, changed) == ({}, 0)
    assert record_polled("blu", page, store, later) == Counter({RecordResult.DUPLICATE: 2})


def test_a_call_stored_as_an_attempt_is_written_again_when_the_poll_finds_it_closed(store: DynamoStore) -> None:
    """A final outcome that did not close its contact (the vendor would redial) can still become the closing one."""
    _campaign(store)
    attempt = _outcome("call-2", "c2", CallStatus.NO_ANSWER, closes=False)
    assert record_polled("blu", [attempt], store, T0) == Counter({RecordResult.STORED: 1})
    closing = _outcome("call-2", "c2", CallStatus.NO_ANSWER)
    closed_again = _outcome("call-0", "c0", CallStatus.ANSWERED)
    record_polled("blu", [closed_again], store, T0)
    later = T0 + dt.timedelta(minutes=5)
    counts = record_polled("blu", [closing, closed_again, attempt], store, later)
    assert counts == Counter({RecordResult.STORED: 1, RecordResult.DUPLICATE: 2})
    assert store.get_outcome("blu", "call-2").closes_contact is True  # type: ignore[union-attr]


def test_a_call_a_callback_closed_between_the_polls_read_and_its_write_counts_once_as_a_repeat(
    store: DynamoStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    _campaign(store)
    closed = _outcome("call-0", "c0", CallStatus.ANSWERED)
    seen_again = _outcome("call-1", "c1", CallStatus.NO_ANSWER)
    record_polled("blu", [closed, seen_again], store, T0)
    read_before_the_callback = store.finished_calls

    def finished_calls(vendor: str, call_ids: list[str]) -> dict[str, bool]:
        found = read_before_the_callback(vendor, call_ids)
        found.pop("call-0")  # the callback's write landed after this read: the poll writes, the store refuses
        return found

    monkeypatch.setattr(store, "finished_calls", finished_calls)
    counts = record_polled("blu", [closed, seen_again], store, T0 + dt.timedelta(minutes=5))
    assert counts == Counter({RecordResult.DUPLICATE: 2})

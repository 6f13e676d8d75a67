"""Edges of one batch's dispatch against a scripted vendor: what the dial history records, what a doubt says,
and how contacts the vendor never took are moved and counted (chunk by chunk, with the circuit open, when
today's task cannot be made, and without a fallback)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from dialhub.dispatch import dispatch_batch
from dialhub.models import DialState
from dialhub.store import Circuit, DialRecord
from dialhub.store.circuits import FAILURES_TO_OPEN
from dialhub.vendors import StaticAdapters
from dialhub.vendors.base import SubmitResult, VendorError, VendorRejected, VendorUnavailable
from tests.integration.test_airudder_flow import OPTIONS as AIRUDDER_OPTIONS
from tests.integration.test_blu_flow import _campaign
from tests.integration.test_dispatch_batches import _batch, _Scripted

FALLBACK = [{"vendor": "airudder", "vendorOptions": AIRUDDER_OPTIONS}]
NEVER_REACHED = VendorUnavailable("blu", "blu unavailable: ConnectError", maybe_received=False)
ACCOUNT_REFUSED = VendorRejected("blu", "HTTP 401", "request refused", account_refused=True)
BLU = (("vendor", "blu"), ("service", "dialhub"))


class _AskedForCalls(_Scripted):
    """Also keeps the options it was asked to count a request's calls under."""

    def __init__(self, campaign_id: str, answers: list[SubmitResult | Exception]) -> None:
        super().__init__(campaign_id, answers)
        self.calls_asked_with: list[Any] = []

    def calls_per_request(self, options: Any) -> int:
        self.calls_asked_with.append(options)
        return 3


class _NoTaskToday(_Scripted):
    """A vendor that cannot make today's task."""

    def __init__(self, campaign_id: str, failure: VendorError) -> None:
        super().__init__(campaign_id, [])
        self.failure = failure

    def create_task(self, campaign: Any, local_date: dt.date) -> str:
        raise self.failure


def _claimed_earlier(store: Any, campaign_id: str, contact_id: str, at: dt.datetime, task: str = "task-1") -> None:
    """The contact as an earlier delivery of batch b-1 left it: claimed for the batch and a task, never settled."""
    sets = {"batchId": "b-1", "claimedAt": at.isoformat(), "vendorTaskId": task}
    assert store.move_contact(
        campaign_id, contact_id, DialState.SUBMITTING, allowed_from=[DialState.QUEUED], now=at, sets=sets
    )


def _open_circuit(store: Any, now: dt.datetime) -> None:
    for _ in range(FAILURES_TO_OPEN):
        store.record_submission_failure("blu", now)
    assert store.get_circuit("blu").is_open(now)


def test_a_dial_record_names_its_campaign_contact_and_the_calls_of_the_campaigns_options(deps: Any) -> None:
    campaign_id = _campaign(deps, count=1)
    campaign = deps.store.get_campaign(campaign_id)
    vendor = _AskedForCalls(campaign_id, [SubmitResult(accepted={"c0": "r0"}, job_id="job-1")])
    now = deps.clock()
    dispatch_batch(_batch(campaign_id, ["c0"]), deps.store, StaticAdapters({"blu": vendor}), now)
    assert vendor.calls_asked_with == [campaign.vendor_options]
    assert deps.store.dial_history("+639171230000", now - dt.timedelta(days=1)) == [
        DialRecord(phone="+639171230000", at=now, campaign_id=campaign_id, contact_id="c0", attempt=1, calls=3)
    ]


def test_a_contact_sent_again_is_recorded_as_dialled_at_its_first_claim(deps: Any) -> None:
    campaign_id = _campaign(deps, count=1)
    first = dt.datetime(2026, 11, 25, 3, 0, tzinfo=dt.UTC)
    _claimed_earlier(deps.store, campaign_id, "c0", first)
    vendor = _Scripted(campaign_id, [SubmitResult(accepted={"c0": "r0"}, job_id="job-1")])
    later = first + dt.timedelta(minutes=30)
    summary = dispatch_batch(_batch(campaign_id, ["c0"]), deps.store, StaticAdapters({"blu": vendor}), later)
    assert summary.submitted == 1
    [record] = deps.store.dial_history("+639171230000", first - dt.timedelta(days=1))
    assert record.at == first


def test_a_doubt_names_every_mismatch_and_every_chunks_doubts_are_counted(deps: Any) -> None:
    campaign_id = _campaign(deps, count=4)
    vendor = _Scripted(
        campaign_id,
        [
            SubmitResult(accepted={"c0": "r0"}, unconfirmed={"c1": "r1"}, mismatches=["counted 3", "no id for row 2"]),
            SubmitResult(accepted={"c2": "r2", "c3": "r3"}),
        ],
    )
    summary = dispatch_batch(
        _batch(campaign_id, ["c0", "c1", "c2", "c3"]), deps.store, StaticAdapters({"blu": vendor}), deps.clock()
    )
    assert (summary.submitted, summary.unconfirmed) == (3, 1)
    doubted = deps.store.get_contact(campaign_id, "c1")
    assert doubted.state is DialState.UNCONFIRMED
    assert doubted.reason == "blu's answer disagreed with what was sent (counted 3; no id for row 2)"


def test_chunks_no_try_reached_all_fail_over_and_the_later_chunks_are_still_sent(deps: Any) -> None:
    """Two chunks never reached Blu, two were taken: the batch goes on after each moved chunk, counts every
    contact moved, and the first chunk taken after the failures closes the circuit."""
    campaign_id = _campaign(deps, count=8, fallback=FALLBACK)
    accepted = [SubmitResult(accepted={f"c{i}": f"r{i}", f"c{i + 1}": f"r{i + 1}"}) for i in (4, 6)]
    vendor = _Scripted(campaign_id, [NEVER_REACHED, NEVER_REACHED, *accepted])
    store = deps.store
    summary = dispatch_batch(
        _batch(campaign_id, [f"c{i}" for i in range(8)]), store, StaticAdapters({"blu": vendor}), deps.clock()
    )
    assert (summary.failed_over, summary.submitted) == (4, 4)
    assert len(vendor.submissions) == 4
    contacts = store.get_contacts(campaign_id, [f"c{i}" for i in range(8)])
    assert {cid: (c.state, c.vendor) for cid, c in contacts.items()} == {
        **{f"c{i}": (DialState.QUEUED, "airudder") for i in range(4)},
        **{f"c{i}": (DialState.SUBMITTED, "blu") for i in range(4, 8)},
    }
    assert store.get_circuit("blu") == Circuit()


def test_a_chunk_that_fails_over_counts_a_failure_on_its_vendors_circuit_and_measures_the_move(
    deps: Any, metrics: Any
) -> None:
    campaign_id = _campaign(deps, count=2, fallback=FALLBACK)
    vendor = _Scripted(campaign_id, [NEVER_REACHED])
    summary = dispatch_batch(
        _batch(campaign_id, ["c0", "c1"]), deps.store, StaticAdapters({"blu": vendor}), deps.clock()
    )
    assert (summary.failed_over, summary.submitted, summary.failed) == (2, 0, 0)
    assert deps.store.get_circuit("blu") == Circuit(1)
    assert metrics() == {("ContactsFailedOver", BLU): 2}


def test_without_a_fallback_an_account_refusal_fails_the_contacts_and_moves_none(deps: Any) -> None:
    campaign_id = _campaign(deps, count=2)
    vendor = _Scripted(campaign_id, [ACCOUNT_REFUSED])
    summary = dispatch_batch(
        _batch(campaign_id, ["c0", "c1"]), deps.store, StaticAdapters({"blu": vendor}), deps.clock()
    )
    assert (summary.failed_over, summary.failed) == (0, 2)
    contacts = deps.store.get_contacts(campaign_id, ["c0", "c1"])
    assert {(c.state, c.vendor, c.reason) for c in contacts.values()} == {
        (DialState.FAILED, "blu", ACCOUNT_REFUSED.reason)
    }


def test_with_the_circuit_open_unsent_contacts_fail_over_and_one_an_earlier_delivery_claimed_is_still_sent(
    deps: Any,
) -> None:
    campaign_id = _campaign(deps, count=2, fallback=FALLBACK)
    now = deps.clock()
    store = deps.store
    _open_circuit(store, now)
    _claimed_earlier(store, campaign_id, "c1", now)
    vendor = _Scripted(campaign_id, [SubmitResult(accepted={"c1": "r1"}, job_id="job-1")])
    summary = dispatch_batch(_batch(campaign_id, ["c0", "c1"]), store, StaticAdapters({"blu": vendor}), now)
    assert (summary.failed_over, summary.submitted) == (1, 1)
    moved, sent = store.get_contact(campaign_id, "c0"), store.get_contact(campaign_id, "c1")
    assert (moved.state, moved.vendor, moved.failover_cause) == (DialState.QUEUED, "airudder", "circuit_open")
    assert (sent.state, sent.vendor) == (DialState.SUBMITTED, "blu")
    assert [request.contact_id for request in vendor.submissions[0].requests] == ["c1"]


def test_when_no_task_can_be_made_today_the_unsent_contacts_fail_over_and_are_counted(deps: Any) -> None:
    campaign_id = _campaign(deps, count=2, fallback=FALLBACK)
    vendor = _NoTaskToday(campaign_id, VendorUnavailable("blu", "blu unavailable: ConnectError"))
    summary = dispatch_batch(
        _batch(campaign_id, ["c0", "c1"]), deps.store, StaticAdapters({"blu": vendor}), deps.clock()
    )
    assert (summary.failed_over, summary.failed) == (2, 0)
    contacts = deps.store.get_contacts(campaign_id, ["c0", "c1"])
    assert {(c.state, c.vendor, c.failover_cause) for c in contacts.values()} == {
        (DialState.QUEUED, "airudder", "vendor_down")
    }


def test_contacts_moved_while_the_circuit_was_open_stay_counted_when_todays_task_is_then_refused(
    deps: Any,
) -> None:
    """The unsent contact goes over with the circuit open; the one an earlier delivery claimed is left to try
    Blu, whose refusal of today's task fails it."""
    campaign_id = _campaign(deps, count=2, fallback=FALLBACK)
    now = deps.clock()
    store = deps.store
    _open_circuit(store, now)
    _claimed_earlier(store, campaign_id, "c1", now, task="task-of-yesterday")
    vendor = _NoTaskToday(campaign_id, ACCOUNT_REFUSED)
    summary = dispatch_batch(_batch(campaign_id, ["c0", "c1"]), store, StaticAdapters({"blu": vendor}), now)
    assert (summary.failed_over, summary.failed) == (1, 1)
    moved, failed = store.get_contact(campaign_id, "c0"), store.get_contact(campaign_id, "c1")
    assert (moved.state, moved.vendor) == (DialState.QUEUED, "airudder")
    assert (failed.state, failed.reason) == (DialState.FAILED, ACCOUNT_REFUSED.reason)


def test_each_chunk_refused_for_our_account_adds_its_contacts_to_those_moved_or_failed(deps: Any) -> None:
    """A batch of two chunks whose first never reached Blu and whose second Blu refused: both are counted."""
    moving = _campaign(deps, count=4, fallback=FALLBACK)
    vendor = _Scripted(moving, [NEVER_REACHED, ACCOUNT_REFUSED])
    summary = dispatch_batch(
        _batch(moving, [f"c{i}" for i in range(4)]), deps.store, StaticAdapters({"blu": vendor}), deps.clock()
    )
    assert (summary.failed_over, summary.failed, len(vendor.submissions)) == (4, 0, 2)
    failing = _campaign(deps, count=4)
    vendor = _Scripted(failing, [ACCOUNT_REFUSED, ACCOUNT_REFUSED])
    summary = dispatch_batch(
        _batch(failing, [f"c{i}" for i in range(4)]), deps.store, StaticAdapters({"blu": vendor}), deps.clock()
    )
    assert (summary.failed_over, summary.failed, len(vendor.submissions)) == (0, 4, 2)
    assert {c.state for c in deps.store.get_contacts(failing, [f"c{i}" for i in range(4)]).values()} == {
        DialState.FAILED
    }

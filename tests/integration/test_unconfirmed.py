"""A vendor answer that does not account for every request sent leaves those contacts unconfirmed: never
counted as accepted, never sent again, settled by the vendor's own results, failed at the horizon."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from dialhub.dispatch import dispatch_batch
from dialhub.dispositions import CallStatus, Disposition
from dialhub.models import CallOutcome, Campaign, Contact, DialState, DispatchBatch, VendorTask
from dialhub.polling import poll_open_tasks
from dialhub.vendors import StaticAdapters
from dialhub.vendors.base import InboundCallback, OutcomeReport, Reply, Submission, SubmitResult
from dialhub.webhooks import handle_callback
from tests.integration.test_blu_flow import _campaign


class _DoubtfulVendor:
    """Takes every request, but answers for only the first of each submission; reports what it is told to."""

    name = "blu"
    batch_limit = 200

    def __init__(self, today: dt.date) -> None:
        self._today = today
        self.sent: list[str] = []
        self.reports: list[CallOutcome] = []

    def today(self) -> dt.date:
        return self._today

    def create_task(self, campaign: Campaign, local_date: dt.date) -> str:
        return "77"

    @classmethod
    def contact_problem(cls, contact: Contact, options: dict[str, Any]) -> str | None:
        return None

    @classmethod
    def calls_per_request(cls, options: dict[str, Any]) -> int:
        return 1

    def submit(self, submission: Submission) -> SubmitResult:
        self.sent.extend(request.contact_id for request in submission.requests)
        first, *others = submission.requests
        result = SubmitResult(accepted={first.contact_id: f"r-{first.contact_id}"}, job_id="job-1")
        result.doubt(
            f"count 1 for {len(submission.requests)} records",
            {request.contact_id: f"r-{request.contact_id}" for request in others},
        )
        return result

    def results(self, task: VendorTask) -> Iterator[list[CallOutcome]]:
        if self.reports:
            yield list(self.reports)

    def task_complete(self, task: VendorTask, closed_contacts: int) -> bool:
        return False


def _outcome(campaign_id: str, contact_id: str, call_id: str, status: CallStatus) -> CallOutcome:
    return CallOutcome(
        vendor="blu",
        vendor_call_id=call_id,
        vendor_task_id="77",
        campaign_id=campaign_id,
        contact_id=contact_id,
        status=status,
        disposition=Disposition.PROMISE_TO_PAY if status is CallStatus.ANSWERED else Disposition.UNKNOWN,
    )


def test_contacts_left_in_doubt_are_unconfirmed_counted_and_never_sent_again(deps: Any, metrics: Any) -> None:
    campaign_id = _campaign(deps, count=3)
    now = deps.clock()
    vendor = _DoubtfulVendor(now.date())
    adapters: Any = StaticAdapters({"blu": vendor})
    batch = DispatchBatch(batch_id="b-1", campaign_id=campaign_id, contact_ids=["c0", "c1", "c2"])
    metrics()

    summary = dispatch_batch(batch, deps.store, adapters, now)

    assert (summary.submitted, summary.unconfirmed, summary.failed) == (1, 2, 0)
    states = {c: deps.store.get_contact(campaign_id, c) for c in ("c0", "c1", "c2")}
    assert states["c0"].state is DialState.SUBMITTED and states["c0"].reason is None
    for doubted in ("c1", "c2"):
        contact = states[doubted]
        assert contact.state is DialState.UNCONFIRMED
        assert contact.vendor_record_id == f"r-{doubted}" and contact.vendor_job_id == "job-1"
        assert contact.reason == "blu's answer disagreed with what was sent (count 1 for 3 records)"
    [task] = deps.store.campaign_tasks(campaign_id, "blu")
    assert (task.submitted, task.unconfirmed) == (3, 2)  # polled for all three; two looked for by name
    counted = {name: value for (name, _), value in metrics().items()}
    assert counted["VendorAnswerMismatch"] == 1 and counted["ContactsSubmitted"] == 1
    # Their dial counts for the frequency cap: the vendor may well call them.
    assert len(deps.store.dial_history("+639171230001", now - dt.timedelta(days=1))) == 1

    again = dispatch_batch(batch, deps.store, adapters, now)
    assert again.skipped == 3 and vendor.sent == ["c0", "c1", "c2"]  # a redelivery sends nobody again


def test_the_vendors_results_settle_doubts_and_the_horizon_fails_the_rest(deps: Any) -> None:
    campaign_id = _campaign(deps, count=4)
    now = deps.clock()
    vendor = _DoubtfulVendor(now.date())
    adapters: Any = StaticAdapters({"blu": vendor})
    batch = DispatchBatch(batch_id="b-1", campaign_id=campaign_id, contact_ids=["c0", "c1", "c2", "c3"])
    assert dispatch_batch(batch, deps.store, adapters, now).unconfirmed == 3
    vendor.reports = [
        _outcome(campaign_id, "c1", "call-1", CallStatus.RINGING),  # not final: the vendor holds it
        _outcome(campaign_id, "c2", "call-2", CallStatus.ANSWERED),  # final: closes it
    ]

    summary = poll_open_tasks(deps.store, adapters, now, horizon_days=2)

    assert summary.confirmed == 2
    c1, c2, c3 = (deps.store.get_contact(campaign_id, c) for c in ("c1", "c2", "c3"))
    assert c1.state is DialState.SUBMITTED and c1.reason is None
    assert c2.state is DialState.FINAL and c2.reason is None and c2.disposition is Disposition.PROMISE_TO_PAY
    assert c3.state is DialState.UNCONFIRMED
    [task] = deps.store.campaign_tasks(campaign_id, "blu")
    assert task.unconfirmed == 3  # c3 is still in doubt: the next poll looks again

    vendor.reports = []
    late = _DoubtfulVendor(now.date() + dt.timedelta(days=3))
    summary = poll_open_tasks(deps.store, StaticAdapters({"blu": late}), now, horizon_days=2)  # type: ignore[arg-type]
    assert summary.unresolved == 3  # c0 and c1 (submitted) and c3 (in doubt)
    c3 = deps.store.get_contact(campaign_id, "c3")
    assert c3.state is DialState.FAILED
    assert c3.reason == (
        "blu's answer disagreed with what was sent (count 1 for 4 records); "
        "no result from blu within 2 days of the dial date"
    )


def test_once_every_doubt_is_settled_the_task_stops_looking(deps: Any) -> None:
    campaign_id = _campaign(deps, count=2)
    now = deps.clock()
    vendor = _DoubtfulVendor(now.date())
    adapters: Any = StaticAdapters({"blu": vendor})
    dispatch_batch(
        DispatchBatch(batch_id="b-1", campaign_id=campaign_id, contact_ids=["c0", "c1"]), deps.store, adapters, now
    )
    vendor.reports = [_outcome(campaign_id, "c1", "call-1", CallStatus.ANSWERED)]
    poll_open_tasks(deps.store, adapters, now, horizon_days=2)
    [task] = deps.store.campaign_tasks(campaign_id, "blu")
    assert task.unconfirmed == 0 and task.open
    assert deps.store.get_contact(campaign_id, "c1").state is DialState.FINAL


class _HalfReadableVendor:
    """A callback with one result and one entry that carries none."""

    name = "blu"

    def __init__(self, outcome: CallOutcome) -> None:
        self.outcome = outcome

    def authenticate(self, callback: InboundCallback) -> bool:
        return True

    def parse_callback(self, callback: InboundCallback) -> OutcomeReport:
        return OutcomeReport([self.outcome], unread=1)

    def acknowledge(self, callback: InboundCallback) -> Reply:
        return Reply(200, {"code": 200})


def test_a_callback_with_entries_that_carry_no_result_is_not_acknowledged(deps: Any, metrics: Any) -> None:
    campaign_id = _campaign(deps, count=1)
    now = deps.clock()
    outcome = _outcome(campaign_id, "c0", "call-9", CallStatus.ANSWERED)
    adapters: Any = StaticAdapters({"blu": _HalfReadableVendor(outcome)})
    callback = InboundCallback(kind="", body=b"{}", headers={}, query={}, source_ip="203.0.113.9")
    metrics()

    reply = handle_callback("blu", callback, adapters, deps.store, now, predial_fail_open=False)

    assert reply.status == 422 and "1 entries carry no call result" in reply.body["message"]
    assert deps.store.get_outcome("blu", "call-9") is not None  # what could be read is stored
    assert deps.store.get_contact(campaign_id, "c0").state is DialState.FINAL
    rejected = {(name, dict(dims).get("reason")): value for (name, dims), value in metrics().items()}
    assert rejected[("WebhookRejected", "no_result")] == 1

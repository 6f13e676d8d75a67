"""One batch as the dispatcher takes it, against the Blu simulator: today's vendor task made once and reused,
and the batch's contacts that are not its to send counted as skipped, never sent."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from dialhub.dispatch import dispatch_batch
from dialhub.models import Contact, DialState, DispatchBatch, Hold
from dialhub.store import Circuit, DialRecord
from dialhub.vendors import StaticAdapters
from dialhub.vendors.base import Submission, SubmitResult, VendorRejected, VendorUnavailable
from tests.conftest import api_event, call_api
from tests.integration.test_blu_flow import _campaign


def _batch(campaign_id: str, contact_ids: list[str], batch_id: str = "b-1") -> DispatchBatch:
    return DispatchBatch(batch_id=batch_id, campaign_id=campaign_id, contact_ids=contact_ids)


def test_two_batches_of_a_day_share_one_vendor_task_made_once(deps: Any, blu_sim: Any) -> None:
    campaign_id = _campaign(deps, count=4)
    now = deps.clock()
    first = dispatch_batch(_batch(campaign_id, ["c0", "c1"]), deps.store, deps.adapters, now)
    second = dispatch_batch(_batch(campaign_id, ["c2", "c3"], "b-2"), deps.store, deps.adapters, now)
    assert (first.submitted, second.submitted) == (2, 2)
    assert len(blu_sim._tasks) == 1  # one Blu task for the campaign's day, whatever the number of batches
    [task] = deps.store.campaign_tasks(campaign_id, "blu")
    assert task.created_at == now and task.submitted == 4


def test_contacts_not_this_batchs_to_send_are_skipped_and_counted(deps: Any, blu_sim: Any) -> None:
    campaign_id = _campaign(deps, count=4)
    now = deps.clock()
    store = deps.store
    # c1 is being sent by another batch; c2 was cancelled; c3 is this batch's, already claimed by it.
    store.move_contact(
        campaign_id, "c1", DialState.SUBMITTING, allowed_from=[DialState.QUEUED], now=now, sets={"batchId": "b-other"}
    )
    status, _ = call_api(
        deps, api_event("api/cancel_contact.json", path={"campaignId": campaign_id, "contactId": "c2"})
    )
    assert status == 200
    summary = dispatch_batch(_batch(campaign_id, ["c0", "c1", "c2"]), store, deps.adapters, now)
    assert (summary.submitted, summary.skipped) == (1, 2)
    assert store.get_contact(campaign_id, "c1").batch_id == "b-other"  # type: ignore[union-attr]
    assert sorted(blu_sim.dial_requests.values()) == [1]


def test_a_number_capped_since_planning_is_held_at_dispatch_by_the_campaigns_policy(deps: Any, blu_sim: Any) -> None:
    """Planning let it through; calls made to the number since (another campaign) reach its cap before the batch
    is sent, and the dispatcher's own check, under the campaign's policy, keeps it back."""
    now = dt.datetime(2026, 11, 25, 3, 0, tzinfo=dt.UTC)
    deps.clock = lambda: now
    always = [{"weekdays": [1, 2, 3, 4, 5, 6, 7], "start": "00:00", "end": "23:59:59.999999"}]
    policy = {"name": "once-a-week", "windows": always, "frequencyCap": {"attempts": 1, "days": 7}}
    assert call_api(deps, api_event("api/put_policy.json", path={"name": "once-a-week"}, body=policy))[0] == 200
    campaign_id = _campaign(deps, count=2, policy="once-a-week")
    since_planning = DialRecord(
        phone="+639171230001", at=now - dt.timedelta(hours=1), campaign_id="other", contact_id="x", attempt=1, calls=1
    )
    deps.store.record_dials([since_planning])
    summary = dispatch_batch(_batch(campaign_id, ["c0", "c1"]), deps.store, deps.adapters, now)
    assert (summary.submitted, summary.held) == (1, 1)
    held = deps.store.get_contact(campaign_id, "c1").hold  # type: ignore[union-attr]
    assert held is not None and held.reason == "capped"


def test_a_contact_sent_to_an_earlier_days_task_is_left_to_that_task_not_sent_again(deps: Any, blu_sim: Any) -> None:
    """Its answer was never recorded: resending to today's task could dial it twice, so the poller settles it."""
    campaign_id = _campaign(deps, count=2)
    now = deps.clock()
    store = deps.store
    sets = {"batchId": "b-1", "vendorTaskId": "task-of-yesterday", "claimedAt": now.isoformat()}
    store.move_contact(campaign_id, "c1", DialState.SUBMITTING, allowed_from=[DialState.QUEUED], now=now, sets=sets)
    summary = dispatch_batch(_batch(campaign_id, ["c0", "c1"]), store, deps.adapters, now)
    assert (summary.submitted, summary.failed, summary.skipped) == (1, 0, 0)
    left = store.get_contact(campaign_id, "c1")
    assert left is not None and left.state is DialState.SUBMITTED and left.vendor_task_id == "task-of-yesterday"
    assert len(blu_sim.dial_requests) == 1


def test_a_contact_the_vendor_cannot_take_fails_with_the_reason_and_is_counted(deps: Any, blu_sim: Any) -> None:
    campaign_id = _campaign(deps, count=1)
    now = deps.clock()
    deps.store.add_contacts(
        [Contact(campaign_id=campaign_id, contact_id="emoji", phone="+639171239999", name="Ana 😀")], now
    )
    summary = dispatch_batch(_batch(campaign_id, ["c0", "emoji"]), deps.store, deps.adapters, now)
    assert (summary.submitted, summary.failed) == (1, 1)
    failed = deps.store.get_contact(campaign_id, "emoji")
    assert failed is not None and failed.state is DialState.FAILED
    assert failed.reason == "name contains characters Blu refuses (emoji or symbols)"


def test_a_claim_records_its_batch_and_time_and_a_redelivery_keeps_the_first_time(deps: Any, blu_sim: Any) -> None:
    """The dial-history record a redelivery writes is then the same one, and the frequency cap counts it once."""
    campaign_id = _campaign(deps, count=1)
    store = deps.store
    first = dt.datetime(2026, 11, 25, 3, 0, tzinfo=dt.UTC)
    dispatch_batch(_batch(campaign_id, ["c0"]), store, deps.adapters, first)
    [task] = store.campaign_tasks(campaign_id, "blu")
    claimed = store.get_contact(campaign_id, "c0")
    assert claimed is not None and claimed.batch_id == "b-1" and claimed.claimed_at == first
    # The batch comes again (its first delivery crashed after claiming a contact that was never sent).
    store.add_contacts([Contact(campaign_id=campaign_id, contact_id="c9", phone="+639171238888")], first)
    sets = {"batchId": "b-2", "vendorTaskId": task.vendor_task_id, "claimedAt": first.isoformat()}
    store.move_contact(campaign_id, "c9", DialState.SUBMITTING, allowed_from=[DialState.QUEUED], now=first, sets=sets)
    later = first + dt.timedelta(minutes=10)
    assert dispatch_batch(_batch(campaign_id, ["c9"], "b-2"), store, deps.adapters, later).submitted == 1
    [record] = store.dial_history("+639171238888", first - dt.timedelta(days=1))
    assert record.at == first


def test_every_contact_held_at_dispatch_is_counted(deps: Any, blu_sim: Any) -> None:
    now = dt.datetime(2026, 11, 25, 3, 0, tzinfo=dt.UTC)
    deps.clock = lambda: now
    always = [{"weekdays": [1, 2, 3, 4, 5, 6, 7], "start": "00:00", "end": "23:59:59.999999"}]
    policy = {"name": "once-a-week", "windows": always, "frequencyCap": {"attempts": 1, "days": 7}}
    assert call_api(deps, api_event("api/put_policy.json", path={"name": "once-a-week"}, body=policy))[0] == 200
    campaign_id = _campaign(deps, count=3, policy="once-a-week")
    deps.store.record_dials(
        [
            DialRecord(
                phone=f"+63917123000{i}",
                at=now - dt.timedelta(hours=1),
                campaign_id="other",
                contact_id=f"x{i}",
                attempt=1,
                calls=1,
            )
            for i in (1, 2)
        ]
    )
    summary = dispatch_batch(_batch(campaign_id, ["c0", "c1", "c2"]), deps.store, deps.adapters, now)
    assert (summary.submitted, summary.held) == (1, 2)


def test_when_the_vendor_refuses_the_days_task_every_contact_of_the_batch_fails_and_is_counted(
    deps: Any, blu_sim: Any
) -> None:
    campaign_id = _campaign(deps, count=2, vendorOptions={"botId": ""})
    summary = dispatch_batch(_batch(campaign_id, ["c0", "c1"]), deps.store, deps.adapters, deps.clock())
    assert (summary.submitted, summary.failed) == (0, 2)
    assert {deps.store.get_contact(campaign_id, c).state for c in ("c0", "c1")} == {DialState.FAILED}  # type: ignore[union-attr]


def test_a_redialled_contact_is_claimed_at_the_time_of_its_new_attempt(deps: Any, blu_sim: Any) -> None:
    """Back in the queue it still carries the first attempt's claim time; the new attempt's dial record must
    carry its own, or the frequency cap would count the new call as an old one."""
    campaign_id = _campaign(deps, count=1)
    store = deps.store
    first = dt.datetime(2026, 11, 25, 3, 0, tzinfo=dt.UTC)
    store.move_contact(
        campaign_id,
        "c0",
        DialState.QUEUED,
        allowed_from=[DialState.QUEUED],
        now=first,
        sets={"claimedAt": first.isoformat(), "attempt": 2},
    )
    later = first + dt.timedelta(hours=3)
    assert dispatch_batch(_batch(campaign_id, ["c0"]), store, deps.adapters, later).submitted == 1
    assert store.get_contact(campaign_id, "c0").claimed_at == later  # type: ignore[union-attr]
    assert [record.at for record in store.dial_history("+639171230000", first - dt.timedelta(days=1))] == [later]


def test_a_contact_cancelled_while_its_batch_is_claimed_is_neither_sent_nor_counted_failed(
    deps: Any, blu_sim: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    campaign_id = _campaign(deps, count=2)
    store = deps.store
    real_move = store.move_contact

    def cancel_first(campaign: str, contact_id: str, to: DialState, **kwargs: Any) -> bool:
        if contact_id == "c1" and to is DialState.SUBMITTING:  # the API's cancel lands between read and claim
            path = {"campaignId": campaign, "contactId": "c1"}
            assert call_api(deps, api_event("api/cancel_contact.json", path=path))[0] == 200
        return real_move(campaign, contact_id, to, **kwargs)

    monkeypatch.setattr(store, "move_contact", cancel_first)
    summary = dispatch_batch(_batch(campaign_id, ["c0", "c1"]), store, deps.adapters, deps.clock())
    assert (summary.submitted, summary.failed) == (1, 0)
    assert store.get_contact(campaign_id, "c1").state is DialState.CANCELLED  # type: ignore[union-attr]
    assert len(blu_sim.dial_requests) == 1


def _taken_by_another_batch_first(store: Any, monkeypatch: pytest.MonkeyPatch, contact_id: str, to: DialState) -> None:
    """Another delivery claims the contact for its own batch just before this batch's move of it to `to`."""
    real_move = store.move_contact

    def race(campaign: str, moved: str, state: DialState, **kwargs: Any) -> bool:
        if moved == contact_id and state is to:
            real_move(
                campaign,
                moved,
                DialState.SUBMITTING,
                now=kwargs["now"],
                allowed_from={DialState.QUEUED, DialState.PLANNED, DialState.SUBMITTING},
                sets={"batchId": "b-other"},
            )
        return real_move(campaign, moved, state, **kwargs)

    monkeypatch.setattr(store, "move_contact", race)


def test_a_contact_another_batch_claimed_first_is_not_claimed_again(
    deps: Any, blu_sim: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    campaign_id = _campaign(deps, count=2)
    _taken_by_another_batch_first(deps.store, monkeypatch, "c1", DialState.SUBMITTING)
    summary = dispatch_batch(_batch(campaign_id, ["c0", "c1"]), deps.store, deps.adapters, deps.clock())
    assert summary.submitted == 1 and len(blu_sim.dial_requests) == 1
    assert deps.store.get_contact(campaign_id, "c1").batch_id == "b-other"  # type: ignore[union-attr]


def test_a_contact_another_batch_took_after_it_was_sent_is_left_to_that_batch(
    deps: Any, blu_sim: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    campaign_id = _campaign(deps, count=1)
    _taken_by_another_batch_first(deps.store, monkeypatch, "c0", DialState.SUBMITTED)
    dispatch_batch(_batch(campaign_id, ["c0"]), deps.store, deps.adapters, deps.clock())
    contact = deps.store.get_contact(campaign_id, "c0")
    assert contact is not None and contact.state is DialState.SUBMITTING and contact.batch_id == "b-other"


def test_an_earlier_days_contact_another_batch_took_meanwhile_is_left_to_it(
    deps: Any, blu_sim: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    campaign_id = _campaign(deps, count=1)
    now = deps.clock()
    sets = {"batchId": "b-1", "vendorTaskId": "task-of-yesterday", "claimedAt": now.isoformat()}
    deps.store.move_contact(
        campaign_id, "c0", DialState.SUBMITTING, allowed_from=[DialState.QUEUED], now=now, sets=sets
    )
    _taken_by_another_batch_first(deps.store, monkeypatch, "c0", DialState.SUBMITTED)
    dispatch_batch(_batch(campaign_id, ["c0"]), deps.store, deps.adapters, now)
    contact = deps.store.get_contact(campaign_id, "c0")
    assert contact is not None and contact.state is DialState.SUBMITTING and contact.batch_id == "b-other"


def test_a_plan_of_more_batches_than_one_queue_request_counts_every_batch(
    deps: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Thirteen batches go to the queue in two requests (ten at most each): the run's summary counts all of
    them and every contact once."""
    from dialhub.vendors.blu.adapter import BluAdapter
    from tests.conftest import plan_now

    monkeypatch.setattr(BluAdapter, "batch_limit", 2)
    campaign_id = _campaign(deps, count=25)
    lapsed = Hold(
        reason="capped", until=deps.clock() - dt.timedelta(hours=1), checked_at=deps.clock() - dt.timedelta(days=1)
    )
    assert deps.store.hold_contact(campaign_id, "c0", lapsed)
    summary = plan_now(deps)
    assert (summary["batches"], summary["contacts"]) == (13, 25)
    contacts = deps.store.get_contacts(campaign_id, [f"c{i}" for i in range(25)])
    assert {contact.state for contact in contacts.values()} == {DialState.PLANNED}
    assert len({contact.batch_id for contact in contacts.values()}) == 13 and None not in {
        contact.batch_id for contact in contacts.values()
    }  # each planned contact knows its batch
    assert contacts["c0"].hold is None  # the lapsed hold is cleared once it is planned


class _Scripted:
    """A vendor whose answers the test writes: per chunk of two, which contacts it accepts, refuses or leaves in
    doubt; and a record of what dispatch asked of it."""

    batch_limit = 2

    def __init__(self, campaign_id: str, answers: list[SubmitResult | Exception]) -> None:
        self.campaign_id = campaign_id
        self.answers = answers
        self.submissions: list[Submission] = []
        self.options_seen: list[Any] = []

    def today(self) -> dt.date:
        return dt.date(2026, 11, 25)

    def create_task(self, campaign: Any, local_date: dt.date) -> str:
        return "task-1"

    def contact_problem(self, contact: Contact, options: Any) -> str | None:
        self.options_seen.append(options)
        return None

    def calls_per_request(self, options: Any) -> int:
        self.options_seen.append(options)
        return 3

    def submit(self, submission: Submission) -> SubmitResult:
        self.submissions.append(submission)
        answer = self.answers[len(self.submissions) - 1]
        if isinstance(answer, Exception):
            raise answer
        return answer


def test_every_answer_of_the_vendor_is_settled_counted_and_measured(deps: Any, blu_sim: Any, metrics: Any) -> None:
    """Two chunks: the first accepted but for one refusal, the second with one contact left in doubt."""
    campaign_id = _campaign(deps, count=4)
    campaign = deps.store.get_campaign(campaign_id)
    long_mismatch = "x" * 600
    vendor = _Scripted(
        campaign_id,
        [
            SubmitResult(accepted={"c0": "r0"}, rejected={"c1": "number barred"}, job_id="job-1"),
            SubmitResult(accepted={"c2": "r2"}, unconfirmed={"c3": "r3"}, mismatches=[long_mismatch], job_id="job-2"),
        ],
    )
    now = deps.clock()
    summary = dispatch_batch(
        _batch(campaign_id, ["c0", "c1", "c2", "c3"]), deps.store, StaticAdapters({"blu": vendor}), now
    )
    assert (summary.submitted, summary.failed, summary.unconfirmed) == (2, 1, 1)
    assert [submission.key for submission in vendor.submissions] == ["b-1#0", "b-1#2"]
    assert all(submission.campaign == campaign for submission in vendor.submissions)
    assert vendor.options_seen and all(options == campaign.vendor_options for options in vendor.options_seen)
    contacts = {cid: deps.store.get_contact(campaign_id, cid) for cid in ("c0", "c1", "c2", "c3")}
    assert (contacts["c0"].state, contacts["c0"].vendor_record_id, contacts["c0"].vendor_job_id) == (
        DialState.SUBMITTED,
        "r0",
        "job-1",
    )
    assert (contacts["c1"].state, contacts["c1"].reason) == (DialState.FAILED, "number barred")
    assert (contacts["c3"].state, contacts["c3"].vendor_job_id) == (DialState.UNCONFIRMED, "job-2")
    assert contacts["c3"].reason == f"blu's answer disagreed with what was sent ({long_mismatch})"[:500]
    assert len(contacts["c3"].reason) == 500
    [task] = deps.store.campaign_tasks(campaign_id, "blu")
    assert (task.submitted, task.unconfirmed, sorted(task.job_ids)) == (3, 1, ["job-1", "job-2"])  # a set
    dials = deps.store.dial_history("+639171230000", now - dt.timedelta(days=1))
    assert [(dial.at, dial.calls) for dial in dials] == [(now, 3)]
    assert metrics() == {
        ("ContactsSubmitted", (("vendor", "blu"), ("service", "dialhub"))): 2,
        ("ContactsRejectedByVendor", (("vendor", "blu"), ("service", "dialhub"))): 1,
        ("VendorAnswerMismatch", (("vendor", "blu"), ("service", "dialhub"))): 1,
    }


def test_a_doubt_without_a_named_mismatch_says_the_answer_did_not_account_for_every_request(
    deps: Any, blu_sim: Any, metrics: Any
) -> None:
    campaign_id = _campaign(deps, count=1)
    vendor = _Scripted(campaign_id, [SubmitResult(unconfirmed={"c0": "r0"})])
    dispatch_batch(_batch(campaign_id, ["c0"]), deps.store, StaticAdapters({"blu": vendor}), deps.clock())
    contact = deps.store.get_contact(campaign_id, "c0")
    assert contact.reason == "blu's answer disagreed with what was sent (its answer did not account for every request)"
    assert metrics()[("VendorAnswerMismatch", (("vendor", "blu"), ("service", "dialhub")))] == 1


def test_a_mismatch_on_accepted_contacts_alone_is_still_counted(deps: Any, blu_sim: Any, metrics: Any) -> None:
    campaign_id = _campaign(deps, count=2)
    answer = SubmitResult(accepted={"c0": "r0", "c1": "r1"}, mismatches=["counted 3, more than the 2 sent", "again"])
    vendor = _Scripted(campaign_id, [answer])
    dispatch_batch(_batch(campaign_id, ["c0", "c1"]), deps.store, StaticAdapters({"blu": vendor}), deps.clock())
    assert metrics()[("VendorAnswerMismatch", (("vendor", "blu"), ("service", "dialhub")))] == 2


def test_a_chunk_no_try_reached_fails_over_and_the_vendors_circuit_counts_each_chunk(
    deps: Any, blu_sim: Any, metrics: Any
) -> None:
    """One batch, three chunks: the first never reached Blu (to the fallback), the next two were taken. The
    circuit counts the failure and the first success closes it; a later batch's failure counts from zero."""
    from tests.integration.test_airudder_flow import OPTIONS as AIRUDDER_OPTIONS

    campaign_id = _campaign(deps, count=9, fallback=[{"vendor": "airudder", "vendorOptions": AIRUDDER_OPTIONS}])
    now = deps.clock()
    store = deps.store
    store.record_submission_failure("blu", now)
    down = VendorUnavailable("blu", "blu unavailable: ConnectError", maybe_received=False)
    vendor = _Scripted(
        campaign_id,
        [
            down,
            SubmitResult(accepted={"c2": "r2", "c3": "r3"}, job_id="job-2"),
            SubmitResult(accepted={"c4": "r4", "c5": "r5"}, job_id="job-3"),
            down,
            VendorUnavailable("blu", "blu unavailable: ReadTimeout"),  # it may have reached Blu
        ],
    )
    adapters = StaticAdapters({"blu": vendor})
    summary = dispatch_batch(_batch(campaign_id, [f"c{i}" for i in range(6)]), store, adapters, now)
    assert (summary.submitted, summary.failed_over) == (4, 2)
    moved = [store.get_contact(campaign_id, f"c{i}") for i in (0, 1)]
    assert {(c.state, c.vendor, c.failover_cause) for c in moved} == {(DialState.QUEUED, "airudder", "vendor_down")}
    assert store.get_circuit("blu") == Circuit()
    assert metrics() == {
        ("ContactsFailedOver", (("vendor", "blu"), ("service", "dialhub"))): 2,
        ("ContactsSubmitted", (("vendor", "blu"), ("service", "dialhub"))): 4,
    }
    assert dispatch_batch(_batch(campaign_id, ["c6", "c7"], "b-2"), store, adapters, now).failed_over == 2
    assert store.get_circuit("blu") == Circuit(1)
    with pytest.raises(VendorUnavailable):  # left to SQS: the one contact stays Blu's, claimed
        dispatch_batch(_batch(campaign_id, ["c8"], "b-3"), store, adapters, now)
    in_doubt = store.get_contact(campaign_id, "c8")
    assert (in_doubt.state, in_doubt.vendor) == (DialState.SUBMITTING, "blu")
    assert len(store.dial_history(in_doubt.phone, now - dt.timedelta(days=1))) == 1  # counted as dialled


def test_an_account_refusal_moves_only_contacts_this_delivery_found_unsent(deps: Any, blu_sim: Any) -> None:
    """One contact was claimed by an earlier delivery, which may have reached Blu: it stays Blu's, and the batch
    goes back to SQS; the other goes to the fallback."""
    from tests.integration.test_airudder_flow import OPTIONS as AIRUDDER_OPTIONS

    campaign_id = _campaign(deps, count=2, fallback=[{"vendor": "airudder", "vendorOptions": AIRUDDER_OPTIONS}])
    now = deps.clock()
    store = deps.store
    sets = {"batchId": "b-1", "claimedAt": now.isoformat(), "vendorTaskId": "task-1"}
    assert store.move_contact(
        campaign_id, "c0", DialState.SUBMITTING, allowed_from=[DialState.QUEUED], now=now, sets=sets
    )
    refused = VendorRejected("blu", "HTTP 401", "request refused", account_refused=True)
    adapters = StaticAdapters({"blu": _Scripted(campaign_id, [refused])})
    with pytest.raises(VendorRejected):
        dispatch_batch(_batch(campaign_id, ["c0", "c1"]), store, adapters, now)
    kept, moved = store.get_contact(campaign_id, "c0"), store.get_contact(campaign_id, "c1")
    assert (kept.state, kept.vendor) == (DialState.SUBMITTING, "blu")
    assert (moved.state, moved.vendor, moved.failover_cause) == (DialState.QUEUED, "airudder", "batch_refused")
    assert store.get_circuit("blu").failures == 1

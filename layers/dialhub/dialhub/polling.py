"""Recover every outcome whose callback never came: page through each open vendor task's results."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from dialhub.models import CallOutcome, DialState, VendorTask
from dialhub.observability import count_metric, log_keys, logger
from dialhub.outcomes import record_polled
from dialhub.store import RecordResult, Store
from dialhub.vendors import Adapters
from dialhub.vendors.base import VendorAdapter, VendorError

_AWAITING = frozenset({DialState.SUBMITTED, DialState.UNCONFIRMED})


@dataclass
class PollSummary:
    tasks: int = 0
    results: int = 0
    recovered: int = 0
    closed: int = 0
    failed_tasks: int = 0
    unresolved: int = 0  # contacts still waiting for a result when their task was given up
    confirmed: int = 0  # contacts in doubt whose results showed the vendor held them


def _fail_unresolved(store: Store, task: VendorTask, horizon_days: int, now: dt.datetime) -> int:
    """Contacts the vendor never reported on within the horizon: failed, with a reason, not left open."""
    silence = f"no result from {task.vendor} within {horizon_days} days of the dial date"
    failed = 0
    for page in store.iter_contacts(task.campaign_id, _AWAITING):
        for contact in page:
            if contact.vendor_task_date == task.local_date:
                reason = f"{contact.reason}; {silence}" if contact.state is DialState.UNCONFIRMED else silence
                failed += store.move_contact(
                    task.campaign_id,
                    contact.contact_id,
                    DialState.FAILED,
                    now=now,
                    allowed_from={contact.state},
                    sets={"reason": reason[:700]},
                )
    if failed:
        count_metric("ContactsWithoutVendorResult", failed, vendor=task.vendor)
    return failed


def _in_doubt(store: Store, task: VendorTask) -> set[str]:
    """The task's contacts whose acceptance the vendor's answer left in doubt (read only while there are any)."""
    if not task.unconfirmed:
        return set()
    return {
        contact.contact_id
        for page in store.iter_contacts(task.campaign_id, {DialState.UNCONFIRMED})
        for contact in page
        if contact.vendor_task_date == task.local_date
    }


def _settle_doubts(store: Store, task: VendorTask, doubted: set[str], page: list[CallOutcome], now: dt.datetime) -> int:
    """A result from the vendor proves it holds the request: a closing one has already made the contact final
    (or queued it for a redial), any other moves it to SUBMITTED, where it waits like every other."""
    settled = 0
    for outcome in page:
        if outcome.contact_id not in doubted or outcome.campaign_id not in (None, task.campaign_id):
            continue
        doubted.discard(outcome.contact_id)
        settled += 1
        if not outcome.closes:
            store.move_contact(
                task.campaign_id,
                outcome.contact_id,
                DialState.SUBMITTED,
                now=now,
                allowed_from={DialState.UNCONFIRMED},
                sets={"reason": None},
            )
    return settled


def _poll_task(
    store: Store, adapter: VendorAdapter, task: VendorTask, now: dt.datetime, horizon_days: int, summary: PollSummary
) -> None:
    summary.tasks += 1
    closed_contacts = 0
    doubted = _in_doubt(store, task)
    try:
        for page in adapter.results(task):
            summary.results += len(page)
            closed_contacts += sum(1 for outcome in page if outcome.closes)
            recorded = record_polled(task.vendor, page, store, now)
            summary.recovered += recorded[RecordResult.STORED] + recorded[RecordResult.REDIAL]
            if doubted:
                summary.confirmed += _settle_doubts(store, task, doubted, page, now)
    except VendorError as exc:
        # One vendor's outage must not stop the others; this task is simply polled again next time.
        summary.failed_tasks += 1
        logger.warning("polling a task failed", extra={"reason": exc.reason})
        return
    if task.unconfirmed and not doubted:
        store.clear_task_doubts(task)
    expired = task.local_date + dt.timedelta(days=horizon_days) < adapter.today()
    if adapter.task_complete(task, closed_contacts) or expired:
        if expired:
            summary.unresolved += _fail_unresolved(store, task, horizon_days, now)
        store.close_task(task)
        summary.closed += 1


def poll_open_tasks(store: Store, adapters: Adapters, now: dt.datetime, horizon_days: int) -> PollSummary:
    """Read every open task's results; a task past its horizon (dial date + `horizon_days`, in the vendor's
    day; a negative horizon means every task is past it) is closed, failing what still waits for a result."""
    summary = PollSummary()
    for task in store.iter_open_tasks():
        with log_keys(campaign_id=task.campaign_id, vendor=task.vendor):
            _poll_task(store, adapters.get(task.vendor), task, now, horizon_days, summary)
    count_metric("OutcomesRecoveredByPolling", summary.recovered)
    logger.info("poll finished", extra=summary.__dict__)
    return summary

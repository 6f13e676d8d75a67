"""Recover every outcome whose callback never came: page through each open vendor task's results."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from dialhub.models import DialState, VendorTask
from dialhub.observability import count_metric, logger
from dialhub.outcomes import record_polled
from dialhub.store import RecordResult, Store
from dialhub.vendors import Adapters
from dialhub.vendors.base import VendorError


@dataclass
class PollSummary:
    tasks: int = 0
    results: int = 0
    recovered: int = 0
    closed: int = 0
    failed_tasks: int = 0
    unresolved: int = 0  # contacts still waiting for a result when their task was given up


def _fail_unresolved(store: Store, task: VendorTask, horizon_days: int, now: dt.datetime) -> int:
    """Contacts the vendor never reported on within the horizon: failed, with a reason, not left open."""
    reason = f"no result from {task.vendor} within {horizon_days} days of the dial date"
    failed = 0
    for page in store.iter_contacts(task.campaign_id, {DialState.SUBMITTED}):
        for contact in page:
            if contact.vendor_task_date == task.local_date:
                failed += store.move_contact(
                    task.campaign_id,
                    contact.contact_id,
                    DialState.FAILED,
                    now=now,
                    allowed_from={DialState.SUBMITTED},
                    sets={"reason": reason},
                )
    if failed:
        count_metric("ContactsWithoutVendorResult", failed, vendor=task.vendor)
    return failed


def poll_open_tasks(store: Store, adapters: Adapters, now: dt.datetime, horizon_days: int) -> PollSummary:
    summary = PollSummary()
    for task in store.iter_open_tasks():
        summary.tasks += 1
        adapter = adapters.get(task.vendor)
        closed_contacts = 0
        try:
            for page in adapter.results(task):
                summary.results += len(page)
                closed_contacts += sum(1 for outcome in page if outcome.closes)
                recorded = record_polled(task.vendor, page, store, now)
                summary.recovered += recorded[RecordResult.STORED] + recorded[RecordResult.REDIAL]
        except VendorError as exc:
            # One vendor's outage must not stop the others; this task is simply polled again next time.
            summary.failed_tasks += 1
            logger.warning(
                "polling a task failed",
                extra={"vendor": task.vendor, "reason": exc.reason, "campaign_id": task.campaign_id},
            )
            continue
        expired = task.local_date + dt.timedelta(days=horizon_days) < adapter.today()
        if adapter.task_complete(task, closed_contacts) or expired:
            if expired:
                summary.unresolved += _fail_unresolved(store, task, horizon_days, now)
            store.close_task(task)
            summary.closed += 1
    count_metric("OutcomesRecoveredByPolling", summary.recovered)
    logger.info("poll finished", extra=summary.__dict__)
    return summary

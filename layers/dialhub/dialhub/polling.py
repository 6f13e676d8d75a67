"""Recover every outcome whose callback never came: page through each open vendor task's results."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

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
                summary.recovered += record_polled(task.vendor, page, store, now)[RecordResult.STORED]
        except VendorError as exc:
            # One vendor's outage must not stop the others; this task is simply polled again next time.
            summary.failed_tasks += 1
            logger.warning("polling a task failed", extra={"vendor": task.vendor, "reason": exc.reason,
                                                           "campaign_id": task.campaign_id})
            continue
        expired = task.local_date + dt.timedelta(days=horizon_days) < adapter.today()
        if adapter.task_complete(task, closed_contacts) or expired:
            store.close_task(task)
            summary.closed += 1
    count_metric("OutcomesRecoveredByPolling", summary.recovered)
    logger.info("poll finished", extra=summary.__dict__)
    return summary

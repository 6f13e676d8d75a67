"""Contacts left claimed: a dispatch message that never finished (SQS gave up on it and it lies in the
dead-letter queue, or it was re-driven too late) leaves its contacts SUBMITTING, where nothing else looks.

The vendor may hold any of them (a request can reach a vendor whose answer never comes back), so none is
ever sent again. While its vendor task is inside the poll horizon, a stuck contact becomes UNCONFIRMED and is
counted on that task: the poller reads the task's results, which settle it by the vendor's own answer (a
result shows the vendor took it; none by the horizon fails it). Past the horizon, or with no task to ask,
nothing can settle it: it fails with the reason `dispatch_abandoned`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from dialhub.models import Contact, DialState
from dialhub.observability import count_metric, logger
from dialhub.store import Store
from dialhub.vendors import Adapters

ABANDONED = "dispatch_abandoned"
LEFT_TO_RESULTS = "its dispatch never finished; the vendor's results settle it"
# How far back the sweep looks for claims: it runs every poll, so older ones were swept already.
SWEEP_LOOK_BACK = dt.timedelta(days=7)


@dataclass
class SweepSummary:
    stuck: int = 0  # contacts found claimed past the stuck horizon
    to_results: int = 0  # left to their vendor task's results
    abandoned: int = 0  # failed: no task inside the poll horizon could settle them


def sweep_stuck_claims(
    store: Store, adapters: Adapters, now: dt.datetime, stuck_after: dt.timedelta, horizon_days: int
) -> SweepSummary:
    """Settle every contact claimed longer ago than `stuck_after` (longer than the dispatch queue goes on
    delivering a message) and still SUBMITTING."""
    summary = SweepSummary()
    vendors: dict[str, str | None] = {}  # campaign id -> its first vendor, for contacts stored before splits
    claimed_before = now - stuck_after
    for page in store.iter_stuck_claims(claimed_before, claimed_before - SWEEP_LOOK_BACK):
        for contact in page:
            summary.stuck += 1
            if contact.campaign_id not in vendors:
                campaign = store.get_campaign(contact.campaign_id)
                vendors[contact.campaign_id] = campaign.vendor if campaign else None
            vendor = contact.vendor or vendors[contact.campaign_id]
            if vendor is not None and _left_to_results(store, adapters, contact, vendor, horizon_days, now):
                summary.to_results += 1
            elif _settle(store, contact, DialState.FAILED, ABANDONED, now):
                summary.abandoned += 1
    if summary.stuck:
        count_metric("ContactsSweptFromDispatch", summary.to_results + summary.abandoned)
        count_metric("ContactsAbandonedByDispatch", summary.abandoned)
        logger.warning("stuck claims swept", extra=summary.__dict__)
    return summary


def _left_to_results(
    store: Store, adapters: Adapters, contact: Contact, vendor: str, horizon_days: int, now: dt.datetime
) -> bool:
    if contact.vendor_task_date is None:
        return False
    task = store.get_task(contact.campaign_id, vendor, contact.vendor_task_date)
    if task is None or task.local_date + dt.timedelta(days=horizon_days) < adapters.get(vendor).today():
        return False
    # Counted on the task first: a crash before the move leaves an over-count, which only polls longer; the
    # other order could let the task close with the contact still waiting on it.
    store.add_task_submissions(task, 1, unconfirmed=1)
    return _settle(store, contact, DialState.UNCONFIRMED, LEFT_TO_RESULTS, now)


def _settle(store: Store, contact: Contact, to: DialState, reason: str, now: dt.datetime) -> bool:
    """Out of SUBMITTING, only while the claim the sweep found still holds (a late delivery may have settled it)."""
    return store.move_contact(
        contact.campaign_id,
        contact.contact_id,
        to,
        allowed_from={DialState.SUBMITTING},
        now=now,
        batch_id=contact.batch_id,
        sets={"reason": reason, "sweptAt": now.isoformat()},
    )

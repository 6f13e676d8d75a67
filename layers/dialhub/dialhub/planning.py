"""Which queued contacts go out today, in vendor-sized batches, one SQS message per batch.

A message is sent before its contacts are marked planned: a crash in between leaves them queued and a
later run plans them again; the dispatcher's per-contact claim makes the second message a no-op.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from dialhub.admission import admit
from dialhub.capacity import CAPACITY_HOLD, DailyCaps
from dialhub.models import (
    Campaign,
    CampaignStatus,
    CapacityOverflow,
    Contact,
    DialState,
    DispatchBatch,
    FailoverCause,
    Hold,
)
from dialhub.observability import log_keys, logger
from dialhub.parallel import each
from dialhub.policies import campaign_policy
from dialhub.queue import SEND_BATCH_LIMIT, DispatchQueue
from dialhub.store import Store
from dialhub.store.table import BATCH_GET_LIMIT
from dialhub.vendors import Adapters

# Every zone's "today" has begun by the time UTC reaches this offset (UTC+14 is the furthest ahead).
_FURTHEST_AHEAD = dt.timedelta(hours=14)
# Contact ids per SQS message are bounded by bytes too (SQS takes 256 KiB): 5,000 ids of 128 characters
# would not fit, so a batch closes early when its ids reach this many characters.
MESSAGE_ID_BUDGET = 200_000
# Admission reads suppressions (and recent conversations) this many numbers a request.
ADMISSION_CHUNK = BATCH_GET_LIMIT


@dataclass
class PlanSummary:
    campaigns: int = 0
    batches: int = 0
    contacts: int = 0
    held: int = 0  # held back by compliance or a vendor's daily cap; they stay queued and are looked at again
    failed_over: int = 0  # beyond a vendor's daily cap, sent on to the campaign's fallback vendor
    unfinished: int = 0  # campaigns left due when the run's time was up: the next run goes on with them

    def __iadd__(self, other: PlanSummary) -> PlanSummary:
        self.campaigns += other.campaigns
        self.batches += other.batches
        self.contacts += other.contacts
        self.held += other.held
        self.failed_over += other.failed_over
        self.unfinished += other.unfinished
        return self


def campaign_today(campaign: Campaign, now: dt.datetime) -> dt.date:
    return now.astimezone(ZoneInfo(campaign.timezone)).date()


def batch_id(campaign_id: str, dial_date: dt.date, attempts: list[str]) -> str:
    """The same for the same contacts' same attempts (a replanned batch), new for a redial of them."""
    digest = hashlib.sha256("\x1f".join(sorted(attempts)).encode()).hexdigest()[:16]
    return f"{campaign_id}:{dial_date.isoformat()}:{digest}"


def _admitted(campaign: Campaign, store: Store, now: dt.datetime, summary: PlanSummary) -> Iterator[list[Contact]]:
    """The queue's contacts that may go out, admitted 100 at a time whatever the query's pages: every
    suppression read is then a full one, and a run stopped at its deadline has read at most 100 contacts
    it leaves for the next run to read again."""
    policy = campaign_policy(store, campaign)
    for contacts in _regrouped(store.iter_queued_contacts(campaign.campaign_id), ADMISSION_CHUNK):
        admission = admit(contacts, store, now, policy)
        for contact_id, hold in admission.held.items():
            summary.held += store.hold_contact(campaign.campaign_id, contact_id, hold)
        yield admission.admitted


def _regrouped(pages: Iterable[list[Contact]], size: int) -> Iterator[list[Contact]]:
    group: list[Contact] = []
    for page in pages:
        for contact in page:
            group.append(contact)
            if len(group) == size:
                yield group
                group = []
    if group:
        yield group


class _Batches:
    """Each vendor's contacts in batches of that vendor's size (a split campaign's vendors fill theirs side by
    side, so planning reads each contact once however many vendors there are); a contact beyond its vendor's
    daily cap goes to `overflow` instead."""

    def __init__(
        self, campaign: Campaign, limits: dict[str, int], dial_date: dt.date, caps: DailyCaps | None = None
    ) -> None:
        self.campaign, self.limits, self.dial_date, self.caps = campaign, limits, dial_date, caps
        self.pending: dict[str, list[Contact]] = {vendor: [] for vendor in limits}
        self.sizes = dict.fromkeys(limits, 0)
        self.overflow: list[Contact] = []

    def cut_from(self, pages: Iterable[list[Contact]]) -> Iterator[DispatchBatch]:
        """Every full batch as it fills, then what is left of each vendor's."""
        for page in pages:
            for contact in page:
                vendor = self.campaign.vendor_of(contact)
                if self.caps is not None and not self.caps.allows(vendor):
                    self.overflow.append(contact)
                    continue
                waiting = self.pending[vendor]
                if waiting and (
                    len(waiting) == self.limits[vendor]
                    or self.sizes[vendor] + len(contact.contact_id) + 3 > MESSAGE_ID_BUDGET
                ):
                    yield self._cut(vendor)
                self.pending[vendor].append(contact)
                self.sizes[vendor] += len(contact.contact_id) + 3
        yield from self.rest()

    def rest(self) -> list[DispatchBatch]:
        """What is left of each vendor's batch: sent when a run stops early too, since a split campaign's other
        vendors may hold contacts from many pages back that would otherwise be read again."""
        return [self._cut(vendor) for vendor in self.limits if self.pending[vendor]]

    def _cut(self, vendor: str) -> DispatchBatch:
        batch, self.pending[vendor], self.sizes[vendor] = self.pending[vendor], [], 0
        attempts = [f"{contact.contact_id}#{contact.attempt}" for contact in batch]
        return DispatchBatch(
            batch_id=batch_id(self.campaign.campaign_id, self.dial_date, attempts),
            campaign_id=self.campaign.campaign_id,
            vendor=vendor,
            contact_ids=[contact.contact_id for contact in batch],
        )


def _overflow(
    campaign: Campaign, contacts: list[Contact], caps: DailyCaps, store: Store, now: dt.datetime, summary: PlanSummary
) -> None:
    """Contacts beyond their vendor's daily cap: to the fallback vendor when the campaign says so and has one,
    else held until the vendor's next day (a contact held so already is left as it is)."""
    for contact in contacts:
        vendor = campaign.vendor_of(contact)
        cap = f"{vendor}'s daily cap of {caps.cap_of(vendor)} requests is reached"
        fallback = campaign.fallback_for(vendor)
        if campaign.capacity_overflow is CapacityOverflow.FALLBACK and fallback is not None:
            summary.failed_over += store.fail_over_contact(
                contact, "", vendor, fallback, FailoverCause.CAPACITY, cap, now
            )
            continue
        until = caps.next_day_starts(vendor)
        summary.held += 1
        if contact.hold is None or (contact.hold.reason, contact.hold.until) != (CAPACITY_HOLD, until):
            store.hold_contact(
                campaign.campaign_id,
                contact.contact_id,
                Hold(reason=CAPACITY_HOLD, detail=cap, until=until, checked_at=now),
            )


def plan_campaign(
    campaign: Campaign,
    store: Store,
    queue: DispatchQueue,
    adapters: Adapters,
    dial_date: dt.date,
    now: dt.datetime,
    deadline: float = math.inf,
) -> PlanSummary:
    """Queue every queued contact of the campaign for dispatch today (nothing while it is paused).

    Past the `deadline` (time.monotonic()) it stops between batches and leaves the campaign due, so a run
    that would outlast its function ends cleanly and the next run (the frequent re-planning) goes on.
    """
    summary = PlanSummary(campaigns=1)
    if campaign.status is not CampaignStatus.ACTIVE:
        return summary
    # Cleared first: contacts added while we plan mark the campaign due again and are not missed.
    store.clear_campaign_due(campaign.campaign_id, planned_on=dial_date)
    outgoing: list[DispatchBatch] = []

    def mark_planned(batch: DispatchBatch, contact_id: str) -> bool:
        return store.move_contact(
            campaign.campaign_id,
            contact_id,
            DialState.PLANNED,
            now=now,
            allowed_from={DialState.QUEUED},
            sets={"batchId": batch.batch_id, "hold": None},
        )

    def flush() -> None:
        queue.send(outgoing)
        moves = [(batch, contact_id) for batch in outgoing for contact_id in batch.contact_ids]
        each(lambda move: mark_planned(*move), moves)  # each a conditional write of its own
        summary.batches += len(outgoing)
        summary.contacts += len(moves)
        outgoing.clear()

    limits = {share.vendor: adapters.get(share.vendor).batch_limit for share in campaign.vendors}
    caps = DailyCaps(store, adapters, limits.__getitem__)
    batches = _Batches(campaign, limits, dial_date, caps)
    for batch in batches.cut_from(_admitted(campaign, store, now, summary)):
        outgoing.append(batch)
        if len(outgoing) == SEND_BATCH_LIMIT:
            flush()
            if time.monotonic() > deadline:
                summary.unfinished = 1
                outgoing.extend(batches.rest())
                break
    if outgoing:
        flush()
    caps.give_back()
    _overflow(campaign, batches.overflow, caps, store, now, summary)
    if summary.held or summary.unfinished or summary.failed_over:
        store.mark_campaign_due(campaign, dial_date)  # held contacts are looked at again on the next run
    logger.info(
        "campaign planned",
        extra={
            "campaign_id": campaign.campaign_id,
            "batches": summary.batches,
            "contacts": summary.contacts,
            "held": summary.held,
            "unfinished": summary.unfinished,
            "vendor": campaign.vendor,
        },
    )
    return summary


def plan_due_campaigns(
    store: Store,
    queue: DispatchQueue,
    adapters: Adapters,
    now: dt.datetime,
    running_only: bool = False,
    deadline: float = math.inf,
) -> PlanSummary:
    """The daily run: every active campaign whose dial date has come in its own time zone.

    With `running_only` (the frequent re-planning run), only campaigns planned already today: contacts held
    until their window opens, their cap clears or their policy redial comes go out then, while a campaign
    not yet started waits for the daily run (or an explicit dispatch).
    """
    total = PlanSummary()
    for campaign in store.iter_due_campaigns((now + _FURTHEST_AHEAD).date()):
        today = campaign_today(campaign, now)
        if campaign.dial_date > today or campaign.status is not CampaignStatus.ACTIVE:
            continue
        if running_only and campaign.last_planned_on != today:
            continue
        if time.monotonic() > deadline:
            store.mark_campaign_due(campaign, today, running=True)  # the next (frequent) run plans it
            total.unfinished += 1
            continue
        with log_keys(campaign_id=campaign.campaign_id, vendor=campaign.vendor):
            total += plan_campaign(campaign, store, queue, adapters, today, now, deadline)
    return total

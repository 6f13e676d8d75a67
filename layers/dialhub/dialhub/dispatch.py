"""Submit one planned batch to its vendor, at most once per contact.

Each contact is claimed (moved to SUBMITTING under this batch and task) before the vendor call and
settled after it: SUBMITTED, FAILED, or UNCONFIRMED when the vendor's answer leaves it in doubt. A
redelivered message re-sends only contacts still SUBMITTING under the same batch and the same vendor
task; vendors ignore a record id they already hold, so a crash between the vendor's acceptance and our
write cannot dial anyone twice.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from functools import partial

from dialhub.admission import admit
from dialhub.models import (
    CLAIMABLE,
    Campaign,
    CampaignStatus,
    Contact,
    DialState,
    DispatchBatch,
    FailoverCause,
    VendorTask,
)
from dialhub.observability import count_metric, logger
from dialhub.parallel import each
from dialhub.phones import mask_numbers_in
from dialhub.policies import campaign_policy
from dialhub.store import Circuit, DialRecord, Store
from dialhub.vendors import Adapters
from dialhub.vendors.base import (
    DialRequest,
    Submission,
    SubmitResult,
    VendorAdapter,
    VendorError,
    VendorRejected,
    VendorUnavailable,
)


@dataclass
class DispatchSummary:
    submitted: int = 0
    unconfirmed: int = 0  # the vendor may hold them; never sent again, settled by the poller
    failed: int = 0
    skipped: int = 0
    held: int = 0  # back in the queue (campaign paused, or held by compliance) or cancelled with their campaign
    failed_over: int = 0  # back in the queue for the campaign's fallback vendor: this one never took them


def ensure_task(campaign: Campaign, adapter: VendorAdapter, store: Store, now: dt.datetime) -> VendorTask:
    """Today's vendor task for the campaign; created once (vendor task ids are never reused across days)."""
    local_date = adapter.today()
    task = store.get_task(campaign.campaign_id, campaign.vendor, local_date)
    if task is not None:
        return task
    vendor_task_id = adapter.create_task(campaign, local_date)
    return store.create_task(
        VendorTask(
            campaign_id=campaign.campaign_id,
            vendor=campaign.vendor,
            local_date=local_date,
            vendor_task_id=vendor_task_id,
            created_at=now,
        ),
        now,
    )


def _fail(store: Store, contact: Contact, reason: str, now: dt.datetime) -> bool:
    return store.move_contact(
        contact.campaign_id,
        contact.contact_id,
        DialState.FAILED,
        now=now,
        allowed_from=CLAIMABLE,
        sets={"reason": reason},
    )


def _hold(campaign: Campaign, contacts: list[Contact], store: Store, now: dt.datetime) -> int:
    """A batch planned before its campaign was paused or cancelled: nothing not yet sent goes out."""
    held = 0
    for contact in contacts:
        if contact.state not in (DialState.QUEUED, DialState.PLANNED):
            continue
        if campaign.status is CampaignStatus.CANCELLED:
            held += store.move_contact(
                campaign.campaign_id,
                contact.contact_id,
                DialState.CANCELLED,
                now=now,
                allowed_from={DialState.QUEUED, DialState.PLANNED},
            )
        else:
            held += store.requeue_contact(campaign.campaign_id, contact.contact_id, now)
    if held and campaign.status is CampaignStatus.PAUSED:
        store.mark_campaign_due(campaign, campaign.dial_date)
    return held


def _doubt(vendor: str, result: SubmitResult) -> str:
    """Why a contact is unconfirmed, as shown on it (and kept when it fails at the horizon)."""
    what = "; ".join(result.mismatches) or "its answer did not account for every request"
    return f"{vendor}'s answer disagreed with what was sent ({what})"[:500]


def _remember_dials(
    store: Store, campaign: Campaign, adapter: VendorAdapter, contacts: list[Contact], now: dt.datetime
) -> None:
    """Dial-history records for the frequency cap, keyed by claim time: a batch sent again writes the same ones."""
    calls = adapter.calls_per_request(campaign.vendor_options)
    store.record_dials(
        [
            DialRecord(
                phone=contact.phone,
                at=contact.claimed_at or now,
                campaign_id=campaign.campaign_id,
                contact_id=contact.contact_id,
                attempt=contact.attempt,
                calls=calls,
            )
            for contact in contacts
        ]
    )


@dataclass
class _Failover:
    """Where the contacts of this batch that its vendor never took can go, and the vendor's circuit."""

    campaign: Campaign  # as the batch's vendor sees it
    store: Store
    now: dt.datetime
    batch_id: str
    circuit: Circuit

    @property
    def to(self) -> str | None:
        return self.campaign.fallback_for(self.campaign.vendor)

    def failed(self) -> None:
        self.circuit = self.store.record_submission_failure(self.campaign.vendor, self.now)

    def succeeded(self) -> None:
        if self.circuit.failures:
            self.store.record_submission_success(self.campaign.vendor)
            self.circuit = Circuit()

    def move(self, contacts: list[Contact], cause: FailoverCause, reason: str) -> int:
        """The contacts to the fallback (none without one); how many moved."""
        to = self.to
        if to is None or not contacts:
            return 0
        moved = sum(
            each(
                lambda contact: self.store.fail_over_contact(
                    contact, self.batch_id, self.campaign.vendor, to, cause, reason, self.now
                ),
                contacts,
            )
        )
        if moved:
            self.store.mark_campaign_due(self.campaign, self.campaign.dial_date)  # the next planning run sends them
            count_metric("ContactsFailedOver", moved, vendor=self.campaign.vendor)
            logger.warning(
                "contacts failed over",
                extra={
                    "campaign_id": self.campaign.campaign_id,
                    "batch_id": self.batch_id,
                    "vendor": self.campaign.vendor,
                    "to_vendor": to,
                    "cause": cause.value,
                    "contacts": moved,
                },
            )
        return moved


def dispatch_batch(batch: DispatchBatch, store: Store, adapters: Adapters, now: dt.datetime) -> DispatchSummary:
    summary = DispatchSummary()
    campaign = store.get_campaign(batch.campaign_id)
    if campaign is None:
        logger.warning("batch for unknown campaign dropped", extra={"batch_id": batch.batch_id})
        return summary
    if batch.vendor is not None and batch.vendor not in {share.vendor for share in campaign.vendors}:
        logger.warning("batch for a vendor not of its campaign dropped", extra={"batch_id": batch.batch_id})
        return summary
    campaign = campaign.for_vendor(batch.vendor or campaign.vendor)  # the one vendor this batch goes to
    contacts = store.get_contacts(campaign.campaign_id, batch.contact_ids)
    if campaign.status is not CampaignStatus.ACTIVE:
        summary.held = _hold(campaign, list(contacts.values()), store, now)
        logger.info(
            "batch held", extra={"batch_id": batch.batch_id, "status": campaign.status.value, "held": summary.held}
        )
        return summary
    eligible = [
        c
        for c in contacts.values()
        if (
            c.state in (DialState.QUEUED, DialState.PLANNED)
            or (c.state == DialState.SUBMITTING and c.batch_id == batch.batch_id)
        )
        and campaign.vendor_of(c) == campaign.vendor
    ]
    summary.skipped = len(batch.contact_ids) - len(eligible)
    # Compliance again, just before sending: a number suppressed since planning is not sent.
    fresh = [c for c in eligible if c.state != DialState.SUBMITTING]
    admission = admit(fresh, store, now, campaign_policy(store, campaign))
    for contact_id, hold in admission.held.items():
        summary.held += store.requeue_contact(campaign.campaign_id, contact_id, now, hold=hold)
    if admission.held:
        store.mark_campaign_due(campaign, campaign.dial_date)
        eligible = [c for c in eligible if c.contact_id not in admission.held]
    if not eligible:
        return summary
    adapter = adapters.get(campaign.vendor)
    # Contacts this delivery found unsent: only they may go to another vendor. One found SUBMITTING was claimed
    # by an earlier delivery of this batch, whose request the vendor may have taken.
    unsent = {contact.contact_id for contact in eligible if contact.state != DialState.SUBMITTING}
    failover = _Failover(campaign, store, now, batch.batch_id, store.get_circuit(campaign.vendor))
    if failover.to is not None and failover.circuit.is_open(now):
        reason = f"{campaign.vendor} failed its last {failover.circuit.failures} submissions; not tried"
        moving = [contact for contact in eligible if contact.contact_id in unsent]
        summary.failed_over += failover.move(moving, FailoverCause.CIRCUIT_OPEN, reason)
        eligible = [contact for contact in eligible if contact.contact_id not in unsent]
        if not eligible:
            return summary
    try:
        task = ensure_task(campaign, adapter, store, now)
    except VendorError as exc:
        # No task today: nothing of this batch reached the vendor in this delivery, so its unsent contacts may
        # go to a fallback, whatever the failure.
        failover.failed()
        cause = FailoverCause.BATCH_REFUSED if isinstance(exc, VendorRejected) else FailoverCause.VENDOR_DOWN
        moving = [contact for contact in eligible if contact.contact_id in unsent]
        summary.failed_over += failover.move(moving, cause, exc.reason)
        left = [contact for contact in eligible if contact.contact_id not in unsent or failover.to is None]
        if isinstance(exc, VendorUnavailable) and left:
            raise  # SQS delivers the batch again, and the vendor is tried again
        summary.failed += sum(_fail(store, contact, exc.reason, now) for contact in left)
        return summary

    def claim(contact: Contact) -> tuple[Contact | None, bool]:
        """The contact claimed for this batch and task (None: not to be sent), and whether it failed."""
        if contact.state == DialState.SUBMITTING and contact.vendor_task_id != task.vendor_task_id:
            # Sent to an earlier day's task whose answer we never recorded: resending to a new task could
            # dial twice, so it stays with the task it went to and the poller settles it.
            store.move_contact(
                campaign.campaign_id,
                contact.contact_id,
                DialState.SUBMITTED,
                now=now,
                allowed_from={DialState.SUBMITTING},
                batch_id=batch.batch_id,
            )
            return None, False
        if problem := adapter.contact_problem(contact, campaign.vendor_options):
            return None, _fail(store, contact, problem, now)
        # A redelivery keeps the first claim's time: the dial-history record it names is then the same one.
        claimed_at = contact.claimed_at if contact.state == DialState.SUBMITTING and contact.claimed_at else now
        if store.claim_contact(contact, batch.batch_id, task, claimed_at, now):
            return contact.model_copy(update={"claimed_at": claimed_at}), False
        return None, False

    def mark_sent(accepted: tuple[str, str], job_id: str | None, state: DialState, doubt: str | None) -> bool:
        # A contact whose callback raced ahead of this write is already final: the move is skipped.
        contact_id, record_id = accepted
        sets: dict[str, str | None] = {"vendorRecordId": record_id, "vendorJobId": job_id}
        if doubt:
            sets["reason"] = doubt
        return store.move_contact(
            campaign.campaign_id,
            contact_id,
            state,
            now=now,
            allowed_from={DialState.SUBMITTING},
            batch_id=batch.batch_id,
            sets=sets,
        )

    claims = each(claim, eligible)
    claimed = [contact for contact, _ in claims if contact is not None]
    summary.failed += sum(failed for _, failed in claims)

    for start in range(0, len(claimed), adapter.batch_limit):
        chunk = claimed[start : start + adapter.batch_limit]
        try:
            result = adapter.submit(
                Submission(
                    campaign=campaign,
                    task=task,
                    key=f"{batch.batch_id}#{start}",
                    requests=[DialRequest.for_contact(contact) for contact in chunk],
                )
            )
        except VendorUnavailable as exc:
            failover.failed()
            if exc.maybe_received:
                # The vendor may be dialling them already, and their calls may close them before SQS delivers
                # the batch again (which then sends nothing): counted for the frequency cap now, under the keys
                # that delivery would write.
                _remember_dials(store, campaign, adapter, chunk, now)
            # Only when no try can have reached the vendor may a contact go to another: any doubt, and it
            # stays with this vendor (claimed for this batch) for SQS's next delivery.
            moving = [] if exc.maybe_received else [contact for contact in chunk if contact.contact_id in unsent]
            moved = failover.move(moving, FailoverCause.VENDOR_DOWN, exc.reason)
            summary.failed_over += moved
            if moved < len(chunk):
                raise
            continue
        except VendorRejected as exc:
            # From a submission the adapters raise it only when the vendor refused our account (a request
            # refused for what it asked fails its contacts in the answer): nothing of it was taken.
            failover.failed()
            fresh = [contact for contact in chunk if contact.contact_id in unsent]
            summary.failed_over += failover.move(fresh, FailoverCause.BATCH_REFUSED, exc.reason)
            if failover.to is None:
                summary.failed += sum(_fail(store, contact, exc.reason, now) for contact in fresh)
            if len(fresh) < len(chunk):
                raise  # the others were claimed by an earlier delivery, which may have reached the vendor
            continue
        failover.succeeded()
        # Remembered for the frequency cap before anything else: a crash after this point redelivers the
        # batch, which writes the same records again (same claim time, same keys) rather than none. A contact
        # in doubt may be dialled, so it counts like an accepted one.
        held = result.accepted | result.unconfirmed
        _remember_dials(store, campaign, adapter, [contact for contact in chunk if contact.contact_id in held], now)
        # Counted (with the vendor job they went into) before any contact is settled: polling stops only once
        # this many results are final, so a crash while settling must not lose the count of contacts already
        # settled, which a redelivery does not send again. The contacts it does send again are counted twice:
        # an over-count only polls longer, while an under-count could stop before a dropped callback is found.
        store.add_task_submissions(task, len(held), result.job_id, unconfirmed=len(result.unconfirmed))
        each(
            partial(mark_sent, job_id=result.job_id, state=DialState.SUBMITTED, doubt=None),
            list(result.accepted.items()),
        )
        if result.unconfirmed or result.mismatches:
            count_metric("VendorAnswerMismatch", len(result.mismatches) or 1, vendor=campaign.vendor)
            logger.warning(
                "vendor answer disagrees with what was sent",
                extra={
                    "batch_id": batch.batch_id,
                    "vendor": campaign.vendor,
                    "unconfirmed": len(result.unconfirmed),
                    "mismatches": result.mismatches[:10],
                },
            )
        each(
            partial(
                mark_sent, job_id=result.job_id, state=DialState.UNCONFIRMED, doubt=_doubt(campaign.vendor, result)
            ),
            list(result.unconfirmed.items()),
        )
        summary.failed += sum(
            each(lambda rejected: _fail(store, contacts[rejected[0]], rejected[1], now), list(result.rejected.items()))
        )
        if result.rejected:
            logger.warning(
                "contacts refused by the vendor",
                extra={
                    "refused": len(result.rejected),
                    "reasons": dict(
                        Counter(mask_numbers_in(reason)[:200] for reason in result.rejected.values()).most_common(5)
                    ),
                    "contact_ids": sorted(result.rejected)[:20],
                },
            )
        summary.submitted += len(result.accepted)
        summary.unconfirmed += len(result.unconfirmed)
    count_metric("ContactsSubmitted", summary.submitted, vendor=campaign.vendor)
    count_metric("ContactsRejectedByVendor", summary.failed, vendor=campaign.vendor)
    logger.info(
        "batch dispatched",
        extra={
            "batch_id": batch.batch_id,
            "vendor": campaign.vendor,
            "submitted": summary.submitted,
            "unconfirmed": summary.unconfirmed,
            "failed": summary.failed,
            "skipped": summary.skipped,
        },
    )
    return summary

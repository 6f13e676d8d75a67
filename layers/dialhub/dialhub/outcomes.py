"""The one path by which an outcome is stored, whether a vendor pushed it or the poller fetched it."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from zoneinfo import ZoneInfo

from dialhub.compliance import redial_plan
from dialhub.models import REDIAL_HOLD, CallOutcome, Campaign, Hold, RedialVia
from dialhub.observability import count_metric, logger
from dialhub.policies import campaign_policies
from dialhub.store import RecordResult, RedialRequest, Store
from dialhub.suppressions import suppress_after_outcome


def record_outcomes(
    outcomes: list[CallOutcome], store: Store, now: dt.datetime, raw: bytes | None = None
) -> Counter[RecordResult]:
    """Store each outcome idempotently and monotonically (with the vendor's raw payload, for a callback);
    returns how many were stored, redialled, duplicate, orphan."""
    results: Counter[RecordResult] = Counter()
    for outcome in outcomes:
        if outcome.final and outcome.do_not_call:
            # Any call that heard it, even one the vendor will redial: the number goes on the list at once.
            # Before the outcome: should the write fail, the vendor's retry finds the number suppressed anyway.
            suppress_after_outcome(outcome, store, now)
        result = store.record_outcome(outcome, now, _redial_request(outcome, store, now), raw)
        results[result] += 1
        if result is not RecordResult.DUPLICATE and outcome.final:
            count_metric(
                "CallOutcomes",
                vendor=outcome.vendor,
                disposition=outcome.disposition.value,
                source=outcome.source.value,
            )
        if result is RecordResult.ORPHAN:
            count_metric("OrphanOutcomes", vendor=outcome.vendor)
        if result is RecordResult.REDIAL:
            count_metric("PolicyRedials", vendor=outcome.vendor, disposition=outcome.disposition.value)
        if result is not RecordResult.DUPLICATE:
            _log_recorded(outcome, result, now)
    return results


def _log_recorded(outcome: CallOutcome, result: RecordResult, now: dt.datetime) -> None:
    """One line per outcome stored: a contact's story and slow callbacks can be found in the logs (the README's
    Logs Insights queries read these fields). Ids only, never a number or a name."""
    ended = outcome.ended_at
    logger.info(
        "outcome recorded",
        extra={
            "campaign_id": outcome.campaign_id,
            "contact_id": outcome.contact_id,
            "vendor": outcome.vendor,
            "vendor_call_id": outcome.vendor_call_id,
            "disposition": outcome.disposition.value,
            "final": outcome.final,
            "source": outcome.source.value,
            "result": result.value,
            "delay_seconds": round((now - ended).total_seconds(), 1) if ended is not None else None,
        },
    )


def _redial_request(outcome: CallOutcome, store: Store, now: dt.datetime) -> RedialRequest | None:
    """What the campaign's policy asks after a closing call with this disposition: another attempt, or none."""
    if not (outcome.closes and outcome.campaign_id) or outcome.do_not_call:
        return None
    found = campaign_policies(store).get(outcome.campaign_id)
    if found is None:
        return None
    campaign, policy = found
    if policy is None:
        return None
    plan = redial_plan(policy, outcome.disposition, outcome.ended_at or now)
    if plan is None:
        return None
    hold = Hold(
        reason=REDIAL_HOLD, detail=f"{outcome.disposition.value}; policy {policy.name}", until=plan.at, checked_at=now
    )
    return RedialRequest(
        hold=hold,
        max_attempts=plan.max_attempts,
        dial_date=plan.at.astimezone(ZoneInfo(campaign.timezone)).date(),
        vendor=_redial_vendor(campaign, outcome.vendor),
    )


def _redial_vendor(campaign: Campaign, called_by: str) -> str | None:
    """With redialVia "other", the vendor after the one that called, in the campaign's order (the last one's
    redials go to the champion); None keeps the contact with its vendor."""
    if campaign.redial_via is not RedialVia.OTHER:
        return None
    vendors = [vendor for vendor, _ in campaign.shares]
    if called_by not in vendors:
        return None
    return vendors[(vendors.index(called_by) + 1) % len(vendors)]


def record_polled(vendor: str, outcomes: list[CallOutcome], store: Store, now: dt.datetime) -> Counter[RecordResult]:
    """A polled page mostly repeats what is stored: one batch read skips the calls that can change no more."""
    finished = store.finished_calls(vendor, [outcome.vendor_call_id for outcome in outcomes])
    fresh = [
        outcome
        for outcome in outcomes
        if outcome.vendor_call_id not in finished or (outcome.closes and not finished[outcome.vendor_call_id])
    ]
    results = record_outcomes(fresh, store, now)
    results[RecordResult.DUPLICATE] += len(outcomes) - len(fresh)
    return results

"""The one path by which an outcome is stored, whether a vendor pushed it or the poller fetched it."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from dialhub.models import CallOutcome
from dialhub.observability import count_metric
from dialhub.store import RecordResult, Store
from dialhub.suppressions import suppress_after_outcome


def record_outcomes(outcomes: list[CallOutcome], store: Store, now: dt.datetime) -> Counter[RecordResult]:
    """Store each outcome idempotently and monotonically; returns how many were stored, duplicate, orphan."""
    results: Counter[RecordResult] = Counter()
    for outcome in outcomes:
        if outcome.closes and outcome.do_not_call:
            # Before the outcome: should the write fail, the vendor's retry finds the number suppressed anyway.
            suppress_after_outcome(outcome, store, now)
        result = store.record_outcome(outcome, now)
        results[result] += 1
        if result is not RecordResult.DUPLICATE and outcome.final:
            count_metric("CallOutcomes", vendor=outcome.vendor, disposition=outcome.disposition.value,
                         source=outcome.source.value)
        if result is RecordResult.ORPHAN:
            count_metric("OrphanOutcomes", vendor=outcome.vendor)
    return results


def record_polled(vendor: str, outcomes: list[CallOutcome], store: Store,
                  now: dt.datetime) -> Counter[RecordResult]:
    """A polled page mostly repeats what is stored: one batch read skips the calls that can change no more."""
    finished = store.finished_calls(vendor, [outcome.vendor_call_id for outcome in outcomes])
    fresh = [outcome for outcome in outcomes if outcome.vendor_call_id not in finished
             or (outcome.closes and not finished[outcome.vendor_call_id])]
    results = record_outcomes(fresh, store, now)
    results[RecordResult.DUPLICATE] += len(outcomes) - len(fresh)
    return results

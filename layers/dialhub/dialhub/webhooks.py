"""Vendor callbacks: authenticate, read, store, then answer exactly what the vendor expects.

Statuses: 401 when authentication fails and 400 when the body cannot be read (nothing stored, so the
vendor stops retrying); 422 when entries carry no result (the readable ones are stored; the vendor
retries); 404 for an unknown vendor or callback kind; an error while storing propagates
(the handler answers 5xx) so the vendor retries; the vendor's ack only after the outcome is durable.
"""

from __future__ import annotations

import datetime as dt

from pydantic import ValidationError

from dialhub.models import DialState
from dialhub.observability import count_metric, logger
from dialhub.outcomes import record_outcomes
from dialhub.store import RecordResult, Store
from dialhub.vendors import Adapters, UnknownVendor
from dialhub.vendors.base import CallbackRejected, InboundCallback, PredialQuestion, Reply

_DO_NOT_DIAL = frozenset({DialState.CANCELLED, DialState.FINAL, DialState.FAILED})


def handle_callback(
    vendor: str, callback: InboundCallback, adapters: Adapters, store: Store, now: dt.datetime, predial_fail_open: bool
) -> Reply:
    try:
        adapter = adapters.get(vendor)
    except UnknownVendor:
        return Reply(404, {"message": "unknown vendor"})
    if not adapter.authenticate(callback) and not _authenticates_after_rotation(vendor, callback, adapters):
        count_metric("WebhookRejected", vendor=vendor, reason="auth")
        logger.warning(
            "callback failed authentication",
            extra={"vendor": vendor, "kind": callback.kind, "source_ip": callback.source_ip},
        )
        return Reply(401, {"message": "unauthorized"})
    try:
        parsed = adapter.parse_callback(callback)
    except KeyError:
        return Reply(404, {"message": "unknown callback kind"})
    except (CallbackRejected, ValidationError) as exc:
        count_metric("WebhookRejected", vendor=vendor, reason="malformed")
        problem = str(exc) if isinstance(exc, CallbackRejected) else "a field has the wrong type"
        logger.warning("callback rejected", extra={"vendor": vendor, "problem": problem})
        return Reply(400, {"message": f"malformed callback: {problem}"})
    if isinstance(parsed, PredialQuestion):
        return adapter.predial_reply(predial_allows(parsed, store, predial_fail_open))
    results = record_outcomes(parsed.outcomes, store, now, raw=callback.body)
    logger.info(
        "callback stored",
        extra={
            "vendor": vendor,
            "kind": callback.kind,
            "stored": results[RecordResult.STORED] + results[RecordResult.REDIAL],
            "duplicates": results[RecordResult.DUPLICATE],
            "orphans": results[RecordResult.ORPHAN],
        },
    )
    if parsed.unread:
        # What could be read is stored (a retry finds it stored once); the rest is not acknowledged.
        count_metric("WebhookRejected", parsed.unread, vendor=vendor, reason="no_result")
        logger.warning("callback carried entries without a result", extra={"vendor": vendor, "unread": parsed.unread})
        return Reply(422, {"message": f"{parsed.unread} entries carry no call result; nothing stored for them"})
    return adapter.acknowledge(callback)


def _authenticates_after_rotation(vendor: str, callback: InboundCallback, adapters: Adapters) -> bool:
    fresh = adapters.refreshed(vendor)
    return fresh is not None and fresh.authenticate(callback)


def predial_allows(question: PredialQuestion, store: Store, fail_open: bool) -> bool:
    """One consistent read decides: a cancelled, finished, failed or do-not-call contact is not dialled."""
    if not question.campaign_id or not question.contact_id:
        return False
    try:
        contact = store.get_contact(question.campaign_id, question.contact_id)
    except Exception:  # noqa: BLE001 - any store failure takes the documented fail-open/closed branch
        logger.exception("pre-dial lookup failed", extra={"fail_open": fail_open})
        return fail_open
    if contact is None:
        return False
    return contact.state not in _DO_NOT_DIAL and not contact.do_not_call

"""The suppression list: numbers never to be called, from the API or from a vendor's do-not-call outcome."""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from dialhub.errors import InvalidField, NotFound
from dialhub.models import CallOutcome, Suppression, WireModel
from dialhub.observability import count_metric
from dialhub.phones import InvalidPhone, normalise_phone
from dialhub.store import Store


class SuppressionRequest(WireModel):
    reason: str = Field(min_length=1, max_length=200, description="Why the number must not be called")
    until: dt.datetime | None = Field(default=None, description="Optional end (ISO 8601 with offset); none = for good")


def _phone(raw: str, default_region: str) -> str:
    try:
        return normalise_phone(raw, default_region)
    except InvalidPhone as exc:
        raise InvalidField("phone", str(exc)) from exc


def suppress(
    store: Store, raw_phone: str, request: SuppressionRequest, default_region: str, now: dt.datetime
) -> Suppression:
    if request.until is not None and (request.until.tzinfo is None or request.until <= now):
        raise InvalidField("until", "must be a future time with a UTC offset")
    suppression = Suppression(
        phone=_phone(raw_phone, default_region), reason=request.reason, until=request.until, created_at=now
    )
    store.put_suppression(suppression)
    return suppression


def find_suppression(store: Store, raw_phone: str, default_region: str, now: dt.datetime) -> Suppression:
    suppression = store.get_suppression(_phone(raw_phone, default_region))
    if suppression is None or not suppression.active(now):
        raise NotFound("suppression for this number")
    return suppression


def lift_suppression(store: Store, raw_phone: str, default_region: str) -> Suppression:
    lifted = store.delete_suppression(_phone(raw_phone, default_region))
    if lifted is None:
        raise NotFound("suppression for this number")
    return lifted


def suppress_after_outcome(outcome: CallOutcome, store: Store, now: dt.datetime) -> bool:
    """An opt-out or do-not-call outcome from any vendor puts the number on the list for good (a suppression
    until a date becomes one for good); a number on it for good already stays as it is, so the vendor's
    repeats of the callback change nothing. True when this outcome put it there."""
    if not (outcome.do_not_call and outcome.campaign_id and outcome.contact_id):
        return False
    contact = store.get_contact(outcome.campaign_id, outcome.contact_id)
    if contact is None:
        return False
    suppression = Suppression(
        phone=contact.phone, reason=f"{outcome.disposition.value} on a call", source=outcome.vendor, created_at=now
    )
    if not store.put_suppression(suppression, unless_for_good=True):
        return False
    count_metric("NumbersSuppressedByOutcome", vendor=outcome.vendor)
    return True

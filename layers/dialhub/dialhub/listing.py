"""Paged listings and the outcome feed: results leave dialhub a page at a time, whatever the table's size.

Every listing answers `{"items": [...], "nextCursor": ...}`. A cursor is opaque to clients and made and
checked here only: it names the listing it belongs to (kind, campaign, filters) and carries a digest, so a
truncated or edited cursor, or one from another listing, is refused as a 400 naming the parameter rather
than read as a position somewhere else. The digest guards integrity, not secrecy: the key is in this file,
and a forged cursor could only point inside the listing the request already names, which the caller may read.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
from typing import Any

from pydantic import Field

from dialhub.campaigns import require_campaign
from dialhub.models import CallOutcome, Campaign, CampaignStatus, Contact, DialState, Hold, WireModel
from dialhub.phones import mask_phone
from dialhub.store import Store

DEFAULT_PAGE = 100
MAX_PAGE = 1000
MAX_CURSOR_CHARS = 1024
_DIGEST_BYTES = 16
_CURSOR_KEY = b"dialhub listing cursor v1"


class BadCursor(ValueError):
    """A cursor this API did not issue for this listing; `field` is the query parameter that carried it."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


def _digest(payload: bytes) -> bytes:
    return hashlib.blake2b(payload, key=_CURSOR_KEY, digest_size=_DIGEST_BYTES).digest()


def _listing(kind: str, scope: str, filters: dict[str, Any]) -> dict[str, Any]:
    return {"k": kind, "s": scope, "f": {name: value for name, value in sorted(filters.items()) if value is not None}}


def encode_cursor(position: str | None, kind: str, scope: str = "", **filters: Any) -> str:
    payload = json.dumps({**_listing(kind, scope, filters), "p": position}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(_digest(payload) + payload).rstrip(b"=").decode("ascii")


def decode_cursor(token: str, kind: str, scope: str = "", field: str = "cursor", **filters: Any) -> str | None:
    """The position in a cursor made by encode_cursor for this very listing; BadCursor otherwise."""
    if len(token) > MAX_CURSOR_CHARS:
        raise BadCursor(field, "too long to be a cursor this API issued")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError) as exc:
        raise BadCursor(field, "not a cursor this API issued") from exc
    digest, payload = raw[:_DIGEST_BYTES], raw[_DIGEST_BYTES:]
    if len(digest) < _DIGEST_BYTES or not hmac.compare_digest(digest, _digest(payload)):
        raise BadCursor(field, "not a cursor this API issued (changed or cut short)")
    decoded = json.loads(payload)
    if {key: decoded.get(key) for key in ("k", "s", "f")} != _listing(kind, scope, filters):
        raise BadCursor(
            field, "issued for another listing (another campaign, route or filters): start again without it"
        )
    position = decoded.get("p")
    return position if isinstance(position, str) else None


# --------------------------------------------------------------------------- campaigns


class CampaignTotals(WireModel):
    contacts: int = Field(description="Contacts taken in")


class CampaignSummary(WireModel):
    campaign_id: str
    name: str
    vendor: str
    status: CampaignStatus
    dial_date: dt.date
    timezone: str
    policy: str | None = None
    created_at: dt.datetime
    totals: CampaignTotals


class CampaignPage(WireModel):
    items: list[CampaignSummary]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null: this was the last")


def _summary(campaign: Campaign) -> CampaignSummary:
    return CampaignSummary(
        campaign_id=campaign.campaign_id,
        name=campaign.name,
        vendor=campaign.vendor,
        status=campaign.status,
        dial_date=campaign.dial_date,
        timezone=campaign.timezone,
        policy=campaign.policy,
        created_at=campaign.created_at,
        totals=CampaignTotals(contacts=campaign.total_contacts),
    )


def list_campaigns(
    store: Store, limit: int, cursor: str | None, status: CampaignStatus | None, vendor: str | None
) -> CampaignPage:
    filters: dict[str, Any] = {"status": status.value if status else None, "vendor": vendor}
    after = decode_cursor(cursor, "campaigns", **filters) if cursor else None
    page = store.page_campaigns(limit, after, status, vendor)
    return CampaignPage(
        items=[_summary(campaign) for campaign in page.items],
        next_cursor=encode_cursor(page.after, "campaigns", **filters) if page.after else None,
    )


# --------------------------------------------------------------------------- contacts


class ClosingOutcome(WireModel):
    """The call that closed a contact, as the vendor reported it."""

    vendor: str
    vendor_call_id: str
    status: str
    disposition: str
    attempt: int
    source: str = Field(description="webhook, or poll when the vendor's callback never came")
    started_at: dt.datetime | None = None
    answered_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None
    duration_seconds: int | None = Field(default=None, description="Talk time in seconds")
    recording_url: str | None = None
    variables: dict[str, Any] = Field(
        default_factory=dict, description="What the bot collected (e.g. a promised date and amount)"
    )


class ContactResult(WireModel):
    """A contact, where its dial request stands, and the outcome that closed it (once one has)."""

    contact_id: str
    phone: str = Field(description="Masked: only the last four digits (an export may ask for the number)")
    state: DialState
    hold: Hold | None = Field(default=None, description="Why a queued contact has not been sent yet")
    attempt: int = Field(description="Attempts made or under way")
    reason: str | None = Field(default=None, description="Why a failed contact failed")
    updated_at: dt.datetime | None = None
    variables: dict[str, Any] = Field(default_factory=dict, description="The contact's own variables")
    outcome: ClosingOutcome | None = Field(default=None, description="Set once the contact is final")


class ContactPage(WireModel):
    items: list[ContactResult]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null: this was the last")


def _closing(outcome: CallOutcome) -> ClosingOutcome:
    return ClosingOutcome(
        vendor=outcome.vendor,
        vendor_call_id=outcome.vendor_call_id,
        status=outcome.status.value,
        disposition=outcome.disposition.value,
        attempt=outcome.attempt,
        source=outcome.source.value,
        started_at=outcome.started_at,
        answered_at=outcome.answered_at,
        ended_at=outcome.ended_at,
        duration_seconds=outcome.duration_seconds,
        recording_url=outcome.recording_url,
        variables=outcome.variables,
    )


def closing_call(contact: Contact) -> tuple[str, str] | None:
    """The key (vendor, call id) of the call that closed a final contact."""
    if contact.state is not DialState.FINAL or not contact.last_call_id or not contact.last_call_vendor:
        return None
    return contact.last_call_vendor, contact.last_call_id


def contact_results(store: Store, contacts: list[Contact], include_phone: bool = False) -> list[ContactResult]:
    """Each contact with its closing outcome, read for the whole page at once (100 calls to a request)."""
    closing_calls = [call for contact in contacts if (call := closing_call(contact))]
    outcomes = store.closing_outcomes(closing_calls) if closing_calls else {}
    results = []
    for contact in contacts:
        call = closing_call(contact)
        outcome = outcomes.get(call) if call else None
        results.append(
            ContactResult(
                contact_id=contact.contact_id,
                phone=contact.phone if include_phone else mask_phone(contact.phone),
                state=contact.state,
                hold=contact.hold if contact.state is DialState.QUEUED else None,
                attempt=contact.attempt,
                reason=contact.reason,
                updated_at=contact.updated_at,
                variables=contact.variables,
                outcome=_closing(outcome) if outcome else None,
            )
        )
    return results


def list_contacts(
    store: Store, campaign_id: str, limit: int, cursor: str | None, state: DialState | None, disposition: str | None
) -> ContactPage:
    filters: dict[str, Any] = {"state": state.value if state else None, "disposition": disposition}
    after = decode_cursor(cursor, "contacts", campaign_id, **filters) if cursor else None
    page = store.page_contacts(campaign_id, limit, after, state, disposition)
    if not page.items:
        require_campaign(store, campaign_id)  # nothing listed: an empty campaign, or none at all (404)
    return ContactPage(
        items=contact_results(store, page.items),
        next_cursor=encode_cursor(page.after, "contacts", campaign_id, **filters) if page.after else None,
    )


# --------------------------------------------------------------------------- the outcome feed


class RecordedOutcome(CallOutcome):
    recorded_at: dt.datetime = Field(
        description="When dialhub recorded it as the contact's closing outcome; the feed's order"
    )


class OutcomeFeedPage(WireModel):
    items: list[RecordedOutcome]
    next_cursor: str = Field(
        description="Keep it and pass it as `after` next time, even after an empty page: the feed goes on from there"
    )
    has_more: bool = Field(description="True: more outcomes are ready now; false: ask again later")


def outcome_feed(store: Store, limit: int, after: str | None, delay: dt.timedelta) -> OutcomeFeedPage:
    """Every closing outcome once, in the order recorded, from the position `after` names; outcomes are served
    once `delay` old, so one still being written can never land behind a position already handed out."""
    position = decode_cursor(after, "outcomes", field="after") if after else None
    page = store.page_feed(limit, position, delay)
    items = [RecordedOutcome(**outcome.model_dump(), recorded_at=at) for at, outcome in page.items]
    return OutcomeFeedPage(items=items, next_cursor=encode_cursor(page.position, "outcomes"), has_more=page.more)

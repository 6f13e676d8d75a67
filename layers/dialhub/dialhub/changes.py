"""What the table's stream tells the world: outcome events on EventBridge and the campaigns' live counters.

The callback path writes once; everything that follows from a write is done here, from its stream record, at
least once. Every event carries an id made from the record that caused it (its keys and sequence number, or
a campaign and its size for a completion), so a redelivered batch sends the same ids and consumers dedupe.
Counters are added once per record (store/counters.py). A batch that fails part-way answers the first
sequence number still to do: Lambda delivers again from there, and what was done before it is not redone.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dialhub.bus import Delivery, Event, EventBus
from dialhub.dispositions import TRAITS, Disposition
from dialhub.models import CallOutcome, Contact, DialState, Suppression
from dialhub.observability import count_metric, logger
from dialhub.phones import mask_phone
from dialhub.store import Counters, Store
from dialhub.store.codec import from_item
from dialhub.store.counters import padded
from dialhub.store.counting import change as counter_change

CALL_RECORDED = "Call Outcome Recorded"
CONTACT_CLOSED = "Contact Closed"
CONTACT_SUPPRESSED = "Contact Suppressed"
CAMPAIGN_COMPLETED = "Campaign Completed"
DETAIL_TYPES = (CALL_RECORDED, CONTACT_CLOSED, CONTACT_SUPPRESSED, CAMPAIGN_COMPLETED)
# Rewritten on every write of a call: a record that changes nothing else is a repeat, not news.
_WRITE_STAMPS = frozenset({"lastUpdatedAt", "expiresAt"})


@dataclass(frozen=True)
class Change:
    """One stream record: an item's keys, its images before and after, and where it is in the stream."""

    sequence: str
    pk: str
    sk: str
    old: dict[str, Any] | None
    new: dict[str, Any] | None
    at: dt.datetime

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Change:
        stream = record["dynamodb"]
        keys = from_item(stream["Keys"])
        created = stream.get("ApproximateCreationDateTime")
        return cls(
            sequence=str(stream["SequenceNumber"]),
            pk=str(keys["pk"]),
            sk=str(keys["sk"]),
            old=from_item(stream["OldImage"]) if "OldImage" in stream else None,
            new=from_item(stream["NewImage"]) if "NewImage" in stream else None,
            at=_created_at(created),
        )

    @property
    def contact(self) -> bool:
        return self.pk.startswith("CAMPAIGN#") and self.sk.startswith("CONTACT#")


def _created_at(value: Any) -> dt.datetime:
    """The record's time: epoch seconds in Lambda's event, a datetime or text from the streams API."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, int | float):
        return dt.datetime.fromtimestamp(value, dt.UTC)
    if isinstance(value, str):
        return dt.datetime.fromisoformat(value)
    return dt.datetime.now(dt.UTC)


@dataclass
class BatchResult:
    retry_from: str | None = None  # the first sequence number to deliver again; None: the batch is done
    published: dict[str, int] = field(default_factory=dict)  # events sent, by detail-type
    rejected: int = 0  # events that can never be sent, reported
    counted: int = 0  # campaigns whose counters this batch moved

    def retry(self, sequence: str) -> None:
        if self.retry_from is None or int(sequence) < int(self.retry_from):
            self.retry_from = sequence


def event_id(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def _utc(moment: dt.datetime | None) -> str | None:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z") if moment else None


def _traits(disposition: Disposition | None) -> dict[str, bool] | None:
    if disposition is None:
        return None
    traits = TRAITS[disposition]
    return {"terminal": traits.terminal, "doNotCall": traits.do_not_call}


def outcome_detail(outcome: CallOutcome) -> dict[str, Any]:
    return {
        "campaignId": outcome.campaign_id,
        "contactId": outcome.contact_id,
        "vendor": outcome.vendor,
        "vendorCallId": outcome.vendor_call_id,
        "vendorTaskId": outcome.vendor_task_id,
        "attempt": outcome.attempt,
        "status": outcome.status.value,
        "final": outcome.final,
        "closesContact": outcome.closes,
        "disposition": outcome.disposition.value,
        "dispositionTraits": _traits(outcome.disposition),
        "startedAt": _utc(outcome.started_at),
        "answeredAt": _utc(outcome.answered_at),
        "endedAt": _utc(outcome.ended_at),
        "talkSeconds": outcome.duration_seconds,
        "redialAt": _utc(outcome.redial_at),
        "variables": outcome.variables,
        "source": outcome.source.value,
        "recordedAt": _utc(outcome.last_updated_at),
    }


def call_recorded(change: Change) -> Event | None:
    """Every stored call, attempts included: a new call, or one whose stored outcome changed."""
    if change.sk != "CALL" or change.new is None:
        return None
    if change.old is not None and _content(change.old) == _content(change.new):
        return None
    outcome = CallOutcome.model_validate(change.new)
    detail = {"eventId": event_id(CALL_RECORDED, change.pk, change.sk, change.sequence), **outcome_detail(outcome)}
    return Event(CALL_RECORDED, detail, outcome.last_updated_at or change.at)


def _content(image: Mapping[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in image.items() if name not in _WRITE_STAMPS}


def _state(image: Mapping[str, Any] | None) -> DialState | None:
    return DialState(image["state"]) if image and image.get("state") in DialState._value2member_map_ else None


def closing_call(change: Change) -> tuple[str, str] | None:
    """The (vendor, call id) of the outcome a contact closed with, when this change closes it with a call."""
    if not closes_contact(change) or change.new is None:
        return None
    vendor, call_id = change.new.get("lastCallVendor"), change.new.get("lastCallId")
    return (str(vendor), str(call_id)) if vendor and call_id and change.new.get("state") == DialState.FINAL else None


def closes_contact(change: Change) -> bool:
    new, old = _state(change.new), _state(change.old)
    return change.contact and new is not None and new.closed and not (old is not None and old.closed)


def contact_closed(change: Change, outcomes: Mapping[tuple[str, str], CallOutcome]) -> Event | None:
    """A contact reaching final, failed or cancelled, with the outcome it closed with (when a call closed it)."""
    if not closes_contact(change):
        return None
    contact = Contact.model_validate(change.new)
    call = closing_call(change)
    outcome = outcomes.get(call) if call else None
    detail = {
        "eventId": event_id(CONTACT_CLOSED, change.pk, change.sk, change.sequence),
        "campaignId": contact.campaign_id,
        "contactId": contact.contact_id,
        "phone": mask_phone(contact.phone),
        "state": contact.state.value,
        "reason": contact.reason,
        "attempt": contact.attempt,
        "disposition": contact.disposition.value if contact.disposition else None,
        "dispositionTraits": _traits(contact.disposition),
        "doNotCall": contact.do_not_call,
        "vendor": contact.last_call_vendor,
        "vendorCallId": contact.last_call_id,
        "closedAt": _utc(contact.updated_at or change.at),
        "outcome": outcome_detail(outcome) if outcome else None,
    }
    return Event(CONTACT_CLOSED, detail, contact.updated_at or change.at)


def contact_suppressed(change: Change) -> Event | None:
    """A number put on the do-not-call list, or its suppression changed (reason or end)."""
    if not change.pk.startswith("SUPPRESSION#") or change.new is None:
        return None
    if change.old is not None and all(change.old.get(name) == change.new.get(name) for name in ("reason", "until")):
        return None
    suppression = Suppression.model_validate(change.new)
    detail = {
        "eventId": event_id(CONTACT_SUPPRESSED, change.pk, change.sk, change.sequence),
        "phone": mask_phone(suppression.phone),
        "reason": suppression.reason,
        "until": _utc(suppression.until),
        "source": suppression.source,
        "suppressedAt": _utc(suppression.created_at),
    }
    return Event(CONTACT_SUPPRESSED, detail, suppression.created_at)


def campaign_completed(campaign_id: str, counters: Counters, now: dt.datetime) -> Event:
    """Every contact of the campaign closed; announced again only if contacts added later close too."""
    counts = counters.counts
    detail = {
        "eventId": event_id(CAMPAIGN_COMPLETED, campaign_id, str(counts.total)),
        "campaignId": campaign_id,
        "totalContacts": counts.total,
        "byState": counts.by_state,
        "byDisposition": counts.by_disposition,
        "byVendor": counts.by_vendor,
        "completedAt": _utc(counters.updated_at or now),
    }
    return Event(CAMPAIGN_COMPLETED, detail, counters.updated_at or now)


@dataclass
class _CampaignChanges:
    """A campaign's contact changes in one batch, in stream order, each with what it adds to the counts."""

    changes: list[tuple[str, dict[str, int]]] = field(default_factory=list)

    @property
    def first(self) -> str:
        return self.changes[0][0]

    @property
    def last(self) -> str:
        return self.changes[-1][0]

    def after(self, counted_through: str | None) -> tuple[str, str, dict[str, int]] | None:
        """The first and last sequence numbers of the changes past `counted_through`, and their sum."""
        newer = [
            (sequence, delta)
            for sequence, delta in self.changes
            if counted_through is None or padded(sequence) > counted_through
        ]
        if not newer:
            return None
        total: dict[str, int] = {}
        for _, delta in newer:
            for name, count in delta.items():
                total[name] = total.get(name, 0) + count
        return newer[0][0], newer[-1][0], {name: count for name, count in total.items() if count}


def _by_campaign(changes: Sequence[Change]) -> dict[str, _CampaignChanges]:
    campaigns: dict[str, _CampaignChanges] = {}
    for change in changes:
        if change.contact:
            found = campaigns.setdefault(change.pk.removeprefix("CAMPAIGN#"), _CampaignChanges())
            found.changes.append((change.sequence, counter_change(change.old, change.new)))
    return campaigns


def _count(
    store: Store, campaign_id: str, campaign: _CampaignChanges, now: dt.datetime
) -> tuple[Counters | None, bool]:
    """Add what the campaign's changes not counted yet add; the counters after, and whether this moved them.

    A delivery counted before adds nothing. One that overlaps what was counted (Lambda retries from a record
    and may hand over newer records with it) adds only the newer changes: the counters say how far they got."""
    counted_through = None
    for _ in range(3):  # one campaign's records are one shard's, handed over in order: the second try holds
        pending = campaign.after(counted_through)
        if pending is None:
            break
        first, last, delta = pending
        if not delta:  # nothing counted moved (a write the counts do not see)
            break
        counters = store.add_to_counters(campaign_id, delta, first, last, now)
        if counters is not None:
            return counters, True
        current = store.get_counters(campaign_id)
        if current is None or current.counted_through is None or current.counted_through >= padded(last):
            return current, False
        counted_through = current.counted_through
    return store.get_counters(campaign_id), False


def handle_changes(records: Sequence[Mapping[str, Any]], store: Store, bus: EventBus, now: dt.datetime) -> BatchResult:
    """One stream batch: its events published and its campaigns' counters moved, each at least once."""
    result = BatchResult()
    changes = [Change.from_record(record) for record in records]
    calls = [call for change in changes if (call := closing_call(change))]
    outcomes = store.closing_outcomes(calls) if calls else {}
    caused: list[tuple[str, Event]] = []  # each event with the sequence number of the record behind it
    for change in changes:
        for event in (call_recorded(change), contact_closed(change, outcomes), contact_suppressed(change)):
            if event is not None:
                caused.append((change.sequence, event))
    for campaign_id, campaign in _by_campaign(changes).items():
        whole = campaign.after(None)
        if whole is None or not whole[2]:  # nothing counted moved (a write the counts do not see)
            continue
        try:
            # Counted before or not, a completion not announced yet is announced (a redelivery may be its chance).
            counters, moved = _count(store, campaign_id, campaign, now)
            result.counted += moved
        except Exception:  # noqa: BLE001 - this campaign's records are delivered again; the others are done
            logger.exception("counters not updated; the batch is retried from them", extra={"campaign_id": campaign_id})
            result.retry(campaign.first)
            continue
        if counters is not None and counters.complete and counters.announced != counters.counts.total:
            caused.append((campaign.last, campaign_completed(campaign_id, counters, now)))
    delivery = _publish(caused, bus, result)
    unsent = {id(event) for event, _ in delivery.failed}
    for _, event in caused:
        if event.detail_type == CAMPAIGN_COMPLETED and id(event) not in unsent:
            store.announce_completion(event.detail["campaignId"], event.detail["totalContacts"])
    return result


def _publish(caused: list[tuple[str, Event]], bus: EventBus, result: BatchResult) -> Delivery:
    sequence_of = {id(event): sequence for sequence, event in caused}
    delivery = bus.publish([event for _, event in caused])
    for event in delivery.sent:
        result.published[event.detail_type] = result.published.get(event.detail_type, 0) + 1
    for event, error in delivery.failed:
        logger.warning("event not taken yet; the batch is retried from it", extra=_about(event, error))
        result.retry(sequence_of[id(event)])
    for event, problem in delivery.rejected:
        logger.error("event can never be sent", extra=_about(event, problem))
        count_metric("EventsUndeliverable", detail_type=event.detail_type)
        result.rejected += 1
    for detail_type, count in result.published.items():
        count_metric("EventsPublished", count, detail_type=detail_type)
    return delivery


def _about(event: Event, problem: str) -> dict[str, Any]:
    """What a log line may say about an event: its type, id and ids, never its phone or variables."""
    ids = {name: event.detail.get(name) for name in ("campaignId", "contactId", "vendor", "vendorCallId")}
    return {"detail_type": event.detail_type, "event_id": event.event_id, "problem": problem, **ids}

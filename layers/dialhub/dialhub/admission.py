"""The compliance gate every contact passes twice: when it is planned and again just before it is sent.

A contact held back stays queued with a `hold` saying why; planning looks at it again on its next run.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from dialhub.compliance import PastCall, Policy, clearance, recipient_zones
from dialhub.models import REDIAL_HOLD, Contact, Hold
from dialhub.store import Store

# Vendors dial a request on its task day; a conversation is looked for up to this long after its request.
REQUEST_TO_CALL_LAG = dt.timedelta(days=3)


@dataclass
class Admission:
    admitted: list[Contact] = field(default_factory=list)
    held: dict[str, Hold] = field(default_factory=dict)  # contact id -> why


def admit(contacts: list[Contact], store: Store, now: dt.datetime, policy: Policy | None = None) -> Admission:
    """Split contacts into those that may be sent now and those held back (one read per 100 numbers).

    With a policy, a contact is sent only inside a calling window in every time zone its number may be in,
    only while its number is under the frequency cap and past the quiet period after its last conversation
    (one history read per contact, plus one read per 100 recent calls when the policy has a quiet period),
    and not before the policy's redial time.
    """
    admission = Admission()
    suppressed = store.suppressions((contact.phone for contact in contacts), now) if contacts else {}
    history = _past_calls(policy, contacts, store, now) if policy is not None else {}
    for contact in contacts:
        if contact.do_not_call:
            admission.held[contact.contact_id] = Hold(reason="suppressed", detail="marked do-not-call", checked_at=now)
        elif (suppression := suppressed.get(contact.phone)) is not None:
            admission.held[contact.contact_id] = Hold(
                reason="suppressed", detail=suppression.reason, until=suppression.until, checked_at=now
            )
        elif contact.hold is not None and contact.hold.reason == REDIAL_HOLD and (contact.hold.until or now) > now:
            admission.held[contact.contact_id] = contact.hold
        elif (
            policy is not None
            and not (
                verdict := clearance(
                    policy, recipient_zones(contact.phone, contact.timezone), history.get(contact.contact_id, []), now
                )
            ).allowed
        ):
            admission.held[contact.contact_id] = Hold(
                reason=verdict.reason or "outside_window",
                detail=f"policy {policy.name}",
                until=verdict.not_before,
                checked_at=now,
            )
        else:
            admission.admitted.append(contact)
    return admission


def _past_calls(policy: Policy, contacts: list[Contact], store: Store, now: dt.datetime) -> dict[str, list[PastCall]]:
    """Each contact's earlier calls to its number, from any campaign or vendor, as far back as the policy
    looks: every request counted as the calls its vendor may make, and every conversation at its end."""
    quiet = dt.timedelta(hours=policy.min_gap_after_conversation_hours)
    look_back = [dt.timedelta(days=policy.frequency_cap.days)] if policy.frequency_cap else []
    if quiet:
        look_back.append(quiet + REQUEST_TO_CALL_LAG)
    if not look_back or not contacts:
        return {}
    since = now - max(look_back)
    dials = {contact.contact_id: store.dial_history(contact.phone, since) for contact in contacts}
    talks = (
        store.last_conversations(
            (dial.campaign_id, dial.contact_id)
            for records in dials.values()
            for dial in records
            if dial.at >= now - quiet - REQUEST_TO_CALL_LAG
        )
        if quiet
        else {}
    )
    past: dict[str, list[PastCall]] = {}
    for contact_id, records in dials.items():
        calls = [PastCall(dial.at, conversation=False) for dial in records for _ in range(dial.calls)]
        calls += [
            PastCall(talked, conversation=True)
            for dial in records
            if (talked := talks.get((dial.campaign_id, dial.contact_id))) is not None
        ]
        past[contact_id] = calls
    return past

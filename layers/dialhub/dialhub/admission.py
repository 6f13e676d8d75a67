"""The compliance gate every contact passes twice: when it is planned and again just before it is sent.

A contact held back stays queued with a `hold` saying why; planning looks at it again on its next run.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from dialhub.compliance import PastCall, Policy, clearance, recipient_zones
from dialhub.models import Contact, Hold
from dialhub.store import Store


@dataclass
class Admission:
    admitted: list[Contact] = field(default_factory=list)
    held: dict[str, Hold] = field(default_factory=dict)  # contact id -> why


def admit(contacts: list[Contact], store: Store, now: dt.datetime, policy: Policy | None = None) -> Admission:
    """Split contacts into those that may be sent now and those held back (one read per 100 numbers).

    With a policy, a contact is sent only inside a calling window in every time zone its number may be in,
    and only while its number is under the frequency cap (one history read per contact for capped policies).
    """
    admission = Admission()
    suppressed = store.suppressions((contact.phone for contact in contacts), now) if contacts else {}
    for contact in contacts:
        if contact.do_not_call:
            admission.held[contact.contact_id] = Hold(reason="suppressed", detail="marked do-not-call",
                                                      checked_at=now)
        elif (suppression := suppressed.get(contact.phone)) is not None:
            admission.held[contact.contact_id] = Hold(reason="suppressed", detail=suppression.reason,
                                                      until=suppression.until, checked_at=now)
        elif policy is not None and not (verdict := clearance(
                policy, recipient_zones(contact.phone, contact.timezone), _past_calls(policy, contact, store, now),
                now)).allowed:
            admission.held[contact.contact_id] = Hold(reason=verdict.reason or "outside_window",
                                                      detail=f"policy {policy.name}", until=verdict.not_before,
                                                      checked_at=now)
        else:
            admission.admitted.append(contact)
    return admission


def _past_calls(policy: Policy, contact: Contact, store: Store, now: dt.datetime) -> list[PastCall]:
    if policy.frequency_cap is None:
        return []
    since = now - dt.timedelta(days=policy.frequency_cap.days)
    return [PastCall(at, conversation=False) for at, calls in store.dial_history(contact.phone, since)
            for _ in range(calls)]

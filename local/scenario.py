"""The demo scenario, shared by `make demo` and the end-to-end test so both prove the same thing."""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from local.stack import LocalStack

# Philippine mobile prefixes (Globe / Smart); every generated number is valid for phonenumbers.
_PREFIXES = ("917", "918", "919", "920", "921", "927", "928", "929", "939", "945", "947", "998", "999")


def demo_contacts(count: int, seed: int = 11) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    contacts = []
    for index in range(count):
        contacts.append({
            "contactId": f"loan-{index:05d}",
            "phone": f"0{rng.choice(_PREFIXES)}{rng.randrange(10**7):07d}",
            "name": rng.choice(["Maria Santos", "Jose Reyes", "Ana Cruz", "Juan Dela Cruz", "Liza Bautista"]),
            "variables": {"amountDue": rng.randrange(500, 25_000), "dueDate": "2026-11-30", "loanId": f"L{index}"},
        })
    return contacts


BAD_CONTACTS = [
    {"contactId": "bad-phone", "phone": "12345", "name": "Too Short"},
    {"contactId": "bad-name", "phone": "09171234567", "name": "Emoji \N{GRINNING FACE}"},
    {"phone": "09171234568", "name": "No Id"},
]


@dataclass
class ScenarioResult:
    campaign_id: str
    accepted: int
    rejected: int
    cancelled: list[str]
    campaign: dict[str, Any]
    contact_states: Counter[str] = field(default_factory=Counter)
    outcomes_per_contact: Counter[tuple[str, int]] = field(default_factory=Counter)
    by_status: Counter[str] = field(default_factory=Counter)
    by_disposition: Counter[str] = field(default_factory=Counter)
    by_source: Counter[str] = field(default_factory=Counter)
    recovered_by_polling: int = 0
    dial_requests_max: int = 0
    seconds: float = 0.0

    @property
    def every_contact_settled_once(self) -> bool:
        """Dialled contacts are final with exactly one outcome; cancelled ones were never dialled."""
        allowed = {("final", 1), ("cancelled", 0)}
        return set(self.outcomes_per_contact) <= allowed and self.dial_requests_max == 1


def run_scenario(stack: LocalStack, contacts: int = 300, cancel: int = 3,
                 progress: Callable[[str], None] = lambda _: None, settle_timeout: float = 120.0) -> ScenarioResult:
    started = time.monotonic()
    client = httpx.Client(base_url=stack.url, timeout=60)
    body = {"name": "November collections", "vendor": "blu", "vendorOptions": {"botId": 123, "strategyId": 2},
            "contacts": demo_contacts(contacts) + BAD_CONTACTS}
    created = client.post("/campaigns", json=body)
    created.raise_for_status()
    intake = created.json()
    campaign_id = intake["campaignId"]
    progress(f"campaign {campaign_id}: {intake['accepted']} contacts accepted, {intake['rejected']} rejected")
    for rejection in intake["rejections"]:
        progress(f"  rejected #{rejection['index']}: {rejection['reason']}")

    plan = stack.fire("DailyTaskCreation")
    progress(f"daily schedule fired: {plan['contacts']} contacts planned in {plan['batches']} batches")
    cancelled = [f"loan-{index:05d}" for index in range(cancel)]
    for contact_id in cancelled:
        client.post(f"/campaigns/{campaign_id}/contacts/{contact_id}/cancel").raise_for_status()
    progress(f"cancelled {len(cancelled)} contacts before dispatch")
    stack.drain_dispatch_queue()
    progress(f"dispatch queue drained: {stack.blu.pending()} calls in flight at Blu")

    deadline = time.monotonic() + settle_timeout
    while stack.blu.pending() and time.monotonic() < deadline:
        view = client.get(f"/campaigns/{campaign_id}").json()
        progress(f"  calling... {view['byState'].get('final', 0)}/{view['totalContacts']} final, "
                 f"{stack.blu.pending()} pending at Blu")
        stack.blu.wait_idle(1.0)
    polled = stack.fire("ResultPolling")
    progress(f"poller: {polled['results']} results read, {polled['recovered']} recovered, "
             f"{polled['closed']} tasks closed")

    result = ScenarioResult(campaign_id=campaign_id, accepted=intake["accepted"], rejected=intake["rejected"],
                            cancelled=cancelled, campaign=client.get(f"/campaigns/{campaign_id}").json(),
                            recovered_by_polling=polled["recovered"])
    for contact in demo_contacts(contacts):
        view = client.get(f"/campaigns/{campaign_id}/contacts/{contact['contactId']}").json()
        result.contact_states[view["state"]] += 1
        result.outcomes_per_contact[(view["state"], len(view["attempts"]))] += 1
        for attempt in view["attempts"]:
            result.by_status[attempt["status"]] += 1
            result.by_disposition[attempt["disposition"]] += 1
            result.by_source[attempt["source"]] += 1
    result.dial_requests_max = max(stack.blu.dial_requests.values(), default=0)
    result.seconds = time.monotonic() - started
    return result

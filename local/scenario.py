"""The demo scenario, shared by `make demo` and the end-to-end test so both prove the same thing.

One campaign per vendor runs at the same time through the same API, schedules and queue.
"""

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


def demo_contacts(count: int, seed: int = 11, prefix: str = "loan") -> list[dict[str, Any]]:
    rng = random.Random(f"{seed}:{prefix}")  # each vendor's campaign its own numbers (suppression is per number)
    contacts = []
    for index in range(count):
        contacts.append({
            "contactId": f"{prefix}-{index:05d}",
            "phone": f"0{rng.choice(_PREFIXES)}{rng.randrange(10**7):07d}",
            "name": rng.choice(["Maria Santos", "Jose Reyes", "Ana Cruz", "Juan Dela Cruz", "Liza Bautista"]),
            "variables": {"amountDue": rng.randrange(500, 25_000), "dueDate": "2026-11-30", "loanId": f"L{index}"},
        })
    return contacts


# Sent with the first vendor's campaign: each is rejected by index while the rest are accepted.
BAD_CONTACTS = [
    {"contactId": "bad-phone", "phone": "12345", "name": "Too Short"},
    {"contactId": "bad-name", "phone": "09171234567", "name": "Emoji \N{GRINNING FACE}"},
    {"phone": "09171234568", "name": "No Id"},
]


@dataclass
class VendorResult:
    vendor: str
    campaign_id: str
    accepted: int
    rejected: int
    cancelled: list[str]
    campaign: dict[str, Any] = field(default_factory=dict)
    contact_states: Counter[str] = field(default_factory=Counter)
    closing_outcomes: Counter[tuple[str, int]] = field(default_factory=Counter)  # (state, closing outcomes)
    attempts: int = 0  # every call the vendor made, redials included
    by_status: Counter[str] = field(default_factory=Counter)
    by_disposition: Counter[str] = field(default_factory=Counter)
    by_source: Counter[str] = field(default_factory=Counter)
    dial_requests_max: int = 0

    @property
    def every_contact_settled_once(self) -> bool:
        """Dialled contacts are final with exactly one closing outcome; cancelled ones were never dialled."""
        allowed = {("final", 1), ("cancelled", 0)}
        return set(self.closing_outcomes) <= allowed and self.dial_requests_max == 1


@dataclass
class ScenarioResult:
    vendors: dict[str, VendorResult]
    recovered_by_polling: int = 0
    seconds: float = 0.0

    @property
    def every_contact_settled_once(self) -> bool:
        return all(result.every_contact_settled_once for result in self.vendors.values())


def _start_campaign(client: httpx.Client, stack: LocalStack, vendor: str, count: int, with_bad: bool,
                    progress: Callable[[str], None]) -> VendorResult:
    contacts = demo_contacts(count, prefix=vendor) + (BAD_CONTACTS if with_bad else [])
    body = {"name": f"November collections ({vendor})", "vendor": vendor,
            "vendorOptions": stack.simulators[vendor].demo_options(), "contacts": contacts}
    created = client.post("/campaigns", json=body)
    created.raise_for_status()
    intake = created.json()
    progress(f"{vendor}: campaign {intake['campaignId']}: {intake['accepted']} contacts accepted, "
             f"{intake['rejected']} rejected")
    for rejection in intake["rejections"]:
        progress(f"  rejected #{rejection['index']}: {rejection['reason']}")
    return VendorResult(vendor=vendor, campaign_id=intake["campaignId"], accepted=intake["accepted"],
                        rejected=intake["rejected"], cancelled=[])


def _collect(client: httpx.Client, stack: LocalStack, result: VendorResult, count: int) -> None:
    result.campaign = client.get(f"/campaigns/{result.campaign_id}").json()
    for contact in demo_contacts(count, prefix=result.vendor):
        view = client.get(f"/campaigns/{result.campaign_id}/contacts/{contact['contactId']}").json()
        result.contact_states[view["state"]] += 1
        closing = [attempt for attempt in view["attempts"] if attempt["closesContact"]]
        result.closing_outcomes[(view["state"], len(closing))] += 1
        result.attempts += len(view["attempts"])
        for attempt in closing:
            result.by_status[attempt["status"]] += 1
            result.by_disposition[attempt["disposition"]] += 1
        for attempt in view["attempts"]:
            result.by_source[attempt["source"]] += 1
    result.dial_requests_max = max(stack.simulators[result.vendor].dial_requests.values(), default=0)


def run_scenario(stack: LocalStack, contacts: int = 200, cancel: int = 3,
                 progress: Callable[[str], None] = lambda _: None, settle_timeout: float = 120.0) -> ScenarioResult:
    started = time.monotonic()
    client = httpx.Client(base_url=stack.url, timeout=60)
    vendors = list(stack.simulators)
    results = {vendor: _start_campaign(client, stack, vendor, contacts, index == 0, progress)
               for index, vendor in enumerate(vendors)}

    plan = stack.fire("DailyTaskCreation")
    progress(f"daily schedule fired: {plan['contacts']} contacts planned in {plan['batches']} batches")
    for vendor, result in results.items():
        result.cancelled = [f"{vendor}-{index:05d}" for index in range(cancel)]
        for contact_id in result.cancelled:
            client.post(f"/campaigns/{result.campaign_id}/contacts/{contact_id}/cancel").raise_for_status()
    progress(f"cancelled {cancel} contacts of each campaign before dispatch")
    stack.drain_dispatch_queue()
    progress(f"dispatch queue drained: {stack.pending_at_vendors()} calls and callbacks pending at the vendors")

    deadline = time.monotonic() + settle_timeout
    while stack.pending_at_vendors() and time.monotonic() < deadline:
        finals = []
        for vendor, result in results.items():
            view = client.get(f"/campaigns/{result.campaign_id}").json()
            finals.append(f"{vendor} {view['byState'].get('final', 0)}/{view['totalContacts']}")
        progress(f"  calling... final: {', '.join(finals)}; {stack.pending_at_vendors()} pending at the vendors")
        for simulator in stack.simulators.values():
            simulator.wait_idle(1.0 / len(stack.simulators))
    polled = stack.fire("ResultPolling")
    progress(f"poller: {polled['results']} results read, {polled['recovered']} recovered, "
             f"{polled['closed']} tasks closed")

    for result in results.values():
        _collect(client, stack, result, contacts)
    return ScenarioResult(vendors=results, recovered_by_polling=polled["recovered"],
                          seconds=time.monotonic() - started)

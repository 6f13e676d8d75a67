"""The demo's split campaign and its failover, shared by `make demo` and the end-to-end test.

One campaign is split 60/25/15 across the three vendors and run to the end, and its comparison read back. A
second campaign, split between two vendors with the third as its fallback, loses Blu mid-dispatch: Blu takes
its first batch, then answers every request with a server error. The contacts Blu never took go to the
fallback, and every contact of the campaign is dialled once, by one vendor.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from local.scenario import demo_contacts
from local.simulators.plumbing import OUTAGE, ApiFaults
from local.stack import LocalStack

SPLIT = (("blu", 60), ("nxtele", 25), ("airudder", 15))
FAILOVER_SPLIT = (("blu", 70), ("nxtele", 30))  # Blu's 70% of 600 contacts: three batches
FALLBACK = "airudder"
DOWN = "blu"
DOWN_AFTER = 2  # requests Blu still answers: today's task, and one batch's upload


@dataclass
class SplitResult:
    comparison: dict[str, Any]
    campaign: dict[str, Any]  # the split campaign's view
    failover_campaign: dict[str, Any]  # the second campaign's view, after the outage
    failover_contacts: Counter[tuple[str, str]] = field(default_factory=Counter)  # (vendor, state) per contact
    dials: Counter[str] = field(default_factory=Counter)  # accepted dial requests per vendor, second campaign
    dialled_twice: int = 0  # dial requests above one per contact, any vendor, whole run

    @property
    def failover_ok(self) -> bool:
        contacts = sum(self.failover_contacts.values())
        moved = sum(entry["contacts"] for entry in self.failover_campaign.get("failedOver", []))
        return (
            moved > 0
            and sum(self.dials.values()) == contacts
            and self.dialled_twice == 0
            and all(state == "final" for _, state in self.failover_contacts)
        )


def _create(
    client: httpx.Client, stack: LocalStack, name: str, split: tuple[tuple[str, int], ...], count: int, **more: Any
) -> str:
    body = {
        "name": name,
        "vendors": [
            {"vendor": vendor, "share": share, "vendorOptions": stack.simulators[vendor].demo_options()}
            for vendor, share in split
        ],
        "contacts": demo_contacts(count, prefix=name.split(maxsplit=1)[0].lower()),
    } | more
    created = client.post("/campaigns", json=body)
    created.raise_for_status()
    return str(created.json()["campaignId"])


def _settle(client: httpx.Client, stack: LocalStack, progress: Callable[[str], None], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while stack.pending_at_vendors() and time.monotonic() < deadline:
        for simulator in stack.simulators.values():
            simulator.wait_idle(1.0 / len(stack.simulators))
    polled = stack.fire("ResultPolling")
    stack.drain_stream()
    progress(f"  poller: {polled['results']} results read, {polled['recovered']} recovered")


def _dials(stack: LocalStack) -> dict[str, int]:
    return {vendor: sum(simulator.dial_requests.values()) for vendor, simulator in stack.simulators.items()}


def run_split(stack: LocalStack, progress: Callable[[str], None] = lambda _: None) -> SplitResult:
    client = httpx.Client(base_url=stack.url, timeout=60)
    split_id = _create(client, stack, "Champion challenger", SPLIT, 300)
    progress(f"split campaign {split_id}: 300 contacts across {', '.join(f'{v} {s}%' for v, s in SPLIT)}")
    stack.fire("DailyTaskCreation")
    stack.drain_dispatch_queue()
    _settle(client, stack, progress)
    comparison = client.get(f"/campaigns/{split_id}/comparison").json()
    campaign = client.get(f"/campaigns/{split_id}").json()

    before = _dials(stack)
    fallback = {"vendor": FALLBACK, "vendorOptions": stack.simulators[FALLBACK].demo_options()}
    failover_id = _create(client, stack, "Failover drill", FAILOVER_SPLIT, 600, fallback=[fallback])
    progress(f"failover campaign {failover_id}: 600 contacts, blu 70% / nxtele 30%, fallback {FALLBACK}")
    stack.fire("DailyTaskCreation")
    down = stack.simulators[DOWN]
    faults = down.api.faults if down.api else ApiFaults()
    answered = down.api.requests if down.api else 0
    outage = ApiFaults(rate=1.0, kinds=(OUTAGE,), from_request=answered + DOWN_AFTER)
    down.use_faults(outage, down.courier.faults)
    progress(f"  {DOWN} goes down once it has taken one batch: every later request is answered 503")
    stack.drain_dispatch_queue()
    stack.fire("HeldContactReplanning")  # the failed-over contacts, planned for the fallback
    stack.drain_dispatch_queue()
    down.use_faults(faults, down.courier.faults)
    _settle(client, stack, progress)
    failover_campaign = client.get(f"/campaigns/{failover_id}").json()
    contacts: Counter[tuple[str, str]] = Counter()
    cursor = None
    while True:
        page = client.get(
            f"/campaigns/{failover_id}/contacts", params={"limit": 100, "cursor": cursor} if cursor else {"limit": 100}
        ).json()
        for item in page["items"]:
            shown = client.get(f"/campaigns/{failover_id}/contacts/{item['contactId']}").json()
            contacts[(shown["vendor"], item["state"])] += 1
        if (cursor := page["nextCursor"]) is None:
            break
    after = _dials(stack)
    return SplitResult(
        comparison=comparison,
        campaign=campaign,
        failover_campaign=failover_campaign,
        failover_contacts=contacts,
        dials=Counter({vendor: after[vendor] - before[vendor] for vendor in after}),
        dialled_twice=sum(
            max(count - 1, 0) for simulator in stack.simulators.values() for count in simulator.dial_requests.values()
        ),
    )


def _percent(rate: dict[str, Any]) -> str:
    if rate["rate"] is None:
        return "-"
    return f"{rate['rate'] * 100:.1f}% [{rate['low'] * 100:.0f}-{rate['high'] * 100:.0f}]"


def _number(value: Any, digits: int = 1) -> str:
    return "-" if value is None else f"{float(value):.{digits}f}"


def comparison_table(comparison: dict[str, Any]) -> list[str]:
    """The comparison as a team lead reads it: one column per vendor, 95% intervals in brackets, and each
    challenger's verdict against the champion."""
    vendors = comparison["vendors"]
    rows: list[tuple[str, list[str]]] = [
        ("share / assigned / sent", [f"{v['share']}% / {v['assigned']} / {v['sent']}" for v in vendors]),
    ]
    labels = {
        "connected": "connected",
        "rightParty": "right party",
        "promiseToPay": "promise to pay",
        "optedOut": "opted out",
        "complained": "complained",
    }
    for key, label in labels.items():
        rows.append((label, [_percent(v["rates"][key]) for v in vendors]))
        rows.append(
            (
                "  vs champion",
                [
                    "champion"
                    if v["againstChampion"] is None
                    else f"{v['againstChampion'][key]['verdict']}"
                    + (
                        f" p={v['againstChampion'][key]['pValue']:.3f}"
                        if v["againstChampion"][key]["pValue"] is not None
                        else ""
                    )
                    for v in vendors
                ],
            )
        )
    rows += [
        ("mean talk (s)", [_number(v["meanTalkSeconds"]) for v in vendors]),
        ("attempts per contact", [_number(v["attemptsPerContact"], 2) for v in vendors]),
        ("callback delay (s)", [_number(v["meanReportDelaySeconds"]) for v in vendors]),
        ("recovered by polling", [_number((v["polledShare"] or 0) * 100) + "%" for v in vendors]),
        ("cost per contact", [f"{_number(v['costPerContact'], 2)} {v['currency'] or ''}" for v in vendors]),
        ("cost per promise", [f"{_number(v['costPerPromise'], 2)} {v['currency'] or ''}" for v in vendors]),
    ]
    width = max(len(label) for label, _ in rows) + 2
    column = max(len(cell) for _, cells in rows for cell in cells) + 2
    lines = [f"  {'':<{width}}" + "".join(f"{v['vendor']:>{column}}" for v in vendors)]
    lines += [f"  {label:<{width}}" + "".join(f"{cell:>{column}}" for cell in cells) for label, cells in rows]
    return lines


def split_report(result: SplitResult) -> tuple[str, bool]:
    lines = ["", f"  comparison of {result.comparison['campaignId']} (champion {result.comparison['champion']}):"]
    lines += comparison_table(result.comparison)
    assigned = {v["vendor"]: v["assigned"] for v in result.comparison["vendors"]}
    by_vendor_total = sum(sum(counts.values()) for counts in result.campaign["byVendor"].values())
    final = result.campaign["byState"].get("final", 0)
    comparison_ok = sum(assigned.values()) == result.campaign["totalContacts"] and final == by_vendor_total
    lines.append(
        f"  contacts per vendor {assigned}; final {final} of {result.campaign['totalContacts']}; "
        f"comparison counts = campaign counts: {'yes' if comparison_ok else 'NO'}"
    )
    moved = ", ".join(
        f"{m['contacts']} {m['fromVendor']} -> {m['toVendor']} ({m['cause']})"
        for m in result.failover_campaign.get("failedOver", [])
    )
    once = result.dialled_twice == 0 and sum(result.dials.values()) == sum(result.failover_contacts.values())
    lines.append(f"  failover drill: {DOWN} went down mid-dispatch; failed over: {moved or 'none'}")
    lines.append(
        f"    contacts by vendor and state: {dict(result.failover_contacts)}; dials by vendor: {dict(result.dials)}; "
        f"each dialled once, by one vendor: {'yes' if once else 'NO'}"
    )
    return "\n".join(lines), comparison_ok and result.failover_ok

"""The chaos run's split campaign: two vendors sharing a campaign under every fault of the run, one of them
failing hard part-way (every request answered 503 once it has made the day's task and taken one batch), the third
as its fallback.

What it must show: no contact taken by two vendors, none of the failed-over contacts taken by the vendor
that failed, and the campaign's comparison counting exactly what the table holds.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from local.scenario import demo_contacts
from local.simulators.plumbing import OUTAGE, ApiFaults
from local.stack import LocalStack

SPLIT = (("blu", 50), ("nxtele", 50))
FALLBACK = "airudder"
FAILING = "nxtele"
FAILING_AFTER = 2  # requests the failing vendor still answers, without faults: its task and one submission
BATCHES_AT_LEAST = 5  # the drill's contacts, in batches of the run's size: the failing vendor gets 2 or more
REPLAN_ROUNDS = 5
SENT = {"submitted", "unconfirmed", "final"}


@dataclass
class SplitDrill:
    campaign_id: str
    contacts: int
    taken: dict[str, set[tuple[str, str]]]  # per vendor, this campaign's contacts it took
    comparison: dict[str, Any]
    replans: int


def run_split_drill(
    client: httpx.Client,
    stack: LocalStack,
    contacts: int,
    seed: int,
    wait: Callable[[], bool],
    step: Callable[[str], None],
) -> SplitDrill:
    body = {
        "name": "chaos split",
        "vendors": [
            {"vendor": vendor, "share": share, "vendorOptions": stack.simulators[vendor].demo_options()}
            for vendor, share in SPLIT
        ],
        "fallback": [{"vendor": FALLBACK, "vendorOptions": stack.simulators[FALLBACK].demo_options()}],
        "contacts": demo_contacts(contacts, seed=seed, prefix="split"),
    }
    created = client.post("/campaigns", json=body)
    created.raise_for_status()
    campaign_id = str(created.json()["campaignId"])
    failing = stack.simulators[FAILING]
    usual = failing.api.faults if failing.api else ApiFaults()
    answered = failing.api.requests if failing.api else 0
    failing.use_faults(
        ApiFaults(rate=1.0, kinds=(OUTAGE,), from_request=answered + FAILING_AFTER), failing.courier.faults
    )
    stack.fire("DailyTaskCreation")
    stack.drain_dispatch_queue()
    replans = 0
    for _ in range(REPLAN_ROUNDS):  # the failed-over contacts, planned for the fallback (again after a retry)
        planned = stack.fire("HeldContactReplanning")
        if not planned.get("contacts"):
            break
        replans += 1
        stack.drain_dispatch_queue()
    failing.use_faults(usual, failing.courier.faults)
    step(f"split campaign {campaign_id}: {FAILING} failed hard after {FAILING_AFTER} requests; {replans} replan(s)")
    wait()
    for _ in range(3):
        if not stack.fire("ResultPolling").get("failed_tasks"):
            break
    stack.drain_stream()
    taken = {
        vendor: {key for key in simulator.taken_contacts() if key[0] == campaign_id}
        for vendor, simulator in stack.simulators.items()
    }
    comparison = client.get(f"/campaigns/{campaign_id}/comparison").json()
    return SplitDrill(campaign_id, contacts, taken, comparison, replans)


def comparison_from_table(
    campaign_id: str, contacts: dict[tuple[str, str], dict[str, Any]], calls: dict[tuple[str, str], dict[str, Any]]
) -> dict[str, tuple[int, int, int]]:
    """Per vendor, (assigned, sent, connected) counted from the table's items, as the comparison must."""
    counts: dict[str, Counter[str]] = {}
    for (campaign, _), item in contacts.items():
        if campaign != campaign_id:
            continue
        tally = counts.setdefault(str(item.get("vendor")), Counter())
        tally["assigned"] += 1
        tally["sent"] += item.get("state") in SENT
        call = calls.get((str(item.get("lastCallVendor")), str(item.get("lastCallId"))))
        tally["connected"] += item.get("state") == "final" and call is not None and call.get("status") == "answered"
    return {vendor: (tally["assigned"], tally["sent"], tally["connected"]) for vendor, tally in counts.items()}

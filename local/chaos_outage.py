"""The chaos run's outage: a vendor down long enough that SQS gives up on a campaign's batches, then back.

A campaign without a fallback on NXTele, whose every request is answered 503 once its day's task is made: each
batch is claimed, fails every delivery and lands in the dispatch dead-letter queue with its contacts still
`submitting`. NXTele comes back (under the run's usual faults), the on-call engineer re-drives the dead-letter
queue through the API, and the batches go through the dispatcher's claims again.

What it must show: every batch reached the dead-letter queue and its alarm fired (as the offline stack evaluates
the template's alarms), the re-drive moved each back and the alarm cleared, and afterwards no contact is
`submitting`, each was taken by NXTele, and no dial request went out twice.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from local.scenario import demo_contacts
from local.simulators.plumbing import OUTAGE, ApiFaults
from local.stack import LocalStack

VENDOR = "nxtele"  # its batches are the run's size (Blu's are 200): the drill dead-letters several
ANSWERED = 1  # requests the vendor still answers once the outage starts: the day's task of this campaign
REDRIVES = 3  # a re-driven batch may meet the run's usual faults again: re-driven again, at most this often


@dataclass
class OutageDrill:
    campaign_id: str
    contacts: int
    stuck: dict[str, int]  # the campaign's contacts by state once SQS gave up
    dead_lettered: int  # batches in the dispatch dead-letter queue then
    moved: list[int] = field(default_factory=list)  # batches each re-drive moved back
    statuses: list[int] = field(default_factory=list)  # the API's answer to each re-drive
    after: dict[str, int] = field(default_factory=dict)  # the campaign's contacts by state at the end
    taken: set[tuple[str, str]] = field(default_factory=set)  # of this campaign, what the vendor took
    alarms_dead_lettered: set[str] = field(default_factory=set)  # the template's alarms firing then (local/alarms.py)
    alarms_after: set[str] = field(default_factory=set)  # and once re-driven and settled
    failed_reasons: dict[str, int] = field(default_factory=dict)  # why the contacts that failed did
    swept: int = -1  # claims the poller's sweep found stuck once its horizon had passed (after the re-drive)


def run_outage_drill(
    client: httpx.Client,
    stack: LocalStack,
    contacts: int,
    seed: int,
    wait: Callable[[], bool],
    step: Callable[[str], None],
) -> OutageDrill:
    simulator = stack.simulators[VENDOR]
    body = {
        "name": "chaos outage",
        "vendor": VENDOR,
        "vendorOptions": simulator.demo_options(),
        "contacts": demo_contacts(contacts, seed=seed, prefix="outage"),
    }
    created = client.post("/campaigns", json=body)
    created.raise_for_status()
    campaign_id = str(created.json()["campaignId"])
    usual = simulator.api.faults if simulator.api else ApiFaults()
    answered = simulator.api.requests if simulator.api else 0
    simulator.use_faults(
        ApiFaults(rate=1.0, kinds=(OUTAGE,), from_request=answered + ANSWERED), simulator.courier.faults
    )
    stack.fire("DailyTaskCreation")
    stack.drain_dispatch_queue()  # every delivery fails until SQS moves the batches to the dead-letter queue
    dead_letters = stack.queue_urls["DispatchDeadLetterQueue"]
    drill = OutageDrill(campaign_id, contacts, _states(client, campaign_id), stack.queue_depth(dead_letters))
    drill.alarms_dead_lettered = set(stack.alarms.evaluate().firing)
    simulator.use_faults(usual, simulator.courier.faults)
    step(f"outage campaign {campaign_id}: {drill.dead_lettered} batch(es) dead-lettered with {VENDOR} down")
    for _ in range(REDRIVES):
        answer = client.post("/admin/dlq/redrive")
        drill.statuses.append(answer.status_code)
        drill.moved.append(int(answer.json().get("messagesMoved", 0)) if answer.status_code == 202 else 0)
        stack.drain_dispatch_queue()
        if not stack.queue_depth(dead_letters):
            break
    wait()
    drill.swept = _sweep_later()
    for _ in range(3):
        if not stack.fire("ResultPolling").get("failed_tasks"):
            break
    drill.after = _states(client, campaign_id)
    drill.alarms_after = set(stack.alarms.evaluate().firing)
    failed = client.get(f"/campaigns/{campaign_id}/contacts", params={"state": "failed", "limit": 500}).json()
    drill.failed_reasons = dict(Counter(str(contact.get("reason"))[:80] for contact in failed.get("items", [])))
    drill.taken = {key for key in simulator.taken_contacts() if key[0] == campaign_id}
    return drill


def _states(client: httpx.Client, campaign_id: str) -> dict[str, int]:
    """The campaign's contacts by state, counted now from every contact (the live counters may lag)."""
    recount: dict[str, Any] = client.post(f"/campaigns/{campaign_id}/recount").json()
    return dict(recount["recounted"]["byState"])


def _sweep_later() -> int:
    """The poller's sweep as it will run once the stuck horizon has passed (its clock moved on, the table this
    stack's functions use): claims still SUBMITTING then, which a re-drive in time leaves none of."""
    from dialhub.sweep import sweep_stuck_claims
    from dialhub.wiring import default_dependencies

    deps = default_dependencies()
    stuck_after = dt.timedelta(minutes=deps.settings.stuck_claim_minutes)
    later = dt.datetime.now(dt.UTC) + stuck_after + dt.timedelta(minutes=1)
    return sweep_stuck_claims(deps.store, deps.adapters, later, stuck_after, deps.settings.poll_horizon_days).stuck

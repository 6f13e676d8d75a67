"""Figures 4 and 5: the daily plan and dispatch at full scale, against the three vendor simulators.

The local stack (moto's DynamoDB and SQS server, the simulators, the gateway) runs in this process; the
scheduler and the dispatcher run in a fresh interpreter of their own, as in Lambda, so its CPU time, peak
memory and request counts are the functions' alone: moto's and the simulators' work happens elsewhere.
The day's contacts are split evenly between the vendors and taken in through the API, 10,000 a request.

`python -m bench.plan_dispatch --worker CONFIG RESULT` is that second interpreter.
"""

from __future__ import annotations

import json
import math
import resource
import sys
import time
from pathlib import Path
from typing import Any

from bench.instrument import memory_kb, reset_peak_memory
from bench.report import ROOT, Row, run_worker

FULL_SCALE = 100_000
API_CONTACTS_PER_REQUEST = 10_000
# Where each vendor's submissions go: one request per chunk of at most the adapter's batch limit.
SUBMISSION_PATHS = {
    "blu": "/rest/v1/uploadAndStartJob",
    "nxtele": "/callcentre/api/v3/addBatchCall",
    "airudder": "/service/cloud/v2/task",
}
MEMORY_GOAL_MB = 256
SCHEDULER_TIMEOUT_SECONDS = 300  # template.yaml
# An assumption, not a measurement: a conditional UpdateItem from Lambda to DynamoDB in the same region.
ASSUMED_DYNAMODB_ROUND_TRIP_SECONDS = 0.004


# --------------------------------------------------------------------------- the functions' interpreter
def _phase(run: Any, ddb: Any, sqs: Any) -> dict[str, Any]:
    ddb.reset()
    sqs.reset()
    reset_peak_memory()
    rss_before = memory_kb("VmRSS")
    wall, cpu = time.perf_counter(), time.process_time()
    outcome = run()
    return {
        "wall": time.perf_counter() - wall,
        "cpu": time.process_time() - cpu,
        "result": outcome,
        "rss_before_kb": rss_before,
        "peak_kb": memory_kb("VmHWM"),
        "dynamodb": dict(ddb.by_operation),
        "dynamodb_writes_by_item": dict(ddb.writes_by_item),
        "sqs": dict(sqs.by_operation),
    }


def worker(config_path: str, result_path: str) -> None:
    import boto3

    from bench.instrument import AwsRequestCounter, VendorRequestCounter
    from local.drivers import ScheduleDriver, SqsDriver
    from local.handlers import FakeLambdaContext, load_handler
    from local.template import SamTemplate

    config = json.loads(Path(config_path).read_text())
    template = SamTemplate(ROOT / "template.yaml", parameters={"Stage": config["stage"]})

    def invoke(function_id: str, event: dict[str, Any]) -> Any:
        spec = template.functions[function_id]
        return load_handler(spec)(event, FakeLambdaContext.for_invoke(spec))

    for function_id in template.functions:  # the cold start is not what this figure measures
        load_handler(template.functions[function_id])
    from dialhub.wiring import default_dependencies

    deps = default_dependencies()
    ddb, sqs = AwsRequestCounter(), AwsRequestCounter()
    ddb.attach(deps.store.client)
    sqs.attach(deps.queue.client)
    batch_limits = {vendor: deps.adapters.get(vendor).batch_limit for vendor in config["vendors"]}
    sqs_source = template.sqs_source("DispatcherFunction")
    driver = SqsDriver(boto3.client("sqs"), sqs_source, config["queue_url"], invoke)
    schedules = ScheduleDriver(template, invoke)

    def plan_the_day() -> dict[str, int]:
        """The daily run and, while a run ends with campaigns unfinished (its time was up), the re-planning
        runs that go on with them, as the HeldContactReplanning schedule does deployed."""
        totals = {"invocations": 0, "contacts": 0, "batches": 0}
        summary = schedules.fire("DailyTaskCreation")
        while True:
            totals["invocations"] += 1
            totals["contacts"] += summary["contacts"]
            totals["batches"] += summary["batches"]
            if not summary["unfinished"]:
                return totals
            summary = schedules.fire("HeldContactReplanning")

    def dispatch_the_day() -> dict[str, int]:
        stats = driver.drain(max_rounds=10_000)
        return {"invocations": stats.invocations, "returned": stats.returned}

    with VendorRequestCounter() as vendor_requests:
        plan = _phase(plan_the_day, ddb, sqs)
        dispatch = None if config.get("plan_only") else _phase(dispatch_the_day, ddb, sqs)
    requests = {vendor: dict(vendor_requests.paths(netloc)) for vendor, netloc in config["vendors"].items()}
    Path(result_path).write_text(
        json.dumps(
            {
                "plan": plan,
                "dispatch": dispatch,
                "batch_limits": batch_limits,
                "vendor_requests": requests,
                "max_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            }
        )
    )


# --------------------------------------------------------------------------- the orchestration
def _run_day(total: int, split: tuple[tuple[str, int], ...] = ()) -> dict[str, Any]:
    """The day's contacts taken in and planned (and dispatched, unless `split`): one campaign per vendor, or
    with `split` one campaign split across the vendors in those shares, planned only."""
    import httpx

    from bench.instrument import powertools_output_discarded
    from local.scenario import demo_contacts
    from local.stack import STAGE, LocalStack

    # Nobody is dialled while we measure: the simulators accept, and would dial a day later.
    with (
        LocalStack(dial_delay=(86_400.0, 86_400.0), drop_rate=0.0, log_level="ERROR") as stack,
        powertools_output_discarded(),
    ):
        client = httpx.Client(base_url=stack.url, timeout=1800)
        vendors = sorted(stack.simulators)
        per_vendor = {
            vendor: total // len(vendors) + (index < total % len(vendors)) for index, vendor in enumerate(vendors)
        }
        campaigns = {
            vendor: {
                "name": f"bench {vendor}",
                "vendor": vendor,
                "vendorOptions": stack.simulators[vendor].demo_options(),
            }
            for vendor in vendors
        }
        if split:
            per_vendor = {"split": total}
            shares = [
                {"vendor": vendor, "share": share, "vendorOptions": stack.simulators[vendor].demo_options()}
                for vendor, share in split
            ]
            campaigns = {"split": {"name": "bench split", "vendors": shares}}
        intake = time.perf_counter()
        for vendor, count in per_vendor.items():
            campaign_id = None
            for start in range(0, count, API_CONTACTS_PER_REQUEST):
                contacts = demo_contacts(min(API_CONTACTS_PER_REQUEST, count - start), prefix=f"{vendor}{start}")
                if campaign_id is None:
                    answer = client.post("/campaigns", json=campaigns[vendor] | {"contacts": contacts})
                    campaign_id = answer.json().get("campaignId")
                else:
                    answer = client.post(f"/campaigns/{campaign_id}/contacts", json={"contacts": contacts})
                if answer.status_code not in (200, 201) or answer.json()["accepted"] != len(contacts):
                    raise RuntimeError(f"intake failed: {answer.status_code} {answer.text[:500]}")
        intake = time.perf_counter() - intake
        sqs_source = stack.template.sqs_source("DispatcherFunction")
        queue_url = stack.queue_urls[sqs_source.queue_id]
        netlocs = {vendor: stack.simulators[vendor].base_url.split("://", 1)[1].rstrip("/") for vendor in vendors}
        config = {"stage": STAGE, "queue_url": queue_url, "vendors": netlocs, "plan_only": bool(split)}
        day = run_worker("bench.plan_dispatch", config)
        dialled = {vendor: sum(stack.simulators[vendor].dial_requests.values()) for vendor in vendors}
        pending = stack.pending_at_vendors()
    return day | {
        "per_vendor": per_vendor,
        "intake_seconds": intake,
        "accepted_by_vendors": dialled,
        "pending_at_vendors": pending,
    }


def _requests(phase: dict[str, Any]) -> int:
    return sum(phase["dynamodb"].values())


def measure(total: int, keep: dict[str, Any] | None = None) -> list[Row]:
    """Figures 4 and 5; `keep` gets the day's raw figures (the split figure compares its planning with them)."""
    day = _run_day(total)
    if keep is not None:
        keep.update(day)
    plan, dispatch = day["plan"], day["dispatch"]
    contacts = sum(day["per_vendor"].values())
    rows: list[Row] = []
    for vendor, count in sorted(day["per_vendor"].items()):
        limit = day["batch_limits"][vendor]
        paths = day["vendor_requests"][vendor]
        submissions = paths.get(SUBMISSION_PATHS[vendor], 0)
        others = {path: requests for path, requests in sorted(paths.items()) if path != SUBMISSION_PATHS[vendor]}
        setup = sum(others.values())
        expected = math.ceil(count / limit)
        per_10k = math.ceil(10_000 / limit)
        rows.append(
            Row(
                "4",
                f"{vendor}: vendor requests per 10,000 contacts",
                f"{per_10k + setup} ({per_10k} submissions + {setup})",
                f"= ceil(10,000/{limit}) + setup",
                submissions == expected,
                f"measured on this vendor's {count:,} contacts: {submissions} submissions to "
                f"{SUBMISSION_PATHS[vendor]} = ceil({count:,}/{limit}) = {expected}, and {setup} other "
                f"requests {others}; the simulator holds "
                f"{day['accepted_by_vendors'][vendor]:,} dial requests",
            )
        )
    planned, sent = plan["result"]["contacts"], sum(day["accepted_by_vendors"].values())
    rows.append(
        Row(
            "5",
            f"contacts planned and sent to the vendors, of {contacts:,} queued",
            f"{planned:,} planned, {sent:,} sent",
            f"{contacts:,} each",
            planned == sent == contacts,
            f"planning took {plan['result']['invocations']} scheduler invocation(s) here, where moto's "
            f"writes are slower than DynamoDB's (each stops 30 s before its timeout and the re-planning "
            f"run goes on); {dispatch['result']['invocations']} dispatcher invocations, "
            f"{dispatch['result']['returned']} messages returned for retry; intake through the API took "
            f"{day['intake_seconds']:.0f} s",
        )
    )
    wall = plan["wall"] + dispatch["wall"]
    cpu = plan["cpu"] + dispatch["cpu"]
    rows.append(
        Row(
            "5",
            f"plan + dispatch wall time, {contacts:,} contacts",
            f"{wall:.0f} s",
            note=f"plan {plan['wall']:.0f} s, dispatch {dispatch['wall']:.0f} s; the functions' CPU is "
            f"{cpu / wall:.0%} of it: the rest is waiting on moto's server, which serves one request "
            f"at a time",
        )
    )
    rows.append(
        Row(
            "5",
            "plan + dispatch function CPU per contact",
            f"{cpu / contacts * 1000:.2f} ms",
            note=f"plan {plan['cpu'] / contacts * 1000:.2f} ms, dispatch "
            f"{dispatch['cpu'] / contacts * 1000:.2f} ms; {cpu:.0f} CPU-s for the day",
        )
    )
    per_contact = (_requests(plan) + _requests(dispatch)) / contacts
    rows.append(
        Row(
            "5",
            "DynamoDB requests per contact (plan + dispatch)",
            f"{per_contact:.2f}",
            "batched where DynamoDB allows",
            None,
            f"plan {_requests(plan) / contacts:.2f} {dict(sorted(plan['dynamodb'].items()))}; dispatch "
            f"{_requests(dispatch) / contacts:.2f} {dict(sorted(dispatch['dynamodb'].items()))}. Reads "
            f"and unconditional writes go in batches (100 reads, 25 writes); each contact's state moves "
            f"(planned, claimed, sent) are conditional writes, which DynamoDB batches only as a "
            f"transaction, at twice the write units and all-or-nothing",
        )
    )
    from dialhub.parallel import PARALLEL_WRITES

    moves = plan["dynamodb"].get("UpdateItem", 0) / contacts
    waits = (_requests(plan) / contacts - moves) + moves / PARALLEL_WRITES
    plan_seconds = contacts * (plan["cpu"] / contacts + waits * ASSUMED_DYNAMODB_ROUND_TRIP_SECONDS)
    scaled = FULL_SCALE / contacts
    rows.append(
        Row(
            "5",
            f"daily plan of {FULL_SCALE:,} contacts in one scheduler invocation (estimate)",
            f"{plan_seconds * scaled:.0f} s",
            f"< {SCHEDULER_TIMEOUT_SECONDS} s timeout",
            plan_seconds * scaled < SCHEDULER_TIMEOUT_SECONDS,
            f"measured plan CPU {plan['cpu'] / contacts * 1000:.2f} ms and {_requests(plan) / contacts:.2f} "
            f"DynamoDB requests per contact ({moves:.2f} of them {PARALLEL_WRITES} at a time), each request "
            f"assumed to take {ASSUMED_DYNAMODB_ROUND_TRIP_SECONDS * 1000:.0f} ms in AWS (moto's are "
            f"slower); CPU as measured on one core here, which the scheduler's 1,769 MB buys",
        )
    )
    peaks = {name: phase["peak_kb"] / 1024 for name, phase in (("plan", plan), ("dispatch", dispatch))}
    before = min(plan["rss_before_kb"], dispatch["rss_before_kb"]) / 1024
    peak = max(peaks.values())
    largest = max(day["batch_limits"].values())
    rows.append(
        Row(
            "5",
            f"peak memory of the functions' process, {contacts:,} contacts",
            f"{peak:.0f} MB",
            f"<= {MEMORY_GOAL_MB} MB",
            peak <= MEMORY_GOAL_MB,
            f"VmHWM of the interpreter running the scheduler and dispatcher handlers, reset per phase: "
            f"plan {peaks['plan']:.0f} MB, dispatch {peaks['dispatch']:.0f} MB, against {before:.0f} MB "
            f"with every handler imported and nothing done. At once, planning holds one query page (<= 1 MB "
            f"of items), the batch it is cutting and up to 10 cut batches (one SQS send); the dispatcher "
            f"one message, at most {largest:,} contacts (AIRudder's task size)",
        )
    )
    return rows


SPLIT = (("blu", 60), ("nxtele", 25), ("airudder", 15))


def _per_contact_requests(phase: dict[str, Any]) -> int:
    """Planning's DynamoDB requests that grow with the contacts: the queue's pages, admission's reads and the
    contacts' own writes, without the campaign item's (due, cleared), which a run makes once per campaign."""
    return _requests(phase) - sum(_once_per_run(phase).values())


def measure_split(total: int, single: dict[str, Any]) -> list[Row]:
    """Figure 10: planning one campaign split across the three vendors, against the same number of contacts in
    one campaign per vendor (figure 5's day): DynamoDB requests per contact. A run that stops at its deadline
    makes a few more writes to the campaign item; how many runs planning takes here depends on moto's speed, so
    those are shown apart."""
    day = _run_day(total, SPLIT)
    plan = day["plan"]
    contacts = total
    per_contact = _per_contact_requests(plan) / contacts
    baseline = _per_contact_requests(single["plan"]) / sum(single["per_vendor"].values())
    planned = plan["result"]["contacts"]
    return [
        Row(
            "10",
            f"DynamoDB requests per contact to plan a {contacts:,}-contact campaign split 60/25/15",
            f"{per_contact:.4f}",
            f"<= {baseline:.4f} (one vendor per campaign, figure 5)",
            per_contact <= baseline and planned == contacts,
            f"{planned:,} planned in {plan['result']['batches']:,} batches and "
            f"{plan['result']['invocations']} scheduler invocation(s) (figure 5's day: "
            f"{single['plan']['result']['invocations']}); {dict(sorted(plan['dynamodb'].items()))}, of them once "
            f"per run and campaign {_once_per_run(plan)}; figure 5's day: "
            f"{dict(sorted(single['plan']['dynamodb'].items()))}, once per run and campaign "
            f"{_once_per_run(single['plan'])}. Each vendor's batches fill side by side from one read of the queue, "
            f"so the split adds no request per contact",
        )
    ]


def _once_per_run(phase: dict[str, Any]) -> dict[str, int]:
    """The writes to items other than contacts (the campaign item's), by operation and kind of item."""
    return {
        name: count
        for name, count in sorted(phase.get("dynamodb_writes_by_item", {}).items())
        if not name.endswith(" CONTACT")
    }


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        worker(sys.argv[2], sys.argv[3])
    else:
        from bench.report import terminal_table

        print(terminal_table(measure(int(sys.argv[1]) if len(sys.argv) > 1 else 3_000)))

"""Figure 8: the table's stream. A campaign dialled by the Blu simulator end to end, its stream then handed to
the events function as Lambda's event source mapping would: what publishing its events and keeping its counters
costs (PutEvents and DynamoDB requests, CPU). The callbacks' own cost, one DynamoDB request each, is figure 2:
the stream is the table's, the callback path does not change with it.

Everything runs in this process (the local stack); the events function's CPU is the thread time of the thread
that invokes it, which moto's server threads are not.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from typing import Any

import httpx

from bench.report import Row

ENTRIES_PER_REQUEST = 10  # PutEvents' limit


def _run(contacts: int) -> dict[str, Any]:
    from bench.instrument import powertools_output_discarded
    from dialhub.bus import EventBus
    from local.scenario import demo_contacts
    from local.stack import LocalStack

    published: list[int] = []  # events handed to one publish, one publish per invocation
    publish = EventBus.publish

    def counted_publish(bus: EventBus, events: list[Any]) -> Any:
        published.append(len(events))
        return publish(bus, events)

    with (
        LocalStack(
            vendors=("blu",), drop_rate=0.0, dial_delay=(0.01, 0.2), retry_interval=0.1, log_level="ERROR"
        ) as stack,
        powertools_output_discarded(),
        httpx.Client(base_url=stack.url, timeout=120) as client,
    ):
        body = {
            "name": "bench stream",
            "vendor": "blu",
            "vendorOptions": stack.simulators["blu"].demo_options(),
            "contacts": demo_contacts(contacts, prefix="stream"),
        }
        created = client.post("/campaigns", json=body)
        created.raise_for_status()
        campaign_id = created.json()["campaignId"]
        stack.fire("DailyTaskCreation")
        stack.drain_dispatch_queue()
        deadline = time.monotonic() + 600
        while stack.pending_at_vendors() and time.monotonic() < deadline:
            stack.simulators["blu"].wait_idle(1.0)
        before = Counter(stack.aws_calls)
        EventBus.publish = counted_publish  # type: ignore[method-assign]  # counted from outside, unchanged
        try:
            started = time.thread_time()
            stats = stack.drain_stream()
            cpu = time.thread_time() - started
        finally:
            EventBus.publish = publish  # type: ignore[method-assign]
        calls = {
            f"{service}:{operation}": count - before[(function, service, operation)]
            for (function, service, operation), count in stack.aws_calls.items()
            if function == "EventsFunction" and count > before[(function, service, operation)]
        }
        events = stack.events()
        recount = client.post(f"/campaigns/{campaign_id}/recount").json()
    return {
        "contacts": contacts,
        "published": published,
        "records": stats.records_read,
        "handed_over": stats.records_read - stats.records_filtered_out,
        "invocations": stats.invocations,
        "cpu": cpu,
        "calls": calls,
        "events": Counter(event["detail-type"] for event in events),
        "matched": recount["matched"],
    }


def measure(contacts: int) -> list[Row]:
    run = _run(contacts)
    events = sum(run["events"].values())
    put_events = run["calls"].get("events:PutEvents", 0)
    per_1000 = put_events / events * 1000 if events else float("inf")
    fewest = sum(-(-count // ENTRIES_PER_REQUEST) for count in run["published"])  # full requests but the last
    dynamodb = {name: count for name, count in run["calls"].items() if name.startswith("dynamodb:")}
    kinds = ", ".join(f"{kind} {count:,}" for kind, count in sorted(run["events"].items()))
    return [
        Row(
            "8",
            "PutEvents requests per 1,000 events",
            f"{per_1000:.1f}",
            "100, + one partly filled request per invocation",
            put_events == fewest and events == sum(run["published"]),
            f"{events:,} events ({kinds}) from a campaign of {run['contacts']:,} contacts dialled by the Blu "
            f"simulator, in {put_events:,} PutEvents requests: {ENTRIES_PER_REQUEST} entries in each but the "
            f"last of each of the {sum(1 for count in run['published'] if count)} invocations that published "
            f"(the fewest possible: {fewest}). The stream's {run['records']:,} records, {run['handed_over']:,} "
            f"past the filter, in {run['invocations']} invocations. About 2 events per call (its outcome, and "
            "the contact it closes)",
        ),
        Row(
            "8",
            "events function: CPU per record handed over, and its DynamoDB requests",
            f"{run['cpu'] / max(1, run['handed_over']) * 1000:.2f} ms",
            "counters = a recount",
            bool(run["matched"]),
            f"{run['cpu']:.2f} CPU-s of the invoking thread for {run['handed_over']:,} records; DynamoDB "
            + ", ".join(f"{name.removeprefix('dynamodb:')} {count}" for name, count in sorted(dynamodb.items()))
            + " (counters: one UpdateItem per campaign per batch); the CPU time is as measured, the goal is "
            "the counters' agreement with POST /campaigns/{id}/recount afterwards",
        ),
    ]


if __name__ == "__main__":
    from bench.report import terminal_table

    print(terminal_table(measure(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000)))

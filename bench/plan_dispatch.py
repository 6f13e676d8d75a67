"""Figures 4 and 5: the daily plan and dispatch at scale, against the three vendor simulators.

The local stack (moto server, simulators, gateway) runs in this process; the scheduler and the
dispatcher run in a fresh interpreter of their own, as in Lambda, so its CPU time, peak memory and request
counts are the functions' alone: moto's and the simulators' work happens elsewhere.

`python -m bench.plan_dispatch --worker CONFIG RESULT` is that second interpreter.
"""

from __future__ import annotations

import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.report import ROOT, Row

FULL_SCALE = 100_000
# Where each vendor's submissions go: one request per chunk of at most the adapter's batch limit.
SUBMISSION_PATHS = {"blu": "/rest/v1/uploadAndStartJob", "nxtele": "/callcentre/api/v3/addBatchCall",
                    "airudder": "/service/cloud/v2/task"}
MEMORY_GOAL_MB = 256
SCHEDULER_TIMEOUT_SECONDS = 300  # template.yaml
# An assumption, not a measurement: a conditional UpdateItem from Lambda to DynamoDB in the same region.
ASSUMED_DYNAMODB_ROUND_TRIP_SECONDS = 0.004


# --------------------------------------------------------------------------- the functions' interpreter
def _memory_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _reset_peak_memory() -> bool:
    """Linux lets a process reset its own peak RSS (VmHWM), so each phase gets its own peak."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _phase(run: Any, ddb: Any, sqs: Any) -> dict[str, Any]:
    ddb.reset()
    sqs.reset()
    _reset_peak_memory()
    rss_before = _memory_kb("VmRSS")
    wall, cpu = time.perf_counter(), time.process_time()
    outcome = run()
    return {"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu, "result": repr(outcome),
            "rss_before_kb": rss_before, "peak_kb": _memory_kb("VmHWM"),
            "dynamodb": dict(ddb.by_operation), "sqs": dict(sqs.by_operation)}


def worker(config_path: str, result_path: str) -> None:
    import boto3

    from bench.instrument import AwsRequestCounter, VendorRequestCounter
    from local.drivers import ScheduleDriver, SqsDriver
    from local.template import FakeLambdaContext, SamTemplate, load_handler

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
    [sqs_source] = template.sqs_sources
    driver = SqsDriver(boto3.client("sqs"), sqs_source, config["queue_url"], invoke)
    with VendorRequestCounter() as vendor_requests:
        plan = _phase(lambda: ScheduleDriver(template, invoke).fire("DailyTaskCreation"), ddb, sqs)
        dispatch = _phase(driver.drain, ddb, sqs)
    requests = {vendor: dict(vendor_requests.paths(netloc)) for vendor, netloc in config["vendors"].items()}
    Path(result_path).write_text(json.dumps({
        "plan": plan, "dispatch": dispatch, "batch_limits": batch_limits, "vendor_requests": requests,
        "max_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))


# --------------------------------------------------------------------------- the orchestration
def _run_size(per_vendor: int) -> dict[str, Any]:
    import httpx

    from bench.instrument import powertools_output_discarded
    from local.scenario import demo_contacts
    from local.stack import STAGE, LocalStack

    # Nobody is dialled while we measure: the simulators accept, and would dial a day later.
    with LocalStack(dial_delay=(86_400.0, 86_400.0), drop_rate=0.0, log_level="ERROR") as stack, \
            powertools_output_discarded():
        client = httpx.Client(base_url=stack.url, timeout=600)
        for vendor, simulator in stack.simulators.items():
            for start in range(0, per_vendor, 10_000):  # the API takes 10,000 contacts per request
                contacts = demo_contacts(min(10_000, per_vendor - start), prefix=f"{vendor}{start}")
                created = client.post("/campaigns", json={"name": f"bench {vendor}", "vendor": vendor,
                                                          "vendorOptions": simulator.demo_options(),
                                                          "contacts": contacts})
                created.raise_for_status()
        [sqs_source] = stack.template.sqs_sources
        queue_url = stack.queue_urls[sqs_source.queue_id]
        vendors = {vendor: simulator.base_url.split("://", 1)[1].rstrip("/")
                   for vendor, simulator in stack.simulators.items()}
        with tempfile.TemporaryDirectory(prefix="dialhub-bench-") as scratch:
            config, result = Path(scratch) / "config.json", Path(scratch) / "result.json"
            config.write_text(json.dumps({"stage": STAGE, "queue_url": queue_url, "vendors": vendors}))
            completed = subprocess.run(  # noqa: S603 - our own module, our own interpreter
                [sys.executable, "-m", "bench.plan_dispatch", "--worker", str(config), str(result)],
                env=dict(os.environ), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                check=False, timeout=1800)
            if completed.returncode != 0:
                raise RuntimeError(f"plan/dispatch worker failed:\n{completed.stderr[-3000:]}")
            return json.loads(result.read_text())


def _requests(phase: dict[str, Any]) -> int:
    return sum(phase["dynamodb"].values())


def measure(sizes: list[int]) -> list[Row]:
    runs = {size: _run_size(size) for size in sizes}
    largest = max(sizes)
    run = runs[largest]
    vendors = sorted(run["vendor_requests"])
    contacts = largest * len(vendors)
    rows: list[Row] = []
    for vendor in vendors:
        limit = run["batch_limits"][vendor]
        paths = run["vendor_requests"][vendor]
        submissions = paths.get(SUBMISSION_PATHS[vendor], 0)
        others = {path: count for path, count in paths.items() if path != SUBMISSION_PATHS[vendor]}
        expected = math.ceil(largest / limit)
        fixed = sum(others.values())
        rows.append(Row("4", f"{vendor}: vendor requests per 10,000 contacts",
                        f"{math.ceil(10_000 / limit) + fixed} ({math.ceil(10_000 / limit)} submissions + {fixed})",
                        f"= ceil(10,000/{limit}) + setup", submissions == expected,
                        f"measured at {largest:,} contacts: {submissions} submissions to {SUBMISSION_PATHS[vendor]} "
                        f"(ceil({largest}/{limit}) = {expected}), other requests {others}; scaled to 10,000 by the "
                        f"same rule, since moto cannot store 10,000 contacts per vendor within the run's budget"))
    plan, dispatch = run["plan"], run["dispatch"]
    wall = plan["wall"] + dispatch["wall"]
    cpu = plan["cpu"] + dispatch["cpu"]
    per_contact_requests = (_requests(plan) + _requests(dispatch)) / contacts
    rows.append(Row("5", f"plan + dispatch wall time, {contacts:,} contacts", f"{wall:.1f} s",
                    note=f"plan {plan['wall']:.1f} s, dispatch {dispatch['wall']:.1f} s; extrapolated to "
                         f"{FULL_SCALE:,}: {wall / contacts * FULL_SCALE / 60:.0f} min, most of it moto "
                         f"(function CPU is {cpu / wall:.0%} of the wall time)"))
    rows.append(Row("5", "plan + dispatch function CPU per contact", f"{cpu / contacts * 1000:.2f} ms",
                    note=f"plan {plan['cpu'] / contacts * 1000:.2f} ms, dispatch "
                         f"{dispatch['cpu'] / contacts * 1000:.2f} ms; {FULL_SCALE:,} contacts: "
                         f"{cpu / contacts * FULL_SCALE:.0f} CPU-s"))
    rows.append(Row("5", "DynamoDB requests per contact (plan + dispatch)", f"{per_contact_requests:.2f}",
                    "batched where DynamoDB allows", None,
                    f"plan {_requests(plan) / contacts:.2f} {plan['dynamodb']}; dispatch "
                    f"{_requests(dispatch) / contacts:.2f} {dispatch['dynamodb']}"))
    plan_requests = _requests(plan) / contacts
    # The per-contact conditional moves go out PARALLEL_WRITES at a time; everything else is sequential.
    from dialhub.planning import PARALLEL_WRITES

    moves = plan["dynamodb"].get("UpdateItem", 0) / contacts
    waits = (plan_requests - moves) + moves / PARALLEL_WRITES
    plan_seconds = FULL_SCALE * (plan["cpu"] / contacts + waits * ASSUMED_DYNAMODB_ROUND_TRIP_SECONDS)
    rows.append(Row("5", f"daily plan of {FULL_SCALE:,} contacts in one scheduler invocation (estimate)",
                    f"{plan_seconds:.0f} s", f"< {SCHEDULER_TIMEOUT_SECONDS} s timeout",
                    plan_seconds < SCHEDULER_TIMEOUT_SECONDS,
                    f"measured plan CPU {plan['cpu'] / contacts * 1000:.2f} ms and {plan_requests:.2f} DynamoDB "
                    f"requests per contact ({moves:.2f} of them {PARALLEL_WRITES} at a time), each assumed to take "
                    f"{ASSUMED_DYNAMODB_ROUND_TRIP_SECONDS * 1000:.0f} ms in AWS; CPU as measured on one core here, "
                    f"which the scheduler's 1,769 MB buys; a run out of time stops between batches and the "
                    f"re-planning run goes on"))
    # Planning holds one query page (<= 1 MB of items) at a time and the dispatcher one message (<= the
    # vendor's batch limit), so memory grows with the largest such unit, not with the day's contacts.
    peaks = {size: max(runs[size]["plan"]["peak_kb"], runs[size]["dispatch"]["peak_kb"]) / 1024 for size in sizes}
    largest_limit = max(run["batch_limits"].values())
    units = {size: min(size, largest_limit) for size in sizes}
    measured_peak = peaks[largest]
    phases = ", ".join(f"{size * len(vendors):,} contacts: plan {runs[size]['plan']['peak_kb'] / 1024:.0f} MB, "
                       f"dispatch {runs[size]['dispatch']['peak_kb'] / 1024:.0f} MB" for size in sizes)
    growth_measured = len(sizes) > 1 and units[largest] > units[min(sizes)]
    if growth_measured:
        smallest = min(sizes)
        slope = max(peaks[largest] - peaks[smallest], 0.0) / (units[largest] - units[smallest])
        projected = measured_peak + slope * (largest_limit - units[largest])
        growth = (f"{slope * 1000:.1f} MB per 1,000 contacts in the largest message; at {FULL_SCALE:,} contacts "
                  f"the largest message is {largest_limit:,} contacts (AIRudder's task size), hence the "
                  f"projection; a linear projection over all contacts would wrongly assume everything is held")
    else:
        projected = measured_peak
        growth = "one size only (--quick): no growth measured"
    rows.append(Row("5", f"peak memory of the functions' process, {contacts:,} contacts",
                    f"{measured_peak:.0f} MB (projected {projected:.0f} MB at {FULL_SCALE:,})",
                    f"<= {MEMORY_GOAL_MB} MB", projected <= MEMORY_GOAL_MB if growth_measured else None,
                    f"VmHWM of the interpreter running the scheduler and dispatcher handlers, reset per phase "
                    f"({phases}); {growth}"))
    return rows


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        worker(sys.argv[2], sys.argv[3])
    else:
        from bench.report import terminal_table

        print(terminal_table(measure([int(size) for size in sys.argv[1:]] or [100])))

"""`make chaos`: the faults of issue 6 thrown at the running local stack, and the figures they leave.

One campaign per vendor runs through the real API, schedules, queue, dispatcher, webhooks and poller while
- every vendor API fails `api_failure_rate` of its requests (5xx, resets, timeouts, throttling, slow answers,
  and the hard case: the request is accepted and the answer is lost),
- the dispatcher crashes between the vendor's acceptance and our write for `crash_share` of the batches
  (SQS redelivers them), and `sqs_duplicate_rate` of the batches are delivered twice,
- callbacks are dropped, duplicated up to 6 times, reordered, and some held back until after the poll,
- the webhooks function's DynamoDB calls are throttled at `dynamodb_fault_rate`,
- the gateway serves callbacks with several workers, and a burst replays delivered callbacks at the end,
- a reader follows the outcome feed (GET /outcomes) all the while, one campaign is exported while calls are
  still coming in, and every export's first write to S3 crashes after S3 took it (SQS delivers it again),
- a contact file is imported into a new campaign meanwhile: uploaded twice (S3 announces each), and each of
  its writes to S3 crashes once after S3 took it (the importer is retried from its checkpoint).

Then it counts, from the simulators' accepted dial requests and from the table and the API, whether anyone
was dialled twice or never, lost an outcome, got two, or went backwards; and whether the concatenated feed
and each campaign's export after the run hold every closing outcome exactly once. It prints one figure table and
exits 1 when any invariant is broken, so it can sit in `make test`.

Time is compressed, as in every local run: calls last under a second, a vendor "timeout" is two seconds
(the adapters' timeouts are shortened to match), and SQS redelivers a failed batch at once.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import random
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from local.chaos_outage import VENDOR as OUTAGE_VENDOR
from local.chaos_outage import OutageDrill, run_outage_drill
from local.chaos_split import (
    BATCHES_AT_LEAST,
    FAILING,
    FALLBACK,
    SplitDrill,
    comparison_from_table,
    run_split_drill,
)
from local.scenario import demo_contacts
from local.simulators.plumbing import API_FAULT_KINDS, ApiFaults, CallbackFaults, Reported
from local.stack import DynamoDbFaults, LocalStack

OUTAGE_BATCHES = 2  # the outage drill's campaign, in batches of the run's size


@dataclass(frozen=True)
class ChaosPlan:
    """How hard to hit the stack; the defaults are `make chaos` (a few minutes on 2 cores)."""

    contacts_per_vendor: int = 700
    api_failure_rate: float = 0.30
    callback_drop_rate: float = 0.20
    callback_duplicate_rate: float = 0.30  # those are delivered 2 to 6 times
    callback_late_rate: float = 0.05  # held back until the poll has run
    callback_reorder_seconds: float = 1.5
    crash_share: float = 0.25  # dispatch batches that crash after the vendor accepted them (first delivery)
    sqs_duplicate_rate: float = 0.5  # of deliveries (each up to 5 batches, the template's BatchSize)
    dynamodb_fault_rate: float = 0.10
    replay_share: float = 0.30  # delivered callbacks sent again at once at the end (the burst)
    stream_redeliver_rate: float = 0.3  # stream batches handed to the events function again after they succeeded
    stream_crash_rate: float = 0.1  # events invocations whose answer is lost after they ran (retried)
    feed_delay_seconds: int = 5  # the outcome feed's delay (60 s deployed; time is compressed here)
    export_part_bytes: int = 64 * 1024  # small parts, so a run's exports are multipart uploads
    gateway_workers: int = 4
    vendor_timeout_seconds: float = 2.0
    batch_size: int = 50  # NXTele chunkSize and AIRudder taskSize (Blu's is fixed at 200): more requests to fail
    dial_delay: tuple[float, float] = (0.05, 0.8)
    settle_timeout: float = 150.0
    poll_runs: int = 3  # at most; a poll that met a vendor outage on some task is run again
    seed: int = 7
    # Vendors that break the adapters' assumptions where their documents leave room: short result pages,
    # under-counted uploads, the documented callback shape, national phones in error lists, 1-based indexes,
    # each refusing some requests in its quirky way. The run ends with a poll at the horizon.
    unexpected_vendors: bool = False


# --------------------------------------------------------------------------- the dispatcher crash


class DispatcherCrashes:
    """Crash the dispatcher after the vendor accepted a chunk but before all of it is recorded: on the first
    delivery of `share` of the batches, the k-th SUBMITTING -> SUBMITTED write raises (k random, so some
    contacts of the chunk are recorded and the rest stay claimed). SQS then redelivers the batch.

    The same thing tests/conftest.py `crash_before_settling` does to one batch, done here at scale.
    """

    def __init__(self, share: float, seed: int) -> None:
        self.share = share
        self.seed = seed
        self.crashed_batches: set[str] = set()
        self._crash_at: dict[str, int | None] = {}  # batch -> which SUBMITTED write crashes (None: none)
        self._writes: Counter[str] = Counter()
        self._lock = threading.Lock()

    def _should_crash(self, batch_id: str | None) -> bool:
        if batch_id is None:
            return False
        with self._lock:
            if batch_id not in self._crash_at:
                rng = random.Random(f"{self.seed}:crash:{batch_id}")
                chosen = rng.random() < self.share or not self._crash_at  # the first batch always, then `share`
                self._crash_at[batch_id] = rng.randint(0, 40) if chosen else None
            crash_at = self._crash_at[batch_id]
            if crash_at is None or batch_id in self.crashed_batches:
                return False
            self._writes[batch_id] += 1
            if self._writes[batch_id] <= crash_at:
                return False
            self.crashed_batches.add(batch_id)
            return True

    @contextmanager
    def installed(self) -> Iterator[None]:
        from botocore.exceptions import ClientError

        from dialhub.models import DialState
        from dialhub.store import DynamoStore

        real_move = DynamoStore.move_contact

        def move_or_crash(store: DynamoStore, *args: Any, **kwargs: Any) -> bool:
            if args[2] == DialState.SUBMITTED and self._should_crash(kwargs.get("batch_id")):
                raise ClientError({"Error": {"Code": "InternalServerError", "Message": "injected crash"}}, "UpdateItem")
            return real_move(store, *args, **kwargs)

        DynamoStore.move_contact = move_or_crash  # type: ignore[method-assign, assignment]  # the fault, in place
        try:
            yield
        finally:
            DynamoStore.move_contact = real_move  # type: ignore[method-assign]


class OutcomeTally:
    """The CallOutcomes metric as the outcome path emits it, beside what the store answered for each outcome:
    the metric must count each final outcome stored once, and no duplicate (metrics are off in the stack, so
    the emitting function is watched, not its printed line)."""

    def __init__(self) -> None:
        self.metric = 0
        self.stored_final = 0
        self._lock = threading.Lock()

    @contextmanager
    def installed(self) -> Iterator[None]:
        from dialhub import outcomes
        from dialhub.store import DynamoStore, RecordResult

        real_metric, real_record = outcomes.count_metric, DynamoStore.record_outcome  # type: ignore[attr-defined]  # the name outcomes calls

        def counted_metric(name: str, value: int = 1, **dimensions: str) -> None:
            if name == "CallOutcomes":
                with self._lock:
                    self.metric += value
            real_metric(name, value, **dimensions)

        def tallied_record(store: DynamoStore, outcome: Any, *args: Any, **kwargs: Any) -> Any:
            result = real_record(store, outcome, *args, **kwargs)
            if result is not RecordResult.DUPLICATE and outcome.final:
                with self._lock:
                    self.stored_final += 1
            return result

        outcomes.count_metric, DynamoStore.record_outcome = counted_metric, tallied_record  # type: ignore[attr-defined, method-assign, assignment]  # in place
        try:
            yield
        finally:
            outcomes.count_metric, DynamoStore.record_outcome = real_metric, real_record  # type: ignore[attr-defined, method-assign]


class ExportCrashes:
    """Crash each export once, right after S3 took its first write (a part, or the whole small file) and before
    the export recorded it: the exports function fails, SQS delivers the job again, and the retry must still
    make exactly one whole file."""

    def __init__(self) -> None:
        self.crashed: set[str] = set()
        self._lock = threading.Lock()

    def _first_write(self, key: str) -> bool:
        with self._lock:
            if key in self.crashed:
                return False
            self.crashed.add(key)
            return True

    @contextmanager
    def installed(self) -> Iterator[None]:
        from botocore.exceptions import ClientError

        from dialhub.objects import BucketObjects

        real_part, real_put = BucketObjects.upload_part, BucketObjects.put

        def part_then_crash(objects: BucketObjects, key: str, *args: Any) -> str:
            etag = real_part(objects, key, *args)
            if self._first_write(key):
                raise ClientError({"Error": {"Code": "InternalError", "Message": "injected crash"}}, "UploadPart")
            return etag

        def put_then_crash(objects: BucketObjects, key: str, *args: Any) -> None:
            real_put(objects, key, *args)
            if self._first_write(key):
                raise ClientError({"Error": {"Code": "InternalError", "Message": "injected crash"}}, "PutObject")

        BucketObjects.upload_part, BucketObjects.put = part_then_crash, put_then_crash  # type: ignore[method-assign, assignment]  # the fault, in place
        try:
            yield
        finally:
            BucketObjects.upload_part, BucketObjects.put = real_part, real_put  # type: ignore[method-assign]


class FeedReader:
    """A downstream system syncing from GET /outcomes: it asks for what is new, keeps the cursor, asks again."""

    def __init__(self, base_url: str) -> None:
        self.client = httpx.Client(base_url=base_url, timeout=60)
        self.outcomes: list[dict[str, Any]] = []
        self.requests = 0
        self._cursor: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._follow, name="feed-reader", daemon=True)

    def _page(self) -> dict[str, Any]:
        answer = self.client.get(
            "/outcomes", params={"limit": 100, **({"after": self._cursor} if self._cursor else {})}
        )
        answer.raise_for_status()
        page = answer.json()
        self.requests += 1
        self.outcomes += page["items"]
        self._cursor = page["nextCursor"]
        return page

    def _follow(self) -> None:
        while not self._stop.wait(0.3):
            while self._page()["hasMore"] and not self._stop.is_set():
                pass

    def start(self) -> None:
        self._thread.start()

    def finish(self, delay_seconds: float) -> None:
        """Stop following; once the last outcomes are old enough to be served, read to the end."""
        self._stop.set()
        self._thread.join()
        time.sleep(delay_seconds + 1)
        while self._page()["hasMore"]:
            pass
        self.client.close()


@dataclass
class ExportCheck:
    """An export as a person gets it: its job's answer and the file's rows, by contact."""

    state: str
    rows: int
    calls: dict[str, list[str]]  # contactId -> vendorCallId of each row for it ('' when no closing outcome)


def _export(client: httpx.Client, stack: LocalStack, campaign_id: str) -> str:
    answer = client.post(f"/campaigns/{campaign_id}/exports", json={"format": "csv"})
    answer.raise_for_status()
    return str(answer.json()["exportId"])


def _export_result(client: httpx.Client, stack: LocalStack, export_id: str, timeout: float) -> ExportCheck:
    """Wait for the export to end; read its file from S3 (the local S3 is in this process: no download link)."""
    import csv
    import io

    deadline = time.monotonic() + timeout
    while (job := client.get(f"/exports/{export_id}").json())["state"] == "running":
        if time.monotonic() >= deadline:
            break
        time.sleep(0.2)
    calls: dict[str, list[str]] = {}
    if job["state"] == "done":
        key = f"exports/{job['campaignId']}/{export_id}.csv"
        bucket = next(iter(stack.bucket_names.values()))
        text = stack.s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8-sig")
        for row in csv.DictReader(io.StringIO(text, newline="")):
            calls.setdefault(row["contactId"], []).append(row["vendorCallId"])
    return ExportCheck(job["state"], job["rows"], calls)


# --------------------------------------------------------------------------- reading the table


@dataclass
class TableView:
    """The items chaos reads, from one consistent scan of the table."""

    contacts: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)  # (campaign, contact)
    calls: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)  # (vendor, vendor call id)
    dial_records: Counter[tuple[str, str]] = field(default_factory=Counter)  # (campaign, contact)
    dial_stamps: dict[tuple[str, str], list[str]] = field(default_factory=dict)  # (campaign, contact) -> at#attempt
    raw_payloads: Counter[tuple[str, str]] = field(default_factory=Counter)  # (vendor, vendor call id)
    open_tasks: int = 0  # vendor tasks the poller still considers open


def read_table(stack: LocalStack) -> TableView:
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()
    view = TableView()
    paginator = stack.dynamodb.get_paginator("scan")
    for page in paginator.paginate(TableName=stack.table_name, ConsistentRead=True):
        for raw in page["Items"]:
            item = {key: deserializer.deserialize(value) for key, value in raw.items()}
            pk, sk = str(item["pk"]), str(item["sk"])
            if pk.startswith("CAMPAIGN#") and sk.startswith("CONTACT#"):
                view.contacts[(str(item["campaignId"]), str(item["contactId"]))] = item
            elif pk.startswith("CALL#") and sk == "CALL":
                _, vendor, call_id = pk.split("#", 2)
                view.calls[(vendor, call_id)] = item
            elif pk.startswith("CALL#") and sk.startswith("RAW#"):
                _, vendor, call_id = pk.split("#", 2)
                view.raw_payloads[(vendor, call_id)] += 1
            elif pk.startswith("CAMPAIGN#") and sk.startswith("TASK#"):
                view.open_tasks += bool(item.get("open"))
            elif pk.startswith("PHONE#") and sk.startswith("DIAL#"):
                _, sent_at, campaign_id, contact_id, attempt = sk.split("#")
                view.dial_records[(campaign_id, contact_id)] += 1
                view.dial_stamps.setdefault((campaign_id, contact_id), []).append(f"{sent_at}#{attempt}")
    return view


def _final_fields(item: dict[str, Any]) -> tuple[Any, ...]:
    """What a later callback must not change on a final outcome; lastUpdatedAt moves with any rewrite at all."""
    return (
        item.get("final"),
        item.get("closesContact"),
        item.get("status"),
        item.get("disposition"),
        item.get("durationSeconds"),
        item.get("lastUpdatedAt"),
    )


def _contact_fields(item: dict[str, Any]) -> tuple[Any, ...]:
    return (item.get("state"), item.get("lastCallId"), item.get("disposition"), item.get("updatedAt"))


# --------------------------------------------------------------------------- figures


@dataclass
class Invariant:
    name: str
    expected: str
    observed: str
    holds: bool


@dataclass
class ChaosReport:
    plan: ChaosPlan
    faults: list[tuple[str, str, str]] = field(default_factory=list)  # (fault, injected, how it was met)
    invariants: list[Invariant] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    measured: dict[str, int] = field(default_factory=dict)  # figures the fault table quotes, from the checks
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return bool(self.invariants) and all(invariant.holds for invariant in self.invariants)

    def check(self, name: str, expected: Any, observed: Any, holds: bool | None = None) -> None:
        self.invariants.append(
            Invariant(name, str(expected), str(observed), expected == observed if holds is None else holds)
        )

    def table(self) -> str:
        plan = self.plan
        lines = [
            f"dialhub chaos: {plan.contacts_per_vendor * 3:,} contacts ({plan.contacts_per_vendor:,} per vendor,"
            f" Blu, NXTele, AIRudder), seed {plan.seed}, {self.seconds:.0f} s",
            "",
        ]
        width = max(len(name) for name, _, _ in self.faults) if self.faults else 10
        lines.append(f"{'fault':<{width}}  {'injected':>9}  how it was met")
        lines += [f"{name:<{width}}  {injected:>9}  {met}" for name, injected, met in self.faults]
        lines.append("")
        width = max(len(invariant.name) for invariant in self.invariants) if self.invariants else 10
        lines.append(f"{'invariant':<{width}}  {'expected':>10}  {'observed':>10}  ok")
        for invariant in self.invariants:
            mark = "yes" if invariant.holds else "NO"
            lines.append(f"{invariant.name:<{width}}  {invariant.expected:>10}  {invariant.observed:>10}  {mark}")
        if self.notes:
            lines += ["", *self.notes]
        lines += ["", "ALL INVARIANTS HOLD" if self.ok else "INVARIANTS BROKEN"]
        return "\n".join(lines)


# --------------------------------------------------------------------------- the run


def _wait(stack: LocalStack, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while stack.pending_at_vendors():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.2)
    return True


@contextmanager
def counting_retries(retries: Counter[str]) -> Iterator[None]:
    """The adapters retry transient vendor failures with stamina: count those retries (instead of logging them)."""
    from stamina import instrumentation

    hooks = instrumentation.get_on_retry_hooks()
    instrumentation.set_on_retry_hooks([lambda details: retries.update([type(details.caused_by).__name__])])
    try:
        yield
    finally:
        instrumentation.set_on_retry_hooks(hooks)


def run_chaos(plan: ChaosPlan, progress: Callable[[str], None] = lambda _: None) -> ChaosReport:
    started = time.monotonic()
    report = ChaosReport(plan)
    retries: Counter[str] = Counter()
    with counting_retries(retries):
        _run(plan, report, started, progress, retries)
    report.seconds = time.monotonic() - started
    return report


def _run(
    plan: ChaosPlan, report: ChaosReport, started: float, progress: Callable[[str], None], retries: Counter[str]
) -> None:

    def step(message: str) -> None:
        progress(f"[{time.monotonic() - started:6.1f} s] {message}")

    api_faults = ApiFaults(
        rate=plan.api_failure_rate,
        timeout_seconds=plan.vendor_timeout_seconds + 0.5,
        slow_seconds=plan.vendor_timeout_seconds / 4,
    )
    callback_faults = CallbackFaults(
        duplicate_rate=plan.callback_duplicate_rate,
        max_copies=6,
        reorder_seconds=plan.callback_reorder_seconds,
        late_rate=plan.callback_late_rate,
    )
    crashes = DispatcherCrashes(plan.crash_share, plan.seed)
    export_crashes = ExportCrashes()
    tally = OutcomeTally()
    with (
        LocalStack(
            drop_rate=plan.callback_drop_rate,
            dial_delay=plan.dial_delay,
            retry_interval=0.2,
            seed=plan.seed,
            log_level="CRITICAL",
            gateway_workers=plan.gateway_workers,
            aws_in_process=True,
            api_faults=api_faults,
            callback_faults=callback_faults,
            batch_size=plan.batch_size,
            vendor_http_timeout=plan.vendor_timeout_seconds,
            dynamodb_faults=DynamoDbFaults(rate=plan.dynamodb_fault_rate),
            feed_delay_seconds=plan.feed_delay_seconds,
            export_part_bytes=plan.export_part_bytes,
            stream_redeliver_rate=plan.stream_redeliver_rate,
            stream_crash_rate=plan.stream_crash_rate,
            unexpected_vendors=plan.unexpected_vendors,
        ) as stack,
        httpx.Client(base_url=stack.url, timeout=120) as client,
        export_crashes.installed(),
        tally.installed(),
    ):
        stack.sqs_driver.duplicate_rate = plan.sqs_duplicate_rate
        feed = FeedReader(stack.url)
        feed.start()
        stack.sqs_drivers["ExportsFunction"].run_in_background(0.2)
        stack.sqs_drivers["ImporterFunction"].run_in_background(0.2)
        stack.stream_drivers["EventsFunction"].run_in_background(0.2)
        campaigns: dict[str, str] = {}
        accepted: dict[str, int] = {}
        for vendor, simulator in stack.simulators.items():
            contacts = demo_contacts(plan.contacts_per_vendor, seed=plan.seed, prefix=vendor)
            answer = client.post(
                "/campaigns",
                json={
                    "name": f"chaos ({vendor})",
                    "vendor": vendor,
                    "vendorOptions": simulator.demo_options(),
                    "contacts": contacts,
                },
            )
            answer.raise_for_status()
            campaigns[vendor] = answer.json()["campaignId"]
            accepted[vendor] = answer.json()["accepted"]
        step(f"campaigns created: {accepted}")
        file_import = _start_file_import(client, stack, next(iter(stack.simulators)))
        step(f"contact file uploaded twice for import {file_import.import_id} ({file_import.rows} rows)")
        planned = stack.fire("DailyTaskCreation")
        step(f"daily schedule: {planned.get('contacts')} contacts in {planned.get('batches')} batches")
        with crashes.installed():
            drained = stack.drain_dispatch_queue()
        step(f"dispatch queue drained: {drained.invocations} deliveries, {drained.returned} returned for retry")
        first_campaign = next(iter(campaigns.values()))
        during = _export(client, stack, first_campaign)
        step(f"export of {first_campaign} started while calls are still coming in")
        settled = _wait(stack, plan.settle_timeout)
        step(f"vendors {'idle' if settled else 'STILL BUSY'}; polling")
        poll_runs, recovered = 0, 0
        for _ in range(plan.poll_runs):
            polled = stack.fire("ResultPolling")
            poll_runs += 1
            recovered += polled.get("recovered", 0)
            if not polled.get("failed_tasks"):
                break
        after_poll = read_table(stack)
        step(f"{poll_runs} poll run(s): {recovered} outcomes recovered; releasing late callbacks and the burst")
        late = sum(simulator.courier.release_late() for simulator in stack.simulators.values())
        burst = sum(simulator.courier.replay(plan.replay_share) for simulator in stack.simulators.values())
        burst_settled = _wait(stack, plan.settle_timeout)
        step(f"{late} late callbacks and a burst of {burst} replayed callbacks delivered")
        in_doubt = sum(item.get("state") == "unconfirmed" for item in read_table(stack).contacts.values())
        if plan.unexpected_vendors:
            at_horizon = _poll_at_the_horizon(stack)
            step(f"{in_doubt} contacts still unconfirmed; the poll at the horizon failed {at_horizon} contacts")
        feed.finish(plan.feed_delay_seconds)
        step(f"feed reader: {len(feed.outcomes):,} closing outcomes in {feed.requests:,} requests")
        export_during = _export_result(client, stack, during, plan.settle_timeout)
        after = {vendor: _export(client, stack, campaign_id) for vendor, campaign_id in campaigns.items()}
        exports_after = {
            vendor: _export_result(client, stack, export_id, plan.settle_timeout) for vendor, export_id in after.items()
        }
        step(
            f"exports: one during the run ({export_during.state}), one per campaign after it "
            f"({', '.join(check.state for check in exports_after.values())})"
        )
        stack.drain_stream()  # what the background reader has not handed over yet
        final = read_table(stack)
        views = {vendor: client.get(f"/campaigns/{campaign_id}").json() for vendor, campaign_id in campaigns.items()}
        recounts = {
            vendor: client.post(f"/campaigns/{campaign_id}/recount").json() for vendor, campaign_id in campaigns.items()
        }
        work_depth = sum(stack.queue_depth(stack.queue_urls[queue_id]) for queue_id in ("DispatchQueue", "ExportQueue"))
        dead_letters = sum(
            stack.queue_depth(url) for queue_id, url in stack.queue_urls.items() if queue_id.endswith("DeadLetterQueue")
        )

        refused_by_vendor = {
            vendor: {key for key in simulator.refused_contacts() if key[0] == campaigns[vendor]}
            for vendor, simulator in stack.simulators.items()
        }
        _invariants(report, plan, stack, campaigns, accepted, refused_by_vendor, after_poll, final, views)
        _doubts(report, refused_by_vendor, after_poll, final, in_doubt)
        _idempotency(report, stack, final, tally)
        _events(report, stack, campaigns, final, recounts)
        _results_out(report, campaigns, accepted, final, feed, export_during, exports_after)
        _imports(report, stack, file_import)
        exports_crashed = sum(key.startswith("exports/") for key in export_crashes.crashed)
        _fault_figures(report, stack, crashes, late, burst, exports_crashed)
        report.faults.append(
            (
                "import crashes after S3 took a write, and the upload announced twice",
                f"{len(export_crashes.crashed) - exports_crashed}",
                f"rows stored once or rejected with their reason: {report.measured['import_rows_accounted']} of "
                f"{report.measured['import_rows']}",
            )
        )
        report.check("vendors idle at the end (calls, callbacks)", True, settled and burst_settled)
        report.check(
            "dispatch and export queues empty / dead-letter queues empty", "0 / 0", f"{work_depth} / {dead_letters}"
        )
        refused = {function_id: sum(calls.values()) for function_id, calls in stack.permissions.refused.items()}
        report.check("AWS calls a function's template.yaml Policies refused", 0, sum(refused.values()))
        report.measured["aws_calls_checked_against_policies"] = sum(
            sum(calls.values()) for calls in stack.permissions.used.values()
        ) + sum(refused.values())
        report.notes.append(
            f"poll runs: {poll_runs} (a run is repeated when a vendor outage stopped it on a task); "
            f"outcomes recovered by polling: {recovered}"
        )
        report.notes.append(f"adapter retries of vendor requests: {sum(retries.values()):,} {dict(retries)}")
        drill_size = max(plan.contacts_per_vendor // 2, BATCHES_AT_LEAST * plan.batch_size)
        drill = run_split_drill(client, stack, drill_size, plan.seed, lambda: _wait(stack, plan.settle_timeout), step)
        _split_campaign(report, stack, drill, read_table(stack))
        outage = run_outage_drill(
            client, stack, OUTAGE_BATCHES * plan.batch_size, plan.seed, lambda: _wait(stack, plan.settle_timeout), step
        )
        _outage(report, stack, outage)


def _outage(report: ChaosReport, stack: LocalStack, drill: OutageDrill) -> None:
    """Last: a vendor down until SQS gave up on a campaign's batches, then the re-drive."""
    report.check(
        f"outage: batches dead-lettered while {OUTAGE_VENDOR} was down",
        f">= {OUTAGE_BATCHES}",
        drill.dead_lettered,
        drill.dead_lettered >= OUTAGE_BATCHES,
    )
    report.check("outage: contacts left submitting by the outage", drill.contacts, drill.stuck.get("submitting", 0))
    dead_letter_alarm = next((name for name in drill.alarms_dead_lettered if name.endswith("-dispatch-dlq")), None)
    report.check(
        "outage: the dispatch-dlq alarm fired (evaluated offline)",
        "fired",
        dead_letter_alarm or "silent",
        dead_letter_alarm is not None,
    )
    report.check(
        "outage: the dispatch-dlq alarm after the re-drive",
        "cleared",
        "firing" if dead_letter_alarm in drill.alarms_after else "cleared",
    )
    report.check("outage: re-drives answered 202", "all", drill.statuses, set(drill.statuses) == {202})
    report.check("outage: batches the re-drives moved back", drill.dead_lettered, drill.moved[0] if drill.moved else 0)
    report.check("outage: contacts submitting after the re-drive", 0, drill.after.get("submitting", 0))
    report.check("outage: claims the sweep finds stuck past its horizon, after the re-drive", 0, drill.swept)
    # Under the unexpected vendors' quirks some are refused or left in doubt by the vendor's own answer (failed or
    # unconfirmed, as in the main run): every contact the vendor accepted must be one it took, once.
    accepted = sum(drill.after.get(state, 0) for state in ("submitted", "final"))
    report.check(
        f"outage: contacts {OUTAGE_VENDOR} accepted after the re-drive, each taken by it", accepted, len(drill.taken)
    )
    settled = accepted + drill.after.get("failed", 0) + drill.after.get("unconfirmed", 0)
    report.check("outage: contacts accepted, refused or in doubt, of all", drill.contacts, settled)
    dialled_twice = sum(
        max(count - 1, 0) for simulator in stack.simulators.values() for count in simulator.dial_requests.values()
    )
    report.check("outage: dial requests above one per contact, any vendor, whole run", 0, dialled_twice)
    report.notes.append(
        f"outage campaign {drill.campaign_id}: {drill.contacts} contacts, {drill.dead_lettered} batch(es) "
        f"dead-lettered, re-drives moved {drill.moved}; states after: {drill.after}; why the failed failed: "
        f"{drill.failed_reasons or 'none failed'}"
    )


def _split_campaign(report: ChaosReport, stack: LocalStack, drill: SplitDrill, table: TableView) -> None:
    """After the run, under the same faults: a campaign split between two vendors, one failing hard."""
    taken = drill.taken
    vendors = list(taken)
    overlap = sum(len(taken[one] & taken[other]) for index, one in enumerate(vendors) for other in vendors[index + 1 :])
    report.check("split campaign: contacts taken by two vendors", 0, overlap)
    contacts = {key: item for key, item in table.contacts.items() if key[0] == drill.campaign_id}
    moved = {key for key, item in contacts.items() if item.get("failedOverFrom") == FAILING}
    report.check("split campaign: contacts failed over from the failing vendor", "> 0", len(moved), len(moved) > 0)
    report.check("split campaign: of them, taken by the failing vendor", 0, len(moved & taken[FAILING]))
    final = {key for key, item in contacts.items() if item.get("state") == "final"}
    once = sum(sum(key in taken[vendor] for vendor in vendors) == 1 for key in final)
    report.check("split campaign: final contacts taken by exactly one vendor", len(final), once)
    dialled_twice = sum(
        max(count - 1, 0) for simulator in stack.simulators.values() for count in simulator.dial_requests.values()
    )
    report.check("split campaign: dial requests above one per contact, any vendor", 0, dialled_twice)
    stored = comparison_from_table(drill.campaign_id, table.contacts, table.calls)
    compared = {
        entry["vendor"]: (entry["assigned"], entry["sent"], entry["rates"]["connected"]["count"])
        for entry in drill.comparison["vendors"]
    }
    differing = [vendor for vendor, counts in compared.items() if counts != stored.get(vendor, (0, 0, 0))]
    report.check("split campaign: comparison counts that differ from the table", 0, len(differing))
    left = sum(
        stack.queue_depth(url)
        for queue_id, url in stack.queue_urls.items()
        if queue_id == "DispatchQueue" or queue_id.endswith("DeadLetterQueue")
    )
    report.check("split campaign: messages left in the dispatch and dead-letter queues", 0, left)
    report.notes.append(
        f"split campaign {drill.campaign_id}: {drill.contacts} contacts, {len(moved)} failed over to {FALLBACK}, "
        f"{len(final)} final; comparison (assigned, sent, connected) {compared}; replans {drill.replans}"
    )


def _fault_figures(
    report: ChaosReport, stack: LocalStack, crashes: DispatcherCrashes, late: int, burst: int, export_crashes: int
) -> None:
    """Each fault injected, and how the run met it: a figure the checks below measured, never a claim."""
    measured = report.measured
    simulators = stack.simulators.values()
    injected: Counter[str] = Counter()
    requests = 0
    for simulator in simulators:
        if simulator.api is not None:
            injected.update(simulator.api.injected)
            requests += simulator.api.requests
    mix = " · ".join(f"{kind.replace('_', ' ')} {injected[kind]}" for kind in API_FAULT_KINDS)
    report.faults.append(
        (
            f"vendor API faults ({stack.api_faults.rate:.0%} of {requests:,} requests)",
            f"{sum(injected.values()):,}",
            mix,
        )
    )
    twice = f"contacts dialled twice: {measured['dialled_twice']}"
    report.faults.append(
        (
            "dispatcher crash after the vendor accepted",
            f"{len(crashes.crashed_batches)}",
            f"redelivered by SQS; {twice}",
        )
    )
    report.faults.append(("SQS batch delivered twice", f"{stack.sqs_driver.duplicates_delivered}", twice))
    couriers = [simulator.courier for simulator in simulators]
    dropped = sum(courier.dropped for courier in couriers)
    copies = sum(courier.extra_copies for courier in couriers)
    variants = sum(courier.variant_copies for courier in couriers)
    refused = sum(
        count
        for courier in couriers
        for status, count in courier.statuses.items()
        if status is not None and 400 <= status < 500
    )
    answers_5xx = sum(
        count
        for courier in couriers
        for status, count in courier.statuses.items()
        if status is not None and status >= 500
    )
    lost = measured["dropped_or_late"]
    report.faults.append(
        (
            "callbacks dropped for good",
            f"{dropped:,}",
            f"dropped or late, recovered by the poll: {lost - measured['unrecovered']:,} of {lost:,}",
        )
    )
    again = f"callbacks changed again by a repeat: {measured['second_writers']}"
    report.faults.append(
        (
            "callback copies (duplicates up to 6x, burst)",
            f"{copies:,}",
            f"{burst:,} of them in the final burst; {again}",
        )
    )
    report.faults.append(
        (
            "late copies that read differently (earlier status, other duration)",
            f"{variants:,}",
            f"in the final burst; {again}",
        )
    )
    report.faults.append(
        (
            "callbacks held back past the poll",
            f"{late:,}",
            f"final outcomes or contacts changed after the poll: {measured['regressed']}",
        )
    )
    report.faults.append(
        (
            "callbacks reordered (random delay)",
            f"{stack.callback_faults.reorder_seconds} s",
            f"contacts with one closing outcome: {measured['one_closing']:,} of {measured['contacts']:,}",
        )
    )
    report.faults.append(
        (
            "export crashes after S3 took a write",
            f"{export_crashes}",
            f"exports whole after SQS delivered them again: {measured['exports_whole']} of {measured['exports']}",
        )
    )
    faulted = stack.answers_after_dynamodb_fault
    report.faults.append(
        (
            f"DynamoDB throttling in the webhooks function ({stack.dynamodb_faults.rate:.0%} of calls)",
            f"{stack.dynamodb_faults_injected:,}",
            f"{sum(faulted.values()):,} callbacks answered {dict(faulted)}; vendors retried",
        )
    )
    delivered = sum(courier.delivered for courier in couriers)
    abandoned = sum(courier.abandoned for courier in couriers)
    report.notes.append(
        f"callbacks: {delivered:,} deliveries answered 200, {answers_5xx:,} answered 5xx and retried, "
        f"{refused:,} refused (4xx), {abandoned:,} given up by the vendor after its last retry"
    )
    report.check("callbacks refused by dialhub (4xx)", 0, refused)
    report.check(
        "callbacks met by a DynamoDB fault answered 5xx",
        sum(faulted.values()),
        sum(count for status, count in faulted.items() if status is not None and status >= 500),
    )


def _dial_record_case(key: tuple[str, str], contact: dict[str, Any], stamps: list[str]) -> str:
    fields = ("state", "attempt", "batchId", "claimedAt", "vendorTaskId", "lastCallId")
    shown = {name: contact.get(name) for name in fields}
    return f"{key[1]} {shown} records {stamps}"


def _invariants(
    report: ChaosReport,
    plan: ChaosPlan,
    stack: LocalStack,
    campaigns: dict[str, str],
    accepted: dict[str, int],
    refused: dict[str, set[tuple[str, str]]],
    after_poll: TableView,
    final: TableView,
    views: dict[str, dict[str, Any]],
) -> None:
    expected_total = sum(accepted.values()) - sum(len(keys) for keys in refused.values())
    dialled_once = dialled_twice = never = 0
    finals = closing_ok = one_closing = 0
    dial_records: Counter[int] = Counter()  # records per contact -> contacts
    odd_records: list[str] = []  # a few contacts without exactly one, to say why in the report
    outcome_mismatch = 0
    counts_exact = True
    for vendor, campaign_id in campaigns.items():
        simulator = stack.simulators[vendor]
        requests = simulator.dial_requests
        dialled_once += sum(1 for count in requests.values() if count == 1)
        dialled_twice += sum(1 for count in requests.values() if count > 1)
        dialled = accepted[vendor] - len(refused[vendor])
        never += max(0, dialled - len(requests))
        contacts = {
            key: item for key, item in final.contacts.items() if key[0] == campaign_id and key not in refused[vendor]
        }
        closing: Counter[tuple[str, str]] = Counter()
        closing_call: dict[tuple[str, str], dict[str, Any]] = {}
        stored_ids = set()
        for (call_vendor, call_id), item in final.calls.items():
            if call_vendor != vendor or item.get("campaignId") != campaign_id:
                continue
            stored_ids.add(call_id)
            if item.get("closesContact") and item.get("final"):
                key = (campaign_id, str(item.get("contactId")))
                closing[key] += 1
                closing_call[key] = item
        for key, contact in contacts.items():
            finals += contact.get("state") == "final"
            one_closing += closing[key] == 1
            call = closing_call.get(key)
            closing_ok += bool(
                call
                and call.get("vendorCallId") == contact.get("lastCallId")
                and call.get("disposition") == contact.get("disposition")
            )
            dial_records[final.dial_records[key]] += 1
            if final.dial_records[key] != 1 and len(odd_records) < 5:
                odd_records.append(_dial_record_case(key, contact, final.dial_stamps.get(key, [])))
        reported = simulator.reported_call_ids()
        outcome_mismatch += len(reported ^ stored_ids)
        view = views[vendor]
        by_state = view.get("byState", {})
        every_contact = [item for key, item in final.contacts.items() if key[0] == campaign_id]
        by_disposition = Counter(str(item["disposition"]) for item in every_contact if item.get("disposition"))
        expected_states = {"final": dialled, "failed": len(refused[vendor])}
        counts_exact &= (
            by_state == {state: n for state, n in expected_states.items() if n}
            and Counter(view.get("byDisposition", {})) == by_disposition
        )

    report.check("contacts dialled exactly once (vendor-accepted requests)", expected_total, dialled_once)
    report.check("contacts dialled twice or more", 0, dialled_twice)
    report.check("contacts never dialled (lost)", 0, never)
    report.check("contacts final", expected_total, finals)
    report.check("contacts with exactly one closing outcome", expected_total, one_closing)
    report.check("contact agrees with its closing outcome", expected_total, closing_ok)
    report.check("vendor calls without exactly one stored outcome", 0, outcome_mismatch)
    report.check("campaign counts (GET /campaigns) exact", True, counts_exact)
    report.check(
        "dial-history records: one per contact",
        expected_total,
        dial_records[1],
        holds=dial_records[1] == expected_total,
    )
    if dial_records[1] != expected_total:
        report.notes.append(
            f"dial-history records per contact (the frequency cap's count): "
            f"{dict(sorted(dial_records.items()))} (records: contacts); for example: {'; '.join(odd_records)}"
        )
    report.notes.append(
        f"vendor tasks still open after the poll: {final.open_tasks} (a task closes once its "
        "submitted count of closing results is in)"
    )

    lost_reports: list[Reported] = []
    for simulator in stack.simulators.values():
        lost_reports += simulator.courier.dropped_reports + simulator.courier.late_reports
    unrecovered = 0
    for vendor, simulator in stack.simulators.items():
        for report_lost in simulator.courier.dropped_reports + simulator.courier.late_reports:
            stored = after_poll.calls.get((vendor, report_lost.call_id))
            if stored is None or not stored.get("final") or (report_lost.closes and not stored.get("closesContact")):
                unrecovered += 1
    report.check("dropped or late callbacks recovered by the poll", len(lost_reports), len(lost_reports) - unrecovered)
    report.measured |= {
        "dropped_or_late": len(lost_reports),
        "unrecovered": unrecovered,
        "dialled_twice": dialled_twice,
        "one_closing": one_closing,
        "contacts": expected_total,
    }

    regressed = sum(
        1
        for key, item in after_poll.calls.items()
        if item.get("final") and _final_fields(final.calls.get(key, {})) != _final_fields(item)
    )
    regressed += sum(
        1
        for key, item in after_poll.contacts.items()
        if item.get("state") == "final" and _contact_fields(final.contacts.get(key, {})) != _contact_fields(item)
    )
    report.check("final outcomes or contacts changed by later callbacks", 0, regressed)
    report.measured["regressed"] = regressed


@dataclass
class FileImport:
    import_id: str
    campaign_id: str
    rows: int
    contact_ids: list[str]  # of the file, in row order


def _start_file_import(client: httpx.Client, stack: LocalStack, vendor: str) -> FileImport:
    """A new campaign (dialled tomorrow, so this run's invariants stay about the others) and its contact file,
    uploaded twice: S3 announces each upload, and the second finds the import already under way or done."""
    from local.file_imports import loan_system_csv

    rows = 300
    content, _ = loan_system_csv(rows)
    tomorrow = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).date().isoformat()
    campaign = {
        "name": "chaos import",
        "vendor": vendor,
        "vendorOptions": stack.simulators[vendor].demo_options(),
        "dialDate": tomorrow,
        "timezone": "UTC",
    }
    mapping = {"variables": {"应还金额": "amountDue", "到期日": "dueDate"}}
    started = client.post(
        "/imports", json={"format": "csv", "encoding": "gbk", "columns": mapping, "campaign": campaign}
    )
    started.raise_for_status()
    view = started.json()
    bucket = stack.bucket_names["ImportBucket"]
    for _ in range(2):
        stack.s3.put_object(Bucket=bucket, Key=f"uploads/{view['importId']}", Body=content)
    reader = csv.reader(io.StringIO(content.decode("gbk")), delimiter=";")
    next(reader)
    return FileImport(view["importId"], view["campaignId"], rows, [row[0] for row in reader])


def _imports(report: ChaosReport, stack: LocalStack, file_import: FileImport) -> None:
    """Every row of the file stored once or in the rejections file with its reason, and the counts exact."""
    deadline = time.monotonic() + 60
    while True:
        job = _import_job(stack, file_import.import_id)
        if job.get("state") in ("done", "failed") or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    progress = job.get("progress", {})
    stored = [
        item for (campaign_id, _), item in read_table(stack).contacts.items() if campaign_id == file_import.campaign_id
    ]
    origins = Counter(str(item.get("origin", "")).rsplit("#", 1)[0] for item in stored)
    rejected_ids: Counter[str] = Counter()
    if progress.get("rejectionParts"):
        body = stack.s3.get_object(
            Bucket=stack.bucket_names["ImportBucket"], Key=f"rejections/{file_import.import_id}.csv"
        )
        lines = list(csv.reader(io.StringIO(body["Body"].read().decode("utf-8-sig"))))[1:]
        rejected_ids.update(line[1] for line in lines)
    stored_ids = Counter(str(item["contactId"]) for item in stored)
    accounted = sum(
        1 for contact_id in file_import.contact_ids if stored_ids[contact_id] == 1 or rejected_ids[contact_id] > 0
    )
    counted = progress.get("accepted", 0) + progress.get("rejected", 0) + progress.get("duplicates", 0)
    report.check("contact file imported: done", "done", job.get("state"))
    report.check("file rows stored once or rejected with their reason", file_import.rows, accounted)
    report.check(
        "import counts = rows read = stored + rejections file lines",
        f"{file_import.rows} = {file_import.rows}",
        f"{counted} = {len(stored) + sum(rejected_ids.values())}",
        holds=counted == file_import.rows == len(stored) + sum(rejected_ids.values())
        and origins == Counter({file_import.import_id: len(stored)}),
    )
    report.measured |= {"import_rows": file_import.rows, "import_rows_accounted": accounted}


def _import_job(stack: LocalStack, import_id: str) -> dict[str, Any]:
    from boto3.dynamodb.types import TypeDeserializer

    item = stack.dynamodb.get_item(
        TableName=stack.table_name, Key={"pk": {"S": f"IMPORT#{import_id}"}, "sk": {"S": "IMPORT"}}, ConsistentRead=True
    ).get("Item", {})
    deserializer = TypeDeserializer()
    return {key: deserializer.deserialize(value) for key, value in item.items()}


def _poll_at_the_horizon(stack: LocalStack) -> int:
    """The poller's last run on every open task, as it runs once the horizon has passed (time is compressed
    here, and the vendors' clocks cannot be moved): whatever is still waiting for a result fails."""
    from dialhub.polling import poll_open_tasks
    from dialhub.wiring import default_dependencies

    failed = 0
    with stack.acting_as("PollerFunction"):
        deps = default_dependencies()
        for _ in range(5):  # a vendor outage leaves its task open for the next run, as the schedule would
            summary = poll_open_tasks(deps.store, deps.adapters, deps.clock(), horizon_days=-1)
            failed += summary.unresolved
            if not summary.failed_tasks:
                break
    return failed


def _doubts(
    report: ChaosReport,
    refused: dict[str, set[tuple[str, str]]],
    after_poll: TableView,
    final: TableView,
    in_doubt: int,
) -> None:
    """Requests a vendor refused are never counted as sent, whatever its answer looked like; the poll settles
    every contact its answer left in doubt."""
    every_refusal: set[tuple[str, str]] = set().union(*refused.values())
    taken = {"submitted", "final"}
    report.check(
        "contacts the vendor refused, counted as accepted",
        0,
        sum(after_poll.contacts.get(key, {}).get("state") in taken for key in every_refusal)
        + sum(final.contacts.get(key, {}).get("state") in taken for key in every_refusal),
    )
    report.check(
        "contacts the vendor refused, failed at the end",
        len(every_refusal),
        sum(final.contacts.get(key, {}).get("state") == "failed" for key in every_refusal),
    )
    report.check(
        "contacts left unconfirmed at the end",
        0,
        sum(item.get("state") == "unconfirmed" for item in final.contacts.values()),
    )
    report.measured |= {"refused": len(every_refusal), "in_doubt": in_doubt}
    if every_refusal or in_doubt:
        report.notes.append(
            f"requests the vendors refused: {len(every_refusal)}; contacts left in doubt by the vendors' answers "
            f"after the first poll: {in_doubt} (settled by the poll at the horizon)"
        )


def _idempotency(report: ChaosReport, stack: LocalStack, final: TableView, tally: OutcomeTally) -> None:
    """What each delivery of a callback wrote, measured by item. Of all the deliveries of one callback answered
    200 (its copies, retries after success, replays, different late copies), each item may be changed by one;
    no delivery may change an item another delivery of the same callback changed, raw payload included. Copies
    run at once, so which one writes is not known in advance, only that no item is written twice. (A do-not-call
    outcome is two writes by design, the suppression first: two racing copies may share them, one each.)"""
    by_key: dict[str, list[Any]] = {}
    for delivery in stack.deliveries:
        by_key.setdefault(delivery.key, []).append(delivery)
    answered = [[delivery for delivery in deliveries if delivery.status == 200] for deliveries in by_key.values()]
    repeats = sum(max(0, len(deliveries) - 1) for deliveries in answered)
    second_writers = 0
    for key, deliveries in zip(by_key, answered, strict=True):
        changed: Counter[str] = Counter(item for delivery in deliveries for item in delivery.items)
        again = sum(1 for delivery in deliveries if any(changed[item] > 1 for item in delivery.items))
        second_writers += max(0, again - 1)
        if again > 1:
            shown = ", ".join(f"{d.status}/{d.write_requests} req/{d.items_written} items" for d in by_key[key])
            report.notes.append(f"callback {key} changed an item more than once: {shown}")
    report.check("repeated deliveries of a callback that changed an item again", 0, second_writers)
    report.measured["second_writers"] = second_writers
    requests = sum(delivery.write_requests for delivery in stack.deliveries)
    written = sum(delivery.items_written for delivery in stack.deliveries)
    per_delivery = requests / max(1, len(stack.deliveries))
    report.notes.append(
        f"callbacks delivered: {len(by_key):,}, with {repeats:,} repeated deliveries answered 200; "
        f"all deliveries sent {requests:,} write requests ({per_delivery:.2f} a delivery) and "
        f"changed {written:,} items, {written / max(1, len(by_key)):.2f} per callback"
    )

    reporters: Counter[tuple[str, str]] = Counter()
    for vendor, simulator in stack.simulators.items():
        reporters.update((vendor, reported.call_id) for reported in simulator.courier.delivered_reports())
    excess = sum(1 for call, count in final.raw_payloads.items() if count > reporters[call])
    spread = Counter(final.raw_payloads.values())
    report.check("calls with more raw payloads than callbacks that reported them", 0, excess)
    report.notes.append(
        f"raw payloads kept per vendor call: {dict(sorted(spread.items()))} (payloads: calls); "
        "a callback of a new call or of a later state keeps one, a repeat none"
    )
    report.check("CallOutcomes metric = final outcomes stored (repeats not counted)", tally.stored_final, tally.metric)


def _events(
    report: ChaosReport,
    stack: LocalStack,
    campaigns: dict[str, str],
    final: TableView,
    recounts: dict[str, dict[str, Any]],
) -> None:
    """What the table's stream made of the run, its batches redelivered and its answers lost on purpose: live
    counters equal to a recount, and events a subscriber deduplicating on eventId can trust."""
    events = stack.events()
    unique = {event["detail"]["eventId"]: event for event in events}
    details = [(event["detail-type"], event["detail"]) for event in unique.values()]
    closed: Counter[tuple[str, str]] = Counter(
        (detail["campaignId"], detail["contactId"]) for kind, detail in details if kind == "Contact Closed"
    )
    closed_contacts = [
        key for key, item in final.contacts.items() if item.get("state") in ("final", "failed", "cancelled")
    ]
    announced = {
        (detail["vendor"], detail["vendorCallId"]) for kind, detail in details if kind == "Call Outcome Recorded"
    }
    completed = Counter(detail["campaignId"] for kind, detail in details if kind == "Campaign Completed")
    stream = stack.stream_drivers["EventsFunction"].stats
    report.check(
        "campaign counters (from the stream) = a recount of every contact",
        len(campaigns),
        sum(bool(recount.get("matched")) for recount in recounts.values()),
    )
    report.check(
        "closed contacts with exactly one Contact Closed (by eventId)",
        len(closed_contacts),
        sum(closed[key] == 1 for key in closed_contacts),
        holds=len(closed_contacts) > 0
        and all(closed[key] == 1 for key in closed_contacts)
        and len(closed) == len(closed_contacts),
    )
    report.check("stored calls without a Call Outcome Recorded", 0, len(set(final.calls) - announced))
    report.check(
        "campaigns with exactly one Campaign Completed",
        len(campaigns),
        sum(completed[c] == 1 for c in campaigns.values()),
    )
    report.check("stream records given up to the failure queue", 0, stream.sent_to_failure_queue)
    report.measured |= {"events": len(events), "distinct_events": len(unique)}
    report.notes.append(
        f"events on the bus: {len(events):,}, {len(unique):,} distinct ({dict(Counter(kind for kind, _ in details))}); "
        f"the stream's batches: {stream.invocations:,} invocations, {stream.redeliveries} redelivered, "
        f"{stream.crashes} answers lost, {stream.handler_errors} function errors, {stream.bisections} splits"
    )


def _results_out(
    report: ChaosReport,
    campaigns: dict[str, str],
    accepted: dict[str, int],
    final: TableView,
    feed: FeedReader,
    export_during: ExportCheck,
    exports_after: dict[str, ExportCheck],
) -> None:
    """The feed read during the run and the exports after it, against the closing outcomes in the table."""
    closing = {
        (contact["campaignId"], contact["contactId"]): str(contact["lastCallId"])
        for contact in final.contacts.values()
        if contact.get("state") == "final"
    }
    read: Counter[tuple[str, str, str]] = Counter(
        (item["campaignId"], item["contactId"], item["vendorCallId"]) for item in feed.outcomes
    )
    once = sum(
        1 for (campaign_id, contact_id), call_id in closing.items() if read[(campaign_id, contact_id, call_id)] == 1
    )
    expected = {(campaign_id, contact_id, call_id) for (campaign_id, contact_id), call_id in closing.items()}
    report.check("outcome feed: closing outcomes read exactly once", len(closing), once)
    report.check(
        "outcome feed: outcomes read twice / not a closing outcome",
        "0 / 0",
        f"{sum(count - 1 for count in read.values() if count > 1)} / {len(set(read) - expected)}",
    )
    report.notes.append(
        f"outcome feed: {len(feed.outcomes):,} outcomes read in {feed.requests:,} requests "
        "while the run went on, then to the end once the last were old enough"
    )

    first_vendor = next(iter(campaigns))
    during_whole = (
        export_during.state == "done"
        and len(export_during.calls) == accepted[first_vendor]
        and all(len(rows) == 1 for rows in export_during.calls.values())
    )
    report.check(
        "export during the run: done, one row per contact",
        f"done {accepted[first_vendor]}",
        f"{export_during.state} {sum(len(rows) for rows in export_during.calls.values())}",
        holds=during_whole,
    )
    exact: Counter[str] = Counter(
        vendor
        for vendor, check in exports_after.items()
        for contact_id, rows in check.calls.items()
        if rows == [closing.get((campaigns[vendor], contact_id), "")]
    )
    whole_after = [
        vendor for vendor, check in exports_after.items() if exact[vendor] == len(check.calls) == accepted[vendor]
    ]
    report.check(
        "exports after the run: each contact once, with its closing outcome",
        sum(accepted.values()),
        sum(exact.values()),
        holds=len(whole_after) == len(exports_after),
    )
    report.measured |= {"exports": 1 + len(exports_after), "exports_whole": during_whole + len(whole_after)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts-per-vendor", type=int, default=ChaosPlan.contacts_per_vendor)
    parser.add_argument("--seed", type=int, default=ChaosPlan.seed)
    parser.add_argument("--quiet", action="store_true", help="print only the figure table")
    parser.add_argument(
        "--unexpected-vendors",
        action="store_true",
        help="simulators that break the adapters' assumptions (short pages, under-counts, other answer shapes)",
    )
    arguments = parser.parse_args(argv)
    plan = ChaosPlan(
        contacts_per_vendor=arguments.contacts_per_vendor,
        seed=arguments.seed,
        unexpected_vendors=arguments.unexpected_vendors,
    )
    progress = (lambda _: None) if arguments.quiet else (lambda line: print(line, file=sys.stderr, flush=True))
    report = run_chaos(plan, progress)
    print(report.table(), flush=True)
    print(recorded_figures(), flush=True)
    return 0 if report.ok else 1


REPORTS = Path(__file__).resolve().parent.parent / ".reports"


def recorded_figures(reports: Path = REPORTS) -> str:
    """The bad-input and attack figures the security tests recorded (`make test` runs them just before)."""
    files = sorted(reports.glob("*.json"))
    if not files:
        return "bad input and attack: no figures recorded (run pytest tests/security first)"
    lines = ["bad input and attack (recorded by tests/security in this run's pytest):"]
    for path in files:
        figures = json.loads(path.read_text())
        shown = ", ".join(
            f"{key} {value}"
            for key, value in figures.items()
            if isinstance(value, int | float | bool) and not isinstance(value, dict)
        )
        lines.append(f"  {path.stem}: {shown}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())

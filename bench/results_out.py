"""Figure 7: results out. A page of a campaign's contacts and a page of the outcome feed, in DynamoDB requests,
through the real API handler; and an export of a whole campaign to CSV in S3, in memory, CPU and S3 requests.

The local stack's moto (DynamoDB, SQS, and S3 over TLS with the export bucket built from template.yaml) runs in
this process, which also takes the campaign in and closes its contacts. The export runs in a fresh interpreter
of its own (`python -m bench.results_out --worker CONFIG RESULT`), delivered from the export queue to the exports
function's `lambda_handler` as Lambda would, so its peak memory and CPU time are the export's alone: with moto
in that interpreter, its copy of the table (about 5 KB per contact) would be most of the peak.

Every contact is taken in through the API, 10,000 a request. Its closing outcome is written with BatchWriteItem
as the items `DynamoStore.record_outcome` leaves (built from the store's own update requests), which takes a minute
where 100,000 transactions through moto take about ten; the first contacts are closed by `record_outcome`
itself and their items must match those built for them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import re
import sys
import time
from collections import Counter
from typing import Any

from bench.aws import api_event
from bench.report import Row, drain_in_this_process, run_worker

API_CONTACTS_PER_REQUEST = 10_000
CAMPAIGN_ID = "cmp-bench-results"
SMALL_CAMPAIGN_ID = "cmp-bench-small"
SMALL_CAMPAIGN_CONTACTS = 1_000
VIEW_REQUESTS_GOAL = 1  # one BatchGetItem: the campaign and its counters
PAGE = 100
FEED_PAGES = 10
REQUESTS_GOAL = 2  # one Query, one BatchGetItem of the page's closing outcomes
MEMORY_GOAL_MB = 256
RECORDED_FOR_REAL = 2  # contacts closed by DynamoStore.record_outcome, the check on the items built for the others
WRITE_BATCH = 25  # BatchWriteItem's limit
DISPOSITIONS = ("promise_to_pay", "refused_to_pay", "callback_requested", "already_paid", "wrong_person")


# --------------------------------------------------------------------------- the export's interpreter
def worker(config_path: str, result_path: str) -> None:
    drain_in_this_process(
        "ExportsFunction",
        config_path,
        result_path,
        lambda deps: {"s3": deps.objects.client, "dynamodb": deps.store.client, "sqs": deps.export_queue.client},
        lambda deps: {"part_bytes": deps.settings.export_part_bytes},
    )


# --------------------------------------------------------------------------- the campaign
def _call(deps: Any, event: dict[str, Any], expected: int = 200) -> Any:
    from bench.aws import lambda_context, load_function

    response = load_function("api").handle(event, lambda_context("api"), deps)
    answer = json.loads(response["body"]) if response.get("body") else None
    if response["statusCode"] != expected:
        raise RuntimeError(f"{event['routeKey']}: {response['statusCode']} {str(answer)[:500]}")
    return answer


def _take_in(deps: Any, total: int, campaign_id: str = CAMPAIGN_ID) -> None:
    from local.scenario import demo_contacts

    contacts = demo_contacts(total, prefix=campaign_id)
    for start in range(0, total, API_CONTACTS_PER_REQUEST):
        chunk = contacts[start : start + API_CONTACTS_PER_REQUEST]
        if start == 0:
            body = {
                "name": "bench results",
                "vendor": "blu",
                "vendorOptions": {"botId": 7},
                "campaignId": campaign_id,
                "contacts": chunk,
            }
            answer = _call(deps, api_event("api/create_campaign.json", body=body), 201)
        else:
            answer = _call(
                deps, api_event("api/add_contacts.json", path={"campaignId": campaign_id}, body={"contacts": chunk})
            )
        if answer["accepted"] != len(chunk):
            raise RuntimeError(f"intake accepted {answer['accepted']} of {len(chunk)}: {str(answer)[:500]}")


def _outcome(contact_id: str, index: int, now: dt.datetime) -> Any:
    """An answered call with what the bot collected: a promised date and amount, and a call-back time."""
    from dialhub.dispositions import CallStatus, Disposition
    from dialhub.models import CallOutcome

    started = now - dt.timedelta(hours=2, seconds=index % 3_600)
    return CallOutcome(
        vendor="blu",
        vendor_call_id=f"call-{contact_id}",
        campaign_id=CAMPAIGN_ID,
        contact_id=contact_id,
        status=CallStatus.ANSWERED,
        disposition=Disposition(DISPOSITIONS[index % len(DISPOSITIONS)]),
        started_at=started,
        answered_at=started + dt.timedelta(seconds=7),
        ended_at=started + dt.timedelta(seconds=7 + 30 + index % 120),
        duration_seconds=30 + index % 120,
        variables={
            "slots": {"promiseDate": "2026-12-05", "promiseAmount": 500 + index % 20_000},
            "callbackAt": "2026-12-01T10:00:00+08:00",
        },
    )


_ASSIGNMENT = re.compile(r"([#\w]+) = (?:if_not_exists\([#\w]+, (:\w+)\)|(:\w+))")


def _applied(update: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    """The item a store UpdateItem request leaves, for the forms its outcome and final-contact updates use
    (`a = :v`, `a = if_not_exists(a, :v)`, REMOVE a); anything else is refused, never guessed."""
    names, values = update.get("ExpressionAttributeNames", {}), update["ExpressionAttributeValues"]
    sets, _, removes = update["UpdateExpression"].removeprefix("SET ").partition(" REMOVE ")
    assignments = _ASSIGNMENT.findall(sets)
    if len(assignments) != sets.count(" = ") or "ADD " in sets or "DELETE " in sets:
        raise RuntimeError(f"the store writes an update this bench cannot apply: {update['UpdateExpression']}")
    result = {**item, **update["Key"]}
    for target, default, value in assignments:
        name = names.get(target, target)
        if default:
            result.setdefault(name, values[default])
        else:
            result[name] = values[value]
    for target in filter(None, removes.split(", ")):
        result.pop(names.get(target, target), None)
    return result


def _close_every_contact(store: Any, client: Any) -> int:
    """Close each contact of the campaign with its outcome, as DynamoStore.record_outcome stores a closing outcome
    without a redial: the outcome (in the feed, stamped by the store's clock) and the contact made final."""
    now = dt.datetime.now(dt.UTC)
    pending: list[dict[str, Any]] = []
    checked: list[tuple[dict[str, Any], dict[str, Any]]] = []  # (built, stored) for the contacts really recorded
    closed = 0
    query = {
        "TableName": store.table_name,
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :contact)",
        "ExpressionAttributeValues": {":pk": {"S": f"CAMPAIGN#{CAMPAIGN_ID}"}, ":contact": {"S": "CONTACT#"}},
    }
    for page in client.get_paginator("query").paginate(**query):
        for contact in page["Items"]:
            outcome = _outcome(contact["contactId"]["S"], closed, now)
            built_contact = _applied(store._contact_final_update(outcome, now), contact)
            built_outcome = _applied(store._outcome_update(outcome, now, closing=True), {})
            if closed < RECORDED_FOR_REAL:
                store.record_outcome(outcome, now)
                for built in (built_contact, built_outcome):
                    key = {name: built[name] for name in ("pk", "sk")}
                    stored = client.get_item(TableName=store.table_name, Key=key, ConsistentRead=True)["Item"]
                    checked.append((built, stored))
            else:
                pending += [{"PutRequest": {"Item": built_contact}}, {"PutRequest": {"Item": built_outcome}}]
            closed += 1
            while len(pending) >= WRITE_BATCH:
                _write(client, store.table_name, pending[:WRITE_BATCH])
                del pending[:WRITE_BATCH]
    if pending:
        _write(client, store.table_name, pending)
    for built, stored in checked:
        # The feed's stamp is the store's clock at the moment of writing: the one attribute that differs.
        if {**built, "gsi3sk": None} != {**stored, "gsi3sk": None} or ("gsi3sk" in built) != ("gsi3sk" in stored):
            raise RuntimeError(f"items built here differ from DynamoStore.record_outcome's:\n{built}\n{stored}")
    return closed


def _write(client: Any, table: str, requests: list[dict[str, Any]]) -> None:
    pending = {table: requests}
    while pending:
        pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}


# --------------------------------------------------------------------------- pages
def _contact_pages(deps: Any, counter: Any, pages: int) -> list[tuple[dict[str, int], int, int]]:
    """DynamoDB requests by operation for consecutive pages of 100 contacts, each with its items and outcomes."""
    measured, cursor = [], None
    for _ in range(pages):
        counter.reset()
        answer = _call(
            deps,
            api_event(
                "api/list_contacts.json",
                path={"campaignId": CAMPAIGN_ID},
                query={"limit": PAGE, **({"cursor": cursor} if cursor else {})},
            ),
        )
        items = answer["items"]
        measured.append((dict(counter.by_operation), len(items), sum(item["outcome"] is not None for item in items)))
        cursor = answer["nextCursor"]
    return measured


def _campaign_views(deps: Any, counter: Any, campaign_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Per campaign: what its recount read (the full count every view used to make), and what a view reads now
    (from the counters the recount left), in DynamoDB requests and read units."""
    from bench.instrument import ReadUnits

    units = ReadUnits()
    units.attach(deps.store.client)
    measured = {}
    for campaign_id in campaign_ids:
        counter.reset()
        units.units = 0.0
        recount = _call(deps, api_event("api/recount_campaign.json", path={"campaignId": campaign_id}))
        recounted = (dict(counter.by_operation), units.units)
        counter.reset()
        units.units = 0.0
        view = _call(deps, api_event("api/get_campaign.json", path={"campaignId": campaign_id}))
        measured[campaign_id] = {
            "contacts": view["totalContacts"],
            "recounted": recount["recounted"]["totalContacts"],
            "recount": recounted,
            "view": (dict(counter.by_operation), units.units),
            "from_counters": view["countedAt"] is not None,
        }
    return measured


def _feed_pages(deps: Any, counter: Any, pages: int) -> list[tuple[dict[str, int], int]]:
    measured, after = [], None
    for _ in range(pages):
        counter.reset()
        answer = _call(
            deps, api_event("api/outcome_feed.json", query={"limit": PAGE, **({"after": after} if after else {})})
        )
        measured.append((dict(counter.by_operation), len(answer["items"])))
        after = answer["nextCursor"]
    return measured


def _read_back(s3: Any, bucket: str, key: str) -> dict[str, Any]:
    """The export file as a person downloads it: data rows, distinct contacts, rows with an outcome."""
    data = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    bom = data.startswith(b"\xef\xbb\xbf")
    reader = csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline=""))
    rows = list(reader)
    return {
        "bytes": len(data),
        "bom": bom,
        "lines": data.count(b"\r\n"),
        "rows": len(rows),
        "contacts": len({row["contactId"] for row in rows}),
        "closed": sum(bool(row["disposition"]) and bool(row["collected.slots.promiseAmount"]) for row in rows),
        "columns": len(reader.fieldnames or []),
    }


# --------------------------------------------------------------------------- the orchestration
def _run(total: int) -> dict[str, Any]:
    import boto3

    from bench.instrument import AwsRequestCounter, powertools_output_discarded
    from dialhub.store import DynamoStore
    from dialhub.wiring import Dependencies, default_dependencies
    from local.stack import STAGE, LocalStack

    # Nobody is dialled: the contacts are closed here, and the simulator would dial a day later.
    with (
        LocalStack(vendors=("blu",), dial_delay=(86_400.0, 86_400.0), drop_rate=0.0, log_level="ERROR") as stack,
        powertools_output_discarded(),
    ):
        deps = default_dependencies()
        started = time.perf_counter()
        _take_in(deps, total)
        intake = time.perf_counter() - started
        closed = _close_every_contact(deps.store, boto3.client("dynamodb"))
        population = time.perf_counter() - started
        if closed != total:
            raise RuntimeError(f"closed {closed} contacts of {total}")
        _take_in(deps, SMALL_CAMPAIGN_CONTACTS, SMALL_CAMPAIGN_ID)

        # Read as from the feed's delay later, when every outcome recorded here is old enough to be served.
        delay = dt.timedelta(seconds=deps.settings.outcome_feed_delay_seconds + 1)
        reader = DynamoStore(deps.store.table_name, clock=lambda: dt.datetime.now(dt.UTC) + delay)
        reading = Dependencies(
            settings=deps.settings,
            store=reader,
            queue=deps.queue,
            adapters=deps.adapters,
            export_queue=deps.export_queue,
            objects=deps.objects,
        )
        counter = AwsRequestCounter()
        counter.attach(reader.client)
        contact_pages = _contact_pages(reading, counter, 2)
        feed_pages = _feed_pages(reading, counter, min(FEED_PAGES, total // PAGE))
        views = _campaign_views(reading, counter, [SMALL_CAMPAIGN_ID, CAMPAIGN_ID])

        export = _call(
            deps, api_event("api/start_export.json", path={"campaignId": CAMPAIGN_ID}, body={"format": "csv"}), 202
        )
        queue_url = stack.queue_urls[stack.template.sqs_source("ExportsFunction").queue_id]
        run = run_worker("bench.results_out", {"stage": STAGE, "queue_url": queue_url})
        job = _call(deps, api_event("api/get_export.json", path={"exportId": export["exportId"]}))
        file = _read_back(
            stack.s3, stack.bucket_names["ExportBucket"], f"exports/{CAMPAIGN_ID}/{export['exportId']}.csv"
        )
    return {
        "intake": intake,
        "population": population,
        "contact_pages": contact_pages,
        "feed_pages": feed_pages,
        "views": views,
        "export": run,
        "job": job,
        "file": file,
    }


def _operations(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} {count}" for name, count in sorted(counts.items())) or "none"


def measure(contacts: int) -> list[Row]:
    day = _run(contacts)
    rows: list[Row] = []

    (first, listed, with_outcome), *others = day["contact_pages"]
    requests = sum(first.values())
    rows.append(
        Row(
            "7",
            "DynamoDB requests for a page of 100 contacts, all closed",
            str(requests),
            f"<= {REQUESTS_GOAL}",
            requests <= REQUESTS_GOAL and listed == with_outcome == PAGE,
            f"GET /campaigns/{{id}}/contacts?limit=100 through the API handler, first page of {contacts:,} "
            f"contacts: {_operations(first)}; {listed} items, {with_outcome} with their outcome inline; the "
            f"next page from its cursor: " + "; ".join(_operations(page) for page, _, _ in others),
        )
    )

    feed = day["feed_pages"]
    per_page = [sum(page.values()) for page, _ in feed]
    served = sum(items for _, items in feed)
    totals: Counter[str] = Counter()
    for page, _ in feed:
        totals.update(page)
    per_100 = sum(per_page) / served * PAGE if served else math.inf
    sizes = sorted({items for _, items in feed})
    rows.append(
        Row(
            "7",
            "DynamoDB requests per 100 outcomes of the feed",
            f"{per_100:.2f} avg, {max(per_page, default=0)} max per page",
            f"<= {REQUESTS_GOAL}",
            bool(served) and max(per_page) <= REQUESTS_GOAL and per_100 <= REQUESTS_GOAL,
            f"GET /outcomes?limit=100 through the API handler, {len(feed)} consecutive pages following "
            f"nextCursor: {served:,} outcomes ({sizes[0] if len(sizes) == 1 else f'{sizes[0]} to {sizes[-1]}'} "
            f"a page), {_operations(dict(totals))}",
        )
    )

    small, large = (day["views"][campaign_id] for campaign_id in (SMALL_CAMPAIGN_ID, CAMPAIGN_ID))
    view_requests = [sum(figures["view"][0].values()) for figures in (small, large)]
    rows.append(
        Row(
            "7",
            f"DynamoDB requests of GET /campaigns/{{id}} at {small['contacts']:,} and {large['contacts']:,} contacts",
            " and ".join(str(requests) for requests in view_requests)
            + f" ({small['view'][1]:g} and {large['view'][1]:g} read units)",
            f"{VIEW_REQUESTS_GOAL} at both",
            view_requests == [VIEW_REQUESTS_GOAL] * 2
            and small["from_counters"]
            and large["from_counters"]
            and small["view"][1] == large["view"][1],
            f"through the API handler, answered from the live counters: {_operations(small['view'][0])} and "
            f"{_operations(large['view'][0])}. The full count it replaced (POST /campaigns/{{id}}/recount, the "
            f"repair path, which set the counters here): {_operations(small['recount'][0])}, "
            f"{small['recount'][1]:g} read units, and {_operations(large['recount'][0])}, "
            f"{large['recount'][1]:g} read units (sized from the projected items returned: a lower bound). Read "
            "units as DynamoDB rounds them: 4 KB blocks, strongly consistent reads a unit each",
        )
    )

    run, job, file = day["export"], day["job"], day["file"]
    part_mib = run["part_bytes"] / 2**20
    whole = (
        file["rows"] == file["contacts"] == file["closed"] == job["rows"] == contacts
        and file["bytes"] == job["bytes"]
        and job["state"] == "done"
    )
    peak, before = run["peak_kb"] / 1024, run["rss_before_kb"] / 1024
    rows.append(
        Row(
            "7",
            f"export of {contacts:,} contacts to CSV: peak memory of the exporting process",
            f"{peak:.0f} MB",
            f"<= {MEMORY_GOAL_MB} MB",
            peak <= MEMORY_GOAL_MB,
            f"VmHWM of a fresh interpreter running the exports function's lambda_handler from the export "
            f"queue, reset after its imports ({before:.0f} MB then); {part_mib:g} MiB parts; "
            f"{len(run['invocations'])} invocation(s). Moto and the population ran in another process: "
            f"{contacts:,} contacts taken in through the API in {day['intake']:.0f} s, closed with an "
            f"outcome of 3 collected variables, {day['population']:.0f} s in all",
        )
    )
    rows.append(
        Row(
            "7",
            "export CSV rows per CPU-second of the exporting process",
            f"{contacts / run['cpu']:,.0f} rows/s",
            "as measured",
            None,
            f"{run['cpu']:.1f} CPU-s (all threads of the process, moto not among them) for {contacts:,} rows "
            f"read twice (variable names, then rows); wall {run['wall']:.0f} s, the rest waiting on moto's "
            f"server; DynamoDB {_operations(run['dynamodb'])}; SQS {_operations(run['sqs'])}",
        )
    )
    s3 = run["s3"]
    writes = s3.get("UploadPart", 0) + s3.get("PutObject", 0)
    limit = math.ceil(file["bytes"] / run["part_bytes"]) + 1
    multipart_once = s3.get("CreateMultipartUpload", 0) == s3.get("CompleteMultipartUpload", 0) <= 1
    rows.append(
        Row(
            "7",
            f"export S3 requests, {file['bytes'] / 2**20:.1f} MiB file",
            _operations(s3),
            f"parts, not rows: writes <= ceil(bytes / {part_mib:g} MiB) + 1 = {limit}",
            writes <= limit and multipart_once and whole,
            f"UploadPart and PutObject counted on the function's S3 client; the file read back from S3: "
            f"{file['rows']:,} data rows ({file['lines']:,} CRLF lines with the header) of {contacts:,} "
            f"contacts, {file['contacts']:,} distinct, {file['closed']:,} with their outcome and collected "
            f"variables, {file['columns']} columns, Excel BOM {'present' if file['bom'] else 'MISSING'}; "
            f"the job says {job['state']}, {job['rows']:,} rows, {job['bytes']:,} bytes",
        )
    )
    return rows


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        worker(sys.argv[2], sys.argv[3])
    else:
        from bench.report import terminal_table

        print(terminal_table(measure(int(sys.argv[1]) if len(sys.argv) > 1 else 3_000)))

"""Figures 2 and 3: what one stored callback costs the webhooks function, warm, and how many DynamoDB
requests a callback and a polled page take.

Callbacks go through the real `lambda_handler` (Powertools decorators, default dependencies, the account
read from Secrets Manager) with moto in-process. CPU time spent inside moto is measured apart and left
out of the handler's overhead: emulating DynamoDB is not a cost the function pays in AWS.
"""

from __future__ import annotations

import copy
import datetime as dt
import gc
import json
import math
import statistics
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from bench.aws import InProcessAws, api_event, in_process_aws, lambda_context, load_event, load_function
from bench.instrument import AwsRequestCounter, aws_sdk_timer, moto_timer, powertools_output_discarded
from bench.report import Row

WARM_UP_CALLBACKS = 20
POLL_PAGE_SIZE = 100  # Blu's queryCallResult page, the largest a poller page gets


@dataclass
class CpuRun:
    """CPU seconds per call, the part of it spent inside moto, and inside botocore (moto included)."""

    calls: int
    cpu: float
    moto: float
    sdk: float

    @property
    def sdk_own_per_call(self) -> float:
        return (self.sdk - self.moto) / self.calls

    @property
    def per_call(self) -> float:
        return self.cpu / self.calls

    @property
    def own_per_call(self) -> float:
        return (self.cpu - self.moto) / self.calls


def _create_campaign(contacts: int, prefix: str) -> tuple[str, list[str]]:
    from local.scenario import demo_contacts

    api = load_function("api")
    people = demo_contacts(contacts, prefix=prefix)
    body = {"name": f"bench {prefix}", "vendor": "blu", "vendorOptions": {"botId": 7}, "contacts": people}
    response = api.lambda_handler(api_event("api/create_campaign.json", body=body), lambda_context("api"))
    created = json.loads(response["body"])
    if response["statusCode"] != 201 or created["accepted"] != contacts:
        raise RuntimeError(f"could not create the benchmark campaign: {response['statusCode']} {created}")
    return created["campaignId"], [person["contactId"] for person in people]


def _blu_result(campaign_id: str, contact_id: str, call_id: int) -> dict[str, Any]:
    result = json.loads(load_event("webhooks/blu_result.json")["body"])
    result["callId"] = call_id
    result["extVars"] = json.dumps(
        {"campaignId": campaign_id, "contactId": contact_id, "attempt": 1, "orderId": call_id}
    )
    return result


def _callback_event(template: dict[str, Any], token: str, result: dict[str, Any]) -> dict[str, Any]:
    event = copy.deepcopy(template)
    event["body"] = json.dumps(result)
    event["queryStringParameters"] = {"token": token}
    event["rawQueryString"] = f"token={token}"
    return event


def _timed(
    calls: list[Any], counter: AwsRequestCounter, floor_calls: list[Any] | None = None
) -> tuple[CpuRun, list[int], CpuRun | None]:
    """Run each call, returning its CPU run and the DynamoDB requests each call made. With `floor_calls`, one
    of them runs after each call and is timed apart: the two runs then share whatever the machine was doing
    (its speed drifts by half over minutes here), and their difference survives it."""
    requests: list[int] = []
    totals = {"call": [0.0, 0.0, 0.0], "floor": [0.0, 0.0, 0.0]}  # cpu, moto, sdk
    # What exists before the run is frozen, as a warm container's imports are (each handler freezes them):
    # otherwise every full collection walks moto's whole table, a pause the function never has in Lambda.
    gc.collect()
    gc.freeze()
    try:
        with moto_timer() as moto, aws_sdk_timer() as sdk:

            def run(kind: str, call: Any) -> None:
                cpu, in_moto, in_sdk = time.process_time(), moto.seconds, sdk.seconds
                call()
                spent = totals[kind]
                spent[0] += time.process_time() - cpu
                spent[1] += moto.seconds - in_moto
                spent[2] += sdk.seconds - in_sdk

            for index, call in enumerate(calls):
                before = counter.total
                run("call", call)
                requests.append(counter.total - before)
                if floor_calls is not None:
                    run("floor", floor_calls[index])
    finally:
        gc.unfreeze()
    floor = CpuRun(len(calls), *totals["floor"]) if floor_calls is not None else None
    return CpuRun(len(calls), *totals["call"]), requests, floor


def _polled_page_requests(aws: InProcessAws, store: Any, counter: AwsRequestCounter) -> tuple[int, int]:
    """DynamoDB requests to record one poller page of new results, then the same page once stored."""
    from dialhub.models import OutcomeSource
    from dialhub.outcomes import record_polled
    from dialhub.vendors.base import InboundCallback
    from dialhub.wiring import default_dependencies

    campaign_id, contact_ids = _create_campaign(POLL_PAGE_SIZE, "bench-poll")
    adapter = default_dependencies().adapters.get("blu")
    page = []
    for index, contact_id in enumerate(contact_ids):
        body = json.dumps(_blu_result(campaign_id, contact_id, 9_000_000 + index)).encode()
        callback = InboundCallback(
            kind="", body=body, headers={}, query={"token": aws.blu_webhook_token}, source_ip="127.0.0.1"
        )
        page.extend(
            outcome.model_copy(update={"source": OutcomeSource.POLL})
            for outcome in adapter.parse_callback(callback).outcomes
        )
    now = dt.datetime.now(dt.UTC)
    counter.reset()
    record_polled("blu", page, store, now)
    new_page = counter.total
    counter.reset()
    record_polled("blu", page, store, now)
    return new_page, counter.total


def measure(callbacks: int) -> list[Row]:
    with in_process_aws() as aws, powertools_output_discarded():
        from dialhub.wiring import default_dependencies

        webhooks = load_function("webhooks")
        campaign_id, contact_ids = _create_campaign(callbacks + WARM_UP_CALLBACKS, "bench")
        template = load_event("webhooks/blu_result.json")
        events = [
            _callback_event(template, aws.blu_webhook_token, _blu_result(campaign_id, contact_id, 10_000 + n))
            for n, contact_id in enumerate(contact_ids)
        ]
        store = default_dependencies().store
        counter = AwsRequestCounter()
        counter.attach(store.client)
        context = lambda_context("webhooks")
        statuses: Counter[int] = Counter()

        def deliver(event: dict[str, Any]) -> Any:
            return lambda: statuses.update([webhooks.lambda_handler(event, context)["statusCode"]])

        for event in events[:WARM_UP_CALLBACKS]:  # adapter built, secret read, vendor module imported
            deliver(event)()
        # The floor: the one write alone, through the store's own client (same configuration), same moto, an
        # item of the stored outcome's size, made after each callback.
        stored_key = {"pk": {"S": f"CALL#blu#{10_000}"}, "sk": {"S": "CALL"}}
        item = store.client.get_item(TableName=aws.table_name, Key=stored_key)["Item"]

        def put(index: int) -> Any:
            return lambda: store.client.put_item(TableName=aws.table_name, Item={**item, "pk": {"S": f"BENCH#{index}"}})

        for index in range(WARM_UP_CALLBACKS):
            put(-index - 1)()
        measured = events[WARM_UP_CALLBACKS:]
        puts = [put(index) for index in range(len(measured))]
        stored, stored_requests, floor = _timed([deliver(event) for event in measured], counter, puts)
        duplicate, duplicate_requests, _ = _timed([deliver(event) for event in measured], counter)
        if set(statuses) != {200}:
            raise RuntimeError(f"callbacks were not all accepted: {dict(statuses)}")
        assert floor is not None
        new_page, stored_page = _polled_page_requests(aws, store, counter)

    overhead = stored.own_per_call - floor.own_per_call
    raw_overhead = stored.per_call - floor.per_call
    rows = [
        Row(
            "2",
            "warm callback overhead (handler CPU - bare put_item CPU, moto excluded)",
            f"{overhead * 1000:.2f} ms",
            "<= 1 ms",
            overhead <= 0.001,
            f"{callbacks} stored callbacks through lambda_handler: {stored.per_call * 1000:.2f} ms CPU each, of which "
            f"moto {stored.moto / stored.calls * 1000:.2f} ms; bare put_item {floor.per_call * 1000:.2f} ms, of which "
            f"moto {floor.moto / floor.calls * 1000:.2f} ms; with moto left in: {raw_overhead * 1000:.2f} ms. "
            f"Outside moto, botocore takes {stored.sdk_own_per_call * 1000:.2f} ms per callback (a three-item "
            f"transaction) against {floor.sdk_own_per_call * 1000:.2f} ms per put_item, so dialhub and Powertools "
            f"take {(stored.own_per_call - stored.sdk_own_per_call) * 1000:.2f} ms",
        ),
        Row(
            "2",
            "warm duplicate callback CPU (moto excluded)",
            f"{duplicate.own_per_call * 1000:.2f} ms",
            note=f"with moto: {duplicate.per_call * 1000:.2f} ms",
        ),
        Row(
            "3",
            "DynamoDB requests per new callback",
            _spread(stored_requests),
            "exactly 1",
            set(stored_requests) == {1},
            "counted with a botocore request-created hook on the store's client; "
            "once a minute per container and campaign a callback also reads the campaign (policy cache)",
        ),
        Row(
            "3",
            "DynamoDB requests per duplicate callback",
            _spread(duplicate_requests),
            "<= 1",
            max(duplicate_requests) <= 1,
        ),
        Row(
            "3",
            f"DynamoDB requests per polled page ({POLL_PAGE_SIZE} results, all new)",
            str(new_page),
            f"<= {math.ceil(POLL_PAGE_SIZE / 100) + POLL_PAGE_SIZE + 1}",
            new_page <= math.ceil(POLL_PAGE_SIZE / 100) + POLL_PAGE_SIZE + 1,
            "one batch read of the page, one write per new result, and one read of the campaign (its policy "
            "decides redials; cached a minute per container, so warm callbacks above do not pay it)",
        ),
        Row(
            "3",
            f"DynamoDB requests per polled page ({POLL_PAGE_SIZE} results, all stored)",
            str(stored_page),
            f"<= {math.ceil(POLL_PAGE_SIZE / 100)}",
            stored_page <= math.ceil(POLL_PAGE_SIZE / 100),
        ),
    ]
    return rows


def _spread(values: list[int]) -> str:
    low, high = min(values), max(values)
    mean = statistics.fmean(values)
    return f"{mean:.2f} (min {low}, max {high})" if low != high else f"{mean:.0f} (every call)"


if __name__ == "__main__":
    import sys

    from bench.report import terminal_table

    print(terminal_table(measure(int(sys.argv[1]) if len(sys.argv) > 1 else 200)))

"""Shared fixtures: AWS through moto (resources built from template.yaml) and the Blu simulator."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
import stamina
from botocore.config import Config
from botocore.exceptions import ClientError
from hypothesis import settings as hypothesis_settings
from moto import mock_aws

from bench.aws import api_event, load_event  # noqa: F401 - the tests' own, shared with the bench
from dialhub.models import DialState
from dialhub.queue import DispatchQueue
from dialhub.settings import Settings
from dialhub.store import DynamoStore
from dialhub.vendors import StaticAdapters
from dialhub.vendors.blu.adapter import BluAdapter
from dialhub.vendors.blu.wire import BluAccount
from dialhub.wiring import Dependencies
from local import moto_patches
from local.drivers import SqsDriver
from local.handlers import function_module
from local.resources import create_table_kwargs, queue_attributes, queue_creation_order, queue_name
from local.simulators.blu import BluSimulator
from local.simulators.nxtele import SAMPLE_SECRET_KEY, SAMPLE_UUID, NxteleSimulator
from local.stack import create_buckets
from local.template import SamTemplate

# Property tests run the same examples on every machine, so CI cannot pass or fail by luck; set
# HYPOTHESIS_PROFILE=explore to search new examples locally (a failure found there becomes a fixed test).
hypothesis_settings.register_profile("repeatable", derandomize=True, database=None)
hypothesis_settings.register_profile("explore", max_examples=2_000)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"
WEBHOOK_TOKEN = "local-webhook-token-not-a-secret"
BLU_APP_ID = "10001"
BLU_APP_KEY = "test-app-key-0123456789"


@pytest.fixture(autouse=True)
def _offline_aws(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if request.node.get_closest_marker("e2e"):
        return  # the running LocalStack owns the environment (endpoint, credentials) of its tests
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_METRICS_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_ENDPOINT_URL_DYNAMODB"):
        monkeypatch.delenv(name, raising=False)
    stamina.set_testing(True, attempts=3)


@pytest.fixture(scope="session")
def template() -> SamTemplate:
    return SamTemplate(ROOT / "template.yaml", parameters={"Stage": "test"})


@pytest.fixture
def aws() -> Any:
    """moto as the local stack runs it: conditional writes atomic, as DynamoDB's are (see local.moto_patches)."""
    with mock_aws():
        moto_patches.apply()
        try:
            yield
        finally:
            moto_patches.restore()


@pytest.fixture
def table_name(aws: Any, template: SamTemplate) -> str:
    kwargs = create_table_kwargs(template, "DialhubTable", template.resolver())
    boto3.client("dynamodb").create_table(**kwargs)
    return kwargs["TableName"]


def create_template_queues(template: SamTemplate, sqs: Any) -> tuple[dict[str, str], dict[str, str]]:
    """Every queue of the template, dead-letter redrive included, as the local stack makes them: (urls, ARNs)."""
    resolver = template.resolver()
    urls: dict[str, str] = {}
    arns: dict[str, str] = {}
    for queue_id in queue_creation_order(template):
        urls[queue_id] = sqs.create_queue(
            QueueName=queue_name(template, queue_id, resolver),
            Attributes=queue_attributes(template, queue_id, resolver, arn_of=arns.__getitem__),
        )["QueueUrl"]
        attributes = sqs.get_queue_attributes(QueueUrl=urls[queue_id], AttributeNames=["QueueArn"])["Attributes"]
        arns[queue_id] = attributes["QueueArn"]
    return urls, arns


@pytest.fixture
def queue_url(aws: Any) -> str:
    return boto3.client("sqs").create_queue(QueueName="dialhub-test-dispatch")["QueueUrl"]


@pytest.fixture
def store(table_name: str) -> DynamoStore:
    return DynamoStore(table_name)


@pytest.fixture
def blu_sim() -> Any:
    simulator = BluSimulator(
        BLU_APP_ID, BLU_APP_KEY, timezone="Asia/Manila", dial_delay=(0.01, 0.05), retry_interval=0.05
    ).start()
    yield simulator
    simulator.stop()


@pytest.fixture
def nx_sim() -> Any:
    simulator = NxteleSimulator(
        SAMPLE_UUID, SAMPLE_SECRET_KEY, dial_delay=(0.01, 0.04), max_retries=0, retry_interval=0.01
    ).start()
    yield simulator
    simulator.stop()


def blu_account(base_url: str, **overrides: Any) -> BluAccount:
    return BluAccount.model_validate(
        {
            "appId": BLU_APP_ID,
            "appKey": BLU_APP_KEY,
            "baseUrl": base_url,
            "webhookToken": WEBHOOK_TOKEN,
            "timezone": "Asia/Manila",
            **overrides,
        }
    )


@pytest.fixture
def blu(blu_sim: BluSimulator) -> BluAdapter:
    return BluAdapter(blu_account(blu_sim.base_url))


@pytest.fixture
def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@pytest.fixture
def deps(table_name: str, queue_url: str, blu: BluAdapter) -> Dependencies:
    settings = Settings(table_name=table_name, dispatch_queue_url=queue_url, default_phone_region="PH")
    return Dependencies(
        settings=settings,
        store=DynamoStore(table_name),
        queue=DispatchQueue(queue_url),
        adapters=StaticAdapters({"blu": blu}),
    )


@pytest.fixture
def export_deps(deps: Dependencies, template: SamTemplate, monkeypatch: pytest.MonkeyPatch) -> Dependencies:
    """`deps` with the export bucket (built from template.yaml, policy included) and an export queue. Parts are
    kilobytes instead of megabytes, S3's smallest part lowered to match, so a test file has several parts."""
    resolver = create_buckets(template, template.resolver(), boto3.client("s3"))
    queue_url = boto3.client("sqs").create_queue(QueueName="dialhub-test-exports")["QueueUrl"]
    monkeypatch.setattr("moto.s3.models.S3_UPLOAD_PART_MIN_SIZE", 4 * 1024)
    settings = deps.settings.model_copy(
        update={
            "export_bucket": resolver.refs["ExportBucket"],
            "export_queue_url": queue_url,
            "export_part_bytes": 16 * 1024,
        }
    )
    return Dependencies(settings=settings, store=deps.store, queue=deps.queue, adapters=deps.adapters, clock=deps.clock)


def drain_queue(
    deps: Dependencies, template: SamTemplate, function_id: str = "DispatcherFunction"
) -> list[dict[str, Any]]:
    """Take every message off a function's queue (the dispatch queue, or with "ExportsFunction" the export queue)
    as the SQS event source would hand it over; the test decides whether to deliver the records again."""
    queue = deps.export_queue if function_id == "ExportsFunction" else deps.queue
    driver = SqsDriver(queue.client, template.sqs_source(function_id), queue.queue_url, invoke=lambda *_: None)
    records: list[dict[str, Any]] = []
    while messages := queue.client.receive_message(
        QueueUrl=queue.queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]
    ).get("Messages", []):
        records.extend(driver.build_event(messages)["Records"])
        for message in messages:
            queue.client.delete_message(QueueUrl=queue.queue_url, ReceiptHandle=message["ReceiptHandle"])
    return records


class FakeContext:
    function_name = "test"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:test"
    aws_request_id = "test-request"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 30_000


def call_api(deps: Dependencies, event: dict[str, Any]) -> tuple[int, Any]:
    response = function_module("api").handle(event, FakeContext(), deps)
    body = response.get("body")
    return response["statusCode"], json.loads(body) if body else None


def call_webhook(deps: Dependencies, event: dict[str, Any]) -> tuple[int, Any]:
    response = function_module("webhooks").handle(event, deps)
    return response["statusCode"], json.loads(response["body"])


def plan_now(deps: Dependencies) -> dict[str, Any]:
    """The daily schedule's run, through the scheduler handler."""
    return function_module("scheduler").handle(load_event("schedules/daily_plan.json"), deps)


def dispatch_records(deps: Dependencies, records: list[dict[str, Any]]) -> dict[str, Any]:
    """SQS records handed to the dispatcher handler, as the event source would."""
    return function_module("dispatcher").handle({"Records": records}, FakeContext(), deps)


def poll_now(deps: Dependencies) -> dict[str, Any]:
    """The polling schedule's run, through the poller handler."""
    return function_module("poller").handle(load_event("schedules/poll_results.json"), deps)


WRITE_OPERATIONS = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}


def table_items(store: DynamoStore) -> dict[tuple[str, str], dict[str, Any]]:
    """Every item of the table by key, as stored (consistent reads)."""
    items: dict[tuple[str, str], dict[str, Any]] = {}
    for page in store.client.get_paginator("scan").paginate(TableName=store.table_name, ConsistentRead=True):
        items.update({(item["pk"]["S"], item["sk"]["S"]): item for item in page["Items"]})
    return items


def first_batch_write_left_partly_unprocessed(store: DynamoStore, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """DynamoDB takes five items of the store's first batch write and hands the rest back as unprocessed; the
    list answered fills with each batch write's item count."""
    write, requests = store.client.batch_write_item, []

    def partly_unprocessed(RequestItems: dict[str, list[Any]]) -> dict[str, Any]:
        requests.append(len(RequestItems[store.table_name]))
        if len(requests) == 1:
            taken, left = RequestItems[store.table_name][:5], RequestItems[store.table_name][5:]
            write(RequestItems={store.table_name: taken})
            return {"UnprocessedItems": {store.table_name: left}}
        return write(RequestItems=RequestItems)

    monkeypatch.setattr(store.client, "batch_write_item", partly_unprocessed)
    return requests


def what_it_wrote(store: DynamoStore, deliver: Callable[[], Any]) -> tuple[dict[str, int], int]:
    """What one delivery cost the table: its DynamoDB write requests by operation, and how many items it added,
    changed or removed (the whole table before and after; the clock moves, so even a same-content rewrite
    changes an item's lastUpdatedAt)."""
    from bench.instrument import AwsRequestCounter

    before = table_items(store)
    counter = AwsRequestCounter()
    counter.attach(store.client)
    deliver()
    after = table_items(store)
    changed = sum(1 for key in before.keys() | after.keys() if before.get(key) != after.get(key))
    return {op: count for op, count in counter.by_operation.items() if op in WRITE_OPERATIONS}, changed


def states(store: DynamoStore, campaign_id: str) -> dict[str, int]:
    """A campaign's contacts counted by dial state."""
    return store.campaign_counts(campaign_id).by_state


def crash_before_settling(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Make the dispatcher crash after the vendor accepted a batch but before it records that (the
    SUBMITTING -> SUBMITTED move); returns the function that ends the crashing."""
    real_move = DynamoStore.move_contact

    def crash_on_submitted(self: DynamoStore, *args: Any, **kwargs: Any) -> bool:
        if args[2] == DialState.SUBMITTED:
            raise ClientError({"Error": {"Code": "InternalServerError", "Message": "boom"}}, "UpdateItem")
        return real_move(self, *args, **kwargs)

    monkeypatch.setattr(DynamoStore, "move_contact", crash_on_submitted)
    return lambda: monkeypatch.setattr(DynamoStore, "move_contact", real_move)


def stream_records(table_name: str) -> list[dict[str, Any]]:
    """Every record of the table's stream so far (moto keeps one shard), as the streams API gives them."""
    # botocore sends a stream call to an endpoint named by the stream's account, which moto does not serve.
    streams = boto3.client("dynamodbstreams", config=Config(account_id_endpoint_mode="disabled"))
    arn = boto3.client("dynamodb").describe_table(TableName=table_name)["Table"]["LatestStreamArn"]
    records: list[dict[str, Any]] = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            page = streams.get_records(ShardIterator=iterator, Limit=1000)
            records.extend(page["Records"])
            iterator = page.get("NextShardIterator") if page["Records"] else None
    return records


class RecordingEvents:
    """A stand-in for EventBridge's client: takes every entry but those `refuse` names (entry -> error code, or
    None to take it), and keeps what it took and how many requests it had."""

    def __init__(self, refuse: Callable[[dict[str, Any]], str | None] | None = None) -> None:
        self.refuse = refuse or (lambda entry: None)
        self.taken: list[dict[str, Any]] = []
        self.requests: list[int] = []  # entries per request

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.requests.append(len(Entries))
        answers = []
        for entry in Entries:
            if error := self.refuse(entry):
                answers.append({"ErrorCode": error, "ErrorMessage": "refused by the test"})
            else:
                self.taken.append(entry)
                answers.append({"EventId": f"e{len(self.taken)}"})
        return {"FailedEntryCount": sum("ErrorCode" in answer for answer in answers), "Entries": answers}

    def details(self, detail_type: str) -> list[dict[str, Any]]:
        return [json.loads(entry["Detail"]) for entry in self.taken if entry["DetailType"] == detail_type]


def replay_stream(store: DynamoStore, records: list[dict[str, Any]], events: RecordingEvents, size: int = 100) -> Any:
    """The events function's work over these records, in batches of `size`, as the event source would hand
    them over when nothing fails; returns the batch results."""
    from dialhub.bus import EventBus
    from dialhub.changes import handle_changes

    bus = EventBus("dialhub-test", client=events, sleep=lambda _: None)
    now = dt.datetime.now(dt.UTC)
    return [handle_changes(records[start : start + size], store, bus, now) for start in range(0, len(records), size)]


def counted_campaigns(store: DynamoStore) -> set[str]:
    """Every campaign with contacts or counters in the table."""
    return {
        pk.removeprefix("CAMPAIGN#")
        for pk, sk in table_items(store)
        if pk.startswith("CAMPAIGN#") and (sk.startswith("CONTACT#") or sk == "COUNTERS")
    }


@pytest.fixture
def metrics(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Any:
    """Metrics on, as deployed; a function that reads back every metric printed since the last call, as
    Counter[(name, dimensions)] of values."""
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "dialhub")

    def printed() -> Counter[tuple[str, tuple[tuple[str, str], ...]]]:
        counted: Counter[tuple[str, tuple[tuple[str, str], ...]]] = Counter()
        for line in capsys.readouterr().out.splitlines():
            if '"CloudWatchMetrics"' not in line:
                continue
            record = json.loads(line)
            [declared] = record["_aws"]["CloudWatchMetrics"]
            [dimensions] = declared["Dimensions"]
            for metric in declared["Metrics"]:
                key = (metric["Name"], tuple((name, record[name]) for name in dimensions))
                counted[key] += int(sum(record[metric["Name"]]))
        return counted

    printed()
    return printed

"""The offline stand-in for Lambda's DynamoDB stream event source mapping: order, filters, partial answers,
bisection, retries and the on-failure queue, as the events function will meet them in AWS."""

from __future__ import annotations

import itertools
import json
from dataclasses import replace
from typing import Any

import pytest

from local.drivers import StreamDriver
from local.template import StreamSource

STREAM_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2026-12-01T00:00:00.000"
ONLY_CALLS = '{"dynamodb": {"Keys": {"sk": {"S": ["CALL", {"prefix": "CONTACT#"}]}}}}'
SOURCE = StreamSource(
    function_id="EventsFunction",
    table_id="DialhubTable",
    event_id="TableChanges",
    batch_size=4,
    batching_window_seconds=1,
    bisect_on_error=True,
    report_batch_item_failures=True,
    maximum_retry_attempts=3,
    filter_patterns=(ONLY_CALLS,),
    on_failure_queue_id="StreamFailureQueue",
    starting_position="TRIM_HORIZON",
)


class Stream:
    """A one-shard stream as the streams API serves it; records are appended by the test."""

    class meta:  # noqa: N801 - boto3's client attribute
        region_name = "us-east-1"

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []

    def write(self, *sort_keys: str) -> None:
        for sort_key in sort_keys:
            number = len(self.records) + 1
            self.records.append(
                {
                    "eventID": f"e{number}",
                    "eventName": "INSERT",
                    "dynamodb": {
                        "Keys": {"pk": {"S": f"CALL#{number}"}, "sk": {"S": sort_key}},
                        "SequenceNumber": f"{number:021d}",
                    },
                }
            )

    def describe_stream(self, StreamArn: str) -> dict[str, Any]:
        return {"StreamDescription": {"Shards": [{"ShardId": "shard-1"}]}}

    def get_shard_iterator(self, StreamArn: str, ShardId: str, ShardIteratorType: str) -> dict[str, Any]:
        assert ShardIteratorType == "TRIM_HORIZON"
        return {"ShardIterator": "0"}

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:
        start = int(ShardIterator)
        page = self.records[start : start + Limit]
        return {"Records": page, "NextShardIterator": str(start + len(page))}


class FailureQueue:
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    def send_message(self, QueueUrl: str, MessageBody: str) -> None:
        self.messages.append(json.loads(MessageBody))


class Function:
    """Records each batch it is handed (by sequence number); `answer` decides what it does with one."""

    def __init__(self, answer: Any = None) -> None:
        self.batches: list[list[int]] = []
        self.answer = answer or (lambda batch: {"batchItemFailures": []})

    def __call__(self, function_id: str, event: dict[str, Any]) -> Any:
        assert function_id == "EventsFunction"
        assert all(record["eventSourceARN"] == STREAM_ARN for record in event["Records"])
        batch = [int(record["dynamodb"]["SequenceNumber"]) for record in event["Records"]]
        self.batches.append(batch)
        return self.answer(batch)

    def handled(self) -> list[int]:
        return [number for batch in self.batches for number in batch]


def driver(stream: Stream, function: Function, queue: FailureQueue | None = None, **options: Any) -> StreamDriver:
    source = options.pop("source", SOURCE)
    return StreamDriver(stream, source, STREAM_ARN, function, sqs_client=queue, failure_queue_url="q", **options)


def test_records_the_filter_refuses_never_reach_the_function_and_the_rest_come_in_order_in_batches() -> None:
    stream, function = Stream(), Function()
    stream.write("CALL", "RAW#1", "CONTACT#a", "DIAL#x", "CALL", "CALL", "COUNTERS", "CONTACT#b", "CALL")
    stats = driver(stream, function).drain()
    assert function.batches == [[1, 3, 5, 6], [8, 9]]
    assert stats.records_read == 9 and stats.records_filtered_out == 3


def test_a_drain_hands_over_only_what_was_written_since_the_last_one() -> None:
    stream, function = Stream(), Function()
    reader = driver(stream, function)
    stream.write("CALL", "CALL")
    reader.drain()
    stream.write("CALL")
    reader.drain()
    reader.drain()
    assert function.batches == [[1, 2], [3]]


def test_a_partial_answer_retries_from_the_record_it_names_and_keeps_the_ones_before() -> None:
    stream = Stream()
    stream.write(*["CALL"] * 4)
    failed_once: set[int] = set()

    def answer(batch: list[int]) -> dict[str, Any]:
        if 3 in batch and 3 not in failed_once:
            failed_once.add(3)
            return {"batchItemFailures": [{"itemIdentifier": f"{3:021d}"}]}
        return {"batchItemFailures": []}

    function = Function(answer)
    stats = driver(stream, function).drain()
    assert function.batches == [[1, 2, 3, 4], [3, 4]]
    assert stats.partial_failures == 1


@pytest.mark.parametrize(
    "answer",
    [
        {"batchItemFailures": [{"itemIdentifier": "not-a-sequence-number"}]},
        {"batchItemFailures": [{"nothing": "here"}]},
        {"batchItemFailures": "everything"},
    ],
)
def test_an_answer_naming_no_record_of_the_batch_fails_the_whole_batch(answer: dict[str, Any]) -> None:
    stream = Stream()
    stream.write("CALL", "CALL")
    answers = iter([answer])
    function = Function(lambda batch: next(answers, {"batchItemFailures": []}))
    driver(stream, function, source=replace(SOURCE, bisect_on_error=False)).drain()
    assert function.batches == [[1, 2], [1, 2]]


def test_an_error_splits_the_batch_until_the_poisoned_record_is_alone_then_gives_it_up_to_the_failure_queue() -> None:
    stream, queue = Stream(), FailureQueue()
    stream.write(*["CALL"] * 4)

    def answer(batch: list[int]) -> dict[str, Any]:
        if 2 in batch:
            raise RuntimeError("poisoned record")
        return {}

    function = Function(answer)
    stats = driver(stream, function, queue).drain()
    # Three retries: two splits, then the record alone once more; the fourth failure gives it up.
    assert function.batches == [[1, 2, 3, 4], [1, 2], [1], [2], [2], [3, 4]]
    assert stats.bisections == 2 and stats.sent_to_failure_queue == 1
    [message] = queue.messages
    info = message["DDBStreamBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"], info["batchSize"]) == (f"{2:021d}", f"{2:021d}", 1)
    assert info["streamArn"] == STREAM_ARN and message["requestContext"]["condition"] == "RetryAttemptsExhausted"


def test_without_bisection_a_failing_batch_is_retried_whole_then_given_up_whole() -> None:
    stream, queue = Stream(), FailureQueue()
    stream.write("CALL", "CALL", "CALL")

    def fail(batch: list[int]) -> Any:
        raise RuntimeError("down")

    function = Function(fail)
    driver(stream, function, queue, source=replace(SOURCE, bisect_on_error=False)).drain()
    assert function.batches == [[1, 2, 3]] * (1 + SOURCE.maximum_retry_attempts)
    assert [message["DDBStreamBatchInfo"]["batchSize"] for message in queue.messages] == [3]


def test_chaos_redelivers_and_crashes_yet_every_record_is_handled_and_never_out_of_order() -> None:
    stream = Stream()
    stream.write(*["CALL"] * 40)
    function = Function()
    reader = driver(stream, function, FailureQueue(), redeliver_rate=0.3, crash_rate=0.3, seed=5)
    stats = reader.drain()
    assert set(function.handled()) == set(range(1, 41))
    assert stats.redeliveries > 0 and stats.crashes > 0 and stats.sent_to_failure_queue == 0
    assert len(function.handled()) > 40  # some records more than once: at least once, not exactly once
    for batch in function.batches:
        assert batch == sorted(batch)
    firsts = [batch[0] for batch in function.batches]
    later = [first for earlier, first in itertools.pairwise(firsts) if first < earlier]
    assert later == []  # a batch never starts before the one handed over before it

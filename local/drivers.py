"""Local stand-ins for the template's event sources that are not HTTP.

EventBridge Scheduler and Lambda's event source mappings do not exist offline, so these drivers do their
job for the local stack: ScheduleDriver fires a template schedule on demand, SqsDriver polls a (moto) queue
and delivers batches to the function as the SQS mapping would, partial batch responses included, and
StreamDriver hands a table's (moto) stream to its function as the DynamoDB mapping would (its rules are on
the class).

Local difference, on purpose: a failed message is made visible again at once (visibility 0) rather
than after the queue's VisibilityTimeout, so retries and the RedrivePolicy's move to the dead-letter
queue happen within one drain().

A fault switch, for `make chaos`: `duplicate_rate` of batches are delivered twice in a row, as SQS may
(at-least-once delivery); a message is deleted only when both deliveries succeeded.
"""

from __future__ import annotations

import base64
import json
import random
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from local.template import DEFAULT_ACCOUNT_ID, DEFAULT_REGION, SamTemplate, Schedule, SqsSource, StreamSource

InvokeFunction = Callable[[str, dict[str, Any]], Any]
SQS_MAX_MESSAGES_PER_RECEIVE = 10


# --------------------------------------------------------------------------- schedules


class ScheduleDriver:
    """Fires the template's Schedule/ScheduleV2 events on demand (there is no clock offline)."""

    def __init__(
        self,
        template: SamTemplate,
        invoke: InvokeFunction,
        *,
        region: str = DEFAULT_REGION,
        account_id: str = DEFAULT_ACCOUNT_ID,
    ) -> None:
        self.template = template
        self.invoke = invoke
        self.region = region
        self.account_id = account_id

    def names(self) -> list[str]:
        """The schedules' event logical ids, e.g. ["DailyTaskCreation", "ResultPolling"]."""
        return [schedule.name_logical_id for schedule in self.template.schedules]

    def schedule(self, logical_id_or_name: str) -> Schedule:
        """Find a schedule by its event logical id or by its resolved Name (e.g. "dialhub-dev-daily")."""
        for schedule in self.template.schedules:
            if logical_id_or_name in (schedule.name_logical_id, schedule.name):
                return schedule
        known = [name for schedule in self.template.schedules for name in (schedule.name_logical_id, schedule.name)]
        raise KeyError(f"no schedule {logical_id_or_name!r}; known: {[name for name in known if name]}")

    def event_for(self, schedule: Schedule) -> dict[str, Any]:
        """The event the target gets: Input verbatim, or EventBridge's "Scheduled Event" without one."""
        if schedule.has_input:
            return _deep_copy_json(schedule.input)
        if schedule.event_type == "ScheduleV2":
            return {}
        rule_name = schedule.name or schedule.name_logical_id
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": self.account_id,
            "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": self.region,
            "resources": [f"arn:aws:events:{self.region}:{self.account_id}:rule/{rule_name}"],
            "detail": {},
        }

    def fire(self, logical_id_or_name: str) -> Any:
        """Invoke the schedule's function once, as the schedule would; the handler's errors propagate."""
        schedule = self.schedule(logical_id_or_name)
        return self.invoke(schedule.function_id, self.event_for(schedule))


def _deep_copy_json(value: Any) -> Any:
    """A fresh copy per delivery, so a handler mutating its event cannot change the next one."""
    if isinstance(value, dict):
        return {key: _deep_copy_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_deep_copy_json(item) for item in value]
    return value


# --------------------------------------------------------------------------- event source mappings


class Polling:
    """What an event source mapping does for a long-running local stack: drain on a thread of its own every
    `interval` seconds until stop(), going on when a drain fails, as the mapping does."""

    _stop: threading.Event
    _thread: threading.Thread | None

    def drain(self) -> Any:
        raise NotImplementedError

    def _source_name(self) -> str:
        raise NotImplementedError

    def run_in_background(self, interval: float = 1.0) -> threading.Thread:
        if self._thread is not None and self._thread.is_alive():
            raise RuntimeError("already running")
        self._stop.clear()
        name = self._source_name().split(" ", 1)[0]
        self._thread = threading.Thread(target=self._poll_forever, args=(interval,), name=name, daemon=True)
        self._thread.start()
        return self._thread

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout)
            self._thread = None

    def _poll_forever(self, interval: float) -> None:
        while not self._stop.is_set():
            try:
                self.drain()
            except Exception:
                print(f"[local] {self._source_name()} failed:\n{traceback.format_exc()}", file=sys.stderr)
            self._stop.wait(interval)


# --------------------------------------------------------------------------- SQS


@dataclass
class DrainStats:
    """What a drain did; `returned` counts messages made visible again for another attempt."""

    rounds: int = 0
    received: int = 0
    invocations: int = 0
    deleted: int = 0
    returned: int = 0
    handler_errors: int = 0

    def add(self, other: DrainStats) -> None:
        self.rounds += other.rounds
        self.received += other.received
        self.invocations += other.invocations
        self.deleted += other.deleted
        self.returned += other.returned
        self.handler_errors += other.handler_errors


class SqsDriver(Polling):
    """Delivers a queue's messages to its function like Lambda's SQS event source mapping.

    One receive is one batch (at most 10 messages: SQS's ReceiveMessage limit, so a BatchSize above 10
    is delivered in batches of 10 locally).
    """

    def __init__(
        self,
        sqs_client: Any,
        source: SqsSource,
        queue_url: str,
        invoke: InvokeFunction,
        *,
        idle_sleep_seconds: float = 0.05,
        duplicate_rate: float = 0.0,
        seed: int = 7,
    ) -> None:
        self.sqs = sqs_client
        self.duplicate_rate = duplicate_rate
        self.duplicates_delivered = 0  # batches delivered a second time
        self._duplicate_rng = random.Random(f"{seed}:sqs-duplicates")
        self.source = source
        self.queue_url = queue_url
        self.invoke = invoke
        self.idle_sleep_seconds = idle_sleep_seconds
        self.region = str(sqs_client.meta.region_name or DEFAULT_REGION)
        self._queue_arn: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def queue_arn(self) -> str:
        if self._queue_arn is None:
            attributes = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])
            self._queue_arn = str(attributes["Attributes"]["QueueArn"])
        return self._queue_arn

    # ----------------------------------------------------------------- polling

    def drain(self, max_rounds: int = 100, wait_seconds: int = 0) -> DrainStats:
        """Receive and deliver until the queue is empty (in-flight messages included) or max_rounds."""
        stats = DrainStats()
        for _ in range(max_rounds):
            if self._stop.is_set():
                break
            messages = self._receive(wait_seconds)
            stats.rounds += 1
            if messages:
                self._deliver(messages, stats)
                continue
            if self._queue_is_empty():
                break
            time.sleep(self.idle_sleep_seconds)  # Messages in flight elsewhere, or delayed.
        return stats

    def _source_name(self) -> str:
        return f"sqs-{self.source.function_id} ({self.queue_url})"

    def _receive(self, wait_seconds: int) -> list[dict[str, Any]]:
        response = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=max(1, min(self.source.batch_size, SQS_MAX_MESSAGES_PER_RECEIVE)),
            WaitTimeSeconds=wait_seconds,
            AttributeNames=["All"],
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        return list(response.get("Messages") or [])

    def _queue_is_empty(self) -> bool:
        counters = (
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        )
        attributes = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=list(counters))
        return all(int(attributes["Attributes"].get(name, "0")) == 0 for name in counters)

    # ----------------------------------------------------------------- delivery

    def build_event(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        """The event Lambda's SQS event source mapping sends for these received messages."""
        return {"Records": [self._record(message) for message in messages]}

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        record: dict[str, Any] = {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message.get("Body", ""),
            "attributes": dict(message.get("Attributes") or {}),
            "messageAttributes": {
                name: _lambda_message_attribute(value)
                for name, value in (message.get("MessageAttributes") or {}).items()
            },
            "md5OfBody": message.get("MD5OfBody", ""),
            "eventSource": "aws:sqs",
            "eventSourceARN": self.queue_arn,
            "awsRegion": self.region,
        }
        if "MD5OfMessageAttributes" in message:
            record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
        return record

    def _deliver(self, messages: list[dict[str, Any]], stats: DrainStats) -> None:
        stats.received += len(messages)
        stats.invocations += 1
        failed_ids = self._invoke_once(messages, stats)
        if self.duplicate_rate and self._duplicate_rng.random() < self.duplicate_rate:
            self.duplicates_delivered += 1
            failed_ids |= self._invoke_once(messages, stats)
        succeeded = [message for message in messages if message["MessageId"] not in failed_ids]
        failed = [message for message in messages if message["MessageId"] in failed_ids]
        if succeeded:
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(index), "ReceiptHandle": m["ReceiptHandle"]} for index, m in enumerate(succeeded)],
            )
            stats.deleted += len(succeeded)
        if failed:
            self.sqs.change_message_visibility_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                    for index, m in enumerate(failed)
                ],
            )
            stats.returned += len(failed)

    def _invoke_once(self, messages: list[dict[str, Any]], stats: DrainStats) -> set[str]:
        """One delivery of the batch; the ids of the messages that failed."""
        message_ids = [message["MessageId"] for message in messages]
        try:
            response = self.invoke(self.source.function_id, self.build_event(messages))
        except Exception:  # A function error fails the whole batch.
            stats.handler_errors += 1
            print(
                f"[local-sqs] {self.source.function_id} failed on a batch of {len(messages)}; "
                f"none deleted:\n{traceback.format_exc()}",
                file=sys.stderr,
                flush=True,
            )
            return set(message_ids)
        return self.failed_message_ids(response, message_ids)

    def failed_message_ids(self, response: Any, message_ids: list[str]) -> set[str]:
        """The messages to retry, by Lambda's partial batch response rules.

        Without ReportBatchItemFailures a returned batch is a success. With it, a missing or empty
        batchItemFailures is a success, and a malformed one (or an unknown itemIdentifier) fails the batch.
        """
        if not self.source.report_batch_item_failures or not isinstance(response, dict):
            return set()
        failures = response.get("batchItemFailures")
        if failures is None:
            return set()
        if not isinstance(failures, list):
            return set(message_ids)
        failed: set[str] = set()
        for failure in failures:
            identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
            if not identifier or identifier not in message_ids:
                return set(message_ids)
            failed.add(str(identifier))
        return failed


def _lambda_message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    """SQS API message attribute -> the camel-cased shape Lambda puts in a record."""
    attribute: dict[str, Any] = {}
    if "StringValue" in value:
        attribute["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        attribute["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode("ascii")
    attribute["stringListValues"] = list(value.get("StringListValues") or [])
    attribute["binaryListValues"] = [
        base64.b64encode(item).decode("ascii") for item in value.get("BinaryListValues") or []
    ]
    attribute["dataType"] = value.get("DataType", "String")
    return attribute


# --------------------------------------------------------------------------- DynamoDB streams


@dataclass
class StreamStats:
    """What the stream driver has done since it started."""

    records_read: int = 0
    records_filtered_out: int = 0
    invocations: int = 0
    handler_errors: int = 0
    partial_failures: int = 0
    bisections: int = 0
    redeliveries: int = 0  # batches handed over again after they succeeded (chaos)
    crashes: int = 0  # answers thrown away after the function ran (chaos)
    sent_to_failure_queue: int = 0  # records given up on


class StreamDriver(Polling):
    """Delivers a table's stream to its function like Lambda's DynamoDB event source mapping.

    In order, from the oldest record: records the FilterCriteria reject never reach the function; the rest go in
    batches of BatchSize. An answer naming a record in batchItemFailures checkpoints the records before it and
    retries from it; an exception retries the batch, split in halves first when BisectBatchOnFunctionError is
    set. After MaximumRetryAttempts retries the records are given up on: a description of them (Lambda's shape)
    goes to the OnFailure queue and the stream moves past them.

    Local differences, on purpose: no batching window (a drain hands over what is there) and no waiting
    between retries. Chaos switches: `redeliver_rate` of successful batches are handed over again (a stream is
    read at least once); `crash_rate` of invocations lose their answer after the function ran, as a timed-out
    or crashed runtime does, so the batch is retried.
    """

    def __init__(
        self,
        streams_client: Any,
        source: StreamSource,
        stream_arn: str,
        invoke: InvokeFunction,
        *,
        sqs_client: Any = None,
        failure_queue_url: str | None = None,
        redeliver_rate: float = 0.0,
        crash_rate: float = 0.0,
        seed: int = 7,
        after_invoke: Callable[[], None] | None = None,
    ) -> None:
        from moto.events.models import EventPattern  # Lambda's filter syntax is EventBridge's

        self.streams = streams_client
        self.source = source
        self.stream_arn = stream_arn
        self.invoke = invoke
        self.sqs = sqs_client
        self.failure_queue_url = failure_queue_url
        self.redeliver_rate = redeliver_rate
        self.crash_rate = crash_rate
        self.after_invoke = after_invoke or (lambda: None)  # what the platform does after each invocation
        self._rng = random.Random(f"{seed}:stream-chaos")
        self._filters = [EventPattern.load(pattern) for pattern in source.filter_patterns]
        self.region = str(streams_client.meta.region_name or DEFAULT_REGION)
        self.stats = StreamStats()
        self._iterators: dict[str, str] = {}  # shard -> where reading resumes
        self._lock = threading.Lock()  # one reader: order is the stream's promise
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ----------------------------------------------------------------- reading

    def drain(self) -> StreamStats:
        """Hand every record written so far to the function (until each is done or given up on)."""
        with self._lock:
            while records := self._read():
                wanted = [record for record in records if self._wanted(record)]
                self.stats.records_filtered_out += len(records) - len(wanted)
                for start in range(0, len(wanted), self.source.batch_size):
                    self._deliver(wanted[start : start + self.source.batch_size])
        return self.stats

    def _source_name(self) -> str:
        return f"stream-{self.source.function_id} ({self.stream_arn})"

    def _read(self) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        shards = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]["Shards"]
        for shard in shards:
            shard_id = shard["ShardId"]
            iterator = (
                self._iterators.get(shard_id)
                or self.streams.get_shard_iterator(
                    StreamArn=self.stream_arn, ShardId=shard_id, ShardIteratorType=self.source.starting_position
                )["ShardIterator"]
            )
            page = self.streams.get_records(ShardIterator=iterator, Limit=1000)
            records.extend(page["Records"])
            self._iterators[shard_id] = page.get("NextShardIterator") or iterator
        self.stats.records_read += len(records)
        return [self._lambda_record(record) for record in records]

    def _lambda_record(self, record: dict[str, Any]) -> dict[str, Any]:
        """The streams API's record as Lambda hands it over: its source ARN, times as epoch seconds."""
        dynamodb = dict(record["dynamodb"])
        created = dynamodb.get("ApproximateCreationDateTime")
        if isinstance(created, datetime):
            dynamodb["ApproximateCreationDateTime"] = int(created.timestamp())
        return {**record, "dynamodb": dynamodb, "eventSourceARN": self.stream_arn, "awsRegion": self.region}

    def _wanted(self, record: dict[str, Any]) -> bool:
        return not self._filters or any(pattern.matches_event(record) for pattern in self._filters)  # type: ignore[arg-type]  # moto types an event as EventBridge's; Lambda filters a stream record the same way

    # ----------------------------------------------------------------- delivery

    def _deliver(self, batch: list[dict[str, Any]]) -> None:
        pending = [batch]  # what is still to be done, in stream order
        retries = 0
        while pending:
            part = pending.pop(0)
            retry_from = self._invoke_once(part)
            if retry_from is None:
                if self.redeliver_rate and self._rng.random() < self.redeliver_rate:
                    self.stats.redeliveries += 1
                    pending.insert(0, part)  # handed over again as if its checkpoint had been lost
                continue
            retries += 1
            failed = part[retry_from:]
            if self.source.maximum_retry_attempts >= 0 and retries > self.source.maximum_retry_attempts:
                self._give_up(failed, retries)
                retries = 0
                continue
            if retry_from == 0 and self.source.bisect_on_error and len(failed) > 1:
                self.stats.bisections += 1
                middle = len(failed) // 2
                pending[:0] = [failed[:middle], failed[middle:]]
            else:
                pending.insert(0, failed)

    def _invoke_once(self, batch: list[dict[str, Any]]) -> int | None:
        """One invocation; None when the whole batch is done, else the index to retry from."""
        self.stats.invocations += 1
        try:
            response = self.invoke(self.source.function_id, {"Records": batch})
        except Exception:
            self.after_invoke()
            self.stats.handler_errors += 1
            print(
                f"[local-stream] {self.source.function_id} failed on {len(batch)} records:\n{traceback.format_exc()}",
                file=sys.stderr,
                flush=True,
            )
            return 0
        self.after_invoke()
        if self.crash_rate and self._rng.random() < self.crash_rate:
            self.stats.crashes += 1
            return 0
        return self._retry_index(response, batch)

    def _retry_index(self, response: Any, batch: list[dict[str, Any]]) -> int | None:
        """Lambda's rule for a stream's partial answer: retry from the earliest record named; an answer naming
        no record of the batch, or malformed, fails the batch."""
        if not self.source.report_batch_item_failures or not isinstance(response, dict):
            return None
        failures = response.get("batchItemFailures")
        if not failures:
            return None
        sequence_numbers = [record["dynamodb"]["SequenceNumber"] for record in batch]
        named = [
            failure.get("itemIdentifier") if isinstance(failure, dict) else None
            for failure in (failures if isinstance(failures, list) else [None])
        ]
        if any(identifier not in sequence_numbers for identifier in named):
            self.stats.handler_errors += 1
            return 0
        self.stats.partial_failures += 1
        return min(sequence_numbers.index(identifier) for identifier in named)

    def _give_up(self, records: list[dict[str, Any]], attempts: int) -> None:
        """Lambda's on-failure record for a stream batch: where the records are, not the records."""
        self.stats.sent_to_failure_queue += len(records)
        if self.sqs is None or self.failure_queue_url is None:
            print(f"[local-stream] {len(records)} records given up on, with nowhere to send them", file=sys.stderr)
            return
        first, last = records[0]["dynamodb"], records[-1]["dynamodb"]
        message = {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": f"arn:aws:lambda:{self.region}:{DEFAULT_ACCOUNT_ID}:function:{self.source.function_id}",
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": attempts,
            },
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat(),
            "DDBStreamBatchInfo": {
                "shardId": next(iter(self._iterators), "shard-0"),
                "startSequenceNumber": first["SequenceNumber"],
                "endSequenceNumber": last["SequenceNumber"],
                "approximateArrivalOfFirstRecord": first.get("ApproximateCreationDateTime"),
                "approximateArrivalOfLastRecord": last.get("ApproximateCreationDateTime"),
                "batchSize": len(records),
                "streamArn": self.stream_arn,
            },
        }
        self.sqs.send_message(QueueUrl=self.failure_queue_url, MessageBody=json.dumps(message, default=str))

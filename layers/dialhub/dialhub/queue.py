"""The queues functions hand work on through: dispatch batches, export and import jobs."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import boto3
from botocore.exceptions import ClientError

from dialhub.errors import Conflict
from dialhub.models import DispatchBatch
from dialhub.observability import logger
from dialhub.settings import MissingSetting

SEND_BATCH_LIMIT = 10


class _Queue:
    setting = ""

    def __init__(self, queue_url: str | None, client: Any = None) -> None:
        self._queue_url = queue_url
        self._client = client

    @property
    def queue_url(self) -> str:
        if self._queue_url is None:  # only a function that does not send here is made without it
            raise MissingSetting(f"{self.setting} not set")
        return self._queue_url

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = boto3.client("sqs")
        return self._client


class DispatchQueue(_Queue):
    """One SQS message per vendor-sized batch."""

    setting = "DISPATCH_QUEUE_URL"

    def send(self, batches: list[DispatchBatch]) -> None:
        """Send every batch or raise; a partial failure raises after the rest were sent."""
        failed: list[str] = []
        for start in range(0, len(batches), SEND_BATCH_LIMIT):
            chunk = batches[start : start + SEND_BATCH_LIMIT]
            response = self.client.send_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(index), "MessageBody": batch.model_dump_json(by_alias=True)}
                    for index, batch in enumerate(chunk)
                ],
            )
            failed.extend(chunk[int(entry["Id"])].batch_id for entry in response.get("Failed", []))
        if failed:
            raise RuntimeError(f"could not queue {len(failed)} dispatch batches: {', '.join(failed)}")

    def redrive(self, dead_letter_arn: str) -> dict[str, Any]:
        """Move the dead-letter queue's batches back here with SQS's own message-move task, and return the task
        as SQS lists it (its status and how many messages it moved or has to move). A re-driven batch goes
        through the dispatcher's claims like any delivery: nothing it already sent is sent again."""
        try:
            self.client.start_message_move_task(SourceArn=dead_letter_arn)
        except ClientError as exc:
            raise Conflict(f"SQS would not start the re-drive: {exc.response['Error'].get('Message', '')}") from exc
        tasks = self.client.list_message_move_tasks(SourceArn=dead_letter_arn, MaxResults=1)["Results"]
        return dict(tasks[0]) if tasks else {}


class ExportQueue(_Queue):
    """One message per export to run, or to carry on with where an invocation ran out of time."""

    setting = "EXPORT_QUEUE_URL"

    def send(self, export_id: str) -> None:
        self.client.send_message(QueueUrl=self.queue_url, MessageBody=json.dumps({"exportId": export_id}))


class ImportQueue(_Queue):
    """Where an import carries on when an invocation ran out of time (uploads arrive here from S3 too)."""

    setting = "IMPORT_QUEUE_URL"

    def send(self, import_id: str) -> None:
        self.client.send_message(QueueUrl=self.queue_url, MessageBody=json.dumps({"importId": import_id}))


def retry_or_give_up(
    record: Mapping[str, Any], job: str, max_attempts: int, give_up: Callable[[], object], **keys: str
) -> dict[str, str] | None:
    """A job whose message failed: back to SQS for another try (the batch item failure to answer), or, after
    `max_attempts` deliveries, given up (`give_up` records why on the job) and the message deleted, so a job
    never waits in the dead-letter queue while its record says it is still running."""
    attempts = int(record.get("attributes", {}).get("ApproximateReceiveCount", "1"))
    final = attempts >= max_attempts
    logger.exception(
        f"{job} failed for good" if final else f"{job} failed; SQS will deliver it again",
        extra={**keys, "attempt": attempts},
    )
    if final:
        give_up()
        return None
    return {"itemIdentifier": str(record.get("messageId", ""))}

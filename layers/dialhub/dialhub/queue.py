"""The queues functions hand work on through: dispatch batches, and export jobs."""

from __future__ import annotations

import json
from typing import Any

import boto3

from dialhub.models import DispatchBatch

SEND_BATCH_LIMIT = 10


class _Queue:
    def __init__(self, queue_url: str, client: Any = None) -> None:
        self.queue_url = queue_url
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = boto3.client("sqs")
        return self._client


class DispatchQueue(_Queue):
    """One SQS message per vendor-sized batch."""

    def send(self, batches: list[DispatchBatch]) -> None:
        """Send every batch or raise; a partial failure raises after the rest were sent."""
        failed: list[str] = []
        for start in range(0, len(batches), SEND_BATCH_LIMIT):
            chunk = batches[start:start + SEND_BATCH_LIMIT]
            response = self.client.send_message_batch(QueueUrl=self.queue_url, Entries=[
                {"Id": str(index), "MessageBody": batch.model_dump_json(by_alias=True)}
                for index, batch in enumerate(chunk)])
            failed.extend(chunk[int(entry["Id"])].batch_id for entry in response.get("Failed", []))
        if failed:
            raise RuntimeError(f"could not queue {len(failed)} dispatch batches: {', '.join(failed)}")


class ExportQueue(_Queue):
    """One message per export to run, or to carry on with where an invocation ran out of time."""

    def send(self, export_id: str) -> None:
        self.client.send_message(QueueUrl=self.queue_url, MessageBody=json.dumps({"exportId": export_id}))

"""The dispatch queue: one SQS message per vendor-sized batch."""

from __future__ import annotations

from typing import Any

import boto3

from dialhub.models import DispatchBatch

SEND_BATCH_LIMIT = 10


class DispatchQueue:
    def __init__(self, queue_url: str, client: Any = None) -> None:
        self.queue_url = queue_url
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = boto3.client("sqs")
        return self._client

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

"""Vendor tasks: one per campaign, vendor and campaign-local day, open while it may still have results."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError

from dialhub.models import (
    VendorTask,
)
from dialhub.store.codec import from_item, to_item
from dialhub.store.keys import (
    GSI_WORK,
    OPEN_TASKS,
    campaign_pk,
    plain_key,
    task_key,
)
from dialhub.store.table import Table, is_condition_failure


class TaskTable(Table):
    def get_task(self, campaign_id: str, vendor: str, local_date: dt.date) -> VendorTask | None:
        response = self.client.get_item(
            TableName=self.table_name, ConsistentRead=True, Key=task_key(campaign_id, vendor, local_date)
        )
        return VendorTask.model_validate(from_item(response["Item"])) if "Item" in response else None

    def create_task(self, task: VendorTask, now: dt.datetime) -> VendorTask:
        """Record a new vendor task; if another writer won the race, theirs is returned and used."""
        item = {
            **plain_key(task_key(task.campaign_id, task.vendor, task.local_date)),
            **task.to_wire(exclude={"job_ids"}),
            "gsi1pk": OPEN_TASKS,
            "gsi1sk": f"{task.vendor}#{task.local_date.isoformat()}#{task.campaign_id}",
            "expiresAt": self._expires_at(now),
        }
        try:
            self.client.put_item(
                TableName=self.table_name, Item=to_item(item), ConditionExpression="attribute_not_exists(pk)"
            )
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise
            existing = self.get_task(task.campaign_id, task.vendor, task.local_date)
            if existing is None:
                raise
            return existing
        return task

    def add_task_submissions(
        self, task: VendorTask, count: int, job_id: str | None = None, unconfirmed: int = 0
    ) -> None:
        """Count requests the vendor may hold (and remember the vendor job they went into); reopens a closed
        task. `unconfirmed` of them are in doubt: the poller looks for their results while that count is set."""
        if count <= 0:
            return
        values: dict[str, Any] = {
            ":n": {"N": str(count)},
            ":open": {"S": OPEN_TASKS},
            ":true": {"BOOL": True},
            ":sk": {"S": f"{task.vendor}#{task.local_date.isoformat()}#{task.campaign_id}"},
        }
        adds = "ADD submitted :n"
        if unconfirmed > 0:
            adds += ", unconfirmed :u"
            values[":u"] = {"N": str(unconfirmed)}
        if job_id:
            adds += ", jobIds :job"
            values[":job"] = {"SS": [job_id]}
        self.client.update_item(
            TableName=self.table_name,
            Key=task_key(task.campaign_id, task.vendor, task.local_date),
            UpdateExpression=f"{adds} SET gsi1pk = :open, gsi1sk = :sk, #open = :true",
            ExpressionAttributeNames={"#open": "open"},
            ExpressionAttributeValues=values,
        )

    def add_task_cancellation(self, task: VendorTask) -> None:
        """A contact of the task cancelled at the vendor: for a vendor that reports nothing for it, the task is
        done without its result."""
        self.client.update_item(
            TableName=self.table_name,
            Key=task_key(task.campaign_id, task.vendor, task.local_date),
            UpdateExpression="ADD cancelled :one",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":one": {"N": "1"}},
        )

    def clear_task_doubts(self, task: VendorTask) -> bool:
        """Every contact in doubt has been settled: stop looking for them. Conditional on the count read at
        the start of the poll, so doubts a dispatcher added meanwhile are not forgotten."""
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key=task_key(task.campaign_id, task.vendor, task.local_date),
                UpdateExpression="REMOVE unconfirmed",
                ConditionExpression="unconfirmed = :seen",
                ExpressionAttributeValues={":seen": {"N": str(task.unconfirmed)}},
            )
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise
            return False
        return True

    def close_task(self, task: VendorTask) -> None:
        self._update(
            task_key(task.campaign_id, task.vendor, task.local_date), {"open": False}, removes=("gsi1pk", "gsi1sk")
        )

    def campaign_tasks(self, campaign_id: str, vendor: str) -> list[VendorTask]:
        tasks: list[VendorTask] = []
        for page in self._query(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :task)",
            ExpressionAttributeValues={":pk": {"S": campaign_pk(campaign_id)}, ":task": {"S": f"TASK#{vendor}#"}},
        ):
            tasks.extend(VendorTask.model_validate(item) for item in page)
        return tasks

    def iter_open_tasks(self) -> Iterator[VendorTask]:
        for page in self._query(
            IndexName=GSI_WORK,
            KeyConditionExpression="gsi1pk = :open",
            ExpressionAttributeValues={":open": {"S": OPEN_TASKS}},
        ):
            yield from (VendorTask.model_validate(item) for item in page)

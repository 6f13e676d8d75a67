"""Export jobs and the lease that lets one invocation at a time write a campaign's file."""

from __future__ import annotations

import datetime as dt

from botocore.exceptions import ClientError

from dialhub.models import (
    ExportJob,
    ExportProgress,
    ExportState,
)
from dialhub.store.codec import from_item, to_item
from dialhub.store.keys import (
    export_key,
    plain_key,
    stamp,
)
from dialhub.store.table import Table, is_condition_failure


class ExportTable(Table):
    def create_export(self, job: ExportJob, expires_at: dt.datetime) -> None:
        item = {**plain_key(export_key(job.export_id)), **job.to_wire(), "expiresAt": int(expires_at.timestamp())}
        self.client.put_item(
            TableName=self.table_name, Item=to_item(item), ConditionExpression="attribute_not_exists(pk)"
        )

    def get_export(self, export_id: str) -> ExportJob | None:
        response = self.client.get_item(TableName=self.table_name, Key=export_key(export_id), ConsistentRead=True)
        return ExportJob.model_validate(from_item(response["Item"])) if "Item" in response else None

    def claim_export(self, export_id: str, owner: str, until: dt.datetime, now: dt.datetime) -> ExportJob | None:
        """The running export, leased to `owner` until `until`; None when it is not running or another
        invocation holds a lease that has not ended."""
        try:
            response = self.client.update_item(
                TableName=self.table_name,
                Key=export_key(export_id),
                ReturnValues="ALL_NEW",
                UpdateExpression="SET leaseOwner = :owner, leaseUntil = :until",
                ConditionExpression="#state = :running AND (attribute_not_exists(leaseUntil) OR leaseUntil < :now)",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues=to_item(
                    {
                        ":owner": owner,
                        ":until": stamp(until),
                        ":now": stamp(now),
                        ":running": ExportState.RUNNING.value,
                    }
                ),
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                return None
            raise
        return ExportJob.model_validate(from_item(response["Attributes"]))

    def save_export_progress(self, export_id: str, owner: str, progress: ExportProgress, release: bool = False) -> bool:
        """Record how far the lease holder got (and, with `release`, give the lease up); False if it lost it."""
        return self._update(
            export_key(export_id),
            {"progress": progress.to_wire()},
            removes=("leaseOwner", "leaseUntil") if release else (),
            condition="leaseOwner = :owner",
            values={":owner": owner},
        )

    def release_export(self, export_id: str, owner: str) -> bool:
        return self._update(
            export_key(export_id),
            {},
            removes=("leaseOwner", "leaseUntil"),
            condition="leaseOwner = :owner",
            values={":owner": owner},
        )

    def finish_export(self, export_id: str, owner: str, progress: ExportProgress, now: dt.datetime) -> bool:
        return self._update(
            export_key(export_id),
            {"state": ExportState.DONE.value, "progress": progress.to_wire(), "finishedAt": now.isoformat()},
            removes=("leaseOwner", "leaseUntil"),
            condition="leaseOwner = :owner",
            values={":owner": owner},
        )

    def fail_export(self, export_id: str, error: str, now: dt.datetime) -> bool:
        """A running export ends as failed (whoever holds it); False when it had ended already."""
        return self._update(
            export_key(export_id),
            {"state": ExportState.FAILED.value, "error": error, "finishedAt": now.isoformat()},
            removes=("leaseOwner", "leaseUntil"),
            condition="#state = :running",
            names={"#state": "state"},
            values={":running": ExportState.RUNNING.value},
        )

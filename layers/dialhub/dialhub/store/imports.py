"""Contact-file imports: the job, the lease that lets one invocation at a time read its file, and the contacts a
file adds, written so that a row read again after a crash is recognised as the same row."""

from __future__ import annotations

import datetime as dt
from typing import Any

from botocore.exceptions import ClientError

from dialhub.models import ImportJob, ImportProgress, ImportState
from dialhub.store.codec import from_item, to_item
from dialhub.store.keys import contact_key, import_key, plain_key, stamp
from dialhub.store.table import Table, is_condition_failure

_OPEN = (ImportState.AWAITING_UPLOAD.value, ImportState.IMPORTING.value)


class ImportTable(Table):
    def create_import(self, job: ImportJob, expires_at: dt.datetime) -> None:
        item = {**plain_key(import_key(job.import_id)), **job.to_wire(), "expiresAt": int(expires_at.timestamp())}
        self.client.put_item(
            TableName=self.table_name, Item=to_item(item), ConditionExpression="attribute_not_exists(pk)"
        )

    def get_import(self, import_id: str) -> ImportJob | None:
        response = self.client.get_item(TableName=self.table_name, Key=import_key(import_id), ConsistentRead=True)
        return ImportJob.model_validate(from_item(response["Item"])) if "Item" in response else None

    def claim_import(
        self, import_id: str, etag: str, size: int, owner: str, until: dt.datetime, now: dt.datetime
    ) -> ImportJob | None:
        """The import of this uploaded file, leased to `owner` until `until`. The first claim of a file starts
        it (its counts and checkpoint from zero); a later one, of the same file, carries on. None when the
        import has ended, is of another file, or another invocation holds a lease that has not ended."""
        values = {
            ":owner": owner,
            ":until": stamp(until),
            ":now": stamp(now),
            ":etag": etag,
            ":size": size,
            ":importing": ImportState.IMPORTING.value,
            ":awaiting": ImportState.AWAITING_UPLOAD.value,
            ":fresh": ImportProgress().to_wire(),
        }
        free = "(attribute_not_exists(leaseUntil) OR leaseUntil < :now)"
        first = "#state = :awaiting"
        again = "(#state = :importing AND fileEtag = :etag)"
        try:
            response = self.client.update_item(
                TableName=self.table_name,
                Key=import_key(import_id),
                ReturnValues="ALL_NEW",
                UpdateExpression=(
                    "SET leaseOwner = :owner, leaseUntil = :until, #state = :importing, fileEtag = :etag, "
                    "fileBytes = :size, progress = if_not_exists(progress, :fresh)"
                ),
                ConditionExpression=f"attribute_exists(pk) AND ({first} OR {again}) AND {free}",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues=to_item(values),
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                return None
            raise
        return ImportJob.model_validate(from_item(response["Attributes"]))

    def save_import_progress(
        self, import_id: str, owner: str, progress: ImportProgress, chosen_columns: dict[str, Any] | None = None
    ) -> bool:
        """Record how far the lease holder got; False if it lost the lease (its work is then not counted)."""
        sets: dict[str, Any] = {"progress": progress.to_wire()}
        if chosen_columns is not None:
            sets["chosenColumns"] = chosen_columns
        return self._update(import_key(import_id), sets, condition="leaseOwner = :owner", values={":owner": owner})

    def release_import(self, import_id: str, owner: str) -> bool:
        return self._update(
            import_key(import_id),
            {},
            removes=("leaseOwner", "leaseUntil"),
            condition="leaseOwner = :owner",
            values={":owner": owner},
        )

    def finish_import(self, import_id: str, owner: str, progress: ImportProgress, now: dt.datetime) -> bool:
        return self._update(
            import_key(import_id),
            {"state": ImportState.DONE.value, "progress": progress.to_wire(), "finishedAt": now.isoformat()},
            removes=("leaseOwner", "leaseUntil"),
            condition="leaseOwner = :owner",
            values={":owner": owner},
        )

    def fail_import(self, import_id: str, error: str, now: dt.datetime) -> bool:
        """An open import ends as failed (whoever holds it); False when it had ended already."""
        return self._update(
            import_key(import_id),
            {"state": ImportState.FAILED.value, "error": error[:1000], "finishedAt": now.isoformat()},
            removes=("leaseOwner", "leaseUntil"),
            condition="#state IN (:awaiting, :importing)",
            names={"#state": "state"},
            values={":awaiting": _OPEN[0], ":importing": _OPEN[1]},
        )

    def contact_origins(self, campaign_id: str, contact_ids: list[str]) -> dict[str, str | None]:
        """Which of these contacts exist already, and the file row each was read from (None: not from a file)."""
        keys = [contact_key(campaign_id, cid) for cid in dict.fromkeys(contact_ids)]
        found = self._batch_get(keys, "contactId, origin")
        return {item["contactId"]: item.get("origin") for item in found}

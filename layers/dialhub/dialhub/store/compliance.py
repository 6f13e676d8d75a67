"""What keeps a number from being called: suppressions, the dial history per number, stored policies."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from botocore.exceptions import ClientError

from dialhub.compliance import Policy
from dialhub.models import (
    Suppression,
)
from dialhub.store.codec import from_item, to_item
from dialhub.store.keys import (
    contact_key,
    plain_key,
    policy_key,
    stamp,
    suppression_key,
)
from dialhub.store.table import BATCH_WRITE_LIMIT, Table, chunks, is_condition_failure

DIAL_HISTORY_RETENTION = dt.timedelta(days=400)  # longer than any frequency-cap period (366 days at most)


@dataclass(frozen=True)
class DialRecord:
    phone: str
    at: dt.datetime
    campaign_id: str
    contact_id: str
    attempt: int
    calls: int


class ComplianceTable(Table):
    def put_suppression(self, suppression: Suppression, unless_for_good: bool = False) -> bool:
        """Store it; with `unless_for_good`, only where the number has no suppression without an end yet (so
        a repeated opt-out changes nothing). False when that kept the one there."""
        item = {**plain_key(suppression_key(suppression.phone)), **suppression.to_wire()}
        if suppression.until is not None:
            item["expiresAt"] = int(suppression.until.timestamp()) + 1  # DynamoDB TTL removes it some time after
        condition = (
            {
                "ConditionExpression": "attribute_not_exists(pk) OR attribute_exists(#until)",
                "ExpressionAttributeNames": {"#until": "until"},
            }
            if unless_for_good
            else {}
        )
        try:
            self.client.put_item(TableName=self.table_name, Item=to_item(item), **condition)
        except ClientError as exc:
            if is_condition_failure(exc):
                return False
            raise
        return True

    def delete_suppression(self, phone: str) -> Suppression | None:
        """The suppression removed, or None when the number was not suppressed."""
        response = self.client.delete_item(
            TableName=self.table_name, Key=suppression_key(phone), ReturnValues="ALL_OLD"
        )
        return Suppression.model_validate(from_item(response["Attributes"])) if "Attributes" in response else None

    def get_suppression(self, phone: str) -> Suppression | None:
        response = self.client.get_item(TableName=self.table_name, Key=suppression_key(phone), ConsistentRead=True)
        return Suppression.model_validate(from_item(response["Item"])) if "Item" in response else None

    def suppressions(self, phones: Iterable[str], now: dt.datetime) -> dict[str, Suppression]:
        """The active suppressions among these numbers (one read per 100 numbers)."""
        keys = [suppression_key(phone) for phone in dict.fromkeys(phones)]
        found = (Suppression.model_validate(item) for item in self._batch_get(keys))
        return {item.phone: item for item in found if item.active(now)}

    def record_dials(self, dials: list[DialRecord]) -> None:
        """Remember requests sent per number, across campaigns and vendors (25 per write request)."""
        requests = []
        for dial in dials:
            item = {
                "pk": f"PHONE#{dial.phone}",
                "sk": f"DIAL#{stamp(dial.at)}#{dial.campaign_id}#{dial.contact_id}#{dial.attempt}",
                "calls": dial.calls,
                "expiresAt": int((dial.at + DIAL_HISTORY_RETENTION).timestamp()),
            }
            requests.append({"PutRequest": {"Item": to_item(item)}})
        for chunk in chunks(requests, BATCH_WRITE_LIMIT):
            pending = {self.table_name: chunk}
            while pending:
                response = self.client.batch_write_item(RequestItems=pending)
                pending = response.get("UnprocessedItems") or {}

    def dial_history(self, phone: str, since: dt.datetime) -> list[DialRecord]:
        """Every request sent to this number since the given time, from any campaign or vendor."""
        history: list[DialRecord] = []
        for page in self._query(
            KeyConditionExpression="pk = :pk AND sk BETWEEN :since AND :end",
            ExpressionAttributeValues={
                ":pk": {"S": f"PHONE#{phone}"},
                ":since": {"S": f"DIAL#{stamp(since)}"},
                ":end": {"S": "DIAL#~"},
            },
        ):
            for item in page:
                _, sent_at, campaign_id, contact_id, attempt = item["sk"].split("#")
                history.append(
                    DialRecord(
                        phone=phone,
                        at=dt.datetime.fromisoformat(sent_at),
                        campaign_id=campaign_id,
                        contact_id=contact_id,
                        attempt=int(attempt),
                        calls=int(item["calls"]),
                    )
                )
        return history

    def last_conversations(self, contacts: Iterable[tuple[str, str]]) -> dict[tuple[str, str], dt.datetime]:
        """When each of these (campaign, contact) last talked to someone, for those that have (one read per 100)."""
        keys = [contact_key(campaign_id, contact_id) for campaign_id, contact_id in dict.fromkeys(contacts)]
        items = self._batch_get(keys, "campaignId, contactId, lastConversationAt") if keys else []
        return {
            (item["campaignId"], item["contactId"]): dt.datetime.fromisoformat(item["lastConversationAt"])
            for item in items
            if "lastConversationAt" in item
        }

    def put_policy(self, policy: Policy) -> None:
        item = {**plain_key(policy_key(policy.name)), **policy.to_wire()}
        self.client.put_item(TableName=self.table_name, Item=to_item(item))

    def get_policy(self, name: str) -> Policy | None:
        response = self.client.get_item(TableName=self.table_name, ConsistentRead=True, Key=policy_key(name))
        return Policy.model_validate(from_item(response["Item"])) if "Item" in response else None

"""Live campaign counters: one item per campaign, kept from the table's stream by the events function.

A campaign's counts come from its contact items only, and they all share the campaign's partition key, so
their stream records arrive in one order with rising sequence numbers. Each counter update adds one batch's
changes and records the last sequence number it counted, under the condition that it has not counted past
the first one already: a batch Lambda delivers again, bisects or retries from a failed record adds nothing
twice, and a crash between campaigns leaves each one either counted or not. A retry that brings newer records
with counted ones is split by the caller at `countedThrough` (changes.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from dialhub.models import Campaign
from dialhub.store.codec import from_item, to_item
from dialhub.store.counting import CampaignCounts, counts_from, is_count
from dialhub.store.keys import COUNTERS, campaign_key, counters_key
from dialhub.store.table import Table, is_condition_failure

SEQUENCE_WIDTH = 40  # a stream sequence number has up to 40 digits; padded to this width they sort as text
COUNTED_THROUGH = "countedThrough"
ANNOUNCED = "completionAnnounced"


@dataclass(frozen=True)
class Counters:
    counts: CampaignCounts
    updated_at: dt.datetime | None = None
    announced: int | None = None  # how many contacts the campaign had when its completion was announced
    counted_through: str | None = None  # the last stream sequence number counted (padded), None: recounted only

    @property
    def complete(self) -> bool:
        return self.counts.total > 0 and self.counts.closed == self.counts.total

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Counters:
        return cls(
            counts_from(item),
            dt.datetime.fromisoformat(item["updatedAt"]) if item.get("updatedAt") else None,
            int(item[ANNOUNCED]) if item.get(ANNOUNCED) is not None else None,
            str(item[COUNTED_THROUGH]) if item.get(COUNTED_THROUGH) else None,
        )


def padded(sequence: str) -> str:
    return sequence.zfill(SEQUENCE_WIDTH)


class CounterTable(Table):
    def add_to_counters(
        self, campaign_id: str, delta: Mapping[str, int], first: str, last: str, now: dt.datetime
    ) -> Counters | None:
        """Add the changes of the stream records `first`..`last` (sequence numbers) once; the counters after,
        or None when these records were counted already."""
        names = {"#through": COUNTED_THROUGH, "#at": "updatedAt"}
        values: dict[str, Any] = {":first": padded(first), ":last": padded(last), ":now": now.isoformat()}
        adds = []
        for index, (name, count) in enumerate(sorted(delta.items())):
            names[f"#c{index}"] = name
            values[f":c{index}"] = count
            adds.append(f"#c{index} :c{index}")
        try:
            response = self.client.update_item(
                TableName=self.table_name,
                Key=counters_key(campaign_id),
                UpdateExpression="SET #through = :last, #at = :now" + (f" ADD {', '.join(adds)}" if adds else ""),
                ConditionExpression="attribute_not_exists(#through) OR #through < :first",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=to_item(values),
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                return None
            raise
        return Counters.from_item(from_item(response["Attributes"]))

    def get_counters(self, campaign_id: str) -> Counters | None:
        response = self.client.get_item(TableName=self.table_name, Key=counters_key(campaign_id), ConsistentRead=True)
        return Counters.from_item(from_item(response["Item"])) if "Item" in response else None

    def campaign_with_counters(self, campaign_id: str) -> tuple[Campaign | None, Counters | None]:
        """The campaign and its counters, in one request."""
        found = {item["sk"]: item for item in self._batch_get([campaign_key(campaign_id), counters_key(campaign_id)])}
        campaign, counters = found.get("CAMPAIGN"), found.get(COUNTERS)
        return (
            Campaign.model_validate(campaign) if campaign else None,
            Counters.from_item(counters) if counters else None,
        )

    def replace_counters(self, campaign_id: str, totals: Mapping[str, int], now: dt.datetime) -> None:
        """Set the counters to a full recount (the repair path); what the stream counts later adds to it."""
        response = self.client.get_item(TableName=self.table_name, Key=counters_key(campaign_id), ConsistentRead=True)
        stale = [name for name in from_item(response.get("Item", {})) if is_count(name) and name not in totals]
        stamp = now.isoformat()
        self._update(counters_key(campaign_id), {**totals, "updatedAt": stamp, "recountedAt": stamp}, removes=stale)

    def announce_completion(self, campaign_id: str, total: int) -> bool:
        """Record that the campaign's completion at `total` contacts was announced; False when it was already."""
        return self._update(
            counters_key(campaign_id),
            {ANNOUNCED: total},
            condition="attribute_not_exists(#announced) OR #announced <> :total",
            names={"#announced": ANNOUNCED},
            values={":total": total},
        )

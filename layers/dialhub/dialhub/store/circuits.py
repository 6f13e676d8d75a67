"""Each vendor's state shared by every function: its circuit (how many submissions to it have failed in a row,
and until when it counts as down), and how much of its account's daily cap is taken.

Shared by every dispatcher, so a vendor that is down is found out once, not by each batch on its own: while
its circuit is open, the contacts of a campaign with a fallback go to the fallback without being tried.
After the pause one batch tries the vendor again; a success closes the circuit, a failure opens it again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from botocore.exceptions import ClientError

from dialhub.store.codec import from_item, to_item
from dialhub.store.keys import capacity_key, circuit_key
from dialhub.store.table import Table, is_condition_failure

FAILURES_TO_OPEN = 5  # submissions failed in a row (not the contacts' fault) before the vendor counts as down
OPEN_FOR = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class Circuit:
    failures: int = 0
    open_until: dt.datetime | None = None

    def is_open(self, now: dt.datetime) -> bool:
        return self.open_until is not None and self.open_until > now


class CircuitTable(Table):
    def take_capacity(self, vendor: str, local_date: dt.date, wanted: int, cap: int) -> int:
        """Up to `wanted` of the vendor's cap for its account-local day, as many as are left (0 when none)."""
        wanted = min(wanted, cap)
        while wanted > 0:
            try:
                self.client.update_item(
                    TableName=self.table_name,
                    Key=capacity_key(vendor, local_date),
                    UpdateExpression="ADD taken :wanted SET expiresAt = if_not_exists(expiresAt, :expires)",
                    ConditionExpression="attribute_not_exists(taken) OR taken <= :most",
                    ExpressionAttributeValues=to_item(
                        {":wanted": wanted, ":most": cap - wanted, ":expires": self._expires_at_day(local_date)}
                    ),
                )
                return wanted
            except ClientError as exc:
                if not is_condition_failure(exc):
                    raise
            response = self.client.get_item(
                TableName=self.table_name, ConsistentRead=True, Key=capacity_key(vendor, local_date)
            )
            wanted = min(wanted - 1, cap - int(from_item(response.get("Item", {})).get("taken", 0)))
        return 0

    def give_back_capacity(self, vendor: str, local_date: dt.date, unused: int) -> None:
        """What a planning run took and did not use."""
        self.client.update_item(
            TableName=self.table_name,
            Key=capacity_key(vendor, local_date),
            UpdateExpression="ADD taken :unused",
            ExpressionAttributeValues=to_item({":unused": -unused}),
        )

    def _expires_at_day(self, local_date: dt.date) -> int:
        """Kept a week past its day: nothing reads it after the day, and a week shows what was sent when."""
        return int(dt.datetime.combine(local_date + dt.timedelta(days=7), dt.time(), dt.UTC).timestamp())

    def get_circuit(self, vendor: str) -> Circuit:
        response = self.client.get_item(TableName=self.table_name, Key=circuit_key(vendor))
        item = from_item(response.get("Item", {}))
        until = item.get("openUntil")
        return Circuit(int(item.get("failures", 0)), dt.datetime.fromisoformat(until) if until else None)

    def record_submission_failure(self, vendor: str, now: dt.datetime) -> Circuit:
        """One more failure in a row; the one that reaches FAILURES_TO_OPEN (or any while it is that far)
        opens the circuit for OPEN_FOR."""
        response = self.client.update_item(
            TableName=self.table_name,
            Key=circuit_key(vendor),
            UpdateExpression="ADD failures :one SET lastFailureAt = :now",
            ExpressionAttributeValues=to_item({":one": 1, ":now": now.isoformat()}),
            ReturnValues="UPDATED_NEW",
        )
        failures = int(from_item(response["Attributes"])["failures"])
        if failures < FAILURES_TO_OPEN:
            return Circuit(failures)
        until = now + OPEN_FOR
        self._update(circuit_key(vendor), {"openUntil": until.isoformat()})
        return Circuit(failures, until)

    def record_submission_success(self, vendor: str) -> None:
        """The vendor took a submission: the failures in a row start again from none."""
        self._update(circuit_key(vendor), {"failures": 0, "openUntil": None})

"""Each vendor's circuit: how many submissions to it have failed in a row, and until when it counts as down.

Shared by every dispatcher, so a vendor that is down is found out once, not by each batch on its own: while
its circuit is open, the contacts of a campaign with a fallback go to the fallback without being tried.
After the pause one batch tries the vendor again; a success closes the circuit, a failure opens it again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from dialhub.store.codec import from_item, to_item
from dialhub.store.keys import circuit_key
from dialhub.store.table import Table

FAILURES_TO_OPEN = 5  # submissions failed in a row (not the contacts' fault) before the vendor counts as down
OPEN_FOR = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class Circuit:
    failures: int = 0
    open_until: dt.datetime | None = None

    def is_open(self, now: dt.datetime) -> bool:
        return self.open_until is not None and self.open_until > now


class CircuitTable(Table):
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

"""Item keys and index names: where each kind of item lives in the one table (see the package docstring)."""

from __future__ import annotations

import datetime as dt
import zlib
from typing import Any

DUE = "DUE"
OPEN_TASKS = "OPENTASK"
CAMPAIGNS = "CAMPAIGNS"
FEED = "FEED"
COUNTERS = "COUNTERS"
GSI_WORK = "gsi1"
GSI_LISTING = "gsi2"
GSI_FEED = "gsi3"


def campaign_pk(campaign_id: str) -> str:
    return f"CAMPAIGN#{campaign_id}"


def campaign_key(campaign_id: str) -> dict[str, Any]:
    return {"pk": {"S": campaign_pk(campaign_id)}, "sk": {"S": "CAMPAIGN"}}


def plain_key(key: dict[str, Any]) -> dict[str, str]:
    """A typed key as plain attributes, to start a whole item with it."""
    return {name: value["S"] for name, value in key.items()}


def contact_key(campaign_id: str, contact_id: str) -> dict[str, Any]:
    return {"pk": {"S": campaign_pk(campaign_id)}, "sk": {"S": f"CONTACT#{contact_id}"}}


def call_key(vendor: str, vendor_call_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"CALL#{vendor}#{vendor_call_id}"}, "sk": {"S": "CALL"}}


def task_key(campaign_id: str, vendor: str, local_date: dt.date) -> dict[str, Any]:
    return {"pk": {"S": campaign_pk(campaign_id)}, "sk": {"S": f"TASK#{vendor}#{local_date.isoformat()}"}}


def circuit_key(vendor: str) -> dict[str, Any]:
    return {"pk": {"S": f"VENDOR#{vendor}"}, "sk": {"S": "CIRCUIT"}}


def capacity_key(vendor: str, local_date: dt.date) -> dict[str, Any]:
    return {"pk": {"S": f"VENDOR#{vendor}"}, "sk": {"S": f"TAKEN#{local_date.isoformat()}"}}


def suppression_key(phone: str) -> dict[str, Any]:
    return {"pk": {"S": f"SUPPRESSION#{phone}"}, "sk": {"S": "SUPPRESSION"}}


def stamp(moment: dt.datetime) -> str:
    """A UTC time that sorts as text (fixed width), for sort keys."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# Claims in flight are indexed under the day they were made, spread over this many keys so that a day's
# claims, thousands a second at the dispatcher's peak, do not all write to one index partition.
CLAIM_SHARDS = 8


def claim_index(contact_id: str, claimed_at: dt.datetime) -> tuple[str, str]:
    """The work index's key of a contact claimed for sending and not yet settled: found by the sweep by age."""
    shard = zlib.crc32(contact_id.encode()) % CLAIM_SHARDS
    return claim_partition(claimed_at.astimezone(dt.UTC).date(), shard), f"{stamp(claimed_at)}#{contact_id}"


def claim_partition(day: dt.date, shard: int) -> str:
    return f"CLAIMED#{day.isoformat()}#{shard}"


def history_pk(campaign_id: str, contact_id: str) -> str:
    return f"CONTACT#{campaign_id}#{contact_id}"


def feed_key(vendor: str, vendor_call_id: str, recorded_at: dt.datetime) -> str:
    return f"{stamp(recorded_at)}#{vendor}#{vendor_call_id}"


def import_key(import_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"IMPORT#{import_id}"}, "sk": {"S": "IMPORT"}}


def export_key(export_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"EXPORT#{export_id}"}, "sk": {"S": "EXPORT"}}


def policy_key(name: str) -> dict[str, Any]:
    return {"pk": {"S": f"POLICY#{name}"}, "sk": {"S": "POLICY"}}


def counters_key(campaign_id: str) -> dict[str, Any]:
    return {"pk": {"S": campaign_pk(campaign_id)}, "sk": {"S": COUNTERS}}

"""Retention: every outcome expires (DynamoDB TTL), and the vendor's raw payload, kept for disputes, sooner."""

from __future__ import annotations

import datetime as dt
from typing import Any

import boto3

from dialhub.settings import Settings
from dialhub.store import DynamoStore
from tests.conftest import call_webhook, load_event

NOW = dt.datetime(2026, 11, 25, 3, 0, tzinfo=dt.UTC)


def _items(table_name: str, pk: str) -> dict[str, dict[str, Any]]:
    items = (
        boto3.resource("dynamodb")
        .Table(table_name)
        .query(KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": pk})["Items"]
    )
    return {item["sk"]: item for item in items}


def test_a_callback_keeps_its_raw_payload_for_a_shorter_time_than_its_outcome(deps: Any) -> None:
    deps.store = DynamoStore(deps.settings.table_name, retention_days=400, raw_retention_days=30)
    deps.clock = lambda: NOW
    event = load_event("webhooks/blu_result.json")
    assert call_webhook(deps, event)[0] == 200
    # Blu retries an hour later: a second raw payload would have a key of its own, so it could not hide.
    deps.clock = lambda: NOW + dt.timedelta(hours=1)
    assert call_webhook(deps, event)[0] == 200  # a repeat stores nothing more, raw payload included

    items = _items(deps.settings.table_name, "CALL#blu#123654789")
    [raw_key] = [key for key in items if key.startswith("RAW#")]
    assert set(items) == {"CALL", raw_key}
    outcome, raw = items["CALL"], items[raw_key]
    assert outcome["expiresAt"] == int((NOW + dt.timedelta(days=400)).timestamp())
    assert raw["expiresAt"] == int((NOW + dt.timedelta(days=30)).timestamp())
    assert raw["body"] == event["body"]


def test_the_tables_ttl_attribute_is_the_one_items_carry(template: Any) -> None:
    table = template.resources["DialhubTable"]["Properties"]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expiresAt", "Enabled": True}
    assert Settings(table_name="t").raw_payload_retention_days < Settings(table_name="t").outcome_retention_days

"""What a planning run writes: each contact marked planned with the batch that carries it and its old hold
cleared, and a summary that counts every batch of every SQS send."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import boto3

from dialhub.models import Campaign, Contact, DialState, Hold
from dialhub.planning import plan_campaign
from dialhub.queue import SEND_BATCH_LIMIT, DispatchQueue
from dialhub.store import DynamoStore

NOON_IN_MANILA = dt.datetime(2026, 11, 25, 4, tzinfo=dt.UTC)
BATCH_LIMIT = 2


class _SmallBatches:
    """A vendor taking two requests per submission, so a few contacts make more batches than one SQS send."""

    batch_limit = BATCH_LIMIT


class _Adapters:
    def get(self, vendor: str) -> Any:
        return _SmallBatches()

    def refreshed(self, vendor: str) -> Any:
        return None

    def terms(self, vendor: str) -> dict[str, Any]:
        return {}  # no daily cap


def _sent_batches(queue_url: str) -> dict[str, list[str]]:
    sqs, batches = boto3.client("sqs"), {}
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            body = json.loads(message["Body"])
            batches[body["batchId"]] = body["contactIds"]
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return batches


def test_planning_marks_each_contact_with_its_batch_and_clears_its_hold(store: DynamoStore, queue_url: str) -> None:
    campaign = Campaign(
        campaign_id="cmp",
        name="n",
        vendor="blu",
        dial_date=NOON_IN_MANILA.date(),
        timezone="Asia/Manila",
        created_at=NOON_IN_MANILA,
    )
    store.create_campaign(campaign)
    contacts = [Contact(campaign_id="cmp", contact_id=f"c{i:02d}", phone=f"+6391712300{i:02d}") for i in range(25)]
    store.add_contacts(contacts, NOON_IN_MANILA)
    earlier = Hold(reason="outside_window", checked_at=NOON_IN_MANILA - dt.timedelta(hours=8))
    assert store.hold_contact("cmp", "c07", earlier)

    summary = plan_campaign(
        campaign, store, DispatchQueue(queue_url), _Adapters(), NOON_IN_MANILA.date(), NOON_IN_MANILA
    )

    batches = _sent_batches(queue_url)
    expected_batches = -(-len(contacts) // BATCH_LIMIT)
    assert expected_batches > SEND_BATCH_LIMIT  # two sends: the summary must add up both
    assert (summary.batches, summary.contacts) == (expected_batches, len(contacts)) == (len(batches), 25)
    batch_of = {contact_id: batch for batch, ids in batches.items() for contact_id in ids}
    for contact in contacts:
        stored = store.get_contact("cmp", contact.contact_id)
        assert stored is not None and stored.state is DialState.PLANNED
        assert stored.batch_id == batch_of[contact.contact_id]
        assert stored.hold is None, contact.contact_id

"""Planning cuts batches by the vendor's limit and by what fits in one SQS message."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from dialhub.models import Campaign, Contact
from dialhub.planning import MESSAGE_ID_BUDGET, _batches

T0 = dt.datetime(2026, 11, 25, tzinfo=dt.UTC)
CAMPAIGN = Campaign(campaign_id="cmp", name="n", vendor="airudder", dial_date=T0.date(), timezone="UTC", created_at=T0)


class _QueuedStore:
    def __init__(self, ids: list[str]) -> None:
        self.ids = ids

    def iter_queued_contacts(self, campaign_id: str) -> Iterator[list[Contact]]:
        for start in range(0, len(self.ids), 1000):
            yield [
                Contact(campaign_id=campaign_id, contact_id=cid, phone="+639171234567")
                for cid in self.ids[start : start + 1000]
            ]


def _plan(ids: list[str], limit: int) -> list[Any]:
    return list(_batches(CAMPAIGN, _QueuedStore(ids).iter_queued_contacts("cmp"), {CAMPAIGN.vendor: limit}, T0.date()))


def test_batches_follow_the_vendor_limit_when_ids_are_short() -> None:
    batches = _plan([f"c{i}" for i in range(12_001)], 5_000)
    assert [len(batch.contact_ids) for batch in batches] == [5_000, 5_000, 2_001]


def test_long_ids_close_a_batch_before_the_message_outgrows_sqs() -> None:
    ids = [f"{i:05d}".ljust(128, "x") for i in range(5_000)]
    batches = _plan(ids, 5_000)
    assert len(batches) > 1 and sum(len(b.contact_ids) for b in batches) == 5_000
    assert all(len(batch.model_dump_json(by_alias=True)) < 256 * 1024 for batch in batches)
    assert all(sum(len(cid) + 3 for cid in batch.contact_ids) <= MESSAGE_ID_BUDGET for batch in batches)
    assert [cid for batch in batches for cid in batch.contact_ids] == ids  # nothing lost, order kept

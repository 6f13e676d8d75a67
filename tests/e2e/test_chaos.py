"""A small round of `make chaos`, so the faults of issue 6 stay covered by pytest.

Vendor APIs failing at 30% (accepted-then-lost answers included), a dispatcher crash after the vendor's
acceptance and SQS redelivery, dropped, duplicated, reordered and late callbacks, DynamoDB throttling in the
webhooks function, several gateway workers: every invariant of the full run must hold on a few hundred contacts.
"""

from __future__ import annotations

import pytest

from local.chaos import ChaosPlan, run_chaos

pytestmark = pytest.mark.e2e


def test_a_small_chaos_round_keeps_every_invariant() -> None:
    report = run_chaos(ChaosPlan(contacts_per_vendor=80, batch_size=40, settle_timeout=40))
    broken = {invariant.name for invariant in report.invariants if not invariant.holds}
    assert not broken, report.table()
    faults = {
        name.split(" (")[0]: int(injected.replace(",", ""))
        for name, injected, _ in report.faults
        if injected.replace(",", "").isdigit()
    }
    assert faults["vendor API faults"] > 0 and faults["dispatcher crash after the vendor accepted"] >= 1
    assert faults["callbacks dropped for good"] > 0 and faults["callbacks held back past the poll"] > 0
    assert faults["DynamoDB throttling in the webhooks function"] > 0


def test_a_chaos_round_with_unexpected_vendors_dials_once_and_counts_no_refusal_as_sent() -> None:
    """Vendors that page by 10, under-count uploads, answer callbacks in the documented shapes, name refused
    numbers in national format or count rows from 1, each refusing some requests in that quirky way."""
    report = run_chaos(ChaosPlan(contacts_per_vendor=80, batch_size=40, settle_timeout=40, unexpected_vendors=True))
    broken = {invariant.name for invariant in report.invariants if not invariant.holds}
    assert not broken, report.table()
    assert report.measured["refused"] > 0, report.table()  # refusals happened, to be read right or wrong
    assert report.measured["in_doubt"] > 0, report.table()  # and some answers left contacts in doubt

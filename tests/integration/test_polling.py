"""The poller gives up on a task at its horizon, and says so on every contact still waiting."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from dialhub.models import CallOutcome, Contact, DialState, VendorTask
from dialhub.polling import poll_open_tasks
from dialhub.store import DynamoStore
from dialhub.vendors import StaticAdapters

T0 = dt.datetime(2026, 11, 25, 3, tzinfo=dt.UTC)


class _SilentVendor:
    """A vendor that never reports anything, on a given day."""

    name = "blu"

    def __init__(self, today: dt.date) -> None:
        self._today = today

    def today(self) -> dt.date:
        return self._today

    def results(self, task: VendorTask) -> Iterator[list[CallOutcome]]:
        return iter(())

    def task_complete(self, task: VendorTask, closed_contacts: int) -> bool:
        return False


def test_contacts_without_a_result_at_the_horizon_fail_with_a_reason(store: DynamoStore) -> None:
    task = store.create_task(VendorTask(campaign_id="cmp", vendor="blu", local_date=T0.date(), vendor_task_id="1"), T0)
    store.add_task_submissions(task, 2)
    waiting = Contact(
        campaign_id="cmp", contact_id="w", phone="+639171234567", state=DialState.SUBMITTED, vendor_task_date=T0.date()
    )
    other_day = waiting.model_copy(update={"contact_id": "o", "vendor_task_date": T0.date() + dt.timedelta(days=1)})
    store.add_contacts([waiting, other_day], T0)

    within: Any = StaticAdapters({"blu": _SilentVendor(T0.date() + dt.timedelta(days=2))})
    assert poll_open_tasks(store, within, T0, horizon_days=2).closed == 0
    assert store.get_contact("cmp", "w").state == DialState.SUBMITTED

    beyond: Any = StaticAdapters({"blu": _SilentVendor(T0.date() + dt.timedelta(days=3))})
    summary = poll_open_tasks(store, beyond, T0, horizon_days=2)
    assert summary.closed == 1 and summary.unresolved == 1
    failed = store.get_contact("cmp", "w")
    assert failed.state == DialState.FAILED and failed.reason == "no result from blu within 2 days of the dial date"
    assert store.get_contact("cmp", "o").state == DialState.SUBMITTED  # another day's task: not this one's
    assert list(store.iter_open_tasks()) == []

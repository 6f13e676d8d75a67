"""The adapter against a simulator that breaks its old assumptions (issue 19's "unexpected vendor" switches):
every refusal read as a refusal or as a doubt, never as an acceptance, and every order read whatever the page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from dialhub.models import VendorTask
from dialhub.vendors.base import DialRequest, Submission
from dialhub.vendors.nxtele.adapter import NxteleAdapter
from local.simulators.nxtele import SAMPLE_SECRET_KEY, SAMPLE_UUID, NxteleSimulator
from tests.unit.test_nxtele_adapter import campaign

DAY = dt.date(2026, 11, 25)


@pytest.fixture
def served() -> Iterator[Any]:
    made: list[NxteleSimulator] = []

    def serve(*quirks: str, dial: bool = False) -> tuple[NxteleSimulator, NxteleAdapter, VendorTask]:
        simulator = NxteleSimulator(
            SAMPLE_UUID, SAMPLE_SECRET_KEY, quirks=frozenset(quirks), dial_delay=(0.0, 0.02), max_retries=0
        ).start()
        made.append(simulator)
        if not dial:
            simulator.dial_delay = (30.0, 30.0)  # nothing is dialled while the test looks at the answers
        adapter = NxteleAdapter.from_account(
            {
                "uuid": SAMPLE_UUID,
                "secretKey": SAMPLE_SECRET_KEY,
                "baseUrl": simulator.base_url,
                "callbackBaseUrl": "http://127.0.0.1:9/webhooks/nxtele",
            }
        )
        task_id = adapter.create_task(campaign(), DAY)
        task = VendorTask(campaign_id="cmp-1", vendor="nxtele", local_date=DAY, vendor_task_id=task_id, submitted=0)
        return simulator, adapter, task

    yield serve
    for simulator in made:
        simulator.stop()


def requests(count: int) -> list[DialRequest]:
    values = {"amountDue": 1500, "dueDate": "2026-11-30"}
    return [DialRequest("cmp-1", f"c{n}", 1, f"+63917{n:07d}", "Maria", values) for n in range(count)]


def refused_ids(simulator: NxteleSimulator) -> set[str]:
    return {contact_id for campaign_id, contact_id in simulator.refused_contacts() if campaign_id == "cmp-1"}


def test_national_phones_in_err_list_refuse_exactly_the_contacts_refused(served: Any) -> None:
    simulator, adapter, task = served("national_phones")
    result = adapter.submit(Submission(campaign(), task, requests(300), "k"))
    refused = refused_ids(simulator)
    assert refused and set(result.rejected) == refused
    assert set(result.accepted) == {f"c{n}" for n in range(300)} - refused
    assert result.unconfirmed == {} and result.mismatches == []
    again = adapter.submit(Submission(campaign(), task, requests(300), "k"))  # a redelivered batch
    assert set(again.rejected) == refused and set(again.accepted) == set(result.accepted)
    assert sum(simulator.dial_requests.values()) == 300 - len(refused)


def test_silent_refusals_leave_the_batch_unconfirmed_and_accept_none_refused(served: Any) -> None:
    simulator, adapter, task = served("silent_refusals")
    result = adapter.submit(Submission(campaign(), task, requests(300), "k"))
    assert refused_ids(simulator) and not refused_ids(simulator) & set(result.accepted)
    assert result.accepted == {} and len(result.unconfirmed) == 300 and result.rejected == {}
    assert result.mismatches and "successCount" in result.mismatches[0]


def test_short_pages_still_give_every_order_its_outcome(served: Any) -> None:
    simulator, adapter, task = served("short_pages", dial=True)
    result = adapter.submit(Submission(campaign(), task, requests(45), "k"))
    assert len(result.accepted) == 45
    assert simulator.wait_idle(15)
    outcomes = [outcome for page in adapter.results(task) for outcome in page]
    closed = {outcome.contact_id for outcome in outcomes if outcome.closes_contact}
    assert closed == set(result.accepted)
    assert {outcome.vendor_call_id for outcome in outcomes} == simulator.reported_call_ids()


def test_both_refusal_switches_refuse_the_listed_and_doubt_the_rest(served: Any) -> None:
    simulator, adapter, task = served("national_phones", "silent_refusals")
    result = adapter.submit(Submission(campaign(), task, requests(300), "k"))
    refused = refused_ids(simulator)
    assert set(result.rejected) and set(result.rejected) < refused  # the listed ones, read nationally
    assert result.accepted == {} and set(result.unconfirmed) == {f"c{n}" for n in range(300)} - set(result.rejected)

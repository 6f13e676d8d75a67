"""No contact left claimed for ever: the poller's sweep finds contacts whose dispatch never finished and settles
them by the vendor's results while its task can still be asked, else fails them as `dispatch_abandoned`; none
is ever sent again, whatever is re-driven later."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest

from dialhub.models import DialState
from dialhub.sweep import ABANDONED, LEFT_TO_RESULTS
from dialhub.vendors import StaticAdapters
from dialhub.vendors.blu.adapter import BluAdapter
from dialhub.vendors.blu.codes import PATH_UPLOAD as BLU_UPLOAD
from tests.conftest import (
    api_event,
    blu_account,
    call_api,
    crash_before_settling,
    dispatch_records,
    drain_queue,
    plan_now,
    poll_now,
    states,
)
from tests.integration.test_blu_flow import _campaign

STUCK = dt.timedelta(minutes=360)  # the setting's default, which the template keeps


@pytest.fixture
def clock(deps: Any) -> list[dt.datetime]:
    """The time the handlers see: the test moves it on by changing its one element."""
    moment = [dt.datetime.now(dt.UTC).replace(microsecond=0)]
    deps.clock = lambda: moment[0]
    return moment


class _BluDown(httpx.BaseTransport):
    """Blu as the simulator serves it, except that uploads answer 503 while `down` (nothing reaches Blu)."""

    def __init__(self) -> None:
        self.real = httpx.HTTPTransport()
        self.down = True

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.down and request.url.path == BLU_UPLOAD:
            return httpx.Response(503, json={"message": "maintenance"})
        return self.real.handle_request(request)


@pytest.fixture
def blu_down(deps: Any, blu_sim: Any) -> _BluDown:
    wire = _BluDown()
    deps.adapters = StaticAdapters(
        {"blu": BluAdapter(blu_account(blu_sim.base_url), http=httpx.Client(base_url=blu_sim.base_url, transport=wire))}
    )
    return wire


def _stuck_in_an_outage(deps: Any, template: Any, count: int) -> tuple[str, list[dict[str, Any]]]:
    """A batch claimed while Blu's uploads fail: SQS gives it up with every contact SUBMITTING."""
    campaign_id = _campaign(deps, count=count)
    plan_now(deps)
    records = drain_queue(deps, template)
    for _ in range(3):
        assert len(dispatch_records(deps, records)["batchItemFailures"]) == 1
    assert states(deps.store, campaign_id) == {"submitting": count}
    return campaign_id, records


def _view(deps: Any, campaign_id: str) -> dict[str, Any]:
    status, view = call_api(deps, api_event("api/get_campaign.json", path={"campaignId": campaign_id}))
    assert status == 200
    return view


def test_a_claim_blu_took_is_settled_by_its_results_in_the_poll_that_sweeps_it(
    deps: Any, template: Any, blu_sim: Any, clock: list[dt.datetime], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Blu took the records but the dispatcher crashed before writing so, and the message was never delivered
    again: the sweep leaves them to Blu's results, which close them without sending anything twice."""
    campaign_id = _campaign(deps, count=4)
    plan_now(deps)
    records = drain_queue(deps, template)
    stop_crashing = crash_before_settling(monkeypatch)
    assert len(dispatch_records(deps, records)["batchItemFailures"]) == 1
    stop_crashing()
    assert blu_sim.wait_idle(10)
    clock[0] += STUCK + dt.timedelta(minutes=1)
    summary = poll_now(deps)
    assert (summary["swept_stuck"], summary["swept_to_results"], summary["swept_abandoned"]) == (4, 4, 0)
    assert summary["confirmed"] == 4  # found in the same poll's results
    assert states(deps.store, campaign_id) == {"final": 4}
    assert sum(blu_sim.dial_requests.values()) == 4 and max(blu_sim.dial_requests.values()) == 1
    assert _view(deps, campaign_id)["swept"] == {"final": 4}
    assert poll_now(deps)["swept_stuck"] == 0  # swept once


def test_records_blu_never_got_wait_for_its_results_until_the_horizon_and_are_never_sent_again(
    deps: Any, template: Any, blu_sim: Any, blu_down: _BluDown, clock: list[dt.datetime]
) -> None:
    campaign_id, records = _stuck_in_an_outage(deps, template, count=3)
    clock[0] += STUCK - dt.timedelta(minutes=1)
    assert poll_now(deps)["swept_stuck"] == 0  # SQS may still deliver the batch: not the sweep's yet
    assert states(deps.store, campaign_id) == {"submitting": 3}
    clock[0] += dt.timedelta(minutes=2)
    assert poll_now(deps)["swept_to_results"] == 3
    assert states(deps.store, campaign_id) == {"unconfirmed": 3}
    contact = deps.store.get_contact(campaign_id, "c0")
    assert contact.reason == LEFT_TO_RESULTS
    task = deps.store.get_task(campaign_id, "blu", contact.vendor_task_date)
    assert (task.open, task.submitted, task.unconfirmed) == (True, 3, 3)  # the poller goes on asking Blu
    blu_down.down = False
    assert dispatch_records(deps, records) == {"batchItemFailures": []}  # re-driven too late: nothing goes out
    assert sum(blu_sim.dial_requests.values()) == 0
    adapter = deps.adapters.get("blu")
    past_horizon = contact.vendor_task_date + dt.timedelta(days=deps.settings.poll_horizon_days + 1)
    adapter.today = lambda: past_horizon
    assert poll_now(deps)["unresolved"] == 3
    assert states(deps.store, campaign_id) == {"failed": 3}
    reason = deps.store.get_contact(campaign_id, "c0").reason
    assert reason.startswith(LEFT_TO_RESULTS) and "no result from blu within 2 days" in reason
    assert _view(deps, campaign_id)["swept"] == {"failed": 3}


def test_a_claim_whose_task_is_past_the_horizon_is_abandoned_and_never_sent_again(
    deps: Any, template: Any, blu_sim: Any, blu_down: _BluDown, clock: list[dt.datetime]
) -> None:
    campaign_id, records = _stuck_in_an_outage(deps, template, count=2)
    task_date = deps.store.get_contact(campaign_id, "c0").vendor_task_date
    deps.adapters.get("blu").today = lambda: task_date + dt.timedelta(days=deps.settings.poll_horizon_days + 1)
    clock[0] += STUCK + dt.timedelta(minutes=1)
    summary = poll_now(deps)
    assert (summary["swept_stuck"], summary["swept_to_results"], summary["swept_abandoned"]) == (2, 0, 2)
    assert states(deps.store, campaign_id) == {"failed": 2}
    assert {deps.store.get_contact(campaign_id, f"c{n}").reason for n in range(2)} == {ABANDONED}
    blu_down.down = False
    assert dispatch_records(deps, records) == {"batchItemFailures": []}
    assert sum(blu_sim.dial_requests.values()) == 0
    view = _view(deps, campaign_id)
    assert view["swept"] == {"failed": 2} and view["byState"] == {"failed": 2}


def test_a_settled_claim_leaves_the_sweeps_index_and_a_redelivery_keeps_its_place_in_it(
    deps: Any, template: Any, blu_sim: Any, blu_down: _BluDown, clock: list[dt.datetime]
) -> None:
    campaign_id, records = _stuck_in_an_outage(deps, template, count=2)
    claimed = deps.store.get_contact(campaign_id, "c0").claimed_at
    assert claimed == clock[0]  # three deliveries, one claim time: the sweep measures from the first
    later = clock[0] + STUCK
    assert sum(len(page) for page in deps.store.iter_stuck_claims(later, later - dt.timedelta(days=1))) == 2
    blu_down.down = False
    assert dispatch_records(deps, records) == {"batchItemFailures": []}
    assert states(deps.store, campaign_id) == {"submitted": 2}
    assert list(deps.store.iter_stuck_claims(later, later - dt.timedelta(days=1))) == []
    assert deps.store.get_contact(campaign_id, "c0").state is DialState.SUBMITTED

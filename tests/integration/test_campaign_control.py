"""Pausing, resuming and cancelling a whole campaign through the API, against the Blu simulator."""

from __future__ import annotations

from typing import Any

import pytest

from dialhub.models import DialState
from dialhub.vendors import StaticAdapters
from dialhub.vendors.blu import BluAdapter
from local.simulators.blu import BluSimulator
from tests.conftest import (
    BLU_APP_ID,
    BLU_APP_KEY,
    api_event,
    blu_account,
    call_api,
    dispatch_records,
    drain_queue,
    plan_now,
    states,
)
from tests.integration.test_blu_flow import _campaign


def _control(deps: Any, campaign_id: str, action: str) -> tuple[int, Any]:
    return call_api(deps, api_event(f"api/{action}_campaign.json", path={"campaignId": campaign_id}))


def test_a_batch_planned_before_a_pause_goes_back_to_the_queue_and_out_after_resume(deps: Any, template: Any,
                                                                                    blu_sim: Any) -> None:
    campaign_id = _campaign(deps, count=4)
    assert plan_now(deps)["contacts"] == 4
    status, paused = _control(deps, campaign_id, "pause")
    assert status == 200 and paused["campaign"]["status"] == "paused" and paused["notes"] == []

    assert dispatch_records(deps, drain_queue(deps, template)) == {"batchItemFailures": []}
    assert states(deps.store, campaign_id) == {"queued": 4}
    assert not blu_sim.dial_requests
    assert plan_now(deps)["contacts"] == 0  # nothing is planned while paused
    assert call_api(deps, api_event("api/dispatch_campaign.json", path={"campaignId": campaign_id}))[0] == 409

    status, resumed = _control(deps, campaign_id, "resume")
    assert status == 200 and resumed["campaign"]["status"] == "active"
    assert plan_now(deps)["contacts"] == 4
    dispatch_records(deps, drain_queue(deps, template))
    assert set(states(deps.store, campaign_id)) <= {"submitted", "final"}  # the fast simulator may be done
    assert sum(blu_sim.dial_requests.values()) == 4 and max(blu_sim.dial_requests.values()) == 1


@pytest.fixture
def slow_blu(deps: Any) -> Any:
    """Blu that takes its time to dial, so contacts can still be cancelled after submission."""
    simulator = BluSimulator(BLU_APP_ID, BLU_APP_KEY, dial_delay=(30, 31)).start()
    deps.adapters = StaticAdapters({"blu": BluAdapter(blu_account(simulator.base_url))})
    yield simulator
    simulator.stop()


def test_cancelling_a_campaign_stops_queued_planned_and_submitted_contacts(deps: Any, template: Any,
                                                                           slow_blu: Any) -> None:
    campaign_id = _campaign(deps, count=6)
    plan_now(deps)
    dispatch_records(deps, drain_queue(deps, template))
    assert states(deps.store, campaign_id) == {"submitted": 6}
    added = call_api(deps, api_event("api/add_contacts.json", path={"campaignId": campaign_id},
                                     body={"contacts": [{"contactId": "late", "phone": "09171239999"}]}))
    assert added[0] == 200

    status, cancelled = _control(deps, campaign_id, "cancel")
    assert status == 200, cancelled
    assert cancelled["campaign"]["status"] == "cancelled"
    # Blu has no task-level stop, so each submitted contact was cancelled at Blu on its own.
    assert cancelled["notes"] == []
    assert states(deps.store, campaign_id) == {"cancelled": 7}
    assert slow_blu.pending() == 0  # nothing left to dial at the vendor

    assert _control(deps, campaign_id, "resume")[0] == 409
    assert plan_now(deps)["contacts"] == 0
    assert deps.store.get_contact(campaign_id, "late").state == DialState.CANCELLED

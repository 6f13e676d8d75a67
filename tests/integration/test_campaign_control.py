"""Pausing, resuming and cancelling a whole campaign through the API, against the Blu simulator."""

from __future__ import annotations

from typing import Any

import pytest

from dialhub.models import DialState
from dialhub.vendors import StaticAdapters
from dialhub.vendors.blu.adapter import BluAdapter
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


def test_a_batch_planned_before_a_pause_goes_back_to_the_queue_and_out_after_resume(
    deps: Any, template: Any, blu_sim: Any
) -> None:
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


def test_cancelling_a_campaign_stops_queued_planned_and_submitted_contacts(
    deps: Any, template: Any, slow_blu: Any
) -> None:
    campaign_id = _campaign(deps, count=6)
    plan_now(deps)
    dispatch_records(deps, drain_queue(deps, template))
    assert states(deps.store, campaign_id) == {"submitted": 6}
    added = call_api(
        deps,
        api_event(
            "api/add_contacts.json",
            path={"campaignId": campaign_id},
            body={"contacts": [{"contactId": "late", "phone": "09171239999"}]},
        ),
    )
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


def test_a_batch_that_finds_its_campaign_stopped_sends_nothing_and_counts_what_it_held(
    deps: Any, template: Any, blu_sim: Any
) -> None:
    """The dispatcher's own check, whatever the API did before it: a cancelled campaign's planned contacts are
    cancelled, a paused one's queued again (and the campaign due again, so they go out after a resume); a
    contact already past planning is left as it is."""
    import datetime as dt
    import json

    from dialhub.dispatch import dispatch_batch
    from dialhub.models import CampaignStatus, DispatchBatch

    now = dt.datetime.now(dt.UTC)
    stopped = {}
    for status in (CampaignStatus.CANCELLED, CampaignStatus.PAUSED):
        campaign_id = _campaign(deps, count=3)
        plan_now(deps)
        [record] = drain_queue(deps, template)
        batch = DispatchBatch.model_validate_json(record["body"])
        assert deps.store.move_contact(
            campaign_id, "c2", DialState.SUBMITTED, allowed_from={DialState.PLANNED}, now=now
        )  # sent by an earlier delivery of the batch
        deps.store.clear_campaign_due(campaign_id)
        assert deps.store.set_campaign_status(campaign_id, status)
        stopped[status] = (campaign_id, dispatch_batch(batch, deps.store, deps.adapters, now))
        assert json.loads(record["body"])["contactIds"] == ["c0", "c1", "c2"]
    cancelled_id, cancelled = stopped[CampaignStatus.CANCELLED]
    assert cancelled.held == 2 and (cancelled.submitted, cancelled.failed) == (0, 0)
    assert states(deps.store, cancelled_id) == {"cancelled": 2, "submitted": 1}
    paused_id, paused = stopped[CampaignStatus.PAUSED]
    assert paused.held == 2 and states(deps.store, paused_id) == {"queued": 2, "submitted": 1}
    due = {campaign.campaign_id for campaign in deps.store.iter_due_campaigns(now.date() + dt.timedelta(days=2))}
    assert paused_id in due and cancelled_id not in due
    assert not blu_sim.dial_requests

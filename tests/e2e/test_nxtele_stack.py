"""NXTele over the real offline stack: HTTP gateway, moto server, the NXTele simulator (SHA256 account), drivers.

A quarter of the simulator's callbacks are lost; redials arrive call by call; the poller must recover the rest.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from dialhub.vendors.nxtele.signing import sign
from local.scenario import demo_contacts, run_scenario
from local.stack import LocalStack

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(vendors=("nxtele",), drop_rate=0.25, dial_delay=(0.05, 0.4), retry_interval=0.2, seed=5) as running:
        yield running


def test_every_contact_reaches_exactly_one_closing_outcome(stack: LocalStack) -> None:
    result = run_scenario(stack, contacts=40, cancel=2, settle_timeout=60)
    outcome = result.vendors["nxtele"]
    simulator = stack.simulators["nxtele"]
    assert set(result.vendors) == {"nxtele"}
    assert outcome.accepted == 40 and outcome.rejected == 3  # the demo's bad contacts go to the first vendor
    assert outcome.contact_states == {"final": 38, "cancelled": 2}
    assert outcome.every_contact_settled_once
    assert outcome.campaign["state"] == "completed" and sum(outcome.campaign["byDisposition"].values()) == 38
    # Both paths ran: the poller stored what callbacks missed (rounds or closing calls: by_source counts only
    # the closing ones, and which of them a dropped callback carried depends on the draw).
    assert result.recovered_by_polling > 0 and outcome.by_source["webhook"] > 0
    assert outcome.attempts == len(simulator.calls_made) > 38  # redials stored as attempts, none lost
    assert simulator.callbacks_dropped > 0 and simulator.callbacks_abandoned == 0
    assert simulator.requests_refused[6] == 0  # every request we signed verified at the vendor


def test_the_gateway_refuses_a_forged_callback(stack: LocalStack) -> None:
    body = json.dumps({"userTaskID": "t", "taskStatus": 3}).encode()
    create_ts, request_id = str(int(time.time())), uuid.uuid4().hex
    simulator = stack.simulators["nxtele"]
    headers = {
        "uuid": simulator.uuid,
        "createTs": create_ts,
        "requestID": request_id,
        "sign": sign("not-the-secret", body, create_ts, request_id, simulator.uuid, "SHA256"),
    }
    assert httpx.post(f"{stack.url}/webhooks/nxtele/task", content=body, headers=headers).status_code == 401
    headers["sign"] = sign(simulator.secret_key, body, create_ts, request_id, simulator.uuid, "SHA256")
    reply = httpx.post(f"{stack.url}/webhooks/nxtele/task", content=body, headers=headers)
    assert (reply.status_code, reply.json()) == (200, {"retCode": 0, "retMsg": "success"})


def test_a_campaign_dispatched_through_the_gateway_is_queued_at_once(stack: LocalStack) -> None:
    """The route runs under the API function's own permissions (planning reads the work index), not the scheduler's."""
    body = {
        "name": "dispatched by hand",
        "vendor": "nxtele",
        "vendorOptions": stack.simulators["nxtele"].demo_options(),
        "contacts": demo_contacts(3, prefix="by-hand"),
    }
    created = httpx.post(f"{stack.url}/campaigns", json=body)
    assert created.status_code == 201, created.text
    campaign_id = created.json()["campaignId"]
    dispatched = httpx.post(f"{stack.url}/campaigns/{campaign_id}/dispatch")
    assert dispatched.status_code == 200, dispatched.text
    assert dispatched.json()["contacts"] == 3

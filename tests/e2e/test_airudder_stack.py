"""AIRudder over the real offline stack: HTTP gateway, moto server, the simulator with signed, encrypted and
sometimes lost webhooks, the schedule and SQS drivers; then the poller recovers what the webhooks lost."""

from __future__ import annotations

import httpx
import pytest

from local.scenario import run_scenario
from local.stack import LocalStack

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack() -> LocalStack:
    with LocalStack(
        vendors=("airudder",), drop_rate=0.25, dial_delay=(0.05, 0.4), retry_interval=0.2, seed=3
    ) as running:
        yield running


def test_every_airudder_contact_reaches_exactly_one_closing_outcome(stack: LocalStack) -> None:
    simulator = stack.simulators["airudder"]
    result = run_scenario(stack, contacts=40, cancel=2, settle_timeout=60)
    outcome = result.vendors["airudder"]
    assert outcome.accepted == 40 and outcome.rejected == 3  # bad phone, emoji name, no id
    assert outcome.contact_states == {"final": 38, "cancelled": 2}
    assert outcome.every_contact_settled_once
    assert outcome.campaign["byState"] == {"final": 38, "cancelled": 2}
    assert outcome.campaign["state"] == "completed"
    assert sum(outcome.campaign["byDisposition"].values()) == 38
    assert simulator.callbacks_dropped > 0 and result.recovered_by_polling > 0
    assert outcome.by_source["poll"] >= result.recovered_by_polling and outcome.by_source["webhook"] > 0
    assert simulator.callbacks_delivered > 0 and simulator.callbacks_abandoned == 0
    assert simulator.auth_requests == 1  # one token for the dispatch and the poll
    assert max(simulator.dial_requests.values()) == 1 and sum(simulator.dial_requests.values()) == 38


def test_gateway_refuses_webhooks_without_the_token_or_the_signature(stack: LocalStack) -> None:
    simulator = stack.simulators["airudder"]
    assert httpx.post(f"{stack.url}/webhooks/airudder/call?token=wrong", content=b"x").status_code == 401
    unsigned = httpx.post(simulator.call_url, content=b"aGVsbG8=")  # the right token, but no signature
    assert unsigned.status_code == 401
    # Authentication comes before the kind: an unsigned request learns nothing about which kinds exist.
    assert httpx.post(simulator.call_url.replace("/call?", "/plan?"), content=b"x").status_code == 401

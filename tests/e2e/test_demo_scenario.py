"""The demo scenario over the real offline stack: HTTP gateway, moto server, Blu simulator, drivers."""

from __future__ import annotations

import httpx
import pytest

from local.scenario import run_scenario
from local.stack import LocalStack

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack() -> LocalStack:
    with LocalStack(drop_rate=0.25, dial_delay=(0.05, 0.6), retry_interval=0.2, seed=3) as running:
        yield running


def test_every_contact_reaches_exactly_one_final_outcome(stack: LocalStack) -> None:
    result = run_scenario(stack, contacts=80, cancel=2, settle_timeout=90)
    assert result.accepted == 80 and result.rejected == 3
    assert result.contact_states == {"final": 78, "cancelled": 2}
    assert result.every_contact_settled_once
    assert result.recovered_by_polling > 0
    assert result.by_source["poll"] == result.recovered_by_polling
    assert result.campaign["byState"] == {"final": 78, "cancelled": 2}
    assert result.campaign["state"] == "completed"
    assert sum(result.campaign["byDisposition"].values()) == 78


def test_gateway_serves_only_the_template_routes(stack: LocalStack) -> None:
    assert httpx.get(f"{stack.url}/nowhere").status_code == 404
    assert httpx.delete(f"{stack.url}/campaigns").status_code == 404
    assert httpx.post(f"{stack.url}/webhooks/blu?token=wrong", json={"callId": 1}).status_code == 401

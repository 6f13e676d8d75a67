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


def test_every_contact_of_every_vendor_reaches_exactly_one_closing_outcome(stack: LocalStack) -> None:
    result = run_scenario(stack, contacts=60, cancel=2, settle_timeout=90)
    assert set(result.vendors) == set(stack.simulators)
    assert result.recovered_by_polling > 0
    assert sum(r.by_source["poll"] for r in result.vendors.values()) >= result.recovered_by_polling
    for vendor, outcome in result.vendors.items():
        assert outcome.accepted == 60, vendor
        assert outcome.contact_states == {"final": 58, "cancelled": 2}, vendor
        assert outcome.every_contact_settled_once, vendor
        assert outcome.campaign["byState"] == {"final": 58, "cancelled": 2}, vendor
        assert outcome.campaign["state"] == "completed", vendor
        assert sum(outcome.campaign["byDisposition"].values()) == 58, vendor
    first = next(iter(result.vendors.values()))
    assert first.rejected == 3


def test_gateway_serves_only_the_template_routes(stack: LocalStack) -> None:
    assert httpx.get(f"{stack.url}/nowhere").status_code == 404
    assert httpx.delete(f"{stack.url}/campaigns").status_code == 404
    assert httpx.post(f"{stack.url}/webhooks/blu?token=wrong", json={"callId": 1}).status_code == 401

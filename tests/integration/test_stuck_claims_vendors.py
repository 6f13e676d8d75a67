"""The sweep's vendor path for each vendor: contacts a vendor took while the dispatcher crashed before writing so
(and whose batch was never delivered again) are settled by that vendor's own results, in the poll that sweeps
them, and none is sent twice."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.conftest import (
    api_event,
    call_api,
    crash_before_settling,
    dispatch_records,
    drain_queue,
    plan_now,
    poll_now,
    states,
)
from tests.integration.test_split_campaigns import NOW, SPLIT, _contacts, ar_sim, deps  # noqa: F401 - fixtures
from tests.integration.test_stuck_claims import STUCK

OPTIONS = {share["vendor"]: share["vendorOptions"] for share in SPLIT}


@pytest.mark.parametrize("vendor", ["blu", "nxtele", "airudder"])
def test_a_claim_the_vendor_took_is_settled_by_its_results_in_the_poll_that_sweeps_it(
    deps: Any,  # noqa: F811 - the split campaigns' fixture: every vendor against its simulator
    template: Any,
    blu_sim: Any,
    nx_sim: Any,
    ar_sim: Any,  # noqa: F811
    vendor: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    simulator = {"blu": blu_sim, "nxtele": nx_sim, "airudder": ar_sim}[vendor]
    body = {"name": "stuck", "vendor": vendor, "vendorOptions": OPTIONS[vendor], "contacts": _contacts(["c0", "c1"])}
    status, created = call_api(deps, api_event("api/create_campaign.json", body=body))
    assert status == 201, created
    campaign_id = created["campaignId"]
    plan_now(deps)
    records = drain_queue(deps, template)
    stop_crashing = crash_before_settling(monkeypatch)
    assert len(dispatch_records(deps, records)["batchItemFailures"]) == 1
    stop_crashing()
    assert states(deps.store, campaign_id) == {"submitting": 2}
    assert simulator.wait_idle(20)
    deps.clock = lambda: NOW + STUCK + dt.timedelta(minutes=1)
    summary = poll_now(deps)
    assert (summary["swept_stuck"], summary["swept_to_results"], summary["swept_abandoned"]) == (2, 2, 0)
    assert states(deps.store, campaign_id) == {"final": 2}
    assert sum(simulator.dial_requests.values()) == 2 and max(simulator.dial_requests.values()) == 1

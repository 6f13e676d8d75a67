"""The outcome metrics count what was stored, once: CloudWatch's figures (and the alarms built on them) must agree
with the table, whatever the vendors repeat. So does the line logged per outcome stored."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections import Counter
from typing import Any

import pytest

from dialhub.dispositions import CallStatus, Disposition
from dialhub.models import CallOutcome, DialState
from dialhub.outcomes import record_outcomes
from tests.conftest import call_webhook, load_event
from tests.integration.test_blu_flow import _callback_event, _campaign
from tests.integration.test_redials import NOW, RETRY_UNREACHED, _put_policy


def _outcome(campaign_id: str, contact_id: str, call_id: str, **changes: Any) -> CallOutcome:
    fields = {"status": CallStatus.ANSWERED, "disposition": Disposition.PROMISE_TO_PAY, "duration_seconds": 30}
    return CallOutcome(
        vendor="blu", vendor_call_id=call_id, campaign_id=campaign_id, contact_id=contact_id, **(fields | changes)
    )


def _names(counted: Counter[tuple[str, tuple[tuple[str, str], ...]]]) -> Counter[str]:
    names: Counter[str] = Counter()
    for (name, _), value in counted.items():
        names[name] += value
    return names


def test_a_stored_outcome_counts_once_and_its_repeats_never(deps: Any, metrics: Any) -> None:
    campaign_id = _campaign(deps, count=2)
    metrics()
    outcome = _outcome(campaign_id, "c0", "m-1")
    record_outcomes([outcome], deps.store, NOW)
    dimensions = (("vendor", "blu"), ("disposition", "promise_to_pay"), ("source", "webhook"), ("service", "dialhub"))
    assert metrics() == {("CallOutcomes", dimensions): 1}
    record_outcomes([outcome, outcome.model_copy(update={"duration_seconds": 31})], deps.store, NOW)
    assert metrics() == {}  # two repeats (one even reads differently): nothing stored, nothing counted
    record_outcomes([_outcome(campaign_id, "c1", "m-2", status=CallStatus.RINGING)], deps.store, NOW)
    assert metrics() == {}  # not final yet: not an outcome to count


def test_orphans_and_policy_redials_are_counted_as_what_they_are(
    deps: Any, metrics: Any, template: Any, blu_sim: Any
) -> None:
    _put_policy(deps, RETRY_UNREACHED)
    campaign_id = _campaign(deps, count=1, policy=RETRY_UNREACHED["name"])
    assert deps.store.move_contact(campaign_id, "c0", DialState.SUBMITTED, allowed_from={DialState.QUEUED}, now=NOW)
    unreached = _outcome(
        campaign_id, "c0", "m-3", status=CallStatus.NO_ANSWER, disposition=Disposition.NOT_CONNECTED, ended_at=NOW
    )
    nobody = _outcome(campaign_id, "nobody", "m-4")
    metrics()
    record_outcomes([unreached, nobody, unreached, nobody], deps.store, NOW)
    service = ("service", "dialhub")
    assert metrics() == {
        ("CallOutcomes", (("vendor", "blu"), ("disposition", "not_connected"), ("source", "webhook"), service)): 1,
        ("CallOutcomes", (("vendor", "blu"), ("disposition", "promise_to_pay"), ("source", "webhook"), service)): 1,
        ("PolicyRedials", (("vendor", "blu"), ("disposition", "not_connected"), service)): 1,
        ("OrphanOutcomes", (("vendor", "blu"), service)): 1,
    }


def test_a_callback_and_its_retry_count_one_outcome_and_a_refused_callback_counts_a_rejection(
    deps: Any, metrics: Any
) -> None:
    campaign_id = _campaign(deps, count=1)
    result = copy.deepcopy(json.loads(load_event("webhooks/blu_result.json")["body"]))
    result["extVars"] = json.dumps({"campaignId": campaign_id, "contactId": "c0", "attempt": 1})
    metrics()
    for _ in range(3):  # Blu retries a callback it thinks was lost
        assert call_webhook(deps, _callback_event(result))[0] == 200
    assert _names(metrics()) == {"CallOutcomes": 1}
    assert call_webhook(deps, _callback_event(result, token="w" * 32))[0] == 401
    assert metrics() == {("WebhookRejected", (("vendor", "blu"), ("reason", "auth"), ("service", "dialhub"))): 1}
    unreadable = _callback_event({}) | {"body": "{not json"}
    assert call_webhook(deps, unreadable)[0] == 400
    assert metrics() == {("WebhookRejected", (("vendor", "blu"), ("reason", "malformed"), ("service", "dialhub"))): 1}


def test_an_opt_out_heard_on_a_call_the_vendor_redials_suppresses_the_number_at_once(deps: Any, metrics: Any) -> None:
    campaign_id = _campaign(deps, count=1)
    phone = deps.store.get_contact(campaign_id, "c0").phone
    attempt = _outcome(campaign_id, "c0", "m-5", disposition=Disposition.OPT_OUT, closes_contact=False)
    record_outcomes([attempt], deps.store, NOW)
    suppression = deps.store.get_suppression(phone)
    assert suppression is not None and suppression.until is None and suppression.source == "blu"
    assert _names(metrics())["NumbersSuppressedByOutcome"] == 1
    ringing = _outcome(campaign_id, "c0", "m-6", status=CallStatus.RINGING, disposition=Disposition.DO_NOT_CALL)
    deps.store.delete_suppression(phone)
    record_outcomes([ringing], deps.store, NOW)
    assert deps.store.get_suppression(phone) is None  # not an outcome yet: nothing was said


def _recorded_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    """The fields of each `outcome recorded` line logged since the last call."""
    lines = [vars(record) for record in caplog.records if record.getMessage() == "outcome recorded"]
    caplog.clear()
    return lines


def test_each_stored_outcome_is_logged_once_with_how_late_it_came_and_a_repeat_is_not(
    deps: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """The README's Logs Insights queries read this line: a contact's story, and callbacks slow to arrive."""
    campaign_id = _campaign(deps, count=2)
    ended = NOW - dt.timedelta(seconds=90)
    outcome = _outcome(campaign_id, "c0", "m-1", ended_at=ended)
    caplog.clear()
    record_outcomes([outcome, outcome], deps.store, NOW)
    [line] = _recorded_lines(caplog)
    fields = {name: line[name] for name in ("contact_id", "vendor_call_id", "disposition", "final", "result")}
    assert fields == {
        "contact_id": "c0",
        "vendor_call_id": "m-1",
        "disposition": "promise_to_pay",
        "final": True,
        "result": "stored",
    }
    assert line["delay_seconds"] == 90.0
    record_outcomes([_outcome(campaign_id, "c1", "m-2")], deps.store, NOW)  # the vendor said not when it ended
    [line] = _recorded_lines(caplog)
    assert line["contact_id"] == "c1" and line["delay_seconds"] is None

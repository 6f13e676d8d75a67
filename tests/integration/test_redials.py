"""Redials the campaign's policy schedules, and the quiet period after a conversation, through the handlers."""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

from dialhub.dispositions import Disposition
from dialhub.models import CallOutcome, DialState
from dialhub.outcomes import _redial_request, record_outcomes
from dialhub.store import RecordResult
from tests.conftest import (
    api_event,
    call_api,
    call_webhook,
    dispatch_records,
    drain_queue,
    function_module,
    load_event,
    plan_now,
)
from tests.integration.test_blu_flow import _callback_event, _campaign

NOW = dt.datetime(2026, 11, 25, 3, 0, tzinfo=dt.UTC)  # 11:00 in Manila
ALWAYS = [{"weekdays": [1, 2, 3, 4, 5, 6, 7], "start": "00:00", "end": "23:59:59.999999"}]
RETRY_UNREACHED = {
    "name": "retry-unreached",
    "windows": ALWAYS,
    "redial": {"not_connected": {"retryAfterMinutes": 240, "maxAttempts": 3}, "promise_to_pay": {"stop": True}},
}


def _put_policy(deps: Any, body: dict[str, Any]) -> None:
    status, stored = call_api(deps, api_event("api/put_policy.json", path={"name": body["name"]}, body=body))
    assert status == 200, stored


def _replan(deps: Any) -> dict[str, Any]:
    return function_module("scheduler").handle(load_event("schedules/replan.json"), deps)


def _send(deps: Any, template: Any) -> None:
    dispatch_records(deps, drain_queue(deps, template))


def _sent_campaign(deps: Any, template: Any, policy: dict[str, Any] | None, count: int = 1) -> str:
    """A campaign under the policy, planned and sent to Blu at NOW."""
    deps.clock = lambda: NOW
    if policy:
        _put_policy(deps, policy)
    campaign_id = _campaign(deps, count=count, **({"policy": policy["name"]} if policy else {}))
    plan_now(deps)
    _send(deps, template)
    return campaign_id


def _blu_result(
    deps: Any, campaign_id: str, contact_id: str, call_id: int, code: str, ended: dt.datetime
) -> dict[str, Any]:
    """Blu's callback for the contact's current attempt, as the vendor would send it."""
    contact = deps.store.get_contact(campaign_id, contact_id)
    result = copy.deepcopy(json.loads(load_event("webhooks/blu_result.json")["body"]))
    local_end = ended.astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%Y-%m-%d %H:%M:%S")
    unreached = code == "Unconnected"
    result |= {
        "taskId": int(contact.vendor_task_id),
        "callId": call_id,
        "code": code,
        "status": 1 if unreached else 2,
        "desc": code,
        "startTime": local_end,
        "endTime": local_end,
        "answerTime": None if unreached else local_end,
        "duration": 0 if unreached else 40,
        "extVars": json.dumps(
            {
                "campaignId": campaign_id,
                "contactId": contact_id,
                "attempt": contact.attempt,
                "orderId": int(contact.vendor_record_id),
            }
        ),
    }
    return result


def _contact(deps: Any, campaign_id: str, contact_id: str) -> dict[str, Any]:
    status, view = call_api(
        deps, api_event("api/get_contact.json", path={"campaignId": campaign_id, "contactId": contact_id})
    )
    assert status == 200
    return view


def test_an_unreached_contact_is_redialled_after_the_pause_until_its_attempts_are_used(
    deps: Any, template: Any, blu_sim: Any
) -> None:
    campaign_id = _sent_campaign(deps, template, RETRY_UNREACHED)
    for attempt in (1, 2):
        ended = deps.clock() + dt.timedelta(minutes=5)
        result = _blu_result(deps, campaign_id, "c0", 9000 + attempt, "Unconnected", ended)
        assert call_webhook(deps, _callback_event(result))[0] == 200
        assert call_webhook(deps, _callback_event(result))[0] == 200  # Blu retries: no second redial
        view = _contact(deps, campaign_id, "c0")
        redial_at = ended.replace(microsecond=0) + dt.timedelta(hours=4)
        assert (view["state"], view["attempt"]) == ("queued", attempt + 1)
        assert view["hold"]["reason"] == "redial" and view["hold"]["until"] == redial_at.isoformat().replace(
            "+00:00", "Z"
        )
        assert view["attempts"][-1]["redialAt"] and not view["attempts"][-1]["closesContact"]

        deps.clock = lambda at=redial_at - dt.timedelta(minutes=1): at
        assert _replan(deps)["contacts"] == 0  # not before the pause is over
        deps.clock = lambda at=redial_at: at
        assert _replan(deps)["contacts"] == 1  # the campaign is running today: the frequent run plans it
        _send(deps, template)
        assert deps.store.get_contact(campaign_id, "c0").state is DialState.SUBMITTED

    # Third attempt, the last the policy allows: the contact closes with it.
    result = _blu_result(deps, campaign_id, "c0", 9003, "Unconnected", deps.clock() + dt.timedelta(minutes=5))
    assert call_webhook(deps, _callback_event(result))[0] == 200
    view = _contact(deps, campaign_id, "c0")
    assert (view["state"], view["attempt"], view["disposition"]) == ("final", 3, "not_connected")
    assert [a["closesContact"] for a in view["attempts"]] == [False, False, True]
    # Each attempt was its own request at the vendor, each sent once.
    assert sorted(blu_sim.dial_requests.values()) == [1, 1, 1]
    _, campaign = call_api(deps, api_event("api/get_campaign.json", path={"campaignId": campaign_id}))
    assert campaign["byState"] == {"final": 1}


def test_a_stopping_disposition_closes_at_once_and_no_policy_means_no_redial(
    deps: Any, template: Any, blu_sim: Any
) -> None:
    with_policy = _sent_campaign(deps, template, RETRY_UNREACHED, count=2)
    without = _sent_campaign(deps, template, None)
    ended = NOW + dt.timedelta(minutes=3)
    outcomes = [
        _blu_result(deps, with_policy, "c0", 1, "PTP", ended),
        _blu_result(deps, with_policy, "c1", 2, "Unconnected", ended),
        _blu_result(deps, without, "c0", 3, "Unconnected", ended),
    ]
    for result in outcomes:
        assert call_webhook(deps, _callback_event(result))[0] == 200
    assert _contact(deps, with_policy, "c0")["state"] == "final"
    assert _contact(deps, with_policy, "c1")["state"] == "queued"
    assert _contact(deps, without, "c0")["state"] == "final"


def test_a_cancelled_contact_is_not_redialled(deps: Any, template: Any, blu_sim: Any) -> None:
    campaign_id = _sent_campaign(deps, template, RETRY_UNREACHED)
    result = _blu_result(deps, campaign_id, "c0", 77, "Unconnected", NOW)
    # Cancelled after it was sent (as the cancel route does once the vendor confirms); the call raced it.
    assert deps.store.move_contact(campaign_id, "c0", DialState.CANCELLED, now=NOW, allowed_from={DialState.SUBMITTED})
    assert call_webhook(deps, _callback_event(result))[0] == 200
    assert _contact(deps, campaign_id, "c0")["state"] == "final"  # what happened, and nothing more
    deps.clock = lambda: NOW + dt.timedelta(hours=5)
    assert _replan(deps)["contacts"] == 0 and plan_now(deps)["contacts"] == 0


def test_a_conversation_keeps_the_number_quiet_in_every_campaign(deps: Any, template: Any, blu_sim: Any) -> None:
    first = _sent_campaign(deps, template, {"name": "quiet-day", "windows": ALWAYS, "minGapAfterConversationHours": 24})
    talked_at = NOW + dt.timedelta(minutes=10)
    assert call_webhook(deps, _callback_event(_blu_result(deps, first, "c0", 501, "PTP", talked_at)))[0] == 200

    # The same number in a later campaign (same policy) waits out the quiet period after the conversation.
    deps.clock = lambda: NOW + dt.timedelta(hours=2)
    second = _campaign(deps, count=1, policy="quiet-day")
    assert plan_now(deps)["held"] == 1
    hold = deps.store.get_contact(second, "c0").hold
    assert hold.reason == "capped" and hold.until == talked_at.replace(microsecond=0) + dt.timedelta(hours=24)
    deps.clock = lambda: talked_at + dt.timedelta(hours=24, minutes=1)
    assert plan_now(deps)["contacts"] == 1


def test_outcomes_recorded_directly_follow_the_same_redial_rule(deps: Any, template: Any, blu_sim: Any) -> None:
    """The poller's path (record_outcomes) decides as the webhook does."""
    campaign_id = _sent_campaign(deps, template, RETRY_UNREACHED)
    outcome = CallOutcome(
        vendor="blu",
        vendor_call_id="p1",
        campaign_id=campaign_id,
        contact_id="c0",
        status="no_answer",
        disposition="not_connected",
        ended_at=NOW,
        source="poll",
    )
    assert record_outcomes([outcome], deps.store, NOW) == {RecordResult.REDIAL: 1}
    assert record_outcomes([outcome], deps.store, NOW) == {RecordResult.DUPLICATE: 1}
    assert deps.store.finished_calls("blu", ["p1"]) == {"p1": True}  # the poller skips it from now on
    assert deps.store.get_contact(campaign_id, "c0").attempt == 2


def test_a_late_copy_of_a_redialled_call_never_closes_the_contact_waiting_for_its_redial(
    deps: Any, template: Any, blu_sim: Any
) -> None:
    """Blu retries a callback; the copy may even read differently (here: PTP, which stops dialling, where the
    first said unreached). The call was redialled under the policy: the contact waits for its next attempt,
    and no copy of that call may close it or write to it."""
    campaign_id = _sent_campaign(deps, template, RETRY_UNREACHED)
    ended = NOW + dt.timedelta(minutes=5)
    first = _blu_result(deps, campaign_id, "c0", 9100, "Unconnected", ended)
    assert call_webhook(deps, _callback_event(first))[0] == 200
    waiting = deps.store.get_contact(campaign_id, "c0")
    stored = deps.store.get_outcome("blu", "9100")
    assert waiting.state is DialState.QUEUED and waiting.hold.reason == "redial" and stored.redial_at

    for copy_of_it in (
        first,
        first | {"code": "PTP", "status": 2, "desc": "PTP", "answerTime": first["endTime"], "duration": 40},
    ):
        assert call_webhook(deps, _callback_event(copy_of_it))[0] == 200
        assert deps.store.get_contact(campaign_id, "c0") == waiting
        assert deps.store.get_outcome("blu", "9100") == stored
    outcome = deps.store.get_outcome("blu", "9100").model_copy(update={"closes_contact": True, "redial_at": None})
    assert record_outcomes(
        [outcome.model_copy(update={"disposition": Disposition.PROMISE_TO_PAY})], deps.store, NOW
    ) == {RecordResult.DUPLICATE: 1}
    assert deps.store.get_contact(campaign_id, "c0") == waiting


def test_a_redial_is_asked_only_after_a_closing_call_and_names_its_reason_and_the_campaigns_day(deps: Any) -> None:
    deps.clock = lambda: NOW
    _put_policy(deps, RETRY_UNREACHED)
    campaign_id = _campaign(deps, count=1, policy="retry-unreached", timezone="Asia/Manila")
    ended = dt.datetime(2026, 11, 25, 12, 30, tzinfo=dt.UTC)  # four hours later it is the 26th in Manila, not in UTC
    outcome = CallOutcome(
        vendor="blu",
        vendor_call_id="r1",
        campaign_id=campaign_id,
        contact_id="c0",
        status="no_answer",
        disposition="not_connected",
        ended_at=ended,
    )
    request = _redial_request(outcome, deps.store, NOW)
    assert request is not None
    assert (request.hold.reason, request.hold.detail) == ("redial", "not_connected; policy retry-unreached")
    assert request.hold.until == ended + dt.timedelta(minutes=240) and request.dial_date == dt.date(2026, 11, 26)
    assert _redial_request(outcome.model_copy(update={"closes_contact": False}), deps.store, NOW) is None
    assert _redial_request(outcome.model_copy(update={"campaign_id": None}), deps.store, NOW) is None

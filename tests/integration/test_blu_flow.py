"""Blu end to end through the real handlers: schedule -> SQS -> dispatcher -> simulator -> webhook / poller."""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from dialhub.models import DialState
from dialhub.store import DynamoStore
from tests.conftest import (
    WEBHOOK_TOKEN,
    api_event,
    call_api,
    call_webhook,
    crash_before_settling,
    dispatch_records,
    drain_queue,
    function_module,
    load_event,
    plan_now,
    poll_now,
    states,
    what_it_wrote,
)


def _campaign(deps: Any, count: int = 5, **changes: Any) -> str:
    contacts = [
        {"contactId": f"c{i}", "phone": f"0917123{i:04d}", "name": "Maria", "variables": {"amountDue": 100 + i}}
        for i in range(count)
    ]
    body = {"name": "flow", "vendor": "blu", "vendorOptions": {"botId": 7}, "contacts": contacts} | changes
    status, created = call_api(deps, api_event("api/create_campaign.json", body=body))
    assert status == 201, created
    return created["campaignId"]


def _callback_event(result: dict[str, Any], token: str = WEBHOOK_TOKEN) -> dict[str, Any]:
    event = copy.deepcopy(load_event("webhooks/blu_result.json"))
    event["body"] = json.dumps(result)
    event["queryStringParameters"] = {"token": token}
    event["rawQueryString"] = f"token={token}"
    return event


def test_schedule_plans_vendor_sized_batches_on_the_queue(deps: Any, template: Any) -> None:
    campaign_id = _campaign(deps, count=450)
    summary = plan_now(deps)
    assert summary == {"campaigns": 1, "batches": 3, "contacts": 450, "held": 0, "unfinished": 0, "failed_over": 0}
    records = drain_queue(deps, template)
    sizes = sorted(len(json.loads(r["body"])["contactIds"]) for r in records)
    assert sizes == [50, 200, 200]
    assert states(deps.store, campaign_id) == {"planned": 450}
    assert plan_now(deps)["contacts"] == 0  # nothing is planned twice


def test_every_call_reaches_one_final_outcome_through_polling(deps: Any, template: Any, blu_sim: Any) -> None:
    campaign_id = _campaign(deps, count=12)
    plan_now(deps)
    assert dispatch_records(deps, drain_queue(deps, template)) == {"batchItemFailures": []}
    assert states(deps.store, campaign_id) == {"submitted": 12}
    assert blu_sim.wait_idle(10)
    summary = poll_now(deps)
    assert summary["recovered"] == 12 and summary["closed"] == 1
    assert states(deps.store, campaign_id) == {"final": 12}
    status, contact = call_api(
        deps, api_event("api/get_contact.json", path={"campaignId": campaign_id, "contactId": "c3"})
    )
    assert status == 200 and contact["state"] == "final" and len(contact["attempts"]) == 1
    attempt = contact["attempts"][0]
    assert attempt["source"] == "poll" and attempt["campaignId"] == campaign_id and attempt["contactId"] == "c3"
    status, call = call_api(deps, api_event("api/get_call.json", path={"vendorCallId": attempt["vendorCallId"]}))
    assert status == 200 and call["vendorCallId"] == attempt["vendorCallId"]
    # The same results again, pushed late by Blu's retries: nothing changes.
    for result in blu_sim.results_for(int(attempt["vendorTaskId"])):
        assert call_webhook(deps, _callback_event(result)) == (200, {"code": 200, "message": "success"})
    assert deps.store.contact_history(campaign_id, "c3")[0].source == "poll"
    assert max(blu_sim.dial_requests.values()) == 1


def test_redelivered_batch_dials_nobody_twice(deps: Any, template: Any, blu_sim: Any) -> None:
    campaign_id = _campaign(deps, count=5)
    plan_now(deps)
    records = drain_queue(deps, template)
    dispatch_records(deps, records)
    dispatch_records(deps, records)
    assert sum(blu_sim.dial_requests.values()) == 5 and max(blu_sim.dial_requests.values()) == 1
    assert states(deps.store, campaign_id) == {"submitted": 5}


def test_crash_between_vendor_acceptance_and_our_write_dials_nobody_twice(
    deps: Any, template: Any, blu_sim: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    campaign_id = _campaign(deps, count=4)
    plan_now(deps)
    records = drain_queue(deps, template)
    stop_crashing = crash_before_settling(monkeypatch)
    first = dispatch_records(deps, records)
    assert len(first["batchItemFailures"]) == 1
    assert states(deps.store, campaign_id) == {"submitting": 4}
    stop_crashing()
    assert dispatch_records(deps, records) == {"batchItemFailures": []}
    # Blu answers the resend with `count: 0` (it holds every record already): an answer that does not account
    # for the records sent leaves them unconfirmed, and the poller settles them from Blu's results.
    assert states(deps.store, campaign_id) == {"unconfirmed": 4}
    assert sum(blu_sim.dial_requests.values()) == 4 and max(blu_sim.dial_requests.values()) == 1
    assert blu_sim.wait_idle(10)
    poll_now(deps)
    assert states(deps.store, campaign_id) == {"final": 4}


def test_a_crash_part_way_through_settling_loses_neither_the_count_nor_the_job(
    deps: Any, template: Any, blu_sim: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Contacts settled before the crash are not sent again, so the poller must still expect their results."""
    campaign_id = _campaign(deps, count=6)
    plan_now(deps)
    records = drain_queue(deps, template)
    real_move, settled = DynamoStore.move_contact, []

    def crash_on_the_third_settle(self: DynamoStore, *args: Any, **kwargs: Any) -> bool:
        if args[2] == DialState.SUBMITTED:
            if len(settled) >= 2:
                raise ClientError({"Error": {"Code": "InternalServerError", "Message": "boom"}}, "UpdateItem")
            settled.append(args[1])
        return real_move(self, *args, **kwargs)

    monkeypatch.setattr(DynamoStore, "move_contact", crash_on_the_third_settle)
    assert len(dispatch_records(deps, records)["batchItemFailures"]) == 1
    monkeypatch.setattr(DynamoStore, "move_contact", real_move)
    assert dispatch_records(deps, records) == {"batchItemFailures": []}
    assert states(deps.store, campaign_id) == {"submitted": 2, "unconfirmed": 4}  # the resend is counted 0
    [task] = deps.store.campaign_tasks(campaign_id, "blu")
    assert task.submitted >= 6  # never fewer than were sent: the poller would stop before every result is in
    contacts = deps.store.get_contacts(campaign_id, [f"c{index}" for index in range(6)])
    assert {contact.vendor_job_id for contact in contacts.values()} <= set(task.job_ids)
    assert sum(blu_sim.dial_requests.values()) == 6 and max(blu_sim.dial_requests.values()) == 1


def test_transient_vendor_failures_are_retried_and_then_left_to_sqs(deps: Any, template: Any, blu_sim: Any) -> None:
    campaign_id = _campaign(deps, count=3)
    plan_now(deps)
    records = drain_queue(deps, template)
    blu_sim.fail_next(2, status=503)  # createTask fails twice, then the retry library gets through
    assert dispatch_records(deps, records) == {"batchItemFailures": []}
    assert states(deps.store, campaign_id) == {"submitted": 3}

    second = _campaign(deps, count=2)
    plan_now(deps)
    records = drain_queue(deps, template)
    blu_sim.fail_next(50, status=503)
    assert len(dispatch_records(deps, records)["batchItemFailures"]) == 1  # SQS will deliver it again
    assert states(deps.store, second) == {"planned": 2}  # Blu never answered: nothing was claimed
    blu_sim.fail_next(0)
    assert dispatch_records(deps, records) == {"batchItemFailures": []}
    assert states(deps.store, second) == {"submitted": 2}


def test_vendor_refusal_is_recorded_per_contact_with_the_vendors_reason(
    deps: Any, template: Any, monkeypatch: Any
) -> None:
    campaign_id = _campaign(deps, count=2, vendorOptions={"botId": 7})
    plan_now(deps)
    records = drain_queue(deps, template)
    adapter = deps.adapters.get("blu")
    monkeypatch.setattr(adapter.account, "app_key", type(adapter.account.app_key)("wrong-key"))
    assert dispatch_records(deps, records) == {"batchItemFailures": []}
    contact = deps.store.get_contact(campaign_id, "c0")
    assert contact.state == DialState.FAILED and "blu error 4001" in contact.reason


def test_webhook_stores_once_and_answers_blus_ack(deps: Any) -> None:
    event = load_event("webhooks/blu_result.json")
    writes, changed = what_it_wrote(deps.store, lambda: call_webhook(deps, event))
    # Its contact is not in this table: the outcome is kept as an orphan, with its raw payload (2 items).
    assert writes == {"TransactWriteItems": 2} and changed == 2
    answers = []
    writes, changed = what_it_wrote(deps.store, lambda: answers.append(call_webhook(deps, event)))
    assert answers == [(200, {"code": 200, "message": "success"})]  # Blu's retry is acknowledged ...
    assert writes == {"TransactWriteItems": 1} and changed == 0  # ... with one refused write, nothing changed
    outcome = deps.store.get_outcome("blu", "123654789")
    assert outcome.disposition == "promise_to_pay" and outcome.status == "answered"
    assert outcome.variables["paymentWindowUtc"] == ["2026-11-25T16:00:00+00:00", "2026-11-26T15:59:59+00:00"]
    assert outcome.started_at.isoformat() == "2026-11-25T02:00:00+00:00"  # Manila local -> UTC


@pytest.mark.parametrize(
    "name",
    [
        "webhooks/blu_result.json",
        "webhooks/blu_result_data_wrapper.json",
    ],
)
def test_every_documented_callback_shape_is_accepted(deps: Any, name: str) -> None:
    assert call_webhook(deps, load_event(name))[0] == 200


def test_the_documented_placeholder_whose_records_carry_no_result_is_not_acknowledged(deps: Any) -> None:
    """Blu retries anything but 200 (five times, five minutes apart): a body with no call result in it is
    answered 422, so it is not taken for delivered; the poller finds the call either way."""
    status, reply = call_webhook(deps, load_event("webhooks/blu_result_records_placeholder.json"))
    assert status == 422 and "carry no call result" in reply["message"]


def test_wrong_token_or_source_is_401_and_stores_nothing(deps: Any) -> None:
    event = _callback_event(json.loads(load_event("webhooks/blu_result.json")["body"]), token="x" * 32)
    assert call_webhook(deps, event) == (401, {"message": "unauthorized"})
    no_token = copy.deepcopy(load_event("webhooks/blu_result.json"))
    no_token.pop("queryStringParameters")
    assert call_webhook(deps, no_token)[0] == 401
    assert deps.store.get_outcome("blu", "123654789") is None


def test_ip_allowlist_is_enforced_when_configured(deps: Any, blu_sim: Any) -> None:
    from dialhub.vendors import StaticAdapters
    from dialhub.vendors.blu.adapter import BluAdapter
    from tests.conftest import blu_account

    deps.adapters = StaticAdapters({"blu": BluAdapter(blu_account(blu_sim.base_url, ipAllowlist=["47.100.0.0/16"]))})
    assert call_webhook(deps, load_event("webhooks/blu_result.json"))[0] == 200
    elsewhere = copy.deepcopy(load_event("webhooks/blu_result.json"))
    elsewhere["requestContext"]["http"]["sourceIp"] = "203.0.113.9"
    assert call_webhook(deps, elsewhere)[0] == 401


@pytest.mark.parametrize(
    "body", ["{not json", "[1, 2]", "{}", '{"callId": 1, "startTime": {"a": 1}}', '"just a string"']
)
def test_malformed_callback_is_400_and_stores_nothing(deps: Any, body: str) -> None:
    event = copy.deepcopy(load_event("webhooks/blu_result.json"))
    event["body"] = body
    status, reply = call_webhook(deps, event)
    assert status in (200, 400), reply
    if status == 200:  # a readable body whose items carry no result
        assert reply == {"code": 200, "message": "success"}
    assert deps.store.get_outcome("blu", "123654789") is None


def test_storage_failure_answers_5xx_so_blu_retries(deps: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def throttled(*args: Any, **kwargs: Any) -> Any:
        raise ClientError(
            {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow"}}, "TransactWriteItems"
        )

    with monkeypatch.context() as patched:
        patched.setattr(DynamoStore, "record_outcome", throttled)
        status, _ = call_webhook(deps, load_event("webhooks/blu_result.json"))
    assert status == 503
    assert deps.store.get_outcome("blu", "123654789") is None
    assert call_webhook(deps, load_event("webhooks/blu_result.json"))[0] == 200  # Blu's retry lands


def test_unknown_vendor_and_kind_are_404(deps: Any) -> None:
    event = copy.deepcopy(load_event("webhooks/blu_result.json"))
    event["pathParameters"] = {"vendor": "acme"}
    assert call_webhook(deps, event)[0] == 404
    event["pathParameters"] = {"vendor": "blu", "kind": "surprise"}
    assert call_webhook(deps, event)[0] == 404


def test_predial_says_dial_only_for_a_contact_still_waiting(deps: Any, template: Any, blu_sim: Any) -> None:
    campaign_id = _campaign(deps, count=3)
    plan_now(deps)
    dispatch_records(deps, drain_queue(deps, template))

    def ask(contact_id: str) -> Any:
        event = copy.deepcopy(load_event("webhooks/blu_predial.json"))
        body = json.loads(event["body"])
        body["extVars"] = json.dumps({"campaignId": campaign_id, "contactId": contact_id, "attempt": 1})
        event["body"] = json.dumps(body)
        return call_webhook(deps, event)

    assert ask("c0") == (200, {"code": 1, "message": "Call"})
    deps.store.move_contact(
        campaign_id, "c1", DialState.CANCELLED, allowed_from={DialState.SUBMITTED}, now=dt.datetime.now(dt.UTC)
    )
    assert ask("c1") == (200, {"code": 0, "message": "Cancel call"})
    assert ask("nobody") == (200, {"code": 0, "message": "Cancel call"})


@pytest.mark.parametrize(("fail_open", "code"), [(False, 0), (True, 1)])
def test_predial_fails_open_or_closed_as_configured(
    deps: Any, monkeypatch: pytest.MonkeyPatch, fail_open: bool, code: int
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise ClientError({"Error": {"Code": "InternalServerError", "Message": "down"}}, "GetItem")

    monkeypatch.setattr(DynamoStore, "get_contact", broken)
    deps.settings = deps.settings.model_copy(update={"predial_fail_open": fail_open})
    assert call_webhook(deps, load_event("webhooks/blu_predial.json"))[1]["code"] == code


def test_cancel_after_submission_cancels_at_blu(deps: Any, template: Any, blu_sim: Any) -> None:
    blu_sim.dial_delay = (5.0, 5.0)  # keep the calls waiting so they can still be cancelled
    campaign_id = _campaign(deps, count=2)
    plan_now(deps)
    dispatch_records(deps, drain_queue(deps, template))
    status, view = call_api(
        deps, api_event("api/cancel_contact.json", path={"campaignId": campaign_id, "contactId": "c0"})
    )
    assert status == 200 and view["state"] == "cancelled"
    task_id = int(deps.store.get_contact(campaign_id, "c0").vendor_task_id)
    [cancelled] = [r for r in blu_sim.results_for(task_id) if r["code"] == "Taskcancel"]
    assert json.loads(cancelled["extVars"])["contactId"] == "c0"


def test_final_contact_cannot_be_cancelled(deps: Any, template: Any, blu_sim: Any) -> None:
    campaign_id = _campaign(deps, count=1)
    plan_now(deps)
    dispatch_records(deps, drain_queue(deps, template))
    assert blu_sim.wait_idle(10)
    poll_now(deps)
    status, body = call_api(
        deps, api_event("api/cancel_contact.json", path={"campaignId": campaign_id, "contactId": "c0"})
    )
    assert status == 409 and "final" in body["message"]


def test_dispatch_now_plans_without_waiting_for_the_schedule(deps: Any) -> None:
    campaign_id = _campaign(deps, count=3, dialDate="2030-01-01")
    assert plan_now(deps)["contacts"] == 0  # not due yet
    status, body = call_api(deps, api_event("api/dispatch_campaign.json", path={"campaignId": campaign_id}))
    assert status == 200 and body["contacts"] == 3 and body["batches"] == 1


@pytest.mark.heavy
def test_a_plan_run_out_of_time_stops_between_batches_and_the_next_run_goes_on(
    deps: Any, template: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dialhub.planning as planning

    campaigns = [_campaign(deps, count=2_500), _campaign(deps, count=5)]  # 13 Blu batches, then 1
    scheduler = function_module("scheduler")
    ticks = iter([0.0])  # planning's clock: the first campaign starts in time, then the time is up

    class Clock:
        @staticmethod
        def monotonic() -> float:
            return next(ticks, float("inf"))

    monkeypatch.setattr(planning, "time", Clock)
    first = scheduler.handle(load_event("schedules/daily_plan.json"), deps, remaining_seconds=60.0)
    # Campaigns come in id order (random ids): the large one stops after one flush and the other is not
    # begun, or the small one is planned whole and the large one is not begun.
    assert (first["contacts"], first["unfinished"]) in {(2_000, 2), (5, 1)}
    monkeypatch.undo()
    rest = scheduler.handle(load_event("schedules/replan.json"), deps)  # both count as running today
    assert (rest["contacts"], rest["unfinished"]) == (2_505 - first["contacts"], 0)
    assert len(drain_queue(deps, template)) == 14
    assert [states(deps.store, campaign_id) for campaign_id in campaigns] == [{"planned": 2_500}, {"planned": 5}]

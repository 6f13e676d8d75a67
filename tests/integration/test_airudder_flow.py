"""AIRudder end to end through the real handlers and moto: API -> schedule -> SQS -> dispatcher -> AIRudder
simulator -> webhooks through the template's routes (signed and encrypted) / the poller."""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

import pytest

from dialhub.queue import DispatchQueue
from dialhub.settings import Settings
from dialhub.store import DynamoStore
from dialhub.vendors import StaticAdapters
from dialhub.vendors.airudder.adapter import AirudderAdapter
from dialhub.vendors.airudder.tokens import forget_tokens
from dialhub.vendors.airudder.wire import AirudderAccount
from dialhub.wiring import Dependencies
from local.gateway import LocalGateway
from local.simulators.airudder import AirudderSimulator, encrypt_body, sign_body
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

APP_KEY = "ar-flow-appkey"
APP_SECRET = "ar-flow-appsecret-0123456789"
OPTIONS = {
    "robotId": "e9f60ec4e5f1721c7992dc882767eb19",
    "sipLine": "PH_LINE",
    "repeatNumber": 1,
    "repeatInterval": 1,
    "extraFields": {"ExtraA": "amountDue", "ExtraB": "dueDate"},
}
REFUSED_PREFIX = "+63999"  # the simulator answers these with a detail_error_list row


@pytest.fixture(autouse=True)
def _fresh_tokens() -> Any:
    forget_tokens()
    yield
    forget_tokens()


@pytest.fixture
def sim() -> Any:
    simulator = AirudderSimulator(
        APP_KEY,
        APP_SECRET,
        dial_delay=(0.01, 0.05),
        minute_seconds=0.01,
        retry_interval=0.05,
        sign_callbacks=True,
        encrypt_callbacks=True,
        refused_prefixes=(REFUSED_PREFIX,),
        seed=13,
    ).start()
    yield simulator
    simulator.stop()


def _adapter(sim: AirudderSimulator, clock: Any = None, **overrides: Any) -> AirudderAdapter:
    secret = sim.account(WEBHOOK_TOKEN) | {"queryBackoffSeconds": 0} | overrides
    return AirudderAdapter(AirudderAccount.model_validate(secret), clock=clock)


@pytest.fixture
def deps(table_name: str, queue_url: str, sim: AirudderSimulator) -> Dependencies:
    settings = Settings(table_name=table_name, dispatch_queue_url=queue_url, default_phone_region="PH")
    return Dependencies(
        settings=settings,
        store=DynamoStore(table_name),
        queue=DispatchQueue(queue_url),
        adapters=StaticAdapters({"airudder": _adapter(sim)}),
    )


@pytest.fixture
def webhooks(deps: Dependencies, template: Any, sim: AirudderSimulator) -> Any:
    """The template's webhook routes on loopback, running the real webhooks handler with these dependencies."""
    deps.store.client  # noqa: B018 - build the boto3 client here, not concurrently in gateway threads
    routes = [route for route in template.routes if route.function_id == "WebhooksFunction"]
    gateway = LocalGateway(routes, lambda _function, event: function_module("webhooks").handle(event, deps)).start()
    sim.call_url = f"{gateway.url}/webhooks/airudder/call?token={WEBHOOK_TOKEN}"
    sim.task_url = f"{gateway.url}/webhooks/airudder/task?token={WEBHOOK_TOKEN}"
    yield gateway
    gateway.stop()


def _use(deps: Dependencies, adapter: AirudderAdapter) -> AirudderAdapter:
    deps.adapters = StaticAdapters({"airudder": adapter})
    return adapter


def _contacts(count: int) -> list[dict[str, Any]]:
    return [
        {
            "contactId": f"c{i}",
            "phone": f"0917123{i:04d}",
            "name": "Maria Santos",
            "variables": {"amountDue": 1000 + i, "dueDate": "2026-11-30"},
        }
        for i in range(count)
    ]


def _campaign(deps: Any, count: int = 5, contacts: list[dict[str, Any]] | None = None, **changes: Any) -> str:
    body = {
        "name": "flow",
        "vendor": "airudder",
        "vendorOptions": OPTIONS,
        "contacts": _contacts(count) if contacts is None else contacts,
    } | changes
    status, created = call_api(deps, api_event("api/create_campaign.json", body=body))
    assert status == 201, created
    return created["campaignId"]


def _sent(deps: Any, template: Any, count: int = 5, **changes: Any) -> str:
    campaign_id = _campaign(deps, count, **changes)
    plan_now(deps)
    assert dispatch_records(deps, drain_queue(deps, template)) == {"batchItemFailures": []}
    return campaign_id


# --------------------------------------------------------------------------- intake
def test_vendor_options_are_checked_when_the_campaign_is_created(deps: Any) -> None:
    body = {"name": "bad", "vendor": "airudder", "vendorOptions": OPTIONS | {"repeatNumber": 16}, "contacts": []}
    status, answer = call_api(deps, api_event("api/create_campaign.json", body=body))
    assert status == 422 and answer["errors"][0]["field"] == "vendorOptions.repeatNumber"
    body["vendorOptions"] = {k: v for k, v in OPTIONS.items() if k != "robotId"}
    assert call_api(deps, api_event("api/create_campaign.json", body=body))[1]["errors"][0]["field"] == (
        "vendorOptions.robotId"
    )


def test_contacts_airudder_cannot_take_are_rejected_at_intake(deps: Any) -> None:
    contacts = [
        *_contacts(2),
        {"contactId": "no-due-date", "phone": "09171230099", "variables": {"amountDue": 5}},
        {"contactId": "x" * 60, "phone": "09171230098", "variables": {"amountDue": 5, "dueDate": "d"}},
    ]
    status, created = call_api(
        deps,
        api_event(
            "api/create_campaign.json",
            body={"name": "intake", "vendor": "airudder", "vendorOptions": OPTIONS, "contacts": contacts},
        ),
    )
    assert status == 201 and created["accepted"] == 2
    reasons = {rejection["index"]: rejection["reason"] for rejection in created["rejections"]}
    assert "'dueDate' is missing" in reasons[2] and "Comments" in reasons[3]


# --------------------------------------------------------------------------- dispatch, webhooks, polling
def test_signed_encrypted_webhooks_settle_every_contact_and_polling_closes_the_task(
    deps: Any, template: Any, sim: AirudderSimulator, webhooks: Any
) -> None:
    campaign_id = _sent(deps, template, count=12)
    [task_id] = sim.task_ids()
    assert sim.wait_idle(15)
    assert states(deps.store, campaign_id) == {"final": 12}
    contact = deps.store.get_contact(campaign_id, "c3")
    assert contact.vendor_job_id == task_id and contact.vendor_record_id == f"{campaign_id}|c3"
    [attempt] = deps.store.contact_history(campaign_id, "c3")
    assert attempt.source == "webhook" and attempt.closes_contact and attempt.variables["attempts"] >= 1
    assert attempt.variables["raw"]["Mobile"].startswith("***")
    summary = poll_now(deps)
    assert summary["recovered"] == 0 and summary["closed"] == 1 and summary["results"] == 12
    assert max(sim.dial_requests.values()) == 1 and sum(sim.dial_requests.values()) == 12
    assert sim.callbacks_delivered == 13  # twelve calls and the task


def test_lost_webhooks_are_recovered_by_polling(deps: Any, template: Any, sim: AirudderSimulator) -> None:
    campaign_id = _sent(deps, template, count=10)  # no webhook URL: every call webhook is lost
    assert sim.wait_idle(15)
    assert states(deps.store, campaign_id) == {"submitted": 10}
    summary = poll_now(deps)
    assert summary["recovered"] == 10 and summary["closed"] == 1
    assert states(deps.store, campaign_id) == {"final": 10}
    assert {deps.store.contact_history(campaign_id, f"c{i}")[0].source for i in range(10)} == {"poll"}
    assert poll_now(deps)["tasks"] == 0  # the task is closed: nothing more is asked of AIRudder
    # The same results pushed late by AIRudder's retries, twice: acknowledged, and nothing changes.
    [task_id] = sim.task_ids()
    row = next(row for row in sim.rows(task_id) if row["Comments"] == f"{campaign_id}|c3")
    body = encrypt_body(json.dumps(row).encode(), sim.aes_key, sim.aes_iv)
    late = _event(body=body.decode(), headers={"x-airudder-sign": sign_body(APP_SECRET, body)})
    assert call_webhook(deps, late) == (200, {"status": "success"})
    assert call_webhook(deps, late) == (200, {"status": "success"})
    [attempt] = deps.store.contact_history(campaign_id, "c3")
    assert attempt.source == "poll" and attempt.vendor_call_id == row["CallID"]


def test_a_chunk_larger_than_the_task_size_becomes_several_airudder_tasks(
    deps: Any, template: Any, sim: AirudderSimulator
) -> None:
    _use(deps, _adapter(sim, taskSize=4))
    campaign_id = _sent(deps, template, count=10)
    assert len(sim.task_ids()) == 3 and max(sim.dial_requests.values()) == 1
    assert sim.wait_idle(15)
    assert poll_now(deps)["recovered"] == 10
    assert states(deps.store, campaign_id) == {"final": 10}


def test_a_number_airudder_refuses_fails_with_its_reason(deps: Any, template: Any, sim: AirudderSimulator) -> None:
    contacts = [
        *_contacts(3),
        {
            "contactId": "refused",
            "phone": "09991234567",
            "name": "Ana",
            "variables": {"amountDue": 1, "dueDate": "2026-11-30"},
        },
    ]
    campaign_id = _campaign(deps, contacts=contacts)
    plan_now(deps)
    dispatch_records(deps, drain_queue(deps, template))
    assert states(deps.store, campaign_id) == {"submitted": 3, "failed": 1}
    refused = deps.store.get_contact(campaign_id, "refused")
    assert refused.reason == "airudder refused the number: Country Code Error: ***4567"
    assert "refused" not in {key.split("|")[1] for key in sim.dial_requests}
    [task] = deps.store.campaign_tasks(campaign_id, "airudder")
    assert task.submitted == 3  # only what AIRudder accepted is waited for


def test_a_lost_create_answer_is_retried_into_10508_and_nobody_is_dialled_twice(
    deps: Any, template: Any, sim: AirudderSimulator
) -> None:
    campaign_id = _campaign(deps, count=4)
    plan_now(deps)
    records = drain_queue(deps, template)
    deps.adapters.get("airudder")._token()  # the token is cached: the next request is the create
    sim.lose_next_responses(1)  # AIRudder creates the task, the answer is lost, the client retries
    assert dispatch_records(deps, records) == {"batchItemFailures": []}
    [task_id] = sim.task_ids()
    assert sim.create_requests == 2 and max(sim.dial_requests.values()) == 1
    assert states(deps.store, campaign_id) == {"submitted": 4}
    assert {deps.store.get_contact(campaign_id, f"c{i}").vendor_job_id for i in range(4)} == {task_id}
    assert dispatch_records(deps, records) == {"batchItemFailures": []}  # SQS delivers the batch once more
    assert sim.create_requests == 2 and sum(sim.dial_requests.values()) == 4


def test_a_number_refused_inside_a_create_whose_answer_was_lost_fails_at_once_on_the_10508_retry(
    deps: Any, template: Any, sim: AirudderSimulator
) -> None:
    """The lost answer carried AIRudder's refusal of one number: the retry meets 10508, the task's detail has no
    row for that number, so it fails now with the reason, and is neither dialled nor left for the horizon."""
    contacts = [*_contacts(3), {**_contacts(4)[3], "phone": "09991234567"}]  # +63999...: the simulator refuses it
    campaign_id = _campaign(deps, contacts=contacts)
    plan_now(deps)
    records = drain_queue(deps, template)
    deps.adapters.get("airudder")._token()  # the token is cached: the next request is the create
    sim.lose_next_responses(1)
    assert dispatch_records(deps, records) == {"batchItemFailures": []}
    assert sim.create_requests == 2 and max(sim.dial_requests.values()) == 1
    assert states(deps.store, campaign_id) == {"submitted": 3, "failed": 1}
    refused = deps.store.get_contact(campaign_id, "c3")
    assert "10508" in refused.reason and "does not hold the number" in refused.reason
    [task] = deps.store.campaign_tasks(campaign_id, "airudder")
    assert (task.submitted, task.unconfirmed) == (3, 0)  # the poller waits for three results, not four


def test_crash_between_airudder_acceptance_and_our_write_dials_nobody_twice(
    deps: Any, template: Any, sim: AirudderSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    campaign_id = _campaign(deps, count=4)
    plan_now(deps)
    records = drain_queue(deps, template)
    stop_crashing = crash_before_settling(monkeypatch)
    assert len(dispatch_records(deps, records)["batchItemFailures"]) == 1
    assert states(deps.store, campaign_id) == {"submitting": 4}
    stop_crashing()
    assert dispatch_records(deps, records) == {"batchItemFailures": []}
    assert states(deps.store, campaign_id) == {"submitted": 4}
    assert len(sim.task_ids()) == 1 and max(sim.dial_requests.values()) == 1
    [task] = deps.store.campaign_tasks(campaign_id, "airudder")
    assert task.job_ids == sim.task_ids()


def test_query_limit_makes_the_poller_back_off_and_come_back(deps: Any, template: Any, sim: AirudderSimulator) -> None:
    now = [dt.datetime.now(dt.UTC)]
    _use(deps, _adapter(sim, clock=lambda: now[0], queryCooldownSeconds=300))
    campaign_id = _sent(deps, template, count=5)
    assert sim.wait_idle(15)
    sim.query_limit = 0
    first = poll_now(deps)
    assert first["failed_tasks"] == 1 and first["recovered"] == 0 and first["closed"] == 0
    asked = sim.query_requests
    assert 1 <= asked <= 3 and sim.queries_refused == asked  # bounded retries, no hammering
    assert poll_now(deps)["failed_tasks"] == 1 and sim.query_requests == asked  # cooling down: not even asked
    sim.query_limit = 50
    now[0] += dt.timedelta(minutes=6)
    assert poll_now(deps)["recovered"] == 5
    assert states(deps.store, campaign_id) == {"final": 5}


def test_an_expired_token_costs_one_refresh(deps: Any, template: Any, sim: AirudderSimulator) -> None:
    _sent(deps, template, count=3)
    assert sim.auth_requests == 1 and sim.wait_idle(15)
    sim.expire_tokens()
    assert poll_now(deps)["recovered"] == 3
    assert sim.auth_requests == 2
    sim.revoke_tokens()  # AIRudder forgot it: HTTP 401, one more refresh
    _campaign(deps, count=2, campaignId="second")
    plan_now(deps)
    assert dispatch_records(deps, drain_queue(deps, template)) == {"batchItemFailures": []}
    assert sim.auth_requests == 3


# --------------------------------------------------------------------------- the webhook handler
def _event(
    kind: str = "call", body: Any = None, token: str = WEBHOOK_TOKEN, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    event = copy.deepcopy(load_event(f"webhooks/airudder_{kind}.json"))
    if body is not None:
        event["body"] = body if isinstance(body, str) else json.dumps(body)
    event["queryStringParameters"] = {"token": token}
    event["rawQueryString"] = f"token={token}"
    event["headers"].update(headers or {})
    return event


@pytest.fixture
def plain(deps: Any, sim: AirudderSimulator) -> Any:
    """An account that neither signs nor encrypts, for the stored example events."""
    return _use(deps, _adapter(sim, verifySignature=False, encryptCallbacks=False))


def test_call_webhook_is_stored_once_and_acknowledged(deps: Any, plain: Any) -> None:
    answers = []
    writes, changed = what_it_wrote(deps.store, lambda: answers.append(call_webhook(deps, _event())))
    assert writes == {"TransactWriteItems": 2} and changed == 2  # no such contact here: an orphan and its payload
    writes, changed = what_it_wrote(deps.store, lambda: answers.append(call_webhook(deps, _event())))
    assert writes == {"TransactWriteItems": 1} and changed == 0  # the repeat: one refused write
    assert answers == [(200, {"status": "success"})] * 2
    outcome = deps.store.get_outcome("airudder", "7100000123")
    assert outcome.disposition == "promise_to_pay" and outcome.variables["attempts"] == 2
    assert outcome.started_at.isoformat() == "2026-11-25T02:00:00+00:00"  # Manila local -> UTC
    assert call_webhook(deps, _event("task")) == (200, {"status": "success"})


def test_wrong_token_is_401_and_stores_nothing(deps: Any, plain: Any) -> None:
    assert call_webhook(deps, _event(token="x" * 32)) == (401, {"message": "unauthorized"})
    assert deps.store.get_outcome("airudder", "7100000123") is None


@pytest.mark.parametrize("body", ["{not json", "[1, 2]", "{}", '{"Mobile": "+639171234567"}', '"text"'])
def test_malformed_call_webhook_is_400_and_stores_nothing(deps: Any, plain: Any, body: str) -> None:
    status, reply = call_webhook(deps, _event(body=body))
    assert status == 400 and reply["message"].startswith("malformed callback")
    assert deps.store.get_outcome("airudder", "7100000123") is None


def test_unknown_kind_is_404(deps: Any, plain: Any) -> None:
    event = _event()
    event["pathParameters"]["kind"] = "plan"
    assert call_webhook(deps, event)[0] == 404
    event["pathParameters"].pop("kind")
    assert call_webhook(deps, event)[0] == 404


def test_signed_and_encrypted_webhooks_are_checked_by_the_handler(deps: Any, sim: AirudderSimulator) -> None:
    body = encrypt_body(load_event("webhooks/airudder_call.json")["body"].encode(), sim.aes_key, sim.aes_iv)
    good_sign = {"x-airudder-sign": sign_body(APP_SECRET, body)}
    assert call_webhook(deps, _event(body=body.decode(), headers={"x-airudder-sign": "0" * 64}))[0] == 401
    assert call_webhook(deps, _event(body=body.decode()))[0] == 401  # no signature at all
    assert deps.store.get_outcome("airudder", "7100000123") is None
    plain_json = load_event("webhooks/airudder_call.json")["body"]
    plain_sign = {"x-airudder-sign": sign_body(APP_SECRET, plain_json.encode())}
    assert call_webhook(deps, _event(body=plain_json, headers=plain_sign))[0] == 400  # must be encrypted
    assert call_webhook(deps, _event(body=body.decode(), headers=good_sign)) == (200, {"status": "success"})
    assert deps.store.get_outcome("airudder", "7100000123").contact_id == "loan-10001"


# --------------------------------------------------------------------------- cancelling and task control
@pytest.fixture
def slow_sim(deps: Any, sim: AirudderSimulator) -> AirudderSimulator:
    sim.dial_delay = (30, 31)  # numbers wait, so they can still be cancelled
    return sim


def _control(deps: Any, campaign_id: str, action: str) -> tuple[int, Any]:
    return call_api(deps, api_event(f"api/{action}_campaign.json", path={"campaignId": campaign_id}))


def test_cancelling_a_submitted_contact_cancels_its_call_at_airudder(
    deps: Any, template: Any, slow_sim: AirudderSimulator
) -> None:
    campaign_id = _sent(deps, template, count=2)
    status, view = call_api(
        deps, api_event("api/cancel_contact.json", path={"campaignId": campaign_id, "contactId": "c0"})
    )
    assert status == 200 and view["state"] == "cancelled"
    [task_id] = slow_sim.task_ids()
    rows = {row["Comments"]: row["CallStatus"] for row in slow_sim.rows(task_id)}
    assert rows == {f"{campaign_id}|c0": "Cancelled", f"{campaign_id}|c1": "Waiting"}


def test_pause_resume_and_cancel_reach_every_airudder_task(
    deps: Any, template: Any, slow_sim: AirudderSimulator
) -> None:
    _use(deps, _adapter(slow_sim, taskSize=2))
    campaign_id = _sent(deps, template, count=4)
    task_ids = slow_sim.task_ids()
    assert len(task_ids) == 2
    status, paused = _control(deps, campaign_id, "pause")
    assert status == 200 and paused["notes"] == []
    assert {slow_sim.task_status(task_id) for task_id in task_ids} == {"Paused"}
    assert _control(deps, campaign_id, "resume")[1]["notes"] == []
    assert {slow_sim.task_status(task_id) for task_id in task_ids} == {"Running"}
    status, cancelled = _control(deps, campaign_id, "cancel")
    assert status == 200 and cancelled["notes"] == []
    assert {slow_sim.task_status(task_id) for task_id in task_ids} == {"Cancelled"}
    assert states(deps.store, campaign_id) == {"cancelled": 4}
    assert slow_sim.calls_made == 0

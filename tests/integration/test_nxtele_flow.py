"""NXTele end to end through the real handlers: schedule -> SQS -> dispatcher -> simulator -> webhooks / poller.

AWS is moto (conftest's `aws`, `table_name`, `queue_url`); NXTele is the simulator on loopback, signing with the
published sample credentials. Its callbacks go nowhere here: each test replays the simulator's own callback
bodies through the webhooks handler, in the order it wants, signed at the current time.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import time
import uuid
from collections import Counter
from typing import Any

import pytest

from dialhub.models import DialState
from dialhub.queue import DispatchQueue
from dialhub.settings import Settings
from dialhub.store import DynamoStore
from dialhub.vendors import StaticAdapters
from dialhub.vendors.base import TaskAction
from dialhub.vendors.nxtele.adapter import NxteleAdapter, order_id
from dialhub.vendors.nxtele.signing import sign
from dialhub.wiring import Dependencies
from local.simulators.nxtele import DEMO_SCENE_ID, SAMPLE_SECRET_KEY, SAMPLE_UUID, NxteleSimulator
from tests.conftest import (
    api_event,
    call_api,
    call_webhook,
    crash_before_settling,
    dispatch_records,
    drain_queue,
    function_module,
    load_event,
    poll_now,
    states,
    what_it_wrote,
)

ACK = (200, {"retCode": 0, "retMsg": "success"})


def nx_account(simulator: NxteleSimulator, **overrides: Any) -> dict[str, Any]:
    # Callbacks go to a closed port: the tests replay them by hand (or leave them to the poller).
    return {
        "uuid": SAMPLE_UUID,
        "secretKey": SAMPLE_SECRET_KEY,
        "baseUrl": simulator.base_url,
        "callbackBaseUrl": "http://127.0.0.1:9/webhooks/nxtele",
        **overrides,
    }


@pytest.fixture
def deps(table_name: str, queue_url: str, nx_sim: NxteleSimulator) -> Dependencies:
    settings = Settings(table_name=table_name, dispatch_queue_url=queue_url, default_phone_region="PH")
    adapter = NxteleAdapter.from_account(nx_account(nx_sim))
    return Dependencies(
        settings=settings,
        store=DynamoStore(table_name),
        queue=DispatchQueue(queue_url),
        adapters=StaticAdapters({"nxtele": adapter}),
    )


def _use_adapter(deps: Dependencies, simulator: NxteleSimulator, **overrides: Any) -> NxteleAdapter:
    adapter = NxteleAdapter.from_account(nx_account(simulator, **overrides))
    deps.adapters = StaticAdapters({"nxtele": adapter})
    return adapter


def _campaign(deps: Any, count: int = 5, variables: dict[str, Any] | None = None, **changes: Any) -> str:
    values = {"amountDue": 1500, "dueDate": "2026-11-30"} if variables is None else variables
    contacts = [
        {"contactId": f"c{i}", "phone": f"0917123{i:04d}", "name": "Maria", "variables": values} for i in range(count)
    ]
    body = {
        "name": "flow",
        "vendor": "nxtele",
        "contacts": contacts,
        "vendorOptions": {"sceneID": DEMO_SCENE_ID, "scriptVariables": ["amountDue", "dueDate"]},
    } | changes
    status, created = call_api(deps, api_event("api/create_campaign.json", body=body))
    assert status == 201, created
    return created["campaignId"]


def _plan_and_drain(deps: Any, template: Any) -> list[dict[str, Any]]:
    function_module("scheduler").handle(load_event("schedules/daily_plan.json"), deps)
    return drain_queue(deps, template)


def signed_event(
    kind: str, body: bytes, *, at: int | None = None, secret_key: str = SAMPLE_SECRET_KEY, ip: str | None = None
) -> dict[str, Any]:
    """The stored webhook event of this kind carrying `body`, signed now (or at `at`)."""
    event = copy.deepcopy(load_event(f"webhooks/nxtele_{kind if kind in ('call', 'order', 'task') else 'call'}.json"))
    create_ts, request_id = str(at or int(time.time())), uuid.uuid4().hex
    event["body"] = body.decode()
    event["headers"] |= {
        "createts": create_ts,
        "requestid": request_id,
        "uuid": SAMPLE_UUID,
        "sign": sign(secret_key, body, create_ts, request_id, SAMPLE_UUID),
    }
    event["pathParameters"] = {"vendor": "nxtele", "kind": kind}
    event["rawPath"] = event["requestContext"]["http"]["path"] = f"/webhooks/nxtele/{kind}"
    if ip:
        event["requestContext"]["http"]["sourceIp"] = ip
    return event


def _replay(deps: Any, simulator: NxteleSimulator, kinds: tuple[str, ...], reverse: bool = False) -> Counter[str]:
    """Deliver the simulator's callbacks of these kinds through the webhooks handler; counts replies."""
    log = [(key.split(":", 1)[0], body) for key, body in simulator.callback_log]
    replies: Counter[str] = Counter()
    for kind, body in reversed(log) if reverse else log:
        if kind in kinds:
            status, reply = call_webhook(deps, signed_event(kind, body))
            replies[f"{status} {json.dumps(reply)}"] += 1
    return replies


def _closing_outcomes(store: DynamoStore, campaign_id: str, count: int) -> list[int]:
    return [sum(o.closes_contact for o in store.contact_history(campaign_id, f"c{i}")) for i in range(count)]


# ------------------------------------------------------------------------------------------------ dispatch
def test_dispatch_and_polling_settle_every_contact_once(deps: Any, template: Any, nx_sim: NxteleSimulator) -> None:
    campaign_id = _campaign(deps, count=12)
    records = _plan_and_drain(deps, template)
    assert dispatch_records(deps, records) == {"batchItemFailures": []}
    assert states(deps.store, campaign_id) == {"submitted": 12}
    contact = deps.store.get_contact(campaign_id, "c3")
    assert contact.vendor_record_id == order_id(campaign_id, "c3", 1)
    snapshot = nx_sim.task_snapshot(contact.vendor_task_id)
    assert snapshot["taskStatus"] == 2 and snapshot["sceneID"] == DEMO_SCENE_ID and len(snapshot["orders"]) == 12
    assert nx_sim.wait_idle(10)
    summary = poll_now(deps)
    assert summary["closed"] == 1 and summary["recovered"] == len(nx_sim.calls_made) >= 12
    assert states(deps.store, campaign_id) == {"final": 12}
    assert _closing_outcomes(deps.store, campaign_id, 12) == [1] * 12
    history = deps.store.contact_history(campaign_id, "c3")
    calls = nx_sim.task_snapshot(contact.vendor_task_id)["orders"][contact.vendor_record_id]["callInfoDetailList"]
    assert [o.vendor_call_id for o in history] == [call["callID"] for call in calls]  # every round, in order
    assert all(o.source == "poll" and o.contact_id == "c3" for o in history)
    assert max(nx_sim.dial_requests.values()) == 1
    assert poll_now(deps)["tasks"] == 0  # the task is closed: not polled again


def test_redelivery_after_a_crash_dials_nobody_twice(
    deps: Any, template: Any, nx_sim: NxteleSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    campaign_id = _campaign(deps, count=4)
    records = _plan_and_drain(deps, template)
    stop_crashing = crash_before_settling(monkeypatch)
    assert len(dispatch_records(deps, records)["batchItemFailures"]) == 1
    assert states(deps.store, campaign_id) == {"submitting": 4}
    stop_crashing()
    assert dispatch_records(deps, records) == {"batchItemFailures": []}
    assert dispatch_records(deps, records) == {"batchItemFailures": []}  # and a plain redelivery
    assert states(deps.store, campaign_id) == {"submitted": 4}  # NXTele's "orderID already exists" = accepted
    assert sum(nx_sim.dial_requests.values()) == 4 and max(nx_sim.dial_requests.values()) == 1


def test_a_task_created_before_a_lost_answer_is_found_again(deps: Any, template: Any, nx_sim: NxteleSimulator) -> None:
    campaign_id = _campaign(deps, count=2)
    adapter = deps.adapters.get("nxtele")
    adapter.create_task(deps.store.get_campaign(campaign_id), adapter.today())  # answered, but never recorded
    assert dispatch_records(deps, _plan_and_drain(deps, template)) == {"batchItemFailures": []}
    assert states(deps.store, campaign_id) == {"submitted": 2}
    assert nx_sim.requests_refused[4] == 1  # the repeated createTask, then listTask found it


def test_a_busy_vendor_is_retried_and_then_left_to_sqs(deps: Any, template: Any, nx_sim: NxteleSimulator) -> None:
    campaign_id = _campaign(deps, count=3)
    records = _plan_and_drain(deps, template)
    nx_sim.refuse_next(2, ret_code=7)  # createTask is "system busy" twice, then goes through
    assert dispatch_records(deps, records) == {"batchItemFailures": []}
    assert states(deps.store, campaign_id) == {"submitted": 3}

    second = _campaign(deps, count=2, campaignId="second")
    records = _plan_and_drain(deps, template)
    nx_sim.refuse_next(50, ret_code=5)  # maintenance outlasts the retries
    assert len(dispatch_records(deps, records)["batchItemFailures"]) == 1
    assert states(deps.store, second) == {"planned": 2}  # nothing claimed: SQS delivers it again
    nx_sim.refuse_next(0)
    assert dispatch_records(deps, records) == {"batchItemFailures": []}
    assert states(deps.store, second) == {"submitted": 2}


def test_contacts_the_vendor_refuses_fail_one_by_one_with_its_reason(
    deps: Any, template: Any, nx_sim: NxteleSimulator
) -> None:
    nx_sim.blocked_phones = {"639171230001", "639171230003"}
    campaign_id = _campaign(deps, count=4)
    assert dispatch_records(deps, _plan_and_drain(deps, template)) == {"batchItemFailures": []}
    assert states(deps.store, campaign_id) == {"failed": 2, "submitted": 2}
    for contact_id in ("c1", "c3"):
        failed = deps.store.get_contact(campaign_id, contact_id)
        assert failed.reason == "nxtele refused the contact: userPhone is on the blacklist"
    [task] = deps.store.campaign_tasks(campaign_id, "nxtele")
    assert task.submitted == 2
    assert sorted(nx_sim.dial_requests) == sorted(order_id(campaign_id, c, 1) for c in ("c0", "c2"))


def test_a_script_variable_the_campaign_did_not_declare_fails_at_the_vendor(
    deps: Any, template: Any, nx_sim: NxteleSimulator
) -> None:
    nx_sim.scenes[DEMO_SCENE_ID] = ("amountDue", "dueDate", "loanId")  # the script needs more than declared
    campaign_id = _campaign(deps, count=2, variables={"amountDue": 1, "dueDate": "d", "loanId": "L1"})
    assert dispatch_records(deps, _plan_and_drain(deps, template)) == {"batchItemFailures": []}
    contact = deps.store.get_contact(campaign_id, "c0")
    assert contact.state == DialState.FAILED  # only declared scriptVariables are sent
    assert contact.reason == "nxtele refused the contact: missing script variable: loanId"
    assert not nx_sim.dial_requests


def test_a_missing_script_variable_is_refused_at_intake_without_a_vendor_call(
    deps: Any, nx_sim: NxteleSimulator
) -> None:
    body = {
        "name": "x",
        "vendor": "nxtele",
        "vendorOptions": nx_sim.demo_options(),
        "contacts": [
            {"contactId": "ok", "phone": "09171230001", "variables": {"amountDue": 1, "dueDate": "d"}},
            {"contactId": "no-date", "phone": "09171230002", "variables": {"amountDue": 1}},
        ],
    }
    status, created = call_api(deps, api_event("api/create_campaign.json", body=body))
    assert status == 201 and created["accepted"] == 1
    assert created["rejections"] == [
        {
            "index": 1,
            "contactId": "no-date",
            "reason": "variables.dueDate: missing; the NXTele script (scriptVariables) needs it",
        }
    ]
    status, invalid = call_api(deps, api_event("api/create_campaign.json", body=body | {"vendorOptions": {}}))
    assert status == 422 and "vendorOptions.sceneID" in json.dumps(invalid)
    assert nx_sim.task_snapshot("anything") is None and not nx_sim.dial_requests


def test_a_wrong_secret_fails_the_contacts_with_nxteles_reason(
    deps: Any, template: Any, nx_sim: NxteleSimulator
) -> None:
    _use_adapter(deps, nx_sim, secretKey="not-the-secret")
    campaign_id = _campaign(deps, count=2)
    assert dispatch_records(deps, _plan_and_drain(deps, template)) == {"batchItemFailures": []}
    contact = deps.store.get_contact(campaign_id, "c0")
    assert contact.state == DialState.FAILED
    assert contact.reason == "nxtele error 6: wrong signature (check uuid, secretKey and algorithm)"


# ------------------------------------------------------------------------------------------------ webhooks
def _dispatched(deps: Any, template: Any, simulator: NxteleSimulator, count: int) -> str:
    campaign_id = _campaign(deps, count=count)
    assert dispatch_records(deps, _plan_and_drain(deps, template)) == {"batchItemFailures": []}
    assert simulator.wait_idle(10)
    return campaign_id


def test_call_then_order_callbacks_converge_on_one_closing_outcome(
    deps: Any, template: Any, nx_sim: NxteleSimulator
) -> None:
    campaign_id = _dispatched(deps, template, nx_sim, count=10)
    replies = _replay(deps, nx_sim, ("call",))
    assert replies == Counter({f"{ACK[0]} {json.dumps(ACK[1])}": len(nx_sim.calls_made)})
    assert states(deps.store, campaign_id) == {"final": 10}  # the last call says finish=true
    replies = _replay(deps, nx_sim, ("order", "call"))  # the order callbacks, and NXTele's retries
    assert set(replies) == {f"{ACK[0]} {json.dumps(ACK[1])}"}
    assert _closing_outcomes(deps.store, campaign_id, 10) == [1] * 10
    attempts = sum(len(deps.store.contact_history(campaign_id, f"c{i}")) for i in range(10))
    assert attempts == len(nx_sim.calls_made) and len(nx_sim.calls_made) > 10  # redials stored as attempts
    summary = poll_now(deps)
    assert summary["recovered"] == 0 and summary["closed"] == 1  # polling finds nothing new


def test_order_before_call_callbacks_settle_the_same_way(deps: Any, template: Any, nx_sim: NxteleSimulator) -> None:
    campaign_id = _dispatched(deps, template, nx_sim, count=10)
    _replay(deps, nx_sim, ("order",))
    assert states(deps.store, campaign_id) == {"final": 10}
    _replay(deps, nx_sim, ("call",), reverse=True)  # the calls, late and newest first
    assert _closing_outcomes(deps.store, campaign_id, 10) == [1] * 10
    for i in range(10):
        history = deps.store.contact_history(campaign_id, f"c{i}")
        order = nx_sim.task_snapshot(history[0].vendor_task_id)["orders"][order_id(campaign_id, f"c{i}", 1)]
        calls = order["callInfoDetailList"]
        assert {o.vendor_call_id for o in history} == {call["callID"] for call in calls}
        [closing] = [o for o in history if o.closes_contact]
        assert closing.vendor_call_id == calls[-1]["callID"]


def test_an_attempt_found_by_polling_is_closed_by_a_later_callback(
    deps: Any, template: Any, nx_sim: NxteleSimulator
) -> None:
    nx_sim.redial_delay = (30.0, 30.0)  # orders not reached wait between two rounds while we poll
    campaign_id = _campaign(deps, count=20)
    assert dispatch_records(deps, _plan_and_drain(deps, template)) == {"batchItemFailures": []}
    task = deps.store.campaign_tasks(campaign_id, "nxtele")[0]
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not all(
        order["callInfoDetailList"] for order in nx_sim.task_snapshot(task.vendor_task_id)["orders"].values()
    ):
        time.sleep(0.01)
    orders = nx_sim.task_snapshot(task.vendor_task_id)["orders"].values()
    waiting = [json.loads(order["other"])["contactId"] for order in orders if not order["finish"]]
    assert waiting, "every order finished in one round"
    poll_now(deps)
    for contact_id in waiting:
        [attempt] = deps.store.contact_history(campaign_id, contact_id)
        assert not attempt.closes_contact and attempt.final
        assert deps.store.get_contact(campaign_id, contact_id).state == DialState.SUBMITTED
    assert states(deps.store, campaign_id) == {"final": 20 - len(waiting), "submitted": len(waiting)}
    # Completing the task ends the redials: each waiting order's one call becomes its last, reported by order.
    deps.adapters.get("nxtele").control_task(task, TaskAction.CANCEL)
    assert nx_sim.wait_idle(5)
    _replay(deps, nx_sim, ("order",))
    assert states(deps.store, campaign_id) == {"final": 20}
    assert _closing_outcomes(deps.store, campaign_id, 20) == [1] * 20
    assert all(len(deps.store.contact_history(campaign_id, contact_id)) == 1 for contact_id in waiting)


def test_stored_events_are_acknowledged_and_stored_once(deps: Any) -> None:
    order = signed_event("order", load_event("webhooks/nxtele_order.json")["body"].encode())
    writes, changed = what_it_wrote(deps.store, lambda: call_webhook(deps, order))
    assert writes == {"TransactWriteItems": 2} and changed == 2  # no such contact here: an orphan and its payload
    answers = []
    retry = signed_event("order", order["body"].encode())  # signed afresh, as NXTele signs every delivery
    writes, changed = what_it_wrote(deps.store, lambda: answers.append(call_webhook(deps, retry)))
    assert answers == [ACK] and writes == {"TransactWriteItems": 1} and changed == 0
    stored = deps.store.get_outcome("nxtele", "b2e1d4c3f5a6079889706b5c4d3e2f10")
    assert stored.disposition == "promise_to_pay" and stored.closes_contact and stored.first_seen_at
    task = signed_event("task", load_event("webhooks/nxtele_task.json")["body"].encode())
    assert what_it_wrote(deps.store, lambda: answers.append(call_webhook(deps, task))) == ({}, 0)
    assert answers[-1] == ACK


def test_unauthenticated_callbacks_are_401_and_store_nothing(deps: Any, nx_sim: NxteleSimulator) -> None:
    body = load_event("webhooks/nxtele_order.json")["body"].encode()
    refused = {
        "wrong secret": signed_event("order", body, secret_key="x" * 32),
        # A minute past the 5-minute window either way (its exact edge is a unit test): a busy machine's
        # pause between signing and checking cannot bring either back inside it.
        "stale": signed_event("order", body, at=int(time.time()) - 360),
        "future": signed_event("order", body, at=int(time.time()) + 360),
        "tampered": signed_event("order", body) | {"body": body.decode().replace("PTP", "PAID")},
        "unsigned": {**signed_event("order", body), "headers": {"content-type": "application/json"}},
    }
    for problem, event in refused.items():
        assert call_webhook(deps, event) == (401, {"message": "unauthorized"}), problem
    assert deps.store.get_outcome("nxtele", "b2e1d4c3f5a6079889706b5c4d3e2f10") is None
    _use_adapter(deps, nx_sim, ipAllowlist=["8.219.0.0/16"])
    assert call_webhook(deps, signed_event("order", body, ip="203.0.113.9")) == (401, {"message": "unauthorized"})
    assert deps.store.get_outcome("nxtele", "b2e1d4c3f5a6079889706b5c4d3e2f10") is None
    assert call_webhook(deps, signed_event("order", body, ip="8.219.3.4")) == ACK  # inside the allowlist


def test_malformed_callbacks_are_400_and_store_nothing(deps: Any) -> None:
    for kind, body in [
        ("call", b"{not json"),
        ("call", b"[]"),
        ("order", b'{"finish": true}'),
        ("call", b'{"orderID": "o1"}'),
        ("task", b'{"taskStatus": 2}'),
        ("order", b'{"orderID": "o1", "callInfoDetail": {"callID": "c9", "callEndTs": [1]}}'),
    ]:
        status, reply = call_webhook(deps, signed_event(kind, body))
        assert status == 400 and reply["message"].startswith("malformed callback"), (kind, body)
    assert deps.store.get_outcome("nxtele", "c9") is None


def test_unknown_callback_kind_is_404(deps: Any) -> None:
    body = load_event("webhooks/nxtele_call.json")["body"].encode()
    assert call_webhook(deps, signed_event("cdr", body))[0] == 404
    bare = signed_event("call", body)
    bare["pathParameters"] = {"vendor": "nxtele"}
    assert call_webhook(deps, bare)[0] == 404


# ------------------------------------------------------------------------------------------------ control
def test_cancel_after_submission_stops_the_order_at_nxtele(deps: Any, template: Any, nx_sim: NxteleSimulator) -> None:
    nx_sim.dial_delay = (5.0, 5.0)  # keep the orders waiting so they can still be stopped
    campaign_id = _campaign(deps, count=2)
    assert dispatch_records(deps, _plan_and_drain(deps, template)) == {"batchItemFailures": []}
    status, view = call_api(
        deps, api_event("api/cancel_contact.json", path={"campaignId": campaign_id, "contactId": "c0"})
    )
    assert status == 200 and view["state"] == "cancelled"
    task_id = deps.store.get_contact(campaign_id, "c0").vendor_task_id
    orders = nx_sim.task_snapshot(task_id)["orders"]
    stopped = orders[order_id(campaign_id, "c0", 1)]
    assert stopped["finish"] and stopped["callInfoDetailList"] == []
    assert not orders[order_id(campaign_id, "c1", 1)]["finish"]
    status, body = call_api(
        deps, api_event("api/cancel_contact.json", path={"campaignId": campaign_id, "contactId": "c0"})
    )
    assert status == 200 and body["state"] == "cancelled"
    # A stopped order reports nothing: the task counts it, so c1's result alone completes it, not the horizon.
    [task] = deps.store.campaign_tasks(campaign_id, "nxtele")
    assert (task.submitted, task.cancelled) == (2, 1)  # the repeated cancel counted nothing more
    adapter = deps.adapters.get("nxtele")
    assert not adapter.task_complete(task, closed_contacts=0) and adapter.task_complete(task, closed_contacts=1)


def test_cancel_of_a_dialled_order_is_refused(deps: Any, template: Any, nx_sim: NxteleSimulator) -> None:
    campaign_id = _dispatched(deps, template, nx_sim, count=1)
    status, body = call_api(
        deps, api_event("api/cancel_contact.json", path={"campaignId": campaign_id, "contactId": "c0"})
    )
    assert status == 409 and "order already finished" in body["message"]


def test_pause_resume_and_cancel_drive_the_nxtele_task(deps: Any, template: Any, nx_sim: NxteleSimulator) -> None:
    nx_sim.dial_delay = (4.0, 4.0)  # long enough for three API calls on a busy machine (2 s was not, once)
    campaign_id = _campaign(deps, count=3)
    assert dispatch_records(deps, _plan_and_drain(deps, template)) == {"batchItemFailures": []}
    task_id = deps.store.get_contact(campaign_id, "c0").vendor_task_id
    for event, task_status in (("pause", 5), ("resume", 2), ("pause", 5)):
        status, result = call_api(deps, api_event(f"api/{event}_campaign.json", path={"campaignId": campaign_id}))
        assert status == 200 and result["notes"] == []
        assert nx_sim.task_snapshot(task_id)["taskStatus"] == task_status
    time.sleep(4.2)
    assert nx_sim.calls_made == []  # paused: nothing dialled
    status, result = call_api(deps, api_event("api/cancel_campaign.json", path={"campaignId": campaign_id}))
    assert status == 200 and result["notes"] == []
    assert nx_sim.task_snapshot(task_id)["taskStatus"] == 3 and nx_sim.task_snapshot(task_id)["orders"] == {}
    assert states(deps.store, campaign_id) == {"cancelled": 3}
    assert nx_sim.wait_idle(2) and nx_sim.calls_made == []


def test_polling_a_task_the_vendor_lost_fails_that_task_only(deps: Any, template: Any, nx_sim: NxteleSimulator) -> None:
    _dispatched(deps, template, nx_sim, count=1)
    nx_sim.refuse_next(1, ret_code=6003)  # listOrder: no permission
    summary = poll_now(deps)
    assert summary["failed_tasks"] == 1 and summary["closed"] == 0
    assert poll_now(deps)["closed"] == 1


def test_outcome_times_are_utc_from_epoch_seconds(deps: Any, template: Any, nx_sim: NxteleSimulator) -> None:
    campaign_id = _dispatched(deps, template, nx_sim, count=1)
    poll_now(deps)
    [*_, last] = deps.store.contact_history(campaign_id, "c0")
    call = nx_sim.calls_made[-1]
    assert last.started_at == dt.datetime.fromtimestamp(call["callStartTs"], dt.UTC)
    assert last.vendor_status == str(call["callStatus"])

"""The NXTele simulator must honour the vendor contract, or every test built on it proves nothing.

Talks to the simulator over real loopback HTTP with a bare signing client (not the adapter), and receives its
callbacks on a tiny local endpoint that checks their signatures.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from dialhub.vendors.nxtele.wire import NxteleAccount
from local.simulators import SimulatorKnobs
from local.simulators.nxtele import (
    DEMO_SCENE_ID,
    QUIRKS,
    SAMPLE_SECRET_KEY,
    SAMPLE_UUID,
    NxteleSimulator,
    create,
    national_form,
    sign_for,
)

API = "/callcentre/api/v3"
FAST_DIAL = (0.0, 0.03)
VARIABLES = [{"name": "amountDue", "value": "1500"}, {"name": "dueDate", "value": "2026-11-30"}]


class Client:
    """Signs like NXTele's Python sample: json.dumps once, sign those bytes, send them."""

    def __init__(self, simulator: NxteleSimulator, algorithm: str = "MD5") -> None:
        self.simulator = simulator
        self.algorithm = algorithm
        self.http = httpx.Client(base_url=simulator.base_url, trust_env=False, timeout=5)

    def post(
        self,
        endpoint: str,
        body: dict[str, Any],
        *,
        secret_key: str | None = None,
        skew: int = 0,
        uuid_: str | None = None,
        drop: str = "",
    ) -> httpx.Response:
        content = json.dumps(body, ensure_ascii=False).encode()
        create_ts = str(int(time.time()) + skew)
        request_id = uuid.uuid4().hex
        account = uuid_ or self.simulator.uuid
        headers = {
            "requestID": request_id,
            "uuid": account,
            "createTs": create_ts,
            "algorithm": self.algorithm,
            "sign": sign_for(
                secret_key or self.simulator.secret_key, content, create_ts, request_id, account, self.algorithm
            ),
            "Content-Type": "application/json",
        }
        headers.pop(drop, None)
        return self.http.post(f"{API}/{endpoint}", content=content, headers=headers)

    def call(self, endpoint: str, body: dict[str, Any], **options: Any) -> dict[str, Any]:
        response = self.post(endpoint, {"productID": "callbot", **body}, **options)
        assert response.status_code == 200
        return response.json()

    def create_task(self, user_task_id: str = "task-1", **setting: Any) -> dict[str, Any]:
        body = {
            "userTaskID": user_task_id,
            "sceneID": DEMO_SCENE_ID,
            "taskCreateSetting": {
                "startupType": 3,
                "zoneSecond": 25200,
                "dialAtWeekDay": "1,2,3,4,5",
                "dialAtUpHour": "09:00",
                "dialAtDownHour": "20:00",
                **setting,
            },
        }
        return self.call("createTask", body)

    def add(
        self,
        orders: list[dict[str, Any]],
        user_task_id: str = "task-1",
        call_url: str = "http://127.0.0.1:9/c",
        order_url: str = "http://127.0.0.1:9/o",
    ) -> dict[str, Any]:
        return self.call(
            "addBatchCall",
            {
                "userTaskID": user_task_id,
                "callInfoList": {"orderCallbackUrl": order_url, "callCallbackUrl": call_url, "callList": orders},
            },
        )


def orders(count: int, first: int = 1, **changes: Any) -> list[dict[str, Any]]:
    return [
        {
            "orderID": f"order-{n}",
            "userPhone": f"62812{n:08d}",
            "other": json.dumps({"n": n}),
            "userName": "Siti",
            "customerName": "",
            "params": VARIABLES,
            **changes,
        }
        for n in range(first, first + count)
    ]


class _ReceiverServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default backlog of 5 stalls a burst of callbacks for a second


class Receiver:
    """Our side of the callbacks: answers scripted statuses, keeps each body and whether its signature held."""

    def __init__(self, simulator: NxteleSimulator, statuses: list[int] | None = None) -> None:
        self.statuses = list(statuses or [])
        self.received: list[tuple[str, dict[str, Any], bool]] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                h = self.headers
                expected = sign_for(
                    simulator.secret_key, raw, h["createTs"], h["requestID"], h["uuid"], simulator.algorithm
                )
                with receiver._lock:
                    receiver.received.append((self.path, json.loads(raw), h["sign"] == expected))
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = _ReceiverServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def bodies(self, path: str) -> list[dict[str, Any]]:
        with self._lock:
            return [body for got, body, _ in self.received if got == path]


@pytest.fixture
def factory() -> Iterator[Any]:
    made: list[NxteleSimulator] = []
    receivers: list[Receiver] = []

    def make(statuses: list[int] | None = None, **options: Any) -> tuple[NxteleSimulator, Client, Receiver]:
        options.setdefault("dial_delay", FAST_DIAL)
        options.setdefault("retry_interval", 0.02)
        simulator = NxteleSimulator(**options).start()
        made.append(simulator)
        receivers.append(Receiver(simulator, statuses))
        return simulator, Client(simulator, options.get("algorithm", "MD5")), receivers[-1]

    yield make
    for simulator in made:
        simulator.stop()
    for receiver in receivers:
        receiver.server.shutdown()
        receiver.server.server_close()


def _urls(receiver: Receiver) -> dict[str, str]:
    return {"call_url": f"{receiver.url}/call", "order_url": f"{receiver.url}/order"}


# --- signing -------------------------------------------------------------------------------------------
def test_sample_vector_holds_for_the_simulators_signer() -> None:
    body = json.dumps({"customerId": "1234", "appKey": "xxxxxx", "status": 1}).encode()
    assert sign_for(SAMPLE_SECRET_KEY, body, "1700000000", "0123456789abcdef0123456789abcdef", SAMPLE_UUID) == (
        "5D9DF0A715F076BD80045812AB251F08"
    )


@pytest.mark.parametrize("algorithm", ["MD5", "SHA256"])
def test_signed_request_is_accepted_and_the_answer_is_signed(factory: Any, algorithm: str) -> None:
    simulator, client, _ = factory()
    client.algorithm = algorithm
    response = client.post("createTask", {"productID": "callbot", "userTaskID": "t1", "sceneID": DEMO_SCENE_ID})
    assert response.json()["retCode"] == 0 and isinstance(response.json()["taskID"], int)
    headers = response.headers
    assert headers["uuid"] == simulator.uuid and headers["algorithm"] == algorithm
    assert headers["sign"] == sign_for(
        simulator.secret_key, response.content, headers["createTs"], headers["requestID"], simulator.uuid, algorithm
    )


@pytest.mark.parametrize(
    ("options", "code"),
    [
        ({"secret_key": "wrong-secret"}, 6),
        ({"skew": -310}, 6),
        ({"skew": 310}, 6),
        ({"uuid_": "someone-else"}, 6002),
        ({"drop": "sign"}, 6001),
        ({"drop": "requestID"}, 6001),
    ],
)
def test_bad_signatures_are_refused_and_nothing_happens(factory: Any, options: dict[str, Any], code: int) -> None:
    simulator, client, _ = factory()
    reply = client.call("createTask", {"userTaskID": "t1", "sceneID": DEMO_SCENE_ID}, **options)
    assert reply["retCode"] == code
    assert simulator.task_snapshot("t1") is None and simulator.requests_refused[code] == 1


def test_body_must_be_exactly_what_was_signed(factory: Any) -> None:
    simulator, client, _ = factory()
    body = {"productID": "callbot", "userTaskID": "t1", "sceneID": DEMO_SCENE_ID}
    signed = json.dumps(body).encode()
    ts, rid = str(int(time.time())), "r" * 32
    headers = {
        "requestID": rid,
        "uuid": simulator.uuid,
        "createTs": ts,
        "sign": sign_for(simulator.secret_key, signed, ts, rid, simulator.uuid),
    }
    compact = json.dumps(body, separators=(",", ":")).encode()  # same JSON, other bytes
    assert client.http.post(f"{API}/createTask", content=compact, headers=headers).json()["retCode"] == 6
    assert client.http.post(f"{API}/createTask", content=signed, headers=headers).json()["retCode"] == 0


def test_product_id_must_be_callbot(factory: Any) -> None:
    _, client, _ = factory()
    assert client.post("createTask", {"userTaskID": "t1", "sceneID": DEMO_SCENE_ID}).json()["retCode"] == 2
    assert (
        client.post("createTask", {"productID": "sms", "userTaskID": "t1", "sceneID": DEMO_SCENE_ID}).json()["retCode"]
        == 4
    )


# --- tasks ---------------------------------------------------------------------------------------------
def test_create_task_validates_and_refuses_a_repeated_user_task_id(factory: Any) -> None:
    simulator, client, _ = factory()
    assert client.create_task()["retCode"] == 0
    repeated = client.create_task()
    assert (repeated["retCode"], repeated["retMsg"]) == (4, "userTaskID already exists")
    assert client.call("createTask", {"userTaskID": "t2", "sceneID": "nope"})["retCode"] == 4
    assert client.create_task("t3", dialAtUpHour="9am")["retCode"] == 3
    assert client.create_task("t4", dialAtWeekDay="1,8")["retCode"] == 3
    assert client.create_task("t5", zoneSecond="25200")["retCode"] == 3
    assert simulator.task_snapshot("task-1")["taskStatus"] == 2  # immediate start
    listed = client.call("listTask", {"page": 1, "size": 10, "queryConditions": {"userTaskID": ["task-1"]}})
    assert [row["userTaskID"] for row in listed["taskData"]] == ["task-1"]
    assert client.call("listTask", {"page": 1, "size": 101})["retCode"] == 4


# --- orders --------------------------------------------------------------------------------------------
def test_more_than_500_orders_are_refused_and_nothing_is_dialled(factory: Any) -> None:
    simulator, client, _ = factory()
    client.create_task()
    assert client.add(orders(501))["retCode"] == 4001
    assert not simulator.dial_requests and simulator.pending() == 0
    assert client.add(orders(500))["successCount"] == 500


def test_repeated_order_ids_are_listed_as_existing_and_not_dialled_again(factory: Any) -> None:
    simulator, client, _ = factory()
    client.create_task()
    assert client.add(orders(3))["successCount"] == 3
    retry = client.add(orders(4))
    assert (retry["totalCount"], retry["successCount"]) == (4, 1)
    assert retry["errList"] == [{"phone": f"62812{n:08d}", "errMsg": "orderID already exists"} for n in (1, 2, 3)]
    assert simulator.wait_idle(5)
    assert sorted(simulator.dial_requests) == [f"order-{n}" for n in range(1, 5)]
    assert set(simulator.dial_requests.values()) == {1}


def test_bad_entries_are_refused_one_by_one(factory: Any) -> None:
    simulator, client, _ = factory()
    client.create_task()
    entries = [
        *orders(1),
        *orders(1, 2, userPhone="+6281200000002"),
        *orders(1, 3, params=VARIABLES[:1]),
        *orders(1, 4, other={"n": 4}),
    ]
    reply = client.add(entries)
    assert reply["successCount"] == 1
    assert [error["errMsg"] for error in reply["errList"]] == [
        "userPhone must be digits with the country code",
        "missing script variable: dueDate",
        "other must be a string",
    ]
    assert list(simulator.dial_requests) == ["order-1"]
    assert client.add(orders(1, 9), user_task_id="missing")["retCode"] == 4
    assert client.add(orders(1, 9), call_url="")["retCode"] == 2


# --- calls and callbacks -------------------------------------------------------------------------------
def test_calls_are_reported_by_call_and_by_order_signed(factory: Any) -> None:
    simulator, client, receiver = factory(max_redials=2)
    client.create_task()
    client.add(orders(40), **_urls(receiver))
    assert simulator.wait_idle(10)
    calls, finished = receiver.bodies("/call"), receiver.bodies("/order")
    assert all(ok for _, _, ok in receiver.received)
    assert len(calls) == len(simulator.calls_made) > 40  # some orders were redialled
    assert sorted(body["orderID"] for body in finished) == sorted(f"order-{n}" for n in range(1, 41))
    by_order: dict[str, list[dict[str, Any]]] = {}
    for body in calls:
        by_order.setdefault(body["orderID"], []).append(body)
    for body in finished:
        rounds = sorted(by_order[body["orderID"]], key=lambda b: b["callInfoDetail"]["callStartTs"])
        starts = [b["callInfoDetail"]["callStartTs"] for b in rounds]
        assert 1 <= len(rounds) <= 3 and len(set(starts)) == len(starts)  # rounds follow one another
        assert [b["finish"] for b in rounds] == [False] * (len(rounds) - 1) + [True]
        assert body["callInfoDetail"]["callID"] == rounds[-1]["callInfoDetail"]["callID"]
        assert body["callbackType"] == "1" and isinstance(rounds[0]["callbackType"], int)
        assert "callingNumber" not in body["callInfoDetail"] and "callingNumber" in rounds[-1]["callInfoDetail"]
        assert body["other"] == json.dumps({"n": int(body["orderID"].split("-")[1])})
    assert any(len(rounds) > 1 for rounds in by_order.values())


def test_unreached_calls_are_redialled_at_most_max_redials_times(factory: Any) -> None:
    simulator, client, receiver = factory(max_redials=0)
    client.create_task()
    client.add(orders(30), **_urls(receiver))
    assert simulator.wait_idle(10)
    assert len(simulator.calls_made) == 30 and all(body["finish"] for body in receiver.bodies("/call"))


def test_a_non_200_answer_is_retried_and_a_drop_is_never_sent(factory: Any) -> None:
    simulator, client, receiver = factory(statuses=[503, 500], max_redials=0)
    client.create_task()
    client.add(orders(1), **_urls(receiver))
    assert simulator.wait_idle(5)
    assert (simulator.callbacks_attempted, simulator.callbacks_delivered) == (4, 2)  # call + order, 2 retries
    assert len({json.dumps(b) for b in receiver.bodies("/call")}) == 1  # the same call each time

    dropping, client2, silent = factory(drop_rate=1.0)
    client2.create_task()
    client2.add(orders(5), **_urls(silent))
    assert dropping.wait_idle(5)
    time.sleep(0.05)
    assert silent.received == [] and dropping.callbacks_dropped >= 10 and dropping.callbacks_attempted == 0
    detail = client2.call("listOrderDetail", {"userTaskID": "task-1", "orderList": [f"order-{n}" for n in range(1, 6)]})
    assert all(order["finish"] and order["callInfoDetailList"] for order in detail["orderDetailList"])


def test_callbacks_are_given_up_after_max_retries(factory: Any) -> None:
    simulator, client, receiver = factory(statuses=[500] * 20, max_retries=2, max_redials=0)
    client.create_task()
    client.add(orders(1), **_urls(receiver))
    assert simulator.wait_idle(5)
    assert (simulator.callbacks_attempted, simulator.callbacks_abandoned) == (6, 2)


def test_task_callbacks_report_status_changes(factory: Any) -> None:
    simulator, client, receiver = factory()
    client.call(
        "createTask",
        {
            "userTaskID": "t1",
            "sceneID": DEMO_SCENE_ID,
            "taskCallbackUrl": f"{receiver.url}/task",
            "taskCreateSetting": {"startupType": 3},
        },
    )
    client.call("mgrTaskStatus", {"userTaskID": "t1", "taskOperate": 2})
    assert simulator.wait_idle(5)
    bodies = receiver.bodies("/task")
    assert sorted(body["taskStatus"] for body in bodies) == [2, 5]  # delivered in parallel: any order
    assert all(body["callbackType"] == 1 and "taskStat" in body for body in bodies)


# --- pause, stop, complete -----------------------------------------------------------------------------
def test_nothing_is_dialled_while_the_task_is_paused(factory: Any) -> None:
    simulator, client, receiver = factory()
    client.create_task()
    assert client.call("mgrTaskStatus", {"userTaskID": "task-1", "taskOperate": 2})["taskStatus"] == 5
    client.add(orders(5), **_urls(receiver))
    time.sleep(0.2)
    assert simulator.calls_made == [] and simulator.pending() == 5 and not simulator.wait_idle(0.05)
    assert client.call("mgrTaskStatus", {"userTaskID": "task-1", "taskOperate": 1})["taskStatus"] == 2
    assert simulator.wait_idle(5)
    assert len(receiver.bodies("/order")) == 5


def test_manual_start_waits_for_the_start_operation(factory: Any) -> None:
    simulator, client, _ = factory()
    client.create_task(startupType=1)
    client.add(orders(2))
    time.sleep(0.1)
    assert simulator.calls_made == [] and simulator.task_snapshot("task-1")["taskStatus"] == 1
    client.call("mgrTaskStatus", {"userTaskID": "task-1", "taskOperate": 1})
    assert simulator.wait_idle(5) and len({c["callID"] for c in simulator.calls_made}) >= 2


def test_stop_order_before_dialling_stops_it_for_good(factory: Any) -> None:
    simulator, client, receiver = factory(dial_delay=(30.0, 30.0))
    client.create_task()
    client.add(orders(2), **_urls(receiver))
    reply = client.call("stopOrder", {"userTaskID": "task-1", "orderIDs": ["order-1", "nope"], "delCall": 0})
    assert (reply["successCount"], reply["errList"]) == (1, [{"orderID": "nope", "errMsg": "order not found"}])
    again = client.call("stopOrder", {"userTaskID": "task-1", "orderIDs": ["order-1"]})
    assert again["errList"] == [{"orderID": "order-1", "errMsg": "order already finished"}]
    assert simulator.pending() == 1
    row = client.call(
        "listOrder", {"userTaskID": "task-1", "page": 1, "size": 10, "options": {"orderID": ["order-1"]}}
    )["orderList"][0]
    assert row["finish"] is True and row["callInfoDetail"] == {}


def test_stop_order_after_dialling_began_is_refused(factory: Any) -> None:
    simulator, client, _ = factory(max_redials=2)
    client.create_task()
    client.add(orders(1))
    deadline = time.monotonic() + 5
    while not simulator.calls_made and time.monotonic() < deadline:
        time.sleep(0.005)
    reply = client.call("stopOrder", {"userTaskID": "task-1", "orderIDs": ["order-1"]})
    assert reply["successCount"] == 0
    assert reply["errList"][0]["errMsg"] in ("order already dialled", "order already finished")


def test_completing_a_task_deletes_undialled_orders_and_ends_redials(factory: Any) -> None:
    simulator, client, receiver = factory(dial_delay=(30.0, 30.0))
    client.create_task()
    client.add(orders(3), **_urls(receiver))
    reply = client.call("mgrTaskStatus", {"userTaskID": "task-1", "taskOperate": 3, "delCall": 1})
    assert reply["taskStatus"] == 3 and simulator.pending() == 0
    assert client.call("listOrder", {"userTaskID": "task-1", "page": 1, "size": 10})["orderList"] == []
    assert client.add(orders(1, 9))["retCode"] == 4  # a completed task takes no more orders
    assert client.call("mgrTaskStatus", {"userTaskID": "task-1", "taskOperate": 1})["retCode"] == 4
    assert simulator.calls_made == []


# --- lists ---------------------------------------------------------------------------------------------
def test_list_order_pages_and_list_order_detail_has_every_call(factory: Any) -> None:
    simulator, client, _ = factory()
    client.create_task()
    client.add(orders(250))
    assert simulator.wait_idle(10)
    pages = [client.call("listOrder", {"userTaskID": "task-1", "page": page, "size": 100}) for page in (1, 2, 3, 4)]
    assert [len(page["orderList"]) for page in pages] == [100, 100, 50, 0] and pages[0]["total"] == 250
    assert client.call("listOrder", {"userTaskID": "task-1", "page": 1, "size": 101})["retCode"] == 4
    ids = [row["orderID"] for page in pages for row in page["orderList"]]
    details = client.call("listOrderDetail", {"userTaskID": "task-1", "orderList": ids})["orderDetailList"]
    assert sum(len(d["callInfoDetailList"]) for d in details) == len(simulator.calls_made)
    assert client.call("listOrderDetail", {"userTaskID": "task-1", "orderList": ids * 3})["retCode"] == 4001


# --- hooks and the local stack -------------------------------------------------------------------------
def test_fault_hooks_answer_without_processing(factory: Any) -> None:
    simulator, client, _ = factory()
    simulator.fail_next(2, status=503)
    assert [client.post("ping", {"productID": "callbot"}).status_code for _ in range(3)] == [503, 503, 200]
    simulator.refuse_next(1, ret_code=7)
    assert client.call("createTask", {"userTaskID": "t1", "sceneID": DEMO_SCENE_ID})["retCode"] == 7
    assert simulator.task_snapshot("t1") is None


def test_connect_gives_an_account_the_adapter_accepts(factory: Any) -> None:
    simulator, _, _ = factory()
    old = (simulator.uuid, simulator.secret_key)
    secret = simulator.connect("http://127.0.0.1:3000")
    account = NxteleAccount.model_validate(secret)
    assert account.callback_base_url == "http://127.0.0.1:3000/webhooks/nxtele"
    assert (account.uuid, account.secret_key.get_secret_value()) == (simulator.uuid, simulator.secret_key) != old
    assert account.base_url == simulator.base_url and account.algorithm == "SHA256"
    options = simulator.demo_options()
    assert options["sceneID"] == DEMO_SCENE_ID and options["scriptVariables"] == ["amountDue", "dueDate"]


def test_create_follows_the_knobs() -> None:
    simulator = create(SimulatorKnobs(drop_rate=0.5, dial_delay=(0.1, 0.2), retry_interval=0.7, seed=3))
    assert (simulator.vendor, simulator.drop_rate, simulator.dial_delay, simulator.retry_interval) == (
        "nxtele",
        0.5,
        (0.1, 0.2),
        0.7,
    )
    assert simulator.uuid != SAMPLE_UUID and simulator.pending() == 0


# --- "unexpected vendor" switches ----------------------------------------------------------------------
def ours(count: int, campaign: str = "cmp-q") -> list[dict[str, Any]]:
    """Orders as dialhub writes them: our ids in `other`, Philippine numbers."""
    return [
        order | {"userPhone": f"63917{n:07d}", "other": json.dumps({"campaignId": campaign, "contactId": f"c{n}"})}
        for n, order in enumerate(orders(count), start=1)
    ]


def test_the_switches_are_named_and_an_unknown_one_is_refused() -> None:
    assert {"short_pages", "national_phones", "silent_refusals"} == QUIRKS
    with pytest.raises(ValueError, match="no switch"):
        NxteleSimulator(quirks=frozenset({"page_from_zero"}))
    assert create(SimulatorKnobs(quirks=frozenset({"short_pages"}))).quirks == {"short_pages"}


def test_without_switches_only_genuine_refusals_are_refused_and_recorded(factory: Any) -> None:
    simulator, client, _ = factory()
    client.create_task(startupType=1)
    simulator.blocked_phones.add("639170000007")
    reply = client.add(ours(200))
    assert (reply["totalCount"], reply["successCount"]) == (200, 199)
    assert reply["errList"] == [{"phone": "639170000007", "errMsg": "userPhone is on the blacklist"}]
    assert client.add(ours(1), user_task_id="no-such-task")["retCode"] == 4  # refused as a whole
    assert simulator.refused_contacts() == {("cmp-q", "c7")}  # c1 of the refused request was taken before
    assert client.add(ours(2, campaign="cmp-r"), user_task_id="no-such-task")["retCode"] == 4
    assert simulator.refused_contacts() == {("cmp-q", "c7"), ("cmp-r", "c1"), ("cmp-r", "c2")}


def test_short_pages_caps_every_listing_at_ten_rows_and_keeps_the_total(factory: Any) -> None:
    simulator, client, _ = factory(quirks=frozenset({"short_pages"}))
    client.create_task(startupType=1)
    client.add(ours(25))
    pages = [client.call("listOrder", {"userTaskID": "task-1", "page": page, "size": 100}) for page in (1, 2, 3, 4)]
    assert [len(page["orderList"]) for page in pages] == [10, 10, 5, 0] and pages[0]["total"] == 25
    assert client.call("listTask", {"page": 1, "size": 100})["total"] == 1
    assert simulator.refused_contacts() == set()  # paging has nothing to do with refusals


def _quirky(simulator: NxteleSimulator, client: Client) -> tuple[dict[str, Any], set[str]]:
    client.create_task(startupType=1)
    entries = ours(200)
    reply = client.add(entries)
    refused = {order["orderID"] for order in entries} - set(simulator.task_snapshot("task-1")["orders"])
    return reply, refused


def test_national_phones_lists_refusals_in_the_national_form_without_an_order_id(factory: Any) -> None:
    simulator, client, _ = factory(quirks=frozenset({"national_phones"}))
    reply, refused = _quirky(simulator, client)
    assert 3 <= len(refused) <= 20  # about 5%, by a hash of the orderID
    assert reply["successCount"] == 200 - len(refused) and len(reply["errList"]) == len(refused)
    numbers = {int(order_id.split("-")[1]) for order_id in refused}
    assert sorted(error["phone"] for error in reply["errList"]) == sorted(f"0917{n:07d}" for n in numbers)
    assert all(set(error) == {"phone", "errMsg"} for error in reply["errList"])
    assert simulator.refused_contacts() == {("cmp-q", f"c{n}") for n in numbers}
    again = client.add(ours(200))  # the same orders again: the refused ones are refused again, alike
    assert again["successCount"] == 0 and len(again["errList"]) == 200
    assert simulator.refused_contacts() == {("cmp-q", f"c{n}") for n in numbers}


def test_silent_refusals_answer_a_shortfall_with_an_empty_err_list(factory: Any) -> None:
    simulator, client, _ = factory(quirks=frozenset({"silent_refusals"}))
    reply, refused = _quirky(simulator, client)
    assert 3 <= len(refused) <= 20
    assert (reply["totalCount"], reply["successCount"], reply["errList"]) == (200, 200 - len(refused), [])
    assert len(simulator.refused_contacts()) == len(refused)


def test_the_same_orders_are_refused_whichever_refusal_switch_is_on(factory: Any) -> None:
    first, first_client, _ = factory(quirks=frozenset({"national_phones"}))
    second, second_client, _ = factory(quirks=frozenset({"silent_refusals"}))
    assert _quirky(first, first_client)[1] == _quirky(second, second_client)[1]


def test_national_form_drops_the_country_code_for_a_leading_zero() -> None:
    assert national_form("639171234567") == "09171234567"
    assert national_form("6281234567890") == "081234567890"
    assert national_form("447700900123") == "07700900123"
    assert national_form("12125550123") == "12125550123"  # no trunk 0 known: international digits kept


def test_both_refusal_switches_split_the_refusals_between_silence_and_national_phones(factory: Any) -> None:
    simulator, client, _ = factory(quirks=frozenset({"national_phones", "silent_refusals"}))
    reply, refused = _quirky(simulator, client)
    listed = reply["errList"]
    assert 0 < len(listed) < len(refused) and reply["successCount"] == 200 - len(refused)
    assert all(error["phone"].startswith("0917") and "orderID" not in error for error in listed)
    assert len(simulator.refused_contacts()) == len(refused)

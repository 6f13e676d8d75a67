"""The Blu simulator must honour the vendor contract, or every test built on it proves nothing.

Talks to the simulator over real loopback HTTP with httpx, the way the client adapter will.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from local.simulators.blu import BluSimulator, mask_mobile, sign_for

APP_ID = "10001"
APP_KEY = "demoAppKey"
FAST_DIAL = (0.0, 0.05)
TIME_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


class FakeClock:
    """A settable clock, so tests can cross the merchant-local midnight without waiting for it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def signed_headers(at: datetime | None = None, app_id: str = APP_ID, app_key: str = APP_KEY) -> dict[str, str]:
    timestamp = str(int((at or datetime.now(UTC)).timestamp() * 1000))
    return {"appId": app_id, "timeStamp": timestamp, "sign": sign_for(app_id, app_key, timestamp)}


class BluClient:
    """Just enough of a client to drive the simulator; signs with the simulator's own clock."""

    def __init__(self, simulator: BluSimulator, clock: FakeClock | None = None) -> None:
        self.simulator = simulator
        self.clock = clock
        self.http = httpx.Client(base_url=simulator.base_url, trust_env=False, timeout=5)

    def post(self, path: str, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
        at = self.clock() if self.clock else None
        return self.http.post(path, json=body, headers=headers or signed_headers(at))

    def call(self, path: str, body: Any) -> dict[str, Any]:
        response = self.post(path, body)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/json")
        return response.json()

    def create_task(self) -> int:
        reply = self.call("/rest/v1/createTask", {"taskName": "dpd-1-30", "botId": 123, "strategyId": 2})
        assert reply["code"] == 2000, reply
        return reply["taskId"]

    def upload(self, task_id: int | str, records: list[dict[str, Any]]) -> dict[str, Any]:
        return self.call("/rest/v1/uploadAndStartJob", {"taskId": task_id, "records": records})

    def query(self, task_id: int | str, **paging: int) -> dict[str, Any]:
        return self.call("/rest/v1/queryCallResult", {"taskId": str(task_id), **paging})

    def cancel(self, task_id: int, record: dict[str, Any]) -> dict[str, Any]:
        body = {"taskId": task_id, "mobile": record["mobile"], "orderId": record["id"]}
        return self.call("/rest/v1/taskCancelPhoneCall", body)


def make_records(count: int, first_id: int = 1) -> list[dict[str, Any]]:
    return [
        {
            "id": record_id,
            "name": f"Debtor {record_id}",
            "mobile": f"0917{record_id:07d}",
            "extVars": json.dumps({"uniqueId": f"u-{record_id}", "orderId": 10_000 + record_id}),
            "callVars": json.dumps({"ClientName": "Bob", "OverDueDays": "1"}),
        }
        for record_id in range(first_id, first_id + count)
    ]


class _ReceiverServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default backlog of 5 stalls concurrent callbacks for a second


class Receiver:
    """A tiny merchant-side HTTP endpoint that answers with scripted statuses and records what it got."""

    def __init__(self, statuses: list[int] | None = None, reply: dict[str, Any] | None = None) -> None:
        self.statuses = list(statuses or [])
        self.reply = reply or {"code": 200, "message": "success"}
        self.bodies: list[dict[str, Any]] = []
        self.content_types: list[str] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    receiver.bodies.append(json.loads(raw))
                    receiver.content_types.append(self.headers.get("Content-Type", ""))
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                body = json.dumps(receiver.reply).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = _ReceiverServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05})
        self.thread.daemon = True
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver_factory() -> Iterator[Any]:
    receivers: list[Receiver] = []

    def make(statuses: list[int] | None = None, reply: dict[str, Any] | None = None) -> Receiver:
        receivers.append(Receiver(statuses, reply))
        return receivers[-1]

    yield make
    for receiver in receivers:
        receiver.close()


@pytest.fixture
def simulator_factory() -> Iterator[Any]:
    simulators: list[BluSimulator] = []

    def make(**options: Any) -> tuple[BluSimulator, BluClient]:
        clock = options.get("clock")
        options.setdefault("dial_delay", FAST_DIAL)
        simulators.append(BluSimulator(APP_ID, APP_KEY, **options).start())
        return simulators[-1], BluClient(simulators[-1], clock)

    yield make
    for simulator in simulators:
        simulator.stop()


# --- auth ----------------------------------------------------------------------------------------------
def test_correctly_signed_request_is_accepted(simulator_factory: Any) -> None:
    _, client = simulator_factory()
    task_id = client.create_task()
    assert isinstance(task_id, int) and 10_000_000 <= task_id <= 99_999_999


def test_signature_matches_the_documented_algorithm() -> None:
    # Vector from docs/vendors/blu.md (computed locally: sha256("10001" + "demoAppKey" + ts)).
    expected = "18b411574da4fb475e2ed5a363d792a96848894428089675bfaa0549f952f4da"
    assert sign_for("10001", "demoAppKey", "1626856869046") == expected


def _uppercase_sign() -> dict[str, str]:
    headers = signed_headers()
    return {**headers, "sign": headers["sign"].upper()}


@pytest.mark.parametrize(
    "make_headers",
    [
        pytest.param(lambda: signed_headers(app_key="wrongKey"), id="wrong-key"),
        pytest.param(lambda: signed_headers(app_id="10002"), id="wrong-app-id"),
        pytest.param(_uppercase_sign, id="uppercase-sign"),
        pytest.param(lambda: signed_headers(datetime.now(UTC) - timedelta(seconds=305)), id="stale"),
        pytest.param(lambda: signed_headers(datetime.now(UTC) + timedelta(seconds=305)), id="future"),
        pytest.param(lambda: {"appId": APP_ID}, id="missing-headers"),
    ],
)
def test_bad_signatures_are_refused(simulator_factory: Any, make_headers: Callable[[], dict[str, str]]) -> None:
    simulator, client = simulator_factory()
    response = client.post("/rest/v1/createTask", {"taskName": "t", "botId": 1}, headers=make_headers())
    assert response.status_code == 200
    assert response.json() == {"code": 4001, "message": "invalid sign"}
    assert simulator.pending() == 0


def test_timestamp_within_skew_is_accepted(simulator_factory: Any) -> None:
    _, client = simulator_factory()
    headers = signed_headers(datetime.now(UTC) - timedelta(seconds=290))
    response = client.post("/rest/v1/createTask", {"taskName": "t", "botId": 1}, headers=headers)
    assert response.json()["code"] == 2000


# --- request validation --------------------------------------------------------------------------------
def test_unparseable_json_missing_bot_and_emoji_are_refused(simulator_factory: Any) -> None:
    _, client = simulator_factory()
    bad_json = client.http.post("/rest/v1/createTask", content=b"{not json", headers=signed_headers())
    assert bad_json.json() == {"code": 4000, "message": "bad request"}
    assert client.call("/rest/v1/createTask", {"taskName": "t"}) == {
        "code": 4007,
        "message": "botId required",
    }

    task_id = client.create_task()
    records = make_records(2)
    records[1]["name"] = "Ana \U0001f600"
    reply = client.upload(task_id, records)
    assert reply["code"] == 4005
    assert "name" in reply["message"] and reply["message"].startswith("illegal characters in field")


def test_upload_to_unknown_task_or_with_nested_extvars_is_refused(simulator_factory: Any) -> None:
    simulator, client = simulator_factory()
    assert client.upload(12345678, make_records(1))["code"] == 4004
    task_id = client.create_task()
    assert client.upload(task_id, [])["code"] == 4000
    nested = make_records(1)
    nested[0]["extVars"] = {"orderId": 1}
    assert client.upload(task_id, nested)["code"] == 4000
    assert not simulator.dial_requests


def test_fail_next_answers_the_injected_status_without_processing(simulator_factory: Any) -> None:
    simulator, client = simulator_factory()
    simulator.fail_next(2, status=503)
    body = {"taskName": "t", "botId": 1}
    assert [client.post("/rest/v1/createTask", body).status_code for _ in range(3)] == [503, 503, 200]


# --- upload --------------------------------------------------------------------------------------------
def test_upload_of_201_records_is_refused_and_nothing_is_dialled(simulator_factory: Any) -> None:
    simulator, client = simulator_factory()
    task_id = client.create_task()
    reply = client.upload(task_id, make_records(201))
    assert reply == {"code": 4003, "message": "records exceed 200"}
    assert not simulator.dial_requests
    assert simulator.pending() == 0
    assert client.upload(task_id, make_records(200))["count"] == 200


def test_reuploaded_record_ids_are_dialled_once(simulator_factory: Any) -> None:
    simulator, client = simulator_factory()
    task_id = client.create_task()
    first = client.upload(task_id, make_records(3))
    assert first["code"] == 2000 and first["count"] == 3 and isinstance(first["jobId"], int)
    retry = client.upload(str(task_id), make_records(4))  # a client retry plus one new record
    assert retry["code"] == 2000 and retry["count"] == 1

    assert simulator.wait_idle(5)
    assert sorted(simulator.dial_requests) == [1, 2, 3, 4]
    assert set(simulator.dial_requests.values()) == {1}
    results = client.query(task_id, pageSize=100)["data"]
    assert sorted(result["userId"] for result in results) == [1, 2, 3, 4]


def test_task_expires_at_merchant_local_midnight(simulator_factory: Any) -> None:
    # 15:00 UTC is 23:00 in Manila; two hours later it is still the same UTC day but the next Manila day.
    clock = FakeClock(datetime(2025, 3, 10, 15, 0, tzinfo=UTC))
    _, client = simulator_factory(clock=clock)
    task_id = client.create_task()
    assert client.upload(task_id, make_records(1))["code"] == 2000
    clock.now += timedelta(hours=2)
    assert client.upload(task_id, make_records(1, first_id=2)) == {"code": 4002, "message": "taskId expired"}


# --- cancel --------------------------------------------------------------------------------------------
def test_cancel_before_dial_yields_taskcancel_and_no_call(simulator_factory: Any) -> None:
    simulator, client = simulator_factory(dial_delay=(30.0, 30.0))
    task_id = client.create_task()
    records = make_records(2)
    client.upload(task_id, records)
    assert simulator.pending() == 2

    assert client.cancel(task_id, records[0]) == {"code": 2000, "message": "success"}
    assert client.cancel(task_id, records[0])["code"] == 4006  # already finished
    assert simulator.pending() == 1
    [result] = client.query(task_id)["data"]
    assert (result["userId"], result["code"], result["status"], result["duration"]) == (1, "Taskcancel", 3, 0)
    assert result["answerTime"] == "" and result["recordUrl"] == ""
    assert simulator.calls_made == []


def test_cancel_after_dial_and_of_unknown_record_are_refused(simulator_factory: Any) -> None:
    simulator, client = simulator_factory()
    task_id = client.create_task()
    records = make_records(1)
    client.upload(task_id, records)
    assert simulator.wait_idle(5)
    assert client.cancel(task_id, records[0]) == {"code": 4006, "message": "call already made"}
    assert client.cancel(task_id, make_records(1, first_id=99)[0]) == {
        "code": 4004,
        "message": "record not found",
    }
    assert len(simulator.calls_made) == 1


# --- query ---------------------------------------------------------------------------------------------
def test_query_pages_by_page_size_until_an_empty_page(simulator_factory: Any) -> None:
    simulator, client = simulator_factory()
    task_id = client.create_task()
    client.upload(task_id, make_records(5))
    assert simulator.wait_idle(5)

    pages = [client.query(task_id, pageNo=page_no, pageSize=2) for page_no in (1, 2, 3, 4)]
    assert [page["count"] for page in pages] == [2, 2, 1, 0]
    assert all(page["count"] == len(page["data"]) for page in pages)
    call_ids = [result["callId"] for page in pages for result in page["data"]]
    assert len(set(call_ids)) == 5
    assert client.query(task_id)["count"] == 5  # default page size 10
    assert client.query(task_id, pageSize=101)["code"] == 4000


def test_results_older_than_45_days_are_not_returned(simulator_factory: Any) -> None:
    clock = FakeClock(datetime.now(UTC))
    simulator, client = simulator_factory(clock=clock)
    task_id = client.create_task()
    client.upload(task_id, make_records(2))
    assert simulator.wait_idle(5)
    clock.now += timedelta(days=44)
    assert client.query(task_id)["count"] == 2
    clock.now += timedelta(days=2)
    assert client.query(task_id)["count"] == 0


def test_results_have_the_documented_shape_and_a_realistic_mix(simulator_factory: Any) -> None:
    simulator, client = simulator_factory()
    task_id = client.create_task()
    records = make_records(200)
    client.upload(task_id, records)
    assert simulator.wait_idle(8)
    results = [r for page_no in (1, 2) for r in client.query(task_id, pageNo=page_no, pageSize=100)["data"]]
    assert len(results) == 200
    uploaded = {record["id"]: record for record in records}

    for result in results:
        record = uploaded[result["userId"]]
        assert result["taskId"] == task_id and result["botId"] == 123 and result["strategyId"] == 2
        assert 100_000_000 <= result["callId"] <= 999_999_999
        assert result["phone"] == mask_mobile(record["mobile"]) == record["mobile"][:4] + "***" + record["mobile"][-4:]
        assert result["extVars"] == record["extVars"] and result["name"] == record["name"]
        assert TIME_PATTERN.match(result["startTime"]) and TIME_PATTERN.match(result["endTime"])
        if result["status"] == 2:
            answered = datetime.strptime(result["answerTime"], "%Y-%m-%d %H:%M:%S")
            ended = datetime.strptime(result["endTime"], "%Y-%m-%d %H:%M:%S")
            assert (ended - answered).total_seconds() == result["duration"] > 0
            assert result["recordUrl"].startswith("https://bluapi.shanghu.ai/download/v1/getDownloadUrl/")
        else:
            assert result["answerTime"] == "" and result["duration"] == 0 and result["recordUrl"] == ""
        if result["code"] == "PTP":
            window = result["slots"]["paymentTime"]
            assert len(window) == 2 and all(TIME_PATTERN.match(moment) for moment in window)
            assert window[0] <= window[1]
        elif result["code"] == "HPTP":
            assert result["slots"] == {"paymentTime": None}
        else:
            assert "slots" not in result

    answered_share = sum(result["status"] == 2 for result in results) / len(results)
    assert 0.4 <= answered_share <= 0.7
    codes = {result["code"] for result in results}
    assert {"PTP", "NOST", "D00"} <= codes
    assert len(codes) >= 10


def test_same_seed_gives_same_outcomes(simulator_factory: Any) -> None:
    outcomes = []
    for _ in range(2):
        simulator, client = simulator_factory(seed=11)
        task_id = client.create_task()
        client.upload(task_id, make_records(20))
        assert simulator.wait_idle(5)
        results = client.query(task_id, pageSize=100)["data"]
        outcomes.append(sorted((result["userId"], result["code"], result["duration"]) for result in results))
    assert outcomes[0] == outcomes[1]


# --- callbacks -----------------------------------------------------------------------------------------
def test_callback_is_retried_after_non_200_until_delivered(simulator_factory: Any, receiver_factory: Any) -> None:
    receiver = receiver_factory(statuses=[503, 500])
    simulator, client = simulator_factory(callback_url=receiver.url, retry_interval=0.05)
    task_id = client.create_task()
    client.upload(task_id, make_records(1))
    assert simulator.wait_idle(5)

    assert (simulator.callbacks_attempted, simulator.callbacks_delivered) == (3, 1)
    assert len(receiver.bodies) == 3
    assert len({body["callId"] for body in receiver.bodies}) == 1  # same result each time
    assert receiver.bodies[-1] == client.query(task_id)["data"][0]
    assert all(kind == "application/json;charset=utf-8" for kind in receiver.content_types)


def test_callback_gives_up_after_max_retries(simulator_factory: Any, receiver_factory: Any) -> None:
    receiver = receiver_factory(statuses=[500] * 10)
    simulator, client = simulator_factory(callback_url=receiver.url, retry_interval=0.02, max_retries=2)
    task_id = client.create_task()
    client.upload(task_id, make_records(1))
    assert simulator.wait_idle(5)
    assert (simulator.callbacks_attempted, simulator.callbacks_delivered) == (3, 0)
    assert len(receiver.bodies) == 3
    assert simulator.callbacks_abandoned == 1


def test_every_result_is_called_back_once_when_the_receiver_is_healthy(
    simulator_factory: Any, receiver_factory: Any
) -> None:
    receiver = receiver_factory()
    simulator, client = simulator_factory(callback_url=receiver.url)
    task_id = client.create_task()
    client.upload(task_id, make_records(30))
    assert simulator.wait_idle(5)
    assert simulator.callbacks_delivered == simulator.callbacks_attempted == 30
    assert sorted(body["userId"] for body in receiver.bodies) == list(range(1, 31))


def test_dropped_callbacks_are_never_sent_but_stay_queryable(simulator_factory: Any, receiver_factory: Any) -> None:
    receiver = receiver_factory()
    simulator, client = simulator_factory(callback_url=receiver.url, drop_rate=1.0)
    task_id = client.create_task()
    client.upload(task_id, make_records(4))
    assert simulator.wait_idle(5)
    time.sleep(0.1)  # give a wrongly-sent callback time to land
    assert receiver.bodies == []
    assert (simulator.callbacks_dropped, simulator.callbacks_attempted) == (4, 0)
    assert client.query(task_id)["count"] == 4


def test_callback_url_can_be_set_after_start(simulator_factory: Any, receiver_factory: Any) -> None:
    receiver = receiver_factory()
    simulator, client = simulator_factory()
    simulator.callback_url = receiver.url
    task_id = client.create_task()
    client.upload(task_id, make_records(1))
    assert simulator.wait_idle(5)
    assert len(receiver.bodies) == 1


# --- pre-dial verification -----------------------------------------------------------------------------
def test_predial_code_0_cancels_the_call(simulator_factory: Any, receiver_factory: Any) -> None:
    predial = receiver_factory(reply={"code": 0, "message": "Cancel call"})
    simulator, client = simulator_factory(predial_url=predial.url)
    task_id = client.create_task()
    records = make_records(1)
    client.upload(task_id, records)
    assert simulator.wait_idle(5)

    assert predial.bodies == [
        {"taskId": task_id, "id": 1, "mobile": records[0]["mobile"], "extVars": records[0]["extVars"]}
    ]
    assert predial.content_types == ["application/json;charset=utf-8"]
    [result] = client.query(task_id)["data"]
    assert (result["code"], result["desc"], result["status"]) == (
        "Taskcancel",
        "Cancelled by pre-dial verification",
        3,
    )
    assert result["answerTime"] == "" and result["duration"] == 0
    assert simulator.calls_made == []


@pytest.mark.parametrize(
    ("predial_status", "predial_reply"),
    [(200, {"code": 1, "message": "Call"}), (500, {"code": 0, "message": "broken"})],
    ids=["code-1-proceeds", "failing-predial-dials-anyway"],
)
def test_predial_other_than_code_0_dials(
    simulator_factory: Any, receiver_factory: Any, predial_status: int, predial_reply: dict[str, Any]
) -> None:
    predial = receiver_factory(statuses=[predial_status], reply=predial_reply)
    simulator, client = simulator_factory(predial_url=predial.url)
    task_id = client.create_task()
    client.upload(task_id, make_records(1))
    assert simulator.wait_idle(5)
    assert len(predial.bodies) == 1
    assert len(simulator.calls_made) == 1
    assert client.query(task_id)["data"][0]["code"] != "Taskcancel"


# --- faults for `make chaos` (shared plumbing: every simulator gets the same ones) ---------------------------
def test_accepted_then_lost_answers_dial_once_and_a_retry_is_deduplicated(simulator_factory: Any) -> None:
    from local.simulators.plumbing import ApiFaults

    simulator, client = simulator_factory()
    task_id = client.create_task()
    for kind in ("accepted_then_5xx", "accepted_then_reset"):
        simulator.use_faults(ApiFaults(rate=1.0, kinds=(kind,)), simulator.courier.faults)
        with pytest.raises(httpx.TransportError) if kind.endswith("reset") else contextlib.nullcontext():
            assert client.post(
                "/rest/v1/uploadAndStartJob", {"taskId": task_id, "records": make_records(2)}
            ).status_code in (502, 504)
    simulator.use_faults(ApiFaults(), simulator.courier.faults)
    assert client.upload(task_id, make_records(2))["count"] == 0  # the retry: already accepted, not dialled again
    assert dict(simulator.dial_requests) == {1: 1, 2: 1}
    assert simulator.api.injected == {"accepted_then_5xx": 1, "accepted_then_reset": 1}


def test_faults_before_processing_accept_nothing(simulator_factory: Any) -> None:
    from local.simulators.plumbing import ApiFaults

    simulator, client = simulator_factory()
    task_id = client.create_task()
    simulator.use_faults(
        ApiFaults(rate=1.0, kinds=("error_5xx", "throttle", "timeout"), timeout_seconds=0.3), simulator.courier.faults
    )
    statuses = []
    for _ in range(9):
        try:
            statuses.append(
                client.post("/rest/v1/uploadAndStartJob", {"taskId": task_id, "records": make_records(1)}).status_code
            )
        except httpx.TransportError:
            statuses.append("dropped")
    assert set(statuses) <= {500, 502, 503, 429, "dropped"} and "dropped" in statuses
    assert not simulator.dial_requests and sum(simulator.api.injected.values()) == 9


def test_callback_faults_duplicate_hold_back_and_replay(simulator_factory: Any, receiver_factory: Any) -> None:
    from local.simulators.plumbing import ApiFaults, CallbackFaults

    receiver = receiver_factory()
    simulator, client = simulator_factory(callback_url=receiver.url, seed=5)
    simulator.use_faults(
        ApiFaults(), CallbackFaults(duplicate_rate=1.0, max_copies=3, late_rate=0.3, reorder_seconds=0.05)
    )
    client.upload(client.create_task(), make_records(20))
    assert simulator.wait_idle(5)
    courier = simulator.courier
    held = courier.late
    assert 0 < held < 20 and len(courier.late_reports) == held  # not pending: the poll may run before them
    assert len(receiver.bodies) == courier.delivered == (20 - held) + courier.extra_copies
    assert len({body["callId"] for body in receiver.bodies}) == 20 - held  # every copy is the same result
    assert courier.release_late() == held and simulator.wait_idle(5)
    assert len({body["callId"] for body in receiver.bodies}) == 20
    assert courier.replay(0.5) == 10 and simulator.wait_idle(5)
    assert courier.statuses == {200: len(receiver.bodies)}


# --- unexpected-vendor switches -------------------------------------------------------------------------------
def our_records(count: int, campaign_id: str = "cmp-1", first_id: int = 1) -> list[dict[str, Any]]:
    """Records as dialhub uploads them: our campaign and contact ids in extVars."""
    records = make_records(count, first_id)
    for record in records:
        ours = {"campaignId": campaign_id, "contactId": f"c{record['id']}", "attempt": 1, "orderId": record["id"]}
        record["extVars"] = json.dumps(ours)
    return records


def test_the_switches_are_named_and_an_unknown_one_is_refused() -> None:
    from local.simulators import SimulatorKnobs, create
    from local.simulators.blu import QUIRKS

    assert frozenset({"short_pages", "undercount", "documented_callbacks"}) == QUIRKS
    with pytest.raises(ValueError, match="no switch"):
        BluSimulator(APP_ID, APP_KEY, quirks=frozenset({"pages_by_7"}))
    with pytest.raises(ValueError, match="no switch"):
        create("blu", SimulatorKnobs(quirks=frozenset({"pages_by_7"})))
    assert create("blu", SimulatorKnobs(quirks=frozenset({"short_pages"}))).quirks == {"short_pages"}


def test_short_pages_serve_10_rows_whatever_is_asked(simulator_factory: Any) -> None:
    simulator, client = simulator_factory(quirks=frozenset({"short_pages"}))
    task_id = client.create_task()
    client.upload(task_id, make_records(25))
    assert simulator.wait_idle(5)
    pages = [client.query(task_id, pageNo=page_no, pageSize=100) for page_no in (1, 2, 3, 4)]
    assert [(page["count"], len(page["data"])) for page in pages] == [(10, 10), (10, 10), (5, 5), (0, 0)]
    assert len({row["callId"] for page in pages for row in page["data"]}) == 25
    assert client.query(task_id, pageSize=5)["count"] == 5  # a smaller page is served as asked


def test_undercount_leaves_out_the_same_five_percent_and_counts_only_what_it_took(simulator_factory: Any) -> None:
    from local.simulators.blu import quietly_refused

    simulator, client = simulator_factory(quirks=frozenset({"undercount"}))
    task_id = client.create_task()
    records = our_records(200)
    left_out = {record["id"] for record in records if quietly_refused(record["id"])}
    assert 4 <= len(left_out) <= 18  # about 5%
    reply = client.upload(task_id, records)
    assert reply["code"] == 2000 and reply["count"] == 200 - len(left_out)
    assert client.upload(task_id, records)["count"] == 0  # sent again: the rest is held, the left-out still out
    assert simulator.wait_idle(5)
    assert set(simulator.dial_requests) == {record["id"] for record in records} - left_out
    assert simulator.refused_contacts() == {("cmp-1", f"c{record_id}") for record_id in left_out}
    assert {row["userId"] for row in client.query(task_id, pageSize=100)["data"]}.isdisjoint(left_out)


def test_without_undercount_every_record_is_taken(simulator_factory: Any) -> None:
    simulator, client = simulator_factory()
    assert client.upload(client.create_task(), our_records(200))["count"] == 200
    assert simulator.refused_contacts() == set()


def test_documented_callbacks_come_as_the_task_and_its_records(simulator_factory: Any, receiver_factory: Any) -> None:
    receiver = receiver_factory()
    simulator, client = simulator_factory(callback_url=receiver.url, quirks=frozenset({"documented_callbacks"}))
    task_id = client.create_task()
    client.upload(task_id, make_records(3))
    assert simulator.wait_idle(5)
    assert len(receiver.bodies) == 3
    results = {row["callId"]: row for row in client.query(task_id)["data"]}
    for body in receiver.bodies:
        assert set(body) == {"taskId", "records"} and body["taskId"] == task_id
        [row] = body["records"]
        assert "taskId" not in row and row == {k: v for k, v in results[row["callId"]].items() if k != "taskId"}


def test_refused_contacts_are_those_of_refused_uploads_never_taken(simulator_factory: Any) -> None:
    simulator, client = simulator_factory()
    task_id = client.create_task()
    with_emoji = our_records(2, first_id=1)
    with_emoji[1]["name"] = "Ana \U0001f600"
    assert client.upload(task_id, with_emoji)["code"] == 4005
    bad_sign = client.post(
        "/rest/v1/uploadAndStartJob",
        {"taskId": task_id, "records": our_records(1, first_id=3)},
        headers=signed_headers(app_key="wrongKey"),
    )
    assert bad_sign.json()["code"] == 4001
    assert client.upload(task_id, [*make_records(1, first_id=9), {"id": "x"}])["code"] == 4000  # no ids of ours
    assert simulator.refused_contacts() == {("cmp-1", "c1"), ("cmp-1", "c2"), ("cmp-1", "c3")}
    assert client.upload(task_id, our_records(1, first_id=1))["count"] == 1  # taken after all
    assert simulator.refused_contacts() == {("cmp-1", "c2"), ("cmp-1", "c3")}

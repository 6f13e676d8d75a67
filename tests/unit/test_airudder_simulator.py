"""The AIRudder simulator keeps AIRudder's rules: tokens, task creation checks, redials, webhooks (signed,
encrypted, dropped, retried), the query limit, cancelling a call and operating a task."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from dialhub.vendors.airudder.crypto import decrypt_body
from dialhub.vendors.airudder.wire import AirudderAccount
from local import simulators
from local.simulators import SimulatorKnobs
from local.simulators.airudder import QUIRKS, AirudderSimulator, create, quirk_refuses, sign_body

APP_KEY = "sim-appkey"
APP_SECRET = "sim-appsecret-0123456789"
MANILA = ZoneInfo("Asia/Manila")


class Receiver:
    """A webhook endpoint that records what arrives and answers `statuses` in turn, then 200."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.statuses = list(statuses or [])
        self.received: list[tuple[str, dict[str, str], bytes]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    receiver.received.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def json_bodies(self, kind: str) -> list[dict[str, Any]]:
        return [json.loads(body) for path, _, body in self.received if path.startswith(f"/{kind}")]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Any:
    endpoint = Receiver()
    yield endpoint
    endpoint.close()


@pytest.fixture
def sim(receiver: Receiver) -> Any:
    simulator = AirudderSimulator(
        APP_KEY, APP_SECRET, dial_delay=(0.01, 0.03), minute_seconds=0.01, retry_interval=0.02, seed=11
    ).start()
    simulator.call_url, simulator.task_url = f"{receiver.url}/call?token=t", f"{receiver.url}/task?token=t"
    yield simulator
    simulator.stop()


class Client:
    """Speaks to the simulator the way the adapter does, without the adapter's safety nets."""

    def __init__(self, simulator: AirudderSimulator) -> None:
        self.http = httpx.Client(base_url=simulator.base_url, timeout=5)
        self.token = self.post("/service/cloud/auth", {"APPKey": APP_KEY, "APPSecret": APP_SECRET})["data"]["token"]

    def post(self, path: str, body: Any) -> dict[str, Any]:
        headers = {"Authorization": f"Token {self.token}"} if hasattr(self, "token") else {}
        return self.http.post(path, json=body, headers=headers).json()

    def get(self, path: str, **params: str) -> dict[str, Any]:
        return self.http.get(path, params=params, headers={"Authorization": f"Token {self.token}"}).json()

    def create(self, numbers: int = 3, **changes: Any) -> dict[str, Any]:
        return self.post("/service/cloud/v2/task", task_body(numbers, **changes))


def _local(moment: dt.datetime) -> str:
    return moment.astimezone(MANILA).strftime("%Y-%m-%d %H:%M:%S")


def task_body(numbers: int = 3, **changes: Any) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC)
    body = {
        "TaskName": f"t_{time.monotonic_ns()}",
        "RobotID": "r1",
        "SIPLine": "PH_LINE",
        "Type": "collection",
        "Perform": 1,
        "RepeatNumber": 2,
        "RepeatInterval": 1,
        "RobotMethod": "single",
        "ScheduleStartTime": _local(now + dt.timedelta(minutes=1)),
        "ScheduleEndTime": _local(now + dt.timedelta(hours=2)),
        "Details": [
            {
                "Mobile": f"+6391712345{i:02d}",
                "Platform": "dialhub",
                "Comments": f"cmp|c{i}",
                "Customer": "Maria",
                "ExtraA": "1200",
            }
            for i in range(numbers)
        ],
    }
    return body | changes


@pytest.fixture
def client(sim: AirudderSimulator) -> Client:
    return Client(sim)


# --------------------------------------------------------------------------- auth
def test_tokens_are_issued_for_the_right_credentials_and_checked(sim: AirudderSimulator, client: Client) -> None:
    refused = client.post("/service/cloud/auth", {"APPKey": APP_KEY, "APPSecret": "wrong"})
    assert refused["code"] == 10302 and "data" not in refused
    no_token = client.http.get("/service/cloud/detail", params={"TaskID": "x"})
    assert no_token.status_code == 401 and no_token.json()["code"] == 10812
    assert client.get("/service/cloud/detail", TaskID="x")["code"] == 10506  # a good token gets through
    sim.expire_tokens()
    assert client.get("/service/cloud/detail", TaskID="x")["code"] == 10813
    assert sim.auth_requests == 2


def test_token_lifetime_is_a_knob(receiver: Receiver) -> None:
    with AirudderSimulator(APP_KEY, APP_SECRET, token_ttl=0.05) as simulator:
        client = Client(simulator)
        assert client.get("/service/cloud/list")["code"] == 200
        time.sleep(0.1)
        assert client.get("/service/cloud/list")["code"] == 10813


# --------------------------------------------------------------------------- task creation rules
def test_a_task_is_created_and_its_name_is_unique(sim: AirudderSimulator, client: Client) -> None:
    body = task_body(2)
    created = client.post("/service/cloud/v2/task", body)
    assert created["code"] == 200 and len(created["data"]["TaskID"]) == 32
    assert "detail_error_list" not in created["data"]
    again = client.post("/service/cloud/v2/task", body)
    assert again["code"] == 10508 and sim.task_ids() == [created["data"]["TaskID"]]
    assert sim.dial_requests == Counter({"cmp|c0": 1, "cmp|c1": 1})
    listed = client.get("/service/cloud/list", TaskName=body["TaskName"])["data"]["list"]
    assert [row["TaskID"] for row in listed] == [created["data"]["TaskID"]]


def _in(minutes: float) -> str:
    return _local(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes))


@dataclasses.dataclass(frozen=True)
class _Later:
    """A time `minutes` from when the test runs, not from when the parameters were collected (a slow suite can
    reach a test long after, and these cases sit 30 minutes from a limit)."""

    minutes: float


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"TaskName": "x" * 65}, 10518),
        ({"TaskName": "has space"}, 10518),
        ({"RobotID": ""}, 10501),
        ({"SIPLine": None}, 10501),
        ({"Type": None}, 10501),
        ({"Perform": 4}, 10501),
        ({"RobotMethod": "crowd"}, 10501),
        ({"RepeatNumber": 16}, 10521),
        ({"RepeatNumber": -1}, 10521),
        ({"RepeatInterval": 31}, 10521),
        ({"RepeatInterval": "5"}, 10521),
        ({"ScheduleStartTime": _Later(-30)}, 10509),
        ({"ScheduleStartTime": _Later(5 * 24 * 60 + 30), "ScheduleEndTime": _Later(5 * 24 * 60 + 90)}, 10501),
        ({"ScheduleEndTime": _Later(5 * 24 * 60 + 30)}, 10501),
        ({"ScheduleEndTime": _Later(20)}, 10620),
        ({"ScheduleStartTime": "2026/11/25 10:00"}, 10501),
        ({"Details": []}, 10505),
    ],
)
def test_task_creation_rules(sim: AirudderSimulator, client: Client, changes: dict[str, Any], code: int) -> None:
    answer = client.create(
        **{key: _in(value.minutes) if isinstance(value, _Later) else value for key, value in changes.items()}
    )
    assert answer["code"] == code, answer
    assert sim.task_ids() == [] and not sim.dial_requests


def test_at_most_10000_numbers_per_task(sim: AirudderSimulator, client: Client) -> None:
    detail = {"Mobile": "+639171234567", "Platform": "dialhub"}
    assert client.create(Details=[detail] * 10_001)["code"] == 10501
    assert sim.task_ids() == []


def test_start_immediately_needs_no_schedule(sim: AirudderSimulator, client: Client) -> None:
    body = task_body(1, StartImmediately=True)
    del body["ScheduleStartTime"], body["ScheduleEndTime"]
    assert client.post("/service/cloud/v2/task", body)["code"] == 200


def _bad_rows() -> list[dict[str, Any]]:
    good = {"Mobile": "+639171234567", "Platform": "dialhub", "Comments": "cmp|good"}
    return [
        good,
        {"Mobile": "639171234568", "Platform": "dialhub", "Comments": "cmp|no-plus"},
        {"Mobile": "+63917123456789012", "Platform": "dialhub", "Comments": "cmp|too-long"},
        {"Mobile": "+639171234569", "Platform": "dial hub 2", "Comments": "cmp|platform"},
        {
            "Mobile": "+639171234570",
            "Platform": "dialhub",
            "Comments": "cmp|emoji",
            "Customer": "Ana \N{GRINNING FACE}",
        },
        {"Mobile": "+639171234571", "Platform": "dialhub", "Comments": "c" * 65},
    ]


def test_perform_1_creates_the_task_with_the_good_rows_and_lists_the_bad(
    sim: AirudderSimulator, client: Client
) -> None:
    answer = client.create(Details=_bad_rows())
    errors = answer["data"]["detail_error_list"]
    assert answer["code"] == 200 and answer["data"]["TaskID"]
    assert [error["field"] for error in errors] == [f"Details[{i}]" for i in range(1, 6)]
    assert errors[0] == {"field": "Details[1]", "msg": "Country Code Error: 639171234568", "comments": "cmp|no-plus"}
    assert "Customer" in errors[3]["msg"] and "Comments" in errors[4]["msg"]
    assert sim.dial_requests == Counter({"cmp|good": 1})


def test_perform_2_validates_only_and_perform_3_is_all_or_nothing(sim: AirudderSimulator, client: Client) -> None:
    checked = client.create(Details=_bad_rows(), Perform=2)
    assert checked["code"] == 200 and "TaskID" not in checked["data"] and len(checked["data"]["detail_error_list"]) == 5
    refused = client.create(Details=_bad_rows(), Perform=3)
    assert refused["code"] == 10501 and len(refused["data"]["detail_error_list"]) == 5
    assert client.create(Details=_bad_rows()[1:])["code"] == 10505  # Perform 1 with nothing valid
    assert sim.task_ids() == [] and not sim.dial_requests


def test_a_refused_country_is_a_row_error(receiver: Receiver) -> None:
    with AirudderSimulator(APP_KEY, APP_SECRET, refused_prefixes=("+6399",)) as simulator:
        details = [
            {"Mobile": "+639991234567", "Platform": "dialhub", "Comments": "cmp|x"},
            {"Mobile": "+639171234567", "Platform": "dialhub", "Comments": "cmp|y"},
        ]
        answer = Client(simulator).create(Details=details)
        assert answer["data"]["detail_error_list"][0]["comments"] == "cmp|x"
        assert simulator.dial_requests == Counter({"cmp|y": 1})


# --------------------------------------------------------------------------- dialling and webhooks
def test_every_number_ends_in_one_call_webhook_after_its_redials(
    sim: AirudderSimulator, client: Client, receiver: Receiver
) -> None:
    task_id = client.create(30, RepeatNumber=2)["data"]["TaskID"]
    assert sim.wait_idle(10)
    calls = receiver.json_bodies("call")
    assert sorted(call["Comments"] for call in calls) == sorted(f"cmp|c{i}" for i in range(30))
    assert all(1 <= call["CallTimes"] <= 3 and call["CallID"] for call in calls)
    assert any(call["CallTimes"] > 1 for call in calls)  # unanswered numbers were redialled
    assert all(
        call["CallTimes"] == 3 or call["CallStatus"] in ("Answered", "Voicemail", "InvalidNumber") for call in calls
    )  # a number is given up only when its redials are spent
    [finished] = receiver.json_bodies("task")
    assert finished["TaskID"] == task_id and finished["Status"] == "Finished" and finished["Total"] == 30
    rows = {row["Comments"]: row for row in client.get("/service/cloud/detail", TaskID=task_id)["data"]["list"]}
    assert all(rows[call["Comments"]]["CallID"] == call["CallID"] for call in calls)  # webhook == detail
    assert sim.calls_made == sum(call["CallTimes"] for call in calls)


def test_without_redials_each_number_is_dialled_once(
    sim: AirudderSimulator, client: Client, receiver: Receiver
) -> None:
    client.create(20, RepeatNumber=0)
    assert sim.wait_idle(10)
    assert {call["CallTimes"] for call in receiver.json_bodies("call")} == {1} and sim.calls_made == 20


def test_outcomes_are_the_same_for_the_same_seed(receiver: Receiver) -> None:
    def run() -> dict[str, tuple[str, str, int]]:
        with AirudderSimulator(APP_KEY, APP_SECRET, dial_delay=(0.0, 0.01), minute_seconds=0.0, seed=5) as sim:
            task_id = Client(sim).create(25, TaskName="same")["data"]["TaskID"]
            assert sim.wait_idle(10)
            return {
                row["Comments"]: (row["CallStatus"], row["Intention"], row["CallTimes"]) for row in sim.rows(task_id)
            }

    assert run() == run()


def test_webhooks_can_be_signed_and_encrypted(receiver: Receiver) -> None:
    with AirudderSimulator(
        APP_KEY,
        APP_SECRET,
        dial_delay=(0.0, 0.01),
        sign_callbacks=True,
        encrypt_callbacks=True,
        aes_key="k" * 32,
        aes_iv="i" * 16,
    ) as simulator:
        simulator.call_url = f"{receiver.url}/call"
        Client(simulator).create(2, RepeatNumber=0)
        assert simulator.wait_idle(10)
    _, headers, body = receiver.received[0]
    assert headers["x-airudder-sign"] == sign_body(APP_SECRET, body) and headers["user-agent"] == "Airudder"
    assert not body.startswith(b"{")
    call = json.loads(decrypt_body(body.decode(), b"k" * 32, b"i" * 16))
    assert call["Comments"].startswith("cmp|") and call["Mobile"].startswith("+63")


def test_dropped_webhooks_are_lost_for_good(receiver: Receiver) -> None:
    with AirudderSimulator(APP_KEY, APP_SECRET, dial_delay=(0.0, 0.01), drop_rate=1.0) as simulator:
        simulator.call_url, simulator.task_url = f"{receiver.url}/call", f"{receiver.url}/task"
        task_id = Client(simulator).create(5, RepeatNumber=0)["data"]["TaskID"]
        assert simulator.wait_idle(10)
        assert receiver.received == [] and simulator.callbacks_dropped == 6  # 5 calls and the task
        assert all(row["CallStatus"] not in ("Waiting", "Calling") for row in simulator.rows(task_id))


def test_refused_webhooks_are_retried_then_abandoned(
    sim: AirudderSimulator, client: Client, receiver: Receiver
) -> None:
    receiver.statuses = [500, 503]
    sim.task_url = None
    client.create(1, RepeatNumber=0)
    assert sim.wait_idle(10)
    assert len(receiver.received) == 3 and sim.callbacks_delivered == 1
    receiver.statuses = [500] * 10
    client.create(1, RepeatNumber=0)
    assert sim.wait_idle(10)
    assert len(receiver.received) == 3 + 5 and sim.callbacks_abandoned == 1  # five tries in all


# --------------------------------------------------------------------------- queries
def test_queries_beyond_the_limit_answer_10705(receiver: Receiver) -> None:
    with AirudderSimulator(APP_KEY, APP_SECRET, query_limit=2, query_window=0.3) as simulator:
        client = Client(simulator)
        assert [client.get("/service/cloud/list")["code"] for _ in range(3)] == [200, 200, 10705]
        assert simulator.queries_refused == 1
        time.sleep(0.35)
        assert client.get("/service/cloud/list")["code"] == 200


def test_detail_shows_every_number_and_its_state(sim: AirudderSimulator, client: Client) -> None:
    sim.dial_delay = (30, 31)
    task_id = client.create(3)["data"]["TaskID"]
    detail = client.get("/service/cloud/detail", TaskID=task_id)
    assert detail["code"] == 200 and detail["data"]["total"] == 3
    assert {row["CallStatus"] for row in detail["data"]["list"]} == {"Waiting"}
    assert client.get("/service/cloud/detail")["code"] == 10502
    assert sim.pending() == 3


def test_lost_responses_are_processed_before_the_error(sim: AirudderSimulator, client: Client) -> None:
    sim.lose_next_responses(1)
    response = client.http.post(
        "/service/cloud/v2/task", json=task_body(1), headers={"Authorization": f"Token {client.token}"}
    )
    assert response.status_code == 504 and len(sim.task_ids()) == 1
    sim.fail_next(1)
    assert (
        client.http.post(
            "/service/cloud/v2/task", json=task_body(1), headers={"Authorization": f"Token {client.token}"}
        ).status_code
        == 503
    )
    assert len(sim.task_ids()) == 1


# --------------------------------------------------------------------------- cancelling and operations
def test_a_waiting_call_can_be_cancelled_once(sim: AirudderSimulator, client: Client, receiver: Receiver) -> None:
    sim.dial_delay = (30, 31)
    task_id = client.create(2)["data"]["TaskID"]
    assert client.post("/service/cloud/cancelphonecall", {"TaskID": task_id, "Mobile": "+639171234500"})["code"] == 200
    again = client.post("/service/cloud/cancelphonecall", {"TaskID": task_id, "Mobile": "+639171234500"})
    assert again["code"] == 10606
    assert client.post("/service/cloud/cancelphonecall", {"TaskID": task_id, "Mobile": "+10000"})["code"] == 10607
    assert client.post("/service/cloud/cancelphonecall", {"TaskID": "nope", "Mobile": "+1"})["code"] == 10506
    row = next(row for row in sim.rows(task_id) if row["Comments"] == "cmp|c0")
    assert row["CallStatus"] == "Cancelled" and row["CallID"] == ""
    assert sim.pending() == 1 and receiver.received == []  # no webhook for a number never dialled


def test_pause_holds_the_task_and_resume_dials_it(sim: AirudderSimulator, client: Client, receiver: Receiver) -> None:
    sim.dial_delay = (0.2, 0.25)
    task_id = client.create(3, RepeatNumber=0)["data"]["TaskID"]
    assert client.post("/service/cloud/operation", {"TaskID": task_id, "Operation": "pause"})["code"] == 200
    time.sleep(0.4)
    assert sim.calls_made == 0 and sim.task_status(task_id) == "Paused" and sim.pending() == 0
    assert client.post("/service/cloud/operation", {"TaskID": task_id, "Operation": "resume"})["code"] == 200
    assert sim.wait_idle(10) and sim.calls_made == 3 and sim.task_status(task_id) == "Finished"
    assert client.post("/service/cloud/operation", {"TaskID": task_id, "Operation": "pause"})["code"] == 10513


def test_cancelling_a_task_stops_every_number_not_yet_dialled(
    sim: AirudderSimulator, client: Client, receiver: Receiver
) -> None:
    sim.dial_delay = (30, 31)
    task_id = client.create(3)["data"]["TaskID"]
    assert client.post("/service/cloud/operation", {"TaskID": task_id, "Operation": "sleep"})["code"] == 10501
    assert client.post("/service/cloud/operation", {"TaskID": task_id, "Operation": "cancel"})["code"] == 200
    assert sim.wait_idle(5) and sim.calls_made == 0
    assert {row["CallStatus"] for row in sim.rows(task_id)} == {"Cancelled"}
    [task] = receiver.json_bodies("task")
    assert task["Status"] == "Cancelled" and receiver.json_bodies("call") == []


def test_a_future_schedule_is_honoured_only_when_asked(receiver: Receiver) -> None:
    later = {"ScheduleStartTime": _in(60), "ScheduleEndTime": _in(120)}
    with AirudderSimulator(APP_KEY, APP_SECRET, dial_delay=(0.0, 0.01), honour_schedule=True) as patient:
        Client(patient).create(2, **later)
        time.sleep(0.2)
        assert patient.calls_made == 0 and patient.pending() == 2
    with AirudderSimulator(APP_KEY, APP_SECRET, dial_delay=(0.0, 0.01)) as compressed:
        Client(compressed).create(2, RepeatNumber=0, **later)
        assert compressed.wait_idle(5) and compressed.calls_made == 2


# --------------------------------------------------------------------------- local stack
def test_created_for_the_local_stack_with_strict_webhooks() -> None:
    simulator = create(SimulatorKnobs(drop_rate=0.2, seed=3)).start()
    try:
        secret = simulator.connect("http://127.0.0.1:9")
        account = AirudderAccount.model_validate(secret)
        assert account.verify_signature and account.encrypt_callbacks and account.base_url == simulator.base_url
        token = account.webhook_token.get_secret_value()
        assert simulator.call_url == f"http://127.0.0.1:9/webhooks/airudder/call?token={token}"
        assert simulator.task_url == f"http://127.0.0.1:9/webhooks/airudder/task?token={token}"
        assert simulator.connect("http://127.0.0.1:9")["webhookToken"] != token  # a fresh token each time
        assert simulator.drop_rate == 0.2 and simulator.vendor == "airudder"
        assert set(simulator.demo_options()["extraFields"].values()) == {"amountDue", "dueDate"}
    finally:
        simulator.stop()


# --------------------------------------------------------------------------- "unexpected vendor" switches
def test_the_switches_are_named_and_an_unknown_one_is_refused() -> None:
    assert {"short_pages", "one_based"} == QUIRKS
    with pytest.raises(ValueError, match="no switch \\['pages'\\]"):
        AirudderSimulator(APP_KEY, APP_SECRET, quirks=frozenset({"pages"}))
    with pytest.raises(ValueError, match="no switch"):
        simulators.create("airudder", SimulatorKnobs(quirks=frozenset({"pages"})))
    assert simulators.create("airudder", SimulatorKnobs(quirks=QUIRKS)).quirks == QUIRKS


def test_listings_are_whole_unless_short_pages_caps_them_at_10_rows(receiver: Receiver) -> None:
    for quirks, expected in ((frozenset(), [25, 25]), (frozenset({"short_pages"}), [10, 10, 5, 0])):
        with AirudderSimulator(APP_KEY, APP_SECRET, dial_delay=(30, 31), quirks=quirks) as simulator:
            client = Client(simulator)
            task_id = client.create(25)["data"]["TaskID"]
            pages = [
                client.get("/service/cloud/detail", TaskID=task_id, PageNumber=str(page), PageSize="1000")["data"]
                for page in range(1, len(expected) + 1)
            ]
            assert [len(page["list"]) for page in pages] == expected and {page["total"] for page in pages} == {25}
            comments = [row["Comments"] for page in pages for row in page["list"]]
            assert len(set(comments)) == 25 or not quirks  # the pages hold different rows
            listed = client.get("/service/cloud/list", PageNumber="1", PageSize="100")["data"]
            assert listed["total"] == 1 and len(listed["list"]) == 1


def test_a_short_page_asked_smaller_is_smaller(receiver: Receiver) -> None:
    with AirudderSimulator(APP_KEY, APP_SECRET, dial_delay=(30, 31), quirks=frozenset({"short_pages"})) as simulator:
        client = Client(simulator)
        task_id = client.create(12)["data"]["TaskID"]
        assert len(client.get("/service/cloud/detail", TaskID=task_id, PageSize="4")["data"]["list"]) == 4
        assert len(client.get("/service/cloud/detail", TaskID=task_id, PageNumber="x")["data"]["list"]) == 10


def _numbers(count: int) -> list[dict[str, Any]]:
    return [{"Mobile": f"+63917{i:07d}", "Platform": "dialhub", "Comments": f"cmp|c{i}"} for i in range(count)]


def test_one_based_refuses_about_one_number_in_20_counting_rows_from_1_without_comments(receiver: Receiver) -> None:
    details = [*_numbers(200), {"Mobile": "639171234568", "Platform": "dialhub", "Comments": "cmp|no-plus"}]
    refused = {index for index, row in enumerate(details[:200]) if quirk_refuses(row["Comments"])} | {200}
    assert 4 <= len(refused) <= 20
    with AirudderSimulator(APP_KEY, APP_SECRET, dial_delay=(30, 31), quirks=frozenset({"one_based"})) as simulator:
        client = Client(simulator)
        answer = client.create(Details=details)["data"]
        assert [error["field"] for error in answer["detail_error_list"]] == [
            f"Details[{i + 1}]" for i in sorted(refused)
        ]
        assert not any("comments" in error for error in answer["detail_error_list"])
        rows = client.get("/service/cloud/detail", TaskID=answer["TaskID"])["data"]["list"]
        assert {row["Comments"] for row in rows} == {details[i]["Comments"] for i in range(201) if i not in refused}
        assert simulator.refused_contacts() == {("cmp", details[i]["Comments"][4:]) for i in refused}


def test_without_one_based_no_number_is_refused_for_its_hash(sim: AirudderSimulator, client: Client) -> None:
    answer = client.create(Details=_numbers(200))["data"]
    assert "detail_error_list" not in answer and sim.refused_contacts() == set()


def test_refused_contacts_are_every_number_no_task_took(sim: AirudderSimulator, client: Client) -> None:
    client.create(Details=_bad_rows())  # Perform 1: the good row is taken, the bad ones are not
    assert client.create(Details=_numbers(2), RepeatNumber=99)["code"] == 10521  # refused as a whole
    first = client.create(Details=_numbers(3)[2:])  # taken ...
    assert first["code"] == 200
    assert client.create(Details=_numbers(3)[2:], TaskName=f"t_{time.monotonic_ns()}")["code"] == 200  # ... twice
    refused = sim.refused_contacts()
    assert ("cmp", "good") not in refused and ("cmp", "c2") not in refused
    assert refused == {("cmp", name) for name in ("no-plus", "too-long", "platform", "emoji", "c0", "c1")}

"""AIRudder adapter without the network: tokens, TaskNames, schedule windows, validation, partial failures,
10508 / 10705 handling, callbacks (plain, encrypted, signed) and code mapping. HTTP is an httpx MockTransport."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import re
import threading
from collections import defaultdict
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from pydantic import ValidationError

from dialhub.dispositions import CallStatus, Disposition
from dialhub.models import CallingWindow, Campaign, Contact, OutcomeSource, VendorTask
from dialhub.vendors import adapter_class
from dialhub.vendors.airudder.adapter import AirudderAdapter
from dialhub.vendors.airudder.codes import (
    MAX_TASK_SIZE,
    PATH_AUTH,
    PATH_CANCEL_CALL,
    PATH_CREATE_TASK,
    PATH_DETAIL,
    PATH_LIST,
    PATH_OPERATION,
    describe_error,
)
from dialhub.vendors.airudder.tokens import forget_tokens
from dialhub.vendors.airudder.wire import AirudderAccount, schedule_window, task_name, task_prefix
from dialhub.vendors.base import (
    CallbackRejected,
    DialRequest,
    InboundCallback,
    OutcomeReport,
    Submission,
    TaskAction,
    VendorRejected,
    VendorUnavailable,
)
from local.simulators.airudder import encrypt_body
from tests.conftest import WEBHOOK_TOKEN, load_event

APP_KEY = "ar-test-appkey"
APP_SECRET = "ar-test-appsecret-0123456789"
AES_KEY = "0123456789abcdef0123456789abcdef"
AES_IV = "fedcba9876543210"
T0 = dt.datetime(2026, 11, 25, 3, 0, tzinfo=dt.UTC)  # Wednesday 11:00 in Manila
MANILA = ZoneInfo("Asia/Manila")
OPTIONS = {
    "robotId": "e9f60ec4e5f1721c7992dc882767eb19",
    "sipLine": "PH_LINE",
    "repeatNumber": 2,
    "repeatInterval": 10,
    "extraFields": {"ExtraA": "amountDue", "ExtraB": "dueDate"},
}
OK: dict[str, Any] = {"code": 200, "status": "OK", "data": {}}


@pytest.fixture(autouse=True)
def _no_cached_tokens() -> Any:
    forget_tokens()
    yield
    forget_tokens()


def account(**overrides: Any) -> AirudderAccount:
    return AirudderAccount.model_validate(
        {
            "appKey": APP_KEY,
            "appSecret": APP_SECRET,
            "baseUrl": "http://airudder.test",
            "webhookToken": WEBHOOK_TOKEN,
            **overrides,
        }
    )


class FakeAirudder:
    """AIRudder behind httpx.MockTransport: issues numbered tokens, records calls, plays scripted answers."""

    def __init__(self) -> None:
        self.auth_calls = 0
        self.calls: list[tuple[str, str, dict[str, Any], str]] = []  # method, path, body or query, token
        self.scripts: dict[str, list[Any]] = defaultdict(list)

    def script(self, path: str, *answers: Any) -> None:
        self.scripts[path].extend(answers)

    def paths(self) -> list[str]:
        return [path for _, path, _, _ in self.calls]

    def handler(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == PATH_AUTH:
            self.auth_calls += 1
            assert json.loads(request.content) == {"APPKey": APP_KEY, "APPSecret": APP_SECRET}
            return httpx.Response(
                200, json={"data": {"token": f"token-{self.auth_calls}"}, "status": "OK", "code": 200}
            )
        body = json.loads(request.content) if request.content else dict(request.url.params)
        token = request.headers.get("authorization", "")
        self.calls.append((request.method, request.url.path, body, token))
        answers = self.scripts[request.url.path]
        answer = answers.pop(0) if answers else OK
        if callable(answer):
            answer = answer(body, token)
        if isinstance(answer, int):
            return httpx.Response(answer, json={"code": answer})
        return httpx.Response(200, json=answer)

    def adapter(self, clock: Callable[[], dt.datetime] | None = None, **overrides: Any) -> AirudderAdapter:
        http = httpx.Client(base_url="http://airudder.test", transport=httpx.MockTransport(self.handler))
        return AirudderAdapter(account(**overrides), http=http, clock=clock or (lambda: T0))


@pytest.fixture
def vendor() -> FakeAirudder:
    return FakeAirudder()


def _campaign(
    options: dict[str, Any] | None = None, window: CallingWindow | None = None, timezone: str = "Asia/Manila"
) -> Campaign:
    return Campaign(
        campaign_id="cmp-1",
        name="n",
        vendor="airudder",
        dial_date=T0.date(),
        timezone=timezone,
        created_at=T0,
        vendor_options=AirudderAdapter.validate_options(options or OPTIONS),
        calling_window=window or CallingWindow(),
    )


def _task(job_ids: list[str] | None = None, submitted: int = 0) -> VendorTask:
    return VendorTask(
        campaign_id="cmp-1",
        vendor="airudder",
        local_date=T0.date(),
        vendor_task_id=task_prefix("cmp-1", T0.date()),
        job_ids=job_ids or [],
        submitted=submitted,
    )


def _request(index: int, **changes: Any) -> DialRequest:
    fields: dict[str, Any] = {
        "campaign_id": "cmp-1",
        "contact_id": f"c{index}",
        "attempt": 1,
        "phone": f"+6391712345{index:02d}",
        "name": "Maria Santos",
        "variables": {"amountDue": 1200 + index, "dueDate": "2026-11-30", "loanId": "L1"},
    }
    return DialRequest(**(fields | changes))


def _submission(count: int = 3, key: str = "cmp-1:2026-11-25:abc#0", **campaign: Any) -> Submission:
    return Submission(
        campaign=_campaign(**campaign), task=_task(), requests=[_request(i) for i in range(count)], key=key
    )


def _callback(
    body: Any,
    kind: str = "call",
    token: str = WEBHOOK_TOKEN,
    headers: dict[str, str] | None = None,
    ip: str = "8.219.10.20",
) -> InboundCallback:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return InboundCallback(kind=kind, body=raw, headers=headers or {}, query={"token": token}, source_ip=ip)


CALL_EVENT = json.loads(load_event("webhooks/airudder_call.json")["body"])


# --------------------------------------------------------------------------- account and options
def test_account_defaults_and_batch_limit() -> None:
    adapter = AirudderAdapter(account())
    assert adapter.account.base_url == "http://airudder.test"
    assert (
        AirudderAccount.model_validate({"appKey": "k", "appSecret": "s", "webhookToken": WEBHOOK_TOKEN}).base_url
        == "https://api.airudder.com"
    )
    assert adapter.account.timezone == "Asia/Manila" and adapter.batch_limit == 5000
    assert AirudderAdapter(account(taskSize=10_000)).batch_limit == 10_000
    assert adapter_class("airudder") is AirudderAdapter


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"webhookToken": "short"}, "webhookToken"),
        ({"taskSize": 0}, "taskSize"),
        ({"taskSize": 10_001}, "taskSize"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"ipAllowlist": ["not-a-network"]}, "ipAllowlist"),
        ({"appKey": ""}, "appKey"),
        ({"encryptCallbacks": True}, "aesKey"),
        ({"encryptCallbacks": True, "aesKey": "short", "aesIv": AES_IV}, "aesKey"),
        ({"encryptCallbacks": True, "aesKey": AES_KEY, "aesIv": "short"}, "aesIv"),
    ],
)
def test_account_is_refused_when_a_field_is_wrong(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        account(**overrides)


def test_options_store_only_what_was_given_and_defaults_apply_when_sent() -> None:
    assert AirudderAdapter.validate_options({"robotId": "r", "sipLine": "s"}) == {"robotId": "r", "sipLine": "s"}
    stored = AirudderAdapter.validate_options(
        {**OPTIONS, "type": "promotion", "robotMethod": "group", "dncSwitch": True, "perform": 3}
    )
    assert stored["type"] == "promotion" and stored["perform"] == 3 and stored["extraFields"]["ExtraA"] == "amountDue"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"robotId": None}, "robotId"),
        ({"sipLine": ""}, "sipLine"),
        ({"repeatNumber": 16}, "repeatNumber"),
        ({"repeatNumber": -1}, "repeatNumber"),
        ({"repeatInterval": 31}, "repeatInterval"),
        ({"robotMethod": "crowd"}, "robotMethod"),
        ({"perform": 2}, "perform"),
        ({"dncSwitch": "maybe"}, "dncSwitch"),
        ({"platform": "dial hub 2"}, "platform"),
        ({"extraFields": {"ExtraD": "amountDue"}}, "extraFields"),
        ({"extraFields": {"ExtraA": ""}}, "extraFields"),
        ({"robotID": "typo"}, "robotID"),
    ],
)
def test_every_option_rule_names_its_field(change: dict[str, Any], field: str) -> None:
    options = {key: value for key, value in (OPTIONS | change).items() if value is not None}
    with pytest.raises(ValidationError) as caught:
        AirudderAdapter.validate_options(options)
    assert caught.value.errors()[0]["loc"][0] == field


# --------------------------------------------------------------------------- contacts
def _contact(**changes: Any) -> Contact:
    fields: dict[str, Any] = {
        "campaign_id": "cmp-1",
        "contact_id": "loan-1",
        "phone": "+639171234567",
        "name": "Maria Santos",
        "variables": {"amountDue": 1200, "dueDate": "2026-11-30"},
    }
    return Contact(**(fields | changes))


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"contact_id": "x" * 60}, "Comments"),
        ({"variables": {"amountDue": 1200}}, "'dueDate' is missing"),
        ({"variables": {"amountDue": 1200, "dueDate": "d" * 256}}, "longer than 255"),
        ({"variables": {"amountDue": 1200, "dueDate": "\N{GRINNING FACE}"}}, "emoji"),
        ({"name": "Ana \N{GRINNING FACE}"}, "emoji"),
        ({"name": "N" * 65}, "64 characters"),
        ({"phone": "+862012345678901"}, "at most 14 digits"),
    ],
)
def test_contact_problems_are_found_before_any_http(changes: dict[str, Any], problem: str) -> None:
    assert AirudderAdapter.contact_problem(_contact(), OPTIONS) is None
    assert problem in (AirudderAdapter.contact_problem(_contact(**changes), OPTIONS) or "")


def test_unmapped_variables_are_not_required() -> None:
    assert AirudderAdapter.contact_problem(_contact(variables={}), {"robotId": "r", "sipLine": "s"}) is None


# --------------------------------------------------------------------------- task names and windows
def test_task_names_are_deterministic_unique_and_short() -> None:
    day = T0.date()
    name = task_name("cmp_0123456789abcdef0123456789", day, "cmp:2026-11-25:abcdef#0")
    assert name == task_name("cmp_0123456789abcdef0123456789", day, "cmp:2026-11-25:abcdef#0")
    others = {
        task_name("cmp_0123456789abcdef0123456789", day, "cmp:2026-11-25:abcdef#5000"),
        task_name("cmp_0123456789abcdef0123456789", day + dt.timedelta(days=1), "cmp:2026-11-25:abcdef#0"),
        task_name("other" * 25, day, "cmp:2026-11-25:abcdef#0"),
    }
    assert name not in others and len(others) == 3
    for candidate in {name, *others}:
        assert len(candidate) <= 64 and re.fullmatch(r"[A-Za-z0-9_]+", candidate)
    assert name.startswith(task_prefix("cmp_0123456789abcdef0123456789", day) + "_")


def test_create_task_makes_no_http_call(vendor: FakeAirudder) -> None:
    adapter = vendor.adapter()
    assert adapter.create_task(_campaign(), T0.date()) == task_prefix("cmp-1", T0.date())
    assert vendor.calls == [] and vendor.auth_calls == 0


def _manila(day: int, hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, second, tzinfo=MANILA)


@pytest.mark.parametrize(
    ("now", "start", "end"),
    [
        (_manila(25, 11), _manila(25, 11, 1, 1), _manila(25, 20)),  # inside the window: a minute from now
        (_manila(25, 7), _manila(25, 9), _manila(25, 20)),  # before it: when it opens
        (_manila(25, 19, 45), _manila(26, 9), _manila(26, 20)),  # under 30 minutes left: the next day
        (_manila(25, 21), _manila(26, 9), _manila(26, 20)),  # over: the next day
    ],
)
def test_schedule_follows_the_calling_window(now: dt.datetime, start: dt.datetime, end: dt.datetime) -> None:
    assert schedule_window(CallingWindow(), MANILA, now.date(), now) == (start, end)


def test_schedule_skips_days_the_window_excludes_and_stays_within_five_days() -> None:
    monday_only = CallingWindow(weekdays=[1])  # T0 is a Wednesday: next Monday is under 5 days away
    start, end = schedule_window(monday_only, MANILA, T0.date(), T0)
    assert start == _manila(30, 9)
    assert end == T0 + dt.timedelta(days=5, minutes=-10)  # the end is held inside the 5 days too
    with pytest.raises(VendorRejected, match="5-day"):
        schedule_window(CallingWindow(weekdays=[2]), MANILA, T0.date(), T0)  # next Tuesday is 6 days away


def test_schedule_is_sent_in_the_accounts_time_zone(vendor: FakeAirudder) -> None:
    vendor.script(PATH_CREATE_TASK, {"code": 200, "status": "OK", "data": {"TaskID": "t1"}})
    at_seven = dt.datetime(2026, 11, 24, 23, 0, tzinfo=dt.UTC)  # 07:00 in Manila, 06:00 in Jakarta
    vendor.adapter(clock=lambda: at_seven, timezone="Asia/Jakarta").submit(_submission())
    body = vendor.calls[0][2]
    assert (body["ScheduleStartTime"], body["ScheduleEndTime"]) == ("2026-11-25 08:00:00", "2026-11-25 19:00:00")
    assert "StartImmediately" not in body


def test_start_immediately_option_sends_no_schedule(vendor: FakeAirudder) -> None:
    vendor.script(PATH_CREATE_TASK, {"code": 200, "status": "OK", "data": {"TaskID": "t1"}})
    vendor.adapter().submit(_submission(options=OPTIONS | {"startImmediately": True}))
    body = vendor.calls[0][2]
    assert body["StartImmediately"] is True and "ScheduleStartTime" not in body


# --------------------------------------------------------------------------- tokens
def test_one_token_serves_many_requests_and_rebuilt_adapters(vendor: FakeAirudder) -> None:
    adapter = vendor.adapter()
    for _ in range(5):
        adapter.cancel(_task(), _request(1, vendor_job_id="t1"))
    vendor.adapter().control_task(_task(["t1"]), TaskAction.PAUSE)  # a rebuilt adapter, same APPKey
    assert vendor.auth_calls == 1
    assert {token for *_, token in vendor.calls} == {"Token token-1"}


def test_token_is_refreshed_after_23_hours_not_before(vendor: FakeAirudder) -> None:
    now = [T0]
    adapter = vendor.adapter(clock=lambda: now[0])
    adapter.cancel(_task(), _request(1, vendor_job_id="t1"))
    now[0] = T0 + dt.timedelta(hours=22, minutes=59)
    adapter.cancel(_task(), _request(1, vendor_job_id="t1"))
    assert vendor.auth_calls == 1
    now[0] = T0 + dt.timedelta(hours=23)
    adapter.cancel(_task(), _request(1, vendor_job_id="t1"))
    assert vendor.auth_calls == 2 and vendor.calls[-1][3] == "Token token-2"


@pytest.mark.parametrize(
    "refusal",
    [
        401,
        {"code": 10813, "status": "Failed", "message": "token expired"},
        {"code": 10812, "status": "Failed", "message": "invalid token"},
    ],
)
def test_a_refused_token_is_refreshed_once_and_the_request_repeated(vendor: FakeAirudder, refusal: Any) -> None:
    adapter = vendor.adapter()
    adapter.cancel(_task(), _request(1, vendor_job_id="t1"))
    vendor.script(PATH_CANCEL_CALL, refusal)
    adapter.cancel(_task(), _request(1, vendor_job_id="t1"))
    assert vendor.auth_calls == 2
    assert [token for *_, token in vendor.calls] == ["Token token-1", "Token token-1", "Token token-2"]
    adapter.cancel(_task(), _request(1, vendor_job_id="t1"))
    assert vendor.auth_calls == 2  # the new token is cached


@pytest.mark.parametrize("refusal", [401, {"code": 10813, "status": "Failed", "message": "token expired"}])
def test_a_task_whose_token_is_refused_even_after_a_refresh_is_the_accounts_doing(
    vendor: FakeAirudder, refusal: Any
) -> None:
    """Raised rather than failing the numbers, so dispatch may send them to another vendor."""
    vendor.script(PATH_CREATE_TASK, refusal, refusal)
    with pytest.raises(VendorRejected) as refused:
        vendor.adapter().submit(_submission())
    assert refused.value.account_refused and vendor.auth_calls == 2


def test_a_task_refused_for_what_it_asked_fails_its_numbers(vendor: FakeAirudder) -> None:
    vendor.script(PATH_CREATE_TASK, {"code": 10301, "status": "Failed", "message": "robot not found"})
    result = vendor.adapter().submit(_submission())
    assert len(result.rejected) == 3 and result.accepted == {}


def test_a_token_refused_twice_is_an_error_not_a_loop(vendor: FakeAirudder) -> None:
    expired = {"code": 10813, "status": "Failed", "message": "token expired"}
    vendor.script(PATH_CANCEL_CALL, expired, expired, expired)
    with pytest.raises(VendorRejected, match="10813"):
        vendor.adapter().cancel(_task(), _request(1, vendor_job_id="t1"))
    assert vendor.auth_calls == 2 and len(vendor.calls) == 2


def test_concurrent_refusals_refresh_the_token_once(vendor: FakeAirudder) -> None:
    adapter = vendor.adapter()
    first = adapter._token()
    threads = [threading.Thread(target=adapter._token, kwargs={"refused": first}) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert vendor.auth_calls == 2


def test_wrong_credentials_are_a_clear_refusal() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"code": 10302, "status": "Failed", "message": "verification failed"})

    http = httpx.Client(base_url="http://airudder.test", transport=httpx.MockTransport(refuse))
    with pytest.raises(VendorRejected, match="authentication failed: account verification failed"):
        AirudderAdapter(account(), http=http).cancel(_task(), _request(1, vendor_job_id="t1"))


# --------------------------------------------------------------------------- submitting
def test_submit_creates_one_task_with_the_chunks_numbers(vendor: FakeAirudder) -> None:
    vendor.script(PATH_CREATE_TASK, {"code": 200, "status": "OK", "data": {"TaskID": "c3b6b04c"}})
    submission = _submission(3)
    result = vendor.adapter().submit(submission)
    [(method, path, body, _)] = vendor.calls
    assert (method, path) == ("POST", PATH_CREATE_TASK)
    assert body["TaskName"] == task_name("cmp-1", T0.date(), submission.key)
    assert (body["RobotID"], body["SIPLine"], body["Type"], body["Perform"]) == (
        OPTIONS["robotId"],
        "PH_LINE",
        "collection",
        1,
    )
    assert (body["RepeatNumber"], body["RepeatInterval"], body["RobotMethod"], body["DncSwitch"]) == (
        2,
        10,
        "single",
        False,
    )
    assert body["Details"][0] == {
        "Mobile": "+639171234500",
        "Platform": "dialhub",
        "Comments": "cmp-1|c0",
        "Customer": "Maria Santos",
        "ExtraA": "1200",
        "ExtraB": "2026-11-30",
    }
    assert result.job_id == "c3b6b04c" and result.rejected == {}
    assert result.accepted == {"c0": "cmp-1|c0", "c1": "cmp-1|c1", "c2": "cmp-1|c2"}


def test_partial_failures_map_back_to_their_contacts(vendor: FakeAirudder) -> None:
    errors = [
        {"field": "Details[9]", "msg": "Mobile Error", "comments": "cmp-1|c2 "},  # comments win over the index
        {"field": "Details[0]", "msg": "Country Code Error: 639171234500", "comments": ""},  # an index alone
    ]
    vendor.script(
        PATH_CREATE_TASK, {"code": 200, "status": "OK", "data": {"TaskID": "t1", "detail_error_list": errors}}
    )
    result = vendor.adapter().submit(_submission(3))
    assert result.accepted == {"c1": "cmp-1|c1"} and result.job_id == "t1"
    assert result.rejected == {"c2": "airudder refused the number: Mobile Error"}
    # An index alone is not trusted to name its row (AIRudder may count from 1): the contact waits for polling.
    assert result.unconfirmed == {"c0": "cmp-1|c0"} and len(result.mismatches) == 1


def test_a_contact_with_a_problem_is_refused_without_being_sent(vendor: FakeAirudder) -> None:
    vendor.script(PATH_CREATE_TASK, {"code": 200, "status": "OK", "data": {"TaskID": "t1"}})
    submission = _submission(2)
    submission.requests.append(_request(7, variables={"amountDue": 5}))
    result = vendor.adapter().submit(submission)
    assert len(vendor.calls[0][2]["Details"]) == 2
    assert "'dueDate' is missing" in result.rejected["c7"] and set(result.accepted) == {"c0", "c1"}


def test_duplicate_task_name_on_a_retry_counts_as_accepted(vendor: FakeAirudder) -> None:
    submission = _submission(3)
    name = task_name("cmp-1", T0.date(), submission.key)
    vendor.script(PATH_CREATE_TASK, {"code": 10508, "status": "Failed", "message": "duplicate task name"})
    vendor.script(
        PATH_LIST,
        {
            "code": 200,
            "status": "OK",
            "data": {
                "list": [{"TaskID": "other", "TaskName": "someone_else"}, {"TaskID": "t-earlier", "TaskName": name}]
            },
        },
    )
    rows = [_row(index, TaskID="t-earlier", CallStatus="Waiting") for index in range(3)]
    vendor.script(PATH_DETAIL, {"code": 200, "status": "OK", "data": {"total": 3, "list": rows}})
    result = vendor.adapter().submit(submission)
    assert result.job_id == "t-earlier" and result.rejected == {} and result.unconfirmed == {}
    assert set(result.accepted) == {"c0", "c1", "c2"}  # the earlier task shows every number of the chunk
    assert vendor.paths() == [PATH_CREATE_TASK, PATH_LIST, PATH_DETAIL]
    assert vendor.calls[1][2] == {"TaskName": name, "PageNumber": "1", "PageSize": "100"}
    assert vendor.calls[2][2] == {"TaskID": "t-earlier", "PageNumber": "1", "PageSize": "1000"}


def test_duplicate_name_that_the_list_does_not_show_is_retried_later(vendor: FakeAirudder) -> None:
    vendor.script(PATH_CREATE_TASK, {"code": 10508, "status": "Failed"})
    with pytest.raises(VendorUnavailable, match="10508"):
        vendor.adapter().submit(_submission())


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (
            {"code": 10509, "status": "Failed", "message": "start earlier than now"},
            "airudder error 10509: the scheduled start is earlier than now (start earlier than now)",
        ),
        ({"code": 10521, "status": "Failed"}, "airudder error 10521: redial (repeat) settings error"),
        ({"code": 10611, "status": "Failed"}, "airudder error 10611: the task or call is in a state"),
        ({"code": 19999, "status": "Failed", "message": "odd"}, "airudder error 19999: unknown AIRudder error (odd)"),
        (400, "airudder error HTTP 400"),
    ],
)
def test_a_refused_task_fails_every_contact_with_a_clear_reason(vendor: FakeAirudder, answer: Any, reason: str) -> None:
    vendor.script(PATH_CREATE_TASK, answer)
    result = vendor.adapter().submit(_submission(2))
    assert result.accepted == {} and set(result.rejected) == {"c0", "c1"}
    assert result.rejected["c0"].startswith(reason)


def test_perform_3_refuses_the_whole_chunk_when_one_number_is_bad(vendor: FakeAirudder) -> None:
    errors = [{"field": "Details[1]", "msg": "Mobile Error", "comments": "cmp-1|c1"}]
    vendor.script(PATH_CREATE_TASK, {"code": 200, "status": "OK", "data": {"detail_error_list": errors}})
    result = vendor.adapter().submit(_submission(3, options=OPTIONS | {"perform": 3}))
    assert result.accepted == {} and "Mobile Error" in result.rejected["c1"]
    assert "Perform 3" in result.rejected["c0"] and "Perform 3" in result.rejected["c2"]


def test_internal_error_is_transient_so_the_batch_is_retried(vendor: FakeAirudder) -> None:
    vendor.script(PATH_CREATE_TASK, {"code": 10201, "status": "Failed"})
    with pytest.raises(VendorUnavailable, match="10201"):
        vendor.adapter().submit(_submission())


def test_a_window_without_a_slot_fails_the_chunk_without_http(vendor: FakeAirudder) -> None:
    result = vendor.adapter().submit(_submission(2, window=CallingWindow(weekdays=[2])))
    assert vendor.calls == [] and "5-day" in result.rejected["c0"]


def test_submit_refuses_more_than_the_task_size() -> None:
    with pytest.raises(ValueError, match="at most 2"):
        AirudderAdapter(account(taskSize=2)).submit(_submission(3))


# --------------------------------------------------------------------------- polling
def _row(index: int, **changes: Any) -> dict[str, Any]:
    row = {
        "TaskID": "t1",
        "CallID": f"71000{index}",
        "Mobile": f"+6391712345{index:02d}",
        "Customer": "Maria",
        "Comments": f"cmp-1|c{index}",
        "CallStatus": "Answered",
        "Intention": "PTP",
        "CallTimes": 1,
        "StartTime": "2026-11-25 10:00:00",
        "AnswerTime": "2026-11-25 10:00:10",
        "EndTime": "2026-11-25 10:01:00",
        "Duration": 50,
        "RecordingURL": "https://r/1.wav",
    }
    return row | changes


def test_results_read_every_job_and_keep_only_final_rows(vendor: FakeAirudder) -> None:
    vendor.script(
        PATH_DETAIL,
        {
            "code": 200,
            "status": "OK",
            "data": {
                "total": 4,
                "list": [
                    _row(0),
                    _row(1, CallStatus="Calling", Intention="", CallID="x"),
                    _row(2, CallStatus="Waiting", CallID=""),
                    _row(3, CallStatus="Cancelled", CallID="", Intention=""),
                ],
            },
        },
        {"code": 200, "status": "OK", "data": [_row(4, TaskID="t2", CallStatus="Busy", Intention="")]},
    )
    pages = list(vendor.adapter().results(_task(["t1", "t2"], submitted=5)))
    assert [[o.contact_id for o in page] for page in pages] == [["c0", "c3"], ["c4"]]
    answered, cancelled = pages[0]
    assert answered.source is OutcomeSource.POLL and answered.campaign_id == "cmp-1" and answered.closes
    assert cancelled.vendor_call_id == "t1:cmp-1|c3" and cancelled.status is CallStatus.CANCELLED
    assert pages[1][0].status is CallStatus.BUSY and pages[1][0].vendor_task_id == "t2"
    page = {"PageSize": "1000"}
    assert [(method, body) for method, _, body, _ in vendor.calls] == [
        ("GET", {"TaskID": "t1", "PageNumber": "1"} | page),  # its total says there is no more
        ("GET", {"TaskID": "t2", "PageNumber": "1"} | page),
        ("GET", {"TaskID": "t2", "PageNumber": "2"} | page),  # no total: read until a page brings nothing new
    ]


def test_a_vanished_job_is_skipped_and_the_others_still_read(vendor: FakeAirudder) -> None:
    vendor.script(PATH_DETAIL, {"code": 10506, "status": "Failed"}, {"code": 200, "data": [_row(1)]})
    pages = list(vendor.adapter().results(_task(["gone", "t1"], submitted=2)))
    assert [o.contact_id for page in pages for o in page] == ["c1"]


def test_query_limit_backs_off_a_bounded_number_of_times_then_pauses_queries(vendor: FakeAirudder) -> None:
    limited = {"code": 10705, "status": "Failed", "message": "query count limit exceeded"}
    vendor.script(PATH_DETAIL, *[limited] * 10)
    now = [T0]
    adapter = vendor.adapter(clock=lambda: now[0], queryCooldownSeconds=120)
    with pytest.raises(VendorUnavailable, match="10705"):
        list(adapter.results(_task(["t1", "t2"], submitted=2)))
    tries = len(vendor.calls)
    assert 1 < tries <= 3  # retried with backoff, but bounded (stamina's test mode caps attempts at 3)
    with pytest.raises(VendorUnavailable, match="not querying"):
        list(vendor.adapter(clock=lambda: now[0], queryCooldownSeconds=120).results(_task(["t1"], submitted=1)))
    assert len(vendor.calls) == tries  # paused: AIRudder is not asked again, even by a rebuilt adapter
    now[0] = T0 + dt.timedelta(seconds=121)
    vendor.scripts[PATH_DETAIL] = [{"code": 200, "data": [_row(1)]}]
    assert [o.contact_id for page in adapter.results(_task(["t1"], submitted=1)) for o in page] == ["c1"]


def test_task_complete_once_every_accepted_number_closed() -> None:
    adapter = AirudderAdapter(account())
    assert not adapter.task_complete(_task(submitted=0), 0)
    assert not adapter.task_complete(_task(submitted=3), 2)
    assert adapter.task_complete(_task(submitted=3), 3)


# --------------------------------------------------------------------------- cancelling and task control
def test_cancel_names_the_task_and_mobile(vendor: FakeAirudder) -> None:
    vendor.adapter().cancel(_task(), _request(1, vendor_job_id="t9"))
    assert vendor.calls[0][:3] == ("POST", PATH_CANCEL_CALL, {"TaskID": "t9", "Mobile": "+639171234501"})
    vendor.script(PATH_CANCEL_CALL, {"code": 10606, "status": "Failed", "message": "call already made"})
    with pytest.raises(VendorRejected, match="10606"):
        vendor.adapter().cancel(_task(), _request(1, vendor_job_id="t9"))
    with pytest.raises(VendorRejected, match="no AIRudder task"):
        vendor.adapter().cancel(_task(), _request(1))


@pytest.mark.parametrize(
    ("action", "operation"), [(TaskAction.CANCEL, "cancel"), (TaskAction.PAUSE, "pause"), (TaskAction.RESUME, "resume")]
)
def test_task_control_applies_to_every_airudder_task(vendor: FakeAirudder, action: TaskAction, operation: str) -> None:
    vendor.script(PATH_OPERATION, OK, {"code": 10513, "status": "Failed"})  # the second one already finished
    assert vendor.adapter().control_task(_task(["t1", "t2"]), action) is True
    assert [body for *_, body, _ in vendor.calls] == [
        {"TaskID": "t1", "Operation": operation},
        {"TaskID": "t2", "Operation": operation},
    ]
    vendor.script(PATH_OPERATION, {"code": 10506, "status": "Failed"})
    with pytest.raises(VendorRejected, match="10506"):
        vendor.adapter().control_task(_task(["t3"]), action)


# --------------------------------------------------------------------------- callbacks
def test_call_webhook_is_normalised_without_pii() -> None:
    parsed = AirudderAdapter(account()).parse_callback(_callback(CALL_EVENT))
    assert isinstance(parsed, OutcomeReport)
    [outcome] = parsed.outcomes
    assert (outcome.vendor, outcome.vendor_call_id, outcome.vendor_task_id) == (
        "airudder",
        "7100000123",
        "c3b6b04cd7f8d2b182d3fd20eed3d144",
    )
    assert (outcome.campaign_id, outcome.contact_id) == ("cmp-demo-1", "loan-10001")
    assert outcome.status is CallStatus.ANSWERED and outcome.disposition is Disposition.PROMISE_TO_PAY
    assert outcome.closes_contact and outcome.final and outcome.source is OutcomeSource.WEBHOOK
    assert outcome.answered_at == dt.datetime(2026, 11, 25, 2, 0, 10, tzinfo=dt.UTC)  # Manila -> UTC
    assert outcome.duration_seconds == 40 and outcome.recording_url.endswith("7100000123.wav")
    assert outcome.variables["attempts"] == 2 and outcome.variables["intention"] == "PTP"
    raw = outcome.variables["raw"]
    assert raw["Mobile"] == "***4567" and "Customer" not in raw and raw["CallID"] == "7100000123"
    assert "+639171234567" not in json.dumps(outcome.to_wire())


def test_call_webhook_shapes_are_read_tolerantly() -> None:
    adapter = AirudderAdapter(account())
    snake = {"task_id": "t1", "call_id": 55, "comments": "cmp-1|c1", "call_status": "no_answer", "call_times": "3"}
    for body in ({"data": snake}, {"type": "call", "body": snake}, [snake]):
        [outcome] = adapter.parse_callback(_callback(body)).outcomes
        assert (outcome.vendor_call_id, outcome.contact_id, outcome.status) == ("55", "c1", CallStatus.NO_ANSWER)
        assert outcome.variables["attempts"] == 3


@pytest.mark.parametrize(
    ("status", "intention", "expected_status", "disposition"),
    [
        ("Answered", "PTP", CallStatus.ANSWERED, Disposition.PROMISE_TO_PAY),
        ("Answered", "AlreadyPaid", CallStatus.ANSWERED, Disposition.ALREADY_PAID),
        ("Answered", "RefuseToPay", CallStatus.ANSWERED, Disposition.REFUSED_TO_PAY),
        ("Answered", "WrongNumber", CallStatus.ANSWERED, Disposition.WRONG_PERSON),
        ("Answered", "Complaint", CallStatus.ANSWERED, Disposition.COMPLAINT),
        ("Answered", "", CallStatus.ANSWERED, Disposition.UNKNOWN),
        ("NoAnswer", "", CallStatus.NO_ANSWER, Disposition.NOT_CONNECTED),
        ("Busy", "", CallStatus.BUSY, Disposition.NOT_CONNECTED),
        ("PowerOff", "", CallStatus.UNREACHABLE, Disposition.NOT_CONNECTED),
        ("InvalidNumber", "", CallStatus.INVALID_NUMBER, Disposition.NOT_CONNECTED),
        ("Voicemail", "", CallStatus.VOICEMAIL, Disposition.VOICEMAIL),
        ("Cancelled", "", CallStatus.CANCELLED, Disposition.CANCELLED),
        ("", "Callback", CallStatus.ANSWERED, Disposition.CALLBACK_REQUESTED),  # no status: the intention says
    ],
)
def test_status_and_intention_map_into_the_canonical_outcome(
    status: str, intention: str, expected_status: CallStatus, disposition: Disposition
) -> None:
    item = {"TaskID": "t1", "CallID": "1", "Comments": "cmp-1|c1", "CallStatus": status, "Intention": intention}
    [outcome] = AirudderAdapter(account()).parse_callback(_callback(item)).outcomes
    assert (outcome.status, outcome.disposition) == (expected_status, disposition)
    assert outcome.final


def test_unknown_intention_maps_to_unknown_and_is_counted(monkeypatch: Any) -> None:
    counted: list[tuple[str, dict[str, str]]] = []
    monkeypatch.setattr("dialhub.dispositions.count_metric", lambda name, **dims: counted.append((name, dims)))
    item = {"TaskID": "t1", "CallID": "1", "Comments": "cmp-1|c1", "CallStatus": "Answered", "Intention": "Xyz9"}
    [outcome] = AirudderAdapter(account()).parse_callback(_callback(item)).outcomes
    assert outcome.disposition is Disposition.UNKNOWN and outcome.vendor_code == "Xyz9"
    assert counted == [("UnknownVendorCode", {"vendor": "airudder"})]


def test_task_webhook_reports_no_outcome() -> None:
    body = json.loads(load_event("webhooks/airudder_task.json")["body"])
    assert AirudderAdapter(account()).parse_callback(_callback(body, kind="task")) == OutcomeReport([])


@pytest.mark.parametrize(
    ("kind", "body"),
    [
        ("call", b"{not json"),
        ("call", b"\xff\xfe"),
        ("call", b"[]"),
        ("call", b"[1, 2]"),
        ("call", b'"text"'),
        ("call", json.dumps({"Mobile": "+639171234567"}).encode()),
        ("task", b"{}"),
        ("task", b"{broken"),
    ],
)
def test_unreadable_callbacks_are_rejected(kind: str, body: bytes) -> None:
    with pytest.raises(CallbackRejected):
        AirudderAdapter(account()).parse_callback(_callback(body, kind=kind))


@pytest.mark.parametrize("kind", ["", "predial", "plan"])
def test_unknown_callback_kinds_are_not_ours(kind: str) -> None:
    with pytest.raises(KeyError):
        AirudderAdapter(account()).parse_callback(_callback(CALL_EVENT, kind=kind))


def test_authentication_needs_the_token_and_an_allowed_source() -> None:
    adapter = AirudderAdapter(account(ipAllowlist=["8.219.0.0/16"]))
    assert adapter.authenticate(_callback(CALL_EVENT))
    assert not adapter.authenticate(_callback(CALL_EVENT, token="nope"))
    assert not adapter.authenticate(_callback(CALL_EVENT, token=""))
    assert not adapter.authenticate(_callback(CALL_EVENT, ip="198.51.100.1"))


def _signed(body: bytes, secret: str = APP_SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_signature_is_checked_only_when_the_account_asks_for_it() -> None:
    body = json.dumps(CALL_EVENT).encode()
    signing = AirudderAdapter(account(verifySignature=True))
    assert signing.authenticate(_callback(body, headers={"x-airudder-sign": _signed(body)}))
    assert signing.authenticate(_callback(body, headers={"x-airudder-sign": _signed(body).upper()}))
    b64 = base64.b64encode(hmac.new(APP_SECRET.encode(), body, hashlib.sha256).digest()).decode()
    assert signing.authenticate(_callback(body, headers={"x-airudder-sign": b64}))
    assert not signing.authenticate(_callback(body))
    assert not signing.authenticate(_callback(body, headers={"x-airudder-sign": _signed(body, "other-secret")}))
    assert not signing.authenticate(_callback(body + b" ", headers={"x-airudder-sign": _signed(body)}))
    assert not signing.authenticate(_callback(body, token="nope", headers={"x-airudder-sign": _signed(body)}))
    assert AirudderAdapter(account()).authenticate(_callback(body, headers={"x-airudder-sign": "garbage"}))


def test_encrypted_callbacks_are_decrypted_and_plain_ones_refused() -> None:
    adapter = AirudderAdapter(account(encryptCallbacks=True, aesKey=AES_KEY, aesIv=AES_IV))
    ciphertext = encrypt_body(json.dumps(CALL_EVENT).encode(), AES_KEY, AES_IV)
    for body in (ciphertext, json.dumps({"data": ciphertext.decode()}).encode()):
        [outcome] = adapter.parse_callback(_callback(body)).outcomes
        assert outcome.vendor_call_id == "7100000123" and outcome.contact_id == "loan-10001"
    for bad in (
        json.dumps(CALL_EVENT).encode(),
        b"!!not base64!!",
        encrypt_body(b"{}", AES_KEY, AES_IV)[:-4],
        encrypt_body(b"not json", AES_KEY, AES_IV),
        encrypt_body(b"{}", "k" * 32, AES_IV),
    ):
        with pytest.raises(CallbackRejected):
            adapter.parse_callback(_callback(bad))


def test_signed_and_encrypted_callback_authenticates_over_the_ciphertext() -> None:
    adapter = AirudderAdapter(account(verifySignature=True, encryptCallbacks=True, aesKey=AES_KEY, aesIv=AES_IV))
    ciphertext = encrypt_body(json.dumps(CALL_EVENT).encode(), AES_KEY, AES_IV)
    callback = _callback(ciphertext, headers={"x-airudder-sign": _signed(ciphertext)})
    assert adapter.authenticate(callback)
    assert adapter.parse_callback(callback).outcomes[0].disposition is Disposition.PROMISE_TO_PAY


def test_ack_is_what_airudder_expects() -> None:
    assert AirudderAdapter(account()).acknowledge(_callback(CALL_EVENT)).body == {"status": "success"}
    assert AirudderAdapter(account()).acknowledge(_callback(CALL_EVENT)).status == 200


def test_error_meanings_mask_phone_numbers() -> None:
    assert describe_error(10510, "bad mobile +639171234567") == (
        "bad phone number (must start with + and have at most 14 digits) (bad mobile ***4567)"
    )
    assert describe_error(10812) == "invalid token" and describe_error(10805) == "user or token error"
    assert MAX_TASK_SIZE == 10_000


# Every name AIRudder's call rows may give a field under (docs/vendors/airudder.md), in the order they are
# tried, and where the field lands in the outcome; a row gives one of them.
FIELD_NAMES = [
    (("Comments", "Comment"), "cmp-7|c-9", lambda o: (o.campaign_id, o.contact_id), ("cmp-7", "c-9")),
    (("TaskID",), "t-77", lambda o: o.vendor_task_id, "t-77"),
    (("CallID", "CallUUID"), "call-5", lambda o: o.vendor_call_id, "call-5"),
    (
        ("CallStatus", "Status", "CallResult", "DialStatus"),
        "Busy",
        lambda o: (o.vendor_status, o.status),
        ("Busy", CallStatus.BUSY),
    ),
    (
        ("Intention", "IntentionTag", "Intent", "Tag", "Label"),
        "PTP",
        lambda o: (o.vendor_code, o.variables["intention"], o.disposition),
        ("PTP", "PTP", Disposition.PROMISE_TO_PAY),
    ),
    (
        ("AnswerTime", "AnsweredTime", "ConnectTime"),
        "2026-11-25 10:00:10",
        lambda o: o.answered_at,
        dt.datetime(2026, 11, 25, 2, 0, 10, tzinfo=dt.UTC),
    ),
    (
        ("EndTime", "HangupTime", "FinishTime"),
        "2026-11-25 10:01:00",
        lambda o: o.ended_at,
        dt.datetime(2026, 11, 25, 2, 1, tzinfo=dt.UTC),
    ),
    (
        ("StartTime", "CallTime", "DialTime"),
        "2026-11-25 09:59:50",
        lambda o: o.started_at,
        dt.datetime(2026, 11, 25, 1, 59, 50, tzinfo=dt.UTC),
    ),
    (("Duration", "CallDuration", "TalkTime", "BillSec"), "41", lambda o: o.duration_seconds, 41),
    (("CallTimes", "CallCount", "Attempts", "DialTimes", "TotalCalls"), 3, lambda o: o.variables["attempts"], 3),
    (
        ("HangupReason", "Reason", "Description", "Remark"),
        "caller hung up",
        lambda o: o.vendor_description,
        "caller hung up",
    ),
    (
        ("RecordingURL", "RecordUrl", "RecordingLink", "Recording"),
        "https://r.example/1.wav",
        lambda o: o.recording_url,
        "https://r.example/1.wav",
    ),
]
BASE_ROW = {"TaskID": "t-1", "CallID": "call-1", "Comments": "cmp-1|c-1", "CallStatus": "Answered"}


@pytest.mark.parametrize(
    ("names", "value", "read", "expected"), FIELD_NAMES, ids=lambda names: names[0] if isinstance(names, tuple) else ""
)
def test_each_name_a_field_may_come_under_is_read_and_the_first_one_wins(
    names: tuple[str, ...], value: Any, read: Callable[[Any], Any], expected: Any
) -> None:
    adapter = AirudderAdapter(account())
    base = {key: item for key, item in BASE_ROW.items() if key not in names}
    for name in names:
        for spelling in (name, name.upper(), re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()):
            [outcome] = adapter.parse_callback(_callback(base | {spelling: value})).outcomes
            assert read(outcome) == expected, spelling
    if len(names) > 1:  # given under two names, the first in the list is the one read
        decoy = "other" if isinstance(value, str) else value + 1
        row = base | {names[0]: value} | dict.fromkeys(names[1:], decoy)
        [outcome] = adapter.parse_callback(_callback(row)).outcomes
        assert read(outcome) == expected


@pytest.mark.parametrize(
    ("row", "source", "status", "disposition"),
    [
        ({"Intention": "Callback"}, OutcomeSource.WEBHOOK, CallStatus.ANSWERED, Disposition.CALLBACK_REQUESTED),
        ({"AnswerTime": "2026-11-25 10:00:10"}, OutcomeSource.POLL, CallStatus.ANSWERED, Disposition.UNKNOWN),
        ({"Duration": 7}, OutcomeSource.POLL, CallStatus.ANSWERED, Disposition.UNKNOWN),
        ({"Duration": 0}, OutcomeSource.WEBHOOK, CallStatus.NO_ANSWER, Disposition.NOT_CONNECTED),
        ({"EndTime": "2026-11-25 10:01:00"}, OutcomeSource.POLL, CallStatus.NO_ANSWER, Disposition.NOT_CONNECTED),
        ({}, OutcomeSource.POLL, CallStatus.QUEUED, Disposition.UNKNOWN),
        ({"CallStatus": "Mystery"}, OutcomeSource.WEBHOOK, CallStatus.NO_ANSWER, Disposition.NOT_CONNECTED),
        ({"CallStatus": "Ringing"}, OutcomeSource.WEBHOOK, CallStatus.RINGING, Disposition.UNKNOWN),
        (
            {"CallStatus": "NoAnswer", "Intention": "PTP"},
            OutcomeSource.WEBHOOK,
            CallStatus.NO_ANSWER,
            Disposition.NOT_CONNECTED,
        ),
    ],
)
def test_a_row_without_a_known_status_is_judged_from_its_other_fields(
    row: dict[str, Any], source: OutcomeSource, status: CallStatus, disposition: Disposition
) -> None:
    item = {"TaskID": "t-1", "CallID": "call-1", "Comments": "cmp-1|c-1"} | row
    outcome = AirudderAdapter(account())._outcome(item, source)
    assert outcome is not None
    assert (outcome.status, outcome.disposition, outcome.source, outcome.closes_contact) == (
        status,
        disposition,
        source,
        True,
    )
    assert outcome.vendor == "airudder" and outcome.vendor_status == row.get("CallStatus")


def test_a_number_never_dialled_is_named_by_its_task_and_comments_and_a_row_without_them_is_no_outcome() -> None:
    adapter = AirudderAdapter(account())
    outcome = adapter._outcome(
        {"TaskID": "t-1", "Comments": "cmp-1|c-1", "CallStatus": "Cancelled"}, OutcomeSource.POLL
    )
    assert outcome is not None and outcome.vendor_call_id == "t-1:cmp-1|c-1"
    assert adapter._outcome({"Comments": "cmp-1|c-1", "CallStatus": "Cancelled"}, OutcomeSource.POLL) is None
    assert adapter._outcome({"TaskID": "t-1", "CallStatus": "Cancelled"}, OutcomeSource.POLL) is None
    polled = adapter._outcome(
        {"CallID": "9", "Comments": "c-only"}, OutcomeSource.POLL, task_id="t-9", campaign_id="cmp-from-task"
    )
    assert polled is not None and (polled.vendor_task_id, polled.campaign_id) == ("t-9", "cmp-from-task")

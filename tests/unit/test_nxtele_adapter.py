"""NXTele adapter without a vendor: signing both ways, task and order bodies, errList, retCodes, paging, callbacks.

HTTP goes through httpx.MockTransport, which plays NXTele and checks every request's signature. The stored
events (events/webhooks/nxtele_*.json) are signed with NXTele's published sample credentials (nxtele.md §1):
uuid SAMPLE_UUID, secretKey SAMPLE_SECRET_KEY, MD5, createTs 1795597200 (2026-11-25T09:00:00Z).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from dialhub.dispositions import CallStatus, Disposition
from dialhub.models import Campaign, Contact, OutcomeSource, VendorTask
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
from dialhub.vendors.nxtele.adapter import NxteleAdapter, order_id, user_task_id
from dialhub.vendors.nxtele.signing import serialise, sign
from local.simulators.nxtele import SAMPLE_SECRET_KEY, SAMPLE_UUID
from tests.conftest import load_event

EVENT_TS = 1795597200
EVENT_TIME = dt.datetime.fromtimestamp(EVENT_TS, dt.UTC)
CALLBACK_BASE = "https://abc123.execute-api.us-east-1.amazonaws.com/webhooks/nxtele"
SCENE = "scene-collections-demo"
OPTIONS = {"sceneID": SCENE, "scriptVariables": ["amountDue", "dueDate"]}
VECTOR_BODY = json.dumps({"customerId": "1234", "appKey": "xxxxxx", "status": 1})
VECTOR_REQUEST_ID = "0123456789abcdef0123456789abcdef"


def account(**overrides: Any) -> dict[str, Any]:
    return {
        "uuid": SAMPLE_UUID,
        "secretKey": SAMPLE_SECRET_KEY,
        "baseUrl": "http://nxtele.invalid",
        "callbackBaseUrl": CALLBACK_BASE,
        **overrides,
    }


class FakeNxtele:
    """Plays NXTele behind httpx.MockTransport: checks each request's signature, answers signed replies."""

    def __init__(
        self,
        answer: Callable[[str, dict[str, Any]], dict[str, Any]] | None = None,
        secret_key: str = SAMPLE_SECRET_KEY,
        sign_answers: bool = True,
    ) -> None:
        self.answer = answer or (lambda path, body: {})
        self.secret_key = secret_key
        self.sign_answers = sign_answers
        self.requests: list[tuple[str, dict[str, Any], httpx.Request]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        headers = request.headers
        expected = sign(
            SAMPLE_SECRET_KEY,
            request.content,
            headers["createTs"],
            headers["requestID"],
            headers["uuid"],
            headers["algorithm"],
        )
        assert headers["sign"] == expected, "request not signed over the exact bytes sent"
        body = json.loads(request.content)
        path = request.url.path.rsplit("/", 1)[-1]
        self.requests.append((path, body, request))
        payload = {"retCode": 0, "retMsg": "success", "responseID": "r1", **self.answer(path, body)}
        content = json.dumps(payload).encode()
        reply_headers = {"Content-Type": "application/json"}
        if self.sign_answers:
            create_ts = headers["createTs"]
            reply_headers |= {
                "requestID": headers["requestID"],
                "uuid": SAMPLE_UUID,
                "createTs": create_ts,
                "sign": sign(
                    self.secret_key, content, create_ts, headers["requestID"], SAMPLE_UUID, headers["algorithm"]
                ),
            }
        return httpx.Response(200, content=content, headers=reply_headers)

    def paths(self) -> list[str]:
        return [path for path, _, _ in self.requests]


def adapter_with(fake: FakeNxtele, clock: Callable[[], dt.datetime] | None = None, **overrides: Any) -> NxteleAdapter:
    from dialhub.vendors.nxtele.wire import NxteleAccount

    http = httpx.Client(base_url="http://nxtele.invalid", transport=httpx.MockTransport(fake))
    return NxteleAdapter(NxteleAccount.model_validate(account(**overrides)), http=http, clock=clock)


def campaign(**changes: Any) -> Campaign:
    fields = {
        "campaign_id": "cmp-1",
        "name": "November",
        "vendor": "nxtele",
        "dial_date": dt.date(2026, 11, 25),
        "timezone": "Asia/Manila",
        "vendor_options": OPTIONS,
        "created_at": EVENT_TIME,
    } | changes
    return Campaign(**fields)


TASK = VendorTask(
    campaign_id="cmp-1",
    vendor="nxtele",
    local_date=dt.date(2026, 11, 25),
    vendor_task_id=user_task_id("cmp-1", dt.date(2026, 11, 25)),
    submitted=3,
)


def dial(contact_id: str, phone: str = "+639171234567", **variables: Any) -> DialRequest:
    values = {"amountDue": 1500, "dueDate": "2026-11-30", "loanId": "L1"} | variables
    return DialRequest("cmp-1", contact_id, 1, phone, "Maria", {k: v for k, v in values.items() if v is not None})


def callback(
    kind: str,
    body: Any,
    *,
    at: int = EVENT_TS,
    secret_key: str = SAMPLE_SECRET_KEY,
    uuid: str = SAMPLE_UUID,
    ip: str = "8.219.10.20",
    request_id: str = "f" * 32,
) -> InboundCallback:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {
        "requestid": request_id,
        "uuid": uuid,
        "createts": str(at),
        "sign": sign(secret_key, raw, str(at), request_id, uuid),
    }
    return InboundCallback(kind=kind, body=raw, headers=headers, query={}, source_ip=ip)


@pytest.fixture
def at_event_time() -> NxteleAdapter:
    return adapter_with(FakeNxtele(), clock=lambda: EVENT_TIME)


# --------------------------------------------------------------------------------------------- signing
def test_signature_matches_the_published_vector() -> None:
    args = (VECTOR_BODY.encode(), "1700000000", VECTOR_REQUEST_ID, SAMPLE_UUID)
    assert sign(SAMPLE_SECRET_KEY, *args) == "5D9DF0A715F076BD80045812AB251F08"
    assert sign(SAMPLE_SECRET_KEY, *args, algorithm="SHA256") == (
        "07B49BD7AAA5DB7705A2B48D6024A00D9962FE643FC5379E1627D998A53A013A"
    )


def test_compact_json_gives_another_signature_so_the_body_is_serialised_once() -> None:
    compact = json.dumps(json.loads(VECTOR_BODY), separators=(",", ":")).encode()
    assert sign(SAMPLE_SECRET_KEY, compact, "1700000000", VECTOR_REQUEST_ID, SAMPLE_UUID) == (
        "803303CCA984889E9908BB7BE4B3B343"
    )
    assert serialise(json.loads(VECTOR_BODY)) == VECTOR_BODY.encode()  # the sample's json.dumps form


@pytest.mark.parametrize("algorithm", ["MD5", "SHA256", "sha256"])
def test_every_request_is_signed_over_the_exact_bytes_sent(algorithm: str) -> None:
    fake = FakeNxtele()
    adapter = adapter_with(fake, algorithm=algorithm)
    adapter.control_task(TASK, TaskAction.PAUSE)
    [(_, body, request)] = fake.requests
    headers = request.headers
    assert headers["algorithm"] == algorithm.upper() and headers["uuid"] == SAMPLE_UUID
    assert len(headers["createTs"]) == 10 and headers["createTs"].isdigit()  # seconds, not milliseconds
    assert len(headers["sign"]) == (64 if algorithm.upper() == "SHA256" else 32) and headers["sign"].isupper()
    assert request.content == json.dumps(body, ensure_ascii=False).encode()
    assert body["productID"] == "callbot"


def test_non_ascii_text_is_signed_as_the_utf8_bytes_sent() -> None:
    fake = FakeNxtele()
    request = DialRequest(
        "cmp-1", "c1", 1, "+628123456789", "Siti Ra\u0125ma", {"amountDue": "Rp 1.250.000", "dueDate": "30 Nov"}
    )
    adapter_with(fake).submit(Submission(campaign(), TASK, [request], "k"))
    [(_, _, request)] = fake.requests
    assert "Siti Ra\u0125ma".encode() in request.content  # sent as UTF-8 text, and the fake verified its sign


def test_every_retry_is_signed_afresh() -> None:
    seen: list[str] = []
    fake = FakeNxtele()

    def flaky(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["requestID"])
        return httpx.Response(503) if len(seen) == 1 else fake(request)

    http = httpx.Client(base_url="http://nxtele.invalid", transport=httpx.MockTransport(flaky))
    adapter = NxteleAdapter.from_account(account(), http=http)
    assert adapter.control_task(TASK, TaskAction.RESUME) is True
    assert len(seen) == 2 and seen[0] != seen[1]


# --------------------------------------------------------------------------------------------- answers
def test_a_success_whose_signature_does_not_verify_is_not_trusted() -> None:
    adapter = adapter_with(FakeNxtele(secret_key="someone-else"))
    with pytest.raises(VendorUnavailable, match="signature does not verify"):
        adapter.control_task(TASK, TaskAction.PAUSE)


def test_an_unsigned_success_is_accepted_and_a_refusal_stays_a_refusal() -> None:
    assert adapter_with(FakeNxtele(sign_answers=False)).control_task(TASK, TaskAction.PAUSE) is True
    refusing = FakeNxtele(lambda path, body: {"retCode": 6, "retMsg": "sign error"}, secret_key="someone-else")
    with pytest.raises(VendorRejected, match="wrong signature"):
        adapter_with(refusing).control_task(TASK, TaskAction.PAUSE)


def test_an_answer_echoing_another_request_id_is_not_trusted() -> None:
    def replay(request: httpx.Request) -> httpx.Response:
        content = b'{"retCode": 0, "retMsg": "success"}'
        create_ts = request.headers["createTs"]
        old = "0" * 32
        return httpx.Response(
            200,
            content=content,
            headers={
                "requestID": old,
                "uuid": SAMPLE_UUID,
                "createTs": create_ts,
                "sign": sign(SAMPLE_SECRET_KEY, content, create_ts, old, SAMPLE_UUID),
            },
        )

    http = httpx.Client(base_url="http://nxtele.invalid", transport=httpx.MockTransport(replay))
    with pytest.raises(VendorUnavailable, match="another request"):
        NxteleAdapter.from_account(account(), http=http).control_task(TASK, TaskAction.PAUSE)


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (6, "wrong signature (check uuid, secretKey and algorithm)"),
        (6002, "account does not exist"),
        (4001, "too many array elements"),
        (3, "parameter format error"),
        (4242, "unknown error"),
    ],
)
def test_permanent_ret_codes_are_refusals_with_a_clear_reason(code: int, reason: str) -> None:
    fake = FakeNxtele(lambda path, body: {"retCode": code, "retMsg": "nope"})
    with pytest.raises(VendorRejected) as refused:
        adapter_with(fake).control_task(TASK, TaskAction.PAUSE)
    assert refused.value.code == code and reason in refused.value.reason and "nope" in refused.value.reason
    assert len(fake.requests) == 1  # not retried


@pytest.mark.parametrize("code", [7, 5, 5001])
def test_busy_and_maintenance_are_retried_then_unavailable(code: int) -> None:
    fake = FakeNxtele(lambda path, body: {"retCode": code, "retMsg": "busy"})
    with pytest.raises(VendorUnavailable, match=f"retCode {code}"):
        adapter_with(fake).control_task(TASK, TaskAction.PAUSE)
    assert len(fake.requests) == 3  # stamina's testing mode caps the attempts at 3


def test_busy_once_then_success_goes_through() -> None:
    answers = iter([{"retCode": 7, "retMsg": "system busy"}, {}])
    fake = FakeNxtele(lambda path, body: next(answers))
    assert adapter_with(fake).control_task(TASK, TaskAction.PAUSE) is True
    assert len(fake.requests) == 2


def test_an_answer_without_ret_code_is_unavailable() -> None:
    def bare(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"hello": 1})

    http = httpx.Client(base_url="http://nxtele.invalid", transport=httpx.MockTransport(bare))
    with pytest.raises(VendorUnavailable, match="without a retCode"):
        NxteleAdapter.from_account(account(), http=http).control_task(TASK, TaskAction.PAUSE)


# --------------------------------------------------------------------------------------------- account, options
def test_account_defaults_and_bounds() -> None:
    minimal = {"uuid": SAMPLE_UUID, "secretKey": SAMPLE_SECRET_KEY, "callbackBaseUrl": CALLBACK_BASE + "/"}
    adapter = NxteleAdapter.from_account(minimal)
    assert (adapter.account.algorithm, adapter.account.base_url, adapter.account.timezone) == (
        "MD5",
        "https://nxbot.nxcloud.com",
        "Asia/Jakarta",
    )
    assert adapter.account.callback_base_url == CALLBACK_BASE  # no double slash in the callback URLs
    assert adapter.batch_limit == 500 and adapter.account.max_clock_skew_seconds == 300
    assert NxteleAdapter.from_account(account(chunkSize=120)).batch_limit == 120
    assert SAMPLE_SECRET_KEY not in repr(adapter.account)
    for bad in (
        {"chunkSize": 501},
        {"chunkSize": 0},
        {"algorithm": "SHA1"},
        {"callbackBaseUrl": "/relative"},
        {"timezone": "Mars/Olympus"},
        {"ipAllowlist": ["not-a-network"]},
        {"intentMap": {"X": "nope"}},
        {"secretKey": ""},
    ):
        with pytest.raises(ValidationError):
            NxteleAdapter.from_account(account(**bad))
    without_callback = account()
    without_callback.pop("callbackBaseUrl")
    with pytest.raises(ValidationError, match="callbackBaseUrl"):
        NxteleAdapter.from_account(without_callback)


def test_options_need_a_scene_and_distinct_variables() -> None:
    assert NxteleAdapter.validate_options({"sceneID": 42}) == {"sceneID": 42, "scriptVariables": [], "callsPerOrder": 3}
    full = {
        "sceneID": "s",
        "scriptVariables": ["a"],
        "strategyName": "fast",
        "routeID": 3,
        "maxRingTime": 30,
        "callsPerOrder": 2,
    }
    assert NxteleAdapter.validate_options(full) == full
    assert NxteleAdapter.calls_per_request(full) == 2
    for bad in (
        {},
        {"sceneID": ""},
        {"sceneID": "s", "scriptVariables": ["a", "a"]},
        {"sceneID": "s", "maxRingTime": 0},
        {"sceneID": "s", "callsPerOrder": 0},
    ):
        with pytest.raises(ValidationError):
            NxteleAdapter.validate_options(bad)


def test_today_is_the_accounts_local_day() -> None:
    late_utc = dt.datetime(2026, 11, 25, 17, 30, tzinfo=dt.UTC)  # 00:30 on the 26th in Jakarta
    assert adapter_with(FakeNxtele(), clock=lambda: late_utc).today() == dt.date(2026, 11, 26)


def test_ids_are_deterministic_hex() -> None:
    day = dt.date(2026, 11, 25)
    assert user_task_id("cmp-1", day) == user_task_id("cmp-1", day) != user_task_id("cmp-1", day + dt.timedelta(1))
    assert order_id("cmp-1", "c1", 1) == order_id("cmp-1", "c1", 1) != order_id("cmp-1", "c1", 2)
    assert len(order_id("cmp-1", "c1", 1)) == 32 and int(order_id("cmp-1", "c1", 1), 16) >= 0


# --------------------------------------------------------------------------------------------- task
def test_create_task_sends_the_calling_window_in_the_campaigns_zone() -> None:
    fake = FakeNxtele(lambda path, body: {"taskID": 880001})
    window = {"start": "08:30", "end": "17:45", "weekdays": [5, 1, 2]}
    ny = campaign(
        timezone="America/New_York",
        calling_window=window,
        vendor_options=OPTIONS | {"strategyName": "collections", "routeID": 9, "maxRingTime": 35},
    )
    task_id = adapter_with(fake).create_task(ny, dt.date(2026, 7, 1))
    [(path, body, _)] = fake.requests
    assert path == "createTask" and task_id == body["userTaskID"] == user_task_id("cmp-1", dt.date(2026, 7, 1))
    assert body["sceneID"] == SCENE
    assert body["taskCallbackUrl"] == f"{CALLBACK_BASE}/task" and body["orderCallbackUrl"] == f"{CALLBACK_BASE}/order"
    setting = body["taskCreateSetting"]
    assert setting["startupType"] == 3 and setting["zoneSecond"] == -4 * 3600  # EDT in July
    assert (setting["dialAtWeekDay"], setting["dialAtUpHour"], setting["dialAtDownHour"]) == ("1,2,5", "08:30", "17:45")
    assert (setting["strategyName"], setting["routeID"], setting["maxRingTime"]) == ("collections", 9, 35)
    adapter_with(fake).create_task(ny, dt.date(2026, 12, 1))
    assert fake.requests[-1][1]["taskCreateSetting"]["zoneSecond"] == -5 * 3600  # EST in December


def test_create_task_repeated_after_a_lost_answer_finds_the_existing_task() -> None:
    day = dt.date(2026, 11, 25)

    def answer(path: str, body: dict[str, Any]) -> dict[str, Any]:
        if path == "createTask":
            return {"retCode": 4, "retMsg": "userTaskID already exists"}
        assert body["queryConditions"] == {"userTaskID": [user_task_id("cmp-1", day)]}
        return {"taskData": [{"userTaskID": user_task_id("cmp-1", day), "taskID": 880001}]}

    fake = FakeNxtele(answer)
    assert adapter_with(fake).create_task(campaign(), day) == user_task_id("cmp-1", day)
    assert fake.paths() == ["createTask", "listTask"]


def test_create_task_refusal_without_an_existing_task_is_raised() -> None:
    fake = FakeNxtele(
        lambda path, body: {"retCode": 4, "retMsg": "sceneID not found"} if path == "createTask" else {"taskData": []}
    )
    with pytest.raises(VendorRejected, match="sceneID not found"):
        adapter_with(fake).create_task(campaign(), dt.date(2026, 11, 25))


def test_control_task_maps_actions_to_task_operations() -> None:
    fake = FakeNxtele()
    adapter = adapter_with(fake)
    for action in (TaskAction.PAUSE, TaskAction.RESUME, TaskAction.CANCEL):
        assert adapter.control_task(TASK, action) is True
    operations = [(body["taskOperate"], body["delCall"], body["userTaskID"]) for _, body, _ in fake.requests]
    assert operations == [(2, 0, TASK.vendor_task_id), (1, 0, TASK.vendor_task_id), (3, 1, TASK.vendor_task_id)]


# --------------------------------------------------------------------------------------------- submit
def test_submit_sends_digits_our_ids_and_exactly_the_script_variables() -> None:
    fake = FakeNxtele(lambda path, body: {"totalCount": 2, "successCount": 2, "errList": []})
    result = adapter_with(fake).submit(Submission(campaign(), TASK, [dial("c1"), dial("c2", "+639181234567")], "k"))
    [(path, body, _)] = fake.requests
    assert path == "addBatchCall" and body["userTaskID"] == TASK.vendor_task_id
    info = body["callInfoList"]
    assert (info["orderCallbackUrl"], info["callCallbackUrl"]) == (f"{CALLBACK_BASE}/order", f"{CALLBACK_BASE}/call")
    first = info["callList"][0]
    assert first["orderID"] == order_id("cmp-1", "c1", 1) and first["userPhone"] == "639171234567"
    assert json.loads(first["other"]) == {"campaignId": "cmp-1", "contactId": "c1", "attempt": 1}
    assert first["params"] == [{"name": "amountDue", "value": "1500"}, {"name": "dueDate", "value": "2026-11-30"}]
    assert (first["userName"], first["customerName"]) == ("Maria", "")
    assert result.accepted == {"c1": order_id("cmp-1", "c1", 1), "c2": order_id("cmp-1", "c2", 1)}
    assert result.rejected == {} and result.job_id is None


@pytest.mark.parametrize(("code", "account"), [(6, True), (6002, True), (6003, True), (3, False), (4001, False)])
def test_a_refused_batch_is_the_accounts_doing_only_for_signature_account_and_permission_codes(
    code: int, account: bool
) -> None:
    """Our account refused: raised, so dispatch may send the contacts to another vendor. The batch refused
    for what it asked: every contact fails with NXTele's reason."""
    fake = FakeNxtele(lambda path, body: {"retCode": code, "retMsg": "refused"})
    submission = Submission(campaign(), TASK, [dial("c1"), dial("c2", "+639181234567")], "k")
    if account:
        with pytest.raises(VendorRejected) as refused:
            adapter_with(fake).submit(submission)
        assert refused.value.account_refused and refused.value.code == code
    else:
        result = adapter_with(fake).submit(submission)
        assert set(result.rejected) == {"c1", "c2"} and result.accepted == {}
        assert all(f"nxtele error {code}" in reason for reason in result.rejected.values())


def test_err_list_is_mapped_back_to_each_contact_and_an_existing_order_counts_as_accepted() -> None:
    errors = [
        {"phone": "639181234567", "errMsg": "number is blacklisted"},
        {"phone": "639191234567", "errMsg": "orderID already exists"},
        {"orderID": order_id("cmp-1", "c4", 1), "phone": "", "errMsg": "params invalid", "retCode": 4},
    ]
    fake = FakeNxtele(lambda path, body: {"totalCount": 4, "successCount": 1, "errList": errors})
    requests = [dial("c1"), dial("c2", "+639181234567"), dial("c3", "+639191234567"), dial("c4", "+639201234567")]
    result = adapter_with(fake).submit(Submission(campaign(), TASK, requests, "k"))
    assert set(result.accepted) == {"c1", "c3"} and result.unconfirmed == {} and result.mismatches == []
    assert result.rejected == {
        "c2": "nxtele refused the contact: number is blacklisted",
        "c4": "nxtele error 4: params invalid",
    }


def test_an_entry_naming_no_contact_leaves_the_unlisted_unconfirmed_not_accepted() -> None:
    errors = [{"phone": "639181234567", "errMsg": "number is blacklisted"}, {"phone": "639990000000", "errMsg": "?"}]
    fake = FakeNxtele(lambda path, body: {"totalCount": 3, "successCount": 1, "errList": errors})
    requests = [dial("c1"), dial("c2", "+639181234567"), dial("c3", "+639191234567")]
    result = adapter_with(fake).submit(Submission(campaign(), TASK, requests, "k"))
    assert result.accepted == {} and set(result.rejected) == {"c2"}
    assert result.unconfirmed == {"c1": order_id("cmp-1", "c1", 1), "c3": order_id("cmp-1", "c3", 1)}


def test_a_duplicate_phone_is_a_refusal_and_a_repeated_order_a_retry() -> None:
    errors = [
        {"phone": "639171234567", "errMsg": "duplicate phone in task"},
        {"phone": "+63 918 123 4567", "errMsg": "order ID repeated"},
    ]
    fake = FakeNxtele(lambda path, body: {"totalCount": 3, "successCount": 1, "errList": errors})
    requests = [dial("c1"), dial("c2", "+639181234567"), dial("c3", "+639191234567")]
    result = adapter_with(fake).submit(Submission(campaign(), TASK, requests, "k"))
    assert result.rejected == {"c1": "nxtele refused the contact: duplicate phone in task"}
    assert set(result.accepted) == {"c2", "c3"} and result.mismatches == []


def test_entries_naming_a_phone_several_contacts_share_leave_them_unconfirmed() -> None:
    errors = [
        {"phone": "639171234567", "errMsg": "duplicate phone in task"},
        {"phone": "+63 917 123 4567", "errMsg": "order ID repeated"},
    ]
    fake = FakeNxtele(lambda path, body: {"totalCount": 3, "successCount": 1, "errList": errors})
    result = adapter_with(fake).submit(Submission(campaign(), TASK, [dial("c1"), dial("c2"), dial("c3")], "k"))
    # Which of the three each entry means would be a guess: none is refused, none counts as accepted.
    assert result.rejected == {} and result.accepted == {}
    assert set(result.unconfirmed) == {"c1", "c2", "c3"}
    assert result.mismatches == ["addBatchCall: 2 errList entries name a phone shared by 3 contacts sent"]


def test_a_refused_batch_rejects_every_contact_with_the_reason() -> None:
    fake = FakeNxtele(lambda path, body: {"retCode": 4, "retMsg": "task not found"})
    result = adapter_with(fake).submit(Submission(campaign(), TASK, [dial("c1"), dial("c2")], "k"))
    assert result.accepted == {}
    assert result.rejected == {
        "c1": "nxtele error 4: invalid parameter value: task not found",
        "c2": "nxtele error 4: invalid parameter value: task not found",
    }


def test_missing_script_variable_is_refused_before_any_http() -> None:
    base = {"campaign_id": "cmp-1", "contact_id": "x", "phone": "+639171234567"}
    complete = Contact(**base, variables={"amountDue": 10, "dueDate": "2026-11-30"})
    assert NxteleAdapter.contact_problem(complete, OPTIONS) is None
    problem = NxteleAdapter.contact_problem(Contact(**base, variables={"amountDue": 10}), OPTIONS)
    assert problem == "variables.dueDate: missing; the NXTele script (scriptVariables) needs it"
    assert NxteleAdapter.contact_problem(Contact(**base, variables={"amountDue": 10, "dueDate": ""}), OPTIONS)
    assert NxteleAdapter.contact_problem(Contact(**base), {"sceneID": SCENE}) is None
    fake = FakeNxtele()
    result = adapter_with(fake).submit(Submission(campaign(), TASK, [dial("c1", dueDate=None)], "k"))
    assert result.rejected == {"c1": problem} and fake.requests == []


def test_submit_refuses_more_than_the_accounts_chunk() -> None:
    adapter = adapter_with(FakeNxtele(), chunkSize=2)
    with pytest.raises(ValueError, match="at most 2"):
        adapter.submit(Submission(campaign(), TASK, [dial("c1"), dial("c2"), dial("c3")], "k"))


# --------------------------------------------------------------------------------------------- cancel
def test_cancel_stops_the_order_and_an_err_list_entry_is_a_refusal() -> None:
    fake = FakeNxtele(lambda path, body: {"totalCount": 1, "successCount": 1, "errList": []})
    adapter_with(fake).cancel(TASK, dial("c1"))
    [(path, body, _)] = fake.requests
    assert path == "stopOrder" and body["orderIDs"] == [order_id("cmp-1", "c1", 1)]
    late = FakeNxtele(
        lambda path, body: {
            "successCount": 0,
            "errList": [{"orderID": body["orderIDs"][0], "errMsg": "order already dialled"}],
        }
    )
    with pytest.raises(VendorRejected, match="order already dialled"):
        adapter_with(late).cancel(TASK, dial("c1"))


# --------------------------------------------------------------------------------------------- polling
def _call(call_id: str, start: int, answered: bool, **extra: Any) -> dict[str, Any]:
    return {
        "callID": call_id,
        "callStatus": 1 if answered else 2,
        "callStartTs": start,
        "callAnswerTs": start + 5 if answered else 0,
        "callEndTs": start + 40,
        "callDuration": 35 if answered else 0,
        "intents": [{"intentTag": "PTP", "intentName": "Promise to pay"}] if answered else [],
        **extra,
    }


def test_results_page_orders_and_fetch_every_call_in_chunks_of_500() -> None:
    order_ids = [f"o{index:04d}" for index in range(1234)]
    detail_sizes: list[int] = []

    def answer(path: str, body: dict[str, Any]) -> dict[str, Any]:
        if path == "listOrder":
            assert body["size"] == 100
            start = (body["page"] - 1) * 100
            return {"orderList": [{"orderID": oid} for oid in order_ids[start : start + 100]]}
        detail_sizes.append(len(body["orderList"]))
        details = []
        for oid in body["orderList"]:
            number = int(oid[1:])
            other = json.dumps({"campaignId": "cmp-1", "contactId": f"c{number}", "attempt": 1})
            calls = [_call(f"{oid}-b", 2000, number % 2 == 0), _call(f"{oid}-a", 1000, False)]  # out of order
            details.append(
                {
                    "orderID": oid,
                    "userTaskID": TASK.vendor_task_id,
                    "finish": number % 3 != 0,
                    "other": other,
                    "callInfoDetailList": calls,
                }
            )
        return {"orderDetailList": details}

    fake = FakeNxtele(answer)
    pages = list(adapter_with(fake).results(TASK))
    # No total in these answers: the 13th page is short, and only the 14th (empty) ends the listing.
    assert [path for path in fake.paths() if path == "listOrder"] == ["listOrder"] * 14
    assert detail_sizes == [500, 500, 234] and len(pages) == 3
    outcomes = [outcome for page in pages for outcome in page]
    assert len(outcomes) == 2468 and all(outcome.source == OutcomeSource.POLL for outcome in outcomes)
    closing = {outcome.vendor_call_id for outcome in outcomes if outcome.closes_contact}
    assert closing == {f"o{n:04d}-b" for n in range(1234) if n % 3 != 0}  # the last call of a finished order
    by_id = {outcome.vendor_call_id: outcome for outcome in outcomes}
    assert by_id["o0002-b"].disposition == Disposition.PROMISE_TO_PAY and by_id["o0002-b"].contact_id == "c2"
    assert by_id["o0001-b"].status == CallStatus.NO_ANSWER and not by_id["o0001-a"].closes_contact


def test_results_of_a_task_without_orders_is_one_request() -> None:
    fake = FakeNxtele(lambda path, body: {"orderList": [], "total": 0})
    assert list(adapter_with(fake).results(TASK)) == []
    assert fake.paths() == ["listOrder"]


def test_task_is_complete_once_every_submitted_contact_is_closed() -> None:
    adapter = adapter_with(FakeNxtele())
    assert adapter.task_complete(TASK, 3) and adapter.task_complete(TASK, 4)
    assert not adapter.task_complete(TASK, 2)
    assert not adapter.task_complete(TASK.model_copy(update={"submitted": 0}), 0)


# --------------------------------------------------------------------------------------------- callbacks
def _stored_callback(kind: str) -> InboundCallback:
    event = load_event(f"webhooks/nxtele_{kind}.json")
    return InboundCallback(
        kind=kind,
        body=event["body"].encode(),
        headers=event["headers"],
        query={},
        source_ip=event["requestContext"]["http"]["sourceIp"],
    )


@pytest.mark.parametrize("kind", ["call", "order", "task"])
def test_stored_events_are_signed_with_the_sample_credentials(at_event_time: NxteleAdapter, kind: str) -> None:
    stored = _stored_callback(kind)
    assert at_event_time.authenticate(stored)
    assert load_event(f"webhooks/nxtele_{kind}.json")["pathParameters"] == {"vendor": "nxtele", "kind": kind}
    assert isinstance(at_event_time.parse_callback(stored), OutcomeReport)


def test_call_callback_is_one_attempt_keyed_by_call_id(at_event_time: NxteleAdapter) -> None:
    [outcome] = at_event_time.parse_callback(_stored_callback("call")).outcomes
    assert (outcome.vendor, outcome.vendor_call_id) == ("nxtele", "a1f0c3d2e4b5968778695a4b3c2d1e0f")
    assert (outcome.campaign_id, outcome.contact_id, outcome.attempt) == ("cmp-demo-1", "loan-20001", 1)
    assert outcome.vendor_task_id == user_task_id("cmp-demo-1", dt.date(2026, 11, 25))
    assert outcome.status == CallStatus.NO_ANSWER and outcome.disposition == Disposition.NOT_CONNECTED
    assert outcome.closes_contact is False and outcome.final and not outcome.closes
    assert outcome.vendor_status == "2" and outcome.answered_at is None
    assert outcome.started_at == dt.datetime.fromtimestamp(EVENT_TS - 95, dt.UTC)
    assert outcome.variables["termSipCode"] == "487" and "6281234567890" not in json.dumps(outcome.to_wire())


def test_order_callback_closes_the_contact_with_the_last_call(at_event_time: NxteleAdapter) -> None:
    [outcome] = at_event_time.parse_callback(_stored_callback("order")).outcomes
    assert outcome.vendor_call_id == "b2e1d4c3f5a6079889706b5c4d3e2f10" and outcome.closes
    assert outcome.status == CallStatus.ANSWERED and outcome.disposition == Disposition.PROMISE_TO_PAY
    assert (outcome.vendor_code, outcome.vendor_description) == ("PTP", "Promise to pay")
    assert outcome.duration_seconds == 40 and outcome.answered_at == dt.datetime.fromtimestamp(EVENT_TS - 42, dt.UTC)
    assert outcome.recording_url.endswith(".mp3") and outcome.variables["intents"][0]["intentLevel"] == "A"


def test_task_callback_reports_no_outcome(at_event_time: NxteleAdapter) -> None:
    assert at_event_time.parse_callback(_stored_callback("task")) == OutcomeReport([])
    assert at_event_time.acknowledge(_stored_callback("task")).body == {"retCode": 0, "retMsg": "success"}
    assert at_event_time.acknowledge(_stored_callback("task")).status == 200


def test_authentication_checks_signature_account_clock_and_source() -> None:
    body = {"userTaskID": "t", "taskStatus": 2}
    adapter = adapter_with(FakeNxtele(), clock=lambda: EVENT_TIME, ipAllowlist=["8.219.0.0/16"])
    assert adapter.authenticate(callback("task", body))
    assert adapter.authenticate(callback("task", body, at=EVENT_TS - 300))
    assert adapter.authenticate(callback("task", body, at=EVENT_TS + 300))
    assert not adapter.authenticate(callback("task", body, at=EVENT_TS - 301))  # stale
    assert not adapter.authenticate(callback("task", body, at=EVENT_TS + 301))  # from the future
    assert not adapter.authenticate(callback("task", body, secret_key="x" * 32))
    assert not adapter.authenticate(callback("task", body, uuid="another-account"))
    assert not adapter.authenticate(callback("task", body, ip="203.0.113.9"))
    tampered = callback("task", body)
    assert not adapter.authenticate(InboundCallback("task", tampered.body + b" ", tampered.headers, {}, "8.219.1.1"))
    for missing in ("sign", "createts", "requestid", "uuid"):
        headers = {k: v for k, v in tampered.headers.items() if k != missing}
        assert not adapter.authenticate(InboundCallback("task", tampered.body, headers, {}, "8.219.1.1"))


def test_callbacks_are_verified_with_the_accounts_algorithm() -> None:
    raw = json.dumps({"userTaskID": "t"}).encode()
    headers = {
        "requestid": "r",
        "uuid": SAMPLE_UUID,
        "createts": str(EVENT_TS),
        "sign": sign(SAMPLE_SECRET_KEY, raw, str(EVENT_TS), "r", SAMPLE_UUID, "SHA256"),
    }
    signed_sha256 = InboundCallback("task", raw, headers, {}, "1.2.3.4")
    assert adapter_with(FakeNxtele(), clock=lambda: EVENT_TIME, algorithm="SHA256").authenticate(signed_sha256)
    assert not adapter_with(FakeNxtele(), clock=lambda: EVENT_TIME).authenticate(signed_sha256)


def test_unknown_kind_is_a_key_error(at_event_time: NxteleAdapter) -> None:
    for kind in ("", "predial", "cdr"):
        with pytest.raises(KeyError):
            at_event_time.parse_callback(callback(kind, {"orderID": "o"}))


@pytest.mark.parametrize(
    ("kind", "body"),
    [
        ("call", b"{not json"),
        ("call", b"\xff\xfe"),
        ("call", [1, 2]),
        ("call", {"finish": True}),  # no orderID
        ("call", {"orderID": "o1", "finish": True}),  # a call callback without its call
        ("call", {"orderID": "o1", "callInfoDetail": {"callStatus": 1}}),  # no callID
        ("order", {"orderID": "o1", "callInfoDetail": {"callID": "c", "callStartTs": {"a": 1}}}),
        ("order", {"orderID": "o1", "finish": "maybe", "callInfoDetail": {"callID": "c"}}),
        ("task", {"taskStatus": 3}),  # no userTaskID
        ("task", "text"),
    ],
)
def test_malformed_callbacks_are_rejected(at_event_time: NxteleAdapter, kind: str, body: Any) -> None:
    with pytest.raises(CallbackRejected):
        at_event_time.parse_callback(callback(kind, body))


def test_order_callback_without_a_call_reports_nothing(at_event_time: NxteleAdapter) -> None:
    assert (
        at_event_time.parse_callback(
            callback("order", {"orderID": "o1", "finish": True, "callInfoDetail": {}})
        ).outcomes
        == []
    )


def test_callback_type_is_read_as_int_or_text_and_blanks_are_none(at_event_time: NxteleAdapter) -> None:
    item = {
        "callbackType": "1",
        "orderID": "o1",
        "finish": 1,
        "other": {"campaignId": "x", "contactId": "y"},
        "callInfoDetail": {
            "callID": 99,
            "callStatus": 3,
            "callStartTs": "1795597000",
            "callAnswerTs": "",
            "callDuration": "",
            "termSipCode": 486,
            "hangupCause": "USER_BUSY",
        },
    }
    [outcome] = at_event_time.parse_callback(callback("order", item)).outcomes
    assert (outcome.vendor_call_id, outcome.status, outcome.closes, outcome.contact_id) == (
        "99",
        CallStatus.BUSY,
        True,
        "y",
    )
    assert outcome.duration_seconds is None and outcome.started_at == dt.datetime(
        2026, 11, 25, 8, 56, 40, tzinfo=dt.UTC
    )


@pytest.mark.parametrize(
    ("sip", "cause", "status"),
    [
        ("486", "", CallStatus.BUSY),
        ("", "USER_BUSY", CallStatus.BUSY),
        ("404", "", CallStatus.INVALID_NUMBER),
        ("", "unallocated_number", CallStatus.INVALID_NUMBER),
        ("480", "", CallStatus.UNREACHABLE),
        ("503", "", CallStatus.FAILED),
        ("487", "NO_ANSWER", CallStatus.NO_ANSWER),
        ("", "", CallStatus.NO_ANSWER),
        ("699", "SOMETHING_ELSE", CallStatus.NO_ANSWER),
    ],
)
def test_unanswered_calls_are_refined_by_sip_code_or_hangup_cause(
    at_event_time: NxteleAdapter, sip: str, cause: str, status: CallStatus
) -> None:
    item = {
        "orderID": "o1",
        "finish": True,
        "callInfoDetail": {"callID": "c1", "callAnswerTs": 0, "termSipCode": sip, "hangupCause": cause},
    }
    [outcome] = at_event_time.parse_callback(callback("call", item)).outcomes
    assert (outcome.status, outcome.disposition) == (status, Disposition.NOT_CONNECTED)


def test_answered_with_zero_duration_is_not_answered(at_event_time: NxteleAdapter) -> None:
    item = {"orderID": "o1", "callInfoDetail": {"callID": "c1", "callAnswerTs": EVENT_TS, "callDuration": 0}}
    [outcome] = at_event_time.parse_callback(callback("call", item)).outcomes
    assert outcome.status == CallStatus.NO_ANSWER


def test_intents_map_through_defaults_and_the_accounts_intent_map(monkeypatch: pytest.MonkeyPatch) -> None:
    counted: list[str] = []
    monkeypatch.setattr("dialhub.dispositions.count_metric", lambda name, **dims: counted.append(name))
    adapter = adapter_with(
        FakeNxtele(),
        clock=lambda: EVENT_TIME,
        intentMap={"Janji Bayar": "promise_to_pay", "PTP": "promise_to_pay_no_date"},
    )

    def disposition(*intents: dict[str, str]) -> tuple[Disposition, CallStatus, str | None]:
        item = {
            "orderID": "o1",
            "callInfoDetail": {"callID": "c1", "callAnswerTs": EVENT_TS, "callDuration": 9, "intents": list(intents)},
        }
        [outcome] = adapter.parse_callback(callback("call", item)).outcomes
        return outcome.disposition, outcome.status, outcome.vendor_code

    assert disposition({"intentTag": "", "intentName": "janji bayar"})[0] == Disposition.PROMISE_TO_PAY
    assert disposition({"intentTag": "PTP"})[0] == Disposition.PROMISE_TO_PAY_NO_DATE  # the account overrides
    assert disposition({"intentTag": "wrong_person"})[0] == Disposition.WRONG_PERSON  # canonical values work
    assert disposition({"intentTag": "zzz"}, {"intentName": "Already paid"}) == (
        Disposition.ALREADY_PAID,
        CallStatus.ANSWERED,
        "Already paid",
    )
    assert disposition({"intentTag": "VOICEMAIL"})[:2] == (Disposition.VOICEMAIL, CallStatus.VOICEMAIL)
    assert counted == []
    assert disposition({"intentTag": "X-CUSTOM", "intentName": "Custom"}) == (
        Disposition.UNKNOWN,
        CallStatus.ANSWERED,
        "X-CUSTOM",
    )
    assert counted == ["UnknownVendorCode"]
    assert disposition() == (Disposition.UNKNOWN, CallStatus.ANSWERED, None)


def test_timestamps_in_milliseconds_are_read_too(at_event_time: NxteleAdapter) -> None:
    item = {"orderID": "o1", "callInfoDetail": {"callID": "c1", "callStartTs": EVENT_TS * 1000}}
    [outcome] = at_event_time.parse_callback(callback("call", item)).outcomes
    assert outcome.started_at == EVENT_TIME

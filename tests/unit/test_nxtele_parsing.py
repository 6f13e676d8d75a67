"""NXTele read precisely: the signature formula and our ids, every field of a callback's outcome, the time and
answer boundaries, the exact refusals, and why a callback or an answer is not trusted."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from dialhub.dispositions import CallStatus, Disposition
from dialhub.models import OutcomeSource, VendorTask
from dialhub.vendors import StaticAdapters
from dialhub.vendors.base import (
    CallbackRejected,
    InboundCallback,
    OutcomeReport,
    Reply,
    TaskAction,
    VendorRejected,
    VendorUnavailable,
)
from dialhub.vendors.nxtele.adapter import NxteleAdapter, order_id, phone_digits, user_task_id
from dialhub.vendors.nxtele.signing import serialise, sign
from dialhub.vendors.nxtele.wire import NxteleAccount
from dialhub.webhooks import handle_callback
from local.simulators.nxtele import SAMPLE_SECRET_KEY, SAMPLE_UUID

EVENT_TS = 1795597200  # 2026-11-25T09:00:00Z
EVENT_TIME = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
CALLBACK_BASE = "https://abc123.execute-api.us-east-1.amazonaws.com/webhooks/nxtele"
TASK = VendorTask(
    campaign_id="cmp-1", vendor="nxtele", local_date=dt.date(2026, 11, 25), vendor_task_id="t-1", submitted=1
)


def _account(**overrides: Any) -> NxteleAccount:
    return NxteleAccount.model_validate(
        {
            "uuid": SAMPLE_UUID,
            "secretKey": SAMPLE_SECRET_KEY,
            "baseUrl": "http://nxtele.invalid",
            "callbackBaseUrl": CALLBACK_BASE,
            **overrides,
        }
    )


@pytest.fixture
def adapter() -> NxteleAdapter:
    return NxteleAdapter(_account(), clock=lambda: EVENT_TIME)


def _callback(
    kind: str,
    body: Any,
    *,
    create_ts: str = str(EVENT_TS),
    request_id: str = "f" * 32,
    signed_request_id: str | None = None,
    drop: tuple[str, ...] = (),
    sign_case: Callable[[str], str] = str,
) -> InboundCallback:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    signature = sign(SAMPLE_SECRET_KEY, raw, create_ts, signed_request_id or request_id, SAMPLE_UUID)
    headers = {"requestid": request_id, "uuid": SAMPLE_UUID, "createts": create_ts, "sign": sign_case(signature)}
    return InboundCallback(
        kind=kind,
        body=raw,
        headers={k: v for k, v in headers.items() if k not in drop},
        query={},
        source_ip="8.219.10.20",
    )


def _order(call: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "orderID": "o-1",
        "userTaskID": "t-1",
        "finish": False,
        "other": json.dumps({"campaignId": "cmp-1", "contactId": "c1", "attempt": 1}),
    }
    if call is not None:
        body["callInfoDetail"] = {"callID": "call-1", **call}
    return body | fields


def _one(adapter: NxteleAdapter, call: dict[str, Any], kind: str = "call", **fields: Any) -> Any:
    [outcome] = adapter.parse_callback(_callback(kind, _order(call, **fields))).outcomes
    return outcome


def _refusal(adapter: NxteleAdapter, kind: str, body: Any) -> str:
    with pytest.raises(CallbackRejected) as rejected:
        adapter.parse_callback(_callback(kind, body))
    return str(rejected.value)


def _webhook_reply(adapter: NxteleAdapter, kind: str, body: Any) -> Reply:
    # Nothing is stored for a refused body, so no store is needed to see what NXTele is answered.
    return handle_callback(
        "nxtele",
        _callback(kind, body),
        StaticAdapters({"nxtele": adapter}),
        None,  # type: ignore[arg-type]
        EVENT_TIME,
        False,
    )


# --------------------------------------------------------------------------------------------- signing, ids
def test_signature_is_upper_case_md5_over_key_body_create_ts_request_id_and_uuid() -> None:
    raw = b'{"a": 1}'
    text = b"key&body=" + raw + b"&createTs=1700000000&requestID=r-1&uuid=u-1"
    assert sign("key", raw, "1700000000", "r-1", "u-1") == hashlib.md5(text).hexdigest().upper()
    assert sign("key", raw, "1700000000", "r-1", "u-1", "MD5") == hashlib.md5(text).hexdigest().upper()


@pytest.mark.parametrize("algorithm", ["SHA256", "sha256", "Sha256"])
def test_sha256_signature_is_chosen_whatever_the_algorithms_case(algorithm: str) -> None:
    raw = b'{"a": 1}'
    text = b"key&body=" + raw + b"&createTs=1700000000&requestID=r-1&uuid=u-1"
    assert sign("key", raw, "1700000000", "r-1", "u-1", algorithm) == hashlib.sha256(text).hexdigest().upper()


def test_bodies_are_serialised_as_json_dumps_defaults_with_utf8_text() -> None:
    payload = {"userName": "Siti Ra\u0125ma", "params": [{"name": "a", "value": "1"}], "n": 1}
    expected = '{"userName": "Siti Ra\u0125ma", "params": [{"name": "a", "value": "1"}], "n": 1}'
    assert serialise(payload) == expected.encode()


def test_user_task_id_is_the_uuid5_of_campaign_and_day() -> None:
    expected = uuid.uuid5(uuid.NAMESPACE_URL, "dialhub:nxtele:task:cmp-1:2026-11-25").hex
    assert user_task_id("cmp-1", dt.date(2026, 11, 25)) == expected


def test_order_id_is_the_uuid5_of_campaign_contact_and_attempt() -> None:
    expected = uuid.uuid5(uuid.NAMESPACE_URL, "dialhub:nxtele:order:cmp-1:c1:2").hex
    assert order_id("cmp-1", "c1", 2) == expected


@pytest.mark.parametrize(
    ("phone", "digits"),
    [
        ("+639171234567", "639171234567"),
        ("+63 (917) 123-4567", "639171234567"),
        ("", ""),
    ],
)
def test_phone_is_sent_as_its_digits(phone: str, digits: str) -> None:
    assert phone_digits(phone) == digits


# --------------------------------------------------------------------------------------------- a full outcome
def test_every_field_of_an_answered_call_is_read_into_the_outcome(adapter: NxteleAdapter) -> None:
    call = {
        "callStatus": 1,
        "callStartTs": EVENT_TS - 60,
        "callAnswerTs": EVENT_TS - 50,
        "callEndTs": EVENT_TS,
        "callDuration": 50,
        "callAudioUrl": "https://rec.nxcloud.com/a.mp3",
        "hangupCause": "NORMAL_CLEARING",
        "termSipCode": "200",
        "intents": [{"intentTag": "PTP", "intentName": "Janji bayar"}],
    }
    outcome = _one(
        adapter,
        call,
        kind="order",
        finish=True,
        other=json.dumps({"campaignId": "cmp-1", "contactId": "c1", "attempt": 2}),
    )
    assert (outcome.vendor, outcome.vendor_call_id, outcome.vendor_task_id) == ("nxtele", "call-1", "t-1")
    assert (outcome.campaign_id, outcome.contact_id, outcome.attempt) == ("cmp-1", "c1", 2)
    assert (outcome.status, outcome.disposition) == (CallStatus.ANSWERED, Disposition.PROMISE_TO_PAY)
    assert (outcome.vendor_code, outcome.vendor_description, outcome.vendor_status) == ("PTP", "Janji bayar", "1")
    assert outcome.started_at == dt.datetime(2026, 11, 25, 8, 59, tzinfo=dt.UTC)
    assert outcome.answered_at == dt.datetime(2026, 11, 25, 8, 59, 10, tzinfo=dt.UTC)
    assert outcome.ended_at == dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)
    assert outcome.duration_seconds == 50
    assert outcome.recording_url == "https://rec.nxcloud.com/a.mp3"
    assert outcome.variables == {
        "orderId": "o-1",
        "intents": [{"intentTag": "PTP", "intentName": "Janji bayar"}],
        "hangupCause": "NORMAL_CLEARING",
        "termSipCode": "200",
    }
    assert outcome.source == OutcomeSource.WEBHOOK
    assert outcome.closes_contact is True


def test_an_unanswered_call_keeps_only_its_order_id_and_line_details(adapter: NxteleAdapter) -> None:
    outcome = _one(adapter, {"callAnswerTs": 0, "callEndTs": EVENT_TS})
    assert outcome.variables == {"orderId": "o-1"}
    assert (outcome.vendor_code, outcome.vendor_description, outcome.recording_url) == (None, None, None)
    assert outcome.ended_at == EVENT_TIME and outcome.closes_contact is False
    cause_only = _one(adapter, {"hangupCause": "user_busy"})
    assert cause_only.variables == {"orderId": "o-1", "hangupCause": "user_busy"}
    assert cause_only.status == CallStatus.BUSY


def test_blank_texts_of_a_call_read_as_absent(adapter: NxteleAdapter) -> None:
    outcome = _one(adapter, {"callStatus": "", "callAudioUrl": "", "termSipCode": "", "hangupCause": ""}, userTaskID="")
    assert (outcome.vendor_status, outcome.recording_url, outcome.vendor_task_id) == (None, None, None)
    assert outcome.variables == {"orderId": "o-1"}


def test_intents_are_kept_without_their_empty_fields(adapter: NxteleAdapter) -> None:
    intents = [{"intentTag": "PTP"}, {"intentID": 7, "intentName": "Bayar", "intentLevel": "", "intentTag": None}]
    outcome = _one(adapter, {"callAnswerTs": EVENT_TS, "callDuration": 9, "intents": intents})
    assert outcome.variables["intents"] == [{"intentTag": "PTP"}, {"intentID": "7", "intentName": "Bayar"}]


# --------------------------------------------------------------------------------------------- our ids in `other`
@pytest.mark.parametrize(
    ("attempt", "read"),
    [
        (2, 2),
        (9, 9),
        (1, 1),
        (0, 1),
        (-1, 1),
        ("2", 1),
        (True, 1),
        (None, 1),
        (2.5, 1),
    ],
)
def test_attempt_is_our_echoed_positive_integer_else_one(adapter: NxteleAdapter, attempt: Any, read: int) -> None:
    outcome = _one(adapter, {}, other=json.dumps({"campaignId": "cmp-1", "attempt": attempt}))
    assert outcome.attempt == read


def test_attempt_is_one_when_not_echoed(adapter: NxteleAdapter) -> None:
    assert _one(adapter, {}, other=json.dumps({"campaignId": "cmp-1"})).attempt == 1
    assert _one(adapter, {}, other=None).attempt == 1


@pytest.mark.parametrize("other", ["[1, 2]", '"text"', "5", "{oops", "  ", "", None])
def test_other_that_is_not_a_json_object_carries_no_ids(adapter: NxteleAdapter, other: Any) -> None:
    outcome = _one(adapter, {}, other=other)
    assert (outcome.campaign_id, outcome.contact_id, outcome.attempt) == (None, None, 1)


def test_other_as_an_object_gives_our_ids_and_blank_ids_read_as_absent(adapter: NxteleAdapter) -> None:
    outcome = _one(adapter, {}, other={"campaignId": "cmp-7", "contactId": "k", "attempt": 4})
    assert (outcome.campaign_id, outcome.contact_id, outcome.attempt) == ("cmp-7", "k", 4)
    blank = _one(adapter, {}, other=json.dumps({"campaignId": "", "contactId": 0}))
    assert (blank.campaign_id, blank.contact_id) == (None, "0")
    absent = _one(adapter, {}, other=json.dumps({"attempt": 2}))
    assert (absent.campaign_id, absent.contact_id) == (None, None)


# --------------------------------------------------------------------------------------------- times
@pytest.mark.parametrize(
    ("value", "read"),
    [
        (0, None),
        (-5, None),
        (1, EPOCH + dt.timedelta(seconds=1)),
        (1.5, EPOCH + dt.timedelta(seconds=1.5)),
        (EVENT_TS, EVENT_TIME),
        (10**11, EPOCH + dt.timedelta(seconds=10**11)),  # the threshold itself is still seconds
        (10**11 + 1, EPOCH + dt.timedelta(seconds=100_000_000, milliseconds=1)),  # above it: milliseconds
        (EVENT_TS * 1000 + 250, EVENT_TIME + dt.timedelta(milliseconds=250)),
        (10**17, None),  # beyond the years a datetime holds
        ("", None),
    ],
)
def test_epoch_timestamps_are_seconds_up_to_10_to_the_11_then_milliseconds(
    adapter: NxteleAdapter, value: Any, read: dt.datetime | None
) -> None:
    outcome = _one(adapter, {"callStartTs": value, "callEndTs": value})
    assert (outcome.started_at, outcome.ended_at) == (read, read)


# --------------------------------------------------------------------------------------------- answered or not
@pytest.mark.parametrize(
    ("answer_ts", "duration", "status"),
    [
        (1, 1, CallStatus.ANSWERED),
        (EVENT_TS, 1, CallStatus.ANSWERED),
        (0, 30, CallStatus.NO_ANSWER),
        (None, 30, CallStatus.NO_ANSWER),
        ("", 30, CallStatus.NO_ANSWER),
        (-1, 30, CallStatus.NO_ANSWER),
        (EVENT_TS, 0, CallStatus.NO_ANSWER),
        (EVENT_TS, None, CallStatus.NO_ANSWER),
    ],
)
def test_a_call_is_answered_only_with_an_answer_time_and_a_duration_above_zero(
    adapter: NxteleAdapter, answer_ts: Any, duration: Any, status: CallStatus
) -> None:
    outcome = _one(adapter, {"callAnswerTs": answer_ts, "callDuration": duration})
    assert outcome.status == status
    assert outcome.disposition == (Disposition.UNKNOWN if status == CallStatus.ANSWERED else Disposition.NOT_CONNECTED)


def test_an_answered_call_ignores_its_sip_code_and_hangup_cause(adapter: NxteleAdapter) -> None:
    outcome = _one(adapter, {"callAnswerTs": 1, "callDuration": 1, "termSipCode": "486", "hangupCause": "USER_BUSY"})
    assert outcome.status == CallStatus.ANSWERED


def test_sip_code_wins_over_hangup_cause_and_both_are_read_trimmed(adapter: NxteleAdapter) -> None:
    assert _one(adapter, {"termSipCode": " 404 ", "hangupCause": "USER_BUSY"}).status == CallStatus.INVALID_NUMBER
    assert _one(adapter, {"termSipCode": "299", "hangupCause": " subscriber_absent "}).status == CallStatus.UNREACHABLE


# --------------------------------------------------------------------------------------------- intents
def _answered(adapter: NxteleAdapter, *intents: dict[str, Any]) -> tuple[Disposition, CallStatus, Any, Any]:
    outcome = _one(adapter, {"callAnswerTs": EVENT_TS, "callDuration": 9, "intents": list(intents)})
    return outcome.disposition, outcome.status, outcome.vendor_code, outcome.vendor_description


def test_a_known_intent_tag_gives_the_disposition_with_the_intents_name_as_description(adapter: NxteleAdapter) -> None:
    assert _answered(
        adapter, {"intentTag": "zzz", "intentName": "nope"}, {"intentTag": "REFUSE", "intentName": "Tolak"}
    ) == (Disposition.REFUSED_TO_PAY, CallStatus.ANSWERED, "REFUSE", "Tolak")


def test_a_known_intent_name_is_used_when_the_tag_is_unknown(adapter: NxteleAdapter) -> None:
    assert _answered(adapter, {"intentTag": "Q7", "intentName": "wrong number"}) == (
        Disposition.WRONG_PERSON,
        CallStatus.ANSWERED,
        "wrong number",
        "wrong number",
    )


def test_without_a_known_intent_the_first_intents_tag_or_name_is_the_code(adapter: NxteleAdapter) -> None:
    assert _answered(adapter, {"intentTag": "A1", "intentName": "n1"}, {"intentTag": "B2"}) == (
        Disposition.UNKNOWN,
        CallStatus.ANSWERED,
        "A1",
        "n1",
    )
    assert _answered(adapter, {"intentName": "Mystery"}, {"intentTag": "B2"}) == (
        Disposition.UNKNOWN,
        CallStatus.ANSWERED,
        "Mystery",
        "Mystery",
    )
    assert _answered(adapter, {}) == (Disposition.UNKNOWN, CallStatus.ANSWERED, None, None)


def test_a_voicemail_intent_makes_the_call_voicemail(adapter: NxteleAdapter) -> None:
    assert _answered(adapter, {"intentName": "voicemail"}) == (
        Disposition.VOICEMAIL,
        CallStatus.VOICEMAIL,
        "voicemail",
        "voicemail",
    )


# --------------------------------------------------------------------------------------------- callback kinds
def test_a_call_callback_closes_the_contact_when_its_order_is_finished(adapter: NxteleAdapter) -> None:
    assert _one(adapter, {}, kind="call", finish=True).closes_contact is True
    assert _one(adapter, {}, kind="order", finish=False).closes_contact is False


def test_an_unknown_callback_kind_is_a_key_error_naming_the_kind(adapter: NxteleAdapter) -> None:
    with pytest.raises(KeyError) as unknown:
        adapter.parse_callback(_callback("cdr", _order({})))
    assert unknown.value.args == ("cdr",)
    assert _webhook_reply(adapter, "cdr", _order({})) == Reply(404, {"message": "unknown callback kind"})


def test_a_task_callback_is_read_but_reports_nothing(adapter: NxteleAdapter) -> None:
    assert adapter.parse_callback(_callback("task", {"userTaskID": "t-1", "taskStatus": 3})) == OutcomeReport([])
    assert _refusal(adapter, "task", {"taskStatus": 3}) == "userTaskID: Field required"


def test_a_body_that_is_not_json_is_refused_with_the_readers_reason(adapter: NxteleAdapter) -> None:
    assert _refusal(adapter, "call", b"\xff\xfe") == "body: not UTF-8 text"
    assert _refusal(adapter, "order", b"{not json").startswith("body: not valid JSON (")
    reply = _webhook_reply(adapter, "call", b"\xff")
    assert reply == Reply(400, {"message": "malformed callback: body: not UTF-8 text"})


@pytest.mark.parametrize("kind", ["call", "order", "task"])
def test_a_body_that_is_not_an_object_is_refused_with_why(adapter: NxteleAdapter, kind: str) -> None:
    for body in ([1, 2], "text", 3):
        assert _refusal(adapter, kind, body) == "body must be a JSON object"
    reply = _webhook_reply(adapter, kind, [1])
    assert reply == Reply(400, {"message": "malformed callback: body must be a JSON object"})


def test_a_malformed_order_is_refused_naming_the_field(adapter: NxteleAdapter) -> None:
    assert _refusal(adapter, "call", {"finish": True}) == "orderID: Field required"
    assert _refusal(adapter, "order", _order() | {"callInfoDetail": {"callStatus": 1}}) == (
        "callInfoDetail.callID: Field required"
    )
    assert _webhook_reply(adapter, "order", {"finish": True}) == Reply(
        400, {"message": "malformed callback: orderID: Field required"}
    )


def test_a_call_callback_without_its_call_is_refused_with_why(adapter: NxteleAdapter) -> None:
    expected = "callInfoDetail: a call callback must carry the call"
    for call in ({}, "", None):
        assert _refusal(adapter, "call", _order() | {"callInfoDetail": call}) == expected
    assert _refusal(adapter, "call", _order()) == expected
    assert _webhook_reply(adapter, "call", _order()) == Reply(400, {"message": f"malformed callback: {expected}"})
    assert adapter.parse_callback(_callback("order", _order() | {"callInfoDetail": ""})) == OutcomeReport([])


def test_replies_are_nxteles_success_envelope(adapter: NxteleAdapter) -> None:
    ack = Reply(200, {"retCode": 0, "retMsg": "success"})
    assert adapter.predial_reply(True) == ack
    assert adapter.predial_reply(False) == ack
    assert adapter.acknowledge(_callback("task", {})) == ack


# --------------------------------------------------------------------------------------------- authentication
def test_a_callback_signed_as_sent_authenticates(adapter: NxteleAdapter) -> None:
    assert adapter.authenticate(_callback("call", _order({}))) is True


def test_a_signature_in_lower_case_hex_authenticates(adapter: NxteleAdapter) -> None:
    assert adapter.authenticate(_callback("call", _order({}), sign_case=str.lower)) is True


@pytest.mark.parametrize("signed_with", ["XXXX", "f" * 32, "None"])
def test_a_callback_without_its_request_id_is_refused_whatever_it_was_signed_with(
    adapter: NxteleAdapter, signed_with: str
) -> None:
    unsigned = _callback("call", _order({}), request_id=signed_with, drop=("requestid",))
    assert adapter.authenticate(unsigned) is False


def test_a_callback_signed_for_another_request_id_is_refused(adapter: NxteleAdapter) -> None:
    assert adapter.authenticate(_callback("call", _order({}), signed_request_id="0" * 32)) is False


@pytest.mark.parametrize(
    "create_ts", [f"{EVENT_TS}.0", f"+{EVENT_TS}", f" {EVENT_TS}", "-300", "soon", str(EVENT_TS * 1000)]
)
def test_a_create_ts_that_is_not_whole_seconds_near_now_is_refused(adapter: NxteleAdapter, create_ts: str) -> None:
    assert adapter.authenticate(_callback("call", _order({}), create_ts=create_ts)) is False


def test_the_accounts_clock_skew_bounds_a_callbacks_age() -> None:
    strict = NxteleAdapter(_account(maxClockSkewSeconds=10), clock=lambda: EVENT_TIME)
    for offset, trusted in ((-10, True), (10, True), (-11, False), (11, False), (0, True)):
        assert strict.authenticate(_callback("task", {"userTaskID": "t"}, create_ts=str(EVENT_TS + offset))) is trusted


def test_a_callback_from_a_source_outside_the_allowlist_is_refused_before_its_signature() -> None:
    guarded = NxteleAdapter(_account(ipAllowlist=["10.0.0.0/8"]), clock=lambda: EVENT_TIME)
    assert guarded.authenticate(_callback("call", _order({}))) is False
    inside = _callback("call", _order({}))
    assert guarded.authenticate(InboundCallback("call", inside.body, inside.headers, {}, "10.1.2.3")) is True


# --------------------------------------------------------------------------------------------- answers
def _answering(
    headers: Callable[[httpx.Request, bytes], dict[str, str]], content: bytes = b'{"retCode": 0}', status: int = 200
) -> NxteleAdapter:
    def respond(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=content, headers=headers(request, content))

    http = httpx.Client(base_url="http://nxtele.invalid", transport=httpx.MockTransport(respond))
    return NxteleAdapter(_account(), http=http, clock=lambda: EVENT_TIME)


def _signed(
    request: httpx.Request,
    content: bytes,
    *,
    create_ts: str | None = None,
    account_uuid: str = SAMPLE_UUID,
    request_id: str | None = None,
) -> dict[str, str]:
    ts = create_ts or request.headers["createTs"]
    rid = request_id or request.headers["requestID"]
    return {
        "requestID": rid,
        "uuid": account_uuid,
        "createTs": ts,
        "sign": sign(SAMPLE_SECRET_KEY, content, ts, rid, account_uuid),
    }


def _untrusted_because(adapter: NxteleAdapter) -> str:
    with pytest.raises(VendorUnavailable) as untrusted:
        adapter.control_task(TASK, TaskAction.PAUSE)
    return untrusted.value.reason


def test_a_signed_answer_verifies_and_its_signature_case_does_not_matter() -> None:
    assert _answering(_signed).control_task(TASK, TaskAction.PAUSE) is True
    lower = _answering(
        lambda request, content: _signed(request, content) | {"sign": _signed(request, content)["sign"].lower()}
    )
    assert lower.control_task(TASK, TaskAction.PAUSE) is True


def test_a_signed_answer_missing_its_create_ts_is_not_trusted() -> None:
    adapter = _answering(
        lambda request, content: {k: v for k, v in _signed(request, content).items() if k != "createTs"}
    )
    assert _untrusted_because(adapter) == "nxtele answer not trusted: signature headers missing"


def test_a_signed_answer_missing_its_request_id_is_not_trusted() -> None:
    adapter = _answering(
        lambda request, content: {k: v for k, v in _signed(request, content).items() if k != "requestID"}
    )
    assert _untrusted_because(adapter) == "nxtele answer not trusted: signature headers missing"


def test_a_signed_answer_from_another_account_is_not_trusted() -> None:
    adapter = _answering(lambda request, content: _signed(request, content, account_uuid="another-account"))
    assert _untrusted_because(adapter) == "nxtele answer not trusted: uuid is not this account's"


def test_a_stale_signed_answer_is_not_trusted() -> None:
    adapter = _answering(lambda request, content: _signed(request, content, create_ts=str(EVENT_TS - 301)))
    assert _untrusted_because(adapter) == "nxtele answer not trusted: createTs outside the allowed clock skew"


def test_a_signed_answer_for_another_request_is_not_trusted() -> None:
    adapter = _answering(lambda request, content: _signed(request, content, request_id="0" * 32))
    assert _untrusted_because(adapter) == "nxtele answer not trusted: answer is for another request"


def test_a_signed_answer_whose_signature_does_not_verify_is_not_trusted_and_names_nxtele() -> None:
    adapter = _answering(lambda request, content: _signed(request, content) | {"sign": "0" * 32})
    with pytest.raises(VendorUnavailable) as untrusted:
        adapter.control_task(TASK, TaskAction.PAUSE)
    assert untrusted.value.reason == "nxtele answer not trusted: signature does not verify"
    assert untrusted.value.vendor == "nxtele"


def test_a_success_given_as_text_must_verify_too() -> None:
    adapter = _answering(lambda request, content: _signed(request, content, account_uuid="x"), b'{"retCode": "0"}')
    assert _untrusted_because(adapter) == "nxtele answer not trusted: uuid is not this account's"


def test_a_signed_refusal_is_a_refusal_even_when_its_signature_is_wrong() -> None:
    adapter = _answering(
        lambda request, content: _signed(request, content, account_uuid="x"), b'{"retCode": 4, "retMsg": "bad task"}'
    )
    with pytest.raises(VendorRejected) as refused:
        adapter.control_task(TASK, TaskAction.PAUSE)
    assert refused.value.reason == "nxtele error 4: invalid parameter value: bad task"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"not json", "nxtele answered with a body that is not JSON"),
        (b"[0]", "nxtele answered with unexpected JSON"),
    ],
)
def test_a_signed_answer_that_is_not_a_json_object_is_unavailable(content: bytes, reason: str) -> None:
    assert _untrusted_because(_answering(_signed, content)) == reason

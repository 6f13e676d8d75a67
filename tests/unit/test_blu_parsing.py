"""Blu callbacks read precisely: every field of an outcome, the body shapes, the exact refusals, our echoed ids."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import time
from typing import Any

import pytest

from dialhub.dispositions import CallStatus, Disposition
from dialhub.models import OutcomeSource
from dialhub.vendors import StaticAdapters
from dialhub.vendors.base import CallbackRejected, InboundCallback, PredialQuestion, Reply
from dialhub.vendors.blu.adapter import BluAdapter, record_id
from dialhub.webhooks import handle_callback
from tests.conftest import WEBHOOK_TOKEN, blu_account

NOW = dt.datetime(2026, 11, 25, 3, 0, tzinfo=dt.UTC)


@pytest.fixture
def adapter() -> BluAdapter:
    return BluAdapter(blu_account("http://blu.invalid"))


def _callback(body: Any, kind: str = "") -> InboundCallback:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return InboundCallback(kind=kind, body=raw, headers={}, query={"token": WEBHOOK_TOKEN}, source_ip="47.100.10.20")


def _one(adapter: BluAdapter, item: dict[str, Any]) -> Any:
    [outcome] = adapter.parse_callback(_callback(item)).outcomes
    return outcome


def _refusal(adapter: BluAdapter, body: Any, kind: str = "") -> str:
    with pytest.raises(CallbackRejected) as rejected:
        adapter.parse_callback(_callback(body, kind))
    return str(rejected.value)


def _webhook_reply(adapter: BluAdapter, body: Any, kind: str = "") -> Reply:
    # Nothing is stored for a refused body, so no store is needed to see what Blu is answered.
    return handle_callback("blu", _callback(body, kind), StaticAdapters({"blu": adapter}), None, NOW, False)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------- record ids
def test_record_id_is_the_first_13_hex_digits_of_the_sha256_of_our_ids() -> None:
    digest = hashlib.sha256(b"cmp-1\x1fc1\x1f1").hexdigest()
    assert record_id("cmp-1", "c1", 1) == int(digest[:13], 16)
    assert record_id("cmp-1", "c1", 3) == int(hashlib.sha256(b"cmp-1\x1fc1\x1f3").hexdigest()[:13], 16)


# --------------------------------------------------------------------------------------------- a full outcome
def test_every_field_of_a_result_is_read_into_the_outcome(adapter: BluAdapter) -> None:
    item = {
        "callId": "991",
        "taskId": 66635573,
        "code": "PTP",
        "desc": "Promised",
        "status": 2,
        "startTime": "2026-11-25 10:00:00",
        "answerTime": "2026-11-25 10:00:07",
        "endTime": "2026-11-25 10:01:07",
        "duration": "60",
        "recordUrl": "https://bluapi.shanghu.ai/rec/991.mp3",
        "extVars": json.dumps({"campaignId": "cmp-1", "contactId": "c1", "attempt": 2, "orderId": 5}),
    }
    outcome = _one(adapter, item)
    assert (outcome.vendor, outcome.vendor_call_id, outcome.vendor_task_id) == ("blu", "991", "66635573")
    assert (outcome.campaign_id, outcome.contact_id, outcome.attempt) == ("cmp-1", "c1", 2)
    assert (outcome.status, outcome.disposition) == (CallStatus.ANSWERED, Disposition.PROMISE_TO_PAY)
    assert (outcome.vendor_code, outcome.vendor_description, outcome.vendor_status) == ("PTP", "Promised", "2")
    assert outcome.started_at == dt.datetime(2026, 11, 25, 2, 0, 0, tzinfo=dt.UTC)
    assert outcome.answered_at == dt.datetime(2026, 11, 25, 2, 0, 7, tzinfo=dt.UTC)
    assert outcome.ended_at == dt.datetime(2026, 11, 25, 2, 1, 7, tzinfo=dt.UTC)
    assert outcome.duration_seconds == 60
    assert outcome.recording_url == "https://bluapi.shanghu.ai/rec/991.mp3"
    assert outcome.variables == {}
    assert outcome.source == OutcomeSource.WEBHOOK


def test_blank_texts_read_as_absent_and_zero_reads_as_text(adapter: BluAdapter) -> None:
    blank = _one(adapter, {"callId": 4, "taskId": "", "code": "", "desc": "", "status": "", "recordUrl": ""})
    assert (blank.vendor_task_id, blank.vendor_code, blank.vendor_description) == (None, None, None)
    assert (blank.vendor_status, blank.recording_url) == (None, None)
    zero = _one(adapter, {"callId": 0, "taskId": 0, "status": 0, "desc": 0, "recordUrl": 0})
    assert (zero.vendor_call_id, zero.vendor_task_id, zero.vendor_status) == ("0", "0", "0")
    assert (zero.vendor_description, zero.recording_url) == ("0", "0")


def test_a_result_without_a_call_id_is_skipped(adapter: BluAdapter) -> None:
    body = [{"callId": "", "code": "PTP"}, {"code": "PTP"}, {"callId": None}, {"callId": "7", "code": "PTP"}]
    assert [o.vendor_call_id for o in adapter.parse_callback(_callback(body)).outcomes] == ["7"]


def test_times_are_utc_whatever_the_hosts_own_zone(adapter: BluAdapter) -> None:
    old = os.environ.get("TZ")
    os.environ["TZ"] = "America/New_York"
    time.tzset()
    try:
        outcome = _one(adapter, {"callId": 1, "code": "PTP", "startTime": "2026-11-25 10:00:05"})
    finally:
        if old is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = old
        time.tzset()
    assert outcome.started_at.isoformat() == "2026-11-25T02:00:05+00:00"


def test_times_are_read_in_the_accounts_own_zone() -> None:
    tokyo = BluAdapter(blu_account("http://blu.invalid", timezone="Asia/Tokyo"))
    outcome = _one(tokyo, {"callId": 1, "code": "PTP", "endTime": "2026-01-01 08:30:00"})
    assert outcome.ended_at == dt.datetime(2025, 12, 31, 23, 30, tzinfo=dt.UTC)


# --------------------------------------------------------------------------------------------- attempt
@pytest.mark.parametrize(
    ("attempt", "read"),
    [
        (2, 2),
        (7, 7),
        (1, 1),
        (0, 1),
        (-1, 1),
        ("2", 1),
        (True, 1),
        (None, 1),
        (2.0, 1),
    ],
)
def test_attempt_is_our_echoed_positive_integer_else_one(adapter: BluAdapter, attempt: Any, read: int) -> None:
    outcome = _one(adapter, {"callId": 1, "code": "PTP", "extVars": {"campaignId": "c", "attempt": attempt}})
    assert outcome.attempt == read


def test_attempt_is_one_when_not_echoed(adapter: BluAdapter) -> None:
    assert _one(adapter, {"callId": 1, "code": "PTP", "extVars": {"campaignId": "c"}}).attempt == 1
    assert _one(adapter, {"callId": 1, "code": "PTP"}).attempt == 1


# --------------------------------------------------------------------------------------------- our ids in extVars
@pytest.mark.parametrize("ext_vars", ["[1, 2]", '"text"', "7", "{oops", "   ", "", 5, ["campaignId"], None])
def test_ext_vars_that_are_not_a_json_object_carry_no_ids(adapter: BluAdapter, ext_vars: Any) -> None:
    outcome = _one(adapter, {"callId": 1, "code": "PTP", "extVars": ext_vars})
    assert (outcome.campaign_id, outcome.contact_id, outcome.attempt) == (None, None, 1)


def test_ext_vars_as_json_text_or_object_give_the_same_ids(adapter: BluAdapter) -> None:
    ours = {"campaignId": "cmp-9", "contactId": "k-1", "attempt": 3}
    as_text = _one(adapter, {"callId": 1, "code": "PTP", "extVars": json.dumps(ours)})
    as_object = _one(adapter, {"callId": 1, "code": "PTP", "extVars": ours})
    for outcome in (as_text, as_object):
        assert (outcome.campaign_id, outcome.contact_id, outcome.attempt) == ("cmp-9", "k-1", 3)


def test_blank_ids_in_ext_vars_read_as_absent(adapter: BluAdapter) -> None:
    outcome = _one(adapter, {"callId": 1, "code": "PTP", "extVars": {"campaignId": "", "contactId": 0}})
    assert (outcome.campaign_id, outcome.contact_id) == (None, "0")


# --------------------------------------------------------------------------------------------- status
@pytest.mark.parametrize(
    ("item", "status"),
    [
        ({"answerTime": "", "duration": 0}, CallStatus.NO_ANSWER),
        ({}, CallStatus.NO_ANSWER),
        ({"answerTime": "2026-11-25 10:00:05"}, CallStatus.ANSWERED),
        ({"answerTime": "2026-11-25 10:00:05", "duration": 0}, CallStatus.ANSWERED),
        ({"duration": 12}, CallStatus.ANSWERED),
        ({"answerTime": "", "duration": "12"}, CallStatus.ANSWERED),
        ({"answerTime": "not a time", "duration": 0}, CallStatus.NO_ANSWER),
    ],
)
@pytest.mark.parametrize("code", ["undefined", "NAN", None])
def test_a_code_without_a_line_status_is_answered_when_answered_at_or_duration_says_so(
    adapter: BluAdapter, code: str | None, item: dict[str, Any], status: CallStatus
) -> None:
    outcome = _one(adapter, {"callId": 1, "code": code, **item})
    assert (outcome.status, outcome.disposition) == (status, Disposition.UNKNOWN)


def test_a_codes_own_line_status_wins_over_answer_time_and_duration(adapter: BluAdapter) -> None:
    outcome = _one(adapter, {"callId": 1, "code": "Busy", "answerTime": "2026-11-25 10:00:05", "duration": 30})
    assert (outcome.status, outcome.disposition) == (CallStatus.BUSY, Disposition.NOT_CONNECTED)
    assert outcome.answered_at == dt.datetime(2026, 11, 25, 2, 0, 5, tzinfo=dt.UTC)


# --------------------------------------------------------------------------------------------- slots
def test_slots_and_their_payment_window_are_kept_with_the_window_in_utc(adapter: BluAdapter) -> None:
    slots = {"paymentTime": ["2026-11-26 00:00:00", "2026-11-30 23:59:59"], "amount": "1500"}
    outcome = _one(adapter, {"callId": 1, "code": "PTP", "slots": json.dumps(slots)})
    assert outcome.variables == {
        "slots": slots,
        "paymentWindowUtc": ["2026-11-25T16:00:00+00:00", "2026-11-30T15:59:59+00:00"],
    }


@pytest.mark.parametrize(
    "window",
    [
        ["2026-11-26 00:00:00", "someday"],
        ["2026-11-26 00:00:00"],
        "2026-11-26 00:00:00",
        ["2026-11-26 00:00:00", "2026-11-27 00:00:00", "2026-11-28 00:00:00"],
    ],
)
def test_a_payment_window_that_is_not_two_times_is_kept_only_as_a_slot(adapter: BluAdapter, window: Any) -> None:
    outcome = _one(adapter, {"callId": 1, "code": "PTP", "slots": {"paymentTime": window}})
    assert outcome.variables == {"slots": {"paymentTime": window}}


@pytest.mark.parametrize("slots", ["[1, 2]", "{oops", "", {}, [{"a": 1}], 3])
def test_slots_that_are_not_a_json_object_are_left_out(adapter: BluAdapter, slots: Any) -> None:
    assert _one(adapter, {"callId": 1, "code": "PTP", "slots": slots}).variables == {}


# --------------------------------------------------------------------------------------------- body shapes
def test_a_data_wrapper_holding_one_object_is_one_result(adapter: BluAdapter) -> None:
    body = {"code": 2000, "data": {"callId": "55", "code": "D01", "extVars": {"campaignId": "c", "contactId": "k"}}}
    [outcome] = adapter.parse_callback(_callback(body)).outcomes
    assert (outcome.vendor_call_id, outcome.status, outcome.contact_id) == ("55", CallStatus.BUSY, "k")


def test_a_data_wrapper_holding_a_list_is_one_result_each(adapter: BluAdapter) -> None:
    body = {"data": [{"callId": "1", "code": "PTP"}, {"callId": "2", "code": "LMS"}]}
    outcomes = adapter.parse_callback(_callback(body)).outcomes
    assert [(o.vendor_call_id, o.status) for o in outcomes] == [("1", CallStatus.ANSWERED), ("2", CallStatus.VOICEMAIL)]


def test_records_with_call_ids_are_results(adapter: BluAdapter) -> None:
    body = {"taskId": 5, "records": [{"callId": "8", "code": "D03", "taskId": 5}, {"id": 9}]}
    [outcome] = adapter.parse_callback(_callback(body)).outcomes
    assert (outcome.vendor_call_id, outcome.status, outcome.vendor_task_id) == ("8", CallStatus.INVALID_NUMBER, "5")


def test_a_body_with_no_call_result_is_refused_with_what_was_expected(adapter: BluAdapter) -> None:
    expected = "no call result in body: expected callId, data[] or records[]"
    for body in ({"hello": 1}, {"data": "x"}, {"records": {}}, "text", 7):
        assert _refusal(adapter, body) == expected
    assert _webhook_reply(adapter, {"hello": 1}) == Reply(400, {"message": f"malformed callback: {expected}"})


def test_a_result_that_is_not_an_object_is_refused_with_why(adapter: BluAdapter) -> None:
    expected = "every call result must be a JSON object"
    for body in ([1, 2], [{"callId": 1}, "x"], {"data": [3]}, {"records": [None]}):
        assert _refusal(adapter, body) == expected
    assert _webhook_reply(adapter, [1]) == Reply(400, {"message": f"malformed callback: {expected}"})


def test_a_body_that_is_not_json_is_refused_with_the_readers_reason(adapter: BluAdapter) -> None:
    assert _refusal(adapter, b"\xff\xfe") == "body: not UTF-8 text"
    assert _refusal(adapter, b"{not json").startswith("body: not valid JSON (")
    assert _refusal(adapter, b"[1e999]") == "body.0: number is out of the range that can be stored (1e-130 to 1e126)"
    assert _webhook_reply(adapter, b"\xff") == Reply(400, {"message": "malformed callback: body: not UTF-8 text"})
    assert _refusal(adapter, b"\xff", kind="predial") == "body: not UTF-8 text"


def test_an_unknown_callback_kind_is_a_key_error_naming_the_kind(adapter: BluAdapter) -> None:
    with pytest.raises(KeyError) as unknown:
        adapter.parse_callback(_callback({"callId": 1}, kind="cdr"))
    assert unknown.value.args == ("cdr",)
    assert _webhook_reply(adapter, {"callId": 1}, kind="cdr") == Reply(404, {"message": "unknown callback kind"})


# --------------------------------------------------------------------------------------------- pre-dial
def test_predial_asks_about_the_first_record(adapter: BluAdapter) -> None:
    body = {
        "taskId": 1,
        "extVars": {"campaignId": "body", "contactId": "body"},
        "records": [
            {"id": 1, "extVars": json.dumps({"campaignId": "cmp-1", "contactId": "first"})},
            {"id": 2, "extVars": json.dumps({"campaignId": "cmp-1", "contactId": "second"})},
        ],
    }
    assert adapter.parse_callback(_callback(body, kind="predial")) == PredialQuestion("cmp-1", "first")


def test_predial_with_one_record_asks_about_it(adapter: BluAdapter) -> None:
    body = {"records": [{"extVars": {"campaignId": "cmp-1", "contactId": "only"}}]}
    assert adapter.parse_callback(_callback(body, kind="predial")) == PredialQuestion("cmp-1", "only")


@pytest.mark.parametrize("records", [[], ["text"], [None, {"extVars": {"campaignId": "x", "contactId": "y"}}], "x"])
def test_predial_without_a_readable_first_record_reads_the_body(adapter: BluAdapter, records: Any) -> None:
    body = {"records": records, "extVars": {"campaignId": "cmp-1", "contactId": "from-body"}}
    assert adapter.parse_callback(_callback(body, kind="predial")) == PredialQuestion("cmp-1", "from-body")


def test_predial_ext_vars_that_are_not_an_object_ask_about_nobody(adapter: BluAdapter) -> None:
    body = {"records": [{"extVars": "[1]"}]}
    assert adapter.parse_callback(_callback(body, kind="predial")) == PredialQuestion(None, None)


def test_predial_body_that_is_not_an_object_is_refused_with_why(adapter: BluAdapter) -> None:
    expected = "pre-dial body must be a JSON object"
    for body in ([{"extVars": {}}], "text", 3):
        assert _refusal(adapter, body, kind="predial") == expected
    assert _webhook_reply(adapter, [1], kind="predial") == Reply(400, {"message": f"malformed callback: {expected}"})


def test_predial_replies_are_blus_call_and_cancel_answers(adapter: BluAdapter) -> None:
    assert adapter.predial_reply(True) == Reply(200, {"code": 1, "message": "Call"})
    assert adapter.predial_reply(False) == Reply(200, {"code": 0, "message": "Cancel call"})
    assert adapter.acknowledge(_callback({})) == Reply(200, {"code": 200, "message": "success"})

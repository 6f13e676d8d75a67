"""Blu adapter without the network: signing, record ids, callback shapes, code mapping, times."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from dialhub.dispositions import CallStatus, Disposition
from dialhub.models import Contact
from dialhub.vendors.base import CallbackRejected, InboundCallback, OutcomeReport, PredialQuestion
from dialhub.vendors.blu.adapter import BluAdapter, record_id
from dialhub.vendors.blu.codes import CODES, UPLOAD_LIMIT
from dialhub.vendors.blu.wire import sign
from tests.conftest import WEBHOOK_TOKEN, blu_account, load_event


@pytest.fixture
def adapter() -> BluAdapter:
    return BluAdapter(blu_account("http://blu.invalid"))


def _callback(body: Any, kind: str = "", token: str = WEBHOOK_TOKEN, ip: str = "47.100.10.20") -> InboundCallback:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return InboundCallback(kind=kind, body=raw, headers={}, query={"token": token}, source_ip=ip)


def test_signature_matches_the_documented_formula() -> None:
    # Computed from sha256(appId + appKey + timeStamp) as blu.md documents it.
    assert sign("10001", "demoAppKey", "1626856869046") == (
        "18b411574da4fb475e2ed5a363d792a96848894428089675bfaa0549f952f4da"
    )


def test_headers_carry_millisecond_timestamp_and_fresh_signature() -> None:
    fixed = dt.datetime(2026, 11, 25, 1, 2, 3, 456000, tzinfo=dt.UTC)
    adapter = BluAdapter(blu_account("http://blu.invalid"), clock=lambda: fixed)
    headers = adapter._headers()
    assert headers["timeStamp"] == "1795568523456" and len(headers["timeStamp"]) == 13
    assert headers["sign"] == sign("10001", "test-app-key-0123456789", headers["timeStamp"])


def test_record_ids_are_deterministic_numbers_per_attempt() -> None:
    first = record_id("cmp", "c1", 1)
    assert first == record_id("cmp", "c1", 1)
    assert first != record_id("cmp", "c1", 2) != record_id("cmp", "c2", 1)
    assert 0 < first < 2**53


def test_today_is_the_accounts_local_day() -> None:
    late_utc = dt.datetime(2026, 11, 25, 17, 0, tzinfo=dt.UTC)  # already the 26th in Manila
    adapter = BluAdapter(blu_account("http://blu.invalid"), clock=lambda: late_utc)
    assert adapter.today() == dt.date(2026, 11, 26)


def test_result_callback_is_normalised(adapter: BluAdapter) -> None:
    parsed = adapter.parse_callback(_callback(json.loads(load_event("webhooks/blu_result.json")["body"])))
    assert isinstance(parsed, OutcomeReport)
    [outcome] = parsed.outcomes
    assert (outcome.vendor, outcome.vendor_call_id, outcome.vendor_task_id) == ("blu", "123654789", "66635573")
    assert (outcome.campaign_id, outcome.contact_id, outcome.attempt) == ("cmp-demo-1", "loan-10001", 1)
    assert outcome.status == CallStatus.ANSWERED and outcome.disposition == Disposition.PROMISE_TO_PAY
    assert (outcome.vendor_code, outcome.vendor_description, outcome.vendor_status) == (
        "PTP",
        "Promised to payback",
        "2",
    )
    assert outcome.answered_at == dt.datetime(2026, 11, 25, 2, 0, 10, tzinfo=dt.UTC)
    assert outcome.duration_seconds == 40
    assert outcome.variables["slots"]["paymentTime"][0] == "2026-11-26 00:00:00"


def test_all_callback_shapes_parse(adapter: BluAdapter) -> None:
    wrapper = json.loads(load_event("webhooks/blu_result_data_wrapper.json")["body"])
    [outcome] = adapter.parse_callback(_callback(wrapper)).outcomes
    assert outcome.status == CallStatus.UNREACHABLE and outcome.answered_at is None
    bare_list = adapter.parse_callback(_callback(wrapper["data"])).outcomes
    assert [o.vendor_call_id for o in bare_list] == ["123654790"]
    placeholder = json.loads(load_event("webhooks/blu_result_records_placeholder.json")["body"])
    parsed = adapter.parse_callback(_callback(placeholder))
    assert isinstance(parsed, OutcomeReport) and (parsed.outcomes, parsed.unread) == ([], 1)  # answered 422
    as_object = dict(wrapper["data"][0], extVars={"campaignId": "x", "contactId": "y"}, taskId="5573")
    [outcome] = adapter.parse_callback(_callback(as_object)).outcomes
    assert (outcome.campaign_id, outcome.contact_id, outcome.vendor_task_id) == ("x", "y", "5573")


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"\xff\xfe",
        json.dumps({"hello": 1}).encode(),
        json.dumps([1, 2]).encode(),
        json.dumps("text").encode(),
    ],
)
def test_unreadable_callbacks_are_rejected(adapter: BluAdapter, body: bytes) -> None:
    with pytest.raises(CallbackRejected):
        adapter.parse_callback(_callback(body))


def test_authentication_needs_the_token_and_an_allowed_source() -> None:
    adapter = BluAdapter(blu_account("http://blu.invalid", ipAllowlist=["47.100.0.0/16"]))
    assert adapter.authenticate(_callback({}))
    assert not adapter.authenticate(_callback({}, token="nope"))
    assert not adapter.authenticate(_callback({}, token=""))
    assert not adapter.authenticate(_callback({}, ip="198.51.100.1"))
    assert not adapter.authenticate(_callback({}, ip="not-an-ip"))


def test_predial_question_finds_our_ids_in_extvars(adapter: BluAdapter) -> None:
    body = json.loads(load_event("webhooks/blu_predial.json")["body"])
    assert adapter.parse_callback(_callback(body, kind="predial")) == PredialQuestion("cmp-demo-1", "loan-10001")
    assert adapter.parse_callback(_callback({"taskId": 1}, kind="predial")) == PredialQuestion(None, None)
    assert adapter.predial_reply(False).body == {"code": 0, "message": "Cancel call"}
    assert adapter.predial_reply(True).body["code"] == 1


@pytest.mark.parametrize(
    ("code", "status", "disposition"),
    [
        ("PTP", CallStatus.ANSWERED, Disposition.PROMISE_TO_PAY),
        ("HPTP", CallStatus.ANSWERED, Disposition.PROMISE_TO_PAY_NO_DATE),
        ("AP", CallStatus.ANSWERED, Disposition.ALREADY_PAID),
        ("NotOneself", CallStatus.ANSWERED, Disposition.WRONG_PERSON),
        ("LMS", CallStatus.VOICEMAIL, Disposition.VOICEMAIL),
        ("Busy", CallStatus.BUSY, Disposition.NOT_CONNECTED),
        ("D01", CallStatus.BUSY, Disposition.NOT_CONNECTED),
        ("D03", CallStatus.INVALID_NUMBER, Disposition.NOT_CONNECTED),
        ("D91", CallStatus.UNREACHABLE, Disposition.NOT_CONNECTED),
        ("D99", CallStatus.ANSWERED, Disposition.UNKNOWN),
        ("Taskcancel", CallStatus.CANCELLED, Disposition.CANCELLED),
        ("Complan", CallStatus.ANSWERED, Disposition.DO_NOT_CALL),
    ],
)
def test_conclusion_and_line_status_codes_map_into_the_canonical_outcome(
    adapter: BluAdapter, code: str, status: CallStatus, disposition: Disposition
) -> None:
    item = {"callId": 1, "code": code, "answerTime": "", "duration": 0}
    [outcome] = adapter.parse_callback(_callback(item)).outcomes
    assert (outcome.status, outcome.disposition, outcome.vendor_code) == (status, disposition, code)
    assert outcome.final


def test_unknown_code_maps_to_unknown_and_is_counted(adapter: BluAdapter, monkeypatch: Any) -> None:
    counted: list[tuple[str, dict[str, str]]] = []
    monkeypatch.setattr("dialhub.dispositions.count_metric", lambda name, **dims: counted.append((name, dims)))
    item = {"callId": 2, "code": "XYZ1", "desc": "Vendor custom", "answerTime": "2026-11-25 10:00:05", "duration": 12}
    [outcome] = adapter.parse_callback(_callback(item)).outcomes
    assert outcome.disposition == Disposition.UNKNOWN and outcome.status == CallStatus.ANSWERED
    assert outcome.vendor_code == "XYZ1" and outcome.vendor_description == "Vendor custom"
    assert counted == [("UnknownVendorCode", {"vendor": "blu"})]


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("2026-11-25 10:00:05", "2026-11-25T02:00:05+00:00"),  # the account's zone is Asia/Manila, UTC+8
        (" 2026-1-5 3:04:05 ", "2026-01-04T19:04:05+00:00"),  # unpadded fields, as strptime reads them
        ("2026-02-30 10:00:00", None),
        ("2026-11-25 24:00:00", None),
        ("2026-11-25T10:00:05", None),
        ("2026-11-25", None),
        ("", None),
        ("soon", None),
    ],
)
def test_wall_clock_times_are_read_in_the_account_zone(adapter: BluAdapter, text: str, utc: str | None) -> None:
    item = {"callId": 3, "code": "PTP", "startTime": text}
    [outcome] = adapter.parse_callback(_callback(item)).outcomes
    assert (outcome.started_at.isoformat() if outcome.started_at else None) == utc


def test_every_table_code_is_known() -> None:
    assert all(code in CODES for code in ("PTP", "ptp", "D00", "NAN", "undefined"))


def test_emoji_in_name_or_variables_is_refused_before_any_vendor_call() -> None:
    base = {"campaign_id": "c", "contact_id": "x", "phone": "+639171234567"}
    assert BluAdapter.contact_problem(Contact(**base, name="Maria Santos"), {}) is None
    assert BluAdapter.contact_problem(Contact(**base, name="Ana \N{GRINNING FACE}"), {})
    assert BluAdapter.contact_problem(Contact(**base, variables={"note": "\N{BLACK STAR}"}), {})


def test_options_need_a_bot(adapter: BluAdapter) -> None:
    assert BluAdapter.validate_options({"botId": 5}) == {"botId": 5}
    with pytest.raises(ValueError, match="botId"):
        BluAdapter.validate_options({})


def test_upload_is_limited_to_200_records(adapter: BluAdapter) -> None:
    assert UPLOAD_LIMIT == BluAdapter.batch_limit == 200

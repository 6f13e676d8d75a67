"""AIRudder adapter, the small readers under its parsing and signing: answer envelopes (code, success, message),
Comments, TaskNames, tolerant field reads, times, encrypted bodies, callback shapes and the raw fields kept on an
outcome. No HTTP: helpers and callbacks are called directly."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest

from dialhub.dispositions import CallStatus, Disposition
from dialhub.models import OutcomeSource
from dialhub.vendors.airudder import adapter as adapter_module
from dialhub.vendors.airudder import wire
from dialhub.vendors.airudder.adapter import AirudderAdapter
from dialhub.vendors.airudder.crypto import decrypt_body, encrypted_text
from dialhub.vendors.airudder.wire import (
    MAX_PLAUSIBLE_NUMBER,
    RAW_TEXT_LIMIT,
    Fields,
    callback_items,
    code_of,
    message_of,
    raw_without_pii,
    refusal,
    split_comments,
    succeeded,
    task_name,
    task_prefix,
)
from dialhub.vendors.base import CallbackRejected, InboundCallback, OutcomeReport, Reply, VendorRejected
from local.simulators.airudder import encrypt_body
from tests.unit.test_airudder_adapter import AES_IV, AES_KEY, _callback, account

UTC = dt.UTC
ROW = {"TaskID": "t-1", "CallID": "call-1", "Comments": "cmp-1|c-1"}


def _encrypting() -> AirudderAdapter:
    return AirudderAdapter(account(encryptCallbacks=True, aesKey=AES_KEY, aesIv=AES_IV))


def _rejection(adapter: AirudderAdapter, body: Any, kind: str = "call") -> str:
    with pytest.raises(CallbackRejected) as caught:
        adapter.parse_callback(_callback(body, kind=kind))
    return str(caught.value)


# --------------------------------------------------------------------------- answer envelopes
@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"code": 200}, 200),
        ({"code": 0}, 0),
        ({"code": "200"}, 200),
        ({"code": " 200 "}, 200),
        ({"code": "-1"}, -1),
        ({"code": " -1 "}, -1),
        ({"code": "10508"}, 10508),
        ({"code": True}, None),
        ({"code": False}, None),
        ({"code": None}, None),
        ({}, None),
        ({"code": ""}, None),
        ({"code": "abc"}, None),
        ({"code": "12a"}, None),
        ({"code": "--1"}, None),  # not a number (it used to crash the request with a ValueError)
        ({"code": "\u00b2"}, None),  # a digit to str.isdigit, not to int()
        ({"code": "1-2"}, None),
    ],
)
def test_the_answer_code_is_read_from_numbers_and_numeric_text_only(payload: dict[str, Any], code: int | None) -> None:
    assert code_of(payload) == code


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"code": 200}, True),
        ({"code": 0}, True),
        ({"code": "200"}, True),
        ({"code": " 0 "}, True),
        ({"code": 10508, "status": "OK"}, False),  # a code decides, whatever the status says
        ({"code": "-1", "status": "OK"}, False),
        ({"status": "OK"}, True),  # no code: the status decides
        ({"status": "ok"}, True),
        ({"code": "abc", "status": "Ok"}, True),
        ({"status": "Failed"}, False),
        ({"status": ""}, False),
        ({}, False),
    ],
)
def test_success_is_code_200_or_0_and_without_a_code_status_ok(payload: dict[str, Any], expected: bool) -> None:
    assert succeeded(payload) is expected


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"message": "m", "msg": "g", "error": "e", "status": "s"}, "m"),
        ({"msg": "g", "error": "e", "status": "s"}, "g"),
        ({"error": "e", "status": "s"}, "e"),
        ({"status": "Failed"}, "Failed"),
        ({"message": "  ", "msg": " padded "}, "padded"),
        ({"message": 5, "error": "not a number"}, "not a number"),
        ({"message": "OK", "status": "Failed"}, "Failed"),
        ({"message": "ok", "msg": " Ok "}, None),
        ({"status": "OK"}, None),
        ({}, None),
    ],
)
def test_the_message_is_the_first_text_of_message_msg_error_status_and_never_ok(
    payload: dict[str, Any], message: str | None
) -> None:
    assert message_of(payload) == message


def test_a_refusal_explains_the_code_with_the_vendors_message() -> None:
    unknown = refusal({"code": "19999", "msg": "odd thing"})
    assert isinstance(unknown, VendorRejected)
    assert (unknown.code, unknown.message) == (19999, "unknown AIRudder error (odd thing)")
    assert refusal({"code": 10506, "status": "OK"}).message == "task not found"  # "OK" adds nothing
    assert refusal({"code": 10506, "error": "gone"}).message == "task not found (gone)"


# --------------------------------------------------------------------------- Comments and TaskNames
@pytest.mark.parametrize(
    ("comments", "parts"),
    [
        (None, (None, None)),
        ("", (None, None)),
        ("   ", (None, None)),
        ("loan-1", (None, "loan-1")),
        ("cmp-1|loan-1", ("cmp-1", "loan-1")),
        (" cmp-1 | loan-1 ", ("cmp-1", "loan-1")),
        ("|loan-1", (None, "loan-1")),
        ("cmp-1|", ("cmp-1", None)),
        ("cmp-1|a|b", ("cmp-1", "a|b")),  # campaign ids never hold "|": the first one ends the campaign
    ],
)
def test_comments_split_into_campaign_and_contact(comments: str | None, parts: tuple[str | None, str | None]) -> None:
    assert split_comments(comments) == parts


def test_task_name_is_the_prefix_and_16_hex_digits_and_never_changes() -> None:
    """A chunk retried after a deploy must meet its earlier task (10508): the name of a key may never change."""
    day = dt.date(2026, 11, 25)
    name = task_name("cmp-1", day, "cmp-1:2026-11-25:abc#0")
    assert name == "dh_cmp1_20261125_d36a9a61_eee58c67b0c98fff"
    long_name = task_name("campaign_0123456789abcdef", day, "k#0")
    assert re.fullmatch(re.escape(task_prefix("campaign_0123456789abcdef", day)) + "_[0-9a-f]{16}", long_name)
    assert len(long_name) == 54


def test_a_task_name_exactly_at_the_limit_is_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    day = dt.date(2026, 11, 25)
    name = task_name("cmp-1", day, "k#0")
    monkeypatch.setattr(wire, "TASK_NAME_LIMIT", len(name))
    assert task_name("cmp-1", day, "k#0") == name
    monkeypatch.setattr(wire, "TASK_NAME_LIMIT", len(name) - 1)
    with pytest.raises(AssertionError):
        task_name("cmp-1", day, "k#0")


# --------------------------------------------------------------------------- tolerant field reads
def test_a_field_given_empty_or_null_falls_through_to_the_next_name() -> None:
    fields = Fields({"a": "", "b": None, "c": 0, "d": "x"})
    assert fields.get("a", "b", "c") == 0  # zero is a value, only "" and null are skipped
    assert fields.get("a", "b", "d") == "x"
    assert fields.get("a", "b") is None
    assert fields.text("a", "b", "d") == "x"


def test_an_empty_call_id_gives_way_to_the_call_uuid() -> None:
    outcome = AirudderAdapter(account())._outcome(ROW | {"CallID": "", "CallUUID": "u-9"}, OutcomeSource.WEBHOOK)
    assert outcome is not None and outcome.vendor_call_id == "u-9"


@pytest.mark.parametrize(
    ("value", "number"),
    [
        (41, 41),
        (41.9, 41),
        ("41", 41),
        (" 41.5 ", 41),
        ("-3", -3),
        (MAX_PLAUSIBLE_NUMBER - 1, MAX_PLAUSIBLE_NUMBER - 1),
        (-(MAX_PLAUSIBLE_NUMBER - 1), -(MAX_PLAUSIBLE_NUMBER - 1)),
        (MAX_PLAUSIBLE_NUMBER, None),
        (-MAX_PLAUSIBLE_NUMBER, None),
        (float(MAX_PLAUSIBLE_NUMBER), None),
        (str(MAX_PLAUSIBLE_NUMBER), None),
        (True, None),
        (False, None),
        ("abc", None),
        ("nan", None),
        ("inf", None),
        ([1], None),
        ("", None),
        (None, None),
    ],
)
def test_numbers_are_whole_finite_and_below_the_plausible_limit(value: Any, number: int | None) -> None:
    assert Fields({"Duration": value}).number("Duration") == number


# --------------------------------------------------------------------------- times
@pytest.mark.parametrize(
    ("value", "moment"),
    [
        (1_764_036_010, dt.datetime(2025, 11, 25, 2, 0, 10, tzinfo=UTC)),  # epoch seconds
        (1_764_036_010_000, dt.datetime(2025, 11, 25, 2, 0, 10, tzinfo=UTC)),  # epoch milliseconds
        (1_764_036_010.5, dt.datetime(2025, 11, 25, 2, 0, 10, 500_000, tzinfo=UTC)),
        (1_000_000_000, None),  # up to 1e9 a number is not a time
        (1_000_000_001, dt.datetime(2001, 9, 9, 1, 46, 41, tzinfo=UTC)),
        (100_000_000_000, dt.datetime(5138, 11, 16, 9, 46, 40, tzinfo=UTC)),  # up to 1e11: seconds
        (100_000_000_001, dt.datetime(1973, 3, 3, 9, 46, 40, 1_000, tzinfo=UTC)),  # above: milliseconds
        (10**20, None),  # beyond any year a datetime holds
        (True, None),
        (5, None),
        ("2026-11-25 10:00:10", dt.datetime(2026, 11, 25, 2, 0, 10, tzinfo=UTC)),  # naive: the account's zone
        (" 2026-11-25 10:00:10 ", dt.datetime(2026, 11, 25, 2, 0, 10, tzinfo=UTC)),
        ("2026-11-25T10:00:10", dt.datetime(2026, 11, 25, 2, 0, 10, tzinfo=UTC)),
        ("2026-11-25T02:00:10Z", dt.datetime(2026, 11, 25, 2, 0, 10, tzinfo=UTC)),
        ("2026-11-25T02:00:10+00:00", dt.datetime(2026, 11, 25, 2, 0, 10, tzinfo=UTC)),
        ("2026-11-25T04:00:10+02:00", dt.datetime(2026, 11, 25, 2, 0, 10, tzinfo=UTC)),
        ("0000-00-00 00:00:00", None),
        ("", None),
        ("   ", None),
        ("yesterday", None),
        (None, None),
    ],
)
def test_times_are_read_from_epochs_and_text_into_utc(value: Any, moment: dt.datetime | None) -> None:
    read = AirudderAdapter(account())._time(value)
    assert read == moment
    if moment is not None:
        assert read is not None and read.tzinfo is UTC


def test_naive_times_are_read_in_the_accounts_time_zone() -> None:
    adapter = AirudderAdapter(account(timezone="Asia/Jakarta"))
    assert adapter._time("2026-11-25 10:00:00") == dt.datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
    assert adapter._time("2026-11-25T10:00:00Z") == dt.datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def test_an_epoch_answer_time_lands_on_the_outcome() -> None:
    outcome = AirudderAdapter(account())._outcome(ROW | {"AnswerTime": 1_764_036_010_000}, OutcomeSource.POLL)
    assert outcome is not None
    assert (outcome.answered_at, outcome.status) == (
        dt.datetime(2025, 11, 25, 2, 0, 10, tzinfo=UTC),
        CallStatus.ANSWERED,
    )


@pytest.mark.parametrize(
    ("row", "source", "status", "disposition"),
    [
        ({"Duration": 1}, OutcomeSource.POLL, CallStatus.ANSWERED, Disposition.UNKNOWN),
        ({"Duration": "1"}, OutcomeSource.WEBHOOK, CallStatus.ANSWERED, Disposition.UNKNOWN),
        ({"Duration": -3}, OutcomeSource.POLL, CallStatus.QUEUED, Disposition.UNKNOWN),
        ({"Duration": 0}, OutcomeSource.POLL, CallStatus.QUEUED, Disposition.UNKNOWN),
        ({"ConnectTime": "2026-11-25 10:00:10"}, OutcomeSource.WEBHOOK, CallStatus.ANSWERED, Disposition.UNKNOWN),
        ({"FinishTime": 1_764_036_010}, OutcomeSource.POLL, CallStatus.NO_ANSWER, Disposition.NOT_CONNECTED),
        ({"EndTime": "0000-00-00 00:00:00"}, OutcomeSource.POLL, CallStatus.QUEUED, Disposition.UNKNOWN),
        ({"Label": "Paid"}, OutcomeSource.POLL, CallStatus.ANSWERED, Disposition.ALREADY_PAID),
    ],
)
def test_a_status_is_inferred_when_none_is_known(
    row: dict[str, Any], source: OutcomeSource, status: CallStatus, disposition: Disposition
) -> None:
    outcome = AirudderAdapter(account())._outcome(ROW | row, source)
    assert outcome is not None and (outcome.status, outcome.disposition) == (status, disposition)


# --------------------------------------------------------------------------- encrypted bodies
def test_decryption_refuses_base64_with_characters_outside_the_alphabet() -> None:
    ciphertext = encrypt_body(b'{"CallID": "1"}', AES_KEY, AES_IV).decode()
    key, iv = AES_KEY.encode(), AES_IV.encode()
    assert decrypt_body(f"  {ciphertext}\n", key, iv) == b'{"CallID": "1"}'  # around it, whitespace is fine
    for tampered in (ciphertext[:8] + "\n" + ciphertext[8:], ciphertext[:8] + "!" + ciphertext[8:]):
        with pytest.raises(CallbackRejected) as caught:
            decrypt_body(tampered, key, iv)
        assert str(caught.value) == "encrypted body could not be decrypted"


def test_undecryptable_bodies_are_rejected_with_one_message() -> None:
    for bad in (b"!!not base64!!", encrypt_body(b"{}", "k" * 32, AES_IV)):
        assert _rejection(_encrypting(), bad) == "encrypted body could not be decrypted"


@pytest.mark.parametrize("key", ["data", "encrypt", "encrypted", "content", "Encrypted"])
def test_the_ciphertext_may_be_wrapped_under_any_of_its_keys(key: str) -> None:
    assert encrypted_text(json.dumps({key: "QUJD"}).encode()) == "QUJD"


def test_the_first_wrapper_key_wins() -> None:
    body = {"content": "Q09OVA==", "encrypted": "RU5D", "encrypt": "RU4=", "data": "REFUQQ=="}
    assert encrypted_text(json.dumps(body).encode()) == "REFUQQ=="


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        (b"QUJD", "QUJD"),
        (b'  "QUJD"\n', "QUJD"),  # a JSON string
        (b"XQUJDX", "XQUJDX"),  # base64 may start and end with any letter
    ],
)
def test_a_bare_ciphertext_is_the_body_without_quotes(raw: bytes, text: str) -> None:
    assert encrypted_text(raw) == text


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("ÿ base64".encode(), "encrypted body is not base64 text"),
        (b"{broken", "encrypted body is not base64 text"),
        (b'{"data": 5}', "expected an encrypted body (encryptCallbacks is on)"),
        (b'{"data": {"CallID": "1"}}', "expected an encrypted body (encryptCallbacks is on)"),
        (json.dumps(ROW).encode(), "expected an encrypted body (encryptCallbacks is on)"),
    ],
)
def test_a_body_that_is_not_ciphertext_is_rejected_with_its_reason(raw: bytes, message: str) -> None:
    with pytest.raises(CallbackRejected) as caught:
        encrypted_text(raw)
    assert str(caught.value) == message
    assert _rejection(_encrypting(), raw) == message


def test_encrypted_callbacks_wrapped_under_another_key_are_read() -> None:
    ciphertext = encrypt_body(json.dumps(ROW).encode(), AES_KEY, AES_IV).decode()
    [outcome] = _encrypting().parse_callback(_callback({"encrypted": ciphertext})).outcomes
    assert (outcome.vendor_call_id, outcome.contact_id) == ("call-1", "c-1")


# --------------------------------------------------------------------------- callback shapes
@pytest.mark.parametrize(
    ("body", "items"),
    [
        (ROW, [ROW]),
        ([ROW, ROW | {"CallID": "call-2"}], [ROW, ROW | {"CallID": "call-2"}]),
        ({"data": ROW}, [ROW]),
        ({"body": [ROW]}, [ROW]),
        ({"Data": {"x": 1}}, [{"x": 1}]),
        ({"data": "text", "type": "call"}, [{"data": "text", "type": "call"}]),  # nothing to unwrap
        # an object that names its call or Comments is the result itself, whatever else it carries; one that
        # names only its task is an envelope of the records it holds (which carry its TaskID)
        ({"TaskID": "t-1", "data": {"x": 1}}, [{"TaskID": "t-1", "data": {"x": 1}}]),
        ({"TaskID": "t-1", "data": [{"x": 1}]}, [{"x": 1, "TaskID": "t-1"}]),
        ({"TaskID": "t-1", "data": {"CallID": "c-1"}}, [{"CallID": "c-1", "TaskID": "t-1"}]),
        ({"CallID": "c-1", "data": {"x": 1}}, [{"CallID": "c-1", "data": {"x": 1}}]),
        ({"Comments": "cmp|c", "body": [{"x": 1}]}, [{"Comments": "cmp|c", "body": [{"x": 1}]}]),
    ],
)
def test_callback_items_are_a_bare_object_a_list_or_one_wrapped(body: Any, items: list[dict[str, Any]]) -> None:
    assert callback_items(body) == items


@pytest.mark.parametrize("body", [[], [ROW, 1], "text", 5, None, {"data": []}, {"body": [ROW, "x"]}])
def test_callback_items_that_are_not_objects_are_rejected(body: Any) -> None:
    with pytest.raises(CallbackRejected) as caught:
        callback_items(body)
    assert str(caught.value) == "expected a JSON object (or a list of them)"


# --------------------------------------------------------------------------- raw fields kept on an outcome
def test_raw_fields_drop_names_and_transcripts_and_mask_numbers() -> None:
    item = {
        "Customer": "Maria Santos",  # first: what follows a dropped field is still kept
        "CallID": "7100",
        "customer_name": "Maria",
        "Name": "M",
        "Transcript": "hello",
        "Dialogue": [],
        "ASR": "x",
        "Text": "y",
        "Mobile": "+639171234567",
        "phone_number": 639171234567,
        "Callee": "",
        "Number": None,
    }
    assert raw_without_pii(item) == {
        "CallID": "7100",
        "Mobile": "***4567",
        "phone_number": "***4567",
        "Callee": "",
        "Number": None,
    }


def test_raw_values_keep_their_type_and_long_text_is_cut() -> None:
    item = {
        "Duration": 5,
        "Score": 0.5,
        "Answered": True,
        "Note": None,
        "Exact": "a" * RAW_TEXT_LIMIT,
        "Long": "b" * (RAW_TEXT_LIMIT + 1),
    }
    raw = raw_without_pii(item)
    assert raw == item | {"Long": "b" * RAW_TEXT_LIMIT}
    assert type(raw["Duration"]) is int and type(raw["Answered"]) is bool


def test_raw_nested_values_are_json_text_unescaped_and_cut() -> None:
    item = {
        "Extra": {"city": "Parañaque", "tags": [1, None]},
        "When": [dt.date(2026, 11, 25)],
        "Big": ["c" * RAW_TEXT_LIMIT],
    }
    raw = raw_without_pii(item)
    assert raw["Extra"] == '{"city": "Parañaque", "tags": [1, null]}'
    assert raw["When"] == '["2026-11-25"]'
    assert raw["Big"] == '["' + "c" * (RAW_TEXT_LIMIT - 2)


# --------------------------------------------------------------------------- inbound
def test_a_callback_without_a_token_or_signature_is_not_authenticated() -> None:
    body = json.dumps(ROW).encode()
    no_token = InboundCallback(kind="call", body=body, headers={}, query={}, source_ip="8.219.10.20")
    assert AirudderAdapter(account()).authenticate(no_token) is False
    assert AirudderAdapter(account(verifySignature=True)).authenticate(_callback(body, headers={})) is False
    blank = _callback(body, headers={"x-airudder-sign": "   "})
    assert AirudderAdapter(account(verifySignature=True)).authenticate(blank) is False


@pytest.mark.parametrize("allow", [True, False])
def test_predial_questions_are_answered_404_as_airudder_has_none(allow: bool) -> None:
    assert AirudderAdapter(account()).predial_reply(allow) == Reply(
        404, {"message": "AIRudder has no pre-dial verification"}
    )


def test_a_call_notification_naming_no_call_is_rejected_with_its_reason() -> None:
    adapter = AirudderAdapter(account())
    expected = "call notification without CallID (or TaskID and Comments)"
    assert _rejection(adapter, {"TaskID": "t-1", "CallStatus": "Busy"}) == expected
    assert _rejection(adapter, [{"Comments": "cmp-1|c-2"}, {"TaskID": "t-1"}]) == expected
    # Beside a readable one, an entry without a result is counted unread (answered 422) instead.
    assert adapter.parse_callback(_callback([ROW, {"Comments": "cmp-1|c-2"}])).unread == 1


def test_a_task_notification_without_task_id_is_rejected_with_its_reason() -> None:
    adapter = AirudderAdapter(account())
    assert _rejection(adapter, {"TaskStatus": "Finished"}, kind="task") == "task notification without TaskID"
    assert _rejection(adapter, [{"TaskID": "t-1"}, {"TaskID": ""}], kind="task") == "task notification without TaskID"


def test_an_unreadable_body_is_rejected_naming_the_problem() -> None:
    assert _rejection(AirudderAdapter(account()), b"\xff\xfe") == "body: not UTF-8 text"


class _Logs:
    def __init__(self) -> None:
        self.lines: list[tuple[str, dict[str, Any]]] = []

    def info(self, message: str, extra: dict[str, Any] | None = None) -> None:
        self.lines.append((message, extra or {}))

    warning = info


@pytest.mark.parametrize(
    ("item", "status"),
    [
        ({"TaskID": "t-1", "Status": "Running", "TaskStatus": "Other"}, "Running"),
        ({"TaskID": "t-1", "TaskStatus": "Finished"}, "Finished"),
        ({"task_id": "t-1", "task_status": "Paused"}, "Paused"),
        ({"TaskID": "t-1"}, None),
    ],
)
def test_a_task_notification_reports_nothing_and_logs_its_task_and_status(
    monkeypatch: pytest.MonkeyPatch, item: dict[str, Any], status: str | None
) -> None:
    logs = _Logs()
    monkeypatch.setattr(adapter_module, "logger", logs)
    assert AirudderAdapter(account()).parse_callback(_callback(item, kind="task")) == OutcomeReport([])
    assert logs.lines == [("airudder task notification", {"task_id": "t-1", "status": status})]

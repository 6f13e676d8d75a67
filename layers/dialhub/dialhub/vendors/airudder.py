"""AIRudder (api.airudder.com) robot outbound calls: one AIRudder task per submitted chunk.

Contract: docs/vendors/airudder.md. AIRudder creates a task together with its numbers, so
`create_task` only names the campaign's day (no HTTP) and every `submit` creates one AIRudder task whose
TaskName is derived from the submission key: a retried or redelivered chunk meets "duplicate task name"
(10508) instead of dialling anyone twice. What AIRudder's readable pages leave open is decided here, once,
and listed in the README's vendor section:

- ASSUMPTION: the global 10xxx error codes (JULO's PDS list) apply to the /service/cloud/* API; 10201
  (internal error) and 10705 (query count limit) are transient, 10812/10813 are token errors.
- ASSUMPTION: success is `code` 200 (the cloud envelope); `code` 0 (other AIRudder product lines) is
  accepted as success too.
- ASSUMPTION: TaskName uses only letters, digits and underscores (the PDS rule 10518 is the stricter one).
- ASSUMPTION: `Type` for collection tasks is "collection" (only "promotion" is documented); per campaign
  option `type`.
- ASSUMPTION: `Comments` (<= 64 characters) carries "<campaignId>|<contactId>" and is echoed back in
  `detail_error_list`, in the Webhook of Call and in /service/cloud/detail rows; a webhook needs the
  campaign too, because the adapter cannot look a task up.
- ASSUMPTION: `detail_error_list[].field` is "Details[i]" with a 0-based index; `comments` is preferred
  when it names one of the chunk's numbers.
- ASSUMPTION: ExtraA-C hold at most 255 characters, and no AIRudder text field (Customer, ExtraA-C) takes
  characters outside the Basic Multilingual Plane (emoji): both are refused before any HTTP.
- ASSUMPTION: `GET /service/cloud/list?TaskName=<name>` lists the task of that name (rows with TaskID and
  TaskName, under `data`, `data.list` or similar); it is read only after a 10508.
- ASSUMPTION: `GET /service/cloud/detail?TaskID=<id>` returns every number of the task at once (no paging),
  one row per number, with the fields of the Webhook of Call.
- ASSUMPTION: a Webhook of Call / detail row is PascalCase: TaskID, CallID (of the last attempt), Mobile,
  Comments, CallStatus, Intention, CallTimes (attempts made), StartTime, AnswerTime, EndTime (account time
  zone, "YYYY-MM-DD hh:mm:ss"), Duration (seconds), RecordingURL, HangupReason; names are matched without
  regard to case or underscores and the status/intention dictionaries below are our guesses. A call
  webhook comes once per number (after the redials, or on connect), so each one closes its contact and
  its CallID is the one the detail row shows.
- ASSUMPTION: a number never dialled (e.g. cancelled) may have no CallID; it is identified as
  "<TaskID>:<Comments>".
- ASSUMPTION: cancelling one call is `POST /service/cloud/cancelphonecall {TaskID, Mobile}`; the task
  operations are `POST /service/cloud/operation {TaskID, Operation}` with "cancel", "pause" and "resume".
- ASSUMPTION: `X-AIRudder-Sign` is the HMAC-SHA256 of the raw body keyed with APPSecret, hex (base64 also
  accepted); checked only when the account sets `verifySignature`.
- ASSUMPTION: encrypted callbacks (account `encryptCallbacks`) are AES-CBC with PKCS7 padding, base64 text,
  either the whole body or the string under `data` of a JSON object; key and IV are the UTF-8 bytes of
  the account's `aesKey` (16/24/32) and `aesIv` (16).
- ASSUMPTION: AIRudder's webhooks carry no credential of ours beyond the URL: callbacks are authenticated
  by a secret token in the callback URL (`?token=`) compared in constant time, plus an optional source-IP
  allowlist and the optional signature. Any HTTP 200 acknowledges; we answer {"status": "success"}.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import math
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic.alias_generators import to_camel

from dialhub.dispositions import CallStatus, CodeMeaning, Disposition, VendorCodeTable
from dialhub.errors import field_path
from dialhub.jsonguard import JsonRefused, read_json
from dialhub.models import CallingWindow, CallOutcome, Campaign, Contact, IanaZone, OutcomeSource, VendorTask
from dialhub.observability import count_metric, logger
from dialhub.phones import mask_phone
from dialhub.vendors.base import (
    AccountAdapter,
    CallbackRejected,
    DialRequest,
    InboundCallback,
    IpAllowlist,
    OutcomeReport,
    PredialQuestion,
    Reply,
    Submission,
    SubmitResult,
    TaskAction,
    VendorRejected,
    VendorUnavailable,
    get_json,
    post_json,
    source_ip_allowed,
)

if TYPE_CHECKING:  # httpx (and stamina) are imported where a request is sent: callbacks need neither
    import httpx

VENDOR = "airudder"
USER_AGENT = "Airudder"
SUCCESS_CODES = frozenset({200, 0})
PATH_AUTH = "/service/cloud/auth"
PATH_CREATE_TASK = "/service/cloud/v2/task"
PATH_LIST = "/service/cloud/list"
PATH_DETAIL = "/service/cloud/detail"
PATH_CANCEL_CALL = "/service/cloud/cancelphonecall"
PATH_OPERATION = "/service/cloud/operation"
# Creating a task of thousands of numbers can be slow (JULO uses 120 s); a timed-out create is safe to
# repeat (same TaskName -> 10508), so a generous read timeout only saves a round trip.
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"

TOKEN_REFRESH_AFTER = dt.timedelta(hours=23)  # tokens live 24 h (TOKEN); refresh a little early
TOKEN_ERRORS = frozenset({10812, 10813})
DUPLICATE_TASK_NAME = 10508
TASK_FINISHED = 10513
QUERY_LIMIT_EXCEEDED = 10705
TRANSIENT_ERRORS = frozenset({10201, QUERY_LIMIT_EXCEEDED})
TASK_GONE_ERRORS = frozenset({10502, 10506, 10702, 10703})

MAX_TASK_SIZE = 10_000  # Details per task (S004)
DEFAULT_TASK_SIZE = 5_000  # AIRudder's recommendation (S004)
TASK_NAME_LIMIT = 64
COMMENTS_LIMIT = 64
CUSTOMER_LIMIT = 64
EXTRA_FIELD_LIMIT = 255  # ASSUMPTION: not documented
MAX_MOBILE_DIGITS = 14  # 10510: "+" and at most 14 digits
COMMENTS_SEPARATOR = "|"  # never in our ids (models.ID_PATTERN)
DEFAULT_TASK_TYPE = "collection"  # ASSUMPTION
DEFAULT_PLATFORM = "dialhub"
SCHEDULE_HORIZON = dt.timedelta(days=5)  # ScheduleStart/EndTime within the next 5 days (S004)
HORIZON_MARGIN = dt.timedelta(minutes=10)  # stay clearly inside it, whatever the clock skew
MIN_SCHEDULE_SPAN = dt.timedelta(minutes=30)  # end >= start + 30 min (S004)
START_LEAD = dt.timedelta(minutes=1)  # a start "now" must not be in the past when AIRudder reads it
TASK_OPERATIONS = {TaskAction.CANCEL: "cancel", TaskAction.PAUSE: "pause", TaskAction.RESUME: "resume"}
RAW_TEXT_LIMIT = 1_000  # raw fields kept on an outcome are cut to this many characters
MAX_PLAUSIBLE_NUMBER = 10**15  # no count or duration comes near; DynamoDB keeps 38 digits
_PII_DROPPED = frozenset(
    {
        "customer",
        "customername",
        "name",
        "transcript",
        "dialogue",
        "dialog",
        "chatrecord",
        "conversation",
        "asr",
        "text",
    }
)
_PII_MASKED = frozenset({"mobile", "phone", "callee", "phonenumber", "number"})
_DIGIT_RUN = re.compile(r"\+?\d{6,}")
_WHOLE_NUMBER = re.compile(r"-?[0-9]+")  # ASCII digits only: int() refuses "--1", and str.isdigit takes "²"

ERROR_MEANINGS: dict[int, str] = {
    10201: "AIRudder internal error",
    10301: "invalid APPKey",
    10302: "account verification failed",
    10501: "task creation failed",
    10502: "TaskID is empty",
    10503: "callback URL is empty",
    10504: "invalid callback URL",
    10505: "the contact list is empty",
    10506: "task not found",
    10507: "task not executed",
    10508: "duplicate task name",
    10509: "the scheduled start is earlier than now",
    10510: "bad phone number (must start with + and have at most 14 digits)",
    10511: "robot group not found",
    10512: "robot group is empty",
    10513: "the task is already finished",
    10514: "the task has not started yet",
    10515: "the task has not finished yet",
    10516: "no recordings",
    10517: "invalid private data",
    10518: "invalid TaskName",
    10519: "task copy error",
    10520: "task pause error",
    10521: "redial (repeat) settings error",
    10522: "bulk interval error",
    10523: "voicemail setting error",
    10524: "QA setting error",
    10525: "lost-rate setting error",
    10526: "number interval error",
    10527: "addition error",
    10550: "agent error",
    10551: "agent error",
    10608: "CallID is empty",
    10609: "CallID is invalid",
    10610: "CallID cannot be verified",
    10617: "customer-info configuration error",
    10618: "customer-info configuration error",
    10620: "the scheduled end is too close to the start",
    10621: "scheduled start and end must be on the same day",
    10702: "invalid TaskID",
    10703: "TaskID cannot be verified",
    10704: "a workflow task cannot do this",
    10705: "query count limit exceeded",
    10812: "invalid token",
    10813: "expired token",
    10820: "file missing",
    10901: "voicemail is not enabled",
}


def describe_error(code: int | None, message: str | None = None) -> str:
    """An operator-readable reason for an AIRudder error code (digits that could be a phone are masked)."""
    if code is not None and code in ERROR_MEANINGS:
        meaning = ERROR_MEANINGS[code]
    elif code is not None and 10605 <= code <= 10614:
        meaning = "the task or call is in a state that does not allow this"
    elif code is not None and 10801 <= code <= 10814:
        meaning = "user or token error"
    else:
        meaning = "unknown AIRudder error"
    detail = mask_digits(message or "").strip()
    return f"{meaning} ({detail})" if detail and detail.casefold() != meaning.casefold() else meaning


def mask_digits(text: str) -> str:
    """Runs of 6+ digits (phone numbers, as in "Country Code Error: 13016111") keep only their last 4."""
    return _DIGIT_RUN.sub(lambda match: mask_phone(match.group()), text)


# --- outcome dictionaries (ASSUMPTION: AIRudder's robot-call dictionaries were not readable) -------------
_A = CallStatus.ANSWERED
_NC = Disposition.NOT_CONNECTED
_WAITING = CodeMeaning(Disposition.UNKNOWN, CallStatus.QUEUED)
_CALLING = CodeMeaning(Disposition.UNKNOWN, CallStatus.IN_PROGRESS)
CALL_STATUSES = VendorCodeTable(
    VENDOR,
    {
        "Waiting": _WAITING,
        "Pending": _WAITING,
        "NotStarted": _WAITING,
        "Redialing": _WAITING,
        "WaitingRedial": _WAITING,
        "Calling": _CALLING,
        "Ringing": CodeMeaning(Disposition.UNKNOWN, CallStatus.RINGING),
        "Answered": CodeMeaning(Disposition.UNKNOWN, _A),
        "Connected": CodeMeaning(Disposition.UNKNOWN, _A),
        "NoAnswer": CodeMeaning(_NC, CallStatus.NO_ANSWER),
        "Unanswered": CodeMeaning(_NC, CallStatus.NO_ANSWER),
        "Rejected": CodeMeaning(_NC, CallStatus.NO_ANSWER),
        "Busy": CodeMeaning(_NC, CallStatus.BUSY),
        "PowerOff": CodeMeaning(_NC, CallStatus.UNREACHABLE),
        "Unreachable": CodeMeaning(_NC, CallStatus.UNREACHABLE),
        "OutOfService": CodeMeaning(_NC, CallStatus.UNREACHABLE),
        "InvalidNumber": CodeMeaning(_NC, CallStatus.INVALID_NUMBER),
        "EmptyNumber": CodeMeaning(_NC, CallStatus.INVALID_NUMBER),
        "Voicemail": CodeMeaning(Disposition.VOICEMAIL, CallStatus.VOICEMAIL),
        "Failed": CodeMeaning(_NC, CallStatus.FAILED),
        "NotCalled": CodeMeaning(_NC, CallStatus.FAILED),
        "Cancelled": CodeMeaning(Disposition.CANCELLED, CallStatus.CANCELLED),
        "Canceled": CodeMeaning(Disposition.CANCELLED, CallStatus.CANCELLED),
        "DNC": CodeMeaning(Disposition.DO_NOT_CALL, CallStatus.CANCELLED),
    },
)
INTENTIONS = VendorCodeTable(
    VENDOR,
    {
        "PTP": CodeMeaning(Disposition.PROMISE_TO_PAY, _A),
        "PTPNoDate": CodeMeaning(Disposition.PROMISE_TO_PAY_NO_DATE, _A),
        "AlreadyPaid": CodeMeaning(Disposition.ALREADY_PAID, _A),
        "Paid": CodeMeaning(Disposition.ALREADY_PAID, _A),
        "RefuseToPay": CodeMeaning(Disposition.REFUSED_TO_PAY, _A),
        "Refuse": CodeMeaning(Disposition.REFUSED_TO_PAY, _A),
        "NoAgreement": CodeMeaning(Disposition.NO_AGREEMENT, _A),
        "WrongNumber": CodeMeaning(Disposition.WRONG_PERSON, _A),
        "NotOneself": CodeMeaning(Disposition.WRONG_PERSON, _A),
        "ThirdParty": CodeMeaning(Disposition.WRONG_PERSON, _A),
        "Callback": CodeMeaning(Disposition.CALLBACK_REQUESTED, _A),
        "Complaint": CodeMeaning(Disposition.COMPLAINT, _A),
        "Interested": CodeMeaning(Disposition.INTERESTED, _A),
        "NotInterested": CodeMeaning(Disposition.NOT_INTERESTED, _A),
        "Undecided": CodeMeaning(Disposition.UNDECIDED, _A),
        "AskWhoCalls": CodeMeaning(Disposition.ASKED_WHO_CALLS, _A),
        "HangUp": CodeMeaning(Disposition.HUNG_UP, _A),
        "Voicemail": CodeMeaning(Disposition.VOICEMAIL, CallStatus.VOICEMAIL),
        "OptOut": CodeMeaning(Disposition.OPT_OUT, _A),
        "DoNotCall": CodeMeaning(Disposition.DO_NOT_CALL, _A),
        "NoIntention": CodeMeaning(Disposition.UNKNOWN, _A),
        "Unknown": CodeMeaning(Disposition.UNKNOWN, _A),
    },
)


# --- account and campaign options ------------------------------------------------------------------------
class _Camel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


class AirudderAccount(_Camel):
    """The AIRudder account secret: credentials, where to reach AIRudder, how its callbacks are protected."""

    app_key: str = Field(min_length=1)
    app_secret: SecretStr
    base_url: str = "https://api.airudder.com"
    webhook_token: SecretStr
    timezone: IanaZone = Field(default="Asia/Manila", description="The account's time zone: schedule times are in it")
    task_size: int = Field(default=DEFAULT_TASK_SIZE, ge=1, le=MAX_TASK_SIZE)
    ip_allowlist: IpAllowlist = Field(default_factory=list)
    verify_signature: bool = False
    encrypt_callbacks: bool = False
    aes_key: SecretStr | None = None
    aes_iv: SecretStr | None = None
    # 10705: how often one query is tried again, how long to wait first, and how long to leave AIRudder
    # alone once the retries are spent (the poller tries again on its next run).
    query_retries: int = Field(default=2, ge=0, le=5)
    query_backoff_seconds: float = Field(default=2.0, ge=0, le=30)
    query_cooldown_seconds: float = Field(default=60.0, ge=0, le=3600)

    @field_validator("webhook_token")
    @classmethod
    def _long_enough(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < 16:
            raise ValueError("webhookToken must be at least 16 characters")
        return value

    @model_validator(mode="after")
    def _aes_material(self) -> AirudderAccount:
        if not self.encrypt_callbacks:
            return self
        if self.aes_key is None or self.aes_iv is None:
            raise ValueError("aesKey and aesIv are required when encryptCallbacks is true")
        if len(self.aes_key.get_secret_value().encode()) not in (16, 24, 32):
            raise ValueError("aesKey must be 16, 24 or 32 bytes")
        if len(self.aes_iv.get_secret_value().encode()) != 16:
            raise ValueError("aesIv must be 16 bytes")
        return self


ExtraField = Literal["ExtraA", "ExtraB", "ExtraC"]
VariableName = Annotated[str, Field(min_length=1, max_length=128)]


class AirudderOptions(_Camel):
    """Campaign settings of the AIRudder tasks (vendorOptions); unknown keys are refused to catch typos."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    robot_id: str = Field(min_length=1, max_length=64, description="RobotID (or robot group) from AIRudder")
    sip_line: str = Field(min_length=1, max_length=128, description="SIPLine assigned by AIRudder")
    task_type: str = Field(default=DEFAULT_TASK_TYPE, alias="type", min_length=1, max_length=32)
    repeat_number: int = Field(default=0, ge=0, le=15, description="Redials of unanswered calls")
    repeat_interval: int = Field(default=0, ge=0, le=30, description="Minutes between redials")
    robot_method: Literal["single", "group"] = "single"
    dnc_switch: bool = Field(default=False, description="Apply AIRudder's Do-Not-Call pool (arrange it first)")
    start_immediately: bool = Field(default=False, description="Ignore the calling window: AIRudder starts now")
    perform: Literal[1, 3] = Field(default=1, description="1: skip bad numbers; 3: all or nothing")
    platform: str = Field(default=DEFAULT_PLATFORM, pattern=r"^[A-Za-z]{1,20}$")
    extra_fields: dict[ExtraField, VariableName] = Field(
        default_factory=dict, description="Bot variables: ExtraA/B/C -> the contact variable sent in it"
    )


# --- pure helpers --------------------------------------------------------------------------------------
def comments_for(campaign_id: str, contact_id: str) -> str:
    return f"{campaign_id}{COMMENTS_SEPARATOR}{contact_id}"


def split_comments(comments: str | None) -> tuple[str | None, str | None]:
    """(campaign id, contact id) from Comments; a bare value is a contact id of an unknown campaign."""
    text = (comments or "").strip()
    if not text:
        return None, None
    if COMMENTS_SEPARATOR not in text:
        return None, text
    campaign_id, contact_id = (part.strip() for part in text.split(COMMENTS_SEPARATOR, 1))
    return campaign_id or None, contact_id or None


def task_prefix(campaign_id: str, local_date: dt.date) -> str:
    """The logical task id of a campaign's day: readable, deterministic, and the prefix of its TaskNames."""
    slug = "".join(char for char in campaign_id if char.isascii() and char.isalnum())[:16] or "c"
    digest = hashlib.sha256(campaign_id.encode()).hexdigest()[:8]
    return f"dh_{slug}_{local_date:%Y%m%d}_{digest}"


def task_name(campaign_id: str, local_date: dt.date, submission_key: str) -> str:
    """The TaskName of one submission: the same on every retry of the chunk, unique otherwise, <= 64."""
    digest = hashlib.sha256(f"{campaign_id}\x1f{local_date.isoformat()}\x1f{submission_key}".encode()).hexdigest()
    name = f"{task_prefix(campaign_id, local_date)}_{digest[:16]}"
    assert len(name) <= TASK_NAME_LIMIT
    return name


def _outside_bmp(text: str) -> bool:
    return any(ord(char) > 0xFFFF for char in text)


def _variable_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def dial_problem(
    campaign_id: str, contact_id: str, name: str, phone: str, variables: Mapping[str, Any], options: AirudderOptions
) -> str | None:
    """Why AIRudder would refuse this number (or we could not map its result back), before any HTTP."""
    comments = comments_for(campaign_id, contact_id)
    if len(comments) > COMMENTS_LIMIT:
        return (
            f"campaign id and contact id together take {len(comments)} characters; AIRudder keeps at most "
            f"{COMMENTS_LIMIT - 1} in Comments (shorten the contact id)"
        )
    digits = sum(char.isdigit() for char in phone)
    if not phone.startswith("+") or digits > MAX_MOBILE_DIGITS:
        return f"phone must be + and at most {MAX_MOBILE_DIGITS} digits for AIRudder"
    if len(name) > CUSTOMER_LIMIT:
        return f"name is longer than the {CUSTOMER_LIMIT} characters AIRudder takes (Customer)"
    if _outside_bmp(name):
        return "name contains characters AIRudder cannot take (emoji)"
    for field_name, variable in sorted(options.extra_fields.items()):
        text = _variable_text(variables.get(variable))
        if not text:
            return f"variable {variable!r} is missing (sent to the bot as {field_name})"
        if len(text) > EXTRA_FIELD_LIMIT:
            return f"variable {variable!r} is longer than {EXTRA_FIELD_LIMIT} characters ({field_name})"
        if _outside_bmp(text):
            return f"variable {variable!r} contains characters AIRudder cannot take (emoji)"
    return None


def schedule_window(
    window: CallingWindow, campaign_zone: ZoneInfo, local_date: dt.date, now: dt.datetime
) -> tuple[dt.datetime, dt.datetime]:
    """The first calling-window slot AIRudder can schedule: starts within 5 days, lasts >= 30 minutes.

    From the task's day on (or the campaign's today, when earlier), the first allowed weekday whose window
    still has 30 minutes left; a window already open starts a minute from now. Raises VendorRejected when
    no such slot starts within AIRudder's 5-day horizon.
    """
    now = now.astimezone(dt.UTC)
    earliest = (now + START_LEAD).replace(microsecond=0) + dt.timedelta(seconds=1)
    horizon = now + SCHEDULE_HORIZON - HORIZON_MARGIN
    first_day = min(local_date, now.astimezone(campaign_zone).date())
    for offset in range(8):
        day = first_day + dt.timedelta(days=offset)
        if day.isoweekday() not in window.weekdays:
            continue
        opens = dt.datetime.combine(day, window.start, tzinfo=campaign_zone)
        closes = dt.datetime.combine(day, window.end, tzinfo=campaign_zone)
        start, end = max(opens, earliest), min(closes, horizon)
        if start >= horizon:
            break
        if end - start >= MIN_SCHEDULE_SPAN:
            return start, end
    raise VendorRejected(
        VENDOR, None, "the calling window has no 30-minute slot within AIRudder's 5-day scheduling horizon"
    )


def _normalised(name: str) -> str:
    return name.replace("_", "").replace("-", "").casefold()


class _Fields:
    """Tolerant reads of a vendor object: names match without regard to case, underscores or hyphens."""

    def __init__(self, item: Mapping[str, Any]) -> None:
        self._values = {_normalised(str(key)): value for key, value in item.items()}

    def get(self, *names: str) -> Any:
        for name in names:
            value = self._values.get(_normalised(name))
            if value is not None and value != "":
                return value
        return None

    def text(self, *names: str) -> str | None:
        value = self.get(*names)
        if value is None or isinstance(value, dict | list):
            return None
        return str(value).strip() or None

    def number(self, *names: str) -> int | None:
        """A whole number (a count, a duration); None when absent, not finite or beyond any plausible one."""
        value = self.get(*names)
        if isinstance(value, bool):
            return None
        if isinstance(value, str):
            try:
                value = float(value.strip())
            except ValueError:
                return None
        if isinstance(value, int | float) and math.isfinite(value) and abs(value) < MAX_PLAUSIBLE_NUMBER:
            return int(value)
        return None


def _code(payload: Mapping[str, Any]) -> int | None:
    code = payload.get("code")
    if isinstance(code, bool):
        return None
    if isinstance(code, int):
        return code
    if isinstance(code, str) and _WHOLE_NUMBER.fullmatch(code.strip()):
        return int(code.strip())
    return None


def _succeeded(payload: Mapping[str, Any]) -> bool:
    code = _code(payload)
    if code is None:
        return str(payload.get("status", "")).upper() == "OK"
    return code in SUCCESS_CODES


def _message(payload: Mapping[str, Any]) -> str | None:
    for key in ("message", "msg", "error", "status"):
        value = payload.get(key)
        if isinstance(value, str) and value.strip() and value.strip().upper() != "OK":
            return value.strip()
    return None


def _data(payload: Mapping[str, Any]) -> Any:
    return payload.get("data")


def _rows(payload: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The rows of a list/detail answer: `data` itself, or the first list inside it."""
    data = _data(payload)
    if isinstance(data, dict):
        for key in ("list", "List", "details", "Details", "detail_list", "rows", "records", "items", "data"):
            if isinstance(data.get(key), list):
                data = data[key]
                break
        else:
            data = [data] if _Fields(data).get("TaskID", "CallID") is not None else []
    if not isinstance(data, list):
        return []
    return [row for row in data if isinstance(row, dict)]


class QueryLimited(VendorUnavailable):
    """AIRudder answered 10705: too many queries for now."""


def refusal(payload: Mapping[str, Any]) -> VendorRejected | VendorUnavailable:
    """The error to raise for a non-success AIRudder answer: transient codes are worth retrying later."""
    code = _code(payload)
    reason = describe_error(code, _message(payload))
    if code == QUERY_LIMIT_EXCEEDED:
        return QueryLimited(VENDOR, f"{VENDOR} error {code}: {reason}")
    if code in TRANSIENT_ERRORS:
        return VendorUnavailable(VENDOR, f"{VENDOR} error {code}: {reason}")
    return VendorRejected(VENDOR, code, reason)


# --- AES callback bodies (the cryptography package is imported only by accounts that use it) -----------
def decrypt_body(ciphertext_b64: str, key: bytes, iv: bytes) -> bytes:
    """AES-CBC + PKCS7 over base64 text, as the account's encrypted callbacks are sent (ASSUMPTION)."""
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    try:
        ciphertext = base64.b64decode(ciphertext_b64.strip(), validate=True)
        decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
        padded = decryptor.update(ciphertext) + decryptor.finalize()
        unpadder = padding.PKCS7(algorithms.AES.block_size).unpadder()
        return unpadder.update(padded) + unpadder.finalize()
    except (ValueError, binascii.Error) as exc:
        raise CallbackRejected("encrypted body could not be decrypted") from exc


# --- token cache: per APPKey and base URL, shared by every adapter of the container ---------------------
@dataclass(frozen=True)
class _Token:
    value: str
    obtained_at: dt.datetime


_TOKENS: dict[tuple[str, str], _Token] = {}
_TOKEN_LOCK = threading.Lock()
_QUERIES_PAUSED_UNTIL: dict[tuple[str, str], dt.datetime] = {}


def forget_tokens() -> None:
    """Drop every cached token and query pause (tests; a cold start does the same)."""
    with _TOKEN_LOCK:
        _TOKENS.clear()
        _QUERIES_PAUSED_UNTIL.clear()


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value).strip() or None


class AirudderAdapter(AccountAdapter):
    name: ClassVar[str] = VENDOR
    http_read_seconds: ClassVar[float] = 30.0

    def __init__(
        self, account: AirudderAccount, http: httpx.Client | None = None, clock: Callable[[], dt.datetime] | None = None
    ) -> None:
        super().__init__(account, http, clock)
        self.batch_limit = account.task_size

    @classmethod
    def from_account(cls, account: dict[str, Any], http: httpx.Client | None = None) -> AirudderAdapter:
        return cls(AirudderAccount.model_validate(account), http=http)

    # ------------------------------------------------------------------ outbound plumbing
    @property
    def _account_key(self) -> tuple[str, str]:
        return self.account.base_url.rstrip("/"), self.account.app_key

    def _token(self, refused: str | None = None) -> str:
        """The cached token; fetched only when none is cached, it is 23 h old, or `refused` is the cached one.

        Under one lock, so concurrent requests that all see a refused token refresh it once, not each.
        """
        with _TOKEN_LOCK:
            cached = _TOKENS.get(self._account_key)
            now = self._clock()
            if cached and cached.value != refused and now - cached.obtained_at < TOKEN_REFRESH_AFTER:
                return cached.value
            token = self._request_token()
            _TOKENS[self._account_key] = _Token(token, now)
            return token

    def _request_token(self) -> str:
        body = {"APPKey": self.account.app_key, "APPSecret": self.account.app_secret.get_secret_value()}
        try:
            payload = post_json(
                VENDOR,
                self.http,
                PATH_AUTH,
                content=json.dumps(body).encode(),
                headers=lambda: {"Content-Type": "application/json", "User-Agent": USER_AGENT},
            )
        except VendorRejected as exc:
            raise VendorRejected(VENDOR, exc.code, "authentication refused: check appKey and appSecret") from exc
        data = _data(payload)
        token = _text(data.get("token")) if isinstance(data, dict) else None
        if not _succeeded(payload) or token is None:
            code = _code(payload)
            raise VendorRejected(VENDOR, code, f"authentication failed: {describe_error(code, _message(payload))}")
        logger.info("airudder token obtained", extra={"vendor": VENDOR})
        return token

    def _send(
        self, method: str, path: str, token: str, body: dict[str, Any] | None, params: Mapping[str, str] | None
    ) -> dict[str, Any]:
        def headers() -> dict[str, str]:
            return {"Authorization": f"Token {token}", "Content-Type": "application/json", "User-Agent": USER_AGENT}

        if method == "GET":
            return get_json(VENDOR, self.http, path, params=params or {}, headers=headers)
        content = json.dumps(body or {}, ensure_ascii=False, separators=(",", ":")).encode()
        return post_json(VENDOR, self.http, path, content=content, headers=headers)

    def _call(
        self, method: str, path: str, *, body: dict[str, Any] | None = None, params: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """One authenticated request; a refused token (HTTP 401, 10812, 10813) is refreshed once and the
        request sent again. Returns the answer whatever its `code`: callers decide what a code means."""
        token = self._token()
        try:
            payload: dict[str, Any] | None = self._send(method, path, token, body, params)
        except VendorRejected as exc:
            if exc.code != "HTTP 401":
                raise
            payload = None
        if payload is None or _code(payload) in TOKEN_ERRORS:
            logger.info("airudder refused the token; refreshing it once", extra={"vendor": VENDOR})
            payload = self._send(method, path, self._token(refused=token), body, params)
        return payload

    def _checked(self, method: str, path: str, *, body: dict[str, Any] | None = None) -> dict[str, Any]:
        payload = self._call(method, path, body=body)
        if not _succeeded(payload):
            raise refusal(payload)
        return payload

    def _query(self, path: str, params: Mapping[str, str]) -> dict[str, Any]:
        """A GET under AIRudder's query-count limit: 10705 is retried a bounded number of times with backoff,
        then queries pause for the account's cool-down and VendorUnavailable tells the caller to come back."""
        paused_until = _QUERIES_PAUSED_UNTIL.get(self._account_key)
        if paused_until is not None and self._clock() < paused_until:
            raise VendorUnavailable(
                VENDOR,
                f"{VENDOR} query limit (10705) reached recently; not querying "
                f"before {paused_until.isoformat(timespec='seconds')}",
            )
        backoff = self.account.query_backoff_seconds
        try:
            import stamina

            for attempt in stamina.retry_context(
                on=QueryLimited,
                attempts=self.account.query_retries + 1,
                timeout=None,
                wait_initial=backoff,
                wait_max=max(backoff * 4, 0.1),
                wait_jitter=backoff / 2,
            ):
                with attempt:
                    payload = self._call("GET", path, params=params)
                    if _code(payload) == QUERY_LIMIT_EXCEEDED:
                        raise refusal(payload)
        except QueryLimited:
            _QUERIES_PAUSED_UNTIL[self._account_key] = self._clock() + dt.timedelta(
                seconds=self.account.query_cooldown_seconds
            )
            count_metric("VendorThrottled", vendor=VENDOR)
            logger.warning("airudder query limit reached; queries paused", extra={"vendor": VENDOR, "path": path})
            raise VendorUnavailable(
                VENDOR,
                f"{VENDOR} error {QUERY_LIMIT_EXCEEDED}: query count limit exceeded; tried again on the next poll",
            ) from None
        if not _succeeded(payload):
            raise refusal(payload)
        return payload

    # ------------------------------------------------------------------ the adapter interface
    @classmethod
    def contact_problem(cls, contact: Contact, options: dict[str, Any]) -> str | None:
        try:
            parsed = AirudderOptions.model_validate(options)
        except ValidationError as exc:
            error = exc.errors()[0]
            return f"vendorOptions.{field_path(error)}: {error['msg']}"
        return dial_problem(
            contact.campaign_id, contact.contact_id, contact.name, contact.phone, contact.variables, parsed
        )

    @classmethod
    def calls_per_request(cls, options: dict[str, Any]) -> int:
        return 1 + AirudderOptions.model_validate(options).repeat_number  # the first call and its redials

    @classmethod
    def validate_options(cls, options: dict[str, Any]) -> dict[str, Any]:
        # Only what was given is stored: defaults (the ASSUMPTIONs) stay in this module and apply when sent.
        return AirudderOptions.model_validate(options).model_dump(by_alias=True, exclude_unset=True)

    def create_task(self, campaign: Campaign, local_date: dt.date) -> str:
        # AIRudder creates a task with its numbers: nothing to create yet, every submit makes its own task.
        return task_prefix(campaign.campaign_id, local_date)

    def _detail(self, request: DialRequest, options: AirudderOptions) -> dict[str, Any]:
        detail: dict[str, Any] = {
            "Mobile": request.phone,
            "Platform": options.platform,
            "Comments": comments_for(request.campaign_id, request.contact_id),
        }
        if request.name:
            detail["Customer"] = request.name
        for field_name, variable in sorted(options.extra_fields.items()):
            detail[field_name] = _variable_text(request.variables.get(variable))
        return detail

    def _schedule(self, campaign: Campaign, local_date: dt.date, options: AirudderOptions) -> dict[str, Any]:
        if options.start_immediately:
            return {"StartImmediately": True}
        start, end = schedule_window(campaign.calling_window, ZoneInfo(campaign.timezone), local_date, self._clock())
        return {
            "ScheduleStartTime": start.astimezone(self._zone).strftime(TIME_FORMAT),
            "ScheduleEndTime": end.astimezone(self._zone).strftime(TIME_FORMAT),
        }

    def submit(self, submission: Submission) -> SubmitResult:
        campaign, task, requests = submission.campaign, submission.task, submission.requests
        if len(requests) > self.batch_limit:
            raise ValueError(f"AIRudder tasks here take at most {self.batch_limit} numbers, got {len(requests)}")
        options = AirudderOptions.model_validate(campaign.vendor_options)
        result = SubmitResult()
        sent: list[tuple[DialRequest, dict[str, Any]]] = []
        for request in requests:
            problem = dial_problem(
                request.campaign_id, request.contact_id, request.name, request.phone, request.variables, options
            )
            if problem:
                result.rejected[request.contact_id] = problem
            else:
                sent.append((request, self._detail(request, options)))
        if not sent:
            return result
        name = task_name(campaign.campaign_id, task.local_date, submission.key)
        try:
            body = {
                "TaskName": name,
                "RobotID": options.robot_id,
                "SIPLine": options.sip_line,
                "Type": options.task_type,
                "Perform": options.perform,
                "RepeatNumber": options.repeat_number,
                "RepeatInterval": options.repeat_interval,
                "RobotMethod": options.robot_method,
                "DncSwitch": options.dnc_switch,
                **self._schedule(campaign, task.local_date, options),
                "Details": [detail for _, detail in sent],
            }
            payload = self._call("POST", PATH_CREATE_TASK, body=body)
        except VendorRejected as exc:
            result.rejected.update({request.contact_id: exc.reason for request, _ in sent})
            return result
        if _code(payload) == DUPLICATE_TASK_NAME:
            # Our earlier try of this very chunk created it (its answer was lost): nobody is dialled twice.
            existing_id = self._existing_task_id(name)
            result.accepted.update({request.contact_id: detail["Comments"] for request, detail in sent})
            result.job_id = existing_id
            logger.info(
                "airudder task already existed",
                extra={"task_name": name, "task_id": existing_id, "accepted": len(sent)},
            )
            return result
        data = _data(payload) if isinstance(_data(payload), dict) else {}
        result.rejected.update(self._row_errors(data.get("detail_error_list"), sent))
        remaining = [(request, detail) for request, detail in sent if request.contact_id not in result.rejected]
        task_id = _text(data.get("TaskID"))
        if not _succeeded(payload) or task_id is None:
            error = refusal(payload) if not _succeeded(payload) else None
            if isinstance(error, VendorUnavailable):
                raise error
            if error is not None:
                reason = error.reason
            elif options.perform == 3 and len(remaining) < len(sent):
                reason = f"{VENDOR}: task not created because other numbers of the chunk were refused (Perform 3)"
            else:
                reason = f"{VENDOR}: task not created (no TaskID in the answer)"
            result.rejected.update({request.contact_id: reason for request, _ in remaining})
            return result
        result.accepted.update({request.contact_id: detail["Comments"] for request, detail in remaining})
        result.job_id = task_id
        logger.info(
            "airudder task created",
            extra={
                "task_name": name,
                "task_id": task_id,
                "accepted": len(result.accepted),
                "rejected": len(result.rejected),
            },
        )
        return result

    def _row_errors(self, entries: Any, sent: list[tuple[DialRequest, dict[str, Any]]]) -> dict[str, str]:
        """detail_error_list entries mapped to our contacts: by Comments when it names one, else by index."""
        if not isinstance(entries, list):
            return {}
        by_comments = {detail["Comments"]: request.contact_id for request, detail in sent}
        errors: dict[str, str] = {}
        unmapped = 0
        for entry in entries:
            fields = _Fields(entry) if isinstance(entry, dict) else _Fields({})
            contact_id = by_comments.get(fields.text("comments") or "")
            if contact_id is None:
                match = re.search(r"\[(\d+)\]", fields.text("field") or "")
                index = int(match.group(1)) if match else -1
                contact_id = sent[index][0].contact_id if 0 <= index < len(sent) else None
            if contact_id is None:
                unmapped += 1
                continue
            problem = mask_digits(fields.text("msg", "message") or "invalid")
            errors[contact_id] = f"{VENDOR} refused the number: {problem}"
        if unmapped:
            count_metric("UnmappedVendorRowErrors", unmapped, vendor=VENDOR)
            logger.warning("airudder row errors that name no number of the chunk", extra={"count": unmapped})
        return errors

    def _existing_task_id(self, name: str) -> str:
        for row in _rows(self._query(PATH_LIST, {"TaskName": name})):
            fields = _Fields(row)
            if fields.text("TaskName") == name and (task_id := fields.text("TaskID")):
                return task_id
        raise VendorUnavailable(VENDOR, f"{VENDOR}: task {name} exists (10508) but the list does not show it yet")

    def cancel(self, task: VendorTask, request: DialRequest) -> None:
        if not request.vendor_job_id:
            raise VendorRejected(VENDOR, None, "the contact is in no AIRudder task yet")
        self._checked("POST", PATH_CANCEL_CALL, body={"TaskID": request.vendor_job_id, "Mobile": request.phone})

    def control_task(self, task: VendorTask, action: TaskAction) -> bool:
        operation = TASK_OPERATIONS[action]
        for job_id in task.job_ids:
            payload = self._call("POST", PATH_OPERATION, body={"TaskID": job_id, "Operation": operation})
            if not _succeeded(payload) and _code(payload) != TASK_FINISHED:  # a finished task needs nothing
                raise refusal(payload)
        return True

    def results(self, task: VendorTask) -> Iterator[list[CallOutcome]]:
        for job_id in task.job_ids:
            try:
                payload = self._query(PATH_DETAIL, {"TaskID": job_id})
            except VendorRejected as exc:
                if exc.code not in TASK_GONE_ERRORS:
                    raise
                logger.warning("airudder task not found while polling", extra={"task_id": job_id, "code": exc.code})
                continue
            rows = _rows(payload)
            data = _data(payload)
            total = _Fields(data).number("total", "Total", "count") if isinstance(data, dict) else None
            if total is not None and total > len(rows):
                logger.warning(
                    "airudder detail returned fewer rows than its total",
                    extra={"task_id": job_id, "rows": len(rows), "total": total},
                )
            outcomes = [
                outcome
                for outcome in (self._outcome(row, OutcomeSource.POLL, job_id, task.campaign_id) for row in rows)
                if outcome is not None and outcome.final
            ]
            if outcomes:
                yield outcomes

    def task_complete(self, task: VendorTask, closed_contacts: int) -> bool:
        # One call-level result per number per AIRudder task: done once every accepted number has one.
        return task.submitted > 0 and closed_contacts >= task.submitted

    # ------------------------------------------------------------------ inbound
    def authenticate(self, callback: InboundCallback) -> bool:
        token = callback.query.get("token", "")
        token_ok = hmac.compare_digest(token.encode(), self.account.webhook_token.get_secret_value().encode())
        if not token_ok or not source_ip_allowed(callback.source_ip, self.account.ip_allowlist):
            return False
        return not self.account.verify_signature or self._signature_ok(callback)

    def _signature_ok(self, callback: InboundCallback) -> bool:
        given = callback.headers.get("x-airudder-sign", "").strip()
        if not given:
            return False
        mac = hmac.new(self.account.app_secret.get_secret_value().encode(), callback.body, hashlib.sha256)
        return hmac.compare_digest(given.lower().encode(), mac.hexdigest().encode()) or hmac.compare_digest(
            given.encode(), base64.b64encode(mac.digest())
        )

    def parse_callback(self, callback: InboundCallback) -> OutcomeReport | PredialQuestion:
        if callback.kind not in ("call", "task"):
            raise KeyError(callback.kind)
        items = _callback_items(self._plain_body(callback.body))
        if callback.kind == "task":
            for item in items:
                fields = _Fields(item)
                if fields.text("TaskID") is None:
                    raise CallbackRejected("task notification without TaskID")
                logger.info(
                    "airudder task notification",
                    extra={"task_id": fields.text("TaskID"), "status": fields.text("Status", "TaskStatus")},
                )
            return OutcomeReport([])
        outcomes = []
        for item in items:
            outcome = self._outcome(item, OutcomeSource.WEBHOOK)
            if outcome is None:
                raise CallbackRejected("call notification without CallID (or TaskID and Comments)")
            outcomes.append(outcome)
        return OutcomeReport(outcomes)

    def _plain_body(self, raw: bytes) -> Any:
        """The JSON of a callback body, decrypted first when the account has AIRudder encrypt callbacks."""
        if self.account.encrypt_callbacks:
            assert self.account.aes_key is not None and self.account.aes_iv is not None
            raw = decrypt_body(
                _ciphertext(raw),
                self.account.aes_key.get_secret_value().encode(),
                self.account.aes_iv.get_secret_value().encode(),
            )
        try:
            return read_json(raw)
        except JsonRefused as exc:
            raise CallbackRejected(str(exc)) from exc

    def acknowledge(self, callback: InboundCallback) -> Reply:
        return Reply(200, {"status": "success"})

    def predial_reply(self, allow: bool) -> Reply:
        return Reply(404, {"message": "AIRudder has no pre-dial verification"})

    # ------------------------------------------------------------------ normalising
    def _time(self, value: Any) -> dt.datetime | None:
        """Account-local "YYYY-MM-DD hh:mm:ss", ISO 8601 (with or without offset) or epoch (s or ms) -> UTC."""
        try:
            if isinstance(value, int | float) and not isinstance(value, bool) and value > 1e9:
                return dt.datetime.fromtimestamp(value / 1000 if value > 1e11 else value, dt.UTC)
            if not isinstance(value, str) or not value.strip() or value.startswith("0000"):
                return None
            moment = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
            return (moment if moment.tzinfo else moment.replace(tzinfo=self._zone)).astimezone(dt.UTC)
        except (ValueError, OverflowError, OSError):  # not a time, or one beyond the years a datetime holds
            return None

    def _outcome(
        self, item: dict[str, Any], source: OutcomeSource, task_id: str | None = None, campaign_id: str | None = None
    ) -> CallOutcome | None:
        fields = _Fields(item)
        comments = fields.text("Comments", "Comment")
        own_campaign, contact_id = split_comments(comments)
        task_id = fields.text("TaskID") or task_id
        call_id = fields.text("CallID", "CallUUID")
        if call_id is None:
            if not (task_id and comments):
                return None
            call_id = f"{task_id}:{comments}"  # a number never dialled, e.g. cancelled
        status_code = fields.text("CallStatus", "Status", "CallResult", "DialStatus")
        intention = fields.text("Intention", "IntentionTag", "Intent", "Tag", "Label")
        line = CALL_STATUSES.lookup(status_code)
        answered_at = self._time(fields.get("AnswerTime", "AnsweredTime", "ConnectTime"))
        ended_at = self._time(fields.get("EndTime", "HangupTime", "FinishTime"))
        duration = fields.number("Duration", "CallDuration", "TalkTime", "BillSec")
        status = line.status
        if status is None:  # no or unknown status: judged from the other fields
            if intention or answered_at or (duration or 0) > 0:
                status = CallStatus.ANSWERED
            elif source is OutcomeSource.WEBHOOK or ended_at:
                status = CallStatus.NO_ANSWER  # the call webhook only comes once a number is done
            else:
                status = CallStatus.QUEUED
        disposition = line.disposition
        if status is CallStatus.ANSWERED:
            disposition = INTENTIONS.lookup(intention).disposition if intention else Disposition.UNKNOWN
        elif status is CallStatus.NO_ANSWER and line.status is None:
            disposition = Disposition.NOT_CONNECTED
        attempts = fields.number("CallTimes", "CallCount", "Attempts", "DialTimes", "TotalCalls")
        variables: dict[str, Any] = {"raw": _raw_without_pii(item)}
        if attempts is not None:
            variables["attempts"] = attempts
        if intention:
            variables["intention"] = intention
        return CallOutcome(
            vendor=VENDOR,
            vendor_call_id=call_id,
            vendor_task_id=task_id,
            campaign_id=own_campaign or campaign_id,
            contact_id=contact_id,
            status=status,
            disposition=disposition,
            vendor_code=intention or status_code,
            vendor_description=fields.text("HangupReason", "Reason", "Description", "Remark"),
            vendor_status=status_code,
            started_at=self._time(fields.get("StartTime", "CallTime", "DialTime")),
            answered_at=answered_at,
            ended_at=ended_at,
            duration_seconds=duration,
            recording_url=fields.text("RecordingURL", "RecordUrl", "RecordingLink", "Recording"),
            variables=variables,
            source=source,
            closes_contact=True,  # one call-level result per number: redials are inside it
        )


def _ciphertext(raw: bytes) -> str:
    """The base64 text of an encrypted body: the body itself, or `data` of a JSON object wrapping it."""
    try:
        text = raw.decode("ascii").strip()
    except UnicodeDecodeError as exc:
        raise CallbackRejected("encrypted body is not base64 text") from exc
    if text.startswith("{"):
        try:
            wrapper = read_json(text)
        except JsonRefused as exc:
            raise CallbackRejected("encrypted body is not base64 text") from exc
        value = _Fields(wrapper).get("data", "encrypt", "encrypted", "content") if isinstance(wrapper, dict) else None
        if not isinstance(value, str):
            raise CallbackRejected("expected an encrypted body (encryptCallbacks is on)")
        return value
    return text.strip('"')


def _callback_items(body: Any) -> list[dict[str, Any]]:
    """The result objects of a callback: a bare object, a list, or one wrapped in `data` or `body`."""
    if isinstance(body, dict) and _Fields(body).get("TaskID", "CallID", "Comments") is None:
        inner = _Fields(body).get("data", "body")
        if isinstance(inner, dict | list):
            body = inner
    items = body if isinstance(body, list) else [body]
    if not items or not all(isinstance(item, dict) for item in items):
        raise CallbackRejected("expected a JSON object (or a list of them)")
    return items


def _raw_without_pii(item: Mapping[str, Any]) -> dict[str, Any]:
    """The vendor's fields as received, minus names and transcripts, phone numbers masked, long text cut."""
    kept: dict[str, Any] = {}
    for key, value in item.items():
        normalised = _normalised(str(key))
        if normalised in _PII_DROPPED:
            continue
        if normalised in _PII_MASKED and value not in (None, ""):
            kept[key] = mask_phone(str(value))
        elif isinstance(value, str):
            kept[key] = value[:RAW_TEXT_LIMIT]
        elif isinstance(value, bool | int | float) or value is None:
            kept[key] = value
        else:
            kept[key] = json.dumps(value, ensure_ascii=False, default=str)[:RAW_TEXT_LIMIT]
    return kept


ADAPTER = AirudderAdapter

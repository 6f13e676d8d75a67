"""What travels to and from AIRudder: the account and campaign options, the numbers and schedule of a task,
and tolerant reads of its answers and callbacks (names matched without regard to case or underscores)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import ConfigDict, Field, SecretStr, field_validator, model_validator

from dialhub.models import CallingWindow, IanaZone, WireModel
from dialhub.phones import mask_phone
from dialhub.vendors.airudder.codes import (
    COMMENTS_LIMIT,
    COMMENTS_SEPARATOR,
    CUSTOMER_LIMIT,
    DEFAULT_PLATFORM,
    DEFAULT_TASK_SIZE,
    DEFAULT_TASK_TYPE,
    EXTRA_FIELD_LIMIT,
    HORIZON_MARGIN,
    MAX_MOBILE_DIGITS,
    MAX_TASK_SIZE,
    MIN_SCHEDULE_SPAN,
    QUERY_LIMIT_EXCEEDED,
    SCHEDULE_HORIZON,
    START_LEAD,
    SUCCESS_CODES,
    TASK_NAME_LIMIT,
    TOKEN_ERRORS,
    TRANSIENT_ERRORS,
    VENDOR,
    describe_error,
)
from dialhub.vendors.base import CallbackRejected, IpAllowlist, VendorRejected, VendorUnavailable


# --- account and campaign options ------------------------------------------------------------------------
class AirudderAccount(WireModel):
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


class AirudderOptions(WireModel):
    """Campaign settings of the AIRudder tasks (vendorOptions); unknown keys are refused to catch typos."""

    model_config = ConfigDict(extra="forbid")  # WireModel's config otherwise

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


# --- a task's numbers and schedule ----------------------------------------------------------------------
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


def variable_text(value: Any) -> str:
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
        text = variable_text(variables.get(variable))
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


# --- reading answers and callbacks ----------------------------------------------------------------------
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
_WHOLE_NUMBER = re.compile(r"-?[0-9]+")  # ASCII digits only: int() refuses "--1", and str.isdigit takes "²"


def _normalised(name: str) -> str:
    return name.replace("_", "").replace("-", "").casefold()


class Fields:
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


def code_of(payload: Mapping[str, Any]) -> int | None:
    code = payload.get("code")
    if isinstance(code, bool):
        return None
    if isinstance(code, int):
        return code
    if isinstance(code, str) and _WHOLE_NUMBER.fullmatch(code.strip()):
        return int(code.strip())
    return None


def succeeded(payload: Mapping[str, Any]) -> bool:
    code = code_of(payload)
    if code is None:
        return str(payload.get("status", "")).upper() == "OK"
    return code in SUCCESS_CODES


def message_of(payload: Mapping[str, Any]) -> str | None:
    for key in ("message", "msg", "error", "status"):
        value = payload.get(key)
        if isinstance(value, str) and value.strip() and value.strip().upper() != "OK":
            return value.strip()
    return None


def data_of(payload: Mapping[str, Any]) -> Any:
    return payload.get("data")


def listing_total(payload: Mapping[str, Any]) -> int | None:
    """The number of rows a listing says it holds in all (`total`), or None. Never `count`: in the vendors'
    documents that is the number of rows of one page, and a page's count read as the total ends paging early."""
    data = data_of(payload)
    if not isinstance(data, dict):
        return None
    total = Fields(data).number("total", "TotalCount", "TotalNum", "TotalRecords")
    return total if total is not None and total >= 0 else None


def row_key(row: Mapping[str, Any]) -> str:
    """What tells two listing rows apart: our Comments and the call, else the whole row."""
    fields = Fields(row)
    comments, call_id = fields.text("Comments", "Comment"), fields.text("CallID", "CallUUID")
    if comments or call_id:
        return f"{comments or ''}\x1f{call_id or ''}"
    return json.dumps(row, sort_keys=True, default=str)


def rows_of(payload: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The rows of a list/detail answer: `data` itself, or the first list inside it."""
    data = data_of(payload)
    if isinstance(data, dict):
        for key in ("list", "List", "details", "Details", "detail_list", "rows", "records", "items", "data"):
            if isinstance(data.get(key), list):
                data = data[key]
                break
        else:
            data = [data] if Fields(data).get("TaskID", "CallID") is not None else []
    if not isinstance(data, list):
        return []
    return [row for row in data if isinstance(row, dict)]


class QueryLimited(VendorUnavailable):
    """AIRudder answered 10705: too many queries for now."""


def refusal(payload: Mapping[str, Any]) -> VendorRejected | VendorUnavailable:
    """The error to raise for a non-success AIRudder answer: transient codes are worth retrying later."""
    code = code_of(payload)
    reason = describe_error(code, message_of(payload))
    if code == QUERY_LIMIT_EXCEEDED:
        return QueryLimited(VENDOR, f"{VENDOR} error {code}: {reason}")
    if code in TRANSIENT_ERRORS:
        return VendorUnavailable(VENDOR, f"{VENDOR} error {code}: {reason}")
    return VendorRejected(VENDOR, code, reason, account_refused=code in TOKEN_ERRORS)  # refused after a refresh


_RECORD_LISTS = ("data", "body", "list", "records", "calls", "details")


def callback_items(body: Any) -> list[dict[str, Any]]:
    """The result objects of a callback: a bare object, a list, or either one in an envelope (`data`, `body`,
    `list`, `records`...): an object that names no call holding a list of records, or one record. The
    envelope's TaskID is carried onto the records that have none of their own; nothing else of it is (its
    `Status` is the task's, not a call's)."""
    if isinstance(body, dict):
        outer = Fields(body)
        inner = outer.get(*_RECORD_LISTS)
        if not _is_record(outer) and (
            isinstance(inner, list)
            or (isinstance(inner, dict) and (outer.get("TaskID") is None or _is_record(Fields(inner))))
        ):
            task_id = outer.text("TaskID")
            records = inner if isinstance(inner, list) else [inner]
            body = [_with_task(record, task_id) for record in records]
    items = body if isinstance(body, list) else [body]
    if not items or not all(isinstance(item, dict) for item in items):
        raise CallbackRejected("expected a JSON object (or a list of them)")
    return items


def _is_record(fields: Fields) -> bool:
    """A call result names its call or our Comments; its own nested values (e.g. `details`) stay its own."""
    return fields.get("CallID", "CallUUID", "Comments") is not None


def _with_task(record: Any, task_id: str | None) -> Any:
    if task_id is None or not isinstance(record, dict) or Fields(record).text("TaskID") is not None:
        return record
    own = [key for key in record if _normalised(str(key)) == "taskid"]  # an empty one of its own is replaced
    return {**{key: value for key, value in record.items() if key not in own}, "TaskID": task_id}


def raw_without_pii(item: Mapping[str, Any]) -> dict[str, Any]:
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

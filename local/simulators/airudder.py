"""Offline HTTP stand-in for AIRudder's robot-call (cloud task) API.

Why it exists: AIRudder has no sandbox, yet everything dialhub does with it (24-hour tokens refreshed on
401/10813, one task per chunk with a unique TaskName, the 5-day scheduling window, partial acceptance
through detail_error_list, redials, call and task webhooks that may be signed, encrypted or lost, the
query-count limit of the detail endpoint, cancelling a call or a task) must be provable before a real
account exists. This simulator speaks that contract over loopback HTTP, seeded so runs are repeatable, and
counts what tests need ("nobody dialled twice").

Contract: docs/vendors/airudder.md. Where AIRudder's pages were unreadable the shapes
follow dialhub's assumptions (vendors/airudder/); those marked ASSUMPTION here are the simulator's own.

Time is compressed: a ScheduleStartTime in the future is treated as "now" (dialling starts at once) unless
`honour_schedule` is set, and one minute of RepeatInterval lasts `minute_seconds` seconds.

"Unexpected vendor" switches (`quirks`, see QUIRKS), each an AIRudder that breaks one of dialhub's
assumptions in a way its documents leave open: `short_pages` serves every listing (detail and list) at most
10 rows a page, with a total and honouring PageNumber/PageSize (A9); `one_based` counts detail_error_list
rows from 1, sends no `comments` with them, and refuses a deterministic ~5% of numbers that way (A6).
Stdlib only, except `cryptography` for encrypted callbacks.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import itertools
import json
import logging
import random
import re
import secrets
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

from local.simulators import SimulatorKnobs
from local.simulators.plumbing import (
    Reported,
    ServedSimulator,
    encode_json,
    wait_until_idle,
)

logger = logging.getLogger(__name__)

# --- endpoints -----------------------------------------------------------------------------------------
PATH_AUTH = "/service/cloud/auth"
PATH_CREATE_TASK = "/service/cloud/v2/task"
PATH_LIST = "/service/cloud/list"
PATH_DETAIL = "/service/cloud/detail"
PATH_CANCEL_CALL = "/service/cloud/cancelphonecall"
PATH_OPERATION = "/service/cloud/operation"

# --- codes (global error table, airudder.md section 4) ---------------------------------------------------
CODE_OK = 200
CODE_ACCOUNT_FAILED = 10302
CODE_CREATE_FAILED = 10501
CODE_TASK_ID_EMPTY = 10502
CODE_LIST_EMPTY = 10505
CODE_TASK_NOT_FOUND = 10506
CODE_DUPLICATE_NAME = 10508
CODE_START_IN_PAST = 10509
CODE_TASK_FINISHED = 10513
CODE_BAD_TASK_NAME = 10518
CODE_BAD_REPEAT = 10521
CODE_ALREADY_CALLED = 10606  # ASSUMPTION: one of the 10605-10614 task/call state errors
CODE_PHONE_NOT_IN_TASK = 10607  # ASSUMPTION: likewise
CODE_END_TOO_EARLY = 10620
CODE_QUERY_LIMIT = 10705
CODE_INVALID_TOKEN = 10812
CODE_EXPIRED_TOKEN = 10813

# --- limits --------------------------------------------------------------------------------------------
MAX_DETAILS = 10_000
TASK_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MOBILE_PATTERN = re.compile(r"^\+[1-9]\d{6,13}$")
PLATFORM_PATTERN = re.compile(r"^[A-Za-z]{1,20}$")
TEXT_LIMIT = 64  # Customer, Comments
EXTRA_LIMIT = 255  # ASSUMPTION (as dialhub's)
SCHEDULE_HORIZON = timedelta(days=5)
MIN_SCHEDULE_SPAN = timedelta(minutes=30)
START_SLACK = timedelta(minutes=2)  # a start "now" that arrives a little late is still accepted
CALLBACK_TRIES = 5  # PDS-HOOK: "max 5 tries"
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
RECORDING_PREFIX = "https://recording.airudder.com/sim/"

# --- "unexpected vendor" switches ----------------------------------------------------------------------
QUIRKS = frozenset({"short_pages", "one_based"})
SHORT_PAGE = 10  # rows per listing page under `short_pages`, whatever PageSize asks
QUIRK_REFUSAL_SHARE = 20  # under `one_based`, one number in this many is refused (by a hash of its Comments)


def quirk_refuses(comments: str) -> bool:
    """Whether `one_based` refuses this number: deterministic per Comments, about 5% of them."""
    digest = hashlib.sha256(f"one_based\x1f{comments}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % QUIRK_REFUSAL_SHARE == 0


# --- number and task states ------------------------------------------------------------------------------
_WAITING = "Waiting"
_REDIAL = "WaitingRedial"
_CALLING = "Calling"
_HELD = "Held"  # due while its task was paused; shown as Waiting
_DONE = "Done"
_TASK_RUNNING = "Running"
_TASK_PAUSED = "Paused"
_TASK_CANCELLED = "Cancelled"
_TASK_FINISHED = "Finished"


@dataclass(frozen=True)
class DialResult:
    """One possible end of one dial attempt, with its weight in the simulated collections mix."""

    status: str
    intention: str
    weight: float
    hangup_reason: str
    redial: bool  # whether AIRudder would try the number again (RepeatNumber permitting)

    @property
    def answered(self) -> bool:
        return self.status == "Answered"


# "Xyz9" is deliberately undocumented so clients prove unknown intentions are kept and counted.
DIAL_RESULTS: tuple[DialResult, ...] = (
    DialResult("Answered", "PTP", 16, "customer hung up", False),
    DialResult("Answered", "PTPNoDate", 5, "customer hung up", False),
    DialResult("Answered", "AlreadyPaid", 5, "robot hung up", False),
    DialResult("Answered", "RefuseToPay", 6, "customer hung up", False),
    DialResult("Answered", "NoAgreement", 6, "robot hung up", False),
    DialResult("Answered", "WrongNumber", 4, "customer hung up", False),
    DialResult("Answered", "Callback", 4, "robot hung up", False),
    DialResult("Answered", "Complaint", 2, "customer hung up", False),
    DialResult("Answered", "HangUp", 5, "customer hung up", False),
    DialResult("Answered", "NoIntention", 4, "robot hung up", False),
    DialResult("Answered", "Xyz9", 1, "robot hung up", False),
    DialResult("Voicemail", "", 2, "voicemail detected", False),
    DialResult("InvalidNumber", "", 3, "number does not exist", False),
    DialResult("NoAnswer", "", 14, "no answer", True),
    DialResult("Busy", "", 6, "user busy", True),
    DialResult("Rejected", "", 3, "call rejected", True),
    DialResult("PowerOff", "", 5, "powered off", True),
    DialResult("Unreachable", "", 3, "out of area", True),
    DialResult("Failed", "", 2, "line failure", True),
)
_WEIGHTS = [result.weight for result in DIAL_RESULTS]


class _ApiError(Exception):
    """An AIRudder refusal: HTTP 200 (unless `http_status`) with a 10xxx `code`."""

    def __init__(self, code: int, message: str, data: dict[str, Any] | None = None, http_status: int = 200) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data
        self.http_status = http_status


@dataclass
class _Number:
    mobile: str
    comments: str
    customer: str
    platform: str
    extras: dict[str, str]
    state: str = _WAITING
    attempts: int = 0
    call_id: str = ""
    last: dict[str, Any] = field(default_factory=dict)  # the last attempt's result fields
    final_status: str = ""


@dataclass
class _Task:
    task_id: str
    name: str
    robot_id: str
    sip_line: str
    task_type: str
    repeat_number: int
    repeat_interval: int
    start: datetime
    end: datetime
    numbers: list[_Number]
    status: str = _TASK_RUNNING
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def done(self) -> bool:
        return all(number.state == _DONE for number in self.numbers)


def mask_mobile(mobile: str) -> str:
    """How numbers appear in the simulator's own logs: never whole."""
    return f"***{mobile[-4:]}" if len(mobile) > 4 else "***"


def sign_body(app_secret: str, body: bytes) -> str:
    """X-AIRudder-Sign as dialhub assumes it: lowercase hex HMAC-SHA256 of the raw body, keyed by APPSecret."""
    return hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def encrypt_body(plaintext: bytes, key: str, iv: str) -> bytes:
    """AES-CBC + PKCS7, base64 text: how dialhub assumes AIRudder encrypts callback bodies."""
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    padder = padding.PKCS7(algorithms.AES.block_size).padder()
    padded = padder.update(plaintext) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key.encode()), modes.CBC(iv.encode())).encryptor()
    return base64.b64encode(encryptor.update(padded) + encryptor.finalize())


def _contacts_in(all_comments: set[str]) -> set[tuple[str, str]]:
    """(campaignId, contactId) named by Comments values dialhub wrote; others are left out."""
    return {
        (campaign_id, contact_id)
        for comments in all_comments
        for campaign_id, separator, contact_id in [comments.partition("|")]
        if separator and campaign_id and contact_id
    }


class AirudderSimulator(ServedSimulator):
    """AIRudder's cloud task API on loopback, plus counters that prove exactly-once dialling and delivery."""

    vendor = "airudder"

    def __init__(
        self,
        app_key: str,
        app_secret: str,
        *,
        timezone: str = "Asia/Manila",
        dial_delay: tuple[float, float] = (0.05, 0.4),
        minute_seconds: float = 0.05,
        retry_interval: float = 0.3,
        drop_rate: float = 0.0,
        seed: int = 7,
        token_ttl: float = 24 * 3600.0,
        query_limit: int = 50,
        query_window: float = 1.0,
        honour_schedule: bool = False,
        sign_callbacks: bool = False,
        encrypt_callbacks: bool = False,
        refused_prefixes: tuple[str, ...] = (),
        quirks: frozenset[str] = frozenset(),
        aes_key: str | None = None,
        aes_iv: str | None = None,
        clock: Callable[[], datetime] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.app_key = app_key
        self.app_secret = app_secret
        self.timezone = ZoneInfo(timezone)
        self.dial_delay = dial_delay
        self.minute_seconds = minute_seconds  # one minute of RepeatInterval, compressed
        self.retry_interval = retry_interval  # compressed stand-in for AIRudder's 1-minute callback retry
        self.drop_rate = drop_rate  # share of webhooks lost for good (polling must recover them)
        self.token_ttl = token_ttl
        self.query_limit = query_limit  # list/detail queries allowed per query_window seconds (10705 beyond)
        self.query_window = query_window
        self.honour_schedule = honour_schedule
        self.sign_callbacks = sign_callbacks
        self.encrypt_callbacks = encrypt_callbacks
        self.refused_prefixes = refused_prefixes  # numbers the account may not call (country-code error)
        if unknown := quirks - QUIRKS:
            raise ValueError(f"the airudder simulator has no switch {sorted(unknown)}; it has {sorted(QUIRKS)}")
        self.quirks = quirks
        self.aes_key = aes_key or secrets.token_hex(16)
        self.aes_iv = aes_iv or secrets.token_hex(8)
        self.call_url: str | None = None  # settable later: the local stack knows its gateway once it is up
        self.task_url: str | None = None
        self.host = host
        self.port = port
        self._seed = seed
        self._clock = clock or (lambda: datetime.now(UTC))
        self._rng = random.Random(seed)
        self._lock = threading.RLock()
        self._tasks: dict[str, _Task] = {}
        self._names: dict[str, str] = {}
        self._tokens: dict[str, float] = {}  # token -> monotonic expiry
        self._queries: deque[float] = deque()
        self._faults: deque[tuple[int, bool]] = deque()  # (HTTP status, process the request first)
        self._call_ids = itertools.count(int(f"{seed % 1000:03d}100000000"))
        self.task_size = 5000  # the taskSize of the account secret account() returns
        self._courier = self._callback_courier(self._lock, seed, attempts=lambda: CALLBACK_TRIES)
        # Counters for tests.
        self.dial_requests: Counter[str] = Counter()  # accepted numbers per Comments, across all tasks
        self._offered: set[str] = set()  # the Comments of every Details row a processed create carried
        self.auth_requests = 0
        self.create_requests = 0
        self.query_requests = 0
        self.queries_refused = 0
        self.calls_made = 0

    # --- lifecycle -------------------------------------------------------------------------------------

    # --- local stack -----------------------------------------------------------------------------------
    def account(self, webhook_token: str) -> dict[str, Any]:
        """The dialhub account secret for this simulator."""
        account: dict[str, Any] = {
            "appKey": self.app_key,
            "appSecret": self.app_secret,
            "baseUrl": self.base_url,
            "webhookToken": webhook_token,
            "timezone": self.timezone.key,
            "taskSize": self.task_size,
            "ipAllowlist": [],
            "verifySignature": self.sign_callbacks,
            "encryptCallbacks": self.encrypt_callbacks,
        }
        if self.encrypt_callbacks:
            account |= {"aesKey": self.aes_key, "aesIv": self.aes_iv}
        return account

    def connect(self, gateway_url: str) -> dict[str, Any]:
        """Send webhooks through the gateway with a fresh URL token; returns the matching account secret."""
        token = secrets.token_urlsafe(24)
        self.call_url = f"{gateway_url}/webhooks/airudder/call?token={token}"
        self.task_url = f"{gateway_url}/webhooks/airudder/task?token={token}"
        return self.account(token)

    def demo_options(self) -> dict[str, Any]:
        return {
            "robotId": "e9f60ec4e5f1721c7992dc882767eb19",
            "sipLine": "PH_SIM_LINE",
            "repeatNumber": 2,
            "repeatInterval": 1,
            "extraFields": {"ExtraA": "amountDue", "ExtraB": "dueDate"},
        }

    def pending(self) -> int:
        """Numbers not yet final (in tasks that are not paused) plus webhooks not yet delivered or given up."""
        with self._lock:
            open_numbers = sum(
                1
                for task in self._tasks.values()
                if task.status != _TASK_PAUSED
                for number in task.numbers
                if number.state != _DONE
            )
            return open_numbers + self._courier.outstanding

    def wait_idle(self, timeout: float) -> bool:
        return wait_until_idle(self.pending, timeout)

    def reported_call_ids(self) -> set[str]:
        """One per number: its webhook and its detail row carry the CallID of its last attempt."""
        with self._lock:
            return {
                number.call_id
                for task in self._tasks.values()
                for number in task.numbers
                if number.state == _DONE and number.call_id
            }

    def taken_contacts(self) -> set[tuple[str, str]]:
        with self._lock:
            return _contacts_in(set(self.dial_requests))

    def refused_contacts(self) -> set[tuple[str, str]]:
        """(campaignId, contactId), from Comments, of every number a create carried that no task took."""
        with self._lock:
            return _contacts_in(self._offered - set(self.dial_requests))

    # --- test hooks ------------------------------------------------------------------------------------
    def fail_next(self, count: int, status: int = 503) -> None:
        """Answer the next `count` API requests with `status` without processing them."""
        with self._lock:
            self._faults.extend([(status, False)] * count)

    def lose_next_responses(self, count: int, status: int = 504) -> None:
        """Process the next `count` API requests, then answer `status`: the client never sees the result."""
        with self._lock:
            self._faults.extend([(status, True)] * count)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def expire_tokens(self) -> None:
        """Every token issued so far is past its 24 hours (answers 10813)."""
        with self._lock:
            self._tokens = dict.fromkeys(self._tokens, 0.0)

    def revoke_tokens(self) -> None:
        """Forget every token issued so far (answers HTTP 401, 10812)."""
        with self._lock:
            self._tokens.clear()

    def task_ids(self) -> list[str]:
        with self._lock:
            return list(self._tasks)

    def rows(self, task_id: str) -> list[dict[str, Any]]:
        """The detail rows of a task, as GET /service/cloud/detail shows them (test convenience, unlimited)."""
        with self._lock:
            task = self._tasks.get(task_id)
            return [self._row(task, number) for number in task.numbers] if task else []

    def task_status(self, task_id: str) -> str:
        with self._lock:
            return self._tasks[task_id].status

    # --- request handling ------------------------------------------------------------------------------
    def _now(self) -> datetime:
        now = self._clock()
        return now if now.tzinfo is not None else now.replace(tzinfo=UTC)

    def _local(self, moment: datetime) -> str:
        return moment.astimezone(self.timezone).strftime(TIME_FORMAT)

    def _handle_api(self, method: str, raw_path: str, headers: Any, body: bytes) -> tuple[int, dict[str, Any]]:
        """Faults, token, then the endpoint; returns (HTTP status, JSON body)."""
        parts = urlsplit(raw_path)
        query = dict(parse_qsl(parts.query))
        with self._lock:
            fault = self._faults.popleft() if self._faults else None
        if fault is not None and not fault[1]:
            return fault[0], {"code": fault[0], "status": "Failed", "message": "injected fault"}
        routes: dict[tuple[str, str], Callable[[dict[str, Any]], dict[str, Any]]] = {
            ("POST", PATH_AUTH): self._auth,
            ("POST", PATH_CREATE_TASK): self._create_task,
            ("GET", PATH_LIST): self._list,
            ("GET", PATH_DETAIL): self._detail,
            ("POST", PATH_CANCEL_CALL): self._cancel_call,
            ("POST", PATH_OPERATION): self._operation,
        }
        endpoint = routes.get((method, parts.path))
        if endpoint is None:
            return 404, {"code": 404, "status": "Failed", "message": "not found"}
        try:
            if parts.path != PATH_AUTH:
                self._check_token(headers.get("Authorization") or "")
            if method == "GET":
                arguments: Any = query
            else:
                try:
                    arguments = json.loads(body.decode("utf-8"))
                except (UnicodeDecodeError, ValueError) as exc:
                    raise _ApiError(CODE_CREATE_FAILED, "body is not JSON") from exc
                if not isinstance(arguments, dict):
                    raise _ApiError(CODE_CREATE_FAILED, "body must be a JSON object")
            status, payload = 200, {"data": endpoint(arguments), "status": "OK", "code": CODE_OK}
        except _ApiError as refusal:
            payload = {"status": "Failed", "code": refusal.code, "message": refusal.message}
            if refusal.data is not None:
                payload["data"] = refusal.data
            status = refusal.http_status
        if fault is not None:  # processed, but the answer is lost on the way back
            return fault[0], {"code": fault[0], "status": "Failed", "message": "injected fault after processing"}
        return status, payload

    def _auth(self, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self.auth_requests += 1
        key_ok = hmac.compare_digest(str(body.get("APPKey", "")).encode(), self.app_key.encode())
        secret_ok = hmac.compare_digest(str(body.get("APPSecret", "")).encode(), self.app_secret.encode())
        if not (key_ok and secret_ok):
            raise _ApiError(CODE_ACCOUNT_FAILED, "account verification failed")
        token = secrets.token_urlsafe(36)
        with self._lock:
            # A new token leaves the earlier ones valid until their own expiry (TOKEN).
            self._tokens[token] = time.monotonic() + self.token_ttl
        return {"token": token}

    def _check_token(self, authorization: str) -> None:
        scheme, _, token = authorization.partition(" ")
        with self._lock:
            expires_at = self._tokens.get(token) if scheme == "Token" else None
        if expires_at is None:
            raise _ApiError(CODE_INVALID_TOKEN, "invalid token", http_status=401)
        if time.monotonic() >= expires_at:
            raise _ApiError(CODE_EXPIRED_TOKEN, "token expired")

    def _count_query(self) -> None:
        """10705 once more than `query_limit` queries fall within `query_window` seconds."""
        now = time.monotonic()
        with self._lock:
            self.query_requests += 1
            while self._queries and now - self._queries[0] > self.query_window:
                self._queries.popleft()
            if len(self._queries) >= self.query_limit:
                self.queries_refused += 1
                raise _ApiError(CODE_QUERY_LIMIT, "query count limit exceeded")
            self._queries.append(now)

    # --- create task -----------------------------------------------------------------------------------
    def _parse_time(self, value: Any, field_name: str) -> datetime:
        try:
            local = datetime.strptime(str(value), TIME_FORMAT)
        except ValueError as exc:
            raise _ApiError(CODE_CREATE_FAILED, f"{field_name} must be YYYY-MM-DD hh:mm:ss") from exc
        return local.replace(tzinfo=self.timezone).astimezone(UTC)

    def _scheduled_window(self, body: dict[str, Any], now: datetime) -> tuple[datetime, datetime]:
        if body.get("StartImmediately") is True:
            return now, now + timedelta(hours=12)  # ASSUMPTION: what AIRudder computes is not documented
        start = self._parse_time(body.get("ScheduleStartTime"), "ScheduleStartTime")
        end = self._parse_time(body.get("ScheduleEndTime"), "ScheduleEndTime")
        if start < now - START_SLACK:
            raise _ApiError(CODE_START_IN_PAST, "ScheduleStartTime is earlier than now")
        if start > now + SCHEDULE_HORIZON or end > now + SCHEDULE_HORIZON:
            raise _ApiError(CODE_CREATE_FAILED, "schedule must be within the next 5 days")
        if end < start + MIN_SCHEDULE_SPAN:
            raise _ApiError(CODE_END_TOO_EARLY, "ScheduleEndTime must be at least 30 minutes after the start")
        return start, end

    @staticmethod
    def _int_in(body: dict[str, Any], name: str, low: int, high: int) -> int:
        value = body.get(name)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise _ApiError(CODE_BAD_REPEAT, f"{name} must be an integer from {low} to {high}")
        return value

    def _row_error(self, raw: Any) -> str | None:
        """Why AIRudder would skip this Details row, or None."""
        if not isinstance(raw, dict):
            return "Details Error: not an object"
        mobile = raw.get("Mobile")
        if not isinstance(mobile, str) or not mobile.startswith("+") or mobile.startswith(self.refused_prefixes):
            digits = "".join(char for char in str(mobile or "") if char.isdigit())
            return f"Country Code Error: {digits}"
        if not MOBILE_PATTERN.match(mobile):
            return f"Mobile Error: {mobile}"
        if not isinstance(raw.get("Platform"), str) or not PLATFORM_PATTERN.match(raw["Platform"]):
            return "Platform Error: at most 20 letters"
        for name, limit in (
            ("Customer", TEXT_LIMIT),
            ("Comments", TEXT_LIMIT),
            ("ExtraA", EXTRA_LIMIT),
            ("ExtraB", EXTRA_LIMIT),
            ("ExtraC", EXTRA_LIMIT),
        ):
            value = raw.get(name, "")
            if not isinstance(value, str) or len(value) > limit:
                return f"{name} Error: at most {limit} characters"
            if any(ord(char) > 0xFFFF for char in value):
                return f"{name} Error: unsupported characters"
        if raw.get("Gender") not in (None, "", "male", "female"):
            return "Gender Error: male or female"
        return None

    def _create_task(self, body: dict[str, Any]) -> dict[str, Any]:
        details = body.get("Details")
        with self._lock:
            self.create_requests += 1
            if isinstance(details, list):  # refused or not, each of these numbers was offered
                self._offered.update(
                    raw["Comments"] for raw in details if isinstance(raw, dict) and isinstance(raw.get("Comments"), str)
                )
        name = body.get("TaskName")
        if not isinstance(name, str) or not TASK_NAME_PATTERN.match(name):
            raise _ApiError(CODE_BAD_TASK_NAME, "TaskName: letters, digits, _ or -, at most 64")
        for required in ("RobotID", "SIPLine", "Type"):
            if not isinstance(body.get(required), str) or not body[required]:
                raise _ApiError(CODE_CREATE_FAILED, f"{required} is required")
        perform = body.get("Perform")
        if perform not in (1, 2, 3) or isinstance(perform, bool):
            raise _ApiError(CODE_CREATE_FAILED, "Perform must be 1, 2 or 3")
        repeat_number = self._int_in(body, "RepeatNumber", 0, 15)
        repeat_interval = self._int_in(body, "RepeatInterval", 0, 30)
        if body.get("RobotMethod", "single") not in ("single", "group"):
            raise _ApiError(CODE_CREATE_FAILED, "RobotMethod must be single or group")
        now = self._now()
        start, end = self._scheduled_window(body, now)
        if not isinstance(details, list) or not details:
            raise _ApiError(CODE_LIST_EMPTY, "contact list is empty")
        if len(details) > MAX_DETAILS:
            raise _ApiError(CODE_CREATE_FAILED, f"Details exceed {MAX_DETAILS} numbers")
        errors, good = [], []
        one_based = "one_based" in self.quirks
        for index, raw in enumerate(details):
            problem = self._row_error(raw)
            if problem is None and one_based and quirk_refuses(str(raw.get("Comments", ""))):
                problem = "Blocked Number Error: the carrier refused this number"
            if problem and one_based:  # counted from 1, and no comments to say which number it was
                errors.append({"field": f"Details[{index + 1}]", "msg": problem})
            elif problem:
                comments = raw.get("Comments", "") if isinstance(raw, dict) else ""
                errors.append({"field": f"Details[{index}]", "msg": problem, "comments": comments})
            else:
                good.append(raw)
        if perform == 2:
            return {"detail_error_list": errors}
        if errors and (perform == 3 or not good):
            raise _ApiError(
                CODE_CREATE_FAILED if good else CODE_LIST_EMPTY,
                "no task created: invalid numbers",
                data={"detail_error_list": errors},
            )
        with self._lock:
            if name in self._names:
                raise _ApiError(CODE_DUPLICATE_NAME, "duplicate task name")
            task_id = f"{self._rng.getrandbits(128):032x}"
            numbers = [
                _Number(
                    mobile=raw["Mobile"],
                    comments=raw.get("Comments", ""),
                    customer=raw.get("Customer", ""),
                    platform=raw["Platform"],
                    extras={key: raw[key] for key in ("ExtraA", "ExtraB", "ExtraC") if key in raw},
                )
                for raw in good
            ]
            task = _Task(
                task_id,
                name,
                body["RobotID"],
                body["SIPLine"],
                body["Type"],
                repeat_number,
                repeat_interval,
                start,
                end,
                numbers,
                created_at=now,
            )
            self._tasks[task_id] = task
            self._names[name] = task_id
            for number in numbers:
                self.dial_requests[number.comments] += 1
            first_delay = max(0.0, (start - now).total_seconds()) if self.honour_schedule else 0.0
            delays = [first_delay + self._rng.uniform(*self.dial_delay) for _ in numbers]
        for number, delay in zip(numbers, delays, strict=True):
            self._schedule(delay, functools.partial(self._dial, task, number))
        data: dict[str, Any] = {"TaskID": task_id}
        if errors:
            data["detail_error_list"] = errors
        return data

    # --- queries ---------------------------------------------------------------------------------------
    def _list(self, query: dict[str, Any]) -> dict[str, Any]:
        self._count_query()
        wanted = query.get("TaskName")
        with self._lock:
            tasks = [task for task in self._tasks.values() if wanted in (None, task.name)]
            rows = [
                {
                    "TaskID": task.task_id,
                    "TaskName": task.name,
                    "Status": task.status,
                    "Total": len(task.numbers),
                    "CreateTime": self._local(task.created_at),
                }
                for task in tasks
            ]
        return {"total": len(rows), "list": self._page(rows, query)}

    def _detail(self, query: dict[str, Any]) -> dict[str, Any]:
        self._count_query()
        with self._lock:
            task = self._task(query.get("TaskID"))
            rows = [self._row(task, number) for number in task.numbers]
            return {
                "TaskID": task.task_id,
                "TaskName": task.name,
                "Status": task.status,
                "total": len(rows),
                "list": self._page(rows, query),
            }

    def _page(self, rows: list[dict[str, Any]], query: dict[str, Any]) -> list[dict[str, Any]]:
        """Every row (paging parameters ignored), or with `short_pages` the page PageNumber (from 1) asks,
        at most SHORT_PAGE rows whatever PageSize says."""
        if "short_pages" not in self.quirks:
            return rows
        number, size = self._whole(query.get("PageNumber"), 1), self._whole(query.get("PageSize"), SHORT_PAGE)
        size = min(max(size, 1), SHORT_PAGE)
        return rows[(max(number, 1) - 1) * size : max(number, 1) * size]

    @staticmethod
    def _whole(value: Any, default: int) -> int:
        text = str(value).strip() if value is not None else ""
        return int(text) if text.isdecimal() and len(text) < 7 else default

    def _task(self, task_id: Any) -> _Task:
        if not task_id:
            raise _ApiError(CODE_TASK_ID_EMPTY, "TaskID is empty")
        task = self._tasks.get(str(task_id))
        if task is None:
            raise _ApiError(CODE_TASK_NOT_FOUND, "task not found")
        return task

    def _row(self, task: _Task, number: _Number) -> dict[str, Any]:
        """One number as the detail endpoint and the Webhook of Call show it (dialhub's assumed shape)."""
        if number.state == _DONE:
            status = number.final_status
        elif number.state == _CALLING:
            status = "Calling"
        elif number.state == _REDIAL:
            status = "WaitingRedial"
        else:
            status = "Waiting"
        row = {
            "TaskID": task.task_id,
            "CallID": number.call_id,
            "Mobile": number.mobile,
            "Customer": number.customer,
            "Comments": number.comments,
            "CallStatus": status,
            "Intention": "",
            "CallTimes": number.attempts,
            "StartTime": "",
            "AnswerTime": "",
            "EndTime": "",
            "Duration": 0,
            "RecordingURL": "",
            "HangupReason": "",
            **number.extras,
        }
        if number.state == _DONE:
            row.update(number.last)
        return row

    # --- cancelling and task operations ----------------------------------------------------------------
    def _cancel_call(self, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            task = self._task(body.get("TaskID"))
            if task.status in (_TASK_FINISHED, _TASK_CANCELLED):
                raise _ApiError(CODE_TASK_FINISHED, "task is finished")
            matching = [number for number in task.numbers if number.mobile == body.get("Mobile")]
            if not matching:
                raise _ApiError(CODE_PHONE_NOT_IN_TASK, "phone not found in task")
            waiting = [number for number in matching if number.state in (_WAITING, _HELD) and number.attempts == 0]
            if not waiting:
                raise _ApiError(CODE_ALREADY_CALLED, "call already made")
            for number in waiting:
                self._finish(task, number, "Cancelled", notify=False)
            self._task_settled(task)
        return {}

    def _operation(self, body: dict[str, Any]) -> dict[str, Any]:
        operation = body.get("Operation")
        resumed: list[tuple[_Number, float]] = []
        with self._lock:
            task = self._task(body.get("TaskID"))
            if task.status in (_TASK_FINISHED, _TASK_CANCELLED):
                raise _ApiError(CODE_TASK_FINISHED, "task is finished")
            if operation == "cancel":
                task.status = _TASK_CANCELLED
                for number in task.numbers:
                    if number.state in (_WAITING, _HELD, _REDIAL):
                        # Never dialled: cancelled quietly; between redials: its last attempt is its result.
                        self._finish(
                            task, number, number.last.get("CallStatus") or "Cancelled", notify=bool(number.attempts)
                        )
                self._task_settled(task)
            elif operation == "pause":
                task.status = _TASK_PAUSED
            elif operation == "resume":
                task.status = _TASK_RUNNING
                for number in task.numbers:
                    if number.state == _HELD:
                        number.state = _WAITING
                        resumed.append((number, self._rng.uniform(*self.dial_delay)))
            else:
                raise _ApiError(CODE_CREATE_FAILED, "Operation must be cancel, pause or resume")
        for number, delay in resumed:
            self._schedule(delay, functools.partial(self._dial, task, number))
        return {}

    # --- dialling --------------------------------------------------------------------------------------
    def _dial(self, task: _Task, number: _Number) -> None:
        with self._lock:
            if number.state not in (_WAITING, _REDIAL):
                return  # cancelled meanwhile
            if task.status == _TASK_PAUSED:
                number.state = _HELD
                return
            if self.honour_schedule and self._now() > task.end:
                self._finish(task, number, number.last.get("CallStatus") or "NotCalled", notify=True)
                self._task_settled(task)
                return
            number.state = _CALLING
            number.attempts += 1
            attempt = number.attempts
            number.call_id = str(next(self._call_ids))
            self.calls_made += 1
        rng = random.Random(f"{self._seed}:{task.task_id}:{number.comments}:{attempt}")
        result = rng.choices(DIAL_RESULTS, weights=_WEIGHTS)[0]
        ended = self._now().replace(microsecond=0)
        talk = rng.randint(20, 180) if result.answered else 0
        answered = ended - timedelta(seconds=talk)
        started = answered - timedelta(seconds=rng.randint(3, 30))
        last = {
            "CallID": number.call_id,
            "CallStatus": result.status,
            "Intention": result.intention,
            "CallTimes": attempt,
            "StartTime": self._local(started),
            "EndTime": self._local(ended),
            "AnswerTime": self._local(answered) if result.answered else "",
            "Duration": talk,
            "HangupReason": result.hangup_reason,
            "RecordingURL": f"{RECORDING_PREFIX}{number.call_id}.wav" if result.answered else "",
        }
        with self._lock:
            number.last = last
            if result.redial and attempt <= task.repeat_number and task.status != _TASK_CANCELLED:
                number.state = _REDIAL
                delay = task.repeat_interval * self.minute_seconds + self._rng.uniform(*self.dial_delay)
            else:
                self._finish(task, number, result.status, notify=True)
                self._task_settled(task)
                return
        self._schedule(delay, lambda: self._dial(task, number))

    def _finish(self, task: _Task, number: _Number, status: str, notify: bool) -> None:
        """A number is final: its webhook is queued under the same lock, so pending() never dips between."""
        number.state = _DONE
        number.final_status = status
        if status == "Cancelled" and not number.attempts:
            number.last = {"CallStatus": "Cancelled", "HangupReason": "cancelled by client"}
        if notify:
            self._queue_callback("call", self._row(task, number))
        if task.done and task.status == _TASK_RUNNING:
            task.status = _TASK_FINISHED

    def _task_settled(self, task: _Task) -> None:
        """The Webhook of Task, once every number of the task is final."""
        if task.done and task.status in (_TASK_FINISHED, _TASK_CANCELLED):
            connected = sum(1 for number in task.numbers if number.final_status == "Answered")
            self._queue_callback(
                "task",
                {
                    "TaskID": task.task_id,
                    "TaskName": task.name,
                    "Status": task.status,
                    "Total": len(task.numbers),
                    "Connected": connected,
                    "FinishTime": self._local(self._now()),
                },
            )

    # --- webhooks --------------------------------------------------------------------------------------
    def _queue_callback(self, kind: str, payload: dict[str, Any]) -> None:
        url = self.call_url if kind == "call" else self.task_url
        if not url:
            return
        if kind == "call":
            call_id = payload.get("CallID") or f"{payload['TaskID']}:{payload['Comments']}"
            key, reports = f"call:{payload['TaskID']}:{payload['Comments']}", Reported(str(call_id), closes=True)
        else:
            key, reports = f"task:{payload['TaskID']}:{payload['Status']}", None
        late = (
            {**payload, "CallStatus": "Ringing", "Duration": (payload.get("Duration") or 0) + 7}
            if kind == "call"
            else payload
        )  # a resend from before the number was done
        self._courier.send(url, lambda: self._encode(payload), key, reports, variant=lambda: self._encode(late))

    def _encode(self, payload: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
        body = encode_json(payload)
        headers = {"Content-Type": "application/json", "User-Agent": "Airudder"}
        if self.encrypt_callbacks:
            body = encrypt_body(body, self.aes_key, self.aes_iv)
            headers["Content-Type"] = "text/plain;charset=utf-8"
        if self.sign_callbacks:
            headers["X-AIRudder-Sign"] = sign_body(self.app_secret, body)
        return body, headers


def create(knobs: SimulatorKnobs) -> AirudderSimulator:
    """The local stack's AIRudder: signed and encrypted webhooks, so the demo runs the strictest path."""
    simulator = AirudderSimulator(
        "ar-sim-appkey",
        secrets.token_hex(16),
        dial_delay=knobs.dial_delay,
        retry_interval=knobs.retry_interval,
        drop_rate=knobs.drop_rate,
        seed=knobs.seed,
        sign_callbacks=True,
        encrypt_callbacks=True,
        quirks=knobs.quirks,
    )
    simulator.task_size = knobs.batch_size or simulator.task_size
    return simulator.use_faults(knobs.api_faults, knobs.callback_faults)

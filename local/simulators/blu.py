"""Offline HTTP stand-in for the Blu V2.0 (shanghu.ai) outbound voice-bot API.

Why it exists: Blu has no sandbox, yet every part of dialhub that talks to it (signing, daily task ids,
200-record uploads, pre-dial verification, cancel, result callbacks with retries, result polling) must be
provable before a real account exists. This simulator speaks that contract over real loopback HTTP,
seeded so runs are repeatable, and exposes counters so tests can assert "dialled exactly once".

Contract: docs/vendors/blu.md. Every point Blu's docs leave open is marked ASSUMPTION here, once.
Stdlib only, so it runs anywhere the tests run.

"Unexpected vendor" switches (QUIRKS), each a Blu that answers the way its documents also allow:
- `short_pages`: every result page holds at most 10 rows, whatever `pageSize` asks (only the default of 10
  is documented); page n starts at row (n - 1) x 10, and `count` is the rows on the page, as documented.
- `undercount`: a deterministic ~5% of new records (by a hash of the record id) is silently not taken:
  never dialled, no result, and the upload's `count` is the records it did take.
- `documented_callbacks`: each result is called back in the shape Blu's callback page prints,
  `{"taskId": ..., "records": [row]}`, the row (a `queryCallResult` row) without its own `taskId`.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import itertools
import json
import logging
import random
import secrets
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from local.simulators import SimulatorKnobs
from local.simulators.plumbing import (
    Reported,
    ServedSimulator,
    direct_opener,
    encode_json,
    post_callback,
    wait_until_idle,
)

logger = logging.getLogger(__name__)

# --- endpoints -----------------------------------------------------------------------------------------
PATH_CREATE_TASK = "/rest/v1/createTask"  # ASSUMPTION: the real "1-Create task" path is not published.
PATH_UPLOAD = "/rest/v1/uploadAndStartJob"
PATH_CANCEL = "/rest/v1/taskCancelPhoneCall"
PATH_QUERY = "/rest/v1/queryCallResult"

# --- API response codes (2000 is documented; the 4xxx codes are ASSUMPTION, Blu publishes none) --------
CODE_SUCCESS = 2000
CODE_BAD_REQUEST = 4000
CODE_INVALID_SIGN = 4001
CODE_TASK_EXPIRED = 4002
CODE_TOO_MANY_RECORDS = 4003
CODE_NOT_FOUND = 4004
CODE_ILLEGAL_CHARACTERS = 4005
CODE_ALREADY_CALLED = 4006
CODE_BOT_REQUIRED = 4007

# --- unexpected-vendor switches (see the module docstring) ----------------------------------------------
QUIRK_SHORT_PAGES = "short_pages"
QUIRK_UNDERCOUNT = "undercount"
QUIRK_DOCUMENTED_CALLBACKS = "documented_callbacks"
QUIRKS = frozenset({QUIRK_SHORT_PAGES, QUIRK_UNDERCOUNT, QUIRK_DOCUMENTED_CALLBACKS})
SHORT_PAGE_ROWS = 10
QUIETLY_REFUSED_PER_MILLE = 50  # ~5% of records under `undercount`

# --- limits --------------------------------------------------------------------------------------------
MAX_RECORDS_PER_UPLOAD = 200
DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 100  # ASSUMPTION: Blu does not publish a maximum.
SIGN_MAX_SKEW_SECONDS = 300  # ASSUMPTION: no replay window is documented; +-5 min.
RESULT_RETENTION = timedelta(days=45)
PREDIAL_TIMEOUT_SECONDS = 3.0  # ASSUMPTION: pre-dial sits on the dialling path, so Blu won't wait long.

# --- result vocabulary ---------------------------------------------------------------------------------
STATUS_NOT_ANSWERED = 1  # ASSUMPTION: Blu's `status` dictionary is unpublished; 2 = answered per S002.
STATUS_ANSWERED = 2
STATUS_CANCELLED = 3
CODE_TASK_CANCEL = "Taskcancel"
DESC_CANCELLED_BY_CLIENT = "Task cancelled"
DESC_CANCELLED_BY_PREDIAL = "Cancelled by pre-dial verification"
RECORD_URL_PREFIX = "https://bluapi.shanghu.ai/download/v1/getDownloadUrl/"
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
JSON_CONTENT_TYPE = "application/json;charset=utf-8"

_RECORD_SCHEDULED = "scheduled"
_RECORD_DIALLING = "dialling"
_RECORD_FINISHED = "finished"
_RECORD_CANCELLED = "cancelled"
_TOKEN_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"  # noqa: S105 - base32 letters, not a secret


@dataclass(frozen=True)
class CallOutcome:
    """One possible end of a call, with how often it happens in the simulated mix (weights sum to 100)."""

    code: str
    desc: str
    answered: bool
    weight: float
    ring_seconds: tuple[int, int]


# Realistic collections mix; "XYZ1" is deliberately undocumented so clients prove unknown codes are counted.
CALL_OUTCOMES: tuple[CallOutcome, ...] = (
    CallOutcome("PTP", "Promised to payback", True, 16, (3, 18)),
    CallOutcome("HPTP", "Promise to repay without a clear time", True, 8, (3, 18)),
    CallOutcome("AP", "Already paid back", True, 5, (3, 18)),
    CallOutcome("NOST", "No agreement reached", True, 10, (3, 18)),
    CallOutcome("NotOneself", "Not the debtor", True, 5, (3, 18)),
    CallOutcome("CPL", "Inclined to complain", True, 3, (3, 18)),
    CallOutcome("unknown", "Unknown intention", True, 7, (3, 18)),
    CallOutcome("LMS", "Voicemail", True, 1, (15, 30)),
    CallOutcome("D00", "Ringing", False, 8, (25, 45)),
    CallOutcome("D05", "Muted", False, 4, (25, 45)),
    CallOutcome("D09", "Ringing with ringback music", False, 6, (25, 45)),
    CallOutcome("Busy", "User busy", False, 5, (2, 10)),
    CallOutcome("D01", "Busy tone", False, 4, (2, 10)),
    CallOutcome("D02", "Powered off", False, 4, (1, 5)),
    CallOutcome("D91", "Temporarily unreachable", False, 3, (1, 5)),
    CallOutcome("D03", "Number does not exist", False, 3, (1, 4)),
    CallOutcome("D04", "Out of service", False, 2, (1, 4)),
    CallOutcome("D07", "Number not activated", False, 1, (1, 4)),
    CallOutcome("D06", "Not connected", False, 3, (1, 6)),
    CallOutcome("XYZ1", "Vendor custom", False, 2, (1, 10)),
)
_OUTCOME_WEIGHTS = [outcome.weight for outcome in CALL_OUTCOMES]


class _ApiError(Exception):
    """A Blu-style refusal: HTTP 200 with a non-2000 `code`, the way Blu reports business errors."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class _Record:
    record_id: int
    name: str
    mobile: str
    ext_vars: str
    call_vars: str
    job_id: int
    state: str = _RECORD_SCHEDULED


@dataclass
class _Task:
    task_id: int
    task_name: str
    bot_id: int | str
    strategy_id: Any
    local_day: date
    records: dict[int, _Record] = field(default_factory=dict)
    # (finished_at UTC, result) in completion order; the timestamp drives the 45-day query window.
    results: list[tuple[datetime, dict[str, Any]]] = field(default_factory=list)


def mask_mobile(mobile: str) -> str:
    """Blu's masked form ("0917***4567"): first 4 and last 4 characters, so logs and results never leak."""
    if len(mobile) >= 9:
        return f"{mobile[:4]}***{mobile[-4:]}"
    return f"{mobile[:2]}***{mobile[-2:]}" if len(mobile) > 4 else "***"


def sign_for(app_id: str, app_key: str, timestamp_ms: str) -> str:
    """Blu's request signature: lowercase hex sha256 over appId + appKey + timeStamp, no separators."""
    return hashlib.sha256((app_id + app_key + timestamp_ms).encode("utf-8")).hexdigest()


def _is_illegal_character(char: str) -> bool:
    """Blu rejects emoji; non-BMP covers most, the BMP symbol/dingbat blocks and joiners cover the rest."""
    point = ord(char)
    return point > 0xFFFF or 0x2600 <= point <= 0x27BF or point in (0x200D, 0xFE0F)


def _first_illegal_field(value: Any, path: str = "") -> str | None:
    """Path of the first string (or key) holding an emoji, so the 4005 message names the field."""
    if isinstance(value, str):
        return path if any(_is_illegal_character(char) for char in value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            if any(_is_illegal_character(char) for char in str(key)):
                return child
            found = _first_illegal_field(item, child)
            if found:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _first_illegal_field(item, f"{path}[{index}]")
            if found:
                return found
    return None


def _as_int(value: Any) -> int | None:
    """Blu's examples send ids both as numbers and as numeric strings; accept both, nothing else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _is_json_text(value: str) -> bool:
    try:
        json.loads(value)
    except ValueError:
        return False
    return True


def quietly_refused(record_id: int) -> bool:
    """Whether `undercount` leaves this record out: the same records on every upload and every run."""
    digest = hashlib.sha256(f"blu-undercount:{record_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 1000 < QUIETLY_REFUSED_PER_MILLE


def _our_contact(ext_vars: Any) -> tuple[str, str] | None:
    """(campaignId, contactId) that dialhub put in a record's extVars, when they are there."""
    try:
        ours = json.loads(ext_vars) if isinstance(ext_vars, str) else ext_vars
    except ValueError:
        return None
    if not isinstance(ours, dict) or ours.get("campaignId") in (None, "") or ours.get("contactId") in (None, ""):
        return None
    return str(ours["campaignId"]), str(ours["contactId"])


class BluSimulator(ServedSimulator):
    """The Blu API on loopback, plus counters that let tests prove exactly-once dialling and delivery."""

    vendor = "blu"

    def __init__(
        self,
        app_id: str,
        app_key: str,
        *,
        timezone: str = "Asia/Manila",
        callback_url: str | None = None,
        predial_url: str | None = None,
        dial_delay: tuple[float, float] = (0.05, 0.4),
        retry_interval: float = 0.3,
        max_retries: int = 5,
        drop_rate: float = 0.0,
        seed: int = 7,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], datetime] | None = None,
        quirks: frozenset[str] = frozenset(),
    ) -> None:
        if unknown := quirks - QUIRKS:
            raise ValueError(f"the blu simulator has no switch {sorted(unknown)}; it has {sorted(QUIRKS)}")
        self.quirks = quirks
        self.app_id = app_id
        self.app_key = app_key
        self.timezone = ZoneInfo(timezone)
        # Settable after construction: the local stack only knows its gateway URL once it is up.
        self.callback_url = callback_url
        self.predial_url = predial_url
        self.dial_delay = dial_delay
        self.retry_interval = retry_interval  # time-compressed stand-in for Blu's 5 minutes
        self.max_retries = max_retries
        self.drop_rate = drop_rate
        self.host = host
        self.port = port
        self._seed = seed
        self._clock = clock or (lambda: datetime.now(UTC))
        self._rng = random.Random(seed)
        self._lock = threading.RLock()
        self._tasks: dict[int, _Task] = {}
        self._issued_call_ids: set[int] = set()
        self._job_sequence = itertools.count(1)
        self._faults_remaining = 0
        self._fault_status = 503
        self._http_opener = direct_opener()
        self._courier = self._callback_courier(self._lock, seed, attempts=lambda: self.max_retries + 1)

        # Observability for tests.
        self.dial_requests: Counter[int] = Counter()  # by record id, which names (campaign, contact, attempt)
        self.calls_made: list[dict[str, Any]] = []
        self.predial_requests = 0
        self._refused: set[tuple[str, str]] = set()  # (campaignId, contactId) of every record refused ...
        self._taken: set[tuple[str, str]] = set()  # ... and of every record taken

    # --- lifecycle -------------------------------------------------------------------------------------

    # --- local stack ---------------------------------------------------------------------------------
    def connect(self, gateway_url: str) -> dict[str, Any]:
        """Call back through the gateway with a fresh URL token; returns the matching account secret."""
        token = secrets.token_urlsafe(24)
        self.callback_url = f"{gateway_url}/webhooks/blu?token={token}"
        self.predial_url = f"{gateway_url}/webhooks/blu/predial?token={token}"
        return {
            "appId": self.app_id,
            "appKey": self.app_key,
            "baseUrl": self.base_url,
            "webhookToken": token,
            "timezone": self.timezone.key,
            "ipAllowlist": [],
        }

    def demo_options(self) -> dict[str, Any]:
        return {"botId": 123, "strategyId": 2}

    # --- test hooks ------------------------------------------------------------------------------------
    def fail_next(self, n: int, status: int = 503) -> None:
        """Answer the next n API requests with this HTTP status, unprocessed (for client fault tests)."""
        with self._lock:
            self._faults_remaining = n
            self._fault_status = status

    def pending(self) -> int:
        """Accepted records not yet dialled or cancelled, plus callbacks not yet delivered or given up."""
        with self._lock:
            undialled = sum(
                1
                for task in self._tasks.values()
                for record in task.records.values()
                if record.state in (_RECORD_SCHEDULED, _RECORD_DIALLING)
            )
            return undialled + self._courier.outstanding

    def wait_idle(self, timeout: float) -> bool:
        """True once nothing is pending; False if `timeout` seconds pass first."""
        return wait_until_idle(self.pending, timeout)

    def taken_contacts(self) -> set[tuple[str, str]]:
        with self._lock:
            return set(self._taken)

    def refused_contacts(self) -> set[tuple[str, str]]:
        """(campaignId, contactId) of every record refused (a refused upload, or left out by `undercount`)
        and never taken; read from the records' extVars, so records without our ids are not in it."""
        with self._lock:
            return self._refused - self._taken

    def results_for(self, task_id: int) -> list[dict[str, Any]]:
        """Every finished result of a task in completion order (test convenience; ignores retention)."""
        with self._lock:
            task = self._tasks.get(task_id)
            return [dict(result) for _, result in task.results] if task else []

    # --- request handling ------------------------------------------------------------------------------
    def _now(self) -> datetime:
        now = self._clock()
        return now if now.tzinfo is not None else now.replace(tzinfo=UTC)

    def _local_now(self) -> datetime:
        return self._now().astimezone(self.timezone)

    def _handle_api(self, method: str, raw_path: str, headers: Any, raw_body: bytes) -> tuple[int, dict[str, Any]]:
        """Fault injection, auth, JSON, character rules, then the endpoint; returns (HTTP status, body)."""
        if method != "POST":
            return 405, {"code": 405, "message": "method not allowed"}  # before faults: Blu's API is POST only
        with self._lock:
            if self._faults_remaining > 0:
                self._faults_remaining -= 1
                return self._fault_status, {"code": self._fault_status, "message": "injected fault"}
        routes: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            PATH_CREATE_TASK: self._create_task,
            PATH_UPLOAD: self._upload_and_start_job,
            PATH_CANCEL: self._cancel_phone_call,
            PATH_QUERY: self._query_call_result,
        }
        path = raw_path.split("?", 1)[0]
        endpoint = routes.get(path)
        if endpoint is None:
            return 404, {"code": 404, "message": "not found"}
        try:
            self._check_signature(headers)
            try:
                body = json.loads(raw_body.decode("utf-8"))
            except (UnicodeDecodeError, ValueError) as exc:
                raise _ApiError(CODE_BAD_REQUEST, "bad request") from exc
            if not isinstance(body, dict):
                raise _ApiError(CODE_BAD_REQUEST, "bad request")
            illegal_field = _first_illegal_field(body)
            if illegal_field:
                raise _ApiError(CODE_ILLEGAL_CHARACTERS, f"illegal characters in field {illegal_field}")
            return 200, endpoint(body)
        except _ApiError as refusal:
            if path == PATH_UPLOAD:
                self._note_refused_upload(raw_body)
            return 200, {"code": refusal.code, "message": refusal.message}

    def _note_refused_upload(self, raw_body: bytes) -> None:
        """Every record of a refused upload is refused, however far the request got (bad sign included)."""
        try:
            body = json.loads(raw_body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return
        records = body.get("records") if isinstance(body, dict) else None
        contacts = [_our_contact(record.get("extVars")) for record in records or [] if isinstance(record, dict)]
        with self._lock:
            self._refused.update(contact for contact in contacts if contact is not None)

    def _check_signature(self, headers: Any) -> None:
        app_id = headers.get("appId") or ""
        timestamp = headers.get("timeStamp") or ""
        sign = headers.get("sign") or ""
        expected_sign = sign_for(self.app_id, self.app_key, timestamp)
        id_ok = hmac.compare_digest(app_id.encode("utf-8"), self.app_id.encode("utf-8"))
        sign_ok = hmac.compare_digest(sign.encode("utf-8"), expected_sign.encode("utf-8"))
        fresh = (
            len(timestamp) == 13
            and timestamp.isdigit()
            and abs(int(timestamp) / 1000 - self._now().timestamp()) <= SIGN_MAX_SKEW_SECONDS
        )
        if not (id_ok and sign_ok and fresh):
            raise _ApiError(CODE_INVALID_SIGN, "invalid sign")

    def _create_task(self, body: dict[str, Any]) -> dict[str, Any]:
        bot_id = body.get("botId")
        if bot_id is None or bot_id == "" or isinstance(bot_id, bool) or not isinstance(bot_id, int | str):
            raise _ApiError(CODE_BOT_REQUIRED, "botId required")
        with self._lock:
            task_id = self._unique_id(self._tasks.keys(), 10_000_000, 99_999_999)
            self._tasks[task_id] = _Task(
                task_id=task_id,
                task_name=str(body.get("taskName") or ""),
                bot_id=bot_id,
                strategy_id=body.get("strategyId"),
                local_day=self._local_now().date(),
            )
        return {"code": CODE_SUCCESS, "message": "success", "taskId": task_id}

    def _task_or_refuse(self, raw_task_id: Any) -> _Task:
        task_id = _as_int(raw_task_id)
        if task_id is None:
            raise _ApiError(CODE_BAD_REQUEST, "bad request")
        task = self._tasks.get(task_id)
        if task is None:
            raise _ApiError(CODE_NOT_FOUND, "task not found")
        return task

    def _upload_and_start_job(self, body: dict[str, Any]) -> dict[str, Any]:
        raw_records = body.get("records")
        if not isinstance(raw_records, list) or not raw_records:
            raise _ApiError(CODE_BAD_REQUEST, "bad request")
        with self._lock:
            task = self._task_or_refuse(body.get("taskId"))
            if task.local_day != self._local_now().date():
                raise _ApiError(CODE_TASK_EXPIRED, "taskId expired")
            if len(raw_records) > MAX_RECORDS_PER_UPLOAD:
                raise _ApiError(CODE_TOO_MANY_RECORDS, f"records exceed {MAX_RECORDS_PER_UPLOAD}")
            parsed = [self._parse_record(index, raw) for index, raw in enumerate(raw_records)]
            job_id = int(f"{task.local_day:%Y%m%d}{next(self._job_sequence):03d}")
            accepted: list[_Record] = []
            for record_id, name, mobile, ext_vars, call_vars in parsed:
                # ASSUMPTION: Blu dedupes record ids within a task, which is what makes client retries safe.
                if record_id in task.records:
                    continue
                contact = _our_contact(ext_vars)
                if QUIRK_UNDERCOUNT in self.quirks and quietly_refused(record_id):
                    if contact is not None:
                        self._refused.add(contact)
                    continue  # not taken, not said: only `count` shows it
                record = _Record(record_id, name, mobile, ext_vars, call_vars, job_id)
                task.records[record_id] = record
                accepted.append(record)
                self.dial_requests[record_id] += 1
                if contact is not None:
                    self._taken.add(contact)
            delays = [self._rng.uniform(*self.dial_delay) for _ in accepted]
        for record, delay in zip(accepted, delays, strict=True):
            self._schedule(delay, functools.partial(self._dial, task, record))
        return {"code": CODE_SUCCESS, "message": "success", "jobId": job_id, "count": len(accepted)}

    @staticmethod
    def _parse_record(index: int, raw: Any) -> tuple[int, str, str, str, str]:
        """Validate one upload record; a bad record refuses the whole batch so nothing half-lands."""
        if not isinstance(raw, dict):
            raise _ApiError(CODE_BAD_REQUEST, f"bad record at index {index}")
        record_id = raw.get("id")
        mobile = raw.get("mobile")
        name = raw.get("name", "")
        ext_vars = raw.get("extVars", "{}")
        call_vars = raw.get("callVars", "{}")
        if isinstance(record_id, bool) or not isinstance(record_id, int):
            raise _ApiError(CODE_BAD_REQUEST, f"records[{index}].id must be an integer")
        if not isinstance(mobile, str) or not mobile.strip():
            raise _ApiError(CODE_BAD_REQUEST, f"records[{index}].mobile required")
        if not isinstance(name, str):
            raise _ApiError(CODE_BAD_REQUEST, f"records[{index}].name must be a string")
        for field_name, value in (("extVars", ext_vars), ("callVars", call_vars)):
            # Blu wants JSON *encoded as a string*; a nested object is a client bug worth catching here.
            if not isinstance(value, str) or not _is_json_text(value):
                raise _ApiError(CODE_BAD_REQUEST, f"records[{index}].{field_name} must be a JSON string")
        return record_id, name, mobile, ext_vars, call_vars

    def _cancel_phone_call(self, body: dict[str, Any]) -> dict[str, Any]:
        order_id = _as_int(body.get("orderId"))
        with self._lock:
            task = self._task_or_refuse(body.get("taskId"))
            # ASSUMPTION: orderId is the uploaded record id; the mobile must match what was uploaded.
            record = task.records.get(order_id) if order_id is not None else None
            if record is None or record.mobile != body.get("mobile"):
                raise _ApiError(CODE_NOT_FOUND, "record not found")
            if record.state != _RECORD_SCHEDULED:
                raise _ApiError(CODE_ALREADY_CALLED, "call already made")
            # Finished under the same lock, so the scheduled dial sees the new state and skips the record.
            self._finish(task, record, self._cancelled_result(task, record, DESC_CANCELLED_BY_CLIENT), False)
        return {"code": CODE_SUCCESS, "message": "success"}

    def _query_call_result(self, body: dict[str, Any]) -> dict[str, Any]:
        page_no = _as_int(body.get("pageNo", 1))
        page_size = _as_int(body.get("pageSize", DEFAULT_PAGE_SIZE))
        if page_no is None or page_no < 1 or page_size is None or page_size < 1:
            raise _ApiError(CODE_BAD_REQUEST, "bad request")
        if page_size > MAX_PAGE_SIZE:
            raise _ApiError(CODE_BAD_REQUEST, f"pageSize exceeds {MAX_PAGE_SIZE}")
        if QUIRK_SHORT_PAGES in self.quirks:
            page_size = min(page_size, SHORT_PAGE_ROWS)  # served, and counted in, pages of at most 10
        oldest_kept = self._now() - RESULT_RETENTION
        with self._lock:
            task = self._task_or_refuse(body.get("taskId"))
            visible = [result for finished_at, result in task.results if finished_at >= oldest_kept]
            start = (page_no - 1) * page_size
            page = [dict(result) for result in visible[start : start + page_size]]
        return {"code": CODE_SUCCESS, "message": "success", "count": len(page), "data": page}

    def reported_call_ids(self) -> set[str]:
        with self._lock:
            return {str(result["callId"]) for task in self._tasks.values() for _, result in task.results}

    # --- dialling --------------------------------------------------------------------------------------
    def _unique_id(self, taken: Any, low: int, high: int) -> int:
        while True:
            candidate = self._rng.randint(low, high)
            if candidate not in taken:
                return candidate

    def _dial(self, task: _Task, record: _Record) -> None:
        with self._lock:
            if record.state != _RECORD_SCHEDULED:
                return  # cancelled while waiting
            record.state = _RECORD_DIALLING
        if self.predial_url and self._predial_says_cancel(task, record):
            self._finish(task, record, self._cancelled_result(task, record, DESC_CANCELLED_BY_PREDIAL), False)
            return
        self._finish(task, record, self._call_result(task, record), call_was_made=True)

    def _predial_says_cancel(self, task: _Task, record: _Record) -> bool:
        """Ask the merchant whether to still call; only an explicit code 0 stops the call (fail-open)."""
        url = self.predial_url
        if not url:
            return False
        with self._lock:
            self.predial_requests += 1
        # ASSUMPTION: these are the "customised parameters" dialhub configures with Blu.
        payload = {
            "taskId": task.task_id,
            "id": record.record_id,
            "mobile": record.mobile,
            "extVars": record.ext_vars,
        }
        status, reply = self._post_json(url, payload, PREDIAL_TIMEOUT_SECONDS)
        if status != 200:
            logger.info(
                "blu simulator pre-dial failed (status %s) for %s; dialling anyway",
                status,
                mask_mobile(record.mobile),
            )
            return False
        try:
            answer = json.loads(reply.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return False
        return isinstance(answer, dict) and answer.get("code") == 0

    def _base_result(self, task: _Task, record: _Record) -> dict[str, Any]:
        with self._lock:
            call_id = self._unique_id(self._issued_call_ids, 100_000_000, 999_999_999)
            self._issued_call_ids.add(call_id)
        return {
            "taskId": task.task_id,
            "callId": call_id,
            "jobId": record.job_id,
            "userId": record.record_id,
            "phone": mask_mobile(record.mobile),
            "recordUrl": "",
            "name": record.name,
            "status": STATUS_NOT_ANSWERED,
            "code": "",
            "desc": "",
            "strategyId": task.strategy_id,
            "botId": task.bot_id,
            "startTime": "",
            "answerTime": "",
            "endTime": "",
            "duration": 0,
            "extVars": record.ext_vars,
        }

    def _cancelled_result(self, task: _Task, record: _Record, desc: str) -> dict[str, Any]:
        now_text = self._local_now().strftime(TIME_FORMAT)
        result = self._base_result(task, record)
        result.update(status=STATUS_CANCELLED, code=CODE_TASK_CANCEL, desc=desc, startTime=now_text, endTime=now_text)
        return result

    def _call_result(self, task: _Task, record: _Record) -> dict[str, Any]:
        """One seeded outcome; per-record RNG so results don't depend on thread scheduling order."""
        rng = random.Random(f"{self._seed}:{task.task_id}:{record.record_id}")
        outcome = rng.choices(CALL_OUTCOMES, weights=_OUTCOME_WEIGHTS)[0]
        ended_at = self._local_now().replace(microsecond=0)
        talk_seconds = rng.randint(15, 180) if outcome.answered else 0
        answered_at = ended_at - timedelta(seconds=talk_seconds)
        started_at = answered_at - timedelta(seconds=rng.randint(*outcome.ring_seconds))
        result = self._base_result(task, record)
        result.update(
            status=STATUS_ANSWERED if outcome.answered else STATUS_NOT_ANSWERED,
            code=outcome.code,
            desc=outcome.desc,
            startTime=started_at.strftime(TIME_FORMAT),
            answerTime=answered_at.strftime(TIME_FORMAT) if outcome.answered else "",
            endTime=ended_at.strftime(TIME_FORMAT),
            duration=talk_seconds,
        )
        if outcome.answered:
            token = "".join(rng.choice(_TOKEN_ALPHABET) for _ in range(40))
            result["recordUrl"] = f"{RECORD_URL_PREFIX}{token}="
        if outcome.code == "PTP":
            result["slots"] = {"paymentTime": self._payment_window(rng, ended_at)}
        elif outcome.code == "HPTP":
            result["slots"] = {"paymentTime": None}
        return result

    @staticmethod
    def _payment_window(rng: random.Random, dialled_at: datetime) -> list[str]:
        """A promised-payment window as in Blu's PAYTIME annex, relative to the merchant-local dial time."""
        day = dialled_at.replace(hour=0, minute=0, second=0)
        windows = (
            (day + timedelta(days=1), day + timedelta(days=1, hours=23, minutes=59, seconds=59)),  # tomorrow
            (day, day + timedelta(hours=23, minutes=59, seconds=59)),  # today
            (day + timedelta(hours=17), day + timedelta(hours=17)),  # "5 p.m."
            (day + timedelta(hours=13), day + timedelta(hours=18)),  # "afternoon"
            (day + timedelta(days=1), day + timedelta(days=2, hours=23, minutes=59, seconds=59)),  # +1..+2
        )
        start, end = rng.choice(windows)
        return [start.strftime(TIME_FORMAT), end.strftime(TIME_FORMAT)]

    def _finish(self, task: _Task, record: _Record, result: dict[str, Any], call_was_made: bool) -> None:
        """Publish a result and queue its callback under one lock, so pending() never dips to 0 between."""
        with self._lock:
            record.state = _RECORD_FINISHED if call_was_made else _RECORD_CANCELLED
            task.results.append((self._now(), result))
            if call_was_made:
                self.calls_made.append(result)
            if not self.callback_url:
                return
            body = encode_json(self._callback_body(result))
            late_copy = result | {"duration": (result.get("duration") or 0) + 7, "desc": "late copy"}
            late = encode_json(self._callback_body(late_copy))
            self._courier.send(
                self.callback_url,
                lambda: (body, {"Content-Type": JSON_CONTENT_TYPE}),
                f"result:{result['callId']}",
                Reported(str(result["callId"]), closes=True),
                variant=lambda: (late, {"Content-Type": JSON_CONTENT_TYPE}),
            )

    def _callback_body(self, result: dict[str, Any]) -> dict[str, Any]:
        """One result as called back: the row itself, or under `documented_callbacks` the printed shape."""
        if QUIRK_DOCUMENTED_CALLBACKS not in self.quirks:
            return result
        row = {key: value for key, value in result.items() if key != "taskId"}
        return {"taskId": result["taskId"], "records": [row]}

    def _post_json(self, url: str, payload: dict[str, Any], timeout: float) -> tuple[int | None, bytes]:
        """POST like Blu does; (HTTP status, body), status None when the connection itself failed."""
        return post_callback(self._http_opener, url, encode_json(payload), {"Content-Type": JSON_CONTENT_TYPE}, timeout)


def create(knobs: SimulatorKnobs) -> BluSimulator:
    simulator = BluSimulator(
        "10001",
        secrets.token_hex(16),
        dial_delay=knobs.dial_delay,
        retry_interval=knobs.retry_interval,
        drop_rate=knobs.drop_rate,
        seed=knobs.seed,
        quirks=knobs.quirks,
    )
    return simulator.use_faults(knobs.api_faults, knobs.callback_faults)

"""Offline HTTP stand-in for the NXTele / NXCLOUD Callbot API v3 (nxbot.nxcloud.com).

Why it exists: NXTele has no public sandbox, yet everything dialhub does with it (signed requests and
responses, one task per campaign and day, orders in chunks of 500, redials reported call by call, order
and task callbacks with retries, paging the order lists, stopping orders, pausing tasks) must be provable
before a real account exists. This simulator speaks that contract over real loopback HTTP, seeded so runs
are repeatable, and counts accepted orders so tests can assert "dialled exactly once".

Contract: docs/vendors/nxtele.md. Where NXTele's pages are silent the simulator picks one
behaviour, marked SIMULATOR CHOICE; the adapter must not depend on any of them beyond its own ASSUMPTIONs.
Stdlib only, so it runs anywhere the tests run.

"Unexpected vendor" switches (`quirks`, see QUIRKS): each makes the simulator answer the way the documents
leave open but the adapter once assumed it would not, and the two about refusals also refuse a deterministic
~5% of orders (by a hash of the orderID) so that there are refusals to mis-read:
- `short_pages`: listOrder and listTask pages hold at most 10 rows, whatever `size` asks (`total` is kept).
- `national_phones`: errList entries carry the number in its national form ("0917…") and no orderID.
- `silent_refusals`: errList is always empty; only successCount < totalCount says something was refused.
  With `national_phones` on too, the quirky refusals are split between the two (half silent, half listed
  with national phones) and the other refusals are listed, so one batch carries both kinds.
"""

from __future__ import annotations

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
import uuid as uuid_lib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from local.simulators import SimulatorKnobs
from local.simulators.plumbing import (
    Reply,
    Reported,
    ServedSimulator,
    encode_json,
    wait_until_idle,
)

logger = logging.getLogger(__name__)

# --- endpoints -----------------------------------------------------------------------------------------
API = "/callcentre/api/v3"
PATH_PING = f"{API}/ping"
PATH_CREATE_TASK = f"{API}/createTask"
PATH_ADD_BATCH_CALL = f"{API}/addBatchCall"
PATH_LIST_TASK = f"{API}/listTask"
PATH_LIST_ORDER = f"{API}/listOrder"
PATH_LIST_ORDER_DETAIL = f"{API}/listOrderDetail"
PATH_STOP_ORDER = f"{API}/stopOrder"
PATH_MGR_TASK_STATUS = f"{API}/mgrTaskStatus"
PRODUCT_ID = "callbot"

# --- retCodes (nxtele.md §4) ---------------------------------------------------------------------------
RET_SUCCESS = 0
RET_MISSING_PARAMETER = 2
RET_FORMAT_ERROR = 3
RET_INVALID_VALUE = 4
RET_TOO_MANY_ELEMENTS = 4001
RET_WRONG_SIGNATURE = 6
RET_SIGNATURE_MISSING = 6001
RET_NO_ACCOUNT = 6002

# --- limits --------------------------------------------------------------------------------------------
MAX_CALL_LIST = 500  # SIMULATOR CHOICE (nxtele.md's ASSUMPTION): contacts per addBatchCall
MAX_ORDER_IDS = 500  # listOrderDetail.orderList (documented) and stopOrder.orderIDs
MAX_PAGE_SIZE = 100  # SIMULATOR CHOICE: listTask / listOrder `size`
SIGN_MAX_SKEW_SECONDS = 300

# --- "unexpected vendor" switches ----------------------------------------------------------------------
QUIRKS = frozenset({"short_pages", "national_phones", "silent_refusals"})
REFUSING_QUIRKS = frozenset({"national_phones", "silent_refusals"})  # these refuse ~5% of orders too
SHORT_PAGE_SIZE = 10
QUIRKY_REFUSAL_PERCENT = 5
QUIRKY_REFUSAL = "userPhone is on the blacklist"
# SIMULATOR CHOICE: how the national form of a number is written, for countries that dial a leading 0
# inside the country (longest code first); any other number keeps its international digits.
TRUNK_ZERO_COUNTRY_CODES = ("880", "44", "60", "61", "62", "63", "64", "66", "81", "84", "91", "92", "94")

# --- the published sample credentials (nxtele.md §1), and the demo script ------------------------------
SAMPLE_UUID = "Vh71ym3yQwWSYZFpqkFwTskGXUbSxDtR"
SAMPLE_SECRET_KEY = "u7Mf3zUNOkg4lMV9a0E6cHSgIkK22GSr"  # noqa: S105 - NXTele's public documentation sample
DEMO_SCENE_ID = "scene-collections-demo"
DEMO_SCENE_VARIABLES = ("amountDue", "dueDate")

TASK_PENDING = 1
TASK_RUNNING = 2
TASK_COMPLETED = 3
TASK_PAUSED = 5
STARTUP_MANUAL, STARTUP_SCHEDULED, STARTUP_IMMEDIATE = 1, 2, 3  # SIMULATOR CHOICE (nxtele.md §6)
CALLBACK_TYPE_TASK = 1
CALLBACK_TYPE_CALL = 2  # SIMULATOR CHOICE: the enum is truncated in the docs
CALLBACK_TYPE_ORDER = "1"  # the order callback's example: a string

_SCHEDULED = "scheduled"  # waiting for its first call
_REDIAL = "redial"  # called, not reached, another round is due
_FINISHED = "finished"  # no more calls (finish = true)
_STOPPED = "stopped"  # stopped (stopOrder / task completed) before any call
_DELETED = "deleted"  # removed undialled by delCall = 1: not listed any more
_OPEN = frozenset({_SCHEDULED, _REDIAL})
_HOUR = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_WEEKDAYS = re.compile(r"^[1-7](,[1-7])*$")


@dataclass(frozen=True)
class CallResult:
    """One way a call can end, with its share of the simulated mix (weights sum to 100)."""

    intent_tag: str | None
    intent_name: str | None
    answered: bool
    call_status: int  # SIMULATOR CHOICE: NXTele's callStatus dictionary is unpublished
    sip_code: str
    hangup_cause: str
    weight: float
    redial: bool = False  # an unanswered call NXTele tries again (up to max_redials times)


CALL_MIX: tuple[CallResult, ...] = (
    CallResult("PTP", "Promise to pay", True, 1, "200", "NORMAL_CLEARING", 18),
    CallResult("PAID", "Already paid", True, 1, "200", "NORMAL_CLEARING", 5),
    CallResult("REFUSE", "Refuse to pay", True, 1, "200", "NORMAL_CLEARING", 5),
    CallResult("NEGOTIATE", "No agreement", True, 1, "200", "NORMAL_CLEARING", 7),
    CallResult("WRONG", "Wrong person", True, 1, "200", "NORMAL_CLEARING", 4),
    CallResult("CALLBACK", "Call back later", True, 1, "200", "NORMAL_CLEARING", 4),
    CallResult("HANGUP", "Hang up", True, 1, "200", "NORMAL_CLEARING", 5),
    CallResult("VOICEMAIL", "Voicemail", True, 1, "200", "NORMAL_CLEARING", 2),
    CallResult("X-CUSTOM", "Custom script intent", True, 1, "200", "NORMAL_CLEARING", 2),  # unknown on purpose
    CallResult(None, None, False, 2, "487", "NO_ANSWER", 24, redial=True),
    CallResult(None, None, False, 3, "486", "USER_BUSY", 10, redial=True),
    CallResult(None, None, False, 4, "480", "SUBSCRIBER_ABSENT", 6, redial=True),
    CallResult(None, None, False, 5, "404", "UNALLOCATED_NUMBER", 5),
    CallResult(None, None, False, 6, "503", "NORMAL_TEMPORARY_FAILURE", 3, redial=True),
)
_MIX_WEIGHTS = [result.weight for result in CALL_MIX]


def sign_for(secret_key: str, body: bytes, create_ts: str, request_id: str, uuid: str, algorithm: str = "MD5") -> str:
    """NXTele's signature: upper-case hex MD5/SHA256 of secretKey&body=…&createTs=…&requestID=…&uuid=…."""
    raw = b"".join(
        [secret_key.encode(), b"&body=", body, f"&createTs={create_ts}&requestID={request_id}&uuid={uuid}".encode()]
    )
    digest = hashlib.sha256 if algorithm.upper() == "SHA256" else hashlib.md5
    return digest(raw).hexdigest().upper()


def mask_phone(phone: str) -> str:
    return f"***{phone[-4:]}" if len(phone) > 4 else "***"


def national_form(digits: str) -> str:
    """The number as written inside its country ("639171234567" -> "09171234567"); see TRUNK_ZERO_COUNTRY_CODES."""
    for code in TRUNK_ZERO_COUNTRY_CODES:
        if digits.startswith(code) and len(digits) > len(code) + 4:
            return "0" + digits[len(code) :]
    return digits


class _ApiError(Exception):
    """An NXTele refusal: HTTP 200 with a non-zero retCode."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class _Order:
    order_id: str
    user_task_id: str
    phone: str
    user_name: str
    other: str
    params: list[dict[str, str]]
    call_callback_url: str
    order_callback_url: str
    calls: list[dict[str, Any]] = field(default_factory=list)
    state: str = _SCHEDULED

    @property
    def finish(self) -> bool:
        return self.state not in _OPEN


@dataclass
class _Task:
    user_task_id: str
    task_id: int
    scene_id: Any
    setting: dict[str, Any]
    task_callback_url: str
    order_callback_url: str
    status: int
    created_ts: int
    orders: dict[str, _Order] = field(default_factory=dict)
    parked: list[_Order] = field(default_factory=list)  # due while the task was paused or not started


class NxteleSimulator(ServedSimulator):
    """The NXTele Callbot API on loopback, plus counters that prove exactly-once dialling and delivery."""

    vendor = "nxtele"

    def __init__(
        self,
        uuid: str = SAMPLE_UUID,
        secret_key: str = SAMPLE_SECRET_KEY,
        *,
        algorithm: str = "MD5",
        scenes: dict[str, tuple[str, ...]] | None = None,
        dial_delay: tuple[float, float] = (0.05, 0.4),
        retry_interval: float = 0.3,
        max_retries: int = 5,
        max_redials: int = 2,
        drop_rate: float = 0.0,
        seed: int = 7,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], datetime] | None = None,
        quirks: frozenset[str] = frozenset(),
    ) -> None:
        if unknown := quirks - QUIRKS:
            raise ValueError(f"the nxtele simulator has no switch {sorted(unknown)}; it has {sorted(QUIRKS)}")
        self.quirks = quirks
        self.uuid = uuid
        self.secret_key = secret_key
        self.algorithm = algorithm  # the console setting: how callbacks are signed
        self.scenes = dict(scenes) if scenes is not None else {DEMO_SCENE_ID: DEMO_SCENE_VARIABLES}
        self.blocked_phones: set[str] = set()  # numbers on the account's blacklist: refused in errList
        self.chunk_size = MAX_CALL_LIST  # the chunkSize of the account secret connect() returns
        self.dial_delay = dial_delay
        self.retry_interval = retry_interval  # time-compressed stand-in for NXTele's retry interval
        self.max_retries = max_retries
        self.max_redials = max_redials
        self.redial_delay: tuple[float, float] | None = None  # seconds between rounds; None: as dial_delay
        self.drop_rate = drop_rate
        self.host = host
        self.port = port
        self._seed = seed
        self._clock = clock or (lambda: datetime.now(UTC))
        self._rng = random.Random(seed)
        self._lock = threading.RLock()
        self._tasks: dict[str, _Task] = {}
        self._orders: dict[str, _Order] = {}  # orderIDs are unique across the account
        self._task_numbers = itertools.count(880_001)
        self._faults_remaining = 0
        self._fault_status = 503
        self._refusals_remaining = 0
        self._refusal_code = 7
        self._courier = self._callback_courier(self._lock, seed, attempts=lambda: self.max_retries + 1)
        # Accepted orders per orderID: a value above 1 would mean an order was dialled twice.
        self.dial_requests: Counter[str] = Counter()
        self.calls_made: list[dict[str, Any]] = []
        self.requests_refused = Counter[int]()  # retCode -> how many requests were refused with it
        self.callback_log: list[tuple[str, bytes]] = []  # (kind:id, body) of every callback, dropped ones too
        self._refused: set[tuple[str, str]] = set()  # (campaignId, contactId) of every order refused...
        self._taken: set[tuple[str, str]] = set()  # ...and of every order taken, read from `other`

    # --- lifecycle -------------------------------------------------------------------------------------

    # --- local stack -----------------------------------------------------------------------------------
    def connect(self, gateway_url: str) -> dict[str, Any]:
        """Fresh console credentials (SHA256, as nxtele.md recommends); returns the matching account secret."""
        with self._lock:
            self.uuid = secrets.token_hex(16)
            self.secret_key = secrets.token_urlsafe(24)
            self.algorithm = "SHA256"
        return {
            "uuid": self.uuid,
            "secretKey": self.secret_key,
            "algorithm": self.algorithm,
            "baseUrl": self.base_url,
            "callbackBaseUrl": f"{gateway_url}/webhooks/nxtele",
            "timezone": "Asia/Jakarta",
            "chunkSize": self.chunk_size,
            "ipAllowlist": [],
        }

    def demo_options(self) -> dict[str, Any]:
        return {"sceneID": DEMO_SCENE_ID, "scriptVariables": list(DEMO_SCENE_VARIABLES)}

    # --- test hooks ------------------------------------------------------------------------------------
    def fail_next(self, n: int, status: int = 503) -> None:
        """Answer the next n API requests with this HTTP status, unprocessed (transport-level faults)."""
        with self._lock:
            self._faults_remaining = n
            self._fault_status = status

    def refuse_next(self, n: int, ret_code: int = 7) -> None:
        """Answer the next n API requests with HTTP 200 and this retCode, unprocessed (e.g. 7 = busy)."""
        with self._lock:
            self._refusals_remaining = n
            self._refusal_code = ret_code

    def pending(self) -> int:
        """Orders not finished (paused ones included) plus callbacks not yet delivered or given up."""
        with self._lock:
            open_orders = sum(1 for order in self._orders.values() if order.state in _OPEN)
            return open_orders + self._courier.outstanding

    def wait_idle(self, timeout: float) -> bool:
        """True once nothing is pending; False if `timeout` seconds pass first."""
        return wait_until_idle(self.pending, timeout)

    def reported_call_ids(self) -> set[str]:
        with self._lock:
            return {str(call["callID"]) for call in self.calls_made}

    def taken_contacts(self) -> set[tuple[str, str]]:
        with self._lock:
            return set(self._taken)

    def refused_contacts(self) -> set[tuple[str, str]]:
        """(campaignId, contactId) of every order refused (whole requests too) whose contact no order of
        which was ever taken; read from `other`, so only dialhub's orders (our ids as JSON) are known."""
        with self._lock:
            return self._refused - self._taken

    def task_snapshot(self, user_task_id: str) -> dict[str, Any] | None:
        """A task as the console would show it (test convenience)."""
        with self._lock:
            task = self._tasks.get(user_task_id)
            if task is None:
                return None
            return {
                "userTaskID": task.user_task_id,
                "taskID": task.task_id,
                "sceneID": task.scene_id,
                "taskStatus": task.status,
                "taskCreateSetting": dict(task.setting),
                "taskCallbackUrl": task.task_callback_url,
                "orderCallbackUrl": task.order_callback_url,
                "orders": {
                    oid: self._order_detail(task, order)
                    for oid, order in task.orders.items()
                    if order.state != _DELETED
                },
            }

    # --- request handling ------------------------------------------------------------------------------
    def _now_ts(self) -> int:
        now = self._clock()
        return int((now if now.tzinfo else now.replace(tzinfo=UTC)).timestamp())

    def _handle_api(self, method: str, raw_path: str, headers: Any, raw_body: bytes) -> Reply:
        """Faults, signature, productID, then the endpoint; every answer signed like NXTele signs it."""
        if method != "POST":
            return 405, {"retCode": 1, "retMsg": "method not allowed"}  # before faults: the API is POST only
        with self._lock:
            if self._faults_remaining > 0:
                self._faults_remaining -= 1
                return self._fault_status, {"message": "injected fault"}
        routes: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            PATH_PING: self._ping,
            PATH_CREATE_TASK: self._create_task,
            PATH_ADD_BATCH_CALL: self._add_batch_call,
            PATH_LIST_TASK: self._list_task,
            PATH_LIST_ORDER: self._list_order,
            PATH_LIST_ORDER_DETAIL: self._list_order_detail,
            PATH_STOP_ORDER: self._stop_order,
            PATH_MGR_TASK_STATUS: self._mgr_task_status,
        }
        endpoint = routes.get(raw_path.split("?", 1)[0])
        if endpoint is None:
            return 404, {"retCode": 1, "retMsg": "not found"}
        request_id = headers.get("requestID") or ""
        algorithm = (headers.get("algorithm") or "MD5").upper()
        try:
            self._check_signature(headers, raw_body)
            with self._lock:
                if self._refusals_remaining > 0:
                    self._refusals_remaining -= 1
                    raise _ApiError(self._refusal_code, "injected refusal")
            try:
                body = json.loads(raw_body.decode("utf-8"))
            except (UnicodeDecodeError, ValueError) as exc:
                raise _ApiError(RET_FORMAT_ERROR, "body is not JSON") from exc
            if not isinstance(body, dict):
                raise _ApiError(RET_FORMAT_ERROR, "body must be a JSON object")
            if "productID" not in body:
                raise _ApiError(RET_MISSING_PARAMETER, "productID required")
            if body["productID"] != PRODUCT_ID:
                raise _ApiError(RET_INVALID_VALUE, "productID must be callbot")
            payload = {"retCode": RET_SUCCESS, "retMsg": "success", **endpoint(body)}
        except _ApiError as refusal:
            with self._lock:
                self.requests_refused[refusal.code] += 1
                if endpoint == self._add_batch_call:
                    self._note_refused_request(raw_body)
            payload = {"retCode": refusal.code, "retMsg": refusal.message}
        except Exception:  # a body the checks above missed: NXTele's "internal error", not a dropped connection
            logger.exception("nxtele simulator failed on %s", raw_path)
            payload = {"retCode": 5001, "retMsg": "internal error"}
        payload["responseID"] = uuid_lib.uuid4().hex
        answer = encode_json(payload)
        if algorithm not in ("MD5", "SHA256"):
            algorithm = "MD5"
        return 200, answer, self._signed_headers(answer, request_id, algorithm)

    def _signed_headers(self, body: bytes, request_id: str, algorithm: str) -> dict[str, str]:
        create_ts = str(self._now_ts())
        return {
            "requestID": request_id,
            "uuid": self.uuid,
            "createTs": create_ts,
            "algorithm": algorithm,
            "sign": sign_for(self.secret_key, body, create_ts, request_id, self.uuid, algorithm),
        }

    def _check_signature(self, headers: Any, raw_body: bytes) -> None:
        request_id = headers.get("requestID") or ""
        account = headers.get("uuid") or ""
        create_ts = headers.get("createTs") or ""
        received = headers.get("sign") or ""
        algorithm = (headers.get("algorithm") or "MD5").upper()
        if not (request_id and account and create_ts and received):
            raise _ApiError(RET_SIGNATURE_MISSING, "signature missing")
        if not hmac.compare_digest(account.encode(), self.uuid.encode()):
            raise _ApiError(RET_NO_ACCOUNT, "account does not exist")
        if algorithm not in ("MD5", "SHA256"):
            raise _ApiError(RET_FORMAT_ERROR, "algorithm must be MD5 or SHA256")
        if not create_ts.isdigit() or abs(int(create_ts) - self._now_ts()) > SIGN_MAX_SKEW_SECONDS:
            raise _ApiError(RET_WRONG_SIGNATURE, "createTs expired")
        expected = sign_for(self.secret_key, raw_body, create_ts, request_id, self.uuid, algorithm)
        if not hmac.compare_digest(received.encode(), expected.encode()):
            raise _ApiError(RET_WRONG_SIGNATURE, "wrong signature")

    def _task_or_refuse(self, body: dict[str, Any]) -> _Task:
        user_task_id = body.get("userTaskID")
        if not isinstance(user_task_id, str) or not user_task_id:
            raise _ApiError(RET_MISSING_PARAMETER, "userTaskID required")
        task = self._tasks.get(user_task_id)
        if task is None:
            raise _ApiError(RET_INVALID_VALUE, "task not found")
        return task

    def _paging(self, body: dict[str, Any]) -> tuple[int, int]:
        """(page, rows per page): the size asked, or at most SHORT_PAGE_SIZE under `short_pages`."""
        page, size = body.get("page"), body.get("size")
        if not isinstance(page, int) or not isinstance(size, int) or isinstance(page, bool):
            raise _ApiError(RET_MISSING_PARAMETER, "page and size required")
        if page < 1 or not 1 <= size <= MAX_PAGE_SIZE:
            raise _ApiError(RET_INVALID_VALUE, f"page must be >= 1 and size 1..{MAX_PAGE_SIZE}")
        return page, min(size, SHORT_PAGE_SIZE) if "short_pages" in self.quirks else size

    # --- quirks and the refusal record -----------------------------------------------------------------
    def _quirky_hash(self, order_id: str) -> int:
        digest = hashlib.sha256(f"nxtele-quirky-refusal:{order_id}".encode()).digest()
        return int.from_bytes(digest[:8], "big")

    def _refuses_quirkily(self, order_id: str) -> bool:
        """The deterministic ~5% of orders a refusal quirk refuses (the same orderID always alike)."""
        if not self.quirks & REFUSING_QUIRKS:
            return False
        return self._quirky_hash(order_id) % 100 < QUIRKY_REFUSAL_PERCENT

    def _silent(self, order_id: str, quirky: bool) -> bool:
        """Whether a refusal is left out of errList. With both refusal switches on, the quirky refusals are
        split between them (by another bit of the same hash) and the other refusals are listed, so one
        batch carries both kinds; with silent_refusals alone, nothing is listed."""
        if "silent_refusals" not in self.quirks:
            return False
        if "national_phones" not in self.quirks:
            return True
        return quirky and (self._quirky_hash(order_id) >> 32) % 2 == 0

    def _as_reported(self, error: dict[str, str]) -> dict[str, str]:
        """An errList entry as the switches write it: its phone national under national_phones."""
        if "national_phones" in self.quirks:
            return {**error, "phone": national_form(error.get("phone", ""))}
        return error

    def _note_refused_request(self, raw_body: bytes) -> None:
        """Every contact of an addBatchCall refused as a whole (caller holds the lock)."""
        try:
            body = json.loads(raw_body.decode("utf-8"))
            entries = body["callInfoList"]["callList"]
        except (UnicodeDecodeError, ValueError, TypeError, KeyError):
            return
        for entry in entries if isinstance(entries, list) else []:
            self._note(entry, self._refused)

    @staticmethod
    def _note(entry: Any, into: set[tuple[str, str]]) -> None:
        """Add the contact an order entry is for, when its `other` carries dialhub's ids."""
        other = entry.get("other") if isinstance(entry, dict) else None
        try:
            ours = json.loads(other) if isinstance(other, str) else None
        except ValueError:
            return
        if (
            isinstance(ours, dict)
            and isinstance(ours.get("campaignId"), str)
            and isinstance(ours.get("contactId"), str)
        ):
            into.add((ours["campaignId"], ours["contactId"]))

    # --- endpoints -------------------------------------------------------------------------------------
    def _ping(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"data": body.get("data"), "timestamp": self._now_ts()}

    @staticmethod
    def _check_setting(setting: Any) -> dict[str, Any]:
        if setting is None:
            return {}
        if not isinstance(setting, dict):
            raise _ApiError(RET_FORMAT_ERROR, "taskCreateSetting must be an object")
        startup = setting.get("startupType", STARTUP_MANUAL)
        zone = setting.get("zoneSecond", 0)
        startup_at = setting.get("startupAt", 0)
        checks = {
            "startupAt": isinstance(startup_at, int) and not isinstance(startup_at, bool),
            "startupType": startup in (STARTUP_MANUAL, STARTUP_SCHEDULED, STARTUP_IMMEDIATE),
            "zoneSecond": isinstance(zone, int) and not isinstance(zone, bool) and -43_200 <= zone <= 50_400,
            "dialAtWeekDay": _WEEKDAYS.match(str(setting.get("dialAtWeekDay", "1"))) is not None,
            "dialAtUpHour": _HOUR.match(str(setting.get("dialAtUpHour", "00:00"))) is not None,
            "dialAtDownHour": _HOUR.match(str(setting.get("dialAtDownHour", "23:59"))) is not None,
            "maxRingTime": isinstance(setting.get("maxRingTime", 30), int),
        }
        for name, ok in checks.items():
            if not ok:
                raise _ApiError(RET_FORMAT_ERROR, f"taskCreateSetting.{name} has the wrong format")
        return dict(setting)

    def _create_task(self, body: dict[str, Any]) -> dict[str, Any]:
        user_task_id = body.get("userTaskID")
        scene_id = body.get("sceneID")
        if not isinstance(user_task_id, str) or not user_task_id:
            raise _ApiError(RET_MISSING_PARAMETER, "userTaskID required")
        if scene_id is None or scene_id == "":
            raise _ApiError(RET_MISSING_PARAMETER, "sceneID required")
        if str(scene_id) not in self.scenes:
            raise _ApiError(RET_INVALID_VALUE, "sceneID not found")
        setting = self._check_setting(body.get("taskCreateSetting"))
        startup = setting.get("startupType", STARTUP_MANUAL)
        started = startup == STARTUP_IMMEDIATE or (
            startup == STARTUP_SCHEDULED and setting.get("startupAt", 0) <= self._now_ts()
        )
        with self._lock:
            if user_task_id in self._tasks:
                # SIMULATOR CHOICE: the real code for a repeated userTaskID is not published.
                raise _ApiError(RET_INVALID_VALUE, "userTaskID already exists")
            task = _Task(
                user_task_id=user_task_id,
                task_id=next(self._task_numbers),
                scene_id=scene_id,
                setting=setting,
                task_callback_url=str(body.get("taskCallbackUrl") or ""),
                order_callback_url=str(body.get("orderCallbackUrl") or ""),
                status=TASK_RUNNING if started else TASK_PENDING,
                created_ts=self._now_ts(),
            )
            self._tasks[user_task_id] = task
            self._send_task_callback(task)
        return {"taskID": task.task_id}

    def _parse_order(self, raw: Any, scene_variables: tuple[str, ...]) -> tuple[str, str | None]:
        """(phone, problem) of one callList entry; problem None when the order can be taken."""
        if not isinstance(raw, dict):
            return "", "callList entry must be an object"
        phone = raw.get("userPhone")
        phone_text = phone if isinstance(phone, str) else ""
        if not isinstance(raw.get("orderID"), str) or not raw["orderID"]:
            return phone_text, "orderID required"
        if not phone_text.isdigit() or not 6 <= len(phone_text) <= 20:
            return phone_text, "userPhone must be digits with the country code"
        for name in ("other", "userName", "customerName"):
            if not isinstance(raw.get(name), str):
                return phone_text, f"{name} must be a string"
        params = raw.get("params")
        if not isinstance(params, list) or not all(
            isinstance(p, dict) and isinstance(p.get("name"), str) and isinstance(p.get("value"), str) for p in params
        ):
            return phone_text, "params must be a list of {name, value} strings"
        given = {p["name"] for p in params if p["value"] != ""}
        missing = [name for name in scene_variables if name not in given]
        if missing:
            return phone_text, f"missing script variable: {', '.join(missing)}"
        if phone_text in self.blocked_phones:
            return phone_text, "userPhone is on the blacklist"
        return phone_text, None

    def _add_batch_call(self, body: dict[str, Any]) -> dict[str, Any]:
        info = body.get("callInfoList")
        if not isinstance(info, dict):
            raise _ApiError(RET_MISSING_PARAMETER, "callInfoList required")
        call_list = info.get("callList")
        urls = (info.get("orderCallbackUrl"), info.get("callCallbackUrl"))
        if not all(isinstance(url, str) and url for url in urls):
            raise _ApiError(RET_MISSING_PARAMETER, "orderCallbackUrl and callCallbackUrl required")
        if not isinstance(call_list, list) or not call_list:
            raise _ApiError(RET_MISSING_PARAMETER, "callList required")
        if len(call_list) > MAX_CALL_LIST:
            raise _ApiError(RET_TOO_MANY_ELEMENTS, f"callList exceeds {MAX_CALL_LIST}")
        errors: list[dict[str, str]] = []
        accepted: list[_Order] = []
        with self._lock:
            task = self._task_or_refuse(body)
            if task.status == TASK_COMPLETED:
                raise _ApiError(RET_INVALID_VALUE, "task is completed")
            scene_variables = self.scenes.get(str(task.scene_id), ())
            for raw in call_list:
                phone, problem = self._parse_order(raw, scene_variables)
                quirky = False
                if problem is None and raw["orderID"] in self._orders:
                    if not self._silent("", quirky=False):  # held: not dialled again
                        errors.append(self._as_reported({"phone": phone, "errMsg": "orderID already exists"}))
                    continue
                if problem is None and self._refuses_quirkily(raw["orderID"]):
                    problem, quirky = QUIRKY_REFUSAL, True
                if problem is not None:
                    if not self._silent(raw["orderID"] if quirky else "", quirky):
                        errors.append(self._as_reported({"phone": phone, "errMsg": problem}))
                    self._note(raw, self._refused)
                    continue
                order = _Order(
                    order_id=raw["orderID"],
                    user_task_id=task.user_task_id,
                    phone=phone,
                    user_name=raw["userName"],
                    other=raw["other"],
                    params=list(raw["params"]),
                    call_callback_url=str(urls[1]),
                    order_callback_url=str(urls[0]),
                )
                self._orders[order.order_id] = task.orders[order.order_id] = order
                self.dial_requests[order.order_id] += 1
                self._note(raw, self._taken)
                accepted.append(order)
            delays = [self._rng.uniform(*self.dial_delay) for _ in accepted]
        for order, delay in zip(accepted, delays, strict=True):
            self._schedule(delay, functools.partial(self._dial, order))
        return {"totalCount": len(call_list), "successCount": len(accepted), "errList": errors}

    def _list_task(self, body: dict[str, Any]) -> dict[str, Any]:
        page, size = self._paging(body)
        conditions = body.get("queryConditions") or {}
        if not isinstance(conditions, dict):
            raise _ApiError(RET_FORMAT_ERROR, "queryConditions must be an object")
        wanted_ids = conditions.get("userTaskID") or []
        wanted_status = conditions.get("taskStatus") or []
        with self._lock:
            rows = [
                {
                    "userTaskID": task.user_task_id,
                    "taskID": task.task_id,
                    "sceneID": task.scene_id,
                    "taskStatus": task.status,
                    "createTs": task.created_ts,
                }
                for task in self._tasks.values()
                if (not wanted_ids or task.user_task_id in wanted_ids)
                and (not wanted_status or task.status in wanted_status)
            ]
        return {"total": len(rows), "taskData": rows[(page - 1) * size : page * size]}

    def _list_order(self, body: dict[str, Any]) -> dict[str, Any]:
        page, size = self._paging(body)
        options = body.get("options") or {}
        if not isinstance(options, dict):
            raise _ApiError(RET_FORMAT_ERROR, "options must be an object")
        wanted_ids = options.get("orderID") or []
        finish = options.get("finish")
        if finish not in (None, 0, 1):  # True/False compare equal to 1/0
            raise _ApiError(RET_FORMAT_ERROR, "options.finish must be 0 or 1")
        with self._lock:
            task = self._task_or_refuse(body)
            orders = [
                order
                for order in task.orders.values()
                if order.state != _DELETED
                and (not wanted_ids or order.order_id in wanted_ids)
                and (finish is None or int(order.finish) == int(finish))
            ]
            rows = []
            for order in orders[(page - 1) * size : page * size]:
                row = self._order_detail(task, order)
                calls = row.pop("callInfoDetailList")
                row["callInfoDetail"] = calls[-1] if calls else {}  # each order with its last call
                rows.append(row)
        return {"total": len(orders), "orderList": rows}

    def _list_order_detail(self, body: dict[str, Any]) -> dict[str, Any]:
        order_ids = body.get("orderList")
        if not isinstance(order_ids, list) or not order_ids:
            raise _ApiError(RET_MISSING_PARAMETER, "orderList required")
        if len(order_ids) > MAX_ORDER_IDS:
            raise _ApiError(RET_TOO_MANY_ELEMENTS, f"orderList exceeds {MAX_ORDER_IDS}")
        with self._lock:
            task = self._task_or_refuse(body)
            details = [
                self._order_detail(task, task.orders[oid])
                for oid in dict.fromkeys(order_ids)
                if isinstance(oid, str) and oid in task.orders and task.orders[oid].state != _DELETED
            ]
        return {"orderDetailList": details}

    def _stop_order(self, body: dict[str, Any]) -> dict[str, Any]:
        order_ids = body.get("orderIDs")
        delete = body.get("delCall", 0) == 1
        if not isinstance(order_ids, list) or not order_ids:
            raise _ApiError(RET_MISSING_PARAMETER, "orderIDs required")
        if len(order_ids) > MAX_ORDER_IDS:
            raise _ApiError(RET_TOO_MANY_ELEMENTS, f"orderIDs exceeds {MAX_ORDER_IDS}")
        errors: list[dict[str, str]] = []
        stopped = 0
        with self._lock:
            task = self._task_or_refuse(body)
            for oid in order_ids:
                order = task.orders.get(oid) if isinstance(oid, str) else None
                if order is None or order.state == _DELETED:
                    errors.append({"orderID": str(oid), "errMsg": "order not found"})
                elif order.state in (_FINISHED, _STOPPED):
                    errors.append({"orderID": oid, "errMsg": "order already finished"})
                elif order.calls:
                    # SIMULATOR CHOICE: once dialling began, the order runs to its end.
                    errors.append({"orderID": oid, "errMsg": "order already dialled"})
                else:
                    order.state = _DELETED if delete else _STOPPED  # no call was made: no callback
                    stopped += 1
        return {"totalCount": len(order_ids), "successCount": stopped, "errList": errors}

    def _mgr_task_status(self, body: dict[str, Any]) -> dict[str, Any]:
        operation = body.get("taskOperate")
        if operation not in (1, 2, 3):
            raise _ApiError(RET_INVALID_VALUE, "taskOperate must be 1, 2 or 3")
        delete = body.get("delCall", 0) == 1
        resumed: list[_Order] = []
        with self._lock:
            task = self._task_or_refuse(body)
            if task.status == TASK_COMPLETED:
                raise _ApiError(RET_INVALID_VALUE, "task already completed")
            if operation == 1:
                task.status = TASK_RUNNING
                resumed, task.parked = task.parked, []
            elif operation == 2:
                task.status = TASK_PAUSED
            else:
                task.status = TASK_COMPLETED
                task.parked = []
                for order in task.orders.values():
                    if order.state == _SCHEDULED:
                        order.state = _DELETED if delete else _STOPPED
                    elif order.state == _REDIAL:  # no more rounds: its last call is now the final one
                        order.state = _FINISHED
                        self._queue_callback(
                            order.order_callback_url,
                            self._order_callback(task, order),
                            f"order:{order.order_id}",
                            Reported(str(order.calls[-1]["callID"]), closes=True),
                        )
            self._send_task_callback(task)
            delays = [self._rng.uniform(*self.dial_delay) for _ in resumed]
        for order, delay in zip(resumed, delays, strict=True):
            self._schedule(delay, functools.partial(self._dial, order))
        return {"taskID": task.task_id, "taskStatus": task.status}

    def _throttle_reply(self, method: str, path: str) -> Reply:
        """NXTele says "system busy" with retCode 7 in an HTTP 200."""
        return 200, {"retCode": 7, "retMsg": "system busy", "responseID": uuid_lib.uuid4().hex}

    # --- dialling --------------------------------------------------------------------------------------
    def _dial(self, order: _Order) -> None:
        """One call round of an order; under the lock, so state and queued callbacks change together."""
        with self._lock:
            if order.state not in _OPEN:
                return  # stopped, or finished with its task
            task = self._tasks[order.user_task_id]
            if task.status in (TASK_PENDING, TASK_PAUSED):
                task.parked.append(order)  # dialled once the task is started or resumed
                return
            round_no = len(order.calls)
            result = random.Random(f"{self._seed}:{order.order_id}:{round_no}").choices(CALL_MIX, _MIX_WEIGHTS)[0]
            call = self._call(order, round_no, result)
            order.calls.append(call)
            self.calls_made.append(call)
            redial = result.redial and round_no < self.max_redials
            order.state = _REDIAL if redial else _FINISHED
            self._queue_callback(
                order.call_callback_url,
                self._call_callback(task, order, call),
                f"call:{call['callID']}",
                Reported(str(call["callID"]), closes=False),
            )
            if not redial:
                self._queue_callback(
                    order.order_callback_url,
                    self._order_callback(task, order),
                    f"order:{order.order_id}",
                    Reported(str(call["callID"]), closes=True),
                )
            delay = self._rng.uniform(*(self.redial_delay or self.dial_delay))
        if redial:
            self._schedule(delay, lambda: self._dial(order))

    def _call(self, order: _Order, round_no: int, result: CallResult) -> dict[str, Any]:
        rng = random.Random(f"{self._seed}:{order.order_id}:{round_no}:call")
        talk = rng.randint(15, 180) if result.answered else 0
        ring = rng.randint(3, 25)
        # Time is compressed here: a round starts after the previous one ended, even if that is "later" than now.
        previous_end = order.calls[-1]["callEndTs"] if order.calls else 0
        started = max(self._now_ts() - ring - talk, previous_end + 1)
        answered = started + ring
        ended = answered + talk
        intents = (
            [
                {
                    "intentID": f"i-{result.intent_tag}",
                    "intentTag": result.intent_tag,
                    "intentName": result.intent_name,
                    "intentLevel": "A" if result.intent_tag == "PTP" else "B",
                }
            ]
            if result.intent_tag
            else []
        )
        return {
            "callID": f"{rng.getrandbits(64):016x}",
            "callingNumber": "622150001234",
            "lineAddress": "sim-line-1",
            "callStatus": result.call_status,
            "callStartTs": started,
            "callAnswerTs": answered if result.answered else 0,
            "callEndTs": ended,
            "callDuration": talk,
            "callAudioUrl": f"https://nxbot.nxcloud.com/record/{rng.getrandbits(64):016x}.mp3"
            if result.answered
            else "",
            "hangupCause": result.hangup_cause,
            "termSipCode": result.sip_code,
            "intents": intents,
            "sms": [],
            "agent": {},
            "params": list(order.params),
        }

    def _order_detail(self, task: _Task, order: _Order) -> dict[str, Any]:
        return {
            "orderID": order.order_id,
            "userPhone": order.phone,
            "userName": order.user_name,
            "sceneID": task.scene_id,
            "userTaskID": task.user_task_id,
            "taskID": task.task_id,
            "finish": order.finish,
            "other": order.other,
            "callInfoDetailList": [dict(call) for call in order.calls],
        }

    def _call_callback(self, task: _Task, order: _Order, call: dict[str, Any]) -> dict[str, Any]:
        detail = self._order_detail(task, order)
        detail.pop("callInfoDetailList")
        return {"callbackType": CALLBACK_TYPE_CALL, **detail, "callInfoDetail": dict(call)}

    def _order_callback(self, task: _Task, order: _Order) -> dict[str, Any]:
        detail = self._order_detail(task, order)
        detail.pop("callInfoDetailList")
        last = {k: v for k, v in order.calls[-1].items() if k not in ("callingNumber", "lineAddress")}
        return {"callbackType": CALLBACK_TYPE_ORDER, **detail, "callInfoDetail": last}

    def _send_task_callback(self, task: _Task) -> None:
        orders = [order for order in task.orders.values() if order.state != _DELETED]
        finished = sum(order.finish for order in orders)
        answered = sum(any(call["callAnswerTs"] for call in order.calls) for order in orders)
        calls = sum(len(order.calls) for order in orders)
        answered_calls = sum(1 for order in orders for call in order.calls if call["callAnswerTs"])
        stat = {
            "answerOrderCount": answered,
            "finishOrderCount": finished,
            "totalOrderCount": len(orders),
            "finishRate": round(finished / len(orders), 2) if orders else 0,
            "totalAnswerCall": answered_calls,
            "totalCall": calls,
            "answerRate": round(answered_calls / calls, 2) if calls else 0,
        }
        payload = {
            "callbackType": CALLBACK_TYPE_TASK,
            "userTaskID": task.user_task_id,
            "taskID": task.task_id,
            "sceneID": task.scene_id,
            "taskStatus": task.status,
            "createTs": task.created_ts,
            "taskStat": stat,
        }
        self._queue_callback(task.task_callback_url, payload, f"task:{task.user_task_id}:{task.status}")

    # --- callbacks -------------------------------------------------------------------------------------
    def _queue_callback(self, url: str, payload: dict[str, Any], key: str, reports: Reported | None = None) -> None:
        """Logged, then handed to the courier (counted outstanding under the caller's lock); a share is lost."""
        if not url:
            return
        body = encode_json(payload)
        late = encode_json(self._stale(payload))
        with self._lock:
            self.callback_log.append((key, body))
            self._courier.send(
                url,
                lambda: (body, self._signed_callback_headers(body)),
                key,
                reports,
                variant=lambda: (late, self._signed_callback_headers(late)),
            )

    @staticmethod
    def _stale(payload: dict[str, Any]) -> dict[str, Any]:
        """A late resend that reads differently: the order not finished yet, the call a few seconds longer."""
        stale = {**payload, "finish": False} if "finish" in payload else dict(payload)
        call = payload.get("callInfoDetail")
        if isinstance(call, dict):
            stale["callInfoDetail"] = {**call, "callDuration": (call.get("callDuration") or 0) + 7}
        return stale

    def _signed_callback_headers(self, body: bytes) -> dict[str, str]:
        """A fresh requestID and createTs on every attempt, so a retry is signed like a new request."""
        request_id = uuid_lib.uuid4().hex
        create_ts = str(self._now_ts())
        return {
            "Content-Type": "application/json",
            "requestID": request_id,
            "uuid": self.uuid,
            "createTs": create_ts,
            "sign": sign_for(self.secret_key, body, create_ts, request_id, self.uuid, self.algorithm),
        }


def create(knobs: SimulatorKnobs) -> NxteleSimulator:
    simulator = NxteleSimulator(
        secrets.token_hex(16),
        secrets.token_urlsafe(24),
        dial_delay=knobs.dial_delay,
        retry_interval=knobs.retry_interval,
        drop_rate=knobs.drop_rate,
        seed=knobs.seed,
        quirks=knobs.quirks,
    )
    simulator.chunk_size = knobs.batch_size or MAX_CALL_LIST
    return simulator.use_faults(knobs.api_faults, knobs.callback_faults)

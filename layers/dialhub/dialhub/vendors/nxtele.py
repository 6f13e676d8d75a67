"""NXTele / NXCLOUD Callbot API v3 (nxbot.nxcloud.com; the "NXLink Callbot").

Contract: docs/vendors/nxtele.md. What NXTele's public pages leave open is
decided here, once, and listed in the README's vendor section (each marked ASSUMPTION below):

- ASSUMPTION: responses carry `requestID`, `uuid`, `createTs`, `sign` as HTTP headers, signed like requests
  over the raw (decompressed) response body. A success whose signature or echoed requestID does not match
  is treated as unavailable (nothing is believed from it); an unsigned answer is accepted; a refusal stays
  a refusal whatever its signature (so a wrong secretKey reads as retCode 6).
- ASSUMPTION: callbacks are signed with the same formula over the raw request body, with the account's
  algorithm (set the same one in the console and in the secret); each delivery is signed afresh, so a
  `createTs` more than `maxClockSkewSeconds` away from our clock is refused.
- ASSUMPTION: `createTask` answers a `userTaskID` it already holds with a non-zero retCode; we then look the
  task up with `listTask` and carry on when it exists (a retry after a lost answer).
- ASSUMPTION: `startupType` 3 = start immediately; `zoneSecond` = the campaign zone's UTC offset in seconds
  on the task's day; `dialAtWeekDay` = ISO weekdays as "1,2,3,4,5" (1 = Monday); `dialAtUpHour` and
  `dialAtDownHour` = "HH:MM" in that zone; `taskName` inside `taskCreateSetting` (as in createAndCall).
- ASSUMPTION: an `addBatchCall` errList entry whose errMsg says the order already exists (see
  EXISTING_ORDER_WORDS) is a retry of an order NXTele holds: that contact counts as accepted. Entries
  are matched to contacts by `orderID` when present, else by phone digits (in request order).
- ASSUMPTION: at most 500 contacts per `addBatchCall` (`chunkSize`), `listOrder` pages of at most 100,
  `listOrderDetail` chunks of at most 500 ids (documented); list rows under the keys in ORDER_ROW_KEYS.
- ASSUMPTION: NXTele's redial rounds are configured in its console strategy, out of our sight: a campaign
  states the most calls per order (`callsPerOrder`, default 3) and frequency caps count each order as that.
- ASSUMPTION: only the variables named in the campaign's `scriptVariables` are sent as `params` (as text);
  `userName` is the contact's name, `customerName` is "", `other` is our ids as compact JSON text.
- `userTaskID` and `orderID` are uuid5 hex of (campaign, account-local date) and (campaign, contact, attempt):
  every retry sends the same ids, so neither a task nor an order can be created twice.
- ASSUMPTION: `callStatus` has no published dictionary: kept raw as vendorStatus. A call is answered when
  `callAnswerTs > 0` and `callDuration > 0`; an unanswered call is refined by `termSipCode` (a SIP status)
  or `hangupCause` (a Q.850 / FreeSWITCH cause name) through LINE_STATUS_BY_SIP / LINE_STATUS_BY_CAUSE,
  else no_answer.
- ASSUMPTION: the disposition of an answered call comes from its intents: the first intent whose
  `intentTag` (then `intentName`) is in the intent table (DEFAULT_INTENTS + the account's `intentMap`);
  an unanswered call is `not_connected`; a voicemail disposition makes the status voicemail.
- ASSUMPTION: every timestamp is epoch seconds (values above 10^11 are read as milliseconds).
- ASSUMPTION: `callInfoDetailList` holds an order's calls; the latest `callStartTs` is the last call. Every
  call is an attempt except the last call of a finished order, which closes the contact.
- ASSUMPTION: retCodes 5, 5001, 7 (maintenance, internal error, busy) and 1001 (import in progress) are
  temporary: retried briefly, then reported as unavailable; every other non-zero retCode is a refusal.
- ASSUMPTION: a stopped order (`stopOrder`, delCall 0) produces no call and no closing outcome; an errList
  entry for it means it is too late. Cancelling a campaign completes its task with delCall 1 (undialled
  orders deleted). The task callback carries no call outcome and is only acknowledged.
- Callbacks answer HTTP 200 `{"retCode": 0, "retMsg": "success"}` (NXTele's envelope; the ack is not
  documented) and are deduplicated on `callID` by the store.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import math
import uuid as uuid_lib
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal
from zoneinfo import ZoneInfo

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic.alias_generators import to_camel

from dialhub.dispositions import CallStatus, CodeMeaning, Disposition, VendorCodeTable
from dialhub.errors import field_path
from dialhub.jsonguard import JsonRefused, read_json
from dialhub.models import CallOutcome, Campaign, Contact, IanaZone, OutcomeSource, VendorTask
from dialhub.observability import logger
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
    call_seconds,
    post_json,
    source_ip_allowed,
)

if TYPE_CHECKING:  # httpx (and stamina) are imported where a request is sent: callbacks need neither
    import httpx

VENDOR = "nxtele"
PRODUCT_ID = "callbot"
API = "/callcentre/api/v3"
PATH_CREATE_TASK = f"{API}/createTask"
PATH_ADD_BATCH_CALL = f"{API}/addBatchCall"
PATH_LIST_TASK = f"{API}/listTask"
PATH_LIST_ORDER = f"{API}/listOrder"
PATH_LIST_ORDER_DETAIL = f"{API}/listOrderDetail"
PATH_STOP_ORDER = f"{API}/stopOrder"
PATH_MGR_TASK_STATUS = f"{API}/mgrTaskStatus"

SUCCESS = 0
MAX_CHUNK = 500  # contacts per addBatchCall (ASSUMPTION) and order ids per listOrderDetail (documented)
ORDER_PAGE_SIZE = 100  # listOrder page size (ASSUMPTION: the largest NXTele accepts)
MAX_PAGES = 10_000  # a safety stop for paging, far above any real task
STARTUP_IMMEDIATE = 3
TASK_OPERATION = {TaskAction.RESUME: 1, TaskAction.PAUSE: 2, TaskAction.CANCEL: 3}
CALLBACK_KINDS = frozenset({"call", "order", "task"})
ORDER_ROW_KEYS = ("orderList", "orderData", "list", "data")  # listOrder rows: the first key present
# An errList message meaning "this orderID is already there": names the order and says it is a repeat.
EXISTING_ORDER_WORDS = (("order", "订单"), ("already exist", "duplicate", "repeat", "已存在", "重复"))
MILLISECONDS_THRESHOLD = 10**11  # an epoch timestamp above this is in milliseconds
BUSY_RETRY_ATTEMPTS = 3
ACK = {"retCode": 0, "retMsg": "success"}

RET_CODE_REASONS: dict[int, str] = {
    1: "general error",
    2: "missing parameter",
    3: "parameter format error",
    4: "invalid parameter value",
    4001: "too many array elements",
    5: "server maintenance",
    5001: "internal error",
    6: "wrong signature (check uuid, secretKey and algorithm)",
    6001: "signature missing",
    6002: "account does not exist (check uuid)",
    6003: "no permission",
    7: "system busy",
    1001: "batch import in progress",
}
TEMPORARY_RET_CODES = frozenset({5, 5001, 7, 1001})

LINE_STATUS_BY_SIP: dict[str, CallStatus] = {
    "486": CallStatus.BUSY,
    "600": CallStatus.BUSY,
    "603": CallStatus.BUSY,  # declined by the callee
    "404": CallStatus.INVALID_NUMBER,
    "410": CallStatus.INVALID_NUMBER,
    "484": CallStatus.INVALID_NUMBER,
    "604": CallStatus.INVALID_NUMBER,
    "480": CallStatus.UNREACHABLE,
    "408": CallStatus.NO_ANSWER,
    "487": CallStatus.NO_ANSWER,
    "500": CallStatus.FAILED,
    "502": CallStatus.FAILED,
    "503": CallStatus.FAILED,
}
LINE_STATUS_BY_CAUSE: dict[str, CallStatus] = {
    "USER_BUSY": CallStatus.BUSY,
    "CALL_REJECTED": CallStatus.BUSY,
    "UNALLOCATED_NUMBER": CallStatus.INVALID_NUMBER,
    "NO_ROUTE_DESTINATION": CallStatus.INVALID_NUMBER,
    "INVALID_NUMBER_FORMAT": CallStatus.INVALID_NUMBER,
    "NUMBER_CHANGED": CallStatus.INVALID_NUMBER,
    "SUBSCRIBER_ABSENT": CallStatus.UNREACHABLE,
    "NO_USER_RESPONSE": CallStatus.UNREACHABLE,
    "NO_ANSWER": CallStatus.NO_ANSWER,
    "ORIGINATOR_CANCEL": CallStatus.NO_ANSWER,
    "NETWORK_OUT_OF_ORDER": CallStatus.FAILED,
    "NORMAL_TEMPORARY_FAILURE": CallStatus.FAILED,
    "RECOVERY_ON_TIMER_EXPIRE": CallStatus.FAILED,
}

# Intent tags and names a script commonly uses, plus every canonical disposition value under its own name;
# the account's `intentMap` adds to and overrides these (intents are configured per script in the console).
DEFAULT_INTENTS: dict[str, Disposition] = {
    **{disposition.value: disposition for disposition in Disposition},
    "PTP": Disposition.PROMISE_TO_PAY,
    "promise to pay": Disposition.PROMISE_TO_PAY,
    "HPTP": Disposition.PROMISE_TO_PAY_NO_DATE,
    "PAID": Disposition.ALREADY_PAID,
    "already paid": Disposition.ALREADY_PAID,
    "REFUSE": Disposition.REFUSED_TO_PAY,
    "refuse to pay": Disposition.REFUSED_TO_PAY,
    "NEGOTIATE": Disposition.NO_AGREEMENT,
    "no agreement": Disposition.NO_AGREEMENT,
    "WRONG": Disposition.WRONG_PERSON,
    "wrong person": Disposition.WRONG_PERSON,
    "wrong number": Disposition.WRONG_PERSON,
    "CALLBACK": Disposition.CALLBACK_REQUESTED,
    "call back later": Disposition.CALLBACK_REQUESTED,
    "COMPLAIN": Disposition.COMPLAINT,
    "INTERESTED": Disposition.INTERESTED,
    "NOT_INTERESTED": Disposition.NOT_INTERESTED,
    "HANGUP": Disposition.HUNG_UP,
    "hang up": Disposition.HUNG_UP,
    "VOICEMAIL": Disposition.VOICEMAIL,
    "DNC": Disposition.DO_NOT_CALL,
    "do not call": Disposition.DO_NOT_CALL,
}


class _Camel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="ignore", coerce_numbers_to_str=True
    )


class NxteleAccount(_Camel):
    """The NXTele account secret: console credentials, where NXTele is, and where it calls us back."""

    uuid: str = Field(min_length=1)
    secret_key: SecretStr
    algorithm: Literal["MD5", "SHA256"] = "MD5"
    base_url: str = "https://nxbot.nxcloud.com"
    callback_base_url: str = Field(description="Our webhook base, e.g. https://<api>/webhooks/nxtele")
    timezone: IanaZone = "Asia/Jakarta"
    chunk_size: int = Field(default=MAX_CHUNK, ge=1, le=MAX_CHUNK)
    ip_allowlist: IpAllowlist = Field(default_factory=list)
    max_clock_skew_seconds: int = Field(default=300, ge=1, le=3600)
    intent_map: dict[str, Disposition] = Field(default_factory=dict)

    @field_validator("algorithm", mode="before")
    @classmethod
    def _upper_case_algorithm(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("secret_key")
    @classmethod
    def _secret_present(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value():
            raise ValueError("secretKey must not be empty")
        return value

    @field_validator("callback_base_url")
    @classmethod
    def _absolute_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("callbackBaseUrl must be an absolute http(s) URL")
        return value.rstrip("/")


class NxteleOptions(_Camel):
    """Campaign settings NXTele needs: the script (scene), the variables it reads, optional routing."""

    scene_id: int | str = Field(alias="sceneID", description="NXTele script template (scene) id")
    script_variables: list[str] = Field(
        default_factory=list, description="Script variables every contact must carry, by name"
    )
    strategy_name: str | None = Field(default=None, description="NXTele dialling strategy, if not the default")
    route_id: int | str | None = Field(default=None, alias="routeID", description="NXTele line route")
    max_ring_time: int | None = Field(default=None, ge=1, le=300, description="Seconds to ring before giving up")
    calls_per_order: int = Field(
        default=3, ge=1, le=20, description="Most calls NXTele's strategy makes per order (redial rounds included)"
    )

    @field_validator("scene_id")
    @classmethod
    def _scene_present(cls, value: int | str) -> int | str:
        if isinstance(value, str) and not value.strip():
            raise ValueError("sceneID must not be empty")
        return value

    @field_validator("script_variables")
    @classmethod
    def _distinct_names(cls, value: list[str]) -> list[str]:
        if any(not name.strip() for name in value) or len(set(value)) != len(value):
            raise ValueError("scriptVariables must be distinct, non-empty names")
        return value


# ---------------------------------------------------------------------------------------------- signing
def sign(secret_key: str, body: bytes, create_ts: str, request_id: str, uuid: str, algorithm: str = "MD5") -> str:
    """NXTele's signature: upper-case hex MD5 (or SHA256) over
    `secretKey&body=<exact body bytes>&createTs=…&requestID=…&uuid=…`."""
    raw = b"".join(
        [
            secret_key.encode(),
            b"&body=",
            body,
            f"&createTs={create_ts}".encode(),
            f"&requestID={request_id}".encode(),
            f"&uuid={uuid}".encode(),
        ]
    )
    digest = hashlib.sha256 if algorithm.upper() == "SHA256" else hashlib.md5
    return digest(raw).hexdigest().upper()


def serialise(payload: dict[str, Any]) -> bytes:
    """The body exactly as sent and signed (json.dumps defaults, as in NXTele's sample): serialise once."""
    return json.dumps(payload, ensure_ascii=False).encode()


def user_task_id(campaign_id: str, local_date: dt.date) -> str:
    """Our id for the campaign's task of the day: the same on every retry, so a task is created once."""
    return uuid_lib.uuid5(uuid_lib.NAMESPACE_URL, f"dialhub:nxtele:task:{campaign_id}:{local_date}").hex


def order_id(campaign_id: str, contact_id: str, attempt: int) -> str:
    """Our id for one dial request: the same on every retry, so NXTele refuses a second order for it."""
    return uuid_lib.uuid5(uuid_lib.NAMESPACE_URL, f"dialhub:nxtele:order:{campaign_id}:{contact_id}:{attempt}").hex


def phone_digits(e164: str) -> str:
    """NXTele wants the number with its country code and no symbols (E.164 without '+')."""
    return "".join(char for char in e164 if char.isdigit())


def ret_code_reason(code: int, message: str) -> str:
    """The documented meaning of a retCode, with NXTele's own message when it adds something."""
    known = RET_CODE_REASONS.get(code, "unknown error")
    return f"{known}: {message}" if message and message.casefold() not in known.casefold() else known


# ---------------------------------------------------------------------------------------------- callbacks
def _blank_to_none(value: Any) -> Any:
    return None if value == "" else value


Number = Annotated[float | None, BeforeValidator(_blank_to_none)]
Text = Annotated[str | None, BeforeValidator(_blank_to_none)]


class _Intent(_Camel):
    intent_id: Text = Field(default=None, alias="intentID")
    intent_tag: Text = None
    intent_name: Text = None
    intent_level: Text = None


class _Call(_Camel):
    """One call of an order (callInfoDetail / callInfoDetailList item)."""

    call_id: str = Field(alias="callID", min_length=1)
    call_status: Text = None
    call_start_ts: Number = None
    call_answer_ts: Number = None
    call_end_ts: Number = None
    call_duration: Number = None
    call_audio_url: Text = None
    hangup_cause: Text = None
    term_sip_code: Text = None
    intents: list[_Intent] | None = None


class _Order(_Camel):
    """An order as callbacks and listOrderDetail report it (callbackType: int for calls, text for orders)."""

    callback_type: int | str | None = None
    order_id: str = Field(alias="orderID", min_length=1)
    user_task_id: Text = Field(default=None, alias="userTaskID")
    finish: bool = False
    other: str | dict[str, Any] | None = None
    call_info_detail: _Call | None = None
    call_info_detail_list: list[_Call] | None = None

    @field_validator("call_info_detail", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return None if value in ({}, "", None) else value


class _TaskStatus(_Camel):
    callback_type: int | str | None = None
    user_task_id: str = Field(alias="userTaskID", min_length=1)
    task_status: int | None = None


def _ours(other: str | dict[str, Any] | None) -> dict[str, Any]:
    """Our ids, echoed back in `other` (JSON text); anything unreadable reads as empty."""
    if isinstance(other, dict):
        return other
    if isinstance(other, str) and other.strip():
        try:
            parsed = read_json(other)
        except JsonRefused:
            return {}
        return parsed if isinstance(parsed, dict) else {}
    return {}


def _epoch(value: float | None) -> dt.datetime | None:
    if value is None or not math.isfinite(value) or value <= 0:
        return None
    seconds = value / 1000 if value > MILLISECONDS_THRESHOLD else value
    try:
        return dt.datetime.fromtimestamp(seconds, dt.UTC)
    except (OverflowError, ValueError, OSError):  # beyond the years a datetime holds: no usable time
        return None


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _ret_code(payload: Mapping[str, Any]) -> int | None:
    value = payload.get("retCode")
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


class _Busy(Exception):
    """NXTele answered with a temporary retCode (busy, maintenance): worth another try shortly."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class _VerifiedClient:
    """The HTTP client as post_json sees it, with every signed NXTele answer verified before it is read."""

    def __init__(self, client: httpx.Client, verify: Callable[[httpx.Response, str], None]) -> None:
        self._client = client
        self._verify = verify

    def post(self, path: str, *, content: bytes, headers: dict[str, str]) -> httpx.Response:
        response = self._client.post(path, content=content, headers=headers)
        if response.is_success:
            self._verify(response, headers["requestID"])
        return response


class NxteleAdapter(AccountAdapter):
    name: ClassVar[str] = VENDOR

    def __init__(
        self, account: NxteleAccount, http: httpx.Client | None = None, clock: Callable[[], dt.datetime] | None = None
    ) -> None:
        super().__init__(account, http, clock)
        self.batch_limit = account.chunk_size
        self.intents = VendorCodeTable(
            VENDOR,
            {code: CodeMeaning(disposition) for code, disposition in {**DEFAULT_INTENTS, **account.intent_map}.items()},
        )

    @classmethod
    def from_account(cls, account: dict[str, Any], http: httpx.Client | None = None) -> NxteleAdapter:
        return cls(NxteleAccount.model_validate(account), http=http)

    # ------------------------------------------------------------------ signing both ways
    def _sign(self, body: bytes, create_ts: str, request_id: str) -> str:
        return sign(
            self.account.secret_key.get_secret_value(),
            body,
            create_ts,
            request_id,
            self.account.uuid,
            self.account.algorithm,
        )

    def _fresh(self, create_ts: str) -> bool:
        if not create_ts.isdigit():
            return False
        skew: float = abs(int(create_ts) - self._clock().timestamp())
        allowed: int = self.account.max_clock_skew_seconds
        return skew <= allowed

    def _signature_problem(self, body: bytes, headers: Mapping[str, str], request_id: str) -> str | None:
        """Why a signed message (callback or response) cannot be trusted, or None; headers lower-case."""
        create_ts = headers.get("createts", "")
        received = headers.get("sign", "")
        if not (received and create_ts and request_id):
            return "signature headers missing"
        if not hmac.compare_digest(headers.get("uuid", "").encode(), self.account.uuid.encode()):
            return "uuid is not this account's"
        if not self._fresh(create_ts):
            return "createTs outside the allowed clock skew"
        if not hmac.compare_digest(received.upper().encode(), self._sign(body, create_ts, request_id).encode()):
            return "signature does not verify"
        return None

    def _headers(self, content: bytes) -> dict[str, str]:
        create_ts = str(int(self._clock().timestamp()))
        request_id = uuid_lib.uuid4().hex
        return {
            "requestID": request_id,
            "uuid": self.account.uuid,
            "createTs": create_ts,
            "sign": self._sign(content, create_ts, request_id),
            "algorithm": self.account.algorithm,
            "Content-Type": "application/json",
        }

    def _verify_response(self, response: httpx.Response, request_id: str) -> None:
        """A success we act on must verify; a refusal only fails the request, whatever its signature (so a
        wrong secretKey still reads as NXTele's retCode 6, not as an untrusted answer)."""
        headers = {name.lower(): value for name, value in response.headers.items()}
        if "sign" not in headers:
            return  # unsigned answers are taken as they are
        try:
            succeeded = _ret_code(response.json()) == SUCCESS
        except (ValueError, AttributeError):
            return  # not a JSON object: post_json reports it
        if not succeeded:
            return
        echoed = headers.get("requestid", "")
        problem = self._signature_problem(response.content, headers, echoed)
        if problem is None and not hmac.compare_digest(echoed.encode(), request_id.encode()):
            problem = "answer is for another request"
        if problem:
            raise VendorUnavailable(VENDOR, f"nxtele answer not trusted: {problem}")

    # ------------------------------------------------------------------ outbound
    def _call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST a signed request; retCode 0 returns the answer, a temporary code is retried, others refused."""
        payload = {"productID": PRODUCT_ID, **body}
        content = serialise(payload)
        client: Any = _VerifiedClient(self.http, self._verify_response)
        try:
            import stamina

            for attempt in stamina.retry_context(
                on=_Busy, attempts=BUSY_RETRY_ATTEMPTS, wait_initial=0.5, wait_max=3.0, timeout=10.0
            ):
                with attempt:
                    answer = post_json(VENDOR, client, path, content=content, headers=lambda: self._headers(content))
                    code = _ret_code(answer)
                    if code in TEMPORARY_RET_CODES:
                        raise _Busy(code, str(answer.get("retMsg") or ""))
        except _Busy as exc:
            raise VendorUnavailable(
                VENDOR, f"nxtele unavailable: retCode {exc.code}: {ret_code_reason(exc.code, exc.message)}"
            ) from exc
        if code is None:
            raise VendorUnavailable(VENDOR, "nxtele answered without a retCode")
        if code != SUCCESS:
            raise VendorRejected(VENDOR, code, ret_code_reason(code, str(answer.get("retMsg") or "")))
        return answer

    @classmethod
    def contact_problem(cls, contact: Contact, options: dict[str, Any]) -> str | None:
        return _missing_variable(contact.variables, NxteleOptions.model_validate(options))

    @classmethod
    def calls_per_request(cls, options: dict[str, Any]) -> int:
        # ASSUMPTION: the redial rounds are set in NXTele's console strategy, so the campaign states them.
        return NxteleOptions.model_validate(options).calls_per_order

    @classmethod
    def validate_options(cls, options: dict[str, Any]) -> dict[str, Any]:
        return NxteleOptions.model_validate(options).model_dump(by_alias=True, exclude_none=True)

    def _callback_url(self, kind: str) -> str:
        return f"{self.account.callback_base_url}/{kind}"

    def create_task(self, campaign: Campaign, local_date: dt.date) -> str:
        options = NxteleOptions.model_validate(campaign.vendor_options)
        task_id = user_task_id(campaign.campaign_id, local_date)
        window = campaign.calling_window
        zone = ZoneInfo(campaign.timezone)
        offset = dt.datetime.combine(local_date, dt.time(12), zone).utcoffset() or dt.timedelta(0)
        setting: dict[str, Any] = {
            "taskName": f"dialhub {campaign.campaign_id} {local_date.isoformat()}",
            "startupType": STARTUP_IMMEDIATE,
            "zoneSecond": int(offset.total_seconds()),
            "dialAtWeekDay": ",".join(str(day) for day in window.weekdays),
            "dialAtUpHour": window.start.strftime("%H:%M"),
            "dialAtDownHour": window.end.strftime("%H:%M"),
        }
        optional = {
            "strategyName": options.strategy_name,
            "routeID": options.route_id,
            "maxRingTime": options.max_ring_time,
        }
        setting |= {key: value for key, value in optional.items() if value is not None}
        body = {
            "userTaskID": task_id,
            "sceneID": options.scene_id,
            "taskCreateSetting": setting,
            "taskCallbackUrl": self._callback_url("task"),
            "orderCallbackUrl": self._callback_url("order"),
        }
        try:
            self._call(PATH_CREATE_TASK, body)
        except VendorRejected:
            if not self._task_exists(task_id):
                raise
            logger.info("nxtele task already existed", extra={"campaign_id": campaign.campaign_id})
        return task_id

    def _task_exists(self, task_id: str) -> bool:
        answer = self._call(PATH_LIST_TASK, {"page": 1, "size": 10, "queryConditions": {"userTaskID": [task_id]}})
        rows = answer.get("taskData") or []
        return isinstance(rows, list) and any(
            isinstance(row, dict) and row.get("userTaskID") == task_id for row in rows
        )

    def _order_entry(self, request: DialRequest, options: NxteleOptions) -> dict[str, Any]:
        ours = {"campaignId": request.campaign_id, "contactId": request.contact_id, "attempt": request.attempt}
        return {
            "orderID": order_id(request.campaign_id, request.contact_id, request.attempt),
            "userPhone": phone_digits(request.phone),
            "other": json.dumps(ours, separators=(",", ":")),
            "userName": request.name,
            "customerName": "",
            "params": [{"name": name, "value": str(request.variables[name])} for name in options.script_variables],
        }

    def submit(self, submission: Submission) -> SubmitResult:
        requests = submission.requests
        if len(requests) > self.batch_limit:
            raise ValueError(f"NXTele takes at most {self.batch_limit} contacts per addBatchCall, got {len(requests)}")
        options = NxteleOptions.model_validate(submission.campaign.vendor_options)
        result = SubmitResult()
        sendable: list[DialRequest] = []
        for request in requests:
            if problem := _missing_variable(request.variables, options):
                result.rejected[request.contact_id] = problem
            else:
                sendable.append(request)
        if not sendable:
            return result
        entries = [self._order_entry(request, options) for request in sendable]
        body = {
            "userTaskID": submission.task.vendor_task_id,
            "callInfoList": {
                "orderCallbackUrl": self._callback_url("order"),
                "callCallbackUrl": self._callback_url("call"),
                "callList": entries,
            },
        }
        try:
            answer = self._call(PATH_ADD_BATCH_CALL, body)
        except VendorRejected as exc:
            result.rejected |= {request.contact_id: exc.reason for request in sendable}
            return result
        refused = self._refused_contacts(answer.get("errList"), sendable, entries)
        result.rejected |= refused
        result.accepted = {
            request.contact_id: entry["orderID"]
            for request, entry in zip(sendable, entries, strict=True)
            if request.contact_id not in refused
        }
        return result

    @staticmethod
    def _refused_contacts(errors: Any, requests: list[DialRequest], entries: list[dict[str, Any]]) -> dict[str, str]:
        """Map errList entries back to contacts (by orderID, else by phone in request order); an order NXTele
        already holds is a retry, not a refusal."""
        by_order = {entry["orderID"]: request.contact_id for request, entry in zip(requests, entries, strict=True)}
        by_phone: dict[str, list[str]] = {}
        for request, entry in zip(requests, entries, strict=True):
            by_phone.setdefault(entry["userPhone"], []).append(request.contact_id)
        refused: dict[str, str] = {}
        for error in errors if isinstance(errors, list) else []:
            if not isinstance(error, dict):
                continue
            message = str(error.get("errMsg") or "refused")
            contact_id = by_order.get(str(error.get("orderID") or ""))
            if contact_id is None:
                waiting = [c for c in by_phone.get(phone_digits(str(error.get("phone") or "")), []) if c not in refused]
                contact_id = waiting[0] if waiting else None
            if contact_id is None:
                logger.warning(
                    "nxtele errList entry matches no contact",
                    extra={"phone": mask_phone(str(error.get("phone") or "")), "problem": message},
                )
                continue
            if _names_existing_order(message):
                continue  # NXTele holds this order already: a retry, the contact is in
            code = error.get("retCode")
            refused[contact_id] = (
                f"{VENDOR} error {code}: {message}"
                if code not in (None, "")
                else f"{VENDOR} refused the contact: {message}"
            )
        return refused

    def cancel(self, task: VendorTask, request: DialRequest) -> None:
        oid = order_id(request.campaign_id, request.contact_id, request.attempt)
        answer = self._call(PATH_STOP_ORDER, {"userTaskID": task.vendor_task_id, "orderIDs": [oid], "delCall": 0})
        for error in answer.get("errList") or []:
            if isinstance(error, dict) and str(error.get("orderID") or oid) == oid:
                raise VendorRejected(VENDOR, None, f"{VENDOR} could not stop the order: {error.get('errMsg')}")

    def control_task(self, task: VendorTask, action: TaskAction) -> bool:
        body = {
            "userTaskID": task.vendor_task_id,
            "taskOperate": TASK_OPERATION[action],
            "delCall": 1 if action is TaskAction.CANCEL else 0,
        }
        self._call(PATH_MGR_TASK_STATUS, body)
        return True

    def results(self, task: VendorTask) -> Iterator[list[CallOutcome]]:
        waiting: list[str] = []
        for page in range(1, MAX_PAGES + 1):
            answer = self._call(
                PATH_LIST_ORDER, {"userTaskID": task.vendor_task_id, "page": page, "size": ORDER_PAGE_SIZE}
            )
            rows = next((answer[key] for key in ORDER_ROW_KEYS if key in answer), None) or []
            if not isinstance(rows, list):
                raise VendorUnavailable(VENDOR, "nxtele listOrder rows are not a list")
            waiting.extend(str(row["orderID"]) for row in rows if isinstance(row, dict) and row.get("orderID"))
            while len(waiting) >= MAX_CHUNK:
                chunk, waiting = waiting[:MAX_CHUNK], waiting[MAX_CHUNK:]
                if outcomes := self._order_details(task, chunk):
                    yield outcomes
            if len(rows) < ORDER_PAGE_SIZE:
                break
        if waiting and (outcomes := self._order_details(task, waiting)):
            yield outcomes

    def _order_details(self, task: VendorTask, order_ids: list[str]) -> list[CallOutcome]:
        answer = self._call(PATH_LIST_ORDER_DETAIL, {"userTaskID": task.vendor_task_id, "orderList": order_ids})
        details = answer.get("orderDetailList") or []
        if not isinstance(details, list):
            raise VendorUnavailable(VENDOR, "nxtele orderDetailList is not a list")
        outcomes: list[CallOutcome] = []
        for raw in details:
            try:
                order = _Order.model_validate(raw)
            except ValidationError as exc:
                logger.warning("nxtele order detail unreadable", extra={"problem": _problem(exc)})
                continue
            calls = sorted(order.call_info_detail_list or [], key=lambda call: call.call_start_ts or 0)
            for index, call in enumerate(calls):
                closes = order.finish and index == len(calls) - 1
                outcomes.append(self._outcome(order, call, closes, OutcomeSource.POLL))
        return outcomes

    def task_complete(self, task: VendorTask, closed_contacts: int) -> bool:
        # One order per contact: the task is done once every submitted order's last call closed its contact.
        return task.submitted > 0 and closed_contacts >= task.submitted

    # ------------------------------------------------------------------ inbound
    def authenticate(self, callback: InboundCallback) -> bool:
        if not source_ip_allowed(callback.source_ip, self.account.ip_allowlist):
            return False
        problem = self._signature_problem(callback.body, callback.headers, callback.headers.get("requestid", ""))
        if problem:
            logger.info("nxtele callback not authenticated", extra={"kind": callback.kind, "problem": problem})
        return problem is None

    def parse_callback(self, callback: InboundCallback) -> OutcomeReport | PredialQuestion:
        if callback.kind not in CALLBACK_KINDS:
            raise KeyError(callback.kind)
        try:
            body = read_json(callback.body)
        except JsonRefused as exc:
            raise CallbackRejected(str(exc)) from exc
        if not isinstance(body, dict):
            raise CallbackRejected("body must be a JSON object")
        try:
            if callback.kind == "task":
                _TaskStatus.model_validate(body)
                return OutcomeReport([])  # task status only: no call to record
            order = _Order.model_validate(body)
        except ValidationError as exc:
            raise CallbackRejected(_problem(exc)) from exc
        call = order.call_info_detail
        if call is None:
            if callback.kind == "call":
                raise CallbackRejected("callInfoDetail: a call callback must carry the call")
            return OutcomeReport([])  # an order that ended without a call (stopped before dialling)
        return OutcomeReport([self._outcome(order, call, order.finish, OutcomeSource.WEBHOOK)])

    def acknowledge(self, callback: InboundCallback) -> Reply:
        return Reply(200, dict(ACK))

    def predial_reply(self, allow: bool) -> Reply:
        return Reply(200, dict(ACK))  # NXTele asks no pre-dial question; never used

    # ------------------------------------------------------------------ normalising
    def _disposition(self, call: _Call) -> tuple[Disposition, str | None, str | None]:
        """(disposition, vendor code, description) from the first intent the table knows."""
        intents = call.intents or []
        for intent in intents:
            for key in (intent.intent_tag, intent.intent_name):
                if key and key in self.intents:
                    return self.intents.lookup(key).disposition, key, intent.intent_name
        if not intents:
            return Disposition.UNKNOWN, None, None
        first = intents[0]
        code = first.intent_tag or first.intent_name
        return self.intents.lookup(code).disposition, code, first.intent_name  # counted as unknown

    def _outcome(self, order: _Order, call: _Call, closes: bool, source: OutcomeSource) -> CallOutcome:
        ours = _ours(order.other)
        answered = (call.call_answer_ts or 0) > 0 and (call.call_duration or 0) > 0
        if answered:
            status = CallStatus.ANSWERED
            disposition, code, description = self._disposition(call)
            if disposition is Disposition.VOICEMAIL:
                status = CallStatus.VOICEMAIL
        else:
            status = (
                LINE_STATUS_BY_SIP.get((call.term_sip_code or "").strip())
                or LINE_STATUS_BY_CAUSE.get((call.hangup_cause or "").strip().upper())
                or CallStatus.NO_ANSWER
            )
            disposition, code, description = Disposition.NOT_CONNECTED, None, None
        attempt = ours.get("attempt")
        variables: dict[str, Any] = {"orderId": order.order_id}
        if call.intents:
            variables["intents"] = [intent.model_dump(by_alias=True, exclude_none=True) for intent in call.intents]
        line = {"hangupCause": call.hangup_cause, "termSipCode": call.term_sip_code}
        variables |= {key: value for key, value in line.items() if value is not None}
        return CallOutcome(
            vendor=VENDOR,
            vendor_call_id=call.call_id,
            vendor_task_id=order.user_task_id,
            campaign_id=_text(ours.get("campaignId")),
            contact_id=_text(ours.get("contactId")),
            attempt=attempt if isinstance(attempt, int) and attempt > 0 else 1,
            status=status,
            disposition=disposition,
            vendor_code=code,
            vendor_description=description,
            vendor_status=call.call_status,
            started_at=_epoch(call.call_start_ts),
            answered_at=_epoch(call.call_answer_ts),
            ended_at=_epoch(call.call_end_ts),
            duration_seconds=call_seconds(call.call_duration),
            recording_url=call.call_audio_url,
            variables=variables,
            source=source,
            closes_contact=closes,
        )


def _names_existing_order(message: str) -> bool:
    text = message.casefold()
    return all(any(word in text for word in words) for words in EXISTING_ORDER_WORDS)


def _missing_variable(variables: Mapping[str, Any], options: NxteleOptions) -> str | None:
    """NXTele needs every variable its script uses; checked here so no vendor round trip is wasted."""
    for name in options.script_variables:
        if variables.get(name) is None or str(variables[name]) == "":
            return f"variables.{name}: missing; the NXTele script (scriptVariables) needs it"
    return None


def _problem(exc: ValidationError) -> str:
    error = exc.errors()[0]
    return f"{field_path(error)}: {error['msg']}"


ADAPTER = NxteleAdapter

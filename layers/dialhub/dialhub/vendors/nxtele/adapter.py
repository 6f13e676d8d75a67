"""The NXTele adapter: a task per campaign-day, orders in chunks, polling and callbacks, all signed."""

from __future__ import annotations

import datetime as dt
import hmac
import json
import math
import uuid as uuid_lib
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from dialhub.dispositions import CallStatus, CodeMeaning, Disposition, VendorCodeTable
from dialhub.errors import field_path
from dialhub.jsonguard import JsonRefused, read_json
from dialhub.models import CallOutcome, Campaign, Contact, OutcomeSource, VendorTask
from dialhub.observability import count_metric, logger
from dialhub.vendors.base import (
    AccountAdapter,
    CallbackRejected,
    DialRequest,
    InboundCallback,
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
    vendor_count,
)
from dialhub.vendors.nxtele.batch import settle_batch
from dialhub.vendors.nxtele.codes import (
    ACCOUNT_RET_CODES,
    ACK,
    BUSY_RETRY_ATTEMPTS,
    CALLBACK_KINDS,
    DEFAULT_INTENTS,
    LINE_STATUS_BY_CAUSE,
    LINE_STATUS_BY_SIP,
    MAX_CHUNK,
    MAX_PAGES,
    MILLISECONDS_THRESHOLD,
    ORDER_PAGE_SIZE,
    ORDER_ROW_KEYS,
    ORDER_TOTAL_KEYS,
    PATH_ADD_BATCH_CALL,
    PATH_CREATE_TASK,
    PATH_LIST_ORDER,
    PATH_LIST_ORDER_DETAIL,
    PATH_LIST_TASK,
    PATH_MGR_TASK_STATUS,
    PATH_STOP_ORDER,
    PRODUCT_ID,
    STARTUP_IMMEDIATE,
    SUCCESS,
    TASK_OPERATION,
    TEMPORARY_RET_CODES,
    ret_code_reason,
)
from dialhub.vendors.nxtele.signing import serialise, sign
from dialhub.vendors.nxtele.wire import Call, NxteleAccount, NxteleOptions, Order, TaskStatus

if TYPE_CHECKING:  # httpx (and stamina) are imported where a request is sent: callbacks need neither
    import httpx

VENDOR = "nxtele"


def user_task_id(campaign_id: str, local_date: dt.date) -> str:
    """Our id for the campaign's task of the day: the same on every retry, so a task is created once."""
    return uuid_lib.uuid5(uuid_lib.NAMESPACE_URL, f"dialhub:nxtele:task:{campaign_id}:{local_date}").hex


def order_id(campaign_id: str, contact_id: str, attempt: int) -> str:
    """Our id for one dial request: the same on every retry, so NXTele refuses a second order for it."""
    return uuid_lib.uuid5(uuid_lib.NAMESPACE_URL, f"dialhub:nxtele:order:{campaign_id}:{contact_id}:{attempt}").hex


def phone_digits(e164: str) -> str:
    """NXTele wants the number with its country code and no symbols (E.164 without '+')."""
    return "".join(char for char in e164 if char.isdigit())


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
            reason = ret_code_reason(code, str(answer.get("retMsg") or ""))
            raise VendorRejected(VENDOR, code, reason, account_refused=code in ACCOUNT_RET_CODES)
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
            if exc.account_refused:
                raise  # not the orders' doing: dispatch may send them to another vendor
            result.rejected |= {request.contact_id: exc.reason for request in sendable}
            return result
        settle_batch(answer, sendable, [entry["orderID"] for entry in entries], result)
        return result

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
        """Every order of the task, page by page, then every call of those orders in chunks of 500.

        A page shorter than the size asked is not the end (A7, A21): NXTele may cap its pages. The listing
        ends at an empty page or once NXTele's `total` rows are read; a page of rows already read (the
        page number ignored) or MAX_PAGES pages end it too, and are logged and counted as a mismatch."""
        waiting: list[str] = []
        seen: set[str] = set()
        rows_read = 0
        for page in range(1, MAX_PAGES + 1):
            answer = self._call(
                PATH_LIST_ORDER, {"userTaskID": task.vendor_task_id, "page": page, "size": ORDER_PAGE_SIZE}
            )
            rows = next((answer[key] for key in ORDER_ROW_KEYS if key in answer), None) or []
            if not isinstance(rows, list):
                raise VendorUnavailable(VENDOR, "nxtele listOrder rows are not a list")
            total = next(
                (count for key in ORDER_TOTAL_KEYS if (count := vendor_count(answer.get(key))) is not None), None
            )
            if not rows:
                if total is not None and rows_read < total:
                    _listing_mismatch(task, f"listOrder ended at page {page} with {rows_read} of its total {total}")
                break
            fresh = [
                oid
                for oid in dict.fromkeys(
                    str(row["orderID"]) for row in rows if isinstance(row, dict) and row.get("orderID")
                )
                if oid not in seen
            ]
            if not fresh:
                _listing_mismatch(task, f"listOrder page {page} has no order not read before (page number ignored?)")
                break
            seen.update(fresh)
            waiting.extend(fresh)
            rows_read += len(rows)
            while len(waiting) >= MAX_CHUNK:
                chunk, waiting = waiting[:MAX_CHUNK], waiting[MAX_CHUNK:]
                if outcomes := self._order_details(task, chunk):
                    yield outcomes
            if total is not None and rows_read >= total:
                if rows_read > total:
                    _listing_mismatch(task, f"listOrder gave {rows_read} rows for its total {total}")
                break
        else:
            _listing_mismatch(task, f"listOrder still had rows after {MAX_PAGES} pages")
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
                order = Order.model_validate(raw)
            except ValidationError as exc:
                logger.warning("nxtele order detail unreadable", extra={"problem": _problem(exc)})
                continue
            calls = sorted(order.call_info_detail_list or [], key=lambda call: call.call_start_ts or 0)
            for index, call in enumerate(calls):
                closes = order.finish and index == len(calls) - 1
                outcomes.append(self._outcome(order, call, closes, OutcomeSource.POLL))
        return outcomes

    def task_complete(self, task: VendorTask, closed_contacts: int) -> bool:
        # One order per contact: the task is done once every submitted order's last call closed its contact,
        # or the order was stopped (a stopped order reports nothing).
        return task.submitted > 0 and closed_contacts + task.cancelled >= task.submitted

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
                TaskStatus.model_validate(body)
                return OutcomeReport([])  # task status only: no call to record
            order = Order.model_validate(body)
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
    def _disposition(self, call: Call) -> tuple[Disposition, str | None, str | None]:
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

    def _outcome(self, order: Order, call: Call, closes: bool, source: OutcomeSource) -> CallOutcome:
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


def _listing_mismatch(task: VendorTask, what: str) -> None:
    """A listing that disagrees with itself: what was read is kept, the rest comes at the next poll."""
    count_metric("VendorAnswerMismatch", vendor=VENDOR)
    logger.warning("nxtele listing disagrees with itself", extra={"campaign_id": task.campaign_id, "problem": what})


def _missing_variable(variables: Mapping[str, Any], options: NxteleOptions) -> str | None:
    """NXTele needs every variable its script uses; checked here so no vendor round trip is wasted."""
    for name in options.script_variables:
        if variables.get(name) is None or str(variables[name]) == "":
            return f"variables.{name}: missing; the NXTele script (scriptVariables) needs it"
    return None


def _problem(exc: ValidationError) -> str:
    error = exc.errors()[0]
    return f"{field_path(error)}: {error['msg']}"

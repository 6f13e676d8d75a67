"""The AIRudder adapter; how it works and what it assumes is in the package docstring."""

from __future__ import annotations

import datetime as dt
import hmac
import json
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from dialhub.dispositions import CallStatus, Disposition
from dialhub.errors import field_path
from dialhub.jsonguard import JsonRefused, read_json
from dialhub.models import CallOutcome, Campaign, Contact, OutcomeSource, VendorTask
from dialhub.observability import count_metric, logger
from dialhub.vendors.airudder.answers import SentNumber, read_create_answer
from dialhub.vendors.airudder.codes import (
    CALL_STATUSES,
    DETAIL_PAGE_SIZE,
    DUPLICATE_TASK_NAME,
    INTENTIONS,
    LIST_PAGE_SIZE,
    MAX_LISTING_PAGES,
    PAGE_NUMBER,
    PAGE_SIZE,
    PATH_AUTH,
    PATH_CANCEL_CALL,
    PATH_CREATE_TASK,
    PATH_DETAIL,
    PATH_LIST,
    PATH_OPERATION,
    QUERY_LIMIT_EXCEEDED,
    TASK_FINISHED,
    TASK_GONE_ERRORS,
    TASK_OPERATIONS,
    TIME_FORMAT,
    TOKEN_ERRORS,
    USER_AGENT,
    VENDOR,
    describe_error,
)
from dialhub.vendors.airudder.crypto import decrypt_body, encrypted_text, signature_ok
from dialhub.vendors.airudder.tokens import AccountKey, cached_token, pause_queries, queries_paused_until
from dialhub.vendors.airudder.wire import (
    AirudderAccount,
    AirudderOptions,
    Fields,
    QueryLimited,
    callback_items,
    code_of,
    comments_for,
    data_of,
    dial_problem,
    listing_total,
    message_of,
    raw_without_pii,
    refusal,
    row_key,
    rows_of,
    schedule_window,
    split_comments,
    succeeded,
    task_name,
    task_prefix,
    variable_text,
)
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
    VendorError,
    VendorRejected,
    VendorUnavailable,
    get_json,
    post_json,
    source_ip_allowed,
)

if TYPE_CHECKING:  # httpx (and stamina) are imported where a request is sent: callbacks need neither
    import httpx


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value).strip() or None


def _sent_number(request: DialRequest, detail: dict[str, Any]) -> SentNumber:
    return SentNumber(request.contact_id, detail["Comments"], request.phone)


def _mismatch(what: str, path: str, params: Mapping[str, str], rows: int, total: int | None) -> None:
    """A listing that disagrees with itself: logged (no phone numbers) and counted per vendor."""
    count_metric("VendorAnswerMismatch", vendor=VENDOR)
    logger.warning(
        "airudder listing disagrees with its own total",
        extra={"problem": what, "path": path, "query": dict(params), "rows": rows, "total": total},
    )


class AirudderAdapter(AccountAdapter):
    name: ClassVar[str] = VENDOR
    # Creating a task of thousands of numbers can be slow (JULO uses 120 s); a timed-out create is safe to
    # repeat (same TaskName -> 10508), so a generous read timeout only saves a round trip.
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
    def _account_key(self) -> AccountKey:
        return self.account.base_url.rstrip("/"), self.account.app_key

    def _token(self, refused: str | None = None) -> str:
        return cached_token(self._account_key, self._clock, self._request_token, refused)

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
            raise VendorRejected(
                VENDOR, exc.code, "authentication refused: check appKey and appSecret", account_refused=True
            ) from exc
        data = data_of(payload)
        token = _text(data.get("token")) if isinstance(data, dict) else None
        if not succeeded(payload) or token is None:
            code = code_of(payload)
            reason = f"authentication failed: {describe_error(code, message_of(payload))}"
            raise VendorRejected(VENDOR, code, reason, account_refused=True)
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
        if payload is None or code_of(payload) in TOKEN_ERRORS:
            logger.info("airudder refused the token; refreshing it once", extra={"vendor": VENDOR})
            payload = self._send(method, path, self._token(refused=token), body, params)
        return payload

    def _checked(self, method: str, path: str, *, body: dict[str, Any] | None = None) -> dict[str, Any]:
        payload = self._call(method, path, body=body)
        if not succeeded(payload):
            raise refusal(payload)
        return payload

    def _query(self, path: str, params: Mapping[str, str]) -> dict[str, Any]:
        """A GET under AIRudder's query-count limit: 10705 is retried a bounded number of times with backoff,
        then queries pause for the account's cool-down and VendorUnavailable tells the caller to come back."""
        paused_until = queries_paused_until(self._account_key)
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
                    if code_of(payload) == QUERY_LIMIT_EXCEEDED:
                        raise refusal(payload)
        except QueryLimited:
            pause_queries(self._account_key, self._clock() + dt.timedelta(seconds=self.account.query_cooldown_seconds))
            count_metric("VendorThrottled", vendor=VENDOR)
            logger.warning("airudder query limit reached; queries paused", extra={"vendor": VENDOR, "path": path})
            raise VendorUnavailable(
                VENDOR,
                f"{VENDOR} error {QUERY_LIMIT_EXCEEDED}: query count limit exceeded; tried again on the next poll",
            ) from None
        if not succeeded(payload):
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
        # Only what was given is stored: defaults (the ASSUMPTIONs) stay in AirudderOptions and apply when sent.
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
            detail[field_name] = variable_text(request.variables.get(variable))
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
            if exc.account_refused:
                raise  # not the numbers' doing: dispatch may send them to another vendor
            result.rejected.update({request.contact_id: exc.reason for request, _ in sent})
            return result
        if code_of(payload) == DUPLICATE_TASK_NAME:
            return self._created_earlier(name, sent, result)
        data = data_of(payload)
        reading = read_create_answer(data, [_sent_number(request, detail) for request, detail in sent])
        task_id = _text(data.get("TaskID")) if isinstance(data, dict) else None
        if not succeeded(payload) or task_id is None:
            error = refusal(payload) if not succeeded(payload) else None
            if isinstance(error, VendorUnavailable) or (error is not None and error.account_refused):
                raise error
            if error is not None:
                reason = error.reason
            elif options.perform == 3 and isinstance(data, dict) and data.get("detail_error_list"):
                reason = f"{VENDOR}: task not created because other numbers of the chunk were refused (Perform 3)"
            else:
                reason = f"{VENDOR}: task not created (no TaskID in the answer)"
            # No task: nobody is dialled, whatever the answer left in doubt.
            result.rejected.update(
                {request.contact_id: reading.refused.get(request.contact_id, reason) for request, _ in sent}
            )
            return result
        result.rejected.update(reading.refused)
        comments = {request.contact_id: detail["Comments"] for request, detail in sent}
        result.accepted.update(
            {contact_id: value for contact_id, value in comments.items() if contact_id not in reading.refused}
        )
        for what, contact_ids in reading.doubts:
            result.doubt(what, {contact_id: comments[contact_id] for contact_id in contact_ids})
        result.job_id = task_id
        logger.info(
            "airudder task created",
            extra={
                "task_name": name,
                "task_id": task_id,
                "accepted": len(result.accepted),
                "rejected": len(result.rejected),
                "unconfirmed": len(result.unconfirmed),
            },
        )
        return result

    def _created_earlier(
        self, name: str, sent: list[tuple[DialRequest, dict[str, Any]]], result: SubmitResult
    ) -> SubmitResult:
        """10508: an earlier try of this very chunk created the task and its answer was lost, with whatever
        detail_error_list it held. Nobody is dialled twice. The numbers the task's detail shows are accepted; the
        others were refused by that create (AIRudder keeps no row for a number it refused: ASSUMPTION A8) and
        fail now with that reason, rather than wait for results that cannot come. Only when the detail cannot be
        read is the chunk left unconfirmed, for polling to settle."""
        existing_id = self._existing_task_id(name)
        result.job_id = existing_id
        held = self._numbers_held(existing_id)
        comments = {request.contact_id: detail["Comments"] for request, detail in sent}
        if held is None:
            result.doubt(
                "duplicate task name (10508): an earlier create made the task and its answer, with the numbers "
                "it refused, was lost; the task's detail could not be read",
                comments,
            )
        else:
            for contact_id, value in comments.items():
                if value in held:
                    result.accepted[contact_id] = value
                else:
                    result.rejected[contact_id] = (
                        f"{VENDOR}: refused by an earlier create of this chunk whose answer was lost (10508); "
                        "its task does not hold the number"
                    )
        logger.info(
            "airudder task already existed",
            extra={
                "task_name": name,
                "task_id": existing_id,
                "accepted": len(result.accepted),
                "rejected": len(result.rejected),
                "unconfirmed": len(result.unconfirmed),
            },
        )
        return result

    def _numbers_held(self, task_id: str) -> set[str] | None:
        """The Comments of every number an AIRudder task holds, or None when its detail cannot be read now."""
        try:
            return {
                comments
                for rows in self._listing(PATH_DETAIL, {"TaskID": task_id}, DETAIL_PAGE_SIZE)
                for row in rows
                if (comments := Fields(row).text("Comments", "Comment"))
            }
        except VendorError as exc:
            logger.warning(
                "airudder task detail unreadable after 10508", extra={"task_id": task_id, "reason": exc.reason}
            )
            return None

    def _existing_task_id(self, name: str) -> str:
        for rows in self._listing(PATH_LIST, {"TaskName": name}, LIST_PAGE_SIZE):
            for row in rows:
                fields = Fields(row)
                if fields.text("TaskName") == name and (task_id := fields.text("TaskID")):
                    return task_id
        raise VendorUnavailable(VENDOR, f"{VENDOR}: task {name} exists (10508) but the list does not show it yet")

    def _listing(self, path: str, params: Mapping[str, str], page_size: int) -> Iterator[list[dict[str, Any]]]:
        """The rows of a listing, page by page (ASSUMPTION A9: `PageNumber` from 1 and `PageSize`), read until
        an empty page, a page of rows already read (the page number ignored), or the listing's own total,
        and never beyond MAX_LISTING_PAGES. A listing that disagrees with its total is logged and counted."""
        seen: set[str] = set()
        total: int | None = None
        for page in range(1, MAX_LISTING_PAGES + 1):
            payload, paged = self._page(path, params, page, page_size)
            total = listing_total(payload) if listing_total(payload) is not None else total
            fresh = []
            for row in rows_of(payload):
                if (key := row_key(row)) not in seen:
                    seen.add(key)
                    fresh.append(row)
            if fresh:
                yield fresh
            if not fresh or not paged or (total is not None and len(seen) >= total):
                break
        else:
            _mismatch(f"{path} still had rows after {MAX_LISTING_PAGES} pages", path, params, len(seen), total)
            return
        if total is not None and len(seen) != total:
            _mismatch(f"{path} gave {len(seen)} rows where its total says {total}", path, params, len(seen), total)

    def _page(self, path: str, params: Mapping[str, str], page: int, page_size: int) -> tuple[dict[str, Any], bool]:
        """One page of a listing, and whether it was paged. Should AIRudder refuse the (undocumented) paging
        parameters themselves, the first page is asked without them, once, and read as the whole listing."""
        try:
            return self._query(path, {**params, PAGE_NUMBER: str(page), PAGE_SIZE: str(page_size)}), True
        except VendorRejected as exc:
            if page != 1 or exc.code in TASK_GONE_ERRORS:
                raise
            payload = self._query(path, params)
        count_metric("VendorAnswerMismatch", vendor=VENDOR)
        logger.warning("airudder refused the paging parameters; listing read unpaged", extra={"path": path})
        return payload, False

    def cancel(self, task: VendorTask, request: DialRequest) -> None:
        if not request.vendor_job_id:
            raise VendorRejected(VENDOR, None, "the contact is in no AIRudder task yet")
        self._checked("POST", PATH_CANCEL_CALL, body={"TaskID": request.vendor_job_id, "Mobile": request.phone})

    def control_task(self, task: VendorTask, action: TaskAction) -> bool:
        operation = TASK_OPERATIONS[action]
        for job_id in task.job_ids:
            payload = self._call("POST", PATH_OPERATION, body={"TaskID": job_id, "Operation": operation})
            if not succeeded(payload) and code_of(payload) != TASK_FINISHED:  # a finished task needs nothing
                raise refusal(payload)
        return True

    def results(self, task: VendorTask) -> Iterator[list[CallOutcome]]:
        for job_id in task.job_ids:
            try:
                for rows in self._listing(PATH_DETAIL, {"TaskID": job_id}, DETAIL_PAGE_SIZE):
                    outcomes = [
                        outcome
                        for outcome in (
                            self._outcome(row, OutcomeSource.POLL, job_id, task.campaign_id) for row in rows
                        )
                        if outcome is not None and outcome.final
                    ]
                    if outcomes:
                        yield outcomes
            except VendorRejected as exc:
                if exc.code not in TASK_GONE_ERRORS:
                    raise
                logger.warning("airudder task not found while polling", extra={"task_id": job_id, "code": exc.code})

    def task_complete(self, task: VendorTask, closed_contacts: int) -> bool:
        # One call-level result per number per AIRudder task: done once every accepted number has one.
        return task.submitted > 0 and closed_contacts >= task.submitted

    # ------------------------------------------------------------------ inbound
    def authenticate(self, callback: InboundCallback) -> bool:
        token = callback.query.get("token", "")
        token_ok = hmac.compare_digest(token.encode(), self.account.webhook_token.get_secret_value().encode())
        if not token_ok or not source_ip_allowed(callback.source_ip, self.account.ip_allowlist):
            return False
        return not self.account.verify_signature or signature_ok(
            self.account.app_secret.get_secret_value(), callback.body, callback.headers.get("x-airudder-sign", "")
        )

    def parse_callback(self, callback: InboundCallback) -> OutcomeReport | PredialQuestion:
        if callback.kind not in ("call", "task"):
            raise KeyError(callback.kind)
        items = callback_items(self._plain_body(callback.body))
        if callback.kind == "task":
            for item in items:
                fields = Fields(item)
                if fields.text("TaskID") is None:
                    raise CallbackRejected("task notification without TaskID")
                logger.info(
                    "airudder task notification",
                    extra={"task_id": fields.text("TaskID"), "status": fields.text("Status", "TaskStatus")},
                )
            return OutcomeReport([])
        outcomes = [self._outcome(item, OutcomeSource.WEBHOOK) for item in items]
        read = [outcome for outcome in outcomes if outcome is not None]
        if not read:
            raise CallbackRejected("call notification without CallID (or TaskID and Comments)")
        # AIRudder sends a call webhook again when it is not answered 200 (ASSUMPTION A18): what could be read
        # is stored, and the entries without a result are not acknowledged as if they had been.
        return OutcomeReport(read, unread=len(outcomes) - len(read))

    def _plain_body(self, raw: bytes) -> Any:
        """The JSON of a callback body, decrypted first when the account has AIRudder encrypt callbacks."""
        if self.account.encrypt_callbacks:
            assert self.account.aes_key is not None and self.account.aes_iv is not None
            raw = decrypt_body(
                encrypted_text(raw),
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
        fields = Fields(item)
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
        variables: dict[str, Any] = {"raw": raw_without_pii(item)}
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

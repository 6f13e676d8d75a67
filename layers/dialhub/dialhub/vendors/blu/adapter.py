"""The Blu adapter: a task per campaign and day, records uploaded in chunks, results polled and called back."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import unicodedata
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, ClassVar

from dialhub.dispositions import CallStatus
from dialhub.jsonguard import JsonRefused, read_json
from dialhub.models import CallOutcome, Campaign, Contact, OutcomeSource, VendorTask
from dialhub.observability import count_metric, logger
from dialhub.phones import national_digits
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
    call_seconds,
    post_json,
    source_ip_allowed,
    vendor_count,
)
from dialhub.vendors.blu.codes import (
    CODES,
    MAX_PAGES,
    PATH_CANCEL,
    PATH_CREATE_TASK,
    PATH_RESULTS,
    PATH_UPLOAD,
    SUCCESS,
    UPLOAD_LIMIT,
    VENDOR,
    WALL_CLOCK,
)
from dialhub.vendors.blu.wire import BluAccount, BluOptions, sign

if TYPE_CHECKING:  # httpx (and stamina) are imported where a request is sent: callbacks need neither
    import httpx


def record_id(campaign_id: str, contact_id: str, attempt: int) -> int:
    """Deterministic numeric record id (fits a JavaScript number), so a resend carries the same id."""
    digest = hashlib.sha256(f"{campaign_id}\x1f{contact_id}\x1f{attempt}".encode()).hexdigest()
    return int(digest[:13], 16)


def _refused_characters(text: str) -> bool:
    """Blu refuses emoji and special characters in every field."""
    for char in text:
        if ord(char) > 0xFFFF:
            return True
        if unicodedata.category(char) in ("So", "Cs", "Co", "Cn") or (
            unicodedata.category(char) == "Cc" and char not in "\t\n\r"
        ):
            return True
    return False


def _as_json_object(value: Any) -> dict[str, Any]:
    """extVars/slots arrive as JSON text or as an object; anything else reads as empty."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value.strip():
        try:
            parsed = read_json(value)
        except JsonRefused:
            return {}
        return parsed if isinstance(parsed, dict) else {}
    return {}


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _mismatch(what: str, **details: Any) -> None:
    """Blu's answer disagrees with itself or with what was asked: logged and counted, never guessed past."""
    logger.warning("blu answer mismatch", extra={"vendor": VENDOR, "problem": what, **details})
    count_metric("VendorAnswerMismatch", vendor=VENDOR)


class BluAdapter(AccountAdapter):
    name: ClassVar[str] = VENDOR
    batch_limit: ClassVar[int] = UPLOAD_LIMIT

    @classmethod
    def from_account(cls, account: dict[str, Any], http: httpx.Client | None = None) -> BluAdapter:
        return cls(BluAccount.model_validate(account), http=http)

    # ------------------------------------------------------------------ outbound
    def _headers(self) -> dict[str, str]:
        timestamp = str(int(self._clock().timestamp() * 1000))
        app_id = self.account.app_id
        return {
            "appId": app_id,
            "timeStamp": timestamp,
            "sign": sign(app_id, self.account.app_key.get_secret_value(), timestamp),
            "Content-Type": "application/json",
        }

    def answer_to(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """Blu's answer to a signed request, whatever its `code` (the contract check reads refusals too)."""
        content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        return post_json(VENDOR, self.http, path, content=content, headers=self._headers)

    def _call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        payload = self.answer_to(path, body)
        if payload.get("code") != SUCCESS:
            raise VendorRejected(VENDOR, payload.get("code"), str(payload.get("message") or "no message"))
        return payload

    @classmethod
    def contact_problem(cls, contact: Contact, options: dict[str, Any]) -> str | None:
        if _refused_characters(contact.name):
            return "name contains characters Blu refuses (emoji or symbols)"
        for key, value in contact.variables.items():
            if _refused_characters(f"{key}{value}"):
                return f"variable {key!r} contains characters Blu refuses (emoji or symbols)"
        return None

    @classmethod
    def calls_per_request(cls, options: dict[str, Any]) -> int:
        return 1  # a Blu record is dialled once; redialling is a new record

    @classmethod
    def validate_options(cls, options: dict[str, Any]) -> dict[str, Any]:
        return BluOptions.model_validate(options).model_dump(by_alias=True, exclude_none=True)

    def create_task(self, campaign: Campaign, local_date: dt.date) -> str:
        options = BluOptions.model_validate(campaign.vendor_options)
        body: dict[str, Any] = {
            "taskName": f"dialhub {campaign.campaign_id} {local_date.isoformat()}",
            "botId": options.bot_id,
        }
        if options.strategy_id is not None:
            body["strategyId"] = options.strategy_id
        payload = self._call(PATH_CREATE_TASK, body)
        task_id = _text(payload.get("taskId"))
        if task_id is None:
            raise VendorRejected(VENDOR, payload.get("code"), "createTask answered without a taskId")
        return task_id

    def _task_id(self, task: VendorTask) -> int | str:
        return int(task.vendor_task_id) if task.vendor_task_id.isdigit() else task.vendor_task_id

    def _record(self, request: DialRequest) -> dict[str, Any]:
        rid = record_id(request.campaign_id, request.contact_id, request.attempt)
        ext_vars = {
            "campaignId": request.campaign_id,
            "contactId": request.contact_id,
            "attempt": request.attempt,
            "orderId": rid,
        }
        call_vars = {key: str(value) for key, value in request.variables.items()}
        return {
            "id": rid,
            "name": request.name,
            "mobile": national_digits(request.phone),
            "extVars": json.dumps(ext_vars, separators=(",", ":")),
            "callVars": json.dumps(call_vars, ensure_ascii=False, separators=(",", ":")),
        }

    def submit(self, submission: Submission) -> SubmitResult:
        task, requests = submission.task, submission.requests
        if len(requests) > UPLOAD_LIMIT:
            raise ValueError(f"Blu takes at most {UPLOAD_LIMIT} records per upload, got {len(requests)}")
        records = [self._record(request) for request in requests]
        result = SubmitResult()
        try:
            payload = self._call(PATH_UPLOAD, {"taskId": self._task_id(task), "records": records})
        except VendorRejected as exc:
            if exc.account_refused:
                raise  # not the records' doing: dispatch may send them to another vendor
            result.rejected = {request.contact_id: exc.reason for request in requests}
            return result
        result.accepted = {req.contact_id: str(rec["id"]) for req, rec in zip(requests, records, strict=True)}
        result.job_id = _text(payload.get("jobId"))
        self._check_upload_count(payload.get("count"), result)
        return result

    @staticmethod
    def _check_upload_count(answered: Any, result: SubmitResult) -> None:
        """Blu answers only how many records it took (A16), never which. Fewer than sent, or no readable
        count, and none of the upload counts as accepted: the poller settles each from Blu's results (a
        record Blu already held under A3 also lowers the count; it settles the same way)."""
        uploaded = dict(result.accepted)
        sent = len(uploaded)
        count = vendor_count(answered)
        if count is None:
            result.doubt(f"uploadAndStartJob answered no readable count ({type(answered).__name__})", uploaded)
        elif count < sent:
            result.doubt(f"uploadAndStartJob counted {count} of the {sent} records sent", uploaded)
        elif count > sent:
            result.mismatches.append(f"uploadAndStartJob counted {count}, more than the {sent} records sent")

    def cancel(self, task: VendorTask, request: DialRequest) -> None:
        self._call(
            PATH_CANCEL,
            {
                "taskId": self._task_id(task),
                "mobile": national_digits(request.phone),
                "orderId": record_id(request.campaign_id, request.contact_id, request.attempt),
            },
        )

    def control_task(self, task: VendorTask, action: TaskAction) -> bool:
        return False  # Blu publishes no task pause/resume/stop; contacts are cancelled one by one instead

    def results(self, task: VendorTask) -> Iterator[list[CallOutcome]]:
        """Every result of the task, read until an empty page (Blu gives no total; A13).

        Blu documents only its default of 10 rows a page, so a page shorter than asked proves nothing: the
        reading goes on. When the first page is short, the rest is asked in pages of its length, which
        reaches the same rows whether Blu counts its page offsets in the size asked or in the size it
        served. A page that brings no call not already read (Blu ignoring `pageNo`) ends the reading,
        as does MAX_PAGES; both are counted as VendorAnswerMismatch.
        """
        page_size = self.account.page_size
        seen: set[str] = set()
        shrunk_from: int | None = None
        for page_no in range(1, MAX_PAGES + 1):
            body = {"taskId": task.vendor_task_id, "pageNo": page_no, "pageSize": page_size}
            rows = self._result_rows(self._call(PATH_RESULTS, body), page_no)
            if not rows:
                return
            if shrunk_from is not None and page_no == 2:
                _mismatch(
                    "queryCallResult serves fewer rows a page than asked; set the account's pageSize to it",
                    asked=shrunk_from,
                    served=page_size,
                )
            outcomes = [
                outcome
                for outcome in (self._outcome(row, OutcomeSource.POLL) for row in rows)
                if outcome is not None and outcome.vendor_call_id not in seen
            ]
            if not outcomes:
                _mismatch("queryCallResult page brings no call not already read", page_no=page_no, rows=len(rows))
                return
            seen.update(outcome.vendor_call_id for outcome in outcomes)
            yield outcomes
            if page_no == 1 and len(rows) < page_size:
                shrunk_from, page_size = page_size, len(rows)
        _mismatch("queryCallResult still had rows after the page limit", pages=MAX_PAGES)

    @staticmethod
    def _result_rows(payload: dict[str, Any], page_no: int) -> list[dict[str, Any]]:
        """The rows of one result page; `count` is documented as the rows on that page."""
        rows = payload.get("data") or []
        if not isinstance(rows, list):
            raise VendorRejected(VENDOR, payload.get("code"), "queryCallResult data is not a list")
        objects = [row for row in rows if isinstance(row, dict)]
        count = vendor_count(payload.get("count"))
        if len(objects) != len(rows) or (count is not None and count != len(rows)):
            _mismatch(
                "queryCallResult page disagrees with its own count or holds rows that are not objects",
                page_no=page_no,
                count=payload.get("count") if count is not None else None,
                rows=len(rows),
            )
        return objects

    def task_complete(self, task: VendorTask, closed_contacts: int) -> bool:
        # One call per record per task: the task is done once every submitted record has a final result.
        return task.submitted > 0 and closed_contacts >= task.submitted

    # ------------------------------------------------------------------ inbound
    def authenticate(self, callback: InboundCallback) -> bool:
        token = callback.query.get("token", "")
        expected = self.account.webhook_token.get_secret_value()
        token_ok = hmac.compare_digest(token.encode(), expected.encode())
        return token_ok and source_ip_allowed(callback.source_ip, self.account.ip_allowlist)

    def parse_callback(self, callback: InboundCallback) -> OutcomeReport | PredialQuestion:
        if callback.kind not in ("", "predial"):
            raise KeyError(callback.kind)
        try:
            body = read_json(callback.body)
        except JsonRefused as exc:
            raise CallbackRejected(str(exc)) from exc
        if callback.kind == "predial":
            return self._predial_question(body)
        items = self._result_items(body)
        outcomes = [self._outcome(item, OutcomeSource.WEBHOOK) for item in items]
        # Blu sends a callback again unless answered 200 (A6): an entry with no call id is not acknowledged
        # as if stored, so the webhook answers 422 for it and Blu retries; polling finds the call regardless.
        readable = [outcome for outcome in outcomes if outcome is not None]
        return OutcomeReport(readable, unread=len(outcomes) - len(readable))

    @staticmethod
    def _result_items(body: Any) -> list[dict[str, Any]]:
        """The call results in a callback body, each carrying the envelope's `taskId` where it has none."""
        if isinstance(body, list):
            items = body
        elif isinstance(body, dict) and "callId" in body:
            items = [body]
        elif isinstance(body, dict) and isinstance(body.get("data"), list | dict):
            items = body["data"] if isinstance(body["data"], list) else [body["data"]]
        elif isinstance(body, dict) and isinstance(body.get("records"), list):
            items = body["records"]  # the documented shape: one task, its records
        else:
            raise CallbackRejected("no call result in body: expected callId, data[] or records[]")
        if not all(isinstance(item, dict) for item in items):
            raise CallbackRejected("every call result must be a JSON object")
        envelope_task = body.get("taskId") if isinstance(body, dict) and "callId" not in body else None
        if _text(envelope_task) is None:
            return items
        return [item if _text(item.get("taskId")) is not None else item | {"taskId": envelope_task} for item in items]

    def _predial_question(self, body: Any) -> PredialQuestion:
        if not isinstance(body, dict):
            raise CallbackRejected("pre-dial body must be a JSON object")
        records = body.get("records")
        source = records[0] if isinstance(records, list) and records and isinstance(records[0], dict) else body
        ours = _as_json_object(source.get("extVars"))
        return PredialQuestion(_text(ours.get("campaignId")), _text(ours.get("contactId")))

    def acknowledge(self, callback: InboundCallback) -> Reply:
        return Reply(200, {"code": 200, "message": "success"})

    def predial_reply(self, allow: bool) -> Reply:
        return Reply(200, {"code": 1, "message": "Call"} if allow else {"code": 0, "message": "Cancel call"})

    # ------------------------------------------------------------------ normalising
    def _time(self, value: Any) -> dt.datetime | None:
        if not isinstance(value, str) or (parts := WALL_CLOCK.fullmatch(value.strip())) is None:
            return None
        try:
            year, month, day, hour, minute, second = (int(part) for part in parts.groups())
            local = dt.datetime(year, month, day, hour, minute, second, tzinfo=self._zone)
            return local.astimezone(dt.UTC)
        except (ValueError, OverflowError):  # e.g. 0001-01-01 00:00:00 east of UTC is before year 1 in UTC
            return None

    def _outcome(self, item: dict[str, Any], source: OutcomeSource) -> CallOutcome | None:
        call_id = _text(item.get("callId"))
        if call_id is None:
            return None
        ours = _as_json_object(item.get("extVars"))
        code = _text(item.get("code"))
        meaning = CODES.lookup(code)
        answered_at = self._time(item.get("answerTime"))
        duration = call_seconds(item.get("duration"))
        status = meaning.status or (CallStatus.ANSWERED if answered_at or duration else CallStatus.NO_ANSWER)
        attempt = ours.get("attempt")
        variables: dict[str, Any] = {}
        slots = _as_json_object(item.get("slots"))
        if slots:
            variables["slots"] = slots
            window = slots.get("paymentTime")
            if isinstance(window, list) and len(window) == 2:
                times = [self._time(edge) for edge in window]
                if all(times):
                    variables["paymentWindowUtc"] = [t.isoformat() for t in times if t]
        return CallOutcome(
            vendor=VENDOR,
            vendor_call_id=call_id,
            vendor_task_id=_text(item.get("taskId")),
            campaign_id=_text(ours.get("campaignId")),
            contact_id=_text(ours.get("contactId")),
            attempt=attempt if isinstance(attempt, int) and attempt > 0 else 1,
            status=status,
            disposition=meaning.disposition,
            vendor_code=code,
            vendor_description=_text(item.get("desc")),
            vendor_status=_text(item.get("status")),
            started_at=self._time(item.get("startTime")),
            answered_at=answered_at,
            ended_at=self._time(item.get("endTime")),
            duration_seconds=duration,
            recording_url=_text(item.get("recordUrl")),
            variables=variables,
            source=source,
        )

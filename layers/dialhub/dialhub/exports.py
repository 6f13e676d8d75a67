"""A campaign's results as one file in S3: CSV for spreadsheets, JSON Lines for programs, or its report (html).

The API records the job and queues it; the exports function streams the campaign page by page (one row per
contact, with its closing outcome) into parts of a multipart upload, so memory stays flat whatever the size.
After each part it saves how far it got. An invocation running out of time stops at the last saved part and
queues the rest; a crash is retried by SQS from the same point. Either way each row is written once, and the
file appears only when whole.

A CSV has one column per contact variable and per collected variable, so its header needs every variable
name before the first row: the campaign is read once for the names, then again for the rows. A name first
seen while writing (an outcome that arrived in between) starts the rows again with it.

A report (report.py reads its figures, report_page.py draws them) is one page of charts, not rows: it is read
and written whole in one invocation, and only this function, on that path, imports what draws it.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
import secrets
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import Field

from dialhub.campaigns import require_campaign
from dialhub.errors import InvalidField, NotFound
from dialhub.listing import ContactResult, contact_results
from dialhub.models import (
    Campaign,
    DialState,
    ExportFormat,
    ExportJob,
    ExportPart,
    ExportPhase,
    ExportProgress,
    ExportState,
    WireModel,
)
from dialhub.objects import BucketObjects
from dialhub.observability import count_metric, logger
from dialhub.queue import ExportQueue
from dialhub.settings import Settings
from dialhub.store import Store

ROWS_PER_READ = 1000
# Stop this long before the invocation's end: time to upload the part in hand and save the progress.
STOP_MARGIN_SECONDS = 30
EXCEL_BOM = "\ufeff".encode()
# A cell a spreadsheet would run as a formula starts with one of these (OWASP, "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FIXED_COLUMNS = (
    "contactId",
    "phone",
    "state",
    "attempt",
    "hold",
    "holdUntil",
    "reason",
    "updatedAt",
    "vendor",
    "vendorCallId",
    "status",
    "disposition",
    "source",
    "startedAt",
    "answeredAt",
    "endedAt",
    "durationSeconds",
    "recordingUrl",
)
CONTENT_TYPES = {
    ExportFormat.CSV: "text/csv; charset=utf-8",
    ExportFormat.JSONL: "application/x-ndjson",
    ExportFormat.HTML: "text/html; charset=utf-8",
}


class ExportRequest(WireModel):
    format: ExportFormat = Field(
        default=ExportFormat.CSV,
        description="csv (opens in Excel), jsonl, or html: the campaign report, one page of charts and figures",
    )
    state: DialState | None = Field(
        default=None, description="Only contacts in this state (default: all); not with html, which reports all"
    )
    include_phone: bool = Field(
        default=False,
        description="Full phone numbers instead of the last four digits; the caller's IAM principal is logged. "
        "Not with html: a report holds no numbers",
    )


class ExportView(WireModel):
    export_id: str
    campaign_id: str
    format: ExportFormat
    state: ExportState = Field(description="running, done, failed, or expired (past ExportRetentionDays)")
    phase: ExportPhase | None = Field(
        default=None, description="While running: columns (reading variable names), rows, completing"
    )
    rows: int = Field(description="Rows written so far (all of them once done)")
    bytes: int
    url: str | None = Field(default=None, description="When done: a plain GET downloads the file")
    expires_at: dt.datetime | None = Field(
        default=None, description="When `url` stops working; ask again for a new one"
    )
    error: str | None = None
    created_at: dt.datetime
    finished_at: dt.datetime | None = None


class ExportMessage(WireModel):
    export_id: str = Field(min_length=1, max_length=64)


# --------------------------------------------------------------------------- the API's side


def _new_export_id() -> str:
    return f"exp_{secrets.token_hex(10)}"


def _file_name(campaign: Campaign, job: ExportJob) -> str:
    if job.format is ExportFormat.HTML:
        return f"{campaign.name}-report.html"
    return f"{campaign.name} {job.created_at.date().isoformat()} {job.export_id}.{job.format.value}"


def _check_report_request(request: ExportRequest) -> None:
    """A report covers every contact and holds figures only: a filter or phone numbers are refused, by name."""
    if request.format is not ExportFormat.HTML:
        return
    if request.state is not None:
        raise InvalidField("state", "a report (html) covers every contact; leave state out")
    if request.include_phone:
        raise InvalidField("includePhone", "a report (html) holds no phone numbers")


def start_export(
    store: Store,
    queue: ExportQueue,
    settings: Settings,
    campaign_id: str,
    request: ExportRequest,
    principal: str | None,
    now: dt.datetime,
) -> ExportView:
    _check_report_request(request)
    campaign = require_campaign(store, campaign_id)
    export_id = _new_export_id()
    job = ExportJob(
        export_id=export_id,
        campaign_id=campaign.campaign_id,
        format=request.format,
        contact_state=request.state,
        include_phone=request.include_phone,
        requested_by=principal,
        object_key=f"exports/{campaign.campaign_id}/{export_id}.{request.format.value}",
        progress=ExportProgress(phase=ExportPhase.COLUMNS if request.format is ExportFormat.CSV else ExportPhase.ROWS),
        created_at=now,
    )
    store.create_export(job, now + dt.timedelta(days=settings.export_retention_days + 1))
    if request.include_phone:
        # Who asked for the numbers, never the numbers.
        logger.info(
            "export with full phone numbers requested",
            extra={"principal": principal or "unknown", "export_id": export_id, "campaign_id": campaign.campaign_id},
        )
    try:
        queue.send(export_id)
    except Exception:
        # Not left "running" with nothing to run it: the caller sees it failed, and may ask again.
        store.fail_export(export_id, "could not be queued; start it again", now)
        raise
    return _view(job, None, settings, now)


def _view(job: ExportJob, objects: BucketObjects | None, settings: Settings, now: dt.datetime) -> ExportView:
    state, url, expires_at = job.state, None, None
    if state is ExportState.DONE:
        if now >= job.created_at + dt.timedelta(days=settings.export_retention_days):
            state = ExportState.EXPIRED
        elif objects is not None:
            link = objects.download_link(job.object_key, settings.export_url_minutes, now)
            url, expires_at = link.url, link.expires_at
    return ExportView(
        export_id=job.export_id,
        campaign_id=job.campaign_id,
        format=job.format,
        state=state,
        phase=job.progress.phase if state is ExportState.RUNNING else None,
        rows=job.progress.rows,
        bytes=job.progress.bytes,
        url=url,
        expires_at=expires_at,
        error=job.error,
        created_at=job.created_at,
        finished_at=job.finished_at,
    )


def export_view(
    store: Store, objects: BucketObjects, settings: Settings, export_id: str, now: dt.datetime
) -> ExportView:
    job = store.get_export(export_id)
    if job is None:
        raise NotFound(f"export {export_id}")
    return _view(job, objects, settings, now)


# --------------------------------------------------------------------------- rows


def _cell(value: Any) -> Any:
    """What a CSV cell holds: numbers as numbers, text that a spreadsheet would run as a formula made inert."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return value
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _flatten(values: dict[str, Any], prefix: str, into: dict[str, Any]) -> dict[str, Any]:
    for name, value in values.items():
        if isinstance(value, dict) and value:
            _flatten(value, f"{prefix}{name}.", into)
        else:
            into[f"{prefix}{name}"] = value
    return into


def variable_cells(result: ContactResult) -> dict[str, Any]:
    """The row's variable columns: `variables.<name>` for the contact's, `collected.<path>` for the bot's."""
    cells = _flatten(result.variables, "variables.", {})
    if result.outcome is not None:
        _flatten(result.outcome.variables, "collected.", cells)
    return cells


def _when(moment: dt.datetime | None) -> str | None:
    """UTC, as a spreadsheet reads a date and time (ISO 8601's "T" and offset make it text to Excel)."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S") if moment else None


def column_order(names: set[str]) -> list[str]:
    """The contact's variables first, then what the bot collected, each alphabetically."""
    return sorted(names, key=lambda name: (not name.startswith("variables."), name))


def _fixed_cells(result: ContactResult) -> list[Any]:
    outcome = result.outcome
    hold = result.hold
    when = _when
    return [
        result.contact_id,
        result.phone,
        result.state.value,
        result.attempt,
        hold.reason if hold else None,
        when(hold.until) if hold else None,
        result.reason,
        when(result.updated_at),
        *(
            (
                outcome.vendor,
                outcome.vendor_call_id,
                outcome.status,
                outcome.disposition,
                outcome.source,
                when(outcome.started_at),
                when(outcome.answered_at),
                when(outcome.ended_at),
                outcome.duration_seconds,
                outcome.recording_url,
            )
            if outcome
            else (None,) * 10
        ),
    ]


class NewColumns(Exception):
    """A CSV row has variables the header has no column for."""

    def __init__(self, names: set[str]) -> None:
        super().__init__(", ".join(sorted(names)))
        self.names = names


def csv_header(columns: list[str]) -> bytes:
    return _csv_lines([[*FIXED_COLUMNS, *columns]])


def _csv_lines(rows: list[list[Any]]) -> bytes:
    text = io.StringIO()
    csv.writer(text, lineterminator="\r\n").writerows(rows)  # RFC 4180: CRLF, quotes doubled inside quotes
    return text.getvalue().encode("utf-8")


def encode_rows(results: list[ContactResult], job_format: ExportFormat, columns: list[str]) -> bytes:
    if job_format is ExportFormat.JSONL:
        return "".join(result.model_dump_json(by_alias=True) + "\n" for result in results).encode("utf-8")
    known = set(columns)
    rows = []
    for result in results:
        variables = variable_cells(result)
        if unknown := set(variables) - known:
            raise NewColumns(unknown)
        rows.append([_cell(value) for value in (*_fixed_cells(result), *(variables.get(c) for c in columns))])
    return _csv_lines(rows)


# --------------------------------------------------------------------------- the exports function's side


@dataclass
class _Pages:
    """The campaign's results in contactId order, a read at a time, from a position on."""

    store: Store
    campaign: Campaign
    job: ExportJob

    def from_(self, after: str | None) -> Iterator[list[ContactResult]]:
        while True:
            page = self.store.page_contacts(self.campaign.campaign_id, ROWS_PER_READ, after, self.job.contact_state)
            yield contact_results(self.store, page.items, self.job.include_phone)
            if page.after is None:
                return
            after = page.after


class _OutOfTime(Exception):
    """The invocation must stop; the progress saved last is where the next one starts."""


@dataclass
class _Run:
    job: ExportJob
    campaign: Campaign
    store: Store
    objects: BucketObjects
    part_bytes: int
    owner: str
    seconds_left: Callable[[], float]

    @property
    def progress(self) -> ExportProgress:
        return self.job.progress

    def _save(self, release: bool = False) -> None:
        if not self.store.save_export_progress(self.job.export_id, self.owner, self.progress, release):
            raise RuntimeError("the export's lease was lost: another invocation holds it")

    def _check_time(self, save: bool = False) -> None:
        """Stop when the invocation is near its end (`save`: keeping how far this read got)."""
        if self.seconds_left() < STOP_MARGIN_SECONDS:
            if save:
                self._save()
            raise _OutOfTime

    def count_columns(self) -> None:
        """Phase 1 (CSV only): every variable name in the campaign, saved as the read goes on."""
        names = set(self.progress.columns)
        pages = _Pages(self.store, self.campaign, self.job)
        for results in pages.from_(self.progress.after):
            for result in results:
                names.update(variable_cells(result))
            if results:
                self.progress.after, self.progress.columns = results[-1].contact_id, column_order(names)
            self._check_time(save=True)
        self.job.progress = ExportProgress(phase=ExportPhase.ROWS, columns=column_order(names))
        self._save()

    def write_rows(self) -> None:
        """Phase 2: rows into parts; after each part, the progress. The rows in hand when time runs out are
        not in any saved part: the next invocation writes them again from the saved position."""
        progress = self.progress
        buffer = bytearray()
        if not progress.parts and self.job.format is ExportFormat.CSV:
            buffer += EXCEL_BOM + csv_header(progress.columns)
        rows = 0
        pages = _Pages(self.store, self.campaign, self.job)
        for results in pages.from_(progress.after):
            buffer += encode_rows(results, self.job.format, progress.columns)
            rows += len(results)
            if len(buffer) >= self.part_bytes:
                self._upload_part(bytes(buffer), rows, results[-1].contact_id)
                buffer.clear()
                rows = 0
            self._check_time()
        if progress.upload_id is None:  # small enough for one PUT: whole at once
            progress.rows, progress.bytes = rows, len(buffer)
            progress.phase = ExportPhase.COMPLETING
            self.objects.put(
                self.job.object_key, bytes(buffer), CONTENT_TYPES[self.job.format], _file_name(self.campaign, self.job)
            )
            return
        if buffer:
            self._upload_part(bytes(buffer), rows, None, last=True)
        else:  # the rows ended exactly with the last part saved
            progress.phase = ExportPhase.COMPLETING
            self._save()

    def _upload_part(self, body: bytes, rows: int, after: str | None, last: bool = False) -> None:
        """One more part, saved with the position after its last row (or, the last part, with nothing left
        but completing: a crash then must not write any row again)."""
        progress = self.progress
        if progress.upload_id is None:
            progress.upload_id = self.objects.start_upload(
                self.job.object_key, CONTENT_TYPES[self.job.format], _file_name(self.campaign, self.job)
            )
        number = len(progress.parts) + 1
        etag = self.objects.upload_part(self.job.object_key, progress.upload_id, number, body)
        progress.parts.append(ExportPart(number=number, etag=etag))
        progress.rows += rows
        progress.bytes += len(body)
        progress.after = after
        if last:
            progress.phase = ExportPhase.COMPLETING
        self._save()

    def complete(self) -> None:
        progress = self.progress
        if progress.upload_id is not None:
            self.objects.complete(
                self.job.object_key, progress.upload_id, [(part.number, part.etag) for part in progress.parts]
            )

    def restart_with(self, names: set[str]) -> None:
        """Rows begin again under a header with the new columns; the parts uploaded so far are dropped."""
        if self.progress.upload_id is not None:
            self.objects.abort(self.job.object_key, self.progress.upload_id)
        self.job.progress = ExportProgress(
            phase=ExportPhase.ROWS, columns=column_order({*self.progress.columns, *names})
        )
        self._save()


@dataclass(frozen=True)
class ExportOutcome:
    """What one invocation did with an export: ended it (done, or failed for good), ran out of time (and queued
    the rest), or nothing (it had ended, or another invocation holds it)."""

    ended: bool = False
    continued: bool = False
    skipped: bool = False


def _run_report(
    job: ExportJob,
    campaign: Campaign,
    store: Store,
    objects: BucketObjects,
    owner: str,
    seconds_left: Callable[[], float],
    now: Callable[[], dt.datetime],
) -> ExportOutcome:
    """The campaign's report, read and written whole in this invocation (a page has no parts to carry on
    from); a campaign too large to read in the time left fails the export, saying so."""
    from dialhub.report import ReportTooLarge, gather_report
    from dialhub.report_page import render_report

    try:
        figures = gather_report(store, campaign, now, seconds_left)
        body = render_report(figures).encode("utf-8")
        objects.put(job.object_key, body, CONTENT_TYPES[job.format], _file_name(campaign, job))
    except ReportTooLarge as exc:
        store.fail_export(job.export_id, str(exc), now())
        logger.warning("report not written", extra={"export_id": job.export_id, "reason": str(exc)})
        return ExportOutcome(ended=True)
    except BaseException:
        with contextlib.suppress(Exception):  # as for rows: the retry SQS makes may take over at once
            store.release_export(job.export_id, owner)
        raise
    progress = ExportProgress(phase=ExportPhase.COMPLETING, rows=figures.funnel.contacts, bytes=len(body))
    store.finish_export(job.export_id, owner, progress, now())
    count_metric("ExportsDone", format=job.format.value)
    logger.info("report done", extra={"export_id": job.export_id, "contacts": progress.rows, "bytes": progress.bytes})
    return ExportOutcome(ended=True)


def run_export(
    export_id: str,
    store: Store,
    objects: BucketObjects,
    queue: ExportQueue,
    settings: Settings,
    seconds_left: Callable[[], float],
    now: Callable[[], dt.datetime],
) -> ExportOutcome:
    started = now()
    owner = uuid.uuid4().hex
    job = store.claim_export(export_id, owner, started + dt.timedelta(seconds=seconds_left()), started)
    if job is None:
        return ExportOutcome(skipped=True)
    campaign = store.get_campaign(job.campaign_id)
    if campaign is None:
        store.fail_export(export_id, f"campaign {job.campaign_id} no longer exists", started)
        return ExportOutcome(ended=True)
    if job.format is ExportFormat.HTML:
        return _run_report(job, campaign, store, objects, owner, seconds_left, now)
    run = _Run(job, campaign, store, objects, settings.export_part_bytes, owner, seconds_left)
    try:
        while run.progress.phase is not ExportPhase.COMPLETING:
            try:
                if run.progress.phase is ExportPhase.COLUMNS:
                    run.count_columns()
                else:
                    run.write_rows()
            except NewColumns as exc:
                logger.info(
                    "export restarts its rows with new columns",
                    extra={"export_id": export_id, "columns": len(exc.names)},
                )
                run.restart_with(exc.names)
        run.complete()
        store.finish_export(export_id, owner, run.progress, now())
    except _OutOfTime:
        store.release_export(export_id, owner)
        queue.send(export_id)
        logger.info(
            "export continues in the next invocation", extra={"export_id": export_id, "rows": run.progress.rows}
        )
        return ExportOutcome(continued=True)
    except BaseException:
        with contextlib.suppress(Exception):  # else the lease lapses with the invocation, before SQS retries
            store.release_export(export_id, owner)  # the retry SQS makes may take over at once
        raise
    count_metric("ExportsDone", format=job.format.value)
    logger.info(
        "export done",
        extra={
            "export_id": export_id,
            "rows": run.progress.rows,
            "bytes": run.progress.bytes,
            "parts": len(run.progress.parts),
        },
    )
    return ExportOutcome(ended=True)

"""A campaign's contacts from a file the analyst uploads as it is (CSV or XLSX, their own column names).

The API records the import and hands out an upload link. S3 announces the file (through EventBridge, at least
once) on the import queue; the importer reads it as a stream, a batch of rows at a time: each row through the
same rules as a contact posted to the API, new contacts written in batches, the rows it refuses into a
rejections file. After each batch it saves a checkpoint with the counts. An invocation running out of time
stops at a checkpoint and queues the rest; a crash is retried from the last one. A row read again after a
crash finds its contact written with its own origin (import and row) and counts as it did, so every row is
stored once and the counts are exact, however often S3 announces the file.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import io
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import Field, field_validator

from dialhub.campaigns import CreateCampaignRequest, Refusal, checked_contact, create_campaign, require_campaign
from dialhub.errors import Conflict, InvalidField, NotFound
from dialhub.imports.columns import ChosenColumns, ColumnMapping, choose_columns, contact_fields, reported_contact_id
from dialhub.imports.reader import open_rows
from dialhub.imports.rows import Checkpoint, ImportFailed, Row
from dialhub.models import (
    Campaign,
    CampaignStatus,
    Contact,
    ImportFormat,
    ImportJob,
    ImportState,
    WireModel,
)
from dialhub.objects import BucketObjects
from dialhub.observability import count_metric, logger
from dialhub.queue import ImportQueue
from dialhub.settings import Settings
from dialhub.store import Store

UPLOAD_LINK_MINUTES = 15
ROWS_PER_BATCH = 1000  # 40 BatchWriteItem and 10 BatchGetItem requests at most, and one checkpoint
STOP_MARGIN_SECONDS = 30  # time to finish the batch in hand and save its checkpoint
REJECTIONS_HEADER = ["row", "contactId", "field", "reason"]
REJECTIONS_PART_BYTES = 8 * 1024 * 1024


class ImportRequest(WireModel):
    format: ImportFormat = Field(description="csv (with any separator, UTF-8 or a declared encoding) or xlsx")
    columns: dict[str, Any] | None = Field(
        default=None,
        description="Which header is contactId, phone, name, timezone, and which become variables "
        "(default: recognised by name; every other column a variable named by its header)",
    )
    encoding: str | None = Field(default=None, max_length=40, description="A CSV's encoding when not UTF-8: gbk…")
    sheet: str | None = Field(default=None, max_length=100, description="The XLSX worksheet (default: the first)")

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            codecs.lookup(value)
        except LookupError as exc:
            raise ValueError(f"unknown encoding '{value}' (e.g. utf-8, gbk, cp1252)") from exc
        return value

    def mapping(self) -> ColumnMapping | None:
        if self.columns is None:
            return None
        try:
            return ColumnMapping.from_wire(self.columns)
        except ImportFailed as exc:
            raise InvalidField("columns", str(exc)) from exc


class CampaignImportRequest(ImportRequest):
    """A new campaign and its contact file in one call."""

    campaign: CreateCampaignRequest


class ImportView(WireModel):
    import_id: str
    campaign_id: str
    state: ImportState
    format: ImportFormat
    upload_url: str | None = Field(default=None, description="PUT the file here (curl -T file URL) while awaited")
    expires_at: dt.datetime | None = Field(default=None, description="When the upload link stops working")
    max_bytes: int
    rows_read: int = 0
    accepted: int = 0
    rejected: int = 0
    duplicates: int = Field(default=0, description="contactIds already in the campaign, or repeated in the file")
    chosen_columns: dict[str, Any] | None = None
    rejections_url: str | None = Field(default=None, description="CSV of refused rows: row, contactId, field, reason")
    error: str | None = None
    created_at: dt.datetime
    finished_at: dt.datetime | None = None


def _upload_key(import_id: str) -> str:
    return f"uploads/{import_id}"


def _rejections_key(import_id: str) -> str:
    return f"rejections/{import_id}.csv"


def _rejections_part_prefix(import_id: str) -> str:
    return f"rejections/{import_id}/"


def import_id_of(key: str) -> str | None:
    """The import an uploaded object belongs to, from its key (uploads/<importId>)."""
    prefix, _, import_id = key.partition("/")
    return import_id if prefix == "uploads" and import_id and "/" not in import_id else None


def start_import(
    store: Store,
    objects: BucketObjects,
    settings: Settings,
    campaign_id: str,
    request: ImportRequest,
    principal: str | None,
    now: dt.datetime,
) -> ImportView:
    campaign = require_campaign(store, campaign_id)
    if campaign.status is CampaignStatus.CANCELLED:
        raise Conflict("the campaign is cancelled; contacts cannot be added to it")
    request.mapping()  # a mapping that cannot be read is refused now, not after the upload
    import_id = f"imp_{secrets.token_hex(10)}"
    job = ImportJob(
        import_id=import_id,
        campaign_id=campaign.campaign_id,
        format=request.format,
        encoding=request.encoding,
        sheet=request.sheet,
        columns=request.columns,
        upload_key=_upload_key(import_id),
        upload_expires_at=now + dt.timedelta(minutes=UPLOAD_LINK_MINUTES),
        requested_by=principal,
        created_at=now,
    )
    store.create_import(job, now + dt.timedelta(days=settings.import_retention_days + 1))
    link = objects.upload_link(job.upload_key, UPLOAD_LINK_MINUTES, now)
    view = _view(job, None, settings, now)
    view.upload_url, view.expires_at = link.url, link.expires_at
    return view


def start_campaign_import(
    store: Store,
    objects: BucketObjects,
    settings: Settings,
    request: CampaignImportRequest,
    principal: str | None,
    now: dt.datetime,
) -> ImportView:
    request.mapping()  # refused before the campaign is made, so a bad mapping leaves nothing behind
    created = create_campaign(request.campaign, store, settings.default_phone_region, settings.default_timezone, now)
    return start_import(store, objects, settings, created.campaign_id, request, principal, now)


def _view(job: ImportJob, objects: BucketObjects | None, settings: Settings, now: dt.datetime) -> ImportView:
    progress = job.progress
    state = job.state
    if state is ImportState.AWAITING_UPLOAD and job.upload_expires_at < now:
        state = ImportState.EXPIRED
    rejections_url = None
    if objects is not None and state is ImportState.DONE and progress.rejection_parts:
        rejections_url = objects.download_link(_rejections_key(job.import_id), UPLOAD_LINK_MINUTES, now).url
    return ImportView(
        import_id=job.import_id,
        campaign_id=job.campaign_id,
        state=state,
        format=job.format,
        max_bytes=settings.import_max_megabytes * 1024 * 1024,
        rows_read=progress.rows_read,
        accepted=progress.accepted,
        rejected=progress.rejected,
        duplicates=progress.duplicates,
        chosen_columns=job.chosen_columns,
        rejections_url=rejections_url,
        error=job.error,
        created_at=job.created_at,
        finished_at=job.finished_at,
    )


def import_view(
    store: Store, objects: BucketObjects, settings: Settings, import_id: str, now: dt.datetime
) -> ImportView:
    job = store.get_import(import_id)
    if job is None:
        raise NotFound(f"import {import_id}")
    return _view(job, objects, settings, now)


# --------------------------------------------------------------------------- the importer


class _LeaseLost(Exception):
    """Another invocation holds the import now: this one stops without counting what it did not save."""


@dataclass
class _Batch:
    """One batch of rows, read: contacts to write, rows refused (row, contactId, field, reason)."""

    contacts: list[Contact] = field(default_factory=list)
    rejections: list[list[Any]] = field(default_factory=list)
    duplicates: int = 0


@dataclass
class _Run:
    job: ImportJob
    campaign: Campaign
    store: Store
    objects: BucketObjects
    settings: Settings
    owner: str
    clock: Callable[[], dt.datetime]

    def __post_init__(self) -> None:
        self.progress = self.job.progress.model_copy()

    def read(self, remaining: Callable[[], float]) -> bool:
        """Rows from the checkpoint on, a batch at a time; True when the file is done, False when out of time."""
        start = Checkpoint.from_wire(self.progress.checkpoint) if self.progress.checkpoint else None
        stream = self.objects.stream(self.job.upload_key, self.job.file_etag or "")
        with open_rows(
            stream, self.job.format.value, encoding=self.job.encoding, sheet=self.job.sheet, start=start
        ) as reader:
            chosen = choose_columns(
                reader.header, ColumnMapping.from_wire(self.job.columns) if self.job.columns else None
            )
            if self.job.chosen_columns is None:
                self.job.chosen_columns = chosen.describe()
                self._save(chosen_columns=self.job.chosen_columns)
            rows: list[Row] = []
            for row in reader:
                rows.append(row)
                if len(rows) < ROWS_PER_BATCH:
                    continue
                self._take(rows, chosen, reader.checkpoint())
                rows = []
                if remaining() < STOP_MARGIN_SECONDS:
                    return False
            if rows:
                self._take(rows, chosen, reader.checkpoint())
        return True

    def _take(self, rows: list[Row], chosen: ChosenColumns, after: Checkpoint) -> None:
        batch = self._read_batch(rows, chosen)
        origins = self.store.contact_origins(self.campaign.campaign_id, [c.contact_id for c in batch.contacts])
        new, accepted = [], 0
        for contact in batch.contacts:
            if contact.contact_id not in origins:
                new.append(contact)
            elif origins[contact.contact_id] != contact.origin:
                batch.duplicates += 1
                batch.rejections.append(
                    [_row_of(contact), contact.contact_id, "contactId", "already in the campaign (not added again)"]
                )
                continue
            accepted += 1  # new, or written by an earlier try of this very batch (a crash before its checkpoint)
        if new:
            self.store.add_contacts(new, self.clock())
            self.store.mark_campaign_due(self.campaign, self.campaign.dial_date, new_contacts=len(new))
        elif accepted:
            # All written by an earlier try that may have crashed before marking the campaign due: due it is.
            self.store.mark_campaign_due(self.campaign, self.campaign.dial_date)
        if batch.rejections:
            self._write_rejections(rows[0].number, sorted(batch.rejections, key=lambda rejection: int(rejection[0])))
        progress = self.progress
        progress.rows_read += len(rows)
        progress.accepted += accepted
        progress.duplicates += batch.duplicates
        progress.rejected += len(batch.rejections) - batch.duplicates
        progress.rejection_parts += bool(batch.rejections)
        progress.checkpoint = after.to_wire()
        self._save()

    def _read_batch(self, rows: list[Row], chosen: ChosenColumns) -> _Batch:
        batch = _Batch()
        seen: dict[str, int] = {}
        now = self.clock()
        for row in rows:
            if row.error is not None:
                batch.rejections.append([row.number, reported_contact_id(row, chosen) or "", "", row.error])
                continue
            checked = checked_contact(
                self.campaign, contact_fields(row, chosen), self.settings.default_phone_region, now
            )
            if isinstance(checked, Refusal):
                field_name = (checked.field or "").removeprefix("contact.").removeprefix("contact")
                batch.rejections.append(
                    [row.number, reported_contact_id(row, chosen) or "", field_name, checked.message]
                )
                continue
            if checked.contact_id in seen:
                batch.duplicates += 1
                batch.rejections.append(
                    [
                        row.number,
                        checked.contact_id,
                        "contactId",
                        f"repeated in the file (first at row {seen[checked.contact_id]})",
                    ]
                )
                continue
            seen[checked.contact_id] = row.number
            batch.contacts.append(checked.model_copy(update={"origin": f"{self.job.import_id}#{row.number}"}))
        return batch

    def _write_rejections(self, first_row: int, rejections: list[list[Any]]) -> None:
        """This batch's refused rows, in a part of their own named by its first row: a batch read again after a
        crash writes the same part again, never a second one."""
        buffer = io.StringIO()
        csv.writer(buffer).writerows(rejections)
        key = f"{_rejections_part_prefix(self.job.import_id)}{first_row:010d}.csv"
        self.objects.put(key, buffer.getvalue().encode(), "text/csv; charset=utf-8", f"{self.job.import_id}-part.csv")

    def _save(self, chosen_columns: dict[str, Any] | None = None) -> None:
        if not self.store.save_import_progress(self.job.import_id, self.owner, self.progress, chosen_columns):
            raise _LeaseLost

    def finish(self) -> None:
        """One rejections file from the parts (in row order), then the import is done."""
        if self.progress.rejection_parts:
            self._join_rejections()
        if not self.store.finish_import(self.job.import_id, self.owner, self.progress, self.clock()):
            raise _LeaseLost
        count_metric("ContactsImported", self.progress.accepted, vendor=self.campaign.vendor)

    def _join_rejections(self) -> None:
        key = _rejections_key(self.job.import_id)
        name = f"{self.campaign.name or self.campaign.campaign_id}-rejected-rows.csv"
        header = io.StringIO()
        csv.writer(header).writerow(REJECTIONS_HEADER)
        upload_id = self.objects.start_upload(key, "text/csv; charset=utf-8", name)
        parts: list[tuple[int, str]] = []
        pending = bytearray(b"\xef\xbb\xbf" + header.getvalue().encode())  # a BOM, so Excel reads it as UTF-8
        for part_key in self.objects.keys_under(_rejections_part_prefix(self.job.import_id)):
            pending += self.objects.read(part_key)
            if len(pending) >= REJECTIONS_PART_BYTES:
                parts.append((len(parts) + 1, self.objects.upload_part(key, upload_id, len(parts) + 1, bytes(pending))))
                pending.clear()
        parts.append((len(parts) + 1, self.objects.upload_part(key, upload_id, len(parts) + 1, bytes(pending))))
        self.objects.complete(key, upload_id, parts)


def _row_of(contact: Contact) -> int:
    return int((contact.origin or "#0").rsplit("#", 1)[1])


@dataclass(frozen=True)
class ImportOutcome:
    import_id: str
    state: str  # done, continued, failed, skipped


def run_import(
    import_id: str,
    store: Store,
    objects: BucketObjects,
    queue: ImportQueue,
    settings: Settings,
    remaining: Callable[[], float],
    clock: Callable[[], dt.datetime],
) -> ImportOutcome:
    """Read (or carry on reading) the uploaded file of this import, within the invocation's time."""
    job = store.get_import(import_id)
    if job is None or job.state in (ImportState.DONE, ImportState.FAILED):
        logger.info("nothing to import: no such import, or it has ended", extra={"import_id": import_id})
        return ImportOutcome(import_id, "skipped")
    stored = objects.describe(job.upload_key)
    if stored is None:
        logger.info("import announced before its file is there", extra={"import_id": import_id})
        return ImportOutcome(import_id, "skipped")
    limit = settings.import_max_megabytes * 1024 * 1024
    if stored.size > limit:
        objects.delete(job.upload_key)
        store.fail_import(
            import_id,
            f"the file is {stored.size / 2**20:.0f} MB, above the {settings.import_max_megabytes} MB limit",
            clock(),
        )
        return ImportOutcome(import_id, "failed")
    owner = uuid.uuid4().hex
    now = clock()
    # Leased for the invocation's own time: no retry of its message can come before that ends (the queue's
    # visibility timeout is longer than the function's).
    claimed = store.claim_import(
        import_id, stored.etag, stored.size, owner, now + dt.timedelta(seconds=remaining()), now
    )
    if claimed is None:
        logger.info("import held by another invocation, or of another file", extra={"import_id": import_id})
        return ImportOutcome(import_id, "skipped")
    campaign = store.get_campaign(claimed.campaign_id)
    if campaign is None or campaign.status is CampaignStatus.CANCELLED:
        store.fail_import(import_id, "the campaign is gone or cancelled; nothing was imported", clock())
        return ImportOutcome(import_id, "failed")
    run = _Run(claimed, campaign, store, objects, settings, owner, clock)
    run.progress.invocations += 1
    try:
        done = run.read(remaining)
        if not done:
            store.release_import(import_id, owner)
            queue.send(import_id)
            logger.info(
                "import continues in the next invocation",
                extra={"import_id": import_id, "rows": run.progress.rows_read},
            )
            return ImportOutcome(import_id, "continued")
        run.finish()
    except ImportFailed as exc:
        # The file as a whole cannot be read. Its header or format says so before any row is stored; a quote
        # never closed is found where it is, and the rows before it stay imported, as their counts say.
        store.fail_import(import_id, str(exc), clock())
        logger.info("import failed", extra={"import_id": import_id, "problem": str(exc)})
        return ImportOutcome(import_id, "failed")
    except _LeaseLost:
        logger.warning("import lease lost; the holder carries on", extra={"import_id": import_id})
        return ImportOutcome(import_id, "skipped")
    except BaseException:
        with contextlib.suppress(Exception):  # else the lease lapses with the invocation, before SQS retries
            store.release_import(import_id, owner)  # the retry SQS makes may take over at once
        raise
    logger.info(
        "import done",
        extra={
            "import_id": import_id,
            "rows": run.progress.rows_read,
            "accepted": run.progress.accepted,
            "rejected": run.progress.rejected,
            "duplicates": run.progress.duplicates,
        },
    )
    return ImportOutcome(import_id, "done")

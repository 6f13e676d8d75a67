"""Domain models shared by the API, the store and the vendor adapters (camelCase on the wire)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema, model_validator
from pydantic.alias_generators import to_camel

from dialhub.dispositions import TRAITS, CallStatus, Disposition

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"


def _iana_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError("not an IANA time zone (e.g. Asia/Manila)") from exc
    return value


IanaZone = Annotated[str, AfterValidator(_iana_zone)]


def _wall_clock(value: dt.time) -> dt.time:
    if value.tzinfo is not None:
        raise ValueError("a local time of day, without a UTC offset (HH:MM)")
    return value


# A wall-clock time in a zone named elsewhere: no offset of its own (JSON Schema's "time" format needs one).
LocalTime = Annotated[
    dt.time,
    AfterValidator(_wall_clock),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$",
            "examples": ["09:00"],
        }
    ),
]


class WireModel(BaseModel):
    """camelCase JSON outside, snake_case Python inside."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore", defer_build=True)

    def to_wire(self, exclude: set[str] | None = None) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True, exclude=exclude)


class DialState(StrEnum):
    """Where a contact's dial request is; only forward moves are allowed (see the store package)."""

    QUEUED = "queued"  # accepted, waiting for its dial date
    PLANNED = "planned"  # in a dispatch batch on the queue
    SUBMITTING = "submitting"  # claimed by the dispatcher: the vendor call is in flight (recorded intent)
    SUBMITTED = "submitted"  # the vendor accepted it; waiting for the call
    UNCONFIRMED = "unconfirmed"  # the vendor's answer disagreed with what was sent: settled by its results
    FINAL = "final"  # a call reached a final outcome
    CANCELLED = "cancelled"  # cancelled before it was dialled
    FAILED = "failed"  # the vendor refused it for good; `reason` says why

    @property
    def closed(self) -> bool:
        return self in (DialState.FINAL, DialState.CANCELLED, DialState.FAILED)


# Where the dispatcher may claim a contact from: not yet sent, or claimed by an earlier delivery of its batch.
CLAIMABLE = frozenset({DialState.QUEUED, DialState.PLANNED, DialState.SUBMITTING})


class OutcomeSource(StrEnum):
    WEBHOOK = "webhook"
    POLL = "poll"


class CallingWindow(WireModel):
    """When the recipient may be called, in the campaign's time zone; vendors are told to dial only then."""

    start: LocalTime = Field(default=dt.time(9), description="Local time of day calling may start (HH:MM)")
    end: LocalTime = Field(default=dt.time(20), description="Local time of day calling must stop (HH:MM)")
    weekdays: list[int] = Field(
        default=[1, 2, 3, 4, 5, 6, 7],
        min_length=1,
        max_length=7,
        description="ISO weekdays calling is allowed on: 1 = Monday ... 7 = Sunday",
    )

    @model_validator(mode="after")
    def _coherent(self) -> CallingWindow:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        if any(day not in range(1, 8) for day in self.weekdays) or len(set(self.weekdays)) != len(self.weekdays):
            raise ValueError("weekdays must be distinct numbers from 1 (Monday) to 7 (Sunday)")
        self.weekdays = sorted(self.weekdays)
        return self


class CampaignStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"  # nothing more is sent; vendor tasks are paused where the vendor can
    CANCELLED = "cancelled"  # for good: nothing not yet dialled will be


class VendorShare(WireModel):
    """One vendor of a campaign: the share of its contacts that vendor dials, and its task settings."""

    vendor: str
    share: int = Field(ge=0, le=100, description="Percent of the campaign's contacts; 0 for a fallback vendor")
    vendor_options: dict[str, Any] = Field(default_factory=dict)


class CapacityOverflow(StrEnum):
    WAIT = "wait"  # contacts beyond a vendor's daily cap wait for its next day
    FALLBACK = "fallback"  # they go to the campaign's fallback vendor


class RedialVia(StrEnum):
    SAME = "same"  # a contact's redials go to the vendor that dialled it
    OTHER = "other"  # to the next vendor of the split (the champion's go to the first challenger)


class Campaign(WireModel):
    campaign_id: str
    name: str
    vendor: str  # the champion: the first of `vendors`, which is all of them in a campaign with one vendor
    dial_date: dt.date
    timezone: str
    calling_window: CallingWindow = Field(default_factory=CallingWindow)
    vendor_options: dict[str, Any] = Field(default_factory=dict)  # the champion's
    # Every vendor, the split's first (shares above 0, in order), then the fallbacks (share 0, in the order they
    # are tried); filled from `vendor` for a campaign stored before splits.
    vendors: list[VendorShare] = Field(default_factory=list)
    redial_via: RedialVia = RedialVia.SAME
    capacity_overflow: CapacityOverflow = CapacityOverflow.WAIT
    status: CampaignStatus = CampaignStatus.ACTIVE
    policy: str | None = None  # compliance policy name (a preset or a stored one)
    last_planned_on: dt.date | None = None  # campaign-local day of its last planning run: it is running then
    created_at: dt.datetime
    total_contacts: int = 0  # contacts taken in, counted by the same write that marks the campaign due

    @model_validator(mode="after")
    def _vendors_named(self) -> Campaign:
        if not self.vendors:
            self.vendors = [VendorShare(vendor=self.vendor, share=100, vendor_options=self.vendor_options)]
        return self

    @property
    def shares(self) -> list[tuple[str, int]]:
        """The split: (vendor, share) for each vendor contacts are assigned to at intake."""
        return [(share.vendor, share.share) for share in self.vendors if share.share]

    @property
    def split(self) -> bool:
        return len(self.shares) > 1

    def fallback_for(self, vendor: str) -> str | None:
        """The next vendor in line for contacts `vendor` could not take: the first fallback for a vendor of the
        split, the one after it for a fallback (so contacts move down the line, never round it)."""
        line = [share.vendor for share in self.vendors if not share.share]
        after = line[line.index(vendor) + 1 :] if vendor in line else line
        return after[0] if after else None

    def vendor_of(self, contact: Contact) -> str:
        """A contact stored before splits existed has no vendor of its own: it is the champion's."""
        return contact.vendor or self.vendor

    def options_of(self, vendor: str) -> dict[str, Any]:
        """One of the campaign's vendors' task settings (a fallback's included)."""
        if vendor == self.vendor:
            return self.vendor_options
        share = next((share for share in self.vendors if share.vendor == vendor), None)
        if share is None:
            raise ValueError(f"{vendor} is not a vendor of campaign {self.campaign_id}")
        return share.vendor_options

    def for_vendor(self, vendor: str) -> Campaign:
        """The campaign as one of its vendors sees it (its name and options), for code that serves one
        vendor at a time: dispatch, the adapters, the vendor tasks."""
        if vendor == self.vendor:
            return self
        return self.model_copy(update={"vendor": vendor, "vendor_options": self.options_of(vendor)})


REDIAL_HOLD = "redial"  # the hold reason of a contact the campaign's policy calls again after `until`


class Hold(WireModel):
    """Why a queued contact was not sent, and from when it may be (compliance, checked at plan and dispatch)."""

    reason: str = Field(
        description="suppressed, outside_window, capped, no_common_window, no_time_zone, "
        "or redial (the policy calls again after `until`)"
    )
    detail: str | None = None
    until: dt.datetime | None = None
    checked_at: dt.datetime


class Suppression(WireModel):
    """A number that must not be called (until `until`, when given), whatever the campaign or vendor."""

    phone: str
    reason: str
    until: dt.datetime | None = None
    source: str = Field(default="api", description="api, or the vendor whose outcome asked for it")
    created_at: dt.datetime

    def active(self, now: dt.datetime) -> bool:
        return self.until is None or self.until > now


class FailoverCause(StrEnum):
    VENDOR_DOWN = "vendor_down"  # connection failures or error answers past the retries; nothing was taken
    BATCH_REFUSED = "batch_refused"  # the vendor refused the whole request (its task, or its account)
    CIRCUIT_OPEN = "circuit_open"  # the vendor's last submissions all failed: not tried
    CAPACITY = "capacity"  # the vendor's daily cap was reached, and the campaign sends the overflow on


class Contact(WireModel):
    """A person to call in one campaign, with the state of their dial request."""

    campaign_id: str
    contact_id: str
    phone: str  # E.164
    name: str = ""
    timezone: str | None = None  # the recipient's own zone, when known better than the number tells
    variables: dict[str, Any] = Field(default_factory=dict)
    vendor: str | None = None  # assigned at intake, or a fallback's after a failover (None: stored before splits)
    failed_over_from: str | None = None  # the vendor that could not take it, when it went to a fallback
    failover_cause: FailoverCause | None = None
    failover_reason: str | None = None  # that vendor's error, as shown to an operator
    state: DialState = DialState.QUEUED
    attempt: int = 1
    batch_id: str | None = None
    claimed_at: dt.datetime | None = None  # when this attempt was claimed for sending (kept across redeliveries)
    vendor_task_id: str | None = None
    vendor_task_date: dt.date | None = None
    vendor_record_id: str | None = None
    vendor_job_id: str | None = None
    reason: str | None = None
    hold: Hold | None = None
    disposition: Disposition | None = None
    do_not_call: bool = False
    last_call_id: str | None = None
    last_call_vendor: str | None = None  # whose call `last_call_id` is: its outcome's key, with no campaign read
    last_conversation_at: dt.datetime | None = None  # the end of its last answered call
    origin: str | None = None  # "<importId>#<row>" for a contact read from a file: a re-read row is not a duplicate
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None


class CallOutcome(WireModel):
    """One vendor call, normalised; addressed by (vendor, vendor_call_id)."""

    vendor: str
    vendor_call_id: str
    vendor_task_id: str | None = None
    campaign_id: str | None = None
    contact_id: str | None = None
    attempt: int = 1
    status: CallStatus
    disposition: Disposition = Disposition.UNKNOWN
    vendor_code: str | None = None
    vendor_description: str | None = None
    vendor_status: str | None = None
    started_at: dt.datetime | None = None
    answered_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None
    duration_seconds: int | None = None
    recording_url: str | None = None
    variables: dict[str, Any] = Field(default_factory=dict)
    source: OutcomeSource = OutcomeSource.WEBHOOK
    closes_contact: bool = Field(
        default=True,
        description="False for an attempt that is redialled, by the vendor or by dialhub under the campaign's policy",
    )
    redial_at: dt.datetime | None = Field(
        default=None, description="Set when the campaign's policy redials the contact after this call: from when"
    )
    first_seen_at: dt.datetime | None = None
    last_updated_at: dt.datetime | None = None

    @property
    def final(self) -> bool:
        return self.status.final

    @property
    def closes(self) -> bool:
        """A finished call after which the vendor makes no more attempts: the contact is done."""
        return self.status.final and self.closes_contact

    @property
    def do_not_call(self) -> bool:
        return TRAITS[self.disposition].do_not_call

    @property
    def conversation(self) -> bool:
        """Someone answered and talked: a policy's quiet period counts from its end (an unknown duration counts,
        since the quiet period protects the person)."""
        return self.status is CallStatus.ANSWERED and self.duration_seconds != 0


class VendorTask(WireModel):
    """A vendor-side task (one per campaign, vendor and local day) that dial requests are added to."""

    campaign_id: str
    vendor: str
    local_date: dt.date
    vendor_task_id: str
    job_ids: list[str] = Field(default_factory=list, description="Vendor-side jobs or tasks under this task")
    submitted: int = 0
    unconfirmed: int = 0  # requests sent whose acceptance the vendor's answer left in doubt, not yet settled
    cancelled: int = 0  # contacts cancelled at the vendor after they were sent: some vendors report no result
    open: bool = True
    created_at: dt.datetime | None = None


class DispatchBatch(WireModel):
    """One SQS message: a vendor-sized batch of a campaign's contacts to submit."""

    batch_id: str = Field(min_length=1, max_length=200)
    campaign_id: str = Field(pattern=ID_PATTERN)
    vendor: str | None = None  # every contact's; None in a message planned before splits: the campaign's
    contact_ids: list[str] = Field(min_length=1, max_length=10_000)


class ExportFormat(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"
    HTML = "html"  # the campaign report: charts and their figures, no contact rows


class ExportState(StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    EXPIRED = "expired"  # done, but the file has passed ExportRetentionDays and is gone


class ExportPhase(StrEnum):
    COLUMNS = "columns"  # reading the campaign once for the CSV's variable columns
    ROWS = "rows"  # writing rows, part by part
    COMPLETING = "completing"  # every part uploaded: only the upload's completion is left


class ExportPart(WireModel):
    number: int
    etag: str


class ExportProgress(WireModel):
    """Where an export stands, saved after each uploaded part: a later invocation carries on from here and
    writes every row once (rows after `after` are not in any part yet)."""

    phase: ExportPhase = ExportPhase.COLUMNS
    after: str | None = None  # the contactId of the last row in a saved part (or counted, in COLUMNS)
    columns: list[str] = Field(default_factory=list)  # CSV variable columns
    upload_id: str | None = None
    parts: list[ExportPart] = Field(default_factory=list)
    rows: int = 0
    bytes: int = 0


class ExportJob(WireModel):
    export_id: str
    campaign_id: str
    format: ExportFormat
    contact_state: DialState | None = None  # only contacts in this state, when given
    include_phone: bool = False
    requested_by: str | None = None  # the caller's IAM principal
    state: ExportState = ExportState.RUNNING
    object_key: str
    progress: ExportProgress = Field(default_factory=ExportProgress)
    error: str | None = None
    created_at: dt.datetime
    finished_at: dt.datetime | None = None


class ImportFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


class ImportState(StrEnum):
    AWAITING_UPLOAD = "awaiting_upload"  # the link is out; no file yet
    IMPORTING = "importing"  # the file landed; rows are being read
    DONE = "done"
    FAILED = "failed"  # the file as a whole could not be imported (`error` says why); nothing of it stored
    EXPIRED = "expired"  # shown when the upload link ran out with no file


class ImportProgress(WireModel):
    """How far an import got, saved with each batch of rows: a later invocation carries on from `checkpoint` and
    reads every row once (the counts are of the rows before it)."""

    checkpoint: dict[str, int] | None = None  # where the next row starts (the reader's Checkpoint, as JSON)
    rows_read: int = 0
    accepted: int = 0
    rejected: int = 0
    duplicates: int = 0
    rejection_parts: int = 0  # rejection files written so far, one per batch that had any
    invocations: int = 0


class ImportJob(WireModel):
    import_id: str
    campaign_id: str
    format: ImportFormat
    encoding: str | None = None
    sheet: str | None = None
    columns: dict[str, Any] | None = None  # the caller's column mapping, as sent
    chosen_columns: dict[str, Any] | None = None  # what the importer chose, once it has read the header
    state: ImportState = ImportState.AWAITING_UPLOAD
    upload_key: str
    upload_expires_at: dt.datetime
    file_etag: str | None = None  # the uploaded object being read (a new upload of the same key starts over)
    file_bytes: int | None = None
    progress: ImportProgress = Field(default_factory=ImportProgress)
    error: str | None = None
    requested_by: str | None = None
    created_at: dt.datetime
    finished_at: dt.datetime | None = None

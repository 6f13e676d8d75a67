"""Campaign rules behind the internal API: intake of contacts, views, cancel, dispatch now.

No HTTP here: the API module validates the request shape and maps errors; this module decides.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, Field, ValidationError, WithJsonSchema

from dialhub.compliance import narrower_window, vendor_window
from dialhub.errors import Conflict, InvalidField, NotFound, field_path
from dialhub.models import (
    ID_PATTERN,
    CallingWindow,
    CallOutcome,
    Campaign,
    CampaignStatus,
    CapacityOverflow,
    Contact,
    DialState,
    FailoverCause,
    Hold,
    IanaZone,
    RedialVia,
    VendorShare,
    VendorTask,
    WireModel,
)
from dialhub.observability import logger
from dialhub.phones import InvalidPhone, mask_phone, normalise_phone
from dialhub.planning import PlanSummary, campaign_today, plan_campaign
from dialhub.policies import find_policy
from dialhub.queue import DispatchQueue
from dialhub.split import assign
from dialhub.store import CampaignCounts, Store
from dialhub.store.counting import totals_of
from dialhub.vendors import Adapters, adapter_class, vendor_names
from dialhub.vendors.base import (
    DialRequest,
    TaskAction,
    VendorError,
    VendorRejected,
    VendorUnavailable,
)

MAX_CONTACTS_PER_REQUEST = 10_000
_AT_VENDOR = frozenset({DialState.SUBMITTED, DialState.UNCONFIRMED})  # cancelled at the vendor, not here
VariableValue = str | int | float | bool


class ContactIn(WireModel):
    """One person to call. Checked one by one: a bad contact is reported by index, the rest accepted."""

    contact_id: str = Field(pattern=ID_PATTERN, description="Your id, unique in the campaign")
    phone: str = Field(min_length=1, max_length=40, description="E.164, or national in the default region")
    name: str = Field(default="", max_length=200)
    timezone: IanaZone | None = Field(default=None, description="The recipient's IANA zone, if not the number's")
    variables: dict[str, VariableValue] = Field(
        default_factory=dict, max_length=50, description="Free variables passed to the bot script"
    )


_CONTACTS_SCHEMA = {
    "type": "array",
    "maxItems": MAX_CONTACTS_PER_REQUEST,
    "items": ContactIn.model_json_schema(by_alias=True),
}
ContactList = Annotated[list[Any], Field(max_length=MAX_CONTACTS_PER_REQUEST), WithJsonSchema(_CONTACTS_SCHEMA)]


def _known_vendor(value: str) -> str:
    if value not in vendor_names():
        raise ValueError(f"unknown vendor; expected one of: {', '.join(vendor_names())}")
    return value


KnownVendor = Annotated[str, AfterValidator(_known_vendor)]


class VendorShareIn(WireModel):
    """One vendor of a split campaign (champion first, then its challengers)."""

    vendor: KnownVendor = Field(description="blu, nxtele or airudder (as deployed)")
    share: int = Field(ge=1, le=100, description="Percent of the campaign's contacts; the shares add up to 100")
    vendor_options: dict[str, Any] = Field(default_factory=dict, description="This vendor's task settings")


class FallbackIn(WireModel):
    """A vendor that takes the contacts another vendor of the campaign could not (an outage, a refused batch)."""

    vendor: KnownVendor = Field(description="blu, nxtele or airudder (as deployed)")
    vendor_options: dict[str, Any] = Field(default_factory=dict, description="This vendor's task settings")


class CreateCampaignRequest(WireModel):
    name: str = Field(min_length=1, max_length=200)
    vendor: KnownVendor | None = Field(
        default=None, description="Voice-bot vendor: blu, nxtele or airudder (as deployed); or give `vendors`"
    )
    vendors: list[VendorShareIn] | None = Field(
        default=None,
        min_length=1,
        max_length=10,
        description="A split campaign: each contact goes to one of these vendors, by a hash of campaign and "
        "contact id, in these shares; the first is the champion the others are compared with",
    )
    redial_via: RedialVia = Field(
        default=RedialVia.SAME,
        description="Where a split campaign's policy redials go: the vendor that dialled (same) or the next one",
    )
    capacity_overflow: CapacityOverflow = Field(
        default=CapacityOverflow.WAIT,
        description="Contacts beyond a vendor's daily cap (dailyCap in its secret): wait for its next day, or go "
        "to the fallback vendor",
    )
    fallback: list[FallbackIn] = Field(
        default_factory=list,
        max_length=10,
        description="Vendors tried in this order for contacts a vendor of the campaign never accepted because it "
        "was down, refused the whole batch, or kept failing; a contact any vendor may hold is never sent to another",
    )
    campaign_id: str | None = Field(
        default=None, pattern=ID_PATTERN, description="Optional: your own id; creating it again is idempotent"
    )
    dial_date: dt.date | None = Field(default=None, description="Default: today in the campaign's time zone")
    timezone: IanaZone | None = Field(default=None, description="IANA zone deciding the campaign's 'today'")
    calling_window: CallingWindow = Field(
        default_factory=CallingWindow, description="When the vendor may dial, in the campaign's time zone"
    )
    policy: str | None = Field(
        default=None,
        description="Compliance policy: a preset (strict-default, "
        "us-regulation-f, korea-debt-collection) or one stored with PUT /policies",
    )
    vendor_options: dict[str, Any] = Field(default_factory=dict, description="Vendor task settings (with `vendor`)")
    contacts: ContactList = Field(default_factory=list)


class AddContactsRequest(WireModel):
    contacts: ContactList = Field(min_length=1)


class Rejection(WireModel):
    index: int
    contact_id: str | None = None
    reason: str


class IntakeResult(WireModel):
    campaign_id: str
    accepted: int = 0
    duplicates: int = Field(default=0, description="contactIds already in the campaign (not queued again)")
    rejected: int = 0
    rejections: list[Rejection] = Field(default_factory=list)


SWEPT = (
    "Contacts whose dispatch never finished, found by the stuck-claim sweep, by the state they are in now "
    "(unconfirmed: waiting for the vendor's results; failed with reason dispatch_abandoned: nothing could settle them)"
)


class FailoverCount(WireModel):
    from_vendor: str = Field(description="The vendor that could not take the contacts")
    to_vendor: str = Field(description="The fallback they went to")
    cause: FailoverCause
    contacts: int

    @classmethod
    def listed(cls, failed_over: dict[str, int]) -> list[FailoverCount]:
        """From the counters' "<from>.<to>.<cause>" names."""
        counts = []
        for name, contacts in sorted(failed_over.items()):
            from_vendor, to_vendor, cause = name.split(".", 2)
            counts.append(
                cls(from_vendor=from_vendor, to_vendor=to_vendor, cause=FailoverCause(cause), contacts=contacts)
            )
        return counts


class CampaignView(WireModel):
    campaign_id: str
    name: str
    vendor: str = Field(description="The campaign's vendor; of a split campaign, the champion (first of vendors)")
    vendors: list[VendorShare] = Field(
        description="Every vendor with its share of the contacts; fallback vendors have a share of 0"
    )
    redial_via: RedialVia
    capacity_overflow: CapacityOverflow
    dial_date: dt.date
    timezone: str
    status: CampaignStatus
    policy: str | None = None
    calling_window: CallingWindow
    state: str = Field(description="queued, in_progress or completed")
    created_at: dt.datetime
    total_contacts: int
    by_state: dict[str, int]
    by_disposition: dict[str, int]
    held_back: dict[str, int] = Field(description="Queued contacts held by compliance, by reason")
    by_vendor: dict[str, dict[str, int]] = Field(
        default_factory=dict, description="Closing dispositions per vendor (the vendor of each contact's last call)"
    )
    failed_over: list[FailoverCount] = Field(
        default_factory=list, description="Contacts sent to a fallback vendor: from which vendor, to which, and why"
    )
    swept: dict[str, int] = Field(default_factory=dict, description=SWEPT)
    counted_at: dt.datetime | None = Field(
        default=None,
        description="When the live counters last moved (they follow the table's stream within seconds); "
        "null when the counts were made now from every contact, as for a campaign not counted yet",
    )


class CountsView(WireModel):
    total_contacts: int
    by_state: dict[str, int]
    by_disposition: dict[str, int]
    held_back: dict[str, int]
    by_vendor: dict[str, dict[str, int]]
    failed_over: list[FailoverCount]
    swept: dict[str, int] = Field(default_factory=dict, description=SWEPT)

    @classmethod
    def of(cls, counts: CampaignCounts) -> CountsView:
        return cls(
            total_contacts=counts.total,
            by_state=counts.by_state,
            by_disposition=counts.by_disposition,
            held_back=counts.held_back,
            by_vendor=counts.by_vendor,
            failed_over=FailoverCount.listed(counts.failed_over),
            swept=counts.swept,
        )


class RecountView(WireModel):
    campaign_id: str
    live: CountsView | None = Field(description="The live counters before the recount; null when there were none")
    recounted: CountsView = Field(description="Every contact counted now; the live counters are set to this")
    matched: bool = Field(description="Whether the live counters agreed with the recount")
    recounted_at: dt.datetime


class ContactView(WireModel):
    campaign_id: str
    contact_id: str
    phone: str = Field(description="Masked: only the last four digits")
    vendor: str = Field(description="The vendor this contact is assigned to")
    failed_over_from: str | None = Field(default=None, description="Set when a fallback took it from this vendor")
    failover_reason: str | None = Field(default=None, description="Why: that vendor's error")
    state: DialState
    attempt: int
    reason: str | None = None
    hold: Hold | None = Field(default=None, description="Why a queued contact has not been sent yet")
    disposition: str | None = None
    vendor_task_id: str | None = None
    attempts: list[CallOutcome]


class DispatchResult(WireModel):
    campaign_id: str
    dial_date: dt.date
    batches: int
    contacts: int


def _new_campaign_id() -> str:
    return f"cmp_{secrets.token_hex(10)}"


@dataclass(frozen=True)
class Refusal:
    """Why one contact is not taken: the field at fault (None when it is the contact as a whole) and why."""

    field: str | None
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


def assigned_vendor(campaign: Campaign, contact_id: str) -> str:
    if not campaign.split:
        return campaign.vendor
    return assign(campaign.campaign_id, contact_id, campaign.shares)


def checked_contact(campaign: Campaign, raw: Any, default_region: str, now: dt.datetime) -> Contact | Refusal:
    """One contact through every rule of the campaign and of the vendor it is assigned to, however it arrived
    (a request, a file)."""
    try:
        contact_in = ContactIn.model_validate(raw)
        phone = normalise_phone(contact_in.phone, default_region)
    except ValidationError as exc:
        error = exc.errors()[0]
        return Refusal(field_path(error, "contact"), error["msg"])
    except InvalidPhone as exc:
        return Refusal("phone", str(exc))
    vendor = assigned_vendor(campaign, contact_in.contact_id)
    contact = Contact(
        campaign_id=campaign.campaign_id,
        contact_id=contact_in.contact_id,
        phone=phone,
        name=contact_in.name,
        timezone=contact_in.timezone,
        variables=contact_in.variables,
        vendor=vendor,
        created_at=now,
        updated_at=now,
    )
    if problem := adapter_class(vendor).contact_problem(contact, campaign.options_of(vendor)):
        return Refusal(None, problem)
    return contact


def intake_contacts(
    campaign: Campaign, raw_contacts: list[Any], store: Store, default_region: str, now: dt.datetime
) -> IntakeResult:
    """Validate each contact on its own; queue the valid new ones; never queue a contactId twice."""
    result = IntakeResult(campaign_id=campaign.campaign_id)
    candidates: dict[str, tuple[int, Contact]] = {}
    for index, raw in enumerate(raw_contacts):
        contact_id = raw.get("contactId") if isinstance(raw, dict) else None
        contact_id = contact_id if isinstance(contact_id, str) else None
        contact = checked_contact(campaign, raw, default_region, now)
        if isinstance(contact, Refusal):
            result.rejections.append(Rejection(index=index, contact_id=contact_id, reason=str(contact)))
            continue
        if contact.contact_id in candidates:
            result.rejections.append(
                Rejection(index=index, contact_id=contact_id, reason="contactId: repeated in this request")
            )
            continue
        candidates[contact.contact_id] = (index, contact)
    existing = store.existing_contact_ids(campaign.campaign_id, list(candidates)) if candidates else set()
    new = [contact for contact_id, (_, contact) in candidates.items() if contact_id not in existing]
    if new:
        store.add_contacts(new, now)
        store.mark_campaign_due(campaign, campaign.dial_date, new_contacts=len(new))
    result.accepted = len(new)
    result.duplicates = len(existing)
    result.rejected = len(result.rejections)
    logger.info(
        "contacts taken in",
        extra={
            "campaign_id": campaign.campaign_id,
            "accepted": result.accepted,
            "duplicates": result.duplicates,
            "rejected": result.rejected,
        },
    )
    return result


def create_campaign(
    request: CreateCampaignRequest, store: Store, default_region: str, default_timezone: str, now: dt.datetime
) -> IntakeResult:
    timezone = request.timezone or default_timezone
    split = _vendor_shares(request)
    vendors = split + _fallbacks(request, split)
    if request.capacity_overflow is CapacityOverflow.FALLBACK and len(vendors) == len(split):
        raise InvalidField("capacityOverflow", "fallback needs a fallback vendor")
    policy = find_policy(store, request.policy) if request.policy is not None else None
    if request.policy is not None and policy is None:
        raise InvalidField("policy", f"no policy named {request.policy}")
    calling_window = request.calling_window
    if policy is not None:  # the vendor's own schedule follows the policy too: never wider than it
        allowed = vendor_window(policy)
        if "calling_window" in request.model_fields_set:
            narrowed = narrower_window(calling_window, allowed)
            if narrowed is None:
                raise InvalidField("callingWindow", f"shares no hours or days with policy {policy.name}")
            allowed = narrowed
        calling_window = allowed
    campaign = Campaign(
        campaign_id=request.campaign_id or _new_campaign_id(),
        name=request.name,
        policy=request.policy,
        vendor=vendors[0].vendor,
        timezone=timezone,
        vendor_options=vendors[0].vendor_options,
        vendors=vendors,
        redial_via=request.redial_via,
        capacity_overflow=request.capacity_overflow,
        created_at=now,
        calling_window=calling_window,
        dial_date=request.dial_date or now.astimezone(ZoneInfo(timezone)).date(),
    )
    if not store.create_campaign(campaign):
        existing = store.get_campaign(campaign.campaign_id)
        if existing is None or (existing.name, _split_of(existing)) != (campaign.name, _split_of(campaign)):
            raise Conflict(f"campaign {campaign.campaign_id} exists with another name or vendors")
        campaign = existing
    return intake_contacts(campaign, request.contacts, store, default_region, now)


def _vendor_options(vendor: str, options: dict[str, Any], field: str) -> dict[str, Any]:
    try:
        return adapter_class(vendor).validate_options(options)
    except ValidationError as exc:
        error = exc.errors()[0]
        raise InvalidField(f"{field}.{field_path(error)}", error["msg"]) from exc


def _vendor_shares(request: CreateCampaignRequest) -> list[VendorShare]:
    """The campaign's vendors, each with its options checked by its adapter; one vendor takes every contact."""
    if request.vendor is not None and request.vendors is not None:
        raise InvalidField("vendors", "give vendor or vendors, not both")
    if request.vendors is None:
        if request.vendor is None:
            raise InvalidField("vendor", "name the campaign's vendor, or split it across several with vendors")
        if request.redial_via is RedialVia.OTHER:
            raise InvalidField("redialVia", "other needs a campaign split across vendors")
        options = _vendor_options(request.vendor, request.vendor_options, "vendorOptions")
        return [VendorShare(vendor=request.vendor, share=100, vendor_options=options)]
    if request.vendor_options:
        raise InvalidField("vendorOptions", "with vendors, each vendor's options go in vendors.N.vendorOptions")
    named: set[str] = set()
    for index, share in enumerate(request.vendors):
        if share.vendor in named:
            raise InvalidField(f"vendors.{index}.vendor", f"{share.vendor} is named twice")
        named.add(share.vendor)
    total = sum(share.share for share in request.vendors)
    if total != 100:
        raise InvalidField("vendors", f"the shares add up to {total}, not 100")
    if request.redial_via is RedialVia.OTHER and len(request.vendors) < 2:
        raise InvalidField("redialVia", "other needs a campaign split across vendors")
    return [
        VendorShare(
            vendor=share.vendor,
            share=share.share,
            vendor_options=_vendor_options(share.vendor, share.vendor_options, f"vendors.{index}.vendorOptions"),
        )
        for index, share in enumerate(request.vendors)
    ]


def _fallbacks(request: CreateCampaignRequest, split: list[VendorShare]) -> list[VendorShare]:
    named = {share.vendor for share in split}
    fallbacks = []
    for index, fallback in enumerate(request.fallback):
        if fallback.vendor in named:
            raise InvalidField(f"fallback.{index}.vendor", f"{fallback.vendor} is named already")
        named.add(fallback.vendor)
        options = _vendor_options(fallback.vendor, fallback.vendor_options, f"fallback.{index}.vendorOptions")
        fallbacks.append(VendorShare(vendor=fallback.vendor, share=0, vendor_options=options))
    return fallbacks


def _split_of(campaign: Campaign) -> list[tuple[str, int]]:
    return [(share.vendor, share.share) for share in campaign.vendors]  # fallbacks included, with share 0


def require_campaign(store: Store, campaign_id: str) -> Campaign:
    campaign = store.get_campaign(campaign_id)
    if campaign is None:
        raise NotFound(f"campaign {campaign_id}")
    return campaign


def campaign_view(store: Store, campaign_id: str) -> CampaignView:
    """From the live counters, in one read with the campaign; counted from every contact only when the
    campaign has no counters yet."""
    campaign, counters = store.campaign_with_counters(campaign_id)
    if campaign is None:
        raise NotFound(f"campaign {campaign_id}")
    counts = counters.counts if counters else store.campaign_counts(campaign_id)
    open_states = {
        DialState.QUEUED,
        DialState.PLANNED,
        DialState.SUBMITTING,
        DialState.SUBMITTED,
        DialState.UNCONFIRMED,
    }
    still_open = sum(counts.by_state.get(state.value, 0) for state in open_states)
    queued_only = counts.by_state.get(DialState.QUEUED.value, 0) == counts.total
    state = "queued" if queued_only else ("in_progress" if still_open else "completed")
    return CampaignView(
        campaign_id=campaign.campaign_id,
        name=campaign.name,
        vendor=campaign.vendor,
        vendors=campaign.vendors,
        redial_via=campaign.redial_via,
        capacity_overflow=campaign.capacity_overflow,
        dial_date=campaign.dial_date,
        timezone=campaign.timezone,
        state=state,
        status=campaign.status,
        calling_window=campaign.calling_window,
        policy=campaign.policy,
        created_at=campaign.created_at,
        total_contacts=counts.total,
        by_state=counts.by_state,
        by_disposition=counts.by_disposition,
        held_back=counts.held_back,
        by_vendor=counts.by_vendor,
        failed_over=FailoverCount.listed(counts.failed_over),
        swept=counts.swept,
        counted_at=counters.updated_at if counters else None,
    )


def recount_campaign(store: Store, campaign_id: str, now: dt.datetime) -> RecountView:
    """The repair path: count every contact and set the live counters to it. Changes the stream counts while
    the recount reads are added on top, so run it when the campaign is quiet, or run it again."""
    require_campaign(store, campaign_id)
    live = store.get_counters(campaign_id)
    counts = store.campaign_counts(campaign_id)
    store.replace_counters(campaign_id, totals_of(counts), now)
    if live is not None and live.counts != counts:
        logger.warning("live counters differed from the recount", extra={"campaign_id": campaign_id})
    return RecountView(
        campaign_id=campaign_id,
        live=CountsView.of(live.counts) if live else None,
        recounted=CountsView.of(counts),
        matched=live is not None and live.counts == counts,
        recounted_at=now,
    )


def contact_view(store: Store, campaign_id: str, contact_id: str) -> ContactView:
    campaign = require_campaign(store, campaign_id)
    contact = store.get_contact(campaign_id, contact_id)
    if contact is None:
        raise NotFound(f"contact {contact_id} in campaign {campaign_id}")
    return ContactView(
        campaign_id=campaign_id,
        contact_id=contact_id,
        phone=mask_phone(contact.phone),
        vendor=campaign.vendor_of(contact),
        failed_over_from=contact.failed_over_from,
        failover_reason=contact.failover_reason,
        state=contact.state,
        attempt=contact.attempt,
        reason=contact.reason,
        hold=contact.hold if contact.state == DialState.QUEUED else None,
        disposition=contact.disposition,
        vendor_task_id=contact.vendor_task_id,
        attempts=store.contact_history(campaign_id, contact_id),
    )


def cancel_contact(
    store: Store, adapters: Adapters, campaign_id: str, contact_id: str, now: dt.datetime
) -> ContactView:
    """Cancel a contact not yet dialled: locally while it is ours, at the vendor once submitted."""
    campaign = require_campaign(store, campaign_id)
    contact = store.get_contact(campaign_id, contact_id)
    if contact is None:
        raise NotFound(f"contact {contact_id} in campaign {campaign_id}")
    local = {DialState.QUEUED, DialState.PLANNED}
    if contact.state in local and store.move_contact(
        campaign_id, contact_id, DialState.CANCELLED, now=now, allowed_from=local
    ):
        return contact_view(store, campaign_id, contact_id)
    contact = store.get_contact(campaign_id, contact_id) or contact
    if contact.state == DialState.CANCELLED:
        return contact_view(store, campaign_id, contact_id)
    if contact.state == DialState.SUBMITTING:
        raise Conflict("the contact is being submitted to the vendor right now; try again in a minute")
    if contact.state not in _AT_VENDOR:
        raise Conflict(f"the contact is {contact.state.value}; only a contact not yet dialled can be cancelled")
    vendor = campaign.vendor_of(contact)
    task = store.get_task(campaign_id, vendor, contact.vendor_task_date) if contact.vendor_task_date else None
    if task is None:
        raise Conflict("the contact's vendor task is unknown; it cannot be cancelled at the vendor")
    try:
        adapters.get(vendor).cancel(task, DialRequest.for_contact(contact))
    except VendorRejected as exc:
        raise Conflict(f"the vendor refused to cancel: {exc.reason}") from exc
    except VendorUnavailable as exc:
        raise Conflict(f"the vendor is unavailable, try again: {exc.reason}") from exc
    if not store.move_contact(campaign_id, contact_id, DialState.CANCELLED, now=now, allowed_from=_AT_VENDOR):
        raise Conflict("the call finished before it could be cancelled")
    store.add_task_cancellation(task)
    return contact_view(store, campaign_id, contact_id)


def dispatch_now(
    store: Store, queue: DispatchQueue, adapters: Adapters, campaign_id: str, now: dt.datetime
) -> DispatchResult:
    campaign = require_campaign(store, campaign_id)
    if campaign.status is not CampaignStatus.ACTIVE:
        raise Conflict(f"the campaign is {campaign.status.value}; resume it first")
    today = campaign_today(campaign, now)
    summary: PlanSummary = plan_campaign(campaign, store, queue, adapters, today, now)
    return DispatchResult(campaign_id=campaign_id, dial_date=today, batches=summary.batches, contacts=summary.contacts)


@dataclass
class _TaskControl:
    tasks: dict[tuple[str, dt.date], VendorTask]  # the campaign's open vendor tasks, by vendor and local day
    done: set[tuple[str, dt.date]]  # those the vendor applied the action to
    unsupported: list[str]  # the vendors with no such task operation
    notes: list[str]  # vendor errors, for the operator


def _control_open_tasks(campaign: Campaign, store: Store, adapters: Adapters, action: TaskAction) -> _TaskControl:
    """Apply the action to each of the campaign's open vendor tasks, at each of its vendors."""
    control = _TaskControl(tasks={}, done=set(), unsupported=[], notes=[])
    for share in campaign.vendors:
        adapter = adapters.get(share.vendor)
        for task in store.campaign_tasks(campaign.campaign_id, share.vendor):
            if not task.open:
                continue
            control.tasks[share.vendor, task.local_date] = task
            try:
                if adapter.control_task(task, action):
                    control.done.add((share.vendor, task.local_date))
                elif share.vendor not in control.unsupported:
                    control.unsupported.append(share.vendor)
            except VendorError as exc:
                control.notes.append(f"{share.vendor} task {task.local_date.isoformat()}: {exc.reason}")
    return control


class CampaignControlResult(WireModel):
    campaign: CampaignView
    notes: list[str] = Field(default_factory=list, description="What the vendor could not do, if anything")


def pause_campaign(store: Store, adapters: Adapters, campaign_id: str) -> CampaignControlResult:
    """Nothing more is sent; the vendor pauses what it already holds, where it can."""
    return _set_status(store, adapters, campaign_id, CampaignStatus.PAUSED, TaskAction.PAUSE)


def resume_campaign(store: Store, adapters: Adapters, campaign_id: str) -> CampaignControlResult:
    result = _set_status(store, adapters, campaign_id, CampaignStatus.ACTIVE, TaskAction.RESUME)
    campaign = require_campaign(store, campaign_id)
    store.mark_campaign_due(campaign, campaign.dial_date)  # contacts held while paused go out at the next run
    return result


def _set_status(
    store: Store, adapters: Adapters, campaign_id: str, status: CampaignStatus, action: TaskAction
) -> CampaignControlResult:
    campaign = require_campaign(store, campaign_id)
    if not store.set_campaign_status(campaign_id, status):
        raise Conflict("the campaign is cancelled; that is for good")
    control = _control_open_tasks(campaign, store, adapters, action)
    notes = control.notes
    for vendor in control.unsupported:
        notes.append(f"{vendor} cannot {action.value} a task: contacts it holds are unaffected")
    return CampaignControlResult(campaign=campaign_view(store, campaign_id), notes=notes)


def cancel_campaign(store: Store, adapters: Adapters, campaign_id: str, now: dt.datetime) -> CampaignControlResult:
    """For good: contacts not yet sent are cancelled here, the vendor tasks at the vendor (or, where the vendor
    cannot cancel a task, each submitted contact on its own). Calls already under way still report back."""
    campaign = require_campaign(store, campaign_id)
    store.set_campaign_status(campaign_id, CampaignStatus.CANCELLED)
    local = {DialState.QUEUED, DialState.PLANNED}
    for page in store.iter_contacts(campaign_id, local):
        for contact in page:
            store.move_contact(campaign_id, contact.contact_id, DialState.CANCELLED, now=now, allowed_from=local)
    store.clear_campaign_due(campaign_id)
    control = _control_open_tasks(campaign, store, adapters, TaskAction.CANCEL)
    notes = control.notes
    for page in store.iter_contacts(campaign_id, _AT_VENDOR):
        for contact in page:
            vendor = campaign.vendor_of(contact)
            task = control.tasks.get((vendor, contact.vendor_task_date)) if contact.vendor_task_date else None
            if task is None:
                continue
            if (vendor, task.local_date) not in control.done and not _cancel_at_vendor(
                adapters.get(vendor), task, contact, notes
            ):
                continue
            store.move_contact(campaign_id, contact.contact_id, DialState.CANCELLED, now=now, allowed_from=_AT_VENDOR)
    return CampaignControlResult(campaign=campaign_view(store, campaign_id), notes=notes[:20])


def _cancel_at_vendor(adapter: Any, task: VendorTask, contact: Contact, notes: list[str]) -> bool:
    try:
        adapter.cancel(task, DialRequest.for_contact(contact))
    except VendorError as exc:
        notes.append(f"contact {contact.contact_id}: {exc.reason}")
        return False
    return True

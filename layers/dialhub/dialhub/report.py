"""The figures of a campaign report, read from the store: plain numbers, no HTML (report_page.py draws them).

One pass over the campaign's contacts, a DynamoDB page at a time: each page's closing calls in one batch read
per 100 contacts, and the call history of every contact that was called, one query per contact, 16 at once.
So a report costs about one read per contact called, and takes one invocation: a campaign too large to read
in the time left raises ReportTooLarge rather than leave half a report.

What is counted, and by what:
- the funnel, closing dispositions and the vendor comparison count contacts by the call that closed them, as
  GET /campaigns/{id}/comparison and the campaign's counters do (a contact counts once, for its vendor);
- connect rate by local hour and calls per contact count every finished call in the contacts' histories (the
  vendors' own redials and the policy's included; calls dialhub cancelled before they happened are not);
- held back: queued contacts whose hold says why they were not sent (a policy redial waiting its time is
  planned, not held back, and is left out).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from dialhub.comparison import ComparisonView, comparison_of, empty_scorecards, score_page
from dialhub.compliance import recipient_zones
from dialhub.dispositions import CallStatus
from dialhub.listing import closing_call
from dialhub.models import REDIAL_HOLD, CallOutcome, Campaign, Contact, DialState
from dialhub.parallel import each
from dialhub.scorecard import SENT_STATES, Scorecard
from dialhub.store import Store

# Time kept for drawing the page and writing it once the figures are read (drawing takes seconds).
REPORT_MARGIN_SECONDS = 60
NO_ZONE = "no time zone for the number"
ZONES_DISAGREE = "the number's zones disagree on the hour"
NO_TIME = "no call time reported"
COST_NOTE = (
    "Cost is left out of this report (the report does not read the vendors' accounts); "
    "GET /campaigns/{id}/comparison prices the calls."
)


class ReportTooLarge(Exception):
    """The campaign could not be read in the invocation's time: no report is written."""


@dataclass(frozen=True)
class Funnel:
    """Contacts at each step, each counted once: taken in, sent to a vendor, connected (the closing call was
    answered), right party reached, and promise to pay."""

    contacts: int = 0
    sent: int = 0
    connected: int = 0
    right_party: int = 0
    promised: int = 0

    @classmethod
    def of(cls, cards: Iterable[Scorecard]) -> Funnel:
        cards = list(cards)
        return cls(
            contacts=sum(card.assigned for card in cards),
            sent=sum(card.sent for card in cards),
            connected=sum(card.connected for card in cards),
            right_party=sum(card.right_party for card in cards),
            promised=sum(card.promised for card in cards),
        )

    def steps(self) -> list[tuple[str, int]]:
        return [
            ("contacts", self.contacts),
            ("sent", self.sent),
            ("connected", self.connected),
            ("right party", self.right_party),
            ("promise to pay", self.promised),
        ]


@dataclass
class HourCount:
    calls: int = 0
    answered: int = 0

    @property
    def rate(self) -> float | None:
        return self.answered / self.calls if self.calls else None


@dataclass
class ReportFigures:
    campaign_id: str
    name: str
    dial_date: dt.date
    timezone: str
    policy: str | None
    vendors: list[tuple[str, int]]  # (vendor, share in percent; 0 for a fallback)
    funnel: Funnel
    funnel_by_vendor: dict[str, Funnel]
    dispositions: dict[str, Counter[str]]  # vendor -> closing disposition -> contacts
    hours: list[HourCount]  # by the recipient's local hour, 0 to 23
    calls_without_hour: Counter[str]  # calls no local hour could be given to, by why
    calls_per_contact: dict[str, Counter[int]]  # vendor -> calls made -> contacts (contacts called at least once)
    held: Counter[str]  # hold reason -> queued contacts
    comparison: ComparisonView | None  # split campaigns only
    generated_at: dt.datetime
    data_as_of: dt.datetime | None  # the latest change among the contacts and calls read

    @property
    def split(self) -> bool:
        return self.comparison is not None


@dataclass
class _Tally:
    """What the pass over the contacts adds up, page by page."""

    campaign: Campaign
    cards: dict[str, Scorecard]
    dispositions: dict[str, Counter[str]] = field(default_factory=dict)
    hours: list[HourCount] = field(default_factory=lambda: [HourCount() for _ in range(24)])
    calls_without_hour: Counter[str] = field(default_factory=Counter)
    calls_per_contact: dict[str, Counter[int]] = field(default_factory=dict)
    held: Counter[str] = field(default_factory=Counter)
    latest: dt.datetime | None = None

    def _seen(self, moment: dt.datetime | None) -> None:
        if moment is not None and (self.latest is None or moment > self.latest):
            self.latest = moment

    def add_page(self, contacts: list[Contact], closing: dict[tuple[str, str], CallOutcome]) -> None:
        score_page(self.cards, self.campaign, contacts, closing)
        for contact in contacts:
            self._seen(contact.updated_at)
            vendor = self.campaign.vendor_of(contact)
            call = closing_call(contact)
            if call is not None and (outcome := closing.get(call)) is not None:
                self.dispositions.setdefault(vendor, Counter())[outcome.disposition.value] += 1
            if contact.state is DialState.QUEUED and contact.hold is not None and contact.hold.reason != REDIAL_HOLD:
                self.held[contact.hold.reason] += 1

    def add_history(self, contact: Contact, calls: list[CallOutcome]) -> None:
        finished = [call for call in calls if call.final and call.status is not CallStatus.CANCELLED]
        for call in calls:
            self._seen(call.last_updated_at)
        if not finished:
            return
        vendor = self.campaign.vendor_of(contact)
        self.calls_per_contact.setdefault(vendor, Counter())[len(finished)] += 1
        zones = recipient_zones(contact.phone, contact.timezone)
        for call in finished:
            hour = local_hour(call, zones)
            if isinstance(hour, str):
                self.calls_without_hour[hour] += 1
                continue
            self.hours[hour].calls += 1
            self.hours[hour].answered += call.status is CallStatus.ANSWERED


def local_hour(call: CallOutcome, zones: list[str]) -> int | str:
    """The recipient's local hour when the call started (else was answered, else ended), in the zones their
    number may be in (compliance.recipient_zones); why not, when the zones give different hours or there is
    no zone or no time."""
    moment = call.started_at or call.answered_at or call.ended_at
    if moment is None:
        return NO_TIME
    if not zones:
        return NO_ZONE
    hours = {moment.astimezone(ZoneInfo(zone)).hour for zone in zones}
    return hours.pop() if len(hours) == 1 else ZONES_DISAGREE


def _called(contact: Contact) -> bool:
    """Whether the contact may have calls in its history: sent, or queued again after a call."""
    return contact.state in SENT_STATES or contact.last_call_id is not None


def gather_report(
    store: Store, campaign: Campaign, now: Callable[[], dt.datetime], seconds_left: Callable[[], float]
) -> ReportFigures:
    tally = _Tally(campaign, empty_scorecards(campaign, {}))
    for page in store.iter_contacts(campaign.campaign_id, list(DialState)):
        calls = [call for contact in page if (call := closing_call(contact))]
        tally.add_page(page, store.closing_outcomes(calls) if calls else {})
        called = [contact for contact in page if _called(contact)]
        histories = each(lambda contact: store.contact_history(campaign.campaign_id, contact.contact_id), called)
        for contact, history in zip(called, histories, strict=True):
            tally.add_history(contact, history)
        if seconds_left() < REPORT_MARGIN_SECONDS:
            raise ReportTooLarge(
                f"campaign {campaign.campaign_id} is too large to read in one invocation; no report was written"
            )
    cards = tally.cards
    return ReportFigures(
        campaign_id=campaign.campaign_id,
        name=campaign.name,
        dial_date=campaign.dial_date,
        timezone=campaign.timezone,
        policy=campaign.policy,
        vendors=[(share.vendor, share.share) for share in campaign.vendors],
        funnel=Funnel.of(cards.values()),
        funnel_by_vendor={vendor: Funnel.of([card]) for vendor, card in cards.items()},
        dispositions=tally.dispositions,
        hours=tally.hours,
        calls_without_hour=tally.calls_without_hour,
        calls_per_contact=tally.calls_per_contact,
        held=tally.held,
        comparison=comparison_of(campaign, cards, [COST_NOTE], now()) if campaign.split else None,
        generated_at=now(),
        data_as_of=tally.latest,
    )

"""The vendors of a campaign side by side: each one's rates with their uncertainty, its calls and cost, and
for each challenger whether it does better or worse than the champion, or whether it is too early to tell.

Read from every contact of the campaign and the call that closed it (one batch read per 100 contacts), so
a contact counts for the vendor it is assigned to, once. Per-call figures (talk time, report delay, polled
share, cost) are over those closing calls; attempts per contact are dialhub's attempts.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import Field

from dialhub.campaigns import require_campaign
from dialhub.listing import closing_call
from dialhub.models import CallOutcome, Campaign, Contact, DialState, WireModel
from dialhub.proportions import Rate, compare
from dialhub.scorecard import Prices, Scorecard
from dialhub.store import Store
from dialhub.vendors import Adapters

# Each rate the comparison tests, and whether a higher value is the better one.
RATES = {
    "connected": True,
    "rightParty": True,
    "promiseToPay": True,
    "optedOut": False,
    "complained": False,
}


class RateView(WireModel):
    count: int = Field(description="Contacts with this result")
    of: int = Field(description="Contacts sent to the vendor")
    rate: float | None = Field(description="count / of; null before any contact was sent")
    low: float | None = Field(description="95% Wilson interval, lower bound")
    high: float | None = Field(description="95% Wilson interval, upper bound")

    @classmethod
    def of_rate(cls, rate: Rate) -> RateView:
        interval = rate.interval
        return cls(
            count=rate.successes,
            of=rate.trials,
            rate=rate.value,
            low=interval[0] if interval else None,
            high=interval[1] if interval else None,
        )


class TestView(WireModel):
    p_value: float | None = Field(description="Two-proportion z-test, two-sided; null when too few to test")
    verdict: str = Field(
        description="challenger better, challenger worse, not yet distinguishable, or too few calls to tell"
    )


class VendorComparison(WireModel):
    vendor: str
    share: int = Field(description="Percent of the contacts the campaign gives this vendor")
    champion: bool
    assigned: int = Field(description="Contacts assigned to the vendor")
    sent: int = Field(description="Of them, sent to the vendor (or reported on by it)")
    rates: dict[str, RateView] = Field(
        description="connected, rightParty, promiseToPay, optedOut, complained: per contact sent"
    )
    against_champion: dict[str, TestView] | None = Field(
        description="For a challenger: each rate tested against the champion's; null for the champion"
    )
    promised_amount: Decimal | None = Field(description="Sum of amounts promised, where the bot collected one")
    calls: int = Field(description="Closing calls")
    attempts_per_contact: float | None = None
    mean_talk_seconds: float | None = Field(default=None, description="Over answered closing calls")
    mean_report_delay_seconds: float | None = Field(
        default=None, description="From the call's end to when dialhub first heard of it"
    )
    polled_share: float | None = Field(default=None, description="Share of calls found by polling, not callbacks")
    currency: str | None = Field(default=None, description="Null when the vendor's secret gives no prices")
    cost: Decimal | None = None
    cost_per_contact: Decimal | None = None
    cost_per_promise: Decimal | None = None


class ComparisonView(WireModel):
    campaign_id: str
    champion: str
    vendors: list[VendorComparison]
    notes: list[str] = Field(default_factory=list, description="What could not be worked out, and why")
    counted_at: dt.datetime


def _prices(adapters: Adapters, vendor: str, notes: list[str]) -> Prices | None:
    try:
        return Prices.from_terms(adapters.terms(vendor))
    except ValueError as exc:
        notes.append(f"{vendor}'s prices cannot be read ({exc}): its cost is left out")
        return None


def empty_scorecards(campaign: Campaign, prices: dict[str, Prices | None]) -> dict[str, Scorecard]:
    return {share.vendor: Scorecard(share.vendor, prices.get(share.vendor)) for share in campaign.vendors}


def score_page(
    cards: dict[str, Scorecard],
    campaign: Campaign,
    contacts: list[Contact],
    closing: dict[tuple[str, str], CallOutcome],
) -> None:
    """A page of contacts onto their vendors' scorecards, each with the call that closed it (`closing`)."""
    for contact in contacts:
        call = closing_call(contact)
        outcome = closing.get(call) if call else None
        card = cards.get(campaign.vendor_of(contact))
        if card is not None:
            card.add(contact, [outcome] if outcome else [], attempts=contact.attempt)


def scorecards(campaign: Campaign, store: Store, prices: dict[str, Prices | None]) -> dict[str, Scorecard]:
    cards = empty_scorecards(campaign, prices)
    for page in store.iter_contacts(campaign.campaign_id, list(DialState)):
        calls = [call for contact in page if (call := closing_call(contact))]
        score_page(cards, campaign, page, store.closing_outcomes(calls) if calls else {})
    return cards


def _rates(card: Scorecard) -> dict[str, Rate]:
    return {
        "connected": card.rate(card.connected),
        "rightParty": card.rate(card.right_party),
        "promiseToPay": card.rate(card.promised),
        "optedOut": card.rate(card.opted_out),
        "complained": card.rate(card.complained),
    }


def campaign_comparison(store: Store, adapters: Adapters, campaign_id: str, now: dt.datetime) -> ComparisonView:
    campaign = require_campaign(store, campaign_id)
    notes: list[str] = []
    prices = {share.vendor: _prices(adapters, share.vendor, notes) for share in campaign.vendors}
    return comparison_of(campaign, scorecards(campaign, store, prices), notes, now)


def comparison_of(
    campaign: Campaign, cards: dict[str, Scorecard], notes: list[str], now: dt.datetime
) -> ComparisonView:
    """The comparison of scorecards already filled (one per vendor of the campaign), with `notes` kept."""
    champion = _rates(cards[campaign.vendor])
    vendors = []
    for share in campaign.vendors:
        card = cards[share.vendor]
        rates = _rates(card)
        tests = None
        if share.vendor != campaign.vendor:
            tests = {}
            for name, higher_is_better in RATES.items():
                result = compare(champion[name], rates[name], higher_is_better)
                tests[name] = TestView(p_value=result.p_value, verdict=result.verdict.value)
        vendors.append(
            VendorComparison(
                vendor=share.vendor,
                share=share.share,
                champion=share.vendor == campaign.vendor,
                assigned=card.assigned,
                sent=card.sent,
                rates={name: RateView.of_rate(rate) for name, rate in rates.items()},
                against_champion=tests,
                promised_amount=card.promised_amount,
                calls=card.calls,
                attempts_per_contact=card.attempts_per_contact,
                mean_talk_seconds=card.mean_talk_seconds,
                mean_report_delay_seconds=card.mean_report_delay_seconds,
                polled_share=card.polled_share,
                currency=card.prices.currency if card.prices else None,
                cost=card.cost if card.prices else None,
                cost_per_contact=card.cost_per_contact,
                cost_per_promise=card.cost_per_promise,
            )
        )
    if not campaign.split:
        notes = [*notes, "the campaign has one vendor: there is nothing to compare it with"]
    return ComparisonView(
        campaign_id=campaign.campaign_id, champion=campaign.vendor, vendors=vendors, notes=notes, counted_at=now
    )

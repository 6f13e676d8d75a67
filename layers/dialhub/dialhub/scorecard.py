"""One vendor's results in a campaign, as a collections manager weighs vendors: what share of the contacts
it was given it reached, reached the debtor, got a promise to pay from, or upset, what its calls cost, and
how promptly it reported them.

Rates are per contact sent (a contact counts once however many calls it took: reached on any call is
reached), so vendors that redial more do not look better for it; talk time, attempts and cost are per call.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from dialhub.dispositions import CallStatus, Disposition
from dialhub.models import CallOutcome, Contact, DialState, OutcomeSource
from dialhub.proportions import Rate

# Answered by the person the call was for: the conversation got as far as the debt or the offer. A wrong
# person, a voicemail greeting, a hang-up before anything was said, or an unknown result is not.
RIGHT_PARTY = frozenset(
    {
        Disposition.PROMISE_TO_PAY,
        Disposition.PROMISE_TO_PAY_NO_DATE,
        Disposition.ALREADY_PAID,
        Disposition.REFUSED_TO_PAY,
        Disposition.NO_AGREEMENT,
        Disposition.CALLBACK_REQUESTED,
        Disposition.COMPLAINT,
        Disposition.INTERESTED,
        Disposition.NOT_INTERESTED,
        Disposition.UNDECIDED,
        Disposition.OPT_OUT,
        Disposition.DO_NOT_CALL,
    }
)
PROMISE = frozenset({Disposition.PROMISE_TO_PAY, Disposition.PROMISE_TO_PAY_NO_DATE})
OPT_OUT = frozenset({Disposition.OPT_OUT, Disposition.DO_NOT_CALL})
SENT_STATES = frozenset({DialState.SUBMITTED, DialState.UNCONFIRMED, DialState.FINAL})
PROMISED_AMOUNT = "promisedAmount"  # the collected variable a bot fills with the amount promised, when it does


def _amount(value: object) -> Decimal | None:
    """A promised amount as the bot collected it; None for words where a number belongs (the promise still
    counts, its amount cannot)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        amount = Decimal(str(value).replace(",", "").strip())
    except ArithmeticError:
        return None
    return amount if amount.is_finite() and amount >= 0 else None


@dataclass(frozen=True)
class Prices:
    """What the vendor charges (from its account secret): per started minute of talk, per call placed, and
    per call answered."""

    currency: str
    per_minute: Decimal = Decimal(0)
    per_call: Decimal = Decimal(0)
    per_connected_call: Decimal = Decimal(0)

    @classmethod
    def from_terms(cls, prices: Mapping[str, Any]) -> Prices | None:
        """From a vendor secret's price keys; None when it names no currency (the vendor's prices are not
        known). A price that is not a number at or above zero raises ValueError naming its key."""
        currency = prices.get("currency")
        if currency is None:
            return None
        if not isinstance(currency, str) or not re.fullmatch(r"[A-Z]{3}", currency):
            raise ValueError("currency: an ISO 4217 code such as PHP or USD")
        amounts: dict[str, Decimal] = {}
        for key, field in (
            ("pricePerMinute", "per_minute"),
            ("pricePerCall", "per_call"),
            ("pricePerConnectedCall", "per_connected_call"),
        ):
            value = prices.get(key, 0)
            amount = _amount(value)
            if amount is None:
                raise ValueError(f"{key}: a price at or above zero, as a number")
            amounts[field] = amount
        return cls(currency=currency, **amounts)

    def of(self, call: CallOutcome) -> Decimal:
        minutes = -(-(call.duration_seconds or 0) // 60)
        answered = call.status is CallStatus.ANSWERED
        return self.per_call + (self.per_connected_call if answered else 0) + self.per_minute * minutes


@dataclass
class Scorecard:
    vendor: str
    prices: Prices | None = None
    assigned: int = 0
    sent: int = 0
    connected: int = 0
    right_party: int = 0
    promised: int = 0
    opted_out: int = 0
    complained: int = 0
    calls: int = 0
    attempts: int = 0
    answered_calls: int = 0
    talk_seconds: int = 0
    promised_amount: Decimal | None = None  # None while no promise came with an amount (the bot may not ask)
    reported_calls: int = 0  # calls with both an end time and when dialhub first heard of them
    report_delay_seconds: float = 0.0
    polled_calls: int = 0
    cost: Decimal = Decimal(0)

    def add(self, contact: Contact, calls: Iterable[CallOutcome], attempts: int | None = None) -> None:
        """A contact assigned to this vendor, with the final calls the vendor made to it, and how many attempts
        it took when not every call is given (by default, one per call)."""
        finished = [call for call in calls if call.final]
        self.assigned += 1
        if contact.state not in SENT_STATES and not finished:
            return
        self.sent += 1
        self.attempts += len(finished) if attempts is None else attempts
        dispositions = {call.disposition for call in finished if call.status is CallStatus.ANSWERED}
        self.connected += bool(dispositions)
        self.right_party += bool(dispositions & RIGHT_PARTY)
        self.promised += bool(dispositions & PROMISE)
        self.opted_out += bool(dispositions & OPT_OUT)
        self.complained += Disposition.COMPLAINT in dispositions
        for call in finished:
            self._count(call)

    def _count(self, call: CallOutcome) -> None:
        self.calls += 1
        if call.status is CallStatus.ANSWERED:
            self.answered_calls += 1
            self.talk_seconds += call.duration_seconds or 0
        amount = _amount(call.variables.get(PROMISED_AMOUNT)) if call.disposition in PROMISE else None
        if amount is not None:
            self.promised_amount = (self.promised_amount or Decimal(0)) + amount
        if call.ended_at is not None and call.first_seen_at is not None:
            self.reported_calls += 1
            self.report_delay_seconds += max(0.0, (call.first_seen_at - call.ended_at).total_seconds())
        self.polled_calls += call.source is OutcomeSource.POLL
        if self.prices is not None:
            self.cost += self.prices.of(call)

    def rate(self, count: int) -> Rate:
        return Rate(count, self.sent)

    @property
    def mean_talk_seconds(self) -> float | None:
        return self.talk_seconds / self.answered_calls if self.answered_calls else None

    @property
    def attempts_per_contact(self) -> float | None:
        return self.attempts / self.sent if self.sent else None

    @property
    def mean_report_delay_seconds(self) -> float | None:
        return self.report_delay_seconds / self.reported_calls if self.reported_calls else None

    @property
    def polled_share(self) -> float | None:
        return self.polled_calls / self.calls if self.calls else None

    @property
    def cost_per_contact(self) -> Decimal | None:
        return self.cost / self.sent if self.prices is not None and self.sent else None

    @property
    def cost_per_promise(self) -> Decimal | None:
        return self.cost / self.promised if self.prices is not None and self.promised else None

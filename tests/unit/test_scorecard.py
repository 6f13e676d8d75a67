"""A vendor's scorecard from its contacts and calls: rates per contact sent, talk time and cost per call."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from dialhub.dispositions import CallStatus, Disposition
from dialhub.models import CallOutcome, Contact, DialState, OutcomeSource
from dialhub.scorecard import Prices, Scorecard

T0 = dt.datetime(2026, 11, 25, 3, tzinfo=dt.UTC)


def _contact(contact_id: str, state: DialState = DialState.FINAL) -> Contact:
    return Contact(campaign_id="cmp", contact_id=contact_id, phone="+639171234567", state=state)


def _call(contact_id: str, n: int, status: CallStatus, disposition: Disposition, **extra: Any) -> CallOutcome:
    return CallOutcome(
        vendor="blu",
        vendor_call_id=f"{contact_id}-{n}",
        campaign_id="cmp",
        contact_id=contact_id,
        attempt=n,
        status=status,
        disposition=disposition,
        **extra,
    )


ANSWERED, NO_ANSWER = CallStatus.ANSWERED, CallStatus.NO_ANSWER


def test_rates_count_each_contact_sent_once_however_many_calls_it_took() -> None:
    card = Scorecard("blu")
    # no answer, then a promise to pay on the redial: reached once, promised once
    card.add(
        _contact("a"),
        [
            _call("a", 1, NO_ANSWER, Disposition.NOT_CONNECTED),
            _call("a", 2, ANSWERED, Disposition.PROMISE_TO_PAY, duration_seconds=95),
        ],
    )
    card.add(_contact("b"), [_call("b", 1, ANSWERED, Disposition.WRONG_PERSON, duration_seconds=20)])
    card.add(_contact("c"), [_call("c", 1, ANSWERED, Disposition.COMPLAINT, duration_seconds=61)])
    card.add(_contact("d"), [_call("d", 1, ANSWERED, Disposition.OPT_OUT, duration_seconds=30)])
    card.add(_contact("e", DialState.SUBMITTED), [_call("e", 1, CallStatus.RINGING, Disposition.UNKNOWN)])
    card.add(_contact("f", DialState.QUEUED), [])  # assigned, not sent yet
    card.add(_contact("g", DialState.FAILED), [])  # refused by the vendor: never sent

    assert (card.assigned, card.sent) == (7, 5)
    assert (card.connected, card.right_party, card.promised, card.opted_out, card.complained) == (4, 3, 1, 1, 1)
    assert card.rate(card.right_party).value == 3 / 5
    assert (card.calls, card.answered_calls, card.talk_seconds) == (5, 4, 206)  # the ringing call is not final
    assert card.mean_talk_seconds == 206 / 4 and card.attempts_per_contact == 1.0


def test_cost_per_call_per_started_minute_and_per_answered_call_and_per_promise() -> None:
    prices = Prices("PHP", per_minute=Decimal("1.50"), per_call=Decimal("0.20"), per_connected_call=Decimal("0.50"))
    card = Scorecard("blu", prices)
    card.add(_contact("a"), [_call("a", 1, ANSWERED, Disposition.PROMISE_TO_PAY, duration_seconds=61)])
    card.add(_contact("b"), [_call("b", 1, NO_ANSWER, Disposition.NOT_CONNECTED, duration_seconds=0)])
    # 0.20 + 0.50 + 2 started minutes x 1.50 = 3.70, and 0.20
    assert card.cost == Decimal("3.90")
    assert (card.cost_per_contact, card.cost_per_promise) == (Decimal("1.95"), Decimal("3.90"))
    assert Scorecard("blu").cost_per_contact is None  # no prices: no cost, rather than a cost of zero


def test_promised_amounts_add_up_when_collected_and_words_are_not_amounts() -> None:
    card = Scorecard("blu")
    assert card.promised_amount is None
    for contact_id, amount in (("a", "1,250.50"), ("b", 300), ("c", "next Friday"), ("d", "NaN"), ("e", True)):
        promise = _call(contact_id, 1, ANSWERED, Disposition.PROMISE_TO_PAY, variables={"promisedAmount": amount})
        card.add(_contact(contact_id), [promise])
    refusal = _call("f", 1, ANSWERED, Disposition.REFUSED_TO_PAY, variables={"promisedAmount": "999"})
    card.add(_contact("f"), [refusal])
    assert card.promised == 5 and card.promised_amount == Decimal("1550.50")


def test_how_promptly_calls_were_reported_and_how_many_only_the_poll_found() -> None:
    card = Scorecard("blu")
    ended = {"ended_at": T0}
    card.add(
        _contact("a"),
        [_call("a", 1, NO_ANSWER, Disposition.NOT_CONNECTED, **ended, first_seen_at=T0 + dt.timedelta(seconds=4))],
    )
    late = {"first_seen_at": T0 + dt.timedelta(seconds=600), "source": OutcomeSource.POLL}
    card.add(_contact("b"), [_call("b", 1, NO_ANSWER, Disposition.NOT_CONNECTED, **ended, **late)])
    card.add(_contact("c"), [_call("c", 1, NO_ANSWER, Disposition.NOT_CONNECTED)])  # no times: not in the mean
    assert card.mean_report_delay_seconds == 302.0
    assert card.polled_share == 1 / 3
    assert Scorecard("blu").mean_report_delay_seconds is None and Scorecard("blu").polled_share is None

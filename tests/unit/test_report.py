"""The campaign report's figures and page: the funnel and what else it counts from contacts and their calls,
the recipient's local hour across time zones (with and without daylight saving), and a page that escapes
what comes from the data, holds plotly.js once and fetches nothing."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
from collections import Counter
from typing import Any

import pytest

from dialhub.dispositions import CallStatus, Disposition
from dialhub.models import CallOutcome, Campaign, Contact, DialState, Hold, VendorShare
from dialhub.report import (
    NO_TIME,
    NO_ZONE,
    ZONES_DISAGREE,
    Funnel,
    ReportFigures,
    ReportTooLarge,
    gather_report,
    local_hour,
)
from dialhub.report_page import (
    TITLE_CALLS,
    TITLE_COMPARISON,
    TITLE_DISPOSITIONS,
    TITLE_FUNNEL,
    TITLE_HELD,
    TITLE_HOURS,
    render_report,
)

NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
MANILA = "+639171234567"  # one zone, Asia/Manila: UTC+8 all year


def _campaign(*shares: tuple[str, int], name: str = "November") -> Campaign:
    vendors = [VendorShare(vendor=vendor, share=share) for vendor, share in shares or (("blu", 100),)]
    return Campaign(
        campaign_id="cmp_r",
        name=name,
        vendor=vendors[0].vendor,
        vendors=vendors,
        dial_date=dt.date(2026, 11, 25),
        timezone="Asia/Manila",
        created_at=NOW,
    )


def _contact(contact_id: str, state: DialState, vendor: str = "blu", **more: Any) -> Contact:
    return Contact(campaign_id="cmp_r", contact_id=contact_id, phone=MANILA, state=state, vendor=vendor, **more)


def _call(
    contact: Contact, n: int, status: CallStatus, disposition: Disposition, started: dt.datetime, closes: bool = True
) -> CallOutcome:
    return CallOutcome(
        vendor=contact.vendor or "blu",
        vendor_call_id=f"{contact.contact_id}-{n}",
        campaign_id="cmp_r",
        contact_id=contact.contact_id,
        status=status,
        disposition=disposition,
        started_at=started,
        closes_contact=closes,
        last_updated_at=started + dt.timedelta(minutes=2),
    )


class _Store:
    """The three reads a report makes, over contacts and calls held in memory, pages of `page` contacts."""

    def __init__(self, contacts: list[Contact], calls: list[CallOutcome], page: int = 3) -> None:
        self.contacts = contacts
        self.calls = calls
        self.page = page
        self.history_reads: list[str] = []

    def iter_contacts(self, campaign_id: str, states: Any) -> Any:
        for start in range(0, len(self.contacts), self.page):
            yield self.contacts[start : start + self.page]

    def closing_outcomes(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], CallOutcome]:
        by_key = {(call.vendor, call.vendor_call_id): call for call in self.calls}
        return {key: by_key[key] for key in keys if key in by_key}

    def contact_history(self, campaign_id: str, contact_id: str) -> list[CallOutcome]:
        self.history_reads.append(contact_id)
        return [call for call in self.calls if call.contact_id == contact_id]


def _closed(contact: Contact, call: CallOutcome) -> Contact:
    return contact.model_copy(update={"last_call_id": call.vendor_call_id, "last_call_vendor": call.vendor})


AT_9 = dt.datetime(2026, 11, 25, 1, 0, tzinfo=dt.UTC)  # 09:00 in Manila
AT_13 = dt.datetime(2026, 11, 25, 5, 30, tzinfo=dt.UTC)  # 13:30 in Manila
ANSWERED, NO_ANSWER = CallStatus.ANSWERED, CallStatus.NO_ANSWER


def _one_vendor_store() -> _Store:
    """Seven contacts: a promise after a vendor redial, a refusal, a wrong person, no answer, one sent and not
    back yet, one held outside the calling window, one waiting for a policy redial."""
    contacts, calls = [], []
    for contact_id, disposition, started in [
        ("a", Disposition.PROMISE_TO_PAY, AT_13),
        ("b", Disposition.REFUSED_TO_PAY, AT_9),
        ("c", Disposition.WRONG_PERSON, AT_9),
        ("d", Disposition.NOT_CONNECTED, AT_13),
    ]:
        contact = _contact(contact_id, DialState.FINAL, updated_at=started + dt.timedelta(minutes=3))
        status = NO_ANSWER if disposition is Disposition.NOT_CONNECTED else ANSWERED
        closing = _call(contact, 2, status, disposition, started)
        contacts.append(_closed(contact, closing))
        calls.append(closing)
    calls.append(_call(contacts[0], 1, NO_ANSWER, Disposition.NOT_CONNECTED, AT_9, closes=False))  # a's first try
    calls.append(_call(contacts[3], 3, CallStatus.CANCELLED, Disposition.CANCELLED, AT_9, closes=False))  # never rang
    contacts.append(_contact("e", DialState.SUBMITTED))
    hold = Hold(reason="outside_window", checked_at=NOW)
    contacts.append(_contact("f", DialState.QUEUED, hold=hold))
    redial = Hold(reason="redial", until=NOW, checked_at=NOW)
    contacts.append(_contact("g", DialState.QUEUED, hold=redial))
    return _Store(contacts, calls)


def test_the_funnel_counts_each_contact_once_by_its_closing_call() -> None:
    figures = gather_report(_one_vendor_store(), _campaign(), lambda: NOW, lambda: 900.0)
    assert figures.funnel == Funnel(contacts=7, sent=5, connected=3, right_party=2, promised=1)
    assert figures.funnel_by_vendor == {"blu": figures.funnel}
    assert figures.dispositions == {
        "blu": Counter({"promise_to_pay": 1, "refused_to_pay": 1, "wrong_person": 1, "not_connected": 1})
    }
    assert figures.held == Counter({"outside_window": 1})  # the policy redial is planned, not held back
    assert figures.comparison is None and not figures.split


def test_every_finished_call_counts_by_the_recipients_local_hour_and_per_contact() -> None:
    store = _one_vendor_store()
    figures = gather_report(store, _campaign(), lambda: NOW, lambda: 900.0)
    by_hour = {hour: (count.calls, count.answered) for hour, count in enumerate(figures.hours) if count.calls}
    # 09:00: b, c answered, a's first try unanswered; 13:00: a answered, d not (the cancelled call never rang).
    assert by_hour == {9: (3, 2), 13: (2, 1)}
    assert figures.hours[9].rate == pytest.approx(2 / 3) and figures.hours[0].rate is None
    assert figures.calls_per_contact == {"blu": Counter({1: 3, 2: 1})}
    assert figures.calls_without_hour == Counter()
    # Histories are read for the contacts that were called only: not for the queued ones.
    assert sorted(store.history_reads) == ["a", "b", "c", "d", "e"]
    assert figures.data_as_of == AT_13 + dt.timedelta(minutes=3)
    assert figures.generated_at == NOW


def test_a_campaign_that_cannot_be_read_in_the_time_left_is_refused_whole() -> None:
    left = iter([300.0, 59.0])
    with pytest.raises(ReportTooLarge, match="too large to read in one invocation"):
        gather_report(_one_vendor_store(), _campaign(), lambda: NOW, lambda: next(left))


def test_a_split_campaign_counts_per_vendor_and_compares_them_without_cost() -> None:
    contacts, calls = [], []
    for index in range(12):
        vendor = "blu" if index % 2 else "nxtele"
        contact = _contact(f"s{index:02d}", DialState.FINAL, vendor=vendor)
        answered = index % 3 == 0
        call = _call(
            contact,
            1,
            ANSWERED if answered else NO_ANSWER,
            Disposition.PROMISE_TO_PAY if answered else Disposition.NOT_CONNECTED,
            AT_9,
        )
        contacts.append(_closed(contact, call))
        calls.append(call)
    campaign = _campaign(("blu", 50), ("nxtele", 50))
    figures = gather_report(_Store(contacts, calls), campaign, lambda: NOW, lambda: 900.0)
    assert figures.split and figures.comparison is not None
    assert [vendor.vendor for vendor in figures.comparison.vendors] == ["blu", "nxtele"]
    blu = figures.funnel_by_vendor["blu"]
    assert (blu.contacts, blu.connected) == (6, 2) and figures.funnel_by_vendor["nxtele"].connected == 2
    assert figures.funnel.contacts == 12 and figures.funnel.promised == 4
    assert all(vendor.cost is None for vendor in figures.comparison.vendors)
    assert any("Cost is left out" in note for note in figures.comparison.notes)


# ------------------------------------------------------------------ the local hour

WINTER = dt.datetime(2026, 1, 15, 15, 0, tzinfo=dt.UTC)
SUMMER = dt.datetime(2026, 7, 15, 15, 0, tzinfo=dt.UTC)


def _at(started: dt.datetime | None, **times: dt.datetime) -> CallOutcome:
    return CallOutcome(vendor="blu", vendor_call_id="x", status=ANSWERED, started_at=started, **times)


@pytest.mark.parametrize(
    ("zones", "moment", "hour"),
    [
        (["Asia/Manila"], WINTER, 23),  # no daylight saving: UTC+8 all year
        (["Asia/Manila"], SUMMER, 23),
        (["America/New_York"], WINTER, 10),  # EST, UTC-5
        (["America/New_York"], SUMMER, 11),  # EDT, UTC-4
        (["Asia/Kolkata"], WINTER, 20),  # a half-hour offset: 20:30
        (["America/New_York", "America/Toronto"], SUMMER, 11),  # two zones, one hour
        (["America/New_York", "America/Chicago"], SUMMER, ZONES_DISAGREE),
        ([], SUMMER, NO_ZONE),
    ],
)
def test_the_local_hour_is_the_recipients_in_every_zone_the_number_may_be_in(
    zones: list[str], moment: dt.datetime, hour: int | str
) -> None:
    assert local_hour(_at(moment), zones) == hour


def test_without_a_start_time_the_answer_or_end_time_gives_the_hour() -> None:
    assert local_hour(_at(None, answered_at=WINTER), ["Asia/Manila"]) == 23
    assert local_hour(_at(None, ended_at=SUMMER + dt.timedelta(hours=2)), ["Asia/Manila"]) == 1
    assert local_hour(_at(None), ["Asia/Manila"]) == NO_TIME


def test_a_contact_with_its_own_zone_counts_in_it_and_a_call_with_no_time_is_set_aside() -> None:
    contact = _contact("ny", DialState.FINAL, timezone="America/New_York")
    closing = _call(contact, 2, ANSWERED, Disposition.PROMISE_TO_PAY, SUMMER)
    untimed = closing.model_copy(update={"vendor_call_id": "ny-1", "started_at": None, "closes_contact": False})
    figures = gather_report(
        _Store([_closed(contact, closing)], [closing, untimed]), _campaign(), lambda: NOW, lambda: 900.0
    )
    assert [hour for hour, count in enumerate(figures.hours) if count.calls] == [11]
    assert figures.calls_without_hour == Counter({NO_TIME: 1})


# ------------------------------------------------------------------ the page

TITLES = [TITLE_FUNNEL, TITLE_DISPOSITIONS, TITLE_HOURS, TITLE_CALLS, TITLE_HELD]


def _figures(name: str = "November", **changes: Any) -> ReportFigures:
    figures = gather_report(_one_vendor_store(), _campaign(name=name), lambda: NOW, lambda: 900.0)
    for key, value in changes.items():
        setattr(figures, key, value)
    return figures


def test_the_page_escapes_the_campaign_name_and_holds_no_phone_number() -> None:
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    page = render_report(_figures(name=hostile))
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<script>alert" not in page and "<img" not in page
    assert MANILA[1:] not in page and "9171234567" not in page


def test_the_page_inlines_plotly_js_once_and_fetches_nothing() -> None:
    from plotly.offline import get_plotlyjs

    page = render_report(_figures())
    assert page.count(get_plotlyjs()[:500]) == 1
    assert page.count("Plotly.newPlot(") == len(TITLES)
    scripts = re.findall(r"<script[^>]*>", page)
    assert scripts and all("src=" not in tag for tag in scripts)
    assert "<link" not in page and "@import" not in page and "MathJax.Hub" not in page
    assert "default-src 'none'" in page  # the browser is told to fetch nothing, too
    assert '"displaylogo": false' in page


def test_each_chart_has_its_numbers_beside_it_and_the_page_says_when_it_was_made() -> None:
    page = render_report(_figures())
    sections = dict(re.findall(r'<section id="(\w+)" data-title="([^"]+)"', page))
    assert list(sections) == ["funnel", "dispositions", "hours", "calls", "held"]
    assert "<td>promise to pay</td><td>1</td><td>14.3%</td>" in page  # 1 of 7 contacts
    assert "<td>09:00</td><td>3</td><td>2</td><td>66.7%</td>" in page
    assert "<td>outside the calling window</td><td>1</td>" in page
    assert "Generated at 2026-11-25 12:00 UTC; data as of 2026-11-25 05:33 UTC" in page


def test_a_chart_with_nothing_to_draw_says_so_instead() -> None:
    page = render_report(_figures(held=Counter()))
    assert "No contact is held back." in page and 'id="chart-held"' not in page
    assert page.count("Plotly.newPlot(") == len(TITLES) - 1


def test_a_split_campaign_adds_the_comparison_and_draws_series_apart_in_grey() -> None:
    contacts, calls = [], []
    for index in range(8):
        contact = _contact(f"s{index}", DialState.FINAL, vendor=("blu", "nxtele")[index % 2])
        call = _call(contact, 1, ANSWERED, Disposition.PROMISE_TO_PAY, AT_9)
        contacts.append(_closed(contact, call))
        calls.append(call)
    figures = gather_report(_Store(contacts, calls), _campaign(("blu", 50), ("nxtele", 50)), lambda: NOW, lambda: 900.0)
    page = render_report(figures)
    assert TITLE_COMPARISON in page and f"{TITLE_DISPOSITIONS} by vendor" in page
    assert "not yet distinguishable" in page or "too few calls to tell" in page
    # Two series side by side: a different pattern each, and colours apart in lightness.
    shapes = {
        json.loads(f'"{shape}"') for shape in re.findall(r'"fgcolor":"#1f3b57","shape":"((?:[^"\\]|\\.)*)"', page)
    }
    assert shapes == {"", "/"}


def test_the_palettes_colours_are_apart_in_grey() -> None:
    from dialhub.report_page import COLOURS

    def luminance(colour: str) -> float:
        red, green, blue = (int(colour[index : index + 2], 16) for index in (1, 3, 5))
        return 0.2126 * red + 0.7152 * green + 0.0722 * blue

    grey = sorted(luminance(colour) for colour in COLOURS)
    assert all(later - earlier > 50 for earlier, later in itertools.pairwise(grey))

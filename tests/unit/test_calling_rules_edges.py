"""The calling rules at their edges: exact verdicts, touching intervals, moments exactly on a boundary, DST gaps
and folds, zones far from UTC, and the gate around them (admission, suppression by outcome, held batches)."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import time
from collections.abc import Iterable, Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from dialhub.admission import REQUEST_TO_CALL_LAG, Admission, _past_calls, admit
from dialhub.compliance import (
    Clearance,
    FrequencyCap,
    PastCall,
    Policy,
    WeeklyWindow,
    _intersect,
    _local_instant,
    _presets,
    allowed_intervals,
    clearance,
    narrower_window,
    next_allowed,
    preset,
    recipient_zones,
    vendor_window,
)
from dialhub.dispatch import _hold
from dialhub.dispositions import CallStatus, Disposition
from dialhub.models import (
    REDIAL_HOLD,
    CallingWindow,
    CallOutcome,
    Campaign,
    CampaignStatus,
    Contact,
    DialState,
    Hold,
    Suppression,
)
from dialhub.planning import MESSAGE_ID_BUDGET, PlanSummary, _Batches, batch_id, campaign_today
from dialhub.store import DialRecord
from dialhub.suppressions import suppress_after_outcome

UTC = dt.UTC
NEW_YORK = "America/New_York"
MANILA = "Asia/Manila"
EVERY_DAY = [1, 2, 3, 4, 5, 6, 7]
NOW = dt.datetime(2026, 11, 25, 15, 0, tzinfo=UTC)  # a Wednesday; 10:00 in New York, 23:00 in Manila


def _utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def _policy(*windows: tuple[dt.time, dt.time], **fields: Any) -> Policy:
    return Policy(
        name="p", windows=[WeeklyWindow(weekdays=EVERY_DAY, start=start, end=end) for start, end in windows], **fields
    )


DAYTIME = _policy((dt.time(8), dt.time(21)))  # 08:00-21:00 every day


@pytest.fixture
def process_time_zone() -> Iterator[None]:
    """The process's own clock set far from UTC (American Samoa, UTC-11): results must not depend on it."""
    saved = os.environ.get("TZ")
    os.environ["TZ"] = "Pacific/Pago_Pago"
    time.tzset()
    try:
        yield
    finally:
        if saved is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = saved
        time.tzset()


# ------------------------------------------------------------------ verdicts, exactly


def test_a_number_with_no_time_zone_is_refused_with_that_reason() -> None:
    verdict = clearance(DAYTIME, [], [], NOW)
    assert verdict == Clearance(False, "no_time_zone")
    assert verdict.allowed is False and verdict.not_before is None and verdict.window_end is None


def test_zones_with_no_hours_in_common_are_refused_as_no_common_window() -> None:
    verdict = clearance(preset("strict-default"), [NEW_YORK, MANILA], [], NOW)
    assert verdict == Clearance(False, "no_common_window")
    assert verdict.allowed is False


def test_a_capped_number_waits_for_the_first_window_after_the_cap_clears() -> None:
    policy = _policy((dt.time(8), dt.time(21)), frequency_cap=FrequencyCap(attempts=1, days=1))
    calls = [PastCall(_utc(2026, 11, 25, 10), conversation=False)]  # the cap clears at 05:00 in New York
    verdict = clearance(policy, [NEW_YORK], calls, NOW)
    assert verdict == Clearance(False, "capped", _utc(2026, 11, 26, 13))  # 08:00 in New York
    assert verdict.allowed is False


def test_a_capped_number_whose_cap_clears_inside_a_window_may_go_from_that_moment() -> None:
    policy = _policy((dt.time(8), dt.time(21)), frequency_cap=FrequencyCap(attempts=1, days=1))
    calls = [PastCall(_utc(2026, 11, 25, 14, 30), conversation=False)]
    assert clearance(policy, [NEW_YORK], calls, NOW) == Clearance(False, "capped", _utc(2026, 11, 26, 14, 30))


def test_outside_the_window_the_verdict_says_when_the_window_opens() -> None:
    early = _utc(2026, 11, 25, 12, 30)  # 07:30 in New York
    verdict = clearance(DAYTIME, [NEW_YORK], [], early)
    assert verdict == Clearance(False, "outside_window", _utc(2026, 11, 25, 13))
    assert verdict.allowed is False


def test_the_window_opens_at_its_start_and_is_closed_at_its_end() -> None:
    opening, closing = _utc(2026, 11, 25, 13), _utc(2026, 11, 26, 2)  # 08:00 and 21:00 in New York
    assert clearance(DAYTIME, [NEW_YORK], [], opening) == Clearance(True, window_end=closing)
    assert clearance(DAYTIME, [NEW_YORK], [], closing - dt.timedelta(microseconds=1)) == Clearance(
        True, window_end=closing
    )
    assert clearance(DAYTIME, [NEW_YORK], [], closing) == Clearance(False, "outside_window", _utc(2026, 11, 26, 13))


def test_an_interval_ending_exactly_at_the_start_is_not_returned() -> None:
    closing = _utc(2026, 11, 26, 2)
    assert next_allowed(DAYTIME, [NEW_YORK], closing) == (_utc(2026, 11, 26, 13), _utc(2026, 11, 27, 2))
    assert allowed_intervals(DAYTIME, [NEW_YORK], closing, days=1) == [(_utc(2026, 11, 26, 13), _utc(2026, 11, 27, 2))]


def test_a_moment_inside_a_window_starts_the_interval_at_that_moment() -> None:
    assert next_allowed(DAYTIME, [NEW_YORK], NOW) == (NOW, _utc(2026, 11, 26, 2))


# ------------------------------------------------------------------ the frequency cap and the quiet gap


def test_a_call_exactly_one_period_ago_no_longer_counts_against_the_cap() -> None:
    policy = _policy((dt.time(0), dt.time(23, 59)), frequency_cap=FrequencyCap(attempts=1, days=7))
    at_the_edge = [PastCall(NOW - dt.timedelta(days=7), conversation=False)]
    assert clearance(policy, [NEW_YORK], at_the_edge, NOW) == Clearance(True, window_end=_utc(2026, 11, 26, 4, 59))
    inside = [PastCall(NOW - dt.timedelta(days=7) + dt.timedelta(microseconds=1), conversation=False)]
    assert clearance(policy, [NEW_YORK], inside, NOW) == Clearance(False, "capped", NOW + dt.timedelta(microseconds=1))


def test_a_talk_exactly_one_gap_ago_no_longer_keeps_the_line_quiet() -> None:
    policy = _policy((dt.time(0), dt.time(23, 59)), min_gap_after_conversation_hours=24)
    talked = [PastCall(NOW - dt.timedelta(hours=24), conversation=True)]
    assert clearance(policy, [NEW_YORK], talked, NOW) == Clearance(True, window_end=_utc(2026, 11, 26, 4, 59))
    recent = [PastCall(NOW - dt.timedelta(hours=23), conversation=True)]
    assert clearance(policy, [NEW_YORK], recent, NOW) == Clearance(False, "capped", NOW + dt.timedelta(hours=1))


# ------------------------------------------------------------------ intervals: touching, merging, intersecting


def test_windows_that_touch_make_one_interval() -> None:
    policy = _policy((dt.time(9), dt.time(12)), (dt.time(12), dt.time(15)))
    at = _utc(2026, 11, 25, 2)  # 10:00 in Manila
    assert next_allowed(policy, [MANILA], at) == (at, _utc(2026, 11, 25, 7))  # 15:00 in Manila
    assert clearance(policy, [MANILA], [], at) == Clearance(True, window_end=_utc(2026, 11, 25, 7))


def test_intersecting_several_intervals_on_both_sides_keeps_every_overlap() -> None:
    def span(begin: int, end: int) -> tuple[dt.datetime, dt.datetime]:
        return _utc(2026, 11, 25, begin), _utc(2026, 11, 25, end)

    left = [span(0, 3), span(4, 7), span(8, 11)]
    right = [span(1, 5), span(6, 9), span(10, 12)]
    expected = [span(1, 3), span(4, 5), span(6, 7), span(8, 9), span(10, 11)]
    assert _intersect(left, right) == expected
    assert _intersect(right, left) == expected
    assert _intersect(left, [span(0, 12)]) == left
    assert _intersect([span(0, 12)], left) == left
    assert _intersect([span(0, 3)], [span(3, 5)]) == []  # touching ends share no moment
    assert _intersect([], right) == []


def test_two_zones_share_every_days_common_hours_over_several_days() -> None:
    start = _utc(2026, 11, 25, 12)
    common = [(_utc(2026, 11, day, 14), _utc(2026, 11, day + 1, 2)) for day in (25, 26, 27)]
    assert allowed_intervals(DAYTIME, [NEW_YORK, "America/Chicago"], start, days=2) == common
    assert allowed_intervals(DAYTIME, ["America/Chicago", NEW_YORK], start, days=2) == common


# ------------------------------------------------------------------ days around the span, far from UTC


def test_a_zone_a_day_ahead_of_utc_gets_its_own_today_and_tomorrow(process_time_zone: None) -> None:
    start = _utc(2026, 11, 25, 12)  # already 02:00 on 26 November on Kiritimati (UTC+14)
    assert allowed_intervals(DAYTIME, ["Pacific/Kiritimati"], start, days=1) == [
        (_utc(2026, 11, 25, 18), _utc(2026, 11, 26, 7)),
        (_utc(2026, 11, 26, 18), _utc(2026, 11, 27, 7)),
    ]


def test_a_zone_a_day_behind_utc_gets_its_own_today_and_tomorrow(process_time_zone: None) -> None:
    start = _utc(2026, 11, 26, 8)  # still 21:00 on 25 November in Pago Pago (UTC-11): its window just closed
    assert allowed_intervals(DAYTIME, ["Pacific/Pago_Pago"], start, days=1) == [
        (_utc(2026, 11, 26, 19), _utc(2026, 11, 27, 8)),
    ]
    assert allowed_intervals(DAYTIME, ["Pacific/Pago_Pago"], start - dt.timedelta(hours=1), days=1) == [
        (_utc(2026, 11, 26, 7), _utc(2026, 11, 26, 8)),
        (_utc(2026, 11, 26, 19), _utc(2026, 11, 27, 8)),
    ]


def test_the_lookahead_covers_today_and_exactly_that_many_days_more() -> None:
    start = _utc(2026, 11, 25, 4)  # 12:00 in Manila
    assert allowed_intervals(DAYTIME, [MANILA], start, days=3) == [
        (start, _utc(2026, 11, 25, 13)),
        *((_utc(2026, 11, day, 0), _utc(2026, 11, day, 13)) for day in (26, 27, 28)),
    ]


def test_the_last_microsecond_of_the_day_is_kept_exactly() -> None:
    policy = _policy((dt.time(0), dt.time(23, 59, 59, 999_999)))
    end = _utc(2026, 11, 26, 4, 59, 59, 999_999)  # 23:59:59.999999 in New York (UTC-5)
    assert next_allowed(policy, [NEW_YORK], NOW) == (NOW, end)
    assert _local_instant(dt.date(2026, 11, 25), dt.time(23, 59, 59, 999_999), ZoneInfo(NEW_YORK)) == end


# ------------------------------------------------------------------ wall-clock times in DST gaps and folds


@pytest.mark.parametrize(
    ("zone", "day", "at", "expected"),
    [
        # Skipped by spring forward: the instant the clocks jump.
        (NEW_YORK, dt.date(2026, 3, 8), dt.time(2, 30), _utc(2026, 3, 8, 7)),  # 02:00 EST
        ("Europe/London", dt.date(2026, 3, 29), dt.time(1, 30), _utc(2026, 3, 29, 1)),  # 01:00 GMT
        ("Australia/Lord_Howe", dt.date(2026, 10, 4), dt.time(2, 15), _utc(2026, 10, 3, 15, 30)),  # 02:00 at +10:30
        # Repeated by fall back: the first occurrence.
        (NEW_YORK, dt.date(2026, 11, 1), dt.time(1, 30), _utc(2026, 11, 1, 5, 30)),  # 01:30 EDT
        ("Europe/London", dt.date(2026, 10, 25), dt.time(1, 30), _utc(2026, 10, 25, 0, 30)),  # 01:30 BST
        ("Australia/Lord_Howe", dt.date(2026, 4, 5), dt.time(1, 45), _utc(2026, 4, 4, 14, 45)),  # 01:45 at +11
        # Ordinary times, to the microsecond.
        (NEW_YORK, dt.date(2026, 3, 8), dt.time(3, 0, 0, 1), _utc(2026, 3, 8, 7, 0, 0, 1)),
        ("Europe/London", dt.date(2026, 7, 1), dt.time(12, 0, 0, 250_000), _utc(2026, 7, 1, 11, 0, 0, 250_000)),
    ],
)
def test_a_wall_clock_time_is_its_jump_when_skipped_and_its_first_occurrence_when_repeated(
    zone: str, day: dt.date, at: dt.time, expected: dt.datetime
) -> None:
    assert _local_instant(day, at, ZoneInfo(zone)) == expected


@pytest.mark.parametrize(
    ("zone", "day", "at", "expected"),
    [
        (NEW_YORK, dt.date(2026, 3, 8), dt.time(2, 30), _utc(2026, 3, 8, 7)),
        (NEW_YORK, dt.date(2026, 11, 25), dt.time(9), _utc(2026, 11, 25, 14)),
        ("Europe/London", dt.date(2026, 3, 29), dt.time(1, 30), _utc(2026, 3, 29, 1)),
        ("Australia/Lord_Howe", dt.date(2026, 10, 4), dt.time(2, 15), _utc(2026, 10, 3, 15, 30)),
    ],
)
def test_wall_clock_instants_are_utc_whatever_the_process_clock_says(
    process_time_zone: None, zone: str, day: dt.date, at: dt.time, expected: dt.datetime
) -> None:
    instant = _local_instant(day, at, ZoneInfo(zone))
    assert instant == expected
    assert instant.utcoffset() == dt.timedelta(0)


def test_allowed_intervals_are_utc_whatever_the_process_clock_says(process_time_zone: None) -> None:
    intervals = allowed_intervals(DAYTIME, [NEW_YORK], NOW, days=1)
    assert intervals == [(NOW, _utc(2026, 11, 26, 2)), (_utc(2026, 11, 26, 13), _utc(2026, 11, 27, 2))]
    assert {moment.utcoffset() for interval in intervals for moment in interval} == {dt.timedelta(0)}


def test_a_window_starting_in_the_gap_opens_when_the_clocks_jump_in_london() -> None:
    policy = Policy(name="p", windows=[WeeklyWindow(weekdays=[7], start=dt.time(1, 30), end=dt.time(3))])
    assert next_allowed(policy, ["Europe/London"], _utc(2026, 3, 28)) == (_utc(2026, 3, 29, 1), _utc(2026, 3, 29, 2))


# ------------------------------------------------------------------ vendor windows


def test_windows_that_only_touch_share_no_hours_so_the_vendor_gets_the_first_alone() -> None:
    policy = Policy(
        name="p",
        windows=[
            WeeklyWindow(weekdays=[1], start=dt.time(8), end=dt.time(12)),
            WeeklyWindow(weekdays=[2], start=dt.time(12), end=dt.time(16)),
        ],
    )
    assert vendor_window(policy) == CallingWindow(start=dt.time(8), end=dt.time(12), weekdays=[1])


def test_windows_that_only_touch_have_no_narrower_window() -> None:
    morning = CallingWindow(start=dt.time(9), end=dt.time(12), weekdays=[1, 2])
    afternoon = CallingWindow(start=dt.time(12), end=dt.time(15), weekdays=[1, 2])
    assert narrower_window(morning, afternoon) is None
    assert narrower_window(afternoon, morning) is None
    other_days = CallingWindow(start=dt.time(10), end=dt.time(11), weekdays=[3])
    assert narrower_window(morning, other_days) is None
    assert narrower_window(
        morning, CallingWindow(start=dt.time(11, 59), end=dt.time(15), weekdays=[2, 5])
    ) == CallingWindow(start=dt.time(11, 59), end=dt.time(12), weekdays=[2])


def test_presets_are_built_with_their_weekdays() -> None:
    _presets.cache_clear()  # built now, not recalled from an earlier test
    assert preset("strict-default").windows == [
        WeeklyWindow(weekdays=[1, 2, 3, 4, 5, 6], start=dt.time(9), end=dt.time(20))
    ]
    assert preset("us-regulation-f").windows == [WeeklyWindow(weekdays=EVERY_DAY, start=dt.time(8), end=dt.time(21))]
    assert preset("korea-debt-collection").windows == preset("us-regulation-f").windows
    assert preset("none-such") is None


# ------------------------------------------------------------------ where the recipient is


def test_zones_the_system_does_not_know_are_skipped_and_the_rest_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    from phonenumbers import timezone as phone_timezones

    monkeypatch.setattr(
        phone_timezones, "time_zones_for_number", lambda number: ("Etc/Unknown", MANILA, "Not/A_Zone", "Asia/Tokyo")
    )
    assert recipient_zones("+639171234567") == [MANILA, "Asia/Tokyo"]


def test_a_number_without_a_zone_or_unreadable_has_none() -> None:
    assert recipient_zones("+80012345678") == []  # international freephone: no place, no zone
    assert recipient_zones("not a number") == []
    assert recipient_zones("not a number", explicit=MANILA) == [MANILA]


# ------------------------------------------------------------------ admission


class _GateStore:
    """The reads admission makes, from memory; it remembers what was asked."""

    def __init__(
        self,
        dials: Iterable[DialRecord] = (),
        talks: dict[tuple[str, str], dt.datetime] | None = None,
        suppressions: Iterable[Suppression] = (),
    ) -> None:
        self.dials = list(dials)
        self.talks = talks or {}
        self.suppressed = {item.phone: item for item in suppressions}
        self.history_reads: list[tuple[str, dt.datetime]] = []
        self.conversation_lookups: list[list[tuple[str, str]]] = []
        self.suppression_reads = 0

    def suppressions(self, phones: Iterable[str], now: dt.datetime) -> dict[str, Suppression]:
        self.suppression_reads += 1
        return {phone: item for phone in phones if (item := self.suppressed.get(phone)) and item.active(now)}

    def dial_history(self, phone: str, since: dt.datetime) -> list[DialRecord]:
        self.history_reads.append((phone, since))
        return [dial for dial in self.dials if dial.phone == phone and dial.at >= since]

    def last_conversations(self, contacts: Iterable[tuple[str, str]]) -> dict[tuple[str, str], dt.datetime]:
        keys = list(contacts)
        self.conversation_lookups.append(keys)
        return {key: self.talks[key] for key in keys if key in self.talks}


PHONE = "+639171234567"


def _contact(contact_id: str = "c1", phone: str = PHONE, **fields: Any) -> Contact:
    return Contact(campaign_id="cmp", contact_id=contact_id, phone=phone, **fields)


def _dial(at: dt.datetime, campaign_id: str, contact_id: str, calls: int = 1) -> DialRecord:
    return DialRecord(phone=PHONE, at=at, campaign_id=campaign_id, contact_id=contact_id, attempt=1, calls=calls)


def test_a_call_exactly_quiet_period_plus_lag_ago_is_looked_up_for_a_conversation() -> None:
    policy = _policy((dt.time(9), dt.time(20)), min_gap_after_conversation_hours=24)
    edge = NOW - dt.timedelta(hours=24) - REQUEST_TO_CALL_LAG
    store = _GateStore(
        [_dial(edge, "old", "x"), _dial(NOW - dt.timedelta(days=1), "new", "y")],
        talks={("old", "x"): edge + dt.timedelta(hours=2)},
    )
    past = _past_calls(policy, [_contact()], store, NOW)
    assert store.history_reads == [(PHONE, edge)]
    assert store.conversation_lookups == [[("old", "x"), ("new", "y")]]
    assert past == {
        "c1": [
            PastCall(edge, conversation=False),
            PastCall(NOW - dt.timedelta(days=1), conversation=False),
            PastCall(edge + dt.timedelta(hours=2), conversation=True),
        ]
    }


def test_a_call_older_than_quiet_period_plus_lag_is_not_looked_up() -> None:
    policy = _policy(
        (dt.time(9), dt.time(20)), frequency_cap=FrequencyCap(attempts=5, days=30), min_gap_after_conversation_hours=24
    )
    edge = NOW - dt.timedelta(hours=24) - REQUEST_TO_CALL_LAG
    older = edge - dt.timedelta(microseconds=1)
    store = _GateStore([_dial(older, "old", "x")], talks={("old", "x"): older})
    assert _past_calls(policy, [_contact()], store, NOW) == {"c1": [PastCall(older, conversation=False)]}
    assert store.history_reads == [(PHONE, NOW - dt.timedelta(days=30))]  # the longer of the two look-backs
    assert store.conversation_lookups == [[]]


def test_without_a_quiet_period_no_conversation_is_looked_up_and_every_request_counts_its_calls() -> None:
    policy = _policy((dt.time(9), dt.time(20)), frequency_cap=FrequencyCap(attempts=3, days=7))
    recent = NOW - dt.timedelta(hours=5)
    store = _GateStore([_dial(recent, "new", "y", calls=2)], talks={("new", "y"): recent + dt.timedelta(hours=1)})
    past = _past_calls(policy, [_contact()], store, NOW)
    assert past == {"c1": [PastCall(recent, conversation=False), PastCall(recent, conversation=False)]}
    assert [call.conversation for call in past["c1"]] == [False, False]
    assert store.conversation_lookups == []
    assert store.history_reads == [(PHONE, NOW - dt.timedelta(days=7))]


def test_a_policy_that_looks_back_at_nothing_reads_no_history() -> None:
    store = _GateStore([_dial(NOW - dt.timedelta(hours=1), "new", "y")])
    assert _past_calls(DAYTIME, [_contact()], store, NOW) == {}
    assert _past_calls(preset("us-regulation-f"), [], store, NOW) == {}
    assert store.history_reads == [] and store.conversation_lookups == []


def test_admission_holds_each_contact_for_its_own_reason_and_admits_the_rest() -> None:
    policy = _policy((dt.time(9), dt.time(20)), frequency_cap=FrequencyCap(attempts=1, days=7))
    manila_noon = _utc(2026, 11, 25, 4)
    suppression = Suppression(phone="+639171230002", reason="asked us to stop", until=NOW, created_at=NOW)
    lapsed = Suppression(phone="+639171230007", reason="for a while", until=manila_noon, created_at=NOW)
    due_now = Hold(reason=REDIAL_HOLD, until=manila_noon, checked_at=NOW)
    later = Hold(reason=REDIAL_HOLD, until=manila_noon + dt.timedelta(microseconds=1), checked_at=NOW)
    contacts = [
        _contact("dnc", "+639171230001", do_not_call=True),
        _contact("suppressed", "+639171230002"),
        _contact("redial-later", "+639171230003", hold=later),
        _contact("redial-now", "+639171230004", hold=due_now),
        _contact("no-zone", "+80012345678"),
        _contact("abroad", "+639171230005", timezone=NEW_YORK),
        _contact("capped", "+639171230006"),
        _contact("lapsed", "+639171230007"),
    ]
    store = _GateStore(
        [
            DialRecord(
                phone="+639171230006",
                at=manila_noon - dt.timedelta(days=2),
                campaign_id="o",
                contact_id="x",
                attempt=1,
                calls=1,
            )
        ],
        suppressions=[suppression, lapsed],
    )
    admission = admit(contacts, store, manila_noon, policy)
    assert admission == Admission(
        admitted=[contacts[3], contacts[7]],
        held={
            "dnc": Hold(reason="suppressed", detail="marked do-not-call", checked_at=manila_noon),
            "suppressed": Hold(reason="suppressed", detail="asked us to stop", until=NOW, checked_at=manila_noon),
            "redial-later": later,
            "no-zone": Hold(reason="no_time_zone", detail="policy p", checked_at=manila_noon),
            "abroad": Hold(
                reason="outside_window", detail="policy p", until=_utc(2026, 11, 25, 14), checked_at=manila_noon
            ),
            "capped": Hold(reason="capped", detail="policy p", until=_utc(2026, 11, 30, 4), checked_at=manila_noon),
        },
    )
    assert store.suppression_reads == 1


def test_admission_without_a_policy_reads_no_history_and_a_redial_hold_without_an_end_does_not_hold() -> None:
    store = _GateStore([_dial(NOW - dt.timedelta(hours=1), "new", "y")])
    open_ended = _contact("c1", hold=Hold(reason=REDIAL_HOLD, checked_at=NOW))
    other_hold = _contact(
        "c2", "+639171230009", hold=Hold(reason="capped", until=NOW + dt.timedelta(days=1), checked_at=NOW)
    )
    assert admit([open_ended, other_hold], store, NOW) == Admission(admitted=[open_ended, other_hold])
    assert store.history_reads == []
    assert admit([], store, NOW, DAYTIME) == Admission()
    assert store.suppression_reads == 1  # none for no contacts


# ------------------------------------------------------------------ suppression by outcome, and its metric


class _SuppressionStore:
    def __init__(self, keeps_existing: bool = False) -> None:
        self.keeps_existing = keeps_existing
        self.put: list[tuple[Suppression, bool]] = []

    def get_contact(self, campaign_id: str, contact_id: str) -> Contact | None:
        return Contact(campaign_id=campaign_id, contact_id=contact_id, phone=PHONE) if contact_id == "c1" else None

    def put_suppression(self, suppression: Suppression, unless_for_good: bool = False) -> bool:
        self.put.append((suppression, unless_for_good))
        return not self.keeps_existing


@pytest.fixture
def printed_metrics(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Any:
    """Metrics on, as deployed; reads back each metric printed since the last call as (name, {dimension: value})."""
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "dialhub")

    def printed() -> list[tuple[str, dict[str, Any], float]]:
        found = []
        for line in capsys.readouterr().out.splitlines():
            if '"CloudWatchMetrics"' in line:
                record = json.loads(line)
                [declared] = record["_aws"]["CloudWatchMetrics"]
                [dimensions] = declared["Dimensions"]
                for metric in declared["Metrics"]:
                    found.append(
                        (metric["Name"], {name: record[name] for name in dimensions}, sum(record[metric["Name"]]))
                    )
        return found

    printed()
    return printed


def _do_not_call(**changes: Any) -> CallOutcome:
    fields = {
        "vendor": "nxtele",
        "vendor_call_id": "n-1",
        "campaign_id": "cmp",
        "contact_id": "c1",
        "status": CallStatus.ANSWERED,
        "disposition": Disposition.OPT_OUT,
    }
    return CallOutcome(**(fields | changes))


def test_a_number_suppressed_by_an_outcome_is_counted_under_its_vendor(printed_metrics: Any) -> None:
    store = _SuppressionStore()
    assert suppress_after_outcome(_do_not_call(), store, NOW) is True
    assert printed_metrics() == [("NumbersSuppressedByOutcome", {"vendor": "nxtele", "service": "dialhub"}, 1.0)]
    assert store.put == [(Suppression(phone=PHONE, reason="opt_out on a call", source="nxtele", created_at=NOW), True)]


def test_an_outcome_that_finds_the_number_suppressed_for_good_already_counts_nothing(printed_metrics: Any) -> None:
    store = _SuppressionStore(keeps_existing=True)
    assert suppress_after_outcome(_do_not_call(disposition=Disposition.DO_NOT_CALL), store, NOW) is False
    assert printed_metrics() == []
    assert [item.reason for item, _ in store.put] == ["do_not_call on a call"]
    assert suppress_after_outcome(_do_not_call(contact_id="gone"), store, NOW) is False
    assert len(store.put) == 1 and printed_metrics() == []


# ------------------------------------------------------------------ batches held with their campaign


class _HoldStore:
    def __init__(self, refuse: Iterable[str] = ()) -> None:
        self.refuse = set(refuse)
        self.requeued: list[str] = []
        self.cancelled: list[tuple[str, frozenset[DialState]]] = []
        self.due: list[tuple[str, dt.date]] = []

    def requeue_contact(self, campaign_id: str, contact_id: str, now: dt.datetime) -> bool:
        self.requeued.append(contact_id)
        return contact_id not in self.refuse

    def move_contact(
        self, campaign_id: str, contact_id: str, to: DialState, *, allowed_from: Iterable[DialState], now: dt.datetime
    ) -> bool:
        assert to is DialState.CANCELLED
        self.cancelled.append((contact_id, frozenset(allowed_from)))
        return contact_id not in self.refuse

    def mark_campaign_due(self, campaign: Campaign, dial_date: dt.date) -> None:
        self.due.append((campaign.campaign_id, dial_date))


def _campaign(status: CampaignStatus) -> Campaign:
    return Campaign(
        campaign_id="cmp",
        name="n",
        vendor="blu",
        dial_date=dt.date(2026, 11, 25),
        timezone=MANILA,
        status=status,
        created_at=NOW,
    )


def _batch_contacts() -> list[Contact]:
    states = [
        DialState.SUBMITTED,
        DialState.QUEUED,
        DialState.SUBMITTING,
        DialState.PLANNED,
        DialState.FAILED,
        DialState.QUEUED,
    ]
    return [_contact(f"c{index}", state=state) for index, state in enumerate(states)]


def test_a_paused_campaigns_batch_requeues_every_unsent_contact_after_any_sent_one() -> None:
    store = _HoldStore(refuse={"c5"})  # moved on meanwhile: not counted
    assert _hold(_campaign(CampaignStatus.PAUSED), _batch_contacts(), store, NOW) == 2
    assert store.requeued == ["c1", "c3", "c5"]
    assert store.cancelled == []
    assert store.due == [("cmp", dt.date(2026, 11, 25))]


def test_a_cancelled_campaigns_batch_cancels_every_unsent_contact_and_is_not_due_again() -> None:
    store = _HoldStore()
    assert _hold(_campaign(CampaignStatus.CANCELLED), _batch_contacts(), store, NOW) == 3
    unsent = frozenset({DialState.QUEUED, DialState.PLANNED})
    assert store.cancelled == [("c1", unsent), ("c3", unsent), ("c5", unsent)]
    assert store.requeued == [] and store.due == []


def test_a_paused_batch_with_nothing_left_to_hold_does_not_mark_the_campaign_due() -> None:
    store = _HoldStore(refuse={"c1", "c3", "c5"})
    assert _hold(_campaign(CampaignStatus.PAUSED), _batch_contacts(), store, NOW) == 0
    assert store.due == []


# ------------------------------------------------------------------ planning


def _cut(contacts: list[Contact], limit: int = 5_000) -> list[list[str]]:
    campaign = _campaign(CampaignStatus.ACTIVE)
    batches = _Batches(campaign, {campaign.vendor: limit}, dt.date(2026, 11, 25)).cut_from([contacts])
    return [batch.contact_ids for batch in batches]


def test_ids_filling_the_message_budget_exactly_still_go_in_one_batch() -> None:
    # Each id costs its length plus three characters of JSON: 1,000 ids of 197 characters fill the budget exactly.
    ids = [f"{index:04d}".ljust(197, "x") for index in range(1_000)]
    assert sum(len(cid) + 3 for cid in ids) == MESSAGE_ID_BUDGET
    assert _cut([_contact(cid) for cid in ids]) == [ids]
    longer = [*ids[:-1], ids[-1] + "y"]
    assert _cut([_contact(cid) for cid in longer]) == [longer[:-1], longer[-1:]]


def test_a_batch_closes_at_exactly_the_vendor_limit() -> None:
    ids = [f"c{index}" for index in range(7)]
    assert _cut([_contact(cid) for cid in ids], limit=3) == [ids[:3], ids[3:6], ids[6:]]
    assert _cut([_contact(cid) for cid in ids[:3]], limit=3) == [ids[:3]]
    assert _cut([], limit=3) == []


def test_a_batch_id_names_campaign_and_day_and_changes_only_with_the_attempts_it_carries() -> None:
    day = dt.date(2026, 11, 25)
    one = batch_id("cmp", day, ["c1#1", "c2#1"])
    assert re.fullmatch(r"cmp:2026-11-25:[0-9a-f]{16}", one)
    assert batch_id("cmp", day, ["c2#1", "c1#1"]) == one  # the same contacts in another order: replanned
    assert batch_id("cmp", day, ["c1#1", "c2#2"]) != one  # a redial of one of them: a new batch
    assert batch_id("cmp", day, ["c1#1"]) != one
    campaign = _campaign(CampaignStatus.ACTIVE)
    redial = _Batches(campaign, {campaign.vendor: 10}, day).cut_from([[_contact("c1", attempt=2), _contact("c2")]])
    assert [batch.batch_id for batch in redial] == [batch_id("cmp", day, ["c1#2", "c2#1"])]


def test_a_campaigns_today_is_the_date_in_its_own_time_zone() -> None:
    late_utc = _utc(2026, 11, 25, 12)
    ahead = _campaign(CampaignStatus.ACTIVE).model_copy(update={"timezone": "Pacific/Kiritimati"})
    behind = _campaign(CampaignStatus.ACTIVE).model_copy(update={"timezone": "Pacific/Pago_Pago"})
    assert campaign_today(ahead, late_utc) == dt.date(2026, 11, 26)
    assert campaign_today(behind, late_utc) == dt.date(2026, 11, 25)
    assert campaign_today(behind, _utc(2026, 11, 25, 10, 59)) == dt.date(2026, 11, 24)


def test_plan_summaries_add_up_field_by_field() -> None:
    total = PlanSummary(campaigns=1, batches=2, contacts=3, held=4, unfinished=5)
    total += PlanSummary(campaigns=10, batches=20, contacts=30, held=40, unfinished=50)
    assert total == PlanSummary(campaigns=11, batches=22, contacts=33, held=44, unfinished=55)

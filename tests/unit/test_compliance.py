"""Window and cap arithmetic: across DST changes, zone boundaries and numbers spanning several zones."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from dialhub.compliance import (
    FrequencyCap,
    PastCall,
    Policy,
    Redial,
    RedialRule,
    WeeklyWindow,
    allowed_intervals,
    capped_until,
    clearance,
    narrower_window,
    next_allowed,
    preset,
    recipient_zones,
    redial_plan,
    vendor_window,
)
from dialhub.dispositions import Disposition
from dialhub.models import CallingWindow

UTC = dt.UTC
NEW_YORK = "America/New_York"
REG_F = preset("us-regulation-f")


def _utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def _local(moment: dt.datetime, zone: str) -> dt.datetime:
    return moment.astimezone(ZoneInfo(zone))


def test_zones_come_from_the_number_unless_the_contact_names_one() -> None:
    assert recipient_zones("+639171234567") == ["Asia/Manila"]
    assert recipient_zones("+12125550123") == [NEW_YORK]
    assert recipient_zones("+12125550123", explicit="America/Chicago") == ["America/Chicago"]
    assert len(recipient_zones("+61412345678")) > 3  # an Australian mobile may be anywhere in Australia


def test_regulation_f_window_is_eight_to_nine_in_the_consumers_time() -> None:
    # 12:30 UTC on 2026-11-25 is 07:30 in New York: wait until 08:00 local (13:00 UTC).
    begin, end = next_allowed(REG_F, [NEW_YORK], _utc(2026, 11, 25, 12, 30))
    assert begin == _utc(2026, 11, 25, 13, 0) and end == _utc(2026, 11, 26, 2, 0)
    assert clearance(REG_F, [NEW_YORK], [], _utc(2026, 11, 25, 12, 30)).reason == "outside_window"
    assert clearance(REG_F, [NEW_YORK], [], _utc(2026, 11, 25, 15, 0)).allowed


def test_window_follows_the_wall_clock_across_both_dst_changes() -> None:
    # Spring forward (2026-03-08) and fall back (2026-11-01) in New York: 08:00 local each day.
    for day, offset in ((7, 5), (8, 4), (9, 4)):
        begin, _ = next_allowed(REG_F, [NEW_YORK], _utc(2026, 3, day, 6, 0))
        assert begin == _utc(2026, 3, day, 8 + offset, 0)
    for day, offset in ((31, 4), (1, 5), (2, 5)):
        month = 10 if day == 31 else 11
        begin, _ = next_allowed(REG_F, [NEW_YORK], _utc(2026, month, day, 6, 0))
        assert begin == _utc(2026, month, day, 8 + offset, 0)


def test_a_window_edge_inside_the_spring_forward_gap_moves_to_the_end_of_the_gap() -> None:
    policy = Policy(name="night", windows=[WeeklyWindow(weekdays=[7], start=dt.time(2, 30), end=dt.time(5))])
    begin, end = next_allowed(policy, [NEW_YORK], _utc(2026, 3, 8, 0, 0))
    assert _local(begin, NEW_YORK).time() == dt.time(3)  # 02:30 does not exist that night: clocks go 01:59 -> 03:00
    assert _local(end, NEW_YORK).time() == dt.time(5)
    early = Policy(name="early", windows=[WeeklyWindow(weekdays=[7], start=dt.time(1), end=dt.time(2, 30))])
    begin, end = next_allowed(early, [NEW_YORK], _utc(2026, 3, 8, 0, 0))
    assert (_local(begin, NEW_YORK).time(), _local(end, NEW_YORK).time()) == (dt.time(1), dt.time(3))
    assert end - begin == dt.timedelta(hours=1)  # 01:00-02:00 EST: the hour that exists
    inside = Policy(name="gap", windows=[WeeklyWindow(weekdays=[7], start=dt.time(2, 10), end=dt.time(2, 40))])
    begin, _ = next_allowed(inside, [NEW_YORK], _utc(2026, 3, 8, 0, 0))
    assert begin.date() == dt.date(2026, 3, 15)  # wholly inside the gap: no window that Sunday


def test_several_zones_allow_only_the_hours_common_to_all() -> None:
    zones = ["America/New_York", "America/Los_Angeles"]
    begin, end = next_allowed(REG_F, zones, _utc(2026, 11, 25, 12, 0))
    assert _local(begin, "America/Los_Angeles").time() == dt.time(8)  # the later start
    assert _local(end, NEW_YORK).time() == dt.time(21)  # the earlier end
    # New York and Manila are 13 hours apart: two 11-hour windows (09:00-20:00) have nothing in common.
    strict, far_apart = preset("strict-default"), [NEW_YORK, "Asia/Manila"]
    assert next_allowed(strict, far_apart, _utc(2026, 11, 25)) is None
    assert clearance(strict, far_apart, [], _utc(2026, 11, 25)).reason == "no_common_window"


def test_restricted_dates_are_skipped_in_the_recipients_calendar() -> None:
    policy = REG_F.model_copy(update={"restricted_dates": [dt.date(2026, 11, 26)]})  # Thanksgiving
    begin, _ = next_allowed(policy, [NEW_YORK], _utc(2026, 11, 26, 15, 0))
    assert _local(begin, NEW_YORK) == dt.datetime(2026, 11, 27, 8, tzinfo=ZoneInfo(NEW_YORK))


def test_frequency_cap_counts_a_rolling_period_and_says_until_when() -> None:
    now = _utc(2026, 11, 25, 15)
    calls = [PastCall(now - dt.timedelta(days=d), conversation=False) for d in (6, 5, 4, 3, 2, 1, 0.5)]
    assert capped_until(REG_F, calls, now) == now - dt.timedelta(days=6) + dt.timedelta(days=7)
    assert capped_until(REG_F, calls[1:], now) is None  # six calls: one more is allowed
    verdict = clearance(REG_F, [NEW_YORK], calls, now)
    assert not verdict.allowed and verdict.reason == "capped" and verdict.not_before is not None
    assert verdict.not_before >= now + dt.timedelta(days=1)


def test_a_conversation_keeps_the_line_quiet_for_the_policys_gap() -> None:
    now = _utc(2026, 11, 25, 15)
    talked = [PastCall(now - dt.timedelta(days=2), conversation=True)]
    assert capped_until(REG_F, talked, now) == now + dt.timedelta(days=5)
    assert capped_until(preset("korea-debt-collection"), talked, now) is None


def test_redial_rules_stop_or_schedule_the_next_attempt() -> None:
    policy = preset("strict-default")
    ended = _utc(2026, 11, 25, 3)
    assert redial_plan(policy, Disposition.NOT_CONNECTED, ended) == Redial(ended + dt.timedelta(hours=4), 3)
    assert redial_plan(policy, Disposition.HUNG_UP, ended) == Redial(ended + dt.timedelta(days=1), 2)
    assert redial_plan(policy, Disposition.PROMISE_TO_PAY, ended) is None
    assert redial_plan(policy, Disposition.REFUSED_TO_PAY, ended) is None
    assert redial_plan(policy, Disposition.WRONG_PERSON, ended) is None
    assert redial_plan(policy, Disposition.UNKNOWN, ended) is None  # not listed: not redialled
    once = policy.model_copy(update={"redial": {Disposition.NOT_CONNECTED: RedialRule(max_attempts=1)}})
    assert redial_plan(once, Disposition.NOT_CONNECTED, ended) is None  # one attempt in all: nothing to redial


_ZONES = st.sampled_from(
    [
        "America/New_York",
        "America/Los_Angeles",
        "Europe/London",
        "Australia/Lord_Howe",
        "Asia/Seoul",
        "Asia/Kolkata",
        "Pacific/Chatham",
        "America/St_Johns",
        "Asia/Manila",
    ]
)
_MOMENTS = st.datetimes(min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2027, 12, 31), timezones=st.just(UTC))
_TIMES = st.times().map(lambda t: t.replace(second=0, microsecond=0))


@st.composite
def _policies(draw: st.DrawFn) -> Policy:
    windows = []
    for _ in range(draw(st.integers(1, 3))):
        start, end = sorted(draw(st.lists(_TIMES, min_size=2, max_size=2, unique=True)))
        days = draw(st.lists(st.integers(1, 7), min_size=1, max_size=7, unique=True))
        windows.append(WeeklyWindow(weekdays=days, start=start, end=end))
    cap = draw(st.none() | st.builds(FrequencyCap, attempts=st.integers(1, 5), days=st.integers(1, 10)))
    return Policy(name="p", windows=windows, frequency_cap=cap)


def _inside_some_window(policy: Policy, moment: dt.datetime, zone: str) -> bool:
    local = moment.astimezone(ZoneInfo(zone))
    return any(
        local.isoweekday() in window.weekdays and window.start <= local.time().replace(tzinfo=None) < window.end
        for window in policy.windows
    )


@settings(max_examples=150, deadline=None)
@given(_policies(), st.lists(_ZONES, min_size=1, max_size=3, unique=True), _MOMENTS)
def test_every_allowed_moment_is_inside_a_window_in_every_zone(
    policy: Policy, zones: list[str], now: dt.datetime
) -> None:
    for begin, end in allowed_intervals(policy, zones, now, days=3):
        assert now <= begin < end
        for probe in (begin, begin + (end - begin) / 2, end - dt.timedelta(microseconds=1)):
            for zone in zones:
                # Wall-clock checks are exact except across a DST jump inside the window itself.
                offsets = {ZoneInfo(zone).utcoffset(moment.replace(tzinfo=None)) for moment in (begin, end)}
                if len(offsets) == 1:
                    assert _inside_some_window(policy, probe, zone), (probe, zone)


@settings(max_examples=150, deadline=None)
@given(_policies(), _ZONES, _MOMENTS)
def test_a_moment_inside_a_window_is_allowed_now(policy: Policy, zone: str, now: dt.datetime) -> None:
    verdict = clearance(policy.model_copy(update={"frequency_cap": None}), [zone], [], now)
    local = now.astimezone(ZoneInfo(zone))
    fold_free = ZoneInfo(zone).utcoffset(local.replace(tzinfo=None, fold=0)) == ZoneInfo(zone).utcoffset(
        local.replace(tzinfo=None, fold=1)
    )
    if fold_free and _inside_some_window(policy, now, zone):
        assert verdict.allowed
    if verdict.allowed:
        assert verdict.window_end is not None and verdict.window_end > now


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 6), st.integers(1, 10), st.lists(st.floats(0, 20 * 24, allow_nan=False), max_size=12), _MOMENTS)
def test_the_cap_never_lets_more_than_n_calls_into_any_period(
    attempts: int, days: int, ages_hours: list[float], now: dt.datetime
) -> None:
    policy = Policy(name="p", windows=REG_F.windows, frequency_cap=FrequencyCap(attempts=attempts, days=days))
    calls = [PastCall(now - dt.timedelta(hours=age), conversation=False) for age in ages_hours]
    until = capped_until(policy, calls, now)
    next_call = until or now
    in_period = [c for c in calls if c.at > next_call - dt.timedelta(days=days)]
    assert len(in_period) < attempts  # one more call at `next_call` stays within the cap
    if until is not None:
        earlier = until - dt.timedelta(seconds=1)
        assert len([c for c in calls if c.at > earlier - dt.timedelta(days=days)]) >= attempts


def test_the_vendor_window_never_reaches_outside_the_policy() -> None:
    policy = Policy(
        name="p",
        windows=[
            WeeklyWindow(weekdays=[1, 2, 3, 4, 5], start=dt.time(8), end=dt.time(20)),
            WeeklyWindow(weekdays=[6], start=dt.time(10), end=dt.time(14)),
        ],
    )
    window = vendor_window(policy)
    assert (window.start, window.end, window.weekdays) == (dt.time(10), dt.time(14), [1, 2, 3, 4, 5, 6])
    apart = Policy(
        name="q",
        windows=[
            WeeklyWindow(weekdays=[1], start=dt.time(8), end=dt.time(9)),
            WeeklyWindow(weekdays=[2], start=dt.time(18), end=dt.time(19)),
        ],
    )
    assert vendor_window(apart) == CallingWindow(start=dt.time(8), end=dt.time(9), weekdays=[1])
    assert narrower_window(CallingWindow(start=dt.time(9), end=dt.time(12), weekdays=[1, 7]), window) == CallingWindow(
        start=dt.time(10), end=dt.time(12), weekdays=[1]
    )
    assert narrower_window(CallingWindow(start=dt.time(15), end=dt.time(16)), window) is None

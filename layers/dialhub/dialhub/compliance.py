"""Who may be called when: calling windows, restricted dates, frequency caps and redial rules, as data.

A `Policy` is plain data (stored, managed over the API, presets below); this module only does the
arithmetic. Times are evaluated in the recipient's own time zone(s): when a number may be in several zones,
a moment is allowed only if it is allowed in every one of them (the most restrictive reading).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from dialhub.dispositions import Disposition
from dialhub.models import CallingWindow, LocalTime, WireModel

POLICY_NAME_PATTERN = r"^[a-z0-9][a-z0-9-]{0,63}$"
LOOKAHEAD_DAYS = 14  # how far ahead the next allowed moment is searched for
Interval = tuple[dt.datetime, dt.datetime]  # [start, end) in UTC


class WeeklyWindow(WireModel):
    """Calls allowed on these ISO weekdays between start and end, recipient-local time."""

    weekdays: list[int] = Field(min_length=1, max_length=7, description="1 = Monday ... 7 = Sunday")
    start: LocalTime
    end: LocalTime

    @model_validator(mode="after")
    def _coherent(self) -> WeeklyWindow:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        if any(day not in range(1, 8) for day in self.weekdays) or len(set(self.weekdays)) != len(self.weekdays):
            raise ValueError("weekdays must be distinct numbers from 1 (Monday) to 7 (Sunday)")
        return self


class FrequencyCap(WireModel):
    attempts: int = Field(ge=1, le=1000, description="At most this many calls...")
    days: int = Field(ge=1, le=366, description="...in any rolling period of this many days")


class RedialRule(WireModel):
    """What follows a call that ended with a disposition: stop, or try again after a pause."""

    stop: bool = False
    retry_after_minutes: int = Field(default=240, ge=1, le=60 * 24 * 30)
    max_attempts: int = Field(default=3, ge=1, le=50, description="Attempts in all, the first included")


class Policy(WireModel):
    name: str = Field(pattern=POLICY_NAME_PATTERN)
    description: str = Field(default="", max_length=500)
    windows: list[WeeklyWindow] = Field(min_length=1, max_length=50)
    restricted_dates: list[dt.date] = Field(
        default_factory=list, max_length=400, description="Recipient-local dates with no calls (holidays)"
    )
    frequency_cap: FrequencyCap | None = None
    min_gap_after_conversation_hours: float = Field(default=0, ge=0, le=24 * 60)
    redial: dict[Disposition, RedialRule] = Field(
        default_factory=dict, description="Dispositions not listed are not redialled"
    )

    @field_validator("restricted_dates")
    @classmethod
    def _sorted_dates(cls, value: list[dt.date]) -> list[dt.date]:
        return sorted(set(value))


# ------------------------------------------------------------------ where the recipient is


def recipient_zones(phone: str, explicit: str | None = None) -> list[str]:
    """The recipient's possible time zones: the contact's own, else those of the number's region."""
    if explicit:
        return [explicit]
    import phonenumbers  # here, not at import: the callback path imports this module but never reads a number
    from phonenumbers import timezone as phone_timezones

    try:
        zones = phone_timezones.time_zones_for_number(phonenumbers.parse(phone, None))
    except phonenumbers.NumberParseException:
        return []
    valid = []
    for name in zones:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            continue
        valid.append(name)
    return valid


# ------------------------------------------------------------------ windows


def _local_instant(day: dt.date, at: dt.time, zone: ZoneInfo) -> dt.datetime:
    """The UTC instant of a wall-clock time: a repeated time is its first occurrence (PEP 495 fold=0), and a
    time skipped by a DST jump is the jump itself, so a window edge in the gap moves to where the gap ends
    and a window wholly inside the gap is empty that day."""
    wall = dt.datetime.combine(day, at.replace(fold=0))
    before = wall.replace(tzinfo=zone).astimezone(dt.UTC)  # read with the offset before any jump
    if before.astimezone(zone).replace(tzinfo=None) == wall:
        return before
    low = wall.replace(tzinfo=zone, fold=1).astimezone(dt.UTC)  # read with the offset after the jump: earlier
    high, after = before, before.astimezone(zone).utcoffset()
    while high - low > dt.timedelta(microseconds=1):  # the jump lies between the two readings
        middle = low + (high - low) / 2
        if middle.astimezone(zone).utcoffset() == after:
            high = middle
        else:
            low = middle
    return high.replace(microsecond=0)  # within a microsecond after the jump, which falls on a whole second


def _zone_intervals(policy: Policy, zone: ZoneInfo, start: dt.datetime, days: int) -> list[Interval]:
    first_day = start.astimezone(zone).date() - dt.timedelta(days=1)
    restricted = set(policy.restricted_dates)
    intervals: list[Interval] = []
    for offset in range(days + 2):
        day = first_day + dt.timedelta(days=offset)
        if day in restricted:
            continue
        for window in policy.windows:
            if day.isoweekday() in window.weekdays:
                begin, end = _local_instant(day, window.start, zone), _local_instant(day, window.end, zone)
                if end > begin:
                    intervals.append((begin, end))
    return _merge(intervals)


def _merge(intervals: Iterable[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for begin, end in sorted(intervals):
        if merged and begin <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((begin, end))
    return merged


def _intersect(left: Sequence[Interval], right: Sequence[Interval]) -> list[Interval]:
    result: list[Interval] = []
    i = j = 0
    while i < len(left) and j < len(right):
        begin, end = max(left[i][0], right[j][0]), min(left[i][1], right[j][1])
        if begin < end:
            result.append((begin, end))
        if left[i][1] < right[j][1]:
            i += 1
        else:
            j += 1
    return result


def allowed_intervals(
    policy: Policy, zones: Sequence[str], start: dt.datetime, days: int = LOOKAHEAD_DAYS
) -> list[Interval]:
    """The UTC intervals from about `start` on in which calling is allowed in every one of the zones."""
    combined: list[Interval] | None = None
    for name in zones:
        intervals = _zone_intervals(policy, ZoneInfo(name), start, days)
        combined = intervals if combined is None else _intersect(combined, intervals)
    return [(max(begin, start), end) for begin, end in combined or [] if end > start]


def next_allowed(policy: Policy, zones: Sequence[str], at_or_after: dt.datetime) -> Interval | None:
    """The first allowed interval that contains or follows the moment, or None within the lookahead."""
    intervals = allowed_intervals(policy, zones, at_or_after)
    return intervals[0] if intervals else None


def vendor_window(policy: Policy) -> CallingWindow:
    """The one daily window a vendor is told to dial in: every allowed weekday, only the hours allowed on all
    of them, so the vendor cannot dial outside the policy even where the policy is wider."""
    start = max(window.start for window in policy.windows)
    end = min(window.end for window in policy.windows)
    if start >= end:  # windows that share no hours: the first one alone, on its own days
        first = policy.windows[0]
        return CallingWindow(start=first.start, end=first.end, weekdays=first.weekdays)
    days = sorted({day for window in policy.windows for day in window.weekdays})
    return CallingWindow(start=start, end=end, weekdays=days)


def narrower_window(one: CallingWindow, other: CallingWindow) -> CallingWindow | None:
    """The hours and days two windows share, or None when they share none."""
    start, end = max(one.start, other.start), min(one.end, other.end)
    days = sorted(set(one.weekdays) & set(other.weekdays))
    return CallingWindow(start=start, end=end, weekdays=days) if start < end and days else None


# ------------------------------------------------------------------ attempts


@dataclass(frozen=True)
class PastCall:
    """One earlier call to the number, from any campaign or vendor."""

    at: dt.datetime
    conversation: bool  # someone answered and talked


def capped_until(policy: Policy, calls: Sequence[PastCall], now: dt.datetime) -> dt.datetime | None:
    """When the frequency cap or the gap after a conversation lets the next call happen, if later than now."""
    blocks: list[dt.datetime] = []
    cap = policy.frequency_cap
    if cap is not None:
        period = dt.timedelta(days=cap.days)
        recent = sorted(call.at for call in calls if call.at > now - period)
        if len(recent) >= cap.attempts:
            # The oldest call that must leave the rolling period before one more fits.
            blocks.append(recent[len(recent) - cap.attempts] + period)
    if policy.min_gap_after_conversation_hours:
        gap = dt.timedelta(hours=policy.min_gap_after_conversation_hours)
        talks = [call.at for call in calls if call.conversation]
        if talks and max(talks) + gap > now:
            blocks.append(max(talks) + gap)
    later = [moment for moment in blocks if moment > now]
    return max(later) if later else None


@dataclass(frozen=True)
class Redial:
    """The policy's answer to a closing call: call again from `at`, unless `max_attempts` are made already."""

    at: dt.datetime
    max_attempts: int


def redial_plan(policy: Policy, disposition: Disposition, ended_at: dt.datetime) -> Redial | None:
    """The redial a disposition asks for, or None to stop (the attempt count is checked where it is kept)."""
    rule = policy.redial.get(disposition)
    if rule is None or rule.stop or rule.max_attempts <= 1:
        return None
    return Redial(ended_at + dt.timedelta(minutes=rule.retry_after_minutes), rule.max_attempts)


@dataclass(frozen=True)
class Clearance:
    """Whether a contact may be sent now, and if not, why and from when."""

    allowed: bool
    reason: str | None = None  # outside_window, capped, no_common_window, restricted
    not_before: dt.datetime | None = None
    window_end: dt.datetime | None = None  # while allowed: when the current window closes


def clearance(policy: Policy, zones: Sequence[str], calls: Sequence[PastCall], now: dt.datetime) -> Clearance:
    """One decision for one contact now: capped, outside every window, or allowed until the window ends."""
    if not zones:
        return Clearance(False, "no_time_zone")
    earliest = now
    reason = "outside_window"
    if (blocked := capped_until(policy, calls, now)) is not None:
        earliest, reason = blocked, "capped"
    window = next_allowed(policy, zones, earliest)
    if window is None:
        return Clearance(False, "no_common_window")
    begin, end = window
    if reason == "capped":
        return Clearance(False, reason, begin)
    if begin <= now:
        return Clearance(True, window_end=end)
    return Clearance(False, reason, begin)


# ------------------------------------------------------------------ presets


def _days(*weekdays: int) -> list[int]:
    return list(weekdays)


PRESET_NAMES = ("strict-default", "us-regulation-f", "korea-debt-collection")


def preset(name: str) -> Policy | None:
    """A shipped, read-only policy by name; None for any other name."""
    return _presets().get(name)


@cache
def _presets() -> dict[str, Policy]:
    """Built on first use, not at import: validating them costs every function's cold start (`make bench`)."""
    every_day = _days(1, 2, 3, 4, 5, 6, 7)
    stop = RedialRule(stop=True)
    stop_on = (
        Disposition.PROMISE_TO_PAY,
        Disposition.PROMISE_TO_PAY_NO_DATE,
        Disposition.ALREADY_PAID,
        Disposition.REFUSED_TO_PAY,
        Disposition.WRONG_PERSON,
        Disposition.COMPLAINT,
        Disposition.OPT_OUT,
        Disposition.DO_NOT_CALL,
        Disposition.NOT_INTERESTED,
        Disposition.INTERESTED,
    )
    retry_unreached = {
        Disposition.NOT_CONNECTED: RedialRule(retry_after_minutes=240, max_attempts=3),
        Disposition.VOICEMAIL: RedialRule(retry_after_minutes=240, max_attempts=3),
        Disposition.HUNG_UP: RedialRule(retry_after_minutes=24 * 60, max_attempts=2),
    }
    redial = {**retry_unreached, **dict.fromkeys(stop_on, stop)}
    presets = (
        Policy(
            name="strict-default",
            description="Conservative default: Mon-Sat 09:00-20:00 recipient time, 3 calls per 7 days, "
            "24 h quiet after a conversation",
            windows=[WeeklyWindow(weekdays=_days(1, 2, 3, 4, 5, 6), start=dt.time(9), end=dt.time(20))],
            frequency_cap=FrequencyCap(attempts=3, days=7),
            min_gap_after_conversation_hours=24,
            redial=redial,
        ),
        Policy(
            name="us-regulation-f",
            description="US Regulation F (12 CFR 1006.14) safe harbour: 08:00-21:00 consumer time, at most "
            "7 calls in 7 days per debt, none for 7 days after a conversation",
            windows=[WeeklyWindow(weekdays=every_day, start=dt.time(8), end=dt.time(21))],
            frequency_cap=FrequencyCap(attempts=7, days=7),
            min_gap_after_conversation_hours=7 * 24,
            redial=redial,
        ),
        Policy(
            name="korea-debt-collection",
            description="Korea: no contact 21:00-08:00; weekly contact limit (set to 7 per 7 days here; "
            "confirm the limit that applies to your licence)",
            windows=[WeeklyWindow(weekdays=every_day, start=dt.time(8), end=dt.time(21))],
            frequency_cap=FrequencyCap(attempts=7, days=7),
            redial=redial,
        ),
    )
    assert tuple(policy.name for policy in presets) == PRESET_NAMES
    return {policy.name: policy for policy in presets}

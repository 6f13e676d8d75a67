"""A planning run's view of the vendors' daily caps: what it takes from the shared count, what it allows, and
what it gives back at its end."""

from __future__ import annotations

import datetime as dt
from typing import Any

from dialhub.capacity import DailyCaps
from dialhub.vendors import StaticAdapters

DAY = dt.date(2026, 11, 25)


class _Vendor:
    def today(self) -> dt.date:
        return DAY

    def day_starts(self, local_date: dt.date) -> dt.datetime:
        return dt.datetime.combine(local_date, dt.time(), dt.UTC)


class _Counts:
    """The shared count per vendor and day, as the store keeps it, with every request made of it."""

    def __init__(self) -> None:
        self.taken: dict[tuple[str, dt.date], int] = {}
        self.requests: list[tuple[Any, ...]] = []

    def take_capacity(self, vendor: str, local_date: dt.date, wanted: int, cap: int) -> int:
        self.requests.append(("take", vendor, local_date, wanted, cap))
        got = max(0, min(wanted, cap - self.taken.get((vendor, local_date), 0)))
        self.taken[vendor, local_date] = self.taken.get((vendor, local_date), 0) + got
        return got

    def give_back_capacity(self, vendor: str, local_date: dt.date, unused: int) -> None:
        self.requests.append(("give back", vendor, local_date, unused))
        self.taken[vendor, local_date] -= unused


def _caps(counts: _Counts, terms: dict[str, dict[str, Any]], block: int = 4) -> DailyCaps:
    adapters = StaticAdapters({"blu": _Vendor(), "nxtele": _Vendor()}, terms)  # type: ignore[dict-item]
    return DailyCaps(counts, adapters, lambda vendor: block)  # type: ignore[arg-type]


def test_a_daily_cap_of_zero_allows_nothing_and_gives_nothing_back() -> None:
    """0 is a vendor switched off for the day, not a vendor without a cap."""
    counts = _Counts()
    caps = _caps(counts, {"blu": {"dailyCap": 0}})
    assert not caps.allows("blu")
    assert caps.cap_of("blu") == 0
    caps.give_back()
    assert [request[0] for request in counts.requests] == ["take"]
    assert counts.taken == {("blu", DAY): 0}


def test_a_vendor_without_a_cap_is_always_allowed_and_never_counted() -> None:
    counts = _Counts()
    caps = _caps(counts, {"blu": {"dailyCap": "12"}, "nxtele": {"dailyCap": -1}})
    assert all(caps.allows("blu") and caps.allows("nxtele") for _ in range(10))
    caps.give_back()
    assert counts.requests == []


def test_a_cap_is_taken_a_block_at_a_time_and_only_what_was_not_allowed_is_given_back() -> None:
    counts = _Counts()
    caps = _caps(counts, {"blu": {"dailyCap": 6}, "nxtele": {"dailyCap": 8}}, block=4)
    assert [caps.allows("blu") for _ in range(7)] == [True] * 6 + [False]
    assert [caps.allows("nxtele") for _ in range(4)] == [True] * 4  # its block used up exactly
    assert caps.cap_of("blu") == 6 and caps.cap_of("nxtele") == 8
    caps.give_back()
    assert counts.requests == [
        ("take", "blu", DAY, 4, 6),
        ("take", "blu", DAY, 4, 6),
        ("take", "blu", DAY, 4, 6),
        ("take", "nxtele", DAY, 4, 8),
    ]  # blu used all it took; so did nxtele: no give-back of nothing
    assert counts.taken == {("blu", DAY): 6, ("nxtele", DAY): 4}


def test_what_a_run_took_and_did_not_allow_is_given_back_for_its_day() -> None:
    counts = _Counts()
    caps = _caps(counts, {"blu": {"dailyCap": 10}}, block=4)
    assert caps.allows("blu")
    assert caps.next_day_starts("blu") == dt.datetime(2026, 11, 26, tzinfo=dt.UTC)
    caps.give_back()
    assert counts.requests[-1] == ("give back", "blu", DAY, 3)
    assert counts.taken == {("blu", DAY): 1}

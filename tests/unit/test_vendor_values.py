"""The shared readers of what vendors send: call durations, counts and callback source addresses, at the
edges of what is believed."""

from __future__ import annotations

from typing import Any

import pytest

from dialhub.vendors.base import MAX_CALL_SECONDS, call_seconds, source_ip_allowed, vendor_count


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (0, 0),
        ("0", 0),
        (MAX_CALL_SECONDS, MAX_CALL_SECONDS),
        (str(MAX_CALL_SECONDS), MAX_CALL_SECONDS),
        (MAX_CALL_SECONDS + 1, None),
        (" 42 ", 42),
        (42.9, 42),
        ("abc", None),
        ("4 2", None),
        ("²", None),
        ("-5", None),
        (-1, None),
        (float("nan"), None),
        (True, None),
        ("9" * 5000, None),  # too many digits to be a duration, and to turn into an int at all
    ],
)
def test_a_duration_is_believed_from_zero_to_a_day(value: Any, seconds: int | None) -> None:
    assert call_seconds(value) == seconds


@pytest.mark.parametrize(
    ("value", "count"),
    [
        (0, 0),
        (7, 7),
        ("123456789", 123_456_789),  # nine digits: still a count
        ("1234567890", None),  # ten: not believed
        (" 12 ", 12),
        ("12a", None),
        (True, None),
        (3.0, None),
        (None, None),
    ],
)
def test_a_count_is_an_integer_or_up_to_nine_digits(value: Any, count: int | None) -> None:
    assert vendor_count(value) == count


def test_a_source_address_is_checked_against_networks_written_with_host_bits() -> None:
    allowlist = ["203.0.113.9/24", "2001:db8::1/64"]
    assert source_ip_allowed("203.0.113.200", allowlist)
    assert source_ip_allowed("2001:db8::abcd", allowlist)
    assert not source_ip_allowed("198.51.100.1", allowlist)
    assert not source_ip_allowed("not an address", allowlist)
    assert source_ip_allowed("198.51.100.1", [])  # no allowlist: anyone

from __future__ import annotations

import pytest

from dialhub.dispositions import TRAITS, CallStatus, Disposition
from dialhub.phones import InvalidPhone, mask_phone, national_digits, normalise_phone
from dialhub.planning import batch_id
from dialhub.settings import Settings


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("09171234567", "+639171234567"),
        ("+63 917 123 4567", "+639171234567"),
        ("(0917) 123-4567", "+639171234567"),
        ("+1 415 555 2671", "+14155552671"),
    ],
)
def test_phones_are_normalised_to_e164(raw: str, expected: str) -> None:
    assert normalise_phone(raw, "PH") == expected


@pytest.mark.parametrize("raw", ["", "12345", "hello", "+63 917", "+999 1234567"])
def test_invalid_phones_say_why(raw: str) -> None:
    with pytest.raises(InvalidPhone) as error:
        normalise_phone(raw, "PH")
    assert str(error.value)


def test_masking_keeps_only_the_last_four_digits() -> None:
    assert mask_phone("+639171234567") == "***4567"
    assert "917123" not in mask_phone("+639171234567")
    assert national_digits("+639171234567") == "09171234567"


def test_every_disposition_has_traits_and_in_flight_statuses_are_not_final() -> None:
    assert set(TRAITS) == set(Disposition)
    assert not CallStatus.IN_PROGRESS.final and CallStatus.NO_ANSWER.final
    assert TRAITS[Disposition.DO_NOT_CALL].do_not_call and TRAITS[Disposition.PROMISE_TO_PAY].terminal


def test_batch_ids_depend_on_the_contacts_not_their_order() -> None:
    import datetime as dt

    day = dt.date(2026, 11, 25)
    assert batch_id("c", day, ["a#1", "b#1"]) == batch_id("c", day, ["b#1", "a#1"]) != batch_id("c", day, ["a#1"])
    assert batch_id("c", day, ["a#1"]) != batch_id("c", day, ["a#2"])  # a redial is a new batch


def test_settings_reject_an_unknown_time_zone() -> None:
    with pytest.raises(ValueError, match="time zone"):
        Settings.from_environ({"TABLE_NAME": "t", "DEFAULT_TIMEZONE": "Mars/Base"})
    assert Settings.from_environ({"TABLE_NAME": "t", "PREDIAL_FAIL_OPEN": "true"}).predial_fail_open

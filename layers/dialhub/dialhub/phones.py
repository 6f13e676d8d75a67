"""Phone numbers in, E.164 out; and the only way a phone number may appear in a log.

phonenumbers (and its metadata) is imported where a number is parsed: storing a callback never parses one,
and every cold start of the webhooks function would pay for it (`make bench`).
"""

from __future__ import annotations

import re

_PARSE_PROBLEMS = {  # phonenumbers.NumberParseException error types, by name
    "INVALID_COUNTRY_CODE": "unknown country code",
    "NOT_A_NUMBER": "not a phone number",
    "TOO_SHORT_AFTER_IDD": "too short after the international prefix",
    "TOO_SHORT_NSN": "too short",
    "TOO_LONG": "too long",
}


class InvalidPhone(ValueError):
    """The text is not a dialable phone number; the message says why."""


def normalise_phone(raw: str, default_region: str) -> str:
    """E.164 form of a number written locally (in default_region) or internationally."""
    import phonenumbers

    text = (raw or "").strip()
    if not text:
        raise InvalidPhone("phone is empty")
    try:
        number = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException as exc:
        problem = next(
            (
                reason
                for name, reason in _PARSE_PROBLEMS.items()
                if getattr(phonenumbers.NumberParseException, name) == exc.error_type
            ),
            "not a phone number",
        )
        raise InvalidPhone(problem) from exc
    if not phonenumbers.is_possible_number(number):
        raise InvalidPhone("wrong length for its country")
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone("not a valid number in its numbering plan")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def national_digits(e164: str) -> str:
    """The number as dialled inside its country, digits only (e.g. 09171234567 in the Philippines)."""
    import phonenumbers

    number = phonenumbers.parse(e164, None)
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return "".join(ch for ch in national if ch.isdigit())


def mask_phone(phone: str | None) -> str:
    """Enough of a number to recognise it in a log, never enough to call it."""
    if not phone:
        return ""
    digits = "".join(ch for ch in phone if ch.isdigit())
    if len(digits) <= 4:
        return "***"
    return f"***{digits[-4:]}"


_LONG_DIGITS = re.compile(r"\+?\d[\d ()-]{5,}\d")


def mask_numbers_in(text: str) -> str:
    """A vendor's message with any phone number in it masked: vendors echo the number they refused."""
    return _LONG_DIGITS.sub(lambda found: mask_phone(found.group()), text)

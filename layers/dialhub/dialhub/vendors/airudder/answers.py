"""What AIRudder's create-task answer says about each number sent: which it refused, and which the answer
leaves in doubt (ASSUMPTION A6 of the package docstring).

`detail_error_list` entries are matched to our numbers by `comments` (our "<campaignId>|<contactId>"), then by
a phone the entry carries (both sides in E.164), and only when an entry has neither by the index in its
`field` ("Details[i]"). The document does not say where that index counts from, so an index names two
candidates (row i counted from 0, row i-1 counted from 1) and both are doubted rather than one guessed. An
entry that names no number of the chunk may be about any of them, and counts (success/total) that disagree
with the error list leave the numbers they cannot account for in doubt. Nothing here is logged with a phone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from dialhub.phones import InvalidPhone, normalise_phone
from dialhub.vendors.airudder.codes import VENDOR, mask_digits
from dialhub.vendors.airudder.wire import Fields

_INDEX = re.compile(r"\[\s*(\d{1,6})\s*\]")
_PHONE_FIELDS = ("mobile", "phone", "callee", "phonenumber", "number")


@dataclass(frozen=True)
class SentNumber:
    """One Details row as sent: whose it is, what travelled in Comments, and its E.164 number."""

    contact_id: str
    comments: str
    phone: str


@dataclass
class CreateReading:
    """The answer's verdict per contact: `refused` (with the reason to store) by the answer's own naming,
    `doubts` (what disagreed, and the contacts it may concern) for everything it leaves open."""

    refused: dict[str, str] = field(default_factory=dict)
    doubts: list[tuple[str, set[str]]] = field(default_factory=list)


def read_create_answer(data: Any, sent: list[SentNumber]) -> CreateReading:
    """The refusals and doubts in a create answer's `data` (its error list, then its counts)."""
    data = data if isinstance(data, dict) else {}
    reading, refused_rows = _read_error_list(data.get("detail_error_list"), sent)
    _check_counts(Fields(data), sent, reading, refused_rows)
    return reading


def _read_error_list(entries: Any, sent: list[SentNumber]) -> tuple[CreateReading, int]:
    """The refusals and doubts of a detail_error_list, and how many rows it refuses (for the counts)."""
    reading = CreateReading()
    everyone = {number.contact_id for number in sent}
    if entries is None:
        return reading, 0
    if not isinstance(entries, list):
        reading.doubts.append(("detail_error_list is not a list: which numbers it refuses is unknown", everyone))
        return reading, 1
    by_comments = {number.comments: number.contact_id for number in sent}
    refused_rows: set[tuple[str, object]] = set()
    anyone: list[str] = []  # entries that name no number of the chunk: any one not refused may be theirs
    for position, entry in enumerate(entries):
        fields = Fields(entry if isinstance(entry, dict) else {})
        comments, phone = fields.text("comments", "comment"), fields.text(*_PHONE_FIELDS)
        reason = f"{VENDOR} refused the number: {mask_digits(fields.text('msg', 'message') or 'invalid')}"
        if comments is not None or phone is not None:
            named = {by_comments[comments]} if comments in by_comments else _by_phone(phone, sent)
            if len(named) == 1:
                [contact_id] = named
                reading.refused[contact_id] = reason
                refused_rows.add(("contact", contact_id))
            elif named:
                reading.doubts.append((f"error entry {position} names a phone {len(named)} numbers share", named))
                refused_rows.add(("entry", position))
            else:
                anyone.append(f"error entry {position} names no number of the chunk")
                refused_rows.add(("entry", position))
            continue
        match = _INDEX.search(fields.text("field") or "")
        index = int(match.group(1)) if match else -1
        candidates = {sent[row].contact_id for row in (index, index - 1) if 0 <= row < len(sent)}
        if not candidates:
            anyone.append(f"error entry {position} names no row of the chunk")
            refused_rows.add(("entry", position))
            continue
        reading.doubts.append(
            (
                f"error entry {position} (Details[{index}]) carries no comments, and AIRudder does not say whether "
                "it counts rows from 0 or from 1",
                candidates,
            )
        )
        refused_rows.add(("index", index))
    if anyone:
        reading.doubts.append(("; ".join(anyone), everyone - set(reading.refused)))
    return reading, len(refused_rows)


def _check_counts(fields: Fields, sent: list[SentNumber], reading: CreateReading, refused_rows: int) -> None:
    """Counts in the answer that disagree with what was sent and what its error list refuses: a total other
    than the rows sent, or a success count other than those the errors leave, puts in doubt whoever it
    cannot account for (every number not refused when it is lower, the refused ones when it is higher)."""
    everyone = {number.contact_id for number in sent}
    total = fields.number("TotalCount", "TotalNum", "Total")
    success = fields.number("SuccessCount", "SuccessNum", "Success", "SucceedCount")
    not_refused = everyone - set(reading.refused)
    if total is not None and total != len(sent):
        reading.doubts.append((f"the answer counts {total} numbers where {len(sent)} were sent", not_refused))
    if success is None:
        return
    expected = len(sent) - refused_rows
    if success < expected:
        reading.doubts.append(
            (f"the answer counts {success} numbers accepted where its error list leaves {expected}", not_refused)
        )
    elif success > expected and reading.refused:
        in_doubt = set(reading.refused)
        reading.doubts.append(
            (f"the answer counts {success} numbers accepted, more than the {expected} its error list leaves", in_doubt)
        )
        reading.refused.clear()


def _regions(phones: Iterable[str]) -> set[str]:
    """The regions of the numbers sent: a national number in an error entry is read in each of them."""
    import phonenumbers  # here: only an error entry that carries a phone needs it

    regions = set()
    for phone in phones:
        try:
            region = phonenumbers.region_code_for_number(phonenumbers.parse(phone, None))
        except phonenumbers.NumberParseException:
            continue
        if region:
            regions.add(region)
    return regions


def _by_phone(raw: str | None, sent: list[SentNumber]) -> set[str]:
    """The contacts whose number an entry's phone is, read in each region of the chunk: as E.164, as national,
    or as international digits without their "+" (phonenumbers takes the region's country code off those)."""
    if not raw:
        return set()
    text = raw.strip()
    readings = [(text, region) for region in sorted(_regions(number.phone for number in sent))]
    numbers = set()
    for candidate, region in readings:
        try:
            numbers.add(normalise_phone(candidate, region))
        except InvalidPhone:
            continue
    return {number.contact_id for number in sent if number.phone in numbers}

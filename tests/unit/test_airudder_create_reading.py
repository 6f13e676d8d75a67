"""AIRudder's create answer read entry by entry: every spelling of a field the adapter accepts, the reason and
doubt stored for each kind of entry, and error rows counted once each against the answer's counts."""

from __future__ import annotations

from typing import Any

import pytest

from dialhub.vendors.airudder.answers import SentNumber, read_create_answer

SENT = [SentNumber(f"c{row}", f"cmp|c{row}", f"+63917123450{row}") for row in range(4)]
EVERYONE = {number.contact_id for number in SENT}


@pytest.mark.parametrize("comments", ["comments", "comment", "Comment"])
@pytest.mark.parametrize("message", ["msg", "message"])
def test_each_spelling_of_comments_and_message_names_the_refused_contact_and_why(comments: str, message: str) -> None:
    reading = read_create_answer({"detail_error_list": [{comments: "cmp|c1", message: "blocked number"}]}, SENT)
    assert reading.refused == {"c1": "airudder refused the number: blocked number"}
    assert reading.doubts == []


def test_an_entry_without_a_message_is_refused_as_invalid() -> None:
    reading = read_create_answer({"detail_error_list": [{"comments": "cmp|c2"}]}, SENT)
    assert reading.refused == {"c2": "airudder refused the number: invalid"}


@pytest.mark.parametrize("name", ["TotalCount", "TotalNum", "Total"])
def test_each_spelling_of_the_total_is_checked_against_the_rows_sent(name: str) -> None:
    reading = read_create_answer({name: 3}, SENT)
    assert reading.doubts == [("the answer counts 3 numbers where 4 were sent", EVERYONE)]


@pytest.mark.parametrize("name", ["SuccessCount", "SuccessNum", "Success", "SucceedCount"])
def test_each_spelling_of_the_success_count_is_checked_against_the_error_list(name: str) -> None:
    reading = read_create_answer({name: 2}, SENT)
    assert reading.doubts == [("the answer counts 2 numbers accepted where its error list leaves 4", EVERYONE)]


def _entries(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"detail_error_list": list(entries)}


@pytest.mark.parametrize(
    ("entries", "refused_rows"),
    [
        ([{"comments": "cmp|c0"}, {"comments": "cmp|c1"}], 2),  # two contacts named
        ([{"comments": "cmp|other"}, {"comments": "cmp|another"}], 2),  # two entries naming nobody of the chunk
        ([{"field": "Details[9]"}, {"field": "Details[12]"}], 2),  # two rows outside the chunk
        ([{"field": "Details[1]"}, {"field": "Details[3]"}], 2),  # two indexes
    ],
)
def test_each_error_row_counts_once_against_the_success_count(entries: list[Any], refused_rows: int) -> None:
    agreeing = read_create_answer({**_entries(*entries), "SuccessCount": len(SENT) - refused_rows}, SENT)
    assert not [why for why, _ in agreeing.doubts if why.startswith("the answer counts")]
    short = read_create_answer({**_entries(*entries), "SuccessCount": len(SENT) - refused_rows - 1}, SENT)
    assert [why for why, _ in short.doubts if why.startswith("the answer counts")] == [
        f"the answer counts {len(SENT) - refused_rows - 1} numbers accepted where its error list leaves "
        f"{len(SENT) - refused_rows}"
    ]


def test_two_entries_each_naming_a_phone_two_contacts_share_count_as_two_rows() -> None:
    shared = [*SENT, SentNumber("twin", "cmp|twin", SENT[0].phone), SentNumber("twin2", "cmp|twin2", SENT[1].phone)]
    entries = _entries({"phone": SENT[0].phone}, {"phone": SENT[1].phone})
    assert not [
        why
        for why, _ in read_create_answer({**entries, "SuccessCount": 4}, shared).doubts
        if why.startswith("the answer counts")
    ]
    short = read_create_answer({**entries, "SuccessCount": 3}, shared)
    assert [why for why, _ in short.doubts if why.startswith("the answer counts")] == [
        "the answer counts 3 numbers accepted where its error list leaves 4"
    ]


def test_what_each_kind_of_doubt_says() -> None:
    not_a_list = "detail_error_list is not a list: which numbers it refuses is unknown"
    assert read_create_answer({"detail_error_list": "oops"}, SENT).doubts == [(not_a_list, EVERYONE)]
    # the unreadable list stands for one refused row at least: three accepted of four agrees, two does not
    assert read_create_answer({"detail_error_list": "oops", "SuccessCount": 3}, SENT).doubts == [(not_a_list, EVERYONE)]
    assert len(read_create_answer({"detail_error_list": "oops", "SuccessCount": 2}, SENT).doubts) == 2
    by_index = read_create_answer(_entries({"field": "Details[2]"}), SENT)
    assert by_index.doubts == [
        (
            "error entry 0 (Details[2]) carries no comments, and AIRudder does not say whether it counts rows from 0 "
            "or from 1",
            {"c1", "c2"},
        )
    ]
    nobody = read_create_answer(_entries({"comments": "cmp|c0"}, {"comments": "x"}, {"field": "no index"}), SENT)
    assert nobody.doubts == [
        ("error entry 1 names no number of the chunk; error entry 2 names no row of the chunk", EVERYONE - {"c0"})
    ]


@pytest.mark.parametrize("phone", ["0917 123 4501", "639171234501", "+63 917 123 4501"])
def test_a_number_is_read_in_every_region_of_the_chunk_until_one_reading_names_a_contact(phone: str) -> None:
    # read in Indonesia first, where 639171234501 is not a number at all, then in the Philippines
    sent = [SentNumber("id", "cmp|id", "+6281234567890"), *SENT]
    reading = read_create_answer(_entries({"phone": phone}), sent)
    assert reading.refused == {"c1": "airudder refused the number: invalid"}

"""NXTele's addBatchCall answer read straight onto a SubmitResult: what each disagreement says, and errList
entries counted one by one against the answer's counts."""

from __future__ import annotations

from typing import Any

import pytest

from dialhub.vendors.base import DialRequest, SubmitResult
from dialhub.vendors.nxtele.batch import settle_batch

REQUESTS = [DialRequest("cmp", f"c{row}", 1, f"+63917123450{row}", "", {}) for row in range(5)]
ORDERS = [f"o{row}" for row in range(5)]
ALL = dict(zip([request.contact_id for request in REQUESTS], ORDERS, strict=True))


def _settle(answer: dict[str, Any], requests: list[DialRequest] = REQUESTS) -> SubmitResult:
    result = SubmitResult()
    settle_batch(answer, requests, ORDERS[: len(requests)], result)
    return result


def test_what_each_disagreement_says() -> None:
    assert _settle({"errList": "none", "successCount": 5}).mismatches == ["addBatchCall: errList is not a list"]
    assert _settle({"totalCount": "lots", "successCount": 5}).mismatches == [
        "addBatchCall: totalCount unreadable for 5 sent"
    ]
    assert _settle({"totalCount": 4, "successCount": 5}).mismatches == ["addBatchCall: totalCount 4 for 5 sent"]
    assert _settle({"totalCount": 5}).mismatches == ["addBatchCall: no readable successCount"]
    every_one = _settle({"totalCount": 5, "successCount": 5})
    assert (every_one.accepted, every_one.mismatches, every_one.unconfirmed) == (ALL, [], {})


def test_an_answer_without_an_error_list_accepts_what_its_counts_account_for() -> None:
    assert _settle({"successCount": 5}).accepted == ALL
    assert _settle({"errList": None, "successCount": 5}).accepted == ALL


def test_a_refusal_without_a_message_or_a_code_says_so() -> None:
    result = _settle({"successCount": 3, "errList": [{"orderID": "o2"}, {"orderID": "o3", "retCode": ""}]})
    assert result.rejected == {"c2": "nxtele refused the contact: refused", "c3": "nxtele refused the contact: refused"}
    coded = _settle({"successCount": 4, "errList": [{"orderID": "o2", "retCode": 0, "errMsg": "blocked"}]})
    assert coded.rejected == {"c2": "nxtele error 0: blocked"}


@pytest.mark.parametrize("unmatched", [1, 2, 3])
def test_entries_matching_no_contact_are_each_counted(unmatched: int) -> None:
    entries = [{"phone": "+15550000000"}] * (unmatched - 1) + ["not an entry"]
    result = _settle({"successCount": 5 - unmatched, "errList": entries})
    assert result.mismatches == [f"addBatchCall: {unmatched} errList entries match no contact sent"]
    assert result.unconfirmed == ALL and result.accepted == {}


def test_a_refused_contact_is_not_doubted_again_and_the_others_are() -> None:
    result = _settle({"successCount": 2, "errList": [{"orderID": "o0", "errMsg": "bad"}, {"orderID": "o1"}]})
    assert set(result.rejected) == {"c0", "c1"}
    assert result.mismatches == ["addBatchCall: successCount 2 of 5 sent with 2 listed in errList"]
    assert set(result.unconfirmed) == {"c2", "c3", "c4"}


def test_refusals_and_entries_that_match_nobody_both_lower_the_least_success_count() -> None:
    # five sent, one refused, one entry about nobody: 3 taken at least; NXTele says 3
    answer = {"successCount": 3, "errList": [{"orderID": "o0", "errMsg": "bad"}, {"phone": "+15550000000"}]}
    result = _settle(answer)
    assert result.mismatches == ["addBatchCall: 1 errList entries match no contact sent"]
    assert set(result.rejected) == {"c0"}


def test_a_phone_written_with_a_00_prefix_or_nationally_names_its_contact() -> None:
    for phone in ("0063 917 123 4502", "0917 123 4502", "639171234502", "+63 917 123 4502"):
        result = _settle({"successCount": 4, "errList": [{"phone": phone, "errMsg": "blacklisted"}]})
        assert result.rejected == {"c2": "nxtele refused the contact: blacklisted"}, phone
        assert result.mismatches == [], phone


def test_a_success_count_above_what_the_entries_leave_doubts_the_refusals_even_beside_an_unmatched_entry() -> None:
    # one refused, one entry about nobody: at most 3 taken; NXTele says 4, so it took the refused one too
    answer = {"successCount": 4, "errList": [{"orderID": "o0", "errMsg": "bad"}, {"phone": "+15550000000"}]}
    result = _settle(answer)
    assert "c0" not in result.rejected and "c0" in result.unconfirmed
    assert result.mismatches[-1] == "addBatchCall: successCount 4 of 5 sent although 2 listed in errList"


def test_a_number_written_after_00_is_read_even_where_00_is_not_the_way_out_of_the_country() -> None:
    # the United States dial out with 011: in a chunk of American numbers only the 00 reading turns
    # "00 1 415…" into +1415…
    requests = [DialRequest("cmp", f"us{row}", 1, f"+1415555267{row}", "", {}) for row in range(2)]
    result = SubmitResult()
    settle_batch({"successCount": 1, "errList": [{"phone": "00 1 415 555 2671"}]}, requests, ORDERS[:2], result)
    assert result.rejected == {"us1": "nxtele refused the contact: refused"}

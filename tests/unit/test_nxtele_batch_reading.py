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


def test_a_repeated_order_stays_accepted_when_the_answer_leaves_the_others_in_doubt() -> None:
    """NXTele holds an order it calls a repeat: the contact is in, whatever else the answer fails to account for."""
    errors = [{"orderID": "o0", "errMsg": "order already exists"}, {"phone": "+15550000000"}]
    answer = {"successCount": 3, "errList": errors}
    result = _settle(answer)
    assert result.accepted == {"c0": "o0"}
    assert result.unconfirmed == {f"c{row}": f"o{row}" for row in range(1, 5)}
    assert result.mismatches == ["addBatchCall: 1 errList entries match no contact sent"]


@pytest.mark.parametrize(
    "first",
    [
        pytest.param("not an entry", id="not-an-object"),
        pytest.param({"phone": "+15550000000"}, id="matches-nobody"),
        pytest.param({"orderID": "o0", "errMsg": "order already exists"}, id="repeated-order"),
        pytest.param({"phone": REQUESTS[4].phone}, id="shared-phone"),
    ],
)
def test_every_entry_after_one_that_refuses_nobody_is_still_read(first: Any) -> None:
    requests = [*REQUESTS[:3], DialRequest("cmp", "c3", 1, REQUESTS[4].phone, "", {}), REQUESTS[4]]
    result = _settle({"successCount": 3, "errList": [first, {"orderID": "o1", "errMsg": "blacklisted"}]}, requests)
    assert result.rejected == {"c1": "nxtele refused the contact: blacklisted"}


def test_an_entry_about_a_shared_phone_means_the_contact_no_earlier_entry_refused() -> None:
    """Two contacts share a number; one is refused by its orderID, so a later entry naming that number can only
    mean the other."""
    requests = [*REQUESTS[:4], DialRequest("cmp", "c4", 1, REQUESTS[0].phone, "", {})]
    answer = {"successCount": 3, "errList": [{"orderID": "o0", "errMsg": "bad"}, {"phone": REQUESTS[0].phone}]}
    result = _settle(answer, requests)
    assert result.rejected == {"c0": "nxtele refused the contact: bad", "c4": "nxtele refused the contact: refused"}
    assert (result.mismatches, result.unconfirmed) == ([], {})


def test_a_contact_an_entry_names_by_its_order_is_not_doubted_for_sharing_a_phone_named_earlier() -> None:
    """A phone two contacts share leaves both in doubt, but one of them an entry names by its orderID is known:
    a repeated order stays accepted, and only the other is doubted."""
    requests = [*REQUESTS[:4], DialRequest("cmp", "c4", 1, REQUESTS[0].phone, "", {})]
    errors = [{"phone": REQUESTS[0].phone, "errMsg": "bad"}, {"orderID": "o0", "errMsg": "order already exists"}]
    result = _settle({"successCount": 4, "errList": errors}, requests)
    assert result.accepted == {"c0": "o0", "c1": "o1", "c2": "o2", "c3": "o3"}
    assert result.unconfirmed == {"c4": "o4"}
    assert result.mismatches == ["addBatchCall: 1 errList entries name a phone shared by 1 contacts sent"]


def test_a_number_written_with_a_plus_is_read_as_exactly_its_digits() -> None:
    """'+63 0917…' keeps a national 0 after the country code: it is not guessed to be +63917…, so the entry
    matches nobody and the answer is doubted."""
    result = _settle({"successCount": 4, "errList": [{"phone": "+63 0917 123 4502", "errMsg": "blacklisted"}]})
    assert result.rejected == {}
    assert result.mismatches == ["addBatchCall: 1 errList entries match no contact sent"]


def test_a_national_number_is_read_in_every_country_sent_even_after_one_that_cannot_read_it() -> None:
    """In Singapore "021…" is a way out of the country, followed by no valid country code; in Indonesia it is
    Jakarta's area code: the Singapore number sent first does not stop the Indonesian reading."""
    requests = [DialRequest("cmp", "sg", 1, "+6591234567", "", {}), DialRequest("cmp", "id", 1, "+62218350123", "", {})]
    result = SubmitResult()
    settle_batch(
        {"successCount": 1, "errList": [{"phone": "(021) 8350123", "errMsg": "x"}]}, requests, ORDERS[:2], result
    )
    assert result.rejected == {"id": "nxtele refused the contact: x"}
    assert (result.accepted, result.mismatches) == ({"sg": "o0"}, [])


def test_a_number_sent_that_cannot_be_read_does_not_hide_the_countries_of_the_numbers_after_it() -> None:
    """The national reading of an entry's phone needs the country of the numbers sent; one that is no number
    at all is skipped, not the end of the list."""
    requests = [DialRequest("cmp", "odd", 1, "+", "", {}), DialRequest("cmp", "ph", 1, "+639171234501", "", {})]
    result = SubmitResult()
    settle_batch(
        {"successCount": 1, "errList": [{"phone": "09171234501", "errMsg": "x"}]}, requests, ORDERS[:2], result
    )
    assert result.rejected == {"ph": "nxtele refused the contact: x"}
    assert (result.accepted, result.mismatches) == ({"odd": "o0"}, [])

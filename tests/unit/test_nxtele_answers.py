"""NXTele's answers read defensively (issue 19): errList matched by our ids, then by phone in E.164; counts that
do not add up leave contacts unconfirmed instead of accepted; order listings paged without trusting a page size;
the callback decision; and the document's own JSON examples read as documented.

HTTP goes through the FakeNxtele of test_nxtele_adapter (httpx.MockTransport, signatures checked both ways).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dialhub.vendors.base import CallbackRejected, OutcomeReport, Submission
from dialhub.vendors.nxtele.adapter import order_id
from dialhub.vendors.nxtele.codes import PATH_ADD_BATCH_CALL
from dialhub.vendors.nxtele.signing import serialise
from tests.unit.test_nxtele_adapter import EVENT_TIME, TASK, FakeNxtele, adapter_with, callback, campaign, dial

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "nxtele"
PH = {"c1": "+639171234567", "c2": "+639181234567", "c3": "+639191234567", "c4": "+639201234567"}


def submit(answer: dict[str, Any], phones: dict[str, str] = PH) -> Any:
    fake = FakeNxtele(lambda path, body: answer)
    requests = [dial(contact_id, phone) for contact_id, phone in phones.items()]
    return adapter_with(fake).submit(Submission(campaign(), TASK, requests, "k"))


def oid(contact_id: str) -> str:
    return order_id("cmp-1", contact_id, 1)


# ------------------------------------------------------------------------------------ errList matching
def test_a_national_format_phone_in_err_list_refuses_its_contact() -> None:
    errors = [{"phone": "09181234567", "errMsg": "userPhone is on the blacklist"}]
    result = submit({"totalCount": 4, "successCount": 3, "errList": errors})
    assert result.rejected == {"c2": "nxtele refused the contact: userPhone is on the blacklist"}
    assert set(result.accepted) == {"c1", "c3", "c4"} and result.unconfirmed == {} and result.mismatches == []


@pytest.mark.parametrize("phone", ["639181234567", "+639181234567", "+63 918 123 4567", "0918-123-4567"])
def test_international_and_national_forms_of_a_phone_all_match(phone: str) -> None:
    result = submit({"totalCount": 4, "successCount": 3, "errList": [{"phone": phone, "errMsg": "blacklist"}]})
    assert set(result.rejected) == {"c2"} and set(result.accepted) == {"c1", "c3", "c4"}


def test_a_national_phone_is_read_in_the_country_of_the_contact_sent() -> None:
    phones = {"c1": "+6281234567890", "c2": "+639181234567"}  # Indonesia and the Philippines in one batch
    result = submit({"totalCount": 2, "successCount": 1, "errList": [{"phone": "081234567890", "errMsg": "x"}]}, phones)
    assert set(result.rejected) == {"c1"} and set(result.accepted) == {"c2"}


def test_the_order_id_wins_over_a_phone_naming_another_contact() -> None:
    errors = [{"orderID": oid("c3"), "phone": "639171234567", "errMsg": "params invalid", "retCode": 4}]
    result = submit({"totalCount": 4, "successCount": 3, "errList": errors})
    assert result.rejected == {"c3": "nxtele error 4: params invalid"}
    assert set(result.accepted) == {"c1", "c2", "c4"}


def test_a_phone_shared_by_two_contacts_is_ambiguous_so_both_are_unconfirmed() -> None:
    phones = {"c1": "+639171234567", "c2": "+639171234567", "c3": "+639191234567"}
    errors = [{"phone": "09171234567", "errMsg": "userPhone is on the blacklist"}]
    result = submit({"totalCount": 3, "successCount": 2, "errList": errors}, phones)
    assert result.rejected == {}
    assert result.unconfirmed == {"c1": oid("c1"), "c2": oid("c2")} and set(result.accepted) == {"c3"}
    assert result.mismatches and not any("917" in what for what in result.mismatches)  # no phone in the text


def test_an_entry_matching_no_contact_leaves_every_unlisted_contact_unconfirmed() -> None:
    errors = [
        {"phone": "639181234567", "errMsg": "number is blacklisted"},
        {"phone": "639990000000", "errMsg": "not ours"},
    ]
    result = submit({"totalCount": 4, "successCount": 2, "errList": errors})
    assert set(result.rejected) == {"c2"}  # clearly refused: stays refused
    assert result.accepted == {} and set(result.unconfirmed) == {"c1", "c3", "c4"}
    assert len(result.mismatches) == 1 and "match no contact" in result.mismatches[0]


def test_an_existing_order_is_still_a_retry_and_counts_as_accepted() -> None:
    errors = [
        {"phone": "09171234567", "errMsg": "orderID already exists"},
        {"orderID": oid("c2"), "errMsg": "订单重复"},
    ]
    result = submit({"totalCount": 4, "successCount": 2, "errList": errors})
    assert set(result.accepted) == {"c1", "c2", "c3", "c4"} and result.rejected == {} and result.mismatches == []


def test_a_retry_counted_as_a_success_is_consistent_too() -> None:
    errors = [{"phone": "639171234567", "errMsg": "order already exists"}]
    result = submit({"totalCount": 4, "successCount": 4, "errList": errors})
    assert set(result.accepted) == set(PH) and result.mismatches == []


# ------------------------------------------------------------------------------------ counts
def test_a_shortfall_with_an_empty_err_list_leaves_everyone_unconfirmed() -> None:
    result = submit({"totalCount": 4, "successCount": 3, "errList": []})
    assert result.accepted == {} and result.rejected == {}
    assert result.unconfirmed == {contact_id: oid(contact_id) for contact_id in PH}
    assert result.mismatches == ["addBatchCall: successCount 3 of 4 sent with 0 listed in errList"]


def test_a_shortfall_beyond_the_listed_errors_keeps_the_listed_refusal() -> None:
    errors = [{"phone": "639181234567", "errMsg": "blacklist"}]
    result = submit({"totalCount": 4, "successCount": 2, "errList": errors})
    assert set(result.rejected) == {"c2"} and result.accepted == {}
    assert set(result.unconfirmed) == {"c1", "c3", "c4"}


def test_a_total_count_other_than_the_number_sent_is_a_mismatch() -> None:
    result = submit({"totalCount": 3, "successCount": 3, "errList": []})
    assert result.accepted == {} and set(result.unconfirmed) == set(PH)
    assert result.mismatches == ["addBatchCall: totalCount 3 for 4 sent"]


@pytest.mark.parametrize("answer", [{"errList": []}, {"totalCount": 4, "successCount": "lots"}, {}])
def test_an_answer_without_a_readable_success_count_confirms_nobody(answer: dict[str, Any]) -> None:
    result = submit(answer)
    assert result.accepted == {} and set(result.unconfirmed) == set(PH) and result.mismatches


def test_an_err_list_that_is_not_a_list_confirms_nobody() -> None:
    result = submit({"totalCount": 4, "successCount": 4, "errList": {"phone": "639171234567"}})
    assert result.accepted == {} and set(result.unconfirmed) == set(PH)


def test_more_successes_than_the_unlisted_puts_the_refused_in_doubt_too() -> None:
    # NXTele says it took all four yet lists one as refused: that one may be dialled, so it is not refused.
    errors = [{"phone": "639181234567", "errMsg": "blacklist"}]
    result = submit({"totalCount": 4, "successCount": 4, "errList": errors})
    assert result.rejected == {} and set(result.unconfirmed) == {"c2"}
    assert set(result.accepted) == {"c1", "c3", "c4"}
    assert result.mismatches == ["addBatchCall: successCount 4 of 4 sent although 1 listed in errList"]


def test_an_entry_listed_twice_counts_once() -> None:
    errors = [{"phone": "639181234567", "errMsg": "blacklist"}, {"orderID": oid("c2"), "errMsg": "blacklist"}]
    result = submit({"totalCount": 4, "successCount": 3, "errList": errors})
    assert set(result.rejected) == {"c2"} and set(result.accepted) == {"c1", "c3", "c4"} and result.mismatches == []


def test_counts_given_as_digits_are_read() -> None:
    result = submit({"totalCount": "4", "successCount": "4", "errList": []})
    assert set(result.accepted) == set(PH) and result.mismatches == []


# ------------------------------------------------------------------------------------ listOrder paging
def _listing(order_ids: list[str], cap: int | None = None, total: bool = True, repeat: bool = False) -> Any:
    """listOrder over these orders: pages of `size`, or of at most `cap`; with or without `total`."""

    def answer(path: str, body: dict[str, Any]) -> dict[str, Any]:
        if path == "listOrderDetail":
            return {
                "orderDetailList": [{"orderID": o, "finish": True, "callInfoDetailList": []} for o in body["orderList"]]
            }
        size = min(body["size"], cap or body["size"])
        start = 0 if repeat else (body["page"] - 1) * size
        rows = [{"orderID": o} for o in order_ids[start : start + size]]
        return {"orderList": rows, "total": len(order_ids)} if total else {"orderList": rows}

    return answer


def _listed(fake: FakeNxtele) -> list[str]:
    return [order for path, body, _ in fake.requests if path == "listOrderDetail" for order in body["orderList"]]


def test_list_order_reads_past_a_short_page_until_the_total() -> None:
    order_ids = [f"o{n}" for n in range(35)]
    fake = FakeNxtele(_listing(order_ids, cap=10))
    list(adapter_with(fake).results(TASK))
    assert _listed(fake) == order_ids
    assert [body["page"] for path, body, _ in fake.requests if path == "listOrder"] == [1, 2, 3, 4]


def test_list_order_without_a_total_reads_until_an_empty_page() -> None:
    order_ids = [f"o{n}" for n in range(25)]
    fake = FakeNxtele(_listing(order_ids, cap=10, total=False))
    list(adapter_with(fake).results(TASK))
    assert _listed(fake) == order_ids
    assert [body["page"] for path, body, _ in fake.requests if path == "listOrder"] == [1, 2, 3, 4]


def test_a_full_listing_stops_at_its_total_without_an_extra_request() -> None:
    order_ids = [f"o{n}" for n in range(200)]
    fake = FakeNxtele(_listing(order_ids))
    list(adapter_with(fake).results(TASK))
    assert _listed(fake) == order_ids and fake.paths().count("listOrder") == 2


@pytest.fixture
def mismatches(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, str]]]:
    counted: list[tuple[str, dict[str, str]]] = []
    monkeypatch.setattr(
        "dialhub.vendors.nxtele.adapter.count_metric", lambda name, value=1, **dims: counted.append((name, dims))
    )
    return counted


MISMATCH = ("VendorAnswerMismatch", {"vendor": "nxtele"})


def test_a_vendor_ignoring_the_page_number_is_read_once_and_counted(mismatches: list[Any]) -> None:
    order_ids = [f"o{n}" for n in range(30)]
    fake = FakeNxtele(_listing(order_ids, cap=10, repeat=True))
    list(adapter_with(fake).results(TASK))
    assert _listed(fake) == order_ids[:10] and fake.paths().count("listOrder") == 2
    assert mismatches == [MISMATCH]


def test_a_listing_that_ends_short_of_its_total_is_counted(mismatches: list[Any]) -> None:
    def answer(path: str, body: dict[str, Any]) -> dict[str, Any]:
        if path == "listOrderDetail":
            return {"orderDetailList": []}
        rows = [{"orderID": f"o{n}"} for n in range(10)] if body["page"] == 1 else []
        return {"orderList": rows, "total": 25}

    fake = FakeNxtele(answer)
    list(adapter_with(fake).results(TASK))
    assert fake.paths().count("listOrder") == 2 and mismatches == [MISMATCH]


def test_a_listing_longer_than_its_total_is_counted(mismatches: list[Any]) -> None:
    fake = FakeNxtele(lambda path, body: {"orderList": [{"orderID": "o1"}, {"orderID": "o2"}], "total": 1})
    list(adapter_with(fake).results(TASK))
    assert fake.paths() == ["listOrder", "listOrderDetail"] and mismatches == [MISMATCH]


def test_a_consistent_listing_counts_no_mismatch(mismatches: list[Any]) -> None:
    fake = FakeNxtele(_listing([f"o{n}" for n in range(35)], cap=10))
    list(adapter_with(fake).results(TASK))
    assert mismatches == []


def test_paging_stops_at_max_pages(monkeypatch: pytest.MonkeyPatch, mismatches: list[Any]) -> None:
    import dialhub.vendors.nxtele.adapter as adapter_module

    monkeypatch.setattr(adapter_module, "MAX_PAGES", 3)
    order_ids = [f"o{n}" for n in range(100)]
    fake = FakeNxtele(_listing(order_ids, cap=10, total=False))
    list(adapter_with(fake).results(TASK))
    assert fake.paths().count("listOrder") == 3 and len(_listed(fake)) == 30 and mismatches == [MISMATCH]


# ------------------------------------------------------------------------------------ callbacks
def test_a_call_without_a_call_id_is_refused_and_unread_is_never_set() -> None:
    # NXTele publishes no retry policy: nothing relies on a retry, so unread stays 0 and the body is refused.
    at_event_time = adapter_with(FakeNxtele(), clock=lambda: EVENT_TIME)
    body = {"orderID": "o1", "finish": True, "callInfoDetail": {"callStatus": 1}}
    with pytest.raises(CallbackRejected):
        at_event_time.parse_callback(callback("order", body))
    report = at_event_time.parse_callback(callback("order", {"orderID": "o1", "finish": True, "callInfoDetail": {}}))
    assert isinstance(report, OutcomeReport) and report.outcomes == [] and report.unread == 0


# ------------------------------------------------------------------------------------ the document's examples
def _fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def test_the_documented_add_batch_call_request_has_the_fields_we_send() -> None:
    example = _fixture("add_batch_call_request.json")
    assert example["productID"] == "callbot" and set(example) == {"productID", "userTaskID", "callInfoList"}
    fake = FakeNxtele(lambda path, body: {"totalCount": 1, "successCount": 1, "errList": []})
    adapter_with(fake).submit(Submission(campaign(), TASK, [dial("c1")], "k"))
    [(path, sent, request)] = fake.requests
    assert request.url.path == PATH_ADD_BATCH_CALL and path == "addBatchCall"
    assert set(sent) == set(example) and set(sent["callInfoList"]) == set(example["callInfoList"])
    assert set(sent["callInfoList"]["callList"][0]) == set(example["callInfoList"]["callList"][0])
    assert [set(p) for p in sent["callInfoList"]["callList"][0]["params"]] == [{"name", "value"}] * 2
    assert serialise(sent) == request.content  # signed and sent as one serialisation


def test_the_documented_add_batch_call_answer_reads_as_a_success_listing_failed_phones() -> None:
    example = _fixture("add_batch_call_response.json")
    assert example["retCode"] == 0 and example["errList"] == [{"phone": "string", "errMsg": "string"}]
    # As documented: retCode 0 (not a refusal), no contact taken (successCount 0), a failed phone that is a
    # placeholder and so names none of ours. Nothing of that confirms the contact we sent.
    result = submit(
        {k: v for k, v in example.items() if k not in ("retCode", "retMsg", "responseID")}, {"c1": PH["c1"]}
    )
    assert result.accepted == {} and result.rejected == {} and set(result.unconfirmed) == {"c1"}


def test_the_documented_answer_filled_with_real_values_refuses_the_named_phone() -> None:
    example = _fixture("add_batch_call_response.json")
    example |= {"totalCount": 2, "successCount": 1, "errList": [{"phone": "639181234567", "errMsg": "blacklist"}]}
    result = submit(example, {"c1": PH["c1"], "c2": PH["c2"]})
    assert set(result.accepted) == {"c1"} and set(result.rejected) == {"c2"} and result.mismatches == []

"""AIRudder answers that differ from what the adapter was built on: detail_error_list counted from 1 or naming
no number, counts that disagree with the errors, a 10508 whose lost answer refused some numbers, detail
listings served in short pages, and call callbacks in an envelope or with entries that carry no result.
Each is read defensively: nothing counts as accepted on silence, nothing is lost, nothing is read forever."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any

import pytest

from dialhub.vendors.airudder.adapter import AirudderAdapter
from dialhub.vendors.airudder.codes import PATH_CREATE_TASK, PATH_DETAIL, PATH_LIST
from dialhub.vendors.airudder.tokens import forget_tokens
from dialhub.vendors.airudder.wire import AirudderAccount, task_name
from dialhub.vendors.base import CallbackRejected, SubmitResult, VendorRejected
from local.simulators.airudder import QUIRKS, AirudderSimulator
from tests.conftest import WEBHOOK_TOKEN
from tests.unit.test_airudder_adapter import (
    OPTIONS,
    T0,
    FakeAirudder,
    _callback,
    _request,
    _row,
    _submission,
    _task,
    account,
)

Answer = dict[str, Any]


@pytest.fixture(autouse=True)
def _no_cached_tokens() -> Any:
    forget_tokens()
    yield
    forget_tokens()


@pytest.fixture
def vendor() -> FakeAirudder:
    return FakeAirudder()


def _created(errors: Any = None, **data: Any) -> Answer:
    body: dict[str, Any] = {"TaskID": "t1", **data}
    if errors is not None:
        body["detail_error_list"] = errors
    return {"code": 200, "status": "OK", "data": body}


def _submit(vendor: FakeAirudder, answer: Answer, count: int = 4, **campaign: Any) -> SubmitResult:
    vendor.script(PATH_CREATE_TASK, answer)
    return vendor.adapter().submit(_submission(count, **campaign))


def _no_phone_in(texts: list[str]) -> None:
    assert not any(re.search(r"\d{6,}", text) for text in texts), texts


# --------------------------------------------------------------------------- issue case 5: Details[i]
def test_an_index_counted_from_1_refuses_nobody_and_doubts_both_contacts_it_may_mean(vendor: FakeAirudder) -> None:
    # AIRudder counts from 1 and refused the second number (c1): "Details[2]". Read 0-based, that is c2.
    errors = [{"field": "Details[2]", "msg": "Country Code Error: 639171234501"}]
    result = _submit(vendor, _created(errors))
    assert result.rejected == {}
    assert set(result.unconfirmed) == {"c1", "c2"} and result.unconfirmed["c1"] == "cmp-1|c1"
    assert set(result.accepted) == {"c0", "c3"} and result.job_id == "t1"
    assert result.mismatches and "Details[2]" in result.mismatches[0]
    _no_phone_in(result.mismatches)


def test_an_index_only_one_reading_of_which_is_in_the_chunk_still_refuses_nobody(vendor: FakeAirudder) -> None:
    result = _submit(vendor, _created([{"field": "Details[0]", "msg": "Mobile Error"}]), count=3)
    assert result.rejected == {} and set(result.unconfirmed) == {"c0"} and set(result.accepted) == {"c1", "c2"}


@pytest.mark.parametrize("comments", ["cmp-1|c1", " cmp-1|c1 "])
def test_comments_name_the_refused_contact_whatever_the_index_says(vendor: FakeAirudder, comments: str) -> None:
    errors = [{"field": "Details[3]", "msg": "Country Code Error: 639171234501", "comments": comments}]
    result = _submit(vendor, _created(errors))
    assert result.rejected == {"c1": "airudder refused the number: Country Code Error: ***4501"}
    assert set(result.accepted) == {"c0", "c2", "c3"} and result.unconfirmed == {} and result.mismatches == []


@pytest.mark.parametrize("phone", ["+639171234501", "09171234501", "639171234501", "0917 123 4501", "+63 917 123 4501"])
def test_an_entry_that_carries_a_phone_is_matched_in_e164(vendor: FakeAirudder, phone: str) -> None:
    errors = [{"field": "Details[3]", "msg": "Mobile Error", "mobile": phone}]
    result = _submit(vendor, _created(errors))
    assert set(result.rejected) == {"c1"} and set(result.accepted) == {"c0", "c2", "c3"}
    assert result.unconfirmed == {}


def test_a_phone_two_contacts_share_doubts_both(vendor: FakeAirudder) -> None:
    vendor.script(
        PATH_CREATE_TASK, _created([{"field": "Details[1]", "msg": "Mobile Error", "Mobile": "+639171234500"}])
    )
    submission = _submission(3)
    submission.requests[1] = dataclasses.replace(submission.requests[1], phone=submission.requests[0].phone)
    result = vendor.adapter().submit(submission)
    assert result.rejected == {} and set(result.unconfirmed) == {"c0", "c1"} and set(result.accepted) == {"c2"}


@pytest.mark.parametrize(
    "entry",
    [
        {"field": "Details[1]", "msg": "Mobile Error", "comments": "cmp-9|elsewhere"},  # comments of no contact here
        {"field": "Details[1]", "msg": "Mobile Error", "mobile": "+14155550100"},  # a phone of no contact here
        {"field": "Details[9]", "msg": "Mobile Error"},  # an index outside the chunk either way
        {"msg": "Mobile Error"},  # nothing that names a row
        "Details[1]: Mobile Error",  # not an object
    ],
)
def test_an_entry_that_names_no_contact_doubts_every_contact_not_refused(vendor: FakeAirudder, entry: Any) -> None:
    errors = [entry, {"field": "Details[2]", "msg": "Mobile Error", "comments": "cmp-1|c2"}]
    result = _submit(vendor, _created(errors))
    assert set(result.rejected) == {"c2"}
    assert set(result.unconfirmed) == {"c0", "c1", "c3"} and result.accepted == {}
    _no_phone_in(result.mismatches)


@pytest.mark.parametrize("errors", [{"field": "Details[1]"}, "Details[1] Mobile Error", 3])
def test_an_error_list_that_is_not_a_list_doubts_the_whole_chunk(vendor: FakeAirudder, errors: Any) -> None:
    result = _submit(vendor, _created(errors), count=2)
    assert result.rejected == {} and set(result.unconfirmed) == {"c0", "c1"} and result.mismatches


@pytest.mark.parametrize(
    "counts",
    [
        {"SuccessCount": 2, "TotalCount": 3},  # one fewer accepted than sent, and no error listed
        {"success_count": 2},
        {"TotalCount": 4},  # AIRudder counted a number more than was sent
        {"Total": "2"},
    ],
)
def test_counts_that_disagree_with_the_errors_doubt_the_unexplained_contacts(vendor: FakeAirudder, counts: Any) -> None:
    result = _submit(vendor, _created(**counts), count=3)
    assert result.rejected == {} and set(result.unconfirmed) == {"c0", "c1", "c2"} and result.accepted == {}
    assert any("count" in what for what in result.mismatches)


def test_counts_that_agree_with_the_errors_are_believed(vendor: FakeAirudder) -> None:
    errors = [{"field": "Details[1]", "msg": "Mobile Error", "comments": "cmp-1|c1"}]
    result = _submit(vendor, _created(errors, SuccessCount=2, TotalCount=3, Success=True), count=3)
    assert set(result.rejected) == {"c1"} and set(result.accepted) == {"c0", "c2"}
    assert result.unconfirmed == {} and result.mismatches == []


def test_a_success_count_above_what_the_errors_leave_puts_the_refusals_in_doubt(vendor: FakeAirudder) -> None:
    errors = [{"field": "Details[1]", "msg": "Mobile Error", "comments": "cmp-1|c1"}]
    result = _submit(vendor, _created(errors, SuccessCount=3), count=3)
    assert result.rejected == {} and set(result.unconfirmed) == {"c1"} and set(result.accepted) == {"c0", "c2"}


def test_two_errors_for_one_number_count_as_one_refused_number(vendor: FakeAirudder) -> None:
    errors = [
        {"field": "Details[1]", "msg": "Mobile Error", "comments": "cmp-1|c1"},
        {"field": "Details[1]", "msg": "Platform Error", "comments": "cmp-1|c1"},
    ]
    result = _submit(vendor, _created(errors, SuccessCount=2), count=3)
    assert set(result.rejected) == {"c1"} and set(result.accepted) == {"c0", "c2"} and result.unconfirmed == {}


def test_without_a_task_every_contact_is_refused_even_when_the_index_is_ambiguous(vendor: FakeAirudder) -> None:
    answer = {"code": 200, "status": "OK", "data": {"detail_error_list": [{"field": "Details[1]", "msg": "Bad"}]}}
    result = _submit(vendor, answer, count=3, options=OPTIONS | {"perform": 3})
    assert result.accepted == {} and result.unconfirmed == {} and set(result.rejected) == {"c0", "c1", "c2"}
    assert all("Perform 3" in reason for reason in result.rejected.values())


# --------------------------------------------------------------------------- 10508: an earlier create's lost answer
def _duplicate(vendor: FakeAirudder, detail: Any) -> SubmitResult:
    submission = _submission(3)
    name = task_name("cmp-1", T0.date(), submission.key)
    vendor.script(PATH_CREATE_TASK, {"code": 10508, "status": "Failed", "message": "duplicate task name"})
    vendor.script(
        PATH_LIST, {"code": 200, "status": "OK", "data": {"list": [{"TaskID": "t-earlier", "TaskName": name}]}}
    )
    vendor.script(PATH_DETAIL, *detail)
    return vendor.adapter(queryRetries=0, queryBackoffSeconds=0).submit(submission)


def test_a_duplicate_name_accepts_the_numbers_the_earlier_task_holds_and_refuses_the_rest(vendor: FakeAirudder) -> None:
    # The first create refused c1 (its answer, with the detail_error_list, was lost): the task has no row for it,
    # so nothing will ever be dialled or reported for it: it fails now, not at the poll horizon.
    rows = [_row(0, TaskID="t-earlier", CallStatus="Waiting"), _row(2, TaskID="t-earlier", CallStatus="Waiting")]
    result = _duplicate(vendor, [{"code": 200, "status": "OK", "data": {"total": 2, "list": rows}}])
    assert result.job_id == "t-earlier" and set(result.accepted) == {"c0", "c2"} and result.unconfirmed == {}
    assert set(result.rejected) == {"c1"} and "10508" in result.rejected["c1"]
    assert "does not hold the number" in result.rejected["c1"]


def test_a_duplicate_name_whose_task_cannot_be_read_leaves_the_chunk_unconfirmed(vendor: FakeAirudder) -> None:
    limited = {"code": 10705, "status": "Failed", "message": "query count limit exceeded"}
    result = _duplicate(vendor, [limited] * 3)
    assert result.job_id == "t-earlier" and result.accepted == {} and result.rejected == {}
    assert set(result.unconfirmed) == {"c0", "c1", "c2"}


def test_the_list_is_paged_until_the_task_of_the_name_is_found(vendor: FakeAirudder) -> None:
    submission = _submission(2)
    name = task_name("cmp-1", T0.date(), submission.key)
    others = [{"TaskID": f"o{i}", "TaskName": f"other_{i}"} for i in range(10)]
    vendor.script(PATH_CREATE_TASK, {"code": 10508, "status": "Failed"})
    vendor.script(
        PATH_LIST,
        {"code": 200, "data": {"total": 12, "list": others}},  # the TaskName filter ignored, 10 rows a page
        {"code": 200, "data": {"total": 12, "list": [{"TaskID": "t-mine", "TaskName": name}, {"TaskID": "x"}]}},
    )
    vendor.script(PATH_DETAIL, {"code": 200, "data": {"total": 2, "list": [_row(0), _row(1)]}})
    result = vendor.adapter().submit(submission)
    assert result.job_id == "t-mine" and set(result.accepted) == {"c0", "c1"}
    assert [body.get("PageNumber") for _, path, body, _ in vendor.calls if path == PATH_LIST] == ["1", "2"]


# --------------------------------------------------------------------------- detail paging
def _detail_pages(
    rows: list[dict[str, Any]], cap: int, total: bool = True, honour_page: bool = True
) -> Callable[..., Any]:
    """A /service/cloud/detail that never puts more than `cap` rows on a page."""

    def answer(query: dict[str, Any], _token: str) -> Answer:
        page = int(query.get("PageNumber", 1)) if honour_page else 1
        data: dict[str, Any] = {"list": rows[(page - 1) * cap : page * cap]}
        if total:
            data["total"] = len(rows)
        return {"code": 200, "status": "OK", "data": data}

    return answer


def _contacts(adapter: AirudderAdapter, job_ids: list[str], submitted: int) -> list[str]:
    return [outcome.contact_id or "" for page in adapter.results(_task(job_ids, submitted)) for outcome in page]


def test_a_detail_capped_at_10_rows_a_page_is_read_to_its_total(vendor: FakeAirudder, metrics: Any) -> None:
    rows = [_row(index, CallStatus="Busy", Intention="") for index in range(25)]
    vendor.script(PATH_DETAIL, *[_detail_pages(rows, cap=10)] * 5)
    assert _contacts(vendor.adapter(), ["t1"], 25) == [f"c{index}" for index in range(25)]
    assert [body["PageNumber"] for *_, body, _ in vendor.calls] == ["1", "2", "3"]  # the total ends it
    assert ("VendorAnswerMismatch", (("vendor", "airudder"), ("service", "dialhub"))) not in metrics()


def test_the_first_page_asks_for_a_thousand_rows_of_the_task(vendor: FakeAirudder) -> None:
    vendor.script(PATH_DETAIL, {"code": 200, "data": {"total": 1, "list": [_row(0)]}})
    _contacts(vendor.adapter(), ["t1"], 1)
    assert [body for *_, body, _ in vendor.calls] == [{"TaskID": "t1", "PageNumber": "1", "PageSize": "1000"}]


def test_a_detail_without_a_total_is_read_until_an_empty_page(vendor: FakeAirudder) -> None:
    rows = [_row(index) for index in range(25)]
    vendor.script(PATH_DETAIL, *[_detail_pages(rows, cap=10, total=False)] * 5)
    assert len(_contacts(vendor.adapter(), ["t1"], 25)) == 25
    assert len(vendor.calls) == 4  # three pages and the empty one that ends them


def test_a_whole_detail_without_a_total_costs_one_request_more(vendor: FakeAirudder) -> None:
    vendor.script(PATH_DETAIL, *[{"code": 200, "data": [_row(0), _row(1)]}] * 2)  # page numbers ignored
    assert _contacts(vendor.adapter(), ["t1"], 2) == ["c0", "c1"]
    assert len(vendor.calls) == 2  # the second answer repeats the first: the listing is whole


def test_a_detail_that_ignores_the_page_number_is_read_once_and_its_shortfall_counted(
    vendor: FakeAirudder, metrics: Any
) -> None:
    rows = [_row(index) for index in range(25)]
    vendor.script(PATH_DETAIL, *[_detail_pages(rows, cap=10, honour_page=False)] * 5)
    assert len(_contacts(vendor.adapter(), ["t1"], 25)) == 10
    assert len(vendor.calls) == 2
    assert metrics()[("VendorAnswerMismatch", (("vendor", "airudder"), ("service", "dialhub")))] == 1


def test_a_detail_with_more_rows_than_its_total_is_read_and_counted(vendor: FakeAirudder, metrics: Any) -> None:
    vendor.script(PATH_DETAIL, {"code": 200, "data": {"total": 1, "list": [_row(0), _row(1)]}})
    assert _contacts(vendor.adapter(), ["t1"], 2) == ["c0", "c1"]
    assert metrics()[("VendorAnswerMismatch", (("vendor", "airudder"), ("service", "dialhub")))] == 1


def test_a_detail_that_never_ends_is_cut_off(
    vendor: FakeAirudder, metrics: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("dialhub.vendors.airudder.adapter.MAX_LISTING_PAGES", 5)
    endless = iter(range(10**6))

    def fresh_rows(_query: dict[str, Any], _token: str) -> Answer:
        return {"code": 200, "data": {"list": [_row(next(endless), CallStatus="Waiting") for _ in range(10)]}}

    vendor.script(PATH_DETAIL, *[fresh_rows] * 10)
    assert _contacts(vendor.adapter(), ["t1"], 1) == []
    assert len(vendor.calls) == 5
    assert metrics()[("VendorAnswerMismatch", (("vendor", "airudder"), ("service", "dialhub")))] == 1


def test_a_job_that_vanishes_while_paged_ends_its_reading_and_the_next_job_is_read(vendor: FakeAirudder) -> None:
    rows = [_row(index) for index in range(15)]
    vendor.script(
        PATH_DETAIL,
        _detail_pages(rows, cap=10),
        {"code": 10506, "status": "Failed"},
        {"code": 200, "data": {"total": 1, "list": [_row(20, TaskID="t2")]}},
    )
    assert _contacts(vendor.adapter(), ["t1", "t2"], 16) == [f"c{index}" for index in range(10)] + ["c20"]


def test_paging_parameters_that_airudder_refuses_are_dropped_and_the_listing_read_unpaged(
    vendor: FakeAirudder, metrics: Any
) -> None:
    def strict(query: dict[str, Any], _token: str) -> Answer:
        if "PageNumber" in query:
            return {"code": 10501, "status": "Failed", "message": "unknown parameter PageNumber"}
        return {"code": 200, "data": {"total": 3, "list": [_row(0), _row(1), _row(2)]}}

    vendor.script(PATH_DETAIL, *[strict] * 4)
    assert _contacts(vendor.adapter(), ["t1"], 3) == ["c0", "c1", "c2"]
    assert [body for *_, body, _ in vendor.calls] == [
        {"TaskID": "t1", "PageNumber": "1", "PageSize": "1000"},
        {"TaskID": "t1"},
    ]
    assert metrics()[("VendorAnswerMismatch", (("vendor", "airudder"), ("service", "dialhub")))] == 1


def test_a_refusal_that_is_not_about_paging_is_still_a_refusal(vendor: FakeAirudder) -> None:
    vendor.script(PATH_DETAIL, *[{"code": 10704, "status": "Failed"}] * 2)
    with pytest.raises(VendorRejected, match="10704"):
        _contacts(vendor.adapter(), ["t1"], 1)
    assert len(vendor.calls) == 2


# --------------------------------------------------------------------------- call callbacks
def _call(**fields: Any) -> dict[str, Any]:
    return {"TaskID": "t1", "CallID": "7100", "Comments": "cmp-1|c1", "CallStatus": "NoAnswer", **fields}


def test_entries_without_a_result_are_counted_unread_and_the_others_stored() -> None:
    body = [_call(), {"Mobile": "+639171234567", "CallStatus": "NoAnswer"}, {}]
    report = AirudderAdapter(account()).parse_callback(_callback(body))
    assert [outcome.vendor_call_id for outcome in report.outcomes] == ["7100"] and report.unread == 2


def test_a_callback_none_of_whose_entries_carries_a_result_is_still_refused() -> None:
    with pytest.raises(CallbackRejected, match="without CallID"):
        AirudderAdapter(account()).parse_callback(_callback([{"Mobile": "+639171234567"}, {}]))


@pytest.mark.parametrize("wrapper", ["data", "list", "records", "body"])
def test_an_envelope_task_id_is_carried_onto_records_that_lack_one(wrapper: str) -> None:
    body = {
        "TaskID": "t9",
        "TaskName": "dh_x",
        "Status": "Finished",  # the task's status: never read as a call status
        wrapper: [
            {"Comments": "cmp-1|c1", "CallID": "", "CallStatus": "Cancelled"},
            {"Comments": "cmp-1|c2", "CallID": "7102", "TaskID": "t-own"},
            {"Comments": "cmp-1|c3", "CallID": "7103"},
        ],
    }
    first, second, third = AirudderAdapter(account()).parse_callback(_callback(body)).outcomes
    assert (first.vendor_call_id, first.vendor_task_id, first.contact_id) == ("t9:cmp-1|c1", "t9", "c1")
    assert second.vendor_task_id == "t-own"  # a record's own task id wins
    assert third.vendor_status is None and third.vendor_task_id == "t9"


def test_a_record_with_a_nested_data_field_is_not_mistaken_for_an_envelope() -> None:
    body = _call(data={"note": "robot variables"})
    [outcome] = AirudderAdapter(account()).parse_callback(_callback(body)).outcomes
    assert outcome.vendor_call_id == "7100"


# --------------------------------------------------------------------------- against an unexpected simulator
@pytest.mark.parametrize(
    "quirks", [frozenset(), frozenset({"one_based"}), frozenset({"short_pages"}), frozenset(QUIRKS)], ids=str
)
def test_against_each_switch_nobody_refused_is_accepted_and_every_number_held_is_read(quirks: frozenset[str]) -> None:
    with AirudderSimulator(
        "k", "s", dial_delay=(0.01, 0.03), minute_seconds=0.01, refused_prefixes=("+63999",), quirks=quirks
    ) as simulator:
        adapter = AirudderAdapter(
            AirudderAccount.model_validate(simulator.account(WEBHOOK_TOKEN) | {"queryBackoffSeconds": 0})
        )
        requests = [_request(index) for index in range(60)] + [
            _request(index, phone=f"+63999123{index:04d}") for index in range(60, 63)
        ]
        submission = _submission(0, options=OPTIONS | {"startImmediately": True})
        submission.requests.extend(requests)
        result = adapter.submit(submission)
        refused = {contact_id for _, contact_id in simulator.refused_contacts()}
        assert len(refused) >= 3 and not refused & set(result.accepted)
        assert set(result.accepted) | set(result.unconfirmed) | set(result.rejected) == {r.contact_id for r in requests}
        assert simulator.wait_idle(10)
        held = len(result.accepted) + len(result.unconfirmed)
        read = [outcome.contact_id for page in adapter.results(_task([result.job_id or ""], held)) for outcome in page]
        assert sorted(read) == sorted({r.contact_id for r in requests} - refused)  # each once, every page read
        # Those left in doubt that no result settles are exactly the numbers AIRudder refused.
        assert set(result.unconfirmed) - set(read) == refused - set(result.rejected)

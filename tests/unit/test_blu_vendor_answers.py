"""Blu answers that differ from what the adapter expects: short pages, a low upload count, the documented
callback shape. Each case is read defensively: nothing is lost and nothing counts as accepted on silence."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from dialhub.models import Campaign, VendorTask
from dialhub.vendors import StaticAdapters
from dialhub.vendors.base import DialRequest, InboundCallback, OutcomeReport, Reply, Submission
from dialhub.vendors.blu.adapter import BluAdapter, record_id
from dialhub.vendors.blu.codes import PATH_RESULTS, PATH_UPLOAD
from dialhub.webhooks import handle_callback
from tests.conftest import WEBHOOK_TOKEN, blu_account

NOW = dt.datetime(2026, 11, 25, 3, 0, tzinfo=dt.UTC)
TASK = VendorTask(campaign_id="cmp-1", vendor="blu", local_date=dt.date(2026, 11, 25), vendor_task_id="66635573")
Handler = Callable[[str, dict[str, Any]], dict[str, Any]]


def _adapter(answer: Handler, sent: list[tuple[str, dict[str, Any]]] | None = None, **account: Any) -> BluAdapter:
    """A Blu adapter whose HTTP goes to `answer(path, body)` instead of the network."""

    def handle(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if sent is not None:
            sent.append((request.url.path, body))
        return httpx.Response(200, json=answer(request.url.path, body))

    http = httpx.Client(base_url="http://blu.invalid", transport=httpx.MockTransport(handle))
    return BluAdapter(blu_account("http://blu.invalid", **account), http=http)


def _campaign() -> Campaign:
    return Campaign(
        campaign_id="cmp-1", name="c", vendor="blu", dial_date=TASK.local_date, timezone="Asia/Manila",
        vendor_options={"botId": 7}, created_at=NOW,
    )  # fmt: skip


def _dial(contact_id: str) -> DialRequest:
    return DialRequest("cmp-1", contact_id, 1, "+639171234567", "Maria", {})


def _rows(count: int, first: int = 0) -> list[dict[str, Any]]:
    return [
        {"taskId": 66635573, "callId": 500 + index, "code": "PTP", "extVars": {"campaignId": "cmp-1"}}
        for index in range(first, first + count)
    ]


def _listing(total: int, cap: int) -> Handler:
    """A task with `total` results served by a Blu that never puts more than `cap` rows on a page."""
    rows = _rows(total)

    def answer(path: str, body: dict[str, Any]) -> dict[str, Any]:
        assert path == PATH_RESULTS
        size = min(body["pageSize"], cap)
        page = rows[(body["pageNo"] - 1) * size : body["pageNo"] * size]
        return {"code": 2000, "message": "success", "count": len(page), "data": page}

    return answer


def _call_ids(adapter: BluAdapter) -> list[str]:
    return [outcome.vendor_call_id for page in adapter.results(TASK) for outcome in page]


@pytest.fixture
def mismatches(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, str]]:
    """The VendorAnswerMismatch counts the adapter emits (and nothing else it counts)."""
    counted: list[dict[str, str]] = []

    def count(name: str, value: int = 1, **dimensions: str) -> None:
        if name == "VendorAnswerMismatch":
            counted.append(dimensions)

    monkeypatch.setattr("dialhub.vendors.blu.adapter.count_metric", count)
    return counted


# --------------------------------------------------------------------------------------------- case 1: paging
def test_a_blu_that_caps_pages_at_10_still_gives_every_result() -> None:
    """Issue 19, case 1: asked for 100, answered 10 a page; every result after the first page was lost."""
    adapter = _adapter(_listing(total=25, cap=10))
    assert _call_ids(adapter) == [str(500 + index) for index in range(25)]


def test_a_capped_page_is_counted_once_and_the_rest_is_asked_at_the_cap(mismatches: list[dict[str, str]]) -> None:
    sent: list[tuple[str, dict[str, Any]]] = []
    assert len(_call_ids(_adapter(_listing(total=25, cap=10), sent))) == 25
    assert [(body["pageNo"], body["pageSize"]) for _, body in sent] == [(1, 100), (2, 10), (3, 10), (4, 10)]
    assert mismatches == [{"vendor": "blu"}]


def test_a_blu_that_counts_offsets_in_the_size_asked_still_gives_every_result() -> None:
    """Capped at 10 a page, yet page n starts at (n - 1) x the size asked: asking the cap reaches every row."""
    rows = _rows(250)

    def answer(path: str, body: dict[str, Any]) -> dict[str, Any]:
        start = (body["pageNo"] - 1) * body["pageSize"]
        page = rows[start : start + min(body["pageSize"], 10)]
        return {"code": 2000, "count": len(page), "data": page}

    assert len(set(_call_ids(_adapter(answer)))) == 250


@pytest.mark.parametrize(("total", "requests"), [(0, 1), (7, 2), (100, 2), (230, 4)])
def test_a_blu_that_honours_the_size_asked_costs_one_request_more_than_its_pages(
    total: int, requests: int, mismatches: list[dict[str, str]]
) -> None:
    sent: list[tuple[str, dict[str, Any]]] = []
    assert len(_call_ids(_adapter(_listing(total, cap=100), sent))) == total
    assert len(sent) == requests and sent[0][1] == {"taskId": "66635573", "pageNo": 1, "pageSize": 100}
    assert mismatches == []


def test_the_accounts_page_size_is_the_size_asked() -> None:
    sent: list[tuple[str, dict[str, Any]]] = []
    assert len(_call_ids(_adapter(_listing(total=25, cap=100), sent, pageSize=10))) == 25
    assert [body["pageSize"] for _, body in sent] == [10, 10, 10, 10]


def test_a_blu_that_ignores_the_page_number_is_read_once_and_counted(mismatches: list[dict[str, str]]) -> None:
    rows = _rows(100)
    sent: list[tuple[str, dict[str, Any]]] = []
    adapter = _adapter(lambda path, body: {"code": 2000, "count": 100, "data": rows}, sent)
    assert len(_call_ids(adapter)) == 100
    assert len(sent) == 2 and mismatches == [{"vendor": "blu"}]


def test_a_page_that_repeats_some_rows_yields_only_the_new_ones() -> None:
    pages = {1: _rows(3), 2: _rows(3, first=2), 3: []}  # page 2 repeats call 502
    adapter = _adapter(lambda path, body: {"code": 2000, "data": pages[body["pageNo"]]}, pageSize=3)
    assert _call_ids(adapter) == ["500", "501", "502", "503", "504"]


def test_rows_without_a_call_id_end_the_reading_and_are_counted(mismatches: list[dict[str, str]]) -> None:
    pages = {1: _rows(2), 2: [{"code": "PTP"}, {"callId": ""}]}
    adapter = _adapter(lambda path, body: {"code": 2000, "data": pages[body["pageNo"]]}, pageSize=2)
    assert _call_ids(adapter) == ["500", "501"]
    assert mismatches == [{"vendor": "blu"}]


@pytest.mark.parametrize(
    ("page", "counted"),
    [
        ({"count": 2, "data": _rows(2)}, 0),
        ({"count": "2", "data": _rows(2)}, 0),
        ({"data": _rows(2)}, 0),  # no count: nothing to disagree with
        ({"count": 40, "data": _rows(2)}, 1),  # a count of the task, not of the page
        ({"count": 2, "data": [*_rows(1), "row"]}, 1),  # a row that is not an object is left out
    ],
)
def test_a_page_that_disagrees_with_its_own_count_is_read_and_counted(
    page: dict[str, Any], counted: int, mismatches: list[dict[str, str]]
) -> None:
    pages = {1: page, 2: {"data": []}}
    adapter = _adapter(lambda path, body: {"code": 2000} | pages[body["pageNo"]], pageSize=2)
    assert _call_ids(adapter) == [row["callId"] and str(row["callId"]) for row in page["data"] if isinstance(row, dict)]
    assert len(mismatches) == counted


def test_paging_stops_at_the_page_limit_and_says_so(
    monkeypatch: pytest.MonkeyPatch, mismatches: list[dict[str, str]]
) -> None:
    monkeypatch.setattr("dialhub.vendors.blu.adapter.MAX_PAGES", 3)
    assert len(_call_ids(_adapter(_listing(total=1_000, cap=100)))) == 300
    assert mismatches == [{"vendor": "blu"}]


def test_a_result_page_that_is_not_a_list_is_a_refusal() -> None:
    from dialhub.vendors.base import VendorRejected

    with pytest.raises(VendorRejected, match="queryCallResult data is not a list"):
        _call_ids(_adapter(lambda path, body: {"code": 2000, "data": {"callId": 1}}))


# --------------------------------------------------------------------------------------------- case 2: upload count
def _upload_answer(count: Any) -> Handler:
    def answer(path: str, body: dict[str, Any]) -> dict[str, Any]:
        assert path == PATH_UPLOAD
        reply = {"code": 2000, "message": "success", "jobId": 20261125001}
        return reply if count is ... else reply | {"count": count}

    return answer


def _submit(count: Any, contacts: tuple[str, ...] = ("c1", "c2", "c3")) -> Any:
    adapter = _adapter(_upload_answer(count))
    return adapter.submit(Submission(_campaign(), TASK, [_dial(contact) for contact in contacts], "k"))


def test_an_upload_counted_lower_than_sent_leaves_every_record_unconfirmed() -> None:
    """Issue 19, case 2: three records sent, `count: 1` answered; all three were marked accepted."""
    result = _submit(1)
    assert result.accepted == {}
    assert result.unconfirmed == {contact: str(record_id("cmp-1", contact, 1)) for contact in ("c1", "c2", "c3")}
    assert result.rejected == {}
    assert result.mismatches == ["uploadAndStartJob counted 1 of the 3 records sent"]
    assert result.job_id == "20261125001"


@pytest.mark.parametrize("count", [3, "3", " 3 "])
def test_an_upload_counted_as_sent_is_accepted(count: Any) -> None:
    result = _submit(count)
    assert list(result.accepted) == ["c1", "c2", "c3"]
    assert (result.unconfirmed, result.mismatches) == ({}, [])


def test_an_upload_counted_higher_than_sent_is_accepted_and_the_disagreement_kept() -> None:
    result = _submit(5)
    assert list(result.accepted) == ["c1", "c2", "c3"] and result.unconfirmed == {}
    assert result.mismatches == ["uploadAndStartJob counted 5, more than the 3 records sent"]


@pytest.mark.parametrize(
    ("count", "kind"), [(..., "NoneType"), (None, "NoneType"), ("three", "str"), (2.0, "float"), (True, "bool")]
)
def test_an_upload_without_a_readable_count_leaves_every_record_unconfirmed(count: Any, kind: str) -> None:
    result = _submit(count)
    assert result.accepted == {} and list(result.unconfirmed) == ["c1", "c2", "c3"]
    assert result.mismatches == [f"uploadAndStartJob answered no readable count ({kind})"]


def test_a_resend_of_records_blu_already_holds_is_unconfirmed_not_accepted_twice() -> None:
    """A3: Blu ignores ids it holds, so a resend answers 0; the poller settles those from the results."""
    result = _submit(0, ("c1",))
    assert result.accepted == {} and list(result.unconfirmed) == ["c1"]


def test_a_refused_upload_stays_refused_whatever_it_counts() -> None:
    adapter = _adapter(lambda path, body: {"code": 4005, "message": "illegal characters", "count": 0})
    result = adapter.submit(Submission(_campaign(), TASK, [_dial("c1"), _dial("c2")], "k"))
    assert result.rejected == {"c1": "blu error 4005: illegal characters", "c2": "blu error 4005: illegal characters"}
    assert (result.accepted, result.unconfirmed, result.mismatches) == ({}, {}, [])


# --------------------------------------------------------------------------------------------- case 3: callbacks
def _callback(body: Any) -> InboundCallback:
    raw = json.dumps(body).encode()
    return InboundCallback(kind="", body=raw, headers={}, query={"token": WEBHOOK_TOKEN}, source_ip="47.100.10.20")


DOCUMENTED_SHAPE = {
    "taskId": 66635573,
    "records": [
        {"callId": 991, "code": "PTP", "extVars": json.dumps({"campaignId": "cmp-1", "contactId": "c1"})},
        {"id": 55667448, "name": "Anoj Mohoo", "mobile": "0177****3990", "extVars": "{}", "callVars": "{}"},
    ],
}


def test_a_callback_in_the_documented_shape_carries_its_task_and_counts_what_it_could_not_read() -> None:
    """Issue 19, case 3: the envelope's taskId was dropped and the record without a result was acknowledged."""
    parsed = BluAdapter(blu_account("http://blu.invalid")).parse_callback(_callback(DOCUMENTED_SHAPE))
    assert isinstance(parsed, OutcomeReport)
    [outcome] = parsed.outcomes
    assert (outcome.vendor_call_id, outcome.vendor_task_id, outcome.contact_id) == ("991", "66635573", "c1")
    assert parsed.unread == 1


def test_a_callback_whose_records_carry_no_result_is_answered_422_so_blu_sends_it_again() -> None:
    adapter = BluAdapter(blu_account("http://blu.invalid"))
    placeholder = {"taskId": 66635573, "records": [DOCUMENTED_SHAPE["records"][1]]}  # type: ignore[index]
    reply = handle_callback("blu", _callback(placeholder), StaticAdapters({"blu": adapter}), None, NOW, False)  # type: ignore[arg-type]
    assert reply == Reply(422, {"message": "1 entries carry no call result; nothing stored for them"})


def _parsed(body: Any) -> OutcomeReport:
    parsed = BluAdapter(blu_account("http://blu.invalid")).parse_callback(_callback(body))
    assert isinstance(parsed, OutcomeReport)
    return parsed


def test_a_records_own_task_id_wins_over_the_envelopes() -> None:
    body = {"taskId": 1, "records": [{"callId": 1, "taskId": 2}, {"callId": 2, "taskId": ""}, {"callId": 3}]}
    assert [o.vendor_task_id for o in _parsed(body).outcomes] == ["2", "1", "1"]


def test_a_data_wrapper_carries_its_task_id_too() -> None:
    assert [o.vendor_task_id for o in _parsed({"taskId": 7, "data": {"callId": 1}}).outcomes] == ["7"]
    assert [o.vendor_task_id for o in _parsed({"data": [{"callId": 1}]}).outcomes] == [None]


@pytest.mark.parametrize(
    ("body", "read", "unread"),
    [
        ({"callId": 1, "code": "PTP"}, 1, 0),
        ({"callId": "", "code": "PTP"}, 0, 1),
        ([{"callId": 1}, {"code": "PTP"}, {"callId": None}], 1, 2),
        ({"data": []}, 0, 0),
        ({"taskId": 5, "records": []}, 0, 0),
        ({"taskId": 5, "records": [{"id": 1}, {"id": 2}]}, 0, 2),
    ],
)
def test_every_entry_without_a_call_id_is_counted_unread(body: Any, read: int, unread: int) -> None:
    parsed = _parsed(body)
    assert (len(parsed.outcomes), parsed.unread) == (read, unread)

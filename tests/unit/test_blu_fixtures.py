"""Blu's own JSON examples (tests/fixtures/blu, repaired only where they were not JSON) read as Blu's pages
say they should: what we send has the documented shape, and what Blu answers means what the page says."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import httpx

from dialhub.dispositions import CallStatus, Disposition
from dialhub.models import Campaign, OutcomeSource, VendorTask
from dialhub.vendors import StaticAdapters
from dialhub.vendors.base import DialRequest, InboundCallback, OutcomeReport, Submission
from dialhub.vendors.blu.adapter import BluAdapter
from dialhub.vendors.blu.codes import PATH_CANCEL, PATH_RESULTS, PATH_UPLOAD
from dialhub.webhooks import handle_callback
from tests.conftest import WEBHOOK_TOKEN, blu_account

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "blu"
NOW = dt.datetime(2026, 11, 25, 3, 0, tzinfo=dt.UTC)
TASK = VendorTask(campaign_id="cmp-1", vendor="blu", local_date=dt.date(2026, 11, 25), vendor_task_id="66635573")


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def _adapter_answering(answers: dict[str, list[Any]], sent: list[dict[str, Any]]) -> BluAdapter:
    """An adapter whose requests to each path get the next of that path's answers."""

    def handle(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        return httpx.Response(200, json=answers[request.url.path].pop(0))

    http = httpx.Client(base_url="http://blu.invalid", transport=httpx.MockTransport(handle))
    return BluAdapter(blu_account("http://blu.invalid"), http=http)


def _campaign() -> Campaign:
    return Campaign(
        campaign_id="cmp-1", name="c", vendor="blu", dial_date=TASK.local_date, timezone="Asia/Manila",
        vendor_options={"botId": 123}, created_at=NOW,
    )  # fmt: skip


def _dial(contact_id: str) -> DialRequest:
    return DialRequest("cmp-1", contact_id, 1, "+639171234567", "Maria", {"ClientName": "Bob"})


def _callback(body: Any) -> InboundCallback:
    raw = json.dumps(body).encode()
    return InboundCallback(kind="", body=raw, headers={}, query={"token": WEBHOOK_TOKEN}, source_ip="47.100.10.20")


def _types(value: dict[str, Any]) -> dict[str, type]:
    return {key: type(item) for key, item in value.items()}


def test_every_example_is_in_the_fixtures_and_is_json() -> None:
    names = sorted(path.name for path in FIXTURES.glob("*.json"))
    assert names == [
        "callback_answer.json",
        "callback_request.json",
        "cancel_answer.json",
        "cancel_request.json",
        "predial_answer.json",
        "query_answer.json",
        "query_request.json",
        "upload_answer.json",
        "upload_request.json",
    ]
    assert all(isinstance(fixture(name), dict) for name in names)


def test_our_upload_has_the_documented_record_shape_and_the_answer_counts_what_was_taken() -> None:
    documented = fixture("upload_request.json")
    [example] = documented["records"]
    assert json.loads(example["extVars"]) == {"uniqueId": "12345678", "orderId": 10000}  # JSON as text
    assert json.loads(example["callVars"]) == {"ClientName": "Bob", "OverDueDays": "1"}

    sent: list[dict[str, Any]] = []
    adapter = _adapter_answering({PATH_UPLOAD: [fixture("upload_answer.json")]}, sent)
    result = adapter.submit(Submission(_campaign(), TASK, [_dial("c1"), _dial("c2")], "k"))
    [body] = sent
    assert _types(body) == _types(documented)  # taskId a number, records a list
    assert all(_types(record) == _types(example) for record in body["records"])
    assert all(isinstance(json.loads(record["extVars"]), dict) for record in body["records"])
    # "count": 2 for the two records sent: both taken; jobId kept.
    assert list(result.accepted) == ["c1", "c2"] and result.unconfirmed == {} and result.mismatches == []
    assert result.job_id == "20210203748"


def test_our_cancel_has_the_documented_shape_and_its_answer_is_success() -> None:
    sent: list[dict[str, Any]] = []
    adapter = _adapter_answering({PATH_CANCEL: [fixture("cancel_answer.json")]}, sent)
    adapter.cancel(TASK, _dial("c1"))  # raises VendorRejected unless the answer is a success
    [body] = sent
    assert _types(body) == _types(fixture("cancel_request.json")) == {"taskId": int, "mobile": str, "orderId": int}


def test_the_predial_do_not_call_answer_is_ours() -> None:
    adapter = BluAdapter(blu_account("http://blu.invalid"))
    assert adapter.predial_reply(False).body == fixture("predial_answer.json")


def test_the_query_example_reads_as_one_promise_to_pay() -> None:
    sent: list[dict[str, Any]] = []
    empty = {"code": 2000, "message": "success", "count": 0, "data": []}
    adapter = _adapter_answering({PATH_RESULTS: [fixture("query_answer.json"), empty]}, sent)
    [[outcome]] = list(adapter.results(TASK))
    assert _types(sent[0])["taskId"] is _types(fixture("query_request.json"))["taskId"] is str
    assert (outcome.vendor_call_id, outcome.vendor_task_id) == ("123654", "66547748")
    assert (outcome.status, outcome.disposition) == (CallStatus.ANSWERED, Disposition.PROMISE_TO_PAY)
    assert (outcome.vendor_code, outcome.vendor_description, outcome.vendor_status) == (
        "PTP",
        "Promised to payback",
        "2",
    )
    # Account-local wall clock (Asia/Manila, UTC+8) read into UTC; duration is the talk time.
    assert outcome.started_at == dt.datetime(2024, 1, 1, 5, 0, 0, tzinfo=dt.UTC)
    assert outcome.answered_at == dt.datetime(2024, 1, 1, 5, 0, 10, tzinfo=dt.UTC)
    assert outcome.ended_at == dt.datetime(2024, 1, 1, 5, 0, 50, tzinfo=dt.UTC)
    assert outcome.duration_seconds == 40
    assert outcome.recording_url is not None and outcome.recording_url.startswith("https://bluapi.shanghu.ai/")
    assert (outcome.campaign_id, outcome.contact_id, outcome.source) == (None, None, OutcomeSource.POLL)  # "{}"


def test_the_callback_example_carries_no_result_so_it_is_not_acknowledged() -> None:
    """The page prints the upload body: a record with no callId is no result; 422 makes Blu send it again."""
    adapter = BluAdapter(blu_account("http://blu.invalid"))
    parsed = adapter.parse_callback(_callback(fixture("callback_request.json")))
    assert isinstance(parsed, OutcomeReport) and (parsed.outcomes, parsed.unread) == ([], 1)
    adapters = StaticAdapters({"blu": adapter})
    store: Any = None  # nothing is stored: the one entry carries no result
    assert (
        handle_callback("blu", _callback(fixture("callback_request.json")), adapters, store, NOW, False).status == 422
    )


def test_our_acknowledgement_is_the_documented_answer() -> None:
    adapter = BluAdapter(blu_account("http://blu.invalid"))
    assert adapter.acknowledge(_callback({})).body == fixture("callback_answer.json")

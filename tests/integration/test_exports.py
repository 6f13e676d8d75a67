"""Exports through the real API and exports handler, against moto's S3 with the bucket built from template.yaml:
the file's shape (Excel's CSV, JSON Lines), parts and pages, a crash part-way and a retry, an invocation running
out of time, and the job's answers."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError

from dialhub import exports
from dialhub.dispositions import CallStatus, Disposition
from dialhub.models import CallOutcome
from dialhub.objects import BucketObjects
from dialhub.outcomes import record_outcomes
from dialhub.wiring import Dependencies
from local.drivers import SqsDriver
from local.scenario import demo_contacts
from local.template import SamTemplate
from tests.conftest import api_event, call_api, function_module


@dataclass
class Context:
    """A Lambda context whose remaining time the test sets (the exports function plans around it)."""

    seconds: float = 900.0
    aws_request_id: str = "test-request"
    function_name: str = "dialhub-test-exports"

    def get_remaining_time_in_millis(self) -> int:
        return int(self.seconds * 1000)


def _campaign(deps: Dependencies, count: int, prefix: str = "exp", **contact_changes: Any) -> str:
    contacts = [contact | contact_changes for contact in demo_contacts(count, prefix=prefix)]
    for start in range(0, count or 1, 10_000):
        body = {
            "name": f"Export {prefix}",
            "vendor": "blu",
            "vendorOptions": {"botId": 1},
            "campaignId": f"cmp-{prefix}",
            "contacts": contacts[start : start + 10_000],
        }
        status, created = call_api(deps, api_event("api/create_campaign.json", body=body))
        assert status == 201, created
    return f"cmp-{prefix}"


def _close(deps: Dependencies, campaign_id: str, contact_ids: list[str], **variables: Any) -> None:
    outcomes = [
        CallOutcome(
            vendor="blu",
            vendor_call_id=f"call-{contact_id}",
            campaign_id=campaign_id,
            contact_id=contact_id,
            status=CallStatus.ANSWERED,
            disposition=Disposition.PROMISE_TO_PAY,
            duration_seconds=30,
            started_at=dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC),
            variables={"slots": {"promiseDate": "2026-12-05", **variables}},
        )
        for contact_id in contact_ids
    ]
    record_outcomes(outcomes, deps.store, deps.clock())


def _start(deps: Dependencies, campaign_id: str, **body: Any) -> dict[str, Any]:
    status, view = call_api(deps, api_event("api/start_export.json", path={"campaignId": campaign_id}, body=body))
    assert status == 202, view
    assert view["state"] == "running" and view["rows"] == 0
    return view


def _run(deps: Dependencies, template: SamTemplate, context: Context | None = None) -> list[dict[str, Any]]:
    """Deliver the export queue to the exports handler as Lambda's event source would (a failed record comes
    back, with its receive count up), until it is empty, continuations included; the handler's answers."""
    answers = []

    def invoke(_: str, event: dict[str, Any]) -> dict[str, Any]:
        answers.append(function_module("exports").handle(event, context or Context(), deps))
        return answers[-1]

    SqsDriver(
        deps.export_queue.client, template.sqs_source("ExportsFunction"), deps.export_queue.queue_url, invoke
    ).drain(max_rounds=500)
    return answers


def _view(deps: Dependencies, export_id: str) -> dict[str, Any]:
    status, view = call_api(deps, api_event("api/get_export.json", path={"exportId": export_id}))
    assert status == 200, view
    return view


def _file(deps: Dependencies, campaign_id: str, export_id: str, extension: str = "csv") -> bytes:
    key = f"exports/{campaign_id}/{export_id}.{extension}"
    return deps.objects.client.get_object(Bucket=deps.objects.bucket, Key=key)["Body"].read()


def _csv_rows(data: bytes) -> list[dict[str, str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 only with the BOM
    return list(csv.DictReader(io.StringIO(data[3:].decode("utf-8"), newline="")))


@pytest.mark.heavy
def test_a_csv_export_larger_than_one_dynamodb_page_has_every_contact_once(
    export_deps: Dependencies, template: SamTemplate
) -> None:
    campaign_id = _campaign(export_deps, 2_300)
    _close(export_deps, campaign_id, [f"exp-{index:05d}" for index in range(0, 2_300, 3)], promiseAmount=4500)
    view = _start(export_deps, campaign_id)
    assert _run(export_deps, template) == [{"batchItemFailures": []}]
    done = _view(export_deps, view["exportId"])
    assert done["state"] == "done" and done["rows"] == 2_300 and done["url"].startswith("https://")
    data = _file(export_deps, campaign_id, view["exportId"])
    assert done["bytes"] == len(data)
    assert data.count(b"\r\n") == 2_301 and b"\n" not in data.replace(b"\r\n", b"")  # RFC 4180 line ends
    rows = _csv_rows(data)
    assert [row["contactId"] for row in rows] == [f"exp-{index:05d}" for index in range(2_300)]
    assert list(rows[0]) == [
        *exports.FIXED_COLUMNS,
        "variables.amountDue",
        "variables.dueDate",
        "variables.loanId",
        "collected.slots.promiseAmount",
        "collected.slots.promiseDate",
    ]
    closed = rows[3]
    assert (closed["state"], closed["disposition"], closed["vendorCallId"], closed["durationSeconds"]) == (
        "final",
        "promise_to_pay",
        "call-exp-00003",
        "30",
    )
    assert (closed["collected.slots.promiseAmount"], closed["collected.slots.promiseDate"]) == ("4500", "2026-12-05")
    assert closed["startedAt"] == "2026-11-30 09:00:00"
    queued = rows[1]
    assert queued["state"] == "queued" and queued["disposition"] == "" and queued["variables.loanId"] == "L1"
    assert all(row["phone"].startswith("***") and len(row["phone"]) == 7 for row in rows)
    # A multipart upload: a part closes at the end of the read (1,000 rows) that takes it past 16 KiB here.
    job = export_deps.store.get_export(view["exportId"])
    assert [part.number for part in job.progress.parts] == [1, 2, 3]


def test_a_state_filter_and_json_lines(export_deps: Dependencies, template: SamTemplate) -> None:
    campaign_id = _campaign(export_deps, 40)
    _close(export_deps, campaign_id, [f"exp-{index:05d}" for index in range(0, 40, 4)])
    view = _start(export_deps, campaign_id, format="jsonl", state="final")
    _run(export_deps, template)
    assert _view(export_deps, view["exportId"])["rows"] == 10
    lines = _file(export_deps, campaign_id, view["exportId"], "jsonl").decode().splitlines()
    items = [json.loads(line) for line in lines]
    assert [item["contactId"] for item in items] == [f"exp-{index:05d}" for index in range(0, 40, 4)]
    # A line is the listing's item: the same object GET /campaigns/{id}/contacts answers.
    status, page = call_api(
        export_deps,
        api_event("api/list_contacts.json", path={"campaignId": campaign_id}, query={"state": "final", "limit": 3}),
    )
    assert status == 200 and page["items"] == items[:3]


def test_cells_a_spreadsheet_would_run_as_formulas_are_neutralised(
    export_deps: Dependencies, template: SamTemplate
) -> None:
    hostile = {
        "memo": '=HYPERLINK("http://evil.example","click")',
        "plus": "+1+2",
        "minus": "-3",
        "at": "@SUM(A1)",
        "tab": "\tx",
        "quote": 'say "hi", then go',
        "amount": -250,
        "fine": "a=b",
    }
    campaign_id = _campaign(export_deps, 2, variables=hostile)
    _close(export_deps, campaign_id, ["exp-00000"], note="=cmd|' /C calc'!A0")
    view = _start(export_deps, campaign_id)
    _run(export_deps, template)
    rows = _csv_rows(_file(export_deps, campaign_id, view["exportId"]))
    row = rows[0]
    assert row["variables.memo"] == "'" + hostile["memo"]
    assert (row["variables.plus"], row["variables.minus"], row["variables.at"], row["variables.tab"]) == (
        "'+1+2",
        "'-3",
        "'@SUM(A1)",
        "'\tx",
    )
    assert row["variables.quote"] == hostile["quote"]  # quoted by CSV's rules, read back whole
    assert row["variables.amount"] == "-250"  # a number stays a number
    assert row["variables.fine"] == "a=b"
    assert row["collected.slots.note"] == "'=cmd|' /C calc'!A0"
    assert all(
        not value.startswith(("=", "+", "-", "@"))
        for row in rows
        for value in row.values()
        if value and not value.lstrip("-").isdigit()
    )


@pytest.mark.heavy
def test_a_crash_part_way_is_retried_from_the_last_saved_part_into_one_whole_file(
    export_deps: Dependencies, template: SamTemplate, monkeypatch: pytest.MonkeyPatch
) -> None:
    campaign_id = _campaign(export_deps, 1_500)
    _close(export_deps, campaign_id, [f"exp-{index:05d}" for index in range(0, 1_500, 2)])
    view = _start(export_deps, campaign_id)
    real_upload = BucketObjects.upload_part
    uploads: Counter[int] = Counter()

    def crash_on_the_second_part(self: BucketObjects, key: str, upload_id: str, number: int, body: bytes) -> str:
        uploads[number] += 1
        etag = real_upload(self, key, upload_id, number, body)
        if number == 2 and uploads[2] == 1:  # uploaded, but the progress after it never saved
            raise ClientError({"Error": {"Code": "InternalError", "Message": "injected"}}, "UploadPart")
        return etag

    monkeypatch.setattr(BucketObjects, "upload_part", crash_on_the_second_part)
    answers = _run(export_deps, template)
    assert answers[0]["batchItemFailures"]  # the crash went back to SQS, which delivered it again
    assert answers[-1] == {"batchItemFailures": []}
    assert uploads[2] == 2 and uploads[1] == 1  # part 2 written again from the saved position; part 1 kept
    done = _view(export_deps, view["exportId"])
    rows = _csv_rows(_file(export_deps, campaign_id, view["exportId"]))
    assert done["state"] == "done" and done["rows"] == len(rows) == 1_500
    assert [row["contactId"] for row in rows] == [f"exp-{index:05d}" for index in range(1_500)]
    listing = export_deps.objects.client.list_objects_v2(Bucket=export_deps.objects.bucket)["Contents"]
    assert [item["Key"] for item in listing] == [f"exports/{campaign_id}/{view['exportId']}.csv"]
    assert export_deps.objects.client.list_multipart_uploads(Bucket=export_deps.objects.bucket).get("Uploads") is None


def test_a_crash_after_completing_counts_the_file_as_done_and_writes_no_second_one(
    export_deps: Dependencies, template: SamTemplate, monkeypatch: pytest.MonkeyPatch
) -> None:
    campaign_id = _campaign(export_deps, 600)
    view = _start(export_deps, campaign_id)
    real_finish = type(export_deps.store).finish_export
    calls = Counter[str]()

    def crash_once(self: Any, *args: Any, **kwargs: Any) -> bool:
        calls["finish"] += 1
        if calls["finish"] == 1:
            raise ClientError({"Error": {"Code": "InternalServerError", "Message": "injected"}}, "UpdateItem")
        return real_finish(self, *args, **kwargs)

    monkeypatch.setattr(type(export_deps.store), "finish_export", crash_once)
    _run(export_deps, template)
    done = _view(export_deps, view["exportId"])
    rows = _csv_rows(_file(export_deps, campaign_id, view["exportId"]))
    assert calls["finish"] == 2 and done["state"] == "done" and done["rows"] == len(rows) == 600


def test_an_invocation_out_of_time_stops_at_a_saved_part_and_the_next_carries_on(
    export_deps: Dependencies, template: SamTemplate, monkeypatch: pytest.MonkeyPatch
) -> None:
    campaign_id = _campaign(export_deps, 3_000)
    view = _start(export_deps, campaign_id)
    reads = Counter[str]()
    real_pages = exports._Pages.from_

    def few_pages_per_invocation(self: Any, after: str | None) -> Any:
        for results in real_pages(self, after):
            reads["pages"] += 1
            yield results

    monkeypatch.setattr(exports._Pages, "from_", few_pages_per_invocation)

    class Shrinking(Context):
        """Each invocation has time for about two reads before the stop margin."""

        def get_remaining_time_in_millis(self) -> int:
            return int((exports.STOP_MARGIN_SECONDS + (1 if reads["pages"] % 2 == 0 else -1)) * 1000)

    answers = _run(export_deps, template, Shrinking())
    assert len(answers) > 3 and all(answer == {"batchItemFailures": []} for answer in answers)
    rows = _csv_rows(_file(export_deps, campaign_id, view["exportId"]))
    assert [row["contactId"] for row in rows] == [f"exp-{index:05d}" for index in range(3_000)]
    assert _view(export_deps, view["exportId"])["rows"] == 3_000


def test_a_variable_first_seen_while_writing_restarts_the_rows_with_its_column(
    export_deps: Dependencies, template: SamTemplate, monkeypatch: pytest.MonkeyPatch
) -> None:
    campaign_id = _campaign(export_deps, 1_200)
    view = _start(export_deps, campaign_id)
    real_write = exports._Run.write_rows
    arrived = []

    def outcome_arrives_between_the_passes(self: Any) -> None:
        if not arrived:
            arrived.append(True)
            _close(export_deps, campaign_id, ["exp-01100"], lateField="late")
        real_write(self)

    monkeypatch.setattr(exports._Run, "write_rows", outcome_arrives_between_the_passes)
    _run(export_deps, template)
    rows = _csv_rows(_file(export_deps, campaign_id, view["exportId"]))
    assert len(rows) == 1_200 and rows[1_100]["collected.slots.lateField"] == "late"
    assert [row["contactId"] for row in rows] == [f"exp-{index:05d}" for index in range(1_200)]


def test_an_empty_campaign_exports_a_header_and_an_empty_json_lines_file(
    export_deps: Dependencies, template: SamTemplate
) -> None:
    campaign_id = _campaign(export_deps, 0)
    csv_view, jsonl_view = _start(export_deps, campaign_id), _start(export_deps, campaign_id, format="jsonl")
    _run(export_deps, template)
    assert _file(export_deps, campaign_id, csv_view["exportId"]).startswith(b"\xef\xbb\xbfcontactId,phone,")
    assert _file(export_deps, campaign_id, jsonl_view["exportId"], "jsonl") == b""
    assert _view(export_deps, jsonl_view["exportId"])["state"] == "done"


def test_an_export_that_keeps_failing_ends_failed_with_a_reason(
    export_deps: Dependencies, template: SamTemplate, monkeypatch: pytest.MonkeyPatch
) -> None:
    campaign_id = _campaign(export_deps, 3)
    view = _start(export_deps, campaign_id)

    def broken(*_: Any, **__: Any) -> None:
        raise ClientError({"Error": {"Code": "InternalError", "Message": "injected"}}, "PutObject")

    monkeypatch.setattr(BucketObjects, "put", broken)
    answers = _run(export_deps, template)
    assert len(answers) == 3 and answers[-1] == {"batchItemFailures": []}
    failed = _view(export_deps, view["exportId"])
    assert failed["state"] == "failed" and failed["url"] is None
    assert failed["error"] == "internal error; it has been logged"


def test_the_job_answers_404_for_unknown_ids_and_422_for_bad_bodies(export_deps: Dependencies) -> None:
    status, body = call_api(export_deps, api_event("api/get_export.json", path={"exportId": "exp_nope"}))
    assert status == 404
    status, body = call_api(
        export_deps, api_event("api/start_export.json", path={"campaignId": "cmp-nope"}, body={"format": "csv"})
    )
    assert status == 404
    campaign_id = _campaign(export_deps, 1)
    for bad, field in (
        ({"format": "xlsx"}, "body.format"),
        ({"state": "gone"}, "body.state"),
        ({"includePhone": "yes please"}, "body.includePhone"),
    ):
        status, body = call_api(
            export_deps, api_event("api/start_export.json", path={"campaignId": campaign_id}, body=bad)
        )
        assert status == 422 and [error["field"] for error in body["errors"]] == [field], bad


def test_a_done_export_links_for_export_url_minutes_and_expires_with_its_file(
    export_deps: Dependencies, template: SamTemplate
) -> None:
    campaign_id = _campaign(export_deps, 2)
    view = _start(export_deps, campaign_id)
    _run(export_deps, template)
    asked = dt.datetime.now(dt.UTC)
    done = _view(export_deps, view["exportId"])
    assert "X-Amz-Expires=900" in done["url"]  # ExportUrlMinutes, 15 by default
    expires = dt.datetime.fromisoformat(done["expiresAt"])
    assert dt.timedelta(minutes=14) < expires - asked <= dt.timedelta(minutes=15, seconds=5)
    later = Dependencies(
        settings=export_deps.settings,
        store=export_deps.store,
        queue=export_deps.queue,
        adapters=export_deps.adapters,
        clock=lambda: asked + dt.timedelta(days=8),
    )
    gone = _view(later, view["exportId"])
    assert gone["state"] == "expired" and gone.get("url") is None

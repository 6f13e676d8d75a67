"""Contact files imported as analysts have them: the API's upload link, the importer reading the file S3
announced, every row stored once or rejected with its row number, whatever is announced twice or crashes."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from dialhub.imports import service
from dialhub.models import ImportState
from dialhub.wiring import Dependencies
from local.stack import create_buckets
from tests.conftest import FakeContext, api_event, call_api, function_module
from tests.integration.test_blu_flow import _campaign

HEADER = "loan_id,手机号,nama,amount_due\n"


@pytest.fixture
def import_deps(deps: Dependencies, template: Any) -> Dependencies:
    """`deps` with the import bucket (built from template.yaml, policy and all) and an import queue."""
    resolver = create_buckets(template, template.resolver(), boto3.client("s3"))
    queue_url = boto3.client("sqs").create_queue(QueueName="dialhub-test-imports")["QueueUrl"]
    settings = deps.settings.model_copy(
        update={"import_bucket": resolver.refs["ImportBucket"], "import_queue_url": queue_url}
    )
    return Dependencies(settings=settings, store=deps.store, queue=deps.queue, adapters=deps.adapters, clock=deps.clock)


def _start(deps: Dependencies, campaign_id: str, **request: Any) -> dict[str, Any]:
    body = {"format": "csv"} | request
    status, view = call_api(deps, api_event("api/start_import.json", path={"campaignId": campaign_id}, body=body))
    assert status == 201, view
    return view


def _upload(deps: Dependencies, import_id: str, content: bytes) -> None:
    deps.import_objects.client.put_object(Bucket=deps.import_objects.bucket, Key=f"uploads/{import_id}", Body=content)


def _announced(deps: Dependencies, import_id: str) -> dict[str, Any]:
    """The SQS record of S3's "Object Created" event, as EventBridge puts it on the import queue."""
    detail = {"bucket": {"name": deps.import_objects.bucket}, "object": {"key": f"uploads/{import_id}"}}
    body = {"source": "aws.s3", "detail-type": "Object Created", "detail": detail}
    return {"messageId": f"m-{import_id}", "body": json.dumps(body), "attributes": {"ApproximateReceiveCount": "1"}}


def _run(deps: Dependencies, *records: dict[str, Any], context: Any = None) -> dict[str, Any]:
    return function_module("importer").handle({"Records": list(records)}, context or FakeContext(), deps)


def _view(deps: Dependencies, import_id: str) -> dict[str, Any]:
    status, view = call_api(deps, api_event("api/get_import.json", path={"importId": import_id}))
    assert status == 200
    return view


def _rejections(deps: Dependencies, import_id: str) -> list[list[str]]:
    raw = deps.import_objects.read(f"rejections/{import_id}.csv").decode("utf-8-sig")
    return list(csv.reader(io.StringIO(raw)))


def _file(rows: int, bad: Callable[[int], str | None] = lambda _: None) -> bytes:
    lines = [HEADER]
    for index in range(rows):
        lines.append(bad(index) or f"L{index:05d},0917{index:07d},Maria {index},{100 + index}\n")
    return "".join(lines).encode()


def test_a_file_with_bad_rows_is_read_once_and_every_row_is_accounted_for(import_deps: Any) -> None:
    deps = import_deps
    campaign_id = _campaign(deps, count=1)  # c0 exists already
    bad = {3: "L00003,12,Ana,1\n", 5: "c0,09170000005,Dup,1\n", 7: "L00001,09170000007,Again,1\n"}
    content = _file(10, bad.get)
    view = _start(deps, campaign_id)
    assert view["state"] == "awaiting_upload" and view["uploadUrl"].startswith("http")
    _upload(deps, view["importId"], content)

    assert _run(deps, _announced(deps, view["importId"])) == {"batchItemFailures": []}

    done = _view(deps, view["importId"])
    assert (done["state"], done["rowsRead"], done["accepted"], done["rejected"], done["duplicates"]) == (
        "done", 10, 7, 1, 2,
    )  # fmt: skip
    assert done["chosenColumns"]["phone"] == "手机号" and done["chosenColumns"]["contactId"] == "loan_id"
    assert done["chosenColumns"]["variables"] == {"amount_due": "amount_due"}
    contact = deps.store.get_contact(campaign_id, "L00009")
    assert contact is not None and contact.phone == "+639170000009" and contact.variables == {"amount_due": "109"}
    assert contact.name == "Maria 9" and contact.origin == f"{view['importId']}#11"  # row 11: the header is row 1
    header, *rows = _rejections(deps, view["importId"])
    assert header == ["row", "contactId", "field", "reason"]
    assert [(row[0], row[1], row[2]) for row in rows] == [
        ("5", "L00003", "phone"),
        ("7", "c0", "contactId"),
        ("9", "L00001", "contactId"),
    ]
    assert "repeated in the file (first at row 3)" in rows[2][3]
    assert done["rejectionsUrl"].startswith("http")


def test_the_same_upload_announced_twice_and_a_crash_mid_file_store_every_row_once(
    import_deps: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    deps = import_deps
    monkeypatch.setattr(service, "ROWS_PER_BATCH", 4)
    campaign_id = _campaign(deps, count=0)
    view = _start(deps, campaign_id)
    _upload(deps, view["importId"], _file(11, {6: "L00006,x,Bad,1\n"}.get))
    real_save, saves = deps.store.save_import_progress, []

    def crash_on_the_third_batch(*args: Any, **kwargs: Any) -> bool:
        saves.append(args)
        if len(saves) == 3:  # the header's save, two batches saved, then this batch's contacts are written: crash
            raise ConnectionError("the invocation died")
        return real_save(*args, **kwargs)

    monkeypatch.setattr(deps.store, "save_import_progress", crash_on_the_third_batch)
    assert _run(deps, _announced(deps, view["importId"]))["batchItemFailures"]  # SQS will deliver it again
    monkeypatch.setattr(deps.store, "save_import_progress", real_save)

    assert _run(deps, _announced(deps, view["importId"])) == {"batchItemFailures": []}
    assert _run(deps, _announced(deps, view["importId"])) == {"batchItemFailures": []}  # S3 announced it twice

    done = _view(deps, view["importId"])
    assert (done["state"], done["rowsRead"], done["accepted"], done["rejected"], done["duplicates"]) == (
        "done", 11, 10, 1, 0,
    )  # fmt: skip
    assert deps.store.campaign_counts(campaign_id).total == 10
    assert len(_rejections(deps, view["importId"])) == 2  # the header and row 8, once


def test_an_import_out_of_time_continues_from_its_checkpoint(import_deps: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    deps = import_deps
    monkeypatch.setattr(service, "ROWS_PER_BATCH", 5)

    class ShortOfTime(FakeContext):
        @staticmethod
        def get_remaining_time_in_millis() -> int:
            return 10_000  # below the stop margin after every batch

    campaign_id = _campaign(deps, count=0)
    view = _start(deps, campaign_id)
    _upload(deps, view["importId"], _file(12))
    invocations = 0
    record = _announced(deps, view["importId"])
    while True:
        invocations += 1
        assert _run(deps, record, context=ShortOfTime()) == {"batchItemFailures": []}
        messages = deps.import_queue.client.receive_message(QueueUrl=deps.import_queue.queue_url).get("Messages", [])
        if not messages:
            break
        record = {"messageId": "next", "body": messages[0]["Body"], "attributes": {"ApproximateReceiveCount": "1"}}
        deps.import_queue.client.delete_message(
            QueueUrl=deps.import_queue.queue_url, ReceiptHandle=messages[0]["ReceiptHandle"]
        )
    assert invocations == 3  # 5 + 5 + 2 rows
    done = _view(deps, view["importId"])
    assert (done["state"], done["rowsRead"], done["accepted"]) == ("done", 12, 12)
    assert deps.store.get_import(view["importId"]).progress.invocations == 3


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b"", "the file is empty"),
        (b"loan_id,nama\nL1,Maria\n", "no phone column"),
        (b"PK\x03\x04" + b"\x00" * 40, "zip"),
    ],
)
def test_a_file_that_cannot_be_imported_fails_with_its_reason_and_stores_nothing(
    import_deps: Any, content: bytes, error: str
) -> None:
    deps = import_deps
    campaign_id = _campaign(deps, count=0)
    view = _start(deps, campaign_id)
    _upload(deps, view["importId"], content)
    assert _run(deps, _announced(deps, view["importId"])) == {"batchItemFailures": []}
    failed = _view(deps, view["importId"])
    assert failed["state"] == "failed" and error in failed["error"], failed
    assert deps.store.campaign_counts(campaign_id).total == 0


def test_a_file_above_the_size_limit_fails_and_is_deleted(import_deps: Any) -> None:
    deps = import_deps
    deps.settings = deps.settings.model_copy(update={"import_max_megabytes": 1})
    campaign_id = _campaign(deps, count=0)
    view = _start(deps, campaign_id)
    assert view["maxBytes"] == 1024 * 1024
    _upload(deps, view["importId"], _file(40_000))
    _run(deps, _announced(deps, view["importId"]))
    failed = _view(deps, view["importId"])
    assert failed["state"] == "failed" and "above the 1 MB limit" in failed["error"]
    assert deps.import_objects.describe(f"uploads/{view['importId']}") is None


def test_an_xlsx_with_numbers_for_phones_imports_into_a_campaign_made_in_the_same_call(import_deps: Any) -> None:
    from openpyxl import Workbook

    deps = import_deps
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Today"
    sheet.append(["Loan No", "Mobile", "Name", "Due"])
    sheet.append(["A-1", 639171234567, "Maria", 1500.5])
    sheet.append(["A-2", 9171234568, "Jose", 200])
    buffer = io.BytesIO()
    workbook.save(buffer)
    campaign = {"name": "bucket 2", "vendor": "blu", "vendorOptions": {"botId": 7}}
    body = {"format": "xlsx", "sheet": "Today", "campaign": campaign}
    status, view = call_api(deps, api_event("api/start_campaign_import.json", body=body))
    assert status == 201, view
    _upload(deps, view["importId"], buffer.getvalue())
    _run(deps, _announced(deps, view["importId"]))
    done = _view(deps, view["importId"])
    assert (done["state"], done["accepted"], done["rejected"]) == ("done", 2, 0), done
    assert deps.store.get_contact(view["campaignId"], "A-1").phone == "+639171234567"
    assert deps.store.get_contact(view["campaignId"], "A-2").variables == {"Due": "200"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"format": "csv", "encoding": "klingon"}, "encoding"),
        ({"format": "pdf"}, "format"),
        ({"format": "csv", "columns": {"mobile": "x"}}, "columns"),
    ],
)
def test_a_bad_import_request_is_a_422_naming_its_field(import_deps: Any, body: dict[str, Any], field: str) -> None:
    campaign_id = _campaign(import_deps, count=0)
    status, answer = call_api(
        import_deps, api_event("api/start_import.json", path={"campaignId": campaign_id}, body=body)
    )
    assert status == 422 and field in json.dumps(answer), answer


def test_an_import_into_an_unknown_campaign_is_404_and_into_a_cancelled_one_409(import_deps: Any) -> None:
    status, _ = call_api(
        import_deps, api_event("api/start_import.json", path={"campaignId": "nope"}, body={"format": "csv"})
    )
    assert status == 404
    campaign_id = _campaign(import_deps, count=0)
    assert call_api(import_deps, api_event("api/cancel_campaign.json", path={"campaignId": campaign_id}))[0] == 200
    status, answer = call_api(
        import_deps, api_event("api/start_import.json", path={"campaignId": campaign_id}, body={"format": "csv"})
    )
    assert status == 409 and "cancelled" in answer["message"]


def test_an_upload_link_not_used_in_time_shows_as_expired(import_deps: Any) -> None:
    import datetime as dt

    campaign_id = _campaign(import_deps, count=0)
    view = _start(import_deps, campaign_id)
    later = import_deps.clock() + dt.timedelta(minutes=16)
    import_deps.clock = lambda: later
    assert _view(import_deps, view["importId"])["state"] == ImportState.EXPIRED.value


def test_contacts_imported_into_a_campaign_already_dialling_join_its_next_plan(import_deps: Any, template: Any) -> None:
    from tests.conftest import drain_queue, plan_now

    deps = import_deps
    campaign_id = _campaign(deps, count=3)
    assert plan_now(deps)["contacts"] == 3  # dialling has started: its first contacts are planned
    drain_queue(deps, template)
    view = _start(deps, campaign_id)
    _upload(deps, view["importId"], _file(4))
    _run(deps, _announced(deps, view["importId"]))
    assert _view(deps, view["importId"])["accepted"] == 4
    assert plan_now(deps)["contacts"] == 4  # the imported ones, in the next plan; none of the first three again


def test_a_crash_between_writing_a_batch_and_marking_the_campaign_due_still_gets_it_planned(
    import_deps: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import plan_now

    deps = import_deps
    campaign_id = _campaign(deps, count=0)
    view = _start(deps, campaign_id)
    _upload(deps, view["importId"], _file(5))
    real_mark = deps.store.mark_campaign_due

    def crash(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("the invocation died after writing the contacts")

    monkeypatch.setattr(deps.store, "mark_campaign_due", crash)
    assert _run(deps, _announced(deps, view["importId"]))["batchItemFailures"]
    monkeypatch.setattr(deps.store, "mark_campaign_due", real_mark)
    assert _run(deps, _announced(deps, view["importId"])) == {"batchItemFailures": []}
    assert _view(deps, view["importId"])["accepted"] == 5  # the re-read batch found its own contacts
    assert plan_now(deps)["contacts"] == 5  # and the campaign is due, so they are dialled


def test_rows_imported_into_a_split_campaign_go_to_the_vendor_their_hash_names(import_deps: Any) -> None:
    """A file adds to a split the same way the API does: each row's vendor from the campaign and its id, so
    rows already assigned keep their vendor and the shares hold for the file's rows too."""
    from dialhub.split import assign
    from tests.integration.test_split_campaigns import SHARES, SPLIT, _stored_vendors

    deps = import_deps
    status, created = call_api(
        deps, api_event("api/create_campaign.json", body={"name": "split", "campaignId": "cmp_file", "vendors": SPLIT})
    )
    assert status == 201, created
    view = _start(deps, "cmp_file")
    rows = [f"L{n:05d},0917{n:07d},Maria,{100 + n},2026-12-15\n" for n in range(300)]
    _upload(deps, view["importId"], ("loan_id,phone,name,amountDue,dueDate\n" + "".join(rows)).encode())
    _run(deps, _announced(deps, view["importId"]))
    assert _view(deps, view["importId"])["accepted"] == 300
    stored = _stored_vendors(deps, "cmp_file")
    assert stored == {f"L{n:05d}": assign("cmp_file", f"L{n:05d}", SHARES) for n in range(300)}
    assert set(stored.values()) == {"blu", "nxtele", "airudder"}

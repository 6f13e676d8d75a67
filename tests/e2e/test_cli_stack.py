"""The `dialhub` command line against the offline stack, running as `make serve` runs it (queues, stream and
importer served in the background): campaigns created from a CSV and an XLSX file, watched until every contact
is done, exported and downloaded over the local S3's TLS, reported, the outcome feed followed; an upload cut
short by Ctrl-C; and the command run as its own process, finding `make serve`'s certificate by itself."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import certifi
import httpx
import pytest
from openpyxl import Workbook
from typer.testing import CliRunner, Result

from dialhub_cli import imports
from dialhub_cli.app import app
from local.stack import LocalStack
from local.tls import certificate_published

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
CSV_ROWS = 30
XLSX_ROWS = 20
BLU_OPTIONS = ["--option", "botId=123", "--option", "strategyId=2"]


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(vendors=("blu",), drop_rate=0.0, dial_delay=(0.05, 0.3), retry_interval=0.2, seed=18) as running:
        for driver in running.sqs_drivers.values():  # as make serve keeps them busy
            driver.run_in_background(0.3)
        for reader in running.stream_drivers.values():
            reader.run_in_background(0.3)
        yield running


def dialhub(stack: LocalStack, *args: str) -> Result:
    return CliRunner().invoke(app, ["--url", stack.url, *args], env={"COLUMNS": "200"})


def answer(result: Result) -> Any:
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def contacts_csv(path: Path) -> None:
    """A loan system's export: its own headers, two bad phones and one repeated loan id at the end."""
    rows = [["Loan No", "Mobile", "Customer", "Amount Due"]]
    rows += [[f"LN-{index:04d}", f"0917{index:07d}", f"Customer {index}", 1000 + index] for index in range(CSV_ROWS)]
    rows += [
        ["LN-bad-1", "12345", "Bad", 1],
        ["LN-bad-2", "not a phone", "Bad", 2],
        ["LN-0000", "09170000099", "Again", 3],
    ]
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")


def contacts_xlsx(path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Tagihan"
    sheet.append(["ID Pinjaman", "Nomor HP", "Nama", "Jumlah"])
    for index in range(XLSX_ROWS):
        sheet.append([f"PJ-{index:04d}", 639180000000 + index, f"Nasabah {index}", 250_000 + index])
    workbook.save(path)


@pytest.fixture(scope="module")
def made(stack: LocalStack, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Both campaigns created from their files through the command line (--json answers)."""
    folder = tmp_path_factory.mktemp("files")
    contacts_csv(folder / "loans.csv")
    contacts_xlsx(folder / "tagihan.xlsx")
    columns = '{"contactId": "Loan No", "phone": "Mobile", "variables": {"Amount Due": "amountDue"}}'
    from_csv = answer(
        dialhub(stack, "campaigns", "create", "--name", "CLI from CSV", "--vendor", "blu", *BLU_OPTIONS,
                "--timezone", "Asia/Manila", "--file", str(folder / "loans.csv"), "--columns", columns,
                "--rejections-out", str(folder / "refused.csv"), "--max-wait", "120", "--json")
    )  # fmt: skip
    from_xlsx = answer(
        dialhub(stack, "campaigns", "create", "--name", "CLI from XLSX", "--vendor", "blu", *BLU_OPTIONS,
                "--file", str(folder / "tagihan.xlsx"), "--sheet", "Tagihan", "--max-wait", "120", "--json")
    )  # fmt: skip
    return {"csv": from_csv, "xlsx": from_xlsx, "refused": folder / "refused.csv"}


def test_campaigns_are_created_from_a_csv_and_an_xlsx_file(made: dict[str, Any], stack: LocalStack) -> None:
    from_csv, from_xlsx = made["csv"], made["xlsx"]
    assert from_csv["state"] == "done" and from_csv["rowsRead"] == CSV_ROWS + 3
    assert (from_csv["accepted"], from_csv["rejected"], from_csv["duplicates"]) == (CSV_ROWS, 2, 1)
    refused = made["refused"].read_text(encoding="utf-8-sig").splitlines()
    assert refused[0] == "row,contactId,field,reason"
    assert [line.split(",")[:3] for line in refused[1:]] == [
        [str(CSV_ROWS + 2), "LN-bad-1", "phone"],
        [str(CSV_ROWS + 3), "LN-bad-2", "phone"],
        [str(CSV_ROWS + 4), "LN-0000", "contactId"],
    ]
    assert from_csv["rejectionsFile"] == str(made["refused"])
    assert from_xlsx["state"] == "done" and from_xlsx["accepted"] == XLSX_ROWS and from_xlsx["rejected"] == 0
    listed = answer(dialhub(stack, "campaigns", "list", "--vendor", "blu", "--json"))
    assert {from_csv["campaignId"], from_xlsx["campaignId"]} <= {item["campaignId"] for item in listed["items"]}


@pytest.fixture(scope="module")
def watched(made: dict[str, Any], stack: LocalStack) -> dict[str, list[dict[str, Any]]]:
    """Each campaign dispatched now (`campaigns dispatch`), watched (--watch --json) until every contact is done."""
    lines: dict[str, list[dict[str, Any]]] = {}
    for made_from, contacts in (("csv", CSV_ROWS), ("xlsx", XLSX_ROWS)):
        campaign_id = made[made_from]["campaignId"]
        dispatched = answer(dialhub(stack, "campaigns", "dispatch", campaign_id, "--json"))
        assert (dispatched["campaignId"], dispatched["contacts"]) == (campaign_id, contacts)
        result = dialhub(
            stack, "campaigns", "show", campaign_id, "--watch", "--interval", "0.5", "--max-wait", "180", "--json"
        )
        assert result.exit_code == 0, result.stderr
        lines[campaign_id] = [json.loads(line) for line in result.stdout.splitlines()]
    return lines


def test_watch_follows_each_campaign_until_every_contact_is_done(
    watched: dict[str, list[dict[str, Any]]], made: dict[str, Any]
) -> None:
    for made_from, contacts in (("csv", CSV_ROWS), ("xlsx", XLSX_ROWS)):
        views = watched[made[made_from]["campaignId"]]
        assert views[-1]["state"] == "completed" and views[-1]["byState"] == {"final": contacts}
        assert sum(views[-1]["byDisposition"].values()) == contacts
        assert all(view["state"] != "completed" for view in views[:-1])
        assert [view for index, view in enumerate(views[1:]) if view == views[index]] == []  # changes only


def test_export_waits_and_downloads_the_csv_over_tls(
    watched: dict[str, Any], made: dict[str, Any], stack: LocalStack, tmp_path: Path
) -> None:
    campaign_id = made["csv"]["campaignId"]
    result = answer(
        dialhub(stack, "export", campaign_id, "--format", "csv", "-o", str(tmp_path / "results.csv"), "--json")
    )
    assert result["state"] == "done" and result["rows"] == CSV_ROWS and result["file"] == str(tmp_path / "results.csv")
    content = (tmp_path / "results.csv").read_bytes()
    assert content.startswith(b"\xef\xbb\xbf") and result["bytes"] == len(content)
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
    assert sorted(row["contactId"] for row in rows) == [f"LN-{index:04d}" for index in range(CSV_ROWS)]
    assert {row["state"] for row in rows} == {"final"}
    assert {row["contactId"]: row["variables.amountDue"] for row in rows}["LN-0007"] == "1007"

    people = dialhub(stack, "export", campaign_id, "--format", "jsonl", "-o", str(tmp_path / "results.jsonl"))
    assert people.exit_code == 0, people.stderr
    assert f"{tmp_path / 'results.jsonl'}: {CSV_ROWS} rows" in people.stdout
    assert len((tmp_path / "results.jsonl").read_text().splitlines()) == CSV_ROWS


def test_report_downloads_the_campaigns_html_report(
    watched: dict[str, Any], made: dict[str, Any], stack: LocalStack, tmp_path: Path
) -> None:
    """Until the export format html is served, the API answers 422 naming `format`, and this fails."""
    result = dialhub(stack, "report", made["xlsx"]["campaignId"], "-o", str(tmp_path / "report.html"))
    assert result.exit_code == 0, result.stderr
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "<html" in page.lower() and "CLI from XLSX" in page


def test_outcomes_follow_reads_every_closing_outcome_once(watched: dict[str, Any], stack: LocalStack) -> None:
    total = CSV_ROWS + XLSX_ROWS
    result = dialhub(
        stack, "outcomes", "--follow", "--limit", str(total), "--interval", "0.5", "--stop-after", "60", "--json"
    )
    assert result.exit_code == 0, result.stderr
    outcomes = [json.loads(line) for line in result.stdout.splitlines()]
    closed = {(outcome["campaignId"], outcome["contactId"]) for outcome in outcomes}
    assert len(outcomes) == len(closed) == total
    assert {campaign for campaign, _ in closed} == set(watched)
    assert "dialhub outcomes --after " in result.stderr
    after = result.stderr.split("--after ")[1].split()[0]
    more = dialhub(stack, "outcomes", "--after", after)
    assert more.exit_code == 0 and more.stdout == ""  # nothing after the last one read


def test_compare_and_show_for_people(watched: dict[str, Any], made: dict[str, Any], stack: LocalStack) -> None:
    campaign_id = made["csv"]["campaignId"]
    compared = dialhub(stack, "compare", campaign_id)
    assert compared.exit_code == 0, compared.stderr
    assert "blu (100%) champion" in compared.stdout
    assert re.search(rf"connected\s+\d+\.\d% \[\d+\.\d%, \d+\.\d%\] \d+/{CSV_ROWS}\b", compared.stdout)
    assert re.search(rf"\bsent\s+{CSV_ROWS}\b", compared.stdout)
    shown = dialhub(stack, "campaigns", "show", campaign_id)
    assert shown.exit_code == 0 and "state completed" in shown.stdout and f"{CSV_ROWS} contacts" in shown.stdout


def test_suppress_and_unsuppress_a_number(stack: LocalStack) -> None:
    suppressed = answer(dialhub(stack, "suppress", "+63 917 555 0101", "--reason", "asked by phone", "--json"))
    assert suppressed["phone"] == "+639175550101" and suppressed["reason"] == "asked by phone"
    assert httpx.get(f"{stack.url}/suppressions/%2B639175550101").status_code == 200
    assert dialhub(stack, "unsuppress", "09175550101").exit_code == 0
    again = dialhub(stack, "unsuppress", "09175550101")
    assert again.exit_code == 1 and again.stderr.startswith("error: 404")


def test_ctrl_c_during_the_upload_leaves_a_cancelled_campaign_and_no_file(
    stack: LocalStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first megabyte reaches the local S3, then Ctrl-C: S3 keeps nothing of the PUT, the import never
    starts, and the campaign made for the file is cancelled."""
    file = tmp_path / "big.csv"
    file.write_text("loan,phone\n" + "".join(f"L{index},0917{index:07d}\n" for index in range(200_000)))
    real_upload = imports.upload

    def cut_short(url: str, path: Path, verify: Any, advance: Callable[[int], None], timeout: float) -> None:
        def after_the_first_chunk(sent: int) -> None:
            raise KeyboardInterrupt

        real_upload(url, path, verify, after_the_first_chunk, timeout)

    monkeypatch.setattr(imports, "upload", cut_short)
    result = dialhub(
        stack, "campaigns", "create", "--name", "cut short", "--vendor", "blu", *BLU_OPTIONS, "--file", str(file)
    )
    assert result.exit_code == 130
    campaign_id = result.stderr.split("campaign ")[1].split(",")[0]
    import_id = result.stderr.split("import ")[1].split(":")[0]
    assert f"campaign {campaign_id} cancelled: its contact file never arrived" in result.stderr
    campaign = httpx.get(f"{stack.url}/campaigns/{campaign_id}").json()
    assert campaign["status"] == "cancelled" and campaign["totalContacts"] == 0
    assert httpx.get(f"{stack.url}/imports/{import_id}").json()["state"] == "awaiting_upload"
    uploaded = stack.s3.list_objects_v2(Bucket=stack.bucket_names["ImportBucket"], Prefix=f"uploads/{import_id}")
    assert uploaded.get("KeyCount", 0) == 0


@pytest.mark.parametrize("published", [True, False])
def test_the_command_as_its_own_process_trusts_make_serves_certificate_by_itself(
    published: bool,
    watched: dict[str, Any],
    made: dict[str, Any],
    stack: LocalStack,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """As a user runs it against make serve: no --ca-bundle, a machine-wide SSL_CERT_FILE of public CAs."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # where make serve (certificate_published) leaves it
    environment = {name: value for name, value in os.environ.items() if name not in ("AWS_CA_BUNDLE", "DIALHUB_URL")}
    environment |= {"PYTHONPATH": str(ROOT / "cli"), "XDG_CACHE_HOME": str(tmp_path), "SSL_CERT_FILE": certifi.where()}
    command = [sys.executable, "-m", "dialhub_cli", "--url", stack.url, "export", made["xlsx"]["campaignId"]]
    command += ["-o", str(tmp_path / "out.csv"), "--json"]
    assert stack.ca_bundle is not None
    port = int(stack.url.rsplit(":", 1)[1])
    with certificate_published(Path(stack.ca_bundle), port) if published else contextlib.nullcontext():
        done = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=120, check=False)
    if published:
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["rows"] == XLSX_ROWS and (tmp_path / "out.csv").is_file()
    else:
        assert done.returncode == 1 and "TLS certificate is not trusted" in done.stderr and "--ca-bundle" in done.stderr
        assert not (tmp_path / "out.csv").exists()

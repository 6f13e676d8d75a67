"""Contact files as analysts upload them, for `make demo`: a CSV exported by a loan system (Chinese headers,
GBK, semicolons, deliberately bad rows) and an .xlsx (Indonesian headers, phones stored as numbers), each
imported into a new campaign through the API, an upload link and the importer."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from local.stack import LocalStack


@dataclass
class ImportResult:
    name: str
    rows: int  # data rows in the file
    expected_bad: int  # rows written to be refused or to repeat a contactId
    view: dict[str, Any] = field(default_factory=dict)
    rejection_lines: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        view = self.view
        counted = view.get("accepted", 0) + view.get("rejected", 0) + view.get("duplicates", 0)
        refused = view.get("rejected", 0) + view.get("duplicates", 0)
        return (
            view.get("state") == "done"
            and view.get("rowsRead") == self.rows == counted
            and refused == self.expected_bad
            and len(self.rejection_lines) == refused + (1 if refused else 0)
        )


def loan_system_csv(rows: int) -> tuple[bytes, int]:
    """GBK, `;`-separated, Chinese headers; every 25th row has a bad phone and every 40th repeats a loan id."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(["贷款编号", "客户姓名", "手机号", "应还金额", "到期日"])
    bad = 0
    for index in range(rows):
        loan = f"LN{index:06d}"
        phone = f"0917{index:07d}"
        if index % 25 == 24:
            phone, bad = "12345", bad + 1
        elif index % 40 == 39:
            loan, bad = "LN000000", bad + 1
        writer.writerow([loan, f"客户{index}", phone, f"{1000 + index}.50", "2026-12-15"])
    return buffer.getvalue().encode("gbk"), bad


def collections_xlsx(rows: int) -> bytes:
    """An .xlsx as Excel saves it: Indonesian headers, phones and amounts as numbers, a date column."""
    import datetime as dt

    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Tagihan"
    sheet.append(["ID Pinjaman", "Nama Nasabah", "Nomor HP", "Jumlah", "Jatuh Tempo"])
    for index in range(rows):
        sheet.append(
            [f"PJ-{index:05d}", f"Nasabah {index}", 639180000000 + index, 250_000 + index, dt.date(2026, 12, 20)]
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def import_file(
    client: httpx.Client, stack: LocalStack, request: dict[str, Any], content: bytes, timeout: float = 120.0
) -> tuple[dict[str, Any], list[str]]:
    """POST /imports, PUT the file to its link (S3 announces it on the import queue), let the importer read it,
    and poll GET /imports/{id} until it ends; the import and its rejections file's lines."""
    started = client.post("/imports", json=request)
    started.raise_for_status()
    view = started.json()
    httpx.put(view["uploadUrl"], content=content, verify=stack.https_verify(), timeout=60).raise_for_status()
    deadline = time.monotonic() + timeout
    while True:
        stack.sqs_drivers["ImporterFunction"].drain()
        view = client.get(f"/imports/{view['importId']}").json()
        if view["state"] in ("done", "failed") or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    lines: list[str] = []
    if view.get("rejectionsUrl"):
        download = httpx.get(view["rejectionsUrl"], verify=stack.https_verify(), timeout=60)
        download.raise_for_status()
        lines = download.content.decode("utf-8-sig").splitlines()
    return view, lines


def run_file_imports(
    stack: LocalStack, vendor: str, progress: Callable[[str], None] = lambda _: None
) -> list[ImportResult]:
    options = stack.simulators[vendor].demo_options()
    client = httpx.Client(base_url=stack.url, timeout=60)
    content, bad = loan_system_csv(400)
    results = [
        ImportResult("loan-system export (.csv, GBK, ';')", 400, bad),
        ImportResult("collections workbook (.xlsx)", 150, 0),
    ]
    # The ids, phones and names are recognised from the headers; the amounts and dates are mapped to the
    # variables the bot's script reads (every vendor's demo script reads amountDue and dueDate).
    requests = [
        (
            {
                "format": "csv",
                "encoding": "gbk",
                "columns": {"variables": {"应还金额": "amountDue", "到期日": "dueDate"}},
            },
            content,
        ),
        (
            {
                "format": "xlsx",
                "sheet": "Tagihan",
                "columns": {"variables": {"Jumlah": "amountDue", "Jatuh Tempo": "dueDate"}},
            },
            collections_xlsx(150),
        ),
    ]
    for result, (request, data) in zip(results, requests, strict=True):
        campaign = {"name": f"import: {result.name}", "vendor": vendor, "vendorOptions": options}
        result.view, result.rejection_lines = import_file(client, stack, request | {"campaign": campaign}, data)
        progress(
            f"imported {result.name}: {result.view['state']}, {result.view.get('accepted')} accepted, "
            f"{result.view.get('rejected')} rejected, {result.view.get('duplicates')} duplicates"
        )
    return results

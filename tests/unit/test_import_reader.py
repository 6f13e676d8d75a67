"""Contact files read as an analyst expects: encodings, separators, quotes, rows numbered as Excel shows them,
resumable at any row, XLSX streamed and guarded against bombs, and columns chosen by name or recognised."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import subprocess
import sys
import time
import tracemalloc
import zipfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

import dialhub
from dialhub.imports import (
    Checkpoint,
    ColumnMapping,
    ImportFailed,
    ReadLimits,
    Row,
    RowReader,
    choose_columns,
    contact_fields,
    open_rows,
    reported_contact_id,
)
from dialhub.imports.columns import MAX_VARIABLES
from dialhub.imports.workbook import cell_text

HEADER = ["id", "phone", "note"]
TINY_CHUNKS = ReadLimits(chunk_bytes=5)  # every record, quote and line break straddles a chunk boundary


def csv_bytes(rows: list[list[str]], *, encoding: str = "utf-8", separator: str = ",", newline: str = "\r\n") -> bytes:
    text = io.StringIO()
    csv.writer(text, delimiter=separator, lineterminator=newline).writerows(rows)
    return text.getvalue().encode(encoding)


def read(data: bytes, kind: str = "csv", **options: Any) -> tuple[RowReader, list[Row]]:
    reader = open_rows(io.BytesIO(data), kind, **options)
    return reader, list(reader)


def failure(data: bytes, kind: str = "csv", **options: Any) -> str:
    with pytest.raises(ImportFailed) as raised:
        read(data, kind, **options)
    return str(raised.value)


def read_in_pieces(data: bytes, cuts: list[int], **options: Any) -> list[Row]:
    """Read `cuts[i]` rows per invocation, resuming each time from the checkpoint, as the importer does."""
    rows: list[Row] = []
    start: Checkpoint | None = None
    for size in [*cuts, 10**9]:
        reader = open_rows(io.BytesIO(data), "csv", start=start, **options)
        iterator = iter(reader)
        for _ in range(size):
            row = next(iterator, None)
            if row is None:
                return rows
            rows.append(row)
        start = Checkpoint.from_wire(reader.checkpoint().to_wire())  # stored as JSON between invocations
    return rows


# ---- column choice ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            ["Loan ID", "Customer Name", "Mobile Number", "TimeZone", "Amount Due"],
            {"contactId": "Loan ID", "name": "Customer Name", "phone": "Mobile Number", "timezone": "TimeZone"},
        ),
        (
            ["贷款编号", "客户姓名", "手机号", "逾期金额"],
            {"contactId": "贷款编号", "name": "客户姓名", "phone": "手机号", "timezone": None},
        ),
        (
            ["ID Pinjaman", "Nama", "No. HP", "Jumlah Tagihan"],
            {"contactId": "ID Pinjaman", "name": "Nama", "phone": "No. HP", "timezone": None},
        ),
        (
            ["  customer-id ", "NAMA_LENGKAP", "nomor telepon"],
            {"contactId": "customer-id", "name": "NAMA_LENGKAP", "phone": "nomor telepon", "timezone": None},
        ),
    ],
)
def test_common_headers_are_recognised_in_english_chinese_and_indonesian(
    header: list[str], expected: dict[str, str | None]
) -> None:
    described = choose_columns(header).describe()
    assert {field: described[field] for field in expected} == expected
    chosen = set(expected.values())
    assert described["variables"] == {name.strip(): name.strip() for name in header if name.strip() not in chosen}


def test_the_leftmost_of_two_recognised_columns_is_chosen_and_the_other_stays_a_variable() -> None:
    described = choose_columns(["mobile", "phone", "id"]).describe()
    assert described["phone"] == "mobile"
    assert described["variables"] == {"phone": "phone"}


def test_a_mapping_names_the_fields_and_the_rest_are_recognised() -> None:
    header = ["Ref", "Contact No", "id", "nama", "amount", "due"]
    chosen = choose_columns(header, ColumnMapping(phone="contact no", contact_id="Ref", variables=["amount"]))
    assert chosen.describe() == {
        "contactId": "Ref",
        "contactIdFromRowNumber": False,
        "phone": "Contact No",  # matched ignoring case, as no header is exactly "contact no"
        "name": "nama",  # not in the mapping: recognised
        "timezone": None,
        "variables": {"amount": "amount"},
        "ignored": ["id", "due"],
    }


def test_a_mapping_renames_variables_and_its_description_maps_the_same_columns_again() -> None:
    header = ["msisdn", "loan_id", "Amount Due", "Due Date"]
    mapping = ColumnMapping.from_wire({"variables": {"Amount Due": "amount", "Due Date": "dueDate"}})
    chosen = choose_columns(header, mapping)
    assert chosen.describe()["variables"] == {"Amount Due": "amount", "Due Date": "dueDate"}
    row = Row(7, ["+639171234567", "L-7", "1,500.00", ""])
    assert contact_fields(row, chosen) == {
        "contactId": "L-7",
        "phone": "+639171234567",
        "variables": {"amount": "1,500.00"},
    }
    assert choose_columns(header, ColumnMapping.from_wire(chosen.describe())) == chosen


@pytest.mark.parametrize(
    ("mapping", "words"),
    [
        (ColumnMapping(phone="Handy"), ["no column named 'Handy'", "'msisdn', 'loan_id', 'amount'"]),
        (ColumnMapping(variables=["amount", "fee"]), ["no column named 'fee'", "'msisdn'"]),
        (ColumnMapping(variables={"amount": "x", "loan_id": "x"}), ["two columns would become the variable 'x'"]),
    ],
)
def test_a_mapping_that_does_not_fit_the_file_fails_and_says_why(mapping: ColumnMapping, words: list[str]) -> None:
    with pytest.raises(ImportFailed) as raised:
        choose_columns(["msisdn", "loan_id", "amount"], mapping)
    assert all(word in str(raised.value) for word in words), raised.value


def test_a_mapping_with_an_unknown_key_or_wrong_shape_is_refused() -> None:
    with pytest.raises(ImportFailed, match="unknown key 'mobile'"):
        ColumnMapping.from_wire({"mobile": "x"})
    with pytest.raises(ImportFailed, match="phone must be a header name"):
        ColumnMapping.from_wire({"phone": 3})
    with pytest.raises(ImportFailed, match="variables must be"):
        ColumnMapping.from_wire({"variables": "amount"})


def test_without_a_phone_column_the_import_fails_listing_the_headers() -> None:
    with pytest.raises(ImportFailed) as raised:
        choose_columns(["loan_id", "name", "amount"])
    assert str(raised.value).startswith("no phone column: the headers are 'loan_id', 'name', 'amount'")


def test_without_a_contact_id_column_each_contact_is_named_by_its_row() -> None:
    chosen = choose_columns(["phone", "nama"])
    assert chosen.contact_id_from_row_number and chosen.describe()["contactIdFromRowNumber"] is True
    assert contact_fields(Row(12, ["0917 123 4567", " Budi "]), chosen) == {
        "contactId": "row-12",
        "phone": "0917 123 4567",
        "name": "Budi",
        "variables": {},
    }


def test_a_duplicate_header_that_would_be_read_fails_and_one_that_is_not_read_does_not() -> None:
    with pytest.raises(ImportFailed, match="duplicate header 'amount'"):
        choose_columns(["phone", "amount", "amount"])
    with pytest.raises(ImportFailed, match="duplicate header 'phone'"):
        choose_columns(["phone", "phone"])
    chosen = choose_columns(["phone", "amount", "amount", "fee"], ColumnMapping(variables=["fee"]))
    assert chosen.describe()["variables"] == {"fee": "fee"}


def test_more_variable_columns_than_a_contact_carries_fail_when_the_columns_are_chosen() -> None:
    header = ["phone", *(f"v{number}" for number in range(MAX_VARIABLES))]
    assert len(choose_columns(header).variables) == MAX_VARIABLES
    with pytest.raises(ImportFailed, match=f"{MAX_VARIABLES + 1} columns would become variables"):
        choose_columns([*header, "one more"])


def test_the_variable_limit_and_the_contact_shape_are_the_apis() -> None:
    from dialhub.campaigns import ContactIn

    limits = [getattr(rule, "max_length", None) for rule in ContactIn.model_fields["variables"].metadata]
    assert MAX_VARIABLES in limits
    chosen = choose_columns(["loan_id", "phone", "name", "tz", "amount"])
    contact = ContactIn.model_validate(
        contact_fields(Row(2, ["L-1", "+639171234567", "Ana", "Asia/Manila", "5"]), chosen)
    )
    assert (contact.contact_id, contact.phone, contact.name, contact.timezone) == (
        "L-1",
        "+639171234567",
        "Ana",
        "Asia/Manila",
    )
    assert contact.variables == {"amount": "5"}


def test_a_row_that_could_not_be_read_has_no_contact_but_is_named_in_the_report() -> None:
    unreadable = Row(3, ["L-3", "0917\ufffd"], "row is not valid utf-8 text")
    with pytest.raises(ValueError, match="row 3"):
        contact_fields(unreadable, choose_columns(["phone"]))
    assert reported_contact_id(unreadable, choose_columns(["loan_id", "phone"])) == "L-3"
    assert reported_contact_id(unreadable, choose_columns(["phone", "x"])) == "row-3"
    assert reported_contact_id(Row(4, [" ", "0917"]), choose_columns(["loan_id", "phone"])) is None


# ---- CSV: encodings, separators, quotes ------------------------------------------------------------------------

TABLE = [["loan_id", "phone", "name"], ["L1", "+639171234567", "José Café"], ["L2", "09171234568", "Zoë"]]
CHINESE = [["贷款编号", "手机号", "姓名"], ["L1", "13800138000", "张伟"], ["L2", "13900139000", "李娜"]]


@pytest.mark.parametrize(
    ("table", "encoding", "declared", "separator", "label"),
    [
        (TABLE, "utf-8", None, ",", "utf-8"),
        (TABLE, "utf-8-sig", None, ",", "utf-8"),  # Excel's "CSV UTF-8"
        (CHINESE, "utf-8-sig", None, ";", "utf-8"),
        (TABLE, "utf-16", None, "\t", "utf-16-le"),  # Excel's "Unicode text": UTF-16 LE, BOM, tabs
        (CHINESE, "utf-16-be", None, "\t", "utf-16-be"),
        (CHINESE, "gbk", "gbk", ",", "gbk"),
        (CHINESE, "gb18030", "GB18030", "|", "GB18030"),
        (TABLE, "cp1252", "cp1252", ";", "cp1252"),
        (TABLE, "latin-1", "latin-1", "\t", "latin-1"),
    ],
)
def test_each_encoding_and_separator_reads_the_same_rows(
    table: list[list[str]], encoding: str, declared: str | None, separator: str, label: str
) -> None:
    data = csv_bytes(table, encoding=encoding, separator=separator)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data  # the codec writes no BOM of its own
    reader, rows = read(data, encoding=declared)
    assert (reader.header, reader.separator, reader.encoding) == (table[0], separator, label)
    assert rows == [Row(2, table[1]), Row(3, table[2])]


@pytest.mark.parametrize("separator", [",", ";", "\t", "|"])
def test_the_separator_is_taken_from_the_header_line_and_others_stay_in_values(separator: str) -> None:
    others = "".join(candidate for candidate in ",;\t|" if candidate != separator)
    data = separator.join(["phone", "note"]).encode() + b"\n0917" + separator.encode() + f"a{others}b".encode()
    reader, rows = read(data)
    assert reader.separator == separator
    assert rows == [Row(2, ["0917", f"a{others}b"])]


def test_quoted_values_keep_line_breaks_separators_and_quotes_and_count_as_one_row() -> None:
    data = (
        b'phone,note,name\r\n0917,"line one\r\nline two, still note","say ""hi"""\r\n'
        b"\r\n"  # a blank line: Excel numbers it, no contact
        b'0918,"a\nb\rc",",,,"\r\n'
        b",,\r\n"  # empty cells only: blank too
        b'0919,"unfinished'  # a quote never closed at the end: the rest is the value
    )
    _, rows = read(data)
    assert rows == [
        Row(2, ["0917", "line one\r\nline two, still note", 'say "hi"']),
        Row(4, ["0918", "a\nb\rc", ",,,"]),
        Row(6, ["0919", "unfinished", ""]),
    ]


def test_a_quote_inside_an_unquoted_value_is_just_a_character() -> None:
    _, rows = read(b'phone,size\n0917,15" screen\n0918,"2"\n')
    assert rows == [Row(2, ["0917", '15" screen']), Row(3, ["0918", "2"])]


@pytest.mark.parametrize("newline", [b"\r\n", b"\n", b"\r"])
def test_windows_unix_and_old_mac_line_breaks_number_rows_alike(newline: bytes) -> None:
    data = newline.join([b"phone,name", b"0917,A", b"", b"0918,B", b""])
    _, rows = read(data, limits=TINY_CHUNKS)
    assert rows == [Row(2, ["0917", "A"]), Row(4, ["0918", "B"])]


def test_blank_lines_before_the_header_are_counted_and_header_names_trimmed() -> None:
    reader, rows = read(b"\n , ,\n Phone , Name ,,\n0917,Ana\n")
    assert (reader.header, reader.header_row) == (["Phone", "Name"], 3)
    assert rows == [Row(4, ["0917", "Ana"])]


def test_short_rows_are_padded_and_a_row_with_extra_cells_is_reported_by_number() -> None:
    _, rows = read(b"phone,name,amount\n0917\n0918,Doe, John,5\n0919,C,7,,\n")
    assert rows == [
        Row(2, ["0917", "", ""]),
        Row(
            3,
            ["0918", "Doe", " John"],
            "row has 4 cells but the header has 3: a ',' inside a value that is not quoted?",
        ),
        Row(4, ["0919", "C", "7"]),
    ]


def test_an_undecodable_row_is_reported_by_its_row_number_and_the_rest_is_read() -> None:
    data = b"phone,name\n0917,Ana\n" + b"0918,Jos\xe9\n" + '"0919","Zoë\nrow 5"\n0920,Ben\n'.encode()
    _, rows = read(data)
    assert rows == [
        Row(2, ["0917", "Ana"]),
        Row(3, ["0918", "Jos\ufffd"], "row is not valid utf-8 text"),  # its values only name it in the report
        Row(4, ["0919", "Zoë\nrow 5"]),
        Row(5, ["0920", "Ben"]),
    ]


def test_an_undecodable_row_in_a_declared_gbk_file_names_the_encoding() -> None:
    data = "手机号,姓名\n13800138000,张伟\n".encode("gbk") + b"13900139000,\x81\x20\n" + "1,李\n".encode("gbk")
    _, rows = read(data, encoding="gbk")
    assert rows == [
        Row(2, ["13800138000", "张伟"]),
        Row(3, ["13900139000", "\ufffd "], "row is not valid gbk text"),
        Row(4, ["1", "李"]),
    ]


def test_a_gbk_file_not_declared_fails_at_its_header_and_says_to_declare_it() -> None:
    message = failure("手机号,姓名\n13800138000,张伟\n".encode("gbk"))
    assert message == "the header row is not valid utf-8 text: declare the file's encoding (for example gbk or cp1252)"


def test_utf16_without_a_byte_order_mark_is_recognised_by_its_nul_bytes_or_read_when_declared() -> None:
    data = "phone\tname\r\n0917\tAna\r\n".encode("utf-16-le")
    assert "NUL bytes: a UTF-16 file without a byte-order mark?" in failure(data)
    _, rows = read(data, encoding="utf-16")  # declared without a byte order: Windows' little-endian
    assert rows == [Row(2, ["0917", "Ana"])]


@pytest.mark.parametrize(
    ("declared", "message"),
    [
        ("klingon-8", "unknown encoding 'klingon-8'"),
        ("rot13", "'rot13' is not a text encoding"),
        ("utf-7", "the encoding 'utf-7' cannot be read in rows"),
        ("iso2022_jp", "the encoding 'iso2022_jp' cannot be read in rows"),
    ],
)
def test_an_encoding_that_cannot_be_read_is_named(declared: str, message: str) -> None:
    assert failure(b"phone\n0917\n", encoding=declared).startswith(message)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty"),
        (b"\xef\xbb\xbf", "the file is empty"),
        (b"\n\r\n , \n", "no header row: the file has only blank lines"),
        (b"PK\x03\x04\x14\x00\x00\x00", "declared csv but the file is a zip archive (an .xlsx?)"),
        (b"%PDF-1.7\n", "not a CSV or XLSX file: it looks like a PDF document"),
    ],
)
def test_a_file_that_is_not_a_contact_csv_fails_with_a_plain_reason(data: bytes, message: str) -> None:
    assert failure(data) == message


def test_a_header_alone_is_zero_rows_not_a_failure() -> None:
    reader, rows = read(b"phone,name\r\n")
    assert (reader.header, rows, reader.checkpoint()) == (["phone", "name"], [], Checkpoint(12, 1))


def test_an_unclosed_quote_is_cut_at_the_row_size_limit_with_its_row_number() -> None:
    data = b'phone,note\n0917,ok\n0918,"never closed\n' + b"more text\n" * 200
    with pytest.raises(ImportFailed, match="row 3 is longer than 512 bytes: a quote that is never closed"):
        read(data, limits=ReadLimits(chunk_bytes=64, max_row_bytes=512))


def test_an_unknown_format_is_refused() -> None:
    assert failure(b"phone\n", "xls") == "not a CSV or XLSX file: the format 'xls' is not one of csv, xlsx"


# ---- CSV: checkpoints and memory ------------------------------------------------------------------------------


RESUMABLE = [
    ("utf-8-sig", None, ","),
    ("utf-16", None, "\t"),
    ("gbk", "gbk", ";"),
    ("cp1252", "cp1252", ","),
]


@pytest.mark.parametrize(("encoding", "declared", "separator"), RESUMABLE)
def test_resuming_from_checkpoints_at_random_rows_reads_exactly_the_straight_read(
    encoding: str, declared: str | None, separator: str
) -> None:
    rng = random.Random(f"resume-{encoding}")
    letters = "abcXYZ 09éü" + ("张伟李娜" if encoding != "cp1252" else "")
    table = [HEADER]
    for number in range(300):
        cells = ["".join(rng.choice(letters + '",;\t\r\n') for _ in range(rng.randint(0, 8))) for _ in HEADER]
        table.append(cells if number % 17 else ["", "", ""])  # some blank rows
    data = csv_bytes(table, encoding=encoding, separator=separator)
    straight = list(open_rows(io.BytesIO(data), "csv", encoding=declared))
    assert len(straight) > 250 and straight[-1].number == 301
    for _ in range(5):
        cuts = [rng.randint(0, 40) for _ in range(30)]
        assert read_in_pieces(data, cuts, encoding=declared, limits=ReadLimits(chunk_bytes=rng.choice([7, 64]))) == (
            straight
        )


# Pairs of characters whose UTF-16 bytes hold, astride them, the bytes of a line break, quote, comma or TAB.
STRADDLING = "ਢĀ∊ĀⰀĀকĀകĀ ĀਢĀ∊ĀⰀĀকĀക"


CELL = st.text(alphabet="aZ0 ,;\t|\"\r\n'é", max_size=6)
WIDE_CELL = st.text(alphabet='aZ0 ,;\t|"\r\né张亅乗' + STRADDLING[:10] + "😀", max_size=6)


@settings(max_examples=150, deadline=None)
@given(
    data=st.data(),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-be", "gbk", "cp1252"]),
    separator=st.sampled_from([",", ";", "\t"]),
    chunk=st.integers(min_value=1, max_value=40),
)
def test_any_table_written_by_the_csv_module_reads_back_and_resumes_anywhere(
    data: st.DataObject, encoding: str, separator: str, chunk: int
) -> None:
    cell = CELL if encoding == "cp1252" else WIDE_CELL
    rows = data.draw(st.lists(st.lists(cell, min_size=3, max_size=3), max_size=12))
    if encoding == "gbk":
        rows = [[value.encode("gbk", "ignore").decode("gbk") for value in row] for row in rows]
    raw = csv_bytes([HEADER, *rows], encoding=encoding, separator=separator)
    declared = {"gbk": "gbk", "cp1252": "cp1252"}.get(encoding)
    if encoding == "utf-16-be":
        raw = b"\xfe\xff" + raw
    limits = ReadLimits(chunk_bytes=chunk)
    expected = [Row(number, row) for number, row in enumerate(rows, start=2) if any(value.strip() for value in row)]
    assert list(open_rows(io.BytesIO(raw), "csv", encoding=declared, limits=limits)) == expected
    cuts = data.draw(st.lists(st.integers(min_value=0, max_value=4), max_size=6))
    assert read_in_pieces(raw, cuts, encoding=declared, limits=limits) == expected


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
@pytest.mark.parametrize("separator", [",", "\t"])
def test_utf16_bytes_that_only_look_like_line_breaks_or_quotes_across_characters_are_not_taken_for_them(
    encoding: str, separator: str
) -> None:
    table = [HEADER, ["1", STRADDLING, "x"], [STRADDLING, "2", '"q"'], ["3", f"{STRADDLING}\n{STRADDLING}", ""]]
    data = csv_bytes(table, encoding=encoding, separator=separator)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data
    expected = [Row(number, row) for number, row in enumerate(table[1:], start=2)]
    for chunk in (3, 8, 4096):
        assert read_in_pieces(data, [1, 0, 1], limits=ReadLimits(chunk_bytes=chunk)) == expected


def test_a_checkpoint_survives_json_and_one_from_another_file_is_refused() -> None:
    reader = open_rows(io.BytesIO(b"phone,name\n0917,Ana\n0918,Ben\n"), "csv")
    assert next(iter(reader)) == Row(2, ["0917", "Ana"])
    checkpoint = reader.checkpoint()
    assert checkpoint == Checkpoint(20, 2) and Checkpoint.from_wire(checkpoint.to_wire()) == checkpoint
    other = b"phone,name\n0917123,Ana Maria\n0918,Ben\n"
    with pytest.raises(ImportFailed, match="does not fall at the start of a row"):
        open_rows(io.BytesIO(other), "csv", start=checkpoint)
    with pytest.raises(ImportFailed, match="past the end of this file"):
        open_rows(io.BytesIO(b"phone,name\n0917,Ana\n"), "csv", start=Checkpoint(30, 3))
    with pytest.raises(ValueError, match="not a checkpoint"):
        Checkpoint.from_wire({"byteOffset": -1, "rowNumber": 2})


def test_a_checkpoint_after_a_last_row_without_a_line_break_resumes_to_nothing() -> None:
    data = b"phone,name\r\n0917,Ana\r\n0918,Ben"
    reader = open_rows(io.BytesIO(data), "csv")
    assert [row.number for row in reader] == [2, 3]
    assert reader.checkpoint() == Checkpoint(len(data), 3)
    assert list(open_rows(io.BytesIO(data), "csv", start=reader.checkpoint())) == []


@pytest.mark.heavy
def test_a_large_file_is_read_in_flat_memory() -> None:
    lines = ["loan_id,phone,name"] + [
        f"L{n:07d},+63917{n:07d}," + (f'"Customer, {n}"' if n % 100 == 0 else f"Customer {n}") for n in range(200_000)
    ]
    data = ("\r\n".join(lines) + "\r\n").encode()
    source = io.BytesIO(data)
    tracemalloc.start()
    try:
        count = sum(1 for _ in open_rows(source, "csv"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 200_000
    assert peak < 4 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB for a {len(data) / 1e6:.0f} MB file"


# ---- XLSX ----------------------------------------------------------------------------------------------------


def workbook_bytes(sheets: dict[str, list[list[Any]]]) -> bytes:
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


LOANS: list[list[Any]] = [
    ["Loan ID", "No HP", "Nama", "Due Date", "Amount", None],
    [10023, 639171234567, "Budi", dt.datetime(2024, 5, 1), 1500.5],
    [],
    ["L-2", "0917 123 4567", "Siti", dt.date(2024, 5, 2), 0.1 + 0.2, None, "beyond the header"],
    [None, None, None],
    ["L-3", 639171234569.0, None, dt.datetime(2024, 5, 3, 14, 30), True],
]


def test_an_xlsx_sheet_reads_numbers_as_digits_and_dates_as_iso() -> None:
    data = workbook_bytes({"Notes": [["nothing here"]], "Loans": LOANS})
    reader, rows = read(data, "xlsx", sheet="loans")  # Excel's sheet names ignore case
    assert (reader.header, reader.header_row, reader.sheet) == (
        ["Loan ID", "No HP", "Nama", "Due Date", "Amount"],
        1,
        "Loans",
    )
    assert rows == [
        Row(2, ["10023", "639171234567", "Budi", "2024-05-01", "1500.5"]),
        Row(4, ["L-2", "0917 123 4567", "Siti", "2024-05-02", "0.3"]),
        Row(6, ["L-3", "639171234569", "", "2024-05-03T14:30:00", "TRUE"]),
    ]
    chosen = choose_columns(reader.header)
    assert contact_fields(rows[0], chosen) == {
        "contactId": "10023",
        "phone": "639171234567",
        "name": "Budi",
        "variables": {"Due Date": "2024-05-01", "Amount": "1500.5"},
    }


def test_the_first_sheet_is_read_by_default_and_a_missing_sheet_lists_the_sheets() -> None:
    data = workbook_bytes({"Loans": LOANS, "Other": [["phone"], ["1"]]})
    reader, rows = read(data, "xlsx")
    assert reader.sheet == "Loans" and len(rows) == 3
    assert failure(data, "xlsx", sheet="Sheet1") == "no sheet named 'Sheet1': the sheets are 'Loans', 'Other'"


def test_an_xlsx_resumes_after_its_checkpoint_row() -> None:
    data = workbook_bytes({"Loans": [[None], ["phone"], *([str(n)] for n in range(10))]})
    reader = open_rows(io.BytesIO(data), "xlsx")
    assert reader.header_row == 2
    first = [next(iter(reader)) for _ in range(4)]
    checkpoint = reader.checkpoint()
    reader.close()
    assert checkpoint == Checkpoint(0, 6)
    with open_rows(io.BytesIO(data), "xlsx", start=checkpoint) as resumed:
        assert [row.number for row in first] + [row.number for row in resumed] == list(range(3, 13))


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        (639171234567, "639171234567"),
        (639171234567.0, "639171234567"),
        (6.39171234567e11, "639171234567"),
        (-12.0, "-12"),
        (0.30000000000000004, "0.3"),
        (1.5e-7, "1.5e-07"),
        (1.2345678901234567e20, "1.23456789012346e+20"),
        (False, "FALSE"),
        (dt.datetime(2024, 2, 29), "2024-02-29"),
        (dt.datetime(2024, 2, 29, 8, 5, 0, 500), "2024-02-29T08:05:00.000500"),
        (dt.time(9, 30), "09:30:00"),
        ("  text ", "  text "),
    ],
)
def test_cells_read_as_an_analyst_sees_them(value: object, text: str) -> None:
    assert cell_text(value) == text


def test_an_empty_sheet_has_no_header_row() -> None:
    assert failure(workbook_bytes({"Empty": [[None, None], []]}), "xlsx") == "no header row: the sheet is empty"


def test_a_damaged_sheet_fails_with_a_plain_reason() -> None:
    with zipfile.ZipFile(io.BytesIO(workbook_bytes({"Loans": LOANS}))) as original:
        parts = {name: original.read(name) for name in original.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"]
    parts["xl/worksheets/sheet1.xml"] = sheet[: sheet.index(b'<row r="4"') + 20]  # cut inside row 4
    reader = open_rows(io.BytesIO(zip_bytes(parts)), "xlsx")
    with pytest.raises(ImportFailed, match=r"the sheet cannot be read after row 2: a damaged \.xlsx"):
        list(reader)


def zip_bytes(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"phone,name\n0917,Ana\n", "declared xlsx but the file is not a zip archive (a CSV?)"),
        (bytes.fromhex("d0cf11e0a1b11ae1") + bytes(100), "declared xlsx but the file is an Excel 97-2003 .xls"),
        (b"", "the file is empty"),
        (b"PK\x03\x04 this is not really a zip", "the .xlsx cannot be opened as a zip archive"),
        (zip_bytes({"readme.txt": b"hello"}), "declared xlsx but the file is a zip archive without an Excel workbook"),
        (zip_bytes({"mimetype": b"x", "content.xml": b"x"}), "the file is an OpenDocument spreadsheet (.ods)"),
    ],
)
def test_a_file_declared_xlsx_that_is_not_one_fails_with_a_plain_reason(data: bytes, message: str) -> None:
    assert failure(data, "xlsx").startswith(message)


@pytest.fixture(scope="module")
def zip_bomb() -> bytes:
    """An .xlsx-shaped zip whose sheet is 300 MB of zeros in about 1.4 MB."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", b"<Types/>")
        archive.writestr("xl/workbook.xml", b"<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            zeros = bytes(4 * 1024 * 1024)
            for _ in range(75):
                sheet.write(zeros)
    return out.getvalue()


def test_a_zip_bomb_is_refused_from_the_zip_directory_before_openpyxl_sees_it(
    zip_bomb: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    import openpyxl

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("openpyxl was asked to parse a bomb")

    monkeypatch.setattr(openpyxl, "load_workbook", never)
    started = time.perf_counter()
    message = failure(zip_bomb, "xlsx")
    assert time.perf_counter() - started < 1.0
    assert message.startswith("the .xlsx holds a part that expands") and "to 300 MB (a compressed bomb?)" in message
    assert failure(zip_bomb, "xlsx", limits=ReadLimits(max_uncompressed_bytes=100 * 1024 * 1024)) == (
        "the .xlsx expands to more than 100 MB (a compressed bomb?): split it, or save it as CSV"
    )


def test_an_xlsx_with_too_many_parts_or_too_big_a_text_table_is_refused() -> None:
    data = workbook_bytes({"Loans": LOANS})
    assert failure(data, "xlsx", limits=ReadLimits(max_archive_members=3)) == (
        "the .xlsx holds 9 parts, more than 3: not a plain workbook"
    )
    texts = zip_bytes({"xl/workbook.xml": b"<workbook/>", "xl/sharedStrings.xml": b"<sst>" + b"x" * 2_500_000})
    assert failure(texts, "xlsx", limits=ReadLimits(max_shared_strings_bytes=1024 * 1024)) == (
        "the .xlsx's table of texts is 3 MB, more than the 1 MB an import holds in memory: save the sheet as CSV"
    )


def test_reading_csv_does_not_import_openpyxl() -> None:
    layer = Path(dialhub.__file__).resolve().parents[1]
    code = (
        "import io, sys\n"
        "from dialhub.imports import open_rows, choose_columns\n"
        "rows = list(open_rows(io.BytesIO(b'phone\\n0917\\n'), 'csv'))\n"
        "assert rows and 'openpyxl' not in sys.modules, sorted(m for m in sys.modules if 'openpyxl' in m)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, env={"PYTHONPATH": str(layer), "PATH": ""}, timeout=60)

"""The pure parts of results out: cursors (made and checked in one place) and the cells and rows of a CSV."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import json

import pytest

from dialhub.exports import FIXED_COLUMNS, NewColumns, column_order, csv_header, encode_rows, variable_cells
from dialhub.listing import BadCursor, ClosingOutcome, ContactResult, decode_cursor, encode_cursor
from dialhub.models import DialState, ExportFormat, Hold


def test_a_cursor_gives_back_its_position_for_its_own_listing_only() -> None:
    cursor = encode_cursor("loan-00042", "contacts", "cmp-1", state="final", disposition=None)
    assert decode_cursor(cursor, "contacts", "cmp-1", state="final", disposition=None) == "loan-00042"
    assert decode_cursor(cursor, "contacts", "cmp-1", disposition=None, state="final") == "loan-00042"
    for kind, scope, filters in [
        ("contacts", "cmp-2", {"state": "final"}),
        ("campaigns", "cmp-1", {"state": "final"}),
        ("contacts", "cmp-1", {"state": "queued"}),
        ("contacts", "cmp-1", {}),
    ]:
        with pytest.raises(BadCursor, match="another listing"):
            decode_cursor(cursor, kind, scope, **filters)


def test_every_single_character_changed_or_dropped_is_refused() -> None:
    cursor = encode_cursor("2026-11-30T09:00:00.000000Z#blu#123654789", "outcomes")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    refused = 0
    for index, character in enumerate(cursor):
        other = alphabet[(alphabet.index(character) + 1) % len(alphabet)]
        for bad in (cursor[:index] + other + cursor[index + 1 :], cursor[:index] + cursor[index + 1 :]):
            try:
                position = decode_cursor(bad, "outcomes", field="after")
            except BadCursor as exc:
                assert exc.field == "after"
                refused += 1
            else:  # base64's last character can carry unused bits: the same bytes, the same position
                assert position == "2026-11-30T09:00:00.000000Z#blu#123654789"
    assert refused >= 2 * len(cursor) - 2


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "=",
        "not base64!",
        "A" * 1025,
        base64.urlsafe_b64encode(b"x" * 40).decode(),
        base64.urlsafe_b64encode(b"\x00" * 16 + b"[1, 2]").decode(),
    ],
)
def test_garbage_is_a_bad_cursor_not_an_exception(bad: str) -> None:
    with pytest.raises(BadCursor):
        decode_cursor(bad, "campaigns")


def test_a_cursor_at_the_start_of_a_listing_carries_no_position() -> None:
    assert decode_cursor(encode_cursor(None, "outcomes"), "outcomes") is None


def _result(contact_id: str = "c-1", variables: dict | None = None, collected: dict | None = None) -> ContactResult:
    outcome = None
    if collected is not None:
        outcome = ClosingOutcome(
            vendor="blu",
            vendor_call_id="77",
            status="answered",
            disposition="promise_to_pay",
            attempt=1,
            source="poll",
            duration_seconds=31,
            started_at=dt.datetime(2026, 11, 30, 1, 2, 3, 456, tzinfo=dt.UTC),
            variables=collected,
        )
    return ContactResult(
        contact_id=contact_id,
        phone="***4567",
        state=DialState.FINAL if outcome else DialState.QUEUED,
        attempt=1,
        variables=variables or {},
        outcome=outcome,
        hold=None
        if outcome
        else Hold(
            reason="outside_window",
            checked_at=dt.datetime.now(dt.UTC),
            until=dt.datetime(2026, 12, 1, 1, 0, tzinfo=dt.UTC),
        ),
    )


def test_variables_become_columns_contact_first_then_collected_nested_by_dots() -> None:
    result = _result(
        variables={"loanId": "L1", "amountDue": 4500},
        collected={"slots": {"promise": {"amount": 10, "date": "2026-12-05"}}, "intents": [{"a": 1}]},
    )
    cells = variable_cells(result)
    assert cells == {
        "variables.loanId": "L1",
        "variables.amountDue": 4500,
        "collected.slots.promise.amount": 10,
        "collected.slots.promise.date": "2026-12-05",
        "collected.intents": [{"a": 1}],
    }
    assert column_order(set(cells)) == [
        "variables.amountDue",
        "variables.loanId",
        "collected.intents",
        "collected.slots.promise.amount",
        "collected.slots.promise.date",
    ]


def test_csv_rows_are_rfc_4180_with_inert_formulas_and_spreadsheet_times() -> None:
    columns = ["variables.note", "collected.intents"]
    results = [
        _result("c-1", {"note": 'a "quoted", line\nbreak'}, {"intents": ["=1+1"]}),
        _result("c-2", {"note": "=SUM(A1)"}),
    ]
    data = csv_header(columns) + encode_rows(results, ExportFormat.CSV, columns)
    assert data.count(b"\r\n") == 3 and b"line\nbreak" in data  # a line break inside a quoted cell stays as it is
    rows = list(csv.reader(io.StringIO(data.decode(), newline="")))
    assert rows[0] == [*FIXED_COLUMNS, *columns]
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["variables.note"] == 'a "quoted", line\nbreak'
    assert first["collected.intents"] == '["=1+1"]'  # a list is JSON text; it starts with "[": nothing to neutralise
    assert (first["startedAt"], first["durationSeconds"], first["source"]) == ("2026-11-30 01:02:03", "31", "poll")
    second = dict(zip(rows[0], rows[2], strict=True))
    assert second["variables.note"] == "'=SUM(A1)" and second["hold"] == "outside_window"
    assert second["holdUntil"] == "2026-12-01 01:00:00" and second["vendorCallId"] == ""


def test_a_variable_without_a_column_stops_the_rows() -> None:
    with pytest.raises(NewColumns) as stopped:
        encode_rows([_result(variables={"late": 1})], ExportFormat.CSV, ["variables.early"])
    assert stopped.value.names == {"variables.late"}


def test_json_lines_are_the_listing_item() -> None:
    result = _result(collected={"x": 1})
    line = encode_rows([result], ExportFormat.JSONL, [])
    assert line.endswith(b"\n") and json.loads(line) == json.loads(result.model_dump_json(by_alias=True))

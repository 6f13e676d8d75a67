"""The bench's read-unit arithmetic, against DynamoDB's published sizing and rounding rules."""

from __future__ import annotations

from types import SimpleNamespace

from bench.instrument import ReadUnits, item_size


def test_item_size_follows_dynamodbs_sizing_rules() -> None:
    assert item_size({"pk": {"S": "abc"}}) == 2 + 3
    assert item_size({"name": {"S": "日本"}}) == 4 + 6  # UTF-8 bytes
    assert item_size({"n": {"N": "12345"}}) == 1 + 3  # about a byte per two digits, plus one
    assert item_size({"ok": {"BOOL": True}, "z": {"NULL": True}}) == (2 + 1) + (1 + 1)
    assert item_size({"m": {"M": {"a": {"S": "xy"}}}}) == 1 + 3 + (1 + 2)
    assert item_size({"l": {"L": [{"S": "xy"}, {"N": "7"}]}}) == 1 + 3 + (1 + 2) + (1 + 1)


def _call(units: ReadUnits, operation: str, parsed: dict[str, object], params: dict[str, object]) -> None:
    context: dict[str, object] = {}
    units._note_consistency(params=params, context=context)
    units._count(parsed=parsed, model=SimpleNamespace(name=operation), context=context)


def test_read_units_round_each_item_of_a_batch_and_the_sum_of_a_query() -> None:
    five_kb = {"pk": {"S": "k"}, "d": {"S": "x" * 5000}}
    small = {"pk": {"S": "k"}}
    units = ReadUnits()
    _call(
        units, "BatchGetItem", {"Responses": {"t": [five_kb, small]}}, {"RequestItems": {"t": {"ConsistentRead": True}}}
    )
    assert units.units == 2 + 1  # 5 KB is two 4 KB blocks; a tiny item still one, strongly consistent
    units.units = 0
    _call(units, "GetItem", {"Item": five_kb}, {})
    assert units.units == 1  # eventually consistent: half a unit a block
    units.units = 0
    _call(units, "Query", {"Items": [small] * 100}, {"ConsistentRead": True})
    assert units.units == 1  # a query's items are summed before rounding

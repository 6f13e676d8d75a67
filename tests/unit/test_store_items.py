"""Items as DynamoDB holds them: the store writes exactly what boto3's serializer wrote from the JSON of the
same data (its earlier way), without the round trip through JSON text."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.types import TypeSerializer
from hypothesis import given
from hypothesis import strategies as st

from dialhub.dispositions import Disposition
from dialhub.store.codec import to_item


def _through_json(data: dict[str, Any]) -> dict[str, Any]:
    clean = json.loads(json.dumps(data, default=str), parse_float=Decimal)
    return {key: TypeSerializer().serialize(value) for key, value in clean.items() if value is not None}


def _outcome(convert: Any, data: dict[str, Any]) -> Any:
    try:
        return convert(data)
    except (TypeError, ArithmeticError) as exc:  # a number DynamoDB cannot hold: which kind is compared
        return TypeError if isinstance(exc, TypeError) else ArithmeticError


SCALARS = st.none() | st.booleans() | st.integers(-(10**40), 10**40) | st.floats(allow_nan=False) | st.text(max_size=8)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=12,
)


@given(st.dictionaries(st.text(max_size=6), VALUES, max_size=6))
def test_any_json_like_item_is_written_as_before(data: dict[str, Any]) -> None:
    assert _outcome(to_item, data) == _outcome(_through_json, data)


@pytest.mark.parametrize(
    "value",
    [
        0.1 + 0.2,
        24.0,
        1e16,
        1e-7,
        -0.0,
        10**37,
        Decimal("1.50"),
        "text",
        "",
        True,
        [1, "a", None],
        {"k": {"n": 2.5}},
        Disposition.PROMISE_TO_PAY,
        dt.datetime(2026, 11, 30, 4, 0, tzinfo=dt.UTC),
        dt.date(2026, 11, 30),
        (1, 2),
    ],
)
def test_each_kind_of_value_is_written_as_before(value: Any) -> None:
    assert to_item({"a": value, "gone": None}) == _through_json({"a": value, "gone": None})


@pytest.mark.parametrize("value", [float("inf"), float("nan"), 1e300, 10**50])
def test_numbers_dynamodb_cannot_hold_are_refused(value: Any) -> None:
    with pytest.raises((TypeError, ArithmeticError)):
        to_item({"a": value})

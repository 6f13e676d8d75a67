"""Values as DynamoDB attribute values and back, exactly: numbers as DynamoDB holds them, None left out."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import DYNAMODB_CONTEXT, TypeDeserializer

_deserializer = TypeDeserializer()


def _attribute(value: Any) -> dict[str, Any]:
    """A JSON-like value as a DynamoDB attribute value: numbers exactly as DynamoDB holds them (a float by its
    shortest repr, as JSON writes it), anything else as its text."""
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | float):
        number = str(DYNAMODB_CONTEXT.create_decimal(repr(value) if isinstance(value, float) else value))
        if number in ("Infinity", "-Infinity", "NaN"):
            raise TypeError("Infinity and NaN not supported")
        return {"N": number}
    if value is None:
        return {"NULL": True}
    if isinstance(value, dict):
        return {"M": {str(key): _attribute(item) for key, item in value.items()}}
    if isinstance(value, list | tuple):
        return {"L": [_attribute(item) for item in value]}
    return {"S": str(value)}


def to_item(data: dict[str, Any]) -> dict[str, Any]:
    """Attributes of an item (or expression values); a None value is left out."""
    return {key: _attribute(value) for key, value in data.items() if value is not None}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | set | tuple):
        return [_plain(v) for v in value]
    return value


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {key: _plain(_deserializer.deserialize(value)) for key, value in item.items()}

"""One change to moto for the long-running local stack: transactions that do not copy whole tables.

moto rolls a failed TransactWriteItems back by deep-copying every table it touches before each transaction,
so every stored callback costs time in proportion to the table, and a copy taken while another request
thread writes fails ("dictionary changed size during iteration"). Here every condition is checked first,
under one lock, and the writes happen only when all hold: the same outcome for the updates dialhub sends,
without the copies. The local stack applies it while it runs and restores moto's own when it stops.
"""

from __future__ import annotations

import threading
from typing import Any

from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import (
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
)
from moto.dynamodb.models import DynamoDBBackend

_TRANSACTIONS = threading.Lock()
_MAX_ITEMS = 100


def _key_of(backend: DynamoDBBackend, op_type: str, op: dict[str, Any]) -> dict[str, Any]:
    if op_type != "Put":
        return op["Key"]
    table = backend.get_table(op["TableName"])
    key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = op["Item"][table.range_key_attr]
    return key


def _transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    if len(transact_items) > _MAX_ITEMS:
        raise TooManyTransactionsException()
    with _TRANSACTIONS:
        seen: set[tuple[str, str]] = set()
        errors: list[tuple[str | None, str | None, None]] = []
        for item in transact_items:
            op_type, op = next(iter(item.items()))
            key = _key_of(self, op_type, op)
            identity = (op["TableName"], str(sorted(key.items())))
            if identity in seen:
                raise MultipleTransactionsException()
            seen.add(identity)
            condition = op.get("ConditionExpression")
            current = self.get_item(op["TableName"], key)
            if condition is not None and not get_filter_expression(
                    condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")).expr(current):
                errors.append(("ConditionalCheckFailed", "The conditional request failed", None))
            else:
                errors.append((None, None, None))
        if any(code is not None for code, _, _ in errors):
            raise TransactionCanceledException(errors)
        for item in transact_items:
            op_type, op = next(iter(item.items()))
            names, values = op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
            if op_type == "Put":
                self.put_item(op["TableName"], op["Item"], expression_attribute_names=names,
                              expression_attribute_values=values)
            elif op_type == "Delete":
                self.delete_item(op["TableName"], op["Key"], expression_attribute_names=names,
                                 expression_attribute_values=values)
            elif op_type == "Update":
                self.update_item(op["TableName"], op["Key"], update_expression=op["UpdateExpression"],
                                 expression_attribute_names=names, expression_attribute_values=values)


_ORIGINAL = DynamoDBBackend.transact_write_items


def apply() -> None:
    DynamoDBBackend.transact_write_items = _transact_write_items  # type: ignore[method-assign]


def restore() -> None:
    DynamoDBBackend.transact_write_items = _ORIGINAL  # type: ignore[method-assign]

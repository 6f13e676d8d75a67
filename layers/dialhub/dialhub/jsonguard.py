"""JSON from outside (API bodies, vendor callbacks), read strictly: what could not be stored is refused up front.

`json.loads` alone takes NaN and Infinity, numbers DynamoDB cannot hold (38 significant digits, magnitudes
from 1e-130 to below 1e126), lone surrogates no UTF-8 encoder will write, and nesting deep enough to raise
RecursionError. Each of those would fail later, after part of the work is done, as a 5xx (for a vendor: a
retry that can never succeed). Read here, each is a 4xx that names the field.
"""

from __future__ import annotations

import json
import math
from typing import Any

DYNAMODB_MAX_DEPTH = 32  # levels of nesting one DynamoDB item may hold
# Our deepest documents (a policy, a vendor callback) nest fewer than 8 levels; an item wraps what it keeps of a
# document in a few levels more, so this leaves room below DynamoDB's own limit.
MAX_DEPTH = 20
MAX_DIGITS = 38  # DynamoDB keeps numbers to 38 significant digits
KEY_SHOWN = 64  # a field path shows at most this much of each key (keys are the sender's text)
_LARGEST = 1e126
_SMALLEST = 1e-130


class JsonRefused(ValueError):
    """The document is not JSON we can keep; `field` is the dotted path of the offending value."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class _Unstorable:
    """Stands in, while parsing, for a number that must be refused (the walk then names its field)."""

    def __init__(self, problem: str) -> None:
        self.problem = problem


def _integer(text: str) -> int | _Unstorable:
    if len(text.lstrip("-").lstrip("0")) > MAX_DIGITS:
        return _Unstorable(f"number has more than {MAX_DIGITS} digits")
    return int(text)


def _real(text: str) -> float | _Unstorable:
    value = float(text)
    if math.isinf(value) or (value != 0 and not _SMALLEST <= abs(value) < _LARGEST):
        return _Unstorable("number is out of the range that can be stored (1e-130 to 1e126)")
    return value


def _constant(text: str) -> _Unstorable:
    return _Unstorable(f"{text} is not a JSON number")


def read_json(raw: bytes | str, root: str = "body", max_depth: int = MAX_DEPTH) -> Any:
    """The parsed document, or JsonRefused naming the first value (or `root` itself) that cannot be kept."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise JsonRefused(root, "not UTF-8 text") from None
    try:
        document = json.loads(raw, parse_int=_integer, parse_float=_real, parse_constant=_constant)
    except RecursionError:
        raise JsonRefused(root, f"nested deeper than {max_depth} levels") from None
    except ValueError as exc:
        raise JsonRefused(root, f"not valid JSON ({exc})") from None
    _check(document, root, max_depth)
    return document


def _check(document: Any, root: str, max_depth: int) -> None:
    """Walk the document without recursion (it may be deep) and refuse the first value we could not keep."""
    pending: list[tuple[Any, str, int]] = [(document, root, 0)]
    while pending:
        value, path, depth = pending.pop()
        if isinstance(value, _Unstorable):
            raise JsonRefused(path, value.problem)
        if isinstance(value, str):
            _encodable(value, path)
        elif isinstance(value, dict | list):
            if depth >= max_depth:
                raise JsonRefused(path, f"nested deeper than {max_depth} levels")
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str):
                    _encodable(key, path)
                pending.append((item, f"{path}.{str(key)[:KEY_SHOWN]}", depth + 1))


def _encodable(text: str, path: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise JsonRefused(path, "text holds a lone surrogate (not valid Unicode)") from None

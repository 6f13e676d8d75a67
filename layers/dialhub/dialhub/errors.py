"""Domain errors; the API maps each to one HTTP status in one place (api.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def field_path(error: Mapping[str, Any], default: str = "") -> str:
    """Where a pydantic error points, as a dotted path (body.contacts.3.phone)."""
    return ".".join(str(part) for part in error.get("loc", ())) or default


class NotFound(LookupError):
    def __init__(self, what: str) -> None:
        super().__init__(f"{what} not found")


class Conflict(Exception):
    """The request is valid but the resource's state does not allow it now."""


class InvalidField(ValueError):
    """A field of the request is wrong in a way the schema cannot express."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem

"""Domain errors; the API maps each to one HTTP status in one place (api.py)."""

from __future__ import annotations


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

"""What the webhook path answers before anything is stored: an unknown vendor, a callback that passes only
with the rotated secret, and a pre-dial question that does not name its contact."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from pydantic import TypeAdapter

from dialhub.vendors import UnknownVendor
from dialhub.vendors.base import InboundCallback, OutcomeReport, PredialQuestion, Reply
from dialhub.webhooks import handle_callback, predial_allows

NOW = dt.datetime(2026, 11, 25, 1, 0, tzinfo=dt.UTC)
CALLBACK = InboundCallback(kind="", body=b"{}", headers={}, query={"token": "rotated"}, source_ip="192.0.2.1")


class _Adapter:
    """Authenticates only the callback object it was told to (so a check of another object fails)."""

    def __init__(self, accepts: InboundCallback | None) -> None:
        self.accepts = accepts
        self.parsed: list[InboundCallback] = []
        self.acknowledged: list[InboundCallback] = []

    def authenticate(self, callback: InboundCallback) -> bool:
        return callback is self.accepts

    def parse_callback(self, callback: InboundCallback) -> OutcomeReport:
        self.parsed.append(callback)
        return OutcomeReport([])

    def acknowledge(self, callback: InboundCallback) -> Reply:
        self.acknowledged.append(callback)  # some vendors' acks echo the callback's ids
        return Reply(200, {"ok": True})


class _Adapters:
    def __init__(self, stale: _Adapter, fresh: dict[str, _Adapter]) -> None:
        self.stale, self.fresh = stale, fresh
        self.refreshed_for: list[str] = []

    def get(self, vendor: str) -> _Adapter:
        if vendor != "blu":
            raise UnknownVendor(vendor)
        return self.stale

    def refreshed(self, vendor: str) -> _Adapter | None:
        self.refreshed_for.append(vendor)
        return self.fresh.get(vendor)


class _NoStore:
    """A store that must not be asked: any read fails, which the fail-open branch would turn into a yes."""

    def get_contact(self, campaign_id: str, contact_id: str) -> Any:
        raise AssertionError(f"looked up {campaign_id}/{contact_id}")


def _handle(vendor: str, adapters: _Adapters) -> Reply:
    return handle_callback(vendor, CALLBACK, adapters, _NoStore(), NOW, predial_fail_open=True)  # type: ignore[arg-type]


def test_an_unknown_vendor_is_a_404_saying_so() -> None:
    assert _handle("acme", _Adapters(_Adapter(None), {})) == Reply(404, {"message": "unknown vendor"})


def test_a_callback_signed_with_the_rotated_secret_is_checked_again_by_the_refreshed_adapter() -> None:
    fresh = _Adapter(CALLBACK)
    adapters = _Adapters(stale=_Adapter(None), fresh={"blu": fresh})
    assert _handle("blu", adapters) == Reply(200, {"ok": True})
    assert adapters.refreshed_for == ["blu"]
    assert adapters.stale.parsed == adapters.stale.acknowledged == [CALLBACK]


def test_a_callback_the_refreshed_adapter_refuses_too_is_a_401() -> None:
    adapters = _Adapters(stale=_Adapter(None), fresh={"blu": _Adapter(None)})
    assert _handle("blu", adapters) == Reply(401, {"message": "unauthorized"})
    assert adapters.stale.parsed == []


@pytest.mark.parametrize(
    "question",
    [PredialQuestion("cmp", None), PredialQuestion(None, "c1"), PredialQuestion(None, None), PredialQuestion("", "c1")],
)
def test_a_predial_question_missing_its_campaign_or_contact_is_refused_without_a_lookup(
    question: PredialQuestion,
) -> None:
    """Even when lookups fail open: a question that names no contact is never a yes."""
    assert predial_allows(question, _NoStore(), fail_open=True) is False  # type: ignore[arg-type]


class _WrongTypes(_Adapter):
    """Authenticates everything; its parsing meets a field of the wrong type (pydantic refuses it)."""

    def parse_callback(self, callback: InboundCallback) -> OutcomeReport:
        TypeAdapter(int).validate_python("not a number")
        raise AssertionError("unreachable")


def test_a_callback_with_a_field_of_the_wrong_type_is_a_400_that_says_so_and_nothing_more() -> None:
    """Pydantic's own message would echo the value sent; the vendor is told only what kind of problem it was."""
    adapter = _WrongTypes(CALLBACK)
    reply = _handle("blu", _Adapters(stale=adapter, fresh={}))
    assert reply == Reply(400, {"message": "malformed callback: a field has the wrong type"})

"""What the webhook counts when a callback's entries carry no result: one rejection per entry, under the vendor
that sent the callback."""

from __future__ import annotations

from typing import Any

from dialhub.vendors.base import InboundCallback, OutcomeReport
from dialhub.webhooks import handle_callback
from tests.unit.test_webhook_answers import CALLBACK, NOW, _NoStore


class _Unread:
    """An adapter that authenticates every callback and reads it as `unread` entries without a result."""

    def __init__(self, unread: int) -> None:
        self.unread = unread

    def authenticate(self, callback: InboundCallback) -> bool:
        return True

    def parse_callback(self, callback: InboundCallback) -> OutcomeReport:
        return OutcomeReport([], unread=self.unread)


class _Adapters:
    def __init__(self, adapters: dict[str, _Unread]) -> None:
        self.adapters = adapters

    def get(self, vendor: str) -> _Unread:
        return self.adapters[vendor]


def test_entries_without_a_result_are_counted_once_each_under_the_vendor_that_sent_them(metrics: Any) -> None:
    adapters = _Adapters({"nxtele": _Unread(2), "airudder": _Unread(1)})
    for vendor in ("nxtele", "airudder"):
        reply = handle_callback(vendor, CALLBACK, adapters, _NoStore(), NOW, predial_fail_open=False)  # type: ignore[arg-type]
        assert reply.status == 422
    rejected = {key: value for key, value in metrics().items() if key[0] == "WebhookRejected"}
    assert rejected == {
        ("WebhookRejected", (("vendor", "nxtele"), ("reason", "no_result"), ("service", "dialhub"))): 2,
        ("WebhookRejected", (("vendor", "airudder"), ("reason", "no_result"), ("service", "dialhub"))): 1,
    }

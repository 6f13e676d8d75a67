"""Adapters are built from the account secret, rebuilt on rotation, and refreshed at most every 30 s."""

from __future__ import annotations

from typing import Any

from dialhub.vendors import AdapterProvider
from dialhub.vendors.base import InboundCallback
from tests.conftest import WEBHOOK_TOKEN

ACCOUNT = {"appId": "1", "appKey": "k", "baseUrl": "http://blu.invalid", "webhookToken": WEBHOOK_TOKEN}


class RotatingSecret:
    def __init__(self) -> None:
        self.value = dict(ACCOUNT)
        self.cached = dict(ACCOUNT)
        self.forced = 0

    def __call__(self, vendor: str, *, force_fetch: bool = False) -> dict[str, Any]:
        if force_fetch:
            self.forced += 1
            self.cached = dict(self.value)
        return self.cached


def _callback(token: str) -> InboundCallback:
    return InboundCallback(kind="", body=b"{}", headers={}, query={"token": token}, source_ip="1.2.3.4")


def test_adapter_is_reused_until_the_secret_changes() -> None:
    secret = RotatingSecret()
    provider = AdapterProvider(secret)
    first = provider.get("blu")
    assert provider.get("blu") is first
    secret.cached = dict(ACCOUNT, webhookToken="n" * 20)
    assert provider.get("blu") is not first


def test_a_rotated_token_is_accepted_after_one_forced_refresh_and_refreshes_are_throttled() -> None:
    secret = RotatingSecret()
    provider = AdapterProvider(secret)
    new_token = "rotated-token-0123456789"
    secret.value = dict(ACCOUNT, webhookToken=new_token)
    assert not provider.get("blu").authenticate(_callback(new_token))  # cache still holds the old one
    fresh = provider.refreshed("blu")
    assert fresh is not None and fresh.authenticate(_callback(new_token))
    assert provider.refreshed("blu") is None  # a second bad request within 30 s does not refetch
    assert secret.forced == 1

"""Vendor registry: every module of this package that defines `ADAPTER` is a vendor, named by its module.

Adapters are built from their account secret on first use and rebuilt when the secret changes (rotation).
Tests and the local stack inject their own `AdapterProvider` loaders or ready-made adapters.
"""

from __future__ import annotations

import importlib
import json
import math
import pkgutil
import time
from collections.abc import Callable
from functools import cache
from typing import Any, Protocol

from dialhub.vendors.base import VendorAdapter

_NOT_VENDORS = frozenset({"base", "contract"})


@cache
def vendor_names() -> tuple[str, ...]:
    return tuple(sorted(m.name for m in pkgutil.iter_modules(__path__) if m.name not in _NOT_VENDORS))


def adapter_class(vendor: str) -> type[VendorAdapter]:
    if vendor not in vendor_names():
        raise UnknownVendor(vendor)
    adapter: type[VendorAdapter] = importlib.import_module(f"{__name__}.{vendor}").ADAPTER
    return adapter


class UnknownVendor(LookupError):
    def __init__(self, vendor: str) -> None:
        super().__init__(f"unknown vendor {vendor!r}; known: {', '.join(vendor_names())}")
        self.vendor = vendor


class Adapters(Protocol):
    """Anything that hands out an adapter by vendor name (AdapterProvider in production)."""

    def get(self, vendor: str) -> VendorAdapter: ...

    def refreshed(self, vendor: str) -> VendorAdapter | None:
        """The adapter rebuilt from a freshly read secret, or None when that is not possible now."""

    def terms(self, vendor: str) -> dict[str, Any]:
        """What the vendor's account says it charges and how many requests a day it takes (TERM_KEYS of its
        secret; empty when it says nothing)."""


AccountLoader = Callable[..., dict[str, Any]]
# Keys of a vendor's account secret that price its calls (for the campaign comparison) and cap its requests a
# day (for planning): nothing else of the secret leaves the adapters.
TERM_KEYS = ("currency", "pricePerMinute", "pricePerCall", "pricePerConnectedCall", "dailyCap")
REFRESH_INTERVAL_SECONDS = 30.0


class AdapterProvider:
    """Hands out one adapter per vendor, built from the vendor's account (a Secrets Manager secret)."""

    def __init__(self, load_account: AccountLoader, http_factory: Callable[[], Any] | None = None) -> None:
        self._load_account = load_account
        self._http_factory = http_factory
        self._built: dict[str, tuple[str, VendorAdapter]] = {}
        self._last_refresh: dict[str, float] = {}

    def refreshed(self, vendor: str) -> VendorAdapter | None:
        """Re-read the secret (a rotation may have happened), at most once per interval per vendor,
        so requests with a wrong token cannot turn into a stream of Secrets Manager calls."""
        now = time.monotonic()
        if now - self._last_refresh.get(vendor, -math.inf) < REFRESH_INTERVAL_SECONDS:
            return None
        self._last_refresh[vendor] = now
        return self.get(vendor, force_fetch=True)

    def get(self, vendor: str, *, force_fetch: bool = False) -> VendorAdapter:
        cls = adapter_class(vendor)
        account = self._load_account(vendor, force_fetch=force_fetch)
        fingerprint = json.dumps(account, sort_keys=True, default=str)
        cached = self._built.get(vendor)
        if cached and cached[0] == fingerprint:
            return cached[1]
        http = self._http_factory() if self._http_factory else None
        adapter = cls.from_account(account, http=http)
        self._built[vendor] = (fingerprint, adapter)
        return adapter

    def terms(self, vendor: str) -> dict[str, Any]:
        adapter_class(vendor)  # an unknown vendor is refused, as by get()
        account = self._load_account(vendor)
        return {key: account[key] for key in TERM_KEYS if key in account}


class StaticAdapters:
    """Ready-made adapters by name; for tests and tools that build adapters themselves."""

    def __init__(self, adapters: dict[str, VendorAdapter], terms: dict[str, dict[str, Any]] | None = None) -> None:
        self._adapters = adapters
        self._terms = terms or {}

    def get(self, vendor: str) -> VendorAdapter:
        if vendor not in self._adapters:
            raise UnknownVendor(vendor)
        return self._adapters[vendor]

    def refreshed(self, vendor: str) -> VendorAdapter | None:
        return None

    def terms(self, vendor: str) -> dict[str, Any]:
        self.get(vendor)
        return self._terms.get(vendor, {})

"""Vendor simulators for the local stack: one module per vendor, named like its adapter module.

Each module defines `create(knobs: SimulatorKnobs) -> VendorSimulator`. The local stack starts one per
vendor that has an adapter, tells it where the gateway is (`connect`), and stores the account secret it
returns under the vendor's secret name, so the real adapter talks to the simulator unchanged.
"""

from __future__ import annotations

import importlib
from collections import Counter
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any, Protocol, Self

from local.simulators.plumbing import ApiFaults, CallbackCourier, CallbackFaults, FaultyApi

# What each simulated account says it charges (pesos), so the campaign comparison has costs to show; made up
# for the demo, in the shapes the vendors price in: per minute, per call, per answered call.
DEMO_PRICES: dict[str, dict[str, Any]] = {
    "blu": {"currency": "PHP", "pricePerMinute": "3.00", "pricePerCall": "0.20"},
    "nxtele": {"currency": "PHP", "pricePerCall": "0.40", "pricePerConnectedCall": "1.60"},
    "airudder": {"currency": "PHP", "pricePerMinute": "2.40", "pricePerCall": "0.35"},
}


@dataclass(frozen=True)
class SimulatorKnobs:
    """What every simulator can be told: how fast it dials, how unreliable its API and callbacks are."""

    drop_rate: float = 0.0  # share of callbacks lost for good (the poller must recover them)
    dial_delay: tuple[float, float] = (0.05, 0.4)  # seconds from acceptance to the end of a call
    retry_interval: float = 0.3  # time-compressed stand-in for the vendor's callback retry interval
    seed: int = 7
    api_faults: ApiFaults = field(default_factory=ApiFaults)  # failing, slow, throttling or lossy API answers
    callback_faults: CallbackFaults = field(default_factory=CallbackFaults)  # duplicated, reordered, late
    batch_size: int | None = None  # the account's submission size where the vendor lets us choose one
    # "Unexpected vendor" switches: answers that differ from the adapter's assumptions in the ways the
    # vendor's documents leave open (each simulator's QUIRKS names the ones it has).
    quirks: frozenset[str] = frozenset()


class VendorSimulator(Protocol):
    vendor: str
    QUIRKS: frozenset[str]  # the unexpected-vendor switches this simulator understands
    # Accepted dial requests per contact identity: a value above 1 means someone was dialled twice.
    dial_requests: Counter[Hashable]
    api: FaultyApi | None  # the API as served, with the faults it injected
    courier: CallbackCourier  # how callbacks were delivered, dropped, duplicated or held back

    @property
    def base_url(self) -> str: ...

    def start(self) -> Self: ...

    def stop(self) -> None: ...

    def connect(self, gateway_url: str) -> dict[str, Any]:
        """Point callbacks at the gateway; returns the account secret dialhub needs to use this simulator."""

    def demo_options(self) -> dict[str, Any]:
        """Campaign vendorOptions that this simulator accepts."""

    def pending(self) -> int:
        """Dial requests not yet finished plus callbacks not yet delivered or given up."""

    def wait_idle(self, timeout: float) -> bool: ...

    def taken_contacts(self) -> set[tuple[str, str]]:
        """(campaignId, contactId) of every dial request the vendor took: one vendor's, never another's."""

    def refused_contacts(self) -> set[tuple[str, str]]:
        """(campaignId, contactId) of every request it refused and never accepted: none may count as sent."""

    def reported_call_ids(self) -> set[str]:
        """The vendor call id of every call the vendor reports (what dialhub must store one outcome for)."""

    def use_faults(self, api: ApiFaults, callbacks: CallbackFaults) -> Self: ...


def quirks_of(vendor: str) -> frozenset[str]:
    quirks: frozenset[str] = importlib.import_module(f"{__name__}.{vendor}").QUIRKS
    return quirks


def create(vendor: str, knobs: SimulatorKnobs) -> VendorSimulator:
    module = importlib.import_module(f"{__name__}.{vendor}")
    if unknown := knobs.quirks - quirks_of(vendor):
        raise ValueError(f"the {vendor} simulator has no switch {sorted(unknown)}; it has {sorted(quirks_of(vendor))}")
    simulator: VendorSimulator = module.create(knobs)
    return simulator

"""What a campaign's counts are made of: each contact adds to them by its state, disposition and hold.

The live counters (counters.py) add a change's new contributions minus its old ones; the full recount
(campaigns.py) sums them over every contact: both count through this one function, so they agree.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from dialhub.models import DialState

TOTAL = "total"
COUNT_KINDS = ("state", "disposition", "held", "vendor", "failover", "swept")


@dataclass
class CampaignCounts:
    total: int = 0
    by_state: dict[str, int] = field(default_factory=dict)
    by_disposition: dict[str, int] = field(default_factory=dict)
    held_back: dict[str, int] = field(default_factory=dict)  # queued contacts held by compliance, by reason
    by_vendor: dict[str, dict[str, int]] = field(default_factory=dict)  # closing dispositions per vendor
    failed_over: dict[str, int] = field(default_factory=dict)  # "<from>.<to>.<cause>": contacts moved so
    swept: dict[str, int] = field(default_factory=dict)  # contacts the sweep found stuck, by their state now

    @property
    def closed(self) -> int:
        return sum(self.by_state.get(state.value, 0) for state in DialState if state.closed)


def contributions(contact: Mapping[str, Any] | None) -> dict[str, int]:
    """What one stored contact adds to its campaign's counters; a change adds new minus old. The full recount
    sums the same function over every contact, so the two cannot disagree on what is counted."""
    if not contact:
        return {}
    state = str(contact.get("state", "unknown"))
    counts = {TOTAL: 1, f"state.{state}": 1}
    if disposition := contact.get("disposition"):
        counts[f"disposition.{disposition}"] = 1
        if vendor := contact.get("lastCallVendor"):
            counts[f"vendor.{vendor}.{disposition}"] = 1
    if (origin := contact.get("failedOverFrom")) and (vendor := contact.get("vendor")):
        counts[f"failover.{origin}.{vendor}.{contact.get('failoverCause', 'unknown')}"] = 1
    if contact.get("sweptAt"):
        counts[f"swept.{state}"] = 1
    hold = contact.get("hold")
    if state == DialState.QUEUED.value and isinstance(hold, Mapping) and (reason := hold.get("reason")):
        counts[f"held.{reason}"] = 1
    return counts


def change(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> dict[str, int]:
    """The counters a contact's move from `old` to `new` changes (an insert has no old, a removal no new)."""
    delta = {name: -count for name, count in contributions(old).items()}
    for name, count in contributions(new).items():
        delta[name] = delta.get(name, 0) + count
    return {name: count for name, count in delta.items() if count}


def counts_from(totals: Mapping[str, Any]) -> CampaignCounts:
    """Counter attributes (or summed contributions) as the counts the API shows."""
    counts = CampaignCounts(total=int(totals.get(TOTAL, 0)))
    for name, value in sorted(totals.items()):
        kind, _, rest = name.partition(".")
        if not rest or not isinstance(value, int | float) or not value:
            continue
        if kind == "state":
            counts.by_state[rest] = int(value)
        elif kind == "disposition":
            counts.by_disposition[rest] = int(value)
        elif kind == "held":
            counts.held_back[rest] = int(value)
        elif kind == "failover":
            counts.failed_over[rest] = int(value)
        elif kind == "swept":
            counts.swept[rest] = int(value)
        elif kind == "vendor":
            vendor, _, disposition = rest.partition(".")
            counts.by_vendor.setdefault(vendor, {})[disposition] = int(value)
    return counts


def is_count(name: str) -> bool:
    return name == TOTAL or name.partition(".")[0] in COUNT_KINDS


def add_up(totals: dict[str, int], contacts: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Add these contacts' contributions to `totals` (and return it)."""
    for contact in contacts:
        for name, count in contributions(contact).items():
            totals[name] = totals.get(name, 0) + count
    return totals


def totals_of(counts: CampaignCounts) -> dict[str, int]:
    """Counts back as counter attributes (what counts_from reads)."""
    totals = {TOTAL: counts.total}
    for kind, values in (
        ("state", counts.by_state),
        ("disposition", counts.by_disposition),
        ("held", counts.held_back),
        ("failover", counts.failed_over),
        ("swept", counts.swept),
    ):
        totals |= {f"{kind}.{name}": count for name, count in values.items()}
    for vendor, dispositions in counts.by_vendor.items():
        totals |= {f"vendor.{vendor}.{disposition}": count for disposition, count in dispositions.items()}
    return totals

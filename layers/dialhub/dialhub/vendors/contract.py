"""Checking a vendor's real behaviour against the assumptions its adapter is built on.

The adapters were written from incomplete documents; each vendor package's docstring lists its ASSUMPTIONS.
Before the first real account carries traffic, `python -m dialhub.contract_check <vendor>` runs the checks
its `contract` module defines, each one safe to run against production (read-only requests, a task with no
numbers, a wrong signature), and says per assumption whether it held, did not hold, or could not be tested.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

    from dialhub.vendors.base import VendorAdapter


class Verdict(StrEnum):
    HELD = "held"
    BROKEN = "did not hold"
    UNTESTED = "could not be tested"


@dataclass(frozen=True)
class Evidence:
    verdict: Verdict
    detail: str  # what was sent and seen, short; never a secret or a full phone number


@dataclass
class Probe:
    """What a check may use: the adapter built from the account, the raw account (for deliberately wrong
    signatures), a campaign's vendor options for creating an empty task, an existing task with results
    (for paging checks), and an HTTP client pointed at the vendor."""

    adapter: VendorAdapter
    account: dict[str, Any]
    http: httpx.Client
    options: dict[str, Any] = field(default_factory=dict)
    task_id: str | None = None
    callback_url: str | None = None  # where a vendor that can send a test callback should send it


@dataclass(frozen=True)
class Check:
    assumption: str  # the id in the vendor's docstring, e.g. "A13"
    question: str  # what is being asked of the vendor, in one line
    run: Callable[[Probe], Evidence]


@dataclass(frozen=True)
class Finding:
    assumption: str
    question: str
    verdict: Verdict
    detail: str


def held(detail: str) -> Evidence:
    return Evidence(Verdict.HELD, detail)


def broken(detail: str) -> Evidence:
    return Evidence(Verdict.BROKEN, detail)


def untested(detail: str) -> Evidence:
    return Evidence(Verdict.UNTESTED, detail)


def cannot_test(reason: str) -> Callable[[Probe], Evidence]:
    """The check of an assumption no safe request reaches: it is listed all the same, with why."""
    return lambda probe: untested(reason)


def run_checks(checks: list[Check], probe: Probe) -> list[Finding]:
    """Every check runs, whatever the others did; one that raises could not be tested, and says why."""
    findings = []
    for check in checks:
        try:
            evidence = check.run(probe)
        except Exception as exc:  # noqa: BLE001 - a check's failure is a finding, not a crash of the tool
            evidence = Evidence(Verdict.UNTESTED, f"{type(exc).__name__}: {exc}")
        findings.append(Finding(check.assumption, check.question, evidence.verdict, evidence.detail))
    return findings

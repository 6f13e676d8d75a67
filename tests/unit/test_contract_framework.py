"""The contract check reports every assumption, whatever its checks do: one that raises is a finding."""

from __future__ import annotations

import io
from typing import Any

from dialhub.contract_check import render
from dialhub.vendors.contract import Check, Evidence, Probe, Verdict, run_checks


def _probe() -> Probe:
    return Probe(adapter=object(), account={}, http=object())  # type: ignore[arg-type]


def _broken(probe: Probe) -> Evidence:
    raise ConnectionError("vendor unreachable")


def test_a_check_that_raises_could_not_be_tested_and_the_others_still_run() -> None:
    checks = [
        Check("A1", "signing", lambda probe: Evidence(Verdict.HELD, "200 with code 2000")),
        Check("A2", "create task", _broken),
        Check("A3", "page size", lambda probe: Evidence(Verdict.BROKEN, "10 rows on a page of 100")),
    ]
    findings = run_checks(checks, _probe())
    assert [(f.assumption, f.verdict) for f in findings] == [
        ("A1", Verdict.HELD),
        ("A2", Verdict.UNTESTED),
        ("A3", Verdict.BROKEN),
    ]
    assert findings[1].detail == "ConnectionError: vendor unreachable"


def test_the_report_has_a_line_per_assumption_and_a_tally_computed_from_them() -> None:
    checks: list[Any] = [
        Check("A1", "signing", lambda probe: Evidence(Verdict.HELD, "ok")),
        Check("A13", "page size", lambda probe: Evidence(Verdict.BROKEN, "10 of 100")),
    ]
    out = io.StringIO()
    render("blu", run_checks(checks, _probe()), out)
    text = out.getvalue()
    assert "blu: 2 assumptions checked" in text
    assert "A13  did not hold" in text and "10 of 100" in text
    assert text.rstrip().endswith("held: 1 · did not hold: 1 · could not be tested: 0")

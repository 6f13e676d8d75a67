"""The AIRudder contract check against the simulator: every assumption has a check, every one that can be
tested safely holds against the simulator as built, and each "unexpected vendor" switch makes the
assumption it breaks not hold (the adapter still reads everything: see test_airudder_answers)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from dialhub.contract_check import check_vendor
from dialhub.vendors import airudder
from dialhub.vendors.airudder.contract import CHECKS
from dialhub.vendors.airudder.tokens import forget_tokens
from dialhub.vendors.contract import Finding, Verdict
from local.simulators.airudder import AirudderSimulator, _ApiError
from tests.conftest import WEBHOOK_TOKEN

APP_KEY = "ar-contract-appkey"
APP_SECRET = "ar-contract-appsecret-0123456789"
TESTABLE = {"A1", "A2", "A5", "A6", "A8", "A9", "A10", "A16", "A17"}
NEEDS_TASK = {"A9", "A10", "A16"}
NEEDS_OPTIONS = {"A5", "A6"}


@pytest.fixture(autouse=True)
def _fresh_tokens() -> Iterator[None]:
    forget_tokens()
    yield
    forget_tokens()


def _simulator(*quirks: str) -> AirudderSimulator:
    return AirudderSimulator(
        APP_KEY, APP_SECRET, dial_delay=(0.01, 0.03), minute_seconds=0.01, seed=5, quirks=frozenset(quirks)
    ).start()


def _task_with_results(simulator: AirudderSimulator, numbers: int = 25) -> str:
    """A finished task of `numbers` numbers, created as AIRudder's own example creates one (StartImmediately)."""
    with httpx.Client(base_url=simulator.base_url) as http:
        token = http.post("/service/cloud/auth", json={"APPKey": APP_KEY, "APPSecret": APP_SECRET}).json()
        body = {
            "TaskName": "contract_results",
            "RobotID": "r1",
            "SIPLine": "PH_LINE",
            "Type": "collection",
            "Perform": 1,
            "RepeatNumber": 0,
            "RepeatInterval": 0,
            "StartImmediately": True,
            "Details": [
                {"Mobile": f"+63917{i:07d}", "Platform": "dialhub", "Comments": f"cmp|c{i}"} for i in range(numbers)
            ],
        }
        headers = {"Authorization": f"Token {token['data']['token']}"}
        task_id: str = http.post("/service/cloud/v2/task", json=body, headers=headers).json()["data"]["TaskID"]
    assert simulator.wait_idle(10)
    return task_id


def _findings(*quirks: str, task: bool = True, options: bool = True) -> dict[str, Finding]:
    simulator = _simulator(*quirks)
    try:
        task_id = _task_with_results(simulator) if task else None
        with httpx.Client(base_url=simulator.base_url, timeout=5) as http:
            findings = check_vendor(
                "airudder",
                simulator.account(WEBHOOK_TOKEN),
                options=simulator.demo_options() if options else {},
                task_id=task_id,
                http=http,
            )
    finally:
        simulator.stop()
    return {finding.assumption: finding for finding in findings}


def test_every_assumption_of_the_package_docstring_has_one_check() -> None:
    documented = re.findall(r"^- (A\d+) ASSUMPTION:", airudder.__doc__ or "", re.MULTILINE)
    assert documented == [f"A{number}" for number in range(1, len(documented) + 1)]
    assert [check.assumption for check in CHECKS] == documented


def test_against_the_simulator_every_testable_assumption_holds() -> None:
    findings = _findings()
    assert {key for key, finding in findings.items() if finding.verdict is Verdict.HELD} == TESTABLE, {
        key: finding.detail for key, finding in findings.items() if key in TESTABLE
    }
    untested = {key: finding.detail for key, finding in findings.items() if key not in TESTABLE}
    assert all(finding_detail for finding_detail in untested.values())
    assert {finding.verdict for key, finding in findings.items() if key not in TESTABLE} == {Verdict.UNTESTED}
    assert findings["A9"].detail.startswith("all 25 rows in the first answer")
    assert "counted from 0" in findings["A6"].detail


def test_short_pages_breaks_the_detail_assumption_and_paging_still_reads_every_row() -> None:
    findings = _findings("short_pages")
    assert findings["A9"].verdict is Verdict.BROKEN
    assert "holds 10 of 25 rows" in findings["A9"].detail and "read 25 of 25" in findings["A9"].detail
    assert {key for key, finding in findings.items() if finding.verdict is Verdict.BROKEN} == {"A9"}


def test_one_based_breaks_the_index_base_and_the_echoed_comments() -> None:
    findings = _findings("one_based")
    assert findings["A6"].verdict is Verdict.BROKEN and "counts from 1" in findings["A6"].detail
    assert findings["A5"].verdict is Verdict.BROKEN
    assert {key for key, finding in findings.items() if finding.verdict is Verdict.BROKEN} == {"A5", "A6"}


def test_without_a_task_or_options_their_checks_say_what_they_need() -> None:
    findings = _findings(task=False, options=False)
    for key in NEEDS_TASK:
        assert findings[key].verdict is Verdict.UNTESTED and "--task-id" in findings[key].detail
    for key in NEEDS_OPTIONS:
        assert findings[key].verdict is Verdict.UNTESTED and "--options" in findings[key].detail
    assert {key for key, finding in findings.items() if finding.verdict is Verdict.HELD} == TESTABLE - (
        NEEDS_TASK | NEEDS_OPTIONS
    )


def test_the_validate_only_probe_creates_no_task_and_dials_nobody() -> None:
    simulator = _simulator()
    try:
        with httpx.Client(base_url=simulator.base_url, timeout=5) as http:
            check_vendor("airudder", simulator.account(WEBHOOK_TOKEN), options=simulator.demo_options(), http=http)
        assert simulator.task_ids() == [] and not simulator.dial_requests and simulator.calls_made == 0
        assert simulator.create_requests == 2  # A5 and A6 ask once each
    finally:
        simulator.stop()


def test_a_vendor_that_gives_anyone_a_token_breaks_the_auth_assumption(monkeypatch: pytest.MonkeyPatch) -> None:
    def lenient_auth(self: AirudderSimulator, body: dict[str, Any]) -> dict[str, Any]:
        return original(self, {**body, "APPSecret": APP_SECRET})

    original = AirudderSimulator._auth
    monkeypatch.setattr(AirudderSimulator, "_auth", lenient_auth)
    findings = _findings(task=False)
    assert findings["A17"].verdict is Verdict.BROKEN and "wrong APPSecret was given a token" in findings["A17"].detail


def test_a_vendor_that_refuses_the_paging_parameters_is_told_apart_from_one_that_pages(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def strict(endpoint: Any) -> Any:
        def answer(self: AirudderSimulator, query: dict[str, Any]) -> dict[str, Any]:
            if "PageNumber" in query:
                raise _ApiError(10501, "unknown parameter PageNumber")
            return endpoint(self, query)  # type: ignore[no-any-return]

        return answer

    monkeypatch.setattr(AirudderSimulator, "_detail", strict(AirudderSimulator._detail))
    monkeypatch.setattr(AirudderSimulator, "_list", strict(AirudderSimulator._list))
    findings = _findings()
    for key in ("A8", "A9"):
        assert findings[key].verdict is Verdict.BROKEN and "PageNumber/PageSize are refused" in findings[key].detail

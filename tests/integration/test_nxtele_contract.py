"""The NXTele contract check against the simulator: every assumption it can test holds against the NXTele the
adapter was built for, and a simulator switched to break one is reported as "did not hold" for that one."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from dialhub.models import Campaign, VendorTask
from dialhub.vendors.base import DialRequest, Submission
from dialhub.vendors.contract import Finding, Probe, Verdict, run_checks
from dialhub.vendors.nxtele.adapter import NxteleAdapter
from dialhub.vendors.nxtele.contract import CHECKS
from local.simulators.nxtele import DEMO_SCENE_ID, SAMPLE_SECRET_KEY, SAMPLE_UUID, NxteleSimulator

ORDERS = 120  # more than the 100 a page asked for: a cap below 100 shows
OPTIONS = {"sceneID": DEMO_SCENE_ID, "scriptVariables": ["amountDue", "dueDate"]}
TESTABLE = {"A1", "A3", "A6", "A7", "A9", "A12", "A13", "A15", "A18", "A19", "A20", "A21"}
NEED_TASK = {"A7", "A9", "A12", "A13", "A15", "A21"}
NEED_OPTIONS = {"A3", "A6", "A20"}


def _account(simulator: NxteleSimulator, secret_key: str = SAMPLE_SECRET_KEY) -> dict[str, Any]:
    return {
        "uuid": SAMPLE_UUID,
        "secretKey": secret_key,
        "baseUrl": simulator.base_url,
        "callbackBaseUrl": "http://127.0.0.1:9/webhooks/nxtele",  # nobody listens: callbacks are given up
    }


def _task_with_results(adapter: NxteleAdapter, simulator: NxteleSimulator) -> str:
    """A task made by dialhub, its calls finished: what an operator names with --task-id."""
    today = adapter.today()
    campaign = Campaign(
        campaign_id="cmp-check", name="contract", vendor="nxtele", dial_date=today, timezone="Asia/Manila",
        vendor_options=OPTIONS, created_at=dt.datetime.now(dt.UTC),
    )  # fmt: skip
    task = VendorTask(campaign_id="cmp-check", vendor="nxtele", local_date=today, vendor_task_id="")
    task = task.model_copy(update={"vendor_task_id": adapter.create_task(campaign, today)})
    values = {"amountDue": 1500, "dueDate": "2026-11-30"}
    requests = [DialRequest("cmp-check", f"c{n}", 1, f"+63917{n:07d}", "Maria", values) for n in range(ORDERS)]
    adapter.submit(Submission(campaign, task, requests, "contract"))
    assert simulator.wait_idle(15)
    return task.vendor_task_id


class Probes:
    """Probes of running NXTele simulators with chosen switches, each task holding ORDERS finished orders."""

    def __init__(self) -> None:
        self.simulators: dict[int, NxteleSimulator] = {}  # by id(probe)
        self._clients: list[httpx.Client] = []

    def __call__(self, quirks: frozenset[str] = frozenset(), task: bool = True, options: bool = True) -> Probe:
        simulator = NxteleSimulator(
            SAMPLE_UUID, SAMPLE_SECRET_KEY, dial_delay=(0.0, 0.02), max_retries=0, quirks=quirks
        ).start()
        http = httpx.Client(base_url=simulator.base_url, trust_env=False, timeout=5)
        self._clients.append(http)
        account = _account(simulator)
        adapter = NxteleAdapter.from_account(account, http=http)
        task_id = _task_with_results(adapter, simulator) if task else None
        probe = Probe(adapter, account, http, options=OPTIONS if options else {}, task_id=task_id)
        self.simulators[id(probe)] = simulator
        return probe

    def close(self) -> None:
        for http in self._clients:
            http.close()
        for simulator in self.simulators.values():
            simulator.stop()


@pytest.fixture
def probe_of() -> Iterator[Probes]:
    probes = Probes()
    yield probes
    probes.close()


def _findings(probe: Probe) -> dict[str, Finding]:
    return {finding.assumption: finding for finding in run_checks(CHECKS, probe)}


def _broken(findings: dict[str, Finding]) -> set[str]:
    return {a for a, f in findings.items() if f.verdict is Verdict.BROKEN}


def test_every_assumption_of_the_docstring_has_one_check() -> None:
    import dialhub.vendors.nxtele as package

    documented = re.findall(r"^- (A\d+) ASSUMPTION", package.__doc__ or "", flags=re.MULTILINE)
    assert [check.assumption for check in CHECKS] == documented == [f"A{n}" for n in range(1, 22)]


def test_against_the_simulator_every_testable_assumption_holds(probe_of: Probes) -> None:
    findings = _findings(probe_of())
    assert {a for a, f in findings.items() if f.verdict is Verdict.HELD} == TESTABLE, findings
    assert _broken(findings) == set()
    assert all(f.detail for f in findings.values())  # each says what it saw, or why it could not look
    assert findings["A7"].detail == "page 1 of size 100 has 100 rows"
    assert findings["A19"].detail == "listTask signed with a wrong secretKey answered retCode 6"
    assert findings["A20"].detail == "1 entry sent: totalCount 1, successCount 0, 1 in errList"
    assert findings["A21"].detail == f"total {ORDERS}; page 1 has 100 rows"
    assert findings["A6"].detail.startswith("the entry names the phone as sent, no orderID")


def test_the_checks_leave_no_task_open_and_take_no_order(probe_of: Probes) -> None:
    probe = probe_of(task=False)
    run_checks(CHECKS, probe)
    simulator = probe_of.simulators[id(probe)]
    listed = simulator.task_snapshot  # the console's view of each task the checks created
    created = [task_id for task_id in simulator._tasks if task_id.startswith("dialhub-check-")]
    assert len(created) == 2 and all(listed(task_id)["taskStatus"] == 3 for task_id in created)  # completed
    assert all(listed(task_id)["orders"] == {} for task_id in created)
    assert sum(simulator.dial_requests.values()) == 0 and simulator.calls_made == []


def test_short_pages_break_the_page_size_assumption_only_and_the_adapter_reads_on(probe_of: Probes) -> None:
    probe = probe_of(frozenset({"short_pages"}))
    findings = _findings(probe)
    assert _broken(findings) == {"A7"}
    assert findings["A7"].detail == f"page 1 of size 100 has 10 rows of a total {ORDERS}: pages are capped"
    task = VendorTask(
        campaign_id="cmp-check", vendor="nxtele", local_date=dt.date(2026, 1, 1), vendor_task_id=probe.task_id
    )
    closing = {o.contact_id for page in probe.adapter.results(task) for o in page if o.closes_contact}
    assert len(closing) == ORDERS


def test_national_phones_break_the_err_list_assumption(probe_of: Probes) -> None:
    findings = _findings(probe_of(frozenset({"national_phones"}), task=False))
    assert _broken(findings) == {"A6"}
    assert "writes the phone sent (***0123, 12 digits) as ***0123 in 11 digits" in findings["A6"].detail
    assert "7700900" not in findings["A6"].detail  # never a whole number in the report


def test_silent_refusals_break_the_counting_assumption(probe_of: Probes) -> None:
    findings = _findings(probe_of(frozenset({"silent_refusals"}), task=False))
    assert _broken(findings) == {"A20"}
    assert findings["A20"].detail.startswith("1 entry sent: totalCount 1, successCount 0, 0 in errList")
    assert findings["A6"].verdict is Verdict.UNTESTED  # no entry to look at


def test_without_a_task_or_options_the_checks_that_need_them_say_so(probe_of: Probes) -> None:
    findings = _findings(probe_of(task=False, options=False))
    assert {a for a, f in findings.items() if f.verdict is Verdict.HELD} == {"A1", "A18", "A19"}
    assert all("--task-id" in findings[a].detail for a in NEED_TASK)
    assert all("--options" in findings[a].detail for a in NEED_OPTIONS)
    assert _broken(findings) == set()


def test_a_wrong_secret_key_breaks_the_signing_assumptions(probe_of: Probes) -> None:
    probe = probe_of(task=False)
    wrong = Probe(probe.adapter, {**probe.account, "secretKey": "not-the-key"}, probe.http, options=OPTIONS)
    findings = _findings(wrong)
    assert findings["A18"].verdict is Verdict.BROKEN and "retCode 6" in findings["A18"].detail
    assert findings["A3"].verdict is Verdict.UNTESTED and "retCode 6" in findings["A3"].detail
    assert findings["A1"].verdict is Verdict.UNTESTED  # a refusal's signature is not what the adapter checks

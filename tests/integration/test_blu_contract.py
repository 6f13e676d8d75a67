"""The Blu contract check against the simulator: every assumption it can test holds against the Blu the
adapter was built for, and a simulator switched to break one is reported as "did not hold" for that one."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from dialhub.contract_check import main
from dialhub.models import Campaign, VendorTask
from dialhub.vendors.base import DialRequest, Submission
from dialhub.vendors.blu.adapter import BluAdapter
from dialhub.vendors.blu.contract import CHECKS
from dialhub.vendors.contract import Probe, Verdict, run_checks
from local.simulators.blu import BluSimulator
from tests.conftest import BLU_APP_ID, BLU_APP_KEY, WEBHOOK_TOKEN

RESULTS = 25  # more than Blu's documented page of 10, fewer than the 100 asked
TESTABLE = {"A1", "A2", "A12", "A13", "A14", "A15", "A17"}  # the rest need an upload, a real call or Blu's staff


def _account(simulator: BluSimulator) -> dict[str, Any]:
    return {
        "appId": BLU_APP_ID,
        "appKey": BLU_APP_KEY,
        "baseUrl": simulator.base_url,
        "webhookToken": WEBHOOK_TOKEN,
        "timezone": "Asia/Manila",
    }


def _task_with_results(adapter: BluAdapter, simulator: BluSimulator) -> str:
    """A task made by dialhub, its calls finished: what an operator names with --task-id."""
    today = adapter.today()
    campaign = Campaign(
        campaign_id="cmp-check", name="contract", vendor="blu", dial_date=today, timezone="Asia/Manila",
        vendor_options={"botId": 123}, created_at=dt.datetime.now(dt.UTC),
    )  # fmt: skip
    task = VendorTask(campaign_id="cmp-check", vendor="blu", local_date=today, vendor_task_id="")
    task = task.model_copy(update={"vendor_task_id": adapter.create_task(campaign, today)})
    requests = [
        DialRequest("cmp-check", f"c{index}", 1, f"+6391712{index:05d}", "Maria", {}) for index in range(RESULTS)
    ]
    adapter.submit(Submission(campaign, task, requests, "contract"))
    assert simulator.wait_idle(10)
    return task.vendor_task_id


@pytest.fixture
def probe_of() -> Iterator[Any]:
    """A probe of a running Blu simulator with these switches, its task holding RESULTS finished calls."""
    running: list[tuple[BluSimulator, httpx.Client]] = []

    def make(quirks: frozenset[str] = frozenset(), task: bool = True, options: bool = True) -> Probe:
        simulator = BluSimulator(BLU_APP_ID, BLU_APP_KEY, dial_delay=(0.0, 0.02), quirks=quirks).start()
        http = httpx.Client(base_url=simulator.base_url, trust_env=False, timeout=5)
        running.append((simulator, http))
        account = _account(simulator)
        adapter = BluAdapter.from_account(account, http=http)
        task_id = _task_with_results(adapter, simulator) if task else None
        return Probe(adapter, account, http, options={"botId": 123} if options else {}, task_id=task_id)

    yield make
    for simulator, http in running:
        http.close()
        simulator.stop()


def _verdicts(probe: Probe) -> dict[str, Verdict]:
    return {finding.assumption: finding.verdict for finding in run_checks(CHECKS, probe)}


def test_every_assumption_of_the_docstring_has_one_check() -> None:
    import re

    import dialhub.vendors.blu as package

    documented = re.findall(r"^- (A\d+) ASSUMPTION", package.__doc__ or "", flags=re.MULTILINE)
    assert [check.assumption for check in CHECKS] == documented == [f"A{n}" for n in range(1, 18)]


def test_against_the_simulator_every_testable_assumption_holds(probe_of: Any) -> None:
    findings = run_checks(CHECKS, probe_of())
    assert {f.assumption for f in findings if f.verdict is Verdict.HELD} == TESTABLE, findings
    assert not [f for f in findings if f.verdict is Verdict.BROKEN]
    untested = [f for f in findings if f.verdict is Verdict.UNTESTED]
    assert all(f.detail for f in untested)  # each says why
    by_id = {f.assumption: f.detail for f in findings}
    assert by_id["A13"] == "asked 100 a page, got 25: the same calls as 3 pages of 10"
    assert by_id["A15"] == "a wrongly signed queryCallResult was refused: code 4001"
    assert by_id["A17"] == "25 rows carry callId and echo our ids; userId is our record id in 25"


def test_short_pages_break_the_page_size_assumption_only_and_the_adapter_reads_on(probe_of: Any) -> None:
    probe = probe_of(frozenset({"short_pages"}))
    findings = {f.assumption: f for f in run_checks(CHECKS, probe)}
    assert findings["A13"].verdict is Verdict.BROKEN
    assert findings["A13"].detail.startswith("asked 100 a page, got 10 while pages of 10 show 25")
    assert {a for a, f in findings.items() if f.verdict is Verdict.BROKEN} == {"A13"}
    task = VendorTask(
        campaign_id="cmp-check", vendor="blu", local_date=dt.date(2026, 1, 1), vendor_task_id=probe.task_id
    )
    assert len({o.vendor_call_id for page in probe.adapter.results(task) for o in page}) == RESULTS


@pytest.mark.parametrize(
    ("quirk", "assumption"),
    [("undercount", "A16"), ("documented_callbacks", "A6")],
)
def test_switches_no_safe_request_can_show_are_reported_as_not_tested(
    probe_of: Any, quirk: str, assumption: str
) -> None:
    """An upload dials whoever it names and Blu calls back only for real calls: these two switches break an
    assumption no safe request can show, so the check says it could not test it, and why."""
    findings = {f.assumption: f for f in run_checks(CHECKS, probe_of(frozenset({quirk})))}
    assert findings[assumption].verdict is Verdict.UNTESTED and findings[assumption].detail
    assert not [f for f in findings.values() if f.verdict is Verdict.BROKEN]


def test_without_a_task_or_options_the_checks_that_need_them_say_so(probe_of: Any) -> None:
    findings = {f.assumption: f for f in run_checks(CHECKS, probe_of(task=False, options=False))}
    assert {a for a, f in findings.items() if f.verdict is Verdict.HELD} == {"A1"}
    assert "--options" in findings["A2"].detail and "--task-id" in findings["A13"].detail
    assert not [f for f in findings.values() if f.verdict is Verdict.BROKEN]


def test_a_wrong_app_key_breaks_the_signing_assumption(probe_of: Any) -> None:
    probe = probe_of()
    wrong = BluAdapter.from_account({**probe.account, "appKey": "not-the-key"}, http=probe.http)
    wrong_probe = Probe(wrong, probe.account, probe.http, task_id=probe.task_id)
    findings = {f.assumption: f for f in run_checks(CHECKS, wrong_probe)}
    assert findings["A14"].verdict is Verdict.BROKEN and "code 4001" in findings["A14"].detail


# --------------------------------------------------------------------------- the command an engineer runs


def _check(probe: Any, tmp_path: Path, *extra: str) -> tuple[int, str]:
    account = tmp_path / "blu.json"
    account.write_text(json.dumps(probe.account))
    out = io.StringIO()
    arguments = ["blu", "--account", str(account), "--options", '{"botId": 123}', *extra]
    code = main([*arguments, "--task-id", probe.task_id] if probe.task_id else arguments, out=out)
    return code, out.getvalue()


def test_against_the_blu_it_was_built_for_nothing_fails_and_every_assumption_is_listed(
    probe_of: Any, tmp_path: Path
) -> None:
    code, text = _check(probe_of(), tmp_path)
    assert code == 0, text
    assert "blu: 17 assumptions checked" in text
    assert "A13  held" in text and "did not hold: 0" in text
    assert BLU_APP_KEY not in text


def test_a_blu_that_pages_by_ten_is_reported_and_the_exit_status_says_so(probe_of: Any, tmp_path: Path) -> None:
    code, text = _check(probe_of(frozenset({"short_pages"})), tmp_path, "--json")
    assert code == 1
    findings = {finding["assumption"]: finding["verdict"] for finding in json.loads(text)}
    assert findings["A13"] == "did not hold"
    assert [name for name, verdict in findings.items() if verdict == "did not hold"] == ["A13"]


def test_an_account_missing_its_key_is_refused_by_field_name(tmp_path: Path) -> None:
    account = tmp_path / "blu.json"
    account.write_text(json.dumps({"appId": "10001", "webhookToken": "t" * 20}))
    out = io.StringIO()
    assert main(["blu", "--account", str(account)], out=out) == 2
    assert "cannot check blu" in out.getvalue() and "appKey" in out.getvalue()


def test_an_unknown_vendor_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["acme", "--account", "x.json"])
    assert stopped.value.code == 2
    assert "invalid choice: 'acme'" in capsys.readouterr().err


def test_the_account_can_come_from_its_secret_as_deployed(aws: Any, probe_of: Any) -> None:
    import boto3

    probe = probe_of(task=False)
    boto3.client("secretsmanager").create_secret(Name="dialhub/dev/vendors/blu", SecretString=json.dumps(probe.account))
    out = io.StringIO()
    code = main(["blu", "--secret-id", "dialhub/dev/vendors/blu", "--options", '{"botId": 123}'], out=out)
    assert code == 0, out.getvalue()
    assert "A1   held" in out.getvalue() and "A13  could not be tested" in out.getvalue()  # no --task-id

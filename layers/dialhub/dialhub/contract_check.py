"""`python -m dialhub.contract_check <vendor>`: before a real vendor account carries traffic, ask the vendor
whether each assumption its adapter is built on holds.

    python -m dialhub.contract_check blu --account blu-account.json --options '{"botId": 123}' --task-id 66547748
    python -m dialhub.contract_check nxtele --secret-id dialhub/prod/vendor/nxtele    # read from Secrets Manager

Every check is safe against production: signed read-only requests, a deliberately wrong signature, a task
with no numbers where the vendor allows one. Paging checks need an existing task with more than one page
of results (`--task-id`). The answer is one line per assumption (held / did not hold / could not be tested,
with what was seen); the exit status is 1 when any assumption did not hold, 2 when the account is unusable.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from pydantic import ValidationError

from dialhub.vendors import UnknownVendor, adapter_class, vendor_names
from dialhub.vendors.contract import Check, Finding, Probe, Verdict, run_checks


def checks_of(vendor: str) -> list[Check]:
    adapter_class(vendor)  # UnknownVendor names the known ones
    checks: list[Check] = importlib.import_module(f"dialhub.vendors.{vendor}.contract").CHECKS
    return checks


def check_vendor(
    vendor: str,
    account: dict[str, Any],
    *,
    options: dict[str, Any] | None = None,
    task_id: str | None = None,
    callback_url: str | None = None,
    http: Any = None,
) -> list[Finding]:
    """Build the adapter from the account as the functions do, then run the vendor's checks."""
    import httpx

    adapter = adapter_class(vendor).from_account(account, http=http)
    client = http or httpx.Client(base_url=str(account.get("baseUrl") or ""), timeout=15.0)
    probe = Probe(
        adapter=adapter,
        account=account,
        http=client,
        options=options or {},
        task_id=task_id,
        callback_url=callback_url,
    )
    return run_checks(checks_of(vendor), probe)


def render(vendor: str, findings: list[Finding], out: TextIO) -> None:
    width = max((len(finding.assumption) for finding in findings), default=2)
    out.write(f"{vendor}: {len(findings)} assumptions checked\n")
    for finding in findings:
        out.write(f"  {finding.assumption:<{width}}  {finding.verdict.value:<19}  {finding.question}\n")
        out.write(f"  {'':<{width}}  {'':<19}  {finding.detail}\n")
    tally = {verdict: sum(f.verdict is verdict for f in findings) for verdict in Verdict}
    out.write("  " + " · ".join(f"{verdict.value}: {count}" for verdict, count in tally.items()) + "\n")


def _account(arguments: argparse.Namespace) -> dict[str, Any]:
    if not arguments.account:
        from dialhub.secrets import account_secret

        return account_secret(arguments.secret_id)
    value = json.loads(Path(arguments.account).read_text(encoding="utf-8"))
    if not isinstance(value, dict):
        raise ValueError("the account must be a JSON object")
    return value


def main(argv: list[str] | None = None, out: TextIO = sys.stdout) -> int:
    parser = argparse.ArgumentParser(prog="python -m dialhub.contract_check", description=__doc__.split("\n\n")[0])
    parser.add_argument("vendor", choices=vendor_names())
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--account", help="a JSON file holding the vendor account secret")
    source.add_argument("--secret-id", help="the vendor account secret in Secrets Manager")
    parser.add_argument("--options", default="{}", help="a campaign's vendorOptions (JSON), to create an empty task")
    parser.add_argument("--task-id", help="an existing vendor task with more than one page of results")
    parser.add_argument("--callback-url", help="where a vendor that can send a test callback should send it")
    parser.add_argument("--json", action="store_true", help="print the findings as JSON")
    arguments = parser.parse_args(argv)
    try:
        account = _account(arguments)
        options = json.loads(arguments.options)
        findings = check_vendor(
            arguments.vendor,
            account,
            options=options,
            task_id=arguments.task_id,
            callback_url=arguments.callback_url,
        )
    except (OSError, ValueError, ValidationError, UnknownVendor) as exc:
        # ValidationError lists the missing or malformed account fields, never their values.
        out.write(f"cannot check {arguments.vendor}: {exc}\n")
        return 2
    if arguments.json:
        out.write(json.dumps([finding.__dict__ for finding in findings], indent=2) + "\n")
    else:
        render(arguments.vendor, findings, out)
    return 1 if any(finding.verdict is Verdict.BROKEN for finding in findings) else 0


if __name__ == "__main__":
    sys.exit(main())

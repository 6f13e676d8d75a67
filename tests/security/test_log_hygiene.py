"""Logs and metrics never hold a full phone number, a contact's name or a secret: the whole offline stack runs
the demo scenario (three vendors, dropped callbacks, polling) with the service logging at DEBUG and metrics
on, and everything it logged or printed is searched for every number, name and credential of the run."""

from __future__ import annotations

import json
import os
import re

import pytest

from dialhub.phones import normalise_phone
from local.scenario import BAD_CONTACTS, demo_contacts, run_scenario
from local.stack import LocalStack
from tests.security.conftest import CapturedLogs, record_figures, redacted

pytestmark = pytest.mark.e2e

CONTACTS_PER_VENDOR = 8
CREDENTIAL_FIELDS = {"appKey", "appSecret", "secretKey", "webhookToken", "aesKey", "aesIv"}


def _phone_forms(raw: str) -> list[str]:
    """Every way a number could be written out: E.164, without '+', national, national significant."""
    e164 = normalise_phone(raw, "PH")
    digits = e164.lstrip("+")
    return [e164, digits, raw, digits[2:]]


def _found(text: str, needle: str) -> bool:
    """A digit string counts only as a whole run of digits (not inside a longer id); text anywhere."""
    if needle.lstrip("+").isdigit():
        return re.search(rf"(?<!\d){re.escape(needle)}(?!\d)", text) is not None
    return needle in text


def _unattributed(lines: list[str]) -> list[str]:
    """The service's lines logged inside an invocation that cannot be tied to it (no correlation id), and those
    about one campaign that do not say which vendor: each given as function and message, never whole."""
    found = []
    for text in lines:
        try:
            line = json.loads(text)
        except ValueError:
            continue  # another logger's line, not the service's JSON
        if not isinstance(line, dict) or "function_name" not in line:
            continue
        where = f"{line['function_name'].rsplit('-', 1)[-1]}: {line.get('message')}"
        if not line.get("correlation_id"):
            found.append(f"{where} (no correlation id)")
        elif "campaign_id" in line and not line.get("vendor") and not where.startswith("api:"):
            found.append(f"{where} (campaign without vendor)")
    return found


def test_no_log_line_or_metric_of_the_end_to_end_run_holds_a_phone_a_name_or_a_secret(
    captured_logs: CapturedLogs, capfd: pytest.CaptureFixture[str]
) -> None:
    with LocalStack(drop_rate=0.25, dial_delay=(0.01, 0.05), retry_interval=0.05, seed=5, log_level="DEBUG") as stack:
        os.environ["POWERTOOLS_METRICS_DISABLED"] = "false"  # the stack turns them off; its exit restores the env
        result = run_scenario(stack, contacts=CONTACTS_PER_VENDOR, cancel=1, settle_timeout=45)
        accounts = [
            json.loads(stack.secretsmanager.get_secret_value(SecretId=secret["Name"])["SecretString"])
            for secret in stack.secretsmanager.list_secrets()["SecretList"]
        ]
    assert result.every_contact_settled_once, "the run itself must work, or there is little to scan"

    contacts = [contact for vendor in result.vendors for contact in demo_contacts(CONTACTS_PER_VENDOR, prefix=vendor)]
    phones = {form for contact in contacts for form in _phone_forms(contact["phone"])}
    phones |= {form for contact in BAD_CONTACTS[1:] for form in _phone_forms(contact["phone"])}
    names = {contact["name"] for contact in [*contacts, *BAD_CONTACTS]}
    credentials = {str(account[field]) for account in accounts for field in CREDENTIAL_FIELDS if account.get(field)}
    printed = capfd.readouterr()
    text = "\n".join([captured_logs.text, printed.out, printed.err])
    metric_lines = [line for line in printed.out.splitlines() if '"CloudWatchMetrics"' in line]

    assert len(captured_logs.lines) > 20 and metric_lines, "nothing captured: the scan would prove nothing"
    assert any("+63" in phone for phone in phones) and credentials, "the needles must be real"
    leaks = [redacted(needle) for needle in sorted(phones | names | credentials) if _found(text, needle)]
    assert leaks == []
    # Ready to query: every line an invocation wrote carries its correlation id, and one about a campaign its vendor.
    unattributed = _unattributed(captured_logs.lines)
    assert unattributed == []
    record_figures(
        "log_hygiene",
        {
            "log_lines": len(captured_logs.lines),
            "metric_lines": len(metric_lines),
            "printed_lines": len(printed.out.splitlines()) + len(printed.err.splitlines()),
            "phone_forms_searched": len(phones),
            "names_searched": len(names),
            "secrets_searched": len(credentials),
            "leaks": len(leaks),
            "lines_without_correlation_or_vendor": len(unattributed),
        },
    )

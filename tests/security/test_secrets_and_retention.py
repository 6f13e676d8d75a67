"""Secrets come only from Secrets Manager, cached and fetched again once when a callback fails authentication
(so a rotation takes effect without a deploy); none is written in code, events or the template, and account
models never print one. Outcome items carry the TTL the template configures."""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.parameters import SecretsProvider
from aws_lambda_powertools.utilities.parameters.base import DEFAULT_PROVIDERS

from dialhub import settings as settings_module
from dialhub import vendors as vendors_module
from dialhub import wiring
from dialhub.queue import DispatchQueue
from dialhub.secrets import vendor_account
from dialhub.settings import Settings
from dialhub.store import DynamoStore
from dialhub.vendors import REFRESH_INTERVAL_SECONDS, AdapterProvider
from dialhub.wiring import Dependencies
from local.template import load_template
from tests.conftest import ROOT, load_event
from tests.security.conftest import (
    ADAPTER_CLASSES,
    CapturedLogs,
    VendorSecrets,
    deps_for,
    record_figures,
    redacted,
    send,
    send_callback,
)

PREFIX = "dialhub/test/vendors/"
# Deployed code, the sample events and the template: where a real credential must never be written. (local/
# holds the offline stand-ins' made-up credentials and NXTele's published sample key, never deployed.)
SCANNED = [
    ROOT / "functions",
    ROOT / "layers" / "dialhub" / "dialhub",
    ROOT / "events",
    ROOT / "docs",
    ROOT / "template.yaml",
    ROOT / "samconfig.toml",
]
CREDENTIAL_ASSIGNMENT = re.compile(
    r"""(?i)["']?(app_?key|app_?secret|secret_?key|webhook_?token|aes_?key|aes_?iv|password|api_?key|token)["']?"""
    r"""\s*[:=]\s*["']([^"']{4,})["']"""
)
PLACEHOLDERS = ("SET-ME", "not-a-secret")
CREDENTIAL_NAME = re.compile(r"(?i)key|secret|token|password|credential")
AWS_KEY_OR_PRIVATE_KEY = re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b|-----BEGIN [A-Z ]*PRIVATE KEY-----")


def _scanned_files() -> Iterator[Path]:
    for root in SCANNED:
        paths = [root] if root.is_file() else sorted(root.rglob("*"))
        yield from (path for path in paths if path.is_file() and path.suffix in (".py", ".json", ".yaml", ".toml"))


def _credentials_in(text: str) -> list[str]:
    """Credential-looking literals that are not a declared placeholder, shown redacted."""
    found = [
        f"{match.group(1)} = {redacted(match.group(2))}"
        for match in CREDENTIAL_ASSIGNMENT.finditer(text)
        if not any(placeholder in match.group(2) for placeholder in PLACEHOLDERS)
    ]
    return found + [redacted(match.group()) for match in AWS_KEY_OR_PRIVATE_KEY.finditer(text)]


def test_no_credential_is_written_in_code_events_or_the_template() -> None:
    files = list(_scanned_files())
    found = [
        f"{path.relative_to(ROOT)}: {finding}"
        for path in files
        for finding in _credentials_in(path.read_text(errors="replace"))
    ]
    assert len(files) > 50, "the scan must cover the code"
    assert found == []


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ('"webhookToken": "9f8e7d6c5b4a3f2e"', 1),
        ("secret_key = 'u7Mf3zUNOkg4lMV9'", 1),
        ("AKIAABCDEFGHIJKLMNOP", 1),
        ("-----BEGIN RSA PRIVATE KEY-----", 1),
        ('"appKey": "SET-ME"', 0),
        ("token=local-webhook-token-not-a-secret", 0),
        ('"token": "local-webhook-token-not-a-secret"', 0),
    ],
)
def test_the_credential_scan_tells_a_credential_from_a_placeholder(text: str, count: int) -> None:
    assert len(_credentials_in(text)) == count


def test_functions_get_no_secret_through_their_environment() -> None:
    """Only the secrets' name prefix is in the environment; the values are read from Secrets Manager."""
    template = load_template(ROOT / "template.yaml")
    environments = {"Globals": template["Globals"]["Function"].get("Environment", {})}
    environments |= {
        name: resource["Properties"].get("Environment", {})
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }
    credential_like = {
        (where, name): value
        for where, environment in environments.items()
        for name, value in environment.get("Variables", {}).items()
        if CREDENTIAL_NAME.search(name)
    }
    assert credential_like == {("Globals", "VENDOR_SECRET_PREFIX"): {"Fn::Sub": "dialhub/${Stage}/vendors/"}}


def test_only_the_secrets_module_reads_secrets_and_no_code_reads_one_from_the_environment() -> None:
    layer = ROOT / "layers" / "dialhub" / "dialhub"
    code = {path: path.read_text() for path in [*layer.rglob("*.py"), *(ROOT / "functions").rglob("*.py")]}
    secret_reader = re.compile(r"\bget_secret\(|[\"']secretsmanager[\"']")
    assert {path.name for path, text in code.items() if secret_reader.search(text)} == {"secrets.py"}
    environment_reads = re.compile(r"(?:os\.environ(?:\.get)?[\[(]|getenv\()\s*[\"']([A-Za-z0-9_]+)")
    names = {name for text in code.values() for name in environment_reads.findall(text)}
    names |= {name.upper() for name in Settings.model_fields}  # Settings reads its fields from the environment
    assert [name for name in names if CREDENTIAL_NAME.search(name)] == ["VENDOR_SECRET_PREFIX"]


def test_account_models_never_print_a_secret(vendor_secrets: VendorSecrets) -> None:
    accounts = vendor_secrets.accounts()
    for vendor, cls in ADAPTER_CLASSES.items():
        account = cls.from_account(accounts[vendor]).account
        shown = f"{account!r} {account} {account.model_dump()} {account.model_dump_json()}"
        leaks = [redacted(secret) for secret in vendor_secrets.all if secret in shown]
        assert leaks == [], vendor


# ------------------------------------------------------------------------------------------------ rotation
@pytest.fixture
def secrets_manager(table_name: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Counter[str]]]:
    """Secrets Manager (moto) behind the real loader, with every GetSecretValue call counted."""
    monkeypatch.setenv("VENDOR_SECRET_PREFIX", PREFIX)
    monkeypatch.setenv("TABLE_NAME", table_name)

    def forget() -> None:
        settings_module.get_settings.cache_clear()
        parameters.clear_caches()
        DEFAULT_PROVIDERS.clear()

    forget()
    client = boto3.client("secretsmanager")
    calls: Counter[str] = Counter()
    client.meta.events.register(
        "before-call.secrets-manager.GetSecretValue", lambda **_: calls.update(["GetSecretValue"])
    )
    DEFAULT_PROVIDERS["secrets"] = SecretsProvider(boto3_client=client)
    yield client, calls
    forget()


def test_a_rotated_webhook_token_is_taken_up_with_one_fetch_and_wrong_tokens_cost_none(
    table_name: str,
    queue_url: str,
    vendor_secrets: VendorSecrets,
    secrets_manager: tuple[Any, Counter[str]],
    captured_logs: CapturedLogs,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client, calls = secrets_manager
    account = vendor_secrets.accounts()["blu"]
    client.create_secret(Name=f"{PREFIX}blu", SecretString=json.dumps(account))
    deps = Dependencies(
        settings=Settings(table_name=table_name, dispatch_queue_url=queue_url),
        store=DynamoStore(table_name),
        queue=DispatchQueue(queue_url),
        adapters=AdapterProvider(vendor_account),
    )
    body = load_event("webhooks/blu_result.json")["body"]

    def callback(token: str) -> int:
        return send(deps, "POST", "/webhooks/blu", body=body, query={"token": token}).status

    assert callback(vendor_secrets.blu_token) == 200
    assert callback(vendor_secrets.blu_token) == 200
    assert calls["GetSecretValue"] == 1, "the secret is cached between callbacks"

    rotated = secrets.token_urlsafe(30)
    client.put_secret_value(SecretId=f"{PREFIX}blu", SecretString=json.dumps(account | {"webhookToken": rotated}))
    assert callback(rotated) == 200, "the failed check fetched the rotated secret once and passed"
    assert calls["GetSecretValue"] == 2

    assert callback(vendor_secrets.blu_token) == 401, "the old token no longer opens the door"
    assert callback("someone-guessing-" + secrets.token_hex(8)) == 401
    assert calls["GetSecretValue"] == 2, "failed checks within the refresh interval fetch nothing more"

    # Past the interval a wrong token fetches the secret once more, and is checked against it: still refused.
    later = time.monotonic() + REFRESH_INTERVAL_SECONDS + 1
    monkeypatch.setattr(vendors_module.time, "monotonic", lambda: later)
    assert callback(vendor_secrets.blu_token) == 401, "a refreshed secret is a second check, not a pass"
    assert calls["GetSecretValue"] == 3
    assert callback(rotated) == 200
    assert captured_logs.leaked(vendor_secrets.blu_token, rotated, vendor_secrets.blu_app_key) == []
    record_figures(
        "secret_rotation",
        {
            "callbacks": 7,
            "secret_fetches": calls["GetSecretValue"],
            "rotated_token_accepted": True,
            "old_token_rejected": True,
            "wrong_token_after_a_refresh_rejected": True,
        },
    )


# ------------------------------------------------------------------------------------------------ retention
def test_outcome_items_and_raw_payloads_carry_their_configured_ttls(
    table_name: str, queue_url: str, vendor_secrets: VendorSecrets
) -> None:
    deps = deps_for(table_name, queue_url, vendor_secrets)
    deps.store = DynamoStore(table_name, retention_days=7, raw_retention_days=2)
    before = dt.datetime.now(dt.UTC)
    body = load_event("webhooks/blu_result.json")["body"].encode()
    assert send_callback(deps, vendor_secrets, "blu", body).status == 200
    after = dt.datetime.now(dt.UTC)
    items = deps.store.client.query(
        TableName=table_name,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "CALL#blu#123654789"}},
    )["Items"]
    expiry = {
        item["sk"]["S"].split("#", 1)[0]: dt.datetime.fromtimestamp(int(item["expiresAt"]["N"]), dt.UTC)
        for item in items
    }
    assert set(expiry) == {"CALL", "RAW"}, "the outcome and the payload it came in"
    for kind, days in {"CALL": 7, "RAW": 2}.items():
        assert before + dt.timedelta(days=days, seconds=-1) <= expiry[kind] <= after + dt.timedelta(days=days), kind


def test_the_template_turns_ttl_on_for_that_attribute_and_wires_both_retention_parameters(
    table_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    template = load_template(ROOT / "template.yaml")
    ttl = template["Resources"]["DialhubTable"]["Properties"]["TimeToLiveSpecification"]
    assert ttl == {"AttributeName": "expiresAt", "Enabled": True}
    environment = template["Globals"]["Function"]["Environment"]["Variables"]
    assert environment["OUTCOME_RETENTION_DAYS"] == {"Ref": "OutcomeRetentionDays"}
    assert environment["RAW_PAYLOAD_RETENTION_DAYS"] == {"Ref": "RawPayloadRetentionDays"}
    defaults = {
        name: template["Parameters"][name]["Default"] for name in ("OutcomeRetentionDays", "RawPayloadRetentionDays")
    }
    assert defaults["RawPayloadRetentionDays"] < defaults["OutcomeRetentionDays"], "raw payloads go sooner"
    monkeypatch.setenv("TABLE_NAME", table_name)
    monkeypatch.setenv("OUTCOME_RETENTION_DAYS", "9")
    monkeypatch.setenv("RAW_PAYLOAD_RETENTION_DAYS", "3")
    settings_module.get_settings.cache_clear()
    wiring.default_dependencies.cache_clear()
    try:
        store = wiring.default_dependencies().store
        assert (store.retention, store.raw_retention) == (dt.timedelta(days=9), dt.timedelta(days=3))
    finally:
        settings_module.get_settings.cache_clear()
        wiring.default_dependencies.cache_clear()

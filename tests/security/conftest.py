"""Helpers of the bad-input and security suites.

Requests reach the real handlers as API Gateway HTTP API would deliver them (the template's routes, payload
format 2.0, a URL-decoded rawPath), every vendor adapter runs with credentials made up for this run (so a
leak is a unique string to look for), and the figures the README quotes are written under .reports/.
"""

from __future__ import annotations

import io
import json
import logging
import secrets
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import boto3
import pytest
from hypothesis import strategies as st

from dialhub.observability import logger as service_logger
from dialhub.queue import DispatchQueue
from dialhub.settings import Settings
from dialhub.store import DynamoStore
from dialhub.vendors import StaticAdapters
from dialhub.vendors.airudder.adapter import AirudderAdapter
from dialhub.vendors.blu.adapter import BluAdapter
from dialhub.vendors.nxtele.adapter import NxteleAdapter
from dialhub.vendors.nxtele.signing import sign
from dialhub.wiring import Dependencies
from local.gateway import RouteTable, build_http_api_event
from local.stack import create_buckets
from local.template import SamTemplate
from tests.conftest import ROOT, FakeContext, function_module

REPORTS = ROOT / ".reports"
ROUTES = RouteTable(SamTemplate(ROOT / "template.yaml", parameters={"Stage": "test"}).routes)
VENDOR_IP = "203.0.113.10"  # TEST-NET-3: where the vendors' callbacks come from in these tests
UNREACHABLE = "http://127.0.0.1:9"  # inbound paths never call the vendor; if one did, it would fail loudly


# --------------------------------------------------------------------------- vendors with made-up secrets
@dataclass(frozen=True)
class VendorSecrets:
    """Credentials generated per test: each is a string that must never appear in a log or a stored item."""

    blu_app_key: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    blu_token: str = field(default_factory=lambda: secrets.token_urlsafe(30))
    nxtele_uuid: str = field(default_factory=lambda: secrets.token_hex(16))
    nxtele_secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    airudder_app_secret: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    airudder_token: str = field(default_factory=lambda: secrets.token_urlsafe(30))

    @property
    def all(self) -> list[str]:
        return [self.blu_app_key, self.blu_token, self.nxtele_secret_key, self.airudder_app_secret, self.airudder_token]

    def accounts(self, **overrides: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """The three account secrets as Secrets Manager would hold them; `overrides` by vendor name."""
        accounts = {
            "blu": {
                "appId": "10001",
                "appKey": self.blu_app_key,
                "baseUrl": UNREACHABLE,
                "webhookToken": self.blu_token,
                "timezone": "Asia/Manila",
            },
            "nxtele": {
                "uuid": self.nxtele_uuid,
                "secretKey": self.nxtele_secret_key,
                "algorithm": "SHA256",
                "baseUrl": UNREACHABLE,
                "callbackBaseUrl": "https://api.example/webhooks/nxtele",
                "timezone": "Asia/Jakarta",
            },
            "airudder": {
                "appKey": "ar-appkey",
                "appSecret": self.airudder_app_secret,
                "baseUrl": UNREACHABLE,
                "webhookToken": self.airudder_token,
                "timezone": "Asia/Manila",
            },
        }
        return {vendor: account | overrides.get(vendor, {}) for vendor, account in accounts.items()}


ADAPTER_CLASSES = {"blu": BluAdapter, "nxtele": NxteleAdapter, "airudder": AirudderAdapter}


@pytest.fixture
def vendor_secrets() -> VendorSecrets:
    return VendorSecrets()


def deps_for(
    table_name: str, queue_url: str, vendor_secrets: VendorSecrets, **overrides: dict[str, Any]
) -> Dependencies:
    """Dependencies with all three vendors, their accounts optionally changed (e.g. an IP allowlist)."""
    accounts = vendor_secrets.accounts(**overrides)
    adapters = {vendor: cls.from_account(accounts[vendor]) for vendor, cls in ADAPTER_CLASSES.items()}
    settings = Settings(table_name=table_name, dispatch_queue_url=queue_url, default_phone_region="PH")
    return Dependencies(
        settings=settings,
        store=DynamoStore(table_name),
        queue=DispatchQueue(queue_url),
        adapters=StaticAdapters(adapters),
    )


@pytest.fixture
def every_vendor(table_name: str, queue_url: str, vendor_secrets: VendorSecrets, template: SamTemplate) -> Dependencies:
    """Every vendor, and the export and import queues and buckets (built from template.yaml) the results and
    import routes use."""
    deps = deps_for(table_name, queue_url, vendor_secrets)
    buckets = create_buckets(template, template.resolver(), boto3.client("s3")).refs
    sqs = boto3.client("sqs")
    exports_url = sqs.create_queue(QueueName="dialhub-test-exports")["QueueUrl"]
    dead_letters_url = sqs.create_queue(QueueName="dialhub-test-dispatch-dlq")["QueueUrl"]
    dead_letters = sqs.get_queue_attributes(QueueUrl=dead_letters_url, AttributeNames=["QueueArn"])["Attributes"]
    redrive = {"deadLetterTargetArn": dead_letters["QueueArn"], "maxReceiveCount": "5"}
    sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"RedrivePolicy": json.dumps(redrive)})
    settings = deps.settings.model_copy(
        update={
            "export_bucket": buckets["ExportBucket"],
            "export_queue_url": exports_url,
            "dispatch_dead_letter_arn": dead_letters["QueueArn"],
        },
    )
    settings = settings.model_copy(update={"import_bucket": buckets["ImportBucket"]})
    return Dependencies(settings=settings, store=deps.store, queue=deps.queue, adapters=deps.adapters)


# --------------------------------------------------------------------------- requests through the gateway
@dataclass(frozen=True)
class Answer:
    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


def send(
    deps: Dependencies,
    method: str,
    path: str,
    *,
    body: bytes | str | Any = b"",
    headers: Mapping[str, str] | None = None,
    query: Mapping[str, str] | str = "",
    source_ip: str = VENDOR_IP,
) -> Answer:
    """One HTTP request, routed as HTTP API routes it and handed to the real handler (api or webhooks).

    `body` is sent as is when bytes or text, else as JSON; `path` is the decoded path HTTP API routes on.
    A path no route matches gets API Gateway's own 404, as deployed.
    """
    if not isinstance(body, bytes | str):
        body = json.dumps(body)
    raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    match = ROUTES.match(method, path)
    if match is None:
        return Answer(404, {"content-type": "application/json"}, b'{"message":"Not Found"}')
    header_pairs = {"content-type": "application/json"}
    header_pairs |= {name.lower(): value for name, value in (headers or {}).items()}
    event = build_http_api_event(
        route=match.route,
        path_parameters=match.path_parameters,
        method=method,
        raw_path=path,
        raw_query_string=query if isinstance(query, str) else urlencode(query),
        header_pairs=header_pairs.items(),
        body=raw,
        source_ip=source_ip,
    )
    if match.route.function_id == "WebhooksFunction":
        result = function_module("webhooks").handle(event, deps)
    else:
        result = function_module("api").handle(event, FakeContext(), deps)
    headers_out = {name.lower(): value for name, value in (result.get("headers") or {}).items()}
    return Answer(result["statusCode"], headers_out, (result.get("body") or "").encode())


def signed_nxtele_headers(
    vendor_secrets: VendorSecrets,
    body: bytes,
    *,
    at: float | None = None,
    secret_key: str | None = None,
    request_id: str | None = None,
) -> dict[str, str]:
    """The headers NXTele signs a callback with (createTs = `at`, now by default)."""
    create_ts = str(int(time.time() if at is None else at))
    request_id = request_id or secrets.token_hex(16)
    signature = sign(
        secret_key or vendor_secrets.nxtele_secret_key,
        body,
        create_ts,
        request_id,
        vendor_secrets.nxtele_uuid,
        "SHA256",
    )
    return {"requestID": request_id, "uuid": vendor_secrets.nxtele_uuid, "createTs": create_ts, "sign": signature}


def send_callback(
    deps: Dependencies, vendor_secrets: VendorSecrets, vendor: str, body: bytes | Any, kind: str = "", **changes: Any
) -> Answer:
    """A callback that authenticates as `vendor` (token or signature), whatever its body."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    path = f"/webhooks/{vendor}/{kind}" if kind else f"/webhooks/{vendor}"
    if vendor == "nxtele":
        return send(deps, "POST", path, body=raw, headers=signed_nxtele_headers(vendor_secrets, raw), **changes)
    token = vendor_secrets.blu_token if vendor == "blu" else vendor_secrets.airudder_token
    return send(deps, "POST", path, body=raw, query={"token": token}, **changes)


def stored_items(deps: Dependencies) -> int:
    """Every item in the table: a refused request must leave this number unchanged."""
    return deps.store.client.scan(TableName=deps.store.table_name, Select="COUNT")["Count"]


# --------------------------------------------------------------------------- logs
class CapturedLogs:
    """Every log record while active, formatted as CloudWatch would receive it (Powertools JSON with extras)."""

    def __init__(self) -> None:
        self._stream = io.StringIO()
        self._handler = logging.StreamHandler(self._stream)
        self._handler.setFormatter(service_logger.registered_formatter)
        self._handler.setLevel(logging.DEBUG)

    @property
    def text(self) -> str:
        return self._stream.getvalue()

    @property
    def lines(self) -> list[str]:
        return self.text.splitlines()

    def leaked(self, *needles: str) -> list[str]:
        """The needles (secrets, phones, names) found in the captured text; never print them whole."""
        return [needle for needle in needles if needle and needle in self.text]


@pytest.fixture
def captured_logs() -> Iterator[CapturedLogs]:
    """Service logs at DEBUG (stricter than deployed) and every other logger's records, for the test's span."""
    captured = CapturedLogs()
    root = logging.getLogger()
    previous_level = service_logger.log_level
    root.addHandler(captured._handler)
    service_logger.setLevel(logging.DEBUG)
    try:
        yield captured
    finally:
        service_logger.setLevel(previous_level)
        root.removeHandler(captured._handler)


def redacted(needle: str) -> str:
    """How a leaked value is shown in a failure message: enough to find it, not enough to use it."""
    return f"{needle[:2]}…({len(needle)} chars)"


# --------------------------------------------------------------------------- figures for the README
def record_figures(name: str, figures: dict[str, Any]) -> None:
    """Write .reports/<name>.json and print one summary line: the README's Reliability section quotes them."""
    REPORTS.mkdir(exist_ok=True)
    (REPORTS / f"{name}.json").write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
    print(
        f"[{name}] "
        + ", ".join(f"{key}={value}" for key, value in figures.items() if not isinstance(value, dict | list))
    )


# --------------------------------------------------------------------------- hypothesis strategies
# Text a lenient parser is most likely to trip on: digits that are not ASCII, numbers as text, times at the
# ends of the calendar, JSON inside strings, a lone surrogate, an emoji.
TRICKY_TEXT = [
    "",
    " ",
    "0",
    "-1",
    "\N{SUPERSCRIPT TWO}",
    "\u0661\u0662",
    "1e400",
    "inf",
    "-inf",
    "NaN",
    "9" * 50,
    "0000-00-00 00:00:00",
    "0001-01-01 00:00:00",
    "9999-12-31 23:59:59",
    "9999-12-31T23:59:59-12:00",
    "2026-11-25T10:00:00Z",
    "10:00+01:00",
    "09:00Z",
    "\ud800",
    "null",
    "{}",
    "[]",
    '{"attempt": ' + "9" * 45 + "}",
    '{"campaignId": NaN, "attempt": Infinity}',
    '{"campaignId": "c", "contactId": "k", "attempt": 1}',
    "cmp-1|c-1",
    "|",
    "\N{GRINNING FACE}",
    "x" * 300,
]
HUGE_NUMBERS = [10**38, 10**39, -(10**60), 1e126, 1e300, 1e-200, 2**63, 1e12, 1e15]


def json_leaves() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.integers(min_value=-(10**45), max_value=10**45),
        st.floats(allow_nan=True, allow_infinity=True),
        st.sampled_from(HUGE_NUMBERS),
        st.text(max_size=20),
        st.sampled_from(TRICKY_TEXT),
    )


def json_values(keys: list[str] | None = None) -> st.SearchStrategy[Any]:
    """Any JSON value (NaN and Infinity included, as json.dumps writes them), keys drawn partly from `keys`."""
    key_strategy = st.text(max_size=10) | st.sampled_from(keys) if keys else st.text(max_size=10)
    return st.recursive(
        json_leaves(),
        lambda children: st.lists(children, max_size=4) | st.dictionaries(key_strategy, children, max_size=5),
        max_leaves=12,
    )


def overriding(
    base: dict[str, Any], keys: list[str], values: st.SearchStrategy[Any], **special: st.SearchStrategy[Any]
) -> st.SearchStrategy[Any]:
    """`base` with a random subset of `keys` replaced (or added) by random values, or dropped; a key named in
    `special` draws from its own strategy as well."""
    dropped = object()
    optional = {key: values | special.get(key, values) | st.just(dropped) for key in keys}
    changes = st.fixed_dictionaries({}, optional=optional)
    return changes.map(lambda change: {key: value for key, value in (base | change).items() if value is not dropped})


def times_of_day() -> st.SearchStrategy[str]:
    """Times of day as text, with and without a UTC offset, and text that only looks like one."""
    offsets = st.sampled_from(["", "", "Z", "+01:00", "-05:30", "+14:00"])
    return st.one_of(
        st.builds(lambda moment, offset: moment.isoformat() + offset, st.times(), offsets),
        st.sampled_from(["24:00", "9:00", "0900", "09:60", *TRICKY_TEXT]),
    )

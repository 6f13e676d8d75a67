"""AWS in-process through moto, built from template.yaml, with the functions' production environment."""

from __future__ import annotations

import contextlib
import copy
import json
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from bench.report import ROOT

VENDOR_SECRET_PREFIX = "dialhub/bench/vendors/"  # noqa: S105 - a name, not a secret
EVENTS = ROOT / "events"


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())


def load_function(name: str) -> Any:
    from local.handlers import function_module

    return function_module(name)


def lambda_context(function: str) -> Any:
    from local.handlers import FakeLambdaContext

    return FakeLambdaContext(function_name=f"dialhub-bench-{function}", memory_limit_in_mb=512, timeout_seconds=30)


@dataclass
class InProcessAws:
    table_name: str
    queue_url: str
    blu_webhook_token: str


@contextlib.contextmanager
def in_process_aws() -> Iterator[InProcessAws]:
    """moto in this process (with the local stack's transaction patch), metrics and INFO logs on as in
    production, and a Blu account whose API nobody calls (callbacks and stored outcomes need none)."""
    import boto3
    from moto import mock_aws

    from local import moto_patches
    from local.resources import create_table_kwargs
    from local.stack import reset_library_caches
    from local.template import SamTemplate

    saved = dict(os.environ)
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_SESSION_TOKEN": "bench",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
            "POWERTOOLS_SERVICE_NAME": "dialhub",
            "POWERTOOLS_METRICS_NAMESPACE": "Dialhub",
            "POWERTOOLS_LOG_LEVEL": "INFO",
            "POWERTOOLS_PARAMETERS_MAX_AGE": "300",
            "VENDOR_SECRET_PREFIX": VENDOR_SECRET_PREFIX,
        }
    )
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "POWERTOOLS_METRICS_DISABLED"):
        os.environ.pop(name, None)
    with mock_aws():
        moto_patches.apply()
        try:
            template = SamTemplate(ROOT / "template.yaml", parameters={"Stage": "bench"})
            table = create_table_kwargs(template, "DialhubTable", template.resolver())
            boto3.client("dynamodb").create_table(**table)
            queue_url = boto3.client("sqs").create_queue(QueueName="dialhub-bench-dispatch")["QueueUrl"]
            token = secrets.token_urlsafe(24)
            account = {
                "appId": "10001",
                "appKey": secrets.token_hex(16),
                "baseUrl": "http://127.0.0.1:9",
                "webhookToken": token,
                "timezone": "Asia/Manila",
                "ipAllowlist": [],
            }
            boto3.client("secretsmanager").create_secret(
                Name=f"{VENDOR_SECRET_PREFIX}blu", SecretString=json.dumps(account)
            )
            os.environ.update({"TABLE_NAME": table["TableName"], "DISPATCH_QUEUE_URL": queue_url})
            reset_library_caches()
            yield InProcessAws(table["TableName"], queue_url, token)
        finally:
            moto_patches.restore()
            os.environ.clear()
            os.environ.update(saved)
            reset_library_caches()


def api_event(
    name: str, *, path: dict[str, str] | None = None, body: Any = None, query: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A stored API event (events/) with other path parameters, query or body, keeping rawPath consistent."""
    event = copy.deepcopy(load_event(name))
    if query is not None:
        event["queryStringParameters"] = {key: str(value) for key, value in query.items()}
        event["rawQueryString"] = urlencode(event["queryStringParameters"])
        if not query:
            del event["queryStringParameters"]
    if path:
        event["pathParameters"] = {**event.get("pathParameters", {}), **path}
        raw = event["routeKey"].split(" ", 1)[1]
        for key, value in event["pathParameters"].items():
            raw = raw.replace("{" + key + "}", value)
        event["rawPath"] = event["requestContext"]["http"]["path"] = raw
    if body is not None:
        event["body"] = body if isinstance(body, str) else json.dumps(body)
    return event

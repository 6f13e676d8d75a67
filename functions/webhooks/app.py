"""Vendor callbacks (API Gateway HTTP API, open route; every vendor is authenticated in code)."""

from __future__ import annotations

import gc

gc.disable()  # cold start: the imports below build objects to keep, never garbage; resumed at the end

import base64
import json
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from dialhub.observability import http_request_id, log_keys, logger
from dialhub.settings import require
from dialhub.vendors.base import InboundCallback
from dialhub.webhooks import handle_callback
from dialhub.wiring import Dependencies, default_dependencies

require()  # else the cold start fails, naming the variable

# Each vendor callback carries one call's result (a few KB with its transcript); a body beyond this could not be
# stored as one DynamoDB item (400 KB) anyway, and reading it would only cost time.
MAX_CALLBACK_BYTES = 256 * 1024


def _response(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}


def _callback(event: dict[str, Any]) -> InboundCallback:
    raw = event.get("body") or ""
    # surrogatepass: text that is not valid Unicode reaches the parser as bytes it refuses (400), not as a crash.
    body = base64.b64decode(raw) if event.get("isBase64Encoded") else raw.encode("utf-8", "surrogatepass")
    path = event.get("pathParameters") or {}
    return InboundCallback(
        kind=path.get("kind", ""),
        body=body,
        headers={name.lower(): value for name, value in (event.get("headers") or {}).items()},
        query=event.get("queryStringParameters") or {},
        source_ip=event.get("requestContext", {}).get("http", {}).get("sourceIp", ""),
    )


def handle(event: dict[str, Any], deps: Dependencies) -> dict[str, Any]:
    vendor = (event.get("pathParameters") or {}).get("vendor", "")
    with log_keys(vendor=vendor or None):
        return _handled(vendor, event, deps)


def _handled(vendor: str, event: dict[str, Any], deps: Dependencies) -> dict[str, Any]:
    callback = _callback(event)
    if len(callback.body) > MAX_CALLBACK_BYTES:
        logger.warning("callback too large", extra={"bytes": len(callback.body)})
        return _response(413, {"message": f"body larger than {MAX_CALLBACK_BYTES} bytes"})
    try:
        reply = handle_callback(
            vendor, callback, deps.adapters, deps.store, deps.clock(), deps.settings.predial_fail_open
        )
    except Exception:  # noqa: BLE001 - whatever failed, the vendor must retry
        # Not stored: a 5xx makes the vendor deliver it again later.
        logger.exception("callback could not be stored")
        return _response(503, {"message": "temporarily unavailable, retry later"})
    return _response(reply.status, reply.body)


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    with log_keys(correlation_id=http_request_id(event)):
        return handle(event, default_dependencies())


# What the imports built lives as long as the container: frozen, no collection ever walks it again.
gc.freeze()
gc.enable()

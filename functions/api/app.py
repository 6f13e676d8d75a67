"""Internal trigger/query API (API Gateway HTTP API, IAM-protected)."""

from __future__ import annotations

import gc

gc.disable()  # cold start: the imports below build objects to keep, never garbage; resumed at the end

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from dialhub.api import app, unreadable_body
from dialhub.observability import http_request_id, log_keys, logger
from dialhub.settings import require
from dialhub.wiring import Dependencies, default_dependencies

# else the cold start fails, naming the variable
require("dispatch_queue_url", "dispatch_dead_letter_arn", "export_bucket", "export_queue_url", "import_bucket")


def handle(event: dict[str, Any], context: LambdaContext, deps: Dependencies) -> dict[str, Any]:
    refusal = unreadable_body(event)
    if refusal is not None:
        return refusal
    app.append_context(deps=deps)  # type: ignore[no-untyped-call]  # Powertools leaves it unannotated
    return app.resolve(event, context)


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    with log_keys(correlation_id=http_request_id(event)):
        return handle(event, context, default_dependencies())


# What the imports built lives as long as the container: frozen, no collection ever walks it again.
gc.freeze()
gc.enable()

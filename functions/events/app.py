"""The table's stream consumer: outcome events on the bus and live campaign counters, from each batch."""

from __future__ import annotations

import gc

gc.disable()  # cold start: the imports below build objects to keep, never garbage; resumed at the end

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from dialhub.changes import handle_changes
from dialhub.observability import log_keys, logger
from dialhub.settings import require
from dialhub.wiring import Dependencies, default_dependencies

require("event_bus_name")  # else the cold start fails, naming the variable


def handle(event: dict[str, Any], context: LambdaContext, deps: Dependencies) -> dict[str, Any]:
    """A partial batch response: Lambda delivers again from the first record not done (ReportBatchItemFailures),
    and an exception makes it split the batch (BisectBatchOnFunctionError)."""
    records = event.get("Records", [])
    first = records[0]["dynamodb"]["SequenceNumber"] if records else None
    with log_keys(first_sequence=first):
        result = handle_changes(records, deps.store, deps.bus, deps.clock())
    logger.info(
        "stream batch done",
        extra={
            "records": len(records),
            "published": result.published,
            "rejected": result.rejected,
            "campaigns_counted": result.counted,
            "retry_from": result.retry_from,
        },
    )
    return {"batchItemFailures": [{"itemIdentifier": result.retry_from}] if result.retry_from else []}


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    with log_keys(correlation_id=context.aws_request_id):
        return handle(event, context, default_dependencies())


# What the imports built lives as long as the container: frozen, no collection ever walks it again.
gc.freeze()
gc.enable()

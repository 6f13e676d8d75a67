"""Dispatch queue consumer: submit each batch to its vendor; failed records are retried by SQS."""

from __future__ import annotations

import gc

gc.disable()  # cold start: the imports below build objects to keep, never garbage; resumed at the end

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from dialhub.dispatch import dispatch_batch
from dialhub.models import DispatchBatch
from dialhub.observability import log_keys, logger
from dialhub.settings import require
from dialhub.wiring import Dependencies, default_dependencies

require()  # else the cold start fails, naming the variable


def handle(event: dict[str, Any], context: LambdaContext, deps: Dependencies) -> dict[str, Any]:
    """Report every failed record (even all of them) as a batch item failure: SQS redelivers only those.

    The partial batch response is built here rather than with Powertools' BatchProcessor, whose import
    pulls in every event data class and costs more cold start than the rest of this function (`make bench`).
    """
    failures: list[dict[str, str]] = []
    for record in event.get("Records", []):
        try:
            batch = DispatchBatch.model_validate_json(record["body"])
            with log_keys(
                correlation_id=record.get("messageId"),
                batch_id=batch.batch_id,
                campaign_id=batch.campaign_id,
                vendor=batch.vendor,
            ):
                dispatch_batch(batch, deps.store, deps.adapters, deps.clock())
        except Exception:  # noqa: BLE001 - any failure leaves this record to SQS, the others go on
            logger.exception(
                "dispatch record failed; SQS will deliver it again", extra={"correlation_id": record.get("messageId")}
            )
            failures.append({"itemIdentifier": record.get("messageId", "")})
    return {"batchItemFailures": failures}


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle(event, context, default_dependencies())


# What the imports built lives as long as the container: frozen, no collection ever walks it again.
gc.freeze()
gc.enable()

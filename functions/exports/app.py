"""Export queue consumer: run each export, or carry it on where the last invocation stopped."""

from __future__ import annotations

import gc

gc.disable()  # cold start: the imports below build objects to keep, never garbage; resumed at the end

from functools import partial
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from dialhub.exports import ExportMessage, run_export
from dialhub.observability import log_keys, logger
from dialhub.queue import retry_or_give_up
from dialhub.settings import require
from dialhub.wiring import Dependencies, default_dependencies

require("export_bucket", "export_queue_url")  # else the cold start fails, naming the variable

# An export that fails this many deliveries in a row is marked failed (template: the queue's maxReceiveCount is
# one more, so its message is deleted here rather than dead-lettered with the export left running).
MAX_EXPORT_ATTEMPTS = 3


def handle(event: dict[str, Any], context: LambdaContext, deps: Dependencies) -> dict[str, Any]:
    failures: list[dict[str, str]] = []
    for record in event.get("Records", []):
        try:
            message = ExportMessage.model_validate_json(record["body"])
        except ValidationError:
            logger.error("unreadable export message dropped", extra={"correlation_id": record.get("messageId")})
            continue
        try:
            with log_keys(correlation_id=record.get("messageId"), export_id=message.export_id):
                run_export(
                    message.export_id,
                    deps.store,
                    deps.objects,
                    deps.export_queue,
                    deps.settings,
                    lambda: context.get_remaining_time_in_millis() / 1000,
                    deps.clock,
                )
        except Exception:  # noqa: BLE001 - a failed export is retried by SQS from its saved progress
            give_up = partial(
                deps.store.fail_export, message.export_id, "internal error; it has been logged", deps.clock()
            )
            failure = retry_or_give_up(record, "export", MAX_EXPORT_ATTEMPTS, give_up, export_id=message.export_id)
            failures += [failure] if failure else []
    return {"batchItemFailures": failures}


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle(event, context, default_dependencies())


# What the imports built lives as long as the container: frozen, no collection ever walks it again.
gc.freeze()
gc.enable()

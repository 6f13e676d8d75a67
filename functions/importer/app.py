"""Import queue consumer: read an uploaded contact file (announced by S3 through EventBridge), or carry on with
one where an invocation ran out of time."""

from __future__ import annotations

import gc

gc.disable()  # cold start: the imports below build objects to keep, never garbage; resumed at the end

import json
from functools import partial
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from dialhub.imports.service import import_id_of, run_import
from dialhub.observability import log_keys, logger
from dialhub.queue import retry_or_give_up
from dialhub.settings import require
from dialhub.wiring import Dependencies, default_dependencies

require("import_bucket", "import_queue_url")  # else the cold start fails, naming the variable

# An import that fails this many deliveries in a row is marked failed (template: the queue's maxReceiveCount is
# one more, so its message is deleted here rather than dead-lettered with the import left running).
MAX_IMPORT_ATTEMPTS = 3


def import_named_by(body: str, bucket: str) -> str | None:
    """The import a message is about: S3's "Object Created" event for an upload to our bucket, or our own
    {"importId"} to carry on; None for anything else (logged and dropped: retrying cannot make it readable)."""
    try:
        message = json.loads(body)
    except ValueError:
        return None
    if not isinstance(message, dict):
        return None
    if isinstance(message.get("importId"), str):
        return str(message["importId"])
    detail = message.get("detail")
    if message.get("source") != "aws.s3" or not isinstance(detail, dict):
        return None
    if (detail.get("bucket") or {}).get("name") != bucket:
        return None
    key = (detail.get("object") or {}).get("key")
    return import_id_of(key) if isinstance(key, str) else None


def handle(event: dict[str, Any], context: LambdaContext, deps: Dependencies) -> dict[str, Any]:
    failures: list[dict[str, str]] = []
    for record in event.get("Records", []):
        import_id = import_named_by(record.get("body", ""), deps.import_objects.bucket)
        if import_id is None:
            logger.error("message names no import; dropped", extra={"correlation_id": record.get("messageId")})
            continue
        try:
            with log_keys(correlation_id=record.get("messageId"), import_id=import_id):
                run_import(
                    import_id,
                    deps.store,
                    deps.import_objects,
                    deps.import_queue,
                    deps.settings,
                    lambda: context.get_remaining_time_in_millis() / 1000,
                    deps.clock,
                )
        except Exception:  # noqa: BLE001 - a failed import is retried by SQS from its last checkpoint
            give_up = partial(deps.store.fail_import, import_id, "internal error; it has been logged", deps.clock())
            failure = retry_or_give_up(record, "import", MAX_IMPORT_ATTEMPTS, give_up, import_id=import_id)
            failures += [failure] if failure else []
    return {"batchItemFailures": failures}


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle(event, context, default_dependencies())


# What the imports built lives as long as the container: frozen, no collection ever walks it again.
gc.freeze()
gc.enable()

"""Dispatch queue consumer: submit each batch to its vendor; failed records are retried by SQS."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from dialhub.dispatch import dispatch_batch
from dialhub.models import DispatchBatch
from dialhub.observability import logger, metrics
from dialhub.wiring import Dependencies, default_dependencies

# Report every failed record (even all of them) as a batch item failure: SQS redelivers only those.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def handle(event: dict[str, Any], context: LambdaContext, deps: Dependencies) -> dict[str, Any]:
    def submit(record: SQSRecord) -> None:
        batch = DispatchBatch.model_validate_json(record.body)
        dispatch_batch(batch, deps.store, deps.adapters, deps.clock())

    return process_partial_response(event=event, record_handler=submit, processor=processor, context=context)


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle(event, context, default_dependencies())

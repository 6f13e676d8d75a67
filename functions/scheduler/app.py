"""Daily task creation (EventBridge Scheduler): plan every due campaign into SQS dispatch batches."""

from __future__ import annotations

from typing import Any, Literal

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from dialhub.observability import logger, metrics
from dialhub.planning import plan_due_campaigns
from dialhub.wiring import Dependencies, default_dependencies


class DailyPlanInput(BaseModel):
    """The schedule's Input in template.yaml."""

    kind: Literal["daily_plan"]


def handle(event: dict[str, Any], deps: Dependencies) -> dict[str, int]:
    DailyPlanInput.model_validate(event)
    return plan_due_campaigns(deps.store, deps.queue, deps.adapters, deps.clock()).__dict__


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    return handle(event, default_dependencies())

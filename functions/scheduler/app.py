"""Task creation (EventBridge Scheduler): plan due campaigns into SQS dispatch batches.

The daily run plans every campaign whose day has come; the frequent re-planning run only campaigns already
running today, so contacts held by their policy (window, cap, redial time) go out once it lets them.
"""

from __future__ import annotations

from typing import Any, Literal

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from dialhub.observability import logger, metrics
from dialhub.planning import plan_due_campaigns
from dialhub.wiring import Dependencies, default_dependencies


class PlanInput(BaseModel):
    """The schedules' Input in template.yaml."""

    kind: Literal["daily_plan", "replan"]


def handle(event: dict[str, Any], deps: Dependencies) -> dict[str, int]:
    run = PlanInput.model_validate(event)
    return plan_due_campaigns(deps.store, deps.queue, deps.adapters, deps.clock(),
                              running_only=run.kind == "replan").__dict__


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    return handle(event, default_dependencies())

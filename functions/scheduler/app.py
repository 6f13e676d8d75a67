"""Task creation (EventBridge Scheduler): plan due campaigns into SQS dispatch batches.

The daily run plans every campaign whose day has come; the frequent re-planning run only campaigns already
running today, so contacts held by their policy (window, cap, redial time) go out once it lets them.
"""

from __future__ import annotations

import gc

gc.disable()  # cold start: the imports below build objects to keep, never garbage; resumed at the end

import math
import time
from typing import Any, Literal

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from dialhub.observability import log_keys, logger
from dialhub.planning import plan_due_campaigns
from dialhub.settings import require
from dialhub.wiring import Dependencies, default_dependencies

require("dispatch_queue_url")  # else the cold start fails, naming the variable


class PlanInput(BaseModel):
    """The schedules' Input in template.yaml."""

    kind: Literal["daily_plan", "replan"]


# Time kept back from the function's timeout: planning stops between batches this long before it.
SAFETY_SECONDS = 30.0


def handle(event: dict[str, Any], deps: Dependencies, remaining_seconds: float = math.inf) -> dict[str, int]:
    run = PlanInput.model_validate(event)
    deadline = time.monotonic() + remaining_seconds - SAFETY_SECONDS
    with log_keys(schedule=run.kind):
        return plan_due_campaigns(
            deps.store, deps.queue, deps.adapters, deps.clock(), running_only=run.kind == "replan", deadline=deadline
        ).__dict__


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    with log_keys(correlation_id=context.aws_request_id):  # a schedule's event carries no id of its own
        return handle(event, default_dependencies(), context.get_remaining_time_in_millis() / 1000)


# What the imports built lives as long as the container: frozen, no collection ever walks it again.
gc.freeze()
gc.enable()

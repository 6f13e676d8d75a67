"""Result polling (EventBridge Scheduler): settle contacts whose dispatch never finished, then recover
outcomes whose callbacks never arrived."""

from __future__ import annotations

import gc

gc.disable()  # cold start: the imports below build objects to keep, never garbage; resumed at the end

import datetime as dt
from typing import Any, Literal

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from dialhub.observability import log_keys, logger
from dialhub.polling import poll_open_tasks
from dialhub.settings import require
from dialhub.sweep import sweep_stuck_claims
from dialhub.wiring import Dependencies, default_dependencies

require()  # else the cold start fails, naming the variable


class PollInput(BaseModel):
    """The schedule's Input in template.yaml."""

    kind: Literal["poll_results"]


def handle(event: dict[str, Any], deps: Dependencies) -> dict[str, int]:
    run = PollInput.model_validate(event)
    settings = deps.settings
    with log_keys(schedule=run.kind):
        stuck_after = dt.timedelta(minutes=settings.stuck_claim_minutes)
        # First: a contact the sweep leaves to its task's results is looked for in this very poll.
        sweep = sweep_stuck_claims(deps.store, deps.adapters, deps.clock(), stuck_after, settings.poll_horizon_days)
        poll = poll_open_tasks(deps.store, deps.adapters, deps.clock(), settings.poll_horizon_days)
        return poll.__dict__ | {f"swept_{name}": count for name, count in sweep.__dict__.items()}


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    with log_keys(correlation_id=context.aws_request_id):  # a schedule's event carries no id of its own
        return handle(event, default_dependencies())


# What the imports built lives as long as the container: frozen, no collection ever walks it again.
gc.freeze()
gc.enable()

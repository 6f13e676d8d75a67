"""Result polling (EventBridge Scheduler): recover outcomes whose callbacks never arrived."""

from __future__ import annotations

import gc

gc.disable()  # cold start: the imports below build objects to keep, never garbage; resumed at the end

from typing import Any, Literal

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from dialhub.observability import log_keys, logger
from dialhub.polling import poll_open_tasks
from dialhub.settings import require
from dialhub.wiring import Dependencies, default_dependencies

require()  # else the cold start fails, naming the variable


class PollInput(BaseModel):
    """The schedule's Input in template.yaml."""

    kind: Literal["poll_results"]


def handle(event: dict[str, Any], deps: Dependencies) -> dict[str, int]:
    run = PollInput.model_validate(event)
    with log_keys(schedule=run.kind):
        return poll_open_tasks(deps.store, deps.adapters, deps.clock(), deps.settings.poll_horizon_days).__dict__


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    return handle(event, default_dependencies())


# What the imports built lives as long as the container: frozen, no collection ever walks it again.
gc.freeze()
gc.enable()

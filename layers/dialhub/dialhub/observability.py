"""The one Logger of the service, and its metrics; every module reuses them, none creates its own."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

NAMESPACE = "Dialhub"

logger = Logger(service="dialhub")


@contextmanager
def log_keys(**keys: str | None) -> Iterator[None]:
    """Every log line inside carries these keys: what one SQS record, schedule run, campaign or vendor task is
    about, so its lines can be found together. Blocks nest: leaving one puts back what an outer one had set.
    The keys belong to this thread (and to the writes `parallel.each` runs for it), so work running beside
    it, as the offline stack runs every function in one process, neither sees nor removes them."""
    given = {name: value for name, value in keys.items() if value is not None}
    current = dict(logger.thread_safe_get_current_keys())
    outer = {name: current[name] for name in given if name in current}
    logger.thread_safe_append_keys(**given)
    try:
        yield
    finally:
        logger.thread_safe_remove_keys([name for name in given if name not in outer])
        logger.thread_safe_append_keys(**outer)


def http_request_id(event: Mapping[str, Any]) -> str | None:
    """The HTTP API's id of a request (its access log's too): the correlation id of the HTTP functions' lines."""
    context = event.get("requestContext")
    found = context.get("requestId") if isinstance(context, Mapping) else None
    return str(found) if found else None


# Told of every count as it is made (name, value, dimensions with service): the offline stack evaluates the
# template's alarms on them (local/alarms.py). Empty in Lambda, where CloudWatch reads the printed line.
METRIC_LISTENERS: list[Callable[[str, int, dict[str, str]], None]] = []


def count_metric(name: str, value: int = 1, **dimensions: str) -> None:
    """Emit one count with its own low-cardinality dimensions (vendor, disposition; never an id).

    Written as the same CloudWatch embedded-metric line Powertools' `single_metric` prints (dimensions,
    then `service` from POWERTOOLS_SERVICE_NAME), without its per-call objects and validation: it runs on
    every stored callback, where it cost more than a tenth of the handler's own time (`make bench`).
    """
    if value <= 0:
        return
    values: dict[str, str] = dict(dimensions)
    if service := os.environ.get("POWERTOOLS_SERVICE_NAME"):
        values["service"] = service
    for listener in METRIC_LISTENERS:
        listener(name, value, values)
    if is_metrics_disabled():
        return
    print(
        json.dumps(
            {
                "_aws": {
                    "Timestamp": int(time.time() * 1000),
                    "CloudWatchMetrics": [
                        {
                            "Namespace": NAMESPACE,
                            "Dimensions": [list(values)],
                            "Metrics": [{"Name": name, "Unit": "Count"}],
                        }
                    ],
                },
                **values,
                name: [float(value)],
            },
            separators=(",", ":"),
        )
    )

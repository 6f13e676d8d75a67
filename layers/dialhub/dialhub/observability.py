"""The one Logger of the service, and its metrics; every module reuses them, none creates its own."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

NAMESPACE = "Dialhub"

logger = Logger(service="dialhub")


@contextmanager
def log_keys(**keys: str | None) -> Iterator[None]:
    """Every log line inside carries these keys: what one SQS record or schedule run is about, so its lines
    can be found together (a request's correlation id does that for the HTTP functions)."""
    given = {name: value for name, value in keys.items() if value is not None}
    logger.append_keys(**given)
    try:
        yield
    finally:
        logger.remove_keys(list(given))


def count_metric(name: str, value: int = 1, **dimensions: str) -> None:
    """Emit one count with its own low-cardinality dimensions (vendor, disposition; never an id).

    Written as the same CloudWatch embedded-metric line Powertools' `single_metric` prints (dimensions,
    then `service` from POWERTOOLS_SERVICE_NAME), without its per-call objects and validation: it runs on
    every stored callback, where it cost more than a tenth of the handler's own time (`make bench`).
    """
    if value <= 0 or is_metrics_disabled():
        return
    values: dict[str, str] = dict(dimensions)
    if service := os.environ.get("POWERTOOLS_SERVICE_NAME"):
        values["service"] = service
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

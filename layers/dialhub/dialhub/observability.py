"""The one Logger and Metrics of the service; every module reuses them, none creates its own."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

NAMESPACE = "Dialhub"

logger = Logger(service="dialhub")
metrics = Metrics(namespace=NAMESPACE, service="dialhub")


def count_metric(name: str, value: int = 1, **dimensions: str) -> None:
    """Emit one count with its own low-cardinality dimensions (vendor, disposition; never an id)."""
    if value <= 0 or is_metrics_disabled():  # single_metric does not honour POWERTOOLS_METRICS_DISABLED
        return
    with single_metric(name=name, unit=MetricUnit.Count, value=value, namespace=NAMESPACE) as metric:
        for key, dim_value in dimensions.items():
            metric.add_dimension(name=key, value=dim_value)

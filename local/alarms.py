"""The template's CloudWatch alarms, evaluated offline on what the local stack measures.

`make serve` prints an alarm when it would fire and again when it clears, with the first sentence of its
description, so the runbook (docs/operations.md) can be walked through offline: stop a simulator, watch the
dispatch DLQ alarm fire, re-drive, watch it clear.

What is measured here, as CloudWatch would see it:
- dialhub's own metrics (namespace Dialhub): every `count_metric` call, handed over as it is made;
- AWS/SQS ApproximateNumberOfMessagesVisible: read from the local queue when the alarm is evaluated;
- AWS/Lambda Errors: an invocation whose handler raised (a partial batch response is not an error, as in AWS);
- AWS/ApiGateway 5xx: answers of the local gateway.
Alarms on what the offline stack cannot produce (Lambda throttles, the stream's iterator age, DynamoDB throttle
events) are listed as not evaluated. Metric math is evaluated for expressions made of IF, FILL, SUM, numbers,
arithmetic and comparisons. Each alarm looks at its last period of wall-clock time only (CloudWatch would ask for
EvaluationPeriods periods in a row; every alarm of the template uses one, or breaches on the last anyway).
"""

from __future__ import annotations

import ast
import operator
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from local.template import ResolutionError, Resolver, SamTemplate

Dimensions = frozenset[tuple[str, str]]
_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "GreaterThanThreshold": lambda value, threshold: value > threshold,
    "GreaterThanOrEqualToThreshold": lambda value, threshold: value >= threshold,
    "LessThanThreshold": lambda value, threshold: value < threshold,
    "LessThanOrEqualToThreshold": lambda value, threshold: value <= threshold,
}
_GAUGES = {("AWS/SQS", "ApproximateNumberOfMessagesVisible")}
_COUNTED = {("AWS/Lambda", "Errors"), ("AWS/ApiGateway", "5xx")}


_STATISTICS: dict[str, Callable[[list[float]], float]] = {
    "Sum": sum,
    "Maximum": max,
    "Minimum": min,
    "Average": lambda found: sum(found) / len(found),
    "SampleCount": lambda found: float(len(found)),
}


class LocalMetrics:
    """Datapoints as they are made, kept per (namespace, name, dimensions)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._points: dict[tuple[str, str, Dimensions], list[tuple[float, float]]] = {}
        self._lock = threading.Lock()

    def add(self, namespace: str, name: str, dimensions: Mapping[str, str], value: float) -> None:
        key = (namespace, name, frozenset(dimensions.items()))
        with self._lock:
            self._points.setdefault(key, []).append((self.clock(), value))

    def statistic(self, namespace: str, name: str, dimensions: Dimensions, stat: str, period: float) -> float | None:
        """Sum, Maximum, Minimum, Average or SampleCount over the last `period` seconds; None without datapoints."""
        since = self.clock() - period
        with self._lock:
            values = [value for at, value in self._points.get((namespace, name, dimensions), []) if at >= since]
        if not values:
            return None
        return _STATISTICS[stat](values)


@dataclass(frozen=True)
class _Metric:
    namespace: str
    name: str
    dimensions: Dimensions
    stat: str
    period: float


@dataclass(frozen=True)
class LocalAlarm:
    logical_id: str
    name: str
    description: str
    metrics: dict[str, _Metric]  # by id; a plain alarm has one, "m"
    expression: str | None  # metric math (ids as names); None: the one metric is the value
    threshold: float
    compare: Callable[[float, float], bool]
    missing_breaches: bool  # TreatMissingData breaching

    @property
    def summary(self) -> str:
        """The description's first sentence: what it means (the runbook says the rest)."""
        return self.description.split(". ", 1)[0].rstrip(".") + "."


@dataclass
class AlarmStates:
    firing: dict[str, LocalAlarm] = field(default_factory=dict)  # alarm name -> alarm, those in ALARM


class LocalAlarms:
    """The template's alarms against `metrics`, with gauges read when asked (`gauge(namespace, name, dims)`)."""

    def __init__(
        self,
        template: SamTemplate,
        resolver: Resolver,
        metrics: LocalMetrics,
        gauge: Callable[[str, str, Dimensions], float | None],
    ) -> None:
        self.metrics, self.gauge = metrics, gauge
        self.alarms: list[LocalAlarm] = []
        self.not_evaluated: dict[str, str] = {}
        for logical_id, resource in template.resources.items():
            if resource.get("Type") == "AWS::CloudWatch::Alarm":
                self._read(logical_id, resource["Properties"], resolver)

    def _read(self, logical_id: str, properties: Mapping[str, Any], resolver: Resolver) -> None:
        name = str(resolver.resolve(properties.get("AlarmName", logical_id), f"{logical_id}.AlarmName"))
        sources = [query["MetricStat"]["Metric"] for query in properties.get("Metrics", []) if "MetricStat" in query]
        for source in sources or [properties]:
            measured = (source.get("Namespace"), source.get("MetricName"))
            if measured[0] != "Dialhub" and measured not in _GAUGES | _COUNTED:
                self.not_evaluated[name] = f"{measured[0]} {measured[1]} is not measured offline"
                return
        try:
            if "Metrics" in properties:
                metrics: dict[str, _Metric] = {}
                expression = None
                for query in properties["Metrics"]:
                    if "MetricStat" in query:
                        stat = query["MetricStat"]
                        metrics[query["Id"]] = self._metric(stat["Metric"], stat["Stat"], stat["Period"], resolver)
                    elif query.get("ReturnData", True):
                        expression = str(query["Expression"])
                if expression is None:
                    raise ValueError("no expression returns data")
                _checked_expression(expression)
            else:
                metrics = {"m": self._metric(properties, properties["Statistic"], properties["Period"], resolver)}
                expression = None
        except (ResolutionError, ValueError, KeyError) as exc:
            self.not_evaluated[name] = f"cannot be read here: {exc}"
            return
        self.alarms.append(
            LocalAlarm(
                logical_id=logical_id,
                name=name,
                description=str(resolver.resolve(properties.get("AlarmDescription", ""), logical_id)),
                metrics=metrics,
                expression=expression,
                threshold=float(resolver.resolve(properties["Threshold"], f"{logical_id}.Threshold")),
                compare=_COMPARE[properties["ComparisonOperator"]],
                missing_breaches=properties.get("TreatMissingData") == "breaching",
            )
        )

    @staticmethod
    def _metric(metric: Mapping[str, Any], stat: str, period: Any, resolver: Resolver) -> _Metric:
        dimensions = frozenset(
            (str(dimension["Name"]), str(resolver.resolve(dimension["Value"], str(dimension["Name"]))))
            for dimension in metric.get("Dimensions", [])
        )
        period_seconds = float(resolver.resolve(period, "Period"))
        return _Metric(str(metric["Namespace"]), str(metric["MetricName"]), dimensions, str(stat), period_seconds)

    def _value(self, metric: _Metric) -> float | None:
        if (metric.namespace, metric.name) in _GAUGES:
            return self.gauge(metric.namespace, metric.name, metric.dimensions)
        return self.metrics.statistic(metric.namespace, metric.name, metric.dimensions, metric.stat, metric.period)

    def evaluate(self) -> AlarmStates:
        states = AlarmStates()
        for alarm in self.alarms:
            values = {metric_id: self._value(metric) for metric_id, metric in alarm.metrics.items()}
            value = values["m"] if alarm.expression is None else _evaluate(alarm.expression, values)
            breaching = alarm.missing_breaches if value is None else alarm.compare(value, alarm.threshold)
            if breaching:
                states.firing[alarm.name] = alarm
        return states


# ------------------------------------------------------------------ metric math, the part the template uses
_NODES = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Compare, ast.Call, ast.Name, ast.Constant, ast.Load, ast.List)
_OPERATORS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.USub, ast.Gt, ast.GtE, ast.Lt, ast.LtE, ast.Eq, ast.NotEq)
_FUNCTIONS = {"IF", "FILL", "SUM"}
_COMPARISONS: dict[type, Callable[[Any, Any], bool]] = {
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}
_ARITHMETIC: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
}


def _checked_expression(expression: str) -> ast.Expression:
    tree = ast.parse(expression, mode="eval")
    for node in ast.walk(tree):
        if not isinstance(node, _NODES + _OPERATORS):
            raise ValueError(f"metric math {type(node).__name__} is not evaluated offline: {expression}")
        if isinstance(node, ast.Call) and not (isinstance(node.func, ast.Name) and node.func.id in _FUNCTIONS):
            raise ValueError(f"metric math function is not evaluated offline: {expression}")
    return tree


def _evaluate(expression: str, values: Mapping[str, float | None]) -> float | None:
    """The expression's value over one period; None when a metric it needs has no datapoint and no FILL."""

    def value(node: ast.AST) -> Any:
        if isinstance(node, ast.Expression):
            return value(node.body)
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            return values.get(node.id)
        if isinstance(node, ast.List):
            return [value(item) for item in node.elts]
        if isinstance(node, ast.UnaryOp):
            operand = value(node.operand)
            return None if operand is None else -operand
        if isinstance(node, ast.Call):
            name = node.func.id  # type: ignore[attr-defined]  # checked: a Name
            if name == "FILL":
                found = value(node.args[0])
                return value(node.args[1]) if found is None else found
            if name == "SUM":
                items = [item for item in value(node.args[0]) if item is not None]
                return sum(items) if items else None
            condition = value(node.args[0])
            return None if condition is None else value(node.args[1] if condition else node.args[2])
        if isinstance(node, ast.Compare):
            left, right = value(node.left), value(node.comparators[0])
            return None if left is None or right is None else _COMPARISONS[type(node.ops[0])](left, right)
        if isinstance(node, ast.BinOp):
            left, right = value(node.left), value(node.right)
            if left is None or right is None:
                return None
            if isinstance(node.op, ast.Div):
                return None if right == 0 else left / right
            return _ARITHMETIC[type(node.op)](left, right)
        raise ValueError(f"not evaluated offline: {ast.dump(node)}")

    result = value(_checked_expression(expression))
    return None if result is None else float(result)

"""`make serve`'s alarms: the template's alarms read whole, evaluated on local datapoints over their own period,
metric math included, and those the offline stack cannot measure named rather than silently never firing."""

from __future__ import annotations

from pathlib import Path

import pytest

from local.alarms import LocalAlarms, LocalMetrics, _evaluate
from local.template import SamTemplate

TEMPLATE = SamTemplate(Path(__file__).resolve().parents[2] / "template.yaml")
REFUSED_SHARE = "IF(FILL(refused, 0) >= 10, 100 * FILL(refused, 0) / (FILL(refused, 0) + FILL(submitted, 0)), 0)"


class _Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def _alarms(clock: _Clock, queues: dict[str, float] | None = None) -> tuple[LocalAlarms, LocalMetrics]:
    functions = {function_id: f"dialhub-dev-{function_id}" for function_id in TEMPLATE.functions}
    attributes = {(queue_id, "QueueName"): f"q-{queue_id}" for queue_id in TEMPLATE.queues}
    resolver = TEMPLATE.resolver(refs={**functions, "DialhubApi": "DialhubApi"}, attributes=attributes)
    metrics = LocalMetrics(clock)
    depth = queues or {}
    alarms = LocalAlarms(TEMPLATE, resolver, metrics, lambda _ns, _name, dims: depth.get(dict(dims)["QueueName"]))
    return alarms, metrics


def test_every_alarm_of_the_template_is_read_and_only_unmeasurable_ones_are_left_out() -> None:
    alarms, _ = _alarms(_Clock())
    assert len(alarms.alarms) + len(alarms.not_evaluated) == sum(
        1 for resource in TEMPLATE.resources.values() if resource.get("Type") == "AWS::CloudWatch::Alarm"
    )
    assert all("is not measured offline" in why for why in alarms.not_evaluated.values()), alarms.not_evaluated
    left_out = " ".join(alarms.not_evaluated.values())
    assert "Throttles" in left_out and "IteratorAge" in left_out and "ThrottleEvents" in left_out
    assert "dialhub-dev-dispatch-dlq" in {alarm.name for alarm in alarms.alarms}


def test_a_dead_letter_message_fires_its_queues_alarm_and_an_empty_queue_clears_it() -> None:
    depth = {"q-DispatchDeadLetterQueue": 1.0}
    alarms, _ = _alarms(_Clock(), depth)
    firing = alarms.evaluate().firing
    assert "dialhub-dev-dispatch-dlq" in firing and "dialhub-dev-exports-dlq" not in firing
    assert firing["dialhub-dev-dispatch-dlq"].summary.endswith(".")
    depth["q-DispatchDeadLetterQueue"] = 0.0
    assert "dialhub-dev-dispatch-dlq" not in alarms.evaluate().firing


def test_a_count_fires_its_alarm_only_at_its_threshold_and_only_within_its_period() -> None:
    clock = _Clock()
    alarms, metrics = _alarms(clock)
    auth = {"vendor": "blu", "reason": "auth", "service": "dialhub"}
    for _ in range(19):
        metrics.add("Dialhub", "WebhookRejected", auth, 1)
    firing = alarms.evaluate().firing
    assert "dialhub-dev-blu-webhook-auth-failures" not in firing  # 19 in 5 minutes, under the default 20
    metrics.add("Dialhub", "WebhookRejected", auth, 1)
    assert "dialhub-dev-blu-webhook-auth-failures" in alarms.evaluate().firing
    metrics.add("Dialhub", "WebhookRejected", {**auth, "vendor": "nxtele"}, 25)  # that vendor's alarm
    assert "dialhub-dev-nxtele-webhook-auth-failures" in alarms.evaluate().firing
    clock.now += 301
    assert not {"dialhub-dev-blu-webhook-auth-failures", "dialhub-dev-nxtele-webhook-auth-failures"} & set(
        alarms.evaluate().firing
    )


def test_a_function_error_and_an_http_5xx_fire_their_alarms() -> None:
    alarms, metrics = _alarms(_Clock())
    metrics.add("AWS/Lambda", "Errors", {"FunctionName": "dialhub-dev-DispatcherFunction"}, 1)
    firing = alarms.evaluate().firing
    assert "dialhub-dev-dispatcher-errors" in firing and "dialhub-dev-api-errors" not in firing
    for _ in range(5):
        metrics.add("AWS/ApiGateway", "5xx", {"ApiId": "DialhubApi"}, 1)
    assert "dialhub-dev-http-api-5xx" in alarms.evaluate().firing


def test_the_refused_share_alarm_needs_ten_refusals_and_a_fifth_of_the_contacts() -> None:
    alarms, metrics = _alarms(_Clock())
    blu = {"vendor": "blu", "service": "dialhub"}
    metrics.add("Dialhub", "ContactsRejectedByVendor", blu, 9)
    assert "dialhub-dev-blu-refused-contacts" not in alarms.evaluate().firing  # 100% of few is not an alarm
    metrics.add("Dialhub", "ContactsRejectedByVendor", blu, 1)
    metrics.add("Dialhub", "ContactsSubmitted", blu, 90)
    assert "dialhub-dev-blu-refused-contacts" not in alarms.evaluate().firing  # 10 of 100: 10%
    metrics.add("Dialhub", "ContactsRejectedByVendor", blu, 20)
    assert "dialhub-dev-blu-refused-contacts" in alarms.evaluate().firing  # 30 of 120: 25%


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"refused": None, "submitted": None}, 0.0),
        ({"refused": 9.0, "submitted": 0.0}, 0.0),
        ({"refused": 10.0, "submitted": 30.0}, 25.0),
        ({"refused": 40.0, "submitted": None}, 100.0),
    ],
)
def test_metric_math_reads_fill_and_if_as_cloudwatch_does(values: dict[str, float | None], expected: float) -> None:
    assert _evaluate(REFUSED_SHARE, values) == expected


def test_metric_math_outside_what_is_evaluated_is_refused_not_guessed() -> None:
    with pytest.raises(ValueError, match="not evaluated offline"):
        _evaluate("ANOMALY_DETECTION_BAND(m1, 2)", {"m1": 1.0})
    with pytest.raises(ValueError, match="not evaluated offline"):
        _evaluate("m1.real", {"m1": 1.0})

"""The alarms and the dashboard in template.yaml watch what the code really writes.

CloudWatch takes an alarm on a metric nobody writes without a word, and an alarm matches a metric only on its
whole dimension set: a renamed metric or one more dimension leaves the alarm silent for good. So the custom
metrics are read from the library's own `count_metric(...)` calls, and every alarm and dashboard widget on the
Dialhub namespace must name one of them with exactly the dimensions it is written with (the call's own, then
`service`). Every function, dead-letter queue, stream consumer and the table must have their alarms, and every
alarm must say what it means and reach the alarm topic.
"""

from __future__ import annotations

import ast
import json
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from dialhub.dispositions import Disposition
from dialhub.models import OutcomeSource
from dialhub.observability import NAMESPACE, count_metric
from dialhub.vendors import vendor_names
from local.template import Resolver, SamTemplate

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = REPO_ROOT / "template.yaml"
LIBRARY = REPO_ROOT / "layers" / "dialhub" / "dialhub"
TEMPLATE = SamTemplate(TEMPLATE_PATH)
TOPIC = "AlarmTopic"

# Metrics alarmed on for each vendor: (metric, dimensions other than vendor and service).
PER_VENDOR_ALARMS: dict[str, dict[str, str]] = {
    "WebhookRejected": {"reason": "auth"},
    "UnknownVendorCode": {},
    "ContactsRejectedByVendor": {},
    "ContactsFailedOver": {},
    "ContactsWithoutVendorResult": {},
}
# Dimensions the code fills from an enum's value (`outcome.source.value`), which a scan of the call cannot read.
ENUM_DIMENSIONS: dict[str, set[str]] = {
    "source": {member.value for member in OutcomeSource},
    "disposition": {member.value for member in Disposition},
}


# --------------------------------------------------------------------------- what the code writes


@dataclass(frozen=True)
class MetricCall:
    """One `count_metric(...)` call: its metric, the dimensions it passes and those passed as literals."""

    name: str
    dimensions: frozenset[str]
    literals: tuple[tuple[str, str], ...]
    where: str


def _called_name(function: ast.expr) -> str | None:
    if isinstance(function, ast.Name):
        return function.id
    if isinstance(function, ast.Attribute):
        return function.attr
    return None


def scan_metric_calls(root: Path = LIBRARY) -> list[MetricCall]:
    """Every `count_metric` call in the library. A call this scan cannot read (a name or a dimension that is
    not written out) fails here, rather than being skipped."""
    calls: list[MetricCall] = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or _called_name(node.func) != "count_metric":
                continue
            where = f"{path.relative_to(REPO_ROOT)}:{node.lineno}"
            first = node.args[0] if node.args else None
            assert isinstance(first, ast.Constant) and isinstance(first.value, str), f"{where}: name not a literal"
            assert len(node.args) <= 2, f"{where}: dimensions must be keywords"
            assert all(keyword.arg is not None for keyword in node.keywords), f"{where}: **dimensions hide names"
            dimensions = {str(keyword.arg): keyword.value for keyword in node.keywords if keyword.arg != "value"}
            literals = tuple(
                sorted(
                    (key, value.value)
                    for key, value in dimensions.items()
                    if isinstance(value, ast.Constant) and isinstance(value.value, str)
                )
            )
            calls.append(MetricCall(first.value, frozenset(dimensions), literals, where))
    assert calls, f"no count_metric call under {root}"
    return calls


def service_names() -> set[str]:
    """The `service` dimension count_metric adds: POWERTOOLS_SERVICE_NAME as each function is given it."""
    names = {str(function.environment.get("POWERTOOLS_SERVICE_NAME")) for function in TEMPLATE.functions.values()}
    assert all(
        isinstance(function.environment.get("POWERTOOLS_SERVICE_NAME"), str) for function in TEMPLATE.functions.values()
    )
    return names


@cache
def metric_calls() -> tuple[MetricCall, ...]:
    return tuple(scan_metric_calls())


@cache
def written() -> dict[str, set[frozenset[str]]]:
    """Each metric the code writes, with the dimension sets it is written with (`service` included)."""
    dimension_sets: dict[str, set[frozenset[str]]] = defaultdict(set)
    for call in metric_calls():
        dimension_sets[call.name].add(call.dimensions | {"service"})
    return dict(dimension_sets)


def _literal_values(name: str, dimension_names: frozenset[str], key: str) -> set[str] | None:
    """The values the code passes for one dimension of a metric, when every call passes it as a literal."""
    calls = [call for call in metric_calls() if call.name == name and call.dimensions | {"service"} == dimension_names]
    values = [dict(call.literals).get(key) for call in calls]
    return None if not values or None in values else {str(value) for value in values}


def custom_metric_problems(
    name: str, dimensions: dict[str, str], where: str, dimension_names: frozenset[str] | None = None
) -> list[str]:
    """Why `name` with `dimensions` is not a metric the code writes. The dimension set is `dimension_names`
    (a SEARCH's schema, whose values are only those it filters on), else the names of `dimensions`."""
    if name not in written():
        return [f"{where}: {NAMESPACE}/{name} is written by no count_metric call"]
    names = frozenset(dimensions) if dimension_names is None else dimension_names
    if names not in written()[name]:
        sets = sorted(sorted(each) for each in written()[name])
        return [f"{where}: {name} is written with dimensions {sets}, not {sorted(names)}"]
    problems = []
    for key, value in dimensions.items():
        if key == "service":
            allowed: set[str] | None = service_names()
        elif key == "vendor":
            allowed = set(vendor_names())
        else:
            allowed = _literal_values(name, names, key) or ENUM_DIMENSIONS.get(key)
        if key not in names or (allowed is not None and value not in allowed):
            problems.append(f"{where}: {name} {key}={value!r} is never written (written: {sorted(allowed or [])})")
    return problems


# --------------------------------------------------------------------------- what the template says


def resolver() -> Resolver:
    """Resources stand in by their logical ids (a queue's name too), so a resolved value names what it refers to."""
    refs = {logical_id: logical_id for logical_id in TEMPLATE.resources}
    attributes = {(queue_id, "QueueName"): queue_id for queue_id in TEMPLATE.queues}
    return TEMPLATE.resolver(refs=refs, attributes=attributes)


def resources_of_type(resource_type: str) -> dict[str, dict[str, Any]]:
    return {name: resource for name, resource in TEMPLATE.resources.items() if resource.get("Type") == resource_type}


ALARMS = resources_of_type("AWS::CloudWatch::Alarm")


@dataclass(frozen=True)
class WatchedMetric:
    alarm: str
    namespace: str
    name: str
    dimensions: dict[str, str]
    statistic: str


def watched_metrics(alarm_id: str) -> list[WatchedMetric]:
    """The metrics an alarm reads: its own, or each MetricStat of its metric math (dimensions resolved)."""
    properties = ALARMS[alarm_id]["Properties"]
    resolve = resolver().resolve
    stats: list[tuple[dict[str, Any], Any]]
    if "MetricName" in properties:
        stat = properties.get("Statistic") or properties.get("ExtendedStatistic")
        stats = [(properties, stat)]
    else:
        queries = [query["MetricStat"] for query in properties.get("Metrics") or [] if "MetricStat" in query]
        stats = [(query["Metric"], query["Stat"]) for query in queries]
    watched = []
    for metric, stat in stats:
        dimensions = {str(item["Name"]): str(resolve(item["Value"])) for item in metric.get("Dimensions") or []}
        watched.append(
            WatchedMetric(alarm_id, str(metric["Namespace"]), str(metric["MetricName"]), dimensions, str(stat))
        )
    return watched


def alarms_on(namespace: str, name: str) -> list[WatchedMetric]:
    return [
        metric
        for alarm_id in ALARMS
        for metric in watched_metrics(alarm_id)
        if (metric.namespace, metric.name) == (namespace, name)
    ]


def dashboard_widgets() -> Iterator[tuple[str, dict[str, Any]]]:
    """(title, properties) of every metric widget of every dashboard, its body resolved and parsed."""
    dashboards = resources_of_type("AWS::CloudWatch::Dashboard")
    assert dashboards, "no dashboard in the template"
    for dashboard_id, dashboard in dashboards.items():
        body = json.loads(resolver().resolve(dashboard["Properties"]["DashboardBody"], f"{dashboard_id}.DashboardBody"))
        for widget in body["widgets"]:
            if widget["type"] == "metric":
                yield f"{dashboard_id}: {widget['properties'].get('title')}", widget["properties"]


@dataclass(frozen=True)
class GraphedMetric:
    namespace: str
    name: str
    dimensions: dict[str, str]  # of a SEARCH, only those it filters on
    stat: str | None
    schema: frozenset[str] | None = None  # a SEARCH's dimension set


_SEARCH = re.compile(r"SEARCH\('\{(?P<schema>[^}]*)\}(?P<terms>[^']*)'")
_TERM = re.compile(r'(?P<key>[\w.]+)="(?P<value>[^"]*)"')


def graphed_metrics(properties: dict[str, Any]) -> list[GraphedMetric]:
    """The metrics of a widget: each row `[namespace, name, dim, value, ..., {options}]` ("." repeats the row
    above), and each SEARCH('{namespace,dims...} MetricName="..." dim="value"') of an expression."""
    graphed: list[GraphedMetric] = []
    previous: list[Any] = []
    for row in properties["metrics"]:
        options = row[-1] if row and isinstance(row[-1], dict) else {}
        fields = row[:-1] if options else row
        if "expression" in options:
            searches = list(_SEARCH.finditer(options["expression"]))
            if "SEARCH" in options["expression"] or NAMESPACE in options["expression"]:
                assert searches, f"an expression this test cannot read: {options['expression']}"
            for search in searches:
                namespace, *dimension_names = [part.strip() for part in search["schema"].split(",")]
                terms = {term["key"]: term["value"] for term in _TERM.finditer(search["terms"])}
                assert "MetricName" in terms, f"a SEARCH naming no metric: {options['expression']}"
                name = terms.pop("MetricName")
                graphed.append(GraphedMetric(namespace, name, terms, None, frozenset(dimension_names)))
            continue
        fields = [
            previous[index] if value == "." and index < len(previous) else value for index, value in enumerate(fields)
        ]
        previous = fields
        namespace, name, *pairs = fields
        dimensions = dict(zip(pairs[::2], pairs[1::2], strict=True))
        graphed.append(GraphedMetric(namespace, name, dimensions, options.get("stat") or properties.get("stat")))
    return graphed


# --------------------------------------------------------------------------- the code's metrics


def test_count_metric_writes_the_namespace_and_dimensions_this_test_reads(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The rule the checks below hold the template to: namespace NAMESPACE, the call's dimensions and `service`."""
    [service] = service_names()
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", service)
    count_metric("SomeCount", 2, vendor="blu", reason="auth")
    [line] = [line for line in capsys.readouterr().out.splitlines() if "CloudWatchMetrics" in line]
    record = json.loads(line)
    [declared] = record["_aws"]["CloudWatchMetrics"]
    assert declared["Namespace"] == NAMESPACE
    assert declared["Dimensions"] == [["vendor", "reason", "service"]]
    assert declared["Metrics"] == [{"Name": "SomeCount", "Unit": "Count"}]
    assert (record["vendor"], record["reason"], record["service"], record["SomeCount"]) == (
        "blu",
        "auth",
        service,
        [2.0],
    )


def test_the_scan_reads_every_count_metric_call_in_the_library() -> None:
    written_out = sum(
        len(re.findall(r"\bcount_metric\(", path.read_text(encoding="utf-8"))) for path in LIBRARY.rglob("*.py")
    )
    assert len(metric_calls()) == written_out - 1  # all but the definition
    assert {"WebhookRejected", "UnknownVendorCode", "ContactsRejectedByVendor", "CallOutcomes"} <= set(written())


def test_custom_metric_problems_catches_a_wrong_name_dimension_or_value() -> None:
    """The checker itself: each kind of mistake is reported (else the template tests below would prove nothing)."""
    [service] = service_names()
    good = {"vendor": "blu", "reason": "auth", "service": service}
    assert custom_metric_problems("WebhookRejected", good, "x") == []
    assert custom_metric_problems("WebhookRejections", good, "x")
    assert custom_metric_problems("WebhookRejected", {"vendor": "blu", "service": service}, "x")
    assert custom_metric_problems("WebhookRejected", good | {"reason": "password"}, "x")
    assert custom_metric_problems("WebhookRejected", good | {"vendor": "acme"}, "x")
    assert custom_metric_problems("WebhookRejected", good | {"service": "other"}, "x")
    schema = frozenset(good)
    assert custom_metric_problems("WebhookRejected", {"reason": "auth"}, "x", schema) == []
    assert custom_metric_problems("WebhookRejected", {"reason": "auth"}, "x", schema - {"reason"})
    assert custom_metric_problems("WebhookRejected", {"source": "poll"}, "x", schema)
    outcomes = frozenset({"vendor", "disposition", "source", "service"})
    assert custom_metric_problems("CallOutcomes", {"source": "poll", "disposition": "voicemail"}, "x", outcomes) == []
    assert custom_metric_problems("CallOutcomes", {"source": "polling"}, "x", outcomes)


# --------------------------------------------------------------------------- alarms


def test_every_alarm_says_what_it_means_and_what_to_do_and_reaches_the_alarm_topic() -> None:
    assert len(ALARMS) > 20
    assert TOPIC in resources_of_type("AWS::SNS::Topic")
    assert "Condition" not in TEMPLATE.resources[TOPIC], "the topic must exist whether or not anyone is mailed"
    problems = []
    for alarm_id, alarm in ALARMS.items():
        properties = alarm["Properties"]
        description = str(resolver().resolve(properties.get("AlarmDescription", ""), alarm_id))
        if not description.strip() or "First:" not in description:
            problems.append(f"{alarm_id}: its description must say what it means and, after 'First:', what to do")
        if len(description) > 1024:
            problems.append(f"{alarm_id}: description longer than CloudFormation's 1024 characters")
        if {"Ref": TOPIC} not in (properties.get("AlarmActions") or []):
            problems.append(f"{alarm_id}: no AlarmActions to {TOPIC}")
        if properties.get("TreatMissingData") != "notBreaching":
            problems.append(f"{alarm_id}: TreatMissingData is not notBreaching")
        if "${Stage}" not in str(properties.get("AlarmName")):
            problems.append(f"{alarm_id}: AlarmName does not name the stage")
    assert problems == []


def test_every_custom_metric_alarm_watches_a_metric_the_code_writes_with_exactly_its_dimensions() -> None:
    custom = [
        metric for alarm_id in ALARMS for metric in watched_metrics(alarm_id) if not metric.namespace.startswith("AWS/")
    ]
    assert custom, "no alarm on a custom metric"
    problems = [
        problem
        for metric in custom
        if metric.namespace != NAMESPACE
        for problem in [f"{metric.alarm}: namespace {metric.namespace}"]
    ]
    for metric in custom:
        problems += custom_metric_problems(metric.name, metric.dimensions, metric.alarm)
    assert problems == []


@pytest.mark.parametrize(("metric", "dimensions"), PER_VENDOR_ALARMS.items())
def test_each_vendor_has_its_alarm_on_each_vendor_metric(metric: str, dimensions: dict[str, str]) -> None:
    """Auth failures, unknown codes, refused submissions, failovers, contacts failed at the poll horizon."""
    watched = [
        found
        for found in alarms_on(NAMESPACE, metric)
        if all(found.dimensions.get(k) == v for k, v in dimensions.items())
    ]
    assert sorted(found.dimensions.get("vendor", "") for found in watched) == sorted(vendor_names())


def test_every_function_has_an_errors_and_a_throttles_alarm() -> None:
    assert len(TEMPLATE.functions) >= 8
    for metric in ("Errors", "Throttles"):
        watched = {
            found.dimensions.get("FunctionName")
            for found in alarms_on("AWS/Lambda", metric)
            if set(found.dimensions) == {"FunctionName"}
        }
        assert watched == set(TEMPLATE.functions), metric


def test_each_http_api_alarms_on_its_5xx_answers() -> None:
    """The functions behind the API catch their own errors and answer 500 or 503: Lambda's Errors never sees them."""
    apis = set(resources_of_type("AWS::Serverless::HttpApi"))
    assert apis
    assert apis <= {found.dimensions.get("ApiId") for found in alarms_on("AWS/ApiGateway", "5xx")}


def failure_queues() -> set[str]:
    """Queues that hold work dialhub gave up on: dead-letter queues, redrive targets, stream on-failure queues."""
    named = {queue_id for queue_id in TEMPLATE.queues if queue_id.endswith("DeadLetterQueue")}
    redrive = {
        queue.properties["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        for queue in TEMPLATE.queues.values()
        if "RedrivePolicy" in queue.properties
    }
    on_failure = {source.on_failure_queue_id for source in TEMPLATE.stream_sources if source.on_failure_queue_id}
    return named | redrive | on_failure


def test_every_dead_letter_and_stream_failure_queue_alarms_on_its_first_message() -> None:
    queues = failure_queues()
    assert {"DispatchDeadLetterQueue", "ExportDeadLetterQueue", "ImportDeadLetterQueue", "StreamFailureQueue"} <= queues
    watched = {
        found.dimensions.get("QueueName")
        for found in alarms_on("AWS/SQS", "ApproximateNumberOfMessagesVisible")
        if set(found.dimensions) == {"QueueName"}
        and ALARMS[found.alarm]["Properties"]["ComparisonOperator"] == "GreaterThanThreshold"
        and float(ALARMS[found.alarm]["Properties"]["Threshold"]) == 0
    }
    assert queues <= watched


def test_each_stream_consumer_alarms_on_its_iterator_age() -> None:
    consumers = {source.function_id for source in TEMPLATE.stream_sources}
    assert consumers == {"EventsFunction"}
    watched = {
        found.dimensions.get("FunctionName")
        for found in alarms_on("AWS/Lambda", "IteratorAge")
        if found.statistic == "Maximum"
    }
    assert consumers <= watched


def test_throttling_of_the_table_and_of_each_of_its_indexes_is_alarmed() -> None:
    for table_id, table in TEMPLATE.tables.items():
        expected = [{"TableName": table_id}] + [
            {"TableName": table_id, "GlobalSecondaryIndexName": index["IndexName"]}
            for index in table.properties.get("GlobalSecondaryIndexes") or []
        ]
        for metric in ("ReadThrottleEvents", "WriteThrottleEvents"):
            watched = [found.dimensions for found in alarms_on("AWS/DynamoDB", metric)]
            assert all(dimensions in watched for dimensions in expected), (table_id, metric)


def test_the_email_subscription_exists_only_when_an_address_is_given() -> None:
    emails = {
        subscription_id: subscription
        for subscription_id, subscription in resources_of_type("AWS::SNS::Subscription").items()
        if subscription["Properties"].get("Protocol") == "email"
    }
    assert emails, "no email subscription to the alarms"
    assert TEMPLATE.raw["Parameters"]["AlarmEmail"]["Default"] == ""
    with_address = SamTemplate(TEMPLATE_PATH, parameters={"AlarmEmail": "ops@example.com"})
    for subscription_id, subscription in emails.items():
        properties = subscription["Properties"]
        assert properties["TopicArn"] == {"Ref": TOPIC}, subscription_id
        assert properties["Endpoint"] == {"Ref": "AlarmEmail"}, subscription_id
        condition = subscription.get("Condition")
        assert condition, f"{subscription_id} is created even without an address"
        assert TEMPLATE.resolver().condition(condition) is False, f"{subscription_id} is made with AlarmEmail empty"
        assert with_address.resolver().condition(condition) is True, f"{subscription_id} is not made with an address"


# --------------------------------------------------------------------------- dashboard


def test_every_custom_metric_on_the_dashboard_is_one_the_code_writes() -> None:
    problems: list[str] = []
    custom = 0
    for title, properties in dashboard_widgets():
        for metric in graphed_metrics(properties):
            if metric.namespace.startswith("AWS/"):
                continue
            custom += 1
            if metric.namespace != NAMESPACE:
                problems.append(f"{title}: namespace {metric.namespace}")
            else:
                problems += custom_metric_problems(metric.name, metric.dimensions, title, metric.schema)
    assert custom > 20
    assert problems == []


def test_the_dashboard_shows_every_function_queue_and_the_table() -> None:
    graphed: dict[tuple[str, str, str | None], set[str]] = defaultdict(set)
    for _, properties in dashboard_widgets():
        for metric in graphed_metrics(properties):
            for value in metric.dimensions.values():
                graphed[(metric.namespace, metric.name, metric.stat)].add(value)
    functions = set(TEMPLATE.functions)
    assert functions <= graphed[("AWS/Lambda", "Invocations", "Sum")]
    assert functions <= graphed[("AWS/Lambda", "Errors", "Sum")]
    assert functions <= graphed[("AWS/Lambda", "Duration", "p99")]
    queues = set(TEMPLATE.queues)
    assert queues <= graphed[("AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum")]
    assert queues <= graphed[("AWS/SQS", "ApproximateAgeOfOldestMessage", "Maximum")]
    table_metrics = [
        "ConsumedReadCapacityUnits",
        "ConsumedWriteCapacityUnits",
        "ReadThrottleEvents",
        "WriteThrottleEvents",
    ]
    for name in table_metrics:
        assert set(TEMPLATE.tables) <= graphed[("AWS/DynamoDB", name, "Sum")], name


def test_the_local_stack_makes_the_alarm_topic_from_the_template_and_mails_only_an_address_given(aws: Any) -> None:
    import boto3

    from local.stack import create_topics

    sns = boto3.client("sns")
    arns = create_topics(SamTemplate(TEMPLATE_PATH, parameters={"Stage": "test"}), sns)
    assert set(arns) == {TOPIC} and arns[TOPIC].endswith(":dialhub-test-alarms")
    assert sns.list_subscriptions()["Subscriptions"] == []
    mailed = SamTemplate(TEMPLATE_PATH, parameters={"Stage": "mail", "AlarmEmail": "oncall@example.com"})
    arns = create_topics(mailed, sns)
    [subscription] = sns.list_subscriptions_by_topic(TopicArn=arns[TOPIC])["Subscriptions"]
    assert (subscription["Protocol"], subscription["Endpoint"]) == ("email", "oncall@example.com")


def test_the_sweep_waits_until_the_dispatch_queue_has_given_up_on_a_batch() -> None:
    """A claim younger than the dispatch queue's last delivery may still be sent by that delivery: the sweep
    must not settle it first (its horizon is the setting's default unless the template sets another)."""
    from dialhub.settings import Settings

    queue = TEMPLATE.resources["DispatchQueue"]["Properties"]
    deliveries = queue["RedrivePolicy"]["maxReceiveCount"] * queue["VisibilityTimeout"]
    environment = TEMPLATE.resources["PollerFunction"]["Properties"].get("Environment", {}).get("Variables", {})
    minutes = int(environment.get("STUCK_CLAIM_MINUTES", Settings.model_fields["stuck_claim_minutes"].default))
    assert minutes * 60 > deliveries


def test_snapstart_is_a_parameter_off_by_default_on_the_http_functions_behind_an_alias() -> None:
    """SnapStart restores published versions only: the HTTP functions publish one per deploy (alias "live",
    which the HTTP API calls), and the parameter, off unless asked, switches the snapshots on for them alone."""
    parameter = TEMPLATE.raw["Parameters"]["SnapStart"]
    assert parameter["Default"] == "None" and set(parameter["AllowedValues"]) == {"None", "PublishedVersions"}
    with_snapstart = {
        function_id
        for function_id, function in TEMPLATE.functions.items()
        if function.properties.get("SnapStart") == {"ApplyOn": {"Ref": "SnapStart"}}
    }
    assert with_snapstart == {"ApiFunction", "WebhooksFunction"}
    assert {TEMPLATE.functions[function_id].properties.get("AutoPublishAlias") for function_id in with_snapstart} == {
        "live"
    }
    assert TEMPLATE.raw["Globals"]["Function"]["Runtime"] == "python3.12"  # SnapStart takes Python 3.12 and later

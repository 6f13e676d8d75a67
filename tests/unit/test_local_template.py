"""local.template must read what template.yaml says, so the offline stack never restates it."""

from __future__ import annotations

import copy
import json
import sys
import textwrap
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_lambda_powertools import Logger
from moto import mock_aws
from moto.s3.models import s3_backends

from local import moto_patches
from local.handlers import FakeLambdaContext, handler_module_name, load_handler, template_environment_set
from local.resources import (
    bucket_name,
    bucket_setup,
    create_secret_kwargs,
    create_table_kwargs,
    event_rule_setup,
    queue_attributes,
    queue_creation_order,
    queue_name,
    queue_policy_setup,
    ttl_attribute,
)
from local.stack import apply_queue_policies, create_buckets, create_event_rules
from local.template import ResolutionError, Resolver, Route, SamTemplate, TemplateError, load_template

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = REPO_ROOT / "template.yaml"
LOCAL_REFS = {
    "DialhubTable": "dialhub-dev",
    "DispatchQueue": "http://localhost:5000/123456789012/dialhub-dev-dispatch",
    "ExportQueue": "http://localhost:5000/123456789012/dialhub-dev-exports",
    "ExportBucket": "dialhub-dev-exports-123456789012-us-east-1",
    "ImportBucket": "dialhub-dev-imports-123456789012-us-east-1",
}
LOCAL_ATTRIBUTES = {("DispatchDeadLetterQueue", "Arn"): "arn:aws:sqs:us-east-1:123456789012:dialhub-dev-dispatch-dlq"}


@pytest.fixture(scope="module")
def template() -> SamTemplate:
    return SamTemplate(TEMPLATE_PATH)


@pytest.fixture
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)


# --------------------------------------------------------------------------- YAML and intrinsics


def test_short_tags_load_as_long_form(tmp_path: Path) -> None:
    source = tmp_path / "t.yaml"
    source.write_text(
        textwrap.dedent(
            """
            Resources:
              R:
                Properties:
                  Ref: !Ref Thing
                  Sub: !Sub "x-${Stage}"
                  SubList: !Sub ["${A}-b", {A: !Ref Thing}]
                  GetAttDotted: !GetAtt Queue.Arn
                  GetAttList: !GetAtt [Queue, QueueName]
                  Join: !Join [",", [a, b]]
                  If: !If [IsProd, 1, 2]
                  Select: !Select [0, !Split [",", "a,b"]]
                  Equals: !Equals [a, b]
                  Not: !Not [!Condition IsProd]
                  And: !And [!Condition A, !Condition B]
                  Or: !Or [!Condition A, !Condition B]
                  FindInMap: !FindInMap [M, k1, k2]
                  Base64: !Base64 text
                  ImportValue: !ImportValue other-export
                  GetAZs: !GetAZs ""
            """
        )
    )
    properties = load_template(source)["Resources"]["R"]["Properties"]
    assert properties["Ref"] == {"Ref": "Thing"}
    assert properties["Sub"] == {"Fn::Sub": "x-${Stage}"}
    assert properties["SubList"] == {"Fn::Sub": ["${A}-b", {"A": {"Ref": "Thing"}}]}
    assert properties["GetAttDotted"] == {"Fn::GetAtt": ["Queue", "Arn"]}
    assert properties["GetAttList"] == {"Fn::GetAtt": ["Queue", "QueueName"]}
    assert properties["Join"] == {"Fn::Join": [",", ["a", "b"]]}
    assert properties["If"] == {"Fn::If": ["IsProd", 1, 2]}
    assert properties["Select"] == {"Fn::Select": [0, {"Fn::Split": [",", "a,b"]}]}
    assert properties["Equals"] == {"Fn::Equals": ["a", "b"]}
    assert properties["Not"] == {"Fn::Not": [{"Condition": "IsProd"}]}
    assert properties["And"] == {"Fn::And": [{"Condition": "A"}, {"Condition": "B"}]}
    assert properties["Or"] == {"Fn::Or": [{"Condition": "A"}, {"Condition": "B"}]}
    assert properties["FindInMap"] == {"Fn::FindInMap": ["M", "k1", "k2"]}
    assert properties["Base64"] == {"Fn::Base64": "text"}
    assert properties["ImportValue"] == {"Fn::ImportValue": "other-export"}
    assert properties["GetAZs"] == {"Fn::GetAZs": ""}


def test_resolver_resolves_parameters_pseudo_parameters_and_local_resource_values(
    template: SamTemplate,
) -> None:
    resolver = Resolver(
        template.document,
        parameters={"Stage": "qa"},
        refs={"DialhubApi": "api123"},
        attributes={("DispatchQueue", "Arn"): "arn:aws:sqs:us-east-1:123456789012:q"},
    )
    assert resolver.resolve({"Ref": "Stage"}) == "qa"
    assert resolver.resolve({"Ref": "DailyRunHour"}) == "9"  # Number defaults come back as text.
    assert resolver.resolve({"Ref": "AWS::Region"}) == "us-east-1"
    assert resolver.resolve({"Ref": "AWS::AccountId"}) == "123456789012"
    api_url = {"Fn::Sub": "https://${DialhubApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}"}
    assert resolver.resolve(api_url) == "https://api123.execute-api.us-east-1.amazonaws.com"
    assert resolver.resolve({"Fn::Sub": ["${Name}/${Stage}/${!Literal}", {"Name": "x"}]}) == "x/qa/${Literal}"
    assert resolver.resolve({"Fn::Sub": "${DispatchQueue.Arn}"}) == "arn:aws:sqs:us-east-1:123456789012:q"
    queue_arn = "arn:aws:sqs:us-east-1:123456789012:q"
    assert resolver.resolve({"Fn::GetAtt": ["DispatchQueue", "Arn"]}) == queue_arn
    assert resolver.resolve({"Fn::Join": ["-", ["a", {"Ref": "Stage"}, "b"]]}) == "a-qa-b"
    assert resolver.resolve({"Ref": "AWS::StackName"}) == "dialhub-local"
    assert resolver.resolve({"Ref": "AWS::Partition"}) == "aws"


def test_resolver_names_what_it_cannot_resolve(template: SamTemplate) -> None:
    resolver = Resolver(template.document)
    with pytest.raises(ResolutionError, match="DispatchQueue"):
        resolver.resolve({"Ref": "DispatchQueue"})
    with pytest.raises(ResolutionError, match=r"DispatchDeadLetterQueue\.Arn"):
        resolver.resolve({"Fn::GetAtt": ["DispatchDeadLetterQueue", "Arn"]})
    with pytest.raises(ResolutionError, match="NoSuchThing"):
        resolver.resolve({"Fn::Sub": "${NoSuchThing}"})
    with pytest.raises(ResolutionError, match="Fn::ImportValue"):
        resolver.resolve({"Fn::ImportValue": "x"})


def test_parameter_overrides_are_checked_like_cloudformation_does(template: SamTemplate) -> None:
    with pytest.raises(ResolutionError, match="NotAParameter"):
        Resolver(template.document, parameters={"NotAParameter": "x"})
    with pytest.raises(ResolutionError, match="Stage"):
        Resolver(template.document, parameters={"Stage": "Bad Stage"})
    with pytest.raises(ResolutionError, match="PredialFailOpen"):
        Resolver(template.document, parameters={"PredialFailOpen": "maybe"})
    with pytest.raises(ResolutionError, match="DailyRunHour"):
        Resolver(template.document, parameters={"DailyRunHour": "24"})


# --------------------------------------------------------------------------- events of the real template


def test_api_function_routes_are_all_iam_protected(template: SamTemplate) -> None:
    api_routes = {route.route_key: route for route in template.routes if route.function_id == "ApiFunction"}
    assert set(api_routes) == {
        "POST /campaigns",
        "POST /campaigns/{campaignId}/contacts",
        "GET /campaigns/{campaignId}/comparison",
        "POST /campaigns/{campaignId}/pause",
        "POST /campaigns/{campaignId}/resume",
        "POST /campaigns/{campaignId}/cancel",
        "PUT /suppressions/{phone}",
        "PUT /policies/{name}",
        "GET /policies/{name}",
        "GET /suppressions/{phone}",
        "DELETE /suppressions/{phone}",
        "POST /campaigns/{campaignId}/dispatch",
        "GET /campaigns/{campaignId}",
        "GET /campaigns/{campaignId}/contacts/{contactId}",
        "POST /campaigns/{campaignId}/contacts/{contactId}/cancel",
        "GET /calls/{vendor}/{vendorCallId}",
        "GET /campaigns",
        "GET /campaigns/{campaignId}/contacts",
        "GET /outcomes",
        "POST /campaigns/{campaignId}/exports",
        "GET /exports/{exportId}",
        "POST /campaigns/{campaignId}/recount",
        "POST /campaigns/{campaignId}/imports",
        "POST /imports",
        "GET /imports/{importId}",
        "POST /admin/dlq/redrive",
    }
    assert {route.auth for route in api_routes.values()} == {"AWS_IAM"}


def test_webhook_routes_override_the_default_authorizer_with_none(template: SamTemplate) -> None:
    webhook_routes = [route for route in template.routes if route.function_id == "WebhooksFunction"]
    assert webhook_routes == [
        Route("POST", "/webhooks/{vendor}", "WebhooksFunction", "NONE", "VendorCallback", "DialhubApi"),
        Route(
            "POST",
            "/webhooks/{vendor}/{kind}",
            "WebhooksFunction",
            "NONE",
            "VendorCallbackKind",
            "DialhubApi",
        ),
    ]
    assert len(template.routes) == 28


def test_schedules_carry_their_expression_timezone_and_input(template: SamTemplate) -> None:
    schedules = {schedule.name_logical_id: schedule for schedule in template.schedules}
    assert set(schedules) == {"DailyTaskCreation", "HeldContactReplanning", "ResultPolling"}

    daily = schedules["DailyTaskCreation"]
    assert daily.function_id == "SchedulerFunction"
    assert daily.expression == "cron(0 9 * * ? *)"
    assert daily.timezone == "Asia/Manila"
    assert daily.input == {"kind": "daily_plan"}
    assert daily.name == "dialhub-dev-daily"

    replan = schedules["HeldContactReplanning"]
    assert (replan.function_id, replan.expression, replan.input) == (
        "SchedulerFunction",
        "rate(30 minutes)",
        {"kind": "replan"},
    )

    polling = schedules["ResultPolling"]
    assert polling.function_id == "PollerFunction"
    assert polling.expression == "rate(10 minutes)"
    assert polling.timezone is None
    assert polling.input == {"kind": "poll_results"}


def test_schedules_follow_parameter_overrides() -> None:
    overridden = SamTemplate(TEMPLATE_PATH, parameters={"Stage": "qa", "DailyRunHour": "7", "PollRateMinutes": "2"})
    schedules = {schedule.name_logical_id: schedule for schedule in overridden.schedules}
    assert schedules["DailyTaskCreation"].expression == "cron(0 7 * * ? *)"
    assert schedules["DailyTaskCreation"].name == "dialhub-qa-daily"
    assert schedules["ResultPolling"].expression == "rate(2 minutes)"


def test_dispatcher_reads_the_dispatch_queue_with_partial_batch_responses(template: SamTemplate) -> None:
    source = template.sqs_source("DispatcherFunction")
    assert source.function_id == "DispatcherFunction"
    assert source.queue_id == "DispatchQueue"
    assert source.batch_size == 5
    assert source.report_batch_item_failures is True


def test_exports_and_imports_read_their_queues_one_job_at_a_time(template: SamTemplate) -> None:
    assert {source.function_id: source.queue_id for source in template.sqs_sources} == {
        "DispatcherFunction": "DispatchQueue",
        "ExportsFunction": "ExportQueue",
        "ImporterFunction": "ImportQueue",
    }
    for function_id in ("ExportsFunction", "ImporterFunction"):
        source = template.sqs_source(function_id)
        assert source.batch_size == 1
        assert source.report_batch_item_failures is True


def test_the_events_function_reads_the_tables_stream_as_declared(template: SamTemplate) -> None:
    [source] = template.stream_sources
    assert (source.function_id, source.table_id) == ("EventsFunction", "DialhubTable")
    assert source.batch_size == 100 and source.batching_window_seconds == 1
    assert source.bisect_on_error and source.report_batch_item_failures
    assert source.maximum_retry_attempts == 10
    assert source.on_failure_queue_id == "StreamFailureQueue"
    assert source.starting_position == "TRIM_HORIZON"
    [pattern] = source.filter_patterns
    assert json.loads(pattern) == {"dynamodb": {"Keys": {"sk": {"S": ["CALL", "SUPPRESSION", {"prefix": "CONTACT#"}]}}}}
    assert template.event_buses == {"EventBus": {"Name": {"Fn::Sub": "dialhub-${Stage}"}}}


def test_an_event_source_the_offline_stack_cannot_drive_is_refused(template: SamTemplate) -> None:
    document = copy.deepcopy(template.raw)
    document["Resources"]["EventsFunction"]["Properties"]["Events"]["TableChanges"]["Type"] = "Kinesis"
    with pytest.raises(TemplateError, match="cannot drive Kinesis events"):
        SamTemplate(document, directory=template.directory)


def test_function_specs_apply_globals(template: SamTemplate) -> None:
    assert set(template.functions) == {
        "ApiFunction",
        "WebhooksFunction",
        "SchedulerFunction",
        "DispatcherFunction",
        "PollerFunction",
        "ExportsFunction",
        "ImporterFunction",
        "EventsFunction",
    }
    api = template.functions["ApiFunction"]
    assert api.code_uri == REPO_ROOT / "functions" / "api"
    assert api.handler == "app.lambda_handler"
    assert api.timeout == 30  # From Globals.
    assert api.memory == 512
    assert api.layer_dirs == [REPO_ROOT / "layers" / "dialhub"]  # BuildMethod set: code at ContentUri root.
    assert template.functions["WebhooksFunction"].timeout == 10
    assert template.functions["DispatcherFunction"].timeout == 300
    assert api.environment["TABLE_NAME"] == {"Ref": "DialhubTable"}  # Unresolved until the stack has one.
    assert len(template.functions["DispatcherFunction"].sqs_sources) == 1
    assert len(template.functions["SchedulerFunction"].schedules) == 2


def test_function_environment_is_resolved_to_strings(template: SamTemplate) -> None:
    resolver = template.resolver(refs=LOCAL_REFS, attributes=LOCAL_ATTRIBUTES)
    environment = template.function_environment("ApiFunction", resolver)
    assert environment["TABLE_NAME"] == "dialhub-dev"
    assert environment["DISPATCH_QUEUE_URL"] == LOCAL_REFS["DispatchQueue"]
    assert environment["DISPATCH_DEAD_LETTER_ARN"] == LOCAL_ATTRIBUTES[("DispatchDeadLetterQueue", "Arn")]
    assert environment["VENDOR_SECRET_PREFIX"] == "dialhub/dev/vendors/"
    assert environment["OUTCOME_RETENTION_DAYS"] == "400"
    assert environment["PREDIAL_FAIL_OPEN"] == "false"
    assert environment["POWERTOOLS_SERVICE_NAME"] == "dialhub"
    assert environment["EXPORT_BUCKET"] == LOCAL_REFS["ExportBucket"]  # the function's own, merged with Globals
    assert environment["EXPORT_URL_MINUTES"] == "15"
    assert environment["OUTCOME_FEED_DELAY_SECONDS"] == "60"
    assert all(isinstance(value, str) for value in environment.values())

    qa = SamTemplate(TEMPLATE_PATH, parameters={"Stage": "qa"})
    qa_resolver = qa.resolver(refs={**LOCAL_REFS, "DialhubTable": "t"}, attributes=LOCAL_ATTRIBUTES)
    qa_environment = qa.function_environment("ApiFunction", qa_resolver)
    assert qa_environment["VENDOR_SECRET_PREFIX"] == "dialhub/qa/vendors/"
    assert qa_environment["TABLE_NAME"] == "t"


def test_function_environment_names_a_missing_local_resource(template: SamTemplate) -> None:
    with pytest.raises(ResolutionError, match=r"DISPATCH_QUEUE_URL.*DispatchQueue"):
        template.function_environment("ApiFunction", template.resolver(refs={"DialhubTable": "t"}))


def test_function_name_and_http_api_stage(template: SamTemplate) -> None:
    assert template.function_name("ApiFunction", template.resolver()) == "dialhub-dev-api"
    assert template.http_api_stage() == "$default"  # no StageName: URLs carry no stage prefix
    with pytest.raises(TemplateError, match="NoSuchFunction"):
        template.function_environment("NoSuchFunction", template.resolver())


# --------------------------------------------------------------------------- resources, under moto


def test_create_table_kwargs_create_the_template_table(template: SamTemplate, aws_credentials: None) -> None:
    kwargs = create_table_kwargs(template, "DialhubTable", template.resolver())
    assert kwargs["TableName"] == "dialhub-dev"
    for dropped in (
        "TimeToLiveSpecification",
        "PointInTimeRecoverySpecification",
        "SSESpecification",
        "DeletionProtectionEnabled",
    ):
        assert dropped not in kwargs
    assert ttl_attribute(template, "DialhubTable") == "expiresAt"

    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        dynamodb.create_table(**kwargs)
        dynamodb.update_time_to_live(
            TableName=kwargs["TableName"],
            TimeToLiveSpecification={
                "Enabled": True,
                "AttributeName": ttl_attribute(template, "DialhubTable"),
            },
        )
        table = dynamodb.describe_table(TableName="dialhub-dev")["Table"]
        ttl = dynamodb.describe_time_to_live(TableName="dialhub-dev")["TimeToLiveDescription"]

    assert table["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert {index["IndexName"] for index in table["GlobalSecondaryIndexes"]} == {"gsi1", "gsi2", "gsi3"}
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expiresAt"}


def _create_queues(template: SamTemplate, resolver: Resolver, sqs: Any) -> tuple[dict[str, str], dict[str, str]]:
    """Every queue of the template, made in its creation order (a DLQ before the queue naming it): URLs and ARNs."""
    urls: dict[str, str] = {}
    arns: dict[str, str] = {}
    for queue_id in queue_creation_order(template):
        attributes = queue_attributes(template, queue_id, resolver, arn_of=arns.__getitem__)
        urls[queue_id] = sqs.create_queue(QueueName=queue_name(template, queue_id, resolver), Attributes=attributes)[
            "QueueUrl"
        ]
        arns[queue_id] = sqs.get_queue_attributes(QueueUrl=urls[queue_id], AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
    return urls, arns


def test_queue_attributes_create_the_queues_with_their_redrive_policy(
    template: SamTemplate, aws_credentials: None
) -> None:
    resolver = template.resolver()
    assert queue_creation_order(template) == [
        "DispatchDeadLetterQueue",
        "DispatchQueue",
        "ExportDeadLetterQueue",
        "ExportQueue",
        "ImportDeadLetterQueue",
        "ImportQueue",
        "StreamFailureQueue",
        "ScheduledRunDeadLetterQueue",
    ]
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        urls, arns = _create_queues(template, resolver, sqs)
        dispatch = sqs.get_queue_attributes(QueueUrl=urls["DispatchQueue"], AttributeNames=["All"])["Attributes"]

    assert urls["DispatchQueue"].endswith("/dialhub-dev-dispatch")
    assert urls["DispatchDeadLetterQueue"].endswith("/dialhub-dev-dispatch-dlq")
    assert dispatch["VisibilityTimeout"] == "1800"
    assert dispatch["MessageRetentionPeriod"] == "345600"
    assert dispatch["SqsManagedSseEnabled"] == "true" and "KmsMasterKeyId" not in dispatch  # no customer key given
    redrive = json.loads(dispatch["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"] == arns["DispatchDeadLetterQueue"]
    assert int(redrive["maxReceiveCount"]) == 5


def test_secret_is_generated_from_its_template(template: SamTemplate) -> None:
    assert set(template.secrets) == {"BluSecret", "NxteleSecret", "AirudderSecret"}
    kwargs = create_secret_kwargs(template, "BluSecret", template.resolver())
    assert kwargs["Name"] == "dialhub/dev/vendors/blu"
    secret = json.loads(kwargs["SecretString"])
    assert secret["appId"] == "SET-ME"
    assert len(secret["webhookToken"]) == 40
    assert secret["webhookToken"].isalnum()  # ExcludePunctuation.
    nxtele = create_secret_kwargs(template, "NxteleSecret", template.resolver(refs={"DialhubApi": "abc123"}))
    assert json.loads(nxtele["SecretString"])["callbackBaseUrl"].startswith("https://abc123.execute-api.")


# --------------------------------------------------------------------------- handlers and context


def test_load_handler_imports_each_function_under_its_own_module_name(template: SamTemplate) -> None:
    with template_environment_set("api"):
        api_handler = load_handler(template.functions["ApiFunction"])
    with template_environment_set("webhooks"):
        webhooks_handler = load_handler(template.functions["WebhooksFunction"])
    assert callable(api_handler)
    assert load_handler(template.functions["ApiFunction"]) is api_handler  # Cached.
    assert handler_module_name(template.functions["ApiFunction"]) == "dialhub_function_api"
    assert api_handler.__module__ == "dialhub_function_api"
    assert webhooks_handler.__module__ == "dialhub_function_webhooks"
    assert sys.modules["dialhub_function_api"] is not sys.modules["dialhub_function_webhooks"]
    assert str(REPO_ROOT / "layers" / "dialhub") in sys.path


def test_fake_context_works_with_powertools_logger(template: SamTemplate) -> None:
    spec = template.functions["ApiFunction"]
    logger = Logger(service="dialhub-test")
    seen: dict[str, object] = {}

    @logger.inject_lambda_context
    def handler(event: dict[str, object], context: FakeLambdaContext) -> str:
        seen["request_id"] = context.aws_request_id
        seen["remaining"] = context.get_remaining_time_in_millis()
        return "ok"

    first = FakeLambdaContext.for_invoke(spec, "dialhub-dev-api")
    second = FakeLambdaContext.for_invoke(spec, "dialhub-dev-api")
    assert handler({}, first) == "ok"
    assert first.aws_request_id != second.aws_request_id
    assert seen["request_id"] == first.aws_request_id
    assert 29_000 < int(seen["remaining"]) <= 30_000  # type: ignore[call-overload]
    assert first.memory_limit_in_mb == 512
    assert first.invoked_function_arn == "arn:aws:lambda:us-east-1:123456789012:function:dialhub-dev-api"


def test_the_export_bucket_is_built_as_cloudformation_would_build_it(template: SamTemplate) -> None:
    resolver = template.resolver(
        refs=LOCAL_REFS, attributes={("ExportBucket", "Arn"): f"arn:aws:s3:::{LOCAL_REFS['ExportBucket']}"}
    )
    setup = bucket_setup(template, "ExportBucket", resolver)
    assert setup.name == bucket_name(template, "ExportBucket", resolver) == "dialhub-dev-exports-123456789012-us-east-1"
    assert setup.public_access_block == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert setup.encryption == {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}
    assert setup.lifecycle == {
        "Rules": [
            {
                "ID": "ExpireExports",
                "Status": "Enabled",
                "Filter": {"Prefix": ""},
                "Expiration": {"Days": 7},
                "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
            }
        ]
    }
    [policy] = setup.policies
    assert policy["Statement"][0]["Resource"] == [
        "arn:aws:s3:::dialhub-dev-exports-123456789012-us-east-1",
        "arn:aws:s3:::dialhub-dev-exports-123456789012-us-east-1/*",
    ]
    shorter = SamTemplate(TEMPLATE_PATH, parameters={"ExportRetentionDays": "2"})
    lifecycle = bucket_setup(shorter, "ExportBucket", shorter.resolver(refs=LOCAL_REFS, attributes=resolver.attributes))
    assert lifecycle.lifecycle["Rules"][0]["Expiration"] == {"Days": 2}


def test_a_bucket_property_the_offline_stack_cannot_build_is_refused_not_dropped(template: SamTemplate) -> None:
    document = copy.deepcopy(template.raw)
    document["Resources"]["ExportBucket"]["Properties"]["VersioningConfiguration"] = {"Status": "Enabled"}
    with pytest.raises(TemplateError, match="VersioningConfiguration"):
        bucket_setup(SamTemplate(document, directory=REPO_ROOT), "ExportBucket", template.resolver(refs=LOCAL_REFS))


# --------------------------------------------------------------------------- uploads: S3 -> EventBridge -> SQS

IMPORT_BUCKET = LOCAL_REFS["ImportBucket"]
IMPORT_QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:dialhub-dev-imports"
UPLOAD_RULE_ARN = "arn:aws:events:us-east-1:123456789012:rule/dialhub-local-ImportUploadedRule"


def _upload_resolver(template: SamTemplate) -> Resolver:
    return template.resolver(
        refs={**LOCAL_REFS, "ImportQueue": "http://localhost:5000/123456789012/dialhub-dev-imports"},
        attributes={
            ("ImportBucket", "Arn"): f"arn:aws:s3:::{IMPORT_BUCKET}",
            ("ImportQueue", "Arn"): IMPORT_QUEUE_ARN,
            ("ImportUploadedRule", "Arn"): UPLOAD_RULE_ARN,
        },
    )


def test_the_import_bucket_announces_new_objects_to_eventbridge(template: SamTemplate) -> None:
    setup = bucket_setup(template, "ImportBucket", _upload_resolver(template))
    assert setup.name == IMPORT_BUCKET
    assert setup.notification == {"EventBridgeConfiguration": {}}
    assert setup.lifecycle is not None and setup.lifecycle["Rules"][0]["Expiration"] == {"Days": 3}
    export = bucket_setup(
        template, "ExportBucket", template.resolver(refs=LOCAL_REFS, attributes={("ExportBucket", "Arn"): "arn"})
    )
    assert export.notification is None


@pytest.mark.parametrize("kind", ["QueueConfigurations", "TopicConfigurations", "LambdaConfigurations"])
def test_a_notification_the_offline_stack_would_not_deliver_is_refused(template: SamTemplate, kind: str) -> None:
    document = copy.deepcopy(template.raw)
    notification = document["Resources"]["ImportBucket"]["Properties"]["NotificationConfiguration"]
    notification[kind] = [{"Event": "s3:ObjectCreated:*", "Queue": {"Fn::GetAtt": ["ImportQueue", "Arn"]}}]
    with pytest.raises(TemplateError, match=rf"ImportBucket\.NotificationConfiguration.*{kind}.*EventBridge"):
        # refused before anything is resolved: the queue it names need not exist
        bucket_setup(SamTemplate(document, directory=REPO_ROOT), "ImportBucket", template.resolver(refs=LOCAL_REFS))


def test_the_upload_rule_is_built_from_the_template(template: SamTemplate) -> None:
    setup = event_rule_setup(template, "ImportUploadedRule", _upload_resolver(template))
    assert setup.name == setup.ref == "dialhub-local-ImportUploadedRule"
    assert setup.event_bus_name == "default"
    assert setup.rule["State"] == "ENABLED"
    assert json.loads(setup.rule["EventPattern"]) == {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": [IMPORT_BUCKET]}, "object": {"key": [{"prefix": "uploads/"}]}},
    }
    assert setup.targets == [
        {
            "Id": "ImportQueue",
            "Arn": IMPORT_QUEUE_ARN,
            "RetryPolicy": {"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 86400},
        }
    ]


def test_the_import_queue_policy_lets_only_the_upload_rule_send(template: SamTemplate) -> None:
    setup = queue_policy_setup(template, "ImportQueuePolicy", _upload_resolver(template))
    assert setup.queue_urls == ["http://localhost:5000/123456789012/dialhub-dev-imports"]
    [statement] = setup.policy["Statement"]
    assert statement["Resource"] == IMPORT_QUEUE_ARN
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": UPLOAD_RULE_ARN}}


def test_a_rule_the_offline_stack_cannot_run_is_refused(template: SamTemplate) -> None:
    def rule_with(**changes: object) -> SamTemplate:
        document = copy.deepcopy(template.raw)
        document["Resources"]["ImportUploadedRule"]["Properties"].update(changes)
        return SamTemplate(document, directory=REPO_ROOT)

    resolver = _upload_resolver(template)
    with pytest.raises(TemplateError, match="ScheduleExpression"):
        event_rule_setup(rule_with(ScheduleExpression="rate(1 minute)"), "ImportUploadedRule", resolver)
    to_a_function = [{"Id": "f", "Arn": "arn:aws:lambda:us-east-1:123456789012:function:importer"}]
    with pytest.raises(TemplateError, match="SQS queues only"):
        event_rule_setup(rule_with(Targets=to_a_function), "ImportUploadedRule", resolver)
    transformed = [{"Id": "q", "Arn": IMPORT_QUEUE_ARN, "InputTransformer": {"InputTemplate": "<x>"}}]
    with pytest.raises(TemplateError, match="InputTransformer"):
        event_rule_setup(rule_with(Targets=transformed), "ImportUploadedRule", resolver)
    on_the_stack_bus = event_rule_setup(
        rule_with(EventBusName={"Ref": "EventBus"}), "ImportUploadedRule", resolver.with_values(refs={"EventBus": "b"})
    )
    assert on_the_stack_bus.ref == "b|dialhub-local-ImportUploadedRule"  # CloudFormation's Ref off the default bus


def test_bucket_rule_and_queue_policy_are_made_under_moto(template: SamTemplate, aws_credentials: None) -> None:
    with mock_aws():
        sqs, events, s3 = (boto3.client(name, region_name="us-east-1") for name in ("sqs", "events", "s3"))
        resolver = template.resolver()
        urls, arns = _create_queues(template, resolver, sqs)
        resolver = create_buckets(
            template,
            template.resolver(refs=urls, attributes={(queue_id, "Arn"): arn for queue_id, arn in arns.items()}),
            s3,
        )
        resolver = create_event_rules(template, resolver, events)
        apply_queue_policies(template, resolver, sqs)

        bucket = resolver.refs["ImportBucket"]
        # moto's GetBucketNotificationConfiguration leaves EventBridgeConfiguration out: ask its bucket.
        notification = s3_backends["123456789012"]["aws"].buckets[bucket].notification_configuration
        moto_patches.apply()  # the bucket policy's TLS condition, honoured as S3 honours it
        try:
            s3.put_object(Bucket=bucket, Key="uploads/imp_1", Body=b"phone\n+639171234567\n")
        finally:
            moto_patches.restore()
        [message] = sqs.receive_message(QueueUrl=urls["ImportQueue"], MaxNumberOfMessages=10)["Messages"]
        rule = events.describe_rule(Name="dialhub-local-ImportUploadedRule")
        [target] = events.list_targets_by_rule(Rule="dialhub-local-ImportUploadedRule")["Targets"]
        policy = json.loads(
            sqs.get_queue_attributes(QueueUrl=urls["ImportQueue"], AttributeNames=["Policy"])["Attributes"]["Policy"]
        )

    assert bucket == "dialhub-dev-imports-123456789012-us-east-1"
    assert notification is not None and notification.event_bridge == {}
    assert json.loads(message["Body"])["detail"]["object"]["key"] == "uploads/imp_1"
    assert rule["Arn"] == resolver.get_att("ImportUploadedRule", "Arn") == UPLOAD_RULE_ARN
    assert resolver.ref("ImportUploadedRule") == "dialhub-local-ImportUploadedRule"
    assert rule["EventBusName"] == "default" and rule["State"] == "ENABLED"
    assert json.loads(rule["EventPattern"])["detail"]["bucket"]["name"] == [bucket]
    assert target["Arn"] == arns["ImportQueue"] == IMPORT_QUEUE_ARN
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 86400}
    [statement] = policy["Statement"]
    assert statement["Resource"] == IMPORT_QUEUE_ARN
    assert statement["Condition"]["ArnEquals"]["aws:SourceArn"] == UPLOAD_RULE_ARN

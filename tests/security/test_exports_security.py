"""What protects an export: the bucket as template.yaml declares it (no public access, encryption, TLS only,
files expiring), the grants around it, IAM on every new route, and an export of full numbers that logs who
asked and never a number. The TLS rule is also shown at work: moto, patched to honour it as S3 does, refuses a
plain-HTTP request to the bucket built from the template."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from dialhub.wiring import Dependencies
from local.drivers import SqsDriver
from local.scenario import demo_contacts
from local.stack import create_buckets
from local.template import SamTemplate, load_template
from tests.conftest import ROOT, api_event, call_api, function_module
from tests.security.conftest import CapturedLogs, record_figures, redacted

TEMPLATE = load_template(ROOT / "template.yaml")
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
PRINCIPAL = "arn:aws:sts::123456789012:assumed-role/collections-backend/session"
RESULT_ROUTES = {
    "GET /campaigns",
    "GET /campaigns/{campaignId}/contacts",
    "GET /outcomes",
    "POST /campaigns/{campaignId}/exports",
    "GET /exports/{exportId}",
}


def test_the_results_routes_need_iam(template: SamTemplate) -> None:
    routes = {route.route_key: route for route in template.routes}
    assert set(routes) >= RESULT_ROUTES
    assert {routes[key].auth for key in RESULT_ROUTES} == {"AWS_IAM"}
    assert {routes[key].function_id for key in RESULT_ROUTES} == {"ApiFunction"}


def test_the_export_bucket_is_private_encrypted_and_keeps_files_for_the_retention_only() -> None:
    bucket = RESOURCES["ExportBucket"]["Properties"]
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert bucket["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}  # no ACLs at all
    [rule] = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    default = rule["ServerSideEncryptionByDefault"]
    ways = default["Fn::If"][1:] if "Fn::If" in default else [default]  # with the customer's key, and without
    assert {way["SSEAlgorithm"] for way in ways} <= {"AES256", "aws:kms"} and ways
    [lifecycle] = bucket["LifecycleConfiguration"]["Rules"]
    assert lifecycle["Status"] == "Enabled" and "Prefix" not in lifecycle  # every object, not a folder
    assert lifecycle["ExpirationInDays"] == {"Ref": "ExportRetentionDays"}
    assert lifecycle["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    assert TEMPLATE["Parameters"]["ExportRetentionDays"]["Default"] == 7
    assert TEMPLATE["Parameters"]["ExportUrlMinutes"]["Default"] == 15
    assert TEMPLATE["Parameters"]["ExportUrlMinutes"]["MaxValue"] <= 60


def test_the_bucket_policy_refuses_every_request_without_tls_on_the_bucket_and_its_objects() -> None:
    policy = RESOURCES["ExportBucketPolicy"]["Properties"]
    assert policy["Bucket"] == {"Ref": "ExportBucket"}
    [statement] = policy["PolicyDocument"]["Statement"]
    assert (statement["Effect"], statement["Principal"], statement["Action"]) == ("Deny", "*", "s3:*")
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert statement["Resource"] == [{"Fn::GetAtt": ["ExportBucket", "Arn"]}, {"Fn::Sub": "${ExportBucket.Arn}/*"}]


def _s3_grants(function: str) -> list[tuple[list[str], Any]]:
    grants = []
    for policy in RESOURCES[function]["Properties"]["Policies"]:
        for statement in policy.get("Statement", []) if isinstance(policy, dict) else []:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if any(action.startswith("s3:") for action in actions):
                grants.append((sorted(actions), statement["Resource"]))
    return grants


def test_each_function_reaches_the_buckets_only_for_what_it_does() -> None:
    exports = {"Fn::Sub": "${ExportBucket.Arn}/exports/*"}
    uploads = {"Fn::Sub": "${ImportBucket.Arn}/uploads/*"}
    rejections = {"Fn::Sub": "${ImportBucket.Arn}/rejections/*"}
    # The API signs links, nothing more: downloads of exports, uploads of contact files, downloads of rejections.
    assert _s3_grants("ApiFunction") == [
        (["s3:GetObject"], exports),
        (["s3:PutObject"], uploads),
        (["s3:GetObject"], rejections),
    ]
    assert _s3_grants("ExportsFunction") == [
        (["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"], exports),
        (["s3:ListBucket"], {"Fn::GetAtt": ["ExportBucket", "Arn"]}),
    ]
    # The importer reads (and, when too large, deletes) uploads, and writes rejections; it writes no upload.
    assert _s3_grants("ImporterFunction") == [
        (["s3:DeleteObject", "s3:GetObject"], uploads),
        (["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"], rejections),
        (["s3:ListBucket"], {"Fn::GetAtt": ["ImportBucket", "Arn"]}),
    ]
    others = [
        name
        for name, resource in RESOURCES.items()
        if resource["Type"] == "AWS::Serverless::Function"
        and name not in ("ApiFunction", "ExportsFunction", "ImporterFunction")
    ]
    assert others and all(_s3_grants(name) == [] for name in others)


@pytest.mark.parametrize(
    ("endpoint", "allowed"), [("https://s3.amazonaws.com", True), ("http://s3.amazonaws.com", False)]
)
def test_the_bucket_built_from_the_template_refuses_plain_http(
    aws: Any, template: SamTemplate, endpoint: str, allowed: bool
) -> None:
    bucket = create_buckets(template, template.resolver(), boto3.client("s3")).refs["ExportBucket"]
    s3 = boto3.client("s3", endpoint_url=endpoint)
    if allowed:
        s3.put_object(Bucket=bucket, Key="exports/x/y.csv", Body=b"a,b\r\n")
        assert s3.get_object(Bucket=bucket, Key="exports/x/y.csv")["Body"].read() == b"a,b\r\n"
        return
    boto3.client("s3").put_object(Bucket=bucket, Key="exports/x/y.csv", Body=b"a,b\r\n")
    for attempt in (
        lambda: s3.put_object(Bucket=bucket, Key="exports/x/z.csv", Body=b"c"),
        lambda: s3.get_object(Bucket=bucket, Key="exports/x/y.csv"),
    ):
        with pytest.raises(ClientError) as refused:
            attempt()
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    record_figures("export_bucket", {"plain_http_requests_refused": 2})


def test_an_export_with_full_numbers_logs_who_asked_and_never_a_number(
    export_deps: Dependencies, template: SamTemplate, captured_logs: CapturedLogs
) -> None:
    contacts = demo_contacts(12, prefix="pii")
    body = {"name": "PII", "vendor": "blu", "vendorOptions": {"botId": 1}, "contacts": contacts}
    status, created = call_api(export_deps, api_event("api/create_campaign.json", body=body))
    assert status == 201
    campaign_id = created["campaignId"]
    status, view = call_api(
        export_deps,
        api_event(
            "api/start_export.json", path={"campaignId": campaign_id}, body={"format": "jsonl", "includePhone": True}
        ),
    )
    assert status == 202
    SqsDriver(
        export_deps.export_queue.client,
        template.sqs_source("ExportsFunction"),
        export_deps.export_queue.queue_url,
        lambda _, event: function_module("exports").handle(event, _Context(), export_deps),
    ).drain()
    key = f"exports/{campaign_id}/{view['exportId']}.jsonl"
    lines = export_deps.objects.client.get_object(Bucket=export_deps.objects.bucket, Key=key)["Body"].read()
    phones = [export_deps.store.get_contact(campaign_id, contact["contactId"]).phone for contact in contacts]
    assert [json.loads(line)["phone"] for line in lines.splitlines()] == phones  # the numbers are in the file

    requested = [json.loads(line) for line in captured_logs.lines if "full phone numbers" in line]
    assert [(line["principal"], line["export_id"]) for line in requested] == [(PRINCIPAL, view["exportId"])]
    assert export_deps.store.get_export(view["exportId"]).requested_by == PRINCIPAL
    forms = [form for phone in phones for form in (phone, phone[1:], "0" + phone[3:])]
    assert [redacted(leak) for leak in captured_logs.leaked(*forms)] == []
    assert len(captured_logs.lines) >= 3  # intake, request, the export's own lines: the scan saw them


class _Context:
    def get_remaining_time_in_millis(self) -> int:
        return 900_000

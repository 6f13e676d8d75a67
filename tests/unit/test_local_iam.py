"""The offline stack's IAM (local/iam.py): which action on which resource each request is checked as, and how
a function's Policies in template.yaml are read into grants."""

from __future__ import annotations

import pytest

from local.iam import Grant, Permissions, Requests, function_grants
from local.template import SamTemplate, TemplateError
from tests.conftest import ROOT

TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/dialhub-local"
REQUESTS = Requests("us-east-1", "123456789012", {"dialhub/local/vendors/blu": "arn:aws:secretsmanager:x:blu-AbC"})


def test_each_item_of_a_transaction_is_checked_as_its_own_action_on_its_table() -> None:
    items = [
        {"Put": {"TableName": "dialhub-local"}},
        {"Update": {"TableName": "dialhub-local"}},
        {"ConditionCheck": {"TableName": "other"}},
    ]
    assert REQUESTS.of("dynamodb", "TransactWriteItems", {"TransactItems": items}) == [
        ("dynamodb:PutItem", TABLE),
        ("dynamodb:UpdateItem", TABLE),
        ("dynamodb:ConditionCheckItem", "arn:aws:dynamodb:us-east-1:123456789012:table/other"),
    ]


def test_a_query_of_an_index_is_checked_on_the_index() -> None:
    assert REQUESTS.of("dynamodb", "Query", {"TableName": "dialhub-local", "IndexName": "gsi3"}) == [
        ("dynamodb:Query", f"{TABLE}/index/gsi3")
    ]
    assert REQUESTS.of("dynamodb", "BatchGetItem", {"RequestItems": {"dialhub-local": {}}}) == [
        ("dynamodb:BatchGetItem", TABLE)
    ]


@pytest.mark.parametrize(
    ("operation", "action", "resource"),
    [
        ("UploadPart", "s3:PutObject", "arn:aws:s3:::bucket/exports/a.csv"),
        ("CompleteMultipartUpload", "s3:PutObject", "arn:aws:s3:::bucket/exports/a.csv"),
        ("AbortMultipartUpload", "s3:AbortMultipartUpload", "arn:aws:s3:::bucket/exports/a.csv"),
        ("HeadObject", "s3:GetObject", "arn:aws:s3:::bucket/exports/a.csv"),
        ("ListObjectsV2", "s3:ListBucket", "arn:aws:s3:::bucket"),
    ],
)
def test_s3_requests_are_checked_as_the_action_iam_knows_them_by(operation: str, action: str, resource: str) -> None:
    assert REQUESTS.of("s3", operation, {"Bucket": "bucket", "Key": "exports/a.csv"}) == [(action, resource)]


def test_queues_and_secrets_are_checked_by_their_arn() -> None:
    url = "http://127.0.0.1:5000/123456789012/dialhub-local-dispatch"
    assert REQUESTS.of("sqs", "SendMessageBatch", {"QueueUrl": url}) == [
        ("sqs:SendMessage", "arn:aws:sqs:us-east-1:123456789012:dialhub-local-dispatch")
    ]
    assert REQUESTS.of("secretsmanager", "GetSecretValue", {"SecretId": "dialhub/local/vendors/blu"}) == [
        ("secretsmanager:GetSecretValue", "arn:aws:secretsmanager:x:blu-AbC")
    ]


def test_a_grant_matches_actions_in_any_case_and_resources_with_wildcards() -> None:
    grant = Grant(("sqs:SendMessage*",), ("arn:aws:s3:::bucket/exports/*",))
    assert grant.allows("SQS:sendmessage", "arn:aws:s3:::bucket/exports/x/y.csv")
    assert not grant.allows("sqs:SendMessage", "arn:aws:s3:::bucket/other")
    assert not grant.allows("sqs:ReceiveMessage", "arn:aws:s3:::bucket/exports/x")


def test_the_templates_policies_become_grants_and_a_policy_it_cannot_apply_is_refused() -> None:
    template = SamTemplate(ROOT / "template.yaml", parameters={"Stage": "local"})
    resolver = template.resolver(
        refs={
            "DialhubTable": "dialhub-local",
            "BluSecret": "arn:blu",
            "NxteleSecret": "arn:nx",
            "AirudderSecret": "arn:air",
            "ExportBucket": "bucket",
        },
        attributes={
            ("DialhubTable", "Arn"): TABLE,
            ("ExportBucket", "Arn"): "arn:aws:s3:::bucket",
            ("DispatchQueue", "QueueName"): "dispatch",
            ("ExportQueue", "QueueName"): "exports",
        },
    )
    permissions = Permissions(
        {
            "ApiFunction": function_grants(
                template.functions["ApiFunction"].properties["Policies"], resolver, "ApiFunction"
            )
        },
        REQUESTS,
    )
    assert (
        permissions.check("ApiFunction", "dynamodb", "Query", {"TableName": "dialhub-local", "IndexName": "gsi3"}) == []
    )
    assert permissions.check("ApiFunction", "dynamodb", "Scan", {"TableName": "dialhub-local"}) == [
        f"dynamodb:Scan on {TABLE}"
    ]
    assert permissions.check("ApiFunction", "sqs", "SendMessage", {"QueueUrl": "http://h/1/exports"}) == []
    assert sum(permissions.refused["ApiFunction"].values()) == 1
    unused = permissions.unused("ApiFunction")
    assert "dynamodb:DeleteItem" in unused and "dynamodb:Query" not in unused and "sqs:SendMessage*" not in unused
    with pytest.raises(TemplateError, match="cannot apply"):
        function_grants([{"DynamoDBCrudPolicy": {"TableName": "t"}}], resolver, "X")

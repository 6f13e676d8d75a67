"""The offline stack's IAM (local/iam.py): which action on which resource each request is checked as, and how
a function's Policies in template.yaml are read into grants."""

from __future__ import annotations

import pytest

from local.iam import Grant, Permissions, Requests, function_grants, role_policy_grants
from local.template import Resolver, SamTemplate, TemplateError
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
        ("HeadBucket", "s3:ListBucket", "arn:aws:s3:::bucket"),
        ("ListMultipartUploads", "s3:ListBucketMultipartUploads", "arn:aws:s3:::bucket"),
        ("DeleteObject", "s3:DeleteObject", "arn:aws:s3:::bucket/exports/a.csv"),
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


DEAD_LETTERS = "arn:aws:sqs:us-east-1:123456789012:dialhub-local-dispatch-dlq"


def _template_resolver() -> tuple[SamTemplate, Resolver]:
    template = SamTemplate(ROOT / "template.yaml", parameters={"Stage": "local"})
    return template, template.resolver(
        refs={
            "DialhubTable": "dialhub-local",
            "BluSecret": "arn:blu",
            "NxteleSecret": "arn:nx",
            "AirudderSecret": "arn:air",
            "ExportBucket": "bucket",
            "ImportBucket": "imports",
        },
        attributes={
            ("DialhubTable", "Arn"): TABLE,
            ("ExportBucket", "Arn"): "arn:aws:s3:::bucket",
            ("ImportBucket", "Arn"): "arn:aws:s3:::imports",
            ("DispatchQueue", "QueueName"): "dispatch",
            ("ExportQueue", "QueueName"): "exports",
            ("ImportQueue", "QueueName"): "dialhub-local-imports",
            ("DispatchDeadLetterQueue", "Arn"): DEAD_LETTERS,
        },
    )


def _grants_of(*function_ids: str) -> Permissions:
    template, resolver = _template_resolver()
    return Permissions(
        {
            function_id: function_grants(template.functions[function_id].properties["Policies"], resolver, function_id)
            for function_id in function_ids
        },
        REQUESTS,
    )


def test_the_templates_policies_become_grants_and_a_policy_it_cannot_apply_is_refused() -> None:
    template, resolver = _template_resolver()
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
    # A message-move task is checked on the queue it moves from, as IAM checks it.
    assert permissions.check("ApiFunction", "sqs", "StartMessageMoveTask", {"SourceArn": DEAD_LETTERS}) == []
    assert permissions.check("ApiFunction", "sqs", "ListMessageMoveTasks", {"SourceArn": DEAD_LETTERS}) == []
    assert sum(permissions.refused["ApiFunction"].values()) == 1
    assert permissions.check("ApiFunction", "sqs", "StartMessageMoveTask", {"SourceArn": "arn:aws:sqs:x:1:other"})
    unused = permissions.unused("ApiFunction")
    assert "dynamodb:DeleteItem" in unused and "dynamodb:Query" not in unused and "sqs:SendMessage*" not in unused
    with pytest.raises(TemplateError, match="cannot apply"):
        function_grants([{"DynamoDBCrudPolicy": {"TableName": "t"}}], resolver, "X")


def test_a_versioned_read_a_copy_and_a_batch_delete_are_checked_as_iam_sees_them() -> None:
    assert REQUESTS.of("s3", "GetObject", {"Bucket": "b", "Key": "k", "VersionId": "v1"}) == [
        ("s3:GetObjectVersion", "arn:aws:s3:::b/k")
    ]
    assert REQUESTS.of("s3", "CopyObject", {"Bucket": "b", "Key": "to", "CopySource": "src/uploads/a b.csv"}) == [
        ("s3:PutObject", "arn:aws:s3:::b/to"),
        ("s3:GetObject", "arn:aws:s3:::src/uploads/a b.csv"),
    ]
    copy_of_version = {"Bucket": "b", "Key": "to", "CopySource": {"Bucket": "src", "Key": "k", "VersionId": "v"}}
    assert REQUESTS.of("s3", "CopyObject", copy_of_version)[1] == ("s3:GetObjectVersion", "arn:aws:s3:::src/k")
    batch = {"Bucket": "b", "Delete": {"Objects": [{"Key": "uploads/1"}, {"Key": "uploads/2", "VersionId": "v"}]}}
    assert REQUESTS.of("s3", "DeleteObjects", batch) == [
        ("s3:DeleteObject", "arn:aws:s3:::b/uploads/1"),
        ("s3:DeleteObjectVersion", "arn:aws:s3:::b/uploads/2"),
    ]


@pytest.mark.parametrize(
    ("operation", "params", "allowed"),
    [
        ("GetObject", {"Bucket": "imports", "Key": "uploads/imp_1"}, True),
        ("HeadObject", {"Bucket": "imports", "Key": "uploads/imp_1"}, True),
        ("DeleteObject", {"Bucket": "imports", "Key": "uploads/imp_1"}, True),
        ("PutObject", {"Bucket": "imports", "Key": "uploads/imp_1"}, False),  # an upload is the user's, never ours
        ("UploadPart", {"Bucket": "imports", "Key": "rejections/imp_1.csv"}, True),
        ("AbortMultipartUpload", {"Bucket": "imports", "Key": "rejections/imp_1.csv"}, True),
        ("DeleteObject", {"Bucket": "imports", "Key": "rejections/imp_1.csv"}, False),
        ("ListObjectsV2", {"Bucket": "imports", "Prefix": "uploads/"}, True),
        ("GetObject", {"Bucket": "bucket", "Key": "exports/x.csv"}, False),  # the export bucket is not its
    ],
)
def test_the_importer_may_read_uploads_and_write_rejections_only(
    operation: str, params: dict[str, str], allowed: bool
) -> None:
    assert (_grants_of("ImporterFunction").check("ImporterFunction", "s3", operation, params) == []) is allowed


def test_the_importer_queues_its_next_part_on_the_import_queue_only() -> None:
    permissions = _grants_of("ImporterFunction")
    imports = {"QueueUrl": "http://127.0.0.1:5000/123456789012/dialhub-local-imports"}
    assert permissions.check("ImporterFunction", "sqs", "SendMessage", imports) == []
    assert permissions.check("ImporterFunction", "sqs", "SendMessage", {"QueueUrl": "http://h/1/dispatch"}) != []
    assert permissions.check("ImporterFunction", "sqs", "DeleteMessage", imports) != []  # Lambda's mapping does


def test_the_api_may_sign_upload_links_and_rejection_downloads_only() -> None:
    permissions = _grants_of("ApiFunction")
    assert permissions.check("ApiFunction", "s3", "PutObject", {"Bucket": "imports", "Key": "uploads/imp_1"}) == []
    assert permissions.check("ApiFunction", "s3", "GetObject", {"Bucket": "imports", "Key": "rejections/i.csv"}) == []
    assert permissions.check("ApiFunction", "s3", "GetObject", {"Bucket": "imports", "Key": "uploads/imp_1"}) != []
    assert permissions.check("ApiFunction", "s3", "PutObject", {"Bucket": "imports", "Key": "rejections/i"}) != []


def test_the_customer_key_policy_grants_every_function_the_key_only_when_a_key_is_given() -> None:
    key = "arn:aws:kms:us-east-1:123456789012:key/0b1c2d3e-aaaa-bbbb-cccc-111122223333"
    template = SamTemplate(ROOT / "template.yaml", parameters={"Stage": "local", "KmsKeyArn": key})
    granted = role_policy_grants(template, template.resolver())
    assert set(granted) == set(template.functions)
    assert all(
        any(grant.allows("kms:Decrypt", key) and grant.allows("kms:GenerateDataKey", key) for grant in grants)
        for grants in granted.values()
    )
    assert not any(grant.allows("kms:Decrypt", key + "-other") for grants in granted.values() for grant in grants)
    without = SamTemplate(ROOT / "template.yaml", parameters={"Stage": "local"})
    assert role_policy_grants(without, without.resolver()) == {}

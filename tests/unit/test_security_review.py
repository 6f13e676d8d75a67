"""What the security review (checkov in `make security`) left in template.yaml, checked without checkov.

checkov counts an `!If` as set whichever way it goes, so these tests read both ways: without `KmsKeyArn` every
store still encrypts with AWS's keys, and with it every store takes the customer's key and every function may use
it. Each function is capped or says why not, each one a schedule invokes keeps its failed runs, and every check
the template skips says why in words.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from local.template import load_template
from tests.conftest import ROOT

TEMPLATE = load_template(ROOT / "template.yaml")
RESOURCES: dict[str, dict[str, Any]] = TEMPLATE["Resources"]
KEY = {"Ref": "KmsKeyArn"}
_DROPPED = object()


def _of_type(kind: str) -> dict[str, dict[str, Any]]:
    return {name: resource.get("Properties") or {} for name, resource in RESOURCES.items() if resource["Type"] == kind}


def _with_key(value: Any, has_key: bool) -> Any:
    """`value` as CloudFormation makes it when HasKmsKey is `has_key`: that branch of each If, AWS::NoValue dropped."""
    if isinstance(value, dict):
        if set(value) == {"Fn::If"} and value["Fn::If"][0] == "HasKmsKey":
            return _with_key(value["Fn::If"][1 if has_key else 2], has_key)
        if value == {"Ref": "AWS::NoValue"}:
            return _DROPPED
        chosen = {key: _with_key(item, has_key) for key, item in value.items()}
        return {key: item for key, item in chosen.items() if item is not _DROPPED}
    if isinstance(value, list):
        return [item for item in (_with_key(item, has_key) for item in value) if item is not _DROPPED]
    return value


def test_the_customer_key_is_optional() -> None:
    parameter = TEMPLATE["Parameters"]["KmsKeyArn"]
    assert parameter["Default"] == ""
    pattern = str(parameter["AllowedPattern"])
    assert re.fullmatch(pattern, "")
    assert re.fullmatch(pattern, "arn:aws:kms:ap-southeast-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab")
    assert not re.fullmatch(pattern, "arn:aws:kms:ap-southeast-1:123456789012:alias/dialhub")  # IAM needs the key


@pytest.mark.parametrize("has_key", [False, True])
def test_every_queue_is_encrypted_either_way(has_key: bool) -> None:
    queues = _of_type("AWS::SQS::Queue")
    assert len(queues) >= 7
    for name, properties in queues.items():
        chosen = _with_key(properties, has_key)
        if has_key:
            assert chosen.get("KmsMasterKeyId") == KEY, name
            assert chosen.get("SqsManagedSseEnabled") is not True, name
        else:
            assert chosen.get("SqsManagedSseEnabled") is True and "KmsMasterKeyId" not in chosen, name


def test_with_a_key_every_store_of_personal_data_uses_it() -> None:
    table = _with_key(_of_type("AWS::DynamoDB::Table")["DialhubTable"], True)["SSESpecification"]
    assert table == {"SSEEnabled": True, "SSEType": "KMS", "KMSMasterKeyId": KEY}
    for kind, key_property in [
        ("AWS::SecretsManager::Secret", "KmsKeyId"),
        ("AWS::Logs::LogGroup", "KmsKeyId"),
        ("AWS::SNS::Topic", "KmsMasterKeyId"),
    ]:
        found = _of_type(kind)
        assert found, kind
        assert all(_with_key(properties, True).get(key_property) == KEY for properties in found.values()), kind
    for name, properties in _of_type("AWS::S3::Bucket").items():
        [rule] = _with_key(properties, True)["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": KEY}, name
    assert _with_key(TEMPLATE["Globals"]["Function"], True)["KmsKeyArn"] == KEY


def test_without_a_key_the_stores_keep_aws_keys() -> None:
    table = _with_key(_of_type("AWS::DynamoDB::Table")["DialhubTable"], False)["SSESpecification"]
    assert table == {"SSEEnabled": True}
    for name, properties in _of_type("AWS::S3::Bucket").items():
        [rule] = _with_key(properties, False)["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert rule == {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}, name
    made = {name: resource for name, resource in RESOURCES.items() if resource.get("Condition") != "HasKmsKey"}
    assert "KmsKeyArn" not in repr(_with_key(made, False))


def test_with_a_key_every_function_role_may_use_it() -> None:
    policy = RESOURCES["CustomerKeyPolicy"]
    assert policy["Condition"] == "HasKmsKey"
    functions = _of_type("AWS::Serverless::Function")
    assert {role["Ref"] for role in policy["Properties"]["Roles"]} == {f"{name}Role" for name in functions}
    [statement] = policy["Properties"]["PolicyDocument"]["Statement"]
    assert {"kms:Decrypt", "kms:GenerateDataKey"} <= set(statement["Action"])
    assert statement["Resource"] == KEY


def _skips(resource: dict[str, Any]) -> dict[str, str]:
    entries = ((resource.get("Metadata") or {}).get("checkov") or {}).get("skip") or []
    return {str(entry["id"]): str(entry.get("comment", "")) for entry in entries}


def test_every_skipped_check_says_why() -> None:
    skipped = {
        (name, check): comment for name, resource in RESOURCES.items() for check, comment in _skips(resource).items()
    }
    assert len(skipped) >= 20
    for (name, check), comment in skipped.items():
        assert re.fullmatch(r"CKV2?_AWS_\d+", check), (name, check)
        assert len(comment.split()) >= 8, f"{name} skips {check} without a reason"


def test_each_function_is_capped_or_says_why_and_keeps_failed_scheduled_runs() -> None:
    functions = {
        name: resource for name, resource in RESOURCES.items() if resource["Type"] == "AWS::Serverless::Function"
    }
    reserved = {
        name for name, resource in functions.items() if "ReservedConcurrentExecutions" in resource["Properties"]
    }
    assert {"ApiFunction", "WebhooksFunction"} <= reserved
    for name, resource in functions.items():
        assert name in reserved or "CKV_AWS_115" in _skips(resource), name
        events = (resource["Properties"].get("Events") or {}).values()
        if any(event["Type"] in ("Schedule", "ScheduleV2") for event in events):  # invoked asynchronously
            assert resource["Properties"]["DeadLetterQueue"]["Type"] == "SQS", name
        else:
            assert "CKV_AWS_116" in _skips(resource), name

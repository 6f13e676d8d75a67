"""The functions' IAM permissions, applied offline as Lambda's execution roles apply them in AWS.

Each function may make only the AWS calls that its `Policies` in template.yaml grant: an action outside them is
refused with AccessDenied, as AWS would refuse it, so a missing grant fails `make test` and `make demo` rather
than the first deployment, and a grant no code needs shows up as unused. Only what a running function calls is
checked (the drivers that play Lambda's event sources are the platform, not a function), and only the calls
made on the invoking thread.

What is emulated: Allow statements (Action and Resource, with IAM's `*` and `?` wildcards), the two SAM policy
templates the template uses, and the resource each request names (a DynamoDB table or index, each table of a
batch and each item of a transaction, an S3 object or bucket, an SQS queue, a secret, the bus of each event).
Conditions, Deny and resource policies other than the bucket's (which moto applies) are not. A presigned link
is checked when the function signs it (local/stack.py): S3 would refuse it when used, as a request of its signer.
"""

from __future__ import annotations

import fnmatch
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from local.template import Resolver, SamTemplate, TemplateError

# SAM policy templates, as SAM expands them (the actions SAM lists; the resources made from the parameters).
_SAM_TEMPLATES: dict[str, Callable[[Mapping[str, str], Resolver], dict[str, Any]]] = {
    "SQSSendMessagePolicy": lambda parameters, resolver: {
        "Action": ["sqs:SendMessage*"],
        "Resource": f"arn:aws:sqs:{resolver.region}:{resolver.account_id}:{parameters['QueueName']}",
    },
    "AWSSecretsManagerGetSecretValuePolicy": lambda parameters, _: {
        "Action": ["secretsmanager:GetSecretValue"],
        "Resource": parameters["SecretArn"],
    },
}
_S3_ACTIONS = {
    "CreateMultipartUpload": "PutObject",
    "UploadPart": "PutObject",
    "CompleteMultipartUpload": "PutObject",
    "HeadObject": "GetObject",
    "ListParts": "ListMultipartUploadParts",
    "ListObjectsV2": "ListBucket",
    "ListObjects": "ListBucket",
    "HeadBucket": "ListBucket",
    "ListObjectVersions": "ListBucketVersions",
    "ListMultipartUploads": "ListBucketMultipartUploads",
    "UploadPartCopy": "PutObject",
    "CopyObject": "PutObject",
    "DeleteObjects": "DeleteObject",
}
# A request naming a version of an object needs the version's own action.
_S3_VERSION_ACTIONS = {"GetObject": "GetObjectVersion", "DeleteObject": "DeleteObjectVersion"}
_S3_BUCKET_ACTIONS = frozenset({"ListBucket", "ListBucketVersions", "ListBucketMultipartUploads"})
_TRANSACTION_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@dataclass(frozen=True)
class Grant:
    actions: tuple[str, ...]
    resources: tuple[str, ...]

    def allows(self, action: str, resource: str) -> bool:
        return any(fnmatch.fnmatchcase(action.lower(), pattern.lower()) for pattern in self.actions) and any(
            fnmatch.fnmatchcase(resource, pattern) for pattern in self.resources
        )


def function_grants(policies: Iterable[Any], resolver: Resolver, where: str) -> list[Grant]:
    """A function's `Policies`, resolved: its Allow statements and the SAM templates, as grants."""
    grants: list[Grant] = []
    for index, policy in enumerate(policies):
        if isinstance(policy, Mapping) and "Statement" in policy:
            statements = [
                resolver.resolve(statement, f"{where}[{index}]") for statement in _as_list(policy["Statement"])
            ]
        elif isinstance(policy, Mapping) and len(policy) == 1 and next(iter(policy)) in _SAM_TEMPLATES:
            [(name, parameters)] = policy.items()
            resolved = {
                key: str(resolver.resolve(value, f"{where}[{index}].{key}"))
                for key, value in (parameters or {}).items()
            }
            statements = [{"Effect": "Allow", **_SAM_TEMPLATES[name](resolved, resolver)}]
        else:
            raise TemplateError(f"{where}[{index}]: the offline stack cannot apply {policy!r}")
        grants.extend(
            Grant(tuple(_as_list(statement["Action"])), tuple(_as_list(statement["Resource"])))
            for statement in statements
            if statement.get("Effect") == "Allow"
        )
    return grants


def role_policy_grants(template: SamTemplate, resolver: Resolver) -> dict[str, list[Grant]]:
    """The template's own AWS::IAM::Policy resources on the roles SAM makes for the functions (`<Function>Role`),
    as grants of those functions: only when the policy's condition holds, as CloudFormation creates it then."""
    grants: dict[str, list[Grant]] = {}
    for logical_id, resource in template.resources.items():
        if resource.get("Type") != "AWS::IAM::Policy":
            continue
        if (condition := resource.get("Condition")) and not resolver.condition(condition):
            continue
        properties = resource["Properties"]
        document = properties["PolicyDocument"]
        for role in properties.get("Roles", []):
            function_id = str(role.get("Ref", "")).removesuffix("Role") if isinstance(role, Mapping) else ""
            if function_id not in template.functions:
                raise TemplateError(f"{logical_id}: the offline stack knows no function whose role is {role!r}")
            grants.setdefault(function_id, []).extend(
                function_grants([document], resolver, f"{logical_id}.PolicyDocument")
            )
    return grants


@dataclass
class Requests:
    """Turns an API call into the (IAM action, resource ARN) pairs AWS checks for it."""

    region: str
    account_id: str
    secret_arns: Mapping[str, str]  # secret name -> ARN (a call may name a secret either way)

    def of(self, service: str, operation: str, params: Mapping[str, Any]) -> list[tuple[str, str]]:
        if service == "dynamodb":
            return self._dynamodb(operation, params)
        if service == "s3":
            return self._s3(operation, params)
        if service == "sqs":
            if source := params.get("SourceArn"):  # a message-move task is authorised on its source queue
                return [(f"sqs:{operation}", str(source))]
            name = str(params.get("QueueUrl", "")).rstrip("/").rsplit("/", 1)[-1]
            action = "SendMessage" if operation == "SendMessageBatch" else operation
            return [(f"sqs:{action}", f"arn:aws:sqs:{self.region}:{self.account_id}:{name}")]
        if service == "events" and operation == "PutEvents":
            return [
                (f"events:{operation}", self._bus(entry.get("EventBusName"))) for entry in params.get("Entries", [])
            ]
        if service == "secretsmanager":
            secret = str(params.get("SecretId", ""))
            return [(f"secretsmanager:{operation}", self.secret_arns.get(secret, secret))]
        return [(f"{service}:{operation}", "*")]

    def _s3(self, operation: str, params: Mapping[str, Any]) -> list[tuple[str, str]]:
        """IAM's action on the object (bucket/key) or, for a listing, on the bucket; a copy also reads its source,
        a batch delete deletes each of its keys."""
        action = _S3_ACTIONS.get(operation, operation)
        bucket = f"arn:aws:s3:::{params.get('Bucket', '')}"
        if action in _S3_BUCKET_ACTIONS:
            return [(f"s3:{action}", bucket)]
        if operation == "DeleteObjects":
            return [
                (f"s3:{_S3_VERSION_ACTIONS[action] if 'VersionId' in item else action}", f"{bucket}/{item['Key']}")
                for item in (params.get("Delete") or {}).get("Objects", [])
            ]
        if "VersionId" in params:
            action = _S3_VERSION_ACTIONS.get(action, action)
        requests = [(f"s3:{action}", f"{bucket}/{params.get('Key', '')}")]
        if operation in ("CopyObject", "UploadPartCopy"):
            requests.append(self._copy_source(params.get("CopySource")))
        return requests

    @staticmethod
    def _copy_source(source: Any) -> tuple[str, str]:
        """The read a copy makes: CopySource is "bucket/key[?versionId=...]" or {"Bucket", "Key"[, "VersionId"]}."""
        if isinstance(source, Mapping):
            bucket, key, versioned = str(source.get("Bucket", "")), str(source.get("Key", "")), "VersionId" in source
        else:
            path, _, query = str(source or "").lstrip("/").partition("?versionId=")
            (bucket, _, key), versioned = path.partition("/"), bool(query)
        return (f"s3:{'GetObjectVersion' if versioned else 'GetObject'}", f"arn:aws:s3:::{bucket}/{key}")

    def _bus(self, name_or_arn: str | None) -> str:
        name = name_or_arn or "default"
        return name if name.startswith("arn:") else f"arn:aws:events:{self.region}:{self.account_id}:event-bus/{name}"

    def _table(self, name: str, index: str | None = None) -> str:
        arn = f"arn:aws:dynamodb:{self.region}:{self.account_id}:table/{name}"
        return f"{arn}/index/{index}" if index else arn

    def _dynamodb(self, operation: str, params: Mapping[str, Any]) -> list[tuple[str, str]]:
        if operation in ("BatchGetItem", "BatchWriteItem"):
            return [(f"dynamodb:{operation}", self._table(table)) for table in params.get("RequestItems", {})]
        if operation in ("TransactWriteItems", "TransactGetItems"):
            return [
                (f"dynamodb:{_TRANSACTION_ACTIONS[kind]}", self._table(request["TableName"]))
                for item in params.get("TransactItems", [])
                for kind, request in item.items()
            ]
        return [(f"dynamodb:{operation}", self._table(params.get("TableName", ""), params.get("IndexName")))]


@dataclass
class Permissions:
    """Every function's grants, and what the functions asked for: allowed and refused, by function."""

    grants: dict[str, list[Grant]]
    requests: Requests
    used: dict[str, Counter[tuple[str, str]]] = field(default_factory=dict)
    refused: dict[str, Counter[tuple[str, str]]] = field(default_factory=dict)

    def check(self, function_id: str, service: str, operation: str, params: Mapping[str, Any]) -> list[str]:
        """The (action on resource) of this call the function's grants do not allow; each is recorded."""
        denied = []
        for action, resource in self.requests.of(service, operation, params):
            allowed = any(grant.allows(action, resource) for grant in self.grants.get(function_id, []))
            book = self.used if allowed else self.refused
            book.setdefault(function_id, Counter())[(action, resource)] += 1
            if not allowed:
                denied.append(f"{action} on {resource}")
        return denied

    def unused(self, function_id: str) -> list[str]:
        """The granted action patterns this function never needed (on any resource) in the run so far."""
        asked = {action for action, _ in self.used.get(function_id, {})}
        return sorted(
            {
                pattern
                for grant in self.grants.get(function_id, [])
                for pattern in grant.actions
                if not any(fnmatch.fnmatchcase(action.lower(), pattern.lower()) for action in asked)
            }
        )

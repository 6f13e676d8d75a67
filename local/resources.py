"""The offline stack's resources as template.yaml declares them: the boto3 calls that make its table, queues,
buckets, rules and secrets (what CloudFormation would do), read from the SamTemplate."""

from __future__ import annotations

import json
import secrets
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from local.template import NO_VALUE, QueueSpec, Resolver, SamTemplate, TableSpec, TemplateError, parameter_text


@dataclass(frozen=True)
class BucketSetup:
    """An AWS::S3::Bucket as the S3 calls that make it (boto3's shapes); a None part is not set."""

    name: str
    public_access_block: dict[str, Any] | None = None
    ownership_controls: dict[str, Any] | None = None
    encryption: dict[str, Any] | None = None
    lifecycle: dict[str, Any] | None = None
    policies: list[dict[str, Any]] = field(default_factory=list)  # from the AWS::S3::BucketPolicy resources on it
    notification: dict[str, Any] | None = None  # put_bucket_notification_configuration's NotificationConfiguration


# AWS::S3::Bucket properties the offline stack builds; any other is refused rather than silently dropped.
_BUCKET_KEYS = {
    "BucketName",
    "PublicAccessBlockConfiguration",
    "OwnershipControls",
    "BucketEncryption",
    "LifecycleConfiguration",
    "NotificationConfiguration",
}
_LIFECYCLE_RULE_KEYS = {"Id", "Status", "Prefix", "ExpirationInDays", "AbortIncompleteMultipartUpload"}
# S3 notifications the offline stack delivers: to EventBridge (moto then hands them to the rules of the default
# bus). Queue, topic and Lambda configurations would need deliveries the local stack does not make.
_NOTIFICATION_KEYS = {"EventBridgeConfiguration"}


@dataclass(frozen=True)
class EventRuleSetup:
    """An AWS::Events::Rule as the EventBridge calls that make it: put_rule's and put_targets' keyword arguments."""

    logical_id: str
    rule: dict[str, Any]
    targets: list[dict[str, Any]]

    @property
    def name(self) -> str:
        return str(self.rule["Name"])

    @property
    def event_bus_name(self) -> str:
        return str(self.rule["EventBusName"])

    @property
    def ref(self) -> str:
        """What CloudFormation's Ref gives for the rule: its name, prefixed with its bus off the default bus."""
        bus = self.event_bus_name.rsplit("/", 1)[-1]  # a bus ARN ends with its name
        return self.name if bus == "default" else f"{bus}|{self.name}"


@dataclass(frozen=True)
class QueuePolicySetup:
    """An AWS::SQS::QueuePolicy as the set_queue_attributes calls that apply it (one per queue URL)."""

    logical_id: str
    queue_urls: list[str]
    policy: dict[str, Any]


# AWS::Events::Rule properties, and properties of its targets, that the offline stack builds; others are refused:
# a schedule rule would never fire (no clock offline: a ScheduleV2 event on the function does), and a target's
# input transformation or a role would be ignored by moto.
_RULE_KEYS = {"Name", "Description", "EventBusName", "EventPattern", "State", "Targets"}
_RULE_TARGET_KEYS = {"Id", "Arn", "RetryPolicy", "DeadLetterConfig", "SqsParameters"}
_QUEUE_POLICY_KEYS = {"Queues", "PolicyDocument"}


# Keys of a CloudFormation table that boto3's create_table accepts unchanged. TTL, PITR, SSE and
# deletion protection are left out on purpose: they are separate calls (TTL) or irrelevant locally.
_CREATE_TABLE_KEYS = [
    "KeySchema",
    "AttributeDefinitions",
    "BillingMode",
    "ProvisionedThroughput",
    "LocalSecondaryIndexes",
    "TableClass",
    "Tags",
]
_CREATE_INDEX_KEYS = ("IndexName", "KeySchema", "Projection", "ProvisionedThroughput", "OnDemandThroughput")

# CloudFormation AWS::SQS::Queue properties that are SQS queue attributes of the same name.
_QUEUE_ATTRIBUTE_KEYS = [
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "KmsMasterKeyId",
    "KmsDataKeyReusePeriodSeconds",
    "SqsManagedSseEnabled",
    "FifoQueue",
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "FifoThroughputLimit",
]


# --------------------------------------------------------------------------- DynamoDB


def create_table_kwargs(template: SamTemplate, logical_id: str, resolver: Resolver) -> dict[str, Any]:
    """Keyword arguments for boto3 dynamodb.create_table (TTL: see ttl_attribute)."""
    table = _table(template, logical_id)
    properties = table.properties
    kwargs: dict[str, Any] = {
        "TableName": resolver.resolve(properties["TableName"], f"{logical_id}.TableName")
        if "TableName" in properties
        else f"{resolver.stack_name}-{logical_id}",
    }
    for key in _CREATE_TABLE_KEYS:
        if key in properties:
            kwargs[key] = resolver.resolve(properties[key], f"{logical_id}.{key}")
    if "GlobalSecondaryIndexes" in properties:
        indexes = resolver.resolve(properties["GlobalSecondaryIndexes"], f"{logical_id}.GlobalSecondaryIndexes")
        kwargs["GlobalSecondaryIndexes"] = [
            {key: index[key] for key in _CREATE_INDEX_KEYS if key in index} for index in indexes
        ]
    stream = properties.get("StreamSpecification")
    if stream:
        kwargs["StreamSpecification"] = {
            "StreamEnabled": True,
            "StreamViewType": stream["StreamViewType"],
        }
    return kwargs


def ttl_attribute(template: SamTemplate, logical_id: str) -> str | None:
    """The TTL attribute if the table enables TTL (apply it with update_time_to_live)."""
    ttl = _table(template, logical_id).properties.get("TimeToLiveSpecification") or {}
    return str(ttl["AttributeName"]) if ttl.get("Enabled") and ttl.get("AttributeName") else None


def _table(template: SamTemplate, logical_id: str) -> TableSpec:
    try:
        return template.tables[logical_id]
    except KeyError:
        raise TemplateError(f"no table {logical_id}; the template has {sorted(template.tables)}") from None


# --------------------------------------------------------------------------- SQS


def queue_name(template: SamTemplate, logical_id: str, resolver: Resolver) -> str:
    """QueueName if set, else a generated one (with the .fifo suffix SQS demands for FIFO queues)."""
    properties = _queue(template, logical_id).properties
    if "QueueName" in properties:
        return str(resolver.resolve(properties["QueueName"], f"{logical_id}.QueueName"))
    suffix = ".fifo" if properties.get("FifoQueue") else ""
    return f"{resolver.stack_name}-{logical_id}{suffix}"


def queue_attributes(
    template: SamTemplate, logical_id: str, resolver: Resolver, arn_of: Callable[[str], str]
) -> dict[str, str]:
    """Attributes for boto3 sqs.create_queue; arn_of(logical_id) gives a created queue's ARN."""
    properties = _queue(template, logical_id).properties
    resolved = {
        key: resolver.resolve(properties[key], f"{logical_id}.{key}")
        for key in _QUEUE_ATTRIBUTE_KEYS
        if key in properties
    }
    # A property the template leaves out with !Ref AWS::NoValue (a customer key not given) is not set at all.
    attributes = {key: parameter_text(value) for key, value in resolved.items() if value is not NO_VALUE}
    if "RedrivePolicy" in properties:
        policy = _json_object(properties["RedrivePolicy"])
        target = policy.get("deadLetterTargetArn")
        get_att = target.get("Fn::GetAtt") if isinstance(target, dict) else None
        if get_att and get_att[1] == "Arn" and get_att[0] in template.queues:
            policy["deadLetterTargetArn"] = arn_of(str(get_att[0]))
        policy = resolver.resolve(policy, f"{logical_id}.RedrivePolicy")
        attributes["RedrivePolicy"] = json.dumps(policy)
    if "RedriveAllowPolicy" in properties:
        allow_policy = resolver.resolve(_json_object(properties["RedriveAllowPolicy"]), logical_id)
        attributes["RedriveAllowPolicy"] = json.dumps(allow_policy)
    return attributes


def queue_creation_order(template: SamTemplate) -> list[str]:
    """Queue logical ids, dead-letter queues before the queues that redrive into them."""
    ordered: list[str] = []

    def visit(logical_id: str, chain: tuple[str, ...]) -> None:
        if logical_id in ordered:
            return
        if logical_id in chain:
            raise TemplateError(f"redrive cycle between queues {chain}")
        policy = _json_object(template.queues[logical_id].properties.get("RedrivePolicy") or {})
        target = policy.get("deadLetterTargetArn")
        get_att = target.get("Fn::GetAtt") if isinstance(target, dict) else None
        if get_att and get_att[0] in template.queues:
            visit(str(get_att[0]), (*chain, logical_id))
        ordered.append(logical_id)

    for queue_id in template.queues:
        visit(queue_id, ())
    return ordered


def _queue(template: SamTemplate, logical_id: str) -> QueueSpec:
    try:
        return template.queues[logical_id]
    except KeyError:
        raise TemplateError(f"no queue {logical_id}; the template has {sorted(template.queues)}") from None


# --------------------------------------------------------------------------- S3


def bucket_name(template: SamTemplate, logical_id: str, resolver: Resolver) -> str:
    properties = _bucket(template, logical_id)
    if "BucketName" in properties:
        return str(resolver.resolve(properties["BucketName"], f"{logical_id}.BucketName"))
    return f"{resolver.stack_name}-{logical_id}".lower()


def bucket_setup(template: SamTemplate, logical_id: str, resolver: Resolver) -> BucketSetup:
    """What S3 must be told to make the bucket as the template declares it. `resolver` must know the
    bucket's own Ref and Arn (its policies name it)."""
    properties = _bucket(template, logical_id)
    unknown = sorted(set(properties) - _BUCKET_KEYS)
    if unknown:
        raise TemplateError(f"{logical_id}: the offline stack cannot build {unknown}")
    _refuse_undelivered_notifications(logical_id, properties.get("NotificationConfiguration") or {})
    resolved = resolver.resolve(properties, logical_id)
    encryption = None
    if "BucketEncryption" in resolved:
        encryption = {
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"],
                    **({"BucketKeyEnabled": rule["BucketKeyEnabled"]} if "BucketKeyEnabled" in rule else {}),
                }
                for rule in resolved["BucketEncryption"]["ServerSideEncryptionConfiguration"]
            ]
        }
    lifecycle = None
    if "LifecycleConfiguration" in resolved:
        lifecycle = {
            "Rules": [_lifecycle_rule(logical_id, rule) for rule in resolved["LifecycleConfiguration"]["Rules"]]
        }
    notification = None
    if "NotificationConfiguration" in resolved:
        notification = _notification(logical_id, resolved["NotificationConfiguration"])
    policies = []
    for policy_id, policy in template.bucket_policies.items():
        bucket = policy.get("Bucket")
        if isinstance(bucket, dict) and bucket.get("Ref") == logical_id:
            policies.append(resolver.resolve(policy["PolicyDocument"], f"{policy_id}.PolicyDocument"))
    return BucketSetup(
        name=bucket_name(template, logical_id, resolver),
        public_access_block=resolved.get("PublicAccessBlockConfiguration"),
        ownership_controls=resolved.get("OwnershipControls"),
        encryption=encryption,
        lifecycle=lifecycle,
        policies=policies,
        notification=notification,
    )


def _refuse_undelivered_notifications(logical_id: str, configuration: Mapping[str, Any]) -> None:
    """A kind of notification the offline stack would not deliver is refused, so the template cannot rely on one
    that silently never arrives."""
    unsupported = sorted(set(configuration) - _NOTIFICATION_KEYS)
    if unsupported:
        raise TemplateError(
            f"{logical_id}.NotificationConfiguration: the offline stack does not deliver {unsupported}; "
            "it delivers S3 notifications through EventBridge only (EventBridgeConfiguration and an "
            "AWS::Events::Rule to an SQS queue)"
        )


def _notification(logical_id: str, configuration: Mapping[str, Any]) -> dict[str, Any] | None:
    """The NotificationConfiguration S3 is given (None: nothing to turn on)."""
    _refuse_undelivered_notifications(logical_id, configuration)
    event_bridge = configuration.get("EventBridgeConfiguration") or {}
    if parameter_text(event_bridge.get("EventBridgeEnabled", False)) != "true":
        return None
    return {"EventBridgeConfiguration": {}}


def _lifecycle_rule(logical_id: str, rule: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(rule) - _LIFECYCLE_RULE_KEYS)
    if unknown:
        raise TemplateError(f"{logical_id}: lifecycle rule properties {unknown} are not built offline")
    built: dict[str, Any] = {
        "ID": rule.get("Id", ""),
        "Status": rule["Status"],
        "Filter": {"Prefix": rule.get("Prefix", "")},
    }
    if "ExpirationInDays" in rule:
        built["Expiration"] = {"Days": int(rule["ExpirationInDays"])}
    if "AbortIncompleteMultipartUpload" in rule:
        days = int(rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"])
        built["AbortIncompleteMultipartUpload"] = {"DaysAfterInitiation": days}
    return built


def _bucket(template: SamTemplate, logical_id: str) -> dict[str, Any]:
    try:
        return template.buckets[logical_id]
    except KeyError:
        raise TemplateError(f"no bucket {logical_id}; the template has {sorted(template.buckets)}") from None


# --------------------------------------------------------------------------- EventBridge rules


def event_rule_setup(template: SamTemplate, logical_id: str, resolver: Resolver) -> EventRuleSetup:
    """What EventBridge must be told to make the rule. `resolver` must know what its pattern and targets name
    (a bucket's Ref, a queue's Arn, the bus)."""
    try:
        properties = template.event_rules[logical_id]
    except KeyError:
        raise TemplateError(f"no rule {logical_id}; the template has {sorted(template.event_rules)}") from None
    unknown = sorted(set(properties) - _RULE_KEYS)
    if unknown:
        raise TemplateError(f"{logical_id}: the offline stack cannot build {unknown}")
    if "EventPattern" not in properties:
        raise TemplateError(f"{logical_id}: a rule without EventPattern never fires offline (no clock)")
    resolved = resolver.resolve({key: value for key, value in properties.items() if key != "Targets"}, logical_id)
    rule: dict[str, Any] = {
        "Name": str(resolved["Name"]) if "Name" in resolved else f"{resolver.stack_name}-{logical_id}"[:64],
        "EventBusName": str(resolved.get("EventBusName", "default")),
        "EventPattern": json.dumps(_json_object(resolved["EventPattern"])),
        "State": str(resolved.get("State", "ENABLED")),
    }
    if "Description" in resolved:
        rule["Description"] = str(resolved["Description"])
    targets = [
        _rule_target(f"{logical_id}.Targets[{index}]", target, resolver)
        for index, target in enumerate(properties.get("Targets") or [])
    ]
    return EventRuleSetup(logical_id=logical_id, rule=rule, targets=targets)


def _rule_target(where: str, target: Mapping[str, Any], resolver: Resolver) -> dict[str, Any]:
    unknown = sorted(set(target) - _RULE_TARGET_KEYS)
    if unknown:
        raise TemplateError(f"{where}: the offline stack cannot deliver to a target with {unknown}")
    resolved = resolver.resolve(dict(target), where)
    arn = str(resolved["Arn"])
    if not arn.startswith("arn:aws:sqs:"):
        raise TemplateError(f"{where}: the offline stack delivers a rule's events to SQS queues only, not {arn}")
    built: dict[str, Any] = {"Id": str(resolved["Id"]), "Arn": arn}
    if "RetryPolicy" in resolved:
        built["RetryPolicy"] = {key: int(value) for key, value in resolved["RetryPolicy"].items()}
    if "DeadLetterConfig" in resolved:
        built["DeadLetterConfig"] = {"Arn": str(resolved["DeadLetterConfig"]["Arn"])}
    if "SqsParameters" in resolved:
        built["SqsParameters"] = {"MessageGroupId": str(resolved["SqsParameters"]["MessageGroupId"])}
    return built


# --------------------------------------------------------------------------- SQS queue policies


def queue_policy_setup(template: SamTemplate, logical_id: str, resolver: Resolver) -> QueuePolicySetup:
    """The queues an AWS::SQS::QueuePolicy applies to and its document, resolved. `resolver` must know the queues'
    Refs (URLs) and whatever the document names (queue and rule ARNs)."""
    try:
        properties = template.queue_policies[logical_id]
    except KeyError:
        known = sorted(template.queue_policies)
        raise TemplateError(f"no queue policy {logical_id}; the template has {known}") from None
    unknown = sorted(set(properties) - _QUEUE_POLICY_KEYS)
    if unknown:
        raise TemplateError(f"{logical_id}: the offline stack cannot build {unknown}")
    queue_urls = [str(url) for url in resolver.resolve(properties["Queues"], f"{logical_id}.Queues")]
    policy = _json_object(resolver.resolve(properties["PolicyDocument"], f"{logical_id}.PolicyDocument"))
    return QueuePolicySetup(logical_id=logical_id, queue_urls=queue_urls, policy=policy)


# --------------------------------------------------------------------------- Secrets Manager


def create_secret_kwargs(template: SamTemplate, logical_id: str, resolver: Resolver) -> dict[str, Any]:
    """Keyword arguments for boto3 secretsmanager.create_secret, generating the secret like CFN does."""
    try:
        properties = template.secrets[logical_id].properties
    except KeyError:
        raise TemplateError(f"no secret {logical_id}; the template has {sorted(template.secrets)}") from None
    kwargs: dict[str, Any] = {
        "Name": str(resolver.resolve(properties["Name"], f"{logical_id}.Name"))
        if "Name" in properties
        else f"{resolver.stack_name}-{logical_id}",
    }
    if "Description" in properties:
        kwargs["Description"] = str(resolver.resolve(properties["Description"], f"{logical_id}.Description"))
    if "SecretString" in properties:
        kwargs["SecretString"] = str(resolver.resolve(properties["SecretString"], f"{logical_id}.SecretString"))
    else:
        generate = resolver.resolve(properties.get("GenerateSecretString") or {}, logical_id)
        kwargs["SecretString"] = _generated_secret_string(generate)
    return kwargs


def _json_object(value: Any) -> dict[str, Any]:
    """CloudFormation accepts some policies as JSON objects or JSON text."""
    return dict(json.loads(value) if isinstance(value, str) else value)


def _generated_secret_string(generate: Mapping[str, Any]) -> str:
    alphabet = ""
    if not generate.get("ExcludeLowercase"):
        alphabet += string.ascii_lowercase
    if not generate.get("ExcludeUppercase"):
        alphabet += string.ascii_uppercase
    if not generate.get("ExcludeNumbers"):
        alphabet += string.digits
    if not generate.get("ExcludePunctuation"):
        alphabet += "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
    if generate.get("IncludeSpace"):
        alphabet += " "
    excluded = set(str(generate.get("ExcludeCharacters", "")))
    alphabet = "".join(character for character in alphabet if character not in excluded)
    length = int(generate.get("PasswordLength", 32))
    password = "".join(secrets.choice(alphabet) for _ in range(length))
    template_text = generate.get("SecretStringTemplate")
    if template_text is None:
        return password
    document = json.loads(template_text)
    document[str(generate["GenerateStringKey"])] = password
    return json.dumps(document)

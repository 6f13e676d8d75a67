"""The whole dialhub stack on one machine, without Docker or an AWS account.

moto's ThreadedMotoServer stands in for DynamoDB (and its stream), SQS, S3, EventBridge and Secrets Manager
(boto3 follows AWS_ENDPOINT_URL); resources are created from template.yaml's own definitions; the real
handlers run in-process behind a gateway that serves the template's routes; drivers fire the template's
schedules, feed the queues to their functions and the table's stream to the events function; the vendor
simulators dial and call back over HTTP. A tap (a rule on each bus to a queue of the stack's own, as a
consumer would subscribe) keeps every event published, for `events()`.

S3 notifications take the deployed path: a bucket whose template enables EventBridge notifications announces
each object to the default bus (moto, with S3's own event: see moto_patches), the template's rules match it and
put it on their queues, and the queues' SQS drivers hand it to their functions. An upload over HTTP (a
presigned PUT or POST, `curl -T`) reaches moto's TLS server and the same path.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import random
import socket
import ssl
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import boto3
import botocore.client
import botocore.signers
from botocore.config import Config
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from moto.server import ThreadedMotoServer
from werkzeug.serving import make_server

from local import moto_patches, simulators
from local.alarms import LocalAlarms, LocalMetrics
from local.drivers import ScheduleDriver, SqsDriver, StreamDriver
from local.gateway import AccessLogEntry, LocalGateway
from local.handlers import FakeLambdaContext, load_handler
from local.iam import Permissions, Requests, function_grants, role_policy_grants
from local.resources import (
    bucket_name,
    bucket_setup,
    create_table_kwargs,
    event_rule_setup,
    queue_attributes,
    queue_creation_order,
    queue_name,
    queue_policy_setup,
    ttl_attribute,
)
from local.simulators import SimulatorKnobs, VendorSimulator
from local.simulators.plumbing import DELIVERY_HEADER, ApiFaults, CallbackFaults
from local.template import Resolver, SamTemplate
from local.tls import LocalCertificate, make_certificate

ROOT = Path(__file__).resolve().parent.parent
LAYER = ROOT / "layers" / "dialhub"
if str(LAYER) not in sys.path:  # what Lambda's /opt/python is to the deployed functions
    sys.path.insert(0, str(LAYER))
STAGE = "local"
REGION = "us-east-1"
TAP_QUEUE = "dialhub-local-event-tap"  # the stack's own, not the template's: what a subscriber would see


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _reset_moto() -> None:
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()


def reset_library_caches() -> None:
    """Forget settings, clients and cached secrets so the next invocation reads the current environment."""
    from aws_lambda_powertools.utilities import parameters
    from aws_lambda_powertools.utilities.parameters.constants import DEFAULT_PROVIDERS

    from dialhub import settings, wiring

    settings.get_settings.cache_clear()
    wiring.default_dependencies.cache_clear()
    parameters.clear_caches()
    DEFAULT_PROVIDERS.clear()  # Powertools keeps one boto3 client per provider: drop the old endpoint's


class TlsMotoServer(ThreadedMotoServer):
    """moto's threaded server over TLS: the same moto state, reached as AWS is reached (S3's bucket policy
    refuses requests without TLS, and moto honours that here; see moto_patches)."""

    def __init__(self, port: int, certificate: LocalCertificate) -> None:
        super().__init__(ip_address="127.0.0.1", port=port, verbose=False)
        self._certificate = certificate

    def _server_entry(self) -> None:
        self._server = make_server(
            self._ip_address,
            self._port,
            DomainDispatcherApplication(create_backend_app),
            True,
            request_handler=MotoRequestHandler,
            ssl_context=self._certificate.server_context(),
        )
        self._server_ready_event.set()
        self._server.serve_forever()

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self._port}"


def create_topics(template: SamTemplate, sns: Any) -> dict[str, str]:
    """Every AWS::SNS::Topic of the template (its Ref is its ARN), and each subscription whose condition holds."""
    resolver = template.resolver()
    arns = {}
    for topic_id, properties in template.topics.items():
        name = resolver.resolve(properties["TopicName"], f"{topic_id}.TopicName")
        arns[topic_id] = str(sns.create_topic(Name=name)["TopicArn"])
    resolver = template.resolver(refs=arns)
    for subscription_id, resource in template.subscriptions.items():
        if "Condition" in resource and not resolver.condition(resource["Condition"]):
            continue
        properties = resolver.resolve(resource["Properties"], subscription_id)
        sns.subscribe(TopicArn=properties["TopicArn"], Protocol=properties["Protocol"], Endpoint=properties["Endpoint"])
    return arns


def create_buckets(template: SamTemplate, resolver: Resolver, s3: Any) -> Resolver:
    """Every AWS::S3::Bucket of the template (with the AWS::S3::BucketPolicy on it), made as CloudFormation
    would make it; the resolver returned also knows each bucket's Ref and Arn."""
    names = {bucket_id: bucket_name(template, bucket_id, resolver) for bucket_id in template.buckets}
    resolver = resolver.with_values(
        refs=names, attributes={(bucket_id, "Arn"): f"arn:aws:s3:::{name}" for bucket_id, name in names.items()}
    )
    for bucket_id in template.buckets:
        setup = bucket_setup(template, bucket_id, resolver)
        s3.create_bucket(Bucket=setup.name)
        if setup.public_access_block:
            s3.put_public_access_block(Bucket=setup.name, PublicAccessBlockConfiguration=setup.public_access_block)
        if setup.ownership_controls:
            s3.put_bucket_ownership_controls(Bucket=setup.name, OwnershipControls=setup.ownership_controls)
        if setup.encryption:
            s3.put_bucket_encryption(Bucket=setup.name, ServerSideEncryptionConfiguration=setup.encryption)
        if setup.lifecycle:
            s3.put_bucket_lifecycle_configuration(Bucket=setup.name, LifecycleConfiguration=setup.lifecycle)
        for policy in setup.policies:
            s3.put_bucket_policy(Bucket=setup.name, Policy=json.dumps(policy))
        if setup.notification:
            s3.put_bucket_notification_configuration(Bucket=setup.name, NotificationConfiguration=setup.notification)
    return resolver


def create_event_rules(template: SamTemplate, resolver: Resolver, eventbridge: Any) -> Resolver:
    """Every AWS::Events::Rule of the template with its targets, as CloudFormation would make them (after the
    buckets, queues and buses they name); the resolver returned also knows each rule's Ref and Arn."""
    refs: dict[str, str] = {}
    attributes: dict[tuple[str, str], str] = {}
    for rule_id in template.event_rules:
        setup = event_rule_setup(template, rule_id, resolver)
        attributes[(rule_id, "Arn")] = eventbridge.put_rule(**setup.rule)["RuleArn"]
        refs[rule_id] = setup.ref
        if setup.targets:
            eventbridge.put_targets(Rule=setup.name, EventBusName=setup.event_bus_name, Targets=setup.targets)
    return resolver.with_values(refs=refs, attributes=attributes)


def apply_queue_policies(template: SamTemplate, resolver: Resolver, sqs: Any) -> None:
    """Every AWS::SQS::QueuePolicy of the template on its queues (after the rules its conditions name)."""
    for policy_id in template.queue_policies:
        setup = queue_policy_setup(template, policy_id, resolver)
        for url in setup.queue_urls:
            sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(setup.policy)})


@dataclass(frozen=True)
class Delivery:
    """One vendor callback as the webhooks function took it: which callback (the simulators' delivery key),
    what it answered, and what it cost the table (write requests sent, items they changed)."""

    key: str
    status: int | None
    write_requests: int
    items_written: int
    items: frozenset[str] = frozenset()  # the keys ("pk|sk") of the items it changed


def _key_of(key_or_item: dict[str, Any]) -> str:
    return "|".join(str(next(iter(key_or_item.get(name, {}).values()), "")) for name in ("pk", "sk"))


def _items_in(operation: str, params: dict[str, Any]) -> list[str]:
    """The items a write request changes if it succeeds, by key."""
    if operation == "TransactWriteItems":
        keys = []
        for entry in params.get("TransactItems", []):
            for action in ("Put", "Update", "Delete"):
                if action in entry:
                    keys.append(_key_of(entry[action].get("Item") or entry[action].get("Key") or {}))
        return keys
    if operation == "BatchWriteItem":
        return [
            _key_of(request.get("PutRequest", {}).get("Item") or request.get("DeleteRequest", {}).get("Key") or {})
            for requests in params.get("RequestItems", {}).values()
            for request in requests
        ]
    if operation in ("PutItem", "UpdateItem", "DeleteItem"):
        return [_key_of(params.get("Item") or params.get("Key") or {})]
    return []


# The API function answers through Powertools' resolver, which keeps the request it is answering on the
# module's `app`: the gateway gives it one request at a time (its many environments in AWS share nothing).
# The webhooks function keeps no request in module state, so concurrent callbacks race in DynamoDB as in AWS.
REQUEST_IN_MODULE_STATE = frozenset({"ApiFunction"})


@dataclass(frozen=True)
class DynamoDbFaults:
    """Transient DynamoDB errors in one function's writes: throttling as the code sees it once the SDK's own
    retries are spent. `rate` of that function's requests of `operations` fail."""

    rate: float = 0.0
    function_id: str = "WebhooksFunction"
    operations: frozenset[str] = frozenset(
        {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
    )
    code: str = "ProvisionedThroughputExceededException"


class LocalStack:
    """Start with `with LocalStack() as stack:`; everything stops and the environment is restored on exit."""

    def __init__(
        self,
        *,
        port: int = 0,
        drop_rate: float = 0.15,
        dial_delay: tuple[float, float] = (0.3, 2.5),
        retry_interval: float = 0.5,
        seed: int = 7,
        log_level: str = "ERROR",
        gateway_workers: int = 1,
        vendors: tuple[str, ...] | None = None,
        aws_in_process: bool = False,
        api_faults: ApiFaults | None = None,
        callback_faults: CallbackFaults | None = None,
        batch_size: int | None = None,
        vendor_http_timeout: float | None = None,
        dynamodb_faults: DynamoDbFaults | None = None,
        feed_delay_seconds: int = 2,
        export_part_bytes: int | None = None,
        stream_redeliver_rate: float = 0.0,
        stream_crash_rate: float = 0.0,
        unexpected_vendors: bool = False,
    ) -> None:
        self.port = port
        self.drop_rate = drop_rate
        self.dial_delay = dial_delay
        self.retry_interval = retry_interval
        self.seed = seed
        self.log_level = log_level
        self.gateway_workers = gateway_workers
        self.vendors = vendors  # None: every vendor that has an adapter
        # False: moto's HTTP server behind AWS_ENDPOINT_URL, as deployed code reaches AWS. True: moto's in-process
        # mock (no sockets), about three times less CPU per AWS call, for load runs such as `make chaos`.
        self.aws_in_process = aws_in_process
        self.api_faults = api_faults or ApiFaults()
        self.callback_faults = callback_faults or CallbackFaults()
        self.batch_size = batch_size  # NXTele chunkSize / AIRudder taskSize of the simulated accounts
        # Every simulator with every "unexpected vendor" switch it has: answers that break the adapters'
        # assumptions where the vendors' documents leave room (short pages, under-counts, other shapes...).
        self.unexpected_vendors = unexpected_vendors
        # Seconds the adapters wait for a vendor (10 s, 30 s deployed): time compressed like the simulators',
        # so a simulated timeout costs a couple of seconds.
        self.vendor_http_timeout = vendor_http_timeout
        self.dynamodb_faults = dynamodb_faults or DynamoDbFaults()
        self.dynamodb_faults_injected = 0
        # The answers of invocations that met an injected DynamoDB fault, by HTTP status (None: not HTTP).
        self.answers_after_dynamodb_fault: Counter[int | None] = Counter()
        self._running = threading.local()  # which function this thread is running, and whether it met a fault
        self.deliveries: list[Delivery] = []  # every callback delivery the webhooks function took, in order
        self._deliveries_lock = threading.Lock()
        self._fault_rng = random.Random(f"{seed}:dynamodb-faults")
        self._fault_lock = threading.Lock()
        self._saved_timeouts: dict[type, Any] = {}
        # Time is compressed offline (calls last a second): the outcome feed waits seconds, not a minute.
        self.feed_delay_seconds = feed_delay_seconds
        # Smaller export parts than S3 takes (5 MiB) need moto's smallest part lowered to match: a run's few
        # hundred kilobytes then make several parts, as a million rows make them deployed.
        self.export_part_bytes = export_part_bytes
        self._saved_part_minimum: int | None = None
        # Chaos for the stream's consumer: batches handed over again, answers lost after the function ran.
        self.stream_redeliver_rate = stream_redeliver_rate
        self.stream_crash_rate = stream_crash_rate
        self.template = SamTemplate(
            ROOT / "template.yaml", parameters={"Stage": STAGE, "OutcomeFeedDelaySeconds": str(feed_delay_seconds)}
        )
        self._saved_environ: dict[str, str] | None = None
        self._handlers: dict[str, Callable[[dict[str, Any], Any], Any]] = {}
        self._saved_session_client: Any = None
        self.simulators: dict[str, VendorSimulator] = {}
        self.metrics = LocalMetrics()  # what the template's alarms are evaluated on (`alarms`)
        self.secret_arns: dict[str, str] = {}  # name -> ARN of each vendor account secret made
        self._saved_api_call: Any = None
        self._saved_emit_api_params: Any = None
        self._saved_presigned_post: Any = None
        # Every AWS call a function made (retries of one call are one here): (function, service, operation).
        self.aws_calls: Counter[tuple[str, str, str]] = Counter()
        self._calls_lock = threading.Lock()

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self) -> LocalStack:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        self._saved_environ = dict(os.environ)
        for name in ("AWS_ENDPOINT_URL_S3", "AWS_CA_BUNDLE"):
            os.environ.pop(name, None)
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto server's per-request access log
        _reset_moto()  # moto keeps its state in-process: start from nothing whatever ran before in this process
        moto_patches.apply()
        self._one_client_at_a_time()
        os.environ.update(
            {
                "AWS_ACCESS_KEY_ID": "local",
                "AWS_SECRET_ACCESS_KEY": "local",
                "AWS_SESSION_TOKEN": "local",
                "AWS_DEFAULT_REGION": REGION,
                "AWS_REGION": REGION,
                "POWERTOOLS_METRICS_DISABLED": "true",
            }
        )
        os.environ.pop("AWS_PROFILE", None)
        if self.aws_in_process:
            os.environ.pop("AWS_ENDPOINT_URL", None)
            self.moto_mock = mock_aws()
            self.moto_mock.start()
        else:
            self.moto = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
            self.moto.start()
            os.environ["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{self.moto._port}"
            self.certificate = make_certificate()
            self.moto_tls = TlsMotoServer(free_port(), self.certificate)
            self.moto_tls.start()
            os.environ["AWS_ENDPOINT_URL_S3"] = self.moto_tls.url
            os.environ["AWS_CA_BUNDLE"] = str(self.certificate.certificate)
        self._create_resources()
        os.environ.update(self.function_environment)
        os.environ["POWERTOOLS_LOG_LEVEL"] = self.log_level
        if self.export_part_bytes is not None:
            import moto.s3.models

            os.environ["EXPORT_PART_BYTES"] = str(self.export_part_bytes)
            self._saved_part_minimum = moto.s3.models.S3_UPLOAD_PART_MIN_SIZE
            moto.s3.models.S3_UPLOAD_PART_MIN_SIZE = min(self.export_part_bytes, self._saved_part_minimum)
        reset_library_caches()
        self._shorten_vendor_timeouts()
        self._install_dynamodb_faults()
        self.gateway = LocalGateway(
            self.template.routes,
            self.invoke,
            port=self.port,
            workers_per_function=self.gateway_workers,
            one_at_a_time=REQUEST_IN_MODULE_STATE,
            access_log=self._count_answer,
        ).start()
        self._watch_alarms()
        self._start_simulators()
        self._apply_permissions()
        self.schedules = ScheduleDriver(self.template, self.invoke)
        # One driver per SQS event source of the template, as Lambda runs one event source mapping each.
        self.sqs_drivers = {
            source.function_id: SqsDriver(self.sqs, source, self.queue_urls[source.queue_id], self.invoke)
            for source in self.template.sqs_sources
        }
        self.sqs_driver = self.sqs_drivers["DispatcherFunction"]
        self.stream_drivers = {
            source.function_id: StreamDriver(
                self.streams,
                source,
                self.stream_arns[source.table_id],
                self.invoke,
                sqs_client=self.sqs,
                failure_queue_url=self.queue_urls.get(source.on_failure_queue_id or ""),
                redeliver_rate=self.stream_redeliver_rate,
                crash_rate=self.stream_crash_rate,
                seed=self.seed,
                after_invoke=self._collect_tapped,
            )
            for source in self.template.stream_sources
            if source.enabled
        }

    def _one_client_at_a_time(self) -> None:
        """In AWS each function has a process of its own; here they share one, and a boto3 session is not safe
        to make clients from on two threads at once (the events function's first client, made on the stream's
        thread while the API makes its own, could break either). Clients, once made, are."""
        original = self._saved_session_client = boto3.session.Session.client
        lock = threading.Lock()

        def client(session: boto3.session.Session, *args: Any, **kwargs: Any) -> Any:
            with lock:
                return original(session, *args, **kwargs)

        boto3.session.Session.client = client

    def _watch_alarms(self) -> None:
        """The template's alarms on what this stack measures (local/alarms.py): `alarms.evaluate()`."""
        names = {
            function_id: self.template.function_name(function_id, self.resolver)
            for function_id in self.template.functions
        }
        apis = {route.api_id: route.api_id for route in self.template.routes if route.api_id}
        self.alarms = LocalAlarms(
            self.template, self.resolver.with_values(refs={**names, **apis}), self.metrics, self._gauge
        )
        # Imported here, not with this module: the service's logger is made at this import and takes its level
        # from the environment the stack has set up by now (POWERTOOLS_LOG_LEVEL).
        from dialhub.observability import METRIC_LISTENERS

        METRIC_LISTENERS.append(self._count_metric)

    def _count_metric(self, name: str, value: int, dimensions: dict[str, str]) -> None:
        self.metrics.add("Dialhub", name, dimensions, value)

    def _count_answer(self, entry: AccessLogEntry) -> None:
        if entry.status >= 500:
            [api_id] = {route.api_id for route in self.template.routes if route.route_key == entry.route_key} or {None}
            self.metrics.add("AWS/ApiGateway", "5xx", {"ApiId": str(api_id)}, 1)

    def _gauge(self, namespace: str, name: str, dimensions: frozenset[tuple[str, str]]) -> float | None:
        """A gauge read now: the messages waiting in a queue, by its name."""
        queue_name = dict(dimensions).get("QueueName")
        url = next((url for url in self.queue_urls.values() if url.rsplit("/", 1)[-1] == queue_name), None)
        if url is None:
            return None
        attributes = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
        return float(attributes["Attributes"]["ApproximateNumberOfMessages"])

    def stop(self) -> None:
        if hasattr(self, "alarms"):
            from dialhub.observability import METRIC_LISTENERS

            if self._count_metric in METRIC_LISTENERS:
                METRIC_LISTENERS.remove(self._count_metric)
        if self._saved_session_client is not None:
            boto3.session.Session.client = self._saved_session_client
            self._saved_session_client = None
        if self._saved_api_call is not None:
            botocore.client.BaseClient._make_api_call = self._saved_api_call
            botocore.client.BaseClient._emit_api_params = self._saved_emit_api_params
            botocore.signers.S3PostPresigner.generate_presigned_post = self._saved_presigned_post
            self._saved_api_call = None
        components = [
            *getattr(self, "stream_drivers", {}).values(),
            *getattr(self, "sqs_drivers", {}).values(),
            getattr(self, "gateway", None),
        ]
        for component in [*components, *self.simulators.values()]:
            if component is not None:
                with contextlib.suppress(Exception):  # best effort on the way out
                    component.stop()
        if getattr(self, "moto_tls", None) is not None:
            self.moto_tls.stop()
        running_aws = getattr(self, "moto", None) or getattr(self, "moto_mock", None)
        if running_aws is not None:
            running_aws.stop()
            _reset_moto()
            moto_patches.restore()
        if self._saved_part_minimum is not None:
            import moto.s3.models

            moto.s3.models.S3_UPLOAD_PART_MIN_SIZE = self._saved_part_minimum
            self._saved_part_minimum = None
        for adapter, timeout in self._saved_timeouts.items():
            if timeout is None:
                with contextlib.suppress(AttributeError):
                    delattr(adapter, "http_timeout")
            else:
                adapter.http_timeout = timeout  # type: ignore[attr-defined]  # each adapter's own
        self._saved_timeouts.clear()
        if self._saved_environ is not None:
            os.environ.clear()
            os.environ.update(self._saved_environ)
            reset_library_caches()

    # ------------------------------------------------------------------ resources from template.yaml
    def _create_resources(self) -> None:
        self.dynamodb = boto3.client("dynamodb")
        self.sqs = boto3.client("sqs")
        self.s3 = boto3.client("s3")
        self.secretsmanager = boto3.client("secretsmanager")
        self.eventbridge = boto3.client("events")
        self.sns = boto3.client("sns")
        # botocore sends stream calls to an endpoint named by the account, which moto does not serve.
        self.streams = boto3.client("dynamodbstreams", config=Config(account_id_endpoint_mode="disabled"))
        resolver = self.template.resolver()
        self.table_names: dict[str, str] = {}
        for table_id in self.template.tables:
            kwargs = create_table_kwargs(self.template, table_id, resolver)
            self.dynamodb.create_table(**kwargs)
            ttl = ttl_attribute(self.template, table_id)
            if ttl:
                self.dynamodb.update_time_to_live(
                    TableName=kwargs["TableName"], TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl}
                )
            self.table_names[table_id] = kwargs["TableName"]
        self.stream_arns = {
            table_id: str(self.dynamodb.describe_table(TableName=name)["Table"]["LatestStreamArn"])
            for table_id, name in self.table_names.items()
            if "StreamSpecification" in self.template.tables[table_id].properties
        }
        self.queue_urls: dict[str, str] = {}
        self.queue_arns: dict[str, str] = {}
        for queue_id in queue_creation_order(self.template):
            name = queue_name(self.template, queue_id, resolver)
            attributes_of_queue = queue_attributes(self.template, queue_id, resolver, self.queue_arns.__getitem__)
            url = self.sqs.create_queue(QueueName=name, Attributes=attributes_of_queue)["QueueUrl"]
            self.queue_urls[queue_id] = url
            self.queue_arns[queue_id] = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
                "Attributes"
            ]["QueueArn"]
        self.bus_names = {
            bus_id: str(resolver.resolve(properties["Name"], f"{bus_id}.Name"))
            for bus_id, properties in self.template.event_buses.items()
        }
        bus_arns = {
            bus_id: self.eventbridge.create_event_bus(Name=name)["EventBusArn"]
            for bus_id, name in self.bus_names.items()
        }
        self._tap_buses()
        self.topic_arns = create_topics(self.template, self.sns)
        refs = {**self.table_names, **self.queue_urls, **self.bus_names, **self.topic_arns}
        attributes: dict[tuple[str, str], str] = {(qid, "Arn"): arn for qid, arn in self.queue_arns.items()}
        attributes |= {(table_id, "StreamArn"): arn for table_id, arn in self.stream_arns.items()}
        attributes |= {(bus_id, "Arn"): arn for bus_id, arn in bus_arns.items()}
        attributes |= {(bus_id, "Name"): name for bus_id, name in self.bus_names.items()}
        attributes |= {
            (table_id, "Arn"): f"arn:aws:dynamodb:{resolver.region}:{resolver.account_id}:table/{name}"
            for table_id, name in self.table_names.items()
        }
        attributes |= {(qid, "QueueName"): url.rsplit("/", 1)[-1] for qid, url in self.queue_urls.items()}
        resolver = create_buckets(self.template, self.template.resolver(refs=refs, attributes=attributes), self.s3)
        self.resolver = create_event_rules(self.template, resolver, self.eventbridge)
        apply_queue_policies(self.template, self.resolver, self.sqs)
        self.bucket_names = {bucket_id: self.resolver.refs[bucket_id] for bucket_id in self.template.buckets}
        environment: dict[str, str] = {}
        for function_id in self.template.functions:
            environment.update(self.template.function_environment(function_id, self.resolver))
        self.function_environment = environment

    def _tap_buses(self) -> None:
        """A rule on every bus sending all of dialhub's events to the tap queue."""
        self.tap_url = self.sqs.create_queue(QueueName=TAP_QUEUE)["QueueUrl"]
        tap_arn = self.sqs.get_queue_attributes(QueueUrl=self.tap_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        for name in self.bus_names.values():
            self.eventbridge.put_rule(
                Name="local-tap", EventBusName=name, EventPattern=json.dumps({"source": ["dialhub"]}), State="ENABLED"
            )
            self.eventbridge.put_targets(Rule="local-tap", EventBusName=name, Targets=[{"Id": "tap", "Arn": tap_arn}])
        self.tapped: list[dict[str, Any]] = []
        self._tap_lock = threading.Lock()

    def _start_simulators(self) -> None:
        """One simulator per vendor adapter, its account stored where the functions read it."""
        from dialhub.vendors import vendor_names

        prefix = self.function_environment["VENDOR_SECRET_PREFIX"]
        knobs = SimulatorKnobs(
            drop_rate=self.drop_rate,
            dial_delay=self.dial_delay,
            retry_interval=self.retry_interval,
            seed=self.seed,
            api_faults=self.api_faults,
            callback_faults=self.callback_faults,
            batch_size=self.batch_size,
        )
        for vendor in self.vendors or vendor_names():
            quirks = simulators.quirks_of(vendor) if self.unexpected_vendors else frozenset()
            simulator = self.simulators[vendor] = simulators.create(vendor, replace(knobs, quirks=quirks)).start()
            account = simulator.connect(self.gateway.url) | simulators.DEMO_PRICES.get(vendor, {})
            created = self.secretsmanager.create_secret(Name=f"{prefix}{vendor}", SecretString=json.dumps(account))
            self.secret_arns[created["Name"]] = created["ARN"]

    def _apply_permissions(self) -> None:
        """From here on every AWS call a function makes must be granted by its Policies (local/iam.py)."""
        resolver = self.resolver
        names = {
            secret_id: str(resolver.resolve(spec.properties["Name"], secret_id))
            for secret_id, spec in self.template.secrets.items()
        }
        resolver = resolver.with_values(
            refs={
                secret_id: self.secret_arns.get(
                    name, f"arn:aws:secretsmanager:{resolver.region}:{resolver.account_id}:secret:{name}-absent"
                )
                for secret_id, name in names.items()
            }
        )
        by_role = role_policy_grants(self.template, resolver)
        self.permissions = Permissions(
            grants={
                function_id: function_grants(spec.properties.get("Policies") or [], resolver, f"{function_id}.Policies")
                + by_role.get(function_id, [])
                for function_id, spec in self.template.functions.items()
            },
            requests=Requests(resolver.region, resolver.account_id, self.secret_arns),
        )
        original = self._saved_api_call = botocore.client.BaseClient._make_api_call
        original_params = self._saved_emit_api_params = botocore.client.BaseClient._emit_api_params
        original_post = self._saved_presigned_post = botocore.signers.S3PostPresigner.generate_presigned_post
        stack = self

        def checked_call(client: Any, operation: str, params: dict[str, Any]) -> Any:
            function_id = getattr(stack._running, "function_id", None)
            if function_id is not None:
                service = client.meta.service_model.service_name
                with stack._calls_lock:
                    stack.aws_calls[(function_id, service, operation)] += 1
                stack._refuse_unless_granted(function_id, service, operation, params)
            return original(client, operation, params)

        def checked_presigned_url(client: Any, api_params: Any, operation_model: Any, context: Any) -> Any:
            """A link is only as good as its signer's grants: S3 refuses it if they do not allow the request it
            makes, so signing one the function may not use is refused here, at once. (A presigned POST signs a
            CreateBucket request, which is not what it grants: see checked_presigned_post.)"""
            params = original_params(client, api_params, operation_model, context)
            function_id = getattr(stack._running, "function_id", None)
            if function_id is not None and context.get("is_presign_request") and operation_model.name != "CreateBucket":
                service = client.meta.service_model.service_name
                stack._refuse_unless_granted(function_id, service, operation_model.name, params, presigned=True)
            return params

        def checked_presigned_post(
            presigner: Any, request_dict: Any, fields: Any = None, conditions: Any = None, **kwargs: Any
        ) -> Any:
            function_id = getattr(stack._running, "function_id", None)
            if function_id is not None:
                bucket = next((c["bucket"] for c in conditions or [] if isinstance(c, dict) and "bucket" in c), "")
                params = {"Bucket": bucket, "Key": (fields or {}).get("key", "")}
                stack._refuse_unless_granted(function_id, "s3", "PutObject", params, presigned=True)
            return original_post(presigner, request_dict, fields, conditions, **kwargs)

        botocore.client.BaseClient._make_api_call = checked_call
        botocore.client.BaseClient._emit_api_params = checked_presigned_url
        botocore.signers.S3PostPresigner.generate_presigned_post = checked_presigned_post

    def _refuse_unless_granted(
        self, function_id: str, service: str, operation: str, params: dict[str, Any], *, presigned: bool = False
    ) -> None:
        """AccessDenied, as AWS answers, for a request the function's template Policies do not allow."""
        denied = self.permissions.check(function_id, service, operation, params)
        if denied:
            signed = " (a presigned link it signs would be refused)" if presigned else ""
            raise ClientError(
                {
                    "Error": {
                        "Code": "AccessDeniedException",
                        "Message": f"{function_id} is not authorized to perform: {'; '.join(denied)}{signed} "
                        "(template.yaml Policies)",
                    }
                },
                operation,
            )

    @property
    def blu(self) -> Any:
        return self.simulators["blu"]

    def pending_at_vendors(self) -> int:
        return sum(simulator.pending() for simulator in self.simulators.values())

    # ------------------------------------------------------------------ faults
    def _shorten_vendor_timeouts(self) -> None:
        if self.vendor_http_timeout is None:
            return
        import httpx

        from dialhub.vendors import adapter_class, vendor_names

        for vendor in vendor_names():
            adapter = adapter_class(vendor)
            self._saved_timeouts[adapter] = adapter.__dict__.get("http_timeout")
            adapter.http_timeout = httpx.Timeout(self.vendor_http_timeout)  # type: ignore[attr-defined]  # each adapter's own

    def _install_dynamodb_faults(self) -> None:
        """A hook on the functions' DynamoDB client (all functions share it in this process); it fails only
        calls made while the faulty function runs on the calling thread."""
        from dialhub.store import DynamoStore
        from dialhub.wiring import default_dependencies

        store = default_dependencies().store
        assert isinstance(store, DynamoStore), "the local stack runs the functions on the DynamoDB store"
        events = store.client.meta.events
        events.register("before-call.dynamodb", self._maybe_fail)
        events.register("before-parameter-build.dynamodb", self._count_write)
        events.register("after-call.dynamodb", self._count_written)

    def _count_write(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        """A write request of the delivery this thread runs (if any), and the items it will change."""
        items = _items_in(model.name, params)
        if items and getattr(self._running, "delivery", None) is not None:
            self._running.write_requests += 1
            context["dialhub_items"] = items

    def _count_written(self, http_response: Any, context: dict[str, Any], **_: Any) -> None:
        if (
            context.get("dialhub_items")
            and http_response.status_code < 300
            and getattr(self._running, "delivery", None) is not None
        ):
            self._running.items_written += len(context["dialhub_items"])
            self._running.items_changed.update(context["dialhub_items"])

    def _maybe_fail(self, model: Any, **_: Any) -> None:
        faults = self.dynamodb_faults
        if (
            faults.rate <= 0
            or getattr(self._running, "function_id", None) != faults.function_id
            or model.name not in faults.operations
        ):
            return
        with self._fault_lock:
            if self._fault_rng.random() >= faults.rate:
                return
            self.dynamodb_faults_injected += 1
        self._running.met_fault = True
        raise ClientError(
            {"Error": {"Code": faults.code, "Message": "injected: rate of requests exceeded"}}, model.name
        )

    # ------------------------------------------------------------------ running functions
    @contextlib.contextmanager
    def acting_as(self, function_id: str) -> Iterator[None]:
        """AWS calls made on this thread inside the block are that function's (and checked against its grants)."""
        outer = getattr(self._running, "function_id", None)
        self._running.function_id = function_id
        try:
            yield
        finally:
            self._running.function_id = outer

    def invoke(self, function_id: str, event: dict[str, Any]) -> Any:
        handler = self._handlers.get(function_id)
        if handler is None:
            handler = self._handlers[function_id] = load_handler(self.template.functions[function_id])
        spec = self.template.functions[function_id]
        context = FakeLambdaContext.for_invoke(spec, self.template.function_name(function_id, self.resolver))
        outer = getattr(self._running, "function_id", None), getattr(self._running, "met_fault", False)
        self._running.function_id, self._running.met_fault = function_id, False
        self._running.delivery = (event.get("headers") or {}).get(DELIVERY_HEADER.lower())
        self._running.write_requests = self._running.items_written = 0
        self._running.items_changed = set()
        status: int | None = 500  # what API Gateway answers when the function fails
        try:
            result = handler(event, context)
            status = result.get("statusCode") if isinstance(result, dict) else None
            return result
        except Exception:
            self.metrics.add("AWS/Lambda", "Errors", {"FunctionName": context.function_name}, 1)
            raise
        finally:
            if self._running.met_fault:
                with self._fault_lock:
                    self.answers_after_dynamodb_fault[status] += 1
            if self._running.delivery is not None:
                with self._deliveries_lock:
                    self.deliveries.append(
                        Delivery(
                            self._running.delivery,
                            status,
                            self._running.write_requests,
                            self._running.items_written,
                            frozenset(self._running.items_changed),
                        )
                    )
                self._running.delivery = None
            self._running.function_id, self._running.met_fault = outer

    @property
    def url(self) -> str:
        return self.gateway.url

    @property
    def ca_bundle(self) -> str | None:
        """The certificate an HTTP client must trust to download an export from the local S3 (over TLS)."""
        certificate = getattr(self, "certificate", None)
        return str(certificate.certificate) if certificate else None

    def https_verify(self) -> ssl.SSLContext | bool:
        """httpx's `verify` for a download link of this stack."""
        return ssl.create_default_context(cafile=self.ca_bundle) if self.ca_bundle else True

    @property
    def table_name(self) -> str:
        [name] = self.table_names.values()
        return name

    def fire(self, schedule: str) -> Any:
        return self.schedules.fire(schedule)

    def drain_dispatch_queue(self) -> Any:
        return self.sqs_driver.drain()

    def queue_depth(self, queue_url: str) -> int:
        """Messages in the queue: waiting, in flight and delayed."""
        names = [
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ]
        attributes = self.sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=names)["Attributes"]
        return sum(int(attributes.get(name, 0)) for name in names)

    def drain_stream(self) -> Any:
        """Hand the table's stream, up to now, to the events function."""
        [driver] = self.stream_drivers.values()
        return driver.drain()

    def events(self) -> list[dict[str, Any]]:
        """Every event the stack's buses took so far (as a subscriber receives them: envelope and detail),
        oldest first."""
        self._collect_tapped()
        with self._tap_lock:
            return list(self.tapped)

    def _collect_tapped(self) -> None:
        """Move what the tap queue holds into `tapped`: after every stream batch, as moto's SQS slows down with
        every message a queue keeps."""
        with self._tap_lock:
            while messages := self.sqs.receive_message(QueueUrl=self.tap_url, MaxNumberOfMessages=10).get("Messages"):
                self.tapped.extend(json.loads(message["Body"]) for message in messages)
                self.sqs.delete_message_batch(
                    QueueUrl=self.tap_url,
                    Entries=[
                        {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
                        for index, message in enumerate(messages)
                    ],
                )

    def run_exports(self) -> Any:
        """Deliver the export queue to the exports function until every export has ended (or stopped for good)."""
        return self.sqs_drivers["ExportsFunction"].drain(max_rounds=10_000)

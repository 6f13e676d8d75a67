"""The whole dialhub stack on one machine, without Docker or an AWS account.

moto's ThreadedMotoServer stands in for DynamoDB, SQS and Secrets Manager (boto3 follows
AWS_ENDPOINT_URL); resources are created from template.yaml's own definitions; the real handlers run
in-process behind a gateway that serves the template's routes; drivers fire the template's schedules and
feed the dispatch queue to the dispatcher; the vendor simulators dial and call back over HTTP.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import sys
import threading
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from local import moto_patches, simulators
from local.drivers import ScheduleDriver, SqsDriver
from local.gateway import LocalGateway
from local.simulators import SimulatorKnobs, VendorSimulator
from local.template import FakeLambdaContext, SamTemplate, load_handler

ROOT = Path(__file__).resolve().parent.parent
LAYER = ROOT / "layers" / "dialhub"
if str(LAYER) not in sys.path:  # what Lambda's /opt/python is to the deployed functions
    sys.path.insert(0, str(LAYER))
STAGE = "local"
REGION = "us-east-1"


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


class LocalStack:
    """Start with `with LocalStack() as stack:`; everything stops and the environment is restored on exit."""

    def __init__(self, *, port: int = 0, drop_rate: float = 0.15, dial_delay: tuple[float, float] = (0.3, 2.5),
                 retry_interval: float = 0.5, seed: int = 7, log_level: str = "ERROR",
                 gateway_workers: int = 1, vendors: tuple[str, ...] | None = None) -> None:
        self.port = port
        self.drop_rate = drop_rate
        self.dial_delay = dial_delay
        self.retry_interval = retry_interval
        self.seed = seed
        self.log_level = log_level
        self.gateway_workers = gateway_workers
        self.vendors = vendors  # None: every vendor that has an adapter
        self.template = SamTemplate(ROOT / "template.yaml", parameters={"Stage": STAGE})
        self._saved_environ: dict[str, str] | None = None
        self._handlers: dict[str, Callable[[dict[str, Any], Any], Any]] = {}
        self._invoke_lock = threading.Lock()
        self.simulators: dict[str, VendorSimulator] = {}

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self) -> LocalStack:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        self._saved_environ = dict(os.environ)
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto server's per-request access log
        warnings.filterwarnings("ignore", "No application metrics to publish", UserWarning)
        _reset_moto()  # moto keeps its state in-process: start from nothing whatever ran before in this process
        moto_patches.apply()
        self.moto = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
        self.moto.start()
        moto_url = f"http://127.0.0.1:{self.moto._port}"
        os.environ.update({
            "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_SESSION_TOKEN": "local",
            "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION, "AWS_ENDPOINT_URL": moto_url,
            "POWERTOOLS_METRICS_DISABLED": "true", "POWERTOOLS_TRACE_DISABLED": "true",
        })
        os.environ.pop("AWS_PROFILE", None)
        self._create_resources()
        os.environ.update(self.function_environment)
        os.environ["POWERTOOLS_LOG_LEVEL"] = self.log_level
        reset_library_caches()
        self.gateway = LocalGateway(self.template.routes, self.invoke, port=self.port,
                                    workers_per_function=self.gateway_workers).start()
        self._start_simulators()
        self.schedules = ScheduleDriver(self.template, self.invoke)
        [sqs_source] = self.template.sqs_sources
        self.sqs_driver = SqsDriver(self.sqs, sqs_source, self.queue_urls[sqs_source.queue_id], self.invoke)

    def stop(self) -> None:
        components = [getattr(self, name, None) for name in ("sqs_driver", "gateway")]
        for component in [*components, *self.simulators.values()]:
            if component is not None:
                with contextlib.suppress(Exception):  # best effort on the way out
                    component.stop()
        if getattr(self, "moto", None) is not None:
            self.moto.stop()
            _reset_moto()
            moto_patches.restore()
        if self._saved_environ is not None:
            os.environ.clear()
            os.environ.update(self._saved_environ)
            reset_library_caches()

    # ------------------------------------------------------------------ resources from template.yaml
    def _create_resources(self) -> None:
        self.dynamodb = boto3.client("dynamodb")
        self.sqs = boto3.client("sqs")
        self.secretsmanager = boto3.client("secretsmanager")
        resolver = self.template.resolver()
        self.table_names: dict[str, str] = {}
        for table_id in self.template.tables:
            kwargs = self.template.create_table_kwargs(table_id, resolver)
            self.dynamodb.create_table(**kwargs)
            ttl = self.template.ttl_attribute(table_id)
            if ttl:
                self.dynamodb.update_time_to_live(TableName=kwargs["TableName"],
                                                  TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl})
            self.table_names[table_id] = kwargs["TableName"]
        self.queue_urls: dict[str, str] = {}
        self.queue_arns: dict[str, str] = {}
        for queue_id in self.template.queue_creation_order():
            name = self.template.queue_name(queue_id, resolver)
            attributes = self.template.queue_attributes(queue_id, resolver, self.queue_arns.__getitem__)
            url = self.sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
            self.queue_urls[queue_id] = url
            self.queue_arns[queue_id] = self.sqs.get_queue_attributes(
                QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        refs = {**self.table_names, **self.queue_urls}
        attributes = {(qid, "Arn"): arn for qid, arn in self.queue_arns.items()}
        attributes |= {(qid, "QueueName"): url.rsplit("/", 1)[-1] for qid, url in self.queue_urls.items()}
        self.resolver = self.template.resolver(refs=refs, attributes=attributes)
        environment: dict[str, str] = {}
        for function_id in self.template.functions:
            environment.update(self.template.function_environment(function_id, self.resolver))
        self.function_environment = environment

    def _start_simulators(self) -> None:
        """One simulator per vendor adapter, its account stored where the functions read it."""
        from dialhub.vendors import vendor_names

        prefix = self.function_environment["VENDOR_SECRET_PREFIX"]
        knobs = SimulatorKnobs(drop_rate=self.drop_rate, dial_delay=self.dial_delay,
                               retry_interval=self.retry_interval, seed=self.seed)
        for vendor in self.vendors or vendor_names():
            simulator = self.simulators[vendor] = simulators.create(vendor, knobs).start()
            account = simulator.connect(self.gateway.url)
            self.secretsmanager.create_secret(Name=f"{prefix}{vendor}", SecretString=json.dumps(account))

    @property
    def blu(self) -> Any:
        return self.simulators["blu"]

    def pending_at_vendors(self) -> int:
        return sum(simulator.pending() for simulator in self.simulators.values())

    # ------------------------------------------------------------------ running functions
    def invoke(self, function_id: str, event: dict[str, Any]) -> Any:
        handler = self._handlers.get(function_id)
        if handler is None:
            handler = self._handlers[function_id] = load_handler(self.template.functions[function_id])
        spec = self.template.functions[function_id]
        context = FakeLambdaContext.for_invoke(spec, self.template.function_name(function_id, self.resolver))
        return handler(event, context)

    @property
    def url(self) -> str:
        return self.gateway.url

    @property
    def table_name(self) -> str:
        [name] = self.table_names.values()
        return name

    def fire(self, schedule: str) -> Any:
        return self.schedules.fire(schedule)

    def drain_dispatch_queue(self) -> Any:
        return self.sqs_driver.drain()

"""Figure 6: callbacks per second per core through the local gateway, with concurrent senders, against
the same figure for a minimal handler that only makes the one DynamoDB write.

The gateway, the handlers and the moto server run in this process and its CPU time is the denominator;
the senders run in another interpreter so that their CPU is not counted. Each gateway serves the webhook
function with several workers, as several warm Lambda environments would.

`python -m bench.gateway_throughput --send REQUESTS THREADS` is the senders' interpreter.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from bench.report import ROOT, Row

SENDER_THREADS = 8
GATEWAY_WORKERS = 4
RATIO_GOAL = 0.8


def sender(requests_path: str, threads: int) -> None:
    """POST every (url, body) of the file from `threads` keep-alive clients; prints the wall time."""
    import httpx

    requests = json.loads(Path(requests_path).read_text())
    slices = [requests[index::threads] for index in range(threads)]
    failures: list[int] = []

    def send(chunk: list[list[str]]) -> None:
        with httpx.Client(timeout=120) as client:
            for url, body in chunk:
                status = client.post(url, content=body, headers={"content-type": "application/json"}).status_code
                if status != 200:
                    failures.append(status)

    workers = [threading.Thread(target=send, args=(chunk,)) for chunk in slices]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    print(json.dumps({"wall": time.perf_counter() - started, "failures": failures[:10]}))


@dataclass
class Throughput:
    requests: int
    wall: float
    cpu: float
    moto: float

    @property
    def per_core(self) -> float:
        return self.requests / self.cpu

    @property
    def per_core_without_moto(self) -> float:
        return self.requests / (self.cpu - self.moto)


def _drive(requests: list[tuple[str, str]]) -> Throughput:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    from bench.instrument import CpuTimer

    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as file:
        json.dump(requests, file)
    try:
        with CpuTimer(DomainDispatcherApplication, "__call__") as moto:
            cpu = time.process_time()
            completed = subprocess.run(  # noqa: S603 - our own module, our own interpreter
                [sys.executable, "-m", "bench.gateway_throughput", "--send", file.name, str(SENDER_THREADS)],
                env=dict(os.environ),
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=False,
                timeout=900,
            )
            cpu = time.process_time() - cpu
    finally:
        os.unlink(file.name)
    if completed.returncode != 0:
        raise RuntimeError(f"callback senders failed:\n{completed.stderr[-3000:]}")
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    if report["failures"]:
        raise RuntimeError(f"the gateway refused callbacks: {report['failures']}")
    return Throughput(len(requests), report["wall"], cpu, moto.seconds)


def measure(callbacks: int) -> list[Row]:
    import datetime as dt

    import boto3
    import httpx

    from bench.callback_cost import _blu_result
    from bench.instrument import powertools_output_discarded
    from dialhub.vendors.base import InboundCallback
    from dialhub.wiring import default_dependencies
    from local.gateway import LocalGateway
    from local.scenario import demo_contacts
    from local.stack import LocalStack

    warm = 10
    with (
        LocalStack(
            dial_delay=(86_400.0, 86_400.0),
            drop_rate=0.0,
            log_level="INFO",
            vendors=("blu",),
            gateway_workers=GATEWAY_WORKERS,
        ) as stack,
        powertools_output_discarded(),
    ):
        # Three sets of contacts, so that every measured callback stores a new outcome and moves its contact.
        contacts = demo_contacts(3 * callbacks, prefix="bench-gateway")
        created = httpx.post(
            f"{stack.url}/campaigns",
            timeout=600,
            json={
                "name": "bench gateway",
                "vendor": "blu",
                "vendorOptions": stack.blu.demo_options(),
                "contacts": contacts,
            },
        )
        created.raise_for_status()
        campaign_id = created.json()["campaignId"]
        callback_url = urlsplit(stack.blu.callback_url)
        webhook = f"{stack.url}{callback_url.path}?{callback_url.query}"
        bodies = [
            json.dumps(_blu_result(campaign_id, contact["contactId"], 20_000 + index))
            for index, contact in enumerate(contacts)
        ]
        real_bodies, minimal_bodies, put_bodies = (bodies[i * callbacks : (i + 1) * callbacks] for i in range(3))

        # The minimal handler's one write is the real handler's: the outcome, its contact and the raw payload in
        # one transaction, through the same store. Parsing happens here, before anything is timed.
        deps = default_dependencies()
        blu = deps.adapters.get("blu")
        token = dict(parse_qsl(callback_url.query))["token"]
        outcomes = {}
        for body in minimal_bodies:
            callback = InboundCallback(
                kind="", body=body.encode(), headers={}, query={"token": token}, source_ip="127.0.0.1"
            )
            [outcomes[body]] = blu.parse_callback(callback).outcomes
        ack = {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": '{"code":200}'}

        def only_the_write(function_id: str, event: dict[str, Any]) -> dict[str, Any]:
            body = event["body"]
            deps.store.record_outcome(outcomes[body], dt.datetime.now(dt.UTC), raw=body.encode())
            return ack

        client = boto3.client("dynamodb")

        def only_a_put(function_id: str, event: dict[str, Any]) -> dict[str, Any]:
            client.put_item(
                TableName=stack.table_name,
                Item={
                    "pk": {"S": f"CALL#minimal#{uuid.uuid4().hex}"},
                    "sk": {"S": "CALL"},
                    "body": {"S": event["body"]},
                },
            )
            return ack

        path = callback_url.path
        with (
            LocalGateway(stack.template.routes, only_the_write, workers_per_function=GATEWAY_WORKERS) as minimal,
            LocalGateway(stack.template.routes, only_a_put, workers_per_function=GATEWAY_WORKERS) as put,
        ):
            _drive([(f"{minimal.url}{path}", body) for body in minimal_bodies[:warm]])
            _drive([(f"{put.url}{path}", body) for body in put_bodies[:warm]])
            _drive([(webhook, body) for body in real_bodies[:warm]])  # adapter built, secret read
            floor = _drive([(f"{minimal.url}{path}", body) for body in minimal_bodies[warm:]])
            real = _drive([(webhook, body) for body in real_bodies[warm:]])
            a_put = _drive([(f"{put.url}{path}", body) for body in put_bodies[warm:]])
        stored = sum(
            1
            for body in real_bodies + minimal_bodies
            if deps.store.get_outcome("blu", str(json.loads(body)["callId"])) is not None
        )
    if stored != len(real_bodies) + len(minimal_bodies):
        raise RuntimeError(f"only {stored} of {len(real_bodies) + len(minimal_bodies)} callbacks were stored")
    ratio = real.per_core / floor.per_core
    ratio_without_moto = real.per_core_without_moto / floor.per_core_without_moto
    cores = os.cpu_count() or 1
    return [
        Row(
            "6",
            "callbacks/s per core through the gateway (real handler)",
            f"{real.per_core:.0f}",
            note=f"{real.requests} callbacks from {SENDER_THREADS} concurrent senders in {real.wall:.1f} s "
            f"({real.requests / real.wall:.0f}/s wall on {cores} cores); CPU of the gateway, the handler and "
            f"moto's DynamoDB server together; moto excluded: {real.per_core_without_moto:.0f}/s per core",
        ),
        Row(
            "6",
            "callbacks/s per core, minimal handler (the one write only)",
            f"{floor.per_core:.0f}",
            note=f"the same transaction (outcome, contact, raw payload) through the same store, from outcomes "
            f"parsed before the run: no authentication, parsing, policy lookup, log line or metric; moto "
            f"excluded: {floor.per_core_without_moto:.0f}/s per core",
        ),
        Row(
            "6",
            "real / minimal throughput per core",
            f"{ratio:.2f}",
            f">= {RATIO_GOAL}",
            ratio >= RATIO_GOAL,
            f"moto's server excluded from both: {ratio_without_moto:.2f}",
        ),
        Row(
            "6",
            "callbacks/s per core, a handler writing one put_item (for scale)",
            f"{a_put.per_core:.0f}",
            note=f"moto excluded: {a_put.per_core_without_moto:.0f}/s per core; against the minimal handler, what "
            f"the transaction costs moto and the SDK over a single put",
        ),
    ]


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--send":
        sender(sys.argv[2], int(sys.argv[3]))
    else:
        from bench.report import terminal_table

        print(terminal_table(measure(int(sys.argv[1]) if len(sys.argv) > 1 else 200)))

"""Counters and timers the benchmark attaches from outside; none of them changes what the code does."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


def memory_kb(field: str) -> int:
    """A field of this process's /proc status in kB: VmRSS (now) or VmHWM (the peak)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def reset_peak_memory() -> None:
    """Linux lets a process reset its own peak RSS (VmHWM), so each phase gets its own peak."""
    Path("/proc/self/clear_refs").write_text("5")


class AwsRequestCounter:
    """Counts every HTTP request a botocore client sends (retries included), by operation.

    Hooked on `request-created`, which botocore emits once per attempt whether the request then goes to
    AWS, to a moto server or to moto's in-process stub.
    """

    def __init__(self) -> None:
        self.by_operation: Counter[str] = Counter()
        # DynamoDB writes of one item, by the kind of item (its sort key's first word: CONTACT, CAMPAIGN, TASK...):
        # what grows with the contacts apart from what a run does once per campaign.
        self.writes_by_item: Counter[str] = Counter()
        self._lock = threading.Lock()

    def attach(self, client: Any) -> Any:
        service = client.meta.service_model.service_id.hyphenize()
        client.meta.events.register(f"request-created.{service}", self._count)
        return client

    def _count(self, operation_name: str, request: Any = None, **_: Any) -> None:
        kind = _item_kind(request) if operation_name in _ONE_ITEM_WRITES else None
        with self._lock:
            self.by_operation[operation_name] += 1
            if kind is not None:
                self.writes_by_item[f"{operation_name} {kind}"] += 1

    @property
    def total(self) -> int:
        return sum(self.by_operation.values())

    def reset(self) -> None:
        with self._lock:
            self.by_operation.clear()
            self.writes_by_item.clear()


_ONE_ITEM_WRITES = {"UpdateItem", "PutItem", "DeleteItem"}


def _item_kind(request: Any) -> str:
    try:
        body = json.loads(request.body)
        return str(body["Key"]["sk"]["S"] if "Key" in body else body["Item"]["sk"]["S"]).split("#", 1)[0]
    except (AttributeError, KeyError, TypeError, ValueError):
        return "unknown"


def item_size(value: dict[str, Any]) -> int:
    """Bytes DynamoDB bills for an item (its attributes in DynamoDB JSON), by its published sizing rules: names
    and strings in UTF-8, a number about one byte per two digits plus one, 1 byte for a boolean or null, and
    3 bytes for each list or map on top of what it holds."""
    return sum(len(name.encode()) + _value_size(attribute) for name, attribute in value.items())


def _value_size(attribute: dict[str, Any]) -> int:
    [(kind, value)] = attribute.items()
    if kind == "S":
        return len(value.encode())
    if kind == "N":
        return len(value.strip("-").replace(".", "").strip("0")) // 2 + 1
    if kind == "B":
        return len(value)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "M":
        return 3 + item_size(value)
    if kind == "L":
        return 3 + sum(1 + _value_size(element) for element in value)
    if kind == "SS":
        return sum(len(element.encode()) for element in value)
    if kind == "NS":
        return sum(len(element) // 2 + 1 for element in value)
    return sum(len(element) for element in value)  # BS


class ReadUnits:
    """Read units of a client's reads, by DynamoDB's rules: GetItem and BatchGetItem round each item up to 4 KB,
    a Query rounds up the sum of its items; one unit per 4 KB strongly consistent, half a unit eventually
    consistent. Sized from the items returned: a Query with a projection reads whole items, so for it the
    figure is a lower bound."""

    def __init__(self) -> None:
        self.units = 0.0

    def attach(self, client: Any) -> Any:
        client.meta.events.register("provide-client-params.dynamodb", self._note_consistency)
        client.meta.events.register("after-call.dynamodb", self._count)
        return client

    @staticmethod
    def _note_consistency(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        tables = params.get("RequestItems", {}).values()  # BatchGetItem says it per table
        context["consistent_read"] = bool(params.get("ConsistentRead")) or any(
            table.get("ConsistentRead") for table in tables
        )

    def _count(self, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        blocks = 0
        if model.name == "GetItem" and "Item" in parsed:
            blocks = -(-item_size(parsed["Item"]) // 4096)
        elif model.name == "BatchGetItem":
            blocks = sum(
                -(-item_size(item) // 4096) for items in parsed.get("Responses", {}).values() for item in items
            )
        elif model.name == "Query":
            blocks = -(-sum(item_size(item) for item in parsed.get("Items", [])) // 4096)
        self.units += blocks if context.get("consistent_read") else blocks / 2


class VendorRequestCounter:
    """Counts every request sent through httpx.Client (which every vendor adapter uses), by host and path."""

    def __init__(self) -> None:
        self.by_target: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()
        self._original: Any = None

    def __enter__(self) -> VendorRequestCounter:
        import httpx

        self._original = original = httpx.Client.send
        counter = self

        def counting_send(client: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
            target = urlsplit(str(request.url))
            with counter._lock:
                counter.by_target[(target.netloc, target.path)] += 1
            return original(client, request, *args, **kwargs)

        httpx.Client.send = counting_send
        return self

    def __exit__(self, *exc: object) -> None:
        import httpx

        httpx.Client.send = self._original

    def paths(self, netloc: str) -> Counter[str]:
        return Counter({path: count for (host, path), count in self.by_target.items() if host == netloc})


class CpuTimer:
    """CPU seconds the calling threads spend inside one method (thread CPU time, so other threads do not
    count). Used on moto's in-process stub, to tell the handler's own cost from the cost of emulating
    DynamoDB (which Lambda never pays), and on botocore's client, to show what the AWS SDK itself costs."""

    def __init__(self, owner: type, attribute: str) -> None:
        self.owner = owner
        self.attribute = attribute
        self.seconds = 0.0
        self._original: Any = None
        self._depth = threading.local()

    def __enter__(self) -> CpuTimer:
        self._original = original = getattr(self.owner, self.attribute)
        timer = self

        def timed(*args: Any, **kwargs: Any) -> Any:
            depth = getattr(timer._depth, "value", 0)
            if depth:  # re-entered (a client call inside a client call): counted once, by the outer call
                return original(*args, **kwargs)
            timer._depth.value = 1
            started = time.thread_time()
            try:
                return original(*args, **kwargs)
            finally:
                timer.seconds += time.thread_time() - started
                timer._depth.value = 0

        setattr(self.owner, self.attribute, timed)
        return self

    def __exit__(self, *exc: object) -> None:
        setattr(self.owner, self.attribute, self._original)


def moto_timer() -> CpuTimer:
    from moto.core.botocore_stubber import BotocoreStubber

    return CpuTimer(BotocoreStubber, "__call__")


def aws_sdk_timer() -> CpuTimer:
    """Time in botocore's client calls, moto's stub included when it runs in-process (subtract it)."""
    from botocore.client import BaseClient

    return CpuTimer(BaseClient, "_make_api_call")


@contextlib.contextmanager
def powertools_output_discarded() -> Iterator[None]:
    """Keep the log lines and EMF metrics the handlers write (their cost is real) off the terminal."""
    import logging
    import os
    import sys

    from dialhub.observability import logger

    with open(os.devnull, "w") as sink:
        handlers = [handler for handler in logger._logger.handlers if isinstance(handler, logging.StreamHandler)]
        streams = [handler.setStream(sink) for handler in handlers]
        saved_stdout, sys.stdout = sys.stdout, sink
        try:
            yield
        finally:
            sys.stdout = saved_stdout
            for handler, stream in zip(handlers, streams, strict=True):
                handler.setStream(stream)

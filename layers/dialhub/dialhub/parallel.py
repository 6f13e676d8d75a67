"""Independent conditional writes in flight together.

A function moving thousands of contacts spends its time waiting on DynamoDB round trips, and Lambda bills
that wait: one at a time, 100,000 contacts would outlast a function's timeout. boto3 clients are safe to
share between threads.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextvars import copy_context
from typing import TypeVar

PARALLEL_WRITES = 16

_In = TypeVar("_In")
_Out = TypeVar("_Out")


def each(function: Callable[[_In], _Out], items: Sequence[_In]) -> list[_Out]:
    """`function` of every item, up to PARALLEL_WRITES at once, answers in the items' order; the first error
    is raised once every call has ended."""
    if len(items) <= 1:
        return [function(item) for item in items]
    with ThreadPoolExecutor(min(PARALLEL_WRITES, len(items)), thread_name_prefix="write") as writers:
        # Each call in a copy of the caller's context: its log keys (observability.log_keys) come along.
        futures = [writers.submit(copy_context().run, function, item) for item in items]
        return [future.result() for future in futures]

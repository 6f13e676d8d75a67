"""What a handler needs, built once per container from the environment; tests pass their own."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

from dialhub.queue import DispatchQueue
from dialhub.settings import Settings, get_settings
from dialhub.store import Store
from dialhub.vendors import AdapterProvider, Adapters


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Dependencies:
    settings: Settings
    store: Store
    queue: DispatchQueue
    adapters: Adapters
    clock: Callable[[], dt.datetime] = field(default=utc_now)


@lru_cache(maxsize=1)
def default_dependencies() -> Dependencies:
    from dialhub.secrets import vendor_account  # imported here: only paths that talk to vendors need it

    settings = get_settings()
    return Dependencies(
        settings=settings,
        store=Store(settings.table_name, retention_days=settings.outcome_retention_days,
                    raw_retention_days=settings.raw_payload_retention_days),
        queue=DispatchQueue(settings.dispatch_queue_url),
        adapters=AdapterProvider(vendor_account),
    )

"""What a handler needs, built once per container from the environment; tests pass their own."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

from dialhub.bus import EventBus
from dialhub.objects import BucketObjects
from dialhub.queue import DispatchQueue, ExportQueue, ImportQueue
from dialhub.settings import Settings, get_settings
from dialhub.store import DynamoStore, Store, utc_now
from dialhub.vendors import AdapterProvider, Adapters


@dataclass
class Dependencies:
    settings: Settings
    store: Store
    queue: DispatchQueue
    adapters: Adapters
    clock: Callable[[], dt.datetime] = field(default=utc_now)
    export_queue: ExportQueue = field(default=None)  # type: ignore[assignment]  # from settings when not given
    objects: BucketObjects = field(default=None)  # type: ignore[assignment]  # likewise
    bus: EventBus = field(default=None)  # type: ignore[assignment]  # likewise
    import_objects: BucketObjects = field(default=None)  # type: ignore[assignment]  # likewise
    import_queue: ImportQueue = field(default=None)  # type: ignore[assignment]  # likewise

    def __post_init__(self) -> None:
        if self.export_queue is None:
            self.export_queue = ExportQueue(self.settings.export_queue_url)
        if self.objects is None:
            self.objects = BucketObjects(self.settings.export_bucket)
        if self.bus is None:
            self.bus = EventBus(self.settings.event_bus_name)
        if self.import_objects is None:
            self.import_objects = BucketObjects(self.settings.import_bucket, setting="IMPORT_BUCKET")
        if self.import_queue is None:
            self.import_queue = ImportQueue(self.settings.import_queue_url)


@lru_cache(maxsize=1)
def default_dependencies() -> Dependencies:
    from dialhub.secrets import vendor_account  # imported here: only paths that talk to vendors need it

    settings = get_settings()
    return Dependencies(
        settings=settings,
        store=DynamoStore(
            settings.table_name,
            retention_days=settings.outcome_retention_days,
            raw_retention_days=settings.raw_payload_retention_days,
        ),
        queue=DispatchQueue(settings.dispatch_queue_url),
        adapters=AdapterProvider(vendor_account),
    )

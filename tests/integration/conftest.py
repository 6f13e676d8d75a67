"""After every test that used the table: its stream, replayed through the events function's logic, leaves
counters equal to a full recount for every campaign the test touched."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from dialhub.store import DynamoStore
from tests.conftest import RecordingEvents, counted_campaigns, replay_stream, stream_records


@pytest.fixture(autouse=True)
def counters_agree_with_the_recount(request: pytest.FixtureRequest) -> Iterator[None]:
    if "table_name" not in request.fixturenames:
        yield
        return
    table_name = request.getfixturevalue("table_name")
    aws_environment = {name: value for name, value in os.environ.items() if name.startswith("AWS_")}
    yield
    with pytest.MonkeyPatch.context() as environment:  # a test may have undone its own environment
        for name, value in aws_environment.items():
            environment.setenv(name, value)
        store = DynamoStore(table_name)
        replay_stream(store, stream_records(table_name), RecordingEvents())
        for campaign_id in sorted(counted_campaigns(store)):
            counters = store.get_counters(campaign_id)
            assert counters is not None and counters.counts == store.campaign_counts(campaign_id), campaign_id

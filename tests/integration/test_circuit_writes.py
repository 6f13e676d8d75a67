"""What the vendor items' writes (a day's count against the daily cap, the circuit) leave in the table, and the
requests a take of the cap costs."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from dialhub.store import DynamoStore
from dialhub.store.keys import capacity_key, circuit_key
from tests.conftest import table_items

T0 = dt.datetime(2026, 11, 25, 1, 0, tzinfo=dt.UTC)
DAY = T0.date()


def _taken(store: DynamoStore, vendor: str = "blu", day: dt.date = DAY) -> dict[str, Any] | None:
    return table_items(store).get((f"VENDOR#{vendor}", f"TAKEN#{day.isoformat()}"))


def _requests(store: DynamoStore, monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    """Every request to the table: ("update", the amount asked for) or ("read", its key, its ConsistentRead)."""
    requests: list[tuple[Any, ...]] = []
    update, get = store.client.update_item, store.client.get_item

    def spied_update(**kwargs: Any) -> Any:
        requests.append(("update", int(kwargs["ExpressionAttributeValues"][":wanted"]["N"])))
        return update(**kwargs)

    def spied_get(**kwargs: Any) -> Any:
        requests.append(("read", kwargs["Key"], kwargs.get("ConsistentRead")))
        return get(**kwargs)

    monkeypatch.setattr(store.client, "update_item", spied_update)
    monkeypatch.setattr(store.client, "get_item", spied_get)
    return requests


def test_asking_for_none_of_the_cap_or_a_cap_of_zero_writes_nothing(
    store: DynamoStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    requests = _requests(store, monkeypatch)
    assert store.take_capacity("blu", DAY, 0, 5) == 0
    assert store.take_capacity("blu", DAY, 10, 0) == 0
    assert requests == []
    assert _taken(store) is None  # the day's count is not begun by taking nothing


def test_a_take_that_finds_the_cap_used_up_reads_the_count_once_and_writes_nothing_more(
    store: DynamoStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert store.take_capacity("blu", DAY, 5, 5) == 5
    requests = _requests(store, monkeypatch)
    assert store.take_capacity("blu", DAY, 3, 5) == 0
    assert requests == [("update", 3), ("read", capacity_key("blu", DAY), True)]
    assert _taken(store)["taken"] == {"N": "5"}  # type: ignore[index]


@pytest.mark.parametrize(("asked", "already"), [(20, 17), (100, 15), (6, 16)])
def test_a_partly_taken_cap_is_taken_in_one_refused_write_one_consistent_read_of_the_day_and_one_write(
    store: DynamoStore, monkeypatch: pytest.MonkeyPatch, asked: int, already: int
) -> None:
    """Whatever the gap between what is asked and what is left, the count read back says how much to ask."""
    cap = 20
    assert store.take_capacity("blu", DAY, already, cap) == already
    requests = _requests(store, monkeypatch)
    left = cap - already
    assert store.take_capacity("blu", DAY, asked, cap) == left
    assert requests == [("update", min(asked, cap)), ("read", capacity_key("blu", DAY), True), ("update", left)]
    assert _taken(store)["taken"] == {"N": str(cap)}  # type: ignore[index]


def test_a_days_count_removed_between_the_refused_write_and_its_read_counts_as_nothing_taken(
    store: DynamoStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The day's item gone when it is read (reset by hand, or expired): the take goes on from a count of 0."""
    assert store.take_capacity("blu", DAY, 10, 10) == 10
    get = store.client.get_item

    def removed_first(**kwargs: Any) -> Any:
        store.client.delete_item(TableName=store.table_name, Key=capacity_key("blu", DAY))
        return get(**kwargs)

    monkeypatch.setattr(store.client, "get_item", removed_first)
    assert store.take_capacity("blu", DAY, 6, 10) == 5  # one less than refused, as after any refusal
    assert _taken(store)["taken"] == {"N": "5"}  # type: ignore[index]


def test_a_submission_failure_is_counted_on_the_vendors_circuit_with_when_it_happened(store: DynamoStore) -> None:
    store.record_submission_failure("blu", T0)
    later = T0 + dt.timedelta(minutes=1)
    store.record_submission_failure("blu", later)
    item = table_items(store)[(circuit_key("blu")["pk"]["S"], "CIRCUIT")]
    assert item["failures"] == {"N": "2"}
    assert item["lastFailureAt"] == {"S": later.isoformat()}

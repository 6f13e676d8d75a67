"""Outcome events and live counters from the table's stream: each detail-type from the change that causes it,
the same ids however a batch is delivered, counters that count each change once, and GET /campaigns/{id}
answered from them."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from bench.instrument import AwsRequestCounter
from dialhub.changes import CALL_RECORDED, CAMPAIGN_COMPLETED, CONTACT_CLOSED, CONTACT_SUPPRESSED, DETAIL_TYPES
from dialhub.dispositions import CallStatus, Disposition
from dialhub.models import CallOutcome
from dialhub.outcomes import record_outcomes
from dialhub.store import DynamoStore
from tests.conftest import RecordingEvents, api_event, call_api, replay_stream, stream_records

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "events"
T0 = dt.datetime(2026, 11, 30, 2, 0, tzinfo=dt.UTC)


def _campaign(deps: Any, count: int = 3) -> str:
    contacts = [{"contactId": f"c{i}", "phone": f"0917555{i:04d}", "name": "Ana"} for i in range(count)]
    body = {"name": "events", "vendor": "blu", "vendorOptions": {"botId": 7}, "contacts": contacts}
    status, created = call_api(deps, api_event("api/create_campaign.json", body=body))
    assert status == 201, created
    return str(created["campaignId"])


def _call(campaign_id: str, contact_id: str, call_id: str, **fields: Any) -> CallOutcome:
    values: dict[str, Any] = {"status": CallStatus.ANSWERED, "disposition": Disposition.PROMISE_TO_PAY}
    values |= fields
    return CallOutcome(vendor="blu", vendor_call_id=call_id, campaign_id=campaign_id, contact_id=contact_id, **values)


def _close_all(deps: Any, campaign_id: str) -> None:
    """c0 promises to pay; c1 rings (an attempt), then is not answered; c2 opts out."""
    record_outcomes(
        [_call(campaign_id, "c0", "100", duration_seconds=42, variables={"payDate": "2026-12-05"})], deps.store, T0
    )
    record_outcomes(
        [_call(campaign_id, "c1", "101", status=CallStatus.RINGING, disposition=Disposition.UNKNOWN)], deps.store, T0
    )
    no_answer = _call(campaign_id, "c1", "101", status=CallStatus.NO_ANSWER, disposition=Disposition.NOT_CONNECTED)
    record_outcomes([no_answer], deps.store, T0 + dt.timedelta(minutes=1))
    record_outcomes([_call(campaign_id, "c2", "102", disposition=Disposition.OPT_OUT)], deps.store, T0)


def _schema(detail_type: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((SCHEMAS / f"{detail_type.replace(' ', '')}.json").read_text())
    return schema


def _envelopes(events: RecordingEvents) -> list[dict[str, Any]]:
    return [
        {"source": entry["Source"], "detail-type": entry["DetailType"], "detail": json.loads(entry["Detail"])}
        for entry in events.taken
    ]


def test_each_detail_type_comes_from_the_change_that_causes_it_and_matches_its_schema(deps: Any) -> None:
    campaign_id = _campaign(deps)
    _close_all(deps, campaign_id)
    events = RecordingEvents()
    replay_stream(deps.store, stream_records(deps.settings.table_name), events)

    calls = events.details(CALL_RECORDED)
    assert sorted((call["vendorCallId"], call["status"]) for call in calls) == [
        ("100", "answered"),
        ("101", "no_answer"),
        ("101", "ringing"),
        ("102", "answered"),
    ]
    closed = {detail["contactId"]: detail for detail in events.details(CONTACT_CLOSED)}
    assert sorted(closed) == ["c0", "c1", "c2"]
    promise = closed["c0"]
    assert promise["disposition"] == "promise_to_pay" and promise["dispositionTraits"]["terminal"] is True
    assert promise["outcome"]["talkSeconds"] == 42 and promise["outcome"]["variables"] == {"payDate": "2026-12-05"}
    assert promise["phone"] == "***0000" and promise["outcome"]["vendorCallId"] == "100"
    assert closed["c1"]["outcome"]["status"] == "no_answer"
    [suppressed] = events.details(CONTACT_SUPPRESSED)
    assert (
        suppressed["reason"].startswith("opt_out") and suppressed["phone"] == "***0002" and suppressed["until"] is None
    )
    [completed] = events.details(CAMPAIGN_COMPLETED)
    assert completed["campaignId"] == campaign_id and completed["totalContacts"] == 3
    assert completed["byState"] == {"final": 3}
    for envelope in _envelopes(events):
        jsonschema.Draft4Validator(_schema(envelope["detail-type"])).validate(envelope)
    assert "0917555" not in json.dumps([entry["Detail"] for entry in events.taken])  # no full number anywhere
    assert {envelope["detail-type"] for envelope in _envelopes(events)} == set(DETAIL_TYPES)


def test_a_redelivered_or_bisected_stream_sends_the_same_ids_and_counts_nothing_twice(deps: Any) -> None:
    campaign_id = _campaign(deps, count=5)
    _close_all(deps, campaign_id)
    records = stream_records(deps.settings.table_name)
    first = RecordingEvents()
    replay_stream(deps.store, records, first)
    counted = deps.store.get_counters(campaign_id)
    assert counted is not None and counted.counts == deps.store.campaign_counts(campaign_id)
    ids = sorted(json.loads(entry["Detail"])["eventId"] for entry in first.taken)
    for size in (1, 3, 100):  # a redelivery, and the halves a bisection makes, down to single records
        again = RecordingEvents()
        replay_stream(deps.store, records, again, size=size)
        assert deps.store.get_counters(campaign_id).counts == counted.counts  # type: ignore[union-attr]
        assert sorted(json.loads(entry["Detail"])["eventId"] for entry in again.taken) == ids
    assert len(ids) == len(set(ids))


def test_a_crash_between_campaigns_retries_from_the_first_one_not_counted(
    deps: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = _campaign(deps), _campaign(deps)
    _close_all(deps, first)
    _close_all(deps, second)
    records = stream_records(deps.settings.table_name)
    real_add = DynamoStore.add_to_counters

    def crash_for_second(self: DynamoStore, campaign_id: str, *args: Any, **kwargs: Any) -> Any:
        if campaign_id == second:
            raise RuntimeError("the function died here")
        return real_add(self, campaign_id, *args, **kwargs)

    monkeypatch.setattr(DynamoStore, "add_to_counters", crash_for_second)
    [result] = replay_stream(deps.store, records, RecordingEvents(), size=len(records))
    second_contacts = [
        r["dynamodb"]["SequenceNumber"]
        for r in records
        if r["dynamodb"]["Keys"]["pk"]["S"] == f"CAMPAIGN#{second}" and r["dynamodb"]["Keys"]["sk"]["S"] != "CAMPAIGN"
    ]
    assert result.retry_from == min(second_contacts, key=int)
    monkeypatch.setattr(DynamoStore, "add_to_counters", real_add)
    # Lambda delivers again from that record on: the first campaign's later records come again, and add nothing.
    rest = [r for r in records if int(r["dynamodb"]["SequenceNumber"]) >= int(result.retry_from)]
    replay_stream(deps.store, rest, RecordingEvents(), size=len(rest))
    for campaign_id in (first, second):
        assert deps.store.get_counters(campaign_id).counts == deps.store.campaign_counts(campaign_id)  # type: ignore[union-attr]


def test_an_event_still_refused_after_the_retries_sends_the_batch_back_from_its_record(deps: Any) -> None:
    campaign_id = _campaign(deps)
    _close_all(deps, campaign_id)
    records = stream_records(deps.settings.table_name)
    refusing = RecordingEvents(
        lambda entry: "ThrottlingException" if entry["DetailType"] == CONTACT_SUPPRESSED else None
    )
    [result] = replay_stream(deps.store, records, refusing, size=len(records))
    suppression = next(r for r in records if r["dynamodb"]["Keys"]["pk"]["S"].startswith("SUPPRESSION#"))
    assert result.retry_from == suppression["dynamodb"]["SequenceNumber"]
    assert CONTACT_SUPPRESSED not in {entry["DetailType"] for entry in refusing.taken}
    assert deps.store.get_counters(campaign_id).counts.total == 3  # type: ignore[union-attr]  # counted all the same


def test_an_event_too_large_to_send_is_reported_and_the_rest_go(deps: Any, metrics: Any) -> None:
    campaign_id = _campaign(deps, count=1)
    record_outcomes([_call(campaign_id, "c0", "200", variables={"transcript": "x" * 300_000})], deps.store, T0)
    events = RecordingEvents()
    metrics()
    [result] = replay_stream(deps.store, stream_records(deps.settings.table_name), events)
    assert result.rejected == 2 and result.retry_from is None  # the call and the contact closed with it
    assert [entry["DetailType"] for entry in events.taken] == [CAMPAIGN_COMPLETED]
    printed = metrics()
    assert printed[("EventsUndeliverable", (("detail_type", CALL_RECORDED), ("service", "dialhub")))] == 1
    assert printed[("EventsUndeliverable", (("detail_type", CONTACT_CLOSED), ("service", "dialhub")))] == 1
    assert printed[("EventsPublished", (("detail_type", CAMPAIGN_COMPLETED), ("service", "dialhub")))] == 1


def test_the_campaign_view_is_one_request_from_the_counters(deps: Any) -> None:
    campaign_id = _campaign(deps, count=4)
    _close_all(deps, campaign_id)
    replay_stream(deps.store, stream_records(deps.settings.table_name), RecordingEvents())
    counter = AwsRequestCounter()
    counter.attach(deps.store.client)
    status, view = call_api(deps, api_event("api/get_campaign.json", path={"campaignId": campaign_id}))
    assert status == 200 and counter.total == 1
    assert view["totalContacts"] == 4 and view["byState"] == {"final": 3, "queued": 1}
    assert view["byVendor"] == {"blu": {"promise_to_pay": 1, "not_connected": 1, "opt_out": 1}}
    assert view["countedAt"] is not None and view["state"] == "in_progress"


def test_a_recount_repairs_counters_that_went_wrong(deps: Any) -> None:
    campaign_id = _campaign(deps)
    _close_all(deps, campaign_id)
    replay_stream(deps.store, stream_records(deps.settings.table_name), RecordingEvents())
    deps.store.replace_counters(campaign_id, {"total": 7, "state.queued": 7}, T0)  # as if a batch were lost
    status, view = call_api(deps, api_event("api/get_campaign.json", path={"campaignId": campaign_id}))
    assert view["totalContacts"] == 7
    status, repaired = call_api(deps, api_event("api/recount_campaign.json", path={"campaignId": campaign_id}))
    assert status == 200 and repaired["matched"] is False
    assert repaired["live"]["byState"] == {"queued": 7} and repaired["recounted"]["byState"] == {"final": 3}
    status, view = call_api(deps, api_event("api/get_campaign.json", path={"campaignId": campaign_id}))
    assert view["totalContacts"] == 3 and view["byState"] == {"final": 3}
    status, again = call_api(deps, api_event("api/recount_campaign.json", path={"campaignId": campaign_id}))
    assert again["matched"] is True
    assert call_api(deps, api_event("api/recount_campaign.json", path={"campaignId": "nope"}))[0] == 404


def test_a_retry_that_brings_newer_records_counts_only_those(deps: Any) -> None:
    """Lambda retries from a record and may hand over newer ones with it: the records counted already add
    nothing, the newer ones are counted once."""
    campaign_id = _campaign(deps, count=4)
    _close_all(deps, campaign_id)
    records = stream_records(deps.settings.table_name)
    contacts = [i for i, r in enumerate(records) if r["dynamodb"]["Keys"]["sk"]["S"].startswith("CONTACT#")]
    middle = contacts[len(contacts) // 2]
    replay_stream(deps.store, records[: middle + 1], RecordingEvents(), size=len(records))
    halfway = deps.store.get_counters(campaign_id)
    assert halfway is not None and halfway.counts != deps.store.campaign_counts(campaign_id)
    overlapping = records[contacts[0] : middle + 1] + records[middle + 1 :]  # counted ones first, then newer
    [result] = replay_stream(deps.store, overlapping, RecordingEvents(), size=len(overlapping))
    assert result.counted == 1 and result.retry_from is None
    assert deps.store.get_counters(campaign_id).counts == deps.store.campaign_counts(campaign_id)  # type: ignore[union-attr]

"""Compliance policies through the API, and calling windows enforced in the recipient's time zone."""

from __future__ import annotations

import datetime as dt
from typing import Any

from dialhub.compliance import preset
from dialhub.store import DialRecord
from tests.conftest import api_event, call_api, dispatch_records, drain_queue, load_event, plan_now
from tests.integration.test_blu_flow import _campaign

NOW = dt.datetime(2026, 11, 25, 3, 0, tzinfo=dt.UTC)  # 11:00 in Manila, 22:00 the evening before in New York


def _put(deps: Any, name: str, body: dict[str, Any]) -> tuple[int, Any]:
    return call_api(deps, api_event("api/put_policy.json", path={"name": name}, body=body))


def test_the_stored_example_policy_round_trips_and_presets_are_read_only(deps: Any) -> None:
    event = load_event("api/put_policy.json")
    status, stored = call_api(deps, event)
    assert status == 200 and stored["name"] == "collections-ph"
    status, read = call_api(deps, api_event("api/get_policy.json", path={"name": "collections-ph"}))
    assert status == 200 and read == stored and read["restrictedDates"] == ["2026-12-25", "2026-12-30"]
    status, shipped = call_api(deps, load_event("api/get_policy.json"))
    assert status == 200 and shipped["frequencyCap"] == {"attempts": 7, "days": 7}
    assert _put(deps, "us-regulation-f", preset("us-regulation-f").to_wire())[0] == 409
    assert call_api(deps, api_event("api/get_policy.json", path={"name": "nothing-here"}))[0] == 404


def test_bad_policies_answer_422_naming_the_field(deps: Any) -> None:
    good = preset("strict-default").to_wire() | {"name": "mine"}
    cases = [
        ({"windows": []}, "body.windows"),
        ({"windows": [{"weekdays": [1], "start": "20:00", "end": "09:00"}]}, "body.windows.0"),
        ({"frequencyCap": {"attempts": 0, "days": 7}}, "body.frequencyCap.attempts"),
        ({"redial": {"no_such_disposition": {"stop": True}}}, "body.redial.no_such_disposition.[key]"),
    ]
    for change, field in cases:
        status, body = _put(deps, "mine", good | change)
        assert status == 422, change
        assert any(error["field"].startswith(field) for error in body["errors"]), (field, body)
    status, body = _put(deps, "other", good)
    assert status == 422 and body["errors"][0]["field"] == "name"
    status, body = call_api(
        deps,
        api_event(
            "api/create_campaign.json",
            body={"name": "x", "vendor": "blu", "vendorOptions": {"botId": 1}, "policy": "nope"},
        ),
    )
    assert status == 422 and body["errors"][0]["field"] == "policy"
    status, body = call_api(
        deps,
        api_event(
            "api/create_campaign.json",
            body={
                "name": "x",
                "vendor": "blu",
                "vendorOptions": {"botId": 1},
                "policy": "us-regulation-f",
                "callingWindow": {"start": "21:30", "end": "23:00"},
            },
        ),
    )
    assert status == 422 and body["errors"][0]["field"] == "callingWindow"


def test_only_recipients_inside_their_own_calling_window_are_sent(deps: Any, template: Any, blu_sim: Any) -> None:
    deps.clock = lambda: NOW
    window = [{"weekdays": [1, 2, 3, 4, 5, 6, 7], "start": "09:00", "end": "20:00"}]
    assert _put(deps, "daytime", {"name": "daytime", "windows": window})[0] == 200
    campaign_id = _campaign(deps, count=3, policy="daytime")
    abroad = {"contactId": "abroad", "phone": "+639171239999", "timezone": "America/New_York"}
    assert (
        call_api(
            deps, api_event("api/add_contacts.json", path={"campaignId": campaign_id}, body={"contacts": [abroad]})
        )[1]["accepted"]
        == 1
    )

    assert plan_now(deps) == {"campaigns": 1, "batches": 1, "contacts": 3, "held": 1, "unfinished": 0, "failed_over": 0}
    dispatch_records(deps, drain_queue(deps, template))
    assert sum(blu_sim.dial_requests.values()) == 3
    _, view = call_api(deps, api_event("api/get_contact.json", path={"campaignId": campaign_id, "contactId": "abroad"}))
    assert view["state"] == "queued" and view["hold"]["reason"] == "outside_window"
    assert view["hold"]["until"] == "2026-11-25T14:00:00Z"  # 09:00 in New York
    _, campaign = call_api(deps, api_event("api/get_campaign.json", path={"campaignId": campaign_id}))
    assert campaign["heldBack"] == {"outside_window": 1} and campaign["policy"] == "daytime"
    # The vendor is told the policy's hours as its own dialling window.
    assert campaign["callingWindow"] == {"start": "09:00:00", "end": "20:00:00", "weekdays": [1, 2, 3, 4, 5, 6, 7]}

    deps.clock = lambda: dt.datetime(2026, 11, 25, 14, 30, tzinfo=dt.UTC)  # 09:30 in New York
    assert plan_now(deps)["contacts"] == 1


def test_a_number_at_its_frequency_cap_waits_and_every_request_sent_counts(
    deps: Any, template: Any, blu_sim: Any
) -> None:
    deps.clock = lambda: NOW
    always = [{"weekdays": [1, 2, 3, 4, 5, 6, 7], "start": "00:00", "end": "23:59:59.999999"}]
    policy = {"name": "twice-a-week", "windows": always, "frequencyCap": {"attempts": 2, "days": 7}}
    assert _put(deps, "twice-a-week", policy)[0] == 200
    busy_number = "+639171230001"  # contact c1 of _campaign()
    earlier = [
        DialRecord(
            phone=busy_number, at=NOW - dt.timedelta(days=days), campaign_id="older", contact_id="x", attempt=1, calls=1
        )
        for days in (6, 2)
    ]
    deps.store.record_dials(earlier)

    campaign_id = _campaign(deps, count=3, policy="twice-a-week")
    assert plan_now(deps) == {"campaigns": 1, "batches": 1, "contacts": 2, "held": 1, "unfinished": 0, "failed_over": 0}
    held = deps.store.get_contact(campaign_id, "c1").hold
    assert held.reason == "capped" and held.until == NOW + dt.timedelta(days=1)  # the 6-day-old call ages out

    dispatch_records(deps, drain_queue(deps, template))
    # What was sent is remembered per number, for every later campaign's cap.
    assert [dial.calls for dial in deps.store.dial_history("+639171230002", NOW - dt.timedelta(days=1))] == [1]
    assert len(deps.store.dial_history(busy_number, NOW - dt.timedelta(days=7))) == 2


def test_a_campaign_sends_exactly_its_allowed_contacts(deps: Any, template: Any, blu_sim: Any) -> None:
    """Capped, suppressed (before planning and between planning and dispatch) and out-of-window contacts in
    one campaign: only the allowed ones reach the vendor, and each held one says why."""
    deps.clock = lambda: NOW
    policy = {
        "name": "daytime-capped",
        "frequencyCap": {"attempts": 1, "days": 7},
        "windows": [{"weekdays": [1, 2, 3, 4, 5, 6, 7], "start": "09:00", "end": "20:00"}],
    }
    assert _put(deps, "daytime-capped", policy)[0] == 200
    deps.store.record_dials(
        [
            DialRecord(
                phone="+639171230002",
                at=NOW - dt.timedelta(days=3),
                campaign_id="older",
                contact_id="x",
                attempt=1,
                calls=1,
            )
        ]
    )
    suppress = api_event(
        "api/put_suppression.json", path={"phone": "+639171230003"}, body={"reason": "asked us to stop"}
    )
    assert call_api(deps, suppress)[0] == 200
    campaign_id = _campaign(deps, count=6, policy="daytime-capped")
    abroad = {"contactId": "abroad", "phone": "+639171239999", "timezone": "America/New_York"}
    call_api(deps, api_event("api/add_contacts.json", path={"campaignId": campaign_id}, body={"contacts": [abroad]}))

    assert plan_now(deps) == {"campaigns": 1, "batches": 1, "contacts": 4, "held": 3, "unfinished": 0, "failed_over": 0}
    late = api_event("api/put_suppression.json", path={"phone": "+639171230005"}, body={"reason": "complained"})
    assert call_api(deps, late)[0] == 200  # between planning and dispatch
    dispatch_records(deps, drain_queue(deps, template))

    assert sum(blu_sim.dial_requests.values()) == 3 and max(blu_sim.dial_requests.values()) == 1
    sent = {cid for cid in ("c0", "c1", "c4") if deps.store.get_contact(campaign_id, cid).state == "submitted"}
    assert sent == {"c0", "c1", "c4"}
    holds = {cid: deps.store.get_contact(campaign_id, cid).hold for cid in ("c2", "c3", "c5", "abroad")}
    assert {cid: hold.reason for cid, hold in holds.items()} == {
        "c2": "capped",
        "c3": "suppressed",
        "c5": "suppressed",
        "abroad": "outside_window",
    }
    assert holds["c2"].until == NOW + dt.timedelta(days=4)  # when the 3-day-old call leaves the 7-day period
    _, view = call_api(deps, api_event("api/get_campaign.json", path={"campaignId": campaign_id}))
    assert view["heldBack"] == {"capped": 1, "suppressed": 2, "outside_window": 1}

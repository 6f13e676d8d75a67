"""The internal API through the real handler: intake rules, validation errors, 404s, views."""

from __future__ import annotations

from typing import Any

from tests.conftest import api_event, call_api


def _create(deps: Any, **changes: Any) -> tuple[int, Any]:
    body = {
        "name": "November collections",
        "vendor": "blu",
        "vendorOptions": {"botId": 123},
        "contacts": [{"contactId": "c1", "phone": "09171234567", "name": "Maria"}],
    } | changes
    return call_api(deps, api_event("api/create_campaign.json", body=body))


def test_stored_create_event_accepts_valid_contacts_and_reports_invalid_ones_by_index(deps: Any) -> None:
    status, body = call_api(deps, api_event("api/create_campaign.json"))
    assert status == 201
    assert (body["accepted"], body["rejected"], body["duplicates"]) == (2, 1, 0)
    [rejection] = body["rejections"]
    assert rejection["index"] == 2 and rejection["contactId"] == "loan-10003"
    assert rejection["reason"].startswith("phone:")
    contact = deps.store.get_contact(body["campaignId"], "loan-10002")
    assert contact.phone == "+639187654321" and contact.state == "queued"


def test_posting_a_contact_again_does_not_create_a_second_dial_request(deps: Any) -> None:
    _, created = _create(deps)
    campaign_id = created["campaignId"]
    again = {"contacts": [{"contactId": "c1", "phone": "09171234567"}, {"contactId": "c2", "phone": "09181234567"}]}
    status, body = call_api(deps, api_event("api/add_contacts.json", path={"campaignId": campaign_id}, body=again))
    assert status == 200
    assert (body["accepted"], body["duplicates"], body["rejected"]) == (1, 1, 0)
    assert deps.store.campaign_counts(campaign_id).total == 2


def test_repeated_contact_id_within_one_request_is_rejected_by_index(deps: Any) -> None:
    contacts = [{"contactId": "same", "phone": "09171234567"}, {"contactId": "same", "phone": "09181234567"}]
    status, body = _create(deps, contacts=contacts)
    assert status == 201 and body["accepted"] == 1
    assert body["rejections"] == [{"index": 1, "contactId": "same", "reason": "contactId: repeated in this request"}]


def test_contact_problems_are_reported_per_contact(deps: Any) -> None:
    contacts = [
        {"contactId": "ok", "phone": "+639171234567"},
        {"contactId": "emoji", "phone": "09171234568", "name": "Ana \N{GRINNING FACE}"},
        {"phone": "09171234569"},
        {"contactId": "bad id with spaces", "phone": "09171234560"},
        "not an object",
    ]
    status, body = _create(deps, contacts=contacts)
    assert status == 201 and body["accepted"] == 1 and body["rejected"] == 4
    reasons = {r["index"]: r["reason"] for r in body["rejections"]}
    assert "Blu refuses" in reasons[1]
    assert reasons[2].startswith("contactId:")
    assert reasons[3].startswith("contactId:")
    assert reasons[4]


def test_invalid_requests_answer_422_naming_the_field(deps: Any) -> None:
    cases = [
        ({"name": ""}, "body.name"),
        ({"vendor": "acme"}, "body.vendor"),
        ({"timezone": "Mars/Olympus"}, "body.timezone"),
        ({"dialDate": "tomorrow"}, "body.dialDate"),
        ({"vendorOptions": {}}, "vendorOptions.botId"),
        ({"contacts": [{}] * 10_001}, "body.contacts"),
        ({"callingWindow": {"start": "20:00", "end": "09:00"}}, "body.callingWindow"),
        ({"callingWindow": {"weekdays": [0, 8]}}, "body.callingWindow"),
        ({"callingWindow": {"start": "late"}}, "body.callingWindow.start"),
    ]
    for change, field in cases:
        status, body = _create(deps, **change)
        assert status == 422, change
        assert field in [error["field"] for error in body["errors"]], (change, body)
        assert "Traceback" not in str(body)


def test_a_body_that_is_not_json_is_a_422_not_a_500(deps: Any) -> None:
    status, body = call_api(deps, api_event("api/create_campaign.json", body="{not json"))
    assert status == 422 and body["errors"][0]["field"].startswith("body")


def test_unknown_ids_answer_404(deps: Any) -> None:
    assert call_api(deps, api_event("api/get_campaign.json", path={"campaignId": "nope"}))[0] == 404
    assert call_api(deps, api_event("api/get_contact.json", path={"campaignId": "nope"}))[0] == 404
    assert call_api(deps, api_event("api/add_contacts.json", path={"campaignId": "nope"}))[0] == 404
    assert call_api(deps, api_event("api/dispatch_campaign.json", path={"campaignId": "nope"}))[0] == 404
    assert call_api(deps, api_event("api/cancel_contact.json", path={"campaignId": "nope"}))[0] == 404
    assert call_api(deps, api_event("api/get_call.json"))[0] == 404
    assert call_api(deps, api_event("api/get_call.json", path={"vendor": "acme"}))[0] == 404


def test_creating_with_the_same_campaign_id_is_idempotent(deps: Any) -> None:
    first = _create(deps, campaignId="cmp-fixed")[1]
    second = _create(deps, campaignId="cmp-fixed")[1]
    assert first["campaignId"] == second["campaignId"] == "cmp-fixed"
    assert (first["accepted"], second["accepted"], second["duplicates"]) == (1, 0, 1)
    status, body = _create(deps, campaignId="cmp-fixed", name="Another name")
    assert status == 409 and "another name" in body["message"]


def test_campaign_view_counts_contacts_by_state(deps: Any) -> None:
    _, created = call_api(deps, api_event("api/create_campaign.json"))
    status, view = call_api(deps, api_event("api/get_campaign.json", path={"campaignId": created["campaignId"]}))
    assert status == 200
    assert view["totalContacts"] == 2 and view["byState"] == {"queued": 2} and view["state"] == "queued"


def test_queued_contact_is_cancelled_locally_and_cancelling_again_is_harmless(deps: Any) -> None:
    _, created = _create(deps)
    event = api_event("api/cancel_contact.json", path={"campaignId": created["campaignId"], "contactId": "c1"})
    first = call_api(deps, event)
    second = call_api(deps, event)
    assert first[0] == second[0] == 200
    assert first[1]["state"] == "cancelled" and second[1]["state"] == "cancelled"
    assert first[1]["phone"] == "***4567"

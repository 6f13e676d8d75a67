"""The suppression list through the API, enforced at planning and again at dispatch, fed by vendor outcomes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from dialhub.dispositions import CallStatus, Disposition
from dialhub.models import CallOutcome, DialState
from dialhub.outcomes import record_outcomes
from tests.conftest import api_event, call_api, dispatch_records, drain_queue, plan_now, what_it_wrote
from tests.integration.test_blu_flow import _campaign

SUPPRESSED = "+63917123" + "0001"  # the phone of contact c1 in _campaign()


def _suppress(deps: Any, phone: str, **body: Any) -> tuple[int, Any]:
    return call_api(
        deps, api_event("api/put_suppression.json", path={"phone": phone}, body={"reason": "asked us to stop", **body})
    )


def test_suppressions_are_put_read_and_lifted_by_number_in_any_notation(deps: Any) -> None:
    status, stored = _suppress(deps, "09171230001")  # national notation, default region PH
    assert status == 200 and stored["phone"] == SUPPRESSED and stored["source"] == "api"
    status, found = call_api(deps, api_event("api/get_suppression.json", path={"phone": SUPPRESSED}))
    assert status == 200 and found["reason"] == "asked us to stop"
    assert call_api(deps, api_event("api/delete_suppression.json", path={"phone": SUPPRESSED}))[0] == 200
    assert call_api(deps, api_event("api/get_suppression.json", path={"phone": SUPPRESSED}))[0] == 404
    assert call_api(deps, api_event("api/delete_suppression.json", path={"phone": SUPPRESSED}))[0] == 404


def test_bad_suppression_requests_name_the_field(deps: Any) -> None:
    status, body = _suppress(deps, "12345")
    assert status == 422 and body["errors"][0]["field"] == "phone"
    status, body = _suppress(deps, SUPPRESSED, until="2020-01-01T00:00:00+00:00")
    assert status == 422 and body["errors"][0]["field"] == "until"
    status, body = call_api(deps, api_event("api/put_suppression.json", path={"phone": SUPPRESSED}, body={}))
    assert status == 422 and "body.reason" in [error["field"] for error in body["errors"]]


def test_suppressed_numbers_are_held_at_planning_and_at_dispatch_and_never_dialled(
    deps: Any, template: Any, blu_sim: Any
) -> None:
    campaign_id = _campaign(deps, count=4)
    assert _suppress(deps, SUPPRESSED)[0] == 200
    planned = plan_now(deps)
    assert planned["contacts"] == 3 and planned["held"] == 1
    # Suppressed after planning, before the batch is sent: the dispatcher holds it too.
    assert _suppress(deps, "+639171230002")[0] == 200
    dispatch_records(deps, drain_queue(deps, template))
    assert sum(blu_sim.dial_requests.values()) == 2

    _, view = call_api(deps, api_event("api/get_campaign.json", path={"campaignId": campaign_id}))
    assert view["heldBack"] == {"suppressed": 2} and view["byState"]["queued"] == 2
    _, contact = call_api(deps, api_event("api/get_contact.json", path={"campaignId": campaign_id, "contactId": "c1"}))
    assert contact["state"] == "queued"
    assert contact["hold"]["reason"] == "suppressed" and contact["hold"]["detail"] == "asked us to stop"

    # Lifted: the next run sends it, and only it.
    call_api(deps, api_event("api/delete_suppression.json", path={"phone": SUPPRESSED}))
    assert plan_now(deps) == {"campaigns": 1, "batches": 1, "contacts": 1, "held": 1, "unfinished": 0, "failed_over": 0}
    dispatch_records(deps, drain_queue(deps, template))
    assert sum(blu_sim.dial_requests.values()) == 3 and max(blu_sim.dial_requests.values()) == 1


def test_an_opt_out_from_any_vendor_suppresses_the_number_for_every_campaign(deps: Any, now: Any) -> None:
    first = _campaign(deps, count=2)
    deps.store.move_contact(first, "c1", DialState.SUBMITTED, allowed_from={DialState.QUEUED}, now=now)
    opt_out = CallOutcome(
        vendor="blu",
        vendor_call_id="9001",
        campaign_id=first,
        contact_id="c1",
        status=CallStatus.ANSWERED,
        disposition=Disposition.OPT_OUT,
    )
    record_outcomes([opt_out], deps.store, now)
    suppression = deps.store.get_suppression(SUPPRESSED)
    assert suppression is not None and suppression.source == "blu" and suppression.until is None
    # The vendor repeats the callback later: the number is on the list for good already; nothing changes.
    later = now + dt.timedelta(minutes=5)
    assert what_it_wrote(deps.store, lambda: record_outcomes([opt_out], deps.store, later))[1] == 0

    second = _campaign(deps, count=2)
    assert plan_now(deps)["held"] == 1
    assert deps.store.get_contact(second, "c1").hold.reason == "suppressed"


def test_a_suppression_with_an_end_is_kept_until_then_and_refused_unless_it_ends_later(deps: Any) -> None:
    now = dt.datetime.now(dt.UTC)
    until = (now + dt.timedelta(days=3)).replace(microsecond=0)
    status, stored = _suppress(deps, "0917 123 0001", until=until.isoformat())
    assert status == 200 and stored["until"] == until.isoformat().replace("+00:00", "Z")
    status, found = call_api(deps, api_event("api/get_suppression.json", path={"phone": "09171230001"}))
    assert status == 200 and found["until"] == stored["until"] and found["phone"] == SUPPRESSED
    for refused in (now - dt.timedelta(seconds=1), now.replace(tzinfo=None) + dt.timedelta(days=1)):
        status, body = _suppress(deps, SUPPRESSED, until=refused.isoformat())
        assert (status, body["errors"]) == (
            422,
            [{"field": "until", "problem": "must be a future time with a UTC offset"}],
        )
    frozen = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    deps.clock = lambda: frozen
    status, body = _suppress(deps, SUPPRESSED, until=frozen.isoformat())  # ending now: already over
    assert status == 422 and body["errors"][0]["field"] == "until"


def test_a_suppression_that_has_ended_is_not_found_and_numbers_are_read_in_the_default_region(deps: Any) -> None:
    frozen = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    deps.clock = lambda: frozen
    assert _suppress(deps, "09171230001", until=(frozen + dt.timedelta(hours=1)).isoformat())[0] == 200
    deps.clock = lambda: frozen + dt.timedelta(hours=2)
    status, body = call_api(deps, api_event("api/get_suppression.json", path={"phone": "09171230001"}))
    assert (status, body) == (404, {"message": "suppression for this number not found"})
    assert call_api(deps, api_event("api/delete_suppression.json", path={"phone": "09171230001"}))[0] == 200
    status, body = call_api(deps, api_event("api/delete_suppression.json", path={"phone": "09171230001"}))
    assert (status, body) == (404, {"message": "suppression for this number not found"})
    status, body = call_api(deps, api_event("api/get_suppression.json", path={"phone": "12345"}))
    assert (status, body["errors"]) == (
        422,
        [{"field": "phone", "problem": "not a valid number in its numbering plan"}],
    )


def test_only_a_do_not_call_outcome_of_a_known_contact_suppresses_and_says_so(deps: Any) -> None:
    from dialhub.suppressions import suppress_after_outcome

    now = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    campaign_id = _campaign(deps, count=2)

    def outcome(**changes: Any) -> CallOutcome:
        fields = {
            "vendor": "blu",
            "vendor_call_id": "s-1",
            "campaign_id": campaign_id,
            "contact_id": "c1",
            "status": CallStatus.ANSWERED,
            "disposition": Disposition.DO_NOT_CALL,
        }
        return CallOutcome(**(fields | changes))

    assert suppress_after_outcome(outcome(disposition=Disposition.PROMISE_TO_PAY), deps.store, now) is False
    assert suppress_after_outcome(outcome(campaign_id=None), deps.store, now) is False
    assert suppress_after_outcome(outcome(contact_id=None), deps.store, now) is False
    assert suppress_after_outcome(outcome(contact_id="nobody"), deps.store, now) is False
    assert deps.store.get_suppression(SUPPRESSED) is None
    assert suppress_after_outcome(outcome(), deps.store, now) is True
    assert suppress_after_outcome(outcome(), deps.store, now) is False  # on the list for good already
    stored = deps.store.get_suppression(SUPPRESSED)
    assert (stored.reason, stored.source, stored.until, stored.created_at) == (
        "do_not_call on a call",
        "blu",
        None,
        now,
    )

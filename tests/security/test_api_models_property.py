"""Property-based tests of the API's request models, through the real handler: for any body built from a valid
one with fields replaced by any JSON value, the answer is never a 5xx; a 422 names fields that exist in the
request or its model; a success answers the documented model."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from dialhub.campaigns import ContactIn, CreateCampaignRequest, IntakeResult
from dialhub.compliance import Policy
from dialhub.models import Suppression
from dialhub.suppressions import SuppressionRequest
from dialhub.wiring import Dependencies
from tests.security.conftest import json_values, overriding, record_figures, send, times_of_day

EXAMPLES = 50  # per route
_figures: Counter[str] = Counter()


def _aliases(model: type[BaseModel]) -> list[str]:
    return [field.alias or name for name, field in model.model_fields.items()]


CONTACT = {"contactId": "c1", "phone": "09171234567", "name": "Maria", "variables": {"amountDue": 4500}}
CAMPAIGN = {"name": "Property", "vendor": "blu", "vendorOptions": {"botId": 123}, "contacts": [CONTACT]}
POLICY = {
    "name": "prop-policy",
    "windows": [{"weekdays": [1, 2], "start": "09:00", "end": "17:00"}],
    "frequencyCap": {"attempts": 3, "days": 7},
    "redial": {"no_answer": {"retryAfterMinutes": 60}},
}
SUPPRESSION = {"reason": "asked not to be called", "until": "2099-01-01T00:00:00+00:00"}


def _contacts() -> st.SearchStrategy[Any]:
    contact_keys = _aliases(ContactIn)
    return st.lists(overriding(CONTACT, contact_keys, json_values(contact_keys)) | json_values(), max_size=3)


def _windows(base: dict[str, Any]) -> st.SearchStrategy[Any]:
    weekdays = st.lists(st.integers(min_value=-1, max_value=9), max_size=8)
    return overriding(
        base, ["start", "end", "weekdays"], json_values(), start=times_of_day(), end=times_of_day(), weekdays=weekdays
    )


def _campaigns() -> st.SearchStrategy[Any]:
    window = {"start": "09:00", "end": "20:00", "weekdays": [1, 2, 3, 4, 5]}
    return overriding(
        CAMPAIGN,
        _aliases(CreateCampaignRequest),
        json_values(),
        contacts=_contacts(),
        callingWindow=_windows(window),
        dialDate=st.dates().map(str),
        timezone=st.sampled_from(["Asia/Manila", "UTC", "Mars/Olympus", "", "../etc/passwd"]),
    )


def _policies() -> st.SearchStrategy[Any]:
    return overriding(
        POLICY,
        _aliases(Policy),
        json_values(),
        windows=st.lists(_windows(POLICY["windows"][0]), max_size=3),
        restrictedDates=st.lists(st.dates().map(str), max_size=3),
    )


# route -> (method, path strategy, body strategy, the model a success answers, path parameter names)
ROUTES = {
    "create campaign": ("POST", st.just("/campaigns"), _campaigns(), IntakeResult, []),
    "add contacts": (
        "POST",
        st.just("/campaigns/cmp-prop/contacts"),
        overriding({"contacts": [CONTACT]}, ["contacts"], _contacts() | json_values()),
        IntakeResult,
        ["campaignId"],
    ),
    "put policy": ("PUT", st.just("/policies/prop-policy"), _policies(), Policy, ["name"]),
    "put suppression": (
        "PUT",
        st.sampled_from(["+639171234567", "09171234567", "12345", "+1", "0" * 40, "\N{SUPERSCRIPT TWO}" * 5]).map(
            lambda phone: f"/suppressions/{phone}"
        ),
        overriding(SUPPRESSION, _aliases(SuppressionRequest), json_values(["reason", "until"])),
        Suppression,
        ["phone"],
    ),
}
MODELS = {
    "create campaign": CreateCampaignRequest,
    "add contacts": CreateCampaignRequest,
    "put policy": Policy,
    "put suppression": SuppressionRequest,
}


@pytest.fixture(scope="module", autouse=True)
def _record() -> Any:
    yield
    if _figures:
        record_figures("api_models_property", dict(sorted(_figures.items())))


def _names_a_real_field(field: str, body: Any, route: str) -> bool:
    """`body.x...`, `x...` or a path parameter (`path.p`), where x is a key the request sent or a model field."""
    segments = field.split(".")
    if segments[0] in ROUTES[route][4] or (segments[0] == "path" and segments[1:2] in ([p] for p in ROUTES[route][4])):
        return True
    if segments[0] == "body":
        segments = segments[1:]
        if not segments:
            return True  # the body as a whole (not an object, not JSON)
    known = set(_aliases(MODELS[route])) | {"contacts"}
    return segments[0] in known or (isinstance(body, dict) and segments[0] in body)


@pytest.mark.parametrize("route", sorted(ROUTES))
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_request_body_is_answered_without_5xx_and_a_422_names_real_fields(
    every_vendor: Dependencies, route: str, data: st.DataObject
) -> None:
    method, paths, bodies, success_model, _ = ROUTES[route]
    if route == "add contacts" and every_vendor.store.get_campaign("cmp-prop") is None:
        assert send(every_vendor, "POST", "/campaigns", body=CAMPAIGN | {"campaignId": "cmp-prop"}).status == 201
    path, body = data.draw(paths, label="path"), data.draw(bodies, label="body")
    answer = send(every_vendor, method, path, body=json.dumps(body))
    _figures[f"{route.replace(' ', '_')}_examples"] += 1
    _figures[f"status_{answer.status}"] += 1
    assert answer.status < 500, (answer.status, answer.body[:300])
    reply = answer.json()
    if answer.status == 422:
        assert reply["errors"], reply
        for error in reply["errors"]:
            assert error["problem"], error
            assert _names_a_real_field(error["field"], body, route), (error, body)
    elif answer.status < 300:
        success_model.model_validate(reply)
    else:
        assert answer.status in (404, 409) and reply["message"], (answer.status, reply)

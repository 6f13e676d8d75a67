"""events/ stays truthful: every stored event targets something template.yaml really declares."""

from __future__ import annotations

import json

import pytest

from local.template import SamTemplate
from tests.conftest import EVENTS, ROOT

TEMPLATE = SamTemplate(ROOT / "template.yaml")
ROUTE_KEYS = {route.route_key: route for route in TEMPLATE.routes}


@pytest.mark.parametrize(
    "path", sorted((EVENTS / "api").glob("*.json")) + sorted((EVENTS / "webhooks").glob("*.json")), ids=lambda p: p.name
)
def test_every_http_event_names_a_template_route(path) -> None:
    event = json.loads(path.read_text())
    route = ROUTE_KEYS.get(event["routeKey"])
    assert route is not None, f"{path.name}: {event['routeKey']} is not a route in template.yaml"
    has_iam = "iam" in event["requestContext"].get("authorizer", {})
    assert has_iam == (route.auth == "AWS_IAM")


def test_schedule_events_are_the_templates_inputs() -> None:
    inputs = {schedule.name_logical_id: schedule.input for schedule in TEMPLATE.schedules}
    assert json.loads((EVENTS / "schedules" / "daily_plan.json").read_text()) == inputs["DailyTaskCreation"]
    assert json.loads((EVENTS / "schedules" / "replan.json").read_text()) == inputs["HeldContactReplanning"]
    assert json.loads((EVENTS / "schedules" / "poll_results.json").read_text()) == inputs["ResultPolling"]


def test_every_internal_route_has_an_event() -> None:
    covered = {json.loads(p.read_text())["routeKey"] for p in (EVENTS / "api").glob("*.json")}
    internal = {key for key, route in ROUTE_KEYS.items() if route.auth == "AWS_IAM"}
    assert internal <= covered

"""Schema-driven fuzzing of the internal API from its own OpenAPI document (schemathesis): every operation gets
valid and invalid requests, half of them aimed at ids that exist, through the real handler as HTTP API would
deliver them. No answer may be a 5xx, carry an undocumented status or content type, or break its schema."""

from __future__ import annotations

from collections import Counter
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
import requests
import schemathesis
from hypothesis import given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from dialhub.wiring import Dependencies
from tests.conftest import ROOT, load_event
from tests.security.conftest import VendorSecrets, record_figures, send, send_callback

SCHEMA = schemathesis.openapi.from_path(str(ROOT / "docs" / "openapi.json"))
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = {schemathesis.GenerationMode.POSITIVE: 15, schemathesis.GenerationMode.NEGATIVE: 8}
BASE_URL = "https://api.dialhub.test"
_figures: Counter[str] = Counter()


@pytest.fixture(scope="module", autouse=True)
def _record() -> Any:
    yield
    if _figures:
        statuses = {key: value for key, value in sorted(_figures.items()) if key.startswith("status_")}
        record_figures(
            "schemathesis",
            {
                "operations": _figures["operations"],
                "cases": _figures["cases"],
                "server_errors": _figures["server_errors"],
                "schema_violations": _figures["schema_violations"],
                "statuses": statuses,
            },
        )


@pytest.fixture
def known_ids(every_vendor: Dependencies, vendor_secrets: VendorSecrets) -> dict[str, str]:
    """One of everything, so that half the cases reach a campaign, contact, call, suppression and policy that
    exist (a fuzzer's own ids almost never do)."""
    campaign = {
        "campaignId": "cmp-fuzz",
        "name": "Fuzz",
        "vendor": "blu",
        "vendorOptions": {"botId": 1},
        "contacts": [{"contactId": "c1", "phone": "09171234567", "name": "Maria"}],
    }
    assert send(every_vendor, "POST", "/campaigns", body=campaign).status == 201
    callback = load_event("webhooks/blu_result.json")["body"]
    assert send_callback(every_vendor, vendor_secrets, "blu", callback.encode()).status == 200
    suppression = {"reason": "asked not to be called"}
    assert send(every_vendor, "PUT", "/suppressions/+639181234567", body=suppression).status == 200
    policy = {"name": "fuzz-policy", "windows": [{"weekdays": [1, 2, 3], "start": "09:00", "end": "17:00"}]}
    assert send(every_vendor, "PUT", "/policies/fuzz-policy", body=policy).status == 200
    return {
        "campaignId": "cmp-fuzz",
        "contactId": "c1",
        "vendor": "blu",
        "vendorCallId": "123654789",
        "phone": "+639181234567",
        "name": "fuzz-policy",
    }


def _deliver(deps: Dependencies, case: schemathesis.Case) -> schemathesis.Response:
    """Send the case as the client library would put it on the wire, through the template's routes."""
    kwargs = case.as_transport_kwargs(base_url=BASE_URL)
    wire = {
        key: kwargs[key] for key in ("method", "url", "headers", "params", "json", "data", "cookies") if key in kwargs
    }
    prepared = requests.Request(**wire).prepare()
    url = urlsplit(prepared.url)
    body = prepared.body.encode() if isinstance(prepared.body, str) else prepared.body or b""
    answer = send(deps, prepared.method, unquote(url.path), body=body, headers=dict(prepared.headers), query=url.query)
    headers = {name: [value] for name, value in answer.headers.items()}
    return schemathesis.Response(answer.status, headers, answer.body, prepared, elapsed=0.0, verify=True)


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda operation: operation.label)
def test_no_operation_answers_5xx_or_outside_its_documented_schema(
    every_vendor: Dependencies, known_ids: dict[str, str], operation: Any
) -> None:
    _figures["operations"] += 1
    takes_input = any(operation.iter_parameters()) or len(operation.body) > 0
    for mode, examples in EXAMPLES.items():
        if mode is schemathesis.GenerationMode.NEGATIVE and not takes_input:
            continue  # nothing to send wrong: an operation without parameters or body has no invalid request

        @settings(max_examples=examples, deadline=None)
        @given(case=operation.as_strategy(generation_mode=mode), aim_at_known_ids=st.booleans())
        def fuzz(case: schemathesis.Case, aim_at_known_ids: bool) -> None:
            if aim_at_known_ids:
                for name in case.path_parameters or {}:
                    case.path_parameters[name] = known_ids.get(name, case.path_parameters[name])
            response = _deliver(every_vendor, case)
            _figures["cases"] += 1
            _figures[f"status_{response.status_code}"] += 1
            _figures["server_errors"] += response.status_code >= 500
            try:
                case.validate_response(response, checks=CHECKS)
            except BaseException:
                _figures["schema_violations"] += response.status_code < 500
                raise

        fuzz()

"""Hostile bodies at both doors: oversized, not JSON, not UTF-8, nested without end, numbers nothing can store,
emoji for a vendor that refuses them. Each is a clear 4xx that names what is wrong, and nothing is stored."""

from __future__ import annotations

import json
from typing import Any

import pytest

from dialhub.api import MAX_BODY_BYTES
from dialhub.wiring import Dependencies
from tests.conftest import function_module, load_event
from tests.security.conftest import (
    Answer,
    VendorSecrets,
    deps_for,
    record_figures,
    send,
    send_callback,
    stored_items,
)

GRINNING_FACE = "\N{GRINNING FACE}"
AIRUDDER_OPTIONS = {
    "robotId": "e9f60ec4e5f1721c7992dc882767eb19",
    "sipLine": "PH_LINE",
    "extraFields": {"ExtraA": "amountDue"},
}
VENDOR_OPTIONS = {"blu": {"botId": 123}, "nxtele": {"sceneID": "scene-1"}, "airudder": AIRUDDER_OPTIONS}
CALLBACKS = {
    "blu": ("", "webhooks/blu_result.json"),
    "nxtele": ("order", "webhooks/nxtele_order.json"),
    "airudder": ("call", "webhooks/airudder_call.json"),
}
_refused: dict[str, int] = {}
_stored_by_refused: list[int] = []


@pytest.fixture(scope="module", autouse=True)
def _figures() -> Any:
    yield
    if _refused:
        record_figures(
            "bad_input",
            {
                "hostile_requests_refused": sum(_refused.values()),
                "distinct_cases": len(_refused),
                "items_stored_by_refused_requests": sum(_stored_by_refused),
            },
        )


def _campaign(**changes: Any) -> dict[str, Any]:
    return {
        "name": "Bad input",
        "vendor": "blu",
        "vendorOptions": {"botId": 123},
        "contacts": [{"contactId": "c1", "phone": "09171234567", "name": "Maria", "variables": {"amountDue": 4500}}],
    } | changes


def _callback_body(vendor: str) -> dict[str, Any]:
    return json.loads(load_event(CALLBACKS[vendor][1])["body"])


def _refused_cleanly(deps: Dependencies, send_it: Any, status: int, label: str, field: str | None = None) -> Answer:
    """The request gets `status`, a JSON message (naming `field` when given) and leaves the table as it was."""
    before = stored_items(deps)
    answer = send_it()
    _stored_by_refused.append(stored_items(deps) - before)
    assert answer.status == status, (label, answer.status, answer.body[:300])
    assert _stored_by_refused[-1] == 0, f"{label}: stored something"
    text = answer.body.decode()
    assert "Traceback" not in text and answer.json()["message"], label
    if field is not None:
        assert field in text, (label, text[:300])
    _refused[label] = _refused.get(label, 0) + 1
    return answer


def _post_campaign(deps: Dependencies, body: Any, **headers: str) -> Any:
    return lambda: send(deps, "POST", "/campaigns", body=body, headers=headers)


# ------------------------------------------------------------------------------------------------ API
def test_an_oversized_body_is_413_before_anything_is_read(every_vendor: Dependencies) -> None:
    padding = "x" * (MAX_BODY_BYTES + 1)
    _refused_cleanly(
        every_vendor, _post_campaign(every_vendor, _campaign(name=padding)), 413, "api: oversized", field="body"
    )


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/xml",
        "multipart/form-data; boundary=x",
        "application/vnd.dialhub+json",
    ],
)
def test_a_body_that_is_not_json_is_415(every_vendor: Dependencies, content_type: str) -> None:
    answer = _refused_cleanly(
        every_vendor,
        _post_campaign(every_vendor, json.dumps(_campaign()), **{"content-type": content_type}),
        415,
        f"api: {content_type.split(';', maxsplit=1)[0]}",
    )
    assert "application/json" in answer.json()["errors"][0]["problem"]


def test_json_with_a_charset_or_without_a_content_type_is_accepted(every_vendor: Dependencies) -> None:
    for content_type in ("application/json; charset=utf-8", ""):
        answer = send(every_vendor, "POST", "/campaigns", body=_campaign(), headers={"content-type": content_type})
        assert answer.status == 201, (content_type, answer.body)


@pytest.mark.parametrize(
    ("label", "raw", "field"),
    [
        ("invalid UTF-8", b'{"name": "\xff\xfe", "vendor": "blu"}', "body"),
        ("a lone surrogate", b'{"name": "\\ud800", "vendor": "blu", "vendorOptions": {"botId": 1}}', "body.name"),
        ("nesting beyond the recursion limit", b"[" * 100_000 + b"]" * 100_000, "body"),
        (
            "nesting beyond 20 levels",
            json.dumps(
                _campaign(
                    vendorOptions={
                        "botId": 1,
                        "x": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]],
                    }
                )
            ).encode(),
            "body.vendorOptions.x",
        ),
        (
            "a 39-digit integer",
            json.dumps(_campaign(vendorOptions={"botId": 10**39})).encode(),
            "body.vendorOptions.botId",
        ),
        (
            "a 5000-digit integer",
            b'{"name": "n", "vendor": "blu", "vendorOptions": {"botId": ' + b"9" * 5000 + b"}}",
            "body.vendorOptions.botId",
        ),
        (
            "a float beyond 1e126",
            b'{"name": "n", "vendor": "blu", "vendorOptions": {"botId": 1e200}}',
            "body.vendorOptions.botId",
        ),
        (
            "1e400",
            b'{"name": "n", "vendor": "blu", "vendorOptions": {"botId": 1}, "contacts": [{"contactId": "c1", '
            b'"phone": "09171234567", "variables": {"amountDue": 1e400}}]}',
            "body.contacts.0.variables.amountDue",
        ),
        ("NaN", b'{"name": "n", "vendor": "blu", "vendorOptions": {"botId": NaN}}', "body.vendorOptions.botId"),
        (
            "-Infinity",
            b'{"name": "n", "vendor": "blu", "vendorOptions": {"botId": 1, "x": -Infinity}}',
            "body.vendorOptions.x",
        ),
        ("not JSON at all", b"{name: n}", "body"),
    ],
)
def test_a_body_that_cannot_be_stored_is_422_naming_the_field(
    every_vendor: Dependencies, label: str, raw: bytes, field: str
) -> None:
    answer = _refused_cleanly(every_vendor, _post_campaign(every_vendor, raw), 422, f"api: {label}", field=field)
    [error] = answer.json()["errors"]
    assert error["field"].startswith(field), (label, error)  # nesting names the level where it went too deep


@pytest.mark.parametrize("vendor", ["blu", "airudder"])
def test_emoji_in_a_name_is_refused_by_index_for_a_vendor_that_refuses_them_and_never_stored(
    every_vendor: Dependencies, vendor: str
) -> None:
    created = send(
        every_vendor,
        "POST",
        "/campaigns",
        body=_campaign(vendor=vendor, contacts=[], vendorOptions=VENDOR_OPTIONS[vendor]),
    )
    assert created.status == 201, created.body
    campaign_id = created.json()["campaignId"]
    contacts = [
        {"contactId": "ok", "phone": "+639171234567", "name": "Ana", "variables": {"amountDue": 10}},
        {
            "contactId": "emoji",
            "phone": "+639171234568",
            "name": f"Ana {GRINNING_FACE}",
            "variables": {"amountDue": 10},
        },
    ]
    answer = send(every_vendor, "POST", f"/campaigns/{campaign_id}/contacts", body={"contacts": contacts})
    assert answer.status == 200, answer.body
    body = answer.json()
    assert (body["accepted"], body["rejected"]) == (1, 1)
    [rejection] = body["rejections"]
    assert rejection["index"] == 1 and rejection["contactId"] == "emoji" and "name" in rejection["reason"]
    assert every_vendor.store.get_contact(campaign_id, "emoji") is None
    assert every_vendor.store.get_contact(campaign_id, "ok") is not None
    _refused[f"api: emoji for {vendor}"] = _refused.get(f"api: emoji for {vendor}", 0) + 1


def test_nxtele_takes_emoji_in_names(every_vendor: Dependencies) -> None:
    contacts = [{"contactId": "emoji", "phone": "+639171234568", "name": f"Ana {GRINNING_FACE}"}]
    answer = send(
        every_vendor,
        "POST",
        "/campaigns",
        body=_campaign(vendor="nxtele", contacts=contacts, vendorOptions=VENDOR_OPTIONS["nxtele"]),
    )
    assert answer.status == 201 and answer.json()["accepted"] == 1, answer.body


# ------------------------------------------------------------------------------------------------ webhooks
@pytest.mark.parametrize("vendor", ["blu", "nxtele", "airudder"])
def test_an_oversized_callback_is_413(every_vendor: Dependencies, vendor_secrets: VendorSecrets, vendor: str) -> None:
    limit = function_module("webhooks").MAX_CALLBACK_BYTES
    body = _callback_body(vendor) | {"padding": "x" * limit}
    _refused_cleanly(
        every_vendor,
        lambda: send_callback(every_vendor, vendor_secrets, vendor, body, kind=CALLBACKS[vendor][0]),
        413,
        f"{vendor}: oversized",
    )


def _hostile_callbacks(vendor: str) -> dict[str, tuple[bytes, str]]:
    """Label -> (raw body, what the 400 must name), each built on the vendor's real callback."""
    base = json.dumps(_callback_body(vendor))
    duration = {"blu": '"duration": 40', "nxtele": '"callDuration": 40', "airudder": '"Duration": 40'}[vendor]
    field = {"blu": "body.duration", "nxtele": "body.callInfoDetail.callDuration", "airudder": "body.Duration"}[vendor]
    assert duration in base, vendor

    def with_duration(value: str) -> bytes:
        return base.replace(duration, duration.replace("40", value)).encode()

    return {
        "invalid UTF-8": (base.encode().replace(b'"', b'"\xff', 1), "not UTF-8"),
        "a lone surrogate": (base.replace("{", '{"note": "\\udc00", ', 1).encode(), "body.note"),
        "nesting beyond the recursion limit": (b"[" * 100_000 + b"]" * 100_000, "nested"),
        "nesting beyond 20 levels": (base.replace("{", f'{{"deep": {"[" * 40}{"]" * 40}, ', 1).encode(), "body.deep"),
        "NaN": (with_duration("NaN"), field),
        "Infinity": (with_duration("Infinity"), field),
        "a 60-digit integer": (with_duration("9" * 60), field),
        "a 5000-digit integer": (with_duration("9" * 5000), field),
        "1e400": (with_duration("1e400"), field),
        "not JSON": (b"callId=1&duration=2", "JSON"),
    }


@pytest.mark.parametrize("vendor", ["blu", "nxtele", "airudder"])
def test_a_callback_that_cannot_be_stored_is_400_naming_the_field(
    every_vendor: Dependencies, vendor_secrets: VendorSecrets, vendor: str
) -> None:
    for label, (raw, named) in _hostile_callbacks(vendor).items():
        _refused_cleanly(
            every_vendor,
            lambda raw=raw: send_callback(every_vendor, vendor_secrets, vendor, raw, kind=CALLBACKS[vendor][0]),
            400,
            f"{vendor}: {label}",
            field=named,
        )


@pytest.mark.parametrize(
    ("vendor", "changes", "read_as"),
    [
        ("blu", {"duration": 10**30}, {"durationSeconds": None}),
        ("blu", {"duration": "\N{SUPERSCRIPT TWO}"}, {"durationSeconds": None}),
        (
            "nxtele",
            {"callInfoDetail": {"callID": "c-huge", "callDuration": 1e120, "callStartTs": 1e120}},
            {"durationSeconds": None, "startedAt": None},
        ),
        (
            "nxtele",
            {"callInfoDetail": {"callID": "c-inf", "callDuration": "inf", "callAnswerTs": "-inf"}},
            {"durationSeconds": None, "answeredAt": None},
        ),
        (
            "airudder",
            {"Duration": "1e300", "StartTime": "9999-12-31T23:59:59-12:00", "EndTime": 1e120},
            {"durationSeconds": None, "startedAt": None, "endedAt": None},
        ),
    ],
)
def test_absurd_but_storable_values_are_kept_as_unknown_not_a_crash(
    every_vendor: Dependencies,
    vendor_secrets: VendorSecrets,
    vendor: str,
    changes: dict[str, Any],
    read_as: dict[str, Any],
) -> None:
    """Valid JSON the vendor should never send (a 10^30-second call, the year 9999 west of UTC): the outcome is
    stored with that field unknown, where it used to be a 5xx the vendor would retry for ever."""
    body = _callback_body(vendor) | changes
    answer = send_callback(every_vendor, vendor_secrets, vendor, body, kind=CALLBACKS[vendor][0])
    assert answer.status == 200, answer.body
    call_id = {
        "blu": lambda: str(body["callId"]),
        "nxtele": lambda: body["callInfoDetail"]["callID"],
        "airudder": lambda: body["CallID"],
    }[vendor]()
    outcome = every_vendor.store.get_outcome(vendor, call_id)
    assert outcome is not None
    wire = outcome.to_wire()
    for name, value in read_as.items():
        assert wire.get(name) == value, (name, wire.get(name))


def test_a_blu_time_before_year_one_in_utc_is_kept_as_unknown(
    table_name: str, queue_url: str, vendor_secrets: VendorSecrets
) -> None:
    """Midnight of 1 January, year 1, in Tokyo is still year 0 in UTC: no datetime holds it (OverflowError)."""
    deps = deps_for(table_name, queue_url, vendor_secrets, blu={"timezone": "Asia/Tokyo"})
    body = _callback_body("blu") | {"callId": "year-one", "startTime": "0001-01-01 00:00:00"}
    assert send_callback(deps, vendor_secrets, "blu", body).status == 200
    outcome = deps.store.get_outcome("blu", "year-one")
    assert outcome is not None and outcome.started_at is None

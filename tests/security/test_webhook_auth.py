"""Every webhook route authenticates: a URL secret (Blu, AIRudder), a signature over the raw body with a signed
timestamp (NXTele, and AIRudder's optional one), an optional source-IP allowlist. Each rejection path answers
401, stores nothing and logs no secret; secrets are compared in constant time."""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable
from typing import Any

import pytest

from dialhub.wiring import Dependencies
from tests.conftest import load_event
from tests.security.conftest import (
    VENDOR_IP,
    CapturedLogs,
    VendorSecrets,
    deps_for,
    record_figures,
    redacted,
    send,
    send_callback,
    signed_nxtele_headers,
    stored_items,
)

# The kinds each vendor's adapter answers; every one is an open route that must authenticate.
KINDS = {"blu": ["", "predial"], "nxtele": ["call", "order", "task"], "airudder": ["call", "task"]}
# A stored callback of each vendor (with the kind it is posted to) that authenticates and stores an outcome.
EVENT_BODIES = {
    "blu": ("", "webhooks/blu_result.json"),
    "nxtele": ("order", "webhooks/nxtele_order.json"),
    "airudder": ("call", "webhooks/airudder_call.json"),
}
OUTSIDE_IP = "198.51.100.99"
ALLOWLIST = {"ipAllowlist": ["203.0.113.0/24"]}
_rejections: dict[str, int] = {}
_stored_after_rejection: list[int] = []


def _body(vendor: str) -> bytes:
    return load_event(EVENT_BODIES[vendor][1])["body"].encode()


def _kind(vendor: str) -> str:
    return EVENT_BODIES[vendor][0]


def _path(vendor: str) -> str:
    return f"/webhooks/{vendor}/{_kind(vendor)}" if _kind(vendor) else f"/webhooks/{vendor}"


@pytest.fixture(scope="module", autouse=True)
def _figures() -> Any:
    """Once the module has run: how many rejection paths and requests were proven, and what they left behind."""
    yield
    if _rejections:
        record_figures(
            "webhook_auth",
            {
                "rejection_paths": len(_rejections),
                "rejected_requests": sum(_rejections.values()),
                "items_stored_by_rejected_requests": sum(_stored_after_rejection),
                "paths": sorted(_rejections),
            },
        )


def _assert_refused(
    deps: Dependencies,
    logs: CapturedLogs,
    secrets: VendorSecrets,
    attempt: Callable[[], Any],
    label: str,
    presented: str = "",
) -> None:
    """The request is a 401 that stores nothing and logs neither our secrets nor the credential presented."""
    before = stored_items(deps)
    answer = attempt()
    _stored_after_rejection.append(stored_items(deps) - before)
    assert answer.status == 401, (label, answer.status, answer.body[:200])
    assert answer.json() == {"message": "unauthorized"}, label
    assert _stored_after_rejection[-1] == 0, f"{label}: a rejected callback stored something"
    assert any("callback failed authentication" in line for line in logs.lines), f"{label}: rejection not logged"
    leaks = logs.leaked(*secrets.all, presented)
    assert not leaks, f"{label}: logged {[redacted(leak) for leak in leaks]}"
    _rejections[label] = _rejections.get(label, 0) + 1


def test_valid_callbacks_are_accepted_so_the_rejections_below_are_not_vacuous(
    every_vendor: Dependencies, vendor_secrets: VendorSecrets
) -> None:
    for vendor in KINDS:
        before = stored_items(every_vendor)
        answer = send_callback(every_vendor, vendor_secrets, vendor, _body(vendor), kind=_kind(vendor))
        assert answer.status == 200, (vendor, answer.body)
        assert stored_items(every_vendor) > before, vendor


@pytest.mark.parametrize(("vendor", "kind"), [(v, k) for v, kinds in KINDS.items() for k in kinds])
def test_every_webhook_route_refuses_a_request_without_credentials(
    every_vendor: Dependencies, vendor_secrets: VendorSecrets, captured_logs: CapturedLogs, vendor: str, kind: str
) -> None:
    path = f"/webhooks/{vendor}/{kind}" if kind else f"/webhooks/{vendor}"
    _assert_refused(
        every_vendor,
        captured_logs,
        vendor_secrets,
        lambda: send(every_vendor, "POST", path, body=_body(vendor)),
        f"{vendor} {kind or '-'}: none",
    )


@pytest.mark.parametrize("vendor", ["blu", "airudder"])
def test_a_wrong_url_token_is_refused_however_close_it_is(
    every_vendor: Dependencies, vendor_secrets: VendorSecrets, captured_logs: CapturedLogs, vendor: str
) -> None:
    real = vendor_secrets.blu_token if vendor == "blu" else vendor_secrets.airudder_token
    wrong_tokens = {
        "other token of the same length": "x" * len(real),
        "the token with one character changed": real[:-1] + ("A" if real[-1] != "A" else "B"),
        "a prefix of the token": real[:-1],
        "the token with something appended": real + "0",
        "the token in upper case": real.upper() if real.upper() != real else real.lower(),
        "empty": "",
    }
    for label, token in wrong_tokens.items():
        _assert_refused(
            every_vendor,
            captured_logs,
            vendor_secrets,
            lambda token=token: send(every_vendor, "POST", _path(vendor), body=_body(vendor), query={"token": token}),
            f"{vendor}: {label}",
            presented=token,
        )


@pytest.mark.parametrize("vendor", ["blu", "nxtele", "airudder"])
def test_the_source_ip_allowlist_refuses_a_valid_credential_from_elsewhere(
    table_name: str, queue_url: str, vendor_secrets: VendorSecrets, captured_logs: CapturedLogs, vendor: str
) -> None:
    deps = deps_for(table_name, queue_url, vendor_secrets, **{vendor: ALLOWLIST})
    _assert_refused(
        deps,
        captured_logs,
        vendor_secrets,
        lambda: send_callback(deps, vendor_secrets, vendor, _body(vendor), kind=_kind(vendor), source_ip=OUTSIDE_IP),
        f"{vendor}: outside the allowlist",
    )
    inside = send_callback(deps, vendor_secrets, vendor, _body(vendor), kind=_kind(vendor), source_ip=VENDOR_IP)
    assert inside.status == 200


def test_nxtele_refuses_every_signature_problem(
    every_vendor: Dependencies, vendor_secrets: VendorSecrets, captured_logs: CapturedLogs
) -> None:
    body = _body("nxtele")
    tampered = body.replace(b'"callDuration": 40', b'"callDuration": 41')
    assert tampered != body
    cases: dict[str, tuple[bytes, dict[str, str]]] = {
        "no signature headers": (body, {}),
        "signed with another key": (body, signed_nxtele_headers(vendor_secrets, body, secret_key="not-our-key")),
        "body changed after signing": (tampered, signed_nxtele_headers(vendor_secrets, body)),
        "another account's uuid": (body, signed_nxtele_headers(vendor_secrets, body) | {"uuid": "0" * 32}),
        "signature missing": (
            body,
            {k: v for k, v in signed_nxtele_headers(vendor_secrets, body).items() if k != "sign"},
        ),
        "createTs not a number": (body, signed_nxtele_headers(vendor_secrets, body) | {"createTs": "soon"}),
    }
    for label, (raw, headers) in cases.items():
        _assert_refused(
            every_vendor,
            captured_logs,
            vendor_secrets,
            lambda raw=raw, headers=headers: send(
                every_vendor, "POST", "/webhooks/nxtele/order", body=raw, headers=headers
            ),
            f"nxtele: {label}",
        )


def test_nxtele_replay_window_refuses_a_signed_callback_older_or_newer_than_the_allowed_skew(
    every_vendor: Dependencies, vendor_secrets: VendorSecrets, captured_logs: CapturedLogs
) -> None:
    body = _body("nxtele")
    skew = 300  # NxteleAccount.max_clock_skew_seconds default
    for label, offset in {"replayed 6 minutes later": -(skew + 60), "dated 6 minutes ahead": skew + 60}.items():
        headers = signed_nxtele_headers(vendor_secrets, body, at=time.time() + offset)
        _assert_refused(
            every_vendor,
            captured_logs,
            vendor_secrets,
            lambda headers=headers: send(every_vendor, "POST", "/webhooks/nxtele/order", body=body, headers=headers),
            f"nxtele: {label}",
        )
    inside = signed_nxtele_headers(vendor_secrets, body, at=time.time() - (skew - 60))
    first = send(every_vendor, "POST", "/webhooks/nxtele/order", body=body, headers=inside)
    stored = stored_items(every_vendor)
    again = send(every_vendor, "POST", "/webhooks/nxtele/order", body=body, headers=inside)
    assert (first.status, again.status) == (200, 200)
    assert stored_items(every_vendor) == stored, "a replay inside the window is a duplicate: it changes nothing"


def test_airudder_optional_signature_is_enforced_once_enabled(
    table_name: str, queue_url: str, vendor_secrets: VendorSecrets, captured_logs: CapturedLogs
) -> None:
    deps = deps_for(table_name, queue_url, vendor_secrets, airudder={"verifySignature": True})
    body = _body("airudder")
    good = hmac.new(vendor_secrets.airudder_app_secret.encode(), body, "sha256").hexdigest()
    token = {"token": vendor_secrets.airudder_token}
    cases = {
        "no signature": {},
        "wrong signature": {"x-airudder-sign": "0" * 64},
        "signature of another body": {
            "x-airudder-sign": hmac.new(vendor_secrets.airudder_app_secret.encode(), body + b" ", "sha256").hexdigest()
        },
    }
    for label, headers in cases.items():
        _assert_refused(
            deps,
            captured_logs,
            vendor_secrets,
            lambda headers=headers: send(
                deps, "POST", "/webhooks/airudder/call", body=body, headers=headers, query=token
            ),
            f"airudder: {label}",
        )
    signed = send(deps, "POST", "/webhooks/airudder/call", body=body, headers={"x-airudder-sign": good}, query=token)
    assert signed.status == 200


@pytest.mark.parametrize("vendor", ["blu", "nxtele", "airudder"])
def test_credentials_are_compared_in_constant_time(
    every_vendor: Dependencies, vendor_secrets: VendorSecrets, monkeypatch: pytest.MonkeyPatch, vendor: str
) -> None:
    """The secret (or the signature expected from it) goes through hmac.compare_digest, never `==`."""
    compared: list[tuple[bytes, bytes]] = []
    real_compare = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        compared.append(
            (
                bytes(a, "utf-8") if isinstance(a, str) else bytes(a),
                bytes(b, "utf-8") if isinstance(b, str) else bytes(b),
            )
        )
        return real_compare(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    body = _body(vendor)
    if vendor == "nxtele":
        headers = signed_nxtele_headers(vendor_secrets, body)
        expected = headers["sign"].encode()
        answer = send(
            every_vendor, "POST", _path(vendor), body=body, headers=headers | {"sign": "F" * len(headers["sign"])}
        )
    else:
        expected = (vendor_secrets.blu_token if vendor == "blu" else vendor_secrets.airudder_token).encode()
        answer = send(every_vendor, "POST", _path(vendor), body=body, query={"token": "z" * len(expected)})
    assert answer.status == 401
    assert any(expected in pair for pair in compared), "the credential was not compared with compare_digest"

"""The command line's SigV4 signatures, checked as API Gateway checks them: a local server takes each request as
it arrived (method, raw path and query, headers, body), computes the signature again with botocore from its own
copy of the credentials, and compares it with the one in the Authorization header. `--stack` finds that server
through a CloudFormation stack's ApiUrl output (moto)."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from moto import mock_aws
from typer.testing import CliRunner, Result

from dialhub_cli.app import app

REGION = "eu-west-1"
KEY_ID, SECRET, TOKEN = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "session-token-example"


@dataclass
class Checked:
    method: str
    path: str
    body: bytes
    headers: dict[str, str]
    verdict: str  # "valid", or what did not match


@dataclass
class VerifyingServer:
    """Answers like the API when the signature is right, 403 as API Gateway does when it is not."""

    key_id: str = KEY_ID
    secret: str = SECRET
    seen: list[Checked] = field(default_factory=list)

    def verdict(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> str:
        authorization = headers.get("authorization", "")
        if not authorization.startswith("AWS4-HMAC-SHA256 "):
            return "not signed"
        parts = dict(part.strip().split("=", 1) for part in authorization.removeprefix("AWS4-HMAC-SHA256 ").split(","))
        key_id, date, region, service, terminal = parts["Credential"].split("/")
        if (key_id, region, service, terminal) != (self.key_id, REGION, "execute-api", "aws4_request"):
            return f"scope {parts['Credential']}"
        signed_headers = parts["SignedHeaders"].split(";")
        if not {"host", "x-amz-date"} <= set(signed_headers) or not headers["x-amz-date"].startswith(date):
            return f"signed headers {signed_headers}"
        request = AWSRequest(
            method=method,
            url=f"http://{headers['host']}{raw_path}",
            data=body,
            headers={name: headers[name] for name in signed_headers},
        )
        request.context["timestamp"] = headers["x-amz-date"]
        signer = SigV4Auth(Credentials(self.key_id, self.secret, headers.get("x-amz-security-token")), service, region)
        expected = signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)
        return "valid" if expected == parts["Signature"] else "signature differs"


@pytest.fixture
def server() -> Iterator[tuple[VerifyingServer, str]]:
    verifying = VerifyingServer()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            headers = {name.lower(): value for name, value in self.headers.items()}
            verdict = verifying.verdict(self.command, self.path, headers, body)
            verifying.seen.append(Checked(self.command, self.path, body, headers, verdict))
            status, answer = (200, self._body(body)) if verdict == "valid" else (403, {"message": verdict})
            payload = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _body(self, body: bytes) -> dict[str, Any]:
            if self.path.startswith("/suppressions/"):
                return {"phone": "+639171234567", "source": "api", "createdAt": "2026-12-01T00:00:00Z"} | json.loads(
                    body
                )
            if self.path.startswith("/outcomes"):
                return {"items": [], "nextCursor": "next", "hasMore": False}
            return {"items": [], "nextCursor": None}

        def do_GET(self) -> None:
            self._answer()

        def do_PUT(self) -> None:
            self._answer()

        def do_POST(self) -> None:
            self._answer()

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield verifying, f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(autouse=True)
def _credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_SESSION_TOKEN", TOKEN)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # never ask an instance metadata endpoint
    for name in ("DIALHUB_URL", "DIALHUB_STACK", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def test_a_signed_get_with_a_query_is_verified_by_botocore_on_the_other_side(
    server: tuple[VerifyingServer, str],
) -> None:
    verifying, url = server
    result = run("--url", url, "--sigv4", "--region", REGION, "campaigns", "list", "--status", "active", "--json")
    assert result.exit_code == 0, result.stderr
    [checked] = verifying.seen
    assert checked.verdict == "valid"
    assert checked.path == "/campaigns?status=active&limit=50"
    assert checked.headers["x-amz-security-token"] == TOKEN
    signed = checked.headers["authorization"].split("SignedHeaders=")[1].split(",")[0].split(";")
    assert "x-amz-security-token" in signed and "connection" not in signed and "accept-encoding" not in signed


def test_a_signed_put_with_a_body_and_an_encoded_phone_is_verified(server: tuple[VerifyingServer, str]) -> None:
    verifying, url = server
    result = run("--url", url, "--sigv4", "--region", REGION, "suppress", "+639171234567", "--reason", "asked")
    assert result.exit_code == 0, result.stderr
    [checked] = verifying.seen
    assert checked.verdict == "valid"
    assert (checked.method, checked.path) == ("PUT", "/suppressions/%2B639171234567")
    assert json.loads(checked.body) == {"reason": "asked"}
    assert checked.headers["content-type"] == "application/json"


def test_a_cursor_with_reserved_characters_signs_as_sent(server: tuple[VerifyingServer, str]) -> None:
    verifying, url = server
    result = run("--url", url, "--sigv4", "--region", REGION, "outcomes", "--after", "ab+/c= d~", "--limit", "3")
    assert result.exit_code == 0, result.stderr
    [checked] = verifying.seen
    assert checked.verdict == "valid" and checked.path == "/outcomes?after=ab%2B%2Fc%3D%20d~&limit=3"


def test_a_wrong_secret_is_refused_and_the_command_says_so(server: tuple[VerifyingServer, str]) -> None:
    verifying, url = server
    verifying.secret = "another-secret"
    result = run("--url", url, "--sigv4", "--region", REGION, "campaigns", "list")
    assert result.exit_code == 1
    assert [checked.verdict for checked in verifying.seen] == ["signature differs"]
    assert result.stderr.strip() == "error: 403: signature differs"


def test_unsigned_without_sigv4(server: tuple[VerifyingServer, str]) -> None:
    verifying, url = server
    result = run("--url", url, "campaigns", "list")
    assert result.exit_code == 1
    assert [checked.verdict for checked in verifying.seen] == ["not signed"]


def test_stack_reads_the_api_url_from_the_stack_outputs_and_signs(server: tuple[VerifyingServer, str]) -> None:
    verifying, url = server
    template = {
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {"ApiUrl": {"Value": url}, "EventBusName": {"Value": "dialhub-prod"}},
    }
    with mock_aws():  # which puts its own credentials in the environment: the ones the command signs with
        verifying.key_id, verifying.secret = os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"]
        boto3.client("cloudformation", region_name=REGION).create_stack(
            StackName="dialhub-prod", TemplateBody=json.dumps(template)
        )
        result = run("--stack", "dialhub-prod", "--region", REGION, "campaigns", "list", "--json")
        missing = run("--stack", "dialhub-nope", "--region", REGION, "campaigns", "list")
    assert result.exit_code == 0, result.stderr
    assert [checked.verdict for checked in verifying.seen] == ["valid"]
    assert missing.exit_code == 1 and "cannot read stack dialhub-nope in eu-west-1" in missing.stderr


def test_without_credentials_it_says_how_to_give_them(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    for name in (
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
    ):
        monkeypatch.delenv(name, raising=False)
    result = run("--url", "http://127.0.0.1:9", "--sigv4", "--region", REGION, "campaigns", "list")
    assert result.exit_code == 1 and "no AWS credentials found to sign with" in result.stderr
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    no_region = run("--url", "http://127.0.0.1:9", "--sigv4", "campaigns", "list")
    assert no_region.exit_code == 1 and "no AWS region" in no_region.stderr

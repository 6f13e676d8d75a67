"""The API over HTTP: URLs built in SigV4's canonical encoding, JSON in and out, and every failure turned into
one error the command line can say in a sentence (the API's own message and, for a 422, each field)."""

from __future__ import annotations

import json
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

# Characters SigV4 leaves unencoded in a path segment or a query value (RFC 3986's unreserved): a URL built
# this way is the one botocore signs, byte for byte, whatever a cursor or a phone holds.
UNRESERVED = "-_.~"


class CliError(Exception):
    """Something to tell the user (stderr) before exiting with status 1."""

    def __init__(self, message: str, details: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []


class ApiError(CliError):
    """The API answered with an error status; `message` and `details` are its own words."""

    def __init__(self, status: int, message: str, details: list[str] | None = None) -> None:
        super().__init__(f"{status}: {message}", details)
        self.status = status


def api_error(response: httpx.Response) -> ApiError:
    """The error the API (or API Gateway, or S3) answered, as it said it."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        problems = body.get("errors") or []
        details = [
            f"{problem.get('field', '?')}: {problem.get('problem', '?')}"
            for problem in problems
            if isinstance(problem, dict)
        ]
        return ApiError(response.status_code, body["message"], details)
    text = " ".join(response.text.split())[:300] or response.reason_phrase
    return ApiError(response.status_code, text)


def unreachable(url: str, exc: httpx.HTTPError) -> CliError:
    """A request that got no answer, said plainly (what failed and what usually fixes it)."""
    where = httpx.URL(url).copy_with(query=None)
    cause = exc.__cause__ or exc.__context__
    if isinstance(exc, httpx.TimeoutException):
        return CliError(f"no answer from {where} in time ({type(exc).__name__}); try again, or raise --timeout")
    if isinstance(cause, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(exc):
        return CliError(
            f"{where.host}:{where.port or 443}'s TLS certificate is not trusted",
            ["give the certificate that signed it with --ca-bundle (or AWS_CA_BUNDLE / SSL_CERT_FILE)"],
        )
    if isinstance(exc, httpx.ConnectError):
        return CliError(
            f"cannot connect to {where}: {exc}", ["is the API running there (make serve), and the URL right?"]
        )
    return CliError(f"the request to {where} failed: {exc}")


def path_of(*segments: str) -> str:
    """/a/b with each segment encoded whole: a phone's `+` becomes %2B, a `/` in an id cannot add a segment."""
    return "".join("/" + quote(segment, safe=UNRESERVED) for segment in segments)


def query_of(parameters: Mapping[str, str | int | None]) -> str:
    present = [(name, str(value)) for name, value in parameters.items() if value is not None]
    return "&".join(f"{quote(name, safe=UNRESERVED)}={quote(value, safe=UNRESERVED)}" for name, value in present)


@dataclass
class Api:
    """One base URL (the stack's ApiUrl, or make serve's), an optional signer, a timeout."""

    base_url: str
    auth: httpx.Auth | None = None
    verify: ssl.SSLContext | bool = True
    timeout: float = 30.0
    _client: httpx.Client | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(timeout=self.timeout, verify=self.verify, follow_redirects=False)
        return self._client

    def url(self, path: str, query: Mapping[str, str | int | None] | None = None) -> str:
        encoded = query_of(query or {})
        return f"{self.base_url}{path}" + (f"?{encoded}" if encoded else "")

    def call(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str | int | None] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> Any:
        url = self.url(path, query)
        content = json.dumps(body, separators=(",", ":")).encode() if body is not None else None
        headers = {"accept": "application/json"}
        if body is not None:
            headers["content-type"] = "application/json"
        try:
            response = self.client.request(method, url, content=content, headers=headers, auth=self.auth)
        except httpx.HTTPError as exc:
            raise unreachable(url, exc) from exc
        if response.is_error:
            raise api_error(response)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise CliError(f"{method} {path} answered {response.status_code} with something not JSON") from exc

    def get(self, *segments: str, query: Mapping[str, str | int | None] | None = None) -> Any:
        return self.call("GET", path_of(*segments), query=query)

    def post(self, *segments: str, body: Mapping[str, Any] | None = None) -> Any:
        return self.call("POST", path_of(*segments), body=body if body is not None else {})

    def put(self, *segments: str, body: Mapping[str, Any]) -> Any:
        return self.call("PUT", path_of(*segments), body=body)

    def delete(self, *segments: str) -> Any:
        return self.call("DELETE", path_of(*segments))

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

"""SigV4 for the API's AWS_IAM routes, by botocore's own signer (service `execute-api`).

Only the request's content type is signed besides what SigV4 itself adds (host, x-amz-date, the session
token): headers a proxy or API Gateway may rewrite (connection, accept-encoding) would break a signature that
covered them.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import httpx
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

SERVICE = "execute-api"
SIGNED_REQUEST_HEADERS = ("content-type",)
SIGNATURE_HEADERS = ("Authorization", "X-Amz-Date", "X-Amz-Security-Token")


class SigV4(httpx.Auth):
    """Signs each request as it is sent, with credentials read then (so a refreshed role session is used)."""

    requires_request_body = True

    def __init__(self, credentials: Callable[[], Any], region: str, service: str = SERVICE) -> None:
        self._credentials = credentials
        self.region = region
        self.service = service

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        headers = {name: request.headers[name] for name in SIGNED_REQUEST_HEADERS if name in request.headers}
        signed = AWSRequest(method=request.method, url=str(request.url), data=request.content, headers=headers)
        SigV4Auth(self._credentials(), self.service, self.region).add_auth(signed)
        for name in SIGNATURE_HEADERS:
            if name in signed.headers:
                request.headers[name] = signed.headers[name]
        yield request

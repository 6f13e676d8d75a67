"""A local stand-in for the template's API Gateway HTTP API.

It serves the routes read from template.yaml by building the payload format 2.0 event HTTP API would
send, invoking the real handler in-process and turning its proxy response back into HTTP, so handlers
see the same events offline as deployed. Route selection, 404s for unmatched routes and methods, the
10 MB payload limit, the URL-decoded rawPath and the 500 on a Lambda error follow HTTP API's behaviour.

Local differences, on purpose:
- AWS_IAM routes are served WITHOUT SigV4 verification. Their events still carry a
  requestContext.authorizer.iam block (access key taken from the Authorization header when present, a
  fixed local caller otherwise) so handlers see what an IAM-authorized request looks like.
- JWT/Lambda authorizers are not emulated; their routes are served as if unauthenticated.
- There is no 30-second integration timeout and no 6 MB Lambda payload limit.
"""

from __future__ import annotations

import base64
import json
import os
import re
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qsl, unquote, urlsplit

from local.template import DEFAULT_ACCOUNT_ID, Route

MAX_REQUEST_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit.
LOCAL_API_ID = "local"
LOCAL_CALLER_ACCESS_KEY = "AKIALOCALGATEWAY0000"
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_SIGV4_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/")

InvokeFunction = Callable[[str, dict[str, Any]], Any]


class InvalidLambdaResponseError(Exception):
    """The handler returned something HTTP API would answer with a 500."""


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


@dataclass(frozen=True)
class AccessLogEntry:
    """The fields of the template's access log format, for an optional access log callable."""

    request_id: str
    route_key: str
    status: int
    ip: str
    latency_ms: int
    method: str
    path: str
    caller: str | None


# --------------------------------------------------------------------------- route selection


@dataclass(frozen=True)
class RouteMatch:
    route: Route
    path_parameters: dict[str, str]


@dataclass(frozen=True)
class _CompiledRoute:
    route: Route
    segments: tuple[tuple[str, str], ...]  # ("literal"|"param"|"greedy", text or parameter name)
    specificity: tuple[int, ...]


_SEGMENT_RANK = {"literal": 0, "param": 1, "greedy": 2}


class RouteTable:
    """Picks the route HTTP API would: literal segments beat {param}, {param} beats {proxy+},
    an exact method beats ANY, and $default only catches what nothing else does."""

    def __init__(self, routes: Iterable[Route]) -> None:
        compiled = [self._compile(route) for route in routes]
        self._routes = sorted(compiled, key=lambda item: item.specificity)

    @staticmethod
    def _compile(route: Route) -> _CompiledRoute:
        if route.path == "$default":
            return _CompiledRoute(route, (), (9,))
        segments: list[tuple[str, str]] = []
        for text in _split_path(route.path):
            if text.startswith("{") and text.endswith("+}"):
                segments.append(("greedy", text[1:-2]))
            elif text.startswith("{") and text.endswith("}"):
                segments.append(("param", text[1:-1]))
            else:
                segments.append(("literal", text))
        ranks = tuple(_SEGMENT_RANK[kind] for kind, _ in segments)
        method_rank = 1 if route.method == "ANY" else 0
        # Longer literal prefixes first; within the same shape, an exact method before ANY.
        return _CompiledRoute(route, tuple(segments), (*ranks, 8, method_rank))

    def match(self, method: str, path: str) -> RouteMatch | None:
        """The route for an already URL-decoded path (HTTP API decodes before it routes)."""
        request_segments = _split_path(path)
        for compiled in self._routes:
            if compiled.route.method not in (method, "ANY"):
                continue
            if compiled.route.path == "$default":
                return RouteMatch(compiled.route, {})
            parameters = _match_segments(compiled.segments, request_segments)
            if parameters is not None:
                return RouteMatch(compiled.route, parameters)
        return None


def _split_path(path: str) -> list[str]:
    return [] if path in ("", "/") else path[1:].split("/")


def _match_segments(pattern: tuple[tuple[str, str], ...], request: list[str]) -> dict[str, str] | None:
    parameters: dict[str, str] = {}
    for index, (kind, text) in enumerate(pattern):
        if kind == "greedy":
            rest = "/".join(request[index:])
            if not rest:
                return None
            parameters[text] = rest
            return parameters
        if index >= len(request):
            return None
        segment = request[index]
        if kind == "literal":
            if segment != text:
                return None
        elif not segment:
            return None
        else:
            parameters[text] = segment
    return parameters if len(pattern) == len(request) else None


# --------------------------------------------------------------------------- event and response


def build_http_api_event(
    *,
    route: Route,
    path_parameters: Mapping[str, str],
    method: str,
    raw_path: str,
    raw_query_string: str,
    header_pairs: Iterable[tuple[str, str]],
    body: bytes,
    source_ip: str,
    protocol: str = "HTTP/1.1",
    stage: str = "$default",
    request_id: str | None = None,
    now: datetime | None = None,
    account_id: str = DEFAULT_ACCOUNT_ID,
) -> dict[str, Any]:
    """The payload format 2.0 event API Gateway HTTP API sends for this request."""
    now = now or datetime.now(UTC)
    request_id = request_id or new_request_id()
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in header_pairs:
        lowered = name.lower()
        if lowered == "cookie":
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
        elif lowered in headers:
            headers[lowered] = f"{headers[lowered]},{value}"
        else:
            headers[lowered] = value
    headers.setdefault("x-forwarded-for", source_ip)
    headers.setdefault("x-forwarded-proto", "http")
    headers.setdefault("x-amzn-trace-id", f"Root=1-{int(now.timestamp()):08x}-{os.urandom(12).hex()}")
    domain_name = headers.get("host", "localhost").rsplit(":", 1)[0] or "localhost"

    query: dict[str, str] = {}
    for name, value in parse_qsl(raw_query_string, keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value

    request_context: dict[str, Any] = {
        "accountId": account_id,
        "apiId": LOCAL_API_ID,
        "domainName": domain_name,
        "domainPrefix": domain_name.split(".", 1)[0],
        "http": {
            "method": method,
            "path": raw_path,
            "protocol": protocol,
            "sourceIp": source_ip,
            "userAgent": headers.get("user-agent", ""),
        },
        "requestId": request_id,
        "routeKey": route.route_key,
        "stage": stage,
        "time": _api_gateway_time(now),
        "timeEpoch": int(now.timestamp() * 1000),
    }
    if route.auth == "AWS_IAM":
        request_context["authorizer"] = {"iam": _iam_caller(headers.get("authorization", ""), account_id)}

    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.route_key,
        "rawPath": raw_path,
        "rawQueryString": raw_query_string,
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = headers
    if query:
        event["queryStringParameters"] = query
    event["requestContext"] = request_context
    if path_parameters:
        event["pathParameters"] = dict(path_parameters)
    event["isBase64Encoded"] = False
    if body:
        try:
            event["body"] = body.decode("utf-8")
        except UnicodeDecodeError:
            event["body"] = base64.b64encode(body).decode("ascii")
            event["isBase64Encoded"] = True
    return event


def http_response_from_lambda(result: Any) -> HttpResponse:
    """Turn a handler's return value into the HTTP response HTTP API (format 2.0) would send."""
    if not isinstance(result, dict) or "statusCode" not in result:
        # Format 2.0 infers the response: 200, JSON, the return value itself as the body.
        body = json.dumps(result).encode()
        return HttpResponse(200, [("content-type", "application/json")], body)
    status = result["statusCode"]
    if isinstance(status, bool) or not isinstance(status, int | str) or not str(status).isdigit():
        raise InvalidLambdaResponseError(f"statusCode must be an integer, got {status!r}")
    headers = result.get("headers") or {}
    cookies = result.get("cookies") or []
    if not isinstance(headers, dict) or not isinstance(cookies, list):
        raise InvalidLambdaResponseError("headers must be an object and cookies a list")
    raw_body = result.get("body")
    if raw_body is None:
        body = b""
    elif not isinstance(raw_body, str):
        raise InvalidLambdaResponseError(f"body must be a string, got {type(raw_body).__name__}")
    elif result.get("isBase64Encoded"):
        body = base64.b64decode(raw_body)
    else:
        body = raw_body.encode()
    header_list = [(str(name), str(value)) for name, value in headers.items()]
    header_list.extend(("set-cookie", str(cookie)) for cookie in cookies)
    return HttpResponse(int(status), header_list, body)


def new_request_id() -> str:
    """An id shaped like HTTP API's (e.g. "JKJaXmPLvHcESHA=")."""
    return base64.b64encode(os.urandom(11)).decode("ascii")[:15] + "="


def _api_gateway_time(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    return f"{moment:%d}/{_MONTHS[moment.month - 1]}/{moment:%Y:%H:%M:%S} +0000"


def _iam_caller(authorization: str, account_id: str) -> dict[str, Any]:
    credential = _SIGV4_CREDENTIAL.search(authorization)
    return {
        "accessKey": credential.group(1) if credential else LOCAL_CALLER_ACCESS_KEY,
        "accountId": account_id,
        "callerId": "AIDALOCALGATEWAYCALLER",
        "cognitoIdentity": None,
        "principalOrgId": None,
        "userArn": f"arn:aws:iam::{account_id}:user/local-gateway",
        "userId": "AIDALOCALGATEWAYCALLER",
    }


def _json_message(status: int, message: str) -> HttpResponse:
    return HttpResponse(status, [("content-type", "application/json")], json.dumps({"message": message}).encode())


# --------------------------------------------------------------------------- the server


class _RequestTooLargeError(Exception):
    pass


class _BadRequestError(Exception):
    pass


class _GatewayServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], gateway: LocalGateway) -> None:
        super().__init__(address, _GatewayRequestHandler)
        self.gateway = gateway


class _GatewayRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "dialhub-local-gateway"
    server: _GatewayServer

    def do_GET(self) -> None:
        self.server.gateway.handle(self)

    def do_POST(self) -> None:
        self.server.gateway.handle(self)

    def do_PUT(self) -> None:
        self.server.gateway.handle(self)

    def do_PATCH(self) -> None:
        self.server.gateway.handle(self)

    def do_DELETE(self) -> None:
        self.server.gateway.handle(self)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: requests go to the access log callable, if any."""


class LocalGateway:
    """Serves `routes` over HTTP, invoking `invoke(function_id, event)` for each matched request.

    Requests to one function are serialized by a semaphore of `workers_per_function`, as one Lambda
    execution environment handles one request at a time. Here every environment of a function shares one
    module, so a function that keeps the request in module state (Powertools' resolver keeps it on its `app`)
    is named in `one_at_a_time`: two of its requests at once would read each other's, which Lambda never does.
    """

    def __init__(
        self,
        routes: list[Route],
        invoke: InvokeFunction,
        host: str = "127.0.0.1",
        port: int = 0,
        workers_per_function: int = 1,
        *,
        one_at_a_time: frozenset[str] = frozenset(),
        stage: str = "$default",
        access_log: Callable[[AccessLogEntry], None] | None = None,
        account_id: str = DEFAULT_ACCOUNT_ID,
    ) -> None:
        if workers_per_function < 1:
            raise ValueError("workers_per_function must be at least 1")
        self.routes = list(routes)
        self.route_table = RouteTable(self.routes)
        self.invoke = invoke
        self.host = host
        self.requested_port = port
        self.stage = stage
        self.access_log = access_log
        self.account_id = account_id
        self._function_slots = {
            route.function_id: threading.BoundedSemaphore(
                1 if route.function_id in one_at_a_time else workers_per_function
            )
            for route in self.routes
        }
        self._server: _GatewayServer | None = None
        self._thread: threading.Thread | None = None

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> Self:
        if self._server is not None:
            raise RuntimeError("gateway already started")
        self._server = _GatewayServer((self.host, self.requested_port), self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            name="local-gateway",
            kwargs={"poll_interval": 0.1},
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("gateway not started")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """Base URL, including the stage like the template's ApiUrl output when it is not $default."""
        base = f"http://{self.host}:{self.port}"
        return base if self.stage == "$default" else f"{base}/{self.stage}"

    # ----------------------------------------------------------------- requests

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        started = time.monotonic()
        request_id = new_request_id()
        method = request.command
        target = urlsplit(request.path)
        # HTTP API hands Lambda the path URL-decoded (rawPath and http.path alike) and routes on that, so
        # an encoded "/" separates segments; the query string stays encoded.
        raw_path = unquote(target.path or "/")
        route_key = "-"
        caller: str | None = None
        try:
            body = _read_body(request)
        except _RequestTooLargeError:
            request.close_connection = True
            response = _json_message(413, "Request Entity Too Large")
        except _BadRequestError:
            request.close_connection = True
            response = _json_message(400, "Bad Request")
        else:
            match = self._match(method, raw_path)
            if match is None:
                response = _json_message(404, "Not Found")
            else:
                route_key = match.route.route_key
                event = build_http_api_event(
                    route=match.route,
                    path_parameters=match.path_parameters,
                    method=method,
                    raw_path=raw_path,
                    raw_query_string=target.query,
                    header_pairs=request.headers.items(),
                    body=body,
                    source_ip=request.client_address[0],
                    protocol=request.request_version,
                    stage=self.stage,
                    request_id=request_id,
                    account_id=self.account_id,
                )
                event["headers"].setdefault("x-forwarded-port", str(self.port))
                iam = event["requestContext"].get("authorizer", {}).get("iam")
                caller = iam["userArn"] if iam else None
                response = self._invoke(match.route, event)
        self._write(request, response, request_id)
        if self.access_log is not None:
            self.access_log(
                AccessLogEntry(
                    request_id=request_id,
                    route_key=route_key,
                    status=response.status,
                    ip=request.client_address[0],
                    latency_ms=int((time.monotonic() - started) * 1000),
                    method=method,
                    path=raw_path,
                    caller=caller,
                )
            )

    def _match(self, method: str, raw_path: str) -> RouteMatch | None:
        route_path = raw_path
        if self.stage != "$default":
            prefix = f"/{self.stage}"
            if raw_path != prefix and not raw_path.startswith(prefix + "/"):
                return None
            route_path = raw_path[len(prefix) :] or "/"
        return self.route_table.match(method, route_path)

    def _invoke(self, route: Route, event: dict[str, Any]) -> HttpResponse:
        request_id = event["requestContext"]["requestId"]
        try:
            with self._function_slots[route.function_id]:
                result = self.invoke(route.function_id, event)
            return http_response_from_lambda(result)
        except Exception:  # Any Lambda error becomes API Gateway's 500.
            print(
                f"[local-gateway] {route.function_id} failed on {route.route_key} (requestId {request_id}); "
                "answering 500 as API Gateway does on a Lambda error:\n" + traceback.format_exc(),
                file=sys.stderr,
                flush=True,
            )
            return _json_message(500, "Internal Server Error")

    @staticmethod
    def _write(request: BaseHTTPRequestHandler, response: HttpResponse, request_id: str) -> None:
        request.send_response(response.status)
        for name, value in response.headers:
            if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                request.send_header(name, value)
        request.send_header("apigw-requestid", request_id)
        request.send_header("content-length", str(len(response.body)))
        if request.close_connection:
            request.send_header("connection", "close")
        request.end_headers()
        request.wfile.write(response.body)


def _read_body(request: BaseHTTPRequestHandler) -> bytes:
    if "chunked" in request.headers.get("transfer-encoding", "").lower():
        return _read_chunked(request)
    length_header = request.headers.get("content-length")
    if length_header is None:
        return b""
    try:
        length = int(length_header)
    except ValueError:
        raise _BadRequestError from None
    if length < 0:
        raise _BadRequestError
    if length > MAX_REQUEST_BODY_BYTES:
        raise _RequestTooLargeError
    return request.rfile.read(length)


def _read_chunked(request: BaseHTTPRequestHandler) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while True:
        size_line = request.rfile.readline(1024).split(b";", 1)[0].strip()
        try:
            size = int(size_line, 16)
        except ValueError:
            raise _BadRequestError from None
        if size == 0:
            while request.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                pass  # Trailers.
            return b"".join(chunks)
        total += size
        if total > MAX_REQUEST_BODY_BYTES:
            raise _RequestTooLargeError
        chunks.append(request.rfile.read(size))
        request.rfile.readline(1024)  # CRLF after the chunk.

"""The local gateway and drivers must hand handlers the events API Gateway, Scheduler and SQS would."""

from __future__ import annotations

import base64
import http.client
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from moto import mock_aws

from local.drivers import ScheduleDriver, SqsDriver
from local.gateway import MAX_REQUEST_BODY_BYTES, AccessLogEntry, LocalGateway, RouteTable
from local.handlers import FakeLambdaContext
from local.template import Route, SamTemplate
from tests.conftest import create_template_queues

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = SamTemplate(REPO_ROOT / "template.yaml")
EXTRA_ROUTES = [
    Route("GET", "/boom", "BoomFunction", "NONE"),
    Route("GET", "/plain", "PlainFunction", "NONE"),
    Route("GET", "/binary", "BinaryFunction", "NONE"),
    Route("GET", "/slow", "SlowFunction", "NONE"),
]


class FakeFunctions:
    """Stands in for the stack's invoke: records events and answers per function."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.active_slow = 0
        self.max_active_slow = 0
        self._lock = threading.Lock()

    def __call__(self, function_id: str, event: dict[str, Any]) -> Any:
        self.events.append((function_id, event))
        if function_id == "BoomFunction":
            raise RuntimeError("boom from the handler")
        if function_id == "PlainFunction":
            return {"hello": "world"}
        if function_id == "BinaryFunction":
            return {
                "statusCode": 201,
                "headers": {"content-type": "application/octet-stream"},
                "cookies": ["a=1", "b=2; Path=/"],
                "body": base64.b64encode(b"\x00\xff\x10").decode(),
                "isBase64Encoded": True,
            }
        if function_id == "SlowFunction":
            with self._lock:
                self.active_slow += 1
                self.max_active_slow = max(self.max_active_slow, self.active_slow)
            time.sleep(0.2)
            with self._lock:
                self.active_slow -= 1
        return {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": json.dumps(event)}


@pytest.fixture
def functions() -> FakeFunctions:
    return FakeFunctions()


@pytest.fixture
def gateway(functions: FakeFunctions) -> Iterator[LocalGateway]:
    with LocalGateway([*TEMPLATE.routes, *EXTRA_ROUTES], functions) as running:
        yield running


def request(
    gateway: LocalGateway,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, http.client.HTTPMessage, bytes]:
    connection = http.client.HTTPConnection(gateway.host, gateway.port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def echoed_event(gateway: LocalGateway, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
    status, _, body = request(gateway, method, path, **kwargs)
    assert status == 200, body
    return json.loads(body)


# --------------------------------------------------------------------------- events


def test_iam_route_event_is_payload_format_2(gateway: LocalGateway) -> None:
    event = echoed_event(
        gateway,
        "POST",
        "/campaigns/c-1/contacts?x=1&x=2&note=a%20b",
        body=b'{"contacts": []}',
        headers={"Content-Type": "application/json", "X-Dup": "one", "Cookie": "s=1; t=2"},
    )
    assert event["version"] == "2.0"
    assert event["routeKey"] == "POST /campaigns/{campaignId}/contacts"
    assert event["rawPath"] == "/campaigns/c-1/contacts"
    assert event["rawQueryString"] == "x=1&x=2&note=a%20b"
    assert event["queryStringParameters"] == {"x": "1,2", "note": "a b"}
    assert event["pathParameters"] == {"campaignId": "c-1"}
    assert event["cookies"] == ["s=1", "t=2"]
    assert event["headers"]["content-type"] == "application/json"
    assert event["headers"]["x-dup"] == "one"
    assert "cookie" not in event["headers"]
    assert event["body"] == '{"contacts": []}'
    assert event["isBase64Encoded"] is False

    context = event["requestContext"]
    assert context["routeKey"] == "POST /campaigns/{campaignId}/contacts"
    assert context["stage"] == "$default"
    assert context["apiId"] == "local"
    assert context["accountId"] == "123456789012"
    assert context["http"]["method"] == "POST"
    assert context["http"]["path"] == "/campaigns/c-1/contacts"
    assert context["http"]["protocol"] == "HTTP/1.1"
    assert context["http"]["sourceIp"] == "127.0.0.1"
    assert isinstance(context["timeEpoch"], int)
    assert context["requestId"]
    assert "iam" in context["authorizer"]


def test_public_route_has_no_authorizer_and_omits_empty_fields(gateway: LocalGateway) -> None:
    event = echoed_event(gateway, "POST", "/webhooks/blu/predial", body=b"token=x")
    assert event["routeKey"] == "POST /webhooks/{vendor}/{kind}"
    assert event["pathParameters"] == {"vendor": "blu", "kind": "predial"}
    assert "authorizer" not in event["requestContext"]
    assert "queryStringParameters" not in event
    assert "cookies" not in event


def test_path_is_url_decoded_like_http_api_does(gateway: LocalGateway) -> None:
    event = echoed_event(gateway, "GET", "/calls/blu/c%C3%A9%2042?q=a%20b")
    assert event["routeKey"] == "GET /calls/{vendor}/{vendorCallId}"
    assert event["rawPath"] == "/calls/blu/c\u00e9 42"
    assert event["requestContext"]["http"]["path"] == "/calls/blu/c\u00e9 42"
    assert event["pathParameters"] == {"vendor": "blu", "vendorCallId": "c\u00e9 42"}
    assert event["rawQueryString"] == "q=a%20b"  # The query string stays encoded.
    assert "body" not in event
    # A decoded "/" separates segments, so this has one segment too many for the route.
    assert request(gateway, "GET", "/calls/blu/a%2Fb")[0] == 404


def test_duplicate_headers_are_comma_joined(gateway: LocalGateway) -> None:
    connection = http.client.HTTPConnection(gateway.host, gateway.port, timeout=10)
    try:
        connection.putrequest("GET", "/campaigns/c-9")
        connection.putheader("X-Multi", "a")
        connection.putheader("X-Multi", "b")
        connection.endheaders()
        event = json.loads(connection.getresponse().read())
    finally:
        connection.close()
    assert event["headers"]["x-multi"] == "a,b"


def test_binary_body_is_base64_encoded(gateway: LocalGateway) -> None:
    payload = b"\x89PNG\r\n\x1a\n\x00\xff"
    event = echoed_event(gateway, "POST", "/webhooks/nxtele", body=payload)
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == payload


# --------------------------------------------------------------------------- routing and errors


def test_unknown_path_and_wrong_method_are_404(gateway: LocalGateway, functions: FakeFunctions) -> None:
    for method, path in (("GET", "/nope"), ("PATCH", "/campaigns"), ("DELETE", "/campaigns/c-1"), ("GET", "/")):
        status, _, body = request(gateway, method, path)
        assert status == 404, (method, path)
        assert json.loads(body) == {"message": "Not Found"}
    assert functions.events == []


def test_handler_exception_is_500_and_logged(gateway: LocalGateway, capsys: pytest.CaptureFixture[str]) -> None:
    status, headers, body = request(gateway, "GET", "/boom")
    assert status == 500
    assert json.loads(body) == {"message": "Internal Server Error"}
    assert headers["apigw-requestid"]
    assert "boom from the handler" in capsys.readouterr().err


def test_oversized_body_is_413(gateway: LocalGateway, functions: FakeFunctions) -> None:
    connection = http.client.HTTPConnection(gateway.host, gateway.port, timeout=10)
    try:
        connection.putrequest("POST", "/webhooks/blu")
        connection.putheader("Content-Length", str(MAX_REQUEST_BODY_BYTES + 1))
        connection.endheaders()
        response = connection.getresponse()
        assert response.status == 413
        assert json.loads(response.read()) == {"message": "Request Entity Too Large"}
    finally:
        connection.close()
    assert functions.events == []


def test_plain_return_value_becomes_200_json(gateway: LocalGateway) -> None:
    status, headers, body = request(gateway, "GET", "/plain")
    assert status == 200
    assert headers["content-type"] == "application/json"
    assert json.loads(body) == {"hello": "world"}


def test_base64_response_body_and_cookies(gateway: LocalGateway) -> None:
    status, headers, body = request(gateway, "GET", "/binary")
    assert status == 201
    assert body == b"\x00\xff\x10"
    assert headers.get_all("set-cookie") == ["a=1", "b=2; Path=/"]


def test_one_function_handles_one_request_at_a_time(gateway: LocalGateway, functions: FakeFunctions) -> None:
    threads = [threading.Thread(target=request, args=(gateway, "GET", "/slow")) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert functions.max_active_slow == 1
    assert len(functions.events) == 3


def test_a_function_that_keeps_the_request_in_module_state_gets_one_request_at_a_time(
    functions: FakeFunctions,
) -> None:
    with (
        LocalGateway([*TEMPLATE.routes, *EXTRA_ROUTES], functions, workers_per_function=3) as concurrent,
        LocalGateway(
            [*TEMPLATE.routes, *EXTRA_ROUTES],
            functions,
            workers_per_function=3,
            one_at_a_time=frozenset({"SlowFunction"}),
        ) as one_at_a_time,
    ):
        overlapping: dict[LocalGateway, int] = {}
        for gateway in (concurrent, one_at_a_time):
            functions.max_active_slow = 0
            threads = [threading.Thread(target=request, args=(gateway, "GET", "/slow")) for _ in range(3)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            overlapping[gateway] = functions.max_active_slow
        assert overlapping[concurrent] > 1 and overlapping[one_at_a_time] == 1


def test_the_local_stack_serves_one_request_at_a_time_to_every_function_answering_through_a_resolver() -> None:
    from local.stack import REQUEST_IN_MODULE_STATE

    served = {route.function_id for route in TEMPLATE.routes}
    resolving = {
        function_id
        for function_id in served
        for spec in [TEMPLATE.functions[function_id]]
        if ".resolve(" in (spec.code_uri / f"{spec.handler.split('.')[0]}.py").read_text()
    }
    assert resolving == {"ApiFunction"} and resolving <= REQUEST_IN_MODULE_STATE


def test_more_specific_routes_win() -> None:
    table = RouteTable(
        [
            Route("ANY", "/things/{proxy+}", "Greedy", "NONE"),
            Route("GET", "/things/{thingId}", "Param", "NONE"),
            Route("GET", "/things/special", "Literal", "NONE"),
            Route("ANY", "/things/special", "AnyLiteral", "NONE"),
            Route("GET", "/a/{x}/c", "ParamFirst", "NONE"),
            Route("GET", "/a/b/{y}", "LiteralFirst", "NONE"),
        ]
    )

    def function_for(method: str, path: str) -> str | None:
        match = table.match(method, path)
        return match.route.function_id if match else None

    assert function_for("GET", "/things/special") == "Literal"
    assert function_for("POST", "/things/special") == "AnyLiteral"
    assert function_for("GET", "/things/42") == "Param"
    assert function_for("POST", "/things/42") == "Greedy"
    assert function_for("GET", "/things/42/parts/7") == "Greedy"
    assert table.match("GET", "/things/42/parts/7").path_parameters == {"proxy": "42/parts/7"}  # type: ignore[union-attr]
    assert function_for("GET", "/a/b/c") == "LiteralFirst"
    assert function_for("GET", "/things") is None
    assert function_for("GET", "/things/") is None


def test_named_stage_prefixes_the_path(functions: FakeFunctions) -> None:
    entries: list[AccessLogEntry] = []
    with LocalGateway(TEMPLATE.routes, functions, stage="dev", access_log=entries.append) as gw:
        assert gw.url.endswith("/dev")
        event = echoed_event(gw, "GET", "/dev/campaigns/c-1")
        assert request(gw, "GET", "/campaigns/c-1")[0] == 404
    assert event["rawPath"] == "/dev/campaigns/c-1"
    assert event["routeKey"] == "GET /campaigns/{campaignId}"
    assert event["requestContext"]["stage"] == "dev"
    # Each request logged once (a request's line is written after its answer, so two may come in either order).
    assert sorted((entry.route_key, entry.status) for entry in entries) == [
        ("-", 404),
        ("GET /campaigns/{campaignId}", 200),
    ]


# --------------------------------------------------------------------------- schedule driver


def test_schedule_driver_delivers_the_input_verbatim() -> None:
    calls: list[tuple[str, dict[str, Any]]] = []
    driver = ScheduleDriver(TEMPLATE, lambda function_id, event: calls.append((function_id, event)) or "done")
    assert driver.names() == ["DailyTaskCreation", "HeldContactReplanning", "ResultPolling"]
    assert driver.fire("DailyTaskCreation") == "done"
    driver.fire("dialhub-dev-poll")
    assert calls == [
        ("SchedulerFunction", {"kind": "daily_plan"}),
        ("PollerFunction", {"kind": "poll_results"}),
    ]
    with pytest.raises(KeyError, match="NoSuchSchedule"):
        driver.fire("NoSuchSchedule")


# --------------------------------------------------------------------------- SQS driver


@pytest.fixture
def sqs_queues(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, dict[str, str]]]:
    """The template's queues, DLQ redrive included, created in moto."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        urls, _ = create_template_queues(TEMPLATE, sqs)
        yield sqs, urls


def test_sqs_driver_deletes_successes_and_redelivers_failures_until_the_dlq(
    sqs_queues: tuple[Any, dict[str, str]],
) -> None:
    sqs, urls = sqs_queues
    source = TEMPLATE.sqs_source("DispatcherFunction")
    for body in ("ok-1", "fail", "ok-2"):
        sqs.send_message(
            QueueUrl=urls["DispatchQueue"],
            MessageBody=body,
            MessageAttributes={"vendor": {"DataType": "String", "StringValue": "blu"}},
        )
    batches: list[list[dict[str, Any]]] = []

    def dispatcher(function_id: str, event: dict[str, Any]) -> dict[str, Any]:
        assert function_id == "DispatcherFunction"
        batches.append(event["Records"])
        failures = [record["messageId"] for record in event["Records"] if record["body"] == "fail"]
        return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failures]}

    driver = SqsDriver(sqs, source, urls["DispatchQueue"], dispatcher)

    first = driver.drain(max_rounds=1)
    assert (first.received, first.deleted, first.returned) == (3, 2, 1)
    record = batches[0][0]
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"].endswith(":dialhub-dev-dispatch")
    assert record["awsRegion"] == "us-east-1"
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert record["messageAttributes"]["vendor"]["stringValue"] == "blu"
    assert record["messageAttributes"]["vendor"]["dataType"] == "String"
    assert record["md5OfBody"]

    second = driver.drain(max_rounds=1)
    assert second.received == 1  # The failed message came back at once; the two successes are gone.
    assert batches[1][0]["body"] == "fail"
    assert batches[1][0]["attributes"]["ApproximateReceiveCount"] == "2"

    rest = driver.drain(max_rounds=20)
    # Receives 3, 4 and 5; the sixth receive moves it to the DLQ (maxReceiveCount 5).
    assert rest.received == 3
    dead = sqs.receive_message(QueueUrl=urls["DispatchDeadLetterQueue"], MaxNumberOfMessages=10)["Messages"]
    assert [message["Body"] for message in dead] == ["fail"]
    remaining = sqs.get_queue_attributes(QueueUrl=urls["DispatchQueue"], AttributeNames=["All"])["Attributes"]
    assert remaining["ApproximateNumberOfMessages"] == "0"
    assert remaining["ApproximateNumberOfMessagesNotVisible"] == "0"


def test_sqs_driver_keeps_the_whole_batch_when_the_handler_raises(
    sqs_queues: tuple[Any, dict[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    sqs, urls = sqs_queues
    source = TEMPLATE.sqs_source("DispatcherFunction")
    for body in ("a", "b"):
        sqs.send_message(QueueUrl=urls["DispatchQueue"], MessageBody=body)

    def broken(function_id: str, event: dict[str, Any]) -> None:
        raise RuntimeError("dispatcher crashed")

    stats = SqsDriver(sqs, source, urls["DispatchQueue"], broken).drain(max_rounds=1)
    assert (stats.received, stats.deleted, stats.returned, stats.handler_errors) == (2, 0, 2, 1)
    assert "dispatcher crashed" in capsys.readouterr().err

    delivered: list[str] = []

    def healthy(function_id: str, event: dict[str, Any]) -> None:
        delivered.extend(record["body"] for record in event["Records"])

    again = SqsDriver(sqs, source, urls["DispatchQueue"], healthy).drain()
    assert sorted(delivered) == ["a", "b"]
    assert again.deleted == 2


def test_sqs_driver_treats_an_unknown_item_identifier_as_a_failed_batch(
    sqs_queues: tuple[Any, dict[str, str]],
) -> None:
    sqs, urls = sqs_queues
    source = TEMPLATE.sqs_source("DispatcherFunction")
    driver = SqsDriver(sqs, source, urls["DispatchQueue"], lambda function_id, event: None)
    assert driver.failed_message_ids(None, ["m1", "m2"]) == set()
    assert driver.failed_message_ids({"batchItemFailures": []}, ["m1", "m2"]) == set()
    assert driver.failed_message_ids({"batchItemFailures": [{"itemIdentifier": "m2"}]}, ["m1", "m2"]) == {"m2"}
    assert driver.failed_message_ids({"batchItemFailures": [{"itemIdentifier": "zz"}]}, ["m1", "m2"]) == {
        "m1",
        "m2",
    }
    assert driver.failed_message_ids({"batchItemFailures": [{"itemIdentifier": ""}]}, ["m1"]) == {"m1"}


def test_sqs_driver_runs_in_the_background(sqs_queues: tuple[Any, dict[str, str]]) -> None:
    sqs, urls = sqs_queues
    source = TEMPLATE.sqs_source("DispatcherFunction")
    delivered = threading.Event()

    def dispatcher(function_id: str, event: dict[str, Any]) -> None:
        delivered.set()

    driver = SqsDriver(sqs, source, urls["DispatchQueue"], dispatcher)
    driver.run_in_background(interval=0.05)
    try:
        sqs.send_message(QueueUrl=urls["DispatchQueue"], MessageBody="later")
        assert delivered.wait(timeout=5)
    finally:
        driver.stop()


def test_events_are_understood_by_powertools_http_resolver() -> None:
    app = APIGatewayHttpResolver()

    @app.get("/campaigns/<campaignId>")
    def get_campaign(campaignId: str) -> dict[str, Any]:
        return {
            "campaignId": campaignId,
            "view": app.current_event.get_query_string_value("view"),
            "iam": app.current_event.request_context.authorizer.iam.user_arn,
        }

    @app.post("/webhooks/<vendor>")
    def webhook(vendor: str) -> dict[str, Any]:
        event = app.current_event
        return {
            "vendor": vendor,
            "binary": event.is_base64_encoded,
            "size": len(base64.b64decode(event.body)),
        }

    def invoke(function_id: str, event: dict[str, Any]) -> dict[str, Any]:
        return app.resolve(event, FakeLambdaContext(function_name=function_id))

    for stage, prefix in (("$default", ""), ("dev", "/dev")):
        with LocalGateway(TEMPLATE.routes, invoke, stage=stage) as gw:
            status, _, body = request(gw, "GET", f"{prefix}/campaigns/c%207?view=full")
            assert status == 200, body
            assert json.loads(body) == {
                "campaignId": "c 7",
                "view": "full",
                "iam": "arn:aws:iam::123456789012:user/local-gateway",
            }
            status, _, body = request(gw, "POST", f"{prefix}/webhooks/blu", body=b"\xffbinary")
            assert status == 200, body
            assert json.loads(body) == {"vendor": "blu", "binary": True, "size": 7}

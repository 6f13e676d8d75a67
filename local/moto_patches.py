"""Changes to moto for the long-running, many-threaded local stack: its DynamoDB first.

1. Transactions that do not copy whole tables. moto rolls a failed TransactWriteItems back by deep-copying
   every table it touches before each transaction, so every stored callback costs time in proportion to the
   table, and a rollback puts back those copies whole, erasing whatever other threads wrote meanwhile. Here
   every condition is checked first, under one lock, and the writes happen only when all hold: the same
   outcome for the updates dialhub sends, without the copies.
2. One DynamoDB request at a time. moto's tables are plain dicts: a query iterating a table while another
   request thread inserts fails ("dictionary changed size during iteration"), and a conditional write reads,
   checks and writes without a lock, so two threads can both pass a condition only one should. Real DynamoDB
   does neither. Serialising requests costs nothing here (the GIL serialises them anyway).
3. Queries that do not sort the whole table. moto's query walks every item of the table, sorted, before it
   keeps the ones with the asked key (and then sorts those again): with thousands of contacts and calls
   every query cost tens of milliseconds. Inside a query the walk is left unsorted; scans keep moto's order.
4. Update expressions parsed once and their clauses counted once. moto parses an UpdateExpression twice per
   request and counts its SET/REMOVE/ADD clauses again at every node of the tree (quadratic in the number of
   attributes): an outcome's 25-attribute SET took it 20 ms. The parse is kept per expression text (moto's
   validator works on a copy) and the clauses are counted once, from the root, which finds every clause.
   Each of the validator's ten tree walks also rebuilt its map of node types at every node and asked ABC
   isinstance questions whose answers never change for a class: the map is built once per walker and the
   answers are kept per class. The validator's private copy of a parsed expression is unpickled from bytes
   kept with it (a third of what copy.deepcopy took).
5. Condition expressions parsed once per expression, names and values. moto parses a ConditionExpression
   twice per request (once to check the names it uses, once to evaluate it), a millisecond each; the parsed
   condition only reads the item it is given, so one parse serves every request that sends the same text.
6. Item reads answered as plain JSON. moto writes every answer through a serializer that walks the
   operation's output shape value by value, about 3 ms per item returned: a query page of a thousand contacts
   took seconds. The data operations' answers are already DynamoDB JSON, so they are written as they are
   (nulls left out, as the serializer leaves them out); anything else still goes through moto's serializer.
   The same for a stream's GetRecords (its times as the epoch seconds the wire carries).
7. The server's service lookup kept per host. moto's server finds which service a request is for by listing
   its own package directory on disk, twice per request (a third of a claim's time over HTTP); the answer for
   a host never changes.

And two for S3, where moto is less strict than S3 in ways the export bucket depends on:
8. A bucket policy's `aws:SecureTransport` condition is honoured. moto applies a bucket policy's statements
   with their conditions ignored, so the template's "deny requests without TLS" would deny every request.
   Here a statement conditioned on the transport applies only to requests that came that way (the local
   stack serves S3 over TLS, as AWS does); a plain-HTTP request is refused, as S3 refuses it.
9. A presigned URL expires. moto serves a presigned GET whatever its X-Amz-Date and X-Amz-Expires say; here
   it is refused with S3's 403 "Request has expired" once they are past (`presigned_clock` tells the time).

And one for DynamoDB streams, where moto writes records DynamoDB does not:
10. A stream record only for a write that changed the item. moto records every write, even one that leaves
   the item as it was, and an UpdateItem that creates an item records it twice: first as a bare key, then
   whole. DynamoDB records neither the no-op nor the bare key, and the events function reads every record.

And one for EventBridge:
11. Each rule target's paths parsed once. moto builds every event it delivers to a target from a template of
   eight JSONPath expressions, parsing each again for every event with a parser generator: thousands of
   events took minutes. A parsed path only reads the event it is given, so one parse serves every event.

And one for S3's notifications through EventBridge, which the import bucket depends on:
12. An "Object Created" event as S3 sends it. moto gives every S3 event the same `id` (its documentation
   example's) and sequencer, spells the ETag `eTag` where S3 writes `etag`, gives `reason` as "ObjectCreated"
   where S3 names the request ("PutObject", "POST Object", "CopyObject", "CompleteMultipartUpload"), writes a
   `version-id` of "null" for an unversioned bucket (S3 leaves it out), hands the event to the rules of every
   bus, disabled ones too (S3 sends to the default bus, and a disabled rule matches nothing), and sends a
   completed multipart upload twice (once as a PutObject). A consumer that deduplicates by event id would drop
   every upload but the first. Here each event has its own id, request id and an increasing sequencer.
   (moto's "Object Tags Added" event with every PUT, tagged or not, is left as it is: it is a detail-type of its
   own, which a rule for "Object Created" does not match.)

And one for SQS:
13. SQS's message-move task (StartMessageMoveTask, ListMessageMoveTasks), which moto does not have: the
   re-drive of a dead-letter queue. Here the task runs at once, inside the start request: every message of the
   dead-letter queue is sent to the queue whose redrive policy names it (or to the destination asked for) as a
   new message, received zero times, and deleted from the dead-letter queue; the listing then shows the task
   COMPLETED with the number moved. SQS moves them over seconds to minutes, so a caller reads the listing for
   progress either way.

The local stack applies them while it runs and restores moto's own when it stops; the tests' in-process moto
applies them too, since dispatch settles contacts on several threads while callbacks arrive on others.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import pickle
import secrets
import string
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

from jsonpath_ng import ext as jsonpath_ext
from moto.core.responses import ActionResult, BaseResponse
from moto.core.utils import unix_time
from moto.dynamodb import comparisons as moto_comparisons
from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import (
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
)
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import StreamShard, Table
from moto.dynamodb.parsing import expressions as moto_expressions
from moto.dynamodb.parsing import validators as moto_validators
from moto.dynamodb.parsing.ast_nodes import DepthFirstTraverser, Node  # type: ignore[attr-defined]  # moto's own
from moto.dynamodb.parsing.validators import ActionCountValidator
from moto.dynamodb.responses import DynamoHandler
from moto.dynamodbstreams.responses import DynamoDBStreamsHandler
from moto.events.utils import EventMessageType
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.s3 import notifications as s3_notifications
from moto.s3.models import FakeBucket
from moto.s3.responses import S3Response
from moto.sqs.exceptions import QueueDoesNotExist, SQSException
from moto.sqs.responses import SQSResponse

_TRANSACTIONS = threading.Lock()
_ONE_REQUEST_AT_A_TIME = threading.RLock()
_querying = threading.local()
_MAX_ITEMS = 100


def _key_of(backend: DynamoDBBackend, op_type: str, op: dict[str, Any]) -> dict[str, Any]:
    if op_type != "Put":
        return op["Key"]
    table = backend.get_table(op["TableName"])
    key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = op["Item"][table.range_key_attr]
    return key


def _transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    if len(transact_items) > _MAX_ITEMS:
        raise TooManyTransactionsException()
    with _TRANSACTIONS:
        seen: set[tuple[str, str]] = set()
        errors: list[tuple[str | None, str | None, None]] = []
        for item in transact_items:
            op_type, op = next(iter(item.items()))
            key = _key_of(self, op_type, op)
            identity = (op["TableName"], str(sorted(key.items())))
            if identity in seen:
                raise MultipleTransactionsException()
            seen.add(identity)
            condition = op.get("ConditionExpression")
            current = self.get_item(op["TableName"], key)
            if condition is not None and not get_filter_expression(
                condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
            ).expr(current):
                errors.append(("ConditionalCheckFailed", "The conditional request failed", None))
            else:
                errors.append((None, None, None))
        if any(code is not None for code, _, _ in errors):
            raise TransactionCanceledException(errors)
        for item in transact_items:
            op_type, op = next(iter(item.items()))
            names, values = op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
            if op_type == "Put":
                self.put_item(
                    op["TableName"], op["Item"], expression_attribute_names=names, expression_attribute_values=values
                )
            elif op_type == "Delete":
                self.delete_item(
                    op["TableName"], op["Key"], expression_attribute_names=names, expression_attribute_values=values
                )
            elif op_type == "Update":
                self.update_item(
                    op["TableName"],
                    op["Key"],
                    update_expression=op["UpdateExpression"],
                    expression_attribute_names=names,
                    expression_attribute_values=values,
                )


_ORIGINAL_CALL_ACTION = DynamoHandler.call_action
_ORIGINAL_QUERY = Table.query
_ORIGINAL_ALL_ITEMS = Table.all_items
_ORIGINAL_MAKE = moto_expressions.UpdateExpressionParser.__dict__["make"]  # type: ignore[attr-defined]  # moto's internal parser
_ORIGINAL_CONDITION_PARSE = moto_comparisons.ConditionExpressionParser.parse
_ORIGINAL_SERIALIZED = BaseResponse.serialized
_ORIGINAL_BACKEND_FOR_HOST = DomainDispatcherApplication.get_backend_for_host
_DATA_ACTIONS = frozenset(
    {
        "GetItem",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "Query",
        "Scan",
        "BatchGetItem",
        "BatchWriteItem",
        "TransactWriteItems",
        "TransactGetItems",
    }
)
_is_node: dict[type, bool] = {}
_conditions: dict[tuple[str, str, str], tuple[Any, list[str], list[str]]] = {}


def _call_action(self: DynamoHandler) -> Any:
    with _ONE_REQUEST_AT_A_TIME:
        return _ORIGINAL_CALL_ACTION(self)


def _query(self: Table, *args: Any, **kwargs: Any) -> Any:
    _querying.active = True
    try:
        return _ORIGINAL_QUERY(self, *args, **kwargs)
    finally:
        _querying.active = False


def _all_items(self: Table) -> list[Any]:
    if not getattr(_querying, "active", False):
        return _ORIGINAL_ALL_ITEMS(self)
    if not self.range_key_attr:
        return list(self.items.values())
    return [item for hash_set in self.items.values() for item in hash_set.values()]


@functools.lru_cache(maxsize=512)
def _parsed_update(expression: str) -> Any:
    return _ORIGINAL_MAKE.__func__(moto_expressions.UpdateExpressionParser, expression)  # type: ignore[attr-defined]  # moto's internal parser


def _make(cls: Any, expression: str) -> Any:
    return _parsed_update(expression)


def _count_clauses_once(self: ActionCountValidator, node: Any) -> Any:
    return self.verify_action_counts(node)


def _node_map(self: DepthFirstTraverser) -> dict[type, Any]:
    if (found := self.__dict__.get("_node_map")) is None:
        found = self.__dict__["_node_map"] = self._processing_map()
    return found


def _node_types(self: DepthFirstTraverser) -> tuple[type, ...]:
    if (found := self.__dict__.get("_node_types")) is None:
        found = self.__dict__["_node_types"] = tuple(_node_map(self))
    return found


def _process(self: DepthFirstTraverser, node: Any) -> Any:
    """The first processor whose node type the node is, found once per class."""
    processors = self.__dict__.setdefault("_processor_of", {})
    kind = type(node)
    if kind not in processors:
        processors[kind] = next(
            (processor for node_type, processor in _node_map(self).items() if isinstance(node, node_type)), None
        )
    processor = processors[kind]
    return processor(node) if processor is not None else None


def _walk(self: DepthFirstTraverser, node: Any, child_id: int = -1) -> Any:
    """moto's depth-first walk, with each class's answers to its isinstance questions kept."""
    kind = type(node)
    if (is_node := _is_node.get(kind)) is None:
        is_node = _is_node[kind] = isinstance(node, Node)
    if not is_node:
        return node
    parent_node = node.parent
    if node.children is not None:
        for index, child_node in enumerate(node.children):
            self.pre_processing_of_child(node, index)
            _walk(self, child_node, index)
    processed = self.__dict__.setdefault("_processed_kinds", {})
    if (wanted := processed.get(kind)) is None:
        wanted = processed[kind] = isinstance(node, self.nodes_to_be_processed())
    if wanted:
        node = self.process(node)
        node.parent = parent_node
        if parent_node:
            parent_node.children[child_id] = node
    return node


def _validator_copy(expression: Any) -> Any:
    if (pickled := expression.__dict__.get("_pickled")) is None:
        pickled = pickle.dumps(expression, pickle.HIGHEST_PROTOCOL)
        expression.__dict__["_pickled"] = pickled
    return pickle.loads(pickled)  # noqa: S301 - bytes this process pickled itself


def _parse_condition(self: moto_comparisons.ConditionExpressionParser) -> Any:
    key = (
        self.condition_expression or "",
        json.dumps(self.expression_attribute_names, sort_keys=True),
        json.dumps(self.expression_attribute_values, sort_keys=True),
    )
    if (parsed := _conditions.get(key)) is None:
        op = _ORIGINAL_CONDITION_PARSE(self)
        parsed = (op, list(self.expr_attr_names_found), list(self.expr_attr_values_found))
        if len(_conditions) > 4096:
            _conditions.clear()
        _conditions[key] = parsed
    op, self.expr_attr_names_found, self.expr_attr_values_found = parsed[0], list(parsed[1]), list(parsed[2])
    return op


def _serialized(self: DynamoHandler, action_result: ActionResult) -> Any:
    result = action_result.result
    plain = type(action_result).execute_result is ActionResult.execute_result  # not paginated by moto itself
    if plain and type(result) is dict and self._get_action() in _DATA_ACTIONS:
        try:
            body = json.dumps({key: value for key, value in result.items() if value is not None})
        except TypeError:  # something only moto's serializer knows how to write
            return _ORIGINAL_SERIALIZED(self, action_result)
        return 200, {"Content-Type": "application/x-amz-json-1.0", **self.response_headers}, body
    return _ORIGINAL_SERIALIZED(self, action_result)


def _stream_serialized(self: DynamoDBStreamsHandler, action_result: ActionResult) -> Any:
    result = action_result.result
    if self._get_action() != "GetRecords" or type(result) is not dict:
        return _ORIGINAL_STREAM_SERIALIZED(self, action_result)

    def wire(value: Any) -> Any:
        if isinstance(value, dt.datetime):  # in milliseconds, as moto's serializer writes it
            moment = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
            return moment.replace(microsecond=moment.microsecond // 1000 * 1000).timestamp()
        raise TypeError(type(value))

    body = json.dumps(result, default=wire)
    return 200, {"Content-Type": "application/x-amz-json-1.0", **self.response_headers}, body


def _backend_for_host(self: DomainDispatcherApplication, host: str | None) -> Any:
    known = self.__dict__.setdefault("_backend_of_host", {})
    if host not in known:
        known[host] = _ORIGINAL_BACKEND_FOR_HOST(self, host)
    return known[host]


_ORIGINAL_KEY_RESPONSE = S3Response._key_response
_ORIGINAL_GET_PERMISSION = FakeBucket.get_permission
_s3_request = threading.local()
presigned_clock: Callable[[], float] = time.time  # what "now" is to a presigned URL (tests move it)
_EXPIRED = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
    b"<Message>Request has expired</Message></Error>"
)


def _presigned_expired(full_url: str) -> bool:
    query = parse_qs(urlsplit(full_url).query)
    if "X-Amz-Date" not in query or "X-Amz-Expires" not in query:
        return False
    signed = dt.datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
    return presigned_clock() > signed.timestamp() + int(query["X-Amz-Expires"][0])


def _key_response(self: S3Response, request: Any, full_url: str) -> Any:
    if "Authorization" not in request.headers and _presigned_expired(full_url):
        return 403, {"Content-Type": "application/xml"}, _EXPIRED
    _s3_request.secure = full_url.startswith("https:")
    try:
        return _ORIGINAL_KEY_RESPONSE(self, request, full_url)
    finally:
        _s3_request.secure = None


def _transport_matches(statement: dict[str, Any], secure: bool) -> bool:
    """False for a statement conditioned on aws:SecureTransport that this request's transport does not meet."""
    condition = statement.get("Condition") or {}
    wanted = (condition.get("Bool") or {}).get("aws:SecureTransport")
    return wanted is None or str(wanted).lower() == str(secure).lower()


def _get_permission(self: FakeBucket, action: str, resource: str) -> Any:
    secure = getattr(_s3_request, "secure", None)
    if self.policy is None or secure is None:
        return _ORIGINAL_GET_PERMISSION(self, action, resource)
    from moto.iam.access_control import IAMPolicy

    document = json.loads(self.policy)
    statements = document.get("Statement", [])
    statements = statements if isinstance(statements, list) else [statements]
    document["Statement"] = [statement for statement in statements if _transport_matches(statement, secure)]
    return IAMPolicy(json.dumps(document)).is_action_permitted(action, resource)


# What each patch replaces: (owner, attribute, replacement).
_ORIGINAL_STREAM_ADD = StreamShard.add


def _stream_add(self: StreamShard, old: Any, new: Any) -> None:
    if new is not None and old is not None and old.to_json() == new.to_json():
        return  # nothing changed
    if old is None and new is not None and set(new.attrs) <= {self.table.hash_key_attr, self.table.range_key_attr}:
        return  # the bare key moto puts first when an update creates an item
    _ORIGINAL_STREAM_ADD(self, old, new)


_ORIGINAL_JSONPATH_PARSE = jsonpath_ext.parse
_parsed_path = functools.lru_cache(maxsize=256)(_ORIGINAL_JSONPATH_PARSE)


_ORIGINAL_STREAM_SERIALIZED = DynamoDBStreamsHandler.serialized


_ORIGINAL_SEND_EVENT_BRIDGE_MESSAGE = s3_notifications._send_event_bridge_message
# What S3 names the request that made an object, in an "Object Created" event's `reason`.
_S3_REASONS = {
    s3_notifications.S3NotificationEvent.OBJECT_CREATED_PUT_EVENT.value: "PutObject",
    s3_notifications.S3NotificationEvent.OBJECT_CREATED_POST_EVENT.value: "POST Object",
    s3_notifications.S3NotificationEvent.OBJECT_CREATED_COPY_EVENT.value: "CopyObject",
    s3_notifications.S3NotificationEvent.OBJECT_CREATED_COMPLETE_MULTIPART_UPLOAD_EVENT.value: (
        "CompleteMultipartUpload"
    ),
}
_log = logging.getLogger(__name__)


class _Sequencer:
    """Hex, increasing from one event to the next (S3's orders the events of a key)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = 0

    def next(self) -> str:
        with self._lock:
            self._last = max(self._last + 1, time.time_ns())
            return f"{self._last:018X}"


_s3_sequencer = _Sequencer()


def s3_event_bridge_event(account_id: str, bucket: FakeBucket, event_name: str, key: Any) -> EventMessageType:
    """The event S3 puts on the default bus for `event_name` on `key` (`time` in epoch seconds, as moto's
    EventBridge writes it out when it delivers)."""
    name = str(getattr(event_name, "value", event_name))
    obj: dict[str, Any] = {"key": key.name, "size": key.size, "etag": key.etag.replace('"', "")}
    if bucket.is_versioned:
        obj["version-id"] = key.version_id
    obj["sequencer"] = _s3_sequencer.next()
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": s3_notifications._detail_type(name),
        "source": "aws.s3",
        "account": account_id,
        "time": unix_time(),
        "region": bucket.region_name,
        "resources": [bucket.arn],
        "detail": {
            "version": "0",
            "bucket": {"name": bucket.name},
            "object": obj,
            "request-id": "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(16)),
            "requester": account_id,
            "source-ip-address": "127.0.0.1",
            "reason": _S3_REASONS.get(name, name.split(":")[1]),
        },
    }


def _send_event_bridge_message(account_id: str, bucket: FakeBucket, event_name: str, key: Any) -> None:
    name = str(getattr(event_name, "value", event_name))
    if name == s3_notifications.S3NotificationEvent.OBJECT_CREATED_PUT_EVENT.value and key.multipart is not None:
        return  # moto's multipart completion: its CompleteMultipartUpload event follows
    from moto.events.models import events_backends

    try:
        event = s3_event_bridge_event(account_id, bucket, event_name, key)
        default_bus = events_backends[account_id][bucket.region_name].event_buses["default"]
        for rule in list(default_bus.rules.values()):
            if rule.state != "DISABLED":
                rule.send_to_targets(event, transform_input=False)
    except Exception:  # S3 answers the request whatever becomes of its notification, as moto does
        _log.exception("S3 EventBridge notification for %s/%s failed", bucket.name, key.name)


_MOVE_TASKS: dict[str, dict[str, Any]] = {}  # source queue ARN -> its last message-move task, as listed


def _start_message_move_task(self: SQSResponse) -> ActionResult:
    backend = self.sqs_backend
    source_arn = str(self._get_param("SourceArn"))
    by_arn = {queue.queue_arn: queue for queue in backend.queues.values()}
    if source_arn not in by_arn:
        raise QueueDoesNotExist()
    destination_arn = self._get_param("DestinationArn")
    origins = [
        queue
        for queue in backend.queues.values()
        if (queue.redrive_policy or {}).get("deadLetterTargetArn") == source_arn
    ]
    destination = by_arn.get(destination_arn) if destination_arn else (origins[0] if len(origins) == 1 else None)
    if destination is None:
        raise SQSException("InvalidParameterValue", "no destination queue for this dead-letter queue")
    source = by_arn[source_arn]
    moved = 0
    while messages := backend.receive_message(source.name, 10, 0, 30):
        for message in messages:
            backend.send_message(destination.name, message.body)
            backend.delete_message(source.name, str(message.receipt_handle))
            moved += 1
    handle = f"{source_arn}#{uuid.uuid4()}"
    _MOVE_TASKS[source_arn] = {
        "TaskHandle": handle,
        "Status": "COMPLETED",
        "SourceArn": source_arn,
        "DestinationArn": destination.queue_arn,
        "ApproximateNumberOfMessagesMoved": moved,
        "ApproximateNumberOfMessagesToMove": moved,
        "StartedTimestamp": int(time.time() * 1000),
    }
    return ActionResult({"TaskHandle": handle})


def _list_message_move_tasks(self: SQSResponse) -> ActionResult:
    task = _MOVE_TASKS.get(str(self._get_param("SourceArn")))
    return ActionResult({"Results": [task] if task else []})


_PATCHES: list[tuple[Any, str, Any]] = [
    (SQSResponse, "start_message_move_task", _start_message_move_task),
    (SQSResponse, "list_message_move_tasks", _list_message_move_tasks),
    (DynamoDBBackend, "transact_write_items", _transact_write_items),
    (DynamoHandler, "call_action", _call_action),
    (Table, "query", _query),
    (Table, "all_items", _all_items),
    (moto_expressions.UpdateExpressionParser, "make", classmethod(_make)),  # type: ignore[attr-defined]  # moto's internal parser
    (ActionCountValidator, "traverse", _count_clauses_once),
    (DepthFirstTraverser, "nodes_to_be_processed", _node_types),
    (DepthFirstTraverser, "process", _process),
    (DepthFirstTraverser, "traverse_node_recursively", _walk),
    (moto_validators, "deepcopy", _validator_copy),
    (moto_comparisons.ConditionExpressionParser, "parse", _parse_condition),
    (DynamoHandler, "serialized", _serialized),
    (DynamoDBStreamsHandler, "serialized", _stream_serialized),
    (DomainDispatcherApplication, "get_backend_for_host", _backend_for_host),
    (S3Response, "_key_response", _key_response),
    (FakeBucket, "get_permission", _get_permission),
    (StreamShard, "add", _stream_add),
    (jsonpath_ext, "parse", _parsed_path),
    (s3_notifications, "_send_event_bridge_message", _send_event_bridge_message),
]
_INHERITED = object()  # the owner's own namespace did not hold the attribute: restoring removes it
_replaced: list[tuple[Any, str, Any]] = []  # (owner, attribute, what the owner's own namespace held)
_open_applies: list[None] = []  # one entry per apply() not yet matched by a restore()


def apply() -> None:
    """Install the patches; nested calls (a local stack started inside a patched test) are counted."""
    _open_applies.append(None)
    if len(_open_applies) > 1:
        return
    for owner, attribute, replacement in _PATCHES:
        _replaced.append((owner, attribute, vars(owner).get(attribute, _INHERITED)))
        setattr(owner, attribute, replacement)


def restore() -> None:
    """Undo the patches once every apply() has been matched by a restore()."""
    if _open_applies:
        _open_applies.pop()
    if _open_applies:
        return
    while _replaced:
        owner, attribute, original = _replaced.pop()
        if original is _INHERITED:
            delattr(owner, attribute)
        else:
            setattr(owner, attribute, original)
    _conditions.clear()

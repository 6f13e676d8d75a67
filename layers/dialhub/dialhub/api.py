"""The internal trigger/query API: routes, request validation and the one exception → HTTP map."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import inspect
import json
import typing
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from pydantic import BaseModel, TypeAdapter, ValidationError

from dialhub.campaigns import (
    AddContactsRequest,
    CampaignControlResult,
    CampaignView,
    ContactView,
    CreateCampaignRequest,
    DispatchResult,
    IntakeResult,
    RecountView,
    campaign_view,
    cancel_campaign,
    cancel_contact,
    contact_view,
    create_campaign,
    dispatch_now,
    intake_contacts,
    pause_campaign,
    recount_campaign,
    require_campaign,
    resume_campaign,
)
from dialhub.comparison import ComparisonView, campaign_comparison
from dialhub.compliance import POLICY_NAME_PATTERN, Policy
from dialhub.dispositions import Disposition
from dialhub.errors import Conflict, InvalidField, NotFound, field_path
from dialhub.exports import ExportRequest, ExportView, export_view, start_export
from dialhub.imports.service import (
    CampaignImportRequest,
    ImportRequest,
    ImportView,
    import_view,
    start_campaign_import,
    start_import,
)
from dialhub.jsonguard import JsonRefused, read_json
from dialhub.listing import (
    DEFAULT_PAGE,
    MAX_PAGE,
    BadCursor,
    CampaignPage,
    ContactPage,
    OutcomeFeedPage,
    list_campaigns,
    list_contacts,
    outcome_feed,
)
from dialhub.models import ID_PATTERN, CallOutcome, CampaignStatus, DialState, Suppression, WireModel
from dialhub.observability import logger
from dialhub.policies import require_policy, save_policy
from dialhub.redrive import RedriveView, redrive_dispatch
from dialhub.settings import MissingSetting
from dialhub.suppressions import SuppressionRequest, find_suppression, lift_suppression, suppress
from dialhub.vendors import vendor_names
from dialhub.wiring import Dependencies

# What one request may carry: 10,000 contacts fit many times over, and Lambda's own 6 MB limit is never the
# one that answers (it would be a bare 500).
MAX_BODY_BYTES = 5 * 1024 * 1024


def _strict_json(text: str) -> Any:
    """Bodies are read strictly: NaN, numbers DynamoDB cannot hold and deep nesting are a 422 naming the field."""
    try:
        return read_json(text)
    except JsonRefused as exc:
        raise InvalidField(exc.field, exc.problem) from exc


app = APIGatewayHttpResolver(json_body_deserializer=_strict_json)

CampaignId = Annotated[str, Path(pattern=ID_PATTERN, description="Campaign id")]
ContactId = Annotated[str, Path(pattern=ID_PATTERN, description="Your contact id")]


class FieldProblem(WireModel):
    field: str
    problem: str


class ErrorBody(WireModel):
    """Every 4xx/5xx body: what went wrong and, for 422, which fields."""

    message: str
    errors: list[FieldProblem] | None = None


_ERRORS = {
    400: "The cursor is not one this listing issued (changed, cut short, or from another listing)",
    404: "Unknown campaign, contact, call, suppression or policy (or a path no route matches)",
    409: "The resource's state does not allow this now",
    413: f"The body is larger than {MAX_BODY_BYTES // (1024 * 1024)} MB",
    415: "The body is not JSON (send Content-Type: application/json)",
    422: "A field is missing or wrong: each error names it",
}
_ANY_ROUTE = (404, 413, 415, 422)  # every route: a path that routes nowhere, a body too big or not JSON, a bad field


def _responses(model: type[WireModel], *errors: int, status: int = 200, description: str = "Success") -> dict[int, Any]:
    """The documented answers of a route: its success body and our error body for each error status."""

    def body(text: str, schema: type[WireModel]) -> dict[str, Any]:
        return {"description": text, "content": {"application/json": {"model": schema}}}

    statuses = sorted({*_ANY_ROUTE, *errors})
    return {status: body(description, model)} | {error: body(_ERRORS[error], ErrorBody) for error in statuses}


def _deps() -> Dependencies:
    deps: Dependencies = app.context["deps"]
    return deps


def _json(status: int, body: dict[str, Any]) -> Response[str]:
    return Response(status_code=status, content_type="application/json", body=json.dumps(body))


_REFUSALS = {413: "request body too large", 415: "unsupported content type", 422: "invalid request"}


def _refusal(status: int, problem: str) -> dict[str, Any]:
    body = {"message": _REFUSALS[status], "errors": [{"field": "body", "problem": problem}]}
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}


def _json_media_type(content_type: str) -> bool:
    """application/json, with or without parameters; no header at all is read as JSON too (as Powertools does)."""
    return content_type.split(";", 1)[0].strip().lower() in ("", "application/json")


def unreadable_body(event: dict[str, Any]) -> dict[str, Any] | None:
    """The answer to a request whose body the API cannot read (too big, not JSON, not UTF-8), or None.

    Checked before routing: Powertools would otherwise fail on such a body with an unhandled error (a 500) or
    read a form as if it were our JSON.
    """
    raw = event.get("body") or ""
    if not raw:
        return None
    try:
        body = base64.b64decode(raw, validate=True) if event.get("isBase64Encoded") else raw.encode("utf-8")
    except (binascii.Error, UnicodeEncodeError):
        return _refusal(422, "not UTF-8 text")
    if len(body) > MAX_BODY_BYTES:
        return _refusal(413, f"{len(body)} bytes; at most {MAX_BODY_BYTES}")
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    if not _json_media_type(headers.get("content-type", "")):
        return _refusal(415, "send application/json")
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return _refusal(422, "not UTF-8 text")
    return None


@dataclass(frozen=True)
class _RouteInputs:
    """What a route function takes, read once from its signature: checked path and query parameters (with
    their defaults) and a body model."""

    path: dict[str, TypeAdapter[Any]]
    query: dict[str, tuple[TypeAdapter[Any], Any]]
    body: tuple[str, type[BaseModel]] | None


def _is_query(hint: Any) -> bool:
    return any(isinstance(meta, Query) for meta in getattr(hint, "__metadata__", ()))


@cache
def _inputs_of(function: Callable[..., Any]) -> _RouteInputs:
    hints = typing.get_type_hints(function, include_extras=True)
    hints.pop("return", None)
    defaults = {name: parameter.default for name, parameter in inspect.signature(function).parameters.items()}
    body = next(
        ((name, hint) for name, hint in hints.items() if isinstance(hint, type) and issubclass(hint, BaseModel)), None
    )
    query = {name: (TypeAdapter(hint), defaults[name]) for name, hint in hints.items() if _is_query(hint)}
    path = {
        name: TypeAdapter(hint)
        for name, hint in hints.items()
        if name not in query and (body is None or name != body[0])
    }
    return _RouteInputs(path, query, body)


def _validated(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response[str]:
    """Check the path parameters and the body against the route function's signature, call it, and answer
    the model it returns as JSON (camelCase, every field).

    Powertools' OpenAPI validation would do the same from the same signatures, but it loads its validation
    machinery and builds a model per route parameter in every cold start (`make bench`); the signatures and
    `_responses` still document the API through it, offline (`openapi_document`).
    """
    inputs = _inputs_of(app.context["_route"].func)
    raw: dict[str, Any] = app.context.get("_route_args", {})
    values: dict[str, Any] = {}
    errors: list[dict[str, Any]] = []
    for name, adapter in inputs.path.items():
        try:
            values[name] = adapter.validate_python(raw.get(name))
        except ValidationError as exc:
            errors.extend({**error, "loc": ("path", name, *error["loc"])} for error in exc.errors())
    asked = app.current_event.query_string_parameters or {}
    for name, (adapter, default) in inputs.query.items():
        if name not in asked:
            values[name] = default
            continue
        try:
            values[name] = adapter.validate_python(asked[name])
        except ValidationError as exc:
            errors.extend({**error, "loc": ("query", name, *error["loc"])} for error in exc.errors())
    if inputs.body is not None:
        name, model = inputs.body
        body = app.current_event.json_body
        if not isinstance(body, dict):
            problem = "Field required" if body is None else "Input should be a JSON object"
            errors.append({"loc": ("body",), "msg": problem})
        else:
            try:
                values[name] = model.model_validate(body)
            except ValidationError as exc:
                errors.extend({**error, "loc": ("body", *error["loc"])} for error in exc.errors())
    if errors:
        problems = [{"field": field_path(error), "problem": error.get("msg", "invalid")} for error in errors]
        return _json(422, {"message": "invalid request", "errors": problems})
    app.append_context(_route_args=values)  # type: ignore[no-untyped-call]  # Powertools leaves it unannotated
    response = next_middleware(app)
    if isinstance(response.body, BaseModel):
        response.body = response.body.model_dump_json(by_alias=True)
    return response


app.use([_validated])


@app.exception_handler(InvalidField)  # type: ignore[untyped-decorator]  # Powertools leaves it unannotated
def _invalid_field(exc: InvalidField) -> Response[str]:
    return _json(422, {"message": "invalid request", "errors": [{"field": exc.field, "problem": exc.problem}]})


@app.exception_handler(BadCursor)  # type: ignore[untyped-decorator]  # Powertools leaves it unannotated
def _bad_cursor(exc: BadCursor) -> Response[str]:
    return _json(400, {"message": "invalid cursor", "errors": [{"field": exc.field, "problem": exc.problem}]})


@app.exception_handler(NotFound)  # type: ignore[untyped-decorator]  # Powertools leaves it unannotated
def _not_found(exc: NotFound) -> Response[str]:
    return _json(404, {"message": str(exc)})


@app.exception_handler(NotFoundError)  # type: ignore[untyped-decorator]  # Powertools leaves it unannotated
def _no_route(exc: NotFoundError) -> Response[str]:
    # Powertools' own "no route": a path parameter with characters its route patterns do not take.
    return _json(404, {"message": "no route matches this path"})


@app.exception_handler(Conflict)  # type: ignore[untyped-decorator]  # Powertools leaves it unannotated
def _conflict(exc: Conflict) -> Response[str]:
    return _json(409, {"message": str(exc)})


@app.exception_handler(Exception)  # type: ignore[untyped-decorator]  # Powertools leaves it unannotated
def _unexpected(exc: Exception) -> Response[str]:
    # Called outside the `except` block: the exception must be handed over, or the log has no traceback.
    logger.error("unhandled error in the API", exc_info=exc)
    return _json(500, {"message": "internal error; it has been logged"})


@app.post(
    "/campaigns",
    summary="Create a campaign with up to 10,000 contacts",
    tags=["campaigns"],
    responses=_responses(
        IntakeResult, 409, status=201, description="Created (or found, for a known campaignId); contacts taken in"
    ),
)
def post_campaign(body: CreateCampaignRequest) -> Response[dict[str, Any]]:
    deps = _deps()
    settings = deps.settings
    result = create_campaign(body, deps.store, settings.default_phone_region, settings.default_timezone, deps.clock())
    return Response(status_code=201, content_type="application/json", body=result.to_wire())


@app.post(
    "/campaigns/<campaignId>/contacts",
    summary="Add contacts to a campaign",
    tags=["campaigns"],
    responses=_responses(IntakeResult, 404),
)
def post_contacts(campaignId: CampaignId, body: AddContactsRequest) -> IntakeResult:  # noqa: N803
    deps = _deps()
    campaign = require_campaign(deps.store, campaignId)
    return intake_contacts(campaign, body.contacts, deps.store, deps.settings.default_phone_region, deps.clock())


@app.post(
    "/campaigns/<campaignId>/dispatch",
    summary="Dispatch queued contacts now",
    tags=["campaigns"],
    responses=_responses(DispatchResult, 404),
)
def post_dispatch(campaignId: CampaignId) -> DispatchResult:  # noqa: N803
    deps = _deps()
    return dispatch_now(deps.store, deps.queue, deps.adapters, campaignId, deps.clock())


@app.post(
    "/admin/dlq/redrive",
    summary="Move the batches the dispatch queue gave up on back to it (SQS's message-move task)",
    tags=["operations"],
    responses=_responses(RedriveView, 409, status=202, description="The move started (or, offline, finished)"),
)
def post_redrive() -> Response[dict[str, Any]]:
    deps = _deps()
    dead_letters = deps.settings.dispatch_dead_letter_arn
    if dead_letters is None:
        raise MissingSetting("DISPATCH_DEAD_LETTER_ARN not set")
    view = redrive_dispatch(deps.queue, dead_letters)
    return Response(status_code=202, content_type="application/json", body=view.to_wire())


@app.post(
    "/campaigns/<campaignId>/pause",
    summary="Pause: send nothing more, pause vendor tasks",
    tags=["campaigns"],
    responses=_responses(CampaignControlResult, 404, 409),
)
def post_pause(campaignId: CampaignId) -> CampaignControlResult:  # noqa: N803
    deps = _deps()
    return pause_campaign(deps.store, deps.adapters, campaignId)


@app.post(
    "/campaigns/<campaignId>/resume",
    summary="Resume a paused campaign",
    tags=["campaigns"],
    responses=_responses(CampaignControlResult, 404, 409),
)
def post_resume(campaignId: CampaignId) -> CampaignControlResult:  # noqa: N803
    deps = _deps()
    return resume_campaign(deps.store, deps.adapters, campaignId)


@app.post(
    "/campaigns/<campaignId>/cancel",
    summary="Cancel a campaign for good",
    tags=["campaigns"],
    responses=_responses(CampaignControlResult, 404),
)
def post_cancel_campaign(campaignId: CampaignId) -> CampaignControlResult:  # noqa: N803
    deps = _deps()
    return cancel_campaign(deps.store, deps.adapters, campaignId, deps.clock())


@app.get(
    "/campaigns/<campaignId>",
    summary="Campaign state and counts",
    tags=["campaigns"],
    responses=_responses(CampaignView, 404),
)
def get_campaign(campaignId: CampaignId) -> CampaignView:  # noqa: N803
    return campaign_view(_deps().store, campaignId)


@app.post(
    "/campaigns/<campaignId>/recount",
    summary="Count every contact again and repair the live counters",
    tags=["campaigns"],
    responses=_responses(RecountView, 404),
)
def post_recount(campaignId: CampaignId) -> RecountView:  # noqa: N803
    deps = _deps()
    return recount_campaign(deps.store, campaignId, deps.clock())


@app.get(
    "/campaigns/<campaignId>/comparison",
    summary="The campaign's vendors side by side: rates with 95% intervals, cost, and each challenger's verdict",
    tags=["campaigns"],
    responses=_responses(ComparisonView, 404),
)
def get_comparison(campaignId: CampaignId) -> ComparisonView:  # noqa: N803
    deps = _deps()
    return campaign_comparison(deps.store, deps.adapters, campaignId, deps.clock())


@app.get(
    "/campaigns/<campaignId>/contacts/<contactId>",
    summary="A contact and every attempt",
    tags=["contacts"],
    responses=_responses(ContactView, 404),
)
def get_contact(campaignId: CampaignId, contactId: ContactId) -> ContactView:  # noqa: N803
    return contact_view(_deps().store, campaignId, contactId)


@app.post(
    "/campaigns/<campaignId>/contacts/<contactId>/cancel",
    summary="Cancel a contact not yet dialled",
    tags=["contacts"],
    responses=_responses(ContactView, 404, 409),
)
def post_cancel(campaignId: CampaignId, contactId: ContactId) -> ContactView:  # noqa: N803
    deps = _deps()
    return cancel_contact(deps.store, deps.adapters, campaignId, contactId, deps.clock())


@app.get(
    "/calls/<vendor>/<vendorCallId>",
    summary="One normalised call outcome",
    tags=["calls"],
    responses=_responses(CallOutcome, 404),
)
def get_call(
    vendor: Annotated[str, Path(description="blu, nxtele, airudder")],
    vendorCallId: Annotated[str, Path(min_length=1, max_length=128)],  # noqa: N803
) -> CallOutcome:
    if vendor not in vendor_names():
        raise NotFound(f"vendor {vendor}")
    outcome = _deps().store.get_outcome(vendor, vendorCallId)
    if outcome is None:
        raise NotFound(f"call {vendorCallId} of {vendor}")
    return outcome


Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"Items per page (default {DEFAULT_PAGE})")]
Cursor = Annotated[str | None, Query(description="The nextCursor of the previous page")]


@app.get(
    "/campaigns",
    summary="Campaigns, newest first, a page at a time",
    tags=["results"],
    responses=_responses(CampaignPage, 400),
)
def get_campaigns(
    status: Annotated[CampaignStatus | None, Query(description="Only campaigns in this status")] = None,
    vendor: Annotated[str | None, Query(description="Only campaigns using this vendor (split or fallback)")] = None,
    limit: Limit = DEFAULT_PAGE,
    cursor: Cursor = None,
) -> CampaignPage:
    if vendor is not None and vendor not in vendor_names():
        raise InvalidField("query.vendor", f"unknown vendor; expected one of: {', '.join(vendor_names())}")
    return list_campaigns(_deps().store, limit, cursor, status, vendor)


@app.get(
    "/campaigns/<campaignId>/contacts",
    summary="A campaign's contacts with their closing outcomes",
    tags=["results"],
    responses=_responses(ContactPage, 400, 404),
)
def get_contacts(
    campaignId: CampaignId,  # noqa: N803
    state: Annotated[DialState | None, Query(description="Only contacts in this state")] = None,
    disposition: Annotated[Disposition | None, Query(description="Only contacts whose last call ended so")] = None,
    limit: Limit = DEFAULT_PAGE,
    cursor: Cursor = None,
) -> ContactPage:
    return list_contacts(_deps().store, campaignId, limit, cursor, state, disposition.value if disposition else None)


@app.get(
    "/outcomes",
    summary="Every closing outcome in the order recorded: the feed to sync from",
    tags=["results"],
    responses=_responses(OutcomeFeedPage, 400),
)
def get_outcomes(
    after: Annotated[
        str | None, Query(description="The nextCursor you last received; none: from the oldest outcome kept")
    ] = None,
    limit: Limit = DEFAULT_PAGE,
) -> OutcomeFeedPage:
    deps = _deps()
    return outcome_feed(deps.store, limit, after, dt.timedelta(seconds=deps.settings.outcome_feed_delay_seconds))


def _caller() -> str | None:
    """The IAM principal API Gateway authenticated (payload format 2.0), for the audit log."""
    context = app.current_event.raw_event.get("requestContext") or {}
    return ((context.get("authorizer") or {}).get("iam") or {}).get("userArn")


@app.post(
    "/campaigns/<campaignId>/exports",
    summary="Export a campaign's results to a file (CSV or JSON Lines), or its report (HTML)",
    tags=["results"],
    responses=_responses(ExportView, 404, status=202, description="Accepted: poll GET /exports/{exportId}"),
)
def post_export(campaignId: CampaignId, body: ExportRequest) -> Response[dict[str, Any]]:  # noqa: N803
    deps = _deps()
    view = start_export(deps.store, deps.export_queue, deps.settings, campaignId, body, _caller(), deps.clock())
    return Response(status_code=202, content_type="application/json", body=view.to_wire())


@app.get(
    "/exports/<exportId>",
    summary="An export's state and, once done, a download link",
    tags=["results"],
    responses=_responses(ExportView, 404),
)
def get_export(exportId: Annotated[str, Path(pattern=ID_PATTERN, description="Export id")]) -> ExportView:  # noqa: N803
    deps = _deps()
    return export_view(deps.store, deps.objects, deps.settings, exportId, deps.clock())


@app.post(
    "/campaigns/<campaignId>/imports",
    summary="Add contacts from a CSV or XLSX file: an upload link, then progress",
    tags=["contacts"],
    responses=_responses(ImportView, 404, 409, 422, status=201, description="PUT the file to uploadUrl"),
)
def post_import(campaignId: CampaignId, body: ImportRequest) -> Response[dict[str, Any]]:  # noqa: N803
    deps = _deps()
    view = start_import(deps.store, deps.import_objects, deps.settings, campaignId, body, _caller(), deps.clock())
    return Response(status_code=201, content_type="application/json", body=view.to_wire())


@app.post(
    "/imports",
    summary="A new campaign and its contact file in one call",
    tags=["contacts"],
    responses=_responses(ImportView, 409, 422, status=201, description="PUT the file to uploadUrl"),
)
def post_campaign_import(body: CampaignImportRequest) -> Response[dict[str, Any]]:
    deps = _deps()
    view = start_campaign_import(deps.store, deps.import_objects, deps.settings, body, _caller(), deps.clock())
    return Response(status_code=201, content_type="application/json", body=view.to_wire())


@app.get(
    "/imports/<importId>",
    summary="An import's progress: rows read, accepted, rejected, duplicates; the rejected rows once done",
    tags=["contacts"],
    responses=_responses(ImportView, 404),
)
def get_import(importId: Annotated[str, Path(pattern=ID_PATTERN, description="Import id")]) -> ImportView:  # noqa: N803
    deps = _deps()
    return import_view(deps.store, deps.import_objects, deps.settings, importId, deps.clock())


Phone = Annotated[str, Path(min_length=3, max_length=40, description="E.164 (+ as %2B), or national")]


@app.put(
    "/suppressions/<phone>",
    summary="Never call this number (optionally until a time)",
    tags=["suppressions"],
    responses=_responses(Suppression, 422),
)
def put_suppression(phone: Phone, body: SuppressionRequest) -> Suppression:
    deps = _deps()
    return suppress(deps.store, phone, body, deps.settings.default_phone_region, deps.clock())


@app.get(
    "/suppressions/<phone>",
    summary="Whether and why a number is suppressed",
    tags=["suppressions"],
    responses=_responses(Suppression, 404, 422),
)
def get_suppression(phone: Phone) -> Suppression:
    deps = _deps()
    return find_suppression(deps.store, phone, deps.settings.default_phone_region, deps.clock())


@app.delete(
    "/suppressions/<phone>",
    summary="Lift a suppression; answers what was lifted",
    tags=["suppressions"],
    responses=_responses(Suppression, 404, 422),
)
def delete_suppression(phone: Phone) -> Suppression:
    deps = _deps()
    return lift_suppression(deps.store, phone, deps.settings.default_phone_region)


PolicyName = Annotated[str, Path(pattern=POLICY_NAME_PATTERN, description="Policy name (a-z, 0-9, -)")]


@app.put(
    "/policies/<name>",
    summary="Store a compliance policy (presets are read-only)",
    tags=["policies"],
    responses=_responses(Policy, 409),
)
def put_policy(name: PolicyName, body: Policy) -> Policy:
    return save_policy(_deps().store, name, body)


@app.get(
    "/policies/<name>",
    summary="A compliance policy, stored or preset",
    tags=["policies"],
    responses=_responses(Policy, 404),
)
def get_policy(name: PolicyName) -> Policy:
    return require_policy(_deps().store, name)


def openapi_document() -> str:
    """The OpenAPI document, generated from the routes and models above (committed as docs/openapi.json)."""
    return app.get_openapi_json_schema(
        title="dialhub internal API",
        version="1.0.0",
        summary="Submit campaigns to voice-bot vendors and read every outcome",
    )

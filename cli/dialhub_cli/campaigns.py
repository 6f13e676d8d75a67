"""`dialhub campaigns …`: create (from a contact file), list, show (and watch), and the controls."""

from __future__ import annotations

import datetime as dt
import json
import secrets
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.live import Live

from dialhub_cli import imports, render
from dialhub_cli.client import ApiError, CliError
from dialhub_cli.session import JsonFlag, UsageProblem, interrupt_after, session

app = typer.Typer(help="Create, list, watch and control campaigns.", no_args_is_help=True)

FILE_FORMATS = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".xlsx": "xlsx"}
MAX_PAGE = 1000


def new_campaign_id() -> str:
    """The id the API itself would give (cmp_ + 20 hex digits), chosen here so that the command knows it before
    the answer: a create cut short can be cancelled, or safely asked again (a known campaignId is idempotent)."""
    return f"cmp_{secrets.token_hex(10)}"


def option_value(text: str) -> Any:
    """A vendor option's value: JSON where it reads as JSON (123, true, [1,2]), else the text itself."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def pairs(values: list[str], option: str) -> list[tuple[str, str]]:
    parsed = []
    for value in values:
        key, equals, rest = value.partition("=")
        if not equals or not key.strip():
            raise typer.BadParameter(f"{value!r}: expected KEY=VALUE", param_hint=option)
        parsed.append((key.strip(), rest))
    return parsed


def campaign_body(
    name: str,
    vendor: str | None,
    split: list[str],
    fallback: list[str],
    options: list[str],
    timezone: str | None,
    dial_date: dt.datetime | None,
    policy: str | None,
    campaign_id: str | None,
) -> dict[str, Any]:
    """POST /campaigns' body from the options. `--option key=value` sets the vendor's option; with --split or
    --fallback, `--option vendor.key=value` sets that vendor's."""
    if bool(vendor) == bool(split):
        raise UsageProblem("give --vendor, or --split VENDOR=SHARE for each vendor of a split campaign")
    shares: dict[str, int] = {}
    for name_of_vendor, share in pairs(split, "--split"):
        try:
            shares[name_of_vendor] = int(share)
        except ValueError:
            raise typer.BadParameter(
                f"{name_of_vendor}={share}: the share is a whole percent", param_hint="--split"
            ) from None
    vendors = [*(shares or [vendor or ""]), *fallback]
    per_vendor: dict[str, dict[str, Any]] = {name_of_vendor: {} for name_of_vendor in vendors}
    for key, value in pairs(options, "--option"):
        owner, dot, rest = key.partition(".")
        if dot and owner in per_vendor and (split or fallback):
            per_vendor[owner][rest] = option_value(value)
        elif vendor:
            per_vendor[vendor][key] = option_value(value)
        else:
            raise typer.BadParameter(f"{key}: name the vendor, as VENDOR.{key}=…", param_hint="--option")
    body: dict[str, Any] = {"name": name}
    if vendor:
        body.update(vendor=vendor, vendorOptions=per_vendor[vendor])
    else:
        body["vendors"] = [
            {"vendor": name_of_vendor, "share": share, "vendorOptions": per_vendor[name_of_vendor]}
            for name_of_vendor, share in shares.items()
        ]
    if fallback:
        body["fallback"] = [
            {"vendor": name_of_vendor, "vendorOptions": per_vendor[name_of_vendor]} for name_of_vendor in fallback
        ]
    optional = {
        "campaignId": campaign_id,
        "timezone": timezone,
        "dialDate": dial_date.date().isoformat() if dial_date else None,
        "policy": policy,
    }
    body.update({key: value for key, value in optional.items() if value is not None})
    return body


def file_format(file: Path, given: str | None) -> str:
    if given:
        return given
    if file.suffix.lower() not in FILE_FORMATS:
        raise UsageProblem(f"{file.name}: say --format csv or xlsx (the name ends in neither)")
    return FILE_FORMATS[file.suffix.lower()]


@app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Option(help="The campaign's name")],
    vendor: Annotated[str | None, typer.Option(help="The vendor: blu, nxtele or airudder")] = None,
    split: Annotated[
        list[str], typer.Option(metavar="VENDOR=SHARE", help="A split campaign: each vendor's percent, champion first")
    ] = [],  # noqa: B006 - Typer's way of a repeatable option
    fallback: Annotated[list[str], typer.Option(metavar="VENDOR", help="Fallback vendors, in order")] = [],  # noqa: B006
    option: Annotated[
        list[str],
        typer.Option(
            metavar="KEY=VALUE", help="A vendor option (vendorOptions), e.g. botId=123; VENDOR.KEY=VALUE in a split"
        ),
    ] = [],  # noqa: B006
    timezone: Annotated[str | None, typer.Option(help="IANA time zone deciding the campaign's 'today'")] = None,
    dial_date: Annotated[
        dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="The day to dial (default: today there)")
    ] = None,
    policy: Annotated[str | None, typer.Option(help="A compliance policy's name")] = None,
    campaign_id: Annotated[
        str | None, typer.Option(help="Your own id (creating it again is idempotent; default: a new one)")
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, readable=True, help="The contacts: a .csv or .xlsx as exported"),
    ] = None,
    file_format_: Annotated[str | None, typer.Option("--format", help="csv or xlsx (default: from the name)")] = None,
    encoding: Annotated[str | None, typer.Option(help="A CSV's encoding when not UTF-8 (gbk, cp1252…)")] = None,
    sheet: Annotated[str | None, typer.Option(help="The .xlsx sheet (default: the first)")] = None,
    columns: Annotated[
        str | None,
        typer.Option(help='Which columns are what, as JSON: {"phone": "Mobile", "variables": {"Due": "amountDue"}}'),
    ] = None,
    rejections_out: imports.RejectionsOut = None,
    wait: Annotated[bool, typer.Option(help="Wait for the import to end (--no-wait: return once uploaded)")] = True,
    max_wait: imports.MaxWait = None,
    json_output: JsonFlag = False,
) -> None:
    """Create a campaign; with --file, its contacts from a CSV or XLSX file (upload and import shown as they go)."""
    s = session(ctx, json_output)
    if file_format_ not in (None, "csv", "xlsx"):
        raise typer.BadParameter("csv or xlsx", param_hint="--format")
    made_here = campaign_id is None
    body = campaign_body(
        name, vendor, split, fallback, option, timezone, dial_date, policy, campaign_id or new_campaign_id()
    )
    if file is None:
        if any(value is not None for value in (file_format_, encoding, sheet, columns, rejections_out)):
            raise UsageProblem("--format, --encoding, --sheet, --columns and --rejections-out go with --file")
        with interrupt_after():
            result = s.api.post("campaigns", body=body)
        if s.out.json:
            s.out.document(result)
        else:
            s.out.say(f"campaign {result['campaignId']} created, with no contacts")
        return
    request: dict[str, Any] = {"format": file_format(file, file_format_), "campaign": body}
    if columns is not None:
        try:
            request["columns"] = json.loads(columns)
        except ValueError:
            raise typer.BadParameter("not JSON", param_hint="--columns") from None
    request.update({key: value for key, value in (("encoding", encoding), ("sheet", sheet)) if value is not None})
    view: dict[str, Any] | None = None
    try:
        with interrupt_after():
            view = s.api.call("POST", "/imports", body=request)
    except KeyboardInterrupt:
        if view is not None:  # answered, then Ctrl-C: the campaign and its import exist, the file was not sent
            imports.settle_unfinished_upload(s, view, made_here)
        raise
    except CliError as exc:
        if made_here and not isinstance(exc, ApiError):  # no answer: it may or may not have been made
            exc.details.append(
                f"campaign {body['campaignId']} may have been made without contacts: see dialhub campaigns show "
                f"{body['campaignId']}, and cancel it if so"
            )
        raise
    s.out.note(f"campaign {view['campaignId']}, import {view['importId']}: uploading {file.name}")
    imports.upload_file(s, view, file, made_here)
    if not wait:
        view = s.api.get("imports", view["importId"])
        if s.out.json:
            s.out.document(view)
        else:
            import_id = view["importId"]
            s.out.say(f"uploaded; import {import_id} is {view['state']}: dialhub imports show {import_id} --wait")
        return
    ended = imports.follow(s, view["importId"], max_wait)
    if ended["state"] == "failed" and ended.get("accepted", 0) == 0 and made_here:
        imports.cancel_campaign(s, ended["campaignId"], "the file could not be imported, so it has no contacts")
    imports.finish(s, ended, rejections_out)


@app.command("list")
def list_campaigns(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option(help="active, paused or cancelled")] = None,
    vendor: Annotated[str | None, typer.Option(help="Only campaigns using this vendor (split or fallback)")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many campaigns (newest first)")] = 50,
    cursor: Annotated[str | None, typer.Option(help="Carry on from an earlier listing's nextCursor")] = None,
    json_output: JsonFlag = False,
) -> None:
    """Campaigns, newest first, with their contact counts (pages read until --limit)."""
    s = session(ctx, json_output)
    items: list[dict[str, Any]] = []
    next_cursor = cursor
    while len(items) < limit:
        query = {"status": status, "vendor": vendor, "limit": min(limit - len(items), MAX_PAGE), "cursor": next_cursor}
        page = s.api.get("campaigns", query=query)
        items.extend(page["items"])
        next_cursor = page.get("nextCursor")
        if not next_cursor:
            break
    if s.out.json:
        s.out.document({"items": items, "nextCursor": next_cursor})
        return
    s.out.show(render.campaign_list(items))
    if next_cursor:
        s.out.say(f"more: dialhub campaigns list --cursor {next_cursor}")


def _done(view: dict[str, Any]) -> bool:
    return view.get("state") == "completed"


@app.command("show")
def show(
    ctx: typer.Context,
    campaign_id: Annotated[str, typer.Argument(help="The campaign's id")],
    watch: Annotated[bool, typer.Option("--watch", help="Refresh until every contact is done (or Ctrl-C)")] = False,
    interval: Annotated[float, typer.Option(min=0.5, help="Seconds between refreshes with --watch")] = 3.0,
    max_wait: imports.MaxWait = None,
    json_output: JsonFlag = False,
) -> None:
    """A campaign's state and totals (by dial state, disposition, vendor); --watch keeps them current."""
    s = session(ctx, json_output)
    view = s.api.get("campaigns", campaign_id)
    if not watch:
        s.out.answer(view, render.campaign_view(view))
        return
    deadline = time.monotonic() + max_wait if max_wait else None

    def next_view() -> dict[str, Any]:
        if deadline is not None and time.monotonic() > deadline:
            raise CliError(f"campaign {campaign_id} is still {view.get('state')} after {max_wait:.0f} s")
        time.sleep(interval)
        return dict(s.api.get("campaigns", campaign_id))

    if s.out.json:
        s.out.line(view)
        while not _done(view):
            latest = next_view()
            if latest != view:
                s.out.line(latest)
            view = latest
        return
    with Live(render.campaign_view(view), console=s.out.out, refresh_per_second=4) as live:
        while not _done(view):
            view = next_view()
            live.update(render.campaign_view(view))


def _control(ctx: typer.Context, campaign_id: str, action: str, json_output: bool) -> None:
    s = session(ctx, json_output)
    with interrupt_after():
        result = s.api.post("campaigns", campaign_id, action)
    if s.out.json:
        s.out.document(result)
        return
    if action == "dispatch":
        queued, batches = result["contacts"], result["batches"]
        s.out.say(f"campaign {campaign_id}: {queued:,} contacts queued for dispatch in {batches:,} batches")
        return
    s.out.show(render.campaign_view(result["campaign"]))
    for note in result.get("notes") or []:
        s.out.say(f"note: {note}")


CampaignArgument = Annotated[str, typer.Argument(help="The campaign's id")]


@app.command("dispatch")
def dispatch(ctx: typer.Context, campaign_id: CampaignArgument, json_output: JsonFlag = False) -> None:
    """Plan and queue the campaign's queued contacts now, without waiting for the daily schedule."""
    _control(ctx, campaign_id, "dispatch", json_output)


@app.command("pause")
def pause(ctx: typer.Context, campaign_id: CampaignArgument, json_output: JsonFlag = False) -> None:
    """Send nothing more; the vendor pauses what it holds where it can."""
    _control(ctx, campaign_id, "pause", json_output)


@app.command("resume")
def resume(ctx: typer.Context, campaign_id: CampaignArgument, json_output: JsonFlag = False) -> None:
    """Carry on with a paused campaign."""
    _control(ctx, campaign_id, "resume", json_output)


@app.command("cancel")
def cancel(ctx: typer.Context, campaign_id: CampaignArgument, json_output: JsonFlag = False) -> None:
    """Cancel for good: queued contacts here, the vendor's tasks there."""
    _control(ctx, campaign_id, "cancel", json_output)

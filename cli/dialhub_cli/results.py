"""Results out: exports (and the HTML report, an export too) waited for and downloaded, the outcome feed tailed,
and a split campaign's vendors compared."""

from __future__ import annotations

import os
import tempfile
import time
import webbrowser
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from dialhub_cli import render
from dialhub_cli.client import CliError
from dialhub_cli.imports import MaxWait
from dialhub_cli.session import JsonFlag, Session, UsageProblem, interrupt_after, session
from dialhub_cli.transfer import STDOUT, download

POLL_SECONDS = 1.0
FEED_PAGE = 500
PHASES = {"columns": "reading the variable columns", "rows": "writing rows", "completing": "completing the file"}


class ExportFormat(StrEnum):
    csv = "csv"
    jsonl = "jsonl"


OutputFile = Annotated[
    Path | None,
    typer.Option(
        "--output", "-o", dir_okay=False, help="Where to save the file (default: its own name, here; - for stdout)"
    ),
]


def _wait(s: Session, export_id: str, total: int | None, max_wait: float | None) -> dict[str, Any]:
    deadline = time.monotonic() + max_wait if max_wait else None
    view: dict[str, Any] = s.api.get("exports", export_id)
    try:
        with s.out.counting() as progress:
            task = progress.add_task("export queued", total=total)
            while view["state"] == "running":
                if deadline is not None and time.monotonic() > deadline:
                    raise CliError(
                        f"export {export_id} is still running after {max_wait:.0f} s; it carries on on the server: "
                        f"dialhub download {export_id}"
                    )
                time.sleep(POLL_SECONDS)
                view = s.api.get("exports", export_id)
                progress.update(
                    task, completed=view["rows"], description=PHASES.get(view.get("phase") or "", "exporting")
                )
            progress.update(
                task, completed=view["rows"], total=max(view["rows"], total or 0), description=f"export {view['state']}"
            )
    except KeyboardInterrupt:
        s.out.note(
            f"export {export_id} carries on on the server (there is no stopping it; its file is deleted after the "
            f"retention days): fetch it later with: dialhub download {export_id}"
        )
        raise
    if view["state"] != "done":
        raise CliError(f"export {export_id} {view['state']}: {view.get('error') or 'its file is gone'}")
    return view


def _fetch(s: Session, view: dict[str, Any], output: Path | None) -> dict[str, Any]:
    url = view["url"]
    with s.out.transferring() as progress:
        task = progress.add_task("downloading", total=None)
        saved = download(
            url,
            output,
            s.target.link_verify(url),
            started=lambda length: progress.update(task, total=length),
            advance=lambda received: progress.advance(task, received),
            fallback_name=f"{view['exportId']}.{view['format']}",
            timeout=s.target.timeout,
        )
    return {**view, "file": str(saved.path), "bytes": saved.bytes}


def _report(s: Session, result: dict[str, Any]) -> None:
    if s.out.json:
        s.out.document(result)
    elif result["file"] == str(STDOUT):
        s.out.note(f"export {result['exportId']}: {result['rows']:,} rows, {result['bytes']:,} bytes")
    else:
        s.out.say(f"{result['file']}: {result['rows']:,} rows, {result['bytes']:,} bytes (export {result['exportId']})")


def _check_output(s: Session, output: Path | None) -> None:
    if output == STDOUT and s.out.json:
        raise UsageProblem("-o - writes the file to stdout: --json cannot share it")
    if output is not None and output != STDOUT and not output.parent.is_dir():
        raise UsageProblem(f"{output.parent} is not a folder")


def export_campaign(
    s: Session,
    campaign_id: str,
    body: dict[str, Any],
    output: Path | None,
    max_wait: float | None,
) -> dict[str, Any]:
    """Start an export, follow it (rows so far against the campaign's contacts) and download its file."""
    campaign = s.api.get("campaigns", campaign_id)
    state = body.get("state")
    total = campaign["byState"].get(state, 0) if state else campaign["totalContacts"]
    with interrupt_after():
        started = s.api.post("campaigns", campaign_id, "exports", body=body)
    s.out.note(f"export {started['exportId']} of campaign {campaign_id} started")
    return _fetch(s, _wait(s, started["exportId"], total, max_wait), output)


def export(
    ctx: typer.Context,
    campaign_id: Annotated[str, typer.Argument(help="The campaign's id")],
    file_format: Annotated[
        ExportFormat, typer.Option("--format", help="csv (opens in Excel) or jsonl")
    ] = ExportFormat.csv,
    state: Annotated[str | None, typer.Option(help="Only contacts in this dial state (final, failed…)")] = None,
    include_phone: Annotated[
        bool,
        typer.Option("--include-phone", help="Full phone numbers (your identity is logged); default last four digits"),
    ] = False,
    output: OutputFile = None,
    max_wait: MaxWait = None,
    json_output: JsonFlag = False,
) -> None:
    """Export a campaign's results to a file: one row per contact with its closing outcome."""
    s = session(ctx, json_output)
    _check_output(s, output)
    body: dict[str, Any] = {"format": file_format.value, "includePhone": include_phone}
    if state is not None:
        body["state"] = state
    _report(s, export_campaign(s, campaign_id, body, output, max_wait))


def report(
    ctx: typer.Context,
    campaign_id: Annotated[str, typer.Argument(help="The campaign's id")],
    open_it: Annotated[bool, typer.Option("--open", help="Open it in the browser once saved")] = False,
    output: OutputFile = None,
    max_wait: MaxWait = None,
    json_output: JsonFlag = False,
) -> None:
    """The campaign's HTML report (an export in format html), saved and, with --open, opened."""
    s = session(ctx, json_output)
    _check_output(s, output)
    if open_it and output == STDOUT:
        raise UsageProblem("--open needs a file: not -o -")
    result = export_campaign(s, campaign_id, {"format": "html"}, output, max_wait)
    _report(s, result)
    if open_it:
        uri = Path(result["file"]).resolve().as_uri()
        if not webbrowser.open(uri):
            s.out.note(f"no browser could be started here; open {uri}")


def download_export(
    ctx: typer.Context,
    export_id: Annotated[str, typer.Argument(help="The export's id (exp_…)")],
    output: OutputFile = None,
    max_wait: MaxWait = None,
    json_output: JsonFlag = False,
) -> None:
    """Download an export started earlier (waiting for it if it still runs); a fresh link is asked for."""
    s = session(ctx, json_output)
    _check_output(s, output)
    _report(s, _fetch(s, _wait(s, export_id, None, max_wait), output))


def _save_cursor(path: Path, cursor: str) -> None:
    """Written whole or not at all: a reader resuming from it never finds half a cursor."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(handle, "w") as file:
        file.write(cursor + "\n")
    os.replace(temporary, path)


def outcomes(
    ctx: typer.Context,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep reading as outcomes come (until Ctrl-C)")
    ] = False,
    after: Annotated[
        str | None, typer.Option(help="Start after this nextCursor (default: the oldest outcome kept)")
    ] = None,
    cursor_file: Annotated[
        Path | None,
        typer.Option(dir_okay=False, help="Start from the cursor kept in this file, and keep the latest there"),
    ] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Stop after this many outcomes")] = None,
    interval: Annotated[float, typer.Option(min=0.5, help="Seconds between reads once caught up (--follow)")] = 5.0,
    stop_after: Annotated[
        float | None, typer.Option(min=1, help="With --follow: stop after this many seconds (exit 0)")
    ] = None,
    json_output: JsonFlag = False,
) -> None:
    """The outcome feed: every closing outcome once, in the order recorded; one line each (--json: JSON Lines)."""
    s = session(ctx, json_output)
    position = after
    if position is None and cursor_file is not None and cursor_file.is_file():
        position = cursor_file.read_text().strip() or None
    deadline = time.monotonic() + stop_after if stop_after else None
    printed = 0
    try:
        while limit is None or printed < limit:
            asked = FEED_PAGE if limit is None else min(FEED_PAGE, limit - printed)
            page = s.api.get("outcomes", query={"after": position, "limit": asked})
            for item in page["items"]:
                if s.out.json:
                    s.out.line(item)
                else:
                    s.out.say(render.outcome_line(item))
            printed += len(page["items"])
            position = page["nextCursor"]
            if cursor_file is not None:
                _save_cursor(cursor_file, position)
            if page.get("hasMore"):
                continue
            if not follow or (deadline is not None and time.monotonic() >= deadline):
                break
            time.sleep(interval if deadline is None else max(0.0, min(interval, deadline - time.monotonic())))
    finally:
        if position:
            s.out.note(f"{printed} outcomes; carry on with: dialhub outcomes --after {position}")


def compare(
    ctx: typer.Context,
    campaign_id: Annotated[str, typer.Argument(help="The campaign's id")],
    json_output: JsonFlag = False,
) -> None:
    """A split campaign's vendors side by side: rates with 95% intervals, cost, and each challenger's verdict."""
    s = session(ctx, json_output)
    view = s.api.get("campaigns", campaign_id, "comparison")
    s.out.answer(view, render.comparison(view))


def register(app: typer.Typer) -> None:
    app.command("export")(export)
    app.command("report")(report)
    app.command("download")(download_export)
    app.command("outcomes")(outcomes)
    app.command("compare")(compare)

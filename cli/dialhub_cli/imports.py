"""Contact files: the upload to the link `POST /imports` hands out, the import followed to its end, and what
an interrupted upload leaves (nothing: the campaign made for it is cancelled, the import expires unused)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer

from dialhub_cli import render
from dialhub_cli.client import CliError
from dialhub_cli.session import JsonFlag, Session, interrupt_after, session
from dialhub_cli.transfer import download, upload

POLL_SECONDS = 1.0
ENDED = ("done", "failed", "expired")

app = typer.Typer(help="Contact file imports: follow one, fetch its rejected rows.", no_args_is_help=True)

MaxWait = Annotated[
    float | None,
    typer.Option(min=1, help="Give up waiting after this many seconds (exit 1); the work carries on on the server"),
]
RejectionsOut = Annotated[
    Path | None,
    typer.Option(dir_okay=False, help="Save the rejected rows (CSV: row, contactId, field, reason) to this file"),
]


def cancel_campaign(s: Session, campaign_id: str, why: str) -> None:
    with interrupt_after():
        s.api.post("campaigns", campaign_id, "cancel")
    s.out.note(f"campaign {campaign_id} cancelled: {why}")


def settle_unfinished_upload(s: Session, view: dict[str, Any], campaign_made_here: bool) -> None:
    """After an upload that did not finish: S3 keeps nothing of a PUT cut short, so the import never starts. A
    campaign made for this file alone is cancelled (the API deletes none); one that existed is left as it was."""
    import_id, campaign_id = view["importId"], view["campaignId"]
    try:
        with interrupt_after():
            state = s.api.get("imports", import_id)["state"]
    except CliError as exc:
        s.out.note(f"could not check import {import_id} ({exc.message}); see: dialhub imports show {import_id}")
        return
    if state not in ("awaiting_upload", "expired"):
        s.out.note(
            f"the file had arrived: import {import_id} is {state} on the server and ends by itself; "
            f"follow it with: dialhub imports show {import_id} --wait"
        )
        return
    if campaign_made_here:
        cancel_campaign(s, campaign_id, "its contact file never arrived, so it has no contacts")
    else:
        s.out.note(f"the file never arrived: import {import_id} expires unused; campaign {campaign_id} is unchanged")


def upload_file(s: Session, view: dict[str, Any], file: Path, campaign_made_here: bool) -> None:
    size = file.stat().st_size
    if size > view["maxBytes"]:
        settle_unfinished_upload(s, view, campaign_made_here)
        raise CliError(f"{file} is {size / 2**20:.1f} MB; the API takes files up to {view['maxBytes'] / 2**20:.0f} MB")
    url = view["uploadUrl"]
    try:
        with s.out.transferring() as progress:
            task = progress.add_task(f"uploading {file.name}", total=size)
            upload(url, file, s.target.link_verify(url), lambda sent: progress.advance(task, sent), s.target.timeout)
    except (KeyboardInterrupt, CliError):
        settle_unfinished_upload(s, view, campaign_made_here)
        raise


def follow(s: Session, import_id: str, max_wait: float | None) -> dict[str, Any]:
    """Poll GET /imports/{id} until it ends, with the rows read so far (the file's row count is unknown here)."""
    deadline = time.monotonic() + max_wait if max_wait else None
    view: dict[str, Any] = s.api.get("imports", import_id)
    try:
        with s.out.counting() as progress:
            task = progress.add_task("waiting for the importer", total=None)
            while view["state"] not in ENDED:
                if deadline is not None and time.monotonic() > deadline:
                    raise CliError(
                        f"import {import_id} is still {view['state']} after {max_wait:.0f} s; it carries on on the "
                        f"server: dialhub imports show {import_id} --wait"
                    )
                time.sleep(POLL_SECONDS)
                view = s.api.get("imports", import_id)
                if view["state"] == "importing":
                    progress.update(
                        task,
                        completed=view["rowsRead"],
                        description=f"importing: {view['accepted']:,} accepted, {view['rejected']:,} rejected, "
                        f"{view['duplicates']:,} duplicates; rows read",
                    )
            progress.update(
                task, completed=view["rowsRead"], total=view["rowsRead"], description=f"import {view['state']}"
            )
    except KeyboardInterrupt:
        s.out.note(
            f"stopped watching import {import_id}; the server carries on with it (a file uploaded is imported "
            f"whole): dialhub imports show {import_id} --wait"
        )
        raise
    return view


def finish(s: Session, view: dict[str, Any], rejections_out: Path | None) -> dict[str, Any]:
    """Report an ended import; the rejected rows saved where asked. A failed or expired one is an error."""
    if view["state"] != "done":
        raise CliError(f"import {view['importId']} {view['state']}: {view.get('error') or 'the file never arrived'}")
    result = dict(view)
    url = view.get("rejectionsUrl")
    if url and rejections_out is not None:
        with s.out.transferring() as progress:
            task = progress.add_task("rejected rows", total=None)
            saved = download(
                url,
                rejections_out,
                s.target.link_verify(url),
                started=lambda length: progress.update(task, total=length),
                advance=lambda received: progress.advance(task, received),
                fallback_name=rejections_out.name,
                timeout=s.target.timeout,
            )
        result["rejectionsFile"] = str(saved.path)
    if s.out.json:
        s.out.document(result)
        return result
    s.out.show(render.import_summary(view))
    s.out.say(f"campaign {view['campaignId']}")
    if "rejectionsFile" in result:
        s.out.say(f"rejected rows: {result['rejectionsFile']}")
    elif url:
        s.out.say(f"rejected rows (link valid 15 minutes; --rejections-out saves them): {url}")
    return result


@app.command("show")
def show(
    ctx: typer.Context,
    import_id: Annotated[str, typer.Argument(help="The import's id (imp_…)")],
    wait: Annotated[bool, typer.Option("--wait", help="Wait until it ends, with its progress")] = False,
    rejections_out: RejectionsOut = None,
    max_wait: MaxWait = None,
    json_output: JsonFlag = False,
) -> None:
    """An import's state and counts; with --wait, followed to its end."""
    s = session(ctx, json_output)
    if wait:
        view = follow(s, import_id, max_wait)
        finish(s, view, rejections_out)
        return
    view = s.api.get("imports", import_id)
    if view["state"] == "done":
        finish(s, view, rejections_out)
    elif s.out.json:
        s.out.document(view)
    else:
        s.out.show(render.import_summary(view))
        if view.get("error"):
            s.out.say(f"error: {view['error']}")

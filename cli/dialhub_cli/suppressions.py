"""Numbers never to be called: `dialhub suppress` and `dialhub unsuppress`."""

from __future__ import annotations

from typing import Annotated

import typer

from dialhub_cli import render
from dialhub_cli.session import JsonFlag, interrupt_after, session

Phone = Annotated[str, typer.Argument(help="E.164 (+639171234567) or national (09171234567)")]


def suppress(
    ctx: typer.Context,
    phone: Phone,
    reason: Annotated[str, typer.Option(help="Why the number must not be called")],
    until: Annotated[
        str | None, typer.Option(help="Until when (ISO 8601 with offset: 2026-12-31T00:00:00+08:00); default: for good")
    ] = None,
    json_output: JsonFlag = False,
) -> None:
    """Never call this number (by any vendor, in any campaign), or not until --until."""
    s = session(ctx, json_output)
    body = {"reason": reason} | ({"until": until} if until else {})
    with interrupt_after():
        view = s.api.put("suppressions", phone, body=body)
    s.out.answer(view, render.suppression(view, "suppressed"))


def unsuppress(ctx: typer.Context, phone: Phone, json_output: JsonFlag = False) -> None:
    """Lift a number's suppression (404 if it has none)."""
    s = session(ctx, json_output)
    with interrupt_after():
        view = s.api.delete("suppressions", phone)
    s.out.answer(view, render.suppression(view, "no longer suppressed; it was"))


def register(app: typer.Typer) -> None:
    app.command("suppress")(suppress)
    app.command("unsuppress")(unsuppress)

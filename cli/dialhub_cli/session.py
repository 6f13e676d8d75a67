"""What every command is given: where the API is (`Target`), how to print (`Output`), and the errors that end a
command with their exit status (1: the API or a request failed; 2: usage; 130: Ctrl-C)."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any

import typer

from dialhub_cli.client import Api
from dialhub_cli.output import Output
from dialhub_cli.target import NoTarget, Target

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

JsonFlag = Annotated[
    bool, typer.Option("--json", help="Machine output: JSON on stdout and nothing else there; no progress bars")
]


class UsageProblem(Exception):
    """Options that cannot work together, found once the command runs (exit 2)."""


@dataclass
class Session:
    target: Target
    out: Output

    @property
    def api(self) -> Api:
        try:
            return self.target.api()
        except NoTarget:
            raise UsageProblem(
                "say where the API is: --url URL (make serve prints it: http://127.0.0.1:3000) or --stack NAME "
                "(a deployed stack; requests signed with SigV4), or set DIALHUB_URL or DIALHUB_STACK"
            ) from None


def session(ctx: typer.Context, json_output: bool) -> Session:
    target: Target = ctx.find_root().obj
    root_json = bool(ctx.find_root().meta.get("dialhub.json"))
    return Session(target, Output(json=json_output or root_json))


@contextlib.contextmanager
def interrupt_after(_: Any = None) -> Iterator[None]:
    """Ctrl-C pressed while the block runs takes effect when it ends: a short request that creates something is
    answered (so the caller knows what it created, and can undo it) instead of cut off mid-way. A process that
    ignores Ctrl-C (started in the background, or under nohup) goes on ignoring it."""
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        yield
        return
    pressed: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda number, frame: pressed.append(number))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if pressed:
        raise KeyboardInterrupt

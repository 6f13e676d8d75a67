"""What a command prints: for people, tables and progress bars (progress on stderr); with --json, JSON alone on
stdout (one document, or one line per item for a stream) and no progress at all."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console, RenderableType
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)


@dataclass
class Output:
    json: bool = False
    out: Console = field(default_factory=lambda: Console(highlight=False))
    err: Console = field(default_factory=lambda: Console(stderr=True, highlight=False))

    def document(self, value: Any) -> None:
        """One JSON document on stdout (--json)."""
        sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")
        sys.stdout.flush()

    def line(self, value: Any) -> None:
        """One JSON line on stdout, for streams (outcomes, a watched campaign)."""
        sys.stdout.write(json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n")
        sys.stdout.flush()

    def answer(self, value: Any, shown: RenderableType) -> None:
        """A command's answer: the API's own JSON with --json, else `shown` (a table, or a sentence)."""
        if self.json:
            self.document(value)
        elif isinstance(shown, str):
            self.say(shown)
        else:
            self.show(shown)

    def show(self, renderable: RenderableType) -> None:
        self.out.print(renderable)

    def say(self, text: str) -> None:
        """A sentence for people on stdout (nothing, with --json)."""
        if not self.json:
            self.out.print(text, markup=False, soft_wrap=True)

    def note(self, text: str) -> None:
        """A sentence on stderr, in both modes: what was left where, how to resume."""
        self.err.print(text, markup=False, soft_wrap=True)

    def counting(self) -> Progress:
        return Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.err,
            disable=self.json,
        )

    def transferring(self) -> Progress:
        return Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeElapsedColumn(),
            console=self.err,
            disable=self.json,
        )

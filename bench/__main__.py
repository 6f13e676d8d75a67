"""`python -m bench [--quick | --render]`: run every figure, print the table, write BENCHMARKS.md."""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench import (
    callback_cost,
    cold_start,
    gateway_throughput,
    imports_run,
    plan_dispatch,
    results_out,
    stream_events,
)
from bench.report import ROOT, Row, machine, markdown_table, terminal_table

LAST_RUN = ROOT / ".reports" / "bench-last-run.json"

# BENCHMARKS.md is this renderer's up to this line; what follows it there is written by hand (what the figures
# showed and what was done about them) and kept as it is when the page is rendered again.
HAND_WRITTEN = "<!-- Written by hand from here on: `make bench` rewrites only what is above. -->"


def _hand_written(page: Path) -> str:
    """The page's hand-written part (from the marker on), or the marker alone for a page without one."""
    text = page.read_text() if page.exists() else ""
    return text[text.index(HAND_WRITTEN) :] if HAND_WRITTEN in text else HAND_WRITTEN + "\n"


def _timed(label: str, run: Callable[[], list[Row]], rows: list[Row]) -> None:
    started = time.monotonic()
    print(f"... {label}", flush=True)
    rows.extend(run())
    print(f"    done in {time.monotonic() - started:.0f} s", flush=True)


def measure(quick: bool) -> dict[str, Any]:
    started = time.monotonic()
    host = machine()
    rows: list[Row] = []
    _timed("1 cold start", lambda: cold_start.measure(5 if quick else 15), rows)
    _timed("2-3 warm callbacks", lambda: callback_cost.measure(60 if quick else 300), rows)
    day: dict[str, Any] = {}
    scale = 3_000 if quick else plan_dispatch.FULL_SCALE
    _timed("4-5 plan and dispatch", lambda: plan_dispatch.measure(scale, keep=day), rows)
    _timed("10 split campaign planning", lambda: plan_dispatch.measure_split(scale, day), rows)
    _timed("6 gateway throughput", lambda: gateway_throughput.measure(60 if quick else 300), rows)
    _timed("7 results out", lambda: results_out.measure(3_000 if quick else 100_000), rows)
    _timed("8 stream and events", lambda: stream_events.measure(300 if quick else 1_000), rows)
    _timed("9 contact file in", lambda: imports_run.measure(20_000 if quick else 1_000_000), rows)
    return {"host": host, "quick": quick, "seconds": time.monotonic() - started, "rows": [asdict(row) for row in rows]}


def render(run: dict[str, Any]) -> str:
    host = run["host"]
    rows = [Row(**row) for row in run["rows"]]
    unmet = [row for row in rows if row.met is False]
    return (
        "\n".join(
            [
                "# Benchmarks",
                "",
                "Written by `make bench` (`python -m bench`; `--quick` for a smaller run; `--render` rewrites this",
                "page from the last run's figures, kept in .reports/). Not part of `make test`. Every timing is a",
                "ratio against, or a difference from, a baseline taken in the same run, so the figures survive a",
                "noisy machine; request counts are exact. Notes say how each figure was taken.",
                "",
                f"- date: {host['date']}" + (" (quick run)" if run["quick"] else ""),
                f"- machine: {host['cores']} cores, {host['cpu']}, {host['platform']}, Python {host['python']}",
                f"- load average when the run started: {host['load']} (other work shares this machine)",
                f"- run time: {run['seconds']:.0f} s",
                "",
                markdown_table(rows, with_notes=True),
                "",
                f"Goals met: {sum(row.met is True for row in rows)} of {sum(row.met is not None for row in rows)}."
                + (" Not met: " + "; ".join(f"{row.figure} {row.measure}" for row in unmet) + "." if unmet else ""),
                "",
                _hand_written(ROOT / "BENCHMARKS.md").rstrip("\n"),
            ]
        )
        + "\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes and fewer repetitions (a few minutes)")
    parser.add_argument("--render", action="store_true", help="rewrite BENCHMARKS.md from the last run's figures")
    args = parser.parse_args()
    if args.render:
        run = json.loads(LAST_RUN.read_text())
    else:
        run = measure(args.quick)
        LAST_RUN.parent.mkdir(exist_ok=True)
        LAST_RUN.write_text(json.dumps(run, indent=1))
        print()
        print(terminal_table([Row(**row) for row in run["rows"]]))
    (ROOT / "BENCHMARKS.md").write_text(render(run))
    print(f"\nwritten: {ROOT / 'BENCHMARKS.md'}")


if __name__ == "__main__":
    main()

"""`python -m bench [--quick | --render | --only FIGURES]`: run the figures, print the table, write BENCHMARKS.md."""

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


def _groups(quick: bool) -> list[tuple[str, frozenset[str], Callable[[], list[Row]]]]:
    """Each group of figures measured together: its label, its figures, and how it is measured."""
    day: dict[str, Any] = {}  # figure 5's day, which figure 10 compares against (so 10 runs 4-5 too)
    scale = 3_000 if quick else plan_dispatch.FULL_SCALE
    return [
        ("1 cold start", frozenset({"1"}), lambda: cold_start.measure(5 if quick else 15)),
        ("2-3 warm callbacks", frozenset({"2", "3"}), lambda: callback_cost.measure(60 if quick else 300)),
        ("4-5 plan and dispatch", frozenset({"4", "5", "10"}), lambda: plan_dispatch.measure(scale, keep=day)),
        ("10 split campaign planning", frozenset({"10"}), lambda: plan_dispatch.measure_split(scale, day)),
        ("6 gateway throughput", frozenset({"6"}), lambda: gateway_throughput.measure(60 if quick else 300)),
        ("7 results out", frozenset({"7"}), lambda: results_out.measure(3_000 if quick else 100_000)),
        ("8 stream and events", frozenset({"8"}), lambda: stream_events.measure(300 if quick else 1_000)),
        ("9 contact file in", frozenset({"9"}), lambda: imports_run.measure(20_000 if quick else 1_000_000)),
    ]


def measure(quick: bool, only: frozenset[str] | None = None) -> dict[str, Any]:
    """Every figure, or (with `only`) the groups measuring those figures."""
    started = time.monotonic()
    host = machine()
    rows: list[Row] = []
    for label, figures, run in _groups(quick):
        if only is None or figures & only:
            _timed(label, run, rows)
    return {"host": host, "quick": quick, "seconds": time.monotonic() - started, "rows": [asdict(row) for row in rows]}


def merged(last: dict[str, Any], fresh: dict[str, Any]) -> dict[str, Any]:
    """The last full run with the figures just measured again in place of its own, and a record of when."""
    remeasured = sorted({row["figure"] for row in fresh["rows"]}, key=int)
    rows = [row for row in last["rows"] if row["figure"] not in remeasured] + fresh["rows"]
    rows.sort(key=lambda row: int(row["figure"]))  # stable: a figure's rows keep their order
    earlier = [
        entry | {"figures": [figure for figure in entry["figures"] if figure not in remeasured]}
        for entry in last.get("remeasured", [])
        if set(entry["figures"]) - set(remeasured)
    ]
    return last | {
        "rows": rows,
        "remeasured": [*earlier, {"figures": remeasured, "date": fresh["host"]["date"], "seconds": fresh["seconds"]}],
    }


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
                *(
                    f"- figures {', '.join(entry['figures'])} measured again on {entry['date']} "
                    f"(`--only`, {entry['seconds']:.0f} s, {'quick' if run['quick'] else 'same sizes'})"
                    for entry in run.get("remeasured", [])
                ),
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
    parser.add_argument(
        "--only",
        metavar="FIGURES",
        help="measure again only these figures (e.g. 4,10) and keep the last run's others (a figure measured "
        "against another's baseline brings that one along)",
    )
    args = parser.parse_args()
    if args.render:
        run = json.loads(LAST_RUN.read_text())
    elif args.only:
        last = json.loads(LAST_RUN.read_text())
        only = frozenset(figure.strip() for figure in args.only.split(","))
        known = frozenset().union(*(figures for _, figures, _ in _groups(last["quick"])))
        if unknown := sorted(only - known):
            parser.error(f"--only: no figure {', '.join(unknown)} (figures: {', '.join(sorted(known, key=int))})")
        run = merged(last, measure(last["quick"], only))
    else:
        run = measure(args.quick)
    if not args.render:
        LAST_RUN.parent.mkdir(exist_ok=True)
        LAST_RUN.write_text(json.dumps(run, indent=1))
        print()
        print(terminal_table([Row(**row) for row in run["rows"]]))
    (ROOT / "BENCHMARKS.md").write_text(render(run))
    print(f"\nwritten: {ROOT / 'BENCHMARKS.md'}")


if __name__ == "__main__":
    main()

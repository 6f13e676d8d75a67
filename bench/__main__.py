"""`python -m bench [--quick | --render]`: run every figure, print the table, write BENCHMARKS.md."""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from bench import callback_cost, cold_start, gateway_throughput, plan_dispatch
from bench.report import ROOT, Row, machine, markdown_table, terminal_table

LAST_RUN = ROOT / ".reports" / "bench-last-run.json"

FINDINGS = """\
## What the table showed, and what was done

Fixed after the first runs:

- httpx and stamina are imported where a vendor request is sent (`vendors/base.py` and each adapter),
  phonenumbers where a number is parsed (`phones.py`, `compliance.py`): storing a callback needs none of
  them, yet every function paid for them at cold start.
- `functions/dispatcher/app.py` builds the SQS partial batch response itself instead of importing
  Powertools' `BatchProcessor`, whose import loads every event data class.
- `PYDANTIC_DISABLE_PLUGINS=__all__` (template Globals): pydantic no longer looks for plugins through
  package metadata at every cold start.
- `dialhub/observability.py` writes the embedded-metric line of `count_metric` directly (byte for byte
  what Powertools' `single_metric` printed), a fifth of its cost on every stored callback.
- Planning marks contacts planned 16 conditional writes at a time, the scheduler has a full vCPU
  (1,769 MB), and a run that would outlast its timeout stops between batches while the campaign stays due
  for the 30-minute re-planning run: a 100,000-contact day no longer depends on one invocation.

Goals not met, and why:

- **Cold start `api`:** `dialhub/api.py` uses Powertools' `APIGatewayHttpResolver(enable_validation=True)`,
  which loads Powertools' OpenAPI machinery and pydantic schema generation at import. The fix is to
  validate bodies with the pydantic models the routes already use (and path ids against `ID_PATTERN`) and
  keep Powertools' validation for `scripts/generate_openapi.py` only; it changes every error path of the
  API, so it is left for its own change.
- **Cold start `webhooks` (goal 1.5x):** above the `import boto3` floor the function imports Powertools'
  Logger and Metrics (about 30 ms here, needed by the handler's decorators) and pydantic with
  `dialhub.models` (about 35 ms: pydantic builds each model's validator when the class is created).
  `ConfigDict(defer_build=True)` on the models the callback path never validates would take part of the
  second off; 1.5x is out of reach while the function uses Powertools and pydantic at all.
- **Warm callback overhead (goal 1 ms):** the one write is a transaction of the outcome, its contact and
  the raw payload (by design: they can never disagree, and nothing is half-written), which costs the SDK
  more than a put_item; the rest is parsing, building the update and one INFO log line.
- **Gateway throughput ratio (goal 0.8):** dominated by moto, which serves a transaction far more slowly
  than a put_item; the row note gives the ratio with moto's own time left out of both sides.
- **Scale (figure 5):** moto takes 10-20 ms a write, so 100,000 contacts are not run here: the figures are
  measured at 1,500 and extrapolated, as each row's note says.
"""


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
    _timed("4-5 plan and dispatch", lambda: plan_dispatch.measure(3_000 if quick else plan_dispatch.FULL_SCALE), rows)
    _timed("6 gateway throughput", lambda: gateway_throughput.measure(60 if quick else 300), rows)
    return {"host": host, "quick": quick, "seconds": time.monotonic() - started, "rows": [asdict(row) for row in rows]}


def render(run: dict[str, Any]) -> str:
    host = run["host"]
    rows = [Row(**row) for row in run["rows"]]
    unmet = [row for row in rows if row.met is False]
    return "\n".join([
        "# Benchmarks",
        "",
        "Written by `make bench` (`python -m bench`; `--quick` for a smaller run; `--render` rewrites this page",
        "from the last run's figures, kept in .reports/). Not part of `make test`. Every timing is a ratio",
        "against, or a difference from, a baseline taken in the same run, so the figures survive a noisy",
        "machine; request counts are exact. Notes say how each figure was taken.",
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
        FINDINGS,
    ])


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

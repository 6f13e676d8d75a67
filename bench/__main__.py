"""`python -m bench [--quick | --render]`: run every figure, print the table, write BENCHMARKS.md."""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from bench import callback_cost, cold_start, gateway_throughput, plan_dispatch, results_out
from bench.report import ROOT, Row, machine, markdown_table, terminal_table

LAST_RUN = ROOT / ".reports" / "bench-last-run.json"

FINDINGS = """\
## What the table showed, and what was done

Cold start (figure 1):

- Every handler imports with the garbage collector paused and freezes what it built before resuming it
  (`functions/*/app.py`). The imports build objects that live as long as the container, never garbage,
  yet each handler paid for collections walking them: 35 to 45 ms of the API's import here, a full
  collection among them. Frozen, they are also never walked again by the collections of warm invocations.
- The API checks path parameters and bodies against its route signatures itself (`dialhub/api.py`,
  `_validated`): Powertools' OpenAPI validation loaded its validation machinery and built a model per route
  parameter in every cold start; it still generates `docs/openapi.json` from the same signatures, offline.
- The compliance presets are built on first use, and the wire models' validators on first validation
  (`defer_build`): most functions never validate most models.
- Kept from the first runs: httpx and stamina are imported where a vendor request is sent, phonenumbers where a
  number is parsed, the dispatcher builds its SQS partial batch response itself instead of importing
  Powertools' `BatchProcessor`, and pydantic looks for no plugins (`PYDANTIC_DISABLE_PLUGINS`).

A warm callback (figures 2, 3 and 6):

- The store writes DynamoDB attribute values directly instead of through a JSON round trip and boto3's
  serializer, and its client skips botocore's parameter check: the store builds each request one way, and
  DynamoDB checks them anyway. Blu's wall-clock times are read without `strptime`.
- The handlers no longer wear Powertools' metrics decorator: every metric is written by `count_metric`, so
  the decorator only printed a "No application metrics to publish" warning on every invocation.
- Figure 6's minimal handler makes the real handler's one write, the same transaction through the same
  store; a handler writing one put_item is shown for scale. Both ratios hold with moto's server counted
  and with it left out.

A day of 100,000 contacts (figures 4 and 5), measured whole rather than extrapolated from 1,500:

- The dispatcher claims and settles a batch's contacts 16 conditional writes at a time, as planning
  already marked them (`dialhub/parallel.py`): one at a time, a 5,000-contact AIRudder batch waited on
  10,000 round trips in a row, and Lambda bills the wait.
- The chaos round then showed a crash part-way through settling could stop polling early: the vendor count
  and job of a batch were recorded after its contacts were settled, and a redelivery re-sends only the
  contacts still unsettled. They are now recorded before any contact is settled
  (`tests/integration/test_blu_flow.py` crashes on the third settle).
- The local stack's moto answers a conditional write about three times faster (`local/moto_patches.py`:
  parses kept, expression trees walked with per-class answers, data answers written as plain JSON, the
  server's service lookup kept per host), each change checked against moto's own answers
  (`tests/integration/test_moto_patches.py`); that is what lets the day run here in about twenty minutes.
- Conditional writes are one request per contact and move: DynamoDB batches them only as a transaction,
  at twice the write units (the dearest line of the bill, see the README) and all or nothing.

Results out (figure 7):

- A page of contacts is one query and one batch read of the page's closing outcomes: each contact now keeps
  the vendor of its last call (`lastCallVendor`, written with the move to final), so the page needs no read of
  the campaign; the campaign is read only when a page comes back empty, to tell an empty campaign from none.
- The outcome feed's index is keys only: one small index write per closing outcome, and a page is one index
  query plus one batch read of the outcomes, whatever the table's size.
- The export's memory is a part (8 MiB) and a read of 1,000 contacts, whatever the campaign's size; its S3
  requests are parts, not rows. Its CPU goes mostly to botocore turning DynamoDB's answers into Python
  (walking every attribute against the service model), then to reading each item's types; dialhub's own
  rows, cells and CSV writing are a small share. A CSV reads the campaign twice (the header needs every
  variable name first), so its rows per second are about half of what one read would give; a million
  contacts may take a second invocation, which the export's saved progress makes safe. Left as levers: a
  first read that asks DynamoDB only for the variables (a projection), and parsing DynamoDB's JSON without
  botocore's shape walk.

Goals not met, and why:

- **Cold start `webhooks` (goal 1.5x):** above the `import boto3` floor, pydantic (about 0.3x: its core
  schema module and model machinery) and Powertools' Logger (about 0.06x) come before any dialhub code;
  dialhub's models, adapter interface, store and compliance rules add about 0.25x, most of it class
  creation (pydantic models and dataclasses). Meeting 1.5x would take a callback path without pydantic.
- **Cold start `api` (goal 2x):** it met the goal in some runs the same day and missed it in others (the
  note gives the median ratio): Powertools' event_handler package imports asyncio, AppSync and every event
  data class for any resolver (about 0.2x), and the API's own code (campaign rules, planning, compliance)
  is the largest in dialhub.

The warm callback overhead (figure 2) moved between 0.58 and 1.11 ms across runs on this machine, met in the
last and missed in earlier ones, as the machine's speed drifted (the floor put_item itself moves by a third):
botocore spends about 0.35 ms more on the three-item transaction than on a put_item, and dialhub and
Powertools take the rest beside moto, spread over parsing, the update's expression, one log line and one
metric line, none above a tenth of it.
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
    _timed("7 results out", lambda: results_out.measure(3_000 if quick else 100_000), rows)
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

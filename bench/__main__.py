"""`python -m bench [--quick]`: run every figure, print the table, write BENCHMARKS.md."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from bench import callback_cost, cold_start, gateway_throughput, plan_dispatch
from bench.report import ROOT, Row, machine, markdown_table, terminal_table

FINDINGS = """\
## What the table showed, and what was done

Fixed here (files owned by this benchmark's change):

- `dialhub/vendors/base.py` no longer imports httpx and stamina at module level: storing a callback needs
  neither, yet every function paid for them at cold start (httpx alone also drags in its CLI's click).
  They are imported where a vendor request is sent.
- `functions/dispatcher/app.py` builds the SQS partial batch response itself instead of importing
  Powertools' `BatchProcessor`, whose import loads every event data class (more than the rest of the
  dispatcher's own imports).
- `dialhub/observability.py` writes the embedded-metric line of `count_metric` directly (byte for byte
  what Powertools' `single_metric` printed), a fifth of its cost on every stored callback.

Left to the owners of other files (the table includes the fixes above, not these):

- **Cold start, every function (`webhooks` goal 1.5x):** above the `import boto3` floor, `webhooks` now
  imports Powertools' Logger and Metrics (about 30 ms here, needed by the handler's decorators), pydantic
  and `dialhub.models` (about 35 ms: pydantic builds every model's validator when the class is created) and
  small parts of dialhub. phonenumbers is already imported only where a number is parsed (commit f7ac2a5).
  The remaining lever is `dialhub/models.py`: `ConfigDict(defer_build=True)` on the models the callback
  path never validates (campaign, suppression, policy and API models) moves their build to first use.
  Expected: `webhooks` about 1.6x; 1.5x is probably out of reach while the function uses Powertools and
  pydantic at all, and this table says so rather than hiding it.
- **Cold start, `api`:** `dialhub/api.py` creates `APIGatewayHttpResolver(enable_validation=True)` and
  imports `event_handler.openapi` (params, exceptions), which loads Powertools' OpenAPI machinery and its
  pydantic schema generation at import. Production needs request validation, not the OpenAPI document:
  validating bodies with the pydantic models the routes already use (and path ids against `ID_PATTERN`),
  and turning Powertools' validation on only where `scripts/generate_openapi.py` builds the document,
  takes it off the `api` cold start.
- **Vendor adapters:** `vendors/blu.py`, `vendors/nxtele.py` and `vendors/airudder.py` import httpx (and
  stamina) at module level, so the first callback of a container still pays for httpx ("webhooks + blu
  adapter" row); importing httpx inside `AccountAdapter.http` (done) plus under `TYPE_CHECKING` in each
  adapter (their owners) removes it from the callback path.
- **DynamoDB requests per contact (plan + dispatch):** reads are batched (BatchGetItem per 100) and the
  dial history is written with BatchWriteItem per 25; what remains is one conditional UpdateItem per contact
  to plan it (`planning.py` `flush`) and two to claim and settle it (`dispatch.py`). DynamoDB batches
  conditional writes only as TransactWriteItems (up to 100 items, all or nothing, and **twice the write
  units**), so batching them trades Lambda time for DynamoDB cost. The cheaper fix is in `store.py`: issue
  a batch's conditional moves concurrently (a small thread pool on the one client), same write units,
  a fraction of the wall time. Without it the daily plan of 100,000 contacts runs about one request round
  trip per contact in one invocation, which does not fit the scheduler's 300 s timeout.
- **Warm callback and gateway ratio:** the handler's one write is a two-item transaction (outcome and
  contact, by design: they can never disagree), which costs the SDK more than a put_item and moto far more;
  the rest of the handler's own time is parsing (`vendors/blu.py`), building the update (`store.py`) and
  one INFO log line (`webhooks.py`).
"""


def _timed(label: str, run: Callable[[], list[Row]], rows: list[Row]) -> None:
    started = time.monotonic()
    print(f"... {label}", flush=True)
    rows.extend(run())
    print(f"    done in {time.monotonic() - started:.0f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes and fewer repetitions (about a minute)")
    args = parser.parse_args()
    quick = args.quick
    started = time.monotonic()
    host = machine()
    rows: list[Row] = []
    _timed("1 cold start", lambda: cold_start.measure(3 if quick else 7), rows)
    _timed("2-3 warm callbacks", lambda: callback_cost.measure(60 if quick else 200), rows)
    _timed("4-5 plan and dispatch", lambda: plan_dispatch.measure([50] if quick else [100, 500]), rows)
    _timed("6 gateway throughput", lambda: gateway_throughput.measure(60 if quick else 300), rows)
    print()
    print(terminal_table(rows))
    unmet = [row for row in rows if row.met is False]
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`python -m bench`; `--quick` for a smaller run). Not part of `make test`.",
        "Every timing is a ratio against a baseline taken in the same run, so the figures survive a noisy",
        "machine; request counts are exact. Notes say how each figure was taken and what was extrapolated.",
        "",
        f"- date: {host['date']}" + (" (quick run)" if quick else ""),
        f"- machine: {host['cores']} cores, {host['cpu']}, {host['platform']}, Python {host['python']}",
        f"- load average when the run started: {host['load']} (other work shares this machine)",
        f"- run time: {time.monotonic() - started:.0f} s",
        "",
        markdown_table(rows, with_notes=True),
        "",
        f"Goals met: {sum(row.met is True for row in rows)} of {sum(row.met is not None for row in rows)}."
        + (" Not met: " + "; ".join(f"{row.figure} {row.measure}" for row in unmet) + "." if unmet else ""),
        "",
        FINDINGS,
    ]
    (ROOT / "BENCHMARKS.md").write_text("\n".join(lines))
    print(f"\nwritten: {ROOT / 'BENCHMARKS.md'} ({time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()

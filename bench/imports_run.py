"""Figure 9: a contact file in. A CSV of loan-system rows (a million in the full run) uploaded to the import
bucket; S3 announces it on the import queue, as EventBridge delivers it; the importer function reads it.

The local stack's moto runs in this process. The importer runs in a fresh interpreter of its own
(`python -m bench.imports_run --worker CONFIG RESULT`), its queue drained to the function's `lambda_handler`
as Lambda would, so its peak memory, CPU time and requests are the import's alone. Each invocation gets the
deployed function's 900 s; an import that runs short of it stops at a checkpoint and queues the rest, and
the figure counts the invocations it took.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from bench.report import Row, drain_in_this_process, run_worker

MEMORY_GOAL_MB = 256
REQUESTS_PER_ROW_GOAL = 0.06
BAD_EVERY = 50  # one row in 50 has a phone no numbering plan has


# --------------------------------------------------------------------------- the importer's interpreter
def worker(config_path: str, result_path: str) -> None:
    drain_in_this_process(
        "ImporterFunction",
        config_path,
        result_path,
        lambda deps: {
            "s3": deps.import_objects.client,
            "dynamodb": deps.store.client,
            "sqs": deps.import_queue.client,
        },
    )


# --------------------------------------------------------------------------- the file
def loan_file(rows: int, path: Path) -> int:
    """UTF-8 CSV as a loan system exports it, written as it is generated; returns how many rows are bad."""
    bad = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("loan_id,customer_name,mobile,amount_due,due_date,branch\r\n")
        for index in range(rows):
            phone = f"0917{index % 10_000_000:07d}"
            if index % BAD_EVERY == BAD_EVERY - 1:
                phone, bad = "12345", bad + 1
            out.write(f"LN{index:08d},Customer {index},{phone},{1000 + index % 9000}.50,2026-12-15,Makati\r\n")
    return bad


def _run(rows: int) -> dict[str, Any]:
    import tempfile

    import httpx

    from bench.instrument import powertools_output_discarded
    from local.stack import STAGE, LocalStack

    with (
        tempfile.TemporaryDirectory(prefix="dialhub-bench-import-") as scratch,
        LocalStack(vendors=("blu",), dial_delay=(86_400.0, 86_400.0), drop_rate=0.0, log_level="ERROR") as stack,
        powertools_output_discarded(),
        httpx.Client(base_url=stack.url, timeout=120) as client,
    ):
        path = Path(scratch) / "loans.csv"
        bad = loan_file(rows, path)
        campaign = {"name": "bench import", "vendor": "blu", "vendorOptions": stack.simulators["blu"].demo_options()}
        started = client.post("/imports", json={"format": "csv", "campaign": campaign})
        started.raise_for_status()
        view = started.json()
        with path.open("rb") as file:
            upload = httpx.put(view["uploadUrl"], content=file, verify=stack.https_verify(), timeout=600)
        upload.raise_for_status()
        queue_url = stack.queue_urls[stack.template.sqs_source("ImporterFunction").queue_id]
        run = run_worker("bench.imports_run", {"stage": STAGE, "queue_url": queue_url})
        job = client.get(f"/imports/{view['importId']}").json()
        return {"rows": rows, "bad": bad, "bytes": path.stat().st_size, "run": run, "job": job}


def measure(rows: int) -> list[Row]:
    day = _run(rows)
    run, job = day["run"], day["job"]
    complete = (
        job["state"] == "done"
        and job["rowsRead"] == rows
        and job["rejected"] == day["bad"]
        and job["accepted"] == rows - day["bad"]
    )
    peak = run["peak_kb"] / 1024
    requests = sum(run["dynamodb"].values())
    per_row = requests / rows
    cpu_rows = rows / run["cpu"] if run["cpu"] else 0.0
    invocations = len(run["invocations"])
    size = f"{rows:,} rows ({day['bytes'] / 2**20:.0f} MB, one in {BAD_EVERY} with a bad phone)"
    return [
        Row(
            "9",
            f"import of a CSV of {rows:,} rows: peak memory of the importing process",
            f"{peak:.0f} MB",
            f"<= {MEMORY_GOAL_MB} MB",
            peak <= MEMORY_GOAL_MB and complete,
            f"VmHWM of a fresh interpreter running the importer's lambda_handler from the import queue; {size}; "
            f"import {job['state']}: {job['accepted']:,} accepted, {job['rejected']:,} rejected, "
            f"{job['duplicates']:,} duplicates",
        ),
        Row(
            "9",
            "DynamoDB requests per imported row",
            f"{per_row:.3f}",
            f"<= {REQUESTS_PER_ROW_GOAL}",
            per_row <= REQUESTS_PER_ROW_GOAL and complete,
            f"{requests:,} requests: "
            + ", ".join(f"{name} {count:,}" for name, count in sorted(run["dynamodb"].items()))
            + "; S3 "
            + ", ".join(f"{name} {count:,}" for name, count in sorted(run["s3"].items())),
        ),
        Row(
            "9",
            "rows read per CPU-second, and invocations the import took",
            f"{cpu_rows:,.0f} rows/s, {invocations} invocation{'s' if invocations != 1 else ''}",
            "",
            None,
            f"CPU time of the importing process {run['cpu']:.1f} s (wall {run['wall']:.1f} s, moto answering over "
            "HTTP in another process); each invocation has 900 s and stops 30 s before its end at a checkpoint",
        ),
    ]


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        worker(sys.argv[2], sys.argv[3])
    else:
        from bench.report import terminal_table

        print(terminal_table(measure(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)))

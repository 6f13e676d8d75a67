"""The benchmark table: one row per figure, printed to the terminal and written to BENCHMARKS.md."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Row:
    """One measured figure: `met` is None when the row is information without a goal."""

    figure: str
    measure: str
    value: str
    goal: str = ""
    met: bool | None = None
    note: str = ""

    @property
    def verdict(self) -> str:
        return {True: "met", False: "NOT met", None: "-"}[self.met]


def cpu_model() -> str:
    """The CPU model line of /proc/cpuinfo (platform.processor() is empty on most Linux builds)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.split(":")[0].strip() in ("model name", "Model", "cpu model"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_average() -> str:
    try:
        return ", ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "unknown"


def machine() -> dict[str, str]:
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu_model(),
        "cores": str(os.cpu_count()),
        "python": sys.version.split()[0],
        "platform": f"{platform.system()} {platform.release()} {platform.machine()}",
        "load": load_average(),
    }


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_table(rows: list[Row], *, with_notes: bool) -> str:
    header = ["#", "measure", "value", "goal", "verdict"] + (["why / how"] if with_notes else [])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        cells = [row.figure, row.measure, row.value, row.goal, row.verdict] + ([row.note] if with_notes else [])
        lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    return "\n".join(lines)


def terminal_table(rows: list[Row]) -> str:
    header = ("#", "measure", "value", "goal", "verdict")
    cells = [header] + [(row.figure, row.measure, row.value, row.goal, row.verdict) for row in rows]
    widths = [max(len(line[index]) for line in cells) for index in range(len(header))]
    rendered = ["  ".join(text.ljust(width) for text, width in zip(line, widths, strict=True)) for line in cells]
    rendered.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(rendered)


def run_worker(module: str, config: dict[str, Any]) -> dict[str, Any]:
    """Run `python -m <module> --worker <config> <result>` in a fresh interpreter (the functions measured alone in
    their process, as Lambda runs them) and return the JSON result it wrote."""
    with tempfile.TemporaryDirectory(prefix="dialhub-bench-") as scratch:
        config_path, result_path = Path(scratch) / "config.json", Path(scratch) / "result.json"
        config_path.write_text(json.dumps(config))
        completed = subprocess.run(  # noqa: S603 - our own module, our own interpreter
            [sys.executable, "-m", module, "--worker", str(config_path), str(result_path)],
            env=dict(os.environ),
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
            timeout=4 * 3600,
        )
        if completed.returncode != 0:
            raise RuntimeError(f"{module} worker failed:\n{completed.stderr[-3000:]}")
        result: dict[str, Any] = json.loads(result_path.read_text())
        return result


def drain_in_this_process(
    function_id: str,
    config_path: str,
    result_path: str,
    clients: Callable[[Any], dict[str, Any]],
    details: Callable[[Any], dict[str, Any]] = lambda _: {},
) -> None:
    """The worker side of `run_worker` for a queue-fed function: its queue (`config["queue_url"]`) drained to its
    `lambda_handler` as Lambda would; written to `result_path`: peak memory, CPU time, the invocations' answers,
    the AWS requests of `clients(deps)` (named clients of the function's own dependencies) and `details(deps)`."""
    import time

    import boto3

    from bench.instrument import AwsRequestCounter, memory_kb, reset_peak_memory
    from local.drivers import SqsDriver
    from local.handlers import FakeLambdaContext, load_handler
    from local.template import SamTemplate

    config: dict[str, Any] = json.loads(Path(config_path).read_text())
    template = SamTemplate(ROOT / "template.yaml", parameters={"Stage": config["stage"]})
    spec = template.functions[function_id]
    handler = load_handler(spec)  # the cold start is not what these figures measure
    from dialhub.wiring import default_dependencies

    deps = default_dependencies()  # what lambda_handler uses: the counters see the function's own requests
    counters = {name: AwsRequestCounter() for name in clients(deps)}
    for name, client in clients(deps).items():
        counters[name].attach(client)
    invocations: list[dict[str, Any]] = []

    def invoke(_: str, event: dict[str, Any]) -> Any:
        invocations.append(handler(event, FakeLambdaContext.for_invoke(spec)))
        return invocations[-1]

    driver = SqsDriver(boto3.client("sqs"), template.sqs_source(function_id), config["queue_url"], invoke)
    reset_peak_memory()
    rss_before = memory_kb("VmRSS")
    wall, cpu = time.perf_counter(), time.process_time()
    driver.drain(max_rounds=1_000)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    result = {
        "wall": wall,
        "cpu": cpu,
        "rss_before_kb": rss_before,
        "peak_kb": memory_kb("VmHWM"),
        "invocations": invocations,
        **{name: dict(counter.by_operation) for name, counter in counters.items()},
        **details(deps),
    }
    Path(result_path).write_text(json.dumps(result))

"""Figure 1: cold start, as the time to import each function's handler module in a fresh interpreter,
divided by the time of `import boto3` alone in a fresh interpreter (the floor every function pays).

Each program runs many times, interleaved, and the fastest run of each is compared.
Bytecode is cached (in a private pycache prefix, warmed first) for the baseline and the handlers alike,
as it is for a deployment package that ships .pyc files.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile

from bench.report import ROOT, Row
from local.handlers import template_environment

LAYER = ROOT / "layers" / "dialhub"
FUNCTIONS = ROOT / "functions"
GOALS = {"webhooks": 1.5}
DEFAULT_GOAL = 2.0
# Modules a path should not pay for unless it needs them; reported when a handler import pulls them in.
HEAVY_MODULES = (
    "httpx",
    "stamina",
    "phonenumbers",
    "aws_lambda_powertools.event_handler.openapi.dependant",
    "aws_lambda_powertools.event_handler.middlewares.openapi_validation",
    "aws_lambda_powertools.utilities.parameters",
    "aws_lambda_powertools.utilities.batch",
    "openpyxl",  # the importer's, for XLSX files only
    "plotly",  # the exports function's, for reports only
    "dialhub.report",
    "dialhub.report_page",
)

_BASELINE = """
import json, sys, time
started = time.perf_counter()
import boto3
print(json.dumps({"seconds": time.perf_counter() - started, "modules": []}))
"""

_HANDLER = """
import importlib, importlib.util, json, sys, time
sys.path[:0] = [{layer!r}, {function_dir!r}]
started = time.perf_counter()
spec = importlib.util.spec_from_file_location("app", {path!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
for extra in {extra_modules!r}:
    importlib.import_module(extra)
seconds = time.perf_counter() - started
print(json.dumps({{"seconds": seconds, "modules": [m for m in {heavy!r} if m in sys.modules]}}))
"""

# What a first request does before its first AWS call, after the import: the dependencies and their boto3 clients
# (no request is sent). With SnapStart the import above is in the snapshot, and this too if it is done at init.
_FIRST_REQUEST = """
import importlib.util, json, sys, time
sys.path[:0] = [{layer!r}, {function_dir!r}]
spec = importlib.util.spec_from_file_location("app", {path!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
started = time.perf_counter()
from dialhub.wiring import default_dependencies
deps = default_dependencies()
deps.store.client
{more}
print(json.dumps({{"seconds": time.perf_counter() - started, "modules": []}}))
"""
# The HTTP functions, whose cold starts a caller waits on (the SnapStart parameter's), and what else their first
# request makes: the API's queue client, the webhooks' nothing more (a vendor's secret is a network read).
SETUP_AFTER_IMPORT = {"api": "deps.queue.client", "webhooks": ""}


def _environment(pycache: str) -> dict[str, str]:
    """What the template gives every function, minus anything that would reach AWS at import time."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTHON", "AWS_", "POWERTOOLS_"))}
    for path in FUNCTIONS.glob("*/app.py"):  # each function's import checks its own variables are set
        env.update(template_environment(path.parent.name))
    env.update(
        {
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "POWERTOOLS_SERVICE_NAME": "dialhub",
            "POWERTOOLS_METRICS_NAMESPACE": "Dialhub",
            "POWERTOOLS_LOG_LEVEL": "INFO",
            "PYDANTIC_DISABLE_PLUGINS": "__all__",
            "TABLE_NAME": "dialhub-bench",
            "PYTHONPYCACHEPREFIX": pycache,
        }
    )
    return env


def _run(code: str, env: dict[str, str]) -> dict[str, object]:
    completed = subprocess.run(  # noqa: S603 - our own code
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"fresh interpreter failed:\n{completed.stderr[-2000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def _handler_code(function: str, extra_modules: tuple[str, ...] = ()) -> str:
    function_dir = FUNCTIONS / function
    return _HANDLER.format(
        layer=str(LAYER),
        function_dir=str(function_dir),
        path=str(function_dir / "app.py"),
        extra_modules=list(extra_modules),
        heavy=list(HEAVY_MODULES),
    )


def measure(repetitions: int) -> list[Row]:
    functions = sorted(path.parent.name for path in FUNCTIONS.glob("*/app.py"))
    programs = {"boto3": _BASELINE} | {name: _handler_code(name) for name in functions}
    # The first callback also imports its vendor's adapter module: shown apart, it is not the module import.
    programs["webhooks + blu adapter"] = _handler_code("webhooks", ("dialhub.vendors.blu",))
    for function, more in SETUP_AFTER_IMPORT.items():
        function_dir = FUNCTIONS / function
        programs[f"{function} first request"] = _FIRST_REQUEST.format(
            layer=str(LAYER), function_dir=str(function_dir), path=str(function_dir / "app.py"), more=more
        )
    with tempfile.TemporaryDirectory(prefix="dialhub-bench-pycache-") as pycache:
        env = _environment(pycache)
        for code in programs.values():  # warm the bytecode cache and the OS page cache
            _run(code, env)
        samples: dict[str, list[float]] = {name: [] for name in programs}
        heavy: dict[str, list[str]] = {}
        for _ in range(repetitions):  # interleaved, so a noisy moment hits every program alike
            for name, code in programs.items():
                result = _run(code, env)
                samples[name].append(float(result["seconds"]))  # type: ignore[arg-type]
                heavy[name] = list(result["modules"])  # type: ignore[arg-type]
    # The fastest of the runs: an import does the same work every time, and what varies is only how much of
    # the machine other work took meanwhile (which can double a run here), as timeit's documentation argues.
    floor = min(samples["boto3"])
    typical = statistics.median(samples["boto3"])
    rows = [
        Row(
            "1",
            "cold start floor: `import boto3`",
            f"{floor * 1000:.0f} ms",
            note=f"fastest of {repetitions} fresh interpreters (median {typical * 1000:.0f} ms); every ratio "
            f"below divides the fastest import of a handler by it",
        )
    ]
    for function in SETUP_AFTER_IMPORT:
        seconds = min(samples[f"{function} first request"])
        rows.append(
            Row(
                "1",
                f"first request's setup after the cold start `{function}` (its clients made, nothing sent)",
                f"{seconds * 1000:.0f} ms",
                note="paid by the first request of every new environment; with SnapStart (parameter, off) the "
                "import is in the snapshot, and this setup too only if the function made it at init",
            )
        )
    for name in [*functions, "webhooks + blu adapter"]:
        seconds = min(samples[name])
        ratio = seconds / floor
        median_ratio = statistics.median(samples[name]) / typical
        function = name.split()[0]
        goal = GOALS.get(function, DEFAULT_GOAL)
        informational = name != function
        pulled = ", ".join(heavy[name]) or "none of the heavy optional modules"
        rows.append(
            Row(
                "1",
                f"cold start `{name}`" + (" (first callback)" if informational else ""),
                f"{ratio:.2f}x ({seconds * 1000:.0f} ms)",
                "" if informational else f"<= {goal}x",
                None if informational else ratio <= goal,
                f"ratio of the medians {median_ratio:.2f}x; imports: {pulled}",
            )
        )
    return rows


if __name__ == "__main__":
    from bench.report import terminal_table

    print(terminal_table(measure(int(sys.argv[1]) if len(sys.argv) > 1 else 3)))

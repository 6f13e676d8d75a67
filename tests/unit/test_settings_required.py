"""Each function requires what it uses: the template sets it for that function, and a cold start without it
fails at import, naming the variable, instead of at the first event that needs it."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys

import pytest

from dialhub.queue import DispatchQueue, ExportQueue
from dialhub.settings import MissingSetting
from local.handlers import template_environment
from tests.conftest import ROOT

FUNCTIONS = sorted(path.name for path in (ROOT / "functions").iterdir() if (path / "app.py").exists())
# Imports a function's module afresh (a cold start) once per variable left out, and prints what each failed with.
COLD_STARTS = """
import json, os, runpy, sys
source, environment, left_out = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
answers = {}
for name in left_out:
    os.environ.clear()
    os.environ.update({key: value for key, value in environment.items() if key != name})
    try:
        runpy.run_path(source)
        answers[name] = "started"
    except Exception as exc:
        answers[name] = f"{type(exc).__name__}: {exc}"
print(json.dumps(answers))
"""


def _required(name: str) -> list[str]:
    """The settings functions/<name>/app.py requires, as its `require(...)` call names them."""
    tree = ast.parse((ROOT / "functions" / name / "app.py").read_text())
    [call] = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "require"
    ]
    return [argument.value for argument in call.args if isinstance(argument, ast.Constant)]


@pytest.mark.parametrize("name", FUNCTIONS)
def test_the_template_sets_what_each_function_requires(name: str) -> None:
    environment = template_environment(name)
    assert "TABLE_NAME" in environment
    assert {setting.upper() for setting in _required(name)} <= set(environment), name


def test_functions_that_do_not_queue_batches_are_not_given_the_dispatch_queue() -> None:
    given = {name for name in FUNCTIONS if "DISPATCH_QUEUE_URL" in template_environment(name)}
    assert given == {name for name in FUNCTIONS if "dispatch_queue_url" in _required(name)} == {"api", "scheduler"}


@pytest.mark.parametrize("name", ["api", "exports", "webhooks"])
def test_a_cold_start_without_a_required_variable_fails_naming_it(name: str) -> None:
    environment = {
        **{key: value for key, value in os.environ.items() if key.startswith(("PATH", "AWS_"))},
        **template_environment(name),
        "PYTHONPATH": os.pathsep.join([str(ROOT / "layers" / "dialhub"), str(ROOT / "functions" / name)]),
    }
    left_out = ["TABLE_NAME", *(setting.upper() for setting in _required(name)), "NOTHING_MISSING"]
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            COLD_STARTS,
            str(ROOT / "functions" / name / "app.py"),
            json.dumps(environment),
            json.dumps(left_out),
        ],
        capture_output=True,
        text=True,
        check=True,
        env=environment,
        timeout=120,
    )
    answers = json.loads(result.stdout)
    assert answers.pop("NOTHING_MISSING") == "started"
    assert answers.pop("TABLE_NAME") == "MissingSetting: missing or invalid environment variables: TABLE_NAME"
    for variable, answer in answers.items():
        assert answer == f"MissingSetting: {variable} not set: this function cannot work without it"


def test_a_queue_made_without_its_url_refuses_to_send_naming_the_variable() -> None:
    with pytest.raises(MissingSetting, match=r"^DISPATCH_QUEUE_URL not set$"):
        _ = DispatchQueue(None).queue_url
    with pytest.raises(MissingSetting, match=r"^EXPORT_QUEUE_URL not set$"):
        ExportQueue(None).send("exp-1")

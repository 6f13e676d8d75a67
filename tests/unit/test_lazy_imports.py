"""Cold start: a function imports only what its path needs (the figures are in BENCHMARKS.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import dialhub
from local.handlers import template_environment

ROOT = Path(__file__).resolve().parents[2]
LAYER = Path(dialhub.__file__).resolve().parents[1]  # the layer as imported (a mutation run: its copy)


def _modules_after_import(function: str, then: str = "") -> set[str]:
    """The modules loaded by importing functions/<function>/app.py in a fresh interpreter, as Lambda does, and
    by running `then` (with the module as `app`) after it."""
    code = (
        "import importlib.util, json, sys\n"
        f"sys.path[:0] = [{str(LAYER)!r}, {str(ROOT / 'functions' / function)!r}]\n"
        f"spec = importlib.util.spec_from_file_location('app', {str(ROOT / 'functions' / function / 'app.py')!r})\n"
        "app = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(app)\n"
        f"{then}\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    environment = {
        **template_environment(function),
        "AWS_REGION": "us-east-1",
        "PATH": "",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=environment, timeout=120
    )
    return set(json.loads(completed.stdout.strip().splitlines()[-1]))


def test_storing_a_callback_does_not_import_an_http_client() -> None:
    modules = _modules_after_import("webhooks")
    assert "dialhub.webhooks" in modules  # the handler really was imported
    assert not {"httpx", "stamina"} & modules


@pytest.mark.parametrize("function", ["webhooks", "scheduler", "dispatcher", "poller"])
def test_only_the_api_loads_the_openapi_machinery_and_no_function_loads_the_batch_utility(function: str) -> None:
    modules = _modules_after_import(function)
    assert "aws_lambda_powertools.event_handler.openapi" not in modules
    assert "aws_lambda_powertools.utilities.batch" not in modules


def test_the_api_validates_requests_without_powertools_openapi_validation() -> None:
    refused = (
        "event = json.load(open(" + repr(str(ROOT / "events" / "api" / "create_campaign.json")) + "))\n"
        "event['body'] = json.dumps({'name': ''})\n"
        "answer = app.handle(event, None, None)\n"
        "assert answer['statusCode'] == 422 and 'body.name' in answer['body'], answer\n"
    )
    modules = _modules_after_import("api", refused)
    assert "dialhub.api" in modules
    assert (
        not {
            "aws_lambda_powertools.event_handler.middlewares.openapi_validation",
            "aws_lambda_powertools.event_handler.openapi.dependant",
            "aws_lambda_powertools.event_handler.openapi.encoders",
            "aws_lambda_powertools.event_handler.openapi.models",
        }
        & modules
    )


@pytest.mark.parametrize("function", ["api", "webhooks", "scheduler", "dispatcher", "poller"])
def test_each_handler_imports_with_collection_paused_and_leaves_it_running(function: str) -> None:
    after = "import gc\nassert gc.isenabled(), 'collection left paused'\nassert gc.get_freeze_count() > 10_000\n"
    assert "dialhub.wiring" in _modules_after_import(function, after)


@pytest.mark.parametrize("function", ["api", "webhooks", "exports"])
def test_no_function_loads_plotly_or_the_report_when_it_starts(function: str) -> None:
    """Bench figure 1 stays where it is: the report is drawn only by the exports function, on an html export."""
    modules = _modules_after_import(function)
    assert "dialhub.wiring" in modules
    assert not {"plotly", "narwhals", "dialhub.report", "dialhub.report_page"} & modules


def test_starting_a_report_through_the_api_loads_neither_plotly_nor_the_report() -> None:
    start = (
        "import datetime as dt\n"
        "from unittest import mock\n"
        "from dialhub.models import Campaign\n"
        "deps = mock.Mock()\n"
        "deps.clock.return_value = dt.datetime(2026, 11, 25, tzinfo=dt.UTC)\n"
        "deps.settings.export_retention_days = 7\n"
        "deps.store.get_campaign.return_value = Campaign(campaign_id='cmp-demo-1', name='n', vendor='blu', "
        "dial_date=dt.date(2026, 11, 25), timezone='Asia/Manila', created_at=deps.clock.return_value)\n"
        "event = json.load(open(" + repr(str(ROOT / "events" / "api" / "start_export.json")) + "))\n"
        "event['body'] = json.dumps({'format': 'html'})\n"
        "answer = app.handle(event, None, deps)\n"
        "assert answer['statusCode'] == 202 and '\"format\":\"html\"' in answer['body'], answer\n"
        "deps.export_queue.send.assert_called_once()\n"
    )
    modules = _modules_after_import("api", start)
    assert "dialhub.exports" in modules
    assert not {"plotly", "dialhub.report", "dialhub.report_page"} & modules

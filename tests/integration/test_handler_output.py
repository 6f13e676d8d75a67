"""A warm invocation writes its answer and its log lines, and no warning: Lambda would log one per invocation."""

from __future__ import annotations

import warnings
from typing import Any

import pytest

from dialhub.wiring import default_dependencies
from local.handlers import FakeLambdaContext, function_module
from tests.conftest import load_event


@pytest.fixture
def production_wiring(table_name: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("TABLE_NAME", table_name)
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED")
    default_dependencies.cache_clear()
    yield
    default_dependencies.cache_clear()


def test_a_warm_invocation_warns_nothing(production_wiring: Any, capsys: pytest.CaptureFixture[str]) -> None:
    event = load_event("webhooks/blu_result.json")
    event["pathParameters"] = {"vendor": "nobody"}
    context = FakeLambdaContext(function_name="dialhub-test-webhooks", memory_limit_in_mb=512, timeout_seconds=10)
    webhooks = function_module("webhooks")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        answers = [webhooks.lambda_handler(event, context) for _ in range(2)]
    assert [answer["statusCode"] for answer in answers] == [404, 404]
    assert [str(warning.message) for warning in caught] == []
    assert capsys.readouterr().err == ""

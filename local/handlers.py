"""The functions as Lambda runs them, offline: each handler imported from its code directory under a module
name of its own, and the context object it is called with."""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import os
import re
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from local.template import (
    DEFAULT_ACCOUNT_ID,
    DEFAULT_REGION,
    HANDLER_MODULE_PREFIX,
    SAM_DEFAULT_MEMORY_MB,
    SAM_DEFAULT_TIMEOUT_SECONDS,
    FunctionSpec,
    SamTemplate,
    TemplateError,
)

# --------------------------------------------------------------------------- handlers and context

_handler_cache: dict[tuple[Path, str], Callable[[dict[str, Any], Any], Any]] = {}
_handler_lock = threading.Lock()


def handler_module_name(spec: FunctionSpec) -> str:
    """A module name unique per function, so the five `app` modules do not replace each other."""
    base = spec.logical_id.removesuffix("Function") or spec.logical_id
    return HANDLER_MODULE_PREFIX + re.sub(r"(?<!^)(?=[A-Z])", "_", base).lower()


def load_handler(spec: FunctionSpec) -> Callable[[dict[str, Any], Any], Any]:
    """Import the function's handler from its code directory, with its layers on sys.path.

    Set the function's environment before the first call: handlers read it at import time. The code
    directory is on sys.path only while the module executes, so sibling modules that two functions
    both have (say `models.py`) would still collide in sys.modules.
    """
    key = (spec.code_uri, spec.handler)
    with _handler_lock:
        if key in _handler_cache:
            return _handler_cache[key]
        module_path, _, function_name = spec.handler.rpartition(".")
        source = spec.code_uri / (module_path.replace(".", "/") + ".py")
        if not source.is_file():
            raise TemplateError(f"{spec.logical_id}: handler module {source} does not exist")
        for layer_dir in reversed(spec.layer_dirs):
            if str(layer_dir) not in sys.path:
                sys.path.insert(0, str(layer_dir))
        module = _import_file(handler_module_name(spec), source, spec.code_uri)
        handler = getattr(module, function_name, None)
        if not callable(handler):
            raise TemplateError(f"{spec.logical_id}: {source} has no callable {function_name}")
        _handler_cache[key] = handler
        return handler


def _import_file(module_name: str, source: Path, code_dir: Path) -> ModuleType:
    import_spec = importlib.util.spec_from_file_location(module_name, source)
    if import_spec is None or import_spec.loader is None:
        raise TemplateError(f"cannot import {source}")
    module = importlib.util.module_from_spec(import_spec)
    sys.modules[module_name] = module
    sys.path.insert(0, str(code_dir))  # Lambda runs handlers from /var/task, which is on sys.path.
    try:
        import_spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(module_name, None)
        raise
    finally:
        sys.path.remove(str(code_dir))
    return module


@dataclass
class FakeLambdaContext:
    """The Lambda context object, good enough for powertools' Logger, Metrics and Tracer decorators."""

    function_name: str
    memory_limit_in_mb: int = SAM_DEFAULT_MEMORY_MB
    timeout_seconds: float = SAM_DEFAULT_TIMEOUT_SECONDS
    invoked_function_arn: str = ""
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = ""
    identity: Any = None
    client_context: Any = None
    tenant_id: str | None = None
    deadline_monotonic: float = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.deadline_monotonic = time.monotonic() + self.timeout_seconds
        if not self.invoked_function_arn:
            self.invoked_function_arn = (
                f"arn:aws:lambda:{DEFAULT_REGION}:{DEFAULT_ACCOUNT_ID}:function:{self.function_name}"
            )
        if not self.log_group_name:
            self.log_group_name = f"/aws/lambda/{self.function_name}"
        if not self.log_stream_name:
            self.log_stream_name = f"local/[{self.function_version}]{uuid.uuid4().hex}"

    @classmethod
    def for_invoke(
        cls,
        spec: FunctionSpec,
        function_name: str | None = None,
        region: str = DEFAULT_REGION,
        account_id: str = DEFAULT_ACCOUNT_ID,
    ) -> FakeLambdaContext:
        """A fresh context (new request id, full time budget) for one invocation of `spec`."""
        name = function_name or spec.logical_id
        return cls(
            function_name=name,
            memory_limit_in_mb=spec.memory,
            timeout_seconds=spec.timeout,
            invoked_function_arn=f"arn:aws:lambda:{region}:{account_id}:function:{name}",
        )

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline_monotonic - time.monotonic()) * 1000))


def _function_spec(name: str) -> tuple[SamTemplate, FunctionSpec]:
    root = Path(__file__).resolve().parent.parent
    path = root / "template.yaml"
    template = _local_template(path, path.stat().st_mtime_ns)
    [spec] = [spec for spec in template.functions.values() if spec.code_uri == (root / "functions" / name).resolve()]
    return template, spec


@functools.lru_cache(maxsize=2)
def _local_template(path: Path, modified_ns: int) -> SamTemplate:
    """template.yaml read once while it is unchanged: a test or benchmark calling handlers asks for it at every
    call, and parsing it takes longer than most handlers run."""
    return SamTemplate(path, parameters={"Stage": "local"})


def template_environment(name: str) -> dict[str, str]:
    """The environment template.yaml gives the function in functions/<name>/, each resource (and its ARN) standing
    in by its logical id: what a function's import checks it has (the values are the caller's to give, with its
    deps)."""
    template, spec = _function_spec(name)
    resources = template.document.get("Resources") or {}
    resolver = template.resolver(
        refs={rid: rid for rid in resources}, attributes={(rid, "Arn"): rid for rid in resources}
    )
    return template.function_environment(spec.logical_id, resolver)


@contextlib.contextmanager
def template_environment_set(name: str) -> Iterator[None]:
    """Inside the block, what the template gives the function and the process has not set is set."""
    saved = dict(os.environ)
    os.environ.update({key: value for key, value in template_environment(name).items() if key not in os.environ})
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def function_module(name: str) -> Any:
    """functions/<name>/app.py as load_handler imports it, for tests and benchmarks that call a handler's
    `handle` with their own dependencies: imported, as Lambda would, under the environment the template gives
    the function (the process's own is restored after)."""
    _, spec = _function_spec(name)
    module_name = handler_module_name(spec)
    if module_name not in sys.modules:
        with template_environment_set(name):
            load_handler(spec)
    return sys.modules[module_name]

"""`make mutation`: mutation testing (mutmut) of the modules that decide correctness, and a report of it.

mutmut names a mutant by its file's path and matches that name against the running module's `__name__`, so
the package must sit at the root of the folder mutmut runs in: `.mutation/` is that folder, made of links
into the repository and a copy of the layer's package (`dialhub/`), and mutmut works in its own copy under
`.mutation/mutants/`, keeping results there between runs (a second run tests only what changed).

Some code is left alone: in the copy it sits between mutmut's `# pragma: no mutate start` and `end`. Log statements,
since a log line's wording is not behaviour (what a log may hold is checked by tests/security instead); and in
the store and the adapters, the functions outside the scope below.

The unit and integration tests are the ones run against each mutant: they hold the checks these modules
answer to. Those marked `heavy` (seconds of volume or racing threads) are left out, so that a run fits in an
hour on two cores; what they guard is guarded by smaller tests too. A run is two passes: the first runs each
mutant against the tests known to kill its module's mutants (scripts/mutation_killers.json, learnt from every
run), the unit tests and a few seconds of integration tests named per module (FIRST_PASS_FILES); the second
runs the first's survivors against every test that reaches them, so a mutant is reported surviving only when
no test of the suite kills it. A run stops after --minutes (55 by default) wherever it is; the report names
what it did not reach.
MUTATION.md gets the score per module and every surviving mutant, with why it survives where that was looked
into (scripts/mutation_notes.json).
"""

from __future__ import annotations

import argparse
import ast
import datetime as dt
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
STAGE = ROOT / ".mutation"
NOTES = ROOT / "scripts" / "mutation_notes.json"
# Per module, the tests that have killed its mutants (from kills.jsonl, kept up to date by every run): a first
# pass runs each mutant against those and the unit tests only; its survivors are then run against every test.
KILLERS = ROOT / "scripts" / "mutation_killers.json"
KILLS = STAGE / "kills.jsonl"
REPORT = ROOT / "MUTATION.md"
LAST_RUN = STAGE / "last-run.json"
LAST_FRESH_RUN = STAGE / "last-fresh-run.json"
# What decides correctness: the store's writes, the outcome path, webhooks, dispatch, planning, compliance,
# and each vendor's parsing and signing. In a module named with functions, only those are mutated (the rest,
# the store's reads and the adapters' request plumbing, is what the simulators and flows exercise).
SCOPE: dict[str, frozenset[str] | None] = {
    "store/codec.py": frozenset({"_attribute", "to_item"}),
    "store/keys.py": frozenset({"feed_key", "claim_index"}),
    "store/table.py": frozenset({"_update"}),
    "store/campaigns.py": frozenset(
        {
            "create_campaign",
            "mark_campaign_due",
            "set_campaign_status",
            "clear_campaign_due",
            "add_contacts",
            "move_contact",
            "claim_contact",
            "iter_stuck_claims",
            "requeue_contact",
            "hold_contact",
            "fail_over_contact",
        }
    ),
    "store/circuits.py": frozenset(
        {"take_capacity", "give_back_capacity", "record_submission_failure", "record_submission_success"}
    ),
    "store/compliance.py": frozenset({"put_suppression", "delete_suppression", "record_dials"}),
    "store/tasks.py": frozenset({"create_task", "add_task_submissions", "close_task"}),
    "store/outcomes.py": frozenset(
        {
            "finished_calls",
            "record_outcome",
            "_transact",
            "_raw_payload_put",
            "_outcome_update",
            "_contact_final_update",
            "_contact_redial_update",
            "_conversation_set",
            "_campaign_due_update",
        }
    ),
    "store/exports.py": frozenset(
        {"create_export", "claim_export", "save_export_progress", "release_export", "finish_export", "fail_export"}
    ),
    "outcomes.py": None,
    "webhooks.py": None,
    "dispatch.py": None,
    "planning.py": None,
    "compliance.py": None,
    "admission.py": None,
    "capacity.py": None,
    "suppressions.py": None,
    "sweep.py": None,
    "redrive.py": None,
    "vendors/base.py": frozenset({"doubt", "call_seconds", "vendor_count", "source_ip_allowed"}),
    "vendors/blu/wire.py": frozenset({"sign"}),
    "vendors/blu/adapter.py": frozenset(
        {
            "record_id",
            "_as_json_object",
            "_text",
            "authenticate",
            "parse_callback",
            "_outcomes_in",
            "_predial_question",
            "acknowledge",
            "predial_reply",
            "_time",
            "_outcome",
        }
    ),
    "vendors/nxtele/signing.py": None,
    "vendors/nxtele/batch.py": None,
    "vendors/nxtele/wire.py": frozenset({"_blank_to_none", "_empty_is_none"}),
    "vendors/nxtele/adapter.py": frozenset(
        {
            "user_task_id",
            "order_id",
            "phone_digits",
            "_ours",
            "_epoch",
            "_text",
            "_sign",
            "_fresh",
            "_signature_problem",
            "_verify_response",
            "authenticate",
            "parse_callback",
            "acknowledge",
            "predial_reply",
            "_disposition",
            "_outcome",
        }
    ),
    "vendors/airudder/wire.py": frozenset(
        {
            "comments_for",
            "split_comments",
            "task_name",
            "get",
            "text",
            "number",
            "code_of",
            "succeeded",
            "message_of",
            "callback_items",
            "raw_without_pii",
        }
    ),
    "vendors/airudder/crypto.py": None,
    "vendors/airudder/answers.py": None,
    "vendors/airudder/adapter.py": frozenset(
        {"_text", "authenticate", "parse_callback", "_plain_body", "acknowledge", "predial_reply", "_time", "_outcome"}
    ),
}
MODULES = list(SCOPE)
LINKED = ["tests", "local", "bench", "functions", "events", "docs", "template.yaml", "BENCHMARKS.md", "README.md"]
PACKAGE = ROOT / "layers" / "dialhub" / "dialhub"
PRAGMA = "# pragma: no mutate"
# The template's alarms are checked against the library's source text, which mutmut rewrites (every mutant is
# in it), so that file says nothing about a mutant and is left out.
TESTS = ["tests/unit", "tests/integration", "-m", "not heavy", "--ignore=tests/unit/test_operations_template.py"]
GOAL = 0.90
# Besides its module's known killers and the unit tests, the first pass runs these integration files for a
# module's mutants: the store's and planning's item-by-item tests for every module ("*"), and for the modules
# only flows can reach, the few seconds of flows that exercise them. A mutant those kill never waits for the
# second pass, which runs every test reaching a function and so has time for a few hundred survivors only.
_FLOWS = "tests/integration/"
FIRST_PASS_FILES: dict[str, list[str]] = {
    "*": [f"{_FLOWS}test_store_writes.py", f"{_FLOWS}test_planning_writes.py"],
    "dialhub.outcomes": [
        f"{_FLOWS}test_polled_outcomes.py",
        f"{_FLOWS}test_outcome_metrics.py",
        f"{_FLOWS}test_retention.py",
        f"{_FLOWS}test_unconfirmed.py",
        f"{_FLOWS}test_redials.py",
        f"{_FLOWS}test_blu_flow.py",
    ],
    "dialhub.store.outcomes": [
        f"{_FLOWS}test_outcome_store_edges.py",
        f"{_FLOWS}test_store.py",
        f"{_FLOWS}test_polled_outcomes.py",
        f"{_FLOWS}test_outcome_metrics.py",
        f"{_FLOWS}test_retention.py",
        f"{_FLOWS}test_redials.py",
        f"{_FLOWS}test_blu_flow.py",
    ],
    "dialhub.dispatch": [
        f"{_FLOWS}test_dispatch_edges.py",
        f"{_FLOWS}test_dispatch_batches.py",
        f"{_FLOWS}test_campaign_control.py",
        f"{_FLOWS}test_unconfirmed.py",
        f"{_FLOWS}test_redials.py",
    ],
    "dialhub.planning": [
        f"{_FLOWS}test_planning_edges.py",
        f"{_FLOWS}test_dispatch_batches.py",
        f"{_FLOWS}test_campaign_control.py",
        f"{_FLOWS}test_redials.py",
        f"{_FLOWS}test_policies.py",
    ],
    "dialhub.store.campaigns": [
        f"{_FLOWS}test_campaign_writes.py",
        f"{_FLOWS}test_store.py",
        f"{_FLOWS}test_dispatch_batches.py",
        f"{_FLOWS}test_campaign_control.py",
        f"{_FLOWS}test_imports.py",
    ],
    "dialhub.store.codec": [f"{_FLOWS}test_campaign_writes.py", f"{_FLOWS}test_store.py", f"{_FLOWS}test_events.py"],
    "dialhub.store.tasks": [f"{_FLOWS}test_campaign_writes.py"],
    "dialhub.capacity": [f"{_FLOWS}test_split_campaigns.py"],
    "dialhub.store.circuits": [f"{_FLOWS}test_split_campaigns.py", f"{_FLOWS}test_circuit_writes.py"],
    "dialhub.admission": [f"{_FLOWS}test_suppressions.py", f"{_FLOWS}test_policies.py"],
    "dialhub.sweep": [f"{_FLOWS}test_sweep_edges.py", f"{_FLOWS}test_stuck_claims.py"],
    "dialhub.redrive": [f"{_FLOWS}test_redrive.py"],
}
# A run (both passes) stops after this long by default, so that `make mutation` ends within the hour; what it
# did not reach is named in the report (mutants not checked, or survivors only the first pass ran).
RUN_MINUTES = 55.0
OUT_OF_TIME = -1
LEFT_UNCHECKED = STAGE / "second-pass-left.json"


def _toml_list(values: list[str]) -> str:
    return "[" + ", ".join(json.dumps(value) for value in values) + "]"


def _left_alone(source: str, functions: frozenset[str] | None) -> list[tuple[int, int]]:
    """The (first, last) lines not to mutate: every `logger.<level>(...)` statement, and each top-level function
    or method outside `functions` (None: every function is in scope); none inside another."""
    tree = ast.parse(source)
    spans: list[tuple[int, int]] = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Attribute)
            and isinstance(node.value.func.value, ast.Name)
            and node.value.func.value.id == "logger"
        ):
            spans.append((node.lineno, node.end_lineno or node.lineno))
    if functions is not None:
        owners: list[ast.Module | ast.ClassDef] = [
            tree,
            *(node for node in tree.body if isinstance(node, ast.ClassDef)),
        ]
        for owner in owners:
            for node in owner.body:
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name not in functions:
                    first = min([node.lineno, *(decorator.lineno for decorator in node.decorator_list)])
                    spans.append((first, node.end_lineno or node.lineno))
    return [
        (first, last)
        for first, last in spans
        if not any(a <= first and last <= b and (a, b) != (first, last) for a, b in spans)
    ]


def _package_copy(target: Path) -> None:
    """The package as it is, but with each span left alone between mutmut's `# pragma: no mutate start` and
    `end` lines (a pragma at the end of a line would cover only the line a statement starts on)."""
    shutil.rmtree(target, ignore_errors=True)
    for source in PACKAGE.rglob("*.py"):
        text = source.read_text()
        lines = text.split("\n")
        for first, last in sorted(_left_alone(text, SCOPE.get(source.relative_to(PACKAGE).as_posix())), reverse=True):
            indent = lines[first - 1][: len(lines[first - 1]) - len(lines[first - 1].lstrip())]
            lines[last:last] = [f"{indent}{PRAGMA} end"]
            lines[first - 1 : first - 1] = [f"{indent}{PRAGMA} start"]
        if lines[-2:] == [f"{PRAGMA} end", ""]:  # a comment that ends the file is not seen as closing the span
            lines.append("pass")
        copy = target / source.relative_to(PACKAGE)
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_text("\n".join(lines))


# mutmut hands each mutant the tests that reach its function, unordered, and stops at the first failure (-x).
# Most mutants of a function die by the same few tests, so the tests that killed its neighbours (the same
# function, then the same module; kills.jsonl, kept between runs) go first, then unit tests, fastest first.
# With MUTATION_FOCUS set (the first pass), a mutant of a module with known killers runs only those and the
# unit tests: a store mutant then runs tens of tests, not the thousand that reach it.
LIKELY_KILLERS_FIRST = '''"""Written by scripts/mutation.py: a mutant's tests run likeliest killer first (the tests
that killed mutants of the same function, then of the same module), then unit before integration, fastest
first. Each kill is appended to MUTATION_KILLS."""

import json
import os
from collections import Counter
from pathlib import Path


def _scopes(mutant):
    function = mutant.rsplit("__mutmut_", 1)[0]
    return function, function.rsplit(".", 1)[0]


def _kill_counts(mutant):
    by_function, by_module = Counter(), Counter()
    kills = Path(os.environ.get("MUTATION_KILLS", "kills.jsonl"))
    if mutant and kills.exists():
        function, module = _scopes(mutant)
        for line in kills.read_text().splitlines():
            kill = json.loads(line)
            their_function, their_module = _scopes(kill["mutant"])
            by_function[kill["test"]] += their_function == function
            by_module[kill["test"]] += their_module == module
    return by_function, by_module


def _focus(mutant, items, killed_in_module):
    """The tests a first pass runs for this mutant: its module's known killers (learnt before this run, and
    in it so far), the unit tests and the integration files named for its module (FIRST_PASS_FILES)."""
    focus = os.environ.get("MUTATION_FOCUS")
    if not focus or "__mutmut_" not in (mutant or ""):
        return items
    killers = set(json.loads(Path(focus).read_text()).get(_scopes(mutant)[1], []))
    killers |= {test for test, kills in killed_in_module.items() if kills}
    files = json.loads(os.environ.get("MUTATION_FIRST_PASS_FILES", "{}"))
    always = tuple(files.get("*", []) + files.get(_scopes(mutant)[1], []))
    focused = [
        item
        for item in items
        if item.nodeid in killers or "/unit/" in item.nodeid or item.nodeid.split("::")[0] in always
    ]
    return focused or items  # none of those reaches it (new code): every test that does


def pytest_collection_modifyitems(config, items):
    stats = Path("mutmut-stats.json")  # in mutmut's working folder, once it has recorded a clean run
    durations = json.loads(stats.read_text())["duration_by_test"] if stats.exists() else {}
    mutant = os.environ.get("MUTANT_UNDER_TEST")
    by_function, by_module = _kill_counts(mutant)
    kept = _focus(mutant, items, by_module)
    if len(kept) < len(items):
        kept_ids = {id(item) for item in kept}
        config.hook.pytest_deselected(items=[item for item in items if id(item) not in kept_ids])
        items[:] = kept
    items.sort(
        key=lambda item: (
            -by_function[item.nodeid],
            -by_module[item.nodeid],
            "/unit/" not in item.nodeid,
            durations.get(item.nodeid, 0.0),
        )
    )


def pytest_runtest_logreport(report):
    mutant = os.environ.get("MUTANT_UNDER_TEST")
    if mutant and report.failed and mutant not in ("fail", "stats", "list_all_tests"):
        with open(os.environ.get("MUTATION_KILLS", "kills.jsonl"), "a") as kills:
            kills.write(json.dumps({"mutant": mutant, "test": report.nodeid}) + "\\n")
'''


def stage(modules: list[str]) -> None:
    """The folder mutmut runs in: links to the repository, the package at its root, a pyproject of its own."""
    STAGE.mkdir(exist_ok=True)
    (STAGE / "conftest.py").write_text(LIKELY_KILLERS_FIRST)
    for name in LINKED:
        link = STAGE / name
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(ROOT / name)
    _package_copy(STAGE / "dialhub")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    pytest_options = project["tool"]["pytest"]["ini_options"]
    (STAGE / "pyproject.toml").write_text(
        "\n".join(
            [
                "[tool.pytest.ini_options]",
                'pythonpath = ["."]',
                f"markers = {_toml_list(pytest_options['markers'])}",
                f"filterwarnings = {_toml_list(pytest_options['filterwarnings'])}",
                "",
                "[tool.mutmut]",
                'source_paths = ["dialhub"]',
                f"only_mutate = {_toml_list([f'dialhub/{module}' for module in modules])}",
                f"also_copy = {_toml_list([*LINKED, 'conftest.py'])}",
                f"pytest_add_cli_args_test_selection = {_toml_list(TESTS)}",
                'pytest_add_cli_args = ["-p", "no:cacheprovider", "-q"]',
                "mutate_only_covered_lines = false",
                # A mutant that hangs (an endless loop) is stopped at twice its tests' usual time plus 5 s, not
                # at mutmut's fifteen times: with the store's tests, the difference between minutes and an hour.
                "timeout_multiplier = 2.0",
                "timeout_constant = 5.0",
                "",
            ]
        )
    )


def run(
    max_children: int, mutants: list[str] | None = None, focused: bool = False, minutes: float | None = None
) -> int:
    """mutmut's run (of every mutant, or of those named), its progress kept in .mutation/run.log. Stopped
    after `minutes` (answering OUT_OF_TIME): mutmut records each verdict as it comes, so those are kept."""
    environment = {**os.environ, "PYTHONPATH": "", "MUTATION_KILLS": str(KILLS)}
    if focused:
        environment["MUTATION_FOCUS"] = str(KILLERS)
        environment["MUTATION_FIRST_PASS_FILES"] = json.dumps(FIRST_PASS_FILES)
    command = [str(ROOT / ".venv" / "bin" / "mutmut"), "run", "--max-children", str(max_children), *(mutants or [])]
    with (STAGE / "run.log").open("a") as log:
        process = subprocess.Popen(  # noqa: S603 - our mutmut
            command, cwd=STAGE, env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            return process.wait(timeout=minutes * 60 if minutes else None)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGTERM)  # mutmut and the test processes it forked
            process.wait()
            log.write(f"\nstopped after {minutes:.0f} minutes, as asked\n")
            return OUT_OF_TIME


def _function_of(mutant: str) -> str:
    """The function a mutant changes: `dialhub.store.table.xǁTableǁ_update__mutmut_3` -> `_update`."""
    mangled = mutant.partition("__mutmut_")[0].rpartition(".")[-1]
    return mangled.rpartition("ǁ")[-1] if "ǁ" in mangled else mangled.removeprefix("x_")


def _metas() -> Iterator[tuple[str, dict[str, Any]]]:
    """mutmut's record of each mutated file: (its path, e.g. `dialhub/store/table.py`, the record)."""
    for meta in sorted((STAGE / "mutants" / "dialhub").rglob("*.py.meta")):
        yield meta.relative_to(STAGE / "mutants").as_posix().removesuffix(".meta"), json.loads(meta.read_text())


def _records() -> dict[str, dict[str, int]]:
    """mutmut's exit code of every mutant in scope, by module (records of code since left alone are skipped)."""
    found: dict[str, dict[str, int]] = {}
    for path, meta in _metas():
        scope = SCOPE.get(path.removeprefix("dialhub/"), frozenset())
        codes = meta.get("exit_code_by_key", {})
        found[path] = {name: code for name, code in codes.items() if scope is None or _function_of(name) in scope}
    return found


def _durations() -> dict[str, float]:
    """How long each mutant's latest verdict took: changed for a mutant that was run again."""
    found: dict[str, float] = {}
    for _, meta in _metas():
        found.update(meta.get("durations_by_key", {}))
    return found


def results() -> dict[str, Counter[str]]:
    """Mutant statuses by module, read from mutmut's own records."""
    from mutmut.stats import status_by_exit_code

    return {path: Counter(status_by_exit_code[code] for code in codes.values()) for path, codes in _records().items()}


def survivors() -> list[tuple[str, str]]:
    """(mutant name, its diff) of every mutant no test killed (mutmut reads its records from the working folder)."""
    from mutmut.mutation.diff_apply import get_diff_for_mutant
    from mutmut.stats import status_by_exit_code

    return [
        (name, get_diff_for_mutant(name, path=path))
        for path, codes in _records().items()
        for name, code in codes.items()
        if status_by_exit_code[code] in ("survived", "no tests")
    ]


_FIELD_READ = re.compile(r"\b(fields|Fields\([^)]*\))\.(text|get|number)\(")
_EXPRESSION_KEYWORDS = frozenset({"AND", "OR", "NOT", "IN", "SET", "REMOVE", "ADD", "DELETE", "BETWEEN"})
_STRING = re.compile(r"\"([^\"]*)\"|'([^']*)'")


def _changed_lines(diff: str) -> list[tuple[str, str]]:
    """The (before, after) line pairs of a one-hunk mutant diff; [] when lines were added or dropped."""
    body = [line for line in diff.splitlines() if not line.startswith(("---", "+++", "@@"))]
    removed = [line[1:] for line in body if line.startswith("-")]
    added = [line[1:] for line in body if line.startswith("+")]
    return list(zip(removed, added, strict=True)) if len(removed) == len(added) else []


def _strings_changed(before: str, after: str) -> list[tuple[str, str]]:
    """The string literals that differ between two lines that are otherwise the same; [] when code differs."""
    if _STRING.sub('""', before) != _STRING.sub('""', after):
        return []
    old = [a or b for a, b in _STRING.findall(before)]
    new = [a or b for a, b in _STRING.findall(after)]
    return [(o, n) for o, n in zip(old, new, strict=True) if o != n] if len(old) == len(new) else []


def equivalence(diff: str) -> str | None:
    """Why a survivor is equivalent, for the two kinds that can be told from the diff alone; None otherwise.

    - A field name read through AIRudder's `Fields` with only its case changed: names are matched without
      regard to case (`_normalised`), so both spellings read the same field.
    - A DynamoDB expression with only its keywords' case changed (AND/and, SET/set): DynamoDB reads
      keywords in any case, while attribute names, which it does not, must be unchanged.
    """
    pairs = _changed_lines(diff)
    if not pairs:
        return None
    reasons = set()
    for before, after in pairs:
        strings = _strings_changed(before, after)
        if not strings or any(o.casefold() != n.casefold() for o, n in strings):
            return None
        if _FIELD_READ.search(before):
            reasons.add("field-name case")
            continue
        for old, new in strings:
            changed = [(a, b) for a, b in zip(old.split(), new.split(), strict=True) if a != b]
            if not changed or any(a.upper() not in _EXPRESSION_KEYWORDS or a.upper() != b.upper() for a, b in changed):
                return None
        reasons.add("keyword case")
    if reasons == {"field-name case"}:
        return (
            "Equivalent (by rule): only the case of a field name read through `Fields` changed, and those "
            "names are matched without regard to case."
        )
    if reasons == {"keyword case"}:
        return (
            "Equivalent (by rule): only the case of DynamoDB expression keywords changed, and DynamoDB reads "
            "keywords in any case."
        )
    return None


def _last_run() -> list[str]:
    """How the latest runs went: a fresh one tests every mutant; a later one, only the mutants of functions
    changed since (mutmut keeps the rest), or the unexplained survivors again."""
    lines = []
    for label, record in (("Latest fresh run", LAST_FRESH_RUN), ("Latest run since", LAST_RUN)):
        if record.exists():
            last = json.loads(record.read_text())
            minutes = max(1, round(last["minutes"]))
            lines.append(
                f"{label}: {last['date']}, {last['kind']}, {minutes} minute{'s' if minutes > 1 else ''} with "
                f"{last['children']} mutants at a time on {last['cores']} cores."
            )
    return [*lines, ""] if lines else []


def _module_path(name: str) -> str:
    """`dialhub.vendors.blu.xǁBluAdapterǁsign__mutmut_1` -> `dialhub/vendors/blu.py`."""
    return f"dialhub/{name.split('.x', 1)[0].removeprefix('dialhub.').replace('.', '/')}.py"


def _note(notes: list[dict[str, str]], name: str, diff: str) -> str | None:
    """The explanation written for this mutant, found by its function and the line it writes (not by its number,
    which moves when code is added before it); None when there is none."""
    function = name.partition("__mutmut_")[0]
    written = " / ".join(line[1:].strip() for line in diff.splitlines() if line.startswith("+") and line[:3] != "+++")
    return next((note["why"] for note in notes if note["function"] == function and note["mutation"] == written), None)


def report() -> bool:
    by_module = results()
    notes = json.loads(NOTES.read_text()) if NOTES.exists() else []
    remaining = [(name, shown, _note(notes, name, shown) or equivalence(shown)) for name, shown in survivors()]
    equivalent = Counter(_module_path(name) for name, _, why in remaining if why)
    left = set(json.loads(LEFT_UNCHECKED.read_text())) if LEFT_UNCHECKED.exists() else set()
    first_pass_only = Counter(_module_path(name) for name, _, why in remaining if name in left and not why)
    lines = [
        "# Mutation testing",
        "",
        "Written by `make mutation` (`scripts/mutation.py`): mutmut changes the modules that decide",
        "correctness one small edit at a time (an operator, a constant, a condition, a return value) and runs the",
        "unit and integration tests that reach the changed function; a mutant the tests do not notice survives.",
        f"Goal: at least {GOAL:.0%} of the mutants that behave differently killed, per module, and every survivor",
        "killed by a new test or explained below as equivalent (a change no behaviour can tell apart).",
        "",
        "The score is killed / (checked - equivalent), the usual mutation score. A timeout counts as killed (the",
        "mutant made a test hang, which a run notices). Two kinds of equivalent are recognised from the diff by",
        "`equivalence()` in the script; the rest are explained one by one in scripts/mutation_notes.json (found by",
        "their function and the line the mutant writes).",
        "",
        *_last_run(),
        "A survivor of the first pass (its module's known killers, the unit tests and the store's item-by-item",
        "tests) is run against every test that reaches it in the second; the column *first pass only* counts the",
        "survivors that pass had no time left for: they count as surviving until a later run checks them.",
        "",
        "| module | mutants | not checked | killed | survived | first pass only | of them equivalent | score |",
        "|---|---|---|---|---|---|---|---|",
    ]
    met = True
    every: Counter[str] = Counter()
    for module, statuses in [*by_module.items(), ("all", every)]:
        if module != "all":
            every.update(statuses)
            every["equivalent"] += equivalent[module]
            every["first pass only"] += first_pass_only[module]
        same = equivalent[module] if module != "all" else every["equivalent"]
        unsure = first_pass_only[module] if module != "all" else every["first pass only"]
        checked = (
            sum(statuses[status] for status in statuses if status not in ("equivalent", "first pass only"))
            - statuses["not checked"]
        )
        killed = statuses["killed"] + statuses["caught by type check"] + statuses["timeout"]
        survived = statuses["survived"] + statuses["no tests"]
        score = killed / (checked - same) if checked > same else 0.0
        met &= score >= GOAL and not statuses["not checked"] and not unsure
        lines.append(
            f"| {module} | {checked + statuses['not checked']} | {statuses['not checked']} | {killed} | "
            f"{survived} | {unsure} | {same} | {score:.1%} |"
        )
    lines.append("")
    unexplained = [name for name, _, why in remaining if not why]
    lines += [
        f"Survivors: {len(remaining)}, {len(remaining) - len(unexplained)} of them explained as equivalent; "
        "the unexplained ones come first.",
        "",
    ]
    for name, shown, why in sorted(remaining, key=lambda survivor: (survivor[2] is not None, survivor[0] in left)):
        verdict = why or (
            "**Survived the first pass; the second had no time left for it.**"
            if name in left
            else "**Not explained yet.**"
        )
        lines += [f"### `{name}`", "", verdict, "", "```diff", shown.strip(), "```", ""]
    REPORT.write_text("\n".join(lines))
    print("\n".join(lines[: len(by_module) + 20]))
    return met and not unexplained


def _unexplained_survivors(from_modules: set[str]) -> list[str]:
    """The survivors (of these module paths; all when empty) not explained as equivalent: an equivalent one
    survives any test, so running it again would prove nothing."""
    os.chdir(STAGE)
    try:
        notes = json.loads(NOTES.read_text()) if NOTES.exists() else []
        return [
            name
            for name, shown in survivors()
            if (not from_modules or _module_path(name) in from_modules)
            and not (_note(notes, name, shown) or equivalence(shown))
        ]
    finally:
        os.chdir(ROOT)


def learn_killers() -> None:
    """Add the tests that killed mutants (kills.jsonl) to each module's known killers."""
    killers: dict[str, set[str]] = {
        module: set(tests) for module, tests in (json.loads(KILLERS.read_text()) if KILLERS.exists() else {}).items()
    }
    if KILLS.exists():
        for line in KILLS.read_text().splitlines():
            kill = json.loads(line)
            module = kill["mutant"].partition("__mutmut_")[0].rpartition(".")[0]
            killers.setdefault(module, set()).add(kill["test"])
    KILLERS.write_text(
        json.dumps({module: sorted(tests) for module, tests in sorted(killers.items())}, indent=1) + "\n"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="*", help="modules to mutate (default: every module of the scope)")
    parser.add_argument("--report-only", action="store_true", help="rewrite MUTATION.md from the last run")
    parser.add_argument("--fresh", action="store_true", help="forget earlier results")
    parser.add_argument(
        "--survivors",
        nargs="*",
        metavar="MODULE",
        help="test again the survivors (of these modules, e.g. vendors/blu.py; default all)",
    )
    parser.add_argument("--max-children", type=int, default=os.cpu_count() or 2)
    parser.add_argument(
        "--minutes",
        type=float,
        default=RUN_MINUTES,
        help="stop the run after this long, keeping every verdict so far (0: no limit)",
    )
    arguments = parser.parse_args()
    if not arguments.report_only:
        if arguments.fresh:
            shutil.rmtree(STAGE / "mutants", ignore_errors=True)
        stage(arguments.only or MODULES)
        again = None
        if arguments.survivors is not None:  # new tests since: mutmut keeps a verdict until told to look again
            again = _unexplained_survivors({f"dialhub/{module}" for module in arguments.survivors})
        started = time.monotonic()

        def minutes_left() -> float | None:
            return max(0.5, arguments.minutes - (time.monotonic() - started) / 60) if arguments.minutes else None

        def against_every_test(survivors: list[str]) -> int:
            """Survivors of a first pass run against every test that reaches them; those the time did not
            reach are written down for the report."""
            before = _durations()
            code = run(arguments.max_children, survivors, minutes=minutes_left())
            if code == OUT_OF_TIME:
                after = _durations()
                left = [name for name in survivors if after.get(name) == before.get(name)]
                LEFT_UNCHECKED.write_text(json.dumps(left, indent=1))
            return code

        (STAGE / "run.log").write_text("")
        LEFT_UNCHECKED.unlink(missing_ok=True)
        if again is not None:
            code = against_every_test(again) if again else 0
        else:
            code = run(arguments.max_children, focused=True, minutes=minutes_left())
            if code in (0, 1):  # the first pass's survivors, against every test that reaches them
                second = _unexplained_survivors(set())
                learn_killers()
                if second:
                    code = against_every_test(second)
            elif code == OUT_OF_TIME:  # no second pass at all: every survivor so far is the first pass's only
                LEFT_UNCHECKED.write_text(json.dumps(_unexplained_survivors(set()), indent=1))
        stopped = code == OUT_OF_TIME  # what it did not reach is in the report
        code = 0 if stopped else code
        learn_killers()
        log = (STAGE / "run.log").read_text(errors="replace")
        failed = ("failed to collect stats", "Failed to collect list of tests", "Failed to run clean test")
        if not stopped:  # test processes stopped mid-run print theirs
            failed += ("Traceback (most recent call last)",)
        if code not in (0, 1) or any(sign in log for sign in failed):
            print(f"mutmut did not run the mutants (exit {code}); the end of .mutation/run.log:\n{log[-3000:]}")
            return 2
        record = LAST_FRESH_RUN if arguments.fresh else LAST_RUN
        record.write_text(
            json.dumps(
                {
                    "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
                    "minutes": (time.monotonic() - started) / 60,
                    "kind": "fresh" if arguments.fresh else "survivors" if again is not None else "incremental",
                    "children": arguments.max_children,
                    "cores": os.cpu_count(),
                }
            )
        )
    os.chdir(STAGE)  # mutmut reads its configuration and records from the folder it ran in
    return 0 if report() else 1


if __name__ == "__main__":
    sys.exit(main())

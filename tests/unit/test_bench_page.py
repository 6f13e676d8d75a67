"""BENCHMARKS.md: the table is rendered from the run's figures, the prose after the marker is kept as written,
so a number can only be in the prose if someone wrote it there."""

from __future__ import annotations

from pathlib import Path

from bench.__main__ import HAND_WRITTEN, _hand_written, merged


def test_the_hand_written_part_is_kept_whole_and_a_page_without_one_gets_the_marker(tmp_path: Path) -> None:
    page = tmp_path / "BENCHMARKS.md"
    page.write_text(f"# Benchmarks\n\n| old table |\n\n{HAND_WRITTEN}\n\n## Findings\n\nCold start: see figure 1.\n")
    assert _hand_written(page) == f"{HAND_WRITTEN}\n\n## Findings\n\nCold start: see figure 1.\n"
    assert _hand_written(tmp_path / "missing.md") == f"{HAND_WRITTEN}\n"


def test_the_repository_page_has_its_hand_written_part_after_the_table() -> None:
    page = (Path(__file__).resolve().parents[2] / "BENCHMARKS.md").read_text()
    table, _, prose = page.partition(HAND_WRITTEN)
    assert "|---" in table  # the rendered table is above the marker
    assert prose.lstrip().startswith("## What the table showed")


def _row(figure: str, value: str) -> dict[str, object]:
    return {"figure": figure, "measure": f"figure {figure}", "value": value, "goal": "", "met": None, "notes": ""}


def test_figures_measured_again_replace_only_their_own_rows_and_say_when() -> None:
    last = {
        "host": {"date": "2026-12-01 10:03 UTC"},
        "quick": False,
        "seconds": 2201.0,
        "rows": [_row("1", "a"), _row("4", "old"), _row("5", "old"), _row("5", "old too"), _row("9", "b")],
    }
    fresh = {"host": {"date": "2026-12-02 09:00 UTC"}, "quick": False, "seconds": 600.0}
    fresh["rows"] = [_row("4", "new"), _row("5", "new"), _row("10", "split")]
    run = merged(last, fresh)
    assert [(row["figure"], row["value"]) for row in run["rows"]] == [
        ("1", "a"), ("4", "new"), ("5", "new"), ("9", "b"), ("10", "split"),
    ]  # fmt: skip
    assert run["host"] == last["host"] and run["seconds"] == 2201.0  # the full run's own account stays
    assert run["remeasured"] == [{"figures": ["4", "5", "10"], "date": "2026-12-02 09:00 UTC", "seconds": 600.0}]
    again = merged(run, {"host": {"date": "2026-12-03 09:00 UTC"}, "seconds": 60.0, "rows": [_row("9", "c")]})
    assert [entry["figures"] for entry in again["remeasured"]] == [["4", "5", "10"], ["9"]]
    assert merged(again, fresh)["remeasured"][-1]["figures"] == ["4", "5", "10"]
    assert [entry["figures"] for entry in merged(again, fresh)["remeasured"]] == [["9"], ["4", "5", "10"]]

"""BENCHMARKS.md: the table is rendered from the run's figures, the prose after the marker is kept as written,
so a number can only be in the prose if someone wrote it there."""

from __future__ import annotations

from pathlib import Path

from bench.__main__ import HAND_WRITTEN, _hand_written


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

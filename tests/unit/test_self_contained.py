"""The repository stands alone: no tracked file sends its reader to a path outside it (a sibling folder the
authors had, an absolute path of one machine), and every document the code cites is in it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# A relative path that climbs out of the repository, or an absolute path into a home or work folder.
OUTSIDE = re.compile(r"(?<![\w.])\.\./(?!etc/passwd)[\w.-]+|(?<![\w:/])/(?:work|root|home|Users|tmp)/[\w.-]+")
CITED_DOC = re.compile(r"\bdocs/[\w./-]+\.(?:md|json)")


def _tracked() -> list[Path]:
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return [ROOT / name for name in listed.splitlines() if (ROOT / name).is_file()]


def _text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None


def test_no_tracked_file_refers_to_a_path_outside_the_repository() -> None:
    found = []
    for path in _tracked():
        text = _text(path)
        if text is None or path.name == "test_self_contained.py":
            continue
        found += [f"{path.relative_to(ROOT)}: {match.group(0)}" for match in OUTSIDE.finditer(text)]
    assert found == []


def test_every_document_the_repository_cites_is_in_it() -> None:
    missing = sorted(
        {
            f"{path.relative_to(ROOT)} cites {match.group(0)}"
            for path in _tracked()
            if (text := _text(path)) is not None
            for match in CITED_DOC.finditer(text)
            if not (ROOT / match.group(0)).is_file()
        }
    )
    assert missing == []


@pytest.mark.parametrize(
    ("text", "outside"),
    [
        ("see ../shared/vendors/blu.md", True),
        ("from `/work/shared/DESIGN.md`", True),
        ("docs/vendors/blu.md and ./local/stack.py", False),
        ("https://example.com/work/api", False),
    ],
)
def test_the_rule_sees_a_path_outside_and_nothing_else(text: str, outside: bool) -> None:
    assert bool(OUTSIDE.search(text)) is outside

"""Writes docs/openapi.json from the API's own routes and models (a test fails when it drifts)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "layers" / "dialhub")]

from dialhub.api import openapi_document  # noqa: E402

TARGET = ROOT / "docs" / "openapi.json"

if __name__ == "__main__":
    TARGET.write_text(openapi_document() + "\n")
    print(f"wrote {TARGET.relative_to(ROOT)}")

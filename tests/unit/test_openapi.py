"""The committed OpenAPI document is the one the code generates (run `make openapi` after changing the API)."""

from __future__ import annotations

import json
from pathlib import Path

from dialhub.api import openapi_document

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def test_committed_openapi_document_matches_the_code() -> None:
    assert json.loads(DOCUMENT.read_text()) == json.loads(openapi_document()), "run `make openapi`"


def test_every_template_route_is_documented_and_nothing_else() -> None:
    from local.template import SamTemplate

    template = SamTemplate(DOCUMENT.parents[1] / "template.yaml")
    internal = {(r.method.lower(), r.path) for r in template.routes if r.auth == "AWS_IAM"}
    paths = json.loads(DOCUMENT.read_text())["paths"]
    documented = {(method, path) for path, methods in paths.items() for method in methods}
    assert documented == internal

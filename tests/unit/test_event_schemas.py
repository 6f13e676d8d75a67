"""The events' contract: one JSON Schema per detail-type in docs/events/, the same schemas published in the
template's registry, and valid JSON Schema (draft 4, as EventBridge's registry takes it)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import yaml
from moto.events.models import EventPattern

from dialhub.changes import DETAIL_TYPES
from local.template import CloudFormationLoader, SamTemplate

ROOT = Path(__file__).resolve().parents[2]


def test_every_detail_type_has_a_valid_schema_and_the_template_publishes_it(template: SamTemplate) -> None:
    documented = {path.stem: json.loads(path.read_text()) for path in (ROOT / "docs" / "events").glob("*.json")}
    assert set(documented) == {detail_type.replace(" ", "") for detail_type in DETAIL_TYPES}
    published = {
        resource["Properties"]["SchemaName"].removeprefix("dialhub@"): json.loads(resource["Properties"]["Content"])
        for resource in template.resources.values()
        if resource["Type"] == "AWS::EventSchemas::Schema"
    }
    assert published == documented
    for name, schema in documented.items():
        jsonschema.Draft4Validator.check_schema(schema)
        [detail_type] = schema["properties"]["detail-type"]["enum"]
        assert detail_type.replace(" ", "") == name and detail_type in DETAIL_TYPES
        assert schema["properties"]["source"]["enum"] == ["dialhub"]


def test_the_readme_rule_routes_promises_to_pay_and_nothing_else() -> None:
    """The README's example rule, as a user would paste it: its pattern is valid and picks the right events."""
    readme = (ROOT / "README.md").read_text()
    block = readme.split("```yaml\n# rule: promises to pay", 1)[1].split("```", 1)[0]
    rule = yaml.load(block, Loader=CloudFormationLoader)
    pattern = EventPattern.load(json.dumps(next(iter(rule.values()))["Properties"]["EventPattern"]))

    def closed(disposition: str, detail_type: str = "Contact Closed") -> dict[str, object]:
        return {"source": "dialhub", "detail-type": detail_type, "detail": {"disposition": disposition}}

    assert pattern.matches_event(closed("promise_to_pay"))
    assert not pattern.matches_event(closed("opt_out"))
    assert not pattern.matches_event(closed("promise_to_pay", "Call Outcome Recorded"))


def test_the_readme_shows_a_valid_sample_of_every_detail_type() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Events\n", 1)[1].split("\n## ", 1)[0]
    samples = [json.loads(block.split("```", 1)[0]) for block in section.split("```json\n")[1:]]
    assert sorted(sample["detail-type"] for sample in samples) == sorted(DETAIL_TYPES)
    for sample in samples:
        schema = json.loads((ROOT / "docs" / "events" / f"{sample['detail-type'].replace(' ', '')}.json").read_text())
        jsonschema.validate(sample, schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)
        assert "phone" not in sample["detail"] or sample["detail"]["phone"].startswith("***")

"""The demo scenario over the real offline stack: HTTP gateway, moto server, Blu simulator, drivers."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from dialhub.report_page import TITLE_CALLS, TITLE_COMPARISON, TITLE_DISPOSITIONS, TITLE_FUNNEL, TITLE_HELD, TITLE_HOURS
from local import moto_patches
from local.demo import events_by_campaign
from local.scenario import demo_contacts, report_campaign, run_scenario
from local.stack import LocalStack

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack() -> LocalStack:
    with LocalStack(drop_rate=0.25, dial_delay=(0.05, 0.6), retry_interval=0.2, seed=3) as running:
        yield running


def test_every_contact_of_every_vendor_reaches_exactly_one_closing_outcome(stack: LocalStack, tmp_path: Path) -> None:
    result = run_scenario(stack, contacts=60, cancel=2, settle_timeout=90)
    assert set(result.vendors) == set(stack.simulators)
    assert result.recovered_by_polling > 0
    assert sum(r.by_source["poll"] for r in result.vendors.values()) > 0  # closing outcomes only the poll found
    assert result.feed_outcomes == sum(r.contact_states["final"] for r in result.vendors.values())
    assert result.feed_repeats == 0
    for vendor, outcome in result.vendors.items():
        assert outcome.accepted == 60, vendor
        assert outcome.contact_states == {"final": 58, "cancelled": 2}, vendor
        assert outcome.every_contact_settled_once, vendor
        assert outcome.campaign["byState"] == {"final": 58, "cancelled": 2}, vendor
        assert outcome.campaign["state"] == "completed", vendor
        assert sum(outcome.campaign["byDisposition"].values()) == 58, vendor
        assert outcome.listing_requests == 1, vendor  # 60 contacts: one page of the listing, not 60 GETs
    first = next(iter(result.vendors.values()))
    assert first.rejected == 3
    exported = result.export
    assert exported is not None and exported.state == "done"
    assert exported.campaign_id == result.vendors["blu"].campaign_id
    assert exported.rows == exported.file_rows == 60 and set(exported.contact_ids.values()) == {1}
    assert exported.first_lines[0].startswith("contactId,phone,state,")
    assert stack.permissions.refused == {}  # every AWS call of every function was granted by its Policies
    # Every function but the importer made AWS calls (checked against its Policies); the file imports come next.
    assert set(stack.permissions.used) == set(stack.template.functions) - {"ImporterFunction"}
    _every_event_as_promised(result)
    _the_report_of(
        stack, result.vendors["blu"].campaign_id, tmp_path, sent=58, contacts=demo_contacts(60, prefix="blu")
    )


def _the_report_of(
    stack: LocalStack, campaign_id: str, directory: Path, sent: int, contacts: list[dict[str, Any]], split: bool = False
) -> None:
    """The campaign's report, asked for over HTTP and downloaded with its link: one HTML page with every chart,
    the campaign's counts beside them, and not one of its phone numbers."""
    client = httpx.Client(base_url=stack.url, timeout=60)
    report = report_campaign(client, stack, campaign_id, directory)
    assert report.state == "done" and report.content_type.startswith("text/html")
    assert report.path == directory / f"{campaign_id}-report.html"
    titles = [TITLE_FUNNEL, TITLE_DISPOSITIONS + (" by vendor" if split else ""), TITLE_HOURS, TITLE_CALLS, TITLE_HELD]
    assert report.sections == titles + ([TITLE_COMPARISON] if split else [])
    page = report.path.read_text(encoding="utf-8")
    assert f"<td>contacts</td><td>{len(contacts)}</td>" in page and f"<td>sent</td><td>{sent}</td>" in page
    assert not [contact for contact in contacts if contact["phone"][1:] in page or contact["contactId"] in page]
    assert "ExportsFunction" not in stack.permissions.refused  # the history reads are granted by its Policies


def _every_event_as_promised(result: Any) -> None:
    """Every event a subscriber received validates against its published schema, and together they tell the
    campaign's story: each contact closed once, each call announced, each campaign completed once."""
    schemas = {
        path.stem: json.loads(path.read_text())
        for path in (Path(__file__).parents[2] / "docs" / "events").glob("*.json")
    }
    assert result.events
    for event in result.events:
        envelope = {key: event[key] for key in ("source", "detail-type", "detail")}
        schema = schemas[event["detail-type"].replace(" ", "")]
        jsonschema.validate(envelope, schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)
        assert event["time"] and event["id"]
    for vendor, figures in events_by_campaign(result).items():
        assert figures["contact closed"] == figures["contacts closed"] == 60, vendor
        assert figures["closed with an outcome"] == 58, vendor
        assert figures["calls announced"] == figures["calls"] > 0, vendor
        assert figures["campaign completed"] == 1, vendor
        assert figures["counters agree"] == 1, vendor
    assert len(result.events_of("Contact Suppressed")) > 0  # the simulators' opt-outs and complaints
    for detail in result.events_of("Contact Closed"):
        assert detail["phone"].startswith("***"), detail  # never a full number on the bus


def test_a_call_outside_a_functions_policies_is_refused_as_aws_would(stack: LocalStack) -> None:
    from botocore.exceptions import ClientError

    from dialhub.wiring import default_dependencies

    store = default_dependencies().store
    with stack.acting_as("WebhooksFunction"), pytest.raises(ClientError) as refused:
        store.client.scan(TableName=store.table_name, Limit=1)
    assert refused.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "WebhooksFunction is not authorized to perform: dynamodb:Scan" in str(refused.value)
    with stack.acting_as("ApiFunction"):  # a granted call goes through
        assert store.client.get_item(TableName=store.table_name, Key={"pk": {"S": "x"}, "sk": {"S": "y"}}) is not None


def test_gateway_serves_only_the_template_routes(stack: LocalStack) -> None:
    assert httpx.get(f"{stack.url}/nowhere").status_code == 404
    assert httpx.delete(f"{stack.url}/campaigns").status_code == 404
    assert httpx.post(f"{stack.url}/webhooks/blu?token=wrong", json={"callId": 1}).status_code == 401


def test_a_download_link_is_a_plain_get_until_it_expires(stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> None:
    client = httpx.Client(base_url=stack.url, timeout=60)
    body = {
        "name": "Link",
        "vendor": "blu",
        "vendorOptions": stack.simulators["blu"].demo_options(),
        "contacts": demo_contacts(3, prefix="link"),
    }
    campaign_id = client.post("/campaigns", json=body).json()["campaignId"]
    export_id = client.post(f"/campaigns/{campaign_id}/exports", json={"format": "jsonl"}).json()["exportId"]
    stack.run_exports()
    job = client.get(f"/exports/{export_id}").json()
    assert job["state"] == "done" and job["url"].startswith("https://127.0.0.1:")
    download = httpx.get(job["url"], verify=stack.https_verify())  # no credentials, no signing: a plain GET
    assert download.status_code == 200 and len(download.content.splitlines()) == 3
    assert download.headers["content-disposition"].startswith('attachment; filename="Link-')

    expires = dt.datetime.fromisoformat(job["expiresAt"]).timestamp()
    monkeypatch.setattr(moto_patches, "presigned_clock", lambda: expires + 1)
    expired = httpx.get(job["url"], verify=stack.https_verify())
    assert expired.status_code == 403 and b"Request has expired" in expired.content
    fresh = client.get(f"/exports/{export_id}").json()["url"]  # asking again gives a new link
    monkeypatch.setattr(moto_patches, "presigned_clock", lambda: expires - 60)
    assert httpx.get(fresh, verify=stack.https_verify()).status_code == 200


def test_the_demos_contact_files_go_in_through_upload_links_and_every_row_is_accounted_for(stack: LocalStack) -> None:
    """A GBK CSV with bad rows and an .xlsx, uploaded with a plain PUT to the link the API gave, announced by S3
    on the import queue as EventBridge delivers it, read by the importer."""
    from local.file_imports import run_file_imports

    csv_import, xlsx_import = run_file_imports(stack, "blu")
    assert csv_import.ok and xlsx_import.ok, (csv_import.view, xlsx_import.view)
    assert csv_import.view["chosenColumns"]["phone"] == "手机号"
    assert (csv_import.view["rejected"], csv_import.view["duplicates"]) == (16, 8)
    assert csv_import.rejection_lines[0] == "row,contactId,field,reason"
    assert csv_import.rejection_lines[1].startswith("26,LN000024,phone,")  # row 26: the 25th data row
    assert xlsx_import.view["accepted"] == 150 and xlsx_import.view["chosenColumns"]["contactId"] == "ID Pinjaman"
    assert "ImporterFunction" in stack.permissions.used and "ImporterFunction" not in stack.permissions.refused


def test_the_demos_split_campaign_is_compared_and_its_failover_drill_dials_everyone_once(
    stack: LocalStack, tmp_path: Path
) -> None:
    """The comparison read back through the gateway agrees with the campaign's own counts, and when Blu goes down
    after one batch the contacts it never took are dialled by the fallback, each contact by one vendor, once."""
    from local.split_scenario import FALLBACK, run_split, split_report

    result = run_split(stack)
    _, ok = split_report(result)
    assert ok, split_report(result)[0]
    vendors = {entry["vendor"]: entry for entry in result.comparison["vendors"]}
    assert set(vendors) == {"blu", "nxtele", "airudder"} and vendors["blu"]["againstChampion"] is None
    assert sum(entry["assigned"] for entry in vendors.values()) == result.campaign["totalContacts"] == 300
    assert all(entry["currency"] == "PHP" for entry in vendors.values())  # the local accounts' prices
    [moved] = result.failover_campaign["failedOver"]
    assert (moved["fromVendor"], moved["toVendor"], moved["cause"]) == ("blu", FALLBACK, "vendor_down")
    assert result.dials[FALLBACK] == moved["contacts"] > 0 and result.dialled_twice == 0
    assert "ApiFunction" not in stack.permissions.refused and "DispatcherFunction" not in stack.permissions.refused
    _the_report_of(
        stack,
        result.comparison["campaignId"],
        tmp_path,
        sent=300,
        contacts=demo_contacts(300, prefix="champion"),
        split=True,
    )

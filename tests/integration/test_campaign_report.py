"""The campaign report as an html export, end to end through the API, the exports handler, the store and the
export bucket (moto, built from template.yaml): the job's answers, the object's type and name, the figures the
page shows for a campaign whose every number is known, a split campaign's comparison, and what is refused."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from typing import Any

import pytest

from dialhub.dispositions import CallStatus, Disposition
from dialhub.models import CallOutcome, DialState, Hold
from dialhub.outcomes import record_outcomes
from dialhub.phones import national_digits, normalise_phone
from dialhub.report import REPORT_MARGIN_SECONDS
from dialhub.report_page import (
    TITLE_CALLS,
    TITLE_COMPARISON,
    TITLE_DISPOSITIONS,
    TITLE_FUNNEL,
    TITLE_HELD,
    TITLE_HOURS,
)
from dialhub.split import assign
from dialhub.wiring import Dependencies
from local.scenario import demo_contacts
from local.template import SamTemplate
from tests.conftest import api_event, call_api
from tests.integration.test_exports import Context, _run, _view
from tests.integration.test_split_campaigns import SPLIT

DAY = dt.datetime(2026, 11, 25, tzinfo=dt.UTC)
CAMPAIGN = "cmp-report"
NAME = "November <b>collections</b> & co"
SPLIT_CAMPAIGN = "cmp-report-split"
ONE_VENDOR_TITLES = [TITLE_FUNNEL, TITLE_DISPOSITIONS, TITLE_HOURS, TITLE_CALLS, TITLE_HELD]
SPLIT_TITLES = [TITLE_FUNNEL, f"{TITLE_DISPOSITIONS} by vendor", TITLE_HOURS, TITLE_CALLS, TITLE_COMPARISON]


def _call(
    campaign_id: str,
    contact_id: str,
    n: int,
    answered: bool,
    disposition: Disposition,
    started: dt.datetime,
    vendor: str = "blu",
    closes: bool = True,
) -> CallOutcome:
    return CallOutcome(
        vendor=vendor,
        vendor_call_id=f"{contact_id}-{n}",
        campaign_id=campaign_id,
        contact_id=contact_id,
        status=CallStatus.ANSWERED if answered else CallStatus.NO_ANSWER,
        disposition=disposition,
        started_at=started,
        duration_seconds=45 if answered else 0,
        closes_contact=closes,
    )


def report_campaign(deps: Dependencies) -> dict[str, Any]:
    """A campaign of 20 (Philippine numbers, Asia/Manila, UTC+8; one contact in New York) whose report is known:

    rep-00000..03 promise to pay at 09:00 local, 04..05 refuse to pay and 06 is the wrong person at 13:30 (06 in
    New York: 00:30 there), 07..09 never answer at 18:00; 00 and 07 had an unanswered first call the vendor
    redialled at 08:10. 10..11 are sent and not back; 12..13 are held outside the window, 14 is suppressed; the
    rest are queued.
    """
    contacts = demo_contacts(20, prefix="rep")
    contacts[6]["timezone"] = "America/New_York"
    body = {"name": NAME, "vendor": "blu", "vendorOptions": {"botId": 1}, "campaignId": CAMPAIGN, "contacts": contacts}
    status, created = call_api(deps, api_event("api/create_campaign.json", body=body))
    assert status == 201 and created["accepted"] == 20, created
    at_9, at_13, at_18, at_8 = (DAY + dt.timedelta(hours=h) for h in (1, 5.5, 10, 0.17))
    calls = [_call(CAMPAIGN, f"rep-{i:05d}", 2, True, Disposition.PROMISE_TO_PAY, at_9) for i in range(4)]
    calls += [_call(CAMPAIGN, f"rep-{i:05d}", 2, True, Disposition.REFUSED_TO_PAY, at_13) for i in (4, 5)]
    calls += [_call(CAMPAIGN, "rep-00006", 2, True, Disposition.WRONG_PERSON, at_13)]
    calls += [_call(CAMPAIGN, f"rep-{i:05d}", 2, False, Disposition.NOT_CONNECTED, at_18) for i in (7, 8, 9)]
    calls += [_call(CAMPAIGN, f"rep-{i:05d}", 1, False, Disposition.NOT_CONNECTED, at_8, closes=False) for i in (0, 7)]
    record_outcomes(calls, deps.store, deps.clock())
    for contact_id in ("rep-00010", "rep-00011"):
        assert deps.store.move_contact(
            CAMPAIGN, contact_id, DialState.SUBMITTED, allowed_from=[DialState.QUEUED], now=deps.clock()
        )
    for contact_id, reason in (
        ("rep-00012", "outside_window"),
        ("rep-00013", "outside_window"),
        ("rep-00014", "suppressed"),
    ):
        assert deps.store.hold_contact(CAMPAIGN, contact_id, Hold(reason=reason, checked_at=deps.clock()))
    return {"campaign_id": CAMPAIGN, "contacts": contacts}


def split_report_campaign(deps: Dependencies, count: int = 90) -> dict[str, Any]:
    """A campaign split 60/25/15 across Blu, NXTele and AIRudder, every contact closed by its vendor: a third
    of each vendor's contacts connected and promised to pay, at 10:00 Manila time."""
    contacts = demo_contacts(count, prefix="spl")
    body = {"name": "Champion challenger", "campaignId": SPLIT_CAMPAIGN, "vendors": SPLIT, "contacts": contacts}
    status, created = call_api(deps, api_event("api/create_campaign.json", body=body))
    assert status == 201 and created["accepted"] == count, created
    shares = [(share["vendor"], share["share"]) for share in SPLIT]
    vendors = {contact["contactId"]: assign(SPLIT_CAMPAIGN, contact["contactId"], shares) for contact in contacts}
    seen: Counter[str] = Counter()
    calls = []
    for contact_id, vendor in sorted(vendors.items()):
        answered = seen[vendor] % 3 == 0
        seen[vendor] += 1
        disposition = Disposition.PROMISE_TO_PAY if answered else Disposition.NOT_CONNECTED
        calls.append(_call(SPLIT_CAMPAIGN, contact_id, 1, answered, disposition, DAY + dt.timedelta(hours=2), vendor))
    record_outcomes(calls, deps.store, deps.clock())
    return {"campaign_id": SPLIT_CAMPAIGN, "contacts": contacts, "vendors": Counter(vendors.values())}


def export_report(deps: Dependencies, template: SamTemplate, campaign_id: str) -> tuple[dict[str, Any], bytes]:
    """POST an html export, run the exports handler as SQS would, and read the job and its object."""
    status, started = call_api(
        deps, api_event("api/start_export.json", path={"campaignId": campaign_id}, body={"format": "html"})
    )
    assert status == 202, started
    assert (started["state"], started["format"]) == ("running", "html")
    assert _run(deps, template) == [{"batchItemFailures": []}]
    done = _view(deps, started["exportId"])
    key = f"exports/{campaign_id}/{started['exportId']}.html"
    return done, deps.objects.read(key)


def test_an_html_export_writes_the_report_and_answers_with_a_download_link(
    export_deps: Dependencies, template: SamTemplate
) -> None:
    built = report_campaign(export_deps)
    done, body = export_report(export_deps, template, CAMPAIGN)
    assert done["state"] == "done" and done["url"].startswith("https://") and done["expiresAt"]
    assert done["rows"] == 20 and done["bytes"] == len(body)
    key = f"exports/{CAMPAIGN}/{done['exportId']}.html"
    head = export_deps.objects.client.head_object(Bucket=export_deps.objects.bucket, Key=key)
    assert head["ContentType"] == "text/html; charset=utf-8"
    assert head["ContentDisposition"] == 'attachment; filename="November-b-collections-b-co-report.html"'
    page = body.decode("utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.count("Plotly.newPlot(") == len(ONE_VENDOR_TITLES)
    titles = re.findall(r'<section id="\w+"(?: class="\w+")? data-title="([^"]+)"', page)
    assert titles == [title.replace("'", "&#x27;") for title in ONE_VENDOR_TITLES]
    assert "<h1>Campaign report: November &lt;b&gt;collections&lt;/b&gt; &amp; co</h1>" in page
    # Nothing about a person: no number (in any form), no contact id, no variable.
    for contact in built["contacts"]:
        number = normalise_phone(contact["phone"], "PH")
        assert national_digits(number) not in page and number not in page
    assert "rep-000" not in page and "L19" not in page and "amountDue" not in page


def test_the_report_shows_the_campaigns_figures_beside_its_charts(
    export_deps: Dependencies, template: SamTemplate
) -> None:
    report_campaign(export_deps)
    _, body = export_report(export_deps, template, CAMPAIGN)
    page = body.decode("utf-8")
    funnel = [("contacts", 20), ("sent", 12), ("connected", 7), ("right party", 6), ("promise to pay", 4)]
    for step, count in funnel:
        assert f"<td>{step}</td><td>{count}</td><td>{100 * count / 20:.1f}%</td>" in page, step
    for disposition, count in [("promise to pay", 4), ("not connected", 3), ("refused to pay", 2), ("wrong person", 1)]:
        assert f"<td>{disposition}</td><td>{count}</td></tr>" in page, disposition
    # By the recipient's local hour: 08:10 (two first tries), 09:00, 13:30, 18:00 Manila; 00:30 in New York.
    hours = re.findall(r"<tr><td>(\d\d):00</td><td>(\d+)</td><td>(\d+)</td><td>[^<]+</td></tr>", page)
    assert hours == [("00", "1", "1"), ("08", "2", "0"), ("09", "4", "4"), ("13", "2", "2"), ("18", "3", "0")]
    assert "<tr><td>1</td><td>8</td></tr><tr><td>2</td><td>2</td></tr>" in page  # calls per contact
    assert "<td>outside the calling window</td><td>2</td>" in page
    assert "<td>suppressed (do not call)</td><td>1</td>" in page
    assert re.search(r"Generated at \d{4}-\d\d-\d\d \d\d:\d\d UTC; data as of \d{4}-\d\d-\d\d \d\d:\d\d UTC", page)


def test_a_split_campaigns_report_compares_its_vendors(export_deps: Dependencies, template: SamTemplate) -> None:
    built = split_report_campaign(export_deps)
    done, body = export_report(export_deps, template, SPLIT_CAMPAIGN)
    page = body.decode("utf-8")
    assert done["rows"] == 90
    titles = re.findall(r'<section id="\w+"(?: class="\w+")? data-title="([^"]+)"', page)
    assert titles == [title.replace("'", "&#x27;") for title in SPLIT_TITLES[:4]] + [TITLE_HELD, TITLE_COMPARISON]
    assert "No contact is held back." in page
    vendors = built["vendors"]
    assigned = " ".join(
        f"{share['share']}% / {vendors[share['vendor']]} / {vendors[share['vendor']]}" for share in SPLIT
    )
    cells = re.findall(r"<td>(\d+% / \d+ / \d+)</td>", page)
    assert " ".join(cells) == assigned
    # The funnel's columns per vendor: contacts, and a third of each vendor's contacts promised to pay.
    row = "<tr><td>contacts</td><td>90</td><td>100.0%</td>" + "".join(
        f"<td>{vendors[share['vendor']]}</td>" for share in SPLIT
    )
    assert row in page
    promised = "".join(f"<td>{-(-vendors[share['vendor']] // 3)}</td>" for share in SPLIT)
    assert f"<td>promise to pay</td><td>30</td><td>33.3%</td>{promised}</tr>" in page
    assert "<th>blu (champion)</th><th>nxtele</th><th>airudder</th>" in page
    assert page.count("connected: against the champion") == 1
    assert re.search(r"not yet distinguishable|too few calls to tell|challenger (better|worse)", page)
    assert "Cost is left out of this report" in page


@pytest.mark.parametrize(
    ("body", "field"),
    [({"format": "html", "state": "final"}, "state"), ({"format": "html", "includePhone": True}, "includePhone")],
)
def test_a_report_with_a_filter_or_phone_numbers_is_a_422_naming_the_field(
    export_deps: Dependencies, body: dict[str, Any], field: str
) -> None:
    report_campaign(export_deps)
    status, answer = call_api(export_deps, api_event("api/start_export.json", path={"campaignId": CAMPAIGN}, body=body))
    assert status == 422 and answer["errors"][0]["field"] == field, answer
    queue = export_deps.export_queue
    assert "Messages" not in queue.client.receive_message(QueueUrl=queue.queue_url, WaitTimeSeconds=0)


def test_a_campaign_too_large_to_read_in_one_invocation_fails_the_export_saying_so(
    export_deps: Dependencies, template: SamTemplate
) -> None:
    report_campaign(export_deps)
    status, started = call_api(
        export_deps, api_event("api/start_export.json", path={"campaignId": CAMPAIGN}, body={"format": "html"})
    )
    assert status == 202
    answers = _run(export_deps, template, Context(seconds=REPORT_MARGIN_SECONDS - 1))
    assert answers == [{"batchItemFailures": []}]  # ended for good: not retried, not queued again
    failed = _view(export_deps, started["exportId"])
    assert failed["state"] == "failed" and "too large to read in one invocation" in failed["error"]
    assert failed["url"] is None
    listing = export_deps.objects.client.list_objects_v2(Bucket=export_deps.objects.bucket)
    assert "Contents" not in listing  # no half a report


def test_a_crash_while_drawing_is_retried_by_sqs_and_the_retry_writes_the_report(
    export_deps: Dependencies, template: SamTemplate, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dialhub import report_page

    report_campaign(export_deps)
    real_render = report_page.render_report
    drawn: list[int] = []

    def crash_once(figures: Any) -> str:
        drawn.append(1)
        if len(drawn) == 1:
            raise MemoryError("injected")
        return real_render(figures)

    monkeypatch.setattr(report_page, "render_report", crash_once)
    status, started = call_api(
        export_deps, api_event("api/start_export.json", path={"campaignId": CAMPAIGN}, body={"format": "html"})
    )
    assert status == 202
    answers = _run(export_deps, template)
    assert answers[0]["batchItemFailures"] and answers[-1] == {"batchItemFailures": []}
    # The crash gave the lease back, so SQS's next delivery took the export over at once and finished it.
    assert len(drawn) == 2 and len(answers) == 2
    done = _view(export_deps, started["exportId"])
    assert done["state"] == "done" and done["rows"] == 20

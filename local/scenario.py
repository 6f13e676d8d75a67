"""The demo scenario, shared by `make demo` and the end-to-end test so both prove the same thing.

One campaign per vendor runs at the same time through the same API, schedules and queue.
"""

from __future__ import annotations

import html
import random
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from local.stack import LocalStack

# Philippine mobile prefixes (Globe / Smart); every generated number is valid for phonenumbers.
_PREFIXES = ("917", "918", "919", "920", "921", "927", "928", "929", "939", "945", "947", "998", "999")


def demo_contacts(count: int, seed: int = 11, prefix: str = "loan") -> list[dict[str, Any]]:
    rng = random.Random(f"{seed}:{prefix}")  # each vendor's campaign its own numbers (suppression is per number)
    contacts = []
    for index in range(count):
        contacts.append(
            {
                "contactId": f"{prefix}-{index:05d}",
                "phone": f"0{rng.choice(_PREFIXES)}{rng.randrange(10**7):07d}",
                "name": rng.choice(["Maria Santos", "Jose Reyes", "Ana Cruz", "Juan Dela Cruz", "Liza Bautista"]),
                "variables": {"amountDue": rng.randrange(500, 25_000), "dueDate": "2026-11-30", "loanId": f"L{index}"},
            }
        )
    return contacts


# Sent with the first vendor's campaign: each is rejected by index while the rest are accepted.
BAD_CONTACTS = [
    {"contactId": "bad-phone", "phone": "12345", "name": "Too Short"},
    {"contactId": "bad-name", "phone": "09171234567", "name": "Emoji \N{GRINNING FACE}"},
    {"phone": "09171234568", "name": "No Id"},
]


@dataclass
class ExportResult:
    """One campaign's export, as a person gets it: the job's answer and the file behind its download link."""

    campaign_id: str
    state: str
    rows: int
    size: int
    file_rows: int  # data lines in the downloaded file
    first_lines: list[str]
    contact_ids: Counter[str] = field(default_factory=Counter)  # rows per contact in the file


@dataclass
class VendorResult:
    vendor: str
    campaign_id: str
    accepted: int
    rejected: int
    cancelled: list[str]
    campaign: dict[str, Any] = field(default_factory=dict)
    contact_states: Counter[str] = field(default_factory=Counter)
    closing_outcomes: Counter[tuple[str, int]] = field(default_factory=Counter)  # (state, closing outcomes)
    attempts: int = 0  # every call the vendor reported, its own redials included
    by_status: Counter[str] = field(default_factory=Counter)
    by_disposition: Counter[str] = field(default_factory=Counter)
    by_source: Counter[str] = field(default_factory=Counter)  # closing outcomes: callback, or recovered by polling
    dial_requests_max: int = 0
    listing_requests: int = 0  # GET /campaigns/{id}/contacts pages it took to read every contact

    @property
    def every_contact_settled_once(self) -> bool:
        """Dialled contacts are final with exactly one closing outcome; cancelled ones were never dialled."""
        allowed = {("final", 1), ("cancelled", 0)}
        return set(self.closing_outcomes) <= allowed and self.dial_requests_max == 1


@dataclass
class ScenarioResult:
    vendors: dict[str, VendorResult]
    recovered_by_polling: int = 0
    seconds: float = 0.0
    feed_outcomes: int = 0  # closing outcomes read from GET /outcomes
    feed_repeats: int = 0  # of them, read more than once
    export: ExportResult | None = None
    events: list[dict[str, Any]] = field(default_factory=list)  # every event the bus took, as a subscriber sees it

    def events_of(self, detail_type: str) -> list[dict[str, Any]]:
        """The details of one kind of event, each once (a subscriber deduplicates on eventId)."""
        unique = {
            event["detail"]["eventId"]: event["detail"] for event in self.events if event["detail-type"] == detail_type
        }
        return list(unique.values())

    @property
    def every_contact_settled_once(self) -> bool:
        return all(result.every_contact_settled_once for result in self.vendors.values())


def _start_campaign(
    client: httpx.Client, stack: LocalStack, vendor: str, count: int, with_bad: bool, progress: Callable[[str], None]
) -> VendorResult:
    contacts = demo_contacts(count, prefix=vendor) + (BAD_CONTACTS if with_bad else [])
    body = {
        "name": f"November collections ({vendor})",
        "vendor": vendor,
        "vendorOptions": stack.simulators[vendor].demo_options(),
        "contacts": contacts,
    }
    created = client.post("/campaigns", json=body)
    created.raise_for_status()
    intake = created.json()
    progress(
        f"{vendor}: campaign {intake['campaignId']}: {intake['accepted']} contacts accepted, "
        f"{intake['rejected']} rejected"
    )
    for rejection in intake["rejections"]:
        progress(f"  rejected #{rejection['index']}: {rejection['reason']}")
    return VendorResult(
        vendor=vendor,
        campaign_id=intake["campaignId"],
        accepted=intake["accepted"],
        rejected=intake["rejected"],
        cancelled=[],
    )


def _collect(client: httpx.Client, stack: LocalStack, result: VendorResult, closing: Counter[tuple[str, str]]) -> None:
    """The campaign's contacts a page at a time, each with its closing outcome; how many closing outcomes the
    feed held for each contact (`closing`, by campaign and contact)."""
    result.campaign = client.get(f"/campaigns/{result.campaign_id}").json()
    for page in _pages(client, f"/campaigns/{result.campaign_id}/contacts", {"limit": 100}):
        result.listing_requests += 1
        for contact in page["items"]:
            result.contact_states[contact["state"]] += 1
            result.closing_outcomes[(contact["state"], closing[(result.campaign_id, contact["contactId"])])] += 1
            if outcome := contact["outcome"]:
                result.by_status[outcome["status"]] += 1
                result.by_disposition[outcome["disposition"]] += 1
                result.by_source[outcome["source"]] += 1
    simulator = stack.simulators[result.vendor]
    result.attempts = len(simulator.reported_call_ids())
    result.dial_requests_max = max(simulator.dial_requests.values(), default=0)


def _pages(client: httpx.Client, path: str, query: dict[str, Any]) -> Iterator[dict[str, Any]]:
    cursor = None
    while True:
        answer = client.get(path, params={**query, **({"cursor": cursor} if cursor else {})})
        answer.raise_for_status()
        page = answer.json()
        yield page
        if (cursor := page["nextCursor"]) is None:
            return


def read_feed(client: httpx.Client, after: str | None = None) -> tuple[list[dict[str, Any]], str]:
    """Every closing outcome GET /outcomes has ready, from `after` on; and the cursor to go on from."""
    outcomes: list[dict[str, Any]] = []
    while True:
        answer = client.get("/outcomes", params={"limit": 500, **({"after": after} if after else {})})
        answer.raise_for_status()
        page = answer.json()
        outcomes += page["items"]
        after = page["nextCursor"]
        if not page["hasMore"]:
            return outcomes, after


def export_campaign(client: httpx.Client, stack: LocalStack, campaign_id: str) -> ExportResult:
    """POST an export, let the exports function run it, and download the file with a plain GET."""
    started = client.post(f"/campaigns/{campaign_id}/exports", json={"format": "csv"})
    started.raise_for_status()
    stack.run_exports()
    job = client.get(f"/exports/{started.json()['exportId']}").json()
    if job["state"] != "done":
        return ExportResult(campaign_id, job["state"], job["rows"], job["bytes"], 0, [])
    download = httpx.get(job["url"], verify=stack.https_verify(), timeout=60)
    download.raise_for_status()
    text = download.content.decode("utf-8-sig")
    lines = text.split("\r\n")[:-1]
    return ExportResult(
        campaign_id,
        job["state"],
        job["rows"],
        len(download.content),
        len(lines) - 1,
        lines[:6],
        Counter(line.split(",", 1)[0] for line in lines[1:]),
    )


@dataclass
class ReportResult:
    """One campaign's report (an html export), downloaded as a person would, with a plain GET of its link."""

    campaign_id: str
    state: str
    path: Path | None = None  # where it was saved
    content_type: str = ""
    size: int = 0
    sections: list[str] = field(default_factory=list)  # the titles of the page's sections, in order


def report_campaign(client: httpx.Client, stack: LocalStack, campaign_id: str, directory: Path) -> ReportResult:
    """POST an html export, let the exports function draw it, and save it as <directory>/<campaign>-report.html."""
    started = client.post(f"/campaigns/{campaign_id}/exports", json={"format": "html"})
    started.raise_for_status()
    stack.run_exports()
    job = client.get(f"/exports/{started.json()['exportId']}").json()
    if job["state"] != "done":
        return ReportResult(campaign_id, job["state"])
    download = httpx.get(job["url"], verify=stack.https_verify(), timeout=60)
    download.raise_for_status()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{campaign_id}-report.html"
    path.write_bytes(download.content)
    sections = re.findall(r'<section id="\w+"[^>]* data-title="([^"]+)"', download.text)
    return ReportResult(
        campaign_id,
        job["state"],
        path,
        download.headers.get("content-type", ""),
        len(download.content),
        [html.unescape(title) for title in sections],
    )


def run_scenario(
    stack: LocalStack,
    contacts: int = 200,
    cancel: int = 3,
    progress: Callable[[str], None] = lambda _: None,
    settle_timeout: float = 120.0,
) -> ScenarioResult:
    started = time.monotonic()
    client = httpx.Client(base_url=stack.url, timeout=60)
    vendors = list(stack.simulators)
    results = {
        vendor: _start_campaign(client, stack, vendor, contacts, index == 0, progress)
        for index, vendor in enumerate(vendors)
    }

    plan = stack.fire("DailyTaskCreation")
    progress(f"daily schedule fired: {plan['contacts']} contacts planned in {plan['batches']} batches")
    for vendor, result in results.items():
        result.cancelled = [f"{vendor}-{index:05d}" for index in range(cancel)]
        for contact_id in result.cancelled:
            client.post(f"/campaigns/{result.campaign_id}/contacts/{contact_id}/cancel").raise_for_status()
    progress(f"cancelled {cancel} contacts of each campaign before dispatch")
    stack.drain_dispatch_queue()
    progress(f"dispatch queue drained: {stack.pending_at_vendors()} calls and callbacks pending at the vendors")

    deadline = time.monotonic() + settle_timeout
    while stack.pending_at_vendors() and time.monotonic() < deadline:
        stack.drain_stream()  # the campaign views read counters the stream keeps
        finals = []
        for vendor, result in results.items():
            view = client.get(f"/campaigns/{result.campaign_id}").json()
            finals.append(f"{vendor} {view['byState'].get('final', 0)}/{view['totalContacts']}")
        progress(f"  calling... final: {', '.join(finals)}; {stack.pending_at_vendors()} pending at the vendors")
        for simulator in stack.simulators.values():
            simulator.wait_idle(1.0 / len(stack.simulators))
    polled = stack.fire("ResultPolling")
    progress(
        f"poller: {polled['results']} results read, {polled['recovered']} recovered, {polled['closed']} tasks closed"
    )

    time.sleep(stack.feed_delay_seconds + 0.5)  # the feed serves an outcome once it is that old
    stack.drain_stream()
    feed, _ = read_feed(client)
    closing = Counter((outcome["campaignId"], outcome["contactId"]) for outcome in feed)
    progress(f"outcome feed: {len(feed)} closing outcomes read from GET /outcomes")
    for result in results.values():
        _collect(client, stack, result, closing)
    exported = export_campaign(client, stack, results["blu" if "blu" in results else vendors[0]].campaign_id)
    stack.drain_stream()
    events = stack.events()
    progress(f"event bus: {len(events)} events published ({dict(Counter(event['detail-type'] for event in events))})")
    return ScenarioResult(
        vendors=results,
        recovered_by_polling=polled["recovered"],
        seconds=time.monotonic() - started,
        feed_outcomes=len(feed),
        feed_repeats=len(feed) - len(closing),
        export=exported,
        events=events,
    )

"""`make demo`: the whole flow offline, from HTTP campaigns on every vendor to their outcomes side by side."""

from __future__ import annotations

import sys
import time
from collections import Counter
from pathlib import Path

import httpx

from local.file_imports import ImportResult, run_file_imports
from local.scenario import ReportResult, ScenarioResult, VendorResult, report_campaign, run_scenario
from local.split_scenario import run_split, split_report
from local.stack import LocalStack

REPORTS = Path(".reports")  # git ignores it


def _side_by_side(title: str, columns: dict[str, Counter[str]]) -> str:
    keys = sorted(
        {key for counts in columns.values() for key in counts},
        key=lambda key: -sum(counts.get(key, 0) for counts in columns.values()),
    )
    width = max([len(title), *(len(key) for key in keys)]) + 2
    head = f"  {title:<{width}}" + "".join(f"{vendor:>10}" for vendor in columns)
    lines = [head, "  " + "-" * (len(head) - 2)]
    lines += [f"  {key:<{width}}" + "".join(f"{counts.get(key, 0):>10}" for counts in columns.values()) for key in keys]
    return "\n".join(lines)


def _vendor_ok(result: VendorResult) -> bool:
    final = result.contact_states.get("final", 0)
    cancelled = result.contact_states.get("cancelled", 0)
    return final + cancelled == sum(result.contact_states.values()) and result.every_contact_settled_once


def _export_ok(result: ScenarioResult) -> bool:
    exported = result.export
    if exported is None:
        return False
    [vendor] = [outcome for outcome in result.vendors.values() if outcome.campaign_id == exported.campaign_id]
    contacts = sum(vendor.contact_states.values())
    return (
        exported.state == "done"
        and exported.rows == exported.file_rows == contacts
        and set(exported.contact_ids.values()) == {1}
    )


def events_by_campaign(result: ScenarioResult) -> dict[str, dict[str, int]]:
    """Per vendor, the events a subscriber keeps (each once by eventId), and what they must match."""
    closed = result.events_of("Contact Closed")
    recorded = result.events_of("Call Outcome Recorded")
    completed = result.events_of("Campaign Completed")
    figures = {}
    for vendor, outcome in result.vendors.items():
        campaign = outcome.campaign_id
        figures[vendor] = {
            "contacts": sum(outcome.contact_states.values()),
            "contact closed": sum(detail["campaignId"] == campaign for detail in closed),
            "contacts closed": len({detail["contactId"] for detail in closed if detail["campaignId"] == campaign}),
            "closed with an outcome": sum(
                detail["campaignId"] == campaign and detail["outcome"] is not None for detail in closed
            ),
            "final contacts": outcome.contact_states.get("final", 0),
            "calls": outcome.attempts,
            "calls announced": len({detail["vendorCallId"] for detail in recorded if detail["campaignId"] == campaign}),
            "campaign completed": sum(detail["campaignId"] == campaign for detail in completed),
            "counters agree": int(outcome.campaign.get("byState") == dict(outcome.contact_states)),
        }
    return figures


def _events_ok(figures: dict[str, int]) -> bool:
    return (
        figures["contact closed"] == figures["contacts closed"] == figures["contacts"]
        and figures["closed with an outcome"] == figures["final contacts"]
        and figures["calls announced"] == figures["calls"]
        and figures["campaign completed"] == 1
        and figures["counters agree"] == 1
    )


def report(result: ScenarioResult) -> tuple[str, bool]:
    vendors = result.vendors
    lines = [
        "",
        _side_by_side("closing status", {v: r.by_status for v, r in vendors.items()}),
        "",
        _side_by_side("disposition", {v: r.by_disposition for v, r in vendors.items()}),
        "",
    ]
    for vendor, outcome in vendors.items():
        final = outcome.contact_states.get("final", 0)
        cancelled = outcome.contact_states.get("cancelled", 0)
        lines.append(
            f"  {vendor:<9} contacts: {sum(outcome.contact_states.values())} (read in "
            f"{outcome.listing_requests} pages)   final: {final}   cancelled before dialling: {cancelled}   "
            f"calls (redials included): {outcome.attempts}   closing outcomes by source: "
            f"{dict(outcome.by_source)}   each dialled once, one closing outcome in the feed: "
            f"{'yes' if _vendor_ok(outcome) else 'NO'}"
        )
    lines.append(
        f"  recovered by polling: {result.recovered_by_polling}   outcome feed: {result.feed_outcomes} "
        f"closing outcomes, {result.feed_repeats} repeated   wall time: {result.seconds:.1f} s"
    )
    by_type = Counter(event["detail-type"] for event in result.events)
    unique = len({event["detail"]["eventId"] for event in result.events})
    lines += [
        "",
        f"  events on the bus: {len(result.events)} ({unique} distinct eventIds): "
        + ", ".join(f"{detail_type} {count}" for detail_type, count in sorted(by_type.items())),
    ]
    per_campaign = events_by_campaign(result)
    for vendor, figures in per_campaign.items():
        lines.append(
            f"  {vendor:<9} Contact Closed: {figures['contact closed']} for {figures['contacts']} contacts "
            f"({figures['closed with an outcome']} with their closing call)   calls announced: "
            f"{figures['calls announced']} of {figures['calls']}   Campaign Completed: {figures['campaign completed']}"
            f"   counters = listing: {'yes' if figures['counters agree'] else 'NO'}"
        )
    if (exported := result.export) is not None:
        lines += [
            "",
            f"  export of {exported.campaign_id}: {exported.state}, {exported.rows} rows, "
            f"{exported.size:,} bytes; downloaded with a plain GET, first lines:",
        ]
        lines += [f"    {line[:150]}{'...' if len(line) > 150 else ''}" for line in exported.first_lines]
    ok = (
        all(_vendor_ok(outcome) for outcome in vendors.values())
        and result.recovered_by_polling > 0
        and result.feed_repeats == 0
        and _export_ok(result)
        and all(_events_ok(figures) for figures in per_campaign.values())
    )
    return "\n".join(lines), ok


def imports_report(results: list[ImportResult]) -> tuple[str, bool]:
    lines = [""]
    for result in results:
        view = result.view
        lines.append(
            f"  import of {result.name}: {view.get('state')}, {view.get('rowsRead')} rows read: "
            f"{view.get('accepted')} accepted, {view.get('rejected')} rejected, {view.get('duplicates')} duplicates "
            f"(every row accounted for: {'yes' if result.ok else 'NO'})"
        )
        chosen = view.get("chosenColumns") or {}
        lines.append(
            f"    columns chosen: contactId <- {chosen.get('contactId')!r}, phone <- {chosen.get('phone')!r}, "
            f"name <- {chosen.get('name')!r}, variables {sorted((chosen.get('variables') or {}).values())}"
        )
        lines += [f"    {line}" for line in result.rejection_lines[:4]]
    return "\n".join(lines), all(result.ok for result in results)


def campaign_report_lines(report: ReportResult) -> tuple[str, bool]:
    if report.state != "done" or report.path is None or not report.content_type.startswith("text/html"):
        return f"  report of {report.campaign_id}: {report.state} (FAILED)", False
    return (
        f"  report of {report.campaign_id} ({report.size:,} bytes, one file, opens offline in any browser): "
        f"{', '.join(report.sections)}\n  campaign report written to {report.path.resolve()}",
        True,
    )


def main() -> int:
    started = time.monotonic()
    print(
        "dialhub demo: starting moto (DynamoDB and its stream, SQS, S3, EventBridge, Secrets Manager), the vendor "
        "simulators and the gateway"
    )
    with LocalStack() as stack:
        print(f"dialhub API: {stack.url}   vendors: {', '.join(stack.simulators)}")
        result = run_scenario(stack, progress=print)
        imported = run_file_imports(stack, next(iter(stack.simulators)), progress=print)
        split = run_split(stack, progress=print)
        client = httpx.Client(base_url=stack.url, timeout=60)
        campaign_report = report_campaign(client, stack, split.comparison["campaignId"], REPORTS)
    text, ok = report(result)
    print(text)
    imports_text, imports_ok = imports_report(imported)
    print(imports_text)
    split_text, split_ok = split_report(split)
    print(split_text)
    report_text, report_ok = campaign_report_lines(campaign_report)
    print(report_text)
    ok = ok and imports_ok and split_ok and report_ok
    print(f"demo {'passed' if ok else 'FAILED'} in {time.monotonic() - started:.1f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""`make demo`: the whole flow offline, from HTTP campaigns on every vendor to their outcomes side by side."""

from __future__ import annotations

import sys
import time
from collections import Counter

from local.scenario import ScenarioResult, VendorResult, run_scenario
from local.stack import LocalStack


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
    )
    return "\n".join(lines), ok


def main() -> int:
    started = time.monotonic()
    print("dialhub demo: starting moto (DynamoDB, SQS, S3, Secrets Manager), the vendor simulators and the gateway")
    with LocalStack() as stack:
        print(f"dialhub API: {stack.url}   vendors: {', '.join(stack.simulators)}")
        result = run_scenario(stack, progress=print)
    text, ok = report(result)
    print(text)
    print(f"demo {'passed' if ok else 'FAILED'} in {time.monotonic() - started:.1f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""The API's answers as tables and lines for people (the --json output is the answers themselves)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

RATE_NAMES = {
    "connected": "connected",
    "rightParty": "right party",
    "promiseToPay": "promise to pay",
    "optedOut": "opted out",
    "complained": "complained",
}


def _counts(title: str, counts: dict[str, int], unit: str = "contacts") -> Table:
    table = Table(box=box.SIMPLE_HEAD, title=None, pad_edge=False)
    table.add_column(title)
    table.add_column(unit, justify="right")
    for name, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        table.add_row(name, f"{count:,}")
    return table


def campaign_line(view: dict[str, Any]) -> Text:
    vendors = view.get("vendors") or []
    split = " / ".join(f"{share['vendor']} {share['share']}%" for share in vendors if share.get("share"))
    fallback = [share["vendor"] for share in vendors if not share.get("share")]
    parts = [
        split or view.get("vendor", "?"),
        f"fallback {', '.join(fallback)}" if fallback else "",
        f"status {view.get('status')}",
        f"state {view.get('state')}",
        f"dial date {view.get('dialDate')} ({view.get('timezone')})",
        f"policy {view['policy']}" if view.get("policy") else "",
    ]
    line = Text()
    line.append(f"{view.get('name')} ", style="bold")
    line.append(f"({view.get('campaignId')})\n")
    line.append(" · ".join(part for part in parts if part))
    line.append(f"\n{view.get('totalContacts', 0):,} contacts")
    if view.get("countedAt"):
        line.append(f", counted {view['countedAt']}", style="dim")
    return line


def campaign_view(view: dict[str, Any]) -> RenderableType:
    parts: list[RenderableType] = [campaign_line(view)]
    if view.get("byState"):
        parts.append(_counts("dial state", view["byState"]))
    if view.get("byDisposition"):
        parts.append(_counts("closing disposition", view["byDisposition"]))
    if view.get("heldBack"):
        parts.append(_counts("held back (queued)", view["heldBack"]))
    for vendor, dispositions in sorted((view.get("byVendor") or {}).items()):
        parts.append(_counts(f"{vendor}: disposition", dispositions))
    if view.get("failedOver"):
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
        for column in ("failed over from", "to", "why"):
            table.add_column(column)
        table.add_column("contacts", justify="right")
        for moved in view["failedOver"]:
            table.add_row(moved["fromVendor"], moved["toVendor"], moved["cause"], f"{moved['contacts']:,}")
        parts.append(table)
    if view.get("swept"):
        parts.append(_counts("swept (dispatch never finished)", view["swept"]))
    return Group(*parts)


def campaign_list(items: list[dict[str, Any]]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for column in ("campaign", "name", "vendor", "status", "dial date", "contacts", "created"):
        table.add_column(column, justify="right" if column == "contacts" else "left")
    for item in items:
        table.add_row(
            item["campaignId"],
            item.get("name", ""),
            item.get("vendor", ""),
            item.get("status", ""),
            str(item.get("dialDate", "")),
            f"{(item.get('totals') or {}).get('contacts', 0):,}",
            str(item.get("createdAt", ""))[:19].replace("T", " "),
        )
    return table


def import_summary(view: dict[str, Any]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, title=f"import {view.get('importId')}: {view.get('state')}")
    table.add_column("rows read", justify="right")
    table.add_column("accepted", justify="right")
    table.add_column("rejected", justify="right")
    table.add_column("duplicates", justify="right")
    table.add_row(*(f"{view.get(name, 0):,}" for name in ("rowsRead", "accepted", "rejected", "duplicates")))
    return table


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _rate(rate: dict[str, Any]) -> str:
    if rate.get("rate") is None:
        return "-"
    interval = f"[{_percent(rate.get('low'))}, {_percent(rate.get('high'))}]"
    return f"{_percent(rate['rate'])} {interval} {rate['count']}/{rate['of']}"


def _number(value: Any, digits: int = 1) -> str:
    if value is None:
        return "-"
    return f"{float(value):,.{digits}f}"


def comparison(view: dict[str, Any]) -> RenderableType:
    vendors = view.get("vendors") or []
    names = [
        f"{vendor['vendor']} ({vendor['share']}%)" + (" champion" if vendor.get("champion") else "")
        for vendor in vendors
    ]
    rates = Table(box=box.SIMPLE_HEAD, pad_edge=False, title="rates per contact sent, 95% interval")
    rates.add_column("")
    for name in names:
        rates.add_column(name)
    for key, label in RATE_NAMES.items():
        rates.add_row(label, *(_rate(vendor["rates"].get(key, {})) for vendor in vendors))
        verdicts = []
        for vendor in vendors:
            test = (vendor.get("againstChampion") or {}).get(key)
            if test is None:
                verdicts.append("")
            else:
                p = test.get("pValue")
                verdicts.append(test["verdict"] + (f" (p={p:.3f})" if p is not None else ""))
        if any(verdicts):
            rates.add_row("", *verdicts, style="dim")
    figures = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    figures.add_column("")
    for name in names:
        figures.add_column(name, justify="right")
    rows: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
        ("contacts assigned", lambda v: f"{v['assigned']:,}"),
        ("sent", lambda v: f"{v['sent']:,}"),
        ("closing calls", lambda v: f"{v['calls']:,}"),
        ("attempts per contact", lambda v: _number(v.get("attemptsPerContact"), 2)),
        ("mean talk (s)", lambda v: _number(v.get("meanTalkSeconds"))),
        ("mean report delay (s)", lambda v: _number(v.get("meanReportDelaySeconds"))),
        ("found by polling", lambda v: _percent(v.get("polledShare"))),
        ("promised amount", lambda v: _number(v.get("promisedAmount"), 2)),
        ("cost", lambda v: _money(v, "cost")),
        ("cost per contact", lambda v: _money(v, "costPerContact")),
        ("cost per promise", lambda v: _money(v, "costPerPromise")),
    ]
    for label, cell in rows:
        figures.add_row(label, *(cell(vendor) for vendor in vendors))
    parts: list[RenderableType] = [
        Text(f"campaign {view.get('campaignId')}, counted {view.get('countedAt')}"),
        rates,
        figures,
    ]
    parts.extend(Text(f"note: {note}", style="yellow") for note in view.get("notes") or [])
    return Group(*parts)


def _money(vendor: dict[str, Any], key: str) -> str:
    value = vendor.get(key)
    if value is None:
        return "-"
    return f"{float(value):,.2f} {vendor.get('currency') or ''}".strip()


def outcome_line(outcome: dict[str, Any]) -> str:
    recorded = str(outcome.get("recordedAt", ""))[:19].replace("T", " ")
    duration = outcome.get("durationSeconds")
    return "  ".join(
        [
            recorded,
            str(outcome.get("campaignId") or "-"),
            str(outcome.get("contactId") or "-"),
            str(outcome.get("vendor")),
            str(outcome.get("disposition")),
            str(outcome.get("status")),
            f"{duration}s" if duration is not None else "-",
        ]
    )


def suppression(view: dict[str, Any], verb: str) -> str:
    until = f" until {view['until']}" if view.get("until") else " for good"
    return f"{view.get('phone')} {verb}: {view.get('reason')}{until} (source {view.get('source')})"

"""A campaign report as one HTML page: plotly charts, each with a table of the numbers it draws beside it.

The page needs nothing but itself: plotly.js is inlined once (with the first chart), styles are inline, fonts
are the viewer's own, and its Content-Security-Policy allows no source at all, so a browser fetches nothing
when it opens the page (and refuses to, should anything try). Colours differ in lightness and bars of several
series side by side also differ in pattern, so the page reads the same printed in grey.

Every text taken from the data (the campaign's name, vendors, reasons) is escaped; the report holds figures
only, never a contact, a number or a variable. plotly is imported here only, lazily: only the exports
function, on an html export, loads it.
"""

from __future__ import annotations

import datetime as dt
import html
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dialhub.report import ReportFigures

TITLE_FUNNEL = "Funnel: contacts to promises to pay"
TITLE_DISPOSITIONS = "Closing dispositions"
TITLE_HOURS = "Connect rate by the recipient's local hour"
TITLE_CALLS = "Calls per contact"
TITLE_HELD = "Contacts held back, by reason"
TITLE_COMPARISON = "Vendor rates with 95% intervals"

# Dark, middle and light: apart in grey too. With them, patterns for bars of several series side by side.
COLOURS = ("#1f3b57", "#6f9fc8", "#d3e2ef")
PATTERNS = ("", "/", "x")
OUTLINE = "#1f3b57"
FONT = "Helvetica, Arial, sans-serif"
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}
CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data: blob:"
RATE_LABELS = {
    "connected": "connected",
    "rightParty": "right party",
    "promiseToPay": "promise to pay",
    "optedOut": "opted out",
    "complained": "complained",
}
HOLD_LABELS = {
    "suppressed": "suppressed (do not call)",
    "outside_window": "outside the calling window",
    "capped": "frequency cap reached",
    "no_common_window": "no window shared by the number's zones",
    "no_time_zone": "no time zone for the number",
    "vendor_capacity": "vendor's daily cap reached",
}
# A chart's column is set by the grid, not by what follows it: plotly sizes a chart once, when it is drawn,
# before the table beside it is read. Wide enough for a landscape A4 page when printed.
STYLE = """
body { font-family: Helvetica, Arial, sans-serif; color: #111; margin: 24px auto; max-width: 1000px; padding: 0 16px; }
h1 { font-size: 24px; margin-bottom: 4px; }
h2 { font-size: 18px; margin: 0 0 8px; }
.meta { color: #333; margin: 0 0 4px; }
.stamp { color: #333; font-size: 13px; margin-bottom: 24px; }
section { border-top: 1px solid #999; padding: 16px 0; display: grid; gap: 16px; align-items: start;
  grid-template-columns: minmax(0, 2fr) minmax(260px, 1fr); break-inside: avoid; page-break-inside: avoid; }
section.stacked { grid-template-columns: minmax(0, 1fr); }
.chart { min-width: 0; overflow: hidden; }
table { border-collapse: collapse; font-size: 13px; }
th, td { border: 1px solid #999; padding: 3px 8px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
thead th { background: #e8e8e8; }
.note { font-size: 13px; color: #333; }
@page { size: A4 landscape; margin: 12mm; }
@media print { body { margin: 0 auto; padding: 0; } section { border-top: 1px solid #000; } }
"""


@dataclass
class _Section:
    key: str
    title: str
    figure: Any  # a plotly Figure, or None when there is nothing to draw
    table: str
    notes: Sequence[str] = ()
    empty: str = ""  # said instead of the chart when there is nothing to draw


def _text(value: object) -> str:
    """Text from the data, safe in HTML and in plotly's labels (which read a few tags and entities)."""
    return html.escape(str(value), quote=True)


def _readable(value: str) -> str:
    return value.replace("_", " ")


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def _when(moment: dt.datetime | None) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else "no data yet"


def _table(head: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    if not rows:
        return ""
    header = "".join(f"<th>{_text(cell)}</th>" for cell in head)
    body = "".join("<tr>" + "".join(f"<td>{_text(cell)}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>"


def _layout(title: str, height: int = 380, **more: Any) -> dict[str, Any]:
    return {
        "title": {"text": title},  # the titles are this module's own
        "template": "simple_white",
        "font": {"family": FONT, "size": 13, "color": "#111"},
        "height": height,
        "margin": {"l": 60, "r": 20, "t": 60, "b": 50},
        "legend": {"orientation": "h", "x": 1, "xanchor": "right", "y": 1.02, "yanchor": "bottom"},
        **more,
    }


def _count_axis(title: str, most: int) -> dict[str, Any]:
    """An axis of whole contacts: no ticks between them when there are few."""
    return {"title": {"text": title}, "rangemode": "tozero", "tickformat": ",d", **({"dtick": 1} if most <= 10 else {})}


def _series_marker(index: int) -> dict[str, Any]:
    """The look of the index-th series: apart from the others in lightness and in pattern."""
    return {
        "color": COLOURS[index % len(COLOURS)],
        "line": {"color": OUTLINE, "width": 1},
        "pattern": {"shape": PATTERNS[index % len(PATTERNS)], "fgcolor": OUTLINE, "solidity": 0.25},
    }


def _funnel(figures: ReportFigures, go: Any) -> _Section:
    steps = figures.funnel.steps()
    figure = go.Figure(
        go.Funnel(
            y=[_text(step) for step, _ in steps],
            x=[count for _, count in steps],
            textinfo="value+percent initial",
            marker={"color": COLOURS[0], "line": {"color": OUTLINE, "width": 1}},
            connector={"fillcolor": "#d9d9d9"},
        ),
        layout=_layout(TITLE_FUNNEL, margin={"l": 120, "r": 20, "t": 60, "b": 30}),
    )
    head = ["step", "contacts", "of contacts"]
    vendors = list(figures.funnel_by_vendor) if len(figures.funnel_by_vendor) > 1 else []
    head += vendors
    by_vendor = [figures.funnel_by_vendor[vendor].steps() for vendor in vendors]
    rows = [
        [step, count, _percent(count, figures.funnel.contacts), *(steps_of[index][1] for steps_of in by_vendor)]
        for index, (step, count) in enumerate(steps)
    ]
    notes = ["Each contact counts once, by the call that closed it (as the campaign's counters do)."]
    return _Section("funnel", TITLE_FUNNEL, figure, _table(head, rows), notes)


def _dispositions(figures: ReportFigures, go: Any) -> _Section:
    vendors = sorted(figures.dispositions, key=[vendor for vendor, _ in figures.vendors].index)
    totals: Counter[str] = Counter()
    for counts in figures.dispositions.values():
        totals.update(counts)
    order = [disposition for disposition, _ in totals.most_common()]
    title = TITLE_DISPOSITIONS + (" by vendor" if len(vendors) > 1 else "")
    figure = None
    if order:
        figure = go.Figure(
            [
                go.Bar(
                    name=_text(vendor),
                    y=[_text(_readable(disposition)) for disposition in reversed(order)],
                    x=[figures.dispositions[vendor].get(disposition, 0) for disposition in reversed(order)],
                    orientation="h",
                    marker=_series_marker(index),
                    text=[figures.dispositions[vendor].get(disposition, 0) for disposition in reversed(order)],
                    textposition="outside",
                    constraintext="none",
                )
                for index, vendor in enumerate(vendors)
            ],
            layout=_layout(
                title,
                height=max(320, 90 + 26 * len(order) * max(1, len(vendors))),
                barmode="group",
                margin={"l": 170, "r": 40, "t": 60, "b": 50},
                xaxis=_count_axis("contacts", max(totals.values())),
                showlegend=len(vendors) > 1,
            ),
        )
    split = vendors if len(vendors) > 1 else []
    rows = [
        [
            _readable(disposition),
            totals[disposition],
            *(figures.dispositions[vendor].get(disposition, 0) for vendor in split),
        ]
        for disposition in order
    ]
    head = ["disposition", "contacts", *split]
    return _Section("dispositions", title, figure, _table(head, rows), empty="No contact has closed yet.")


def _hours(figures: ReportFigures, go: Any) -> _Section:
    hours = figures.hours
    labels = [f"{hour:02d}:00" for hour in range(24)]
    figure = None
    if any(count.calls for count in hours):
        rates = [None if count.rate is None else round(100 * count.rate, 1) for count in hours]
        figure = go.Figure(
            go.Bar(
                x=labels,
                y=rates,
                marker={"color": COLOURS[0], "line": {"color": OUTLINE, "width": 1}},
                text=[f"{count.answered}/{count.calls}" if count.calls else "" for count in hours],
                textposition="outside",
                constraintext="none",
                name="connect rate",
            ),
            layout=_layout(
                TITLE_HOURS,
                yaxis={"title": {"text": "calls answered (%)"}, "range": [0, 110]},
                xaxis={"title": {"text": "the recipient's local hour (call start)"}, "tickangle": -45},
            ),
        )
    rows = [
        [label, count.calls, count.answered, _percent(count.answered, count.calls)]
        for label, count in zip(labels, hours, strict=True)
        if count.calls
    ]
    notes = ["Every finished call, the vendors' and the policy's redials included, at its start time."]
    notes += [f"{count} calls left out: {why}." for why, count in sorted(figures.calls_without_hour.items())]
    return _Section(
        "hours",
        TITLE_HOURS,
        figure,
        _table(["hour", "calls", "answered", "connect rate"], rows),
        notes,
        empty="No call has finished yet.",
    )


def _calls(figures: ReportFigures, go: Any) -> _Section:
    vendors = sorted(figures.calls_per_contact, key=[vendor for vendor, _ in figures.vendors].index)
    most = max((calls for counts in figures.calls_per_contact.values() for calls in counts), default=0)
    steps = list(range(1, most + 1))
    figure = None
    if steps:
        figure = go.Figure(
            [
                go.Bar(
                    name=_text(vendor),
                    x=[str(calls) for calls in steps],
                    y=[figures.calls_per_contact[vendor].get(calls, 0) for calls in steps],
                    marker=_series_marker(index),
                    text=[figures.calls_per_contact[vendor].get(calls, 0) for calls in steps],
                    textposition="outside",
                    constraintext="none",
                )
                for index, vendor in enumerate(vendors)
            ],
            layout=_layout(
                TITLE_CALLS,
                barmode="group",
                xaxis={"title": {"text": "calls made to the contact"}, "type": "category"},
                yaxis=_count_axis(
                    "contacts", max(max(counts.values()) for counts in figures.calls_per_contact.values())
                ),
                showlegend=len(vendors) > 1,
            ),
        )
    rows = [[calls, *(figures.calls_per_contact[vendor].get(calls, 0) for vendor in vendors)] for calls in steps]
    notes = ["Contacts called at least once; every finished call counts, the vendors' own redials included."]
    return _Section(
        "calls",
        TITLE_CALLS,
        figure,
        _table(["calls", *vendors], rows),
        notes,
        empty="No contact has been called yet.",
    )


def _held(figures: ReportFigures, go: Any) -> _Section:
    order = [reason for reason, _ in figures.held.most_common()]
    labels = [HOLD_LABELS.get(reason, _readable(reason)) for reason in order]
    figure = None
    if order:
        figure = go.Figure(
            go.Bar(
                y=[_text(label) for label in reversed(labels)],
                x=[figures.held[reason] for reason in reversed(order)],
                orientation="h",
                marker={"color": COLOURS[1], "line": {"color": OUTLINE, "width": 1}},
                text=[figures.held[reason] for reason in reversed(order)],
                textposition="outside",
                constraintext="none",
            ),
            layout=_layout(
                TITLE_HELD,
                height=max(260, 120 + 34 * len(order)),
                margin={"l": 260, "r": 40, "t": 60, "b": 50},
                xaxis=_count_axis("queued contacts", max(figures.held.values())),
            ),
        )
    rows = [[label, figures.held[reason]] for label, reason in zip(labels, order, strict=True)]
    notes = ["Queued contacts the compliance gate or a vendor's cap holds back now; policy redials are not counted."]
    return _Section(
        "held",
        TITLE_HELD,
        figure,
        _table(["reason", "contacts"], rows),
        notes,
        empty="No contact is held back.",
    )


def _rate_cell(rate: Any) -> str:
    if rate.rate is None:
        return "-"
    return f"{100 * rate.rate:.1f}% [{100 * rate.low:.1f}-{100 * rate.high:.1f}]"


def _number(value: Any, digits: int = 1) -> str:
    return "-" if value is None else f"{float(value):.{digits}f}"


def _comparison(figures: ReportFigures, go: Any) -> _Section:
    comparison = figures.comparison
    assert comparison is not None
    vendors = comparison.vendors
    traces = []
    for index, vendor in enumerate(vendors):
        rates = [vendor.rates[key] for key in RATE_LABELS]
        traces.append(
            go.Bar(
                name=_text(vendor.vendor + (" (champion)" if vendor.champion else "")),
                x=list(RATE_LABELS.values()),
                y=[None if rate.rate is None else 100 * rate.rate for rate in rates],
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": [0 if rate.rate is None else 100 * ((rate.high or 0) - rate.rate) for rate in rates],
                    "arrayminus": [0 if rate.rate is None else 100 * (rate.rate - (rate.low or 0)) for rate in rates],
                    "color": "#000",
                    "thickness": 1.2,
                },
                marker=_series_marker(index),
            )
        )
    figure = go.Figure(
        traces,
        layout=_layout(TITLE_COMPARISON, barmode="group", yaxis={"title": {"text": "of contacts sent (%)"}}),
    )
    head = ["", *(vendor.vendor + (" (champion)" if vendor.champion else "") for vendor in vendors)]
    rows: list[list[object]] = [
        ["share / assigned / sent", *(f"{v.share}% / {v.assigned} / {v.sent}" for v in vendors)],
    ]
    for key, label in RATE_LABELS.items():
        rows.append([label, *(_rate_cell(v.rates[key]) for v in vendors)])
        rows.append(
            [
                f"{label}: against the champion",
                *(
                    "-"
                    if v.against_champion is None
                    else v.against_champion[key].verdict
                    + (
                        f" (p={v.against_champion[key].p_value:.3f})"
                        if v.against_champion[key].p_value is not None
                        else ""
                    )
                    for v in vendors
                ),
            ]
        )
    rows += [
        ["closing calls", *(v.calls for v in vendors)],
        ["attempts per contact", *(_number(v.attempts_per_contact, 2) for v in vendors)],
        ["mean talk (s)", *(_number(v.mean_talk_seconds) for v in vendors)],
        ["callback delay (s)", *(_number(v.mean_report_delay_seconds) for v in vendors)],
        ["found by polling", *("-" if v.polled_share is None else f"{100 * v.polled_share:.1f}%" for v in vendors)],
    ]
    notes = [
        "Rates per contact sent, by the call that closed it; [low-high] is the 95% Wilson interval; each "
        "challenger is tested against the champion (two-proportion z-test).",
        *comparison.notes,
    ]
    return _Section("comparison", TITLE_COMPARISON, figure, _table(head, rows), notes)


def report_sections(figures: ReportFigures) -> list[_Section]:
    import plotly.graph_objects as go  # here: only an html export pays for plotly

    sections = [
        _funnel(figures, go),
        _dispositions(figures, go),
        _hours(figures, go),
        _calls(figures, go),
        _held(figures, go),
    ]
    if figures.comparison is not None:
        sections.append(_comparison(figures, go))
    return sections


def _chart_html(section: _Section, with_plotly_js: bool) -> str:
    import plotly.io as pio

    return str(
        pio.to_html(
            section.figure,
            config=PLOTLY_CONFIG,
            include_plotlyjs=with_plotly_js,
            include_mathjax=False,
            full_html=False,
            div_id=f"chart-{section.key}",
            default_height=f"{section.figure.layout.height}px",
        )
    )


def _header(figures: ReportFigures) -> str:
    vendors = ", ".join(f"{vendor} {share}%" if share else f"{vendor} (fallback)" for vendor, share in figures.vendors)
    facts = [
        f"Campaign {figures.campaign_id}",
        f"dial date {figures.dial_date.isoformat()} ({figures.timezone})",
        f"vendors: {vendors}",
        f"policy: {figures.policy or 'none'}",
    ]
    return (
        f"<h1>Campaign report: {_text(figures.name)}</h1>"
        f'<p class="meta">{_text(" · ".join(facts))}</p>'
        f'<p class="stamp" id="stamp">Generated at {_when(figures.generated_at)}; '
        f"data as of {_when(figures.data_as_of)} (the latest change among the contacts and calls read).</p>"
    )


def render_report(figures: ReportFigures) -> str:
    """The whole page, as text."""
    parts = []
    plotly_js_included = False
    for section in report_sections(figures):
        notes = "".join(f'<p class="note">{_text(note)}</p>' for note in section.notes)
        if section.figure is None:
            chart = (
                f'<div class="chart"><h2>{_text(section.title)}</h2><p class="note">{_text(section.empty)}</p></div>'
            )
        else:
            chart = f'<div class="chart">{_chart_html(section, not plotly_js_included)}</div>'
            plotly_js_included = True
        layout = ' class="stacked"' if section.key == "comparison" else ""
        parts.append(
            f'<section id="{section.key}"{layout} data-title="{_text(section.title)}">{chart}'
            f'<div class="numbers">{section.table}{notes}</div></section>'
        )
    title = f"Campaign report: {figures.name} ({figures.campaign_id})"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="referrer" content="no-referrer">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_text(title)}</title><style>{STYLE}</style></head>"
        f"<body>{_header(figures)}{''.join(parts)}</body></html>\n"
    )

"""The campaign report as a person opens it: Debian's Chromium, headless, loads the exported file from disk, and
every chart is drawn with its title and marks, nothing logs an error, and nothing is fetched but the file.

Chromium is the system's (`make pytest` installs the Debian package where it is missing and apt-get can);
playwright only drives it and never downloads a browser. Without /usr/bin/chromium the test skips, saying so.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dialhub.wiring import Dependencies
from local.template import SamTemplate
from tests.integration.test_campaign_report import (
    CAMPAIGN,
    ONE_VENDOR_TITLES,
    SPLIT_CAMPAIGN,
    SPLIT_TITLES,
    export_report,
    report_campaign,
    split_report_campaign,
)

CHROMIUM = Path("/usr/bin/chromium")
# Headless, and nothing of its own on the network: no update checks, sync, or QUIC probes.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium package (make pytest does, where apt-get can)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(PNG_SIGNATURE) and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


# Per chart: its title as drawn in the SVG, and how many marks (bars, funnel steps) have an area.
CHARTS = """() => [...document.querySelectorAll('.js-plotly-plot')].map(chart => ({
  id: chart.id,
  title: (chart.querySelector('.gtitle') || {}).textContent || null,
  marks: [...chart.querySelectorAll('.trace .point path')].filter(path => {
    const box = path.getBBox();
    return box.width * box.height > 0;
  }).length,
}))"""


@pytest.mark.parametrize("split", [False, True], ids=["one vendor", "split across three"])
def test_chromium_draws_every_chart_of_the_report_with_no_error_and_no_request(
    chromium: Any, export_deps: Dependencies, template: SamTemplate, tmp_path: Path, split: bool
) -> None:
    if split:
        split_report_campaign(export_deps)
    else:
        report_campaign(export_deps)
    done, body = export_report(export_deps, template, SPLIT_CAMPAIGN if split else CAMPAIGN)
    assert done["state"] == "done"
    report = tmp_path / "report.html"
    report.write_bytes(body)
    address = report.as_uri()

    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    # Anything but the file itself is recorded above and stopped here: the test never reaches a network.
    page.route("**/*", lambda route: route.continue_() if route.request.url == address else route.abort())
    try:
        page.goto(address, wait_until="load")
        titles = SPLIT_TITLES if split else ONE_VENDOR_TITLES
        page.wait_for_function(
            f"() => document.querySelectorAll('.js-plotly-plot .main-svg').length >= {len(titles)}", timeout=30_000
        )
        charts = page.evaluate(CHARTS)
        screenshot = page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    finally:
        page.close()

    assert requests == [address]
    assert errors == []
    assert [chart["title"] for chart in charts] == titles
    assert all(chart["marks"] > 0 for chart in charts), charts
    width, height = _png_size(screenshot)
    assert width == 1280 and height > 900 * 2  # the whole page: every section, not one screen
    assert len(screenshot) > 100_000  # charts and tables, not a blank page
    assert (tmp_path / "report.png").read_bytes() == screenshot

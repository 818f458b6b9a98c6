"""Nothing cut off at 1440 px (issue 9, section 3): on the demo in Chromium at 1440×900, the tables of these
pages fit their column, with no sideways scroll; long text wraps inside its cell instead."""

from __future__ import annotations

import pytest
from playwright.sync_api import sync_playwright

from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, served_app, snapshot_env, wait_for_app

pytestmark = pytest.mark.browser

# Each table's grid, or static table (`ui.static_table`): how wide its content is against how wide it shows.
TABLES = "[data-testid='stDataFrame'] .dvn-scroller, [data-testid='stTable']"
WIDTHS = f"""() => [...document.querySelectorAll("{TABLES}")].map(grid => (
  {{content: grid.scrollWidth, shown: grid.clientWidth}}
))"""  # tables in a closed tab have no grid drawn
PAGES = [
    "",
    "Weekly_review",
    "Scorecard",
    "Alerts",
    "Readiness",
    "Readiness?tenant=elm-street",
    "Tax",
    "Security",
    "Traces",
    "Access_log",
    "Coverage",
]


@pytest.fixture(scope="module")
def page():
    with served_app(snapshot_env()) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        tab = browser.new_page(viewport={"width": 1440, "height": 900})
        tab.base = base
        yield tab
        browser.close()


@pytest.mark.parametrize("address", PAGES)
def test_tables_fit_at_1440_px(page, address):
    page.goto(f"{page.base}/{address}")
    wait_for_app(page)
    # The grids draw after the script has finished (on a busy machine, well after): wait for one, then let
    # them measure their columns.
    page.wait_for_selector(TABLES, timeout=30_000)
    page.wait_for_timeout(500)
    tables = page.evaluate(WIDTHS)
    assert tables, "no table drawn"
    cut = [t for t in tables if t["content"] > t["shown"] + 1]
    assert not cut, f"tables wider than their place: {cut}"

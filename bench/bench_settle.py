"""Time to settle in the browser, every page of the demo (the shipped snapshot), at 1440×900 in Chromium.

A fresh `streamlit run` serves the demo; each page is opened twice in a tab that has loaded Streamlit's
scripts before (first view: the server computes it; repeat: a new session, the answers cached) and timed
by the browser's clock from navigation until Streamlit reports the script finished and no skeleton is left.
The overview is also timed until its domain tiles are drawn, by the browser's clock from the start of the
navigation, in a new browser and in new tabs of it (a returning visitor: Streamlit's scripts cached; the
median of several).
Prints one line per page and the medians; the targets (issue 9): median under 2 s, overview tiles within
1.5 s.
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from app import links  # noqa: E402
from bench.page_timing import WarmTab  # noqa: E402
from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, served_app, snapshot_env  # noqa: E402

TILE = "[data-testid='stMain'] [data-testid='stPageLink']"  # an overview domain tile's link
APP_READY = "[data-testid='stApp']"
FIRST_VISITS = 5  # new browsers (contexts with an empty cache): one is at the mercy of the machine's load
RETURNING_VISITS = 4  # new tabs of each


# The browser's own clock: milliseconds from the start of the navigation to the first tile in the DOM, as a
# user sees it (the figure of a web page's paint timings), without Playwright's round trips.
TILE_CLOCK = f"""new MutationObserver((_, observer) => {{
  if (document.querySelector("{TILE}")) {{ window.__tileMs = performance.now(); observer.disconnect(); }}
}}).observe(document, {{subtree: true, childList: true}});"""


def tiles_drawn(context, address: str) -> float:
    """Seconds until the overview's tiles are drawn in a new tab, closed afterwards (an open tab would go on
    taking the machine's time from the next one)."""
    page = context.new_page()
    page.goto(address)
    page.wait_for_selector(TILE, timeout=60_000)
    seconds = page.evaluate("window.__tileMs") / 1000
    page.close()
    return seconds


def main() -> None:
    with served_app(snapshot_env()) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        first: dict[str, float] = {}
        repeat: dict[str, float] = {}
        # One tab that has loaded Streamlit's scripts once (before, the first page of each run paid for
        # them in a new context: the overview's 3 s); each page opened in it is a new session.
        tab = WarmTab(browser, f"{base}/Data_sources", APP_READY)
        for run in (first, repeat):
            for key, registered in links.PAGES.items():
                run[key] = tab.settle(f"{base}/{registered.slug}", APP_READY)[0]
        tab.close()
        # A first visit (a new browser: Streamlit's scripts downloaded and compiled), then returning ones
        # (new tabs of that browser: a new session, the scripts cached); the answers are cached for both.
        first_visits, returning = [], []
        for _ in range(FIRST_VISITS):
            context = browser.new_context(viewport={"width": 1440, "height": 900})  # its cache empty
            context.add_init_script(TILE_CLOCK)
            first_visits.append(tiles_drawn(context, f"{base}/"))
            returning += [tiles_drawn(context, f"{base}/") for _ in range(RETURNING_VISITS)]
            context.close()
        browser.close()
    print(f"{'page':16} {'first view':>10} {'repeat':>8}   seconds to settle, demo, 1440x900")
    for key in links.PAGES:
        print(f"{key:16} {first[key]:>10.2f} {repeat[key]:>8.2f}")
    medians = statistics.median(first.values()), statistics.median(repeat.values())
    print(f"{'median':16} {medians[0]:>10.2f} {medians[1]:>8.2f}")
    print("overview tiles drawn, cached answers (target 1.5 s), medians:")
    print(f"  {spread('in a new browser', first_visits)}")
    print(f"  {spread('in a new tab of it', returning)}")


def spread(what: str, seconds: list[float]) -> str:
    return (
        f"{what}: {statistics.median(seconds):.2f} s ({len(seconds)} visits, from {min(seconds):.2f} to"
        f" {max(seconds):.2f} s)"
    )


if __name__ == "__main__":
    main()

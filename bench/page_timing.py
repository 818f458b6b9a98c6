"""A page's cost, as the benchmarks of issue 14 measure it: its render on the server (AppTest, empty result
cache) with its backend requests, and its time to settle in Chromium (a warm browser, a new session) with
the bytes the browser received."""

from __future__ import annotations

import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

from app.sources.cache import default_cache
from bench.bench_pages import RequestTimer
from tests.browser_support import wait_for_app

ROOT = Path(__file__).resolve().parents[1]


def render(page: str, params: dict[str, str], timer: RequestTimer) -> tuple[float, list[float], int]:
    """Seconds for the server to run `page` once with an empty result cache, the seconds of each of its
    backend requests, and the error banners it drew (a backend not answering in time: its panels are then
    empty, and cheap)."""
    default_cache.clear()
    timer.take()
    started = time.perf_counter()
    at = AppTest.from_file(str(ROOT / page), default_timeout=300)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    elapsed = time.perf_counter() - started
    if at.exception:
        raise SystemExit(f"{page}: {at.exception[0].value}")
    return elapsed, timer.take(), len(at.error)


class WarmTab:
    """A browser tab (1440×900) that has opened Sextant before: Streamlit's scripts are in its cache and its
    renderer is running, as in the browser of anyone who uses the app (the targets of issue 14 are warm;
    a new tab costs this 2-core machine about half a second more)."""

    def __init__(self, browser, address: str, wait_for: str) -> None:
        self.context = browser.new_context(viewport={"width": 1440, "height": 900})
        self.page = self.context.new_page()
        self._received = 0

        def count(ws) -> None:
            ws.on("framereceived", lambda payload: setattr(self, "_received", self._received + len(payload)))

        self.page.on("websocket", count)
        self.settle(address, wait_for)

    def settle(self, address: str, wait_for: str) -> tuple[float, int]:
        """Seconds from the start of the navigation to `address` (a new Streamlit session) until the page
        settled with `wait_for` drawn, by the browser's clock (no Playwright round trips), and the bytes
        received on Streamlit's websocket meanwhile."""
        self._received = 0
        self.page.goto(address)
        self.page.wait_for_selector(wait_for, timeout=120_000)
        wait_for_app(self.page, timeout_ms=120_000)
        return self.page.evaluate("performance.now()") / 1000, self._received

    def enter(self, label: str, value: str, wait_for: str) -> float:
        """Seconds from typing `value` into the text box `label` of the page on screen (Enter pressed: a rerun
        of the same session, the page not loaded again) until it settled with `wait_for` drawn, by the
        browser's clock. `wait_for` must not be on screen before: it is what the new value draws."""
        box = self.page.get_by_label(label, exact=True)
        box.fill(value)
        started = self.page.evaluate("performance.now()")
        box.press("Enter")
        self.page.wait_for_selector(wait_for, timeout=120_000)
        wait_for_app(self.page, timeout_ms=120_000)
        return (self.page.evaluate("performance.now()") - started) / 1000

    def close(self) -> None:
        self.context.close()

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


def settle(context, address: str, wait_for: str) -> tuple[float, int]:
    """Seconds from the start of the navigation until the page settled with `wait_for` drawn, by the
    browser's clock (no Playwright round trips), in a new tab of `context`: a new Streamlit session, with
    the browser's cache as earlier tabs left it (warm: a returning visitor's); and the bytes received on
    Streamlit's websocket meanwhile. The tab is closed afterwards."""
    page = context.new_page()
    received = [0]

    def count(ws) -> None:
        ws.on("framereceived", lambda payload: received.__setitem__(0, received[0] + len(payload)))

    page.on("websocket", count)
    page.goto(address)
    page.wait_for_selector(wait_for, timeout=120_000)
    wait_for_app(page, timeout_ms=120_000)
    elapsed = page.evaluate("performance.now()") / 1000
    page.close()
    return elapsed, received[0]


def warm_context(browser, address: str, wait_for: str):
    """A browser context (1440×900) that has opened `address` once: Streamlit's scripts are in its cache, as
    in the browser of anyone who has used the app before (the targets of issue 14 are warm)."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    settle(context, address, wait_for)
    return context

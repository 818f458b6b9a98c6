"""`report.pdf`: the HTML report printed by Debian's Chromium, headless, through Playwright.

Chromium lays the page out as a browser would (the same HTML as `report.html`), its text stays text, and
each section starts a page (the report's print styles). The browser gets no network: every request is
refused, and the report asks for none anyway. Playwright's sync API needs a thread without a running event
loop, so printing runs in a thread of its own (a Streamlit callback may run on the server's loop).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
TIMEOUT_S = 60.0


class PdfError(RuntimeError):
    """Chromium could not print the report; the message says why."""


def chromium_path() -> str:
    """Debian's Chromium, or SEXTANT_CHROMIUM."""
    return os.environ.get("SEXTANT_CHROMIUM") or DEFAULT_CHROMIUM


def _print(html: str, executable: str) -> bytes:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
            try:
                context = browser.new_context(java_script_enabled=False, offline=True)
                page = context.new_page()
                page.route("**/*", lambda route: route.abort())
                page.set_content(html, wait_until="load")
                return page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
            finally:
                browser.close()
    except PlaywrightError as exc:
        raise PdfError(
            f"Chromium ({executable}) could not print the report: {exc.message.splitlines()[0]}"
        ) from exc


def html_to_pdf(html: str, *, timeout_s: float = TIMEOUT_S) -> bytes:
    """The PDF of `html`; PdfError when Chromium is missing, fails or takes longer than `timeout_s`."""
    executable = chromium_path()
    if not os.access(executable, os.X_OK):
        raise PdfError(f"no Chromium at {executable}: install Debian's chromium or set SEXTANT_CHROMIUM")
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sextant-pdf")
    try:
        return pool.submit(_print, html, executable).result(timeout=timeout_s)
    except FutureTimeout:
        raise PdfError(f"Chromium did not print the report within {timeout_s:.0f} s") from None
    finally:
        pool.shutdown(wait=False)

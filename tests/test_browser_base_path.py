"""Under a base path (`server.baseUrlPath`), every link a page draws, and every share link it offers,
stays under that path and opens a page of the app: links are relative, share links absolute. On the demo,
none of them dead-ends: no error banner, nothing "not in the demo snapshot" (tests/test_snapshot.py walks
the whole graph through AppTest; this is the same promise checked in the browser, one link deep)."""

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import sync_playwright

from app import links
from app.crawl import MISS
from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, served_app, snapshot_env, wait_for_app

pytestmark = pytest.mark.browser
BASE_PATH = "sextant"
TITLES = {p.title for p in links.PAGES.values()}


def test_every_link_and_share_link_works_under_a_base_path_and_on_the_demo():
    with served_app(snapshot_env(), base_path=BASE_PATH) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        root = f"{base}/"
        drawn: dict[str, str] = {}  # link -> the page that drew it
        for registered in links.PAGES.values():
            page.goto(root + registered.slug)
            wait_for_app(page)
            anchors = page.locator("[data-testid='stMain'] a[href], [data-testid='stSidebar'] a[href]")
            for href in anchors.evaluate_all("els => els.map(e => e.href)"):
                if urlsplit(href).netloc == urlsplit(base).netloc:  # not the docs Streamlit links to
                    drawn.setdefault(href, registered.slug)
            for code in page.locator("[data-testid='stCode']").all_inner_texts():
                if code.startswith("http"):
                    drawn.setdefault(code.strip(), registered.slug)  # a share link
        assert len(drawn) > len(links.PAGES), drawn  # the sidebar's links at least, and the pages' own
        for href, source in drawn.items():
            assert href.startswith(root), f"{source} draws {href}, outside {root}"
            page.goto(href)
            wait_for_app(page)
            heading = page.locator("h1").first.inner_text()
            assert heading in TITLES, f"{source} → {href} opened {heading!r}"
            assert page.locator("[data-testid='stException']").count() == 0, href
            assert page.locator("[data-testid='stAlertContentError']").count() == 0, f"{source} → {href}"
            assert page.get_by_text(MISS).count() == 0, f"{source} → {href} is not in the demo"
        browser.close()

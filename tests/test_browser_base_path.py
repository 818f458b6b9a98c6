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


@pytest.fixture(scope="module")
def demo_tab():
    """The demo served under the base path, and a browser tab: (base address, tab)."""
    with served_app(snapshot_env(), base_path=BASE_PATH) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield base, browser.new_page(viewport={"width": 1440, "height": 900})
        browser.close()


@pytest.mark.long(1)  # up to a minute for a page with many links: dealt out first (tests/conftest.py)
@pytest.mark.parametrize("registered", links.PAGES.values(), ids=lambda p: p.key)
def test_every_link_and_share_link_works_under_a_base_path_and_on_the_demo(demo_tab, registered):
    """One page at a time (so that `make test`'s workers share them): the links it draws in its body, and
    the sidebar's on the first page, each followed."""
    base, page = demo_tab
    root = f"{base}/"
    first = registered == next(iter(links.PAGES.values()))
    page.goto(root + registered.slug)
    wait_for_app(page)
    where = "[data-testid='stMain'] a[href]" + (", [data-testid='stSidebar'] a[href]" if first else "")
    drawn: list[str] = []
    for href in page.locator(where).evaluate_all("els => els.map(e => e.href)"):
        if urlsplit(href).netloc == urlsplit(base).netloc and href not in drawn:  # not Streamlit's docs
            drawn.append(href)
    codes = page.locator("[data-testid='stCode']").all_inner_texts()
    for opener in page.locator("[data-testid='stMain'] [data-testid='stPopoverButton']").all():
        if not opener.is_visible():
            continue
        opener.click()  # a popover draws its content when opened: the overview's share link is in one
        body = page.locator("[data-testid='stPopoverBody']")
        body.wait_for()
        page.wait_for_function(  # its elements' code, loaded lazily
            "!document.querySelector(\"[data-testid='stPopoverBody'] [data-testid='stSkeleton']\")"
        )
        codes += body.locator("[data-testid='stCode']").all_inner_texts()
        page.keyboard.press("Escape")
        body.wait_for(state="detached")
    for code in codes:
        if code.startswith("http"):
            drawn.append(code.strip())  # a share link
    if registered.key == "overview":
        assert any("?at=" in href for href in drawn), drawn  # the frozen report's link, from its popover
    if first:
        assert len(drawn) > len(links.PAGES), drawn  # the sidebar's links at least, and the page's own
    for href in drawn:
        assert href.startswith(root), f"{registered.slug} draws {href}, outside {root}"
        page.goto(href)
        wait_for_app(page)
        heading = page.locator("h1").first.inner_text()
        assert heading in TITLES, f"{registered.slug} → {href} opened {heading!r}"
        assert page.locator("[data-testid='stException']").count() == 0, href
        assert page.locator("[data-testid='stAlertContentError']").count() == 0, f"→ {href}"
        assert page.get_by_text(MISS).count() == 0, f"{registered.slug} → {href} is not in the demo"

"""In a real browser: the app serves its pages on the shipped snapshot without an error on screen."""

import pytest
from playwright.sync_api import sync_playwright

from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, served_app, snapshot_env, wait_for_app

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser_page():
    with served_app(snapshot_env()) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        yield base, page
        browser.close()


def test_service_health_renders_figures_and_charts(browser_page):
    base, page = browser_page
    page.goto(f"{base}/Service_health?range=6h")
    wait_for_app(page)
    assert page.locator("[data-testid='stException']").count() == 0
    assert page.locator("[data-testid='stDataFrame']").count() == 1
    page.wait_for_selector("[data-testid='stVegaLiteChart']")
    assert page.locator("[data-testid='stVegaLiteChart']").count() == 3
    assert "Demo snapshot recorded" in page.inner_text("body")


def test_overview_tile_click_lands_on_the_domain_page(browser_page):
    base, page = browser_page
    page.goto(f"{base}/")
    wait_for_app(page)
    assert page.locator("[data-testid='stException']").count() == 0
    assert page.locator("[data-testid='stMetric']").count() == 5
    page.locator("[data-testid='stMain'] [data-testid='stPageLink'] a", has_text="Extraction").click()
    page.wait_for_url(f"{base}/Extraction*")
    wait_for_app(page)
    assert page.locator("h1", has_text="Extraction").count() == 1
    assert page.locator("[data-testid='stException']").count() == 0
    page.wait_for_selector("[data-testid='stVegaLiteChart']")


def test_slo_deep_link_reproduces_the_view(browser_page):
    base, page = browser_page
    page.goto(f"{base}/SLOs?slo=hmrc-submissions&range=7d")
    wait_for_app(page)
    assert page.locator("h3", has_text="HMRC submissions").count() == 1
    assert "SLOs?slo=hmrc-submissions&range=7d" in page.inner_text("[data-testid='stCode']")

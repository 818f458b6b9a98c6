"""`make load`: many people using Sextant at once, in real browsers, against the live stack.

Starts Sextant (`streamlit run Overview.py` on a free port) pointed at the running stack, then for each
session count (default 10, then 30) opens that many browser sessions (Playwright contexts in one Debian
Chromium) that cycle through every page for the given duration: each session opens its first page by
address, then moves on as a person does, through the sidebar's links, except the SLO detail, which is
opened by its deep link as one pasted from a chat. It prints one table: time to settle per page (p50, p95),
Sextant's peak memory (RSS) and CPU, the errors seen, and the backends' requests per minute read from the
backends themselves (backend_counters.py), then checks the targets of issue 15 and exits 1 if one is
missed or could not be measured.

Settled = the page's script finished, no skeleton left, and the page's own title drawn (so the previous
page, still on screen while the next one starts, is never taken for it); a page that never settles counts
as the settle timeout, so percentiles that reach it are lower bounds. Errors = an exception element, a
banner naming a backend (the stack is healthy during a load run), a page that never settles, an HTTP error
answer, a failed request or a script error in the browser.

The browsers run on the same machine as Sextant: on a small machine they, not Sextant, may set the pace,
and the CPU rows (per group, and per settled page view) say which did.

The backends are `SEXTANT_<BACKEND>_URL` when set, else the stack on its `SEXTANT_*_PORT` ports (so a stack
started beside the shared one, stack/README.md, is measured by exporting the same variables); Jaeger's own
metrics are read from `SEXTANT_JAEGER_METRICS_PORT` (default 8888).

    .venv/bin/python bench/load.py --sessions 10 30 --duration 180
    make load SESSIONS="2" DURATION=20    # a short run while developing
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from argparse import ArgumentParser, Namespace
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from playwright.async_api import Browser, Page, async_playwright
from playwright.async_api import Error as PlaywrightError

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.backend_counters import BackendUrls, RequestCounter, counters, read_all  # noqa: E402
from bench.load_report import FIRST_LOAD, PhaseResult, table, verdicts  # noqa: E402
from bench.process_stats import ProcessWatch, cpu_seconds, streamlit_pid  # noqa: E402
from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, served_app  # noqa: E402

VIEWPORT = {"width": 1400, "height": 1000}  # wide enough for the sidebar to stay open


@dataclass(frozen=True)
class View:
    label: str
    path: str
    title: str  # the page's h1
    deep_link: bool = False  # opened by its address, not from the sidebar


VIEWS = [
    View("Overview", "/", "Overview"),
    View("Service health", "/Service_health", "Service health"),
    View("SLOs", "/SLOs", "SLOs"),
    View("SLO detail (deep link)", "/SLOs?slo=hmrc-submissions", "SLOs", deep_link=True),
    View("Weekly review", "/Weekly_review", "Weekly review"),
    View("Alerts", "/Alerts", "Alerts"),
    View("Coverage", "/Coverage", "Observability coverage"),
    View("Ingestion", "/Ingestion", "Ingestion"),
    View("Extraction", "/Extraction", "Extraction"),
    View("Tax", "/Tax", "Tax"),
    View("Assistant", "/Assistant", "Assistant"),
    View("Readiness", "/Readiness", "Filing readiness"),
    View("Security", "/Security", "Security"),
    View("Scorecard", "/Scorecard", "Acceptance scorecard"),
    View("Traces", "/Traces", "Traces"),
    View("Logs", "/Logs", "Logs"),
    View("Data sources", "/Data_sources", "Data sources"),
    View("Access log", "/Access_log", "Access log"),
]

SETTLED = """(title) => {
  const app = document.querySelector("[data-testid='stApp']");
  if (!app || app.getAttribute("data-test-connection-state") !== "CONNECTED") return false;
  if (app.getAttribute("data-test-script-state") !== "notRunning") return false;
  if (document.querySelector("[data-testid='stSkeleton']")) return false;
  const heading = document.querySelector("[data-testid='stMain'] h1");
  return !!heading && heading.innerText.trim() === title;
}"""
# The sidebar's page links are Sextant's own (st.page_link, only the pages this visitor may open), with
# addresses relative to the app's base path ("" for the overview).
SIDEBAR_LINK = "[data-testid='stSidebar'] a[data-testid='stPageLink-NavLink']"
NAVIGABLE = f"""() => !!document.querySelector(
  "[data-testid='stApp'][data-test-connection-state='CONNECTED'] {SIDEBAR_LINK}")"""
# What is wrong on a settled page: exceptions, and error or warning banners that name a backend.
PROBLEMS = """() => [
  ...[...document.querySelectorAll("[data-testid='stException']")].map(e => "exception: " + e.innerText),
  ...[...document.querySelectorAll("[data-testid='stAlertContainer'][role='alert']")]
    .map(e => e.innerText).filter(t => /Prometheus|OpenSearch|Jaeger/.test(t)).map(t => "banner: " + t),
]"""


def watch_browser_errors(page: Page, base: str, errors: list[str]) -> None:
    def ours(url: str) -> bool:
        """Sextant's own requests; not the page icon Streamlit fetches from Google's fonts (no internet
        here), nor the probes for the server's base path that Streamlit's front end sends, on a deep link,
        under the page's path (`/Tax/_stcore/health`, expected to answer 404)."""
        path = urlsplit(url).path
        return url.startswith(base) and not (path.count("/") > 2 and "/_stcore/" in path)

    def on_response(response) -> None:
        if response.status >= 400 and ours(response.url):
            errors.append(f"HTTP {response.status}: {response.url}")

    def on_failed(request) -> None:
        # ERR_ABORTED: a page left before it finished loading.
        if ours(request.url) and "ERR_ABORTED" not in (request.failure or ""):
            errors.append(f"request failed ({request.failure}): {request.url}")

    page.on("response", on_response)
    page.on("requestfailed", on_failed)
    page.on("pageerror", lambda error: errors.append(f"script error in the browser: {error}"))


async def visit(page: Page, base: str, view: View, by_address: bool, timeout_s: float) -> float:
    """Opens `view` (by its address, or by its sidebar link) and returns the seconds until it settled."""
    started = time.perf_counter()
    if by_address:
        await page.goto(base + view.path, wait_until="commit", timeout=timeout_s * 1000)
    else:
        await page.locator(f"{SIDEBAR_LINK}[href='{view.path.lstrip('/')}']").click(timeout=timeout_s * 1000)
    await page.wait_for_function(SETTLED, arg=view.title, polling=100, timeout=timeout_s * 1000)
    return time.perf_counter() - started


async def came_up(page: Page, timeout_s: float) -> bool:
    """Whether the app can be navigated, or becomes so within `timeout_s`. A person waits for a page that
    is still loading: reloading it would boot the front end again, and in a starved browser every session
    would then keep rebooting and none would ever settle (seen at 30 sessions)."""
    try:
        await page.wait_for_function(NAVIGABLE, polling=250, timeout=timeout_s * 1000)
    except PlaywrightError:
        return False
    return True


async def session(
    number: int,
    browser: Browser,
    base: str,
    deadline: float,
    args: Namespace,
    result: PhaseResult,
    arrive_after_s: float = 0,
    once: bool = False,
) -> None:
    """One person: starts at a different page from the others and cycles until the deadline (or once)."""
    await asyncio.sleep(arrive_after_s)  # people do not all arrive in the same second
    context = await browser.new_context(viewport=VIEWPORT)
    page = await context.new_page()
    watch_browser_errors(page, base, result.errors)
    start = number % len(VIEWS)
    order = VIEWS[start:] + VIEWS[:start]
    by_address = True  # the first page, and after a page that never came up
    try:
        while time.monotonic() < deadline:
            for view in order:
                if time.monotonic() >= deadline:
                    break
                label = FIRST_LOAD if by_address and not view.deep_link else view.label
                try:
                    seconds = await visit(page, base, view, by_address or view.deep_link, args.settle_timeout)
                except PlaywrightError as error:
                    result.errors.append(f"{view.label} never settled ({str(error).splitlines()[0]})")
                    result.record(label, args.settle_timeout, settled=False)  # at least that long
                    by_address = not await came_up(page, args.settle_timeout)
                    continue
                result.record(label, seconds)
                by_address = False
                try:
                    problems = await page.evaluate(PROBLEMS)
                except PlaywrightError as error:
                    problems = [f"could not be inspected ({str(error).splitlines()[0]})"]
                result.errors.extend(f"{view.label}: {problem}" for problem in problems)
                if args.pause:
                    await asyncio.sleep(args.pause)
            if once:
                break
    finally:
        await context.close()


async def run_phase(
    browser: Browser,
    base: str,
    sessions: int,
    args: Namespace,
    watch: ProcessWatch,
    client: httpx.Client,
    wanted: list[RequestCounter],
) -> PhaseResult:
    result = PhaseResult(sessions)
    before = read_all(client, wanted)
    cpu_before = cpu_seconds(watch.pid)
    watch.reset()
    started = time.monotonic()
    deadline = started + args.duration
    await asyncio.gather(
        *(
            session(n, browser, base, deadline, args, result, arrive_after_s=n * args.ramp / sessions)
            for n in range(sessions)
        )
    )
    result.elapsed_s = time.monotonic() - started
    after = read_all(client, wanted)
    result.cpu_percent = {
        group: 100 * (used - cpu_before[group]) / result.elapsed_s
        for group, used in cpu_seconds(watch.pid).items()
    }
    result.peak_rss_mb = watch.peak_mb
    for name, value in after.items():
        if isinstance(value, str) or isinstance(before[name], str):
            result.requests_per_min[name] = value if isinstance(value, str) else str(before[name])
        else:
            result.requests_per_min[name] = (value - before[name]) * 60 / result.elapsed_s
    return result


def check_stack(urls: BackendUrls, client: httpx.Client) -> None:
    for name, url in (
        ("Prometheus", f"{urls.prometheus}/-/ready"),
        ("OpenSearch", f"{urls.opensearch}/"),
        ("Jaeger", f"{urls.jaeger}/api/services"),
    ):
        try:
            client.get(url).raise_for_status()
        except httpx.HTTPError as error:
            message = f"{name} is not answering at {url} ({error}): start the stack (make stack-up)"
            raise SystemExit(message) from None


async def drive(
    base: str, args: Namespace, watch: ProcessWatch, client: httpx.Client, wanted: list[RequestCounter]
) -> list[PhaseResult]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        warm_up = PhaseResult(1)  # every page once, unmeasured, as a server that has been up a while
        deadline = time.monotonic() + args.settle_timeout * len(VIEWS)
        await session(0, browser, base, deadline, args, warm_up, once=True)
        if warm_up.errors:
            print("errors while warming up:", *warm_up.errors[:10], sep="\n  ", flush=True)
        results = []
        for count in args.sessions:
            print(f"{count} sessions for {args.duration:.0f} s …", flush=True)
            results.append(await run_phase(browser, base, count, args, watch, client, wanted))
        await browser.close()
    return results


def main() -> int:
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, nargs="+", default=[10, 30], help="session counts, in turn")
    parser.add_argument("--duration", type=float, default=180, help="seconds per session count")
    parser.add_argument("--pause", type=float, default=0, help="seconds a session waits on a settled page")
    parser.add_argument(
        "--settle-timeout", type=float, default=60, help="seconds before a page counts as stuck"
    )
    parser.add_argument("--ramp", type=float, default=10, help="seconds over which a phase's sessions arrive")
    args = parser.parse_args()

    urls = BackendUrls.from_env()
    wanted = counters(urls)
    env = dict(
        os.environ,
        SEXTANT_PROMETHEUS_URL=urls.prometheus,
        SEXTANT_OPENSEARCH_URL=urls.opensearch,
        SEXTANT_JAEGER_URL=urls.jaeger,
    )
    with httpx.Client(timeout=10) as client:
        check_stack(urls, client)
        with served_app(env) as base:
            watch = ProcessWatch(streamlit_pid())
            print(
                f"Sextant (pid {watch.pid}) at {base}; backends {urls.prometheus} {urls.opensearch}"
                f" {urls.jaeger}; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the start",
                flush=True,
            )
            results = asyncio.run(drive(base, args, watch, client, wanted))
            lifetime_peak_mb = watch.lifetime_peak_mb()
            watch.stop()

    print(
        f"\n{' then '.join(map(str, args.sessions))} concurrent sessions, {args.duration:.0f} s each, cycling"
        f" through {len(VIEWS)} views with {args.pause:g} s pause, arriving over {args.ramp:g} s, stuck after"
        f" {args.settle_timeout:g} s; load average {os.getloadavg()[0]:.1f} at the end\n"
    )
    print(table(results, [view.label for view in VIEWS], wanted, lifetime_peak_mb))
    print("\nwhere the backends' counts come from:")
    print("\n".join(f"  {counter.name}: {counter.source}" for counter in wanted))
    for result in results:
        if result.errors:
            kinds = Counter(result.errors).most_common()
            print(f"\nerrors at {result.sessions} sessions ({len(kinds)} kinds, the 20 most frequent):")
            print("\n".join(f"  {n:4d}× {error}" for error, n in kinds[:20]))
    checks = verdicts(results, [view.label for view in VIEWS], wanted, lifetime_peak_mb)
    print("\ntargets (issue 15):")
    print("\n".join(f"  {'met   ' if met else 'MISSED'} {what}" for met, what in checks))
    return 0 if all(met for met, _ in checks) else 1


if __name__ == "__main__":
    sys.exit(main())

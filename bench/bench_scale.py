"""Sextant on a platform 1, 10 and 100 times the demo's (issue 14, "Measured, not asserted").

For each scale it starts a stack of its own with `stack/up.sh` (`SEXTANT_SCALE=N`: N times the services,
routes, client firms, SLO definitions, logs and trace fan-out; see stack/simulator/README.md, "Scale"), in
`~/.cache/sextant/run-scale-bench` on ports of its own (`--port-digit`, 5: 59090, 59200, …), so it never
touches the default stack; the stack is rebuilt for every scale and stopped at the end (only what this run
started; `--keep` leaves it up). Every scale gets the same `--days` of history (default 1: backfilling and
loading 30 days of a platform 100 times the demo's would take this 2-core machine hours), so the rows
compare; the SLOs' 30-day windows then read 1 day of samples.

Per view (overview, SLOs, Service health, a domain page, Traces with the biggest workflow trace of the last
6 hours, Logs) and scale it prints: time to settle in Chromium (Playwright, the tab of a browser that has
opened Sextant before, by the browser's clock; first view: the server computes, repeat: its answers
cached), the server's render time under AppTest (empty cache), the backend requests of that render, the
bytes the browser received on Streamlit's websocket, the render's slowest backend request and the render's
time as a multiple of it; per scale, the overview's data fetched alone (`overview.load`, not drawn) as a
multiple of its slowest request (the overview's target: ≤ 1.5), with an empty cache and again a minute
later (the answers about past weeks kept, as a running server has them), and the peak RSS of the Streamlit
server; then the growth, the largest scale measured against the smallest (100× / 10× where 100 fits; the
goal: ≤ 3 for 10 times the work). Before measuring it waits until Prometheus records every SLO, as in a
deployment that has run for a while.
One run each, on a shared 2-core machine: figures move by tens of percent.

    .venv/bin/python bench/bench_scale.py [--scales 1 10 100] [--days 1] [--port-digit 5] [--keep]
        [--route-paths K]   # K paths per route (`model.use_scale`): 34 x 6 is 204 services, 1,836 routes
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SCALE_RUN = Path.home() / ".cache" / "sextant" / "run-scale-bench"
PORTS = {  # the port's last four digits; the first is --port-digit
    "SEXTANT_PROMETHEUS_PORT": "9090",
    "SEXTANT_ALERTMANAGER_PORT": "9093",
    "SEXTANT_OPENSEARCH_PORT": "9200",
    "SEXTANT_OPENSEARCH_TRANSPORT_PORT": "9300",
    "SEXTANT_JAEGER_QUERY_PORT": "6686",
    "SEXTANT_JAEGER_QUERY_GRPC_PORT": "6685",
    "SEXTANT_OTLP_GRPC_PORT": "4317",
    "SEXTANT_OTLP_HTTP_PORT": "4318",
    "SEXTANT_JAEGER_HEALTH_PORT": "3133",
    "SEXTANT_JAEGER_METRICS_PORT": "8888",
    "SEXTANT_SIMULATOR_PORT": "9100",
}
TRACED_SERVICE = "extraction"  # the Traces view shows its biggest recent trace: a document's workflow


def _port_digit() -> str:
    """--port-digit, read before the app's modules read their configuration (set below)."""
    args = sys.argv[1:]
    return args[args.index("--port-digit") + 1] if "--port-digit" in args else "5"


STACK = {"SEXTANT_RUN": str(SCALE_RUN), **{k: _port_digit() + v for k, v in PORTS.items()}}
URLS = {
    "SEXTANT_PROMETHEUS_URL": f"http://127.0.0.1:{STACK['SEXTANT_PROMETHEUS_PORT']}",
    "SEXTANT_OPENSEARCH_URL": f"http://127.0.0.1:{STACK['SEXTANT_OPENSEARCH_PORT']}",
    "SEXTANT_JAEGER_URL": f"http://127.0.0.1:{STACK['SEXTANT_JAEGER_QUERY_PORT']}",
    "SEXTANT_ALERTMANAGER_URL": f"http://127.0.0.1:{STACK['SEXTANT_ALERTMANAGER_PORT']}",
}
os.environ.update({**STACK, **URLS})  # before the app reads its configuration

from playwright.sync_api import sync_playwright  # noqa: E402

from app import overview  # noqa: E402
from app.config import current_config  # noqa: E402
from app.overview import week_earlier  # noqa: E402
from app.slo.loader import load_definitions  # noqa: E402
from app.slo.rules import BACKFILLED, OBJECTIVE  # noqa: E402
from app.sources.cache import ResultCache  # noqa: E402
from app.ui import _sources  # noqa: E402
from bench.bench_pages import RequestTimer  # noqa: E402
from bench.page_timing import WarmTab, render  # noqa: E402
from bench.process_stats import ProcessWatch  # noqa: E402
from stack.simulator import model  # noqa: E402
from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, served_process  # noqa: E402

# name -> (page script, address slug, URL parameters)
VIEWS: dict[str, tuple[str, str, dict[str, str]]] = {
    "overview": ("Overview.py", "", {}),
    "SLOs": ("pages/2_SLOs.py", "SLOs", {}),
    "Service health": ("pages/1_Service_health.py", "Service_health", {}),
    "Ingestion": ("pages/4_Ingestion.py", "Ingestion", {}),
    "Traces": ("pages/10_Traces.py", "Traces", {}),  # the trace is found per scale
    "Logs": ("pages/11_Logs.py", "Logs", {}),
}
APP_READY = "[data-testid='stApp']"


def stack(script: str, scale: int, days: int, *args: str, route_paths: int = 1) -> float:
    """Runs a stack script for `scale` with the bench's ports and run directory; returns its seconds."""
    env = {
        **os.environ,
        **STACK,
        "SEXTANT_SCALE": str(scale),
        "SEXTANT_HISTORY_DAYS": str(days),
        "SEXTANT_ROUTE_PATHS": str(route_paths),
        "SEXTANT_STACK_TIMEOUT": "1200",  # the exporter of scale 100 sums 30 days of 20,000 series first
    }
    started = time.perf_counter()
    subprocess.run(["bash", str(ROOT / "stack" / script), *args], env=env, check=True, stdout=sys.stderr)
    return time.perf_counter() - started


def platform_size(scale: int, route_paths: int) -> str:
    """The services and routes of a stack of `scale`, `route_paths` paths per route (`model.use_scale`)."""
    routes = scale * route_paths * len(model.BASE_ROUTES)
    return f"{scale * len(model.BASE_SERVICES):,} services, {routes:,} routes"


def wait_for_recorded_slos(timeout_s: float = 600.0) -> tuple[int, int, float]:
    """Waits until Prometheus records every SLO (its rules read each period from the tiles the stack wrote)
    and holds the records the stack backfilled for a week ago (both in blocks it loads a while after their
    writing), so that the pages read recorded series as in a deployment that has run for a while; returns
    (SLOs recorded now, SLOs recorded a week ago, seconds waited)."""
    directory = written_urls().get("SEXTANT_SLO_DEFINITIONS") or str(ROOT / "slo_definitions")
    expected = len(load_definitions(directory).definitions)
    started = time.perf_counter()
    while True:
        now = datetime.now(UTC).replace(second=0, microsecond=0)  # the instant a page asks at
        live = [r for r in _objectives(now) if BACKFILLED not in r["metric"]]
        past = [r for r in _objectives(week_earlier(now)) if BACKFILLED in r["metric"]]
        waited = time.perf_counter() - started
        if min(len(live), len(past)) >= expected or waited > timeout_s:
            return len(live), len(past), waited
        time.sleep(5)


def _objectives(at: datetime) -> list[dict]:
    asked = httpx.get(
        f"{URLS['SEXTANT_PROMETHEUS_URL']}/api/v1/query", params={"query": OBJECTIVE, "time": at.timestamp()}
    )
    return asked.json()["data"]["result"]


def written_urls() -> dict[str, str]:
    lines = (SCALE_RUN / "urls.env").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line)


def biggest_workflow_trace() -> str | None:
    """The id of the biggest trace through extraction in the last 6 hours (Jaeger's search, 40 traces):
    a document's workflow, whose fan-out grows with the scale (extraction calls `ocr` and `classify` N
    times)."""
    now_us = int(time.time() * 1e6)
    answer = httpx.get(
        f"{URLS['SEXTANT_JAEGER_URL']}/api/traces",
        params={"service": TRACED_SERVICE, "start": now_us - 6 * 3_600_000_000, "end": now_us, "limit": 40},
        timeout=120,
    )
    traces = answer.json().get("data") or []
    best = max(traces, key=lambda t: len(t.get("spans", [])), default=None)
    return best["traceID"] if best else None


Fetch = tuple[float, int, float]  # seconds, requests, the slowest request's seconds


def overview_fetch(timer: RequestTimer) -> tuple[Fetch, Fetch]:
    """The overview's data alone (`overview.load`), without drawing the page: seconds, requests, and its
    slowest request's seconds (the target: within 1.5 times that request); first with an empty cache, then
    in the next minute with the same cache, as a running server serves the page a minute later: every
    answer about the present asked again, those about the past weeks (kept an hour) not."""
    sources = _sources(current_config())
    cache = ResultCache()

    def fetch() -> Fetch:
        timer.take()
        started = time.perf_counter()
        overview.load(sources, sources.now(), cache)
        took = time.perf_counter() - started
        durations = timer.take()
        return took, len(durations), max(durations, default=0.0)

    cold = fetch()
    time.sleep(61 - time.time() % 60)  # the pages' "now" is the minute: a new one asks the present again
    return cold, fetch()


def measure(
    scale: int,
) -> tuple[dict[str, tuple[float, float, float, int, int, int, float]], float, str, tuple[Fetch, Fetch]]:
    """Per view (settle, repeat, server s, requests, bytes sent, error banners, its slowest request's s),
    the server's peak RSS in MB, the trace drawn, and the overview's data alone (`overview_fetch`)."""
    slo_dir = written_urls().get("SEXTANT_SLO_DEFINITIONS")
    if slo_dir:
        os.environ["SEXTANT_SLO_DEFINITIONS"] = slo_dir
    else:
        os.environ.pop("SEXTANT_SLO_DEFINITIONS", None)
    trace = biggest_workflow_trace()
    views = {name: (page, slug, dict(params)) for name, (page, slug, params) in VIEWS.items()}
    if trace:
        views["Traces"][2].update(service=TRACED_SERVICE, trace=trace)
    timer = RequestTimer(_sources(current_config()))
    for page, _, params in views.values():  # imports and definition files, as a running server has them
        render(page, params, timer)
    rows = {}
    with served_process(dict(os.environ)) as (base, server), sync_playwright() as pw:
        watch = ProcessWatch(server.pid)
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        # the server's first page (its imports), and the browser's cache filled with Streamlit's scripts
        tab = WarmTab(browser, f"{base}/Data_sources", APP_READY)
        for name, (page, slug, params) in views.items():
            query = "&".join(f"{k}={v}" for k, v in params.items())
            address = f"{base}/{slug}" + (f"?{query}" if query else "")
            first, sent = tab.settle(address, APP_READY)
            repeat, _ = tab.settle(address, APP_READY)
            server, durations, errors = render(page, params, timer)
            rows[name] = (first, repeat, server, len(durations), sent, errors, max(durations, default=0.0))
        tab.close()
        browser.close()
        peak = max(watch.peak_mb, watch.lifetime_peak_mb())
        watch.stop()
    spans = ""
    if trace:
        answer = httpx.get(f"{URLS['SEXTANT_JAEGER_URL']}/api/traces/{trace}", timeout=120).json()
        spans = f"{len(answer['data'][0]['spans']):,} spans"
    return rows, peak, spans, overview_fetch(timer)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--days", type=int, default=1, help="days of history backfilled and loaded")
    parser.add_argument("--port-digit", default="5", help="the first digit of the bench stack's ports")
    parser.add_argument("--keep", action="store_true", help="leave the bench's own stack running")
    parser.add_argument(
        "--route-paths", type=int, default=1, help="paths per route: K times the routes of every scale"
    )
    args = parser.parse_args()
    results: dict[int, tuple[dict, float, str, float, tuple[Fetch, Fetch]]] = {}
    try:
        for scale in args.scales:
            started = stack("up.sh", scale, args.days, route_paths=args.route_paths)
            now, week_ago, waited = wait_for_recorded_slos()
            said = f"{now} SLOs recorded now, {week_ago} a week ago, {waited:.0f} s later"
            said = f"{platform_size(scale, args.route_paths)}, {said}"
            print(f"scale {scale}: {said}", flush=True)
            rows, peak, spans, fetch = measure(scale)
            results[scale] = (rows, peak, spans, started, fetch)
            report(results, args.days)  # as it goes: a later scale may not fit
    finally:
        if not args.keep:
            stack("down.sh", 1, args.days)  # everything in the bench's own run directory


def report(results: dict[int, tuple[dict, float, str, float, tuple[Fetch, Fetch]]], days: int) -> None:
    print(
        f"\n{'scale':>5} {'view':15} {'settle s':>9} {'repeat s':>9} {'server s':>9} {'requests':>9}"
        f" {'bytes sent':>11} {'slowest q':>9} {'server/q':>8}"
        f"   one run each, Chromium 1440x900, {days} days of history, 2 shared cores"
    )
    for scale, (rows, peak, spans, started, fetch) in results.items():
        for name, (first, repeat, server, requests, sent, errors, slowest) in rows.items():
            failed = f"   {errors} error banner(s): a backend did not answer" if errors else ""
            ratio = f"{server / slowest:8.1f}" if slowest else f"{'':8}"
            figures = f"{first:9.2f} {repeat:9.2f} {server:9.2f} {requests:9d} {sent:11,} {slowest:9.2f}"
            figures += f" {ratio}"
            print(f"{scale:>5} {name:15} {figures}{failed}")
        for when, (took, requests, slowest) in zip(("empty cache", "a minute later"), fetch, strict=True):
            times = f"{took / slowest:.1f} times" if slowest else "no request"
            print(
                f"{scale:>5} overview's data alone (overview.load, not drawn), {when}: {took:.2f} s, "
                f"{requests} requests, the slowest {slowest:.2f} s: {times} it"
            )
        trace = f", the trace drawn: {spans}" if spans else ""
        print(f"{scale:>5} Streamlit server peak RSS {peak:,.0f} MB; stack start {started:.0f} s{trace}")
    if len(results) > 1:  # the largest scale that fitted against the smallest: the goal is <= 3 for 10x
        low, high = min(results), max(results)
        small, big = results[low][0], results[high][0]
        print(f"growth, {high}x / {low}x ({high / low:.1f} times the work):")
        for name in small:
            labels = ("settle", "repeat", "server", "requests", "bytes")
            ratios = zip(labels, small[name][:5], big[name][:5], strict=True)
            print(f"      {name:15} " + "   ".join(f"{label} {b / s:.2f}×" for label, s, b in ratios if s))
    print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())} (2 cores)", flush=True)


if __name__ == "__main__":
    main()

"""Big traces and big log searches (issue 14): a trace of 1,000 and of 10,000 spans, the Logs page with
100,000 matching lines.

Big data is planted in a stack of the bench's own, never in the shared one (whose golden tests count its
logs and traces): `SEXTANT_RUN=~/.cache/sextant/run-big` on other ports (`BIG_STACK`), started with
`stack/up.sh` without the simulator's data set, and stopped at the end (only what this run started;
`--keep` leaves it up). Planted: two traces (`tests/big_trace.py`) and a copy of each sent over OTLP to its
Jaeger, and 100,000 log lines over the last 23 hours in an index of its own (`logs-bench-big`).

Per view (and an admin page with nothing big on it: a baseline for how loaded the machine is) it prints:
time to settle in Chromium (Playwright, the tab of a browser that has opened Sextant before, by the
browser's clock; first view: the server computes it; repeat: a new session, answers cached), the server's
render time under AppTest (empty cache), the backend requests of that render, the bytes the browser
received on Streamlit's websocket, and the growth 10,000 / 1,000 spans. Then each trace opened in the page,
as a user does from the search's results or with an id pasted into the Trace id box: a rerun of the session
on screen, without loading the page and Streamlit's scripts again (the first view above is a deep link: a
page load, which for an empty page costs this machine about a second).
One run each, on a shared 2-core machine: figures move by tens of percent.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BIG_RUN = Path.home() / ".cache" / "sextant" / "run-big"
BIG_STACK = {
    "SEXTANT_RUN": str(BIG_RUN),
    "SEXTANT_PROMETHEUS_PORT": "39090",
    "SEXTANT_ALERTMANAGER_PORT": "39093",
    "SEXTANT_OPENSEARCH_PORT": "39200",
    "SEXTANT_OPENSEARCH_TRANSPORT_PORT": "39300",
    "SEXTANT_JAEGER_QUERY_PORT": "36686",
    "SEXTANT_JAEGER_QUERY_GRPC_PORT": "36685",
    "SEXTANT_OTLP_GRPC_PORT": "34317",
    "SEXTANT_OTLP_HTTP_PORT": "34318",
    "SEXTANT_JAEGER_HEALTH_PORT": "33133",
    "SEXTANT_JAEGER_METRICS_PORT": "38888",
    "SEXTANT_SIMULATOR_PORT": "39100",
}
URLS = {
    "SEXTANT_PROMETHEUS_URL": "http://127.0.0.1:39090",
    "SEXTANT_OPENSEARCH_URL": "http://127.0.0.1:39200",
    "SEXTANT_JAEGER_URL": "http://127.0.0.1:36686",
}
OTLP_URL = "http://127.0.0.1:34318/v1/traces"
LOG_INDEX = "logs-bench-big"
LOG_LINES = 100_000
SPANS = (1_000, 10_000)
CHART = "[data-testid='stVegaLiteChart']"  # the trace's waterfall, the one chart of the Traces page

for _name, _value in {**BIG_STACK, **URLS}.items():  # before the app reads its configuration
    os.environ[_name] = _value
os.environ.pop("SEXTANT_ALERTMANAGER_URL", None)

from playwright.sync_api import sync_playwright  # noqa: E402

from app.config import current_config  # noqa: E402
from app.sources.opensearch import OpenSearchClient  # noqa: E402
from app.ui import _sources  # noqa: E402
from bench.bench_pages import RequestTimer  # noqa: E402
from bench.page_timing import WarmTab, render  # noqa: E402
from stack.simulator.load import export_traces  # noqa: E402
from stack.simulator.mappings import LOG_MAPPING  # noqa: E402
from tests.big_trace import big_trace  # noqa: E402
from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, served_app, wait_for_app  # noqa: E402


def stack(script: str, *args: str) -> None:
    env = {**os.environ, **BIG_STACK, "SEXTANT_STACK_SKIP_LOAD": "1", "SEXTANT_ANCHOR": "keep"}
    subprocess.run(["bash", str(ROOT / "stack" / script), *args], env=env, check=True, stdout=sys.stderr)


def entry(spans: int, copy: bool = False) -> str:
    """The service a planted trace enters through, its own: the page's search for it finds that trace alone
    (Jaeger's search answers whole traces, so a search finding both would time the other one too). The
    copy, opened in the page, has its own: the server has not fetched it before."""
    return f"batch-{spans}" + ("-copy" if copy else "")


def plant_trace(spans: int, now: datetime, copy: bool = False) -> str:
    """A trace of `spans` spans that began a few minutes ago; its id once Jaeger returns every span."""
    trace_id = 0xB16_0000_0000 + spans + int(now.timestamp()) + (0x100_0000_0000 if copy else 0)
    start_ns = int((now - timedelta(minutes=5)).timestamp() * 1e9)
    export_traces([big_trace(spans, start_ns, trace_id=trace_id, root_service=entry(spans, copy))], OTLP_URL)
    hex_id = f"{trace_id:032x}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        answer = httpx.get(f"{URLS['SEXTANT_JAEGER_URL']}/api/traces/{hex_id}", timeout=60)
        data = answer.json().get("data") if answer.status_code == 200 else None
        if data and len(data[0].get("spans", [])) >= spans:
            return hex_id
        time.sleep(2)
    raise SystemExit(f"Jaeger did not return the {spans:,} spans of {hex_id} within 120 s")


def plant_logs(now: datetime) -> None:
    """LOG_LINES lines over the last 23 hours in LOG_INDEX (created afresh with keyword fields)."""
    url = URLS["SEXTANT_OPENSEARCH_URL"]
    httpx.delete(f"{url}/{LOG_INDEX}", timeout=60)
    settings = {"number_of_shards": 1, "number_of_replicas": 0, "refresh_interval": "-1"}
    httpx.put(
        f"{url}/{LOG_INDEX}", json={"settings": settings, "mappings": LOG_MAPPING}, timeout=60
    ).raise_for_status()
    client = OpenSearchClient(url, timeout=120.0)
    step_ms = 23 * 3600 * 1000 / LOG_LINES
    services = ("gateway", "ingestion", "extraction", "reconciliation", "filing", "assistant")
    for first in range(0, LOG_LINES, 5_000):
        batch = []
        for i in range(first, min(first + 5_000, LOG_LINES)):
            at = now - timedelta(milliseconds=i * step_ms)
            source = {
                "@timestamp": at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "level": "ERROR" if i % 50 == 0 else "WARN" if i % 20 == 0 else "INFO",
                "service": services[i % len(services)],
                "tenant": f"firm-{i % 40:02d}",
                "message": f"bench line {i}: request handled",
                "trace_id": f"{i:032x}",
            }
            batch.append((LOG_INDEX, f"b{i:06d}", source))
        refused = client.create_documents(batch).refused
        if refused:
            raise SystemExit(
                f"OpenSearch refused {len(refused)} planted lines: {next(iter(refused.values()))}"
            )
    httpx.put(f"{url}/{LOG_INDEX}/_settings", json={"index": {"refresh_interval": "1s"}}, timeout=60)
    httpx.post(f"{url}/{LOG_INDEX}/_refresh", timeout=120).raise_for_status()
    client.close()


def open_in_page(tab: WarmTab, search: str, trace_id: str) -> tuple[float, float]:
    """Seconds to open the trace from the Traces page showing its search (as a user picking it from the
    results or pasting its id): the first time (the server asks Jaeger), and again after closing it (the
    answer cached)."""
    tab.settle(search, "[data-testid='stDataFrame']")
    first = tab.enter("Trace id", trace_id, CHART)
    tab.page.get_by_label("Trace id", exact=True).fill("")
    tab.page.get_by_label("Trace id", exact=True).press("Enter")
    tab.page.wait_for_selector(CHART, state="detached", timeout=60_000)
    wait_for_app(tab.page)
    return first, tab.enter("Trace id", trace_id, CHART)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", action="store_true", help="leave the bench's own stack running")
    args = parser.parse_args()
    stack("up.sh")
    try:
        now = datetime.now(UTC)
        traces = {n: plant_trace(n, now) for n in SPANS}
        copies = {n: plant_trace(n, now, copy=True) for n in SPANS}
        plant_logs(now)
        measure(traces, copies)
    finally:
        if not args.keep:
            started = (BIG_RUN / "started").read_text().split() if (BIG_RUN / "started").exists() else []
            if started:
                stack("down.sh", *started)


def measure(traces: dict[int, str], copies: dict[int, str]) -> None:
    timer = RequestTimer(_sources(current_config()))
    views = {
        f"trace {n:,} spans": (
            "pages/10_Traces.py",
            "Traces",
            {"service": entry(n), "trace": t},
            CHART,
        )
        for n, t in traces.items()
    }
    views[f"Logs {LOG_LINES:,} hits"] = ("pages/11_Logs.py", "Logs", {}, "[data-testid='stDataFrame']")
    # An admin page with nothing big on it: how slow the machine is right now (it is shared).
    views["Data sources (baseline)"] = (
        "pages/20_Data_sources.py",
        "Data_sources",
        {},
        "[data-testid='stDataFrame']",
    )
    for page, _, params, _ in views.values():  # imports and definition files, as a running server has them
        render(page, params, timer)
    rows = {}
    in_page: dict[int, tuple[float, float]] = {}
    env = {**os.environ, **URLS}
    with served_app(env) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        # the server's first page (its imports), and the browser's cache filled with Streamlit's scripts
        tab = WarmTab(browser, f"{base}/Data_sources", "[data-testid='stDataFrame']")
        for name, (page, slug, params, wait_for) in views.items():
            query = "&".join(f"{k}={v}" for k, v in params.items())
            address = f"{base}/{slug}" + (f"?{query}" if query else "")
            first, sent = tab.settle(address, wait_for)
            repeat, _ = tab.settle(address, wait_for)
            server, durations, _ = render(page, params, timer)
            requests = len(durations)
            rows[name] = (first, repeat, server, requests, sent)
        for spans, trace_id in copies.items():  # not fetched by the server yet: the first open is cold
            in_page[spans] = open_in_page(tab, f"{base}/Traces?service={entry(spans, copy=True)}", trace_id)
        tab.close()
        browser.close()
    print(
        f"{'view':22} {'settle s':>9} {'repeat s':>9} {'server s':>9} {'requests':>9} {'bytes sent':>11}"
        "   one run each, Chromium 1440x900, shared 2-core machine"
    )
    for name, (first, repeat, server, requests, sent) in rows.items():
        print(f"{name:22} {first:9.2f} {repeat:9.2f} {server:9.2f} {requests:9d} {sent:11,}")
    small, big = (rows[f"trace {n:,} spans"] for n in SPANS)
    labels = ("settle", "repeat", "server", "requests", "bytes")
    growth = "   ".join(f"{label} {b / s:.2f}×" for label, s, b in zip(labels, small, big, strict=True) if s)
    print(f"growth, trace 10,000 / 1,000 spans: {growth}")
    print(
        "a trace opened in the page (its id entered in the Trace id box of the Traces page on screen: "
        "a rerun of the session, no page load): first / again"
    )
    for spans, (first, again) in in_page.items():
        print(f"  trace {spans:,} spans: {first:.2f} / {again:.2f} s")
    print("targets (issue 14): a trace of 1,000 spans < 1 s, of 10,000 < 3 s; Logs at 100,000 hits < 1.5 s")
    print(f"load average when done: {' '.join(f'{x:.1f}' for x in os.getloadavg())} (2 cores)")


if __name__ == "__main__":
    main()

"""Benchmark the SLOs page's data: 10, 100 and 1,000 SLO definitions over the simulator's metrics.

For each size it prints the time `compute_status` takes (what the SLOs page calls), the number of
Prometheus requests it makes and the peak memory (RSS) of a fresh process doing it, both with the
generated recording rules loaded (one query per window, whatever the number of SLOs) and without them
(the fallback: one query per SLO, run concurrently).

The generated SLOs' rules must be loaded in a Prometheus, so by default the benchmark starts its own
throwaway Prometheus (Debian's `prometheus`, on a free loopback port, data in a temporary directory)
that scrapes the live simulator (the running stack's, from `make stack-up`) and loads the generated rule
file; it stops that process (by its PID) at the end. `--prometheus-url URL` measures against an existing
server instead (the fallback path unless it has loaded the same rules).

    .venv/bin/python bench/bench_slos.py [--sizes 10 100 1000] [--written 10000]
        [--simulator 127.0.0.1:19100]

The rules of 10,000 SLOs cannot be evaluated on this 2-core machine (1,000 already take most of a core),
so `--written N` measures the page at N SLOs the way a Prometheus that can evaluate them would serve it:
it writes each SLO's records for one whole hour into the throwaway Prometheus as a TSDB block (what
`python -m app.slo backfill` writes for past hours, with figures spread so that every state occurs) and
renders the page at that hour. Rows "written" in the table: its first render in a fresh process reads
the definitions' documents back from the cache of parsed files (`app.filecache`), as a server started
after any earlier run does; "written, parsed" is the same without it (the first process ever to read
those files).

Reuse: `generate_definitions(n, directory)` writes the SLO files; `measure(fn)` times any callable taking
`(definitions, counting_client)` (e.g. a page render) and reports its requests; `private_prometheus(...)`
is the throwaway server as a context manager.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.slo.backfill import HOURLY, Rows, openmetrics, write_blocks  # noqa: E402
from app.slo.loader import load_definitions  # noqa: E402
from app.slo.model import WINDOWS as BURN_WINDOWS  # noqa: E402
from app.slo.model import SloDefinition, parse_duration  # noqa: E402
from app.slo.rules import (  # noqa: E402
    BAD,
    OBJECTIVE,
    PERIOD,
    TOTAL,
    base_labels,
    objective_labels,
    record_name,
    render_rules,
)
from app.slo.status import compute_status  # noqa: E402
from app.sources.counting import CountingClient  # noqa: E402
from app.sources.prometheus import PrometheusClient  # noqa: E402
from app.times import start_of_hour, unix  # noqa: E402
from stack.addresses import stack_url  # noqa: E402
from tests.process_support import free_port, stop, wait_until_ok  # noqa: E402

ROUTES = (
    ("gateway", "/api/upload", "ingestion"),
    ("gateway", "/api/filings", "filing"),
    ("ingestion", "/ingest/document", "ingestion"),
    ("ingestion", "/ingest/bank-feed", "ingestion"),
    ("extraction", "/extract", "extraction"),
    ("reconciliation", "/reconcile", "reconciliation"),
    ("filing", "/vat/returns", "filing"),
    ("filing", "/itsa/updates", "filing"),
    ("assistant", "/assistant/answer", "assistant"),
)
LE = ("0.5", "1", "2.5", "5")
TARGETS = (0.99, 0.995, 0.999, 0.98, 0.95)
WINDOWS = ("30d", "28d", "7d")
DOCUMENT_TYPES = ("invoice", "receipt", "bank_statement", "payslip")
QUEUES = ("ingestion", "extraction", "reconciliation", "filing")


def _ratio(bad: str | None, good: str | None, total: str) -> dict[str, Any]:
    def metric(query: str) -> dict[str, Any]:
        return {"metricSource": {"type": "Prometheus", "spec": {"query": query}}}

    ratio: dict[str, Any] = {"counter": True, "total": metric(total)}
    if bad:
        ratio["bad"] = metric(bad)
    if good:
        ratio["good"] = metric(good)
    return {"ratioMetric": ratio}


def _slo(i: int) -> dict[str, Any]:
    """The i-th generated SLO: a mix of availability, latency, accuracy, HMRC, calendar and gauge SLOs."""
    service, route, domain = ROUTES[i % len(ROUTES)]
    sel = f'service="{service}",route="{route}"'
    kind = i % 6
    window: dict[str, Any] = {"duration": WINDOWS[i % len(WINDOWS)], "isRolling": True}
    budgeting, objective = "Occurrences", {"target": TARGETS[i % len(TARGETS)]}
    if kind == 0:
        spec = _ratio(
            f'sum(rate(http_requests_total{{{sel},code=~"5.."}}[{{{{.window}}}}]))',
            None,
            f"sum(rate(http_requests_total{{{sel}}}[{{{{.window}}}}]))",
        )
    elif kind == 1:
        le = LE[i % len(LE)]
        spec = _ratio(
            None,
            f'sum(rate(http_request_duration_seconds_bucket{{{sel},le="{le}"}}[{{{{.window}}}}]))',
            f"sum(rate(http_request_duration_seconds_count{{{sel}}}[{{{{.window}}}}]))",
        )
    elif kind == 2:
        doc = DOCUMENT_TYPES[i % len(DOCUMENT_TYPES)]
        domain = "extraction"
        spec = _ratio(
            f'sum(rate(extraction_documents_total{{document_type="{doc}",outcome="incorrect"}}[{{{{.window}}}}]))',
            None,
            f'sum(rate(extraction_documents_total{{document_type="{doc}"}}[{{{{.window}}}}]))',
        )
        objective = {"target": 0.9}
    elif kind == 3:
        hmrc_kind = ("vat", "itsa")[i % 2]
        domain = "filing"
        spec = _ratio(
            f'sum(rate(hmrc_submissions_total{{kind="{hmrc_kind}",result="error"}}[{{{{.window}}}}]))',
            None,
            f'sum(rate(hmrc_submissions_total{{kind="{hmrc_kind}"}}[{{{{.window}}}}]))',
        )
        window = {"duration": "1M", "isRolling": False}  # calendar month
        objective = {"target": 0.98}
    elif kind == 4:
        queue = QUEUES[i % len(QUEUES)]
        domain = "reconciliation" if queue == "reconciliation" else domain
        spec = {
            "thresholdMetric": {
                "metricSource": {
                    "type": "Prometheus",
                    "spec": {
                        "query": "max_over_time(queue_oldest_item_age_seconds"
                        f'{{queue="{queue}"}}[{{{{.window}}}}])'
                    },
                }
            }
        }
        budgeting = "Timeslices"
        objective = {"target": 0.98, "op": "lte", "value": 900 + 60 * (i % 10), "timeSliceWindow": "5m"}
    else:
        domain = "assistant"
        spec = _ratio(
            'sum(rate(assistant_feedback_total{rating="negative"}[{{.window}}]))',
            None,
            "sum(rate(assistant_feedback_total[{{.window}}]))",
        )
        objective = {"target": 0.75}
    return {
        "apiVersion": "openslo/v1",
        "kind": "SLO",
        "metadata": {"name": f"bench-{i:05d}", "labels": {"domain": domain, "team": f"team-{i % 7}"}},
        "spec": {
            "service": service,
            "budgetingMethod": budgeting,
            "timeWindow": [window],
            "indicator": {"metadata": {"name": f"bench-{i:05d}-sli"}, "spec": spec},
            "objectives": [objective],
        },
    }


def generate_definitions(n: int, directory: Path, per_file: int = 100) -> Path:
    """Write `n` SLO definitions (OpenSLO v1, `per_file` documents a file) into `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    for start in range(0, n, per_file):
        docs = [_slo(i) for i in range(start, min(n, start + per_file))]
        (directory / f"bench-{start // per_file:03d}.yaml").write_text(
            yaml.safe_dump_all(docs, sort_keys=False)
        )
    return directory


@dataclass(frozen=True)
class Measurement:
    slos: int
    seconds: float
    requests: int
    peak_rss_mb: float
    source: str
    page_seconds: float | None = None  # the SLOs page rendered (AppTest) on the same SLOs, cache empty
    page_requests: int | None = None
    page_again_seconds: float | None = None  # rendered again, its answers asked again: a warm server


def measure(
    fn: Callable[[list[SloDefinition], CountingClient], Any], definitions: list[SloDefinition], prom: Any
) -> tuple[float, int, Any]:
    """Run `fn(definitions, counting_client)`: wall time in seconds, Prometheus requests, its result."""
    client = CountingClient(prom)
    started = time.perf_counter()
    result = fn(definitions, client)
    return time.perf_counter() - started, client.requests, result


def _child(directory: Path, url: str, use_rules: bool, at: datetime | None = None) -> None:
    """One measurement in this (fresh) process, printed as JSON: the peak RSS is this process's. With
    `at`, the SLOs' status and the page are those of that instant (the hour written by `--written`)."""
    # AppTest runs scripts outside a server: Streamlit warns about the missing run context on every render.
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").disabled = True
    if at is not None:
        from app.sources import Sources

        Sources.now = lambda self: at  # type: ignore[method-assign]  # the page's "now": the written hour
    definitions = list(load_definitions(directory).definitions)
    prom = PrometheusClient(url, timeout=300)
    seconds, requests, statuses = measure(
        lambda d, c: compute_status(d, c, at, use_rules=None if use_rules else False), definitions, prom
    )
    sources = sorted({s.source for s in statuses})
    if at is not None:
        states = {s.state for s in statuses}
        print(f"[{len(statuses)} SLOs at {at:%H:%M}: {', '.join(sorted(states))}]", file=sys.stderr)
    page_seconds, page_requests, page_again = render_slos_page(directory, url)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    print(
        json.dumps(
            asdict(
                Measurement(
                    len(definitions),
                    seconds,
                    requests,
                    peak,
                    "+".join(sources),
                    page_seconds,
                    page_requests,
                    page_again,
                )
            )
        )
    )


def render_slos_page(directory: Path, url: str) -> tuple[float, int, float]:
    """Render pages/2_SLOs.py on these SLOs with an empty cache (the process's first page: definitions
    loaded, modules imported), then again with its answers asked again, as a running server does once
    they expire: both in seconds, and the Prometheus requests of the first."""
    from streamlit.testing.v1 import AppTest

    from app.config import current_config
    from app.sources.cache import default_cache
    from app.ui import _sources

    os.environ.update(SEXTANT_SLO_DEFINITIONS=str(directory), SEXTANT_PROMETHEUS_URL=url)
    prom = _sources(current_config()).prometheus
    timings = []
    for _ in range(2):
        default_cache.clear()
        before = prom.stats.snapshot().calls
        started = time.perf_counter()
        at = AppTest.from_file(str(REPO / "pages" / "2_SLOs.py"), default_timeout=600).run()
        timings.append((time.perf_counter() - started, prom.stats.snapshot().calls - before))
        if at.exception:
            raise SystemExit(f"SLOs page failed: {at.exception[0].value}")
    (first, requests), (again, _) = timings
    return first, requests, again


@contextlib.contextmanager
def private_prometheus(rules_file: Path, scrape_target: str, workdir: Path) -> Iterator[str]:
    """A throwaway Prometheus that scrapes `scrape_target` every 15 s and loads `rules_file`."""
    binary = shutil.which("prometheus")
    if binary is None:
        raise SystemExit(
            "no `prometheus` binary: install Debian's prometheus package, or pass --prometheus-url"
        )
    port = free_port()
    config = workdir / "prometheus.yml"
    config.write_text(
        yaml.safe_dump(
            {
                "global": {"scrape_interval": "15s", "evaluation_interval": "15s"},
                "rule_files": [str(rules_file)],
                "scrape_configs": [
                    {"job_name": "simulator", "static_configs": [{"targets": [scrape_target]}]}
                ],
            }
        )
    )
    log = (workdir / "prometheus.log").open("w")
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--storage.tsdb.retention.time=1d",
            "--web.enable-lifecycle",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        if not wait_until_ok(f"{url}/-/ready", 60, process):
            raise SystemExit(f"the benchmark's Prometheus did not start; see {workdir / 'prometheus.log'}")
        yield url
    finally:
        stop(process)
        log.close()


def load_rules(url: str, rules_file: Path, definitions: list[SloDefinition], timeout_s: float = 300) -> float:
    """Write the definitions' rules where the private Prometheus reads them, reload it, and wait until every
    SLO's rule group has been evaluated (its `slo:objective:ratio` exists): seconds waited."""
    # Without tiles: this Prometheus holds minutes of samples, and tiles stand for a period only once they
    # cover it (`app.slo.rules`), so no SLO would ever be recorded. With the period read raw, every SLO is,
    # and the page reads recorded series as it does once a deployment's tiles cover the period.
    rules_file.write_text(render_rules(definitions, tiles=False))
    httpx.post(f"{url}/-/reload", timeout=60).raise_for_status()
    started = time.monotonic()
    names = {d.name for d in definitions}
    while time.monotonic() - started < timeout_s:
        with contextlib.suppress(httpx.HTTPError, KeyError, ValueError):
            body = httpx.get(
                f"{url}/api/v1/query", params={"query": "slo:objective:ratio"}, timeout=30
            ).json()
            if names <= {r["metric"]["slo"] for r in body["data"]["result"]}:
                return time.monotonic() - started
        time.sleep(2)
    raise SystemExit(
        f"the generated rules of {len(names)} SLOs were not all evaluated within {timeout_s:.0f} s"
    )


def written_records(definitions: list[SloDefinition], hour: datetime) -> Rows:
    """Every SLO's records at `hour`, as the backfill writes them (`sextant_backfill="hourly"`, read only at
    their whole hour): 10 events a second in every window, and a share of bad ones that runs from none to
    twice the SLO's allowance, so that the board holds healthy, at-risk and exhausted SLOs."""
    rows: Rows = {OBJECTIVE: []}
    stamp = unix(hour)
    for i, defn in enumerate(definitions):
        rows[OBJECTIVE].append(({**objective_labels(defn), **HOURLY}, [(stamp, defn.target)]))
        allowance = (1 - defn.target) * 2 * (i % 100) / 100
        lengths = {w: parse_duration(w) for w in BURN_WINDOWS} | {PERIOD: defn.window.nominal}
        for window, length in lengths.items():
            total = 10.0 * length.total_seconds()
            for template, value in ((TOTAL, total), (BAD, total * allowance)):
                rows.setdefault(record_name(template, window), []).append(
                    ({**base_labels(defn), **HOURLY}, [(stamp, value)])
                )
    return rows


def write_records(url: str, data: Path, definitions: list[SloDefinition], timeout_s: float = 180) -> datetime:
    """Write the SLOs' records for the last whole hour into the Prometheus at `url` (data directory `data`)
    and wait until it reads them all: the hour written."""
    hour = start_of_hour(datetime.now(UTC))
    with tempfile.TemporaryDirectory(prefix="sextant-bench-blocks-") as tmp:
        for block in write_blocks(openmetrics(written_records(definitions, hour)), Path(tmp)):
            shutil.move(str(block), data / block.name)
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:  # Prometheus picks new blocks up within a minute
        with contextlib.suppress(httpx.HTTPError, KeyError, ValueError, IndexError):
            body = httpx.get(
                f"{url}/api/v1/query",
                params={"query": f"count({OBJECTIVE})", "time": unix(hour)},
                timeout=30,
            ).json()
            if int(body["data"]["result"][0]["value"][1]) >= len(definitions):
                return hour
        time.sleep(5)
    raise SystemExit(f"Prometheus did not read the written records of {len(definitions)} SLOs")


def run_child(
    directory: Path, url: str, use_rules: bool, at: datetime | None = None, *, parse_cache: bool = True
) -> Measurement:
    """Measure in a fresh process; without `parse_cache`, it parses every definition file's YAML (as the
    first process ever to read them does: an empty cache of its own) instead of reading back the documents
    an earlier one kept."""
    cache = os.environ["SEXTANT_CACHE"] if parse_cache else tempfile.mkdtemp(prefix="sextant-bench-cache-")
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(directory), "--prometheus-url", url]
        + ([] if use_rules else ["--no-rules"])
        + ([] if at is None else ["--at", at.isoformat()]),
        stdout=subprocess.PIPE,  # the child says on stderr what it measured
        text=True,
        check=True,
        cwd=REPO,
        env=os.environ | {"SEXTANT_CACHE": cache},
    )
    if not parse_cache:
        shutil.rmtree(cache, ignore_errors=True)
    return Measurement(**json.loads(out.stdout.strip().splitlines()[-1]))


def _simulator_up(target: str) -> bool:
    try:
        return httpx.get(f"http://{target}/metrics", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[10, 100, 1000])
    parser.add_argument(
        "--simulator",
        default=urlsplit(stack_url("SEXTANT_SIMULATOR_URL") or "http://127.0.0.1:19100").netloc,
        help="scrape target of the private Prometheus (default: the running stack's simulator)",
    )
    parser.add_argument("--prometheus-url", default=None, help="measure against this server instead")
    parser.add_argument("--warmup", type=float, default=75.0, help="seconds of scraping before measuring")
    parser.add_argument(
        "--written", type=int, nargs="*", default=[10000], help="SLO counts measured from written records"
    )
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--no-rules", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--at", type=datetime.fromisoformat, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child, args.prometheus_url, not args.no_rules, args.at)
        return 0

    rows: list[tuple[str, Measurement]] = []
    with tempfile.TemporaryDirectory(prefix="sextant-bench-slos-") as tmp:
        root = Path(tmp)
        os.environ["SEXTANT_CACHE"] = str(root / "cache")  # the generated SLOs' parsed documents: thrown away
        sets = {}
        for n in args.sizes:
            directory = generate_definitions(n, root / f"defs-{n}")
            loaded = load_definitions(directory)
            if loaded.errors:
                raise SystemExit(f"generated definitions are invalid: {loaded.errors[0]}")
            sets[n] = (directory, list(loaded.definitions))
        if args.prometheus_url:
            for directory, _ in sets.values():
                rows.append(("given server", run_child(directory, args.prometheus_url, True)))
        else:
            if not _simulator_up(args.simulator):
                raise SystemExit(f"the simulator is not reachable at {args.simulator}: run `make stack-up`")
            rules = root / "rules.yml"
            rules.write_text("groups: []\n")
            work = root / "prometheus"
            work.mkdir()
            with private_prometheus(rules, args.simulator, work) as url:
                print(
                    f"[private Prometheus at {url}: scraping the simulator for {args.warmup:.0f} s]",
                    file=sys.stderr,
                )
                time.sleep(args.warmup if sets else 0)  # a few scrapes, so the short windows have rates
                for n, (directory, definitions) in sets.items():
                    waited = load_rules(url, rules, definitions)
                    print(f"[{n} SLOs: rules loaded and evaluated after {waited:.0f} s]", file=sys.stderr)
                    # Pages evaluate at "now" floored to the minute: wait for a minute boundary after the
                    # first evaluation of every group, or the page would fall back to raw queries.
                    time.sleep(62 - time.time() % 60)
                    rows.append(("with rules", run_child(directory, url, True)))
                    rows.append(("without rules", run_child(directory, url, False)))
                rules.write_text("groups: []\n")  # the written records stand for the rules' own
                httpx.post(f"{url}/-/reload", timeout=60).raise_for_status()
                for n in args.written:
                    directory = generate_definitions(n, root / f"written-{n}")
                    definitions = list(load_definitions(directory).definitions)
                    hour = write_records(url, work / "data", definitions)
                    print(f"[{n} SLOs: records written for {hour:%H:%M}]", file=sys.stderr)
                    rows.append(("written", run_child(directory, url, True, hour)))
                    rows.append(("written, parsed", run_child(directory, url, True, hour, parse_cache=False)))
    print(
        f"{'SLOs':>6} {'path':14} {'compute_status':>15} {'requests':>9} {'page render':>12} "
        f"{'again':>8} {'page requests':>14} {'peak RSS':>9}"
    )
    for label, m in rows:
        print(
            f"{m.slos:>6} {label:14} {m.seconds:>13.2f} s {m.requests:>9} {m.page_seconds:>10.2f} s "
            f"{m.page_again_seconds:>6.2f} s "
            f"{m.page_requests:>14} {m.peak_rss_mb:>6.0f} MB"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

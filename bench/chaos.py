"""`make chaos`: faults injected for real between Sextant and each backend of the running stack.

Sextant reads Prometheus, OpenSearch and Jaeger through stack/chaos/proxy.py. For each backend and each
fault — its process killed or paused (the stack's own process, through stack/chaos/control.sh), 2 s of
added latency, 5xx answers, a reset mid-answer, malformed JSON, a slow trickle — every page that reads the
faulty backend is rendered (AppTest) and checked:
- no exception; it says so in a banner naming the backend and the fault in plain words, and finishes within
  the backend timeout plus a small constant;
- the other backends' panels keep their figures; where the faulty backend's panels still show figures, the
  banner says they are the last good data, with their age;
- once the fault is lifted the pages recover by themselves, without restarting Sextant (how long it took).
Which pages read which backend is measured, not listed: with every backend well, each page is rendered on
an aged cache and the backends it sent requests to are noted (and must agree with tests/page_views.READS,
which says how each page shows each backend's data).

Pages render in a few worker processes at once (bench/chaos_worker.py: long-lived Sextant processes, each
always rendering the same pages, with its own cache and circuit breakers). Before a cell's faulty render the
result cache is aged past every TTL (its clock is moved on), as if the fault had lasted longer than the
cache keeps an answer; otherwise the pages would show cached answers and never ask the faulty backend.
With OpenSearch killed, 20 views of an audited page (as an on-call engineer, under the shipped access file)
wait in the access spool, and once OpenSearch is restarted exactly those 20 access events must arrive, once
each (issue 10). Then one browser pass (tests/browser_support.py): with each backend paused, a fresh
server, every page that reads it viewed twice, with the time to settle.

Prints the table and exits 1 when a cell fails. Leaves the stack as it found it: a killed backend is
restarted on its data (Jaeger's traces, kept in memory only, are loaded again), a paused one resumed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.access.log import INDEX_PATTERN  # noqa: E402
from app.access.spool import Spool  # noqa: E402
from app.sources.cache import default_cache  # noqa: E402
from app.sources.errors import BACKEND_TITLES  # noqa: E402
from bench.chaos_worker import Request, Seen, serve  # noqa: E402
from stack.chaos.faults import INJECTED_503  # noqa: E402
from stack.chaos.faults import Fault as ProxyFault  # noqa: E402
from stack.chaos.proxy import FaultProxy, ProxyThread  # noqa: E402
from tests.access_support import EXAMPLE, GROUP_OF  # noqa: E402
from tests.page_views import BACKENDS, DATA_SOURCES, PAGES, READS, SAID_OF_A_BACKEND  # noqa: E402

# The backends whose faults are injected (Alertmanager, read by the Alerts page only, is left well and
# reached directly).
FAULTED = ("prometheus", "opensearch", "jaeger")
TIMEOUT_S = 5  # SEXTANT_<B>_TIMEOUT in the cells: a busy machine's healthy Prometheus may take 2-3 s
PATIENT_TIMEOUT_S = 30  # in the baseline, which asks every page's every question at once
SLACK_S = 4.0  # beyond the timeout and its drawing: the deadline's second, a draw-first run and its rerun
# How long each cell's fault has lasted when its pages are drawn: the cached answers kept for less (every
# answer about the present) are too old to serve, those kept longer (a finished week's, a past instant's:
# their data no longer changes) are still fresh, as in a real ten-minute outage.
FAULT_LASTED_S = 600.0
RECOVERY_LIMIT_S = 60.0  # the Weekly review asks Prometheus ~290 questions: on a busy machine, a minute
WORKERS = 3
TABS = 4  # browser tabs at once
CONTROL = ROOT / "stack" / "chaos" / "control.sh"
# Backends whose data lives in another: when that one fails, so do their panels (Jaeger stores its traces in
# the stack's OpenSearch, so an OpenSearch fault takes Jaeger's answers down too).
DEPENDS_ON: dict[str, frozenset[str]] = {"jaeger": frozenset({"opensearch"})}
SPOOL_VIEWS = 20
AUDITED_PAGE = "pages/11_Logs.py"  # audited, and on-call engineers may open it


@dataclass(frozen=True)
class Fault:
    name: str
    proxy: ProxyFault = ProxyFault.NONE  # what the proxy does meanwhile
    process: str | None = None  # control.sh action on the backend's process: kill or pause
    says: tuple[str, ...] = ()  # the banner holds one of these
    banner_due: bool = True  # False: the pages may show the backend's figures instead


# What a page may say of a backend that answers, slowly: the small answers of a trickle do arrive.
SLOW = ("slow to answer", "has not answered yet", "still loading", "no answer within", "ran out of time")
FAULTS = (
    # behind the chaos proxy a killed backend's connections are reset, as a TCP proxy does (plain_reason)
    Fault("killed", process="kill", says=("connection refused", "the connection was cut")),
    Fault("paused", process="pause", says=("no answer within",)),
    Fault("2 s latency", ProxyFault.LATENCY, says=SLOW, banner_due=False),
    Fault("5xx", ProxyFault.ERROR, says=(INJECTED_503,)),
    Fault("reset mid-answer", ProxyFault.RESET, says=("the connection was cut",)),
    Fault("malformed JSON", ProxyFault.MALFORMED, says=("did not answer with",)),
    Fault("slow trickle", ProxyFault.TRICKLE, says=SLOW, banner_due=False),
)


@dataclass
class Cell:
    backend: str
    fault: Fault
    seconds: float = 0.0  # the whole cell: fault, pages, lift, recovery
    slowest: tuple[float, str, float] = (0.0, "", 0.0)  # seconds, page, the page's limit
    # Pages that showed the faulty backend's last good data, of the pages that had some to show.
    last_good: tuple[int, int] = (0, 0)
    recovered_s: float | None = None
    banner_problems: list[str] = field(default_factory=list)
    other_problems: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # exceptions, time, recovery, the spool
    spool: str = ""  # the access spool's check, in the cell that holds it

    @property
    def passed(self) -> bool:
        return not (self.banner_problems or self.other_problems or self.problems)


@dataclass
class BrowserRow:
    backend: str
    first: dict[str, float] = field(default_factory=dict)  # page -> seconds to settle
    repeat: dict[str, float] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def control(action: str, backend: str) -> str:
    done = subprocess.run(["bash", str(CONTROL), action, backend], capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"control.sh {action} {backend} failed: {done.stderr.strip()}")
    return done.stdout.strip()


class Renderers:
    """Worker processes rendering pages side by side; a page always goes to the same worker."""

    def __init__(self, count: int) -> None:
        spawn = multiprocessing.get_context("spawn")  # no fork of this process's proxy thread
        self.conns: list[Connection] = []
        self.processes = []
        for _ in range(count):
            ours, theirs = spawn.Pipe()
            process = spawn.Process(target=serve, args=(theirs,), daemon=True)
            process.start()
            self.conns.append(ours)
            self.processes.append(process)
        self.offset = 0.0  # the result cache's clock, moved on
        self.cell, self.expire = 0, frozenset(BACKENDS)

    def worker_of(self, page: str) -> int:
        return PAGES.index(page) % len(self.conns)

    def new_cell(self, expire: frozenset[str]) -> None:
        """From the next request on, the cached answers that came from `expire` are too old to serve."""
        self.cell, self.expire = self.cell + 1, expire

    def request(self, page: str, **options: Any) -> Request:
        return Request(page, self.offset, self.cell, self.expire, FAULT_LASTED_S, **options)

    def next_refresh(self) -> None:
        """The time of the pages' next refresh: their failures, remembered a few seconds so that reruns
        do not wait for the same timeout again, are forgotten by then (the shortest auto-refresh is
        longer), their answers are not. The cache's clock moves only so (see bench/chaos_worker.py)."""
        self.offset += default_cache.error_ttl_s

    def pages(self, pages: Iterable[str], env: dict[str, str] | None = None) -> dict[str, Seen]:
        requests = [self.request(page, env=env or {}) for page in pages]
        return {seen.page: seen for seen in self.run([(self.worker_of(r.page), r) for r in requests])}

    def run(self, jobs: list[tuple[int, Request]]) -> list[Seen]:
        """Each job on its worker, each worker's jobs one after the other; the results in job order."""
        queues: dict[int, deque[tuple[int, Request]]] = {}
        for n, (worker, request) in enumerate(jobs):
            queues.setdefault(worker, deque()).append((n, request))
        results: list[Seen | None] = [None] * len(jobs)
        busy: dict[Connection, tuple[int, int]] = {}

        def send_next(worker: int) -> None:
            if queues.get(worker):
                n, request = queues[worker].popleft()
                self.conns[worker].send(request)
                busy[self.conns[worker]] = (worker, n)

        for worker in queues:
            send_next(worker)
        while busy:
            for conn in wait(list(busy)):
                worker, n = busy.pop(conn)  # type: ignore[call-overload]
                results[n] = conn.recv()  # type: ignore[union-attr]
                send_next(worker)
        return [r for r in results if r is not None]

    def close(self) -> None:
        for conn in self.conns:
            with contextlib.suppress(OSError):  # that worker has ended already
                conn.send(None)
        for process in self.processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()


def baseline(renderers: Renderers) -> tuple[dict[str, Seen], dict[str, frozenset[str]], dict[str, float]]:
    """Every page with every backend well, each on an empty cache, once it shows all its figures (a cold
    process on a busy machine may need more than one run); the backends each page asked; and how long
    each may take under a fault: the timeout, SLACK_S and twice its drawing time, measured here on a
    warm cache (a page draws twice when an answer lands after it drew: the machine's load counts too)."""
    seen: dict[str, Seen] = {}
    asked: dict[str, set[str]] = {page: set() for page in PAGES}
    todo = list(PAGES)
    renderers.new_cell(frozenset(BACKENDS))
    # Clients of their own, patient ones (the cache is shared: it holds no timeouts): on a busy machine a
    # healthy backend may answer a whole cold page slowly.
    patient = {f"SEXTANT_{b.upper()}_TIMEOUT": str(PATIENT_TIMEOUT_S) for b in BACKENDS}
    for _ in range(3):
        renderers.next_refresh()
        for page, drawn in renderers.pages(todo, patient).items():
            seen[page] = drawn
            asked[page] |= drawn.used
        todo = [p for p in todo if seen[p].gave_up or not all(seen[p].data.values())]
        if not todo:
            break
    drawing = {page: drawn.seconds for page, drawn in renderers.pages(PAGES).items()}
    limits = {page: TIMEOUT_S + SLACK_S + 2 * drawing[page] for page in PAGES}
    return seen, {page: frozenset(names) for page, names in asked.items()}, limits


def inject(fault: Fault, backend: str, proxy: FaultProxy) -> None:
    proxy.fault = fault.proxy
    if fault.process:
        control(fault.process, backend)


def lift(fault: Fault, backend: str, proxy: FaultProxy) -> None:
    proxy.fault = ProxyFault.NONE
    if fault.process == "kill":
        control("restart", backend)
    elif fault.process == "pause":
        control("resume", backend)


def affected(backend: str) -> frozenset[str]:
    """The faulty backend and those whose data lives in it."""
    return frozenset({backend, *(b for b, on in DEPENDS_ON.items() if backend in on)})


def run_cell(
    backend: str,
    fault: Fault,
    proxy: FaultProxy,
    renderers: Renderers,
    reads: dict[str, frozenset[str]],
    limits: dict[str, float],
) -> Cell:
    started = time.perf_counter()
    cell = Cell(backend, fault)
    pages = [page for page in PAGES if reads[page] & affected(backend)]
    spool = SpoolCheck(renderers) if (backend, fault.name) == ("opensearch", "killed") else None
    inject(fault, backend, proxy)
    try:
        renderers.new_cell(affected(backend))
        drawn = renderers.pages(pages)
        if spool is not None:
            spool.views()
    finally:
        lift(fault, backend, proxy)
    for page in drawn.values():
        judge(cell, page, reads, limits[page.page])
    cell.recovered_s, still = recover(backend, pages, renderers)
    for page, said in still.items():
        cell.problems.append(
            f"{page}: not recovered {RECOVERY_LIMIT_S:g} s after the fault was lifted: {said}"
        )
    if spool is not None:
        cell.spool = spool.arrived(proxy.upstream)
        if not cell.spool.startswith("ok"):
            cell.problems.append(f"access spool: {cell.spool}")
    cell.seconds = time.perf_counter() - started
    return cell


def judge(cell: Cell, drawn: Seen, reads: dict[str, frozenset[str]], limit_s: float) -> None:
    """Check one page drawn under the fault (its healthy panels are those with figures before any fault:
    the baseline required them all)."""
    page, faulty = drawn.page, affected(cell.backend)
    title = BACKEND_TITLES[cell.backend]
    if drawn.gave_up:
        cell.problems.append(f"{page}: {drawn.gave_up}")
        return
    if drawn.exceptions:
        cell.problems.append(f"{page}: exception {drawn.exceptions[0][:200]}")
    for other in reads[page] - faulty:
        if drawn.banners[other]:
            cell.other_problems.append(
                f"{page}: {BACKEND_TITLES[other]}'s panels not current: {drawn.banners[other]}"
            )
        elif not drawn.data[other]:
            cell.other_problems.append(f"{page}: {BACKEND_TITLES[other]}'s panels lost their figures")
    cell.slowest = max(cell.slowest, (drawn.seconds, page, limit_s))
    if drawn.seconds > limit_s:
        cell.problems.append(f"{page}: {drawn.seconds:.1f} s, more than its {limit_s:.1f} s")
    if cell.backend not in reads[page]:
        return  # it reads a backend whose data lives in the faulty one: judged as that backend
    banner = drawn.banners[cell.backend]
    if banner is None and not drawn.asked & faulty:
        if not drawn.data[cell.backend]:  # every answer it needed was still fresh: it had no reason to ask
            cell.banner_problems.append(f"{page}: asked {title} nothing, yet shows none of its figures")
        return
    if banner is None:
        if cell.fault.banner_due:
            cell.banner_problems.append(f"{page}: no banner names {title}")
        elif not drawn.data[cell.backend]:
            cell.banner_problems.append(f"{page}: {title}'s panels have no figures, and no banner says why")
        return
    if not any(words in banner for words in cell.fault.says):
        cell.banner_problems.append(f"{page}: the banner does not name the fault: {banner}")
    if page != DATA_SOURCES:  # Data sources probes afresh, keeps nothing
        shown, of = cell.last_good
        if drawn.data[cell.backend]:
            if "last good" not in banner:
                cell.banner_problems.append(f"{page}: {title}'s old figures shown as current")
            shown += 1
        cell.last_good = (shown, of + 1)


def recover(backend: str, pages: list[str], renderers: Renderers) -> tuple[float | None, dict[str, str]]:
    """Seconds from the lift until the last of `pages` draws `backend` as well as before the fault, each
    rendered again (on the cache as it is: no ageing) until it does; what the pages that did not within
    RECOVERY_LIMIT_S show."""
    started = time.perf_counter()
    waiting = {page: "" for page in pages}
    while True:
        renderers.next_refresh()
        seen = renderers.pages(waiting)
        waiting = {page: why for page, drawn in seen.items() if (why := unrecovered(drawn, backend))}
        if not waiting:
            return time.perf_counter() - started, {}
        if time.perf_counter() - started > RECOVERY_LIMIT_S:
            return None, waiting
        time.sleep(0.5)


def unrecovered(drawn: Seen, backend: str) -> str:
    """Why the page does not show `backend` (and what depends on it) as before the fault; empty when it
    does."""
    if drawn.gave_up:
        return drawn.gave_up
    if drawn.exceptions:
        return f"exception {drawn.exceptions[0][:200]}"
    for name in sorted(affected(backend) & set(drawn.data)):
        if banner := drawn.banners[name]:
            return banner
        if not drawn.data[name]:
            return f"no {BACKEND_TITLES[name]} figures"
    return ""


class SpoolCheck:
    """Issue 10, for real: with OpenSearch killed, SPOOL_VIEWS views of an audited page by one on-call
    engineer wait in the access spool (one spool per worker: each is its own Sextant process); once
    OpenSearch runs again, exactly those events must be stored in it, each once."""

    def __init__(self, renderers: Renderers) -> None:
        self.renderers = renderers
        self.folder = Path(tempfile.mkdtemp(prefix="sextant-chaos-spool-"))
        self.user = f"chaos-spool-{uuid.uuid4().hex[:8]}@example.com"
        self.waiting: list[dict] = []
        self.problems: list[str] = []

    def spool_of(self, worker: int) -> Path:
        return self.folder / f"worker-{worker}.jsonl"

    def views(self) -> None:
        count = len(self.renderers.conns)
        jobs = [
            (
                n % count,
                self.renderers.request(
                    AUDITED_PAGE,
                    params={"q": f"chaos-view-{n}"},
                    user={"email": self.user, "groups": GROUP_OF["oncall"]},
                    env={
                        "SEXTANT_ACCESS_FILE": str(EXAMPLE),
                        "SEXTANT_ACCESS_SPOOL": str(self.spool_of(n % count)),
                    },
                ),
            )
            for n in range(SPOOL_VIEWS)
        ]
        for seen in self.renderers.run(jobs):
            if seen.gave_up or seen.exceptions or seen.title != "Logs":
                self.problems.append(f"a view did not draw: {seen.gave_up or seen.exceptions or seen.title}")
        self.waiting = [d for w in range(count) for d in Spool(self.spool_of(w), 1000).pending()]

    def arrived(self, opensearch: tuple[str, int] | None, within_s: float = 60.0) -> str:
        """'ok: …' when the spooled events are stored, each once; otherwise what is wrong."""
        params = sorted(d["params"] for d in self.waiting)
        if params != sorted(f"q=chaos-view-{n}" for n in range(SPOOL_VIEWS)):
            self.problems.append(f"{len(self.waiting)} events waited in the spool, not {SPOOL_VIEWS}")
        spools = [self.spool_of(w) for w in range(len(self.renderers.conns))]
        ends = time.monotonic() + within_s
        while sum(Spool(p, 1000).count() for p in spools) and time.monotonic() < ends:
            time.sleep(0.5)
        if left := sum(Spool(p, 1000).count() for p in spools):
            self.problems.append(
                f"{left} events still in the spool {within_s:g} s after OpenSearch came back"
            )
        assert opensearch is not None
        stored = stored_ids(f"http://{opensearch[0]}:{opensearch[1]}", self.user)
        if sorted(stored) != sorted(d["id"] for d in self.waiting):
            self.problems.append(
                f"OpenSearch holds {len(stored)} access events ({len(set(stored))} distinct) for the "
                f"{len(self.waiting)} spooled"
            )
        if self.problems:
            return "; ".join(self.problems)
        return f"ok: {len(stored)} of {SPOOL_VIEWS} views stored once each"


def stored_ids(opensearch_url: str, user: str) -> list[str]:
    """The document ids of `user`'s access events (copies included)."""
    httpx.post(f"{opensearch_url}/{INDEX_PATTERN}/_refresh", timeout=30)
    body = {"size": 1000, "query": {"term": {"user": user}}, "_source": False}
    hits = httpx.post(f"{opensearch_url}/{INDEX_PATTERN}/_search", json=body, timeout=30)
    if hits.status_code == 404:  # no access index at all
        return []
    hits.raise_for_status()
    return [h["_id"] for h in hits.json()["hits"]["hits"]]


def route(page: str) -> str:
    return "/" if "/" not in page else "/" + Path(page).stem.split("_", 1)[1]


def browser_pass(backends: list[str], reads: dict[str, frozenset[str]]) -> list[BrowserRow]:
    """With each backend paused and a fresh server (nothing cached), every page that reads it viewed
    twice, each in its own tab, TABS pages at a time (as a few people would open them). The server first
    serves Data sources with every backend well (it caches no answer), so that its own start-up is not
    counted in the first page's time."""
    from tests.browser_support import served_app

    rows = []
    for backend in backends:
        with served_app(dict(os.environ)) as base:
            rows.append(
                asyncio.run(_paused_views(base, backend, [p for p in PAGES if reads[p] & affected(backend)]))
            )
    return rows


async def _paused_views(base: str, backend: str, pages: list[str]) -> BrowserRow:
    from playwright.async_api import async_playwright

    from tests.browser_support import CHROMIUM, CHROMIUM_ARGS

    row = BrowserRow(backend)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        tab = await browser.new_page()
        await tab.goto(base + route(DATA_SOURCES))
        await _settled(tab)
        await tab.close()
        control("pause", backend)
        try:
            at_once = asyncio.Semaphore(TABS)

            async def views(page: str) -> None:
                async with at_once:
                    tab = await browser.new_page(viewport={"width": 1400, "height": 1000})
                    for seconds in (row.first, row.repeat):
                        started = time.perf_counter()
                        await tab.goto(base + route(page))
                        await _settled(tab)
                        seconds[page] = time.perf_counter() - started
                        row.problems += await browser_problems(tab, page, backend)
                    await tab.close()

            await asyncio.gather(*(views(page) for page in pages))
        finally:
            control("resume", backend)
            await browser.close()
    return row


async def _settled(tab, timeout_ms: int = 90_000) -> None:
    """As tests/browser_support.wait_for_app: connected, script finished, no skeletons left."""
    await tab.wait_for_selector(
        "[data-testid='stApp'][data-test-connection-state='CONNECTED']", timeout=timeout_ms
    )
    await tab.wait_for_selector(
        "[data-testid='stApp'][data-test-script-state='notRunning']", timeout=timeout_ms
    )
    await tab.wait_for_function("!document.querySelector(\"[data-testid='stSkeleton']\")", timeout=timeout_ms)


async def browser_problems(tab, page: str, backend: str) -> list[str]:
    problems = []
    if await tab.locator("[data-testid='stException']").count():
        problems.append(f"{page}: exception on screen")
    text = await tab.inner_text("body")
    titles = [BACKEND_TITLES[b] for b in sorted(affected(backend))]
    said = (
        ["Probe failed"]
        if page == DATA_SOURCES
        else [f"{title} {words}" for title in titles for words in SAID_OF_A_BACKEND]
    )
    if not any(words in text for words in said):
        problems.append(f"{page}: no banner names {' or '.join(titles)}")
    return problems


def print_reads(reads: dict[str, frozenset[str]]) -> None:
    print("Pages by the backends they asked, every backend well:")
    for backend in BACKENDS:
        pages = [Path(p).stem for p in PAGES if backend in reads[p]]
        print(f"  {BACKEND_TITLES[backend]:10}  {len(pages)}: {', '.join(pages)}")


def print_table(cells: list[Cell], rows: list[BrowserRow]) -> None:
    print(
        f"\nmake chaos: the pages that read the faulty backend, through the chaos proxy, in parallel; "
        f"the faulty backend's timeout {TIMEOUT_S} s, a page may take {TIMEOUT_S} + {SLACK_S:g} s + twice "
        "its drawing time (render: seconds / limit)\n"
    )
    header = ("backend", "fault", "render (slowest page)", "banner", "others", "last good", "recovered")
    header += ("time", "cell")
    widths = (10, 16, 30, 6, 6, 9, 9, 5, 4)
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    for cell in cells:
        seconds, page, limit = cell.slowest
        shown, of = cell.last_good
        values = (
            BACKEND_TITLES[cell.backend],
            cell.fault.name,
            f"{seconds:.1f}/{limit:.1f} s ({Path(page).stem})" if page else "—",
            "FAIL" if cell.banner_problems else "ok",
            "FAIL" if cell.other_problems else "ok",
            f"{shown}/{of}" if of else "—",
            f"{cell.recovered_s:.1f} s" if cell.recovered_s is not None else "NO",
            f"{cell.seconds:.0f} s",
            "pass" if cell.passed else "FAIL",
        )
        print("  ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)))
    for cell in cells:
        if cell.spool:
            print(f"\nAccess spool, {BACKEND_TITLES[cell.backend]} {cell.fault.name}: {cell.spool}")
    if rows:
        print(
            f"\nBrowser, each backend paused, fresh server, {TABS} tabs at once: seconds to settle, "
            "first view / repeat view"
        )
    for row in rows:
        first, repeat = list(row.first.values()), list(row.repeat.values())
        slowest = max(row.first, key=row.first.__getitem__)
        print(
            f"{BACKEND_TITLES[row.backend]:10}  {len(first)} pages read it: first median "
            f"{statistics.median(first):.1f} max {max(first):.1f} ({Path(slowest).stem}), repeat median "
            f"{statistics.median(repeat):.1f} max {max(repeat):.1f}; "
            + ("ok" if not row.problems else "FAIL")
        )
    failures = [
        f"{BACKEND_TITLES[c.backend]} {c.fault.name}: {p}"
        for c in cells
        for p in c.problems + c.banner_problems + c.other_problems
    ] + [f"browser, {BACKEND_TITLES[r.backend]} paused: {p}" for r in rows for p in r.problems]
    if failures:
        print("\nWhat failed:")
        for line in failures:
            print(f"- {line}")


def stop_on_term(*_args: object) -> None:
    raise SystemExit("terminated")  # so that every finally resumes or restarts what it stopped


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", action="append", choices=FAULTED, help="only these (default: all)")
    parser.add_argument(
        "--fault", action="append", choices=[f.name for f in FAULTS], help="only these (default: all)"
    )
    parser.add_argument("--no-browser", action="store_true", help="skip the browser pass")
    parser.add_argument(
        "--browser-backend",
        action="append",
        choices=FAULTED,
        help="the browser pass pauses only these (default: each faulted backend in turn)",
    )
    parser.add_argument("--workers", type=int, default=WORKERS, help=f"pages rendered at once ({WORKERS})")
    return parser.parse_args()


def configure(proxy: dict[str, FaultProxy], folder: str) -> None:
    """This process's environment, which the workers and the browser pass's server inherit."""
    os.environ.pop("SEXTANT_SNAPSHOT", None)
    for backend in FAULTED:
        os.environ[f"SEXTANT_{backend.upper()}_URL"] = proxy[backend].url
    for backend in BACKENDS:  # a page's deadline is its slowest backend's timeout: every one's, the same
        os.environ[f"SEXTANT_{backend.upper()}_TIMEOUT"] = str(TIMEOUT_S)
    os.environ["SEXTANT_ACCESS_SPOOL"] = f"{folder}/access-spool.jsonl"  # not the checkout's var/


def main() -> int:
    args = arguments()
    signal.signal(signal.SIGTERM, stop_on_term)
    started = time.perf_counter()
    upstreams = {b: control("address", b).rsplit(":", 1) for b in FAULTED}
    cells: list[Cell] = []
    rows: list[BrowserRow] = []
    with ProxyThread() as proxies, tempfile.TemporaryDirectory(prefix="sextant-chaos-") as folder:
        proxy = {b: proxies.add(b, (host, int(port))) for b, (host, port) in upstreams.items()}
        configure(proxy, folder)
        renderers = Renderers(args.workers)
        try:
            healthy, reads, limits = baseline(renderers)
            broken = [p for p, s in healthy.items() if s.gave_up or s.exceptions]
            if broken:
                print(f"make chaos: pages fail with every backend well: {broken}", file=sys.stderr)
                return 1
            missing = sorted(
                (p, b, s.banners[b] or "no banner")
                for p, s in healthy.items()
                for b, ok in s.data.items()
                if not ok
            )
            if missing:
                print(f"make chaos: no figures even with every backend well: {missing}", file=sys.stderr)
                return 1
            print_reads(reads)
            if wrong := {p: sorted(reads[p] ^ READS[p]) for p in PAGES if reads[p] != READS[p]}:
                print(f"make chaos: tests/page_views.READS is wrong for {wrong}", file=sys.stderr)
                return 1
            print(f"  baseline: {time.perf_counter() - started:.0f} s", flush=True)
            for backend in args.backend or FAULTED:
                for fault in [f for f in FAULTS if not args.fault or f.name in args.fault]:
                    cells.append(run_cell(backend, fault, proxy[backend], renderers, reads, limits))
                    cell = cells[-1]
                    print(
                        f"  {BACKEND_TITLES[backend]}, {fault.name}: {'pass' if cell.passed else 'FAIL'} "
                        f"({cell.seconds:.0f} s)",
                        flush=True,
                    )
            renderers.close()
            if not args.no_browser:
                rows = browser_pass(args.browser_backend or args.backend or list(FAULTED), reads)
        except RuntimeError as exc:  # control.sh could not restart or resume a backend: stop here
            print_table(cells, rows)
            print(f"\nmake chaos stopped: {exc}", file=sys.stderr)
            return 1
        finally:
            renderers.close()
    print_table(cells, rows)
    print(f"\nmake chaos took {time.perf_counter() - started:.0f} s")
    return 0 if all(c.passed for c in cells) and not any(r.problems for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())

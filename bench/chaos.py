"""`make chaos`: faults injected for real between Sextant and each backend of the running stack.

Sextant (every page, AppTest, in this process) reads Prometheus, OpenSearch and Jaeger through
stack/chaos/proxy.py. For each backend and each fault — its process killed or paused (the stack's own
process, through stack/chaos/control.sh), 2 s of added latency, 5xx answers, a reset mid-answer, malformed
JSON, a slow trickle — every page is rendered and checked:
- no exception; every page that reads the faulty backend says so in a banner naming it and the fault in
  plain words, and finishes within the backend timeout plus a small constant;
- the other backends' panels keep their figures; where the faulty backend's panels still show figures, the
  banner says they are the last good data, with their age;
- once the fault is lifted the pages recover by themselves, without restarting Sextant (how long it took).
Before the faulty render the result cache is aged past every TTL (its clock is moved on), as if the fault
had lasted longer than the cache keeps an answer; otherwise the pages would show cached answers and never
ask the faulty backend. Then one browser pass (tests/browser_support.py): with each backend paused, a fresh
server, every page viewed twice, with the time to settle.

Prints the table and exits 1 when a cell fails. Leaves the stack as it found it: a killed backend is
restarted on its data (Jaeger's traces, kept in memory only, are loaded again), a paused one resumed.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.sources.cache import default_cache  # noqa: E402
from app.sources.errors import BACKEND_TITLES  # noqa: E402
from stack.chaos.faults import INJECTED_503  # noqa: E402
from stack.chaos.faults import Fault as ProxyFault  # noqa: E402
from stack.chaos.proxy import FaultProxy, ProxyThread  # noqa: E402
from tests.page_views import BACKENDS, DATA_SOURCES, PAGES, READS, Drawn, render  # noqa: E402

TIMEOUT_S = 5  # SEXTANT_<B>_TIMEOUT for the run: the 2 s of added latency plus the backend's own time
SLACK_S = 2.0  # what a page may take beyond the timeout: drawing, and AppTest's own overhead
RECOVERY_LIMIT_S = 30.0
# Backends whose data lives in another: when that one fails, so do their panels (Jaeger stores its traces in
# OpenSearch, so an OpenSearch fault takes Jaeger's answers down too).
DEPENDS_ON: dict[str, frozenset[str]] = {"jaeger": frozenset({"opensearch"})}
CONTROL = ROOT / "stack" / "chaos" / "control.sh"


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
    Fault("killed", process="kill", says=("cannot reach",)),
    Fault("paused", process="pause", says=("no answer within",)),
    Fault("2 s latency", ProxyFault.LATENCY, says=SLOW, banner_due=False),
    Fault("5xx", ProxyFault.ERROR, says=(INJECTED_503,)),
    Fault("reset mid-answer", ProxyFault.RESET, says=("cannot reach",)),
    Fault("malformed JSON", ProxyFault.MALFORMED, says=("did not answer with",)),
    Fault("slow trickle", ProxyFault.TRICKLE, says=SLOW, banner_due=False),
)


@dataclass
class Cell:
    backend: str
    fault: Fault
    slowest: tuple[float, str] = (0.0, "")
    # Pages that showed the faulty backend's last good data, of the pages that had some to show.
    last_good: tuple[int, int] = (0, 0)
    recovered_s: float | None = None
    banner_problems: list[str] = field(default_factory=list)
    other_problems: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # exceptions, time, recovery

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


class CacheClock:
    """The result cache's clock, which `age` moves past every TTL and remembered failure."""

    def __init__(self) -> None:
        self.offset = 0.0
        assert hasattr(default_cache, "_clock"), "app.sources.cache.ResultCache has no _clock to age"
        default_cache._clock = self

    def __call__(self) -> float:
        return time.monotonic() + self.offset

    def age(self) -> None:
        self.offset += 3600.0


def render_page(page: str) -> Drawn | str:
    try:
        return render(page, timeout_s=60)
    except RuntimeError as exc:  # AppTest gave up waiting
        return f"{page}: {exc}"


def warm(page: str, tries: int = 3) -> Drawn | str:
    """The page with every backend well, once it shows all its figures (a cold cache on a busy machine may
    need more than one run); also what a running server has imported and parsed."""
    for _ in range(tries):
        drawn = render_page(page)
        if isinstance(drawn, str) or all(drawn.has_data(b) for b in READS[page]):
            break
    return drawn


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


def run_cell(backend: str, fault: Fault, proxy: FaultProxy, clock: CacheClock, able: set) -> Cell:
    cell = Cell(backend, fault)
    inject(fault, backend, proxy)
    try:
        clock.age()
        drawn = [render_page(page) for page in PAGES]
    finally:
        lift(fault, backend, proxy)
    for page in drawn:
        if isinstance(page, str):
            cell.problems.append(page)
        else:
            judge(cell, page, able)
    cell.recovered_s, still = recover(backend, able)
    for page, said in still.items():
        cell.problems.append(
            f"{page}: not recovered {RECOVERY_LIMIT_S:g} s after the fault was lifted: {said}"
        )
    return cell


def affected(backend: str) -> frozenset[str]:
    """The faulty backend and those whose data lives in it."""
    return frozenset({backend, *(b for b, on in DEPENDS_ON.items() if backend in on)})


def judge(cell: Cell, drawn: Drawn, able: set) -> None:
    """Check one page drawn under the fault; `able` holds the (page, backend) panels that had figures
    before any fault."""
    backend, page = cell.backend, drawn.page
    title = BACKEND_TITLES[backend]
    if drawn.exceptions():
        cell.problems.append(f"{page}: exception {drawn.exceptions()[0][:200]}")
    for other in READS[page] - affected(backend):
        if drawn.banner(other):
            cell.other_problems.append(
                f"{page}: {BACKEND_TITLES[other]}'s panels not current: {drawn.banner(other)}"
            )
        elif (page, other) in able and not drawn.has_data(other):
            cell.other_problems.append(f"{page}: {BACKEND_TITLES[other]}'s panels lost their figures")
    if backend not in READS[page]:
        return
    cell.slowest = max(cell.slowest, (drawn.seconds, page))
    if drawn.seconds > TIMEOUT_S + SLACK_S:
        cell.problems.append(f"{page}: {drawn.seconds:.1f} s, more than {TIMEOUT_S + SLACK_S:g} s")
    banner = drawn.banner(backend)
    if banner is None:
        if cell.fault.banner_due:
            cell.banner_problems.append(f"{page}: no banner names {title}")
        elif (page, backend) in able and not drawn.has_data(backend):
            cell.banner_problems.append(f"{page}: {title}'s panels have no figures, and no banner says why")
        return
    if not any(words in banner for words in cell.fault.says):
        cell.banner_problems.append(f"{page}: the banner does not name the fault: {banner}")
    if (page, backend) in able and page != DATA_SOURCES:  # Data sources probes afresh, keeps nothing
        shown, of = cell.last_good
        if drawn.has_data(backend):
            if "last good" not in banner:
                cell.banner_problems.append(f"{page}: {title}'s old figures shown as current")
            shown += 1
        cell.last_good = (shown, of + 1)


def recover(backend: str, able: set) -> tuple[float | None, dict[str, str]]:
    """Seconds from the lift until the first page that reads `backend` draws it again (how long Sextant
    takes to notice), then every other such page must too, each refreshed until it does; what the pages
    that did not within RECOVERY_LIMIT_S show."""
    started = time.perf_counter()
    first, *others = [page for page in PAGES if backend in READS[page]]
    while why := unrecovered(render_page(first), backend, able):
        if time.perf_counter() - started > RECOVERY_LIMIT_S:
            return None, {first: why}
        time.sleep(0.5)
    noticed = time.perf_counter() - started
    waiting = {page: "" for page in others}
    while True:
        waiting = {page: why for page in waiting if (why := unrecovered(render_page(page), backend, able))}
        if not waiting or time.perf_counter() - started > RECOVERY_LIMIT_S:
            return noticed, waiting
        time.sleep(1.0)


def unrecovered(drawn: Drawn | str, backend: str, able: set) -> str:
    """Why the page does not show `backend` as well as before the fault; empty when it does."""
    if isinstance(drawn, str):
        return drawn
    if drawn.exceptions():
        return f"exception {drawn.exceptions()[0][:200]}"
    if banner := drawn.banner(backend):
        return banner
    if (drawn.page, backend) in able and not drawn.has_data(backend):
        return "no figures"
    return ""


def route(page: str) -> str:
    return "/" if "/" not in page else "/" + Path(page).stem.split("_", 1)[1]


def browser_pass(backends: list[str]) -> list[BrowserRow]:
    """With each backend paused and a fresh server (nothing cached), every page viewed twice. The server
    first serves Data sources with every backend well (it caches no answer), so that its own start-up is
    not counted in the first page's time."""
    from playwright.sync_api import sync_playwright

    from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, served_app, wait_for_app

    rows = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        for backend in backends:
            row = BrowserRow(backend)
            with served_app(dict(os.environ)) as base:
                tab = browser.new_page(viewport={"width": 1400, "height": 1000})
                tab.goto(base + route(DATA_SOURCES))
                wait_for_app(tab, timeout_ms=90_000)
                control("pause", backend)
                try:
                    for page in PAGES:
                        for views in (row.first, row.repeat):
                            started = time.perf_counter()
                            tab.goto(base + route(page))
                            wait_for_app(tab, timeout_ms=90_000)
                            views[page] = time.perf_counter() - started
                            row.problems += browser_problems(tab, page, backend)
                finally:
                    control("resume", backend)
                tab.close()
            rows.append(row)
        browser.close()
    return rows


def browser_problems(tab, page: str, backend: str) -> list[str]:
    problems = []
    if tab.locator("[data-testid='stException']").count():
        problems.append(f"{page}: exception on screen")
    text = tab.inner_text("body")
    said = (
        "Probe failed"
        if page == "pages/20_Data_sources.py"
        else f"{BACKEND_TITLES[backend]} is not answering"
    )
    if backend in READS[page] and said not in text:
        problems.append(f"{page}: no banner names {BACKEND_TITLES[backend]}")
    return problems


def print_table(cells: list[Cell], rows: list[BrowserRow]) -> None:
    print(
        f"\nmake chaos: every page through the chaos proxy; backend timeout {TIMEOUT_S} s, a page may take "
        f"{TIMEOUT_S + SLACK_S:g} s\n"
    )
    header = (
        "backend",
        "fault",
        "render (slowest page)",
        "banner",
        "others",
        "last good",
        "recovered",
        "cell",
    )
    widths = (10, 16, 32, 6, 6, 9, 11, 4)
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    for cell in cells:
        seconds, page = cell.slowest
        shown, of = cell.last_good
        values = (
            BACKEND_TITLES[cell.backend],
            cell.fault.name,
            f"{seconds:.1f} s ({Path(page).stem})" if page else "—",
            "FAIL" if cell.banner_problems else "ok",
            "FAIL" if cell.other_problems else "ok",
            f"{shown}/{of}" if of else "—",
            f"{cell.recovered_s:.1f} s" if cell.recovered_s is not None else "NO",
            "pass" if cell.passed else "FAIL",
        )
        print("  ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)))
    if rows:
        print("\nBrowser, each backend paused, fresh server: seconds to settle, first view / repeat view")
    for row in rows:
        reading = [page for page in PAGES if row.backend in READS[page]]
        first = [row.first[p] for p in reading]
        repeat = [row.repeat[p] for p in reading]
        slowest = max(reading, key=row.first.__getitem__)
        print(
            f"{BACKEND_TITLES[row.backend]:10}  {len(reading)} pages read it: first median "
            f"{statistics.median(first):.1f} max {max(first):.1f} ({Path(slowest).stem}), repeat median "
            f"{statistics.median(repeat):.1f} max {max(repeat):.1f}; other pages max "
            f"{max(v for p, v in row.first.items() if p not in reading):.1f}; "
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
    parser.add_argument("--backend", action="append", choices=BACKENDS, help="only these (default: all)")
    parser.add_argument(
        "--fault", action="append", choices=[f.name for f in FAULTS], help="only these (default: all)"
    )
    parser.add_argument("--no-browser", action="store_true", help="skip the browser pass")
    return parser.parse_args()


def main() -> int:
    args = arguments()
    signal.signal(signal.SIGTERM, stop_on_term)
    started = time.perf_counter()
    upstreams = {b: control("address", b).rsplit(":", 1) for b in BACKENDS}
    with ProxyThread() as proxies:
        proxy = {b: proxies.add(b, (host, int(port))) for b, (host, port) in upstreams.items()}
        os.environ.pop("SEXTANT_SNAPSHOT", None)
        for backend in BACKENDS:
            os.environ[f"SEXTANT_{backend.upper()}_URL"] = proxy[backend].url
            os.environ[f"SEXTANT_{backend.upper()}_TIMEOUT"] = str(TIMEOUT_S)
        clock = CacheClock()
        baseline = [warm(page) for page in PAGES]
        broken = [
            d if isinstance(d, str) else d.page for d in baseline if isinstance(d, str) or d.exceptions()
        ]
        if broken:
            print(f"make chaos: pages fail with every backend well: {broken}", file=sys.stderr)
            return 1
        able = {(d.page, b) for d in baseline for b in READS[d.page] if d.has_data(b)}
        missing = sorted({(p, b) for p in PAGES for b in READS[p]} - able)
        if missing:
            print(f"make chaos: no figures even with every backend well: {missing}", file=sys.stderr)
            return 1
        cells: list[Cell] = []
        rows: list[BrowserRow] = []
        try:
            for backend in args.backend or BACKENDS:
                for fault in [f for f in FAULTS if not args.fault or f.name in args.fault]:
                    cells.append(run_cell(backend, fault, proxy[backend], clock, able))
                    verdict = "pass" if cells[-1].passed else "FAIL"
                    print(f"  {BACKEND_TITLES[backend]}, {fault.name}: {verdict}", flush=True)
            if not args.no_browser:
                rows = browser_pass(args.backend or BACKENDS)
        except RuntimeError as exc:  # control.sh could not restart or resume a backend: stop here
            print_table(cells, rows)
            print(f"\nmake chaos stopped: {exc}", file=sys.stderr)
            return 1
    print_table(cells, rows)
    print(f"\nmake chaos took {time.perf_counter() - started:.0f} s")
    return 0 if all(c.passed for c in cells) and not any(r.problems for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())

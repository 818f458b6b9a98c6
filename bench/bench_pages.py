"""Page render times against the live stack: the overview (cold and warm cache) and the other pages.

Prints, per page: render time with an empty result cache and again warm, the backend requests the cold
render made, the slowest single backend request among them, and the ratio of the cold render to that
slowest request (queries run concurrently, so a page should take little more than its slowest query),
the sum of all its requests' times (what the page would take if it asked one question at a time), and
the CPU time the stack's Prometheus spent on the cold render: on a machine with few cores that, not
the slowest query, is the floor of a page that asks many questions.
Every page is rendered once before measuring, as a running server would have: modules imported and
definition files parsed. Run with the stack up: `make bench` (or `python bench/bench_pages.py`).
"""

from __future__ import annotations

import os
import resource
import sys
import threading
import time
from pathlib import Path
from urllib.parse import parse_qsl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from streamlit.testing.v1 import AppTest  # noqa: E402

from app.config import current_config  # noqa: E402
from app.sources.cache import default_cache  # noqa: E402
from app.ui import _sources  # noqa: E402
from stack.addresses import run_dir, stack_url  # noqa: E402

PAGES = [
    ("Overview", "Overview.py"),
    ("Service health", "pages/1_Service_health.py"),
    ("SLOs", "pages/2_SLOs.py"),
    ("SLO detail", "pages/2_SLOs.py?slo=hmrc-submissions"),
    ("Ingestion", "pages/4_Ingestion.py"),
    ("Tax", "pages/6_Tax.py"),
    ("Readiness", "pages/8_Readiness.py"),
    ("Security", "pages/9_Security.py"),
]


class RequestTimer:
    """Times every HTTP request the three clients send (wrapping their shared transport layer)."""

    def __init__(self, sources) -> None:
        self.durations: list[float] = []
        self._lock = threading.Lock()
        for client in sources.clients():
            http = getattr(client, "_http", None)
            if http is not None:
                http.request = self._timed(http.request)

    def _timed(self, send):
        def request(*args, **kwargs):
            started = time.perf_counter()
            try:
                return send(*args, **kwargs)
            finally:
                with self._lock:
                    self.durations.append(time.perf_counter() - started)

        return request

    def take(self) -> list[float]:
        with self._lock:
            taken, self.durations = self.durations, []
        return taken


def prometheus_cpu_s() -> float | None:
    """User + system CPU seconds of the stack's Prometheus so far (None when its PID is not known here)."""
    pid_file = run_dir() / "pids" / "prometheus.pid"
    try:
        fields = Path(f"/proc/{pid_file.read_text().split()[0]}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def render(page: str) -> float:
    """Seconds to run `page` (a path, with `?name=value&…` for its URL parameters) once."""
    path, _, query = page.partition("?")
    started = time.perf_counter()
    at = AppTest.from_file(str(ROOT / path), default_timeout=300)
    for key, value in parse_qsl(query):
        at.query_params[key] = value
    at.run()
    elapsed = time.perf_counter() - started
    if at.exception:
        raise SystemExit(f"{page}: {at.exception[0].value}")
    return elapsed


def main() -> None:
    for name in ("SEXTANT_PROMETHEUS_URL", "SEXTANT_OPENSEARCH_URL", "SEXTANT_JAEGER_URL"):
        os.environ[name] = stack_url(name) or ""
    timer = RequestTimer(_sources(current_config()))
    for _, page in PAGES:  # a running server has imported everything and parsed its files once
        render(page)
    print(
        f"{'page':16} {'cold s':>7} {'warm s':>7} {'requests':>9} {'slowest s':>10} {'cold/slowest':>13}"
        f" {'sum of requests s':>18} {'Prometheus CPU s':>17}"
    )
    for name, page in PAGES:
        default_cache.clear()
        timer.take()
        cpu_before = prometheus_cpu_s()
        cold = render(page)
        cpu_after = prometheus_cpu_s()
        durations = timer.take()
        warm = render(page)
        slowest = max(durations, default=0.0)
        ratio = f"{cold / slowest:.2f}×" if slowest else "—"
        cpu = f"{cpu_after - cpu_before:.2f}" if cpu_before is not None and cpu_after is not None else "—"
        print(
            f"{name:16} {cold:7.2f} {warm:7.2f} {len(durations):9d} {slowest:10.3f} {ratio:>13}"
            f" {sum(durations):18.2f} {cpu:>17}"
        )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process: {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()

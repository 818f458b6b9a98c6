"""Pages under a hanging or slow backend: the overview answers within its timeout, a repeat view answers at
once, slow panels fill in, and the banners say what is shown instead (AppTest, no servers needed); and on
the real stack, OpenSearch frozen after a good view, then thawed."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from streamlit.testing.v1 import AppTest

from app import logs, overview
from app.config import load_config
from app.sources import build_sources
from app.sources.cache import ResultCache, default_cache
from app.sources.deadline import page_run
from app.timerange import time_range
from tests.browser_support import ROOT
from tests.faults import PausableProxy, SlowPrometheus, hanging_port


def run(page: str) -> tuple[AppTest, float]:
    at = AppTest.from_file(str(ROOT / page), default_timeout=60)
    started = time.perf_counter()
    at.run()
    elapsed = time.perf_counter() - started
    assert not at.exception, [e.value for e in at.exception]
    return at, elapsed


def banners(at: AppTest) -> list[str]:
    return [e.value for e in (*at.error, *at.warning, *at.info)]


@pytest.fixture
def only_prometheus(monkeypatch):
    for name in ("SEXTANT_OPENSEARCH_URL", "SEXTANT_JAEGER_URL", "SEXTANT_SNAPSHOT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SEXTANT_PROMETHEUS_TIMEOUT", "2")
    return monkeypatch


def test_overview_with_prometheus_hanging_answers_within_its_timeout_then_at_once(only_prometheus):
    only_prometheus.delenv("SEXTANT_PROMETHEUS_URL", raising=False)
    run("Overview.py")  # on the snapshot, untimed: what is measured below is the page, not the imports
    with hanging_port() as port:
        only_prometheus.setenv("SEXTANT_PROMETHEUS_URL", f"http://127.0.0.1:{port}")
        at, first = run("Overview.py")
        assert first < 4.0  # before: about three times the timeout, waves of queries each waiting it out
        assert any("Prometheus is not answering" in b and "no answer within 2 s" in b for b in banners(at))
        assert not at.success
        default_cache.clear()  # a later view: the failures the cache remembers for a few seconds are gone
        again, repeat = run("Overview.py")
        assert repeat < 1.5  # the breaker: no second wait for a backend known to hang
        assert any("down since" in b for b in banners(again))
        assert sum(1 for m in again.metric if m.value == "no data") >= 1 and not again.success


def test_a_slow_backend_fills_in_after_the_page_has_drawn(only_prometheus):
    only_prometheus.setenv("SEXTANT_PROMETHEUS_TIMEOUT", "10")
    with SlowPrometheus(delay_s=2.5) as prometheus:
        only_prometheus.setenv("SEXTANT_PROMETHEUS_URL", prometheus.url)
        at, elapsed = run("pages/1_Service_health.py")
    # Not the page's 11 s deadline (the 10 s timeout and a second): drawn again as soon as the answers landed,
    # with room for a busy machine.
    assert elapsed < 10.5
    assert prometheus.requests == 6  # each query once: the second drawing came from the cache
    assert not any("Prometheus" in b for b in banners(at))  # filled in: nothing left "still loading"


def test_a_page_drawn_again_to_fill_in_asks_for_the_minute_it_showed(only_prometheus, monkeypatch):
    import app.sources as sources_module

    clock = iter(datetime(2026, 11, 23, 9, 0, tzinfo=UTC) + timedelta(minutes=m) for m in range(100))
    monkeypatch.setattr(sources_module, "_clock_minute", lambda: next(clock))  # each reading a minute on
    only_prometheus.setenv("SEXTANT_PROMETHEUS_TIMEOUT", "10")
    with SlowPrometheus(delay_s=2.5) as prometheus:
        only_prometheus.setenv("SEXTANT_PROMETHEUS_URL", prometheus.url)
        at, _ = run("pages/1_Service_health.py")
    assert prometheus.requests == 6  # the second drawing found the first one's answers: no second wave
    assert not any("Prometheus" in b for b in banners(at)), banners(at)


def _problems_script() -> None:
    from datetime import UTC, datetime, timedelta

    from app import ui
    from app.sources.cache import Outcome
    from app.sources.errors import BackendUnavailable, StillLoading

    now = datetime(2026, 11, 23, 14, 5, tzinfo=UTC)
    fetched = datetime.now(UTC) - timedelta(minutes=3, seconds=5)
    timeout = BackendUnavailable("opensearch", "no answer within 10 s")
    ui.show_problems(
        [
            ("opensearch", Outcome("kept", timeout, fetched, True, now - timedelta(minutes=3))),
            ("opensearch", Outcome(None, timeout)),
            ("jaeger", Outcome(None, StillLoading())),
            ("prometheus", Outcome(None, BackendUnavailable("prometheus", "connection refused"))),
        ],
        now,
    )


def test_banners_say_what_is_shown_instead_one_per_backend():
    at = AppTest.from_function(_problems_script).run()
    assert not at.exception
    assert [w.value for w in at.warning] == [
        "**OpenSearch is not answering**: no answer within 10 s. Showing the last good data, for the window "
        "ending 14:02 UTC, fetched 3 min ago. Some of its panels are empty."
    ]
    assert [i.value for i in at.info] == [
        "**Jaeger is slow to answer**: its panels fill in as soon as it does."
    ]
    assert [e.value for e in at.error] == [
        "**Prometheus is not answering**: connection refused. Its panels are empty."
    ]


# -- on the real stack, one backend frozen -----------------------------------------------------------------


@pytest.fixture
def frozen_opensearch(live_stack):
    """The real stack with OpenSearch behind a proxy that can freeze it, its timeout 2 s."""
    with PausableProxy(live_stack.opensearch_url) as proxy:
        config = {
            "SEXTANT_PROMETHEUS_URL": live_stack.prometheus_url,
            "SEXTANT_OPENSEARCH_URL": proxy.url,
            "SEXTANT_JAEGER_URL": live_stack.jaeger_url,
            "SEXTANT_OPENSEARCH_TIMEOUT": "2",
        }
        yield proxy, build_sources(load_config(config))


MINUTE = timedelta(minutes=1)


@pytest.mark.integration
def test_logs_with_opensearch_frozen_cost_one_timeout_then_answer_at_once_and_recover(frozen_opensearch):
    proxy, sources = frozen_opensearch
    cache, now = ResultCache(), datetime.now(UTC).replace(second=0, microsecond=0)

    def logs_page(at: datetime) -> tuple[logs.Facets, logs.LogsPage, float]:
        """What the Logs page loads in one run: the pickers' facets, then the histogram and lines."""
        started = time.perf_counter()
        with page_run(sources.run_budget_s):
            tr = time_range("30d", at)  # the stack backfills 30 days of logs; live ones may pause
            facets = logs.load_facets(sources, tr, cache)
            page = logs.load(sources, logs.LogFilters(), tr, cache=cache)
        return facets, page, time.perf_counter() - started

    facets, page, _ = logs_page(now - 3 * MINUTE)
    assert facets.outcome.ok and page.total
    proxy.pause()
    facets, page, first = logs_page(now - 2 * MINUTE)  # the window has moved on since
    assert first < 2 + 1.5  # one timeout for the page, not one per query (before: two in a row)
    assert "no answer within 2 s" in str(facets.outcome.error)
    assert all(o.stale and o.window_end == now - 3 * MINUTE for _, o in page.problems)
    assert page.total and not page.lines.empty  # the last good data, not an empty page
    facets, page, repeat = logs_page(now - MINUTE)
    assert repeat < 1.0 and "down since" in str(facets.outcome.error)  # down: not asked, answered at once
    proxy.resume()
    waited = time.monotonic() + 10
    while sources.opensearch._http.breaker.is_open and time.monotonic() < waited:
        time.sleep(0.1)
    facets, page, _ = logs_page(now)
    assert facets.outcome.ok and not page.problems  # recovered without a restart


@pytest.mark.integration
def test_overview_with_opensearch_frozen_keeps_prometheus_panels_and_the_last_good_incidents(
    frozen_opensearch,
):
    proxy, sources = frozen_opensearch
    cache, before = ResultCache(), datetime.now(UTC).replace(second=0, microsecond=0) - 2 * MINUTE
    assert overview.load(sources, before, cache).outcomes["incidents"].ok
    proxy.pause()
    moved = overview.load(sources, before + MINUTE, cache)
    incidents = moved.outcomes["incidents"]
    assert "no answer within 2 s" in str(incidents.error)
    assert incidents.stale and incidents.window == before and incidents.value is not None
    assert moved.outcomes["obligations_due"].ok and moved.slo_count == 19
    assert not any(backend == "prometheus" for backend, _ in moved.problems)

"""One deadline per page run: however many queries a page makes against a hanging backend, in however many
threads and nested loaders, it is done within the timeout plus a little; a backend that timed out in a run
is not asked again in that run; a page that draws first does not wait for a slow fetch."""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from app.sources.cache import ResultCache
from app.sources.concurrent import MAX_WORKERS, fetch_all
from app.sources.deadline import SLACK_S, ContextPool, budget_for, current, page_run
from app.sources.errors import BackendUnavailable
from app.sources.prometheus import PrometheusClient
from tests.faults import HangingTransport


def hanging_prometheus(timeout: float, down_s: float = 0.0) -> tuple[PrometheusClient, HangingTransport]:
    """`down_s=0`: no circuit breaker, so what is measured is the page run's own behaviour."""
    transport = HangingTransport()
    return PrometheusClient(
        "http://prom.test", timeout=timeout, transport=transport, down_s=down_s
    ), transport


def test_many_queries_against_a_hanging_backend_end_within_the_timeout_plus_a_little():
    prom, transport = hanging_prometheus(0.5)
    tasks = {f"q{i}": (lambda i=i: prom.instant(f"up{{job='{i}'}}")) for i in range(40)}
    started = time.perf_counter()
    results = fetch_all(tasks, cache=ResultCache(), ttl_s=30, budget_s=budget_for([0.5]))
    elapsed = time.perf_counter() - started
    assert elapsed < 0.5 + SLACK_S  # before: five waves of eight, each waiting the whole timeout (2.5 s)
    assert {o.error.message for o in results.values()} == {"no answer within 0.5 s"}
    assert len(transport.requests) <= MAX_WORKERS  # the first wave only: the rest were never sent


def test_a_backend_that_timed_out_is_asked_once_per_run():
    prom, transport = hanging_prometheus(0.2)
    with page_run(5.0):
        for _ in range(3):
            with pytest.raises(BackendUnavailable, match="no answer within 0.2 s"):
                prom.instant("up")
    assert len(transport.requests) == 1
    with page_run(5.0), pytest.raises(BackendUnavailable):  # the next run asks again
        prom.instant("up")
    assert len(transport.requests) == 2


def test_requests_get_the_time_left_and_a_cut_request_does_not_count_the_backend_down():
    prom, transport = hanging_prometheus(10.0, down_s=30.0)
    with page_run(0.3), pytest.raises(BackendUnavailable):
        prom.instant("up")
    assert transport.timeouts[0] <= 0.3
    assert not prom._http.breaker.is_open  # the page ran out of time; the backend had no fair chance
    with page_run(0.0), pytest.raises(BackendUnavailable, match="ran out of time"):
        prom.instant("up")
    assert len(transport.requests) == 1


def test_worker_threads_and_nested_loaders_share_the_run():
    prom, transport = hanging_prometheus(0.4)
    cache = ResultCache()

    def section(n: int) -> list[str]:
        """A nested loader: its own fetch_all, and a pool of its own inside each task."""

        def several() -> list[str]:
            with ContextPool(max_workers=2) as pool:  # two waves of two
                return list(pool.map(lambda i: str(prom.instant(f"x{n}_{i}")), range(4)))

        inner = fetch_all({f"s{i}": several for i in range(3)}, cache=cache, ttl_s=30, budget_s=99.0)
        return [str(o.error) for o in inner.values()]

    started = time.perf_counter()
    with page_run(budget_for([0.4])) as run:
        outer = fetch_all(
            {f"n{n}": (lambda n=n: section(n)) for n in range(3)}, cache=cache, ttl_s=30, budget_s=99
        )
        assert current() is run
    assert time.perf_counter() - started < 0.4 + SLACK_S  # the nested budget of 99 s joined the page's
    assert all(o.ok for o in outer.values())
    assert len(transport.requests) < 3 * 3 * 4  # the requests left after the first timeout were not sent
    assert current() is None


def test_a_page_that_draws_first_does_not_wait_for_a_slow_fetch():
    cache = ResultCache()
    release = threading.Event()

    def slow() -> str:
        release.wait(5)
        return "late"

    with page_run(5.0, draw_first_s=0.2) as run:
        started = time.perf_counter()
        results = fetch_all({"fast": lambda: "now", "slow": slow}, cache=cache, ttl_s=30, budget_s=5.0)
        assert time.perf_counter() - started < 1.0
        assert results["fast"].value == "now" and results["fast"].ok
        assert results["slow"].loading and results["slow"].value is None
        release.set()
        assert run.wait_for_left_running()  # landed: the page draws again
    assert cache.peek(((), "slow")).value == "late"


def test_fetches_nested_in_a_task_wait_so_that_nothing_partial_is_cached_whole():
    cache = ResultCache()

    def section() -> str:
        inner = fetch_all({"part": lambda: time.sleep(0.5) or "part"}, cache=cache, ttl_s=30, budget_s=5.0)
        return f"section with {inner['part'].value}"

    with page_run(5.0, draw_first_s=0.1) as run:
        outer = fetch_all({"section": section}, cache=cache, ttl_s=30, budget_s=5.0)
        assert outer["section"].loading
        assert run.wait_for_left_running()
    assert cache.peek(((), "section")).value == "section with part"


def test_a_run_with_nothing_left_running_does_not_draw_again():
    with page_run(1.0, draw_first_s=0.5) as run:
        fetch_all({"fast": lambda: 1}, cache=ResultCache(), ttl_s=30, budget_s=1.0)
        assert not run.wait_for_left_running()


def test_budget_is_the_slowest_timeout_plus_slack_and_ignores_what_is_not_a_timeout():
    assert budget_for([2.0, 10.0, None]) == 10.0 + SLACK_S
    assert budget_for([None, lambda: 3]) == 10.0 + SLACK_S  # the default timeout


class Trickle(httpx.SyncByteStream):
    """An answer body sent a few bytes at a time: each read returns quickly, the whole takes long."""

    def __init__(self, body: bytes, every_s: float) -> None:
        self.body, self.every_s = body, every_s

    def __iter__(self) -> Iterator[bytes]:
        for start in range(0, len(self.body), 8):
            time.sleep(self.every_s)
            yield self.body[start : start + 8]


def test_an_answer_that_trickles_in_is_cut_at_the_timeout_and_counts_the_backend_down():
    body = json.dumps({"status": "success", "data": {"resultType": "vector", "result": []}}).encode()
    transport = httpx.MockTransport(lambda request: httpx.Response(200, stream=Trickle(body, 0.05)))
    prom = PrometheusClient("http://prom.test", timeout=0.3, transport=transport, down_s=30.0)
    started = time.perf_counter()
    with pytest.raises(BackendUnavailable, match="no answer within 0.3 s"):
        prom.instant("up")  # the whole answer takes about 0.05 s × 11 reads
    assert time.perf_counter() - started < 0.3 + 0.2
    assert prom._http.breaker.is_open


def test_a_compressed_answer_read_within_the_timeout_is_decoded():
    body = json.dumps({"status": "success", "data": {"resultType": "vector", "result": []}}).encode()
    transport = httpx.MockTransport(
        lambda request: httpx.Response(
            200, stream=Trickle(gzip.compress(body), 0.0), headers={"Content-Encoding": "gzip"}
        )
    )
    prom = PrometheusClient("http://prom.test", timeout=5, transport=transport, down_s=0)
    result = prom.instant("up")
    assert result.frame.empty and result.warnings == ()


def test_a_run_shows_one_minute_though_the_clock_moves_on_and_a_rerun_can_carry_it(monkeypatch):
    import app.sources as sources_module
    from app.config import load_config
    from app.sources import build_sources

    minutes = iter(datetime(2026, 11, 23, 9, m, tzinfo=UTC) for m in range(10))
    monkeypatch.setattr(sources_module, "_clock_minute", lambda: next(minutes))
    sources = build_sources(load_config({"SEXTANT_PROMETHEUS_URL": "http://prom.test"}))
    with page_run(5.0) as run:
        first = sources.now()
        with ContextPool(2) as pool:  # a worker thread of the run reads the same minute
            assert pool.submit(sources.now).result() == first
        assert sources.now() == first == run.minute
    assert sources.now() > first  # outside a run: the clock
    with page_run(5.0, minute=first):  # drawn again to fill in: the minute it completes
        assert sources.now() == first

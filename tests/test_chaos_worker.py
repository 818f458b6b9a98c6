"""`make chaos` ages one backend's cached answers alone (bench/chaos_worker.py): it must know which backend
each cached answer came from, also when the answer was built from other cached answers."""

from __future__ import annotations

import httpx
import pytest

from app.sources.cache import ResultCache
from app.sources.jaeger import JaegerClient
from app.sources.prometheus import PrometheusClient
from bench.chaos_worker import AskedBackends

VECTOR = {"status": "success", "data": {"resultType": "vector", "result": []}}


def counting(answer: object) -> tuple[httpx.MockTransport, list[str]]:
    seen: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(200, json=answer)

    return httpx.MockTransport(handle), seen


def test_only_the_answers_that_came_from_the_faulty_backend_are_aged():
    cache = ResultCache()
    prom_transport, prom_asked = counting(VECTOR)
    jaeger_transport, jaeger_asked = counting({"data": ["checkout"], "errors": None})
    prom = PrometheusClient("http://prom.test", transport=prom_transport, down_s=0)
    jaeger = JaegerClient("http://jaeger.test", transport=jaeger_transport, down_s=0)
    asked = AskedBackends(cache)
    try:

        def up() -> object:
            return prom.instant("up")

        def section() -> object:  # built from a cached answer: asks nothing itself the second time
            return cache.fetch("up", up, 60).value

        cache.fetch("up", up, 60)
        cache.fetch("section", section, 60)
        cache.fetch("services", jaeger.services, 60)
        assert asked.by_question == {"up": {"prometheus"}, "section": {"prometheus"}, "services": {"jaeger"}}
        assert asked.names == {"prometheus", "jaeger"}

        asked.expire(frozenset({"jaeger"}))
        cache.fetch("up", up, 60)
        cache.fetch("section", section, 60)
        cache.fetch("services", jaeger.services, 60)
        assert (len(prom_asked), len(jaeger_asked)) == (1, 2)  # Prometheus's answers were still fresh

        asked.expire(frozenset({"prometheus"}))
        assert cache.fetch("section", section, 60).ok
        assert (len(prom_asked), len(jaeger_asked)) == (2, 2)  # the section and what it is built from
    finally:
        asked.close()
    assert "fetch" not in vars(cache)


@pytest.fixture
def watched():
    """A cache watched by `AskedBackends`, a Prometheus client that answers every query, and its requests."""
    cache = ResultCache()
    transport, seen = counting(VECTOR)
    prom = PrometheusClient("http://prom.test", transport=transport, down_s=0)
    asked = AskedBackends(cache)
    yield cache, prom, asked, seen
    asked.close()


def test_a_fault_ages_only_the_answers_kept_for_less_than_it_lasted(watched):
    """A finished week's figures, kept an hour, are still fresh ten minutes into a fault: the page has no
    reason to ask the faulty backend for them again."""
    cache, prom, asked, seen = watched
    cache.fetch("now", lambda: prom.instant("up"), 60)
    cache.fetch("last week", lambda: prom.instant("up"), 3600)
    asked.expire(frozenset({"prometheus"}), lasted_s=600)
    cache.fetch("now", lambda: prom.instant("up"), 60)
    cache.fetch("last week", lambda: prom.instant("up"), 3600)
    assert len(seen) == 3  # "now" asked again, "last week" served from the cache


def test_a_cached_answer_counts_as_used_but_not_as_asked(watched):
    """A page drawn from answers another page cached still shows that backend's data (make chaos's baseline
    reads `used`), but sent it nothing (a cell expects no banner from a page that asked nothing)."""
    cache, prom, asked, _seen = watched
    cache.fetch("board", lambda: prom.instant("up"), 60)
    asked.names.clear()
    asked.used.clear()
    cache.fetch("board", lambda: prom.instant("up"), 60)
    assert (asked.names, asked.used) == (set(), {"prometheus"})

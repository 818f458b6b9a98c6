"""Prometheus clients that wrap another: one counts the requests made through it (the SLOs page says how
many a view cost, readiness watches for failures, benchmarks and tests count with it); one keeps the
answers about a past instant, which no longer change."""

from __future__ import annotations

import threading
from collections.abc import Hashable
from datetime import datetime
from typing import Any, Protocol

from app.sources.cache import ResultCache


class PromQueries(Protocol):
    """What the SLO and readiness code needs of `app.sources.prometheus.PrometheusClient`."""

    def instant(self, query: str, at: datetime | None = None) -> Any: ...

    def range(self, query: str, start: datetime, end: datetime, step: float | None = None) -> Any: ...


class CountingClient:
    """Wraps a client and counts every request made through it (thread-safe)."""

    def __init__(self, inner: PromQueries) -> None:
        self.inner = inner
        self._lock = threading.Lock()
        self.requests = 0
        self.queries: list[str] = []

    def _count(self, query: str) -> None:
        with self._lock:
            self.requests += 1
            self.queries.append(query)

    def instant(self, query: str, at: datetime | None = None) -> Any:
        self._count(query)
        return self.inner.instant(query, at)

    def range(self, query: str, start: datetime, end: datetime, step: float | None = None) -> Any:
        self._count(query)
        return self.inner.range(query, start, end, step)

    def format_query(self, query: str) -> str:
        self._count(query)
        return self.inner.format_query(query)  # type: ignore[attr-defined]  # only a real client can format


class KeptAnswers:
    """Wraps a client and keeps each answer in `cache` for `ttl_s` under (`key`, the question, its times).

    For questions about the past, whose data no longer changes: callers asking overlapping questions at
    one past instant (the overview's week-ago board and the readiness trend's week end) share the answers,
    whichever way they were computed. A failure is kept only as long as `cache` remembers failures, and
    raised to the caller.
    """

    def __init__(self, inner: PromQueries, cache: ResultCache, key: Hashable, ttl_s: float) -> None:
        self.inner = inner
        self.cache = cache
        self.key = key
        self.ttl_s = ttl_s

    def instant(self, query: str, at: datetime | None = None) -> Any:
        question = (self.key, "instant", query, at)
        return self.cache.value(question, lambda: self.inner.instant(query, at), self.ttl_s)

    def range(self, query: str, start: datetime, end: datetime, step: float | None = None) -> Any:
        question = (self.key, "range", query, start, end, step)
        return self.cache.value(question, lambda: self.inner.range(query, start, end, step), self.ttl_s)

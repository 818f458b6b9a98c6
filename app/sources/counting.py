"""A Prometheus client that counts the requests made through it: the SLOs page says how many a view
cost, readiness watches for failures, and benchmarks and tests count with it."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any, Protocol


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

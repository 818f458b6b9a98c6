"""Per-client call statistics and the health record shown on the Data sources page.

Clients are shared by every session and called from worker threads, so `CallStats` takes a lock for each
update and hands out immutable `StatsSnapshot` copies. Being shared, the record keeps what went wrong in
general terms only (`failure_summary`): a backend's own words about a query can quote what a visitor typed,
and one visitor's search must never show on another's page.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

from app.sources.errors import BackendError, QueryRejected, plain_reason

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class StatsSnapshot:
    calls: int = 0
    failures: int = 0
    last_latency_s: float | None = None
    last_success_at: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None


@dataclass(frozen=True)
class BackendHealth:
    name: str
    url: str
    reachable: bool
    version: str | None
    latency_s: float | None
    error: str | None  # in plain words ("connection refused"), for a banner
    detail: str | None = None  # the error as raised (the address, the transport's own words), when it differs


class CallStats:
    """Thread-safe running record of one client's calls."""

    def __init__(self, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._state = StatsSnapshot()

    def record_success(self, latency_s: float) -> None:
        with self._lock:
            s = self._state
            self._state = StatsSnapshot(
                s.calls + 1, s.failures, latency_s, self._clock(), s.last_error, s.last_error_at
            )

    def record_failure(self, latency_s: float, error: BackendError) -> None:
        with self._lock:
            s = self._state
            self._state = StatsSnapshot(
                s.calls + 1,
                s.failures + 1,
                latency_s,
                s.last_success_at,
                failure_summary(error),
                self._clock(),
            )

    def snapshot(self) -> StatsSnapshot:
        with self._lock:
            return self._state


def failure_summary(error: BackendError) -> str:
    """A failure in words fit for every visitor: a transport failure as a banner says it (`plain_reason`:
    "connection refused", no address), an error answer by its HTTP status and type only, never the
    backend's message about the query."""
    if error.status is None:
        return f"{error.backend}: {plain_reason(error)}"
    kind = f" ({error.error_type})" if error.error_type else ""
    what = "refused a query" if isinstance(error, QueryRejected) else "failed a request"
    return f"{error.backend}: {what}, HTTP {error.status}{kind}"


class HasStats(Protocol):
    stats: CallStats


S = TypeVar("S", bound=HasStats)


def tracked(method: Callable[Concatenate[S, P], R]) -> Callable[Concatenate[S, P], R]:
    """Record latency and outcome of a public client method in `self.stats`.

    Only `BackendError` counts as a failure: anything else is a bug in our code and must not look like
    the backend's fault on the Data sources page.
    """

    @functools.wraps(method)
    def wrapper(self: S, *args: P.args, **kwargs: P.kwargs) -> R:
        started = time.perf_counter()
        try:
            result = method(self, *args, **kwargs)
        except BackendError as exc:
            self.stats.record_failure(time.perf_counter() - started, exc)
            raise
        self.stats.record_success(time.perf_counter() - started)
        return result

    return wrapper


def probe(
    name: str, url: str, call: Callable[[], Any], version_of: Callable[[Any], str | None]
) -> BackendHealth:
    """Run one cheap call and describe the outcome; never raises for a backend failure."""
    started = time.perf_counter()
    try:
        answer = call()
    except BackendError as exc:
        said = plain_reason(exc)
        detail = exc.message if exc.message != said else None
        return BackendHealth(name, url, False, None, time.perf_counter() - started, said, detail)
    return BackendHealth(name, url, True, version_of(answer), time.perf_counter() - started, None)

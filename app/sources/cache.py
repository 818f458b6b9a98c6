"""A process-wide TTL cache with last-good semantics, shared by pages and the CLI.

`ResultCache.fetch` never raises a `BackendError`: it returns an `Outcome` holding either a fresh value, or
the last good value marked stale together with the error, or no value and the error. A page can then show
old numbers with a "stale since" note instead of a blank panel while a backend is down.

Concurrent misses for the same key share one call (the first caller fetches, the others wait for it), so
ten sessions opening the same page do not send ten identical queries.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from app.sources.errors import BackendError

T = TypeVar("T")


@dataclass(frozen=True, eq=False)
class Outcome(Generic[T]):
    value: T | None
    error: BackendError | None = None
    fetched_at: datetime | None = None  # when `value` was fetched from the backend
    stale: bool = False  # `value` is the last good one, older than the latest failed attempt

    @property
    def age_s(self) -> float | None:
        if self.fetched_at is None:
            return None
        return max((datetime.now(UTC) - self.fetched_at).total_seconds(), 0.0)

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class _Entry:
    value: Any
    fetched_at: datetime | None
    good_until: float  # monotonic time; value is fresh until then
    error: BackendError | None = None
    retry_after: float = 0.0  # monotonic time; after a failure, do not ask again before this


class ResultCache:
    """Thread-safe, bounded (least recently used entries go first)."""

    def __init__(
        self,
        max_entries: int = 512,
        *,
        error_ttl_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """`error_ttl_s`: how long a failure is remembered before the backend is asked again, so a page
        rerun does not wait for the same timeout over and over."""
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.max_entries = max_entries
        self.error_ttl_s = error_ttl_s
        self._clock = clock
        self._wall = wall_clock
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._inflight: dict[Hashable, threading.Event] = {}
        self._lock = threading.Lock()

    def fetch(self, key: Hashable, fn: Callable[[], T], ttl_s: float | Callable[[T], float]) -> Outcome[T]:
        """`fn()`'s value, cached for `ttl_s` seconds (or `ttl_s(value)`: a partial answer may be kept for
        less time than a whole one)."""
        while True:
            with self._lock:
                now = self._clock()
                entry = self._entries.get(key)
                if entry is not None:
                    self._entries.move_to_end(key)
                    if entry.error is None and now < entry.good_until:
                        return Outcome(entry.value, None, entry.fetched_at, False)
                    if entry.error is not None and now < entry.retry_after:
                        return self._failed(entry, entry.error)
                waiting = self._inflight.get(key)
                if waiting is None:
                    done = self._inflight[key] = threading.Event()
                    break
            waiting.wait()
        try:
            return self._call(key, fn, ttl_s)
        finally:
            with self._lock:
                del self._inflight[key]
            done.set()

    def peek(self, key: Hashable) -> Outcome[Any] | None:
        """What `fetch` would fall back to, without calling anything."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            fresh = entry.error is None and self._clock() < entry.good_until
            stale = not fresh and entry.fetched_at is not None
            return Outcome(entry.value, entry.error, entry.fetched_at, stale)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def _call(self, key: Hashable, fn: Callable[[], T], ttl_s: float | Callable[[T], float]) -> Outcome[T]:
        try:
            value = fn()
        except BackendError as exc:
            with self._lock:
                entry = self._entries.get(key) or _Entry(None, None, 0.0)
                entry.error = exc
                entry.retry_after = self._clock() + (
                    self.error_ttl_s if callable(ttl_s) else min(self.error_ttl_s, ttl_s)
                )
                self._store(key, entry)
                return self._failed(entry, exc)
        fetched_at = self._wall()
        keep = ttl_s(value) if callable(ttl_s) else ttl_s
        with self._lock:
            self._store(key, _Entry(value, fetched_at, self._clock() + keep))
        return Outcome(value, None, fetched_at, False)

    @staticmethod
    def _failed(entry: _Entry, error: BackendError) -> Outcome[Any]:
        return Outcome(entry.value, error, entry.fetched_at, entry.fetched_at is not None)

    def _store(self, key: Hashable, entry: _Entry) -> None:
        self._entries[key] = entry
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)


default_cache = ResultCache()
"""The process-wide instance: Streamlit imports this module once per server process."""

"""A process-wide TTL cache with last-good semantics, shared by pages and the CLI.

`ResultCache.fetch` never raises a `BackendError`: it returns an `Outcome` holding either a fresh value, or
the last good value marked stale together with the error, or no value and the error. A page can then show
old numbers with a "stale since" note instead of a blank panel while a backend is down.

A question is usually asked for a time window that moves with the clock (the last 24 hours, now), so
`fetch` takes the window apart from the question: when a failed question has no good answer for the exact
window, the newest good answer to the same question for an earlier window is served, stale, with the
window it covers (`Outcome.window`). Only earlier windows: a report frozen at a past time is never shown
today's figures.

A value computed while some of the fetches inside it failed (a page section built from partial answers)
is kept only as long as a failure is remembered, not a whole TTL, so the page recovers with its backend.

Concurrent misses for the same key share one call (the first caller fetches, the others wait for it), so
ten sessions opening the same page do not send ten identical queries.
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, Generic, TypeVar

from app.sources.errors import BackendError, StillLoading

T = TypeVar("T")


def window_end(window: object) -> datetime | None:
    """When a window ends: the window itself for an instant, `.end` for a range (a `TimeRange`)."""
    if isinstance(window, datetime):
        return window
    end = getattr(window, "end", None)
    return end if isinstance(end, datetime) else None


@dataclass(frozen=True, eq=False)
class Outcome(Generic[T]):
    value: T | None
    error: BackendError | None = None
    fetched_at: datetime | None = None  # when `value` was fetched from the backend
    stale: bool = False  # `value` is the last good one, older than the latest failed attempt
    window: Any = None  # the window `value` covers, when it is not the one asked for (it has moved since)

    @property
    def age_s(self) -> float | None:
        if self.fetched_at is None:
            return None
        return max((datetime.now(UTC) - self.fetched_at).total_seconds(), 0.0)

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def loading(self) -> bool:
        """Not failed: the page drew before this answer arrived, and draws again when it does."""
        return isinstance(self.error, StillLoading)

    @property
    def window_end(self) -> datetime | None:
        return window_end(self.window)


@dataclass
class _Entry:
    value: Any
    fetched_at: datetime | None
    good_until: float  # monotonic time; value is fresh until then
    error: BackendError | None = None
    retry_after: float = 0.0  # monotonic time; after a failure, do not ask again before this


@dataclass(frozen=True)
class _Newest:
    """The good answer to a question for its latest window."""

    window: Any
    value: Any
    fetched_at: datetime


class _Scope:
    """Whether a fetch made while computing a value failed: then the value is partial."""

    failed = False


_scope: contextvars.ContextVar[_Scope | None] = contextvars.ContextVar("sextant_cache_scope", default=None)


def _within(scope: _Scope, fn: Callable[[], T]) -> T:
    """`fn()` with `scope` as the value being computed, for the fetches it makes."""
    token = _scope.set(scope)
    try:
        return fn()
    finally:
        _scope.reset(token)


def note_failure() -> None:
    """Tell the value being computed (if any) that one of its parts is missing or stale."""
    scope = _scope.get()
    if scope is not None:
        scope.failed = True


class ResultCache:
    """Thread-safe, bounded (least recently used entries go first, and as many newest answers by question)."""

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
        self._newest: OrderedDict[Hashable, _Newest] = OrderedDict()
        self._inflight: dict[Hashable, threading.Event] = {}
        self._lock = threading.Lock()

    def fetch(
        self,
        question: Hashable,
        fn: Callable[[], T],
        ttl_s: float | Callable[[T], float],
        *,
        window: Hashable = None,
    ) -> Outcome[T]:
        """`fn()`'s value, cached for `ttl_s` seconds (or `ttl_s(value)`: a partial answer may be kept for
        less time than a whole one) under `question` asked for `window` (None: a question without one)."""
        key = (question, window)
        while True:
            with self._lock:
                now = self._clock()
                entry = self._entries.get(key)
                if entry is not None:
                    self._entries.move_to_end(key)
                    if entry.error is None and now < entry.good_until:
                        return Outcome(entry.value, None, entry.fetched_at, False)
                    if entry.error is not None and now < entry.retry_after:
                        return self._failed(question, window, entry.error)
                waiting = self._inflight.get(key)
                if waiting is None:
                    done = self._inflight[key] = threading.Event()
                    break
            waiting.wait()
        try:
            return self._call(question, window, fn, ttl_s)
        finally:
            with self._lock:
                del self._inflight[key]
            done.set()

    def value(self, question: Hashable, fn: Callable[[], T], ttl_s: float) -> T:
        """`fetch`'s value, or its error raised: for a part computed inside a larger fetch, whose own outcome
        records the failure (a stale value is not used: the caller falls back as a whole)."""
        outcome = self.fetch(question, fn, ttl_s)
        if outcome.error is not None:
            raise outcome.error
        return outcome.value  # type: ignore[return-value]  # no error: the value fn() returned

    def peek(self, question: Hashable, *, window: Hashable = None) -> Outcome[Any] | None:
        """What `fetch` would answer from the cache now, without calling anything: a fresh value, or the
        value it would fall back to (stale), or None when it keeps nothing for this question."""
        with self._lock:
            entry = self._entries.get((question, window))
            if entry is not None and entry.error is None and self._clock() < entry.good_until:
                return Outcome(entry.value, None, entry.fetched_at, False)
            kept = self._kept(question, window)
        if kept is None:
            return None
        value, fetched_at, covers = kept
        return Outcome(value, entry.error if entry else None, fetched_at, True, covers)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._newest.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def _call(
        self, question: Hashable, window: Hashable, fn: Callable[[], T], ttl_s: float | Callable[[T], float]
    ) -> Outcome[T]:
        key = (question, window)
        scope = _Scope()
        try:
            value = _within(scope, fn)
        except BackendError as exc:
            with self._lock:
                entry = self._entries.get(key) or _Entry(None, None, 0.0)
                entry.error = exc
                entry.retry_after = self._clock() + (
                    self.error_ttl_s if callable(ttl_s) else min(self.error_ttl_s, ttl_s)
                )
                self._store(key, entry)
                return self._failed(question, window, exc)
        fetched_at = self._wall()
        keep = ttl_s(value) if callable(ttl_s) else ttl_s
        partial = scope.failed or (callable(ttl_s) and keep <= self.error_ttl_s)
        if partial:
            keep = min(keep, self.error_ttl_s)
            note_failure()  # what is built from this value is partial too
        with self._lock:
            self._store(key, _Entry(value, fetched_at, self._clock() + keep))
            if window is not None and not partial:
                self._remember_newest(question, window, value, fetched_at)
        return Outcome(value, None, fetched_at, False)

    def _failed(self, question: Hashable, window: Hashable, error: BackendError) -> Outcome[Any]:
        note_failure()
        kept = self._kept(question, window)
        if kept is None:
            return Outcome(None, error)
        value, fetched_at, covers = kept
        return Outcome(value, error, fetched_at, True, covers)

    def _kept(self, question: Hashable, window: Hashable) -> tuple[Any, datetime, Any] | None:
        """(value, when fetched, the window it covers if another) of the last good value for this exact
        window, else of the newest good one for an earlier window; None without either (lock held)."""
        entry = self._entries.get((question, window))
        if entry is not None and entry.fetched_at is not None:
            return entry.value, entry.fetched_at, None
        newest = self._newest.get(question)
        if newest is None:
            return None
        asked_end, newest_end = window_end(window), window_end(newest.window)
        if asked_end is None or newest_end is None or newest_end >= asked_end:
            return None
        return newest.value, newest.fetched_at, newest.window

    def _remember_newest(
        self, question: Hashable, window: Hashable, value: Any, fetched_at: datetime
    ) -> None:
        known = self._newest.get(question)
        end, known_end = window_end(window), window_end(known.window) if known else None
        if known is not None and known_end is not None and (end is None or end < known_end):
            return
        self._newest[question] = _Newest(window, value, fetched_at)
        self._newest.move_to_end(question)
        while len(self._newest) > self.max_entries:
            self._newest.popitem(last=False)

    def _store(self, key: Hashable, entry: _Entry) -> None:
        self._entries[key] = entry
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)


def warnings_of(outcomes: Iterable[Outcome[Any]]) -> list[str]:
    """Every partial-result warning the fetched values carry (Prometheus warnings, OpenSearch shard
    failures): shown, never dropped."""
    return [w for o in outcomes if o.value is not None for w in getattr(o.value, "warnings", ())]


class FromOneBackend:
    """Mixed into a loaded view whose `outcomes` all come from one backend: its problems (what
    `ui.show_problems` draws) and its warnings."""

    backend: ClassVar[str]
    outcomes: Mapping[str, Outcome[Any]]

    @property
    def problems(self) -> list[tuple[str, Outcome[Any]]]:
        return [(self.backend, o) for o in self.outcomes.values() if o.error is not None]

    @property
    def warnings(self) -> list[str]:
        return warnings_of(self.outcomes.values())


default_cache = ResultCache()
"""The process-wide instance: Streamlit imports this module once per server process."""

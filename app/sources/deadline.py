"""One deadline per page run, shared by every query the run makes.

A page run (a page's fragment run, or one `fetch_all` made outside any) may take `budget_s`: the slowest
backend's timeout plus `SLACK_S`. Every request of the run is sent with min(its backend's timeout, the time
left), so however many queries a page makes, in however many waves of a pool or nested loaders, it is done
within the budget. A backend that timed out once in a run is not asked again in that run: its later
queries fail at once with the same error. The run also holds the minute it shows (`minute`): read once, so a
run that crosses a minute asks every question for the same window, and a page drawn again to fill in its slow
panels can carry it over and find its answers in the cache.

The run travels in a context variable. Threads do not inherit context variables, so every pool that runs a
page's queries is a `ContextPool`, whose tasks run in a copy of the submitting thread's context; the copies
share the one `PageRun` object, so what one thread records all see.
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from app.config import DEFAULT_TIMEOUT_S
from app.sources.errors import BackendError

SLACK_S = 1.0  # what a page run may take beyond its slowest backend's timeout
GRACE_S = 0.25  # waiting this past the deadline lets requests cut at the deadline report their own error
MIN_WAIT_S = 0.2  # what a fetch gets after the page's time to draw: enough for answers the cache holds


class PageRun:
    """The deadline of one page run, the backends that timed out in it, and the fetches it left running."""

    def __init__(
        self,
        budget_s: float,
        *,
        draw_first_s: float | None = None,
        minute: datetime | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`draw_first_s`: how long the page's own fetches wait before it draws what it has (see
        `app.sources.concurrent.fetch_all`); None waits until the deadline. `minute`: the minute an earlier
        run showed, for a run that draws the same page again."""
        self.budget_s = budget_s
        self.draw_first_s = draw_first_s
        self._clock = clock
        self.started = clock()
        self.expires_at = self.started + budget_s
        self._lock = threading.Lock()
        self._timed_out: dict[str, BackendError] = {}
        self._pending: list[Future[Any]] = []
        self._minute = minute

    @property
    def minute(self) -> datetime | None:
        """The minute this run shows, once something asked for it."""
        return self._minute

    def minute_shown(self, read_clock: Callable[[], datetime]) -> datetime:
        """The minute this run shows: the clock's, read by the first caller, the same for every later one."""
        with self._lock:
            if self._minute is None:
                self._minute = read_clock()
            return self._minute

    def remaining(self) -> float:
        return max(self.expires_at - self._clock(), 0.0)

    def patience(self, draw_first: bool) -> float:
        """How long a fetch of this run may wait for its answers: until the deadline, or, for a page that
        draws first, until `draw_first_s` after the run started (at least MIN_WAIT_S)."""
        until_deadline = self.remaining() + GRACE_S
        if not draw_first or self.draw_first_s is None:
            return until_deadline
        until_draw = self.started + self.draw_first_s - self._clock()
        return min(until_deadline, max(until_draw, MIN_WAIT_S))

    def timed_out(self, backend: str) -> BackendError | None:
        """The error of `backend`'s first timeout in this run, if it had one."""
        with self._lock:
            return self._timed_out.get(backend)

    def note_timeout(self, backend: str, error: BackendError) -> None:
        with self._lock:
            self._timed_out.setdefault(backend, error)

    def leave_running(self, futures: Iterable[Future[Any]]) -> None:
        """Fetches the page drew without; they finish in the background and land in the cache."""
        with self._lock:
            self._pending.extend(futures)

    def wait_for_left_running(self) -> bool:
        """Wait (at most until the deadline) for the fetches left running; True when any has landed, so
        that drawing the page again shows more than it did."""
        with self._lock:
            pending = list(self._pending)
        if not pending:
            return False
        done, _ = wait(pending, timeout=self.remaining() + GRACE_S)
        return bool(done)


_current: contextvars.ContextVar[PageRun | None] = contextvars.ContextVar("sextant_page_run", default=None)


def current() -> PageRun | None:
    """The page run this thread works for, if any."""
    return _current.get()


@contextmanager
def page_run(
    budget_s: float, *, draw_first_s: float | None = None, minute: datetime | None = None
) -> Iterator[PageRun]:
    """The run in progress (nested loaders join their page's run), or a new one of `budget_s` for the
    duration of the block, showing `minute` when given."""
    run = _current.get()
    if run is not None:
        yield run
        return
    run = PageRun(budget_s, draw_first_s=draw_first_s, minute=minute)
    token = _current.set(run)
    try:
        yield run
    finally:
        _current.reset(token)


def budget_for(timeouts: Iterable[object]) -> float:
    """A page run's budget: its slowest backend's timeout (the default when none is known) plus SLACK_S.
    Anything but a number is no timeout (replayed clients have none; unconfigured ones answer any name)."""
    known = [float(t) for t in timeouts if isinstance(t, int | float) and not isinstance(t, bool) and t > 0]
    return (max(known) if known else DEFAULT_TIMEOUT_S) + SLACK_S


class ContextPool(ThreadPoolExecutor):
    """A thread pool whose tasks run in a copy of the submitter's context, so they keep its page run."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        return super().submit(contextvars.copy_context().run, fn, *args, **kwargs)

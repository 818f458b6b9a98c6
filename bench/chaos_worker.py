"""One `make chaos` worker: a Sextant process of its own that renders pages (AppTest) when asked, and says
what each drew and which backends it asked.

bench/chaos.py runs a few of these side by side so that a cell's pages render at once: AppTest cannot run
two scripts at the same time in one process (each run swaps Streamlit's one `Runtime` instance in and out),
and most of a faulty page's time is spent waiting, not computing. Each worker keeps its own result cache
and circuit breakers for the whole run, as a long-running Sextant server does, and always renders the same
pages, so that their last good answers are in its cache.
"""

from __future__ import annotations

import contextvars
import logging
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from typing import Any

from app.config import settings_for
from app.sources import Sources
from app.sources._http import HttpBackend
from app.sources.cache import ResultCache, default_cache
from tests.access_support import WRITES
from tests.page_views import BACKENDS, READS, Drawn, render


@dataclass(frozen=True)
class Request:
    page: str
    clock_offset: float  # how far the result cache's clock is moved on (see bench/chaos.py)
    cell: int = 0  # the first request of a new cell expires the cached answers of `expire`
    expire: frozenset[str] = frozenset()  # backends whose cached answers are too old to serve
    lasted_s: float = float("inf")  # how long their fault has lasted: answers kept longer stay fresh
    params: dict[str, str] = field(default_factory=dict)
    user: dict[str, str] | None = None  # `st.user` (a sign-in proxy's identity); None: nobody signed in
    env: dict[str, str] = field(default_factory=dict)  # set for this render only
    timeout_s: float = 60.0  # AppTest's own limit


@dataclass(frozen=True)
class Seen:
    """What a page drew, as bench/chaos.py judges it (an AppTest cannot cross a process boundary)."""

    page: str
    seconds: float
    asked: frozenset[str]  # the backends the page sent requests to (the access log's writes aside)
    used: frozenset[str]  # the backends whose answers it drew, fresh or from the cache
    exceptions: tuple[str, ...] = ()
    banners: dict[str, str | None] = field(default_factory=dict)  # backend -> what says it failed
    data: dict[str, bool] = field(default_factory=dict)  # backend -> its panels show figures
    gave_up: str = ""  # AppTest's own time limit ran out
    title: str = ""


class CacheClock:
    """The result cache's clock, which stands still but for `offset` (the seconds bench/chaos.py moves it
    on): answers age only as a cell says (`AskedBackends.expire`, the next refresh), never because the
    run is long, so a healthy backend is not asked again in the middle of another's fault."""

    def __init__(self) -> None:
        self.offset = 0.0
        self.started = time.monotonic()
        assert hasattr(default_cache, "_clock"), "app.sources.cache.ResultCache has no _clock to move"
        default_cache._clock = self

    def __call__(self) -> float:
        return self.started + self.offset


_asking: contextvars.ContextVar[set[str] | None] = contextvars.ContextVar("chaos_asking", default=None)


class AskedBackends:
    """Which backends the clients of this process send requests to: every request, whether the circuit
    breaker lets it out or not (the page asked), except the access log's own writes; and, for each
    question of the result cache, the backends its answer came from (what a fetch asked, nested fetches
    included), so that one backend's answers can be aged alone."""

    def __init__(self, cache: ResultCache = default_cache) -> None:
        self.names: set[str] = set()
        self.used: set[str] = set()  # the backends whose answers the page used, cached ones included
        self.cell = 0
        self.by_question: dict[Hashable, set[str]] = {}
        self.cache = cache
        request, fetch = HttpBackend.request, cache.fetch
        self._request = request

        def counted(backend: HttpBackend, method: str, path: str, **kwargs: Any) -> Any:
            if (method, path) not in WRITES:
                self.names.add(backend.name)
                if (asking := _asking.get()) is not None:
                    asking.add(backend.name)
            return request(backend, method, path, **kwargs)

        def traced(question: Hashable, fn: Callable[[], Any], *args: Any, **kwargs: Any) -> Any:
            """An answer built from others comes from their backends too, even when they were cached."""
            outer = _asking.get()

            def asked() -> Any:
                mine: set[str] = set()
                token = _asking.set(mine)
                try:
                    return fn()
                finally:
                    _asking.reset(token)
                    self.by_question.setdefault(question, set()).update(mine)

            try:
                return fetch(question, asked, *args, **kwargs)
            finally:
                self.used.update(self.by_question.get(question, ()))
                if outer is not None:
                    outer.update(self.by_question.get(question, ()))

        HttpBackend.request = counted  # type: ignore[method-assign]  # a worker process only renders
        cache.fetch = traced  # type: ignore[method-assign]

    def close(self) -> None:
        """Undo the patches (for tests: a worker keeps them until it ends)."""
        HttpBackend.request = self._request  # type: ignore[method-assign]
        del self.cache.fetch

    def expire(self, backends: frozenset[str], lasted_s: float = float("inf")) -> None:
        """Age the cached answers that came from `backends` by `lasted_s` (the fault's length): those kept
        for less are too old to serve, as if cached before the fault began; those kept for longer (a
        finished week's figures, kept an hour) and the other backends' answers stay fresh, and every
        answer stays the last good one."""
        with self.cache._lock:
            now = self.cache._clock()
            for (question, _window), entry in self.cache._entries.items():
                if self.by_question.get(question, set()) & backends and entry.good_until < now + lasted_s:
                    entry.good_until = entry.retry_after = float("-inf")


def see(request: Request, clock: CacheClock, asked: AskedBackends) -> Seen:
    clock.offset = request.clock_offset
    if request.cell != asked.cell:
        asked.cell = request.cell
        asked.expire(request.expire, request.lasted_s)
    asked.names.clear()
    asked.used.clear()
    try:
        with settings_for(request.env):
            drawn = render(request.page, request.params, timeout_s=request.timeout_s, user=request.user)
    except RuntimeError as exc:  # AppTest gave up waiting
        return Seen(
            request.page, request.timeout_s, frozenset(asked.names), frozenset(asked.used), gave_up=str(exc)
        )
    return summary(drawn, frozenset(asked.names), frozenset(asked.names | asked.used))


def summary(drawn: Drawn, asked: frozenset[str], used: frozenset[str]) -> Seen:
    return Seen(
        drawn.page,
        drawn.seconds,
        asked,
        used,
        tuple(drawn.exceptions()),
        {b: drawn.banner(b) for b in BACKENDS},
        {b: drawn.has_data(b) for b in READS[drawn.page]},
        title=next((t.value for t in drawn.at.title), ""),
    )


def freeze_now() -> None:
    """The pages' "now" stands still at this minute, so that they ask the same questions all run long: what
    a cell asks anew is what its fault made old, never what the clock moved on (on a busy machine, a whole
    page's questions for a new minute can keep a healthy backend longer than the run's short timeout)."""
    frozen = datetime.now(UTC).replace(second=0, microsecond=0)
    Sources.now = lambda self: frozen  # type: ignore[method-assign]  # live clients only, here


def serve(conn: Connection) -> None:
    """Render each `Request` received and send back its `Seen`, until None arrives."""
    # AppTest runs scripts outside a server: Streamlit warns about the missing run context on every render.
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").disabled = True
    freeze_now()
    clock, asked = CacheClock(), AskedBackends()
    while (request := conn.recv()) is not None:
        conn.send(see(request, clock, asked))

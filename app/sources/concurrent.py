"""Run a page's independent fetches at once, within the page run's deadline.

Only plain functions run in the worker threads: Streamlit calls made there would be dropped silently
("missing ScriptRunContext"), so pages fetch with `fetch_all` and draw on the main thread afterwards.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Collection, Hashable, Mapping
from concurrent.futures import FIRST_EXCEPTION, Future, wait
from typing import Any, TypeVar

from app.sources.cache import Outcome, ResultCache, note_failure
from app.sources.deadline import ContextPool, page_run
from app.sources.errors import BackendError, BackendUnavailable, StillLoading

T = TypeVar("T")

MAX_WORKERS = 8
_in_task: contextvars.ContextVar[bool] = contextvars.ContextVar("sextant_in_fetch_task", default=False)


def fetch_all(
    tasks: Mapping[str, Callable[[], Any]],
    *,
    cache: ResultCache,
    ttl_s: float | Callable[[Any], float],
    budget_s: float,
    key_prefix: Hashable = (),
    window: Hashable = None,
    untimed: Collection[str] = (),
) -> dict[str, Outcome[Any]]:
    """Fetch every task through `cache`, concurrently, within the page run's deadline (the tasks answer
    different questions, so each Outcome is `Any`: the caller knows what each name holds).

    The tasks join the page run in progress, or start one of `budget_s` (`app.sources.deadline`). Each
    task is the question `(key_prefix, name)` asked for `window` (the time window or instant its answer
    depends on, None if none; the tasks named in `untimed` have none), so that a failure can fall back on
    the answer for an earlier window. Put in the prefix whatever else the tasks depend on (filters, a
    range's length).

    A task still running at the deadline is left to finish in the background (its result lands in the
    cache for the next rerun) and is answered now with its last good value, if any, and a
    `BackendUnavailable` error. When the page run draws first (`PageRun.draw_first_s`), the page's own
    fetches wait only that long: what is still running is answered `StillLoading` and the page draws
    again when it lands. Fetches nested in a task always wait, so that nothing partial is cached as
    whole. A non-backend exception (a bug) is raised.
    """
    if not tasks:
        return {}

    def _window(name: str) -> Hashable:
        return None if name in untimed else window

    with page_run(budget_s) as run:
        draw_first = run.draw_first_s is not None and not _in_task.get()
        pool = ContextPool(max_workers=min(len(tasks), MAX_WORKERS), thread_name_prefix="sextant-fetch")
        try:
            futures: dict[str, Future[Outcome[Any]]] = {
                name: pool.submit(_task, cache, (key_prefix, name), fn, ttl_s, _window(name))
                for name, fn in tasks.items()
            }
            wait(futures.values(), timeout=run.patience(draw_first), return_when=FIRST_EXCEPTION)
            results: dict[str, Outcome[Any]] = {}
            for name, future in futures.items():
                if future.done():
                    results[name] = future.result()  # re-raises a bug in a task
                    continue
                if draw_first and run.remaining() > 0:
                    run.leave_running([future])
                    error: BackendError = StillLoading()
                else:
                    error = BackendUnavailable(
                        "sextant", f"no answer within {run.budget_s:.3g} s", error_type="timeout"
                    )
                results[name] = _late(cache, (key_prefix, name), _window(name), error)
            return results
        finally:
            pool.shutdown(wait=False, cancel_futures=not draw_first)


def fetch_keyed(
    tasks: Mapping[str, tuple[Hashable, Callable[[], Any]]],
    *,
    prefix: Hashable,
    ttl_s: float,
    budget_s: float,
    cache: ResultCache,
    window: Hashable = None,
    untimed: Collection[str] = (),
) -> dict[str, Outcome[Any]]:
    """`fetch_all` where each task is cached under its own key (what it depends on), so that, say,
    picking a trace does not send the search again, nor a new search refetch the picked trace."""
    names = {role: f"{role} {key!r}" for role, (key, _) in tasks.items()}
    outcomes = fetch_all(
        {names[role]: fn for role, (_, fn) in tasks.items()},
        cache=cache,
        ttl_s=ttl_s,
        budget_s=budget_s,
        key_prefix=prefix,
        window=window,
        untimed=[names[role] for role in untimed if role in names],
    )
    return {role: outcomes[name] for role, name in names.items()}


def _task(
    cache: ResultCache, question: Hashable, fn: Callable[[], T], ttl_s: Any, window: Hashable
) -> Outcome[T]:
    _in_task.set(True)  # this thread's own context: a copy of the submitter's
    return cache.fetch(question, fn, ttl_s, window=window)


def _late(cache: ResultCache, question: Hashable, window: Hashable, error: BackendError) -> Outcome[Any]:
    last = cache.peek(question, window=window)
    if last is not None and not last.stale:  # another caller's fetch of the same question has just landed
        return last
    note_failure()
    if last is None or last.fetched_at is None:
        return Outcome(None, error)
    return Outcome(last.value, error, last.fetched_at, True, last.window)

"""Run a page's independent fetches at once.

Only plain functions run in the worker threads: Streamlit calls made there would be dropped silently
("missing ScriptRunContext"), so pages fetch with `fetch_all` and draw on the main thread afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from typing import Any, TypeVar

from app.sources.cache import Outcome, ResultCache
from app.sources.errors import BackendUnavailable

T = TypeVar("T")

MAX_WORKERS = 8


def fetch_all(
    tasks: Mapping[str, Callable[[], T]],
    *,
    cache: ResultCache,
    ttl_s: float,
    timeout_s: float,
    key_prefix: Hashable = (),
) -> dict[str, Outcome[T]]:
    """Fetch every task through `cache`, concurrently, waiting at most `timeout_s` in all.

    Cache keys are `(key_prefix, name)`: pass a prefix that identifies what the tasks depend on (time
    range, filters) when the names alone do not. A task still running at the deadline is left to finish
    in the background (its result lands in the cache for the next rerun) and is answered now with its
    last good value, if any, and a `BackendUnavailable` error. A non-backend exception (a bug) is raised.
    """
    if not tasks:
        return {}
    pool = ThreadPoolExecutor(max_workers=min(len(tasks), MAX_WORKERS), thread_name_prefix="sextant-fetch")
    try:
        futures: dict[str, Future[Outcome[T]]] = {
            name: pool.submit(cache.fetch, (key_prefix, name), fn, ttl_s) for name, fn in tasks.items()
        }
        wait(futures.values(), timeout=timeout_s, return_when=FIRST_EXCEPTION)
        results: dict[str, Outcome[T]] = {}
        for name, future in futures.items():
            if future.done():
                results[name] = future.result()  # re-raises a bug in a task
            else:
                results[name] = _late(cache, (key_prefix, name), timeout_s)
        return results
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _late(cache: ResultCache, key: Hashable, timeout_s: float) -> Outcome[Any]:
    error = BackendUnavailable("sextant", f"no answer within {timeout_s:g} s", error_type="timeout")
    last = cache.peek(key)
    if last is None or last.fetched_at is None:
        return Outcome(None, error)
    return Outcome(last.value, error, last.fetched_at, True)

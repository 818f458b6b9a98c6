"""ResultCache and fetch_all: TTL, last-good fallback, LRU bound, single flight, deadlines."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from app.sources.cache import Outcome, ResultCache, default_cache
from app.sources.concurrent import fetch_all
from app.sources.errors import BackendUnavailable, QueryRejected
from app.timerange import time_range


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def cache(clock):
    return ResultCache(max_entries=3, error_ttl_s=5.0, clock=clock)


def down():
    raise BackendUnavailable("prometheus", "connection refused")


def counter(values):
    calls = []

    def fn():
        calls.append(1)
        return values[len(calls) - 1] if isinstance(values, list) else values

    return fn, calls


def test_fresh_hit_within_ttl_does_not_call_again(cache, clock):
    fn, calls = counter([1, 2])
    first = cache.fetch("k", fn, ttl_s=30)
    clock.now += 29
    second = cache.fetch("k", fn, ttl_s=30)
    assert (first.value, second.value, len(calls)) == (1, 1, 1)
    assert second.ok and not second.stale and second.fetched_at == first.fetched_at
    clock.now += 2
    assert cache.fetch("k", fn, ttl_s=30).value == 2 and len(calls) == 2


def test_error_returns_last_good_value_marked_stale(cache, clock):
    cache.fetch("k", lambda: "good", ttl_s=10)
    clock.now += 11
    outcome = cache.fetch("k", down, ttl_s=10)
    assert outcome.value == "good" and outcome.stale and not outcome.ok
    assert isinstance(outcome.error, BackendUnavailable)
    assert outcome.fetched_at is not None and outcome.age_s is not None and outcome.age_s >= 0


def test_error_without_a_last_good_value(cache):
    outcome = cache.fetch("k", down, ttl_s=10)
    assert outcome.value is None and outcome.error is not None
    assert outcome.fetched_at is None and outcome.age_s is None and not outcome.stale


def test_a_failure_is_remembered_briefly_then_retried(cache, clock):
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) == 1:
            raise QueryRejected("prometheus", "bad")
        return "ok"

    assert cache.fetch("k", flaky, ttl_s=30).error is not None
    clock.now += 4
    assert cache.fetch("k", flaky, ttl_s=30).error is not None and len(calls) == 1
    clock.now += 2
    recovered = cache.fetch("k", flaky, ttl_s=30)
    assert recovered.value == "ok" and recovered.ok and len(calls) == 2


def test_lru_bound_evicts_the_least_recently_used(cache):
    for key in "abc":
        cache.fetch(key, lambda key=key: key, ttl_s=60)
    cache.fetch("a", lambda: "again", ttl_s=60)  # a is now most recent
    cache.fetch("d", lambda: "d", ttl_s=60)
    assert len(cache) == 3
    assert cache.peek("b") is None
    assert cache.peek("a").value == "a"


def test_peek_and_clear(cache, clock):
    assert cache.peek("k") is None
    cache.fetch("k", lambda: 1, ttl_s=10)
    assert cache.peek("k").stale is False
    clock.now += 11
    assert cache.peek("k").stale is True
    cache.clear()
    assert len(cache) == 0


def test_bugs_are_not_swallowed_or_cached(cache):
    def bug():
        raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        cache.fetch("k", bug, ttl_s=10)
    assert cache.fetch("k", lambda: 1, ttl_s=10).value == 1


def test_max_entries_must_be_positive():
    with pytest.raises(ValueError, match="max_entries"):
        ResultCache(max_entries=0)


def test_concurrent_misses_for_one_key_share_one_call():
    cache = ResultCache()
    calls = []
    gate = threading.Event()

    def slow():
        calls.append(1)
        gate.wait(2)
        return "value"

    results = []
    threads = [threading.Thread(target=lambda: results.append(cache.fetch("k", slow, 30))) for _ in range(8)]
    for t in threads:
        t.start()
    time.sleep(0.1)
    gate.set()
    for t in threads:
        t.join(2)
    assert len(calls) == 1
    assert [r.value for r in results] == ["value"] * 8


def test_many_threads_many_keys_stay_consistent():
    cache = ResultCache(max_entries=50)
    errors = []

    def worker(n):
        try:
            for i in range(200):
                key = (n + i) % 80
                outcome = cache.fetch(key, lambda key=key: key * 2, ttl_s=0.001)
                assert outcome.value == key * 2
        except AssertionError as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(cache) <= 50


def test_outcome_age():
    then = datetime.now(UTC) - timedelta(seconds=30)
    assert 29 <= Outcome("v", None, then).age_s <= 31


def test_default_cache_is_one_shared_instance():
    from app.sources import cache as module

    assert module.default_cache is default_cache and isinstance(default_cache, ResultCache)


def test_fetch_all_runs_tasks_concurrently():
    cache = ResultCache()

    def sleepy(value):
        def fn():
            time.sleep(0.3)
            return value

        return fn

    started = time.perf_counter()
    results = fetch_all({f"t{i}": sleepy(i) for i in range(5)}, cache=cache, ttl_s=30, budget_s=5)
    assert time.perf_counter() - started < 1.0
    assert {k: o.value for k, o in results.items()} == {f"t{i}": i for i in range(5)}


def test_fetch_all_keeps_errors_per_task_and_uses_key_prefix():
    cache = ResultCache()
    results = fetch_all({"ok": lambda: 1, "bad": down}, cache=cache, ttl_s=30, budget_s=5, key_prefix="page")
    assert results["ok"].value == 1 and results["bad"].error.message == "connection refused"
    assert cache.peek(("page", "ok")).value == 1
    assert fetch_all({}, cache=cache, ttl_s=1, budget_s=1) == {}


def test_fetch_all_answers_late_tasks_with_last_good_value():
    cache = ResultCache()
    fetch_all({"slow": lambda: "old", "other": lambda: "x"}, cache=cache, ttl_s=0.01, budget_s=5)
    time.sleep(0.02)
    release = threading.Event()

    def stuck():
        release.wait(5)
        return "new"

    started = time.perf_counter()
    results = fetch_all(
        {"slow": stuck, "never": lambda: release.wait(5)}, cache=cache, ttl_s=0.01, budget_s=0.2
    )
    assert time.perf_counter() - started < 1.0
    assert results["slow"].value == "old" and results["slow"].stale
    assert "no answer within 0.2 s" in str(results["slow"].error)
    assert results["never"].value is None and results["never"].error is not None
    release.set()


def test_fetch_all_raises_bugs():
    def bug():
        raise KeyError("oops")

    with pytest.raises(KeyError):
        fetch_all({"bug": bug}, cache=ResultCache(), ttl_s=1, budget_s=5)


# -- a window that has moved since -----------------------------------------------------------------------

T1 = datetime(2026, 11, 23, 14, 2, tzinfo=UTC)
T2, T3 = T1 + timedelta(minutes=1), T1 + timedelta(minutes=2)


def test_a_moved_window_serves_the_last_good_answer_to_the_same_question_with_its_window(cache):
    cache.fetch("q", lambda: "the 14:02 answer", ttl_s=60, window=T1)
    outcome = cache.fetch("q", down, ttl_s=60, window=T2)
    assert outcome.value == "the 14:02 answer" and outcome.stale and not outcome.ok
    assert outcome.window == T1 and outcome.window_end == T1 and outcome.fetched_at is not None
    assert cache.fetch("another question", down, ttl_s=60, window=T2).value is None


def test_the_window_may_be_a_time_range_and_the_newest_earlier_one_is_served(cache):
    cache.fetch("q", lambda: "at 14:02", ttl_s=60, window=time_range("24h", T1))
    cache.fetch("q", lambda: "at 14:03", ttl_s=60, window=time_range("24h", T2))
    cache.fetch(
        "q", lambda: "an older view opened later", ttl_s=60, window=time_range("24h", T1 - timedelta(days=1))
    )
    outcome = cache.fetch("q", down, ttl_s=60, window=time_range("24h", T3))
    assert outcome.value == "at 14:03" and outcome.window_end == T2


def test_a_report_frozen_in_the_past_is_never_given_a_later_answer(cache):
    cache.fetch("q", lambda: "now", ttl_s=60, window=T2)
    assert cache.fetch("q", down, ttl_s=60, window=T1).value is None


def test_peek_and_late_tasks_fall_back_on_an_earlier_window_too(cache):
    cache.fetch(("page", "slow"), lambda: "old", ttl_s=60, window=T1)
    assert cache.peek(("page", "slow"), window=T2).window == T1
    release = threading.Event()
    results = fetch_all(
        {"slow": lambda: release.wait(5)}, cache=cache, ttl_s=60, budget_s=0.1, key_prefix="page", window=T2
    )
    release.set()
    assert results["slow"].value == "old" and results["slow"].window == T1 and results["slow"].stale


def test_memory_stays_bounded_by_question_too(cache):
    for question in ("q0", "q1", "q2", "q3", "q4"):  # max_entries is 3
        cache.fetch(question, lambda: "good", ttl_s=60, window=T1)
    assert cache.fetch("q0", down, ttl_s=60, window=T2).value is None  # forgotten, not kept forever
    assert cache.fetch("q4", down, ttl_s=60, window=T2).value == "good"


def test_a_value_built_from_a_failed_fetch_is_kept_only_as_long_as_a_failure(cache, clock):
    def section():
        return ("built with", cache.fetch("part", down, ttl_s=60).value)

    cache.fetch("page", section, ttl_s=60, window=T1)
    clock.now += 6  # past error_ttl_s: a whole answer would still be fresh for 54 s
    assert cache.fetch("page", lambda: "whole", ttl_s=60, window=T1).value == "whole"
    assert cache.fetch("page", down, ttl_s=60, window=T2).value == "whole"  # the partial one never stood in


def test_value_gives_the_answer_or_raises_the_failure_and_keeps_both():
    cache = ResultCache()
    calls = []
    assert cache.value("q", lambda: calls.append(1) or 42, 60) == 42
    assert cache.value("q", lambda: calls.append(1) or 0, 60) == 42 and len(calls) == 1

    def down():
        calls.append(1)
        raise BackendUnavailable("prometheus", "no answer within 3 s", error_type="timeout")

    with pytest.raises(BackendUnavailable):
        cache.value("other", down, 60)
    with pytest.raises(BackendUnavailable):  # the failure is remembered, not asked again at once
        cache.value("other", down, 60)
    assert len(calls) == 2

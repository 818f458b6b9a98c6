"""The Service health loader: figures per service, curves, and how a failing Prometheus shows."""

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from app import service_health
from app.sources import Sources
from app.sources.cache import ResultCache
from app.sources.errors import BackendUnavailable
from app.sources.prometheus import QueryResult
from app.timerange import time_range
from tests.conftest import UNASKED

NOW = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)


class FakePrometheus:
    """Answers by the metric the query asks for; counts calls."""

    url = "fake://prometheus"

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.calls: list[str] = []
        self.steps: list[float | None] = []

    def _value(self, query: str) -> float:
        if "histogram_quantile(0.5," in query:
            return 0.1
        if "histogram_quantile(0.95," in query:
            return 0.4
        if "histogram_quantile(0.99," in query:
            return 0.9
        if 'code=~"5.."' in query:
            return 0.001
        return 12.5

    def instant(self, query, at=None):
        self.calls.append(query)
        if self.fail:
            raise BackendUnavailable("prometheus", "connection refused")
        if "by (service, le)" in query and "histogram_quantile" not in query:
            frame = pd.concat([buckets(s, TYPICAL) for s in ("filing", "gateway")], ignore_index=True)
            return QueryResult(frame, ("partial answer",))
        frame = pd.DataFrame({"service": ["filing", "gateway"], "value": [self._value(query)] * 2})
        return QueryResult(frame)

    def range(self, query, start, end, step=None):
        self.calls.append(query)
        self.steps.append(step)
        if self.fail:
            raise BackendUnavailable("prometheus", "connection refused")
        stamps = pd.date_range(start, end, periods=3, tz=UTC)
        return QueryResult(
            pd.DataFrame({"service": "filing", "timestamp": stamps, "value": self._value(query)})
        )


# Cumulative requests per second at each latency bound: p50 0.1 s, p95 0.4 s, p99 0.9 s.
TYPICAL = {"0.1": 50.0, "0.4": 95.0, "0.9": 99.0, "+Inf": 100.0}
SLOW = {"0.1": 10.0, "0.4": 20.0, "0.9": 30.0, "+Inf": 100.0}  # p95 in the +Inf bucket: 0.9 s


def buckets(service: str, counts: dict[str, float]) -> pd.DataFrame:
    return pd.DataFrame({"service": service, "le": list(counts), "value": list(counts.values())})


def sources(prom) -> Sources:
    return Sources(prometheus=prom, opensearch=UNASKED, jaeger=UNASKED, mode="live")


def test_summary_has_one_row_per_service_with_every_figure():
    prom = FakePrometheus()
    view = service_health.load(sources(prom), time_range("24h", NOW), ResultCache())
    assert len(prom.calls) == 6  # the three quantiles come from one answer of bucket rates
    assert sum("le)" in q and "histogram_quantile" not in q for q in prom.calls) == 1
    assert list(view.summary["service"]) == ["filing", "gateway"]
    row = view.summary.iloc[0]
    assert (row["request_rate"], row["error_ratio"], row["p50"], row["p95"], row["p99"]) == pytest.approx(
        (12.5, 0.001, 0.1, 0.4, 0.9)
    )
    assert set(view.latency_p95["value"]) == {0.4}
    assert view.problems == [] and view.warnings == ["partial answer"]
    # The figures cover the whole range; the curves use a rate window fitted to the chart step.
    # (The queries run concurrently: which is asked first is not fixed.)
    assert any("[24h]" in q for q in prom.calls)
    # Three curves abreast, each a third of the page wide: a day at ~200 points is a 600 s step (a page-wide
    # chart's 500 points would be 300 s), and the rate window one step plus a scrape.
    assert prom.steps == [600.0] * 3
    assert sum("[660s]" in q for q in prom.calls) == 3


def test_failing_prometheus_gives_problems_and_empty_frames_not_exceptions():
    view = service_health.load(sources(FakePrometheus(fail=True)), time_range("1h", NOW), ResultCache())
    assert view.summary.empty and view.request_rate.empty
    assert {backend for backend, _ in view.problems} == {"prometheus"}
    assert all(o.error.message == "connection refused" for _, o in view.problems)


def test_last_good_data_survives_an_outage(monkeypatch):
    monkeypatch.setattr(service_health, "TTL_S", 0.0)  # every load asks again
    cache, prom = ResultCache(error_ttl_s=0), FakePrometheus()
    tr = time_range("6h", NOW)
    service_health.load(sources(prom), tr, cache)
    prom.fail = True
    view = service_health.load(sources(prom), tr, cache)
    assert list(view.summary["request_rate"]) == [12.5, 12.5]
    assert view.problems and all(o.stale and o.fetched_at is not None for _, o in view.problems)


def test_when_the_window_has_moved_since_the_last_good_data_is_shown_with_its_window():
    cache, prom = ResultCache(), FakePrometheus()
    before = time_range("6h", NOW)
    service_health.load(sources(prom), before, cache)
    prom.fail = True
    view = service_health.load(sources(prom), time_range("6h", NOW + timedelta(minutes=3)), cache)
    assert list(view.summary["request_rate"]) == [12.5, 12.5]
    assert all(o.stale and o.window_end == before.end for _, o in view.problems)
    other_range = service_health.load(sources(prom), time_range("24h", NOW + timedelta(minutes=3)), cache)
    assert other_range.summary.empty  # the last 24 hours are another question than the last 6


@pytest.mark.parametrize(("step", "window"), [(60, "240s"), (300, "360s"), (3600, "3660s")])
def test_rate_window_sees_at_least_four_scrapes(step, window):
    assert service_health.rate_window(step) == window


def test_two_snapshots_at_one_address_never_share_an_answer():
    """Every cache key derives from Sources.cache_key: the snapshot's time is part of it, so the answers
    of two recordings replayed in one process do not mix."""
    cache = ResultCache()
    first, second = FakePrometheus(), FakePrometheus()
    for prom, recorded in ((first, NOW), (second, NOW - timedelta(days=1))):
        replay = Sources(
            prometheus=prom,
            opensearch=UNASKED,
            jaeger=UNASKED,
            mode="snapshot",
            snapshot_recorded_at=recorded,
        )
        service_health.load(replay, time_range("24h", NOW), cache)
    assert first.calls and len(second.calls) == len(first.calls)  # the second asked its own questions


class ManyServices(FakePrometheus):
    """A platform of 40 services: `svc-07` has the most requests, the highest 5xx ratio and p95; then the
    higher a service's number, the higher its figures."""

    SERVICES = [f"svc-{i:02d}" for i in range(40)]

    def _values(self, query: str) -> list[float]:
        return [
            self._value(query) * (10 if s == "svc-07" else 1 + i / 100) for i, s in enumerate(self.SERVICES)
        ]

    def instant(self, query, at=None):
        self.calls.append(query)
        if "by (service, le)" in query:
            return QueryResult(
                pd.concat(
                    [
                        buckets(s, SLOW if s == "svc-07" else {**TYPICAL, "0.4": 95.0 - i / 10})
                        for i, s in enumerate(self.SERVICES)
                    ],
                    ignore_index=True,
                )
            )
        return QueryResult(pd.DataFrame({"service": self.SERVICES, "value": self._values(query)}))

    def range(self, query, start, end, step=None):
        self.calls.append(query)
        stamps = pd.date_range(start, end, periods=3, tz=UTC)
        rows = [(s, t, v) for s, v in zip(self.SERVICES, self._values(query), strict=True) for t in stamps]
        return QueryResult(pd.DataFrame(rows, columns=["service", "timestamp", "value"]))


def test_charts_of_many_services_draw_the_top_ten_and_others_and_say_so():
    view = service_health.load(sources(ManyServices()), time_range("6h", NOW), ResultCache())
    assert len(view.summary) == 40  # the table keeps every service
    for chart in (view.request_rate, view.error_ratio, view.latency_p95):
        drawn = list(dict.fromkeys(chart["service"]))
        assert len(drawn) == 11 and drawn[0] == "svc-07" and drawn[-1] == "others"
    assert set(view.chart_notes) == {"request_rate", "error_ratio", "latency_p95"}
    assert view.chart_notes["request_rate"] == (
        'The 10 services with the highest request rate; the other 30 drawn as "others" (their sum).'
    )
    others = view.request_rate[view.request_rate["service"] == "others"]["value"]
    folded = [i for i in range(31) if i != 7]  # svc-07 and svc-31 … svc-39 are drawn
    assert others.tolist() == pytest.approx([12.5 * sum(1 + i / 100 for i in folded)] * 3)

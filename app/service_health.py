"""The Service health page's data: per service request rate, error ratio and latency quantiles."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from app import histograms, queries
from app.sources import Sources
from app.sources.cache import FromOneBackend, Outcome, ResultCache, default_cache
from app.sources.concurrent import fetch_all
from app.sources.prometheus import NARROW_CHART_POINTS, QueryResult, auto_step, rate_window
from app.timerange import TimeRange
from app.topn import top_and_others

QUANTILES = {"p50": 0.5, "p95": 0.95, "p99": 0.99}
TTL_S = 30.0


@dataclass(frozen=True)
class ServiceHealth(FromOneBackend):
    backend = "prometheus"
    summary: pd.DataFrame  # service, request_rate, error_ratio, p50, p95, p99 over the whole range
    request_rate: pd.DataFrame  # service, timestamp, value: the top services and "others" (app.topn)
    error_ratio: pd.DataFrame
    latency_p95: pd.DataFrame
    outcomes: dict[str, Outcome[QueryResult]] = field(repr=False)
    chart_notes: dict[str, str] = field(
        default_factory=dict
    )  # chart -> which services it draws, when not all


def load(sources: Sources, tr: TimeRange, cache: ResultCache = default_cache) -> ServiceHealth:
    """Run the page's six queries at once: three for the figures over the range (the latency quantiles all
    computed from one answer of bucket rates, `app.histograms`: each `histogram_quantile` query would read
    every bucket series over the range again), three curves."""
    prom = sources.prometheus
    step = auto_step(tr.start, tr.end, NARROW_CHART_POINTS)  # the page draws its curves three abreast
    curve_window = rate_window(step)

    def instant(name: str, **params: object) -> Callable[[], QueryResult]:
        return lambda: prom.instant(queries.render("service_health", name, **params), tr.end)

    def curve(name: str, **params: object) -> Callable[[], QueryResult]:
        return lambda: prom.range(queries.render("service_health", name, **params), tr.start, tr.end, step)

    tasks = {
        "request_rate": instant("request_rate", window=tr.promql_window),
        "error_ratio": instant("error_ratio", window=tr.promql_window),
        "latency_buckets": instant("latency_buckets", window=tr.promql_window),
        "request_rate_curve": curve("request_rate", window=curve_window),
        "error_ratio_curve": curve("error_ratio", window=curve_window),
        "p95_curve": curve("latency_quantile", quantile=0.95, window=curve_window),
    }
    outcomes = fetch_all(
        tasks,
        cache=cache,
        ttl_s=TTL_S,
        budget_s=sources.run_budget_s,
        key_prefix=(sources.cache_key, "service_health", tr.preset),
        window=tr,
    )
    summary = _summary(outcomes)
    rate = _frame(outcomes["request_rate_curve"])

    def ranking(column: str) -> dict[str, float]:
        return dict(zip(summary["service"], summary[column], strict=True))

    charts = {
        "request_rate": (
            top_and_others(rate, "service", ranking("request_rate"), how="sum"),
            "highest request rate",
        ),
        "error_ratio": (
            top_and_others(
                _frame(outcomes["error_ratio_curve"]),
                "service",
                ranking("error_ratio"),
                how="weighted",
                weights=rate,
            ),
            "highest 5xx ratio",
        ),
        "latency_p95": (
            top_and_others(_frame(outcomes["p95_curve"]), "service", ranking("p95"), how="max"),
            "highest p95 latency",
        ),
    }
    notes = {name: note for name, (reduced, by) in charts.items() if (note := reduced.note("services", by))}
    return ServiceHealth(
        summary=summary,
        request_rate=charts["request_rate"][0].frame,
        error_ratio=charts["error_ratio"][0].frame,
        latency_p95=charts["latency_p95"][0].frame,
        outcomes=outcomes,
        chart_notes=notes,
    )


def _frame(outcome: Outcome[QueryResult]) -> pd.DataFrame:
    if outcome.value is None:
        return pd.DataFrame(columns=["service", "timestamp", "value"])
    return outcome.value.frame


def _summary(outcomes: dict[str, Outcome[QueryResult]]) -> pd.DataFrame:
    """One row per service; a figure whose query failed is missing (NaN), never zero."""
    columns = ["request_rate", "error_ratio", *QUANTILES]
    table = pd.DataFrame(columns=["service"]).set_index("service")
    for column in ("request_rate", "error_ratio"):
        frame = _frame(outcomes[column])
        if "service" in frame.columns and not frame.empty:
            table = table.join(frame.set_index("service")["value"].rename(column), how="outer")
    latency = histograms.quantiles(_frame(outcomes["latency_buckets"]), "service", QUANTILES)
    if not latency.empty:
        table = table.join(latency.set_index("service"), how="outer")
    return table.reindex(columns=columns).reset_index().sort_values("service", ignore_index=True)

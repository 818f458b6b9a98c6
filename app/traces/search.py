"""Trace search: Jaeger's search arguments rendered through `queries/traces.yaml`, the searches behind
the list, and the list as a table."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pandas as pd

from app import logs
from app.sources.jaeger import TraceList, TraceSummary
from app.timerange import TimeRange
from app.traces.links import TraceView

SEARCH_LIMIT = 50
ERRORS_SCAN_LIMIT = 200  # traces scanned for failures (Jaeger memory store: ~5 s for 200 over 30 days)
PREFERRED_SERVICES = ("gateway",)  # the platform's entry point: every request starts there


def search_kwargs(view: TraceView, tr: TimeRange, limit: int = SEARCH_LIMIT) -> dict[str, Any]:
    """`JaegerClient.search` keyword arguments for the view, rendered from `queries/traces.yaml`.

    "All operations" and "no minimum duration" are not sent at all, as the Jaeger UI does."""
    name = "search_errors" if view.errors_only else "search"
    kwargs = dict(
        logs.render(
            "traces",
            name,
            service=view.service,
            operation=view.operation,
            start=tr.start,
            end=tr.end,
            min_duration=view.min_duration or "0ms",
            limit=limit,
        ).query
    )
    service = kwargs.pop("service")
    if not kwargs.get("operation"):
        kwargs["operation"] = None
    if not kwargs.get("min_duration"):
        kwargs["min_duration"] = None
    return {"service": service, **kwargs}


def search_tasks(view: TraceView, tr: TimeRange) -> dict[str, dict[str, Any]]:
    """The searches behind the trace list, by name.

    With `errors_only`, Jaeger's own `error=true` tag filter is asked, and so is a wider unfiltered
    search whose failed traces are kept by `traces_table`: Jaeger 2.x's memory store does not find
    OTLP spans whose status is ERROR through that tag (jaegertracing/jaeger#8553), other stores do."""
    tasks = {"search": search_kwargs(view, tr)}
    if view.errors_only:
        tasks["search_wide"] = search_kwargs(replace(view, errors_only=False), tr, limit=ERRORS_SCAN_LIMIT)
    return tasks


def merge(*found: TraceList | None) -> TraceList:
    """Several searches' traces as one list (first occurrence of each id), with all their warnings."""
    seen: set[str] = set()
    traces: list[TraceSummary] = []
    warnings: list[str] = []
    for result in found:
        if result is None:
            continue
        warnings.extend(result.warnings)
        for summary in result:
            if summary.trace_id not in seen:
                seen.add(summary.trace_id)
                traces.append(summary)
    return TraceList(traces, tuple(dict.fromkeys(warnings)))


def traces_table(found: TraceList | None, sort: str = "duration", errors_only: bool = False) -> pd.DataFrame:
    """One row per trace: start, root operation, duration, span count, services, error flag; slowest or
    newest first. With `errors_only`, traces without a failed span are dropped even if Jaeger's tag
    filter let them through."""
    columns = [
        "start",
        "duration_ms",
        "error",
        "root_service",
        "root_operation",
        "span_count",
        "services",
        "trace_id",
    ]
    if not found:
        return pd.DataFrame(
            {
                "start": pd.Series([], dtype="datetime64[ns, UTC]"),
                **{c: pd.Series([], dtype="object") for c in ("trace_id", "root_service", "root_operation")},
                "duration_ms": pd.Series([], dtype="float64"),
                "span_count": pd.Series([], dtype="int64"),
                "services": pd.Series([], dtype="object"),
                "error": pd.Series([], dtype="bool"),
            }
        )
    frame = found.frame()
    frame["services"] = frame["services"].map(lambda s: ", ".join(s))
    frame["start"] = pd.to_datetime(frame["start"], utc=True)
    frame = frame.drop_duplicates("trace_id")
    if errors_only:
        frame = frame[frame["error"]]
    by = ["duration_ms", "start"] if sort == "duration" else ["start", "duration_ms"]
    return frame.sort_values(by, ascending=False, kind="stable").reset_index(drop=True)[columns]


def slowest_trace_id(found: TraceList | None) -> str | None:
    table = traces_table(found)
    return str(table["trace_id"].iloc[0]) if not table.empty else None


def default_service(services: list[str]) -> str | None:
    """The service a page opens on: the entry point when Jaeger knows it, else the first one."""
    for name in PREFERRED_SERVICES:
        if name in services:
            return name
    return services[0] if services else None

"""The Traces page's data: trace search in Jaeger, one trace's span tree, and that trace's logs.

Pure parts (tested on hand-made frames): the view's URL parameters and the link that reproduces it, the
Jaeger search arguments rendered through `queries/traces.yaml`, the span tree turned into waterfall rows
(depth, self time, critical path) and the time each service takes. Loaders fetch through `fetch_all`, so
a failing Jaeger leaves the trace's logs (OpenSearch) on screen and the other way round.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import altair as alt
import pandas as pd

from app import links, logs, times
from app.sources import Sources
from app.sources.cache import Outcome, ResultCache, default_cache
from app.sources.concurrent import fetch_keyed
from app.sources.jaeger import Trace, TraceList, TraceSummary
from app.sources.opensearch import SearchResult
from app.timerange import DEFAULT_PRESET, PRESETS, TimeRange, time_range

SORTS = ("duration", "time")
MIN_DURATIONS = ("", "100ms", "250ms", "500ms", "1s", "2s", "5s", "10s")
SEARCH_LIMIT = 50
ERRORS_SCAN_LIMIT = 200  # traces scanned for failures (Jaeger memory store: ~5 s for 200 over 30 days)
PREFERRED_SERVICES = ("gateway",)  # the platform's entry point: every request starts there
MAX_WINDOW = timedelta(days=31)
TTL_S = 30.0
LIST_TTL_S = 300.0
CHART_MAX_SPANS = 300
LABEL_WIDTH = 250
BARS_WIDTH = 620
# Service colours without red, which marks failed spans.
SERVICE_PALETTE = ["#4C78A8", "#F58518", "#54A24B", "#72B7B2", "#B279A2", "#EECA3B", "#9D755D", "#BAB0AC"]

_HEX_ID = re.compile(r"^[0-9a-f]{1,32}$")
WATERFALL_COLUMNS = (
    "row",
    "span_id",
    "parent_id",
    "depth",
    "service",
    "operation",
    "label",
    "start_ms",
    "end_ms",
    "duration_ms",
    "self_ms",
    "critical_ms",
    "on_critical_path",
    "error",
    "detail",
)


# -- the view and its link -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TraceView:
    """Everything the page's URL says. `start`/`end` (both or neither) replace the range preset with an
    explicit window, e.g. a link from an SLO burn."""

    service: str = ""
    operation: str = ""
    preset: str = DEFAULT_PRESET
    errors_only: bool = False
    min_duration: str = ""
    sort: str = "duration"
    trace_id: str = ""
    start: datetime | None = None
    end: datetime | None = None

    def time_range(self, now: datetime) -> TimeRange:
        if self.start is not None and self.end is not None:
            return TimeRange(preset="custom", start=self.start, end=self.end)
        return time_range(self.preset, now)


def normalize_trace_id(text: object) -> str | None:
    """A trace id as Jaeger writes it (lower-case hex, at most 32 digits), or None when it is not one
    (anything but text included: a log line without a trace has NaN there)."""
    if not isinstance(text, str):
        return None
    value = text.strip().lower()
    return value if _HEX_ID.match(value) else None


def parse_time(text: str | None) -> datetime | None:
    """A time from the URL in UTC (`app.times.parse_time`'s forms), or None when absent or unusable."""
    if not text:
        return None
    try:
        return times.parse_time(text)
    except ValueError:
        return None


def parse_window(start: str | None, end: str | None) -> tuple[datetime, datetime] | None:
    """The explicit window of `start`/`end` URL parameters, when both are valid and in order."""
    first, last = parse_time(start), parse_time(end)
    if first is None or last is None or not first < last or last - first > MAX_WINDOW:
        return None
    return first, last


def range_token(preset: str) -> str:
    """What the shared sidebar's `range` selectbox reads from the URL for a preset: the preset itself
    (`7d`); test_traces_page checks that a link built with it reproduces the view."""
    return preset if preset in PRESETS else DEFAULT_PRESET


def link_params(view: TraceView) -> dict[str, str]:
    """The URL parameters that reproduce `view`, in a fixed order, defaults left out."""
    params: dict[str, str] = {}
    if view.service:
        params["service"] = view.service
    if view.operation:
        params["operation"] = view.operation
    if view.start is not None and view.end is not None:
        params["start"], params["end"] = times.rfc3339(view.start), times.rfc3339(view.end)
    elif view.preset != DEFAULT_PRESET and view.preset in PRESETS:
        params["range"] = range_token(view.preset)
    if view.errors_only:
        params["errors_only"] = "true"
    if view.min_duration:
        params["min_duration"] = view.min_duration
    if view.sort != SORTS[0]:
        params["sort"] = view.sort
    if view.trace_id:
        params["trace"] = view.trace_id
    return params


def trace_link(view: TraceView) -> str:
    """The relative address of the Traces page showing `view` (`app.links`)."""
    return links.url("traces", **link_params(view))


# -- search ----------------------------------------------------------------------------------------------


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


# -- the span tree ---------------------------------------------------------------------------------------


def _detail(tags: Any) -> str:
    """What went wrong on a span, in the words its tags give (status description, error message, code)."""
    if not isinstance(tags, Mapping):
        return ""
    parts = []
    keys = ["otel.status_description", "error.message", "exception.message", "error.type"]
    keys += sorted(k for k in tags if str(k).endswith("error_code"))  # e.g. hmrc.error_code
    for key in keys:
        value = tags.get(key)
        if value not in (None, "", False) and str(value).lower() != "error":  # "error" says nothing new
            parts.append(str(value))
    code = tags.get("http.status_code", tags.get("http.response.status_code"))
    failed = tags.get("error") in (True, "true") or str(tags.get("otel.status_code", "")).upper() == "ERROR"
    if code not in (None, "") and (failed or str(code)[:1] in "45"):  # a success code says nothing new
        parts.append(f"HTTP {code}")
    return "; ".join(dict.fromkeys(parts))


def _union_ms(intervals: list[tuple[float, float]]) -> float:
    total, current_start, current_end = 0.0, None, None
    for start, end in sorted(intervals):
        if end <= start:
            continue
        if current_end is None or start > current_end:
            if current_end is not None and current_start is not None:
                total += current_end - current_start
            current_start, current_end = start, end
        else:
            current_end = max(current_end, end)
    if current_end is not None and current_start is not None:
        total += current_end - current_start
    return total


def waterfall_rows(spans: pd.DataFrame) -> pd.DataFrame:
    """The span tree in display order (depth first, children by start) with, per span: its depth,
    start/end in milliseconds from the trace's start, self time (its duration minus the time covered by
    its children) and time on the critical path. Spans whose parent is missing count as roots."""
    if spans is None or spans.empty:
        return pd.DataFrame({c: pd.Series([], dtype="object") for c in WATERFALL_COLUMNS})
    # A span received twice (e.g. exported again) comes back twice from Jaeger: keep one.
    same = [c for c in ("span_id", "start", "duration_ms", "service", "operation") if c in spans.columns]
    spans = spans.drop_duplicates(subset=same).reset_index(drop=True)
    t0 = spans["start"].min()
    start_ms = ((spans["start"] - t0) / pd.Timedelta(milliseconds=1)).astype("float64").tolist()
    durations = spans["duration_ms"].astype("float64").tolist()
    ids = [str(s) for s in spans["span_id"]]
    index = {span_id: i for i, span_id in enumerate(ids)}
    parents = [
        p if isinstance(p, str) and p in index and p != ids[i] else None
        for i, p in enumerate(spans["parent_id"])
    ]
    children: dict[int | None, list[int]] = {}
    for i, parent in enumerate(parents):
        children.setdefault(None if parent is None else index[parent], []).append(i)
    for kids in children.values():
        kids.sort(key=lambda i: (start_ms[i], ids[i]))

    order: list[tuple[int, int]] = []  # (span index, depth)
    seen: set[int] = set()

    def visit(root: int) -> None:
        stack = [(root, 0)]
        while stack:
            i, depth = stack.pop()
            if i in seen:
                continue
            seen.add(i)
            order.append((i, depth))
            stack.extend((k, depth + 1) for k in reversed(children.get(i, [])))

    for root in children.get(None, []):
        visit(root)
    for i in sorted(set(range(len(ids))) - seen, key=lambda i: (start_ms[i], ids[i])):  # cycles
        visit(i)

    ends = [s + d for s, d in zip(start_ms, durations, strict=True)]
    self_ms = []
    for i in range(len(ids)):
        covered = [(max(start_ms[k], start_ms[i]), min(ends[k], ends[i])) for k in children.get(i, [])]
        self_ms.append(max(durations[i] - _union_ms(covered), 0.0))
    critical = critical_path(start_ms, ends, children)

    rows = []
    labels: dict[str, int] = {}
    for row, (i, depth) in enumerate(order):
        operation, service = str(spans.at[i, "operation"]), str(spans.at[i, "service"])
        label = "\u00a0\u00a0" * depth + f"{operation} ({service})"
        seen_count = labels.get(label, 0)
        labels[label] = seen_count + 1
        rows.append(
            {
                "row": row,
                "span_id": ids[i],
                "parent_id": parents[i],
                "depth": depth,
                "service": service,
                "operation": operation,
                # Repeated operations (retries) keep one row each in the chart: invisible suffix.
                "label": label + "\u200b" * seen_count,
                "start_ms": start_ms[i],
                "end_ms": ends[i],
                "duration_ms": durations[i],
                "self_ms": self_ms[i],
                "critical_ms": critical.get(i, 0.0),
                "on_critical_path": critical.get(i, 0.0) > 0,
                "error": bool(spans.at[i, "error"]),
                "detail": _detail(spans.at[i, "tags"]) if "tags" in spans.columns else "",
            }
        )
    return pd.DataFrame(rows, columns=list(WATERFALL_COLUMNS))


def critical_path(
    start_ms: list[float], end_ms: list[float], children: Mapping[int | None, list[int]]
) -> dict[int, float]:
    """Milliseconds each span spends on the critical path, as the Jaeger UI computes it: walking back
    from a span's end, the child that finished last before the current point is what the span waited for
    (recursively); then the current point moves to that child's start, and only children that had
    finished by then are candidates. Time not covered that way is the span's own. Children are first
    clipped to their parent. The values of one tree add up to its root's duration."""
    contribution: dict[int, float] = {}

    def walk(root: int, root_end: float) -> None:
        stack: list[tuple[int, float, float]] = [(root, start_ms[root], root_end)]  # span, lower, upper
        while stack:
            span, lower, upper = stack.pop()
            clipped = [(max(start_ms[k], lower), min(end_ms[k], upper), k) for k in children.get(span, [])]
            candidates = sorted((c for c in clipped if c[0] < c[1]), key=lambda c: (c[1], c[0]), reverse=True)
            current, own = upper, 0.0
            for kid_start, kid_end, kid in candidates:
                if kid_end > current:
                    continue  # still running when the later child started: not what the span waited on
                own += current - kid_end
                stack.append((kid, kid_start, kid_end))
                current = kid_start
            contribution[span] = contribution.get(span, 0.0) + own + max(current - lower, 0.0)

    for root in children.get(None, []):
        walk(root, end_ms[root])
    return contribution


def service_share(rows: pd.DataFrame) -> pd.DataFrame:
    """Per service: spans, errors, self time and critical-path time, with each one's share of the trace's
    critical path (which adds up to the trace's duration)."""
    columns = ["service", "spans", "errors", "self_ms", "critical_ms", "critical_share"]
    if rows is None or rows.empty:
        return pd.DataFrame(columns=columns)
    grouped = rows.groupby("service", sort=False).agg(
        spans=("span_id", "count"),
        errors=("error", "sum"),
        self_ms=("self_ms", "sum"),
        critical_ms=("critical_ms", "sum"),
    )
    total = grouped["critical_ms"].sum()
    grouped["critical_share"] = grouped["critical_ms"] / total if total > 0 else 0.0
    grouped["errors"] = grouped["errors"].astype("int64")
    return grouped.reset_index().sort_values(
        ["critical_ms", "service"], ascending=[False, True], ignore_index=True
    )[columns]


def waterfall_chart(rows: pd.DataFrame) -> alt.HConcatChart:
    """Spans as bars over time from the trace's start, one row each: on the left the operation and
    service, indented by depth (red for failed spans); on the right the bars, coloured by service, failed
    spans outlined in red and marked at their end, the critical path in full colour."""
    data = rows.head(CHART_MAX_SPANS).copy()
    data["name"] = data["operation"] + " · " + data["service"]
    data["error_mark"] = data["error"].map(lambda e: "✕" if e else "")
    data["key"] = data["row"].astype(str)
    y = alt.Y("key:N", sort=list(data["key"]), title=None, axis=None, scale=alt.Scale(paddingInner=0.3))
    tooltip = [
        alt.Tooltip("operation:N"),
        alt.Tooltip("service:N"),
        alt.Tooltip("start_ms:Q", title="starts at (ms)", format=",.1f"),
        alt.Tooltip("duration_ms:Q", title="duration (ms)", format=",.1f"),
        alt.Tooltip("self_ms:Q", title="self time (ms)", format=",.1f"),
        alt.Tooltip("critical_ms:Q", title="on critical path (ms)", format=",.1f"),
        alt.Tooltip("error:N"),
        alt.Tooltip("detail:N"),
    ]
    height = max(60, 24 * len(data))
    max_depth = int(data["depth"].max()) if not data.empty else 0
    names = (
        alt.Chart(data)
        .mark_text(align="left", baseline="middle", fontSize=12, limit=LABEL_WIDTH)
        .encode(
            x=alt.X("depth:Q", axis=None, scale=alt.Scale(domain=[0, max(max_depth, 1) * 3 + 12])),
            y=y,
            text="name:N",
            color=alt.condition("datum.error", alt.value("#C62828"), alt.value("#31333F")),
            tooltip=tooltip,
        )
        .properties(width=LABEL_WIDTH, height=height)
    )
    bars = (
        alt.Chart(data)
        .mark_bar(cornerRadius=2)
        .encode(
            x=alt.X("start_ms:Q", title="milliseconds from the trace's start", axis=alt.Axis(format=",.0f")),
            x2="end_ms:Q",
            y=y,
            color=alt.Color(
                "service:N",
                title="service",
                scale=alt.Scale(range=SERVICE_PALETTE),
                legend=alt.Legend(orient="bottom"),
            ),
            opacity=alt.condition("datum.on_critical_path", alt.value(1.0), alt.value(0.4)),
            stroke=alt.condition("datum.error", alt.value("#C62828"), alt.value("transparent")),
            strokeWidth=alt.condition("datum.error", alt.value(2), alt.value(0)),
            tooltip=tooltip,
        )
    )
    marks = (
        alt.Chart(data)
        .transform_filter("datum.error")
        .mark_text(align="left", dx=4, color="#C62828", fontWeight="bold", fontSize=12)
        .encode(x="end_ms:Q", y=y, text="error_mark:N", tooltip=tooltip)
    )
    return (
        alt.hconcat(names, alt.layer(bars, marks).properties(height=height, width=BARS_WIDTH), spacing=4)
        .resolve_scale(y="shared")
        .properties(title="Spans over time (the critical path in full colour, failures in red)")
        .configure_axis(labelFontSize=12, titleFontSize=12, gridColor="#E6E9EE", domainColor="#9AA5B1")
        .configure_title(fontSize=14, anchor="start", fontWeight=600)
        .configure_view(strokeWidth=0)
    )


# -- loaders ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TraceDetail:
    trace_id: str
    rows: pd.DataFrame  # waterfall_rows
    services: pd.DataFrame  # service_share
    start: datetime | None
    duration_ms: float
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class TracesPage:
    view: TraceView
    time_range: TimeRange
    table: pd.DataFrame  # traces_table
    detail: TraceDetail | None
    logs: pd.DataFrame  # the trace's log lines (logs.lines_table)
    logs_total: int
    outcomes: dict[str, Outcome[Any]] = field(repr=False)

    def problems(self, *names: str) -> list[tuple[str, Outcome[Any]]]:
        backend = {"search": "jaeger", "search_wide": "jaeger", "trace": "jaeger", "logs": "opensearch"}
        wanted = set(names) | ({"search_wide"} if "search" in names else set())
        return [
            (backend[n], o)
            for n, o in self.outcomes.items()
            if o.error is not None and (not names or n in wanted)
        ]

    def warnings(self, *names: str) -> list[str]:
        found: list[str] = []
        for name, outcome in self.outcomes.items():
            if outcome.value is not None and (
                not names or name in names or (name == "search_wide" and "search" in names)
            ):
                found.extend(getattr(outcome.value, "warnings", ()))
        return found


def load_services(sources: Sources, cache: ResultCache = default_cache) -> Outcome[list[str]]:
    """The services Jaeger has seen, for the picker."""
    jaeger = sources.jaeger
    prefix = (sources.cache_key, "traces")
    task = {"services": ((), jaeger.services)}
    return fetch_keyed(task, prefix=prefix, ttl_s=LIST_TTL_S, budget_s=sources.run_budget_s, cache=cache)[
        "services"
    ]


def load_operations(sources: Sources, service: str, cache: ResultCache = default_cache) -> Outcome[list[str]]:
    """The operations of one service, for the picker."""
    jaeger = sources.jaeger
    prefix = (sources.cache_key, "traces")
    task = {"operations": (service, lambda: jaeger.operations(service))}
    return fetch_keyed(task, prefix=prefix, ttl_s=LIST_TTL_S, budget_s=sources.run_budget_s, cache=cache)[
        "operations"
    ]


def detail_of(trace: Trace) -> TraceDetail:
    rows = waterfall_rows(trace.spans)
    start = trace.spans["start"].min().to_pydatetime() if not trace.spans.empty else None
    duration = float(rows["end_ms"].max()) if not rows.empty else 0.0
    return TraceDetail(trace.trace_id, rows, service_share(rows), start, duration, trace.warnings)


def load(sources: Sources, view: TraceView, now: datetime, cache: ResultCache = default_cache) -> TracesPage:
    """The search, the picked trace and its logs, at once: each panel gets its own outcome."""
    tr = view.time_range(now)
    jaeger, opensearch = sources.jaeger, sources.opensearch
    # A preset's window moves with the clock: the cache takes it apart from the question, to fall back on
    # an earlier window's answer. An explicit window (from a link) is part of the question itself.
    moving = tr.preset != "custom"
    tasks: dict[str, tuple[Hashable, Callable[[], Any]]] = {}
    if view.service:
        for name, kwargs in search_tasks(view, tr).items():
            asked = {k: v for k, v in kwargs.items() if not (moving and k in ("start", "end"))}
            tasks[name] = ((tr.preset, *sorted(asked.items())), functools.partial(jaeger.search, **kwargs))
    trace_id = normalize_trace_id(view.trace_id)
    if trace_id:
        tasks["trace"] = (trace_id, lambda: jaeger.trace(trace_id))
        tasks["logs"] = (trace_id, lambda: logs.trace_logs(opensearch, trace_id))
    prefix = (sources.cache_key, "traces")
    outcomes = fetch_keyed(
        tasks,
        prefix=prefix,
        ttl_s=TTL_S,
        budget_s=sources.run_budget_s,
        cache=cache,
        window=tr if moving else None,
        untimed=("trace", "logs"),  # a trace and its logs are the same whatever the search's window
    )
    found = [outcomes[n].value for n in ("search", "search_wide") if n in outcomes]
    trace = outcomes.get("trace")
    found_logs: Outcome[SearchResult] | None = outcomes.get("logs")
    log_result = found_logs.value if found_logs is not None else None
    return TracesPage(
        view=view,
        time_range=tr,
        table=traces_table(merge(*found), view.sort, view.errors_only),
        detail=detail_of(trace.value) if trace is not None and trace.value is not None else None,
        logs=logs.lines_table(log_result.hits if log_result is not None else None),
        logs_total=log_result.total if log_result is not None else 0,
        outcomes=outcomes,
    )


def record_all(sources: Sources, now: datetime, cache: ResultCache) -> None:
    """The page's default views for the snapshot: for each range preset, the default service's search
    (default filters) and the detail and logs of the slowest trace found; plus the pickers' lists."""
    services = load_services(sources, cache).value or []
    service = default_service(services)
    if service is None:
        return
    load_operations(sources, service, cache)
    for preset in PRESETS:
        view = TraceView(service=service, preset=preset)
        page = load(sources, view, now, cache)
        if not page.table.empty:
            load(
                sources,
                TraceView(service=service, preset=preset, trace_id=str(page.table["trace_id"].iloc[0])),
                now,
                cache,
            )

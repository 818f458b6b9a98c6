"""The Logs page's log lines from OpenSearch (its audit tab: `app.audit`).

Every request body comes from `queries/logs.yaml`: a search (time range, aggregations, sort) plus one
rendered filter clause per filter the user set, appended to its `bool.filter`. User text therefore only
ever reaches OpenSearch as a typed JSON value of a named clause (free text through simple_query_string).

Everything read is masked (`Sources.masker`, `app.masking`) before it becomes a frame: the lines, the
pickers' values and the levels.
"""

from __future__ import annotations

import copy
import functools
import math
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import altair as alt
import pandas as pd

from app import directory, queries
from app.sources import Sources
from app.sources.cache import FromOneBackend, Outcome, ResultCache, default_cache
from app.sources.concurrent import fetch_keyed
from app.sources.errors import BackendError
from app.sources.opensearch import SearchResult, buckets_frame
from app.timerange import DEFAULT_PRESET, PRESETS, TimeRange

GROUP = "logs"
PAGE_SIZE = 100
PIT_KEEP_ALIVE = "5m"  # a point in time unused that long is dropped by OpenSearch
TTL_S = 30.0
FACETS_TTL_S = 120.0
MAX_BUCKETS = 200
INTERVALS: dict[str, timedelta] = {
    "1m": timedelta(minutes=1),
    "5m": timedelta(minutes=5),
    "10m": timedelta(minutes=10),
    "15m": timedelta(minutes=15),
    "30m": timedelta(minutes=30),
    "1h": timedelta(hours=1),
    "3h": timedelta(hours=3),
    "6h": timedelta(hours=6),
    "12h": timedelta(hours=12),
    "1d": timedelta(days=1),
}
LINE_COLUMNS = (
    "@timestamp",
    "level",
    "service",
    "tenant",
    "action",
    "route",
    "status",
    "message",
    "trace_id",
    "span_id",
)
LEVEL_COLORS = {
    "fatal": "#7B1FA2",
    "critical": "#7B1FA2",
    "error": "#C62828",
    "warn": "#EF6C00",
    "warning": "#EF6C00",
    "info": "#1565C0",
    "debug": "#90A4AE",
    "trace": "#CFD8DC",
}


# -- request bodies --------------------------------------------------------------------------------------

_FILES: dict[str, tuple[int, dict[str, queries.NamedQuery]]] = {}


def named_query(group: str, name: str) -> queries.NamedQuery:
    """A query of `queries/<group>.yaml`, read from that file alone (re-read when it changes), so that a
    malformed file of another page cannot take this page down with it."""
    path = queries.QUERIES_DIR / f"{group}.yaml"
    stamp = path.stat().st_mtime_ns
    cached = _FILES.get(group)
    if cached is None or cached[0] != stamp:
        cached = _FILES[group] = (stamp, {q.name: q for q in queries.load_file(path)})
    try:
        return cached[1][name]
    except KeyError:
        raise KeyError(f"no query {name!r} in queries/{group}.yaml") from None


def render(group: str, name: str, /, **params: object) -> queries.RenderedQuery:
    """Render a named query with typed, escaped parameters (see app/queries.py)."""
    return named_query(group, name).render(**params)


@dataclass(frozen=True)
class LogFilters:
    """The Logs page's filters; empty means "any". `q` is free text."""

    service: str = ""
    level: str = ""
    tenant: str = ""
    q: str = ""
    trace_id: str = ""

    def active(self) -> dict[str, str]:
        return {k: v for k, v in vars(self).items() if v}


_FILTERS = {
    "service": ("filter_service", "service"),
    "level": ("filter_level", "level"),
    "tenant": ("filter_tenant", "tenant"),
    "q": ("filter_text", "q"),
    "trace_id": ("filter_trace", "trace_id"),
}


def link_params(filters: LogFilters, preset: str) -> dict[str, str]:
    """The Logs page's URL parameters for these filters and range preset, defaults left out (for
    `app.links.url`)."""
    params = {
        name: value
        for name, value in (
            ("service", filters.service),
            ("level", filters.level),
            ("tenant", filters.tenant),
            ("q", filters.q),
            ("trace_id", filters.trace_id),
        )
        if value
    }
    if preset != DEFAULT_PRESET and preset in PRESETS:
        params["range"] = preset
    return params


def filter_clauses(filters: LogFilters) -> list[dict[str, Any]]:
    """One rendered clause of `queries/logs.yaml` per filter that is set, in a fixed order."""
    clauses = []
    for attribute, (query, param) in _FILTERS.items():
        value = getattr(filters, attribute).strip()
        if value:
            clauses.append(render(GROUP, query, **{param: value}).query)
    return clauses


def with_filters(body: Mapping[str, Any], clauses: list[dict[str, Any]]) -> dict[str, Any]:
    """A copy of a search body with `clauses` appended to its `query.bool.filter`."""
    result = copy.deepcopy(dict(body))
    if clauses:
        result["query"]["bool"]["filter"] = [*result["query"]["bool"]["filter"], *clauses]
    return result


def search_request(
    name: str, clauses: list[dict[str, Any]] | None = None, **params: Any
) -> tuple[str, dict[str, Any]]:
    """(index, body) of the named search with the filter clauses added."""
    rendered = render(GROUP, name, **params)
    return str(rendered.index), with_filters(rendered.query, clauses or [])


def histogram_interval(tr: TimeRange) -> str:
    """The smallest bucket width that keeps the histogram at most `MAX_BUCKETS` bars."""
    for name, width in INTERVALS.items():
        if tr.duration / width <= MAX_BUCKETS:
            return name
    return "1d"


def epoch_ms(value: Any) -> int | None:
    """A `@timestamp` as OpenSearch sorts a `date` field: whole milliseconds since the epoch."""
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError):
        return None
    if pd.isna(stamp):
        return None
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return int(math.floor(stamp.value / 1_000_000))


def after_of(hits: pd.DataFrame | None) -> tuple[int, str] | None:
    """The search_after key of the last line of a page: (timestamp in ms, document id)."""
    if hits is None or hits.empty or "@timestamp" not in hits.columns:
        return None
    last = hits.iloc[-1]
    ms = epoch_ms(last["@timestamp"])
    return (ms, str(last["_id"])) if ms is not None else None


# -- frames ----------------------------------------------------------------------------------------------


def lines_table(hits: pd.DataFrame | None, columns: tuple[str, ...] = LINE_COLUMNS) -> pd.DataFrame:
    """Log lines for a table: time as a UTC datetime, the known fields in a fixed order, then any others
    (text stays text: messages are shown as plain cells, never rendered); the tenant by its firm's name."""
    if hits is None or hits.empty:
        frame = pd.DataFrame({c: pd.Series([], dtype="object") for c in columns})
        frame["@timestamp"] = pd.Series([], dtype="datetime64[ns, UTC]")
        return frame.rename(columns={"@timestamp": "time"})
    frame = hits.copy()
    for column in columns:
        if column not in frame.columns:
            frame[column] = None
    frame["@timestamp"] = pd.to_datetime(frame["@timestamp"], utc=True, errors="coerce", format="ISO8601")
    extra = [c for c in frame.columns if c not in columns and c != "_id"]
    frame = frame[[*columns, *extra]].rename(columns={"@timestamp": "time"}).reset_index(drop=True)
    return directory.named_column(frame, "tenant")  # client firms by name (`app.directory`)


def level_counts(result: SearchResult | None, name: str = "levels") -> pd.DataFrame:
    """Matching lines per level, most first."""
    if result is None:
        return pd.DataFrame({"level": pd.Series([], dtype="object"), "count": pd.Series([], dtype="int64")})
    frame = buckets_frame(result.aggregations, name).rename(columns={name: "level", "doc_count": "count"})
    frame["count"] = frame["count"].astype("int64")
    return frame[["level", "count"]].sort_values(
        ["count", "level"], ascending=[False, True], ignore_index=True
    )


def histogram_frame(result: SearchResult | None, by: str = "level", agg: str = "over_time") -> pd.DataFrame:
    """Tidy counts per (time bucket, `by` value), every bucket present for every value (zeros filled)."""
    empty = pd.DataFrame(
        {"time": pd.Series([], dtype="datetime64[ns, UTC]"), by: pd.Series([], dtype="object"), "count": []}
    )
    if result is None or agg not in result.aggregations:
        return empty
    buckets = [b.get("key") for b in result.aggregations[agg].get("buckets", [])]
    times = pd.to_datetime(pd.Series(buckets, dtype="float64"), unit="ms", utc=True)
    rows = buckets_frame(result.aggregations, agg)
    if by not in rows.columns or rows.empty or times.empty:
        return empty
    rows = rows.dropna(subset=[by]).rename(columns={agg: "time", "doc_count": "count"})
    values = sorted(rows[by].astype(str).unique())
    if not values:
        return empty
    grid = pd.MultiIndex.from_product([times, values], names=["time", by]).to_frame(index=False)
    rows["time"] = pd.to_datetime(rows["time"], utc=True)
    rows[by] = rows[by].astype(str)
    merged = grid.merge(rows[["time", by, "count"]], on=["time", by], how="left")
    merged["count"] = merged["count"].fillna(0).astype("int64")
    return merged


def time_format(interval: str) -> str:
    """Axis labels: the hour for bars under an hour wide, else the day."""
    return "%H:%M" if INTERVALS.get(interval, timedelta(0)) < timedelta(hours=1) else "%d %b"


def stacked_bars(
    frame: pd.DataFrame, *, by: str, title: str, interval: str, colors: Mapping[str, str]
) -> alt.Chart:
    """Counts over time stacked by `by`, with fixed colours for known values."""
    frame = frame.assign(end=frame["time"] + INTERVALS.get(interval, timedelta(0)))
    values = sorted(frame[by].unique()) if not frame.empty else []
    known = [v for v in values if v.lower() in colors]
    scale = (
        alt.Scale(domain=values, range=[colors.get(v.lower(), "#7E57C2") for v in values])
        if known
        else alt.Undefined
    )
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X(
                "time:T",
                title=None,
                axis=alt.Axis(format=time_format(interval), tickCount="day")
                if time_format(interval) == "%d %b"
                else alt.Axis(format=time_format(interval)),
            ),
            x2="end:T",
            y=alt.Y("sum(count):Q", title=f"per {interval}", stack="zero"),
            color=alt.Color(f"{by}:N", title=None, scale=scale),
            tooltip=[
                alt.Tooltip("time:T", format="%d %b %H:%M"),
                alt.Tooltip(f"{by}:N"),
                alt.Tooltip("count:Q", format=","),
            ],
        )
        .properties(height=220, title=title)
        .configure_axis(labelFontSize=12, titleFontSize=12, gridColor="#E6E9EE", domainColor="#9AA5B1")
        .configure_title(fontSize=14, anchor="start", fontWeight=600)
        .configure_legend(orient="bottom", labelFontSize=12)
        .configure_view(strokeWidth=0)
    )


# -- loaders ---------------------------------------------------------------------------------------------


def search_task(
    client: Any, tr: TimeRange, name: str, clauses: list[dict[str, Any]] | None = None, **params: Any
) -> tuple[Hashable, Callable[[], SearchResult]]:
    """The named search over `tr`, keyed by what it asks apart from the window (which moves with the
    clock: the cache takes it separately, to fall back on the answer for an earlier one)."""
    index, body = search_request(name, clauses, start=tr.start, end=tr.end, **params)
    asked = (index, name, tr.preset, repr(clauses), tuple(sorted((k, repr(v)) for k, v in params.items())))
    return asked, lambda: client.search(index=index, body=body)


def trace_logs(client: Any, trace_id: str) -> SearchResult:
    """Every log line of one trace, oldest first (the Traces page shows them under the trace)."""
    index, body = search_request("by_trace", trace_id=trace_id)
    return client.search(index=index, body=body)


@dataclass(frozen=True)
class Facets:
    services: list[str]
    levels: list[str]
    tenants: list[str]
    outcome: Outcome[SearchResult] = field(repr=False)


def terms(result: SearchResult | None, name: str) -> list[str]:
    if result is None:
        return []
    frame = buckets_frame(result.aggregations, name)
    return sorted({str(v) for v in frame[name].dropna()}) if name in frame.columns else []


def load_facets(sources: Sources, tr: TimeRange, cache: ResultCache = default_cache) -> Facets:
    """The services, levels and tenants that logged in the window, for the pickers."""
    client = sources.opensearch
    outcome = fetch_keyed(
        {"facets": search_task(client, tr, "facets")},
        prefix=(sources.cache_key, GROUP),
        ttl_s=FACETS_TTL_S,
        budget_s=sources.run_budget_s,
        cache=cache,
        window=tr,
    )["facets"]
    result, mask = outcome.value, sources.masker.strings
    return Facets(
        mask(terms(result, "services")),
        mask(terms(result, "levels")),
        mask(terms(result, "tenants")),
        outcome,
    )


@dataclass(frozen=True)
class Paging:
    """Which page of lines: the first is the newest `PAGE_SIZE`; each key in `after` is the last line of a
    page before it (search_after on timestamp and id, never from/size, so paging goes past OpenSearch's
    10,000-hit window). Pages after the first read one point in time (`pit_id`, opened on the way to page
    2) over the window the first page had (`window`), so that they neither skip nor repeat lines."""

    after: tuple[tuple[int, str], ...] = ()
    window: tuple[datetime, datetime] | None = None
    pit_id: str | None = None

    @property
    def number(self) -> int:
        return len(self.after) + 1

    def older(self, key: tuple[int, str], window: tuple[datetime, datetime]) -> Paging:
        return replace(self, after=(*self.after, key), window=self.window or window)

    def newer(self) -> Paging:
        return replace(self, after=self.after[:-1]) if len(self.after) > 1 else Paging()


@dataclass(frozen=True)
class LogsPage(FromOneBackend):
    backend = "opensearch"
    filters: LogFilters
    time_range: TimeRange
    interval: str
    histogram: pd.DataFrame  # time, level, count
    levels: pd.DataFrame  # level, count
    total: int | None  # matching lines; None when the count failed
    lines: pd.DataFrame  # lines_table, newest first: the page asked for
    paging: Paging  # the page shown (with the point in time it read, once past the first)
    next_after: tuple[int, str] | None  # the search_after key of an older page; None: this is the last
    outcomes: dict[str, Outcome[Any]] = field(repr=False)
    tokens: dict[str, str] = field(default_factory=dict, repr=False)  # masked value -> value, for a reveal
    page_size: int = PAGE_SIZE

    @property
    def more(self) -> bool:
        """An older page may follow."""
        return self.next_after is not None

    def older(self) -> Paging | None:
        """The page after this one, over this page's window."""
        if self.next_after is None:
            return None
        return self.paging.older(self.next_after, (self.time_range.start, self.time_range.end))

    @property
    def first_line(self) -> int:
        """The number of the page's first line among the matching lines (1 for the newest)."""
        return (self.paging.number - 1) * self.page_size + 1


def load(
    sources: Sources,
    filters: LogFilters,
    tr: TimeRange,
    paging: Paging | None = None,
    cache: ResultCache = default_cache,
    page_size: int = PAGE_SIZE,
) -> LogsPage:
    """The histogram and level counts (aggregations: no hit fetched) and one page of lines, at once."""
    client = sources.opensearch
    prefix = (sources.cache_key, GROUP)
    clauses = filter_clauses(filters)
    interval = histogram_interval(tr)
    paging = paging or Paging()
    tasks = {"histogram": search_task(client, tr, "histogram", clauses, interval=interval)}
    if not paging.after:
        tasks["lines"] = search_task(client, tr, "lines", clauses, size=page_size)
    outcomes: dict[str, Outcome[Any]] = fetch_keyed(
        tasks, prefix=prefix, ttl_s=TTL_S, budget_s=sources.run_budget_s, cache=cache, window=tr
    )
    if paging.after:
        paging, outcomes["lines"] = _older_page(sources, clauses, tr, paging, cache, page_size)
    page = outcomes["lines"]
    hits = page.value.hits if page.value is not None else None
    histogram = outcomes["histogram"].value
    tokens: dict[str, str] = {}
    mask = sources.masker.frame
    return LogsPage(
        filters=filters,
        time_range=tr,
        interval=interval,
        histogram=mask(histogram_frame(histogram), tokens),
        levels=mask(level_counts(histogram), tokens),
        total=histogram.total if histogram is not None else None,
        lines=mask(lines_table(hits), tokens),
        next_after=_next_after(hits, page_size, histogram, (paging.number - 1) * page_size),
        paging=paging,
        outcomes=outcomes,
        tokens=tokens,
        page_size=page_size,
    )


def _next_after(
    hits: pd.DataFrame | None, page_size: int, histogram: SearchResult | None, before: int
) -> tuple[int, str] | None:
    """Where an older page would start: none after a short page, nor once the count says all are shown."""
    if hits is None or len(hits) < page_size:
        return None
    if histogram is not None and histogram.total_relation == "eq" and before + len(hits) >= histogram.total:
        return None
    return after_of(hits)


def _older_page(
    sources: Sources,
    clauses: list[dict[str, Any]],
    tr: TimeRange,
    paging: Paging,
    cache: ResultCache,
    page_size: int,
) -> tuple[Paging, Outcome[SearchResult]]:
    """The page after `paging.after[-1]`, read in the paging's point in time (opened when it has none,
    and again once when OpenSearch no longer knows it: it expired after `PIT_KEEP_ALIVE` unused)."""
    client, prefix = sources.opensearch, (sources.cache_key, GROUP)
    start, end = paging.window or (tr.start, tr.end)
    after_ms, after_id = paging.after[-1]
    index, body = search_request(
        "lines_after", clauses, start=start, end=end, size=page_size, after_ms=after_ms, after_id=after_id
    )

    def fetch(role: str, key: Hashable, task: Callable[[], Any]) -> Outcome[Any]:
        found = fetch_keyed(
            {role: (key, task)}, prefix=prefix, ttl_s=TTL_S, budget_s=sources.run_budget_s, cache=cache
        )
        return found[role]

    for attempt in range(2):
        pit_id = paging.pit_id
        if pit_id is None:
            opened = fetch(
                "pit",
                (index, repr(clauses), start, end, attempt),
                functools.partial(client.open_point_in_time, index, PIT_KEEP_ALIVE),
            )
            if opened.value is None:
                return paging, opened
            pit_id = str(opened.value)
            paging = replace(paging, pit_id=pit_id)
        search = functools.partial(client.search_point_in_time, pit_id, body, PIT_KEEP_ALIVE)
        page = fetch("lines", (pit_id, repr(body)), search)
        gone = isinstance(page.error, BackendError) and page.error.status == 404
        if not gone:
            break
        paging = replace(paging, pit_id=None)
    return paging, page

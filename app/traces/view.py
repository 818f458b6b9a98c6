"""What the Traces page shows: the search, the picked trace and its logs, fetched at once through
`fetch_keyed`, so a failing Jaeger leaves the trace's logs (OpenSearch) on screen and the other way round.

Everything read is masked (`Sources.masker`, `app.masking`) before it becomes a frame: the pickers'
service and operation names, the trace list, every span's operation, service and attributes (so the
waterfall's labels and tooltips and the spans table never hold personal data) and the trace's log lines.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import altair as alt
import pandas as pd

from app import logs
from app.masking import Found, Masker
from app.sources import Sources
from app.sources.cache import Outcome, ResultCache, default_cache
from app.sources.concurrent import fetch_keyed
from app.sources.jaeger import Trace
from app.sources.opensearch import SearchResult
from app.timerange import TimeRange
from app.traces.fold import Folded, fold
from app.traces.links import TraceView, normalize_trace_id
from app.traces.search import merge, search_tasks, traces_table
from app.traces.tree import service_share, waterfall_chart, waterfall_rows

TTL_S = 30.0
LIST_TTL_S = 300.0


@dataclass(frozen=True)
class TraceDetail:
    trace_id: str
    rows: pd.DataFrame  # waterfall_rows
    services: pd.DataFrame  # service_share
    start: datetime | None
    duration_ms: float
    warnings: tuple[str, ...] = ()
    folded: Folded | None = None  # the rows to draw when the trace is big (repeated spans grouped)
    _charts: dict[int, alt.HConcatChart] = field(default_factory=dict, compare=False, repr=False)

    def chart(self, rows: pd.DataFrame) -> alt.HConcatChart:
        """`waterfall_chart(rows)`, built once when `rows` are this detail's own (every span, or the folded
        rows): Altair takes a tenth of a second or more to build it, which every rerun paid."""
        if not (rows is self.rows or (self.folded is not None and rows is self.folded.rows)):
            return waterfall_chart(rows)
        chart = self._charts.get(id(rows))  # the detail holds `rows`: their id is not reused meanwhile
        if chart is None:
            chart = self._charts[id(rows)] = waterfall_chart(rows)
        return chart


@dataclass(frozen=True)
class TracesPage:
    view: TraceView
    time_range: TimeRange
    table: pd.DataFrame  # traces_table
    detail: TraceDetail | None
    logs: pd.DataFrame  # the trace's log lines (logs.lines_table)
    logs_total: int
    outcomes: dict[str, Outcome[Any]] = field(repr=False)
    tokens: dict[str, str] = field(default_factory=dict, repr=False)  # masked value -> value, for a reveal

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
    found = fetch_keyed(task, prefix=prefix, ttl_s=LIST_TTL_S, budget_s=sources.run_budget_s, cache=cache)
    return _masked_names(found["services"], sources.masker)


def load_operations(sources: Sources, service: str, cache: ResultCache = default_cache) -> Outcome[list[str]]:
    """The operations of one service, for the picker."""
    jaeger = sources.jaeger
    prefix = (sources.cache_key, "traces")
    task = {"operations": (service, lambda: jaeger.operations(service))}
    found = fetch_keyed(task, prefix=prefix, ttl_s=LIST_TTL_S, budget_s=sources.run_budget_s, cache=cache)
    return _masked_names(found["operations"], sources.masker)


def _masked_names(outcome: Outcome[list[str]], masker: Masker) -> Outcome[list[str]]:
    return outcome if outcome.value is None else replace(outcome, value=masker.strings(outcome.value))


def detail_of(trace: Trace, masker: Masker | None = None, found: Found | None = None) -> TraceDetail:
    """The waterfall, the time per service and the trace's span, from its spans masked by `masker`."""
    spans = (masker or Masker()).frame(trace.spans, found)
    rows = waterfall_rows(spans)
    start = trace.spans["start"].min().to_pydatetime() if not trace.spans.empty else None
    duration = float(rows["end_ms"].max()) if not rows.empty else 0.0
    return TraceDetail(
        trace.trace_id,
        rows,
        service_share(rows),
        start,
        duration,
        trace.warnings,
        fold(rows) if not rows.empty else None,
    )


class _Details:
    """The last few traces' details, by trace (the object the result cache holds, so a trace fetched
    again is computed again) and masker: a rerun (a box ticked, the refresh) does not mask, walk and fold
    10,000 spans again."""

    def __init__(self, size: int = 4) -> None:
        self.size = size
        self._kept: OrderedDict[tuple[Trace, Masker], tuple[TraceDetail, dict[str, str]]] = OrderedDict()
        self._lock = threading.Lock()

    def detail(self, trace: Trace, masker: Masker, found: Found) -> TraceDetail:
        """`detail_of(trace, masker, found)`, the tokens it masked added to `found` again when kept."""
        key = (trace, masker)
        with self._lock:
            kept = self._kept.get(key)
            if kept is not None:
                self._kept.move_to_end(key)
        if kept is None:
            tokens: dict[str, str] = {}
            kept = (detail_of(trace, masker, tokens), tokens)
            with self._lock:
                self._kept[key] = kept
                while len(self._kept) > self.size:
                    self._kept.popitem(last=False)
        found.update(kept[1])
        return kept[0]


_details = _Details()


def load(
    sources: Sources,
    view: TraceView,
    now: datetime,
    cache: ResultCache = default_cache,
    with_logs: bool = True,
) -> TracesPage:
    """The search, the picked trace and its logs (unless `with_logs` is off: a visitor whose roles do
    not include log lines), at once: each panel gets its own outcome."""
    tr = view.time_range(now)
    jaeger, opensearch = sources.jaeger, sources.opensearch
    # A preset's window moves with the clock: the cache takes it apart from the question, to fall back on
    # an earlier window's answer. An explicit window (from a link) is part of the question itself.
    moving = tr.preset != "custom"
    searches: dict[str, tuple[Hashable, Callable[[], Any]]] = {}
    if view.service:
        for name, kwargs in search_tasks(view, tr).items():
            asked = {k: v for k, v in kwargs.items() if not (moving and k in ("start", "end"))}
            searches[name] = ((tr.preset, *sorted(asked.items())), functools.partial(jaeger.search, **kwargs))
    prefix = (sources.cache_key, "traces")
    fetch = functools.partial(
        fetch_keyed,
        prefix=prefix,
        ttl_s=TTL_S,
        budget_s=sources.run_budget_s,
        cache=cache,
        window=tr if moving else None,
        untimed=("trace", "logs"),  # a trace and its logs are the same whatever the search's window
    )

    def picked(trace_id: str) -> Trace:
        """The trace, once the searches have answered: Jaeger's search answers whole traces, and the
        client keeps them (`JaegerClient.trace`), so a trace in the list is not downloaded again. The
        searches are the page's own (the cache shares them, running or done)."""
        fetch(searches)
        return jaeger.trace(trace_id)

    tasks = dict(searches)
    trace_id = normalize_trace_id(view.trace_id)
    if trace_id:
        tasks["trace"] = (trace_id, functools.partial(picked, trace_id))
        if with_logs:
            tasks["logs"] = (trace_id, lambda: logs.trace_logs(opensearch, trace_id))
    outcomes = fetch(tasks)
    found = [outcomes[n].value for n in ("search", "search_wide") if n in outcomes]
    trace = outcomes.get("trace")
    found_logs: Outcome[SearchResult] | None = outcomes.get("logs")
    log_result = found_logs.value if found_logs is not None else None
    tokens: dict[str, str] = {}
    mask = sources.masker
    return TracesPage(
        view=view,
        time_range=tr,
        table=mask.frame(traces_table(merge(*found), view.sort, view.errors_only), tokens),
        detail=_details.detail(trace.value, mask, tokens)
        if trace is not None and trace.value is not None
        else None,
        logs=mask.frame(logs.lines_table(log_result.hits if log_result is not None else None), tokens),
        logs_total=log_result.total if log_result is not None else 0,
        outcomes=outcomes,
        tokens=tokens,
    )

"""The Traces page's data: trace search in Jaeger, one trace's span tree, and that trace's logs.

`links` holds the view the URL describes and the link reproducing it, `search` the Jaeger searches and
the trace list, `tree` the span tree as waterfall rows and chart (pure), `view` the loaders. Other modules
use the names below.
"""

from app.traces.fold import Folded, fold
from app.traces.links import (
    MIN_DURATIONS,
    SORTS,
    TraceView,
    link_params,
    normalize_trace_id,
    parse_time,
    parse_window,
    range_token,
    trace_link,
)
from app.traces.search import (
    ERRORS_SCAN_LIMIT,
    SEARCH_LIMIT,
    default_service,
    merge,
    search_kwargs,
    search_tasks,
    slowest_trace_id,
    traces_table,
)
from app.traces.tree import CHART_MAX_SPANS, critical_path, service_share, waterfall_chart, waterfall_rows
from app.traces.view import (
    TraceDetail,
    TracesPage,
    detail_of,
    load,
    load_operations,
    load_services,
)

__all__ = [
    "CHART_MAX_SPANS",
    "ERRORS_SCAN_LIMIT",
    "Folded",
    "MIN_DURATIONS",
    "SEARCH_LIMIT",
    "SORTS",
    "TraceDetail",
    "TraceView",
    "TracesPage",
    "critical_path",
    "default_service",
    "detail_of",
    "fold",
    "link_params",
    "load",
    "load_operations",
    "load_services",
    "merge",
    "normalize_trace_id",
    "parse_time",
    "parse_window",
    "range_token",
    "search_kwargs",
    "search_tasks",
    "service_share",
    "slowest_trace_id",
    "trace_link",
    "traces_table",
    "waterfall_chart",
    "waterfall_rows",
]

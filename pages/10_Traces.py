"""Traces: search Jaeger, open one trace as a waterfall, and read its logs.

URL: service, operation, range, errors_only, min_duration, sort, trace (an id), and start/end (RFC 3339,
an explicit window that replaces the range, e.g. from an SLO burn). The "Link to this view" box repeats
them so a link pasted in a chat opens the same view. A trace's log lines are shown (and fetched) only for
roles that include log lines; personal data is masked by the loaders (`app.masking`).
"""

import functools
from datetime import datetime

import pandas as pd
import streamlit as st

from app import links, traces, ui
from app.sources.cache import Outcome

ctx = ui.page_setup("traces")


def _problems(problems: list[tuple[str, Outcome]], shown: set[str]) -> None:
    """Banners for problems not already shown on this page (one Jaeger outage, one banner)."""
    fresh = [(b, o) for b, o in problems if o.error is not None and str(o.error) not in shown]
    shown.update(str(o.error) for _, o in fresh)
    ui.show_problems(fresh, ctx.sources.now())


def _pick_trace(table: pd.DataFrame) -> None:
    """Row picked in the results: open that trace (the `trace` box is bound to the URL)."""
    rows = st.session_state["trace_table"].selection.rows
    if rows and rows[0] < len(table):
        st.session_state["trace"] = str(table["trace_id"].iloc[rows[0]])


def _window() -> tuple[datetime, datetime] | None:
    start, end = st.query_params.get("start"), st.query_params.get("end")
    if start is None and end is None:
        return None
    window = traces.parse_window(start, end)
    if window is None:
        st.warning(
            "The link's start/end window is not usable (both RFC 3339 times, start before end, at most 31 "
            "days): showing the time range picked in the sidebar instead.",
            icon=":material/warning:",
        )
    return window


def _all_spans() -> bool:
    """The "Show every span" box under a big trace (drawn later in the run): its state from the last run,
    else the URL's."""
    return bool(st.session_state.get("all_spans", st.query_params.get("all_spans") == "true"))


def filters(services: Outcome[list[str]]) -> traces.TraceView:
    names = list(services.value or [])
    default = traces.default_service(names)
    left, middle, right, sort_col = st.columns([3, 3, 2, 2])
    service = left.selectbox(
        "Service",
        names,
        index=names.index(default) if default else None,
        key="service",
        bind="query-params",
        accept_new_options=True,
        placeholder="Type a service name",
        help="Services Jaeger has seen. You can also type one.",
    )
    operations = traces.load_operations(ctx.sources, service).value or [] if service else []
    operation = middle.selectbox(
        "Operation",
        ["", *operations],
        format_func=lambda op: op or "All operations",
        key="operation",
        bind="query-params",
        accept_new_options=True,
    )
    min_duration = right.selectbox(
        "Longer than",
        traces.MIN_DURATIONS,
        format_func=lambda d: d or "Any duration",
        key="min_duration",
        bind="query-params",
    )
    sort = sort_col.radio("Sort by", traces.SORTS, key="sort", bind="query-params", horizontal=True)
    left, right = st.columns([2, 8], vertical_alignment="bottom")
    errors_only = left.checkbox("Only traces with errors", key="errors_only", bind="query-params")
    trace_id = right.text_input(
        "Trace id",
        key="trace",
        bind="query-params",
        placeholder="Paste a trace id (from a log line, an alert, a colleague)",
    )
    window = _window()
    return traces.TraceView(
        service=service or "",
        operation=operation or "",
        preset=ctx.preset,
        errors_only=bool(errors_only),
        min_duration=min_duration or "",
        sort=sort or traces.SORTS[0],
        trace_id=(trace_id or "").strip(),
        start=window[0] if window else None,
        end=window[1] if window else None,
        all_spans=_all_spans(),
    )


def show_results(page: traces.TracesPage, services: Outcome[list[str]], shown: set[str]) -> None:
    st.subheader("Matching traces")
    _problems([("jaeger", services), *page.problems("search")], shown)
    ui.show_warnings(page.warnings("search"))
    if not page.view.service:
        st.info("Pick or type a service to search its traces.", icon=":material/info:")
        return
    if "search" in page.outcomes and page.outcomes["search"].value is not None and page.table.empty:
        st.info("No trace matches these filters in this time range.", icon=":material/search_off:")
        return
    if page.table.empty:
        return
    order = "slowest" if page.view.sort == "duration" else "newest"
    if page.view.errors_only:
        found = f"{len(page.table)} traces with a failed span (at most {traces.ERRORS_SCAN_LIMIT} scanned)"
    else:
        found = f"{len(page.table)} traces (at most {traces.SEARCH_LIMIT} per search)"
    st.caption(f"{found}, {order} first. Pick a row to open the trace.")
    st.dataframe(
        page.table,
        hide_index=True,
        key="trace_table",
        on_select=functools.partial(_pick_trace, page.table),
        selection_mode="single-row",
        row_height=ui.WRAPPED_ROW_PX,  # within 1440 px: the services wrap, the trace id is whole
        column_config={
            "start": st.column_config.DatetimeColumn("Start (UTC)", format="D MMM HH:mm:ss.SSS", width=145),
            "trace_id": st.column_config.TextColumn("Trace id", width=250),
            "root_service": st.column_config.TextColumn("Root service", width=90),
            "root_operation": st.column_config.TextColumn("Root operation", width=120),
            "duration_ms": st.column_config.NumberColumn("Duration", format="%.1f ms", width=80),
            "span_count": st.column_config.NumberColumn("Spans", width=50),
            "services": st.column_config.TextColumn("Services", width=150),
            "error": st.column_config.CheckboxColumn("Error", width=50),
        },
    )


def _shown_rows(detail: traces.TraceDetail) -> pd.DataFrame:
    """A big trace's rows grouped and folded, with a sentence saying so and a box to see every span."""
    folded = detail.folded
    if folded is None or not folded.folded:
        return detail.rows
    every = st.checkbox(
        f"Show every span ({folded.spans:,} rows)",
        key="all_spans",
        bind="query-params",
        help="A big trace is shown with repeated calls grouped and deep spans folded; this shows them all.",
    )
    if every:
        st.caption(f"Every one of the {folded.spans:,} spans has its own row.")
        return detail.rows
    st.info(folded.summary() + " Tick the box above to see every span.", icon=":material/unfold_less:")
    return folded.rows


def show_trace(page: traces.TracesPage, shown: set[str]) -> None:
    trace_id = traces.normalize_trace_id(page.view.trace_id)
    if not page.view.trace_id:
        return
    if trace_id is None:
        st.warning("That is not a trace id: up to 32 hexadecimal digits.", icon=":material/warning:")
        return
    st.divider()
    st.subheader(f"Trace {trace_id}")
    _problems(page.problems("trace"), shown)
    ui.show_warnings(page.warnings("trace"))
    detail = page.detail
    if detail is not None and not detail.rows.empty:
        rows = detail.rows
        a, b, c, d = st.columns(4)
        a.metric("Duration", f"{detail.duration_ms:,.1f} ms")
        b.metric("Spans", f"{len(rows):,}")
        c.metric("Services", f"{rows['service'].nunique():,}")
        d.metric("Failed spans", f"{int(rows['error'].sum()):,}")
        if detail.start is not None:
            st.caption(f"Started {detail.start:%d %b %Y %H:%M:%S} UTC")
        rows = _shown_rows(detail)
        st.altair_chart(detail.chart(rows))
        if len(rows) > traces.CHART_MAX_SPANS:
            st.caption(f"The chart shows the first {traces.CHART_MAX_SPANS} rows; the table has them all.")
        spans_tab, services_tab = st.tabs(["Spans", "Time by service"])
        with spans_tab:
            grouped = "count" in rows.columns
            st.dataframe(
                rows[
                    [
                        "row",
                        "label",
                        "service",
                        *(["count", "spans", "total_ms", "slowest_ms"] if grouped else []),
                        "start_ms",
                        "duration_ms",
                        "self_ms",
                        "critical_ms",
                        "error",
                        "detail",
                    ]
                ],
                hide_index=True,
                column_config={
                    "row": st.column_config.NumberColumn("#"),
                    "label": st.column_config.TextColumn("Operation (indented by depth)"),
                    "count": st.column_config.NumberColumn(
                        "Calls", help="Repeated calls grouped in this row"
                    ),
                    "spans": st.column_config.NumberColumn(
                        "Spans", help="Spans this row stands for, those folded under it included"
                    ),
                    "total_ms": st.column_config.NumberColumn("Total", format="%.1f ms"),
                    "slowest_ms": st.column_config.NumberColumn("Slowest", format="%.1f ms"),
                    "service": st.column_config.TextColumn("Service"),
                    "start_ms": st.column_config.NumberColumn("Starts at", format="%.1f ms"),
                    "duration_ms": st.column_config.NumberColumn("Duration", format="%.1f ms"),
                    "self_ms": st.column_config.NumberColumn(
                        "Self time", format="%.1f ms", help="Duration minus the time covered by child spans"
                    ),
                    "critical_ms": st.column_config.NumberColumn(
                        "On critical path", format="%.1f ms", help="Time this span is what the trace waits on"
                    ),
                    "error": st.column_config.CheckboxColumn("Error"),
                    "detail": st.column_config.TextColumn("Status / error"),
                },
            )
        with services_tab:
            st.dataframe(
                detail.services,
                hide_index=True,
                column_config={
                    "service": st.column_config.TextColumn("Service"),
                    "spans": st.column_config.NumberColumn("Spans"),
                    "errors": st.column_config.NumberColumn("Failed spans"),
                    "self_ms": st.column_config.NumberColumn("Self time", format="%.1f ms"),
                    "critical_ms": st.column_config.NumberColumn("On critical path", format="%.1f ms"),
                    "critical_share": st.column_config.ProgressColumn(
                        "Share of the critical path", format="percent", min_value=0.0, max_value=1.0
                    ),
                },
            )

    st.subheader("Logs of this trace")
    if "logs" not in page.outcomes:
        st.info("Your role does not include log lines.", icon=":material/lock:")
        return
    _problems(page.problems("logs"), shown)
    ui.show_warnings(page.warnings("logs"))
    if ui.may_open("logs", trace_id=trace_id):
        st.link_button(
            "Open these lines on the Logs page",
            links.url("logs", trace_id=trace_id),
            icon=":material/receipt_long:",
        )
    if "logs" in page.outcomes and page.outcomes["logs"].value is not None:
        if page.logs.empty:
            st.info("No log line carries this trace id.", icon=":material/search_off:")
        else:
            shown = len(page.logs)
            st.caption(
                f"{page.logs_total:,} line{'s' if page.logs_total != 1 else ''}"
                + (f", the first {shown:,} shown" if shown < page.logs_total else "")
            )
            st.dataframe(
                page.logs.dropna(axis=1, how="all"),
                hide_index=True,
                column_config={
                    "time": st.column_config.DatetimeColumn("Time (UTC)", format="D MMM HH:mm:ss.SSS"),
                    "message": st.column_config.TextColumn("Message", width="large"),
                },
            )


@ui.live(ctx)
def body() -> None:
    services = traces.load_services(ctx.sources)
    view = filters(services)
    with_logs = ctx.viewer is not None and ctx.viewer.sees("log_lines")
    page = traces.load(ctx.sources, view, ctx.sources.now(), with_logs=with_logs)
    tr = page.time_range
    label = "Window from the link" if tr.preset == "custom" else tr.label
    st.caption(f"{label}: {tr.start:%d %b %H:%M} – {tr.end:%d %b %H:%M} UTC")
    if tr.preset == "custom" and st.button("Use the sidebar's time range instead", icon=":material/close:"):
        del st.query_params["start"]
        del st.query_params["end"]
        st.rerun()
    st.caption("Link to this view (copy it with the button on the right):")
    st.code(ui.absolute(traces.trace_link(view)), language=None, wrap_lines=True)
    shown: set[str] = set()
    show_results(page, services, shown)
    show_trace(page, shown)
    ui.reveal(ctx, page.tokens)


body()

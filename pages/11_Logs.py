"""Logs: what the platform's services logged, and the audit trail.

URL: range and tab; on the log lines tab service, level, tenant, q (free text) and trace_id; on the audit
tab tenant and action. Each tab has its own filters: switching tabs drops the other's from the URL. A tab
is there only for roles that include its data (log lines, the audit trail). Personal data is masked by
the loaders (`app.masking`); values are shown as plain table cells, never rendered as markdown or HTML.
"""

import pandas as pd
import streamlit as st

from app import audit, auth, links, logs, traces, ui

ctx = ui.page_setup("logs")


def filters(facets: logs.Facets) -> logs.LogFilters:
    service_col, level_col, tenant_col = st.columns(3)
    with service_col:
        service = ui.url_picker("Service", facets.services, "service", "All services")
    with level_col:
        level = ui.url_picker("Level", facets.levels, "level", "All levels")
    with tenant_col:
        tenant = ui.firm_picker(facets.tenants)
    text_col, trace_col = st.columns([3, 2])
    q = text_col.text_input(
        "Search text",
        key="q",
        bind="query-params",
        placeholder='Words in the message, action or route: "hmrc" submit -retry',
        help='All words must match. "quotes" for a phrase, -word to exclude, word* for a prefix, | for or.',
    )
    trace_id = trace_col.text_input("Trace id", key="trace_id", bind="query-params", placeholder="Any trace")
    return logs.LogFilters(service, level, tenant, (q or "").strip(), (trace_id or "").strip().lower())


def _trace_links(frame: pd.DataFrame) -> pd.DataFrame:
    """A link per line to its trace on the Traces page (only for real trace ids)."""

    def link(row: pd.Series) -> str | None:
        trace_id = traces.normalize_trace_id(row.get("trace_id"))
        if trace_id is None:
            return None
        service = row.get("service")
        view = traces.TraceView(service=service if isinstance(service, str) else "", trace_id=trace_id)
        return ui.absolute(traces.trace_link(view))

    if frame.empty or not ui.may_open("traces"):
        return frame.assign(trace=None)
    return frame.assign(trace=frame.apply(link, axis=1))


def _go(signature: tuple, paging: logs.Paging) -> None:
    st.session_state["logs_paging"] = (signature, paging)


def lines_tab(f: logs.LogFilters, facets: logs.Facets) -> None:
    tr = ctx.time_range()
    signature = (f, tr.preset)
    if st.session_state.get("logs_paging", (None,))[0] != signature:
        st.session_state["logs_paging"] = (signature, logs.Paging())
    view = logs.load(ctx.sources, f, tr, st.session_state["logs_paging"][1])
    st.session_state["logs_paging"] = (signature, view.paging)  # with the point in time it read
    ui.show_problems([("opensearch", facets.outcome), *view.problems], ctx.sources.now())
    ui.show_warnings(view.warnings)
    st.caption(f"{tr.label}: {tr.start:%d %b %H:%M} – {tr.end:%d %b %H:%M} UTC. Link to these lines:")
    st.code(
        ui.absolute(links.url("logs", **logs.link_params(f, tr.preset))),
        language=None,
        wrap_lines=True,
    )
    if view.total is not None:
        columns = st.columns(min(len(view.levels), 5) + 1)
        columns[0].metric("Matching lines", f"{view.total:,}")
        for column, (_, row) in zip(columns[1:], view.levels.head(5).iterrows(), strict=False):
            column.metric(ui.plain(row["level"]), f"{int(row['count']):,}")
        if not view.histogram.empty:
            st.altair_chart(
                logs.stacked_bars(
                    view.histogram,
                    by="level",
                    title="Log lines over time by level",
                    interval=view.interval,
                    colors=logs.LEVEL_COLORS,
                )
            )
    if "lines" not in view.outcomes or view.outcomes["lines"].value is None:
        return
    if view.lines.empty and view.paging.number > 1:
        st.info("No older line in this time range.", icon=":material/search_off:")
        _page_buttons(view, signature)
        return
    if view.lines.empty:
        st.info("No log line matches these filters in this time range.", icon=":material/search_off:")
        return
    last = view.first_line + len(view.lines) - 1
    of = f" of {view.total:,}" if view.total is not None else ""
    st.caption(f"Lines {view.first_line:,}–{last:,}{of}, newest first.")
    table = _trace_links(view.lines)
    # The message right after who logged it, so that it is read without scrolling sideways at 1440 px.
    first = ["time", "level", "service", "message", "tenant", "trace", "action", "route", "status"]
    st.dataframe(
        table,
        hide_index=True,
        placeholder="",  # a line without a trace, a route or a status simply has none
        column_order=[c for c in first if c in table.columns and table[c].notna().any()]
        + [
            c
            for c in table.columns
            if c not in first and c not in ("trace_id", "span_id") and table[c].notna().any()
        ],
        column_config={
            **_titles(table),
            "time": st.column_config.DatetimeColumn("Time (UTC)", format="D MMM HH:mm:ss.SSS", width=150),
            "level": st.column_config.TextColumn("Level", width=65),
            "service": st.column_config.TextColumn("Service", width=105),
            "message": st.column_config.TextColumn("Message", width=400),
            "tenant": st.column_config.TextColumn("Client firm", width=135),
            "trace": st.column_config.LinkColumn(
                "Trace",
                display_text=r"trace=([0-9a-f]{12})",
                width=115,
                help="Open the trace on the Traces page",
            ),
            "status": st.column_config.NumberColumn("Status", format="%d", width=65),
            "trace_id": None,
        },
    )
    _page_buttons(view, signature)
    ui.reveal(ctx, view.tokens)


def _page_buttons(view: logs.LogsPage, signature: tuple) -> None:
    """Older and newer pages (search_after in one point in time, so past 10,000 lines too); the newest."""
    paging, older = view.paging, view.older()
    newest, newer, later = st.columns([1, 1, 4])
    if paging.number > 1:
        newest.button("Newest", icon=":material/first_page:", on_click=_go, args=(signature, logs.Paging()))
        newer.button(
            f"Newer {logs.PAGE_SIZE}",
            icon=":material/chevron_left:",
            on_click=_go,
            args=(signature, paging.newer()),
        )
    if older is not None:
        later.button(
            f"Older {logs.PAGE_SIZE}", icon=":material/chevron_right:", on_click=_go, args=(signature, older)
        )


def audit_tab() -> None:
    tr = ctx.time_range()
    everything = audit.load(ctx.sources, tr)
    tenant_col, action_col = st.columns(2)
    with tenant_col:
        tenant = ui.firm_picker(everything.tenants)
    with action_col:
        action = ui.url_picker("Action", everything.actions, "action", "All actions")
    view = audit.load(ctx.sources, tr, tenant, action) if tenant or action else everything
    ui.show_problems(view.problems, ctx.sources.now())
    ui.show_warnings(view.warnings)
    st.caption(
        f"Logins, role changes, config and rulepack edits, assistant actions and exports. {tr.label}: "
        f"{tr.start:%d %b %H:%M} – {tr.end:%d %b %H:%M} UTC."
    )
    if view.total is None:
        return
    st.metric("Audit events", f"{view.total:,}")
    if view.counts.empty:
        st.info("No audit event in this time range.", icon=":material/search_off:")
        return
    left, right = st.columns([2, 3])
    with left:
        by_action = view.counts.pivot_table(
            index="action", columns="outcome", values="count", aggfunc="sum", fill_value=0
        )
        by_action["total"] = by_action.sum(axis=1)
        counts = by_action.sort_values("total", ascending=False).reset_index()
        st.dataframe(counts, hide_index=True, column_config=_titles(counts))
    with right:
        if not view.over_time.empty:
            st.altair_chart(
                logs.stacked_bars(
                    view.over_time,
                    by="outcome",
                    title="Audit events over time by outcome",
                    interval=view.interval,
                    colors={"success": "#2E7D32", "failure": "#C62828", "denied": "#EF6C00"},
                )
            )
    st.caption("The newest audit events")
    latest = view.latest.dropna(axis=1, how="all")
    st.dataframe(
        latest,
        hide_index=True,
        column_config={
            **_titles(latest),
            "time": st.column_config.DatetimeColumn("Time (UTC)", format="D MMM HH:mm:ss.SSS"),
        },
    )
    ui.reveal(ctx, view.tokens)


def _titles(frame: pd.DataFrame) -> dict[str, str]:
    """Column titles in words ("Client firm", "Action"), not the log fields' names."""
    return {str(c): TITLES.get(str(c), str(c).replace("_", " ").capitalize()) for c in frame.columns}


TITLES = {"tenant": "Client firm", "user": "Who", "role": "Role"}
TABS = {auth.LOG_LINES_TAB: "log_lines", auth.AUDIT_TAB: "audit_trail"}  # each tab and the data it shows


@ui.live(ctx)
def body() -> None:
    shown = [name for name, data in TABS.items() if ctx.viewer and ctx.viewer.sees(data)]
    asked = st.query_params.get("tab")
    if asked in TABS and asked not in shown:
        st.info(f"Your role does not include the {TABS[asked].replace('_', ' ')}.", icon=":material/lock:")
    for name, tab in zip(
        shown, st.tabs(shown, key="tab", bind="query-params", on_change="rerun"), strict=True
    ):
        if not tab.open:
            continue
        with tab:
            if name == auth.LOG_LINES_TAB:
                facets = logs.load_facets(ctx.sources, ctx.time_range())
                lines_tab(filters(facets), facets)
            else:
                audit_tab()


body()

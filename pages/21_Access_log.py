"""Access log: who viewed the sensitive pages, downloaded, revealed a masked value or was turned away.

URL: range, user, event (view, download, reveal) and outcome (allowed, denied). Admin only (the access
file's `access_log` data). The events waiting in the local spool for OpenSearch are counted above them.
"""

import streamlit as st

from app import ui
from app.access import view as access_view
from app.ui import access

ctx = ui.page_setup("access_log")


@ui.live(ctx)
def body() -> None:
    tr = ctx.time_range()
    if ctx.sources.mode == "snapshot":
        st.info(
            "The demo records no access: these are the events recorded with the snapshot.",
            icon=":material/photo_camera:",
        )
    elif ctx.config is not None and (log := access.access_log(ctx.config, ctx.sources)) is not None:
        state = log.state()
        waiting = f"{state.pending:,} event{'s' if state.pending != 1 else ''} waiting in the spool"
        st.caption(
            f"{waiting} for OpenSearch ({state.capacity:,} at most)"
            + (f"; last error: {ui.plain(state.last_error)}" if state.last_error else ".")
        )
    everything = access_view.load(ctx.sources, tr)
    user_col, event_col, outcome_col = st.columns(3)
    with user_col:
        user = ui.url_picker("User", everything.users, "user", "All users")
    event = event_col.selectbox(
        "Event", access_view.EVENTS, index=None, placeholder="Every event", key="event", bind="query-params"
    )
    outcome = outcome_col.selectbox(
        "Outcome",
        access_view.OUTCOMES,
        index=None,
        placeholder="Every outcome",
        key="outcome",
        bind="query-params",
    )
    view = (
        access_view.load(ctx.sources, tr, user, event or "", outcome or "")
        if user or event or outcome
        else everything
    )
    ui.show_problems(view.problems, ctx.sources.now())
    ui.show_warnings(view.warnings)
    st.caption(f"{tr.label}: {tr.start:%d %b %H:%M} – {tr.end:%d %b %H:%M} UTC. Parameters are masked.")
    if view.total is None:
        return
    total, counts = st.columns([1, 2])
    total.metric("Access events", f"{view.total:,}")
    if view.events.empty:
        st.info("No access event in this time range.", icon=":material/search_off:")
        return
    counts.dataframe(
        view.counts,
        hide_index=True,
        column_config={
            "event": "Event",
            "outcome": "Outcome",
            "count": st.column_config.NumberColumn("Events", format="localized"),
        },
    )
    # Every column within 1440 px (the widths sum to the page's), long text wrapped whole in its cell.
    widths = {"user": 160, "params": 140, "detail": 150}
    rows_px = max(ui.wrapped_row_px(view.events[c].dropna().astype(str), w) for c, w in widths.items())
    ui.table(
        view.events,
        {
            "time": st.column_config.DatetimeColumn("Time (UTC)", format="D MMM HH:mm:ss.SSS", width=132),
            "event": st.column_config.TextColumn("Event", width=62),
            "outcome": st.column_config.TextColumn("Outcome", width=70),
            "user": st.column_config.TextColumn("User", width=widths["user"]),
            "roles": st.column_config.TextColumn("Roles", width=66),
            "page": st.column_config.TextColumn("Page", width=100),
            "params": st.column_config.TextColumn(
                "What was asked", width=widths["params"], help="The view's settings, from its address; masked"
            ),
            "detail": st.column_config.TextColumn(
                "Detail",
                width=widths["detail"],
                help="The file downloaded, the value revealed (masked), or why refused",
            ),
            "how": st.column_config.TextColumn("Identified by", width=88),
        },
        empty="No access event in this time range.",
        wrap=True,
        row_height=rows_px,
        height=640,
    )


body()

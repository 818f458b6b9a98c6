"""Data sources: each backend's address, reachability, version, last query latency and last error."""

from datetime import UTC, datetime

import streamlit as st

from app import data_sources, ui
from app.units import format_age, format_seconds

ctx = ui.page_setup("data_sources")
now = datetime.now(UTC)  # call records carry wall-clock times, in snapshot mode too
if ctx.sources.mode == "snapshot":
    st.info(
        "Answers come from the shipped demo snapshot, not from live backends.", icon=":material/photo_camera:"
    )

for status in data_sources.load(ctx.sources):
    with st.container(border=True):
        title, state = st.columns([3, 1])
        title.subheader(ui.BACKEND_NAMES.get(status.name, status.name))
        title.caption(ui.plain(status.url))
        with state:
            ui.state_badge(status.state)
            st.caption(status.verdict)
        version, probe, last_query, calls = st.columns(4)
        version.metric(
            "Version", status.version or "not reported", help="Jaeger's v1 API never reports its version"
        )
        probe.metric(
            "Probe latency", format_seconds(status.probe_latency_s) if status.probe_latency_s else "—"
        )
        last_query.metric(
            "Last query latency",
            format_seconds(status.last_query_latency_s)
            if status.last_query_latency_s is not None
            else "no query yet",
        )
        calls.metric("Calls failed", f"{status.failures} of {status.calls}")
        if status.probe_error:
            st.error(f"Probe failed: {ui.plain(status.probe_error)}")
        if status.last_error and status.last_error_at:
            last = f"Last error, {format_age(status.last_error_at, now)}: {ui.plain(status.last_error)}"
            if status.state == "ok":  # history: a later call succeeded
                st.caption(f"{last}. Later calls succeeded.")
            else:  # still failing: while its probe fails, no later call has succeeded either
                st.warning(last)

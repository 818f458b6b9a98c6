"""Data sources: each backend's address, reachability, version, last query latency and last error; then
where each keeps its data and how far back it goes (Prometheus retention, OpenSearch indices and their date
range, Jaeger's storage and oldest trace)."""

from datetime import UTC, datetime

import streamlit as st

from app import data_sources, retention, ui
from app.units import format_age, format_seconds

ctx = ui.page_setup("data_sources")
now = datetime.now(UTC)  # call records carry wall-clock times, in snapshot mode too
if ctx.sources.mode == "snapshot":
    st.info(
        "Answers come from the shipped demo snapshot, not from live backends.", icon=":material/photo_camera:"
    )


def backends() -> None:
    """Each backend's probe and call record."""
    for status in data_sources.load(ctx.sources):
        with st.container(border=True):
            title, state = st.columns([3, 1])
            title.subheader(ui.BACKEND_NAMES.get(status.name, status.name))
            title.caption(
                ui.plain(status.url)
                if status.configured
                else f"set SEXTANT_{status.name.upper()}_URL to read it"
            )
            with state:
                ui.state_badge(status.state)
                st.caption(status.verdict)
            if not status.configured:
                continue
            version, probe, last_query, calls = st.columns(4)
            version.metric(
                "Version", status.version or "not reported", help="Jaeger's v1 API never reports its version"
            )
            # A call refused at once has a latency of nothing: no figure, never a fast "0 ms".
            probe.metric(
                "Probe latency",
                format_seconds(status.probe_latency_s)
                if status.reachable and status.probe_latency_s
                else "—",
            )
            last_query.metric(
                "Last query latency",
                "failed"
                if status.last_call_failed
                else format_seconds(status.last_query_latency_s)
                if status.last_query_latency_s is not None
                else "no query yet",
            )
            calls.metric("Calls failed", f"{status.failures} of {status.calls}")
            if status.probe_error:
                st.error(f"Probe failed: {ui.plain(status.probe_error)}")
                ui.details([status.probe_error_detail] if status.probe_error_detail else [])
            if status.last_error and status.last_error_at:
                last = f"Last error, {format_age(status.last_error_at, now)}: {ui.plain(status.last_error)}"
                if status.state == "ok":  # history: a later call succeeded
                    st.caption(f"{last}. Later calls succeeded.")
                else:  # still failing: while its probe fails, no later call has succeeded either
                    st.warning(last)


def storage() -> None:
    at = ctx.sources.now()
    kept = retention.load(ctx.sources, at)
    st.subheader("Storage and retention")
    ui.show_problems(kept.problems, at)
    ui.show_warnings(kept.warnings)
    prom, jaeger = kept.prometheus, kept.jaeger
    left, right = st.columns(2)
    with left.container(border=True):
        st.markdown("**Prometheus**")
        st.metric("Retention", ui.plain(prom.retention) if prom and prom.retention else "not reported")
        oldest = prom.oldest_sample if prom else None
        st.caption(
            f"Oldest sample {oldest:%d %b %Y %H:%M} UTC ({format_age(oldest, at)})."
            if oldest
            else "Oldest sample: not known (Prometheus does not scrape its own metrics here)."
        )
    with right.container(border=True):
        st.markdown("**Jaeger**")
        if jaeger is None:
            st.caption("Storage: not known (OpenSearch did not answer).")
        else:
            st.caption(f"Storage: {ui.plain(jaeger.kind)}.")
            if jaeger.oldest_trace_at is not None:
                st.metric("Oldest trace", f"{jaeger.oldest_trace_at:%d %b %Y}", border=False)
                served = {True: "Jaeger serves it", False: "Jaeger does not find it", None: "not asked yet"}
                age = format_age(jaeger.oldest_trace_at, at)
                trace_id = ui.plain(jaeger.oldest_trace_id or "")
                st.caption(f"Trace {trace_id}, {age}: {served[jaeger.served]}.")
    st.markdown("**OpenSearch indices**")
    no_documents = "— : no document with a time in these indices"
    st.dataframe(
        kept.indices,
        hide_index=True,
        placeholder=ui.MISSING,
        column_config={
            "family": "Indices",
            "indices": st.column_config.NumberColumn("How many", format="%d"),
            "documents": st.column_config.NumberColumn("Documents up to now", format="localized"),
            "size_bytes": st.column_config.NumberColumn("On disk (bytes)", format="localized"),
            "oldest": st.column_config.DatetimeColumn(
                "Oldest (UTC)", format="D MMM YYYY HH:mm", help=no_documents
            ),
            "newest": st.column_config.DatetimeColumn(
                "Newest up to now (UTC)", format="D MMM YYYY HH:mm", help=no_documents
            ),
        },
    )


@ui.live(ctx)
def page() -> None:
    """The probes and the storage queries share one page run: a slow backend costs one deadline, not two."""
    backends()
    storage()


page()

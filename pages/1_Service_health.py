"""Service health: per service request rate, error ratio and latency, for the picked time range."""

import streamlit as st

from app import service_health, ui
from app.ui import charts

ctx = ui.page_setup("service_health")


@ui.live(ctx)
def body() -> None:
    tr = ctx.time_range()
    view = service_health.load(ctx.sources, tr)
    ui.show_problems(view.problems, ctx.sources.now())
    ui.show_warnings(view.warnings)
    st.caption(f"{tr.label}: {tr.start:%d %b %H:%M} – {tr.end:%d %b %H:%M} UTC")

    st.subheader("By service, over the whole range")
    st.dataframe(
        view.summary,
        hide_index=True,
        column_config={
            "service": st.column_config.TextColumn("Service"),
            "request_rate": st.column_config.NumberColumn("Requests", format="%.2f req/s"),
            "error_ratio": st.column_config.NumberColumn(
                "5xx errors", format="percent", help="Share of requests answered 5xx"
            ),
            "p50": st.column_config.NumberColumn("p50 latency", format="%.3f s"),
            "p95": st.column_config.NumberColumn("p95 latency", format="%.3f s"),
            "p99": st.column_config.NumberColumn("p99 latency", format="%.3f s"),
        },
    )
    st.subheader("Over time")
    left, middle, right = st.columns(3)
    left.altair_chart(
        charts.timeseries(view.request_rate, title="Request rate", unit="req/s", color="service")
    )
    middle.altair_chart(
        charts.timeseries(view.error_ratio, title="5xx error ratio", unit="ratio", color="service")
    )
    right.altair_chart(
        charts.timeseries(view.latency_p95, title="p95 latency", unit="seconds", color="service")
    )
    for column, chart in zip(
        (left, middle, right), ("request_rate", "error_ratio", "latency_p95"), strict=True
    ):
        if chart in view.chart_notes:
            column.caption(view.chart_notes[chart])


body()

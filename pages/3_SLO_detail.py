"""SLO detail (`?slo=<name>`): objective, SLI and budget; burn-down; burn rates against alert thresholds;
alerts with runbook; the service's golden signals; compliance per calendar week and month."""

import streamlit as st

from app import charts, slo_view, ui
from app.units import format_value

ctx = ui.page_setup("SLO detail", ":material/troubleshoot:")
loaded = slo_view.definitions()
by_name = loaded.by_name()
if not by_name:
    st.error("No SLO definitions could be loaded.")
    st.stop()

name = st.selectbox(
    "SLO",
    sorted(by_name),
    key="slo",
    bind="query-params",
)
definition = by_name[name]


@st.fragment(run_every=ctx.refresh_s)
def body() -> None:
    at = ctx.sources.now()
    tr = ctx.time_range()
    detail = slo_view.load_detail(ctx.sources, definition, at, tr)
    ui.show_problems(detail.problems, at)
    status = detail.current

    st.markdown(f"### {ui.plain(definition.display_name or definition.name)}")
    st.caption(
        f"Service **{ui.plain(definition.service)}** · domain {ui.plain(definition.domain)} · team "
        f"{ui.plain(definition.team)} · {definition.budgeting.lower()} over "
        f"{ui.plain(definition.window.label)}"
    )
    if definition.description:
        st.write(definition.description)

    objective, sli, budget = st.columns(3)
    objective.metric("Objective", format_value(definition.target, "ratio"), border=True)
    sli.metric("SLI over the period", format_value(status.sli if status else None, "ratio"), border=True)
    budget.metric(
        "Error budget left",
        format_value(status.error_budget_remaining if status else None, "ratio"),
        border=True,
        help="1 − the period's burn rate; negative once the budget is overspent",
    )
    if status:
        st.markdown(
            f"**State: {status.state}**" + (" · low traffic, alerts held" if status.low_traffic else "")
        )
        for sentence in slo_view.forecast_sentences(status):
            st.caption(sentence)

    history = detail.history.value
    incidents = slo_view.incident_annotations(detail.incidents)
    if history is not None:
        left, right = st.columns(2)
        left.altair_chart(
            charts.timeseries(
                slo_view.burndown_lines(history),
                title="Error budget burn-down",
                unit="ratio",
                color="line",
                annotations=incidents,
            )
        )
        right.altair_chart(
            charts.timeseries(
                slo_view.sli_curve(history),
                title="SLI per interval",
                unit="ratio",
                thresholds=[("objective", definition.target)],
                annotations=incidents,
            )
        )
        st.altair_chart(
            charts.timeseries(
                slo_view.burn_rate_curves(history),
                title="Burn rate per window (1× spends the budget exactly over the period)",
                unit="x",
                color="window",
                thresholds=[
                    (f"{alert} threshold {factor:.1f}×", factor)
                    for alert, factor in history.thresholds.items()
                ],
                annotations=incidents,
            )
        )

    st.subheader("Alerts")
    st.dataframe(
        slo_view.alert_table(detail),
        hide_index=True,
        column_config={
            "alert": "Alert",
            "severity": "Severity",
            "threshold": st.column_config.NumberColumn("Burn-rate threshold", format="%.1f×"),
            "windows": "Long and short window",
            "firing": "Now",
            "since": st.column_config.DatetimeColumn("Firing since (UTC)", format="D MMM HH:mm"),
            "last_fired": st.column_config.DatetimeColumn("Last fired (UTC)", format="D MMM HH:mm"),
            "runbook": st.column_config.LinkColumn("Runbook"),
        },
    )

    st.subheader(f"Service {ui.plain(definition.service)}, {tr.label.lower()}")
    service = {k: o.value.frame for k, o in detail.service.items() if o.value is not None}
    left, middle, right = st.columns(3)
    if "request_rate" in service:
        left.altair_chart(
            charts.timeseries(
                service["request_rate"],
                title="Requests by route",
                unit="req/s",
                color="route",
                annotations=incidents,
            )
        )
    if "error_ratio" in service:
        middle.altair_chart(
            charts.timeseries(
                service["error_ratio"], title="5xx error ratio", unit="ratio", annotations=incidents
            )
        )
    if "p95" in service:
        right.altair_chart(
            charts.timeseries(service["p95"], title="p95 latency", unit="seconds", annotations=incidents)
        )
    ui.page_link(
        "pages/10_Traces.py",
        "Traces of this service",
        ":material/timeline:",
        {"service": definition.service, "range": tr.preset},
    )
    ui.page_link(
        "pages/11_Logs.py",
        "Error logs of this service",
        ":material/article:",
        {"service": definition.service, "level": "ERROR", "range": tr.preset},
    )

    if history is not None:
        st.subheader("Compliance per calendar week and month")
        weeks, months = st.columns(2)
        for column, unit in ((weeks, "week"), (months, "month")):
            column.altair_chart(
                charts.compliance(
                    slo_view.compliance_rows(history, unit), title=f"Per {unit}", target=definition.target
                )
            )

    with st.expander("Runbook", icon=":material/menu_book:"):
        st.markdown(slo_view.runbook_text(definition))  # our repository's own text, reviewed like code

    st.caption("Link to this view, to paste into a chat:")
    st.code(slo_view.share_link(st.context.url, definition.name, tr.preset), language=None)


body()

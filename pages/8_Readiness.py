"""Filing readiness: the score, its cap or gate, each check, per domain and per tenant, the 12-week trend and
what moved it. `?tenant=<name>` narrows the checks to one tenant. All figures come from app.readiness.view."""

import streamlit as st

from app import directory, ui
from app.readiness import view as rv
from app.ui import charts

ctx = ui.page_setup("readiness")

ALL_TENANTS = "All client firms"
WHY_PX = 300  # the checks table's "In words" column


def where_from(view: rv.ReadinessView) -> None:
    info = rv.provenance(view)
    if info is None:
        return
    with st.popover("Where does this number come from?", icon=":material/help:"):
        st.markdown(info.rules)
        st.caption(
            f"Evaluated at {info.evaluated_at:%d %b %Y %H:%M} UTC from the readiness definition kept in the "
            f"repository; {info.requests} Prometheus queries for the score and its trend (week ends "
            f"{info.trend_times[0]:%d %b} to {info.trend_times[-1]:%d %b %H:%M} UTC, one week apart).",
            help=f"Declared in the repository: {info.definition_file}",
        )
        st.markdown("**Queries** (Prometheus instant queries at the evaluation time)")
        for item, query in zip(info.queries["item"], info.queries["query"], strict=True):
            st.caption(ui.plain(item))
            if query:
                st.code(query, language="promql", wrap_lines=True)
        st.markdown("**Inputs** (what each query gave, per client firm)")
        st.dataframe(
            info.inputs.style.map(rv.status_colour, subset=["status"]),
            hide_index=True,
            column_config={"check": "Check", "tenant": "Client firm", "figure": "Figure", "status": "Status"},
        )
        st.markdown("**Filing SLO states** (as on the SLOs page, at the same time)")
        if info.slo_states.empty:
            st.caption("Not available.")
        else:
            st.dataframe(
                info.slo_states,
                hide_index=True,
                column_config={"slo": "SLO", "state": "State"},
            )
        for note in info.notes:
            st.caption(ui.plain(note))


@ui.live(ctx)
def body() -> None:
    at = ctx.sources.now()
    view = rv.load(ctx.sources, at)
    ui.show_problems(view.problems, at)
    if view.definition is None:
        st.error("The readiness definition is invalid, so there is no score:", icon=":material/rule:")
        for problem in view.definition_errors:
            st.caption(ui.plain(problem))
        return
    definition = view.definition
    ui.show_warnings(view.warnings)
    st.caption(
        f"{ui.plain(definition.description)} Evaluated at {at:%d %b %Y %H:%M} UTC; the trend shows the score "
        f"at {at:%H}:00 UTC on the same weekday of each of the 11 weeks before."
    )
    result = view.score

    headline = rv.headline(result, definition)
    delta = rv.week_delta(view)
    score_col, tenant_col, why_col = st.columns([1.3, 1.1, 2.6])
    score_col.metric(
        rv.HEADLINE_LABEL,
        headline.value,
        delta=rv.delta_text(delta),
        delta_color="off" if delta is not None and round(delta, 1) == 0 else "normal",
        border=True,
        help="Out of 100: 100 when every check passes. See “Where does this number come from?”",
    )
    with tenant_col:
        # A firm the URL names that is not in the data is kept (its rows then say "no data").
        tenant = ui.firm_picker(rv.tenant_choices(result), ALL_TENANTS) or None
    tenant_score = None
    if tenant and view.evaluation is not None:
        tenant_score = rv.for_tenant(definition, view.evaluation.inputs, tenant)
        firm = ui.plain(directory.name("tenant", tenant))
        tenant_col.metric(firm, rv.format_score(tenant_score.score), border=True)
    with why_col:
        for line in headline.lines:
            st.markdown(f"- {ui.plain(line)}")
        where_from(view)

    result = view.checks
    if result is not None:
        st.subheader("By domain")
        domains = rv.domain_scores(result, definition)
        for column, domain in zip(st.columns(max(len(domains), 1)), domains, strict=False):
            column.metric(ui.plain(domain.domain), domain.value, border=True, help=ui.plain(domain.help))

        shown = tenant_score if tenant_score is not None else result
        st.subheader(f"Checks for {ui.plain(directory.name('tenant', tenant))}" if tenant else "Checks")
        rows = rv.check_rows(shown, tenant)
        # Within 1440 px: columns sized to their content, the sentence in words wrapped whole.
        st.dataframe(
            rows.style.map(rv.status_colour, subset=["status"]),
            hide_index=True,
            row_height=ui.wrapped_row_px(rows["why"].astype(str), WHY_PX),
            height="content",
            column_order=[c for c in rows.columns if not (tenant and c == "tenants_passing")],
            column_config={
                "check": st.column_config.TextColumn("Check", pinned=True, width=160),
                "domain": st.column_config.TextColumn("Domain", width=100),
                "status": st.column_config.TextColumn("Status", width=50),
                "figure": st.column_config.TextColumn(
                    "Figure",
                    help="For the checks of each client firm, over all firms: the worst firm's figure",
                    width=78,
                ),
                "target": st.column_config.TextColumn("Threshold", width=86),
                "tenants_passing": st.column_config.TextColumn(
                    "Passing", help="Client firms that pass, of the firms with data", width=62
                ),
                "weight": st.column_config.TextColumn(
                    "Weight", help="A gate has no weight: when it fails it caps the score", width=56
                ),
                "points": st.column_config.TextColumn(
                    "Points",
                    help="What the check adds to the score, of what it would add if every client firm "
                    "passed. A gate that caps the score: the points it cuts.",
                    width=78,
                ),
                "why": st.column_config.TextColumn("In words", width=WHY_PX),
            },
        )
        for sentence in rv.attention(shown):
            st.markdown(f"- {ui.plain(sentence)}")

        st.subheader("By client firm")
        ui.table(
            rv.tenant_table(result, definition),
            {
                "tenant": st.column_config.TextColumn("Client firm", pinned=True, width=170),
                "score": st.column_config.ProgressColumn(
                    "Score",
                    format="%.1f",
                    min_value=0.0,
                    max_value=100.0,
                    help="Empty: no score (no data)",
                    width=120,
                ),
                "held_back_by": st.column_config.TextColumn("Held back by", width=230),
                "failing": st.column_config.TextColumn("Failing checks", width=260),
                "coverage": st.column_config.NumberColumn(
                    "Data coverage",
                    format="percent",
                    help="Share of the applicable weight with data",
                    width=95,
                ),
                "capped_at": st.column_config.TextColumn("Capped at", help="By a failed gate", width=80),
            },
            empty="No client firm has readiness data.",
            wrap=True,
        )
        st.caption("Click a column header to sort. Worst first; client firms without a score come first.")

    st.subheader("Trend, week by week")
    if not rv.has_trend(view):
        st.info(
            "No trend to show: the scores of the last 12 weeks could not be fetched.", icon=":material/info:"
        )
        return
    trend, moved = st.columns([3, 2])
    frame = rv.trend_frame(view, tenant)
    trend.altair_chart(charts.readiness_trend(frame, target=rv.target(view)))
    if charts.from_first_score(frame)["value"].isna().any():  # a week without a score, after the first
        trend.caption("Grey dashed lines: weeks without a score (no data), never drawn as a value.")
    with moved:
        weeks = rv.weekly_moves(view)
        latest = weeks[0]
        st.markdown(f"**What moved: {ui.plain(latest.heading)}**")
        for sentence in latest.sentences:
            st.markdown(f"- {ui.plain(sentence)}")
        with st.expander("Earlier weeks"):
            for week in weeks[1:]:
                st.markdown(f"**{ui.plain(week.heading)}**")
                for sentence in week.sentences:
                    st.markdown(f"- {ui.plain(sentence)}")


body()

"""SLOs: every SLO's objective, SLI, budget left, burn rates, state and firing alerts, worst first."""

import streamlit as st

from app import slo_view, ui
from app.slo.status import state_counts

ctx = ui.page_setup("SLOs", ":material/target:")

STATE_ICONS = {
    "healthy": ":material/check_circle:",
    "at risk": ":material/warning:",
    "exhausted": ":material/error:",
    "no data": ":material/help:",
}


@st.fragment(run_every=ctx.refresh_s)
def body() -> None:
    at = ctx.sources.now()
    board = slo_view.load_board(ctx.sources, at)
    ui.show_problems([("prometheus", board.outcome)], at)
    for problem in board.definition_errors:
        st.error(f"Invalid SLO definition, not loaded: {ui.plain(problem)}", icon=":material/rule:")
    if board.source_note:
        st.info(board.source_note, icon=":material/info:")
    st.caption(f"Status at {at:%d %b %Y %H:%M} UTC, each SLO over its own period (rolling or calendar).")

    counts = state_counts(board.statuses)
    for column, state in zip(st.columns(len(STATE_ICONS)), STATE_ICONS, strict=True):
        column.metric(state.capitalize(), f"{counts[state]} SLOs", icon=STATE_ICONS[state], border=True)

    search, domain, team, state, label = st.columns([2, 1, 1, 1, 1])
    text = search.text_input("Search by name", key="q", bind="query-params", placeholder="e.g. hmrc")
    statuses = board.statuses
    domains = domain.multiselect(
        "Domain", sorted({s.domain for s in statuses}), key="domain", bind="query-params"
    )
    teams = team.multiselect("Team", sorted({s.team for s in statuses}), key="team", bind="query-params")
    states = state.multiselect("State", list(STATE_ICONS), key="state", bind="query-params")
    labels = label.multiselect("Label", slo_view.label_choices(statuses), key="label", bind="query-params")
    shown = slo_view.filter_statuses(
        statuses, text=text or "", domains=domains, teams=teams, states=states, labels=labels
    )
    st.dataframe(
        slo_view.board_table(shown),
        hide_index=True,
        height=36 * (len(shown) + 1) + 4,  # every SLO visible without an inner scroll
        column_config={
            "slo": st.column_config.TextColumn("SLO", pinned=True),
            "domain": "Domain",
            "team": "Team",
            "objective": st.column_config.NumberColumn("Objective", format="percent"),
            "window": "Period",
            "sli": st.column_config.NumberColumn(
                "SLI", format="%.3f", help="Good events / all events, as a fraction"
            ),
            "budget_remaining": st.column_config.ProgressColumn(
                "Budget left",
                format="percent",
                min_value=0.0,
                max_value=1.0,
                help="Share of the period's error budget not yet spent; below 0% it is overspent",
            ),
            **{
                f"burn_{w}": st.column_config.NumberColumn(
                    f"Burn {w}",
                    format="%.2f×",
                    help=f"Burn rate over the last {w}: 1× spends the budget exactly over the period",
                )
                for w in slo_view.BURN_WINDOWS
            },
            "state": "State",
            "firing": "Firing alerts",
            "link": st.column_config.LinkColumn("Detail", display_text="open"),
        },
    )
    st.caption(
        f"{len(shown)} of {len(statuses)} SLOs shown; {board.requests} Prometheus requests for this view."
    )


body()

"""SLOs: every SLO's objective, SLI, budget left, burn rates, state and firing alerts, worst first; with
`?slo=<name>`, one SLO in detail: burn-down, burn rates against the alert thresholds, alerts with runbook,
the service's golden signals, compliance per calendar week and month, and a link to paste into a chat."""

import streamlit as st

from app import ui
from app.slo import view as slo_view
from app.slo.math import SHOWN_ORDER
from app.slo.model import DOMAIN_TITLES, SloDefinition
from app.slo.status import alert_thresholds, state_counts
from app.ui import charts
from app.units import format_value

ALL = "All SLOs"
ctx = ui.page_setup("slos")
by_name = slo_view.definitions().by_name()
# One page for the list and the detail (a separate detail page pushed the navigation past twelve pages,
# where Streamlit folds it): the picker is bound to `?slo=`, which the list's links and chat links set.
asked = st.query_params.get("slo")
if asked and asked not in by_name and (name := slo_view.resolve_name(asked, by_name)):
    st.query_params["slo"] = name  # a chat link may carry the SLO's title: the address takes its name
by_title = sorted(by_name.values(), key=lambda d: d.title.casefold())
with st.columns([2, 3])[0]:
    picked = ui.named_url_picker(  # shows titles, keeps names in the URL (`?slo=hmrc-submissions`)
        "SLO",
        {ALL: ALL} | {d.name: d.title for d in by_title},
        "slo",
        help="Pick one SLO to see it in detail",
    )
if asked and asked != ALL and picked == ALL and not slo_view.resolve_name(asked, by_name):
    st.warning(f"No SLO is named {ui.plain(asked)!s}: showing them all.", icon=":material/search_off:")


@ui.live(ctx)
def board() -> None:
    at = ctx.sources.now()
    board = slo_view.load_board(ctx.sources, at)
    ui.show_problems([("prometheus", board.outcome)], at)
    for problem in board.definition_errors:
        st.error(f"Invalid SLO definition, not loaded: {ui.plain(problem)}", icon=":material/rule:")
    if board.source_note:
        st.info(board.source_note, icon=":material/info:")
    st.caption(f"Status at {at:%d %b %Y %H:%M} UTC, each SLO over its own period (rolling or calendar).")

    counts = state_counts(board.statuses)
    for column, state in zip(st.columns(len(SHOWN_ORDER)), SHOWN_ORDER, strict=True):
        count = counts[state]
        shown = "no data" if count is None else f"{count} SLOs"
        column.metric(state.capitalize(), shown, icon=ui.state_icon(state), border=True)
    if board.unknown_note:
        st.warning(ui.plain(board.unknown_note), icon=":material/help:")

    search, domain, team, state, label = st.columns([2, 1, 1, 1, 1])
    text = search.text_input("Search by name", key="q", bind="query-params", placeholder="e.g. hmrc")
    statuses = board.statuses
    with domain:  # domains by their titles; the URL keeps their ids
        domains = ui.named_url_multiselect("Domain", slo_view.domain_choices(statuses), "domain")
    teams = team.multiselect("Team", sorted({s.team for s in statuses}), key="team", bind="query-params")
    states = state.multiselect("State", list(SHOWN_ORDER), key="state", bind="query-params")
    labels = label.multiselect("Label", slo_view.label_choices(statuses), key="label", bind="query-params")
    matching = slo_view.filter_statuses(
        statuses, text=text or "", domains=domains, teams=teams, states=states, labels=labels
    )
    shown, number, pages = slo_view.board_page(matching, st.query_params.get("page"))
    if pages > 1:
        choices = [str(n) for n in range(1, pages + 1)]
        with st.columns(6)[0]:
            st.selectbox("Page", choices, index=number - 1, key="page", bind="query-params")
    # Name, state, budget left and firing alerts within 1440 px; the rest (SLI, objective, burn rates) after.
    picked = ui.table(
        slo_view.board_table(shown),
        empty="No SLO matches these filters.",
        states=["state"],
        placeholder=ui.MISSING,
        height=36 * (len(shown) + 1) + 4,  # every SLO visible without an inner scroll
        on_select="rerun",
        selection_mode="single-row",
        columns={
            "slo": st.column_config.TextColumn("SLO", pinned=True, width=250),
            "state": st.column_config.TextColumn("State", width=100),
            "budget_remaining": st.column_config.ProgressColumn(
                "Budget left",
                width=130,
                format="percent",
                min_value=0.0,
                max_value=1.0,
                help="Share of the period's error budget not yet spent; below 0% it is overspent. "
                + ui.NO_FIGURE,
            ),
            "firing": st.column_config.TextColumn(
                "Firing alerts", width=300, help="Each burn-rate alert firing, by the long window it watches"
            ),
            "sli": st.column_config.NumberColumn(
                "SLI",
                width=75,
                format="percent",
                help=f"Good events / all events over the SLO's period. {ui.NO_FIGURE}",
            ),
            "objective": st.column_config.NumberColumn("Objective", width=85, format="percent"),
            "window": "Period",
            "domain": "Domain",
            "team": "Team",
            **{
                f"burn_{w}": st.column_config.NumberColumn(
                    f"Burn {w}",
                    format="%.2f×",
                    help=f"Burn rate over the last {w}: 1× spends the budget exactly over the period. "
                    + ui.NO_FIGURE,
                )
                for w in slo_view.BURN_WINDOWS
            },
            "link": st.column_config.LinkColumn("Link", display_text="open", help="This SLO's address"),
        },
    )
    if picked is not None and picked.selection.rows:  # a row opens its SLO's detail in this tab
        st.query_params["slo"] = shown[picked.selection.rows[0]].definition.name
        st.rerun()
    first = (number - 1) * slo_view.BOARD_PAGE_ROWS
    paged = f"page {number} of {pages}: SLOs {first + 1:,}–{first + len(shown):,} of " if pages > 1 else ""
    st.caption(
        f"{paged}{len(matching):,} of {len(statuses):,} SLOs shown, worst first; {board.requests} Prometheus"
        " requests for this view."
    )


@ui.live(ctx)
def detail(definition: SloDefinition) -> None:
    at = ctx.sources.now()
    tr = ctx.time_range()
    view = slo_view.load_detail(ctx.sources, definition, at, tr)
    ui.show_problems(view.problems, at)
    status = view.current

    st.markdown(f"### {ui.plain(definition.display_name or definition.name)}")
    domain = DOMAIN_TITLES.get(definition.domain, definition.domain)
    st.caption(
        f"Service **{ui.plain(definition.service)}** · {ui.plain(domain)} · team "
        f"{ui.plain(definition.team)} · {definition.budgeting.lower()} over "
        f"{ui.plain(definition.window.label)}"
    )
    if definition.description:
        st.markdown(ui.plain(definition.description))

    if status:
        state, urgent = st.columns([1, 2])
        state.metric(
            "State",
            status.state + (" (low traffic, alerts held)" if status.low_traffic else ""),
            border=True,
        )
        when, how = slo_view.runs_out(status)
        urgent.metric("Error budget runs out", when, border=True, help=how)
        urgent.caption(how)
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
        with st.expander("When the budget runs out at each recent burn rate", icon=":material/schedule:"):
            for sentence in slo_view.forecast_sentences(status):
                st.caption(sentence)

    history, in_range = view.history.value, view.in_range.value
    incidents = slo_view.incident_annotations(view.incidents, at)
    left, right = st.columns(2)
    if history is not None:
        left.altair_chart(
            charts.timeseries(
                slo_view.burndown_lines(history),
                title="Error budget burn-down, this period",
                unit="ratio",
                color="line",
                annotations=incidents,
            )
        )
    if in_range is not None:
        right.altair_chart(
            charts.timeseries(
                slo_view.sli_curve(in_range),
                title=f"SLI per interval, {tr.label.lower()}",
                unit="ratio",
                thresholds=[("objective", definition.target)],
                annotations=incidents,
                zero=False,
            )
        )
        st.altair_chart(
            charts.timeseries(
                slo_view.burn_rate_curves(in_range),
                title=f"Burn rate per window, {tr.label.lower()} (1× spends the budget exactly)",
                unit="x",
                color="window",
                thresholds=[
                    (f"{alert} threshold {factor:.1f}×", factor)
                    for alert, factor in alert_thresholds(definition).items()
                ],
                annotations=incidents,
            )
        )

    st.subheader("Alerts")
    if view.current is not None:
        st.caption(f"Alerts: {ui.plain(view.current.alerts_from)}.")
    alerts = slo_view.alert_table(view)
    st.dataframe(
        alerts,
        hide_index=True,
        placeholder=ui.MISSING,
        column_order=[c for c in alerts.columns if c != "alert"],  # the rule's id is in the title's tooltip
        column_config={
            "title": st.column_config.TextColumn(
                "Alert", help="In words; its rule is labelled sextant_alert=page-1h-5m and the like"
            ),
            "severity": "Severity",
            "threshold": st.column_config.NumberColumn(
                "Burn-rate threshold", format="%.1f×", help="— : the no-data alert has no threshold"
            ),
            "windows": "Long and short window",
            "firing": "Now",
            "since": st.column_config.DatetimeColumn(
                "Firing since (UTC)", format="D MMM HH:mm", help="— : not firing now"
            ),
            "last_fired": st.column_config.DatetimeColumn(
                "Last fired (UTC)", format="D MMM HH:mm", help="— : not fired in this period"
            ),
            "runbook": st.column_config.LinkColumn(
                "Runbook", display_text="read", help="Opens on the Alerts page. — : the SLO names none"
            ),
        },
    )

    st.subheader(f"Service {ui.plain(definition.service)}, {tr.label.lower()}")
    service = {k: o.value.frame for k, o in view.service.items() if o.value is not None}
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
        "traces", "Traces of this service", ":material/timeline:", service=definition.service, range=tr.preset
    )
    ui.page_link(
        "logs",
        "Error logs of this service",
        ":material/article:",
        service=definition.service,
        level="ERROR",
        range=tr.preset,
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
    st.code(ui.absolute(slo_view.detail_link(definition.name, tr.preset)), language=None)


if picked == ALL:
    board()
else:
    detail(by_name[picked])

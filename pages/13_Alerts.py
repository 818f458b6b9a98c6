"""Alerts: every firing and pending alert of Prometheus with its severity, since when, what it belongs to and
its runbook; the alerting rules, those without a runbook flagged; Alertmanager's silences and inhibitions when
it is configured. A runbook of the repository opens here (`?runbook=<name>`), rendered as Markdown."""

import streamlit as st

from app import ui
from app.alerting import runbooks
from app.alerting import view as alerts_view

ctx = ui.page_setup("alerts")

LINKS = {
    "link": st.column_config.LinkColumn(
        "Open", display_text="open", width=48, help=f"{ui.MISSING} : it says nothing of what it belongs to"
    ),
    "runbook_link": st.column_config.LinkColumn(
        "Runbook",
        display_text="read",
        width=62,
        help=f"{ui.MISSING} : no runbook (it counts against observability coverage)",
    ),
}
ALERT_HELP = "An SLO's burn alert by its kind and window, others by their rule's name in words"
SUMMARY_PX = 300

pick_runbook, pick_severity = st.columns(2)
picked = pick_runbook.selectbox(
    "Runbook",
    runbooks.names(),
    index=None,
    placeholder="Open a runbook of this repository",
    key="runbook",
    bind="query-params",
    help="The repository's runbooks/*.md, read here; an alert's runbook link opens its own.",
)
severity = pick_severity.selectbox(
    "Severity",
    list(alerts_view.SEVERITIES),
    index=None,
    placeholder="Every severity",
    key="severity",
    bind="query-params",
)
if picked:
    text = runbooks.markdown(picked)
    with st.container(border=True):
        st.caption(f"`runbooks/{picked}.md`, from the repository")
        # Streamlit's Markdown shows HTML as text (no unsafe_allow_html): a tag in a runbook is never live.
        st.markdown(text if text is not None else "This runbook is no longer in the repository.")


@ui.live(ctx)
def body(severity: str | None) -> None:
    at = ctx.sources.now()
    view = alerts_view.load(ctx.sources, at)
    ui.show_problems(view.problems, at)
    ui.show_warnings(view.warnings)
    shown = [a for a in view.alerts if severity is None or a.severity == severity]

    firing_page, firing_ticket, pending, missing = st.columns(4)
    if view.known("alerts"):
        firing_page.metric("Pages firing", len(view.firing("page")))
        firing_ticket.metric("Tickets firing", len(view.firing("ticket")))
        pending.metric("Pending", sum(a.state == "pending" for a in view.alerts))
    else:
        for column, label in (
            (firing_page, "Pages firing"),
            (firing_ticket, "Tickets firing"),
            (pending, "Pending"),
        ):
            column.metric(label, "no data")
    if view.known("rules"):
        missing.metric(
            "Rules without a runbook",
            f"{len(view.without_runbook)} of {len(view.rules)}",
            help="An alert without a runbook counts against observability coverage.",
        )
    else:
        missing.metric("Rules without a runbook", "no data")

    st.subheader("Firing and pending")
    if not view.known("alerts"):
        st.caption("Not known: Prometheus's alerts could not be read.")
    elif not shown:
        st.caption("No alert is firing or pending" + (f" at severity {severity}." if severity else "."))
    else:
        # What on-call acts on first, every column within 1440 px (widths sum to the page's), the summary
        # whole (rows as tall as the longest needs): which alert, whose, its runbook, who was told, for how
        # long, what it says. Since when is in the "For" column's tooltip; where the runbook lives, in the
        # warning below when it has none.
        firing = alerts_view.alerts_table(shown, at)
        ui.table(
            firing,
            {
                **LINKS,
                "state": st.column_config.TextColumn("State", width=58),
                "severity": st.column_config.TextColumn("Severity", width=62),
                "title": st.column_config.TextColumn("Alert", width=136, help=ALERT_HELP),
                "belongs_to": st.column_config.TextColumn("Belongs to", width=128),
                "alertmanager": st.column_config.TextColumn("Alertmanager", width=112),
                "for_min": st.column_config.NumberColumn(
                    "For", format="%.0f min", width=62, help="How long it has been active"
                ),
                "summary": st.column_config.TextColumn(
                    "Summary", width=SUMMARY_PX, help="The rule's own words"
                ),
            },
            empty="No alert is firing or pending.",
            wrap=True,
            placeholder=ui.MISSING,
            row_height=ui.wrapped_row_px(firing["summary"], SUMMARY_PX),
            column_order=[
                "state",
                "severity",
                "title",
                "belongs_to",
                "link",
                "runbook_link",
                "alertmanager",
                "for_min",
                "summary",
            ],  # fmt: skip
        )
    without = sorted({a.name for a in shown if a.runbook is None})
    if without:
        st.warning("No runbook for: " + ", ".join(ui.plain(n) for n in without), icon=":material/menu_book:")

    st.subheader("Alertmanager")
    if not view.alertmanager:
        st.caption(
            "Not configured (SEXTANT_ALERTMANAGER_URL): who silenced what, and which alert holds back "
            "another, is not known."
        )
    else:
        # One table under another, each the page's width: side by side, half of 1440 px cut their columns.
        st.markdown("**Silences**")
        ui.table(
            alerts_view.silences_table(view.silences),
            {
                "state": "State",
                "matchers": "Matches",
                "created_by": "By",
                "comment": "Comment",
                "starts": st.column_config.DatetimeColumn("From (UTC)", format="D MMM HH:mm"),
                "ends": st.column_config.DatetimeColumn("Until (UTC)", format="D MMM HH:mm"),
                "silencing": st.column_config.NumberColumn("Alerts silenced now", format="%d"),
            },
            empty="No silence: Alertmanager holds none, active or expired.",
        )
        st.markdown("**Held back now**")
        ui.table(  # an owner's or a holding alert's words wrap within their column, never cut
            alerts_view.inhibited_table(view.alerts),
            {
                "alert": st.column_config.TextColumn("Alert", width=300),
                "belongs_to": st.column_config.TextColumn("Belongs to", width=300),
                "held_back_by": st.column_config.TextColumn("Held back by", width=370),
            },
            empty="No alert is held back by another.",
            wrap=True,
        )
        st.markdown("**Inhibit rules**")
        st.dataframe(
            alerts_view.inhibit_table(view.inhibit_rules),
            hide_index=True,
            column_config={"source": "When this fires", "target": "it holds back", "equal": "with equal"},
        )

    st.subheader("Alerting rules")
    if not view.known("rules"):
        st.caption("Not known: Prometheus's rules could not be read.")
    else:
        # The rule's name is the last column (what a rule file and Prometheus call it); the group is what
        # "Belongs to" says in words. The runbook is its link: a rule without one is counted above.
        ui.table(
            alerts_view.rules_table(view.rules),
            {
                **LINKS,
                "title": st.column_config.TextColumn("Alert", width=180, help=ALERT_HELP),
                "belongs_to": st.column_config.TextColumn("Belongs to", width=310),
                "severity": st.column_config.TextColumn("Severity", width=62),
                "state": st.column_config.TextColumn("State", width=70),
                "active": st.column_config.NumberColumn("Active", format="%d", width=56),
                "alert": st.column_config.TextColumn("Rule", width=170),
            },
            empty="Prometheus holds no alerting rule.",
            placeholder=ui.MISSING,
            column_order=[
                "title",
                "belongs_to",
                "severity",
                "link",
                "runbook_link",
                "state",
                "active",
                "alert",
            ],
        )


body(severity)

"""Weekly review: one ISO week laid out as the meeting runs (`?week=2026-W48`), frozen or live, with its
action items, the report as HTML and PDF, and the summary for Slack. Figures come from app.report.review."""

import threading
from datetime import UTC, datetime

import streamlit as st

from app import links, ui
from app.readiness import view as readiness_view
from app.report import document, freeze, frozen, slack
from app.report import review as rv
from app.report.actions import ActionError, ActionItem, ActionStore
from app.report.pdf import PdfError, html_to_pdf
from app.report.weeks import last_full_week, week_of
from app.ui import charts

INCIDENT_SLOS_PX = 370  # the incidents' "SLOs alerting during it": the columns fit 1440 px's 978 px

ctx = ui.page_setup("weekly_review")
assert ctx.config is not None and ctx.backends is not None  # page_setup always sets them
config, backends = ctx.config, ctx.backends
now = backends.now()  # live: the clock; on the demo: when the snapshot was recorded

if ctx.week is None:
    if "week" in st.query_params:  # page_setup said what is wrong with it
        st.stop()
    st.query_params["week"] = str(last_full_week(now))  # the week that has just ended
    st.rerun()
week = ctx.week
if not rv.available(week, now):
    st.warning(f"{week} has not begun: there is nothing to review yet.", icon=":material/event_busy:")
    ui.page_link("weekly_review", f"This week, {week_of(now)}", ":material/today:", week=str(week_of(now)))
    st.stop()

store = ActionStore(config.reports_dir)
who = ui.visitor() or "a visitor (no sign-in configured)"


def available_weeks() -> list[str]:
    """The weeks the page can show here: frozen ones, the week in progress, and, live, the last four."""
    found = {str(w) for w in frozen.frozen_weeks(frozen.weeks_dir(config))} | {str(week_of(now))}
    if backends.mode == "live":
        past = week_of(now)
        for _ in range(4):
            past = past.previous()
            found.add(str(past))
    return sorted(found, reverse=True)


def week_links() -> None:
    shown = available_weeks()
    left, middle, right = st.columns([1, 3, 1])
    with left:
        if str(week.previous()) in shown:
            ui.page_link(
                "weekly_review", f"{week.previous()}", ":material/chevron_left:", week=str(week.previous())
            )
    with middle:
        beside = {str(week), str(week.previous()), str(week.next())}  # this one and the arrows' weeks
        others = [w for w in shown if w not in beside]
        if others:
            st.caption("Other weeks:")
            for column, other in zip(st.columns(len(others)), others, strict=True):
                with column:
                    ui.page_link("weekly_review", other, ":material/event_note:", week=other)
    with right:
        if str(week.next()) in shown:
            ui.page_link("weekly_review", f"{week.next()}", ":material/chevron_right:", week=str(week.next()))


def headlines(view: rv.WeeklyReview) -> None:
    ui.headline_tiles(view.headlines)
    st.caption("Changes are against a week earlier; budget spent against the week before.")


def slo_section(view: rv.WeeklyReview) -> None:
    st.subheader("SLO compliance and error budget this week")
    if view.unknown_note:
        st.warning(ui.plain(view.unknown_note), icon=":material/help:")
    domains = rv.domain_table(view.domains)
    chart = domains.dropna(subset=["spent"])
    if not chart.empty:
        st.altair_chart(
            charts.bars(chart, x="spent", y="domain", title="Budget spent this week, worst SLO", unit="ratio")
        )
    spent = st.column_config.NumberColumn(
        "Spent", format="percent", help=f"Of the week's error budget. {ui.NO_FIGURE}", width=70
    )
    before = st.column_config.NumberColumn(
        "Week before", format="percent", help=f"Of the week before's error budget. {ui.NO_FIGURE}", width=84
    )
    ui.table(
        domains,
        {
            "domain": "Domain",
            "spent": spent,
            "previous": before,
            "worst_slo": st.column_config.TextColumn(
                "Spent most", help="The SLO that spent the most of its week's budget: the domain's figure"
            ),
            "met": "Objective met",
            "state": st.column_config.TextColumn(
                "State at the end", help="The domain's worst SLO state at the week's end, whichever SLO it is"
            ),
        },
        empty="No domain to show.",
        states=["state"],
        placeholder=ui.MISSING,
    )
    table = rv.slo_table(view.slos)
    table["link"] = [
        links.url("slos", slo=name, week=str(week) if ctx.frozen else None) for name in table.pop("slo_name")
    ]
    ui.table(
        table,
        # Within 1440 px: each column sized to what it holds (the longest SLO name whole); the SLI in the
        # objective's unit.
        {
            "slo": st.column_config.TextColumn("SLO", pinned=True, width=240),
            "domain": st.column_config.TextColumn("Domain", width=136),
            "objective": st.column_config.NumberColumn("Objective", format="percent", width=75),
            "sli": st.column_config.NumberColumn(
                "SLI", format="percent", help=f"Over the week. {ui.NO_FIGURE}", width=70
            ),
            "met": st.column_config.TextColumn(
                "This week", help="Whether the week met the objective", width=75
            ),
            "spent": spent,
            "previous": before,
            "state": st.column_config.TextColumn(
                "At the end", help="The SLO's state at the week's end", width=85
            ),
            "budget_left": st.column_config.NumberColumn(
                "Budget left",
                format="percent",
                help=f"Of the SLO's own period, at the week's end. {ui.NO_FIGURE}",
                width=80,
            ),
            "link": st.column_config.LinkColumn("Detail", display_text="open", width=55),
        },
        empty="No SLO to show.",
        states=["state"],
        placeholder=ui.MISSING,
        height="content",
    )
    st.caption(
        "Budget spent: the week's bad events over those its objective allows for the week's events; 100% is "
        "exactly on budget. A domain's figure is its worst SLO's."
    )


def incidents_section(view: rv.WeeklyReview) -> None:
    st.subheader("Incidents and alerts")
    incidents = rv.incident_table(view.incidents)
    if not view.incidents_known:
        st.write("Incidents: not known, the incident list could not be read (see above).")
    else:
        # The SLOs an incident hit can be many: that column wraps, each row as tall as its list needs.
        ui.table(
            incidents,
            {
                "incident": st.column_config.TextColumn("Incident", width=190),
                "start": st.column_config.DatetimeColumn("Start (UTC)", format="ddd D MMM HH:mm", width=130),
                "duration": st.column_config.TextColumn("Duration", width=95),
                "services": st.column_config.TextColumn("Services", width=185),
                "slos_hit": st.column_config.TextColumn("SLOs alerting during it", width=INCIDENT_SLOS_PX),
            },
            empty="No incident this week.",
            wrap=True,
            row_height=ui.wrapped_row_px(incidents["slos_hit"], INCIDENT_SLOS_PX),
        )
    alerts = rv.alert_table(view.alerts)
    if not view.alerts_known:
        st.write("Alerts: not known for every SLO, their burn rates could not be read (see above).")
    if alerts.empty and view.alerts_known:
        st.write("No alert fired this week.")
    elif not alerts.empty:
        st.dataframe(
            alerts,
            hide_index=True,
            column_config={
                "slo": "SLO",
                "alert": "Alert",
                "severity": "Severity",
                "start": st.column_config.DatetimeColumn("Start (UTC)", format="ddd D MMM HH:mm"),
                "duration": "Duration",
                "still_firing": st.column_config.CheckboxColumn("Firing at the end"),
            },
        )
    st.caption(ui.plain(rv.alert_note(view)))


def readiness_section(view: rv.WeeklyReview) -> None:
    st.subheader("Filing readiness: what moved")
    moves = view.readiness_week
    if moves is None or view.readiness is None:
        st.warning("The readiness score could not be computed.", icon=":material/help:")
        return
    left, right = st.columns([2, 3])
    with left:
        st.markdown(f"**{ui.plain(moves.heading)}**")
        st.markdown("\n".join(f"- {ui.plain(line)}" for line in moves.sentences))
        ui.page_link("readiness", "The readiness page", ":material/fact_check:")
    with right:
        if readiness_view.has_trend(view.readiness):
            trend = readiness_view.trend_frame(view.readiness)
            st.altair_chart(charts.readiness_trend(trend, target=readiness_view.target(view.readiness)))


def deadlines_section(view: rv.WeeklyReview) -> None:
    st.subheader(f"Deadlines in the next {rv.DEADLINE_DAYS // 7} weeks")
    if not view.deadlines:
        st.write("No filing deadline in the four weeks after the review.")
        return
    ui.deadline_table(view.deadlines)


def security_section(view: rv.WeeklyReview) -> None:
    st.subheader("Security posture")
    sec = view.security
    if sec.now is None:
        st.warning("The security checks could not be loaded.", icon=":material/help:")
        return
    columns = st.columns(3)
    parts = (
        ("Changed state since the week before", sec.changes, "No check changed state."),
        ("Overdue rotations", sec.overdue, "No secret is overdue."),
        ("Sign-in bursts", sec.bursts, "No address went over the limit."),
    )
    for column, (title, lines, empty) in zip(columns, parts, strict=True):
        with column.container(border=True, height="stretch"):
            st.markdown(f"**{title}**")
            st.markdown("\n".join(f"- {ui.plain(line)}" for line in lines) if lines else empty)
    ui.page_link("security", "The security page", ":material/shield:", range="7d")


def scorecard_section(view: rv.WeeklyReview) -> None:
    st.subheader("Acceptance scorecard: what moved since the week before")
    card = view.scorecard
    if card is None:
        st.warning("The acceptance scorecard could not be loaded.", icon=":material/help:")
        return
    st.caption(card.summary)
    ui.scorecard_changes(view.scorecard_changes, view.scorecard_gaps)
    ui.page_link("scorecard", "The scorecard page", ":material/checklist:", range="7d")


def action_rows(items: list[ActionItem]) -> None:
    for item in items:
        with st.container(border=True):
            status = f"closed in {item.closed_week}" if item.closed_week else "open"
            origin = f"carried from {item.added_week}" if item.carried(week) else "added this week"
            st.markdown(f"**{ui.plain(item.text)}** — {ui.plain(item.owner)}")
            st.caption(f"{status}; {origin} by {ui.plain(item.added_by)}")
            if ctx.frozen is not None:
                continue
            edit, close = st.columns([4, 1])
            with edit.expander("Edit"), st.form(f"edit-{item.id}"):
                text = st.text_input("Action", item.text, key=f"text-{item.id}")
                owner = st.text_input("Owner", item.owner, key=f"owner-{item.id}")
                if st.form_submit_button("Save"):
                    change(lambda i=item, t=text, o=owner: store.edit(i.id, t, o, who))
            with close:
                if item.is_open and st.button("Close", key=f"close-{item.id}", icon=":material/done:"):
                    change(lambda i=item: store.close(i.id, week, who))
                if not item.is_open and st.button("Reopen", key=f"reopen-{item.id}"):
                    change(lambda i=item: store.reopen(i.id, who))


def change(apply) -> None:
    try:
        apply()
    except ActionError as exc:
        st.error(ui.plain(exc), icon=":material/error:")
        return
    st.rerun()


def actions_section() -> list[ActionItem]:
    st.subheader("Action items")
    if ctx.frozen is not None:
        items = list(ctx.frozen.actions)
        st.caption("As they were when the week was frozen; open ones carry on in the next week's review.")
    else:
        try:
            items = store.for_week(week)
        except ActionError as exc:
            st.error(f"The action items cannot be read: {ui.plain(exc)}", icon=":material/error:")
            return []
    if not items:
        st.write("No action item yet.")
    action_rows(items)
    if ctx.frozen is None:
        with st.form("add-action", clear_on_submit=True):
            st.markdown("**Add an action item**")
            text = st.text_input("Action")
            owner = st.text_input("Owner")
            if st.form_submit_button("Add", icon=":material/add:"):
                change(lambda: store.add(text, owner, week, who))
    return items


def freeze_now() -> None:
    """Freeze in a thread of its own: the recording asks every page's questions, each with its own time
    budget, not the page run's."""
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["done"] = freeze.freeze(backends, config, week, by=who)
        except (freeze.FreezeError, frozen.FrozenWeekError, ActionError) as exc:
            outcome["error"] = exc

    worker = threading.Thread(target=run, name="sextant-freeze")
    with st.spinner(f"Freezing {week}: recording what every page shows at the week's end…"):
        worker.start()
        worker.join()
    if "error" in outcome:
        st.error(f"{week} was not frozen: {ui.plain(outcome['error'])}", icon=":material/error:")
        return
    st.rerun()


def export_section(view: rv.WeeklyReview, items: list[ActionItem]) -> None:
    st.subheader("Freeze and share")
    st.caption(ui.plain(document.status_line(view, ctx.frozen)))
    if ctx.frozen is None and view.complete:
        if backends.mode != "live":
            st.caption("Weeks are frozen from the live backends; the demo ships its last week frozen.")
        elif frozen.configured_key(config) is None:
            st.caption("Set SEXTANT_REPORT_KEY to freeze weeks: a frozen week is signed with it.")
        elif st.button(f"Freeze {week}", icon=":material/lock:", type="primary"):
            freeze_now()
    link = ui.absolute(links.url("weekly_review", week=str(week)))
    st.code(link, language=None)
    html = document.render(view, items, frozen=ctx.frozen, generated_at=datetime.now(UTC), link=link)
    name = f"sextant-weekly-review-{week}"
    html_column, pdf_column, slack_column = st.columns(3)
    with html_column:
        st.download_button(
            "Report (HTML)", html, file_name=f"{name}.html", mime="text/html", icon=":material/download:"
        )
    with pdf_column:
        if st.button("Prepare the PDF", icon=":material/picture_as_pdf:"):
            try:
                st.session_state[f"pdf-{week}"] = html_to_pdf(html)
            except PdfError as exc:
                st.error(ui.plain(exc), icon=":material/error:")
        if f"pdf-{week}" in st.session_state:
            st.download_button(
                "Report (PDF)",
                st.session_state[f"pdf-{week}"],
                file_name=f"{name}.pdf",
                mime="application/pdf",
                icon=":material/download:",
            )
    with slack_column:
        if config.slack_webhook_url and st.button("Post the summary to Slack", icon=":material/send:"):
            try:
                delivery = slack.post(config.slack_webhook_url, slack.summary(view, ctx.frozen, link))
            except slack.SlackError as exc:
                st.error(ui.plain(exc), icon=":material/error:")
            else:
                st.success(f"Posted to Slack (attempt {delivery.attempts}).", icon=":material/check:")


@ui.live(ctx)
def body() -> None:
    view = rv.load(ctx.sources, week)
    ui.show_problems(view.problems, view.at)
    st.caption(f"{week.label}, Monday 00:00 to Monday 00:00 UTC.")
    week_links()
    headlines(view)
    slo_section(view)
    incidents_section(view)
    readiness_section(view)
    deadlines_section(view)
    security_section(view)
    scorecard_section(view)
    items = actions_section()
    export_section(view, items)


body()

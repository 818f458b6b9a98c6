"""Overview: what is healthy, what is at risk and why, in plain words, with last week for comparison."""

import streamlit as st

from app import overview, ui
from app.timerange import pinned_time
from app.ui import charts

ctx = ui.page_setup("overview")
pinned = st.query_params.get("at")  # a frozen report: `?at=2026-11-23T09:00Z`


@ui.live(ctx)
def body() -> None:
    now = ctx.sources.now()
    try:
        frozen = pinned_time(pinned, now)
    except ValueError as exc:
        st.warning(f"Showing now instead of `at`: {ui.plain(exc)}", icon=":material/schedule:")
        frozen = None
    at = frozen or now
    view = overview.load(ctx.sources, at)
    ui.show_problems(view.problems, at)
    if frozen is not None:
        st.caption(
            f"Frozen at {at:%A %d %B %Y, %H:%M} UTC: this page shows the figures of that moment whenever it "
            f"is opened. Changes are against a week earlier, {overview.week_earlier(at):%a %d %b %H:%M} UTC."
        )
    else:
        st.caption(
            f"As of {at:%A %d %B %Y, %H:%M} UTC; changes are against a week earlier, "
            f"{overview.week_earlier(at):%a %d %b %H:%M} UTC."
        )

    ui.headline_tiles(view.headlines)

    st.subheader("Domains")
    for column, tile in zip(st.columns(len(view.tiles)), view.tiles, strict=True):
        with column.container(border=True, height="stretch"):
            # The title is the click-through: a separate "Open …" link was cut off in narrow tiles.
            ui.page_link(tile.page, tile.title, ":material/arrow_forward:")
            ui.state_badge(tile.state)
            st.markdown(ui.plain(tile.reason))

    posture, scorecard = st.columns(2)
    with posture.container(border=True, height="stretch"):
        ui.page_link("security", "Security posture", ":material/shield:")
        ui.state_badge(view.security.grade.state if view.security else "no data")
        st.markdown(ui.plain(overview.security_line(view.security)))
    with scorecard.container(border=True, height="stretch"):
        ui.page_link("scorecard", "Acceptance scorecard", ":material/checklist:")
        st.markdown(ui.plain(overview.scorecard_line(view.scorecard)))

    st.subheader("Needs attention")
    if view.unknown_note:
        st.warning(ui.plain(view.unknown_note), icon=":material/help:")
    if view.attention:
        st.caption(ui.plain(view.alerts_note))
        ui.static_table(
            overview.attention_table(view.most_urgent),
            {
                "slo": "SLO",
                "domain": "Domain",
                "budget_left": "Budget left",
                "state": "State",
                "firing": "Firing alerts",
            },
            links={"slo": "link"} if ui.may_open("slos") else None,
            states=["state"],
        )
    if view.more_note:
        st.caption(ui.plain(view.more_note))
        ui.page_link("slos", "All SLOs, worst first", ":material/target:")
    if view.all_healthy:
        st.success("Every SLO is healthy.", icon=":material/check_circle:")

    left, right = st.columns(2)
    with left:
        if view.readiness_trend.empty:
            st.info("No readiness trend: the weekly scores could not be fetched.", icon=":material/info:")
        else:
            st.altair_chart(charts.readiness_trend(view.readiness_trend, target=view.readiness_target))
    with right:
        st.subheader("What changed since last week")
        if view.changes:
            st.markdown("\n".join(f"- {ui.plain(line)}" for line in view.changes))
        else:
            st.write("Nothing changed state since last week.")

    st.subheader("Upcoming filing deadlines")
    ui.deadline_table(view.deadlines)

    st.subheader("Share this report")
    # In a popover: the code block's code (1.5 MB) loads when it is opened, not before the tiles (issue 9).
    with st.popover("Link and download", icon=":material/share:"):
        st.caption(
            "For the weekly review: this link shows the figures of this moment whenever it is opened "
            "(Prometheus keeps 30 days), and the download holds the same report as a document."
        )
        st.code(ui.absolute(overview.frozen_link(at)), language=None)
        ui.download_button(
            ctx,
            "Download the report (Markdown)",
            lambda: overview.report_markdown(view),
            file_name=f"sextant-report-{at:%Y-%m-%d-%H%M}.md",
            mime="text/markdown",
        )
    st.caption(
        "The weekly review has a page of its own: the whole finished week, frozen and signed so that its "
        "figures cannot drift or be edited, with action items, as HTML and PDF, and a summary for Slack."
    )
    ui.page_link("weekly_review", "Weekly review", ":material/event_note:")


body()

"""Acceptance scorecard: the playbook's "Metrics & Acceptance" criteria side by side with live figures
(slo_definitions/acceptance.yaml): target, figure now, trend and verdict."""

import streamlit as st

from app import ui
from app.scorecard import criteria
from app.scorecard import view as scorecard_view

ctx = ui.page_setup("scorecard")

DETAIL_COLUMNS = {
    "service": "Service",
    "coverage": st.column_config.NumberColumn("Coverage", format="percent"),
    "meets": "Meets the target",
    "path": "Critical path",
    "passed": "Passed",
    "ran_ago_h": st.column_config.NumberColumn("Last run", format="%.1f h ago"),
    "dataset": "Dataset",
    "output": "Output",
    "divergence": st.column_config.NumberColumn("Divergence", format="percent"),
    "tolerance": st.column_config.NumberColumn("Tolerance", format="percent"),
    "within": "Within",
    "p95_s": st.column_config.NumberColumn("p95 (s)", format="%.2f"),
    "limit_s": st.column_config.NumberColumn("Limit (s)", format="%.2f"),
    "slo": "Limit from",
}
TREND_ICONS = {
    "better": "↑ better",
    "worse": "↓ worse",
    "changed": "↕ changed",
    "same": "= same",
    "not known": "? not known",
}


@ui.live(ctx)
def body() -> None:
    tr = ctx.time_range()
    card = scorecard_view.load(ctx.sources, tr.end, tr.duration)
    ui.show_problems(card.problems, ctx.sources.now())
    if card.definition_errors:
        st.error(
            "The acceptance criteria are invalid:\n\n"
            + "\n".join(f"- {ui.plain(p)}" for p in card.definition_errors)
        )
        return
    before = tr.end - tr.duration
    st.caption(
        f"Figures at {tr.end:%d %b %H:%M} UTC, CI runs over the {tr.label.lower()}; the trend compares each "
        f"figure with the same one a range earlier ({before:%d %b %H:%M} UTC). The criteria are the "
        "playbook's acceptance targets; the security rows are the security controls' own verdicts.",
        help="Declared in the repository: slo_definitions/acceptance.yaml and slo_definitions/controls.yaml.",
    )
    counts = card.counts()
    met, not_met, no_data, posture = st.columns(4)
    met.metric("Criteria met", f"{counts['met']} of {len(card.criteria)}", border=True)
    not_met.metric("Not met", counts["not met"], border=True)
    no_data.metric("No data", counts["no data"], border=True)
    with posture.container(border=True):
        st.metric("Security posture", card.security.grade.word if card.security else "no data")
        ui.page_link("security", "Why, on the Security page", ":material/shield:")

    table = scorecard_view.trend_table(card)
    # Within 1440 px: each column sized to what it holds, long figures and targets wrapped; the verdict
    # coloured as every state is (`ui.state_css`).
    ui.table(
        table.assign(trend=table["trend"].map(TREND_ICONS)),
        {
            "area": st.column_config.TextColumn("Area", width=110),
            "criterion": st.column_config.TextColumn("Criterion", width=170),
            "verdict": st.column_config.TextColumn("Verdict", width=70),
            "now": st.column_config.TextColumn("Now", width=175),
            "before": st.column_config.TextColumn("A range earlier", width=175),
            "trend": st.column_config.TextColumn("Trend", width=90),
            "target": st.column_config.TextColumn("Target", width=180),
        },
        empty="No acceptance criterion is defined.",
        states=["verdict"],
        wrap=True,
        # The verdict and the trend first: the targets' long sentences pushed them past 1440 px.
        column_order=["area", "criterion", "verdict", "now", "before", "trend", "target"],
    )

    for area in criteria.AREAS:
        mine = [c for c in card.criteria if c.area == area]
        if not mine:
            continue
        st.subheader(area)
        for criterion in mine:
            st.markdown(
                f"{ui.state_icon(criterion.verdict)} **{ui.plain(criterion.title)}** ({criterion.verdict}): "
                f"{ui.plain(criterion.reason)}"
            )
            if not criterion.detail.empty:
                st.dataframe(criterion.detail, hide_index=True, column_config=DETAIL_COLUMNS)

    st.subheader("What changed since a range earlier")
    ui.scorecard_changes(
        scorecard_view.changes(card.previous, card), scorecard_view.comparison_gaps(card.previous, card)
    )


body()

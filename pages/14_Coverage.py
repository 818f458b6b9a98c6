"""Observability coverage: per service the playbook's five checks (metrics, traces, logs, alert rules,
runbooks), the share passing all five against the target, the gaps with how to close them, the 30-day trend,
and personal data in logs as a control. Services come from `slo_definitions/observability.yaml`."""

import pandas as pd
import streamlit as st

from app import ui
from app.coverage import view as coverage_view
from app.ui import charts

ctx = ui.page_setup("coverage")


def table(frame: pd.DataFrame, widths: dict[str, int] | None = None) -> None:
    """A coverage table with its column names as titles ("alert rules" reads "Alert rules"). With `widths`
    (px, summing within 1440 px's page), its text wraps and each row is as tall as its longest text needs."""
    if widths is None:
        st.dataframe(frame, hide_index=True, column_config={c: title(c) for c in frame.columns})
        return
    ui.table(
        frame,
        {c: st.column_config.TextColumn(title(c), width=widths.get(c)) for c in frame.columns},
        empty="Nothing to show.",
        wrap=True,
        row_height=max(ui.wrapped_row_px(frame[c].astype(str), w) for c, w in widths.items()),
    )


def title(column: str) -> str:
    return column[:1].upper() + column[1:]


@ui.live(ctx)
def body() -> None:
    at = ctx.sources.now()
    view = coverage_view.load(ctx.sources, at)
    ui.show_problems(view.problems, at)
    ui.show_warnings(view.warnings)
    if view.definition is None:
        st.error(
            "The coverage file is invalid:\n\n"
            + "\n".join(f"- {ui.plain(p)}" for p in view.definition_errors)
        )
        return
    c = view.definition
    within = coverage_view.window_words(c.within)
    st.caption(
        f"At {at:%d %b %H:%M} UTC. Traces and logs: the last {within}; logs count when at least "
        f"{c.structured_at_least:.0%} carry {ui.plain(', '.join(c.structured_fields))}. The services are the "
        "observability definition's, kept in the repository.",
        help="Declared in the repository: slo_definitions/observability.yaml",
    )
    covered, target, leak = st.columns(3)
    share = view.share
    covered.metric(
        "Services fully observed",
        f"{view.passing} of {len(view.services)} ({share:.0%})" if share is not None else "no data",
        border=True,
        help="Passing all five checks. A check a backend could not answer is 'no data', never a pass.",
    )
    target.metric("Playbook target", f"{c.target:.0%}", border=True)
    leakage = view.leakage
    with leak.container(border=True):
        figure = f"{leakage.share:.1%}" if leakage and leakage.share is not None else "no data"
        st.metric("Personal data in logs", figure, help="Target: zero. Same patterns as Sextant's masking.")
        if leakage and leakage.examined is not None:
            st.caption(
                f"{leakage.verdict}: {leakage.leaking} of {leakage.examined:,} sampled documents of the last "
                f"{coverage_view.window_words(leakage.within)} hold personal data (target 0)."
            )

    st.subheader("Per service")
    table(coverage_view.services_table(view))
    st.subheader("Gaps and how to close them")
    gaps = coverage_view.gaps_table(view)
    if gaps.empty:
        st.caption(
            "No gap." if share is not None and share >= c.target else "No gap found; see 'no data' above."
        )
    else:
        table(gaps, {"service": 110, "check": 90, "found": 300, "close it": 460})
    with st.expander("What each check found"):
        table(coverage_view.details_table(view), {"service": 130, "check": 110, "verdict": 90, "found": 630})

    st.subheader("Last 30 days")
    st.caption(
        "Per UTC day: the metric present that day (scrape health is only known live), traces and logs that "
        "day, alert rules and runbooks as they are now."
    )
    st.altair_chart(
        charts.score_trend(
            coverage_view.trend_frame(view),
            title="Services fully observed (%)",
            target=100,
            period="day",
            axis="% of services",
        )
    )
    ui.page_link("alerts", "Alerts and their runbooks", ":material/notifications_active:")


body()

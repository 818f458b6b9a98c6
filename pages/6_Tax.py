"""Tax: reconciliation time against its SLA, HMRC submissions, fraud-prevention headers, readiness per firm.

Panels are declared in queries/tax.yaml; app/dashboards.py fetches them, app/dashboard_ui.py draws.
"""

import streamlit as st

from app import dashboard_ui, dashboards, panels, ui

ctx = ui.page_setup("Tax", ":material/account_balance:")
board = panels.dashboard("tax")
st.caption(board.description)
values = dashboard_ui.pickers(board, dashboards.variable_choices(ctx.sources, board, ctx.time_range()))


@st.fragment(run_every=ctx.refresh_s)
def body() -> None:
    view = dashboards.load(ctx.sources, board, ctx.time_range(), values)
    dashboard_ui.draw(view, ctx.preset, ctx.sources.now())


body()

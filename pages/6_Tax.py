"""Tax: reconciliation time against its SLA, HMRC submissions, fraud-prevention headers, readiness per firm.

Panels are declared in queries/tax.yaml; app/dashboards/fetch.py fetches, app/dashboards/draw.py draws.
"""

from app.dashboards import draw as dashboard_ui

dashboard_ui.render_page("tax")

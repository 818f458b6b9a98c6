"""Tax: reconciliation time against its SLA, HMRC submissions, fraud-prevention headers, readiness per firm.

Panels are declared in queries/tax.yaml; app/dashboards.py fetches them, app/dashboard_ui.py draws.
"""

from app import dashboard_ui

dashboard_ui.render_page("tax")

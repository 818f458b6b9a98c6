"""Assistant: answer latency, answers given, user feedback, and the service's requests.

Panels are declared in queries/assistant.yaml; app/dashboards/fetch.py fetches, app/dashboards/draw.py draws.
"""

from app.dashboards import draw as dashboard_ui

dashboard_ui.render_page("assistant")

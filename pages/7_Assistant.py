"""Assistant: answer latency, answers given, user feedback, and the service's requests.

Panels are declared in queries/assistant.yaml; app/dashboards.py fetches them, app/dashboard_ui.py draws.
"""

from app import dashboard_ui

dashboard_ui.render_page("assistant")

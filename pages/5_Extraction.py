"""Extraction (ML): accuracy per document type against its target, volume, speed, queue and backlog per firm.

Panels are declared in queries/extraction.yaml; app/dashboards/fetch.py fetches, app/dashboards/draw.py draws.
"""

from app.dashboards import draw as dashboard_ui

dashboard_ui.render_page("extraction")

"""Extraction (ML): accuracy per document type against its target, volume, speed, queue and backlog per firm.

Panels are declared in queries/extraction.yaml; app/dashboards.py fetches them, app/dashboard_ui.py draws.
"""

from app import dashboard_ui

dashboard_ui.render_page("extraction")

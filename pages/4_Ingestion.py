"""Ingestion: request latency, errors and throughput per route, the queue, and documents ingested per firm.

Panels are declared in queries/ingestion.yaml; app/dashboards/fetch.py fetches, app/dashboards/draw.py draws.
"""

from app.dashboards import draw as dashboard_ui

dashboard_ui.render_page("ingestion")

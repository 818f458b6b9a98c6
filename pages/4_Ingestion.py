"""Ingestion: request latency, errors and throughput per route, the queue, and documents ingested per firm.

Panels are declared in queries/ingestion.yaml; app/dashboards.py fetches them, app/dashboard_ui.py draws.
"""

from app import dashboard_ui

dashboard_ui.render_page("ingestion")

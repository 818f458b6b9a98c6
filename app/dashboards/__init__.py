"""The domain dashboards (ingestion, extraction, tax, assistant): panels declared as data in
`queries/<domain>.yaml` and validated by `spec`, every panel of a page fetched at once by `fetch`, drawn by
`draw` (the one module here that imports Streamlit). Other modules use the names below."""

from app.dashboards.fetch import (
    DASHBOARDS,
    TTL_S,
    DashboardView,
    PanelData,
    VariableChoices,
    incident_frame,
    load,
    variable_choices,
)

__all__ = [
    "DASHBOARDS",
    "TTL_S",
    "DashboardView",
    "PanelData",
    "VariableChoices",
    "incident_frame",
    "load",
    "variable_choices",
]

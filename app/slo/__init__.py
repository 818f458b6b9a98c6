"""SLOs as code: definitions (OpenSLO v1, Sloth prometheus/v1), burn-rate math, generated Prometheus rules
and the status the SLO pages and `python -m app.slo` show.

Pages call only:
- `load_definitions(directory)` → `LoadResult` (definitions, errors)
- `compute_status(definitions, prom, at)` → `list[SloStatus]`
- `slo_history(definition, prom, at)` → `SloHistory` (or its parts: `budget_burndown`, `burn_rate_history`,
  `alert_history`, `compliance_history`)
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.slo.history import (
        BurnDown,
        SloHistory,
        alert_history,
        budget_burndown,
        burn_rate_history,
        compliance_history,
        firing_spans,
        slo_history,
    )
    from app.slo.loader import DefinitionError, LoadResult, load_definitions
    from app.slo.model import SloDefinition
    from app.slo.status import (
        AlertStatus,
        SloStatus,
        alert_thresholds,
        compute_status,
        sort_worst_first,
        state_counts,
    )

__all__ = [
    "AlertStatus",
    "BurnDown",
    "DefinitionError",
    "LoadResult",
    "SloDefinition",
    "SloHistory",
    "SloStatus",
    "alert_history",
    "alert_thresholds",
    "budget_burndown",
    "burn_rate_history",
    "compliance_history",
    "compute_status",
    "firing_spans",
    "load_definitions",
    "slo_history",
    "sort_worst_first",
    "state_counts",
]

# Where each name lives. Imported on first use (PEP 562), so `python -m app.slo rules` or `status --help`
# does not load pandas and the status code just because this package was imported.
_HOMES = {
    "DefinitionError": "loader",
    "LoadResult": "loader",
    "load_definitions": "loader",
    "SloDefinition": "model",
    "BurnDown": "history",
    "SloHistory": "history",
    "alert_history": "history",
    "budget_burndown": "history",
    "burn_rate_history": "history",
    "compliance_history": "history",
    "firing_spans": "history",
    "slo_history": "history",
}


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"app.slo.{_HOMES.get(name, 'status')}"), name)

"""One SLO definition to vary in unit tests of the rules and the backfill: `api_slo(target=0.99)`."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from app.slo.model import Indicator, SloDefinition, TimeWindow


def api_slo(**overrides: Any) -> SloDefinition:
    """"api" of service "svc": 99.9% of `x_total` not `c="5"` over 30 days; `overrides` replace fields."""
    fields: dict[str, Any] = dict(
        name="api",
        service="svc",
        domain="filing",
        team="t",
        target=0.999,
        window=TimeWindow(duration=timedelta(days=30)),
        indicator=Indicator(
            total="sum(rate(x_total[{{.window}}]))", bad='sum(rate(x_total{c="5"}[{{.window}}]))'
        ),
        runbook="runbooks/api.md",
    )
    fields.update(overrides)
    return SloDefinition(**fields)

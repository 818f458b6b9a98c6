"""Shared builders for the readiness tests (no tests here): small definitions and a fake Prometheus."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from app.readiness import ReadinessDefinition, parse_definition


def check(
    name: str,
    *,
    weight: float | None = 10,
    cap: float | None = None,
    scope: str = "platform",
    source: str = "prometheus",
    comparison: str = ">=",
    threshold: float = 0.9,
    domain: str = "filing",
    unit: str = "ratio",
    **extra: Any,
) -> dict[str, Any]:
    node: dict[str, Any] = {
        "name": name,
        "displayName": name.replace("_", " ").capitalize(),
        "description": f"The {name} check.",
        "domain": domain,
        "scope": scope,
        "source": source,
        "comparison": comparison,
        "threshold": threshold,
        "unit": unit,
        **extra,
    }
    if source in ("prometheus", "backlog") and "query" not in node:
        by = " by (tenant)" if scope == "tenant" else ""
        node["query"] = f'sum{by} (metric{{check="{name}"}})'
    if cap is not None:
        node["cap"] = cap
    elif weight is not None:
        node["weight"] = weight
    return node


def gate(name: str, cap: float, **kwargs: Any) -> dict[str, Any]:
    return check(name, cap=cap, weight=None, **kwargs)


def document(checks: list[dict[str, Any]], gates: list[dict[str, Any]] | None = None, **spec: Any) -> dict:
    return {
        "apiVersion": "sextant/v1",
        "kind": "ReadinessScore",
        "metadata": {"name": "test_readiness"},
        "spec": {"checks": checks, "gates": gates or [], **spec},
    }


def definition(checks: list[dict[str, Any]], gates: list[dict[str, Any]] | None = None, **spec: Any):
    return parse_definition(document(checks, gates, **spec), source="test.yaml")


def standard() -> ReadinessDefinition:
    """Two tenant checks, two platform checks (one from SLO states), two gates: weights total 100."""
    return definition(
        [
            check("ingested", weight=30, scope="tenant", domain="ingestion"),
            check("reconciled", weight=20, scope="tenant", domain="reconciliation"),
            check("error_rate", weight=10, comparison="<=", threshold=0.05),
            check("slos_healthy", weight=40, source="slo_states", aggregate="share_healthy", threshold=1.0),
        ],
        [
            gate("headers", 50, threshold=1.0),
            gate(
                "no_exhausted",
                40,
                source="slo_states",
                aggregate="count_exhausted",
                comparison="<=",
                threshold=0,
                unit="count",
            ),
        ],
    )


TENANTS = ("acme", "bright", "cobalt", "dunmore")


def healthy_values(**overrides: Any) -> dict[str, Any]:
    """Inputs under which every check of `standard()` passes."""
    values: dict[str, Any] = {
        "ingested": {t: 0.99 for t in TENANTS},
        "reconciled": {t: 0.95 for t in TENANTS},
        "error_rate": 0.01,
        "slos_healthy": 1.0,
        "headers": 1.0,
        "no_exhausted": 0.0,
    }
    values.update(overrides)
    return values


def vector(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """A frame shaped like PrometheusClient.instant's: one column per label (sorted) + `value`."""
    labels = sorted({k for row in rows for k in row if k != "value"})
    return pd.DataFrame(
        {**{k: [row.get(k) for row in rows] for k in labels}, "value": [float(r["value"]) for r in rows]},
        columns=[*labels, "value"],
    )


@dataclass(frozen=True)
class FakeResult:
    frame: pd.DataFrame
    warnings: tuple[str, ...] = ()


class FakeProm:
    """Answers `instant(query, at)` from `answer(query, at)`; counts calls and the most at once."""

    def __init__(self, answer: Callable[[str, datetime], Any], delay: float = 0.0) -> None:
        self._answer = answer
        self._delay = delay
        self._lock = threading.Lock()
        self._running = 0
        self.max_parallel = 0
        self.calls: list[tuple[str, datetime]] = []

    def instant(self, query: str, at: datetime | None = None) -> FakeResult:
        assert at is not None
        with self._lock:
            self.calls.append((query, at))
            self._running += 1
            self.max_parallel = max(self.max_parallel, self._running)
        try:
            if self._delay:
                time.sleep(self._delay)
            answer = self._answer(query, at)
            if isinstance(answer, Exception):
                raise answer
            if isinstance(answer, FakeResult):
                return answer
            return FakeResult(vector(answer))
        finally:
            with self._lock:
                self._running -= 1


def by_query(table: Mapping[str, Any]) -> Callable[[str, datetime], Any]:
    def answer(query: str, at: datetime) -> Any:
        return table.get(query, [])

    return answer

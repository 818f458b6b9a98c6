"""The SLO alerts' states from Prometheus's own alerts when the generated burn-rate rules are loaded there,
else from Sextant's burn-rate computation; each status says which (`SloStatus.alerts_from`).

A generated rule is labelled with its SLO (`slo`) and which alert it is (`sextant_alert`: page-1h-5m, …,
no-data). When Prometheus has every alert rule of an SLO loaded, an alert of that SLO fires exactly when
Prometheus's `/api/v1/alerts` holds it firing (pending is not firing: its `for` has not passed yet), and the
SLO's state follows those alerts. Prometheus keeps no history of its alerts, so an instant other than the
backends' present (`Sources.present`: the real clock live, even when a recording fixes `now()` at a week's
end; when a replay's answers were recorded), an SLO whose rules are not (all) loaded, or alerts that could
not be read fall back to the computation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from app.slo import math as slo_math
from app.slo.status import ALERTS_COMPUTED, SloStatus
from app.sources.deadline import ContextPool
from app.sources.errors import BackendError

if TYPE_CHECKING:
    from app.sources import Sources

FROM_PROMETHEUS = "from Prometheus's alerts (the generated rules are loaded)"
COMPUTED = ALERTS_COMPUTED
NOT_LOADED = f"{COMPUTED} (the generated alert rules are not loaded in Prometheus)"
UNREAD = f"{COMPUTED} (Prometheus's alerts could not be read)"
PAST = f"{COMPUTED} (Prometheus keeps only its current alerts)"
NOW_WITHIN = timedelta(minutes=2)  # an instant this close to the present is it (pages floor to the minute)


def _pairs(items: Iterable[Mapping[str, Any]], state: str | None = None) -> set[tuple[str, str]]:
    out = set()
    for item in items:
        labels = item.get("labels") or {}
        if (
            labels.get("slo")
            and labels.get("sextant_alert")
            and (state is None or item.get("state") == state)
        ):
            out.add((str(labels["slo"]), str(labels["sextant_alert"])))
    return out


def with_prometheus_alerts(
    statuses: Sequence[SloStatus], rules: Iterable[Mapping[str, Any]], alerts: Iterable[Mapping[str, Any]]
) -> list[SloStatus]:
    """`statuses` with each SLO's alerts (and so its state) as Prometheus holds them, where its rules are
    loaded; the others keep the computed alerts and say why."""
    loaded = _pairs(r for r in rules if r.get("type") == "alerting")
    firing = _pairs(alerts, "firing")
    out = []
    for s in statuses:
        if s.error is not None or s.state == slo_math.NO_DATA:
            out.append(s)  # nothing to say about its alerts beyond "no data"
            continue
        if not all((s.name, a.name) in loaded for a in s.alerts):
            out.append(replace(s, alerts_from=NOT_LOADED))
            continue
        states = tuple(replace(a, firing=(s.name, a.name) in firing) for a in s.alerts)
        state = slo_math.slo_state(
            s.error_budget_remaining,
            has_data=True,
            ticket_firing=any(a.firing for a in states if a.severity == "ticket" and a.long_window),
            page_firing=any(a.firing for a in states if a.severity == "page"),
        )
        out.append(replace(s, alerts=states, state=state, alerts_from=FROM_PROMETHEUS))
    return out


def apply(compute: Callable[[], Sequence[SloStatus]], sources: Sources, at: datetime) -> list[SloStatus]:
    """The statuses `compute()` gives, with their alerts as `sources`' Prometheus holds them when `at` is
    the backends' present (`Sources.present`), read while `compute` runs (the statuses' own queries, two
    round trips) rather than after it; computed otherwise."""
    if abs(sources.present() - at) > NOW_WITHIN:
        return [replace(s, alerts_from=PAST) for s in compute()]
    with ContextPool(max_workers=2, thread_name_prefix="slo-alerts") as pool:
        rules, alerts = pool.submit(sources.prometheus.rules), pool.submit(sources.prometheus.alerts)
        statuses = compute()
        read = _read(rules.result, alerts.result)
    return _applied(statuses, read) if statuses else []


def _read(rules: Callable[[], Any], alerts: Callable[[], Any]) -> tuple[Any, Any] | None:
    """Prometheus's rules and alerts, or None when they could not be read."""
    try:
        return rules(), alerts()
    except BackendError:
        return None


def _applied(statuses: Sequence[SloStatus], read: tuple[Any, Any] | None) -> list[SloStatus]:
    if read is None:
        return [replace(s, alerts_from=UNREAD) for s in statuses]
    return with_prometheus_alerts(statuses, *read)


def note(statuses: Iterable[SloStatus]) -> str:
    """ "Alerts: from Prometheus's alerts …" for the board, naming how many SLOs fell back, and why."""
    ways: dict[str, int] = {}
    for s in statuses:
        ways[s.alerts_from] = ways.get(s.alerts_from, 0) + 1
    if len(ways) == 1:
        return f"Alerts: {next(iter(ways))}."
    return (
        "Alerts: "
        + "; ".join(f"{n} SLOs {way}" for way, n in sorted(ways.items(), key=lambda w: -w[1]))
        + "."
    )

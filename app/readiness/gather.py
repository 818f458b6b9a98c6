"""Build readiness inputs from Prometheus (the only I/O of the readiness score).

Every distinct query of the definition is sent once per evaluation time, all of them concurrently, and the
number of requests is counted so the page and the benchmark can show it. A query that fails or returns
nothing makes its check "no data" (with the reason in `warnings`), never a pass.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import pandas as pd

from app.deadlines import next_deadline
from app.readiness.definition import (
    BACKLOG,
    COUNT_EXHAUSTED,
    PROMETHEUS,
    SHARE_HEALTHY,
    SLO_STATES_SOURCE,
    Check,
    ReadinessDefinition,
)
from app.readiness.moves import Movement, what_moved
from app.readiness.score import NOT_APPLICABLE, Figure, ReadinessInputs, ReadinessScore, score
from app.slo.math import EXHAUSTED, HEALTHY, NO_DATA, SHOWN_ORDER
from app.sources.deadline import ContextPool
from app.times import to_utc

MAX_WORKERS = 8

DeadlineClock = Callable[[datetime, str], tuple[datetime, str]]
"""(at, deadline kind) -> (the instant the next deadline of that kind passes, how to name it)."""


def calendar_deadline(at: datetime, kind: str) -> tuple[datetime, str]:
    """The next UK deadline of `kind` from app.deadlines (VAT: the 7th of the month, and so on)."""
    deadline = next_deadline(at, kind)
    return deadline.closes_at, f"the {deadline.label} deadline on {deadline.due:%-d %b %Y}"


class _Result(Protocol):
    @property
    def frame(self) -> pd.DataFrame: ...

    @property
    def warnings(self) -> tuple[str, ...]: ...


class InstantQuerier(Protocol):
    """What the readiness score needs of a Prometheus client (app.sources.prometheus.PrometheusClient)."""

    def instant(self, query: str, at: datetime | None = None) -> _Result: ...


@dataclass(frozen=True)
class _Answer:
    frame: pd.DataFrame | None
    warnings: tuple[str, ...] = ()
    error: str | None = None


def planned_queries(definition: ReadinessDefinition) -> list[str]:
    """The distinct PromQL one evaluation sends, in definition order."""
    queries = [definition.tenants_query] if definition.tenants_query else []
    for check in definition.items:
        queries.extend(check.queries())
    return list(dict.fromkeys(queries))


def _ask(prom: InstantQuerier, query: str, at: datetime) -> _Answer:
    try:
        result = prom.instant(query, at)
    except Exception as exc:  # any client failure is "no data" for the checks that need it, with the reason
        return _Answer(None, error=str(exc) or type(exc).__name__)
    return _Answer(result.frame, tuple(result.warnings))


def _run(
    prom: InstantQuerier, jobs: Sequence[tuple[str, datetime]], max_workers: int
) -> dict[tuple[str, datetime], _Answer]:
    if not jobs:
        return {}
    with ContextPool(max_workers=max(1, min(max_workers, len(jobs))), thread_name_prefix="readiness") as pool:
        futures = {job: pool.submit(_ask, prom, *job) for job in jobs}
        return {job: future.result() for job, future in futures.items()}


def gather_inputs(
    definition: ReadinessDefinition,
    prom: InstantQuerier,
    at: datetime,
    slo_states: Mapping[str, str] | None | Callable[[], Mapping[str, str] | None],
    *,
    max_workers: int = MAX_WORKERS,
    deadline_for: DeadlineClock = calendar_deadline,
) -> ReadinessInputs:
    """Query Prometheus at `at` and reduce every check to plain numbers for `score`.

    `slo_states` maps each **filing-domain** SLO name to its state (healthy, at risk, exhausted, no data);
    `{}` means there are no filing SLOs (those checks are not applicable), None that the states are unknown
    (no data). It may be a callable giving them, called once the queries are answered (so that the states
    can be fetched meanwhile). `deadline_for(at, kind)` gives the deadline a backlog check races against:
    by default the UK calendar; a simulated world passes its own clock.
    """
    at = to_utc(at)
    queries = planned_queries(definition)
    answers = _run(prom, [(q, at) for q in queries], max_workers)
    states = slo_states() if callable(slo_states) else slo_states
    return _assemble(definition, {q: answers[(q, at)] for q in queries}, at, states, deadline_for)


class _Collector:
    def __init__(self) -> None:
        self.warnings: list[str] = []

    def warn(self, what: str, message: str) -> None:
        self.warnings.append(f"{what}: {message}")

    def frame(self, what: str, answer: _Answer) -> pd.DataFrame | None:
        self.warnings.extend(f"{what}: Prometheus warning: {w}" for w in answer.warnings)
        if answer.error is not None:
            self.warn(what, f"query failed: {answer.error}")
            return None
        if answer.frame is None or answer.frame.empty:
            self.warn(what, "the query returned no series")
            return None
        return answer.frame

    def scalar(self, what: str, answer: _Answer) -> float | None:
        frame = self.frame(what, answer)
        if frame is None:
            return None
        if len(frame) != 1:
            self.warn(what, f"expected one series, got {len(frame)}: aggregate the query (e.g. sum(...))")
            return None
        return _number(frame["value"].iloc[0])

    def by_tenant(self, what: str, answer: _Answer, label: str) -> dict[str, float | None] | None:
        frame = self.frame(what, answer)
        if frame is None:
            return None
        if label not in frame.columns:
            self.warn(what, f"the result has no {label!r} label: aggregate with `by ({label})`")
            return None
        out: dict[str, float | None] = {}
        for tenant, value in zip(frame[label], frame["value"], strict=True):
            if tenant is None or (isinstance(tenant, float) and math.isnan(tenant)):
                continue
            if tenant in out:
                self.warn(what, f"more than one series for {label}={tenant!r}: aggregate with `by ({label})`")
                out[tenant] = None
            else:
                out[str(tenant)] = _number(value)
        return out


def _number(value: Any) -> float | None:
    number = float(value)
    return number if math.isfinite(number) else None


def _slo_state(state: object) -> str | None:
    """One of the SLO states (`app.slo.math`), however it is capitalised or joined; None if it is none."""
    words = " ".join(str(state).strip().lower().replace("_", " ").replace("-", " ").split())
    return words if words in SHOWN_ORDER else None


def _slo_figure(check: Check, states: Mapping[str, str] | None, notes: _Collector) -> tuple[Figure, str]:
    if states is None:
        return None, "the filing SLO states were not supplied"
    if not states:
        return NOT_APPLICABLE, "no filing SLOs are defined"
    known: dict[str, str] = {}
    for name, state in states.items():
        value = _slo_state(state)
        if value is None:
            notes.warn(check.name, f"SLO {name!r} has unknown state {state!r}; counted as no data")
            value = NO_DATA
        known[name] = value
    counts = {s: sum(v == s for v in known.values()) for s in SHOWN_ORDER}
    detail = f"{len(known)} filing SLOs: " + ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    # An SLO without data could be in any state: a figure that leaves it out would claim more than is known.
    # Only a count of exhausted SLOs above zero holds whatever the unknown ones are.
    if check.aggregate == SHARE_HEALTHY:
        return (None if counts[NO_DATA] else counts[HEALTHY] / len(known)), detail
    assert check.aggregate == COUNT_EXHAUSTED
    if counts[NO_DATA] and not counts[EXHAUSTED]:
        return None, detail
    return float(counts[EXHAUSTED]), detail


def _assemble(
    definition: ReadinessDefinition,
    answers: Mapping[str, _Answer],
    at: datetime,
    slo_states: Mapping[str, str] | None,
    deadline_for: DeadlineClock,
) -> ReadinessInputs:
    notes = _Collector()
    label = definition.tenant_label
    due: dict[str, float | None] = {}
    if definition.tenants_query:
        due = notes.by_tenant("tenants", answers[definition.tenants_query], label) or {}
    per_check: dict[str, Figure | dict[str, float | None]] = {}
    details: dict[str, str] = {}
    for check in definition.items:
        if check.source == SLO_STATES_SOURCE:
            figure, details[check.name] = _slo_figure(check, slo_states, notes)
            per_check[check.name] = figure
        elif check.source == PROMETHEUS and check.scope == "platform":
            assert check.query
            per_check[check.name] = notes.scalar(check.name, answers[check.query])
        elif check.source == PROMETHEUS:
            assert check.query
            per_check[check.name] = notes.by_tenant(check.name, answers[check.query], label)
        else:
            assert check.source == BACKLOG
            per_check[check.name], details[check.name] = _backlog(
                check, answers, at, deadline_for, notes, label
            )
    tenants = set(due)
    for value in per_check.values():
        if isinstance(value, dict):
            tenants.update(value)
    values: dict[str, Figure | dict[str, Figure]] = {}
    for check in definition.items:
        value = per_check[check.name]
        if check.scope == "platform":
            values[check.name] = None if isinstance(value, dict) else value  # a platform check has one figure
            continue
        given = value if isinstance(value, dict) else {}
        values[check.name] = {t: NOT_APPLICABLE if due.get(t) == 0 else given.get(t) for t in sorted(tenants)}
    return ReadinessInputs(
        values=values,
        tenants=tuple(sorted(tenants)),
        at=at,
        details=details,
        queries={c.name: c.queries() for c in definition.items},
        requests=len(answers),
        warnings=tuple(notes.warnings),
    )


def _backlog(
    check: Check,
    answers: Mapping[str, _Answer],
    at: datetime,
    deadline_for: DeadlineClock,
    notes: _Collector,
    label: str,
) -> tuple[dict[str, float | None] | None, str]:
    """Share of the time left that each tenant's backlog needs: backlog / (throughput x hours left)."""
    assert check.query and check.throughput_query and check.deadline
    backlog = notes.by_tenant(check.name, answers[check.query], label)
    throughput = notes.scalar(f"{check.name} throughput", answers[check.throughput_query])
    closes, name = deadline_for(at, check.deadline)
    hours = (closes - at).total_seconds() / 3600.0
    detail = f"{hours:.1f} h left until {name}"
    if throughput is None or backlog is None:
        return None, detail
    detail = f"throughput {throughput:,.0f} items/h per client firm; " + detail
    if hours <= 0:
        return {t: None for t in backlog}, detail + " (passed)"
    capacity = throughput * hours
    out: dict[str, float | None] = {}
    for tenant, items in backlog.items():
        if items is None:
            out[tenant] = None
        elif capacity > 0:
            out[tenant] = items / capacity
        else:
            out[tenant] = 0.0 if items <= 0 else math.inf
    return out, detail


# -- weekly trend ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Trend:
    """Scores at each week end, oldest first, and the Prometheus requests it took."""

    points: tuple[ReadinessScore, ...]
    requests: int

    def moved(self) -> list[Movement]:
        """What moved the score over the last week."""
        if len(self.points) < 2:
            return []
        return what_moved(self.points[-2], self.points[-1])


def week_ends(end: datetime, weeks: int) -> list[datetime]:
    """`end` and the same instant 1..weeks-1 weeks earlier, oldest first: week-over-week deltas are exact."""
    if weeks < 1:
        raise ValueError(f"weeks must be >= 1, got {weeks}")
    return [end - timedelta(weeks=k) for k in range(weeks - 1, -1, -1)]


def weekly_trend(
    definition: ReadinessDefinition,
    prom: InstantQuerier,
    end: datetime,
    weeks: int = 12,
    slo_states_at: Callable[[datetime], Mapping[str, str] | None] | None = None,
    *,
    max_workers: int = MAX_WORKERS,
    deadline_for: DeadlineClock = calendar_deadline,
) -> Trend:
    """The score at each of the last `weeks` week ends (see week_ends); all queries run in one pool.

    Without `slo_states_at` the SLO-state checks have no data (they are left out of the score, not passed).
    """
    times = week_ends(to_utc(end), weeks)
    queries = planned_queries(definition)
    answers = _run(prom, [(q, t) for t in times for q in queries], max_workers)
    points = []
    for t in times:
        states = slo_states_at(t) if slo_states_at else None
        inputs = _assemble(definition, {q: answers[(q, t)] for q in queries}, t, states, deadline_for)
        points.append(score(definition, inputs))
    return Trend(tuple(points), len(answers))

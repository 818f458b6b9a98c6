"""The filing readiness score: a pure function of the definition and plain numbers.

The rules are `RULES` below, in the words the Readiness page shows. What they leave to the code:

- `coverage` = assessed weight / applicable weight (not-applicable checks excluded); below the definition's
  `minimumCoverage` the score is None: one healthy check must not stand for nine without data. No-data
  checks are still listed in `no_data`; a missing score is never shown as healthy.
- Equal caps: the binding gate is the first by name. A gate that fails for any tenant caps the overall
  score. A gate with no data does not cap (it cannot tell), but is listed in `no_data`.
- Points lost: a check loses weight x share failing, a binding gate loses (uncapped - capped).
  `held_back_by` lists the check(s) or gate losing the most points; **ties are broken alphabetically by
  name** and every tied name is listed, so the first one is deterministic.
- Per domain: the same formula over the checks of that domain, capped only by gates of that domain.
- Per tenant: tenant-scoped outcomes for that tenant plus the platform-wide ones, capped by failed gates.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Final, TypeAlias

from app.directory import name
from app.readiness.definition import DOMAINS, Check, ReadinessDefinition
from app.units import format_value

EPSILON = 1e-9  # points closer than this count as a tie
RULES = (
    "Each check is **pass**, **fail**, **not applicable** or **no data** against its threshold, per client "
    "firm for the checks of each firm (such a check earns its weight in proportion to the firms passing it). "
    "Score = 100 × Σ(weight × share passing) ÷ Σ(weight of the checks with data). Checks without data or "
    "not applicable leave the sum: they are listed, never counted as passing. With data for less than "
    "{coverage} of the weight there is no score. A failed **gate** caps the score whatever the weights "
    "say; with several, the lowest cap wins."
)


class Status(StrEnum):
    PASS = "pass"  # noqa: S105 (a check status, not a password)
    FAIL = "fail"
    NOT_APPLICABLE = "not_applicable"
    NO_DATA = "no_data"


class _NotApplicable:
    """Marker input: the check does not apply (e.g. the tenant has nothing due at the next deadline)."""

    _instance: _NotApplicable | None = None

    def __new__(cls) -> _NotApplicable:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NOT_APPLICABLE"


NOT_APPLICABLE: Final = _NotApplicable()
Figure: TypeAlias = float | int | None | _NotApplicable
"""One input: a number, None for no data, or NOT_APPLICABLE."""


@dataclass(frozen=True)
class ReadinessInputs:
    """Plain numbers per check name: one Figure for platform checks, {tenant: Figure} for tenant checks.

    A check missing from `values` has no data. `tenants` lists tenants to report even if a check has no
    row for them. The rest is provenance for the page: what was asked, when, and what went wrong.
    """

    values: Mapping[str, Figure | Mapping[str, Figure]]
    tenants: tuple[str, ...] = ()
    at: datetime | None = None
    details: Mapping[str, str] = field(default_factory=dict)
    queries: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    requests: int = 0
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Assessment:
    """One check's verdict on one figure (of a tenant, or the platform's): pass, fail, … and the figure."""

    status: Status
    figure: float | None


@dataclass(frozen=True)
class CheckResult:
    """A check or gate, overall. For tenant checks `figure` is the worst assessed tenant's figure."""

    check: Check
    status: Status
    figure: float | None
    pass_share: float | None
    points: float
    points_lost: float
    tenants: Mapping[str, Assessment]
    detail: str = ""

    @property
    def name(self) -> str:
        return self.check.name

    def failing_tenants(self) -> list[str]:
        return sorted(t for t, o in self.tenants.items() if o.status is Status.FAIL)

    def no_data_tenants(self) -> list[str]:
        return sorted(t for t, o in self.tenants.items() if o.status is Status.NO_DATA)

    @property
    def target(self) -> str:
        """`≥ 95.00%`: the threshold in words and units."""
        symbol = {">=": "≥", ">": ">", "<=": "≤", "<": "<"}[self.check.comparison]
        return f"{symbol} {format_value(self.check.threshold, self.check.unit)}"

    @property
    def summary(self) -> str:
        """One plain-English line with the figure and threshold behind the status."""
        return f"{self.check.display_name}: {self.finding}"

    @property
    def finding(self) -> str:
        """The summary without the check's name, for a row that already leads with it."""
        c = self.check
        if c.scope == "platform" or not self.tenants:
            figure = "no data" if self.figure is None else format_value(self.figure, c.unit)
            if self.figure is not None:
                figure += c.over
            text = f"{figure} (target {self.target}): {self.status.value.replace('_', ' ')}"
        else:
            assessed = [o for o in self.tenants.values() if o.status in (Status.PASS, Status.FAIL)]
            passing = sum(o.status is Status.PASS for o in assessed)
            firms = f"client firm{'' if len(assessed) == 1 else 's'}"  # in words: "tenant" is the label's id
            text = f"{passing} of {len(assessed)} {firms} {self.target}"
            failing = self.failing_tenants()
            if failing:
                worst = ", ".join(
                    f"{name('tenant', t)} {format_value(self.tenants[t].figure, c.unit)}" for t in failing
                )
                text += f"; failing: {worst}"
            missing = self.no_data_tenants()
            if missing:
                text += f"; no data: {', '.join(name('tenant', t) for t in missing)}"
        if c.is_gate and self.status is Status.FAIL:
            text += f" (caps the score at {c.cap:g})"
        return text


@dataclass(frozen=True)
class SubScore:
    """A row of the per-domain or per-tenant table."""

    key: str
    score: float | None
    uncapped: float | None
    cap: float | None
    held_back_by: tuple[str, ...]
    statuses: Mapping[str, Status]
    coverage: float | None = None

    @property
    def holding_back(self) -> str | None:
        """The one name to show in a table cell (first after the alphabetical tie-break)."""
        return self.held_back_by[0] if self.held_back_by else None


@dataclass(frozen=True)
class ReadinessScore:
    score: float | None
    uncapped: float | None
    cap: float | None  # lowest cap among failed gates, binding or not
    capped_by: str | None  # the gate that lowered the score, if one did
    held_back_by: tuple[str, ...]
    coverage: float | None  # assessed weight / applicable weight: how much of the score rests on data
    checks: tuple[CheckResult, ...]
    gates: tuple[CheckResult, ...]
    domains: tuple[SubScore, ...]
    tenants: tuple[SubScore, ...]
    no_data: tuple[str, ...]
    at: datetime | None = None
    warnings: tuple[str, ...] = ()
    requests: int = 0

    @property
    def items(self) -> tuple[CheckResult, ...]:
        return self.checks + self.gates

    def result(self, name: str) -> CheckResult:
        for item in self.items:
            if item.name == name:
                return item
        raise KeyError(name)

    def tenant(self, tenant: str) -> SubScore:
        for row in self.tenants:
            if row.key == tenant:
                return row
        raise KeyError(tenant)

    def domain(self, domain: str) -> SubScore:
        for row in self.domains:
            if row.key == domain:
                return row
        raise KeyError(domain)


# -- evaluation --------------------------------------------------------------------------------------------


def _figure(check: Check, raw: object, where: str) -> Figure:
    if raw is None or raw is NOT_APPLICABLE:
        return raw
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise ValueError(f"readiness input {where}: expected a number, None or NOT_APPLICABLE, got {raw!r}")
    return None if math.isnan(raw) else float(raw)


def _outcome(check: Check, figure: Figure) -> Assessment:
    if figure is NOT_APPLICABLE:
        return Assessment(Status.NOT_APPLICABLE, None)
    if figure is None:
        return Assessment(Status.NO_DATA, None)
    assert isinstance(figure, float)
    return Assessment(Status.PASS if check.passes(figure) else Status.FAIL, figure)


def _overall_status(outcomes: Iterable[Assessment]) -> Status:
    statuses = {o.status for o in outcomes}
    for status in (Status.FAIL, Status.PASS, Status.NO_DATA):
        if status in statuses:
            return status
    return Status.NOT_APPLICABLE if statuses else Status.NO_DATA


def _worst(check: Check, outcomes: Iterable[Assessment]) -> float | None:
    figures = [o.figure for o in outcomes if o.figure is not None and o.status in (Status.PASS, Status.FAIL)]
    if not figures:
        return None
    return min(figures) if check.comparison in (">=", ">") else max(figures)


def _share(outcomes: Iterable[Assessment]) -> float | None:
    assessed = [o for o in outcomes if o.status in (Status.PASS, Status.FAIL)]
    if not assessed:
        return None
    return sum(o.status is Status.PASS for o in assessed) / len(assessed)


def _evaluate(
    definition: ReadinessDefinition, inputs: ReadinessInputs
) -> tuple[list[str], dict[str, Assessment], dict[str, dict[str, Assessment]]]:
    """Outcomes per item: platform ones in the first dict, {tenant: outcome} for tenant items next."""
    known = {c.name for c in definition.items}
    unknown = sorted(set(inputs.values) - known)
    if unknown:
        raise ValueError(f"readiness inputs name unknown checks: {', '.join(unknown)}")
    tenants = set(inputs.tenants)
    for check in definition.items:
        raw = inputs.values.get(check.name)
        if check.scope == "tenant" and raw is not None and not isinstance(raw, Mapping):
            raise ValueError(f"readiness input {check.name}: a tenant check needs {{tenant: figure}}")
        if check.scope == "platform" and isinstance(raw, Mapping):
            raise ValueError(
                f"readiness input {check.name}: a platform check needs one figure, not a mapping"
            )
        if isinstance(raw, Mapping):
            tenants.update(raw)
    ordered = sorted(tenants)
    platform: dict[str, Assessment] = {}
    per_tenant: dict[str, dict[str, Assessment]] = {}
    for check in definition.items:
        raw = inputs.values.get(check.name)
        if check.scope == "platform":
            platform[check.name] = _outcome(check, _figure(check, raw, check.name))
        else:
            given = raw if isinstance(raw, Mapping) else {}
            per_tenant[check.name] = {
                t: _outcome(check, _figure(check, given.get(t), f"{check.name}[{t}]")) for t in ordered
            }
    return ordered, platform, per_tenant


@dataclass(frozen=True)
class _Combined:
    score: float | None
    uncapped: float | None
    cap: float | None
    capped_by: str | None
    coverage: float | None
    points: dict[str, float]
    lost: dict[str, float]
    held_back_by: tuple[str, ...]


def _combine(
    weighted: Sequence[tuple[Check, float | None, Status]],
    gates: Sequence[tuple[Check, Status]],
    minimum_coverage: float,
) -> _Combined:
    """The score formula for any subset of checks: (check, share passing or None, status)."""
    applicable = sum(c.weight for c, _, status in weighted if status is not Status.NOT_APPLICABLE)
    assessed = [(c, s) for c, s, _ in weighted if s is not None]
    total = sum(c.weight for c, _ in assessed)
    coverage = total / applicable if applicable > 0 else None
    failed = sorted((g for g, status in gates if status is Status.FAIL), key=lambda g: (g.cap, g.name))
    cap = failed[0].cap if failed else None
    if total <= 0 or coverage is None or coverage < minimum_coverage:
        return _Combined(None, None, cap, None, coverage, {}, {}, ())
    points = {c.name: 100.0 * c.weight * s / total for c, s in assessed}
    lost = {c.name: 100.0 * c.weight * (1.0 - s) / total for c, s in assessed}
    uncapped = 100.0 * sum(c.weight * s for c, s in assessed) / total
    final, capped_by = uncapped, None
    if cap is not None and cap < uncapped:
        final, capped_by = cap, failed[0].name
        points[capped_by] = cap - uncapped
        lost[capped_by] = uncapped - cap
    return _Combined(final, uncapped, cap, capped_by, coverage, points, lost, _held_back(lost))


def _held_back(lost: Mapping[str, float]) -> tuple[str, ...]:
    worst = max(lost.values(), default=0.0)
    if worst <= EPSILON:
        return ()
    return tuple(sorted(name for name, value in lost.items() if worst - value <= EPSILON))


def score(
    definition: ReadinessDefinition, inputs: ReadinessInputs | Mapping[str, Figure | Mapping[str, Figure]]
) -> ReadinessScore:
    """Score `inputs` against `definition` (see the module docstring for the rules). Pure; no I/O."""
    if not isinstance(inputs, ReadinessInputs):
        inputs = ReadinessInputs(values=dict(inputs))
    tenants, platform, per_tenant = _evaluate(definition, inputs)

    def outcomes(check: Check) -> list[Assessment]:
        return [platform[check.name]] if check.scope == "platform" else list(per_tenant[check.name].values())

    share = {c.name: _share(outcomes(c)) for c in definition.checks}
    status = {c.name: _overall_status(outcomes(c)) for c in definition.items}
    least = definition.minimum_coverage
    overall = _combine(
        [(c, share[c.name], status[c.name]) for c in definition.checks],
        [(g, status[g.name]) for g in definition.gates],
        least,
    )

    def result(check: Check) -> CheckResult:
        return CheckResult(
            check=check,
            status=status[check.name],
            figure=_worst(check, outcomes(check)),
            pass_share=share.get(check.name),
            points=overall.points.get(check.name, 0.0),
            points_lost=overall.lost.get(check.name, 0.0),
            tenants=dict(per_tenant.get(check.name, {})),
            detail=inputs.details.get(check.name, ""),
        )

    domains = []
    for domain in DOMAINS:
        checks = [c for c in definition.checks if c.domain == domain]
        if not checks:
            continue
        gates = [(g, status[g.name]) for g in definition.gates if g.domain == domain]
        combined = _combine([(c, share[c.name], status[c.name]) for c in checks], gates, least)
        statuses = {c.name: status[c.name] for c in checks} | {g.name: s for g, s in gates}
        domains.append(_sub(domain, combined, statuses))

    rows = []
    for tenant in tenants:

        def mine(check: Check, tenant: str = tenant) -> Assessment:
            return platform[check.name] if check.scope == "platform" else per_tenant[check.name][tenant]

        statuses = {c.name: mine(c).status for c in definition.items}
        weighted = [(c, _share([mine(c)]), mine(c).status) for c in definition.checks]
        combined = _combine(weighted, [(g, statuses[g.name]) for g in definition.gates], least)
        rows.append(_sub(tenant, combined, statuses))

    return ReadinessScore(
        score=overall.score,
        uncapped=overall.uncapped,
        cap=overall.cap,
        capped_by=overall.capped_by,
        held_back_by=overall.held_back_by,
        coverage=overall.coverage,
        checks=tuple(result(c) for c in definition.checks),
        gates=tuple(result(g) for g in definition.gates),
        domains=tuple(domains),
        tenants=tuple(rows),
        no_data=tuple(c.name for c in definition.items if status[c.name] is Status.NO_DATA),
        at=inputs.at,
        warnings=tuple(inputs.warnings),
        requests=inputs.requests,
    )


def _sub(key: str, combined: _Combined, statuses: Mapping[str, Status]) -> SubScore:
    return SubScore(
        key,
        combined.score,
        combined.uncapped,
        combined.cap,
        combined.held_back_by,
        dict(statuses),
        combined.coverage,
    )

"""The weekly review of one ISO week, from the modules that compute each figure for the other pages.

Nothing here computes a figure a second way. The review is taken at `at`: the week's end (Monday 00:00 UTC),
or, for the week in progress, the page's now.

- Headlines: the overview's (`app.overview.load` at `at`: readiness and SLOs by state against a week
  earlier), plus the error budget spent this week by the worst SLO against the week before.
- SLO compliance this week: each SLO's calendar-week row of `compliance_history` (the SLO detail page's
  weekly compliance: SLI, objective met, events), and its budget spent in the week, the week's bad events
  over the bad events its objective allows (`slo.math.burn_rate` of the week). A domain's figure is its
  worst SLO's, as a domain's state is its worst SLO's.
- Alerts: when each SLO's alerts held in the week, evaluated from its burn rates (`burn_rate_history`,
  `alert_history`, as the SLO detail page does) every `history_step` (30 minutes for a week).
- Incidents overlapping the week (`queries/report.yaml`) with the SLOs whose alerts fired during them.
- Readiness: the Readiness page's view at `at`; its newest week of "what moved" is this week's movement.
- Deadlines in the next four weeks (the overview's rows: entities due and ready).
- Security: the Security page's posture over this week and over the week before, compared.
- Acceptance scorecard: the Scorecard page over the week (`app.scorecard.view.load` at `at`, a week's
  window) against the week before, and what moved (`changes`, `comparison_gaps`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

import pandas as pd

from app import overview, queries, security
from app.incidents import frame as incident_frame
from app.readiness import view as readiness_view
from app.report.weeks import WEEK, IsoWeek
from app.scorecard import view as scorecard_view
from app.slo import math as slo_math
from app.slo import view as slo_view
from app.slo.history import alert_history, burn_rate_history, compliance_history, firing_spans, history_step
from app.slo.model import DOMAIN_TITLES, SloDefinition
from app.slo.status import SloStatus, unknown
from app.sources import Sources
from app.sources.cache import Outcome, ResultCache, default_cache
from app.sources.concurrent import fetch_all
from app.text import plain
from app.timerange import time_range
from app.times import to_utc
from app.units import counted, format_seconds

LIVE_TTL_S = 60.0  # the week in progress moves with the clock
DONE_TTL_S = 3600.0  # a week that is over does not change
DEADLINE_DAYS = 28


def review_time(week: IsoWeek, now: datetime) -> datetime:
    """When the review of `week` is taken: its end once it is over, else `now` (the week so far)."""
    return min(week.end, to_utc(now).replace(second=0, microsecond=0))


def available(week: IsoWeek, now: datetime) -> bool:
    """Whether `week` has begun at `now` (a week to come has nothing to review)."""
    return week.start <= to_utc(now)


# -- the figures -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WeekFigures:
    """One SLO over one calendar week: a `compliance_history` row."""

    sli: float | None
    met: bool | None
    total: float
    bad: float
    target: float

    @property
    def spent(self) -> float | None:
        """The week's budget spent: its bad events over those the objective allows (1 = exactly on
        budget); None without events."""
        return slo_math.burn_rate(slo_math.error_ratio(self.bad, self.total), self.target)


@dataclass(frozen=True)
class SloWeek:
    status: SloStatus  # at the review's time: state and budget left over the SLO's own period
    week: WeekFigures | None  # None: not fetched (see `error`)
    previous: WeekFigures | None
    error: str | None = None

    @property
    def definition(self) -> SloDefinition:
        return self.status.definition

    @property
    def title(self) -> str:
        return self.definition.display_name or self.definition.name

    @property
    def spent(self) -> float | None:
        return self.week.spent if self.week else None

    @property
    def previous_spent(self) -> float | None:
        return self.previous.spent if self.previous else None


def worst_spent_first(rows: Sequence[SloWeek]) -> list[SloWeek]:
    """Most budget spent this week first; SLOs without figures last (never ranked as the best)."""
    return sorted(rows, key=lambda r: (r.spent is None, -(r.spent or 0.0), r.definition.name))


@dataclass(frozen=True)
class DomainWeek:
    domain: str
    title: str
    page: str  # the `app.links` key of its page
    state: str  # the overview's tile state at the review's time
    slos: tuple[SloWeek, ...]  # worst first

    @property
    def worst(self) -> SloWeek | None:
        """The SLO that spent most of its budget this week; None when none has figures."""
        return next((s for s in self.slos if s.spent is not None), None)

    @property
    def spent(self) -> float | None:
        return self.worst.spent if self.worst else None

    @property
    def previous_spent(self) -> float | None:
        spent = [s.previous_spent for s in self.slos if s.previous_spent is not None]
        return max(spent) if spent else None

    @property
    def met(self) -> tuple[int, int]:
        """(SLOs that met their objective this week, SLOs with figures)."""
        known = [s for s in self.slos if s.week is not None and s.week.met is not None]
        return sum(1 for s in known if s.week and s.week.met), len(known)

    @property
    def missing(self) -> list[SloWeek]:
        return [s for s in self.slos if s.spent is None]


@dataclass(frozen=True)
class FiredAlert:
    slo: str  # name
    title: str
    alert: str
    severity: str
    start: datetime  # the first evaluation at which it held
    end: datetime  # the last one plus one step: when it was last seen holding
    at_week_start: bool  # already holding at the week's first evaluation
    at_review: bool  # still holding at the review's time

    @property
    def duration(self) -> timedelta:
        return self.end - self.start


@dataclass(frozen=True)
class WeekIncident:
    title: str
    start: datetime
    end: datetime | None  # None: ongoing at the review's time
    services: tuple[str, ...]
    slos_hit: tuple[str, ...]  # titles of the SLOs whose alerts held during it

    @property
    def duration(self) -> timedelta | None:
        return None if self.end is None else self.end - self.start


@dataclass(frozen=True)
class SecurityWeek:
    now: security.Posture | None  # over the week
    before: security.Posture | None  # over the week before
    changes: tuple[str, ...]  # checks whose state changed
    overdue: tuple[str, ...]  # secrets past their rotation limit at the week's end
    bursts: tuple[str, ...]  # addresses over the policy's failed sign-ins


@dataclass(frozen=True)
class WeeklyReview:
    week: IsoWeek
    at: datetime
    headlines: list[overview.Headline]
    domains: list[DomainWeek]
    slos: list[SloWeek]  # most budget spent this week first
    alerts: list[FiredAlert]
    alert_step: timedelta
    incidents: list[WeekIncident]
    readiness: readiness_view.ReadinessView | None
    deadlines: list[overview.DeadlineRow]
    security: SecurityWeek
    scorecard: scorecard_view.Scorecard | None  # over the week, with the week before as its `previous`
    outcomes: Mapping[str, Outcome[Any]] = field(repr=False)
    unknown_note: str | None = None

    @property
    def complete(self) -> bool:
        """The week is over: the review holds all of it."""
        return self.at >= self.week.end

    @property
    def incidents_known(self) -> bool:
        """Whether the incident list was read: an empty list is "no incident" only then."""
        return self.outcomes["incidents"].value is not None

    @property
    def alerts_known(self) -> bool:
        """Whether every SLO's alerts were evaluated: an empty list is "no alert" only then."""
        return all(o.value is not None for k, o in self.outcomes.items() if k.startswith("alerts "))

    @property
    def readiness_week(self) -> readiness_view.WeekMoves | None:
        """The readiness score at the review's time against a week earlier, and what moved it."""
        if self.readiness is None:
            return None
        moves = readiness_view.weekly_moves(self.readiness)
        return moves[0] if moves else None

    @property
    def problems(self) -> list[tuple[str, Outcome[Any]]]:
        """Every failed fetch with its backend, for `ui.show_problems`."""
        found: list[tuple[str, Outcome[Any]]] = []
        for name, outcome in self.outcomes.items():
            if outcome.error is None:
                continue
            found.append(("opensearch" if name == "incidents" else "prometheus", outcome))
        view: overview.Overview | None = self.outcomes["overview"].value
        found += view.problems if view else []
        found += self.readiness.problems if self.readiness else []
        for posture in (self.security.now, self.security.before):
            found += posture.problems if posture else []
        found += self.scorecard.problems if self.scorecard else []
        return found

    @cached_property
    def scorecard_changes(self) -> list[scorecard_view.Change]:
        """What moved on the scorecard since the week before, worse first (computed once)."""
        card = self.scorecard
        return scorecard_view.changes(card.previous, card) if card else []

    @cached_property
    def scorecard_gaps(self) -> str | None:
        """Why `scorecard_changes` may miss a move (criteria without a figure in one of the weeks)."""
        card = self.scorecard
        return scorecard_view.comparison_gaps(card.previous, card) if card else None

    @property
    def unknown_slos(self) -> list[SloWeek]:
        return [s for s in self.slos if s.week is None]


# -- loading ---------------------------------------------------------------------------------------------


def _figures(row: pd.Series | None) -> WeekFigures | None:
    if row is None:
        return None
    sli = None if pd.isna(row["sli"]) else float(row["sli"])
    met = None if row["met"] is None or pd.isna(row["met"]) else bool(row["met"])
    return WeekFigures(sli, met, float(row["total"]), float(row["bad"]), float(row["target"]))


def week_compliance(
    definition: SloDefinition, prom: Any, week: IsoWeek, at: datetime
) -> tuple[WeekFigures | None, WeekFigures | None]:
    """(this week, the week before) from the SLO detail page's weekly compliance, taken at `at`."""
    current = slo_math.calendar_start(at, "week")
    weeks = (current - week.previous().start) // WEEK + 1
    frame = compliance_history(definition, prom, at, weeks=weeks, months=1)
    rows = frame[frame["unit"] == "week"]

    def row(start: datetime) -> pd.Series | None:
        found = rows[rows["start"] == start]
        return None if found.empty else found.iloc[0]

    return _figures(row(week.start)), _figures(row(week.previous().start))


def alert_step(start: datetime, end: datetime) -> timedelta:
    """How often alerts are evaluated over the week: the SLO detail page's step for that span."""
    return timedelta(seconds=history_step(start, end))


def fired_alerts(definition: SloDefinition, prom: Any, start: datetime, at: datetime) -> list[FiredAlert]:
    """The SLO's alerts that held at some evaluation in [start, at], from its burn rates."""
    step = alert_step(start, at)
    burns = burn_rate_history(definition, prom, start, at, step=int(step.total_seconds()))
    title = definition.display_name or definition.name
    found = []
    for span in firing_spans(alert_history(definition, burns)).itertuples():
        first, last = span.start.to_pydatetime(), span.end.to_pydatetime()
        found.append(
            FiredAlert(
                definition.name,
                title,
                str(span.alert),
                str(span.severity),
                first,
                min(last + step, at),
                first <= start,
                last >= at,
            )
        )
    return found


def incidents_of(
    result: Any, alerts: Sequence[FiredAlert], statuses: Sequence[SloStatus], at: datetime
) -> list[WeekIncident]:
    """The week's incidents (an end after the review's time is not known yet: ongoing), each with the SLOs
    of its services whose alerts held while it lasted."""
    service_of = {s.name: s.service for s in statuses}
    rows = []
    for _, row in incident_frame(result).iterrows():
        start = row["start"].to_pydatetime()
        if start >= at:
            continue
        end = None if row["ongoing"] or row["end"] > at else row["end"].to_pydatetime()
        until = end or at
        hit = {
            a.title
            for a in alerts
            if service_of.get(a.slo) in row["services"] and a.start <= until and a.end >= start
        }
        rows.append(WeekIncident(str(row["title"]), start, end, tuple(row["services"]), tuple(sorted(hit))))
    return rows


def security_week(now: security.Posture | None, before: security.Posture | None) -> SecurityWeek:
    """What changed in the security posture from the week before to this week: checks that changed state,
    secrets overdue at the week's end, and addresses with more failed sign-ins than the policy allows."""
    changes: list[str] = []
    if now is not None and before is not None:
        was = {c.name: c for c in before.checks}
        for check in now.checks:
            old = was.get(check.name)
            if old is not None and old.state != check.state:
                changes.append(f"{check.name}: {old.state} → {check.state}. {check.reason}")
    overdue: list[str] = []
    bursts: list[str] = []
    for check in now.checks if now else []:
        rows = check.detail
        if check.name == "Secrets rotation" and not rows.empty:
            for row in rows[rows["state"] == "failing"].itertuples():
                overdue.append(
                    f"{row.secret}: last rotated {row.age_days:.0f} days ago, "
                    f"{format_seconds(-row.days_left * 86400)} past its limit"
                )
        if check.name == "Sign-ins" and not rows.empty and "failures" in rows.columns:
            limit = security.load_policy().max_failures_from_one_source
            for row in rows[rows["failures"] > limit].itertuples():
                bursts.append(
                    f"{row.source_ip}: {row.failures:,} failed sign-ins, "
                    f"{row.first:%a %d %b %H:%M}–{row.last:%H:%M} UTC (limit {limit:,} from one address)"
                )
    return SecurityWeek(now, before, tuple(changes), tuple(overdue), tuple(bursts))


def budget_headline(slos: Sequence[SloWeek], week: IsoWeek) -> overview.Headline:
    """The most error budget any SLO spent this week, against the most the week before."""
    now = next((s for s in worst_spent_first(slos) if s.spent is not None), None)
    before = [s for s in slos if s.previous_spent is not None]
    previous = max(before, key=lambda s: s.previous_spent or 0.0) if before else None
    lines = [
        f"The most error budget one SLO spent in {week} (Monday to Monday, UTC): its bad events over those "
        "its objective allows for the week's events (100% is exactly on budget), from the SLO's weekly "
        "compliance (the SLO page's).",
    ]
    if now is not None:
        lines.append(f"\n- This week: {plain(now.title)}, {now.spent:.0%}.")
    if previous is not None:
        lines.append(f"- The week before: {plain(previous.title)}, {previous.previous_spent:.0%}.")
    return overview.Headline(
        "budget",
        "Most budget spent",  # by one SLO; short enough for a sixth tile
        now.spent if now else None,
        previous.previous_spent if previous else None,
        "share",
        "\n".join(lines),
    )


def load(
    sources: Sources, week: IsoWeek, cache: ResultCache = default_cache, *, at: datetime | None = None
) -> WeeklyReview:
    """Everything the review shows, fetched at once (`at`: default `review_time`)."""
    at = to_utc(at) if at else review_time(week, sources.now())
    prom = sources.prometheus
    defs = slo_view.definitions().definitions
    tasks: dict[str, Any] = {
        "overview": lambda: overview.load(sources, at, cache, scorecard=False),  # not in the review
        "board": lambda: slo_view.load_board(sources, at, cache),
        "readiness": lambda: readiness_view.load(sources, at, cache),
        "incidents": lambda: sources.opensearch.search(
            "incidents", queries.render("report", "incidents", start=week.start, end=at)
        ),
        "security": lambda: security.load(sources, time_range("7d", at), cache, chart=False),
        "security_before": lambda: security.load(sources, time_range("7d", at - WEEK), cache, chart=False),
        "scorecard": lambda: scorecard_view.load(sources, at, WEEK, cache),
    }
    for d in defs:
        tasks[f"week {d.name}"] = lambda d=d: week_compliance(d, prom, week, at)
        tasks[f"alerts {d.name}"] = lambda d=d: fired_alerts(d, prom, week.start, at)
    out = fetch_all(
        tasks,
        cache=cache,
        ttl_s=DONE_TTL_S if at >= week.end else LIVE_TTL_S,
        budget_s=sources.run_budget_s,
        key_prefix=(sources.cache_key, "weekly_review", str(week)),
        window=at,
    )
    board: slo_view.SloBoard | None = out["board"].value
    if board is not None:
        statuses = board.statuses
    else:
        statuses = [unknown(d, at, out["board"].error or "not fetched") for d in defs]
    rows = []
    for status in statuses:
        weekly = out[f"week {status.name}"]
        this, before = weekly.value if weekly.value is not None else (None, None)
        error = str(weekly.error) if weekly.error is not None else None
        rows.append(SloWeek(status, this, before, error))
    slos = worst_spent_first(rows)
    alerts = sorted(
        (a for d in defs for a in out[f"alerts {d.name}"].value or []),
        key=lambda a: (a.start, a.slo, a.alert),
    )
    view: overview.Overview | None = out["overview"].value
    tiles = {t.domain: t for t in view.tiles} if view else {}
    domains = []
    for domain, (title, page) in overview.DOMAINS.items():
        mine = tuple(s for s in slos if s.definition.domain == domain)
        state = tiles[domain].state if domain in tiles else "no data"
        domains.append(DomainWeek(domain, title, page, state, mine))
    domains.sort(key=lambda d: (d.spent is None, -(d.spent or 0.0), d.domain))
    headlines = (view.headlines if view else []) + [budget_headline(slos, week)]
    return WeeklyReview(
        week=week,
        at=at,
        headlines=headlines,
        domains=domains,
        slos=slos,
        alerts=alerts,
        alert_step=alert_step(week.start, at),
        incidents=incidents_of(out["incidents"].value, alerts, statuses, at),
        readiness=out["readiness"].value,
        deadlines=[r for r in (view.deadlines if view else []) if r.deadline.days_left <= DEADLINE_DAYS],
        security=security_week(out["security"].value, out["security_before"].value),
        scorecard=out["scorecard"].value,
        outcomes=out,
        unknown_note=board.unknown_note if board else view.unknown_note if view else None,
    )


# -- what the page, the report and the summary share (pure) ------------------------------------------------


def format_duration(span: timedelta | None) -> str:
    """`4 h 0 min`, `35 min`, `2 days 3 h`; `ongoing` without an end."""
    if span is None:
        return "ongoing"
    minutes = round(span.total_seconds() / 60)
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{counted(days, 'day')} {hours} h"
    return f"{hours} h {mins} min" if hours else f"{mins} min"


def spent_text(value: float | None) -> str:
    return "no data" if value is None else f"{value:.0%}"


def slo_table(rows: Sequence[SloWeek]) -> pd.DataFrame:
    """One row per SLO, most budget spent this week first."""
    records = []
    for r in rows:
        week = r.week
        records.append(
            {
                "slo": r.title,
                "domain": DOMAIN_TITLES.get(r.definition.domain, r.definition.domain),
                "objective": r.definition.target,
                "sli": week.sli if week else None,
                "met": "no data" if week is None or week.met is None else ("met" if week.met else "missed"),
                "spent": r.spent,
                "previous": r.previous_spent,
                "state": r.status.state,
                "budget_left": r.status.error_budget_remaining,
                "slo_name": r.definition.name,
            }
        )
    columns = ["slo", "domain", "objective", "sli", "met", "spent", "previous", "state", "budget_left"]
    return pd.DataFrame(records, columns=[*columns, "slo_name"])


def domain_table(domains: Sequence[DomainWeek]) -> pd.DataFrame:
    records = []
    for d in domains:
        met, known = d.met
        records.append(
            {
                "domain": d.title,
                "spent": d.spent,
                "previous": d.previous_spent,
                "worst_slo": d.worst.title if d.worst else "no data",
                "met": f"{met} of {known}" + (f" ({len(d.missing)} no data)" if d.missing else ""),
                "state": d.state,
            }
        )
    return pd.DataFrame(records, columns=["domain", "spent", "previous", "worst_slo", "met", "state"])


def alert_table(alerts: Sequence[FiredAlert]) -> pd.DataFrame:
    records = [
        {
            "slo": a.title,
            "alert": a.alert,
            "severity": a.severity,
            "start": a.start,
            "duration": ("≥ " if a.at_week_start or a.at_review else "") + format_duration(a.duration),
            "still_firing": a.at_review,
        }
        for a in alerts
    ]
    return pd.DataFrame(records, columns=["slo", "alert", "severity", "start", "duration", "still_firing"])


def incident_table(incidents: Sequence[WeekIncident]) -> pd.DataFrame:
    records = [
        {
            "incident": i.title,
            "start": i.start,
            "duration": format_duration(i.duration),
            "services": ", ".join(i.services),
            "slos_hit": ", ".join(i.slos_hit) or "none alerted",
        }
        for i in incidents
    ]
    return pd.DataFrame(records, columns=["incident", "start", "duration", "services", "slos_hit"])


def alert_note(review: WeeklyReview) -> str:
    """How alerts were found, in a sentence (their times are as good as the step)."""
    step = format_seconds(review.alert_step.total_seconds())
    return (
        f"Alerts as the SLO page evaluates them, from each SLO's burn rates every {step}: an alert that held "
        "for less than that may not show. “≥” marks one that was already firing when the week began or "
        "still firing at its end."
    )

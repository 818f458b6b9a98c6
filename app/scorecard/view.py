"""The acceptance scorecard at an instant: every criterion of `slo_definitions/acceptance.yaml` with its
target, its figure, its verdict, and its trend (the same criterion one window earlier).

- `load(sources, at, window)`: the figures asked of Prometheus at `at` (rates over `window`), the security
  controls from `app.controls.view` (the same view, cache and verdicts as the Security page);
- `changes(before, after)`: what moved between two instants (the page's trend, the weekly review), and
  `comparison_gaps`: which criteria it cannot judge.

Observability coverage is the Observability coverage page's share (`app.coverage.view`, without its trend):
"no data" when no service could be judged, with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from app import queries
from app.controls import definition as controls_definition
from app.controls import view as controls_view
from app.controls.definition import ControlsError
from app.coverage import view as coverage_view
from app.scorecard import criteria
from app.scorecard.definition import DEFAULT_PATH, AcceptanceError, acceptance
from app.sources import Sources
from app.sources.cache import Outcome, ResultCache, default_cache
from app.sources.concurrent import fetch_all
from app.sources.errors import plain_reason
from app.timerange import PRESETS, TimeRange

GROUP = "scorecard"
TTL_S = 60.0
COVERAGE_UNKNOWN = "no service's coverage could be judged (its backends did not answer in time)"


@dataclass(frozen=True)
class Scorecard:
    at: datetime
    window: timedelta
    criteria: list[criteria.Criterion]
    previous: Scorecard | None  # the same criteria one window earlier (None: not asked, or not loaded)
    security: controls_view.ControlsView | None
    outcomes: dict[str, Outcome[Any]] = field(repr=False)
    definition_errors: tuple[str, ...] = ()

    @property
    def problems(self) -> list[tuple[str, Outcome[Any]]]:
        own = [
            ("prometheus", o) for k, o in self.outcomes.items() if o.error is not None and k.startswith("q ")
        ]
        coverage = self.outcomes.get("coverage")
        covered = coverage.value.problems if coverage is not None and coverage.value is not None else []
        return own + (self.security.problems if self.security else []) + covered

    def counts(self) -> dict[str, int]:
        return {v: sum(1 for c in self.criteria if c.verdict == v) for v in criteria.VERDICTS}

    @property
    def summary(self) -> str:
        """ "9 of 19 criteria met; 8 not met, 2 no data." """
        n = self.counts()
        met = f"{n['met']} of {len(self.criteria)} criteria met"
        return f"{met}; {n['not met']} not met, {n['no data']} no data."


def time_window(at: datetime, window: timedelta) -> TimeRange:
    """The range ending at `at`, named by its preset when it is one (`24h`), else in seconds (`3600s`)."""
    preset = next((k for k, v in PRESETS.items() if v == window), f"{int(window.total_seconds())}s")
    return TimeRange(preset, at - window, at)


def _queries(pipeline: str, test: str, window: timedelta) -> dict[str, str]:
    with_window = {"pipeline": pipeline, "window": window}
    params: dict[str, dict[str, Any]] = {
        "ci_runs": with_window,
        "ci_median_duration": with_window,
        "ci_blocking": {"pipeline": pipeline},
        "load_p95": {"test": test},
        "load_age": {"test": test},
    }
    names = [n for _, n in queries.catalogue().names(GROUP)]
    return {n: queries.render(GROUP, n, **params.get(n, {})) for n in names}


def coverage_figure(view: coverage_view.CoverageView | None) -> tuple[float | None, str]:
    """The share of services fully observed, and why when unknown (see the module note)."""
    if view is not None and view.definition_errors:
        return None, "; ".join(view.definition_errors)
    share = view.share if view is not None else None
    return share, "" if share is not None else COVERAGE_UNKNOWN


def control_titles() -> dict[str, str]:
    """Each security control's title by its id, from the controls file (parsed once per change); empty
    when the file is invalid (the Security page says why)."""
    try:
        return {c.id: c.title for c in controls_definition.controls().controls}
    except ControlsError:
        return {}


def load(
    sources: Sources,
    at: datetime,
    window: timedelta,
    cache: ResultCache = default_cache,
    *,
    trend: bool = True,
    path: Path = DEFAULT_PATH,
) -> Scorecard:
    """The scorecard at `at` (floored to the minute, as a page's range ends) with rates over `window` and,
    with `trend`, the same one window earlier."""
    at = at.replace(second=0, microsecond=0)
    try:
        a = acceptance(path)
    except AcceptanceError as exc:
        return Scorecard(at, window, [], None, None, {}, exc.problems)
    prom = sources.prometheus
    # The views with round trips of their own first: the pool starts tasks in this order, a few at a time.
    tasks: dict[str, Any] = {
        "controls": lambda: controls_view.load(sources, time_window(at, window), cache, chart=False),
        "coverage": lambda: coverage_view.load(sources, at, cache, trend=False),
    }
    if trend:
        tasks["previous"] = lambda: load(sources, at - window, window, cache, trend=False, path=path)
    tasks |= {
        f"q {name}": (lambda text=text: prom.instant(text, at))
        for name, text in _queries(a.pipeline, a.load_test, window).items()
    }
    out = fetch_all(
        tasks,
        cache=cache,
        ttl_s=TTL_S,
        budget_s=sources.run_budget_s,
        key_prefix=(sources.cache_key, GROUP, int(window.total_seconds()), trend),
        window=at,
    )
    answers = {
        k[2:]: criteria.Answer(
            o.value.frame if o.value is not None else None, plain_reason(o.error) if o.error else None
        )
        for k, o in out.items()
        if k.startswith("q ")
    }
    view: controls_view.ControlsView | None = out["controls"].value
    coverage, why = coverage_figure(out["coverage"].value)
    unknown = "the security controls could not be loaded in time"
    found = (
        criteria.ci(a, answers, window)
        + criteria.tests(a, answers)
        + criteria.golden(a, answers)
        + criteria.chaos(a, answers)
        + [criteria.load(a, answers), criteria.observability(a, coverage, why)]
        + criteria.security(
            a,
            view.grade if view else None,
            {s.control.id: s for s in view.statuses} if view else {},
            "; ".join(view.definition_errors) if view and view.definition_errors else unknown,
            control_titles(),
        )
    )
    previous = out["previous"].value if trend else None
    return Scorecard(at, window, found, previous, view, out)


# -- trends and changes ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    key: str
    area: str
    title: str
    before: str  # figure one window earlier
    after: str  # figure now
    verdict_before: str
    verdict_after: str
    direction: str  # "better", "worse" or "changed" (no better way): never "same" nor "not known"

    @property
    def text(self) -> str:
        verdicts = (
            f" ({self.verdict_before} → {self.verdict_after})"
            if self.verdict_before != self.verdict_after
            else ""
        )
        named = self.title if self.title.startswith(f"{self.area}:") else f"{self.area} · {self.title}"
        return f"{named}: {self.before} → {self.after}{verdicts}."


DIRECTIONS = ("worse", "changed", "better", "not known", "same")  # the order moves are listed in


def direction(before: criteria.Criterion | None, after: criteria.Criterion) -> str:
    """Which way a criterion moved: "not known" when it has no figure at either instant (two missing
    figures are not "the same"), else by its verdict first, then by its value (`better` says which way is
    good); "same" only when two figures were had and neither they, as shown, nor the verdicts moved."""
    if before is None or "no data" in (before.verdict, after.verdict):
        return "not known"
    rank = criteria.VERDICTS.index
    if before.verdict != after.verdict:
        return "better" if rank(after.verdict) > rank(before.verdict) else "worse"
    if before.figure == after.figure:  # a move smaller than the figure shows is not one ("13 min → 13 min")
        return "same"
    if before.value is None or after.value is None or after.value == before.value:
        return "changed"
    if after.better == "either":
        return "changed"
    up = after.value > before.value
    return "better" if up == (after.better == "higher") else "worse"


def _directions(
    before: Scorecard | None, after: Scorecard
) -> list[tuple[criteria.Criterion | None, criteria.Criterion, str]]:
    was = {c.key: c for c in before.criteria} if before else {}
    return [(was.get(c.key), c, direction(was.get(c.key), c)) for c in after.criteria]


def changes(before: Scorecard | None, after: Scorecard) -> list[Change]:
    """The criteria whose figure or verdict was seen to move from `before` to `after`, worse first. A
    criterion without a figure at either instant is not here: `comparison_gaps` names it."""
    out = [
        Change(c.key, c.area, c.title, old.figure, c.figure, old.verdict, c.verdict, moved)
        for old, c, moved in _directions(before, after)
        if old is not None and moved not in ("same", "not known")
    ]
    return sorted(out, key=lambda ch: DIRECTIONS.index(ch.direction))


def comparison_gaps(before: Scorecard | None, after: Scorecard) -> str | None:
    """Why `changes(before, after)` may miss a move: the criteria whose direction is "not known" (no figure
    at one of the two instants), in words; None when there are none (only then is an empty list "nothing
    moved")."""
    if before is None and after.criteria:
        return "The figures a window earlier could not be loaded, so what moved is not known."
    blind = [c.title for _, c, moved in _directions(before, after) if moved == "not known"]
    if not blind:
        return None
    return (
        f"{len(blind)} of {len(after.criteria)} criteria have no figure now or a window earlier "
        f"({', '.join(blind)}), so whether they moved is not known."
    )


def trend_table(card: Scorecard) -> pd.DataFrame:
    """The scorecard as the page's table: area, criterion, target, figure now, the figure one window earlier
    and which way it moved, verdict."""
    was = {c.key: c for c in card.previous.criteria} if card.previous else {}
    return pd.DataFrame(
        [
            {
                "area": c.area,
                "criterion": c.title,
                "target": c.target,
                "now": c.figure,
                "before": was[c.key].figure if c.key in was else "no data",
                "trend": direction(was.get(c.key), c),
                "verdict": c.verdict,
            }
            for c in card.criteria
        ],
        columns=["area", "criterion", "target", "now", "before", "trend", "verdict"],
    )

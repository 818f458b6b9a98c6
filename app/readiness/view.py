"""What the Filing readiness page shows: the score now, its 12-week trend and what moved it, cached.

The score itself is `app.readiness` (pure, tested on its own); this module only fetches and arranges:

- `load(sources, at)`: the score at `at` with the filing SLOs' states (from `app.slo.view.load_board`, the
  SLO pages' own cached board), and the score at each of the 11 earlier week ends (same instant, 1..11
  weeks back) with the filing SLOs' states at those times. Both run at once through `fetch_all`, cached in
  `ResultCache` under (mode, Prometheus URL, time). The trend's last point *is* the current score, so the
  chart and the headline can never disagree.
- Pure helpers that turn a loaded view into sentences and tables for the page (no Streamlit here).

Prometheus failures: `gather_inputs` turns a failed query into "no data" for its check. That is right for
one rejected query, but when Prometheus is down every check would quietly become "no data" and be cached
as a good answer. So the loader watches the client: if Prometheus was unavailable (or every query failed),
it raises the backend's error, and the cache serves the last good score marked stale, with a banner.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from app import directory, queries
from app.filecache import FileCache
from app.readiness import (
    DEFAULT_PATH,
    NOT_APPLICABLE,
    RULES,
    CheckResult,
    ReadinessDefinition,
    ReadinessDefinitionError,
    ReadinessInputs,
    ReadinessScore,
    Status,
    SubScore,
    Trend,
    format_points,
    gather_inputs,
    load_definition,
    score,
    week_ends,
    weekly_trend,
    what_moved,
)
from app.slo import view as slo_view
from app.slo.model import DOMAIN_TITLES
from app.sources import Sources
from app.sources.cache import Outcome, ResultCache, default_cache
from app.sources.concurrent import fetch_all
from app.sources.counting import CountingClient
from app.sources.deadline import ContextPool
from app.sources.errors import BackendError, BackendUnavailable
from app.sources.prometheus import QueryResult
from app.times import start_of_hour, to_utc
from app.units import format_value

TTL_S = 60.0
HEADLINE_LABEL = "Filing readiness score"
TREND_WEEKS = 12
FILING_DOMAIN = "filing"
SLO_WORKERS = 4
_definitions = FileCache(load_definition)  # parsed once, again when the file changes

SloStates = Mapping[str, str] | None
SloStatesAt = Callable[[datetime], SloStates]

STATUS_LABELS = {  # words, not emoji: a meeting-room browser may have no emoji font
    Status.PASS: "pass",
    Status.FAIL: "fail",
    Status.NOT_APPLICABLE: "not applicable",
    Status.NO_DATA: "no data",
}
STATUS_COLOURS = {
    Status.PASS: "#3A8F5C",
    Status.FAIL: "#C44E52",
    Status.NOT_APPLICABLE: "#5F6B7A",
    Status.NO_DATA: "#9AA5B1",
}

# -- loading -----------------------------------------------------------------------------------------------


class _Watched(CountingClient):
    """Counts the Prometheus requests (CountingClient) and remembers the backend errors they raised."""

    def __init__(self, prom: Any) -> None:
        super().__init__(prom)
        self.errors: list[BackendError] = []

    def instant(self, query: str, at: datetime | None = None) -> Any:
        try:
            return super().instant(query, at)
        except BackendError as exc:
            with self._lock:
                self.errors.append(exc)
            raise

    def raise_if_down(self) -> None:
        """Prometheus did not answer (or answered nothing at all): the caller must not cache no data."""
        for error in self.errors:
            if isinstance(error, BackendUnavailable):
                raise error
        if self.errors and len(self.errors) == self.requests:
            raise self.errors[0]


def filing_states(statuses: Sequence[Any]) -> dict[str, str]:
    """{SLO name: state} of the filing-domain SLOs among `statuses` (SloStatus-like: .domain/.name/.state)."""
    return {s.name: s.state for s in statuses if s.domain == FILING_DOMAIN}


def current_slo_states(sources: Sources, at: datetime, cache: ResultCache) -> tuple[SloStates, Outcome]:
    """The filing SLOs' states at `at` from the SLO board (shared with the SLO pages' cache).

    None (unknown, so the SLO checks have no data) when the board could not be computed; a stale board is
    not used: last hour's states must not stand for now.
    """
    board = slo_view.load_board(sources, at, cache)
    if board.outcome.error is not None or board.outcome.value is None:
        return None, board.outcome
    return filing_states(board.statuses), board.outcome


def past_slo_states(sources: Sources, at: datetime, cache: ResultCache) -> SloStates:
    """The filing SLOs' states at a past week end (`slo_view.past_statuses`: computed once for this
    page and the overview's week-ago board)."""
    filing = [d for d in slo_view.definitions().definitions if d.domain == FILING_DOMAIN]
    try:
        return filing_states(slo_view.past_statuses(sources, filing, at, cache))
    except BackendError:
        return None


@dataclass(frozen=True)
class Evaluation:
    """The score at one time and the inputs it was computed from (the page's "where from" panel)."""

    inputs: ReadinessInputs
    score: ReadinessScore
    slo_states: SloStates


def evaluate(
    definition: ReadinessDefinition, prom: Any, at: datetime, slo_states: Callable[[], SloStates]
) -> Evaluation:
    """gather_inputs + score, the filing SLO states (the SLO board: three round trips of its own) fetched
    while the checks' queries run; raises the backend's error when Prometheus is down (module docstring)."""
    with ContextPool(max_workers=1, thread_name_prefix="readiness-states") as pool:
        states = pool.submit(slo_states)
        watched = _Watched(prom)
        inputs = gather_inputs(definition, watched, at, states.result)
    watched.raise_if_down()
    return Evaluation(inputs, score(definition, inputs), states.result())


def first_data(prom: Any, at: datetime) -> datetime | None:
    """When readiness data starts (None: none in the trend's span), so that week ends before Prometheus's
    retention cost no queries: with 30 days kept, 8 of the 11 earlier weeks would only answer "no data"."""
    result = prom.instant(queries.render("readiness", "first_data"), at)
    if result.frame.empty:
        return None
    return datetime.fromtimestamp(float(result.frame["value"].iloc[0]), tz=UTC) - timedelta(days=1)


class _NoData:
    """Answers every query with nothing: how week ends before the first data are scored, without asking."""

    def instant(self, query: str, at: datetime | None = None) -> QueryResult:
        return QueryResult(pd.DataFrame({"value": pd.Series([], dtype="float64")}))


def trend_times(at: datetime) -> list[datetime]:
    """The trend's instants, oldest first: the start of the hour 11 … 1 weeks before `at` (as the overview's
    week-ago comparison, `overview.week_earlier`, so both share the SLO states computed there, kept an
    hour), then `at` itself."""
    return [*week_ends(start_of_hour(at), TREND_WEEKS)[:-1], at]


def earlier_weeks(definition: ReadinessDefinition, prom: Any, at: datetime, states_at: SloStatesAt) -> Trend:
    """The score at each of the TREND_WEEKS - 1 week ends before `at`, oldest first. Week ends before the
    first readiness data score "no data" without a query (Prometheus keeps 30 days; the trend is 12 weeks)."""
    times = trend_times(at)[:-1]
    first = first_data(prom, times[-1])
    empty = [t for t in times if first is None or t < first]
    asked = [t for t in times if t not in empty]
    points: list[ReadinessScore] = []
    if empty:
        points += weekly_trend(definition, _NoData(), empty[-1], len(empty), lambda _: None).points
    requests = 1
    if asked:
        # The SLO states and the checks' own queries do not depend on each other: both run at once, and
        # each week waits for its states only when it is scored.
        with ContextPool(max_workers=SLO_WORKERS, thread_name_prefix="readiness-slo") as pool:
            states = {t: pool.submit(states_at, t) for t in asked}
            watched = _Watched(prom)
            trend = weekly_trend(definition, watched, asked[-1], len(asked), lambda t: states[t].result())
        watched.raise_if_down()
        points += trend.points
        requests += trend.requests
    return Trend(tuple(points), requests)


@dataclass(frozen=True)
class ReadinessView:
    at: datetime
    definition: ReadinessDefinition | None
    current: Outcome[Evaluation]
    history: Outcome[Trend]  # the earlier week ends; the current score completes the trend
    slo_board: Outcome[Any] | None = None
    definition_errors: tuple[str, ...] = ()

    @property
    def evaluation(self) -> Evaluation | None:
        return self.current.value

    @property
    def score(self) -> ReadinessScore | None:
        return self.current.value.score if self.current.value else None

    @property
    def checks(self) -> ReadinessScore | None:
        """The score to list checks from: when it could not be computed, every check of the definition
        with "no data" (the list comes from the file, never from Prometheus)."""
        if self.score is not None or self.definition is None:
            return self.score
        return score(self.definition, ReadinessInputs(values={}, at=self.at))

    @property
    def problems(self) -> list[tuple[str, Outcome[Any]]]:
        found = [("prometheus", o) for o in (self.current, self.history) if o.error is not None]
        if self.slo_board is not None and self.slo_board.error is not None:
            found.append(("prometheus", self.slo_board))
        return found

    @property
    def warnings(self) -> list[str]:
        """The current evaluation's partial results: failed or empty queries, unknown SLO states."""
        return list(self.score.warnings) if self.score else []

    @property
    def trend_times(self) -> list[datetime]:
        return trend_times(self.at)

    @property
    def trend(self) -> list[tuple[datetime, ReadinessScore | None]]:
        """(week end, score or None when it could not be fetched), oldest first, TREND_WEEKS long."""
        earlier: Sequence[ReadinessScore] = self.history.value.points if self.history.value else ()
        by_time = {p.at: p for p in earlier}
        out: list[tuple[datetime, ReadinessScore | None]] = [(t, by_time.get(t)) for t in self.trend_times]
        out[-1] = (self.at, self.score)
        return out

    @property
    def requests(self) -> int:
        """Prometheus queries behind the score and its trend (SLO states not included)."""
        now = self.evaluation.inputs.requests if self.evaluation else 0
        return now + (self.history.value.requests if self.history.value else 0)


def _unavailable(message: str) -> Outcome[Any]:
    return Outcome(None, BackendUnavailable("sextant", message))


def load(
    sources: Sources,
    at: datetime,
    cache: ResultCache = default_cache,
    *,
    path: Path = DEFAULT_PATH,
    slo_states_at: SloStatesAt | None = None,
) -> ReadinessView:
    """The score at `at` and the trend, fetched concurrently and cached.

    `slo_states_at(t)` overrides where the filing SLO states come from (tests); by default the SLO board
    for `at` and `past_slo_states` for the earlier week ends.
    """
    at = to_utc(at)
    try:
        definition = _definitions.get(path)
    except ReadinessDefinitionError as exc:
        missing = _unavailable("the readiness definition is invalid")
        return ReadinessView(at, None, missing, missing, definition_errors=tuple(exc.problems))
    prom = sources.prometheus

    def now_states() -> SloStates:
        if slo_states_at is not None:
            return slo_states_at(at)
        return current_slo_states(sources, at, cache)[0]

    def past_states(t: datetime) -> SloStates:
        return slo_states_at(t) if slo_states_at is not None else past_slo_states(sources, t, cache)

    def history() -> Trend:
        # The earlier week ends are whole hours (`trend_times`): kept an hour, not recomputed each minute.
        return cache.value(
            (sources.cache_key, "readiness-history", str(path), slo_states_at is None, start_of_hour(at)),
            lambda: earlier_weeks(definition, prom, at, past_states),
            slo_view.PAST_TTL_S,
        )

    out = fetch_all(
        {
            "current": lambda: evaluate(definition, prom, at, now_states),
            "history": history,
        },
        cache=cache,
        ttl_s=TTL_S,
        budget_s=sources.run_budget_s,
        key_prefix=(sources.cache_key, "readiness", str(path), slo_states_at is None),
        window=at,
    )
    board = None if slo_states_at is not None else current_slo_states(sources, at, cache)[1]
    return ReadinessView(at, definition, out["current"], out["history"], board)


# -- view helpers (pure) -----------------------------------------------------------------------------------


def format_score(value: float | None) -> str:
    """`72.4`, `50`, or `no data`: one decimal, the same rounding as the points of "what moved"."""
    if value is None:
        return "no data"
    return f"{round(value, 1):.1f}".removesuffix(".0")


def status_label(status: Status) -> str:
    return STATUS_LABELS[status]


def display_name(definition: ReadinessDefinition, name: str) -> str:
    try:
        return definition.item(name).display_name
    except KeyError:
        return name


def delta_text(delta: float | None) -> str | None:
    """`-8.8 points since last week` for st.metric (an ASCII sign: it decides the arrow's direction)."""
    if delta is None:
        return None
    return format_points(delta).replace("−", "-").replace("±", "") + " since last week"


def week_delta(view: ReadinessView) -> float | None:
    """Change of the score since the same time last week; None unless both have a score."""
    trend = view.trend
    before, after = trend[-2][1], trend[-1][1]
    if before is None or after is None or before.score is None or after.score is None:
        return None
    return after.score - before.score


def tenant_choices(result: ReadinessScore | None) -> list[str]:
    return [row.key for row in result.tenants] if result else []


def for_tenant(definition: ReadinessDefinition, inputs: ReadinessInputs, tenant: str) -> ReadinessScore:
    """The score of one tenant alone: its tenant-scoped figures plus the platform-wide ones.

    Scoring the inputs narrowed to one tenant gives the same number as that tenant's row of the full
    score (the formula per tenant is the overall one over a single tenant), plus its points per check.
    """
    values: dict[str, Any] = {}
    for check in definition.items:
        raw = inputs.values.get(check.name)
        if check.scope == "tenant":
            given = raw if isinstance(raw, Mapping) else {}
            values[check.name] = {tenant: given.get(tenant)}
        elif raw is not None:
            values[check.name] = raw
    narrowed = replace(inputs, values=values, tenants=(tenant,))
    return score(definition, narrowed)


@dataclass(frozen=True)
class Headline:
    value: str  # the big number, or "no data"
    lines: tuple[str, ...]  # why it is what it is, in words (backend-free: names come from the definition)


def headline(result: ReadinessScore | None, definition: ReadinessDefinition) -> Headline:
    """The score and its explanation: the cap and the gate behind it, what holds it back, what has no data."""
    if result is None:
        return Headline("no data", ("The score could not be computed: see the message above.",))
    lines: list[str] = []
    failed_gates = [g for g in result.gates if g.status is Status.FAIL]
    if result.score is None:
        if result.coverage is None or result.coverage == 0:
            lines.append("No score: none of the checks has data. Missing data is never shown as ready.")
        else:
            lines.append(
                f"No score: the checks with data carry {result.coverage:.0%} of the weight, below the "
                f"{definition.minimum_coverage:.0%} needed for a score that means something."
            )
    for gate in sorted(failed_gates, key=lambda g: (g.check.cap or 0.0, g.name)):
        figure = _figure_text(gate) + gate.check.over
        why = f"“{gate.check.display_name}” fails ({figure} against {gate.target})"
        if gate.name == result.capped_by and result.uncapped is not None:
            lines.append(
                f"Capped at {gate.check.cap:g}: {why}. Without this gate the score would be "
                f"{format_score(result.uncapped)}."
            )
        elif result.score is not None:
            lines.append(
                f"{why}: it caps at {gate.check.cap:g}, and the checks already hold the score lower."
            )
        else:
            lines.append(f"{why}: it would cap the score at {gate.check.cap:g}.")
    if result.score is not None and result.held_back_by and result.held_back_by[0] != result.capped_by:
        lost = result.result(result.held_back_by[0]).points_lost
        names = [f"“{display_name(definition, n)}”" for n in result.held_back_by]
        joined = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        each = " each" if len(names) > 1 else ""
        lines.append(f"Held back most by {joined} ({format_points(-lost)}{each}).")
    if result.no_data:
        missing = ", ".join(display_name(definition, n) for n in result.no_data)
        lines.append(f"No data, left out of the score (not counted as passing): {missing}.")
    if result.score is not None and result.coverage is not None and result.coverage < 1:
        lines.append(f"The score rests on checks carrying {result.coverage:.0%} of the applicable weight.")
    if result.score is not None and not lines:
        lines.append("Every check passes and no gate caps the score.")
    return Headline(format_score(result.score), tuple(lines))


def _figure_text(result: CheckResult) -> str:
    return format_value(result.figure, result.check.unit)


def _passing_text(result: CheckResult) -> str:
    if result.check.scope == "platform" or not result.tenants:
        return ""
    assessed = [o for o in result.tenants.values() if o.status in (Status.PASS, Status.FAIL)]
    passing = sum(o.status is Status.PASS for o in assessed)
    return f"{passing} of {len(assessed)}"


CHECK_COLUMNS = [
    "check",
    "domain",
    "status",
    "figure",
    "target",
    "tenants_passing",
    "weight",
    "points",
    "why",
]


def check_rows(result: ReadinessScore, tenant: str | None = None) -> pd.DataFrame:
    """One row per check then gate: status, the figure and threshold behind it, weight, points, in words.

    For tenant checks over all tenants the figure is the worst tenant's. Points are what a check adds to
    the score, out of what it would add with every tenant passing (its weight's share of the checks with
    data). A gate has no weight: it caps; when it binds, its points are the cut it makes.
    """
    rows = []
    for item in result.items:
        c = item.check
        assessed = item.status in (Status.PASS, Status.FAIL)
        finding = item.finding  # the row leads with the check's name
        why = finding[:1].upper() + finding[1:] + (f" ({item.detail})" if item.detail else "")
        if c.is_gate:
            weight = f"cap {c.cap:g}"
            points = f"{item.points:.1f} (its cut)".replace("-", "−") if item.points else "—"
        else:
            weight = f"{c.weight:g}"
            points = f"{item.points:.1f} of {item.points + item.points_lost:.1f}" if assessed else "—"
        rows.append(
            {
                "check": c.display_name,
                "domain": DOMAIN_TITLES.get(c.domain, c.domain),
                "status": status_label(item.status),
                "figure": "—" if item.status is Status.NOT_APPLICABLE else _figure_text(item),
                "target": item.target,
                "tenants_passing": _passing_text(item) if tenant is None else "",
                "weight": weight,
                "points": points,
                "why": why,
            }
        )
    return pd.DataFrame(rows, columns=CHECK_COLUMNS)


def attention(result: ReadinessScore) -> list[str]:
    """The sentences of the checks and gates that fail or have no data, failing first (table order)."""
    order = {Status.FAIL: 0, Status.NO_DATA: 1}
    items = sorted(
        (i for i in result.items if i.status in order), key=lambda i: (order[i.status], -i.points_lost)
    )
    return [i.summary + (f" ({i.detail})" if i.detail else "") for i in items]


def status_colour(label: object) -> str:
    """CSS for a status cell: green pass, red fail, grey no data / not applicable (never green)."""
    for status, text in STATUS_LABELS.items():
        if label == text:
            style = "font-style: italic" if status is Status.NO_DATA else "font-weight: 600"
            return f"color: {STATUS_COLOURS[status]}; {style}"
    return ""


@dataclass(frozen=True)
class DomainScore:
    domain: str
    value: str
    help: str


def domain_scores(result: ReadinessScore, definition: ReadinessDefinition) -> list[DomainScore]:
    out = []
    for row in result.domains:
        title = DOMAIN_TITLES.get(row.key, row.key.capitalize())
        out.append(DomainScore(title, format_score(row.score), _sub_help(row, definition)))
    return out


def _sub_help(row: SubScore, definition: ReadinessDefinition) -> str:
    if row.score is None:
        coverage = f" (checks with data carry {row.coverage:.0%} of the weight)" if row.coverage else ""
        return f"No score: not enough data{coverage}."
    parts = []
    if row.score is not None and row.uncapped is not None and row.cap is not None and row.cap < row.uncapped:
        parts.append(f"capped at {row.cap:g} by a failed gate")
    if row.holding_back:
        parts.append(f"held back by {display_name(definition, row.holding_back)}")
    no_data = [display_name(definition, n) for n, s in row.statuses.items() if s is Status.NO_DATA]
    if no_data:
        parts.append(f"no data: {', '.join(no_data)}")
    text = "; ".join(parts) or "every check passes"
    return text[0].upper() + text[1:] + "."


def tenant_table(result: ReadinessScore, definition: ReadinessDefinition) -> pd.DataFrame:
    """Tenant, score (NaN when none), the check holding it back, data coverage, cap; worst first."""
    rows = []
    for row in result.tenants:
        if row.score is None:
            holding = "no data: too few checks have data"
        elif row.holding_back:
            holding = display_name(definition, row.holding_back)
            if len(row.held_back_by) > 1:
                holding += f" (tied with {len(row.held_back_by) - 1} more)"
        else:
            holding = "nothing: every check passes"
        failing = sorted(display_name(definition, n) for n, s in row.statuses.items() if s is Status.FAIL)
        rows.append(
            {
                "tenant": directory.name("tenant", row.key),
                "score": row.score,
                "held_back_by": holding,
                "failing": ", ".join(failing) or "none",
                "coverage": row.coverage,
                "capped_at": f"{row.cap:g}" if row.score is not None and row.cap is not None else "—",
            }
        )
    frame = pd.DataFrame(
        rows, columns=["tenant", "score", "held_back_by", "failing", "coverage", "capped_at"]
    )
    frame["score"] = frame["score"].astype("float64")
    return frame.sort_values(["score", "tenant"], na_position="first", ignore_index=True)


def has_trend(view: ReadinessView) -> bool:
    """Whether any week of the trend could be fetched (else the page says so instead of a blank chart)."""
    return any(point is not None for _, point in view.trend)


def target(view: ReadinessView) -> float | None:
    """The score the definition aims at (its `target`), for the trend's labelled line; None when unset."""
    return view.definition.target if view.definition is not None else None


def trend_frame(view: ReadinessView, tenant: str | None = None) -> pd.DataFrame:
    """Long frame for the trend chart: timestamp, series, value (NaN: no score that week), label."""
    rows = []
    for at, point in view.trend:
        rows.append({"timestamp": at, "series": "all client firms", **_point(point.score if point else None)})
        if tenant is not None:
            mine = None
            if point is not None:
                mine = next((r.score for r in point.tenants if r.key == tenant), None)
            rows.append({"timestamp": at, "series": directory.name("tenant", tenant), **_point(mine)})
    frame = pd.DataFrame(rows, columns=["timestamp", "series", "value", "label"])
    frame["value"] = frame["value"].astype("float64")
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
    return frame


def _point(value: float | None) -> dict[str, Any]:
    return {"value": value, "label": format_score(value)}


@dataclass(frozen=True)
class WeekMoves:
    start: datetime
    end: datetime
    before: float | None
    after: float | None
    sentences: tuple[str, ...]

    @property
    def heading(self) -> str:
        change = ""
        if self.before is not None and self.after is not None:
            change = f" ({format_points(self.after - self.before)})"
        return (
            f"Week to {self.end:%d %b %H:%M} UTC: {format_score(self.before)} → "
            f"{format_score(self.after)}{change}"
        )


def weekly_moves(view: ReadinessView) -> list[WeekMoves]:
    """What moved the score each week, newest week first; weeks without both scores say so."""
    trend = view.trend
    out = []
    for (start, before), (end, after) in zip(trend, trend[1:], strict=False):
        sentences: tuple[str, ...]
        if before is None or after is None:
            sentences = ("Not known: the score at one end of this week could not be fetched.",)
        else:
            moves = what_moved(before, after)
            sentences = tuple(m.text for m in moves) or ("Nothing moved.",)
        out.append(
            WeekMoves(
                start,
                end,
                before.score if before else None,
                after.score if after else None,
                sentences,
            )
        )
    return out[::-1]


# -- where the number comes from ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Provenance:
    rules: str
    evaluated_at: datetime
    definition_file: str
    queries: pd.DataFrame  # item, query
    inputs: pd.DataFrame  # check, tenant, figure, status
    slo_states: pd.DataFrame  # slo, state
    requests: int
    trend_times: tuple[datetime, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)


def provenance(view: ReadinessView) -> Provenance | None:
    definition, evaluation = view.definition, view.evaluation
    if definition is None:
        return None
    queries = []
    if definition.tenants_query:
        queries.append({"item": "Tenants (due at the next deadline)", "query": definition.tenants_query})
    for check in definition.items:
        if check.query:
            what = " (backlog per client firm)" if check.throughput_query else ""
            queries.append({"item": check.display_name + what, "query": check.query})
        if check.throughput_query:
            queries.append({"item": f"{check.display_name} (throughput)", "query": check.throughput_query})
        if not check.queries():
            queries.append(
                {"item": f"{check.display_name}: from the filing SLOs' states (below)", "query": ""}
            )
    inputs_rows: list[dict[str, Any]] = []
    states_rows: list[dict[str, Any]] = []
    notes: list[str] = []
    if evaluation is not None:
        result = evaluation.score
        for item in result.items:
            c = item.check
            raw = evaluation.inputs.values.get(c.name)
            figures = raw.items() if isinstance(raw, Mapping) else [("all client firms", raw)]
            for tenant, figure in figures:
                outcome = item.tenants.get(tenant) if c.scope == "tenant" else None
                status = outcome.status if outcome else item.status
                inputs_rows.append(
                    {
                        "check": c.display_name,
                        "tenant": directory.name("tenant", tenant),
                        "figure": "not applicable"
                        if figure is NOT_APPLICABLE
                        else format_value(figure, c.unit),  # type: ignore[arg-type]  # NOT_APPLICABLE ruled out
                        "status": status_label(status),
                    }
                )
        notes.extend(f"{display_name(definition, k)}: {v}" for k, v in evaluation.inputs.details.items())
        if evaluation.slo_states is None:
            notes.append("The filing SLOs' states were not available: their checks have no data.")
        else:
            states_rows = [
                {"slo": name, "state": state} for name, state in sorted(evaluation.slo_states.items())
            ]
    return Provenance(
        rules=RULES.format(coverage=f"{definition.minimum_coverage:.0%}"),
        evaluated_at=view.at,
        definition_file=_relative(definition.source),
        queries=pd.DataFrame(queries, columns=["item", "query"]),
        inputs=pd.DataFrame(inputs_rows, columns=["check", "tenant", "figure", "status"]),
        slo_states=pd.DataFrame(states_rows, columns=["slo", "state"]),
        requests=view.requests,
        trend_times=tuple(view.trend_times),
        notes=tuple(notes),
    )


def _relative(source: str) -> str:
    root = DEFAULT_PATH.parent.parent
    try:
        return str(Path(source).resolve().relative_to(root))
    except ValueError:
        return source

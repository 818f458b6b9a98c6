"""Where the SLO pages and `python -m app.slo status` get their numbers: one code path for both.

`compute_status(definitions, prom, at)` returns one `SloStatus` per definition:

- With the generated recording rules loaded (detected by one query of `slo:objective:ratio`, whose
  `sextant_hash` label must match the definition), it reads all SLOs with one query per window
  (7 windows + the period): the request count does not grow with the number of SLOs.
- In the history before Prometheus started, `python -m app.slo backfill` writes the same records at every
  whole hour (`app.slo.backfill`), so a board of a past hour (a week ago, a Monday's review) reads them too.
- SLOs without matching recorded series (rules not loaded, loaded from an older definition, `at` before
  Prometheus started evaluating them and not a backfilled hour, or before the hourly tiles the rules
  read the period from cover it: `slo:objective:ratio` is recorded only with the period) are computed
  from the raw series: one
  query per SLO holding all its windows, run concurrently. Both paths use the same PromQL
  (`app.slo.promql`), so they agree.

All figures are computed in Python from event counts with `app.slo.math`; alerts are evaluated from the
burn rates at `at`, so they also answer for past times (Prometheus keeps no `ALERTS` for backfilled data).

No pandas here: `python -m app.slo status` imports this module and starts without it. The history the
detail page draws (`app.slo.history`) is made of frames.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from app.slo import math as slo_math
from app.slo.math import ALERT_PAIRS, FORECAST_WINDOWS, AlertWindowPair, State
from app.slo.model import WINDOWS, SloDefinition, parse_duration
from app.slo.promql import PARTS, labelled, period_events, window_events
from app.slo.rules import BACKFILLED, BAD, NO_DATA_NAME, OBJECTIVE, PERIOD, TOTAL, record_name
from app.sources.counting import PromQueries
from app.sources.deadline import ContextPool
from app.sources.errors import BackendError, BackendUnavailable, QueryRejected
from app.times import rfc3339, start_of_hour, to_utc, utc_now

Source = Literal["rules", "raw"]
PERIOD_KEY = "period"
ALERTS_COMPUTED = "computed from the burn rates"
# As many questions in flight as Prometheus evaluates at once by default (--query.max-concurrency=20):
# with fewer, a page's last SLOs wait for a free worker of ours instead of being evaluated alongside.
DEFAULT_WORKERS = 20


@dataclass(frozen=True)
class AlertStatus:
    name: str  # page-1h-5m, …, no-data (the `sextant_alert` label of the generated rule)
    severity: str
    firing: bool | None  # None: the SLO has no data at all
    long_window: str | None = None
    short_window: str | None = None
    factor: float | None = None

    @property
    def words(self) -> str:
        """The alert as people say it: "fast-burn page, 1h window" (the rule name is for tooltips)."""
        if self.long_window is None:
            return f"{self.severity}: {self.name.replace('-', ' ')}"
        return f"{self.kind}, {self.long_window} window"

    @property
    def kind(self) -> str:
        """A burn-rate alert's kind: "fast-burn page", "slow-burn ticket"."""
        return f"{'fast-burn' if self.severity == 'page' else 'slow-burn'} {self.severity}"

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "severity": self.severity, "firing": self.firing}


@dataclass(frozen=True)
class SloStatus:
    definition: SloDefinition
    at: datetime
    sli: float | None
    error_budget_remaining: float | None
    burn_rates: dict[str, float | None]
    events: dict[str, float | None]  # total events (or slices) per window and "period"
    bad_events: dict[str, float | None]
    state: State
    alerts: tuple[AlertStatus, ...]
    low_traffic: bool  # the 1h window holds fewer events than the SLO's min-events
    forecast: dict[str, datetime | None]  # budget gone at the 1h / 6h / 1d burn rate (None: not in period)
    budget_exhausted_at: datetime | None
    period_start: datetime
    period_end: datetime
    source: Source
    error: str | None = None
    alerts_from: str = ALERTS_COMPUTED  # how the alerts' states are known (app.slo.alert_states)

    name = property(lambda self: self.definition.name)
    service = property(lambda self: self.definition.service)
    domain = property(lambda self: self.definition.domain)
    team = property(lambda self: self.definition.team)
    target = property(lambda self: self.definition.target)
    window = property(lambda self: self.definition.window.label)

    @property
    def firing_alerts(self) -> tuple[AlertStatus, ...]:
        return tuple(a for a in self.alerts if a.firing)

    def to_json(self) -> dict[str, Any]:
        """The object of `python -m app.slo status --json` (null where there is no data)."""
        return {
            "name": self.name,
            "service": self.service,
            "domain": self.domain,
            "target": self.target,
            "window": self.window,
            "sli": self.sli,
            "error_budget_remaining": self.error_budget_remaining,
            "burn_rates": {w: self.burn_rates.get(w) for w in WINDOWS},
            "state": self.state,
            "alerts": [a.to_json() for a in self.alerts],
            "budget_exhausted_at": rfc3339(self.budget_exhausted_at) if self.budget_exhausted_at else None,
        }


# -- evaluation from event counts ------------------------------------------------------------------------


def evaluate(
    defn: SloDefinition,
    at: datetime,
    bad: dict[str, float | None],
    total: dict[str, float | None],
    *,
    source: Source = "raw",
    error: str | None = None,
) -> SloStatus:
    """Every figure of one SLO from its bad/total event counts per window (keys: WINDOWS and "period")."""
    at = to_utc(at or utc_now())
    start, end = slo_math.period_bounds(defn.window, at)
    has_data = bool(total.get(PERIOD_KEY)) and error is None
    ratios = {w: slo_math.error_ratio(bad.get(w), total.get(w)) for w in (*WINDOWS, PERIOD_KEY)}
    burns = {w: slo_math.burn_rate(ratios[w], defn.target) for w in (*WINDOWS, PERIOD_KEY)}
    remaining = slo_math.budget_remaining(burns[PERIOD_KEY]) if has_data else None
    min_events = defn.min_events if defn.budgeting == "Occurrences" else 0

    alerts: list[AlertStatus] = []
    known = error is None  # a failed fetch says nothing about the alerts, not even that data is missing
    for pair in enabled_pairs(defn):
        factor = pair.factor(defn.window.nominal)
        firing: bool | None = None
        if has_data:
            firing = slo_math.alert_firing(
                burns[pair.long_window],
                burns[pair.short_window],
                factor,
                long_events=total.get(pair.long_window),
                min_events=min_events,
            )
        alerts.append(
            AlertStatus(pair.name, pair.severity, firing, pair.long_window, pair.short_window, factor)
        )
    alerts.append(AlertStatus(NO_DATA_NAME, "ticket", total.get("1h") is None if known else None))

    state = slo_math.slo_state(
        remaining,
        has_data=has_data,
        ticket_firing=any(a.firing for a in alerts if a.severity == "ticket" and a.name != NO_DATA_NAME),
        page_firing=any(a.firing for a in alerts if a.severity == "page"),
    )
    length = end - start
    horizon = end if defn.window.is_calendar else at + length
    forecast = {
        w: slo_math.forecast_exhaustion(remaining, burns[w], at, length, horizon) for w in FORECAST_WINDOWS
    }
    soonest = min((t for t in forecast.values() if t is not None), default=None)
    # Traffic is low only when it was counted: a failed fetch says nothing about it either.
    low = known and min_events > 0 and slo_math.is_low_traffic(total.get("1h"), min_events)
    return SloStatus(
        definition=defn,
        at=at,
        sli=None if remaining is None else slo_math.sli(bad.get(PERIOD_KEY), total.get(PERIOD_KEY)),
        error_budget_remaining=remaining,
        burn_rates={w: burns[w] for w in WINDOWS},
        events={w: total.get(w) for w in (*WINDOWS, PERIOD_KEY)},
        bad_events={w: bad.get(w) for w in (*WINDOWS, PERIOD_KEY)},
        state=state,
        alerts=tuple(alerts),
        low_traffic=low,
        forecast=forecast,
        budget_exhausted_at=soonest,
        period_start=start,
        period_end=end,
        source=source,
        error=error,
    )


def unknown(defn: SloDefinition, at: datetime, error: BackendError | str) -> SloStatus:
    """The status of an SLO whose figures could not be fetched: "no data", with the reason, and no alert
    said to fire or to be quiet."""
    return evaluate(defn, at, {}, {}, source="raw", error=str(error))


def enabled_pairs(defn: SloDefinition) -> list[AlertWindowPair]:
    return [p for p in ALERT_PAIRS if (defn.alerting.page if p.severity == "page" else defn.alerting.ticket)]


def alert_thresholds(defn: SloDefinition) -> dict[str, float]:
    """Alert name → burn-rate threshold for this SLO's period."""
    return {p.name: p.factor(defn.window.nominal) for p in enabled_pairs(defn)}


# -- fetching ----------------------------------------------------------------------------------------------


def to_number(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if f != f else f  # NaN → None


def raw_queries(defn: SloDefinition, *, period: bool = True) -> str:
    """One query returning all of an SLO's event counts, each series tagged `sextant_key="part:window"`
    (without the period's with `period=False`)."""
    parts: dict[str, str] = {}
    for w in WINDOWS:
        for part in PARTS:
            parts[f"{part}:{w}"] = window_events(defn, part, parse_duration(w))
    for part in PARTS if period else ():
        parts[f"{part}:{PERIOD_KEY}"] = period_events(defn, part)
    return labelled(parts, "sextant_key")


def _label(row: dict[str, Any], name: str) -> str | None:
    """A label's value in a row of `QueryResult.rows`; None where the series has no such label."""
    value = row.get(name)
    return value if isinstance(value, str) else None  # a frame's row says "absent" with None or NaN


def _raw_counts(defn: SloDefinition, prom: PromQueries, at: datetime) -> tuple[dict, dict]:
    bad: dict[str, float | None] = {}
    total: dict[str, float | None] = {}
    for row in prom.instant(raw_queries(defn), at).rows():  # rows, not a frame: the CLI runs without pandas
        if (key := _label(row, "sextant_key")) is not None:
            part, _, window = key.partition(":")
            (bad if part == "bad" else total)[window] = to_number(row["value"])
    return bad, total


def _standing_for(rows: list[dict[str, Any]], at: datetime) -> list[dict[str, Any]]:
    """The rows of recorded series that stand for `at`, those Prometheus recorded last (so that they win):
    records written by `app.slo.backfill` hold a whole hour's figures, so they count only at that hour."""
    whole_hour = at == start_of_hour(at)
    kept = [r for r in rows if whole_hour or _label(r, BACKFILLED) is None]
    return sorted(kept, key=lambda r: _label(r, BACKFILLED) is None)


def recorded_slos(prom: PromQueries, at: datetime) -> dict[str, str]:
    """slo → sextant_hash of the SLOs whose generated rules Prometheus evaluated around `at` (or whose
    records were backfilled for that hour)."""
    rows = _standing_for(prom.instant(OBJECTIVE, at).rows(), at)
    return {slo: _label(r, "sextant_hash") or "" for r in rows if (slo := _label(r, "slo")) is not None}


def recorded_query(window: str) -> str:
    """Both recorded event counts of one window for every SLO, in one query.

    A name regex, not `total or bad`: `or` matches series on their labels without the metric name, so it
    would drop every `bad` series (same slo/service/domain as its `total`)."""
    w = PERIOD if window == PERIOD_KEY else window
    return f'{{__name__=~"{record_name(TOTAL, w)}|{record_name(BAD, w)}"}}'


def _recorded_window(prom: PromQueries, window: str, at: datetime) -> dict[tuple[str, str], float | None]:
    out: dict[tuple[str, str], float | None] = {}
    for row in _standing_for(prom.instant(recorded_query(window), at).rows(), at):
        if (slo := _label(row, "slo")) is not None:
            part = "total" if (_label(row, "__name__") or "").startswith("slo:sli_events_total") else "bad"
            out[(slo, part)] = to_number(row["value"])
    return out


def pool_map(fn: Callable[[Any], Any], items: Sequence[Any], workers: int) -> list[Any]:
    if len(items) <= 1 or workers <= 1:
        return [fn(i) for i in items]
    with ContextPool(max_workers=min(workers, len(items))) as pool:
        return list(pool.map(fn, items))


def compute_status(
    definitions: Iterable[SloDefinition],
    prom: PromQueries,
    at: datetime | None = None,
    *,
    use_rules: bool | None = None,
    max_workers: int = DEFAULT_WORKERS,
) -> list[SloStatus]:
    """The status of every SLO at `at` (default now), in the order given: one per definition, always.

    `use_rules`: None detects the recording rules, False forces raw queries, True uses recorded series
    only where they match.

    An SLO whose queries fail is "no data" with the `error`, never dropped and never healthy: a query
    Prometheus rejects, or a backend failure that hit only some SLOs. Raises `BackendUnavailable` only when
    Prometheus gave nothing at all (its first question, or every SLO, failed for want of an answer), so
    that a cache can keep the last good statuses instead.
    """
    defs = list(definitions)
    at = to_utc(at or utc_now())
    if not defs:
        return []
    recorded: dict[str, str] = {}
    if use_rules is not False:
        try:
            recorded = recorded_slos(prom, at)
        except QueryRejected:
            recorded = {}  # cannot tell whether the rules are loaded: compute every SLO from raw series
    from_rules = [d for d in defs if recorded.get(d.name) == d.fingerprint()]
    from_raw = [d for d in defs if recorded.get(d.name) != d.fingerprint()]

    results: dict[str, SloStatus] = {}
    failures: list[BackendError] = []
    if from_rules:
        windows = [*WINDOWS, PERIOD_KEY]
        per_window = pool_map(lambda w: _attempt(_recorded_window, prom, w, at), windows, max_workers)
        failed = next((r for r in per_window if isinstance(r, BackendError)), None)
        by_window = dict(zip(windows, per_window, strict=True))
        for d in from_rules:
            if failed is not None:
                failures.append(failed)
                results[d.name] = unknown(d, at, failed)
                continue
            bad = {w: by_window[w].get((d.name, "bad")) for w in windows}
            total = {w: by_window[w].get((d.name, "total")) for w in windows}
            results[d.name] = evaluate(d, at, bad, total, source="rules")

    def raw(d: SloDefinition) -> SloStatus:
        try:
            bad, total = _raw_counts(d, prom, at)
        except QueryRejected as exc:  # the same question gets the same refusal: an answer worth keeping
            return unknown(d, at, exc)
        return evaluate(d, at, bad, total, source="raw")

    def one(d: SloDefinition) -> SloStatus:
        try:
            return raw(d)
        except BackendError as exc:
            failures.append(exc)
            return unknown(d, at, exc)

    for status in pool_map(one, from_raw, max_workers):
        results[status.name] = status
    if len(failures) == len(defs):
        raise next((f for f in failures if isinstance(f, BackendUnavailable)), failures[0])
    return [results[d.name] for d in defs]


def _attempt(fn: Callable[..., Any], *args: Any) -> Any:
    """`fn(*args)`, or the `BackendError` it raised (for a pool whose failures are looked at together)."""
    try:
        return fn(*args)
    except BackendError as exc:
        return exc


def sort_worst_first(statuses: Iterable[SloStatus]) -> list[SloStatus]:
    """By state (exhausted, at risk, no data, healthy: `slo_math.STATES`), then budget left, lowest first:
    the first SLO is the one whose state is its domain's (`worst_state`)."""

    def key(s: SloStatus) -> tuple[int, float, str]:
        left = s.error_budget_remaining
        return (slo_math.STATES.index(s.state), 0.0 if left is None else left, s.name)

    return sorted(statuses, key=key)


def state_counts(statuses: Iterable[SloStatus]) -> dict[str, int | None]:
    """SLOs per state. When not one SLO could be fetched, only the "no data" count is known: the others
    are None (no data), not zero."""
    statuses = list(statuses)
    counts: dict[str, int | None] = dict.fromkeys(slo_math.STATES, 0)
    for s in statuses:
        counts[s.state] = (counts[s.state] or 0) + 1
    if statuses and all(s.error is not None for s in statuses):
        counts.update({state: None for state in slo_math.STATES if state != slo_math.NO_DATA})
    return counts

"""Where the SLO pages and `python -m app.slo status` get their numbers: one code path for both.

`compute_status(definitions, prom, at)` returns one `SloStatus` per definition:

- With the generated recording rules loaded (detected by one query of `slo:objective:ratio`, whose
  `sextant_hash` label must match the definition), it reads all SLOs with one query per window
  (7 windows + the period): the request count does not grow with the number of SLOs.
- SLOs without matching recorded series (rules not loaded, loaded from an older definition, `at` before
  Prometheus started evaluating them, e.g. in backfilled history, or before the hourly tiles the rules
  read the period from cover it: `slo:objective:ratio` is recorded only with the period) are computed
  from the raw series: one
  query per SLO holding all its windows, run concurrently. Both paths use the same PromQL
  (`app.slo.promql`), so they agree.

All figures are computed in Python from event counts with `app.slo.math`; alerts are evaluated from the
burn rates at `at`, so they also answer for past times (Prometheus keeps no `ALERTS` for backfilled data).

The history helpers (`budget_burndown`, `burn_rate_history`, `alert_history`, `compliance_history`,
`slo_history`) feed the detail page from raw series.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

import pandas as pd

from app.slo import math as slo_math
from app.slo.math import ALERT_PAIRS, FORECAST_WINDOWS, AlertWindowPair, State
from app.slo.model import WINDOWS, CalendarUnit, SloDefinition, format_duration, parse_duration
from app.slo.promql import PARTS, labelled, period_events, window_events
from app.slo.rules import BAD, NO_DATA_NAME, OBJECTIVE, PERIOD, TOTAL, record_name
from app.sources.counting import PromQueries
from app.sources.deadline import ContextPool
from app.sources.errors import BackendError, BackendUnavailable, QueryRejected
from app.sources.prometheus import align
from app.times import rfc3339, to_utc, utc_now

Source = Literal["rules", "raw"]
# memo(key, compute) -> the status `compute()` gives, perhaps kept from an earlier call with the same key
Memo = Callable[[Hashable, Callable[[], "SloStatus"]], "SloStatus"]
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


# -- fetching ----------------------------------------------------------------------------------------------


def _frame(result: Any) -> pd.DataFrame:
    return result.frame if hasattr(result, "frame") else result


def _value(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if f != f else f  # NaN → None


def raw_queries(defn: SloDefinition) -> str:
    """One query returning all of an SLO's event counts, each series tagged `sextant_key="part:window"`."""
    parts: dict[str, str] = {}
    for w in WINDOWS:
        for part in PARTS:
            parts[f"{part}:{w}"] = window_events(defn, part, parse_duration(w))
    for part in PARTS:
        parts[f"{part}:{PERIOD_KEY}"] = period_events(defn, part)
    return labelled(parts, "sextant_key")


def _raw_counts(defn: SloDefinition, prom: PromQueries, at: datetime) -> tuple[dict, dict]:
    frame = _frame(prom.instant(raw_queries(defn), at))
    bad: dict[str, float | None] = {}
    total: dict[str, float | None] = {}
    if "sextant_key" in frame.columns:
        for key, value in zip(frame["sextant_key"], frame["value"], strict=True):
            part, _, window = str(key).partition(":")
            (bad if part == "bad" else total)[window] = _value(value)
    return bad, total


def recorded_slos(prom: PromQueries, at: datetime) -> dict[str, str]:
    """slo → sextant_hash of the SLOs whose generated rules Prometheus evaluated around `at`."""
    frame = _frame(prom.instant(OBJECTIVE, at))
    if frame.empty or "slo" not in frame.columns:
        return {}
    hashes = frame["sextant_hash"] if "sextant_hash" in frame.columns else [""] * len(frame)
    return {str(s): str(h) for s, h in zip(frame["slo"], hashes, strict=True)}


def recorded_query(window: str) -> str:
    """Both recorded event counts of one window for every SLO, in one query.

    A name regex, not `total or bad`: `or` matches series on their labels without the metric name, so it
    would drop every `bad` series (same slo/service/domain as its `total`)."""
    w = PERIOD if window == PERIOD_KEY else window
    return f'{{__name__=~"{record_name(TOTAL, w)}|{record_name(BAD, w)}"}}'


def _recorded_window(prom: PromQueries, window: str, at: datetime) -> dict[tuple[str, str], float | None]:
    frame = _frame(prom.instant(recorded_query(window), at))
    out: dict[tuple[str, str], float | None] = {}
    if frame.empty or "slo" not in frame.columns:
        return out
    for name, slo, value in zip(frame["__name__"], frame["slo"], frame["value"], strict=True):
        part = "total" if str(name).startswith("slo:sli_events_total") else "bad"
        out[(str(slo), part)] = _value(value)
    return out


def _pool_map(fn: Callable[[Any], Any], items: Sequence[Any], workers: int) -> list[Any]:
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
    memo: Memo | None = None,
) -> list[SloStatus]:
    """The status of every SLO at `at` (default now), in the order given: one per definition, always.

    `use_rules`: None detects the recording rules, False forces raw queries, True uses recorded series
    only where they match. `memo` keeps each SLO computed from raw series under (name, fingerprint, at),
    so that callers asking for overlapping sets of SLOs at one instant share those queries (it may raise
    the backend's error).

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
        per_window = _pool_map(lambda w: _attempt(_recorded_window, prom, w, at), windows, max_workers)
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
            return memo((d.name, d.fingerprint(), at), lambda: raw(d)) if memo else raw(d)
        except BackendError as exc:
            failures.append(exc)
            return unknown(d, at, exc)

    for status in _pool_map(one, from_raw, max_workers):
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


# -- history (detail page) -----------------------------------------------------------------------------------


def history_step(start: datetime, end: datetime, target_points: int = 400) -> int:
    """A step (seconds) that is a multiple of 5 minutes and divides a day, giving about `target_points`."""
    span = max((end - start).total_seconds(), 300.0)
    for step in (300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400):
        if span / step <= target_points:
            return step
    return 86400


def events_query(defn: SloDefinition, window: timedelta) -> str:
    """Bad and total events in `window`, in one query, tagged `part="bad"` / `part="total"`."""
    return labelled({part: window_events(defn, part, window) for part in ("bad", "total")})


def _tiles(defn: SloDefinition, prom: PromQueries, start: datetime, end: datetime, step: int) -> pd.DataFrame:
    """Bad and total events per step-long tile ending at each timestamp in (start, end]."""
    tile = timedelta(seconds=step)
    wide = _wide(prom.range(events_query(defn, tile), start + tile, end, float(step)))
    wide["bad"] = wide["bad"].fillna(0.0)
    return wide.sort_values("timestamp").reset_index(drop=True)


@dataclass(frozen=True)
class BurnDown:
    period_start: datetime
    period_end: datetime
    frame: pd.DataFrame  # timestamp, budget_remaining, ideal, sli (per tile), sli_period (cumulative)


def budget_burndown(
    defn: SloDefinition, prom: PromQueries, at: datetime | None = None, *, step: int | None = None
) -> BurnDown:
    """Budget remaining through the period, against the ideal straight line (1 at the start, 0 at the end).

    The budget is the allowed share of the events of the period so far, so the last point matches the
    status' `error_budget_remaining` (to within one tile)."""
    at = to_utc(at or utc_now())
    start, end = slo_math.period_bounds(defn.window, at)
    step = step or history_step(start, at)
    tiles = _tiles(defn, prom, start, at, step)
    frame = pd.DataFrame({"timestamp": tiles["timestamp"]})
    total = float(tiles["total"].sum()) if not tiles.empty else 0.0
    cum_bad = tiles["bad"].cumsum()
    cum_total = tiles["total"].cumsum()
    budget = defn.error_budget
    frame["budget_remaining"] = (1.0 - (cum_bad / total) / budget) if total > 0 else float("nan")
    length = (end - start).total_seconds()
    frame["ideal"] = [1.0 - (t - start).total_seconds() / length for t in tiles["timestamp"]]
    frame["sli"] = 1.0 - tiles["bad"] / tiles["total"].where(tiles["total"] > 0)
    frame["sli_period"] = 1.0 - cum_bad / cum_total.where(cum_total > 0)
    return BurnDown(start, end, frame)


def burn_rate_history(
    defn: SloDefinition,
    prom: PromQueries,
    start: datetime,
    end: datetime,
    *,
    step: int | None = None,
    windows: Sequence[str] = WINDOWS,
    max_workers: int = DEFAULT_WORKERS,
) -> pd.DataFrame:
    """Burn rate per window over [start, end]: columns timestamp, window, burn_rate, total, bad.

    A window that is a whole number of steps is summed from step-long tiles (one range query reaching back
    the longest such window), so a week of 3-day burn rates costs Prometheus one pass over the samples, not
    one 3-day pass per point. Shorter windows are asked directly, one range query each, run concurrently."""
    start, end = to_utc(start), to_utc(end)
    step = step or history_step(start, end)
    tiled = [w for w in windows if _tileable(defn, parse_duration(w), step)]

    def direct(w: str) -> Callable[[], pd.DataFrame]:
        query = events_query(defn, parse_duration(w))
        return lambda: _burn_frame(defn, _wide(prom.range(query, start, end, float(step))), w)

    jobs = [direct(w) for w in windows if w not in tiled]
    if tiled:
        jobs.append(lambda: _tiled_burns(defn, prom, start, end, step, tiled))
    frames = [f for f in _pool_map(lambda job: job(), jobs, max_workers) if not f.empty]
    if not frames:
        return pd.DataFrame(columns=["timestamp", "window", "bad", "total", "burn_rate"])
    out = pd.concat(frames, ignore_index=True)
    out["burn_rate"] = pd.to_numeric(out["burn_rate"], errors="coerce")
    return out.sort_values(["window", "timestamp"]).reset_index(drop=True)


# Tiles shorter than this hold too few scrapes for a counter's increase to be measured.
MIN_TILE_S = 300


def _tileable(defn: SloDefinition, window: timedelta, step: int) -> bool:
    """Whether `window` is a sum of whole step-long tiles (and, for time slices, each tile whole slices)."""
    seconds = int(window.total_seconds())
    if step < MIN_TILE_S or seconds % step:
        return False
    if defn.budgeting == "Timeslices":
        assert defn.time_slice_window is not None
        return step % int(defn.time_slice_window.total_seconds()) == 0
    return True


def _wide(result: Any) -> pd.DataFrame:
    """A `part`-labelled range result as columns timestamp, bad, total (empty when nothing came back)."""
    frame = _frame(result)
    if frame.empty or "part" not in frame.columns:
        return pd.DataFrame(
            {
                "timestamp": pd.Series([], dtype="datetime64[ns, UTC]"),
                "bad": pd.Series([], dtype="float64"),
                "total": pd.Series([], dtype="float64"),
            }
        )
    wide = frame.pivot_table(index="timestamp", columns="part", values="value", aggfunc="sum")
    return wide.reindex(columns=["bad", "total"]).reset_index()


def _burn_frame(defn: SloDefinition, wide: pd.DataFrame, window: str) -> pd.DataFrame:
    if wide.empty:
        return pd.DataFrame(columns=["timestamp", "window", "bad", "total", "burn_rate"])
    wide = wide.assign(window=window)
    wide["burn_rate"] = [
        slo_math.burn_rate(slo_math.error_ratio(_value(b), _value(t)), defn.target)
        for b, t in zip(wide["bad"], wide["total"], strict=True)
    ]
    return wide[["timestamp", "window", "bad", "total", "burn_rate"]]


def _tiled_burns(
    defn: SloDefinition, prom: PromQueries, start: datetime, end: datetime, step: int, windows: Sequence[str]
) -> pd.DataFrame:
    """Burn rates of `windows` (each a whole number of steps) at start, start + step, … from one query of
    step-long tiles. A window with no tile at all is absent, as Prometheus leaves it; missing tiles inside a
    window count as no events, as a counter without samples there would."""
    tile = timedelta(seconds=step)
    longest = max(int(parse_duration(w).total_seconds()) // step for w in windows)
    first = start - tile * (longest - 1)
    tiles = _wide(prom.range(events_query(defn, tile), first, end, float(step)))
    if tiles.empty:
        return pd.DataFrame(columns=["timestamp", "window", "bad", "total", "burn_rate"])
    # The sample times Prometheus evaluates: the range is aligned to the step (`align`).
    since, until = (pd.Timestamp(t, unit="s", tz="UTC") for t in align(start, end, step))
    grid = pd.date_range(since - tile * (longest - 1), until, freq=f"{step}s")
    tiles = tiles.set_index("timestamp").reindex(grid)
    frames = []
    for w in windows:
        count = int(parse_duration(w).total_seconds()) // step
        summed = tiles.rolling(count, min_periods=1).sum().loc[since:]
        summed = summed[summed["total"].notna()].rename_axis("timestamp").reset_index()
        frames.append(_burn_frame(defn, summed, w))
    return pd.concat(frames, ignore_index=True)


def alert_thresholds(defn: SloDefinition) -> dict[str, float]:
    """Alert name → burn-rate threshold for this SLO's period."""
    return {p.name: p.factor(defn.window.nominal) for p in enabled_pairs(defn)}


def alert_history(defn: SloDefinition, burn_rates: pd.DataFrame) -> pd.DataFrame:
    """Whether each alert's condition held at each timestamp of `burn_rates` (from `burn_rate_history`):
    columns timestamp, alert, severity, firing."""
    if burn_rates.empty:
        return pd.DataFrame(columns=["timestamp", "alert", "severity", "firing"])
    burn = burn_rates.pivot_table(index="timestamp", columns="window", values="burn_rate", aggfunc="first")
    totals = burn_rates.pivot_table(index="timestamp", columns="window", values="total", aggfunc="first")
    min_events = defn.min_events if defn.budgeting == "Occurrences" else 0
    totals = totals.reindex(burn.index)
    nothing = [None] * len(burn.index)

    def values(frame: pd.DataFrame, window: str) -> list[Any]:
        """A window's column as plain values, read once (a scalar lookup per timestamp took seconds)."""
        return [_value(v) for v in frame[window].tolist()] if window in frame.columns else nothing

    rows = []
    for pair in enabled_pairs(defn):
        factor = pair.factor(defn.window.nominal)
        longs, shorts = values(burn, pair.long_window), values(burn, pair.short_window)
        events = values(totals, pair.long_window)
        for ts, long_burn, short_burn, long_events in zip(burn.index, longs, shorts, events, strict=True):
            firing = slo_math.alert_firing(
                long_burn, short_burn, factor, long_events=long_events, min_events=min_events
            )
            rows.append({"timestamp": ts, "alert": pair.name, "severity": pair.severity, "firing": firing})
    return pd.DataFrame(rows)


def firing_spans(history: pd.DataFrame) -> pd.DataFrame:
    """Contiguous firing intervals per alert: columns alert, severity, start, end (the last firing
    sample)."""
    spans = []
    for alert, group in history.sort_values("timestamp").groupby("alert", sort=False):
        current: list[Any] | None = None
        for ts, firing, severity in zip(group["timestamp"], group["firing"], group["severity"], strict=True):
            if firing and current is None:
                current = [alert, severity, ts, ts]
            elif firing and current is not None:
                current[3] = ts
            elif not firing and current is not None:
                spans.append(current)
                current = None
        if current is not None:
            spans.append(current)
    return pd.DataFrame(spans, columns=["alert", "severity", "start", "end"])


def compliance_history(
    defn: SloDefinition, prom: PromQueries, at: datetime | None = None, *, weeks: int = 12, months: int = 12
) -> pd.DataFrame:
    """SLI and objective met per calendar week (Monday) and month for the last `weeks`/`months`, the
    current ones to date: columns unit, start, end, sli, target, met, total, bad. Daily tiles in UTC."""
    at = to_utc(at or utc_now())
    week_start = slo_math.calendar_start(at, "week") - timedelta(days=7 * (weeks - 1))
    month_start = slo_math.calendar_start(at, "month")
    for _ in range(months - 1):
        month_start = slo_math.calendar_previous(month_start, "month")
    first = min(week_start, month_start)
    today = at.replace(hour=0, minute=0, second=0, microsecond=0)
    days = _tiles(defn, prom, first, max(today, first), 86400)
    if not days.empty:
        days = days.assign(day=days["timestamp"] - pd.Timedelta(days=1))
    partial = at - today
    today_row: dict[str, Any] | None = None
    if partial >= timedelta(minutes=5):
        frame = _frame(prom.instant(events_query(defn, partial), at))
        if not frame.empty and "part" in frame.columns:
            vals = {str(p): _value(v) for p, v in zip(frame["part"], frame["value"], strict=True)}
            today_row = {
                "day": pd.Timestamp(today),
                "bad": vals.get("bad") or 0.0,
                "total": vals.get("total"),
            }
    if today_row is not None:
        days = (
            pd.concat([days, pd.DataFrame([today_row])], ignore_index=True)
            if not days.empty
            else pd.DataFrame([today_row])
        )
    rows = []
    periods: tuple[tuple[CalendarUnit, int, datetime], ...] = (
        ("week", weeks, week_start),
        ("month", months, month_start),
    )
    for unit, count, begin in periods:
        start = begin
        for _ in range(count):
            end = slo_math.calendar_next(start, unit)
            if days.empty:
                bad = total = 0.0
            else:
                mask = (days["day"] >= pd.Timestamp(start)) & (days["day"] < pd.Timestamp(end))
                bad = float(days.loc[mask, "bad"].fillna(0).sum())
                total = float(days.loc[mask, "total"].fillna(0).sum())
            value = slo_math.sli(bad, total)
            rows.append(
                {
                    "unit": unit,
                    "start": start,
                    "end": min(end, at),
                    "sli": value,
                    "target": defn.target,
                    "met": None if value is None else value >= defn.target,
                    "total": total,
                    "bad": bad,
                }
            )
            start = end
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class RangeHistory:
    """The SLI and burn rates over a chosen range (the SLO page's), at a step fitting that range."""

    start: datetime
    end: datetime
    sli: pd.DataFrame  # timestamp, value: the SLI of each step-long interval ending at timestamp
    burn_rates: pd.DataFrame  # as `burn_rate_history`


def range_history(defn: SloDefinition, prom: PromQueries, start: datetime, end: datetime) -> RangeHistory:
    """`RangeHistory` over [start, end]: an hour's range is drawn in 5-minute steps, not in the period
    history's 2-hour ones. The SLI per interval is the step-long window's, so it comes from the same query
    of tiles as the longer burn-rate windows."""
    start, end = to_utc(start), to_utc(end)
    step = history_step(start, end)
    interval = format_duration(timedelta(seconds=step))
    burns = burn_rate_history(
        defn, prom, start, end, step=step, windows=tuple(dict.fromkeys((*WINDOWS, interval)))
    )
    tiles = burns[(burns["window"] == interval) & (burns["timestamp"] > pd.Timestamp(start))]
    sli = 1.0 - tiles["bad"].fillna(0.0) / tiles["total"].where(tiles["total"] > 0)
    shown = burns if interval in WINDOWS else burns[burns["window"] != interval]
    return RangeHistory(
        start,
        end,
        pd.DataFrame({"timestamp": tiles["timestamp"], "value": sli}).reset_index(drop=True),
        shown.reset_index(drop=True),
    )


@dataclass(frozen=True)
class SloHistory:
    definition: SloDefinition
    at: datetime
    burndown: BurnDown
    burn_rates: pd.DataFrame
    thresholds: dict[str, float]
    alerts: pd.DataFrame
    compliance: pd.DataFrame
    notes: tuple[str, ...] = field(default=())


def slo_history(
    defn: SloDefinition,
    prom: PromQueries,
    at: datetime | None = None,
    *,
    start: datetime | None = None,
    step: int | None = None,
    max_workers: int = DEFAULT_WORKERS,
) -> SloHistory:
    """Everything the detail page draws, fetched concurrently. `start` defaults to the period start."""
    at = to_utc(at or utc_now())
    period_start, _ = slo_math.period_bounds(defn.window, at)
    begin = to_utc(start) if start else period_start
    with ContextPool(max_workers=3) as pool:
        f_burndown = pool.submit(budget_burndown, defn, prom, at)
        f_compliance = pool.submit(compliance_history, defn, prom, at)
        burns = burn_rate_history(defn, prom, begin, at, step=step, max_workers=max_workers)
        burndown = f_burndown.result()
        compliance = f_compliance.result()
    return SloHistory(
        defn, at, burndown, burns, alert_thresholds(defn), alert_history(defn, burns), compliance
    )

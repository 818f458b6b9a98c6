"""An SLO's history for the detail page, from raw series: budget burn-down, burn rates per window, the
alerts' conditions over time, weekly and monthly compliance (`slo_history` fetches them all).

Each point is computed with the status' own arithmetic (`app.slo.math`, `app.slo.status.enabled_pairs`), so
the burn-down's last point and the status agree; the history is made of pandas frames, the status is not.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pandas as pd

from app.slo import math as slo_math
from app.slo.model import WINDOWS, CalendarUnit, SloDefinition, format_duration, parse_duration
from app.slo.promql import labelled, window_events
from app.slo.status import DEFAULT_WORKERS, alert_thresholds, enabled_pairs, pool_map, to_number
from app.sources.counting import PromQueries
from app.sources.deadline import ContextPool
from app.sources.prometheus import align
from app.times import to_utc, utc_now


def _frame(result: Any) -> pd.DataFrame:
    return result.frame if hasattr(result, "frame") else result


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
    frames = [f for f in pool_map(lambda job: job(), jobs, max_workers) if not f.empty]
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
        slo_math.burn_rate(slo_math.error_ratio(to_number(b), to_number(t)), defn.target)
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
        return [to_number(v) for v in frame[window].tolist()] if window in frame.columns else nothing

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
            vals = {str(p): to_number(v) for p, v in zip(frame["part"], frame["value"], strict=True)}
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

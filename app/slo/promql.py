"""PromQL for counting an SLO's events over a window, shared by the rule generator and the status code.

Both paths (recorded by Prometheus, or computed from raw series when the rules are not loaded) use these
same expressions, so they agree by construction.

- Occurrences: events in a window = the per-second rate over the window × its length in seconds, which is
  exactly Prometheus's `increase()` (it is defined that way). bad = the `bad` query, or total − good.
- Timeslices: events are slices of `timeSliceWindow`, evaluated with a subquery whose steps are aligned to
  the slice; a slice is bad when its value misses the threshold. Ranges are shortened by 1 ms so that a
  window of 1h at 1m slices holds exactly 60 slices whether or not the evaluation time is aligned.
- Calendar periods cannot be a literal range (the month so far changes length every minute), so they sum
  aligned tiles (whole hours, then 5-minute tiles, or the time slices) of the current week/month/quarter:
  a subquery over the longest such period keeps the tiles whose start falls in the same period as the
  evaluation time (read inside the subquery with `@ end()`). The unfinished 5 minutes are added pro rata
  from the last 5 minutes' rate. A period without any event counts 0 events (which the status reads as
  "no data"), not an absent series.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from app.slo.model import CalendarUnit, SloDefinition, format_duration
from app.slo.promql_check import render

Part = Literal["bad", "total"]
PARTS: tuple[Part, ...] = ("total", "bad")

TILE = timedelta(minutes=5)
_ONE_MS = timedelta(milliseconds=1)
_INVERSE = {"gte": "<", "gt": "<=", "lte": ">", "lt": ">="}
_LONGEST = {"week": timedelta(days=7), "month": timedelta(days=31), "quarter": timedelta(days=92)}
_MONDAY_SHIFT = 3 * 86400  # 1970-01-01 was a Thursday: shifting by 3 days puts week boundaries on Mondays


def _secs(window: timedelta) -> str:
    return f"{int(window.total_seconds())}"


def summed(expr: str) -> str:
    """`sum(expr)`, unless expr already is one plain `sum(...)` (no `by`): the SLI must be one series."""
    text = expr.strip()
    if text.startswith("sum(") and _closing(text, 3) == len(text) - 1:
        return text
    return f"sum({text})"


def _closing(text: str, open_at: int) -> int:
    """Index of the bracket closing the one at `open_at` (strings skipped), or -1."""
    depth = 0
    quote = ""
    i = open_at
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 2
                continue
            if ch == quote:
                quote = ""
        elif ch in "\"'`":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


def _number(value: float) -> str:
    """A float literal that parses back to exactly the same float."""
    return repr(float(value))


def slice_value(defn: SloDefinition) -> str:
    """The value of one time slice: the gauge (worst series for the comparison) or good/total in the slice.

    A slice without events has no value (the `> 0` filter drops it), so it is neither good nor bad."""
    assert defn.time_slice_window is not None
    s = format_duration(defn.time_slice_window)
    ind = defn.indicator
    if ind.query is not None:
        agg = "min" if defn.op in ("gte", "gt") else "max"
        return f"{agg}({render(ind.query, s)})"
    assert ind.total is not None
    total = f"({summed(render(ind.total, s))} > 0)"
    if ind.good is not None:
        return f"{summed(render(ind.good, s))} / {total}"
    assert ind.bad is not None
    return f"1 - ({summed(render(ind.bad, s))} or vector(0)) / {total}"


def bad_slice(defn: SloDefinition) -> str:
    """1 for a slice that misses the threshold, 0 for one that meets it."""
    assert defn.threshold is not None
    return f"({slice_value(defn)}) {_INVERSE[defn.op]} bool {_number(defn.threshold)}"


def window_events(defn: SloDefinition, part: Part, window: timedelta) -> str:
    """Events (or slices) counted in the `window` ending at the evaluation time."""
    if defn.budgeting == "Timeslices":
        assert defn.time_slice_window is not None
        sub = f"[{format_duration(window - _ONE_MS)}:{format_duration(defn.time_slice_window)}]"
        if part == "total":
            return f"count_over_time(({slice_value(defn)}){sub})"
        return f"sum_over_time(({bad_slice(defn)}){sub})"
    w = format_duration(window)
    ind = defn.indicator
    assert ind.total is not None
    if part == "total":
        return f"{summed(render(ind.total, w))} * {_secs(window)}"
    if ind.bad is not None:
        return f"({summed(render(ind.bad, w))} or vector(0)) * {_secs(window)}"
    assert ind.good is not None
    return (
        f"clamp_min({summed(render(ind.total, w))} - ({summed(render(ind.good, w))} or vector(0)), 0) * "
        f"{_secs(window)}"
    )


# The evaluation time inside a subquery: `@ end()` pins the inner subquery to the end of the top-level
# query, which for an instant query or a recording rule is its evaluation time (floored to the minute
# here, which never crosses a period boundary: boundaries are whole minutes).
NOW = "last_over_time(vector(time())[1m:1m] @ end())"


def period_index(unit: CalendarUnit, v: str) -> str:
    """A vector numbering the calendar period holding the Unix time in the one-element vector `v`."""
    if unit == "month":
        return f"(year({v}) * 12 + month({v}))"
    if unit == "quarter":
        return f"(year({v}) * 4 + floor((month({v}) - 1) / 3))"
    return f"floor(({v} + {_MONDAY_SHIFT}) / 604800)"


def _tiles_in(inner: str, keep: str, rng: str, step: str, fn: str = "sum_over_time") -> str:
    """fn over the `step`-aligned tiles of the last `rng` for which the vector condition `keep` holds."""
    return f"{fn}((({inner}) and on() ({keep}))[{rng}:{step}])"


def calendar_events(defn: SloDefinition, part: Part, *, max_range: timedelta | None = None) -> str:
    """Events of the current calendar period so far (see the module docstring).

    A tile ending at step τ covers (τ − tile, τ] and belongs to the period when τ − tile falls in the same
    week/month/quarter as NOW. Occurrences sum whole hours first (744 steps for a month rather than 8,928),
    then the 5-minute tiles of the current hour, then the unfinished 5 minutes pro rata; time slices sum the
    slices themselves.

    `max_range` caps the subquery range: only for `promtool test rules`, whose engine refuses queries
    touching more than 10,000 samples. The result is the same while the test series are shorter."""
    unit = defn.window.unit
    assert unit is not None
    longest = min(_LONGEST[unit], max_range) if max_range else _LONGEST[unit]
    rng = format_duration(longest - _ONE_MS)
    now = period_index(unit, NOW)

    def in_period(tile: timedelta) -> str:
        return f"{period_index(unit, f'vector(time() - {_secs(tile)})')} == {now}"

    if defn.budgeting == "Timeslices":
        assert defn.time_slice_window is not None
        tile = defn.time_slice_window
        inner = bad_slice(defn) if part == "bad" else f"({slice_value(defn)})"
        fn = "sum_over_time" if part == "bad" else "count_over_time"
        return f"({_tiles_in(inner, in_period(tile), rng, format_duration(tile), fn)} or vector(0))"
    hour = timedelta(hours=1)
    hours = _tiles_in(window_events(defn, part, hour), in_period(hour), rng, "1h")
    this_hour = f"floor(vector(time() - {_secs(TILE)}) / 3600) == floor({NOW} / 3600)"
    fives = _tiles_in(window_events(defn, part, TILE), this_hour, format_duration(hour - _ONE_MS), "5m")
    # `or vector(0)` on each part: a scrape gap in the last minutes must not blank the whole month
    partial = f"({window_events(defn, part, TILE)}) * ((time() % {_secs(TILE)}) / {_secs(TILE)})"
    return f"({hours} or vector(0)) + ({fives} or vector(0)) + ({partial} or vector(0))"


def period_events(defn: SloDefinition, part: Part, *, max_range: timedelta | None = None) -> str:
    """Events over the SLO's period so far: the rolling duration, or the calendar period to date."""
    if defn.window.is_calendar:
        return calendar_events(defn, part, max_range=max_range)
    assert defn.window.duration is not None
    duration = defn.window.duration
    if max_range and defn.budgeting == "Timeslices":  # test rendering only, see rules.slo_group
        duration = min(duration, max_range)
    return window_events(defn, part, duration)


def labelled(parts: dict[str, str], label: str = "part") -> str:
    """One query returning several expressions, each tagged with `label`="<key>" (one request, not many)."""
    return " or ".join(f'label_replace({expr}, "{label}", "{key}", "", "")' for key, expr in parts.items())


# -- the period from hourly tiles ------------------------------------------------------------------------
#
# Reading 30 days of raw samples every minute is what the generated rules spent most of their time on. A
# tile rule, evaluated every TILE_INTERVAL, records the events of the whole hour that ended last (the raw
# window evaluated at that hour, so a tile holds exactly what the raw query would count there); the period
# is then read from a sample per hour instead of every raw sample:
#
# - rolling W: the raw 1d window (recorded anyway) + the hourly tiles from W ago to a day ago + two edge
#   pieces of at most two hours (5-minute tiles and the unfinished 5 minutes pro rata, or time slices)
#   that line the tiles up with the instant: the one a day ago is added, the one W ago taken off;
# - calendar: the tiles of the period + the 5-minute tiles (or slices) since the hour before the last +
#   the unfinished 5 minutes pro rata, as `calendar_events` but without re-reading the whole period.
#
# At a subquery step τ (a whole hour) `last_over_time(tile[TILE_LOOKBACK])` finds the sample written in
# (τ − TILE_LOOKBACK, τ): the tile of the hour that ended at τ − 1h. The tiles only stand for the period
# once they cover it: `tiles_cover` counts them, and the period is recorded only when none is missing.

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
TILE_INTERVAL = timedelta(minutes=30)
TILE_LOOKBACK = "50m"  # < 1h: never reaches a sample of the hour before; > TILE_INTERVAL: never misses one
_EDGE = "2h"  # an edge piece is at most two hours long


def tiles_apply(defn: SloDefinition) -> bool:
    """Whether the period can be read from hourly tiles: slices that tile an hour, and a rolling window of
    whole hours and at least two days (shorter ones are cheap to read raw)."""
    if defn.budgeting == "Timeslices":
        assert defn.time_slice_window is not None
        if HOUR % defn.time_slice_window:
            return False
    if defn.window.is_calendar:
        return True
    assert defn.window.duration is not None
    return defn.window.duration >= 2 * DAY and not defn.window.duration % HOUR


def hour_tile(defn: SloDefinition, part: Part) -> str:
    """The tile rule: events (or slices) of the last whole hour, 0 when there were none."""
    return f"last_over_time(({window_events(defn, part, HOUR)})[1h:1h]) or vector(0)"


def _tile(tile: str) -> str:
    return f"last_over_time({tile}[{TILE_LOOKBACK}])"


def _after_hour_before(offset: timedelta) -> str:
    """The step (the end of a 5-minute tile or a slice) lies after the hour before the last whole hour at
    `offset` before the evaluation time."""
    return f"vector(time()) > on() (floor(({NOW} - {_secs(offset)}) / 3600) * 3600 - 3600)"


def _edge(defn: SloDefinition, part: Part, offset: timedelta, keep: str) -> str:
    """Events in the `keep` steps of the last two hours at `offset` before now, plus (events) the
    unfinished 5 minutes pro rata. `offset` is whole hours, so the 5-minute grid is the same there."""
    at = f" offset {format_duration(offset)}" if offset else ""
    if defn.budgeting == "Timeslices":
        assert defn.time_slice_window is not None
        step = format_duration(defn.time_slice_window)
        inner = bad_slice(defn) if part == "bad" else f"({slice_value(defn)})"
        fn = "sum_over_time" if part == "bad" else "count_over_time"
        return f"({fn}((({inner}) and on() ({keep}))[{_EDGE}:{step}]{at}) or vector(0))"
    fives = f"sum_over_time((({window_events(defn, part, TILE)}) and on() ({keep}))[{_EDGE}:5m]{at})"
    # now: the last 5 minutes' rate, as `calendar_events`; at an offset: the last whole 5 minutes' there
    last = (
        f"last_over_time(({window_events(defn, part, TILE)})[5m:5m]{at})"
        if offset
        else f"({window_events(defn, part, TILE)})"
    )
    partial = f"{last} * ((time() % {_secs(TILE)}) / {_secs(TILE)})"
    return f"(({fives} or vector(0)) + ({partial} or vector(0)))"


def rolling_from_tiles(defn: SloDefinition, part: Part, tile: str, recent_day: str) -> str:
    """Events of the rolling period from the recorded raw day (`recent_day`, one series) and the tiles."""
    assert defn.window.duration is not None
    window = defn.window.duration
    rng = format_duration(window - DAY)
    hours = f"sum(sum_over_time({_tile(tile)}[{rng}:1h] offset 1d))"
    newer = _edge(defn, part, DAY, _after_hour_before(DAY))
    older = _edge(defn, part, window, _after_hour_before(window))
    return f"sum({recent_day}) + ({hours} or vector(0)) + {newer} - {older}"


def rolling_tiles_cover(defn: SloDefinition, tile: str) -> str:
    """Non-empty when the tiles cover the rolling period (a tile for every hour from W ago to a day ago)."""
    assert defn.window.duration is not None
    window = defn.window.duration
    hours = int((window - DAY) / HOUR)
    return f"count_over_time({_tile(tile)}[{format_duration(window - DAY)}:1h] offset 1d) >= {hours}"


def _calendar_parts(defn: SloDefinition) -> tuple[str, str, str]:
    unit = defn.window.unit
    assert unit is not None
    rng = format_duration(_LONGEST[unit] - _ONE_MS)
    in_period = f"{period_index(unit, 'vector(time() - 7200)')} == {period_index(unit, NOW)}"
    return rng, in_period, period_index(unit, NOW)


def calendar_from_tiles(defn: SloDefinition, part: Part, tile: str) -> str:
    """Events of the calendar period so far from the tiles (see `calendar_events` for the raw form)."""
    unit = defn.window.unit
    assert unit is not None
    rng, in_period, now = _calendar_parts(defn)
    hours = f"sum(sum_over_time(({_tile(tile)} and on() ({in_period}))[{rng}:1h]))"
    if defn.budgeting == "Timeslices":
        assert defn.time_slice_window is not None
        since = f"{period_index(unit, f'vector(time() - {_secs(defn.time_slice_window)})')} == {now}"
    else:
        since = f"{period_index(unit, f'vector(time() - {_secs(TILE)})')} == {now}"
    keep = f"({_after_hour_before(timedelta(0))}) and on() ({since})"
    return f"({hours} or vector(0)) + {_edge(defn, part, timedelta(0), keep)}"


def calendar_tiles_cover(defn: SloDefinition, tile: str) -> str:
    """Non-empty when there is a tile for every whole hour of the calendar period before the last two."""
    rng, in_period, _ = _calendar_parts(defn)
    have = f"count_over_time(({_tile(tile)} and on() ({in_period}))[{rng}:1h])"
    need = f"count_over_time((vector(1) and on() ({in_period}))[{rng}:1h])"
    return f"(sum({have}) or vector(0)) >= (({need}) or vector(0))"

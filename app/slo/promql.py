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

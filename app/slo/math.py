"""SLO arithmetic: pure functions, no I/O, every one unit-tested with hand-computed numbers.

Conventions
- An SLI over a window is weighted by events: bad and total are *counts over the whole window* (the
  `increase` of the counters, or the number of time slices), never an average of 5-minute ratios.
- `None` means "no data" and propagates: a ratio over zero events is None, not 0 and not 1, so nothing
  downstream can mistake an absent series for a perfect one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from app.slo.model import CalendarUnit, TimeWindow, parse_duration
from app.times import to_utc

State = Literal["healthy", "at risk", "exhausted", "no data"]
Severity = Literal["page", "ticket"]

HEALTHY: State = "healthy"
AT_RISK: State = "at risk"
EXHAUSTED: State = "exhausted"
NO_DATA: State = "no data"
STATES: tuple[State, ...] = (EXHAUSTED, AT_RISK, NO_DATA, HEALTHY)  # worst first, for sorting
SHOWN_ORDER: tuple[State, ...] = (HEALTHY, AT_RISK, EXHAUSTED, NO_DATA)  # how counts and filters list them

AT_RISK_BUDGET = 0.25  # less than a quarter of the budget left is "at risk"
FORECAST_WINDOWS = ("1h", "6h", "1d")


@dataclass(frozen=True)
class AlertWindowPair:
    """One multiwindow, multi-burn-rate alert of the SRE Workbook: the share of the period's budget it
    stands for and its long/short windows. `factor` is the burn-rate threshold for a given period."""

    severity: Severity
    long_window: str
    short_window: str
    share: float

    @property
    def name(self) -> str:
        return f"{self.severity}-{self.long_window}-{self.short_window}"

    def factor(self, period: timedelta) -> float:
        return burn_rate_threshold(self.share, period, parse_duration(self.long_window))


# SRE Workbook, "Alerting on SLOs", for a 30-day period: 2% of the budget in 1h (14.4×) and 5% in 6h (6×)
# page; 10% in 1d (3×) and 10% in 3d (1×) open a ticket. Short windows are 1/12 of the long ones.
ALERT_PAIRS: tuple[AlertWindowPair, ...] = (
    AlertWindowPair("page", "1h", "5m", 0.02),
    AlertWindowPair("page", "6h", "30m", 0.05),
    AlertWindowPair("ticket", "1d", "2h", 0.10),
    AlertWindowPair("ticket", "3d", "6h", 0.10),
)


def burn_rate_threshold(share: float, period: timedelta, long_window: timedelta) -> float:
    """factor = share × period / long window: the burn rate that spends `share` of the budget in one long
    window. 30d: 0.02 × 720h / 1h = 14.4. Rounded to 9 decimals so 0.05 × 120 reads 6, not
    6.000000000000001."""
    if long_window <= timedelta(0) or period <= timedelta(0):
        raise ValueError("period and long window must be positive")
    return round(share * (period / long_window), 9)


def error_ratio(bad: float | None, total: float | None) -> float | None:
    """bad / total over one window; None without events. An absent bad series with events means 0 bad."""
    if total is None or total <= 0:
        return None
    bad = 0.0 if bad is None else bad
    return min(max(bad / total, 0.0), 1.0)


def sli(bad: float | None, total: float | None) -> float | None:
    """Share of good events, weighted by events: 1 − bad/total."""
    ratio = error_ratio(bad, total)
    return None if ratio is None else 1.0 - ratio


def burn_rate(ratio: float | None, target: float) -> float | None:
    """(1 − SLI) / (1 − target): 1 spends the budget exactly over the period, 14.4 spends it in 50 hours of a
    30-day period."""
    if ratio is None:
        return None
    if not 0.0 < target < 1.0:
        raise ValueError("target must be within (0, 1)")
    return ratio / (1.0 - target)


def budget_remaining(period_burn_rate: float | None) -> float | None:
    """1 − burn rate over the period: 1 untouched, 0 spent, negative once overspent (−0.5 = 150% spent)."""
    return None if period_burn_rate is None else 1.0 - period_burn_rate


def is_low_traffic(events: float | None, min_events: int) -> bool:
    """Fewer than `min_events` events in a window (or none at all): flag it, do not alert on it."""
    return events is None or events < min_events


def alert_firing(
    burn_long: float | None,
    burn_short: float | None,
    factor: float,
    *,
    long_events: float | None = None,
    min_events: int = 0,
) -> bool:
    """Both windows burn faster than `factor`, and the long window holds enough events to mean something."""
    if burn_long is None or burn_short is None:
        return False
    if min_events and is_low_traffic(long_events, min_events):
        return False
    return burn_long > factor and burn_short > factor


def slo_state(
    remaining: float | None, *, has_data: bool, ticket_firing: bool = False, page_firing: bool = False
) -> State:
    """exhausted (≤ 0 left) > at risk (an alert fires or < 25% left) > healthy; no data is never healthy."""
    if not has_data or remaining is None:
        return NO_DATA
    if remaining <= 0:
        return EXHAUSTED
    if ticket_firing or page_firing or remaining < AT_RISK_BUDGET:
        return AT_RISK
    return HEALTHY


def worst_state(states: Iterable[State]) -> State | None:
    """The most severe of `states` in STATES order (exhausted, at risk, no data, healthy)."""
    present = set(states)
    return next((s for s in STATES if s in present), None)


def forecast_exhaustion(
    remaining: float | None,
    burn: float | None,
    at: datetime,
    period_length: timedelta,
    horizon: datetime,
) -> datetime | None:
    """When the budget runs out if it keeps burning at `burn`, or None if not before `horizon`.

    Burning at rate b spends b/period of the budget per unit of time, so `remaining` lasts
    remaining × period / b. Already exhausted: `at`. No data or no burn: None.
    """
    if remaining is None or burn is None:
        return None
    if remaining <= 0:
        return at
    if burn <= 0:
        return None
    when = at + period_length * (remaining / burn)
    return when if when <= horizon else None


# -- periods -----------------------------------------------------------------------------------------------


def calendar_start(at: datetime, unit: CalendarUnit) -> datetime:
    """Start of the calendar week (Monday), month or quarter holding `at`, at 00:00 UTC."""
    at = to_utc(at)
    day = at.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit == "week":
        return day - timedelta(days=day.weekday())
    if unit == "month":
        return day.replace(day=1)
    if unit == "quarter":
        return day.replace(day=1, month=3 * ((at.month - 1) // 3) + 1)
    raise ValueError(f"unknown calendar unit {unit!r}")


def calendar_next(start: datetime, unit: CalendarUnit) -> datetime:
    """The start of the calendar period after the one starting at `start`."""
    if unit == "week":
        return start + timedelta(days=7)
    months = 1 if unit == "month" else 3
    month0 = start.month - 1 + months
    year = start.year + month0 // 12
    return start.replace(year=year, month=month0 % 12 + 1, day=1)


def calendar_previous(start: datetime, unit: CalendarUnit) -> datetime:
    if unit == "week":
        return start - timedelta(days=7)
    months = 1 if unit == "month" else 3
    month0 = start.month - 1 - months
    year = start.year + month0 // 12
    return start.replace(year=year, month=month0 % 12 + 1, day=1)


def period_bounds(window: TimeWindow, at: datetime) -> tuple[datetime, datetime]:
    """(start, end) of the period measured at `at`.

    Rolling: the `duration` ending at `at`. Calendar: the calendar period holding `at`, so `end` is in the
    future and only [start, at] has happened yet.
    """
    at = to_utc(at)
    if window.unit is not None:
        start = calendar_start(at, window.unit)
        return start, calendar_next(start, window.unit)
    assert window.duration is not None
    return at - window.duration, at

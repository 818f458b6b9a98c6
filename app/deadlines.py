"""UK filing deadlines (pure): VAT returns and Making Tax Digital income tax.

Rules, as HMRC publishes them:

- **VAT return**: due 1 calendar month and 7 days after the VAT period ends. Calendar months are counted
  the way HMRC counts them: a period ending on the last day of a month is due on the last day of the next
  month plus 7 days, so 30 Nov -> 31 Dec -> 7 Jan and 31 Jan -> 28/29 Feb -> 7 Mar. With the three quarterly
  staggers (and monthly returners) some period ends every month-end, so a VAT deadline falls on the 7th of
  every month, for the period that ended two month-ends earlier.
- **Income tax quarterly update** (Making Tax Digital): quarters to 5 Jul, 5 Oct, 5 Jan and 5 Apr are due
  on 7 Aug, 7 Nov, 7 Feb and 7 May.
- **Income tax final declaration**: for the tax year ending 5 April, due on the following 31 January.

A deadline is a UK calendar date: it passes at midnight at the end of that day, London time. "Today is the
deadline" counts as 0 days left and is still upcoming.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.times import to_utc

UK = ZoneInfo("Europe/London")

VAT = "vat"
ITSA_QUARTERLY = "itsa_quarterly"
ITSA_FINAL = "itsa_final"
KINDS = (VAT, ITSA_QUARTERLY, ITSA_FINAL)
"""Obligation kinds. `vat` and `itsa_quarterly` match the `obligation` label of `filing_obligations_*`."""

DEFAULT_HORIZON_DAYS = 62

# Quarter end (month, day) -> due (month, day); each is due in the same calendar year as its quarter ends.
_ITSA_QUARTERS: tuple[tuple[tuple[int, int], tuple[int, int]], ...] = (
    ((7, 5), (8, 7)),
    ((10, 5), (11, 7)),
    ((1, 5), (2, 7)),
    ((4, 5), (5, 7)),
)


@dataclass(frozen=True)
class Deadline:
    """One upcoming filing deadline."""

    kind: str
    label: str
    due: date
    days_left: int
    period_end: date

    @property
    def closes_at(self) -> datetime:
        """The instant the deadline passes (midnight at the end of `due`, London time), in UTC."""
        return closes_at(self.due)

    def hours_left(self, now: datetime) -> float:
        """Hours from `now` until the deadline passes (negative once it has)."""
        return (self.closes_at - to_utc(now)).total_seconds() / 3600.0


def uk_today(now: datetime) -> date:
    """The calendar date in the UK at `now`."""
    return to_utc(now).astimezone(UK).date()


def closes_at(due: date) -> datetime:
    """Midnight at the end of the UK day `due`, as a UTC datetime."""
    return datetime.combine(due + timedelta(days=1), time(0), tzinfo=UK).astimezone(UTC)


def _last_day(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def add_calendar_month(day: date) -> date:
    """One calendar month later; a month-end maps to the next month-end (30 Nov -> 31 Dec).

    Other days keep their number, clamped to the month's length (30 Jan -> 28 Feb).
    """
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    last = _last_day(year, month)
    if day.day == _last_day(day.year, day.month):
        return date(year, month, last)
    return date(year, month, min(day.day, last))


def vat_due_date(period_end: date) -> date:
    """Due date of the VAT return for the period ending `period_end`: 1 calendar month and 7 days later."""
    return add_calendar_month(period_end) + timedelta(days=7)


def _fmt(day: date, with_year: bool = True) -> str:
    return f"{day.day} {day.strftime('%b')}" + (f" {day.year}" if with_year else "")


def _month_end(year: int, month: int) -> date:
    while month < 1:
        year, month = year - 1, month + 12
    while month > 12:
        year, month = year + 1, month - 12
    return date(year, month, _last_day(year, month))


def _vat_candidates(today: date, horizon_days: int) -> list[tuple[str, str, date, date]]:
    months = horizon_days // 28 + 4
    out = []
    for offset in range(-3, months):
        period_end = _month_end(today.year, today.month + offset)
        label = f"VAT return (period ended {_fmt(period_end, with_year=False)})"
        out.append((VAT, label, vat_due_date(period_end), period_end))
    return out


def _itsa_candidates(today: date, horizon_days: int) -> list[tuple[str, str, date, date]]:
    out = []
    last_year = (today + timedelta(days=horizon_days)).year + 1
    for year in range(today.year - 1, last_year + 1):
        for (q_month, q_day), (d_month, d_day) in _ITSA_QUARTERS:
            quarter_end = date(year, q_month, q_day)
            label = f"Income tax quarterly update (quarter ended {_fmt(quarter_end)})"
            out.append((ITSA_QUARTERLY, label, date(year, d_month, d_day), quarter_end))
        tax_year_end = date(year, 4, 5)
        label = f"Income tax final declaration (tax year {year - 1} to {year})"
        out.append((ITSA_FINAL, label, date(year + 1, 1, 31), tax_year_end))
    return out


def upcoming_deadlines(now: datetime, horizon_days: int = DEFAULT_HORIZON_DAYS) -> list[Deadline]:
    """Deadlines due from today (UK date at `now`) up to `horizon_days` ahead, soonest first.

    Ties on the same day are ordered VAT, quarterly update, final declaration.
    """
    if horizon_days < 0:
        raise ValueError(f"horizon_days must be >= 0, got {horizon_days}")
    today = uk_today(now)
    found = []
    for kind, label, due, period_end in _vat_candidates(today, horizon_days) + _itsa_candidates(
        today, horizon_days
    ):
        days_left = (due - today).days
        if 0 <= days_left <= horizon_days:
            found.append(Deadline(kind, label, due, days_left, period_end))
    return sorted(found, key=lambda d: (d.due, KINDS.index(d.kind), d.label))


def next_deadline(now: datetime, kind: str) -> Deadline:
    """The next deadline of `kind` that has not yet passed at `now`."""
    if kind not in KINDS:
        raise ValueError(f"unknown deadline kind {kind!r}; expected one of {', '.join(KINDS)}")
    horizon = 31 if kind == VAT else 370
    for deadline in upcoming_deadlines(now, horizon_days=horizon):
        if deadline.kind == kind:
            return deadline
    raise AssertionError(f"no {kind} deadline within {horizon} days of {now}")  # pragma: no cover

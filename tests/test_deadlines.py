"""UK filing deadlines: month arithmetic, year boundaries, leap years, "today is the deadline"."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime

import pytest

from app.deadlines import (
    ITSA_FINAL,
    ITSA_QUARTERLY,
    VAT,
    Deadline,
    add_calendar_month,
    closes_at,
    next_deadline,
    uk_today,
    upcoming_deadlines,
    vat_due_date,
)


def at(y: int, m: int, d: int, hh: int = 12, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=UTC)


@pytest.mark.parametrize(
    ("period_end", "due"),
    [
        (date(2024, 11, 30), date(2025, 1, 7)),  # month-end to month-end, across the year
        (date(2025, 1, 31), date(2025, 3, 7)),  # 31 Jan -> 28 Feb -> 7 Mar
        (date(2024, 1, 31), date(2024, 3, 7)),  # leap year: 31 Jan -> 29 Feb -> 7 Mar
        (date(2024, 2, 29), date(2024, 4, 7)),  # leap-day period end -> 31 Mar -> 7 Apr
        (date(2025, 2, 28), date(2025, 4, 7)),
        (date(2025, 3, 31), date(2025, 5, 7)),
        (date(2025, 4, 30), date(2025, 6, 7)),  # 30 Apr -> 31 May (not 30 May)
        (date(2025, 6, 30), date(2025, 8, 7)),
        (date(2025, 10, 31), date(2025, 12, 7)),
        (date(2025, 12, 31), date(2026, 2, 7)),
    ],
)
def test_vat_due_date_month_ends(period_end: date, due: date) -> None:
    assert vat_due_date(period_end) == due


def test_every_month_end_falls_due_on_the_7th_two_months_later() -> None:
    for year in (2023, 2024, 2025, 2100):  # 2100 is not a leap year
        for month in range(1, 13):
            end = date(year, month, calendar.monthrange(year, month)[1])
            due = vat_due_date(end)
            assert due.day == 7
            assert (due.year * 12 + due.month) - (end.year * 12 + end.month) == 2


def test_vat_due_date_for_a_period_not_ending_at_a_month_end() -> None:
    assert vat_due_date(date(2025, 1, 15)) == date(2025, 2, 22)
    assert vat_due_date(date(2025, 1, 30)) == date(2025, 3, 7)  # 30 Jan -> 28 Feb (clamped) -> 7 Mar
    assert vat_due_date(date(2024, 1, 30)) == date(2024, 3, 7)  # 30 Jan -> 29 Feb -> 7 Mar


def test_add_calendar_month() -> None:
    assert add_calendar_month(date(2025, 12, 31)) == date(2026, 1, 31)
    assert add_calendar_month(date(2025, 12, 15)) == date(2026, 1, 15)
    assert add_calendar_month(date(2024, 2, 29)) == date(2024, 3, 31)
    assert add_calendar_month(date(2025, 5, 30)) == date(2025, 6, 30)  # end of June
    assert add_calendar_month(date(2025, 5, 31)) == date(2025, 6, 30)


def test_upcoming_in_early_january_spans_the_year_boundary() -> None:
    found = upcoming_deadlines(at(2025, 1, 2), horizon_days=40)
    assert [(d.kind, d.due, d.days_left) for d in found] == [
        (VAT, date(2025, 1, 7), 5),
        (ITSA_FINAL, date(2025, 1, 31), 29),
        (VAT, date(2025, 2, 7), 36),
        (ITSA_QUARTERLY, date(2025, 2, 7), 36),
    ]
    labels = [d.label for d in found]
    assert labels == [
        "VAT return (period ended 30 Nov)",
        "Income tax final declaration (tax year 2023 to 2024)",
        "VAT return (period ended 31 Dec)",
        "Income tax quarterly update (quarter ended 5 Jan 2025)",
    ]


def test_today_is_the_deadline_counts_as_zero_days_left() -> None:
    found = upcoming_deadlines(at(2025, 8, 7, 23, 0), horizon_days=0)  # 23:00 UTC = 00:00 BST on the 8th
    assert found == []
    found = upcoming_deadlines(at(2025, 8, 7, 22, 59), horizon_days=0)  # 23:59 BST on the 7th
    assert [(d.kind, d.days_left) for d in found] == [(VAT, 0), (ITSA_QUARTERLY, 0)]
    assert found[0].label == "VAT return (period ended 30 Jun)"
    assert found[1].label == "Income tax quarterly update (quarter ended 5 Jul 2025)"


def test_deadline_passes_at_uk_midnight() -> None:
    # Summer (BST, UTC+1): the 7 Aug deadline closes at 23:00 UTC on 7 Aug.
    assert closes_at(date(2025, 8, 7)) == datetime(2025, 8, 7, 23, 0, tzinfo=UTC)
    # Winter (GMT): the 31 Jan deadline closes at midnight UTC.
    assert closes_at(date(2026, 1, 31)) == datetime(2026, 2, 1, 0, 0, tzinfo=UTC)
    deadline = next_deadline(at(2026, 1, 31, 18), ITSA_FINAL)
    assert deadline.days_left == 0
    assert deadline.hours_left(at(2026, 1, 31, 18)) == pytest.approx(6.0)


def test_uk_today_and_naive_times_as_utc() -> None:
    assert uk_today(datetime(2025, 6, 30, 23, 30)) == date(2025, 7, 1)  # naive = UTC, London is BST
    assert uk_today(datetime(2025, 12, 31, 23, 30, tzinfo=UTC)) == date(2025, 12, 31)


def test_leap_year_horizon_and_february() -> None:
    found = upcoming_deadlines(at(2024, 2, 8), horizon_days=60)
    vat = [d for d in found if d.kind == VAT]
    assert [(d.period_end, d.due) for d in vat] == [
        (date(2024, 1, 31), date(2024, 3, 7)),
        (date(2024, 2, 29), date(2024, 4, 7)),
    ]
    assert vat[1].label == "VAT return (period ended 29 Feb)"
    assert vat[0].days_left == 28  # 8 Feb -> 7 Mar across 29 Feb


def test_itsa_quarterly_dates_and_final_declaration() -> None:
    found = upcoming_deadlines(at(2025, 4, 6), horizon_days=366)
    quarterly = [d.due for d in found if d.kind == ITSA_QUARTERLY]
    assert quarterly == [date(2025, 5, 7), date(2025, 8, 7), date(2025, 11, 7), date(2026, 2, 7)]
    final = [d for d in found if d.kind == ITSA_FINAL]
    assert [(d.due, d.period_end, d.label) for d in final] == [
        (date(2026, 1, 31), date(2025, 4, 5), "Income tax final declaration (tax year 2024 to 2025)")
    ]
    assert len([d for d in found if d.kind == VAT]) == 13  # 7 Apr 2025 .. 7 Apr 2026 inclusive


def test_sorted_soonest_first_and_horizon_respected() -> None:
    found = upcoming_deadlines(at(2025, 10, 20), horizon_days=120)
    assert [d.due for d in found] == sorted(d.due for d in found)
    # 120 days from 20 Oct 2025 reach 17 Feb 2026: VAT on 7 Nov, 7 Dec, 7 Jan and 7 Feb, ITSA quarterly
    # updates on 7 Nov and 7 Feb, the final declaration on 31 Jan.
    assert len(found) == 7
    assert all(0 <= d.days_left <= 120 for d in found)
    assert all(isinstance(d, Deadline) for d in found)
    with pytest.raises(ValueError, match="horizon_days"):
        upcoming_deadlines(at(2025, 10, 20), horizon_days=-1)


def test_next_deadline() -> None:
    assert next_deadline(at(2025, 12, 8), VAT).due == date(2026, 1, 7)
    assert next_deadline(at(2025, 12, 8), VAT).label == "VAT return (period ended 30 Nov)"
    assert next_deadline(at(2025, 12, 8), ITSA_QUARTERLY).due == date(2026, 2, 7)
    assert next_deadline(at(2025, 2, 1), ITSA_FINAL).due == date(2026, 1, 31)
    assert next_deadline(at(2025, 12, 7, 10), VAT).days_left == 0
    with pytest.raises(ValueError, match="unknown deadline kind"):
        next_deadline(at(2025, 12, 8), "corporation_tax")

"""SLO arithmetic with hand-computed numbers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from app.slo import math as m
from app.slo.model import TimeWindow, format_duration, parse_duration

AT = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
D30 = timedelta(days=30)


def test_error_ratio_and_sli_are_weighted_by_events():
    # 3 bad of 1,000 → 0.3% errors, SLI 99.7%
    assert m.error_ratio(3, 1000) == pytest.approx(0.003)
    assert m.sli(3, 1000) == pytest.approx(0.997)
    # two windows pooled by events, not by averaging their ratios: (1+30)/(100+10000), not (1%+0.3%)/2
    assert m.sli(1 + 30, 100 + 10_000) == pytest.approx(1 - 31 / 10_100)
    assert m.error_ratio(None, 50) == 0.0  # no bad series but events: nothing failed
    assert m.error_ratio(5, 0) is None and m.error_ratio(5, None) is None  # no events: no data
    assert m.sli(0, 0) is None
    assert m.error_ratio(12, 10) == 1.0  # counters out of step are clamped, never above 100%


def test_burn_rate_is_error_ratio_over_budget():
    assert m.burn_rate(0.01, 0.99) == pytest.approx(1.0)
    assert m.burn_rate(0.0144, 0.999) == pytest.approx(14.4)
    assert m.burn_rate(0.25, 0.75) == 1.0  # exact in binary
    assert m.burn_rate(None, 0.99) is None
    with pytest.raises(ValueError):
        m.burn_rate(0.1, 1.0)


def test_budget_remaining_goes_negative_once_overspent():
    assert m.budget_remaining(0.25) == 0.75
    assert m.budget_remaining(1.0) == 0.0
    assert m.budget_remaining(1.5) == -0.5
    assert m.budget_remaining(None) is None


def test_burn_rate_thresholds_are_the_workbook_ones_for_30_days():
    assert [p.factor(D30) for p in m.ALERT_PAIRS] == [14.4, 6.0, 3.0, 1.0]
    assert [p.name for p in m.ALERT_PAIRS] == ["page-1h-5m", "page-6h-30m", "ticket-1d-2h", "ticket-3d-6h"]
    assert [p.severity for p in m.ALERT_PAIRS] == ["page", "page", "ticket", "ticket"]


def test_thresholds_keep_the_budget_share_for_other_periods():
    # factor = share × period / long window
    week = timedelta(days=7)
    assert [p.factor(week) for p in m.ALERT_PAIRS] == [3.36, 1.4, 0.7, pytest.approx(0.233333333)]
    d28 = timedelta(days=28)
    assert [p.factor(d28) for p in m.ALERT_PAIRS] == [13.44, 5.6, 2.8, pytest.approx(0.933333333)]
    assert m.burn_rate_threshold(0.02, timedelta(days=90), timedelta(hours=1)) == 43.2
    with pytest.raises(ValueError):
        m.burn_rate_threshold(0.02, D30, timedelta(0))


def test_alert_fires_only_when_both_windows_burn_and_traffic_is_enough():
    assert m.alert_firing(15.0, 20.0, 14.4)
    assert not m.alert_firing(15.0, 10.0, 14.4)  # short window recovered
    assert not m.alert_firing(10.0, 20.0, 14.4)  # long window not burning enough
    assert not m.alert_firing(14.4, 14.4, 14.4)  # strictly greater
    assert not m.alert_firing(None, 20.0, 14.4)
    assert not m.alert_firing(50.0, 50.0, 14.4, long_events=12, min_events=20)  # low traffic
    assert m.alert_firing(50.0, 50.0, 14.4, long_events=20, min_events=20)
    assert not m.alert_firing(50.0, 50.0, 14.4, long_events=None, min_events=20)


def test_states_never_call_missing_data_healthy():
    assert m.slo_state(0.9, has_data=True) == m.HEALTHY
    assert m.slo_state(0.2, has_data=True) == m.AT_RISK  # under a quarter left
    assert m.slo_state(0.25, has_data=True) == m.HEALTHY
    assert m.slo_state(0.9, has_data=True, ticket_firing=True) == m.AT_RISK
    assert m.slo_state(0.9, has_data=True, page_firing=True) == m.AT_RISK
    assert m.slo_state(0.0, has_data=True) == m.EXHAUSTED
    assert m.slo_state(-0.4, has_data=True, page_firing=True) == m.EXHAUSTED
    assert m.slo_state(0.9, has_data=False) == m.NO_DATA
    assert m.slo_state(None, has_data=True) == m.NO_DATA
    assert m.worst_state([m.HEALTHY, m.NO_DATA, m.AT_RISK]) == m.AT_RISK
    assert m.worst_state([m.HEALTHY, m.NO_DATA]) == m.NO_DATA
    assert m.worst_state([]) is None


def test_low_traffic_flag():
    assert m.is_low_traffic(19, 20) and not m.is_low_traffic(20, 20) and m.is_low_traffic(None, 20)


def test_forecast_of_budget_exhaustion():
    # 60% left, burning 2× on a 30-day period: 0.6 × 30 d / 2 = 9 days
    assert m.forecast_exhaustion(0.6, 2.0, AT, D30, AT + D30) == AT + timedelta(days=9)
    # burning 0.5×: 36 days, beyond the horizon → not within the period
    assert m.forecast_exhaustion(0.6, 0.5, AT, D30, AT + D30) is None
    assert m.forecast_exhaustion(-0.1, 2.0, AT, D30, AT + D30) == AT  # already exhausted
    assert m.forecast_exhaustion(0.6, 0.0, AT, D30, AT + D30) is None
    assert m.forecast_exhaustion(None, 2.0, AT, D30, AT + D30) is None
    assert m.forecast_exhaustion(0.6, None, AT, D30, AT + D30) is None


def test_calendar_periods_start_at_utc_boundaries():
    at = datetime(2026, 11, 28, 2, 30, tzinfo=UTC)  # a Saturday
    assert m.calendar_start(at, "week") == datetime(2026, 11, 23, tzinfo=UTC)  # Monday
    assert m.calendar_start(at, "month") == datetime(2026, 11, 1, tzinfo=UTC)
    assert m.calendar_start(at, "quarter") == datetime(2026, 10, 1, tzinfo=UTC)
    assert m.calendar_next(datetime(2026, 12, 1, tzinfo=UTC), "month") == datetime(2027, 1, 1, tzinfo=UTC)
    assert m.calendar_next(datetime(2026, 10, 1, tzinfo=UTC), "quarter") == datetime(2027, 1, 1, tzinfo=UTC)
    assert m.calendar_previous(datetime(2026, 1, 1, tzinfo=UTC), "month") == datetime(2025, 12, 1, tzinfo=UTC)
    assert m.calendar_previous(datetime(2026, 1, 1, tzinfo=UTC), "quarter") == datetime(
        2025, 10, 1, tzinfo=UTC
    )
    assert m.calendar_previous(datetime(2026, 1, 5, tzinfo=UTC), "week") == datetime(2025, 12, 29, tzinfo=UTC)
    # other zones are converted to UTC first: 01:30 on the 1st in UTC+2 is still November in UTC
    plus_two = timezone(timedelta(hours=2))
    assert m.calendar_start(datetime(2026, 12, 1, 1, 30, tzinfo=plus_two), "month") == datetime(
        2026, 11, 1, tzinfo=UTC
    )
    naive = datetime(2026, 12, 1, 0, 30)  # taken as UTC
    assert m.calendar_start(naive, "month") == datetime(2026, 12, 1, tzinfo=UTC)
    with pytest.raises(ValueError):
        m.calendar_start(at, "year")  # type: ignore[arg-type]


def test_period_bounds_rolling_and_calendar():
    assert m.period_bounds(TimeWindow(duration=D30), AT) == (AT - D30, AT)
    start, end = m.period_bounds(TimeWindow(unit="month"), datetime(2026, 2, 10, tzinfo=UTC))
    assert (start, end) == (datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC))


def test_durations_parse_and_format():
    assert parse_duration("5m") == timedelta(minutes=5)
    assert parse_duration("1h30m") == timedelta(minutes=90)
    assert parse_duration("4w") == timedelta(days=28)
    for bad in ("", "5", "5x", "1M", "-1d", "0m"):
        with pytest.raises(ValueError):
            parse_duration(bad)
    assert format_duration(timedelta(days=30)) == "30d"
    assert format_duration(timedelta(minutes=90)) == "1h30m"
    assert format_duration(timedelta(days=31) - timedelta(milliseconds=1)) == "30d23h59m59s999ms"
    with pytest.raises(ValueError):
        format_duration(timedelta(0))


def test_nominal_period_lengths_and_labels():
    assert TimeWindow(unit="week").nominal == timedelta(days=7)
    assert TimeWindow(unit="month").nominal == D30
    assert TimeWindow(unit="quarter").nominal == timedelta(days=90)
    assert TimeWindow(unit="month").label == "calendar month"
    assert TimeWindow(duration=timedelta(days=28)).label == "28d"

from datetime import UTC, datetime, timedelta

import pytest

from app.timerange import DEFAULT_PRESET, pinned_text, pinned_time, time_range
from app.units import counted, format_age, format_seconds, format_value

NOW = datetime(2026, 11, 28, 2, 17, 42, 123, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (0.0123, "ratio", "1.23%"),
        (0.000512, "ratio", "0.0512%"),
        (0.99953, "ratio", "99.953%"),
        (0.25, "seconds", "250 ms"),
        (4.2, "seconds", "4.2 s"),
        (12.6, "req/s", "12.6 req/s"),
        (1234.0, "count", "1,234"),
        (14.4, "x", "14.40×"),
        (None, "ratio", "no data"),
        (float("nan"), "seconds", "no data"),
    ],
)
def test_format_value_always_says_the_unit(value, unit, text):
    assert format_value(value, unit) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.004, "4 ms"), (42, "42 s"), (720, "12 min"), (6 * 3600, "6.0 h"), (3.5 * 86400, "3.5 days")],
)
def test_format_seconds_picks_the_spoken_unit(seconds, text):
    assert format_seconds(seconds) == text


def test_a_count_of_one_is_singular_and_every_other_plural():
    assert [counted(n, "day") for n in (0, 1, 2, 1500)] == ["0 days", "1 day", "2 days", "1,500 days"]


def test_format_age():
    assert format_age(NOW - timedelta(seconds=20), NOW) == "just now"
    assert format_age(NOW - timedelta(minutes=3), NOW) == "3 min ago"


def test_time_range_floors_to_the_minute_and_falls_back_to_the_default():
    tr = time_range("6h", NOW)
    assert tr.end == datetime(2026, 11, 28, 2, 17, tzinfo=UTC)
    assert tr.duration == timedelta(hours=6)
    assert tr.label == "Last 6 hours" and tr.promql_window == "6h"
    assert time_range("'; drop", NOW).preset == DEFAULT_PRESET


def test_a_pinned_time_is_a_past_minute_in_utc():
    now = datetime(2026, 11, 28, 5, 9, tzinfo=UTC)
    assert pinned_time(None, now) is None and pinned_time("", now) is None
    assert pinned_time("2026-11-23T09:00Z", now) == datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert pinned_time("2026-11-23T09:00:42", now) == datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # naive is UTC
    assert pinned_time("2026-11-23T10:00+01:00", now) == datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="is in the future"):
        pinned_time("2026-11-28T06:00Z", now)
    with pytest.raises(ValueError, match="is not a time"):
        pinned_time("last tuesday", now)
    assert pinned_text(datetime(2026, 11, 23, 9, 0, tzinfo=UTC)) == "2026-11-23T09:00Z"
    assert pinned_time(pinned_text(now), now) == now

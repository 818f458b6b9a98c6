"""app.times: user-typed times in every accepted form, refused in words (never OverflowError) outside the
years Sextant can compute with; and the pages' and CLI's parsers built on it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app import times, traces
from app.timerange import pinned_time

NOW = datetime(2026, 11, 28, 5, 9, tzinfo=UTC)
NINE_UTC = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-23T09:00Z",
        "2026-11-23T09:00:00z",
        "2026-11-23T09:00:00+00:00",
        "2026-11-23T14:00+05:00",
        "2026-11-23T14:00 05:00",  # `?at=…T14:00+05:00` typed by hand: URL decoding made the `+` a space
        "2026-11-23T14:00:00.000 0500",
        "2026-11-23 14:00 05:00",
        "2026-11-23T04:00-05:00",
        "2026-11-23T09:00",  # naive: UTC
        "2026-11-23 09:00",
        "  2026-11-23T09:00Z  ",
    ],
)
def test_every_accepted_form_reads_as_the_same_utc_time(text):
    assert times.parse_time(text) == NINE_UTC


def test_a_date_alone_is_its_midnight_utc():
    assert times.parse_time("2026-11-23") == datetime(2026, 11, 23, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("0001-01-01", "is before 1970"),  # today: accepted, then `at - WEEK` overflows in the overview
        ("0001-01-01T00:00+14:00", "is before 1970"),  # today: OverflowError converting to UTC
        ("9999-12-31T23:59-12:00", "is after 2200"),  # today: OverflowError converting to UTC
        ("9999-12-31", "is after 2200"),
        ("2262-04-12T00:00Z", "is after 2200"),  # past pandas' last nanosecond timestamp
        ("1969-12-31T23:59:59Z", "is before 1970"),
        ("1970-01-01T00:30+01:00", "is before 1970"),  # 23:30 UTC the day before
        ("last tuesday", "is not a time such as 2026-11-23T09:00Z"),
        ("", "is not a time"),
        ("Z", "is not a time"),
        ("2026-11-23 05:00", None),  # fine: a space is also a date/time separator
    ],
)
def test_times_out_of_range_or_unreadable_are_refused_in_words(text, words):
    if words is None:
        assert times.parse_time(text) == datetime(2026, 11, 23, 5, tzinfo=UTC)
        return
    with pytest.raises(ValueError, match=words):
        times.parse_time(text)


def test_before_refuses_times_from_it_on_as_the_future():
    assert times.parse_time("2026-11-28T05:08:59Z", before=NOW) < NOW
    with pytest.raises(ValueError, match="28 Nov 2026 05:09 UTC is in the future"):
        times.parse_time("2026-11-28T05:09Z", before=NOW)


def test_messages_quote_long_text_cut_short():
    with pytest.raises(ValueError) as refused:
        times.parse_time("9" * 10_000)
    assert len(str(refused.value)) < 120 and "…" in str(refused.value)


@settings(max_examples=200)
@given(st.text())
def test_any_text_is_a_time_in_range_or_a_value_error(text):
    try:
        at = times.parse_time(text, before=NOW)
    except ValueError as exc:
        assert str(exc)
    else:
        assert times.EARLIEST <= at < NOW and at.tzinfo == UTC
        at - timedelta(days=90), at + timedelta(days=90)  # the steps pages take never overflow


OFFSETS = st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(lambda minutes: timezone(timedelta(minutes=minutes)))


@settings(max_examples=100)
@given(st.datetimes(timezones=st.one_of(st.none(), OFFSETS)))
def test_rfc3339_round_trips_every_time_in_range(at):
    try:
        utc = times.to_utc(at)
    except OverflowError:
        return  # not a time anybody can write in UTC
    text = times.rfc3339(at)
    assert text.endswith("Z")
    if times.EARLIEST <= utc < times.LATEST:
        assert times.parse_time(text) == utc


# -- the callers -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("0001-01-01", "before 1970"),
        ("0001-01-01T00:00+14:00", "before 1970"),
        ("9999-12-31T23:59-12:00", "after 2200"),
        ("2026-11-28T05:10Z", "in the future"),
    ],
)
def test_a_pinned_time_out_of_range_is_a_value_error_not_an_overflow(text, words):
    with pytest.raises(ValueError, match=words):
        pinned_time(text, NOW)


def test_a_pinned_time_reads_a_plus_turned_into_a_space_and_keeps_the_current_minute():
    assert pinned_time("2026-11-23T14:00 05:00", NOW) == NINE_UTC
    assert pinned_time("2026-11-28T05:09:59Z", NOW + timedelta(seconds=30)) == NOW


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("0001-01-01T00:00+01:00", "0001-01-02T00:00+01:00"),  # today: OverflowError
        ("9999-12-01T00:00Z", "9999-12-31T23:59Z"),  # today: accepted, near the end of datetime
        ("2026-11-23T09:00Z", "9999-12-31T23:59-12:00"),
    ],
)
def test_traces_window_out_of_range_is_not_usable(start, end):
    assert traces.parse_time(start) is None or traces.parse_time(end) is None
    assert traces.parse_window(start, end) is None


def test_traces_window_reads_offsets_with_a_plus_turned_into_a_space():
    assert traces.parse_window("2026-11-23T14:00 05:00", "2026-11-23T15:00+05:00") == (
        NINE_UTC,
        NINE_UTC + timedelta(hours=1),
    )


def test_one_reading_of_a_naive_time_everywhere_it_is_converted():
    """A naive time is UTC for every conversion (two of the old copies read it as local time)."""
    naive, aware = (
        datetime(2026, 11, 23, 9, 0, 30),
        datetime(2026, 11, 23, 10, 0, 30, tzinfo=timezone(timedelta(hours=1))),
    )
    for at in (naive, aware):
        assert times.rfc3339(at) == "2026-11-23T09:00:30Z"
        assert times.rfc3339(at, timespec="minutes") == "2026-11-23T09:00Z"
        assert times.unix(at) == 1_795_424_430.0
        assert times.micros(at) == 1_795_424_430_000_000

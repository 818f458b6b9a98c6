"""Time as Sextant reads it from people and writes it for machines: one home for both.

People type times into links (`?at=`, the Traces page's `start`/`end`) and the command line (`--at`).
`parse_time` reads every form those accept — `Z` or an offset, a naive time (taken as UTC), a date alone —
and refuses, with a `ValueError` in plain words, anything outside the years Sextant can compute with.
The bounds are not arbitrary: pages step back weeks and months from a time and forward to deadlines, and
Python's datetime stops at year 9999 while pandas' nanosecond timestamps stop in April 2262, so a time
near either end turns into an `OverflowError` deep in a page. Nothing before 1970 was ever recorded.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

EPOCH = EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)  # far from pandas' 2262 limit, even after a 90-day step
EXAMPLE = "2026-11-23T09:00Z"
_FIRST, _LAST = datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)  # stand-ins on overflow
_SHOWN_CHARS = 40

# In a URL query a literal `+` means a space, so `?at=2026-11-23T09:00+05:00` typed by hand arrives as
# `2026-11-23T09:00 05:00`. A space followed by an offset at the end of a time can only have been a `+`.
_SPACED_OFFSET = re.compile(r"^(?P<time>.*\d\d:\d\d(?::\d\d(?:[.,]\d+)?)?) (?P<offset>\d\d(?::?\d\d)?)$")


def to_utc(at: datetime) -> datetime:
    """`at` in UTC; a naive time is taken to be UTC already."""
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(UTC)


def rfc3339(at: datetime, timespec: str = "auto") -> str:
    """`at` as RFC 3339 in UTC with a `Z`: 2026-11-23T09:00:00Z (`timespec` as `datetime.isoformat`'s:
    "minutes" gives the short form links use, 2026-11-23T09:00Z)."""
    return to_utc(at).isoformat(timespec=timespec).replace("+00:00", "Z")


def unix(at: datetime) -> float:
    """Seconds since the epoch (Prometheus's times); a naive time is UTC."""
    return to_utc(at).timestamp()


def micros(at: datetime) -> int:
    """Whole microseconds since the epoch (Jaeger's times), exactly; a naive time is UTC."""
    return (to_utc(at) - EPOCH) // timedelta(microseconds=1)


def start_of_hour(at: datetime) -> datetime:
    """`at` floored to its hour: the instant past comparisons are made at, so that their answers keep for
    an hour instead of a minute."""
    return at.replace(minute=0, second=0, microsecond=0)


def utc_now() -> datetime:
    """Now in UTC, to the second."""
    return datetime.now(UTC).replace(microsecond=0)


def parse_time(text: str, *, before: datetime | None = None) -> datetime:
    """The UTC time a person wrote in `text` (ISO 8601 / RFC 3339: 2026-11-23T09:00Z,
    2026-11-23T10:00+01:00, 2026-11-23T09:00 naive as UTC, 2026-11-23 as its midnight UTC).

    Raises ValueError, in words fit for a page, when the text is not such a time, lies before 1970 or after
    2200, or (when `before` is given) at or after `before`, "in the future". Never raises anything else.
    """
    cleaned = _restore_plus(text.strip())
    if cleaned[-1:] in ("Z", "z"):
        cleaned = cleaned[:-1] + "+00:00"
    try:
        written = datetime.fromisoformat(cleaned)
    except ValueError:
        raise ValueError(f"{_shown(text)} is not a time such as {EXAMPLE}") from None
    try:
        at = to_utc(written)
    except OverflowError:  # 0001-01-01T00:00+14:00 is before year 1 in UTC; 9999-12-31T23:59-12:00 after 9999
        at = _FIRST if written.year < EARLIEST.year else _LAST
    if at < EARLIEST:
        raise ValueError(f"{_shown(text)} is before 1970: Sextant has no data that old")
    if at >= LATEST:
        raise ValueError(f"{_shown(text)} is after {LATEST.year}: too far ahead to show anything")
    if before is not None and at >= before:
        raise ValueError(f"{at:%d %b %Y %H:%M} UTC is in the future")
    return at


def _restore_plus(text: str) -> str:
    found = _SPACED_OFFSET.match(text)
    return f"{found['time']}+{found['offset']}" if found else text


def _shown(text: str) -> str:
    """The text as a message quotes it: in quotes, control characters visible, long text cut short."""
    cut = text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 1] + "…"
    return repr(cut)

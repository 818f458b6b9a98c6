"""ISO weeks as the weekly review names them: `2026-W48`, Monday 00:00 to the next Monday 00:00 UTC."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from app.times import EARLIEST, LATEST, to_utc

WEEK = timedelta(days=7)
_TEXT = re.compile(r"^\s*(\d{4})-?W(\d{1,2})\s*$", re.IGNORECASE)
EXAMPLE = "2026-W48"


@dataclass(frozen=True, order=True)
class IsoWeek:
    year: int
    week: int

    def __post_init__(self) -> None:
        if not EARLIEST.year <= self.year < LATEST.year:
            raise ValueError(
                f"{self.year} is outside the years Sextant can show ({EARLIEST.year} to {LATEST.year - 1})"
            )
        last = date(self.year, 12, 28).isocalendar().week  # 28 December is always in the year's last week
        if not 1 <= self.week <= last:
            raise ValueError(f"{self.year} has weeks 1 to {last}, not {self.week}")

    def __str__(self) -> str:
        return f"{self.year}-W{self.week:02d}"

    @property
    def start(self) -> datetime:
        """Monday 00:00 UTC."""
        monday = date.fromisocalendar(self.year, self.week, 1)
        return datetime(monday.year, monday.month, monday.day, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """The next Monday 00:00 UTC (not part of the week)."""
        return self.start + WEEK

    @property
    def label(self) -> str:
        """`Week 48, Mon 23 Nov – Sun 29 Nov 2026`."""
        last = self.end - timedelta(days=1)
        return f"Week {self.week}, {self.start:%a %d %b} – {last:%a %d %b %Y}"

    def previous(self) -> IsoWeek:
        return week_of(self.start - WEEK)

    def next(self) -> IsoWeek:
        return week_of(self.end)

    def is_over(self, now: datetime) -> bool:
        return to_utc(now) >= self.end


def week_of(at: datetime) -> IsoWeek:
    """The ISO week (UTC) that holds `at`."""
    year, week, _ = to_utc(at).isocalendar()
    return IsoWeek(year, week)


def last_full_week(now: datetime) -> IsoWeek:
    """The latest week that has ended at `now`: on a Monday morning, the week that just ended."""
    return week_of(now).previous()


def parse_week(text: str) -> IsoWeek:
    """`2026-W48` (or `2026W48`, `2026-w48`) as an IsoWeek; ValueError in words for a page or the CLI."""
    found = _TEXT.match(text or "")
    if not found:
        shown = repr(text if len(text or "") <= 40 else text[:39] + "…")
        raise ValueError(f"{shown} is not a week such as {EXAMPLE}")
    return IsoWeek(int(found[1]), int(found[2]))

"""The time range every page shows, picked from presets and carried in the URL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from app.times import parse_time, rfc3339

PRESETS: dict[str, timedelta] = {
    "1h": timedelta(hours=1),
    "6h": timedelta(hours=6),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}
PRESET_LABELS: dict[str, str] = {
    "1h": "Last hour",
    "6h": "Last 6 hours",
    "24h": "Last 24 hours",
    "7d": "Last 7 days",
    "30d": "Last 30 days",
}
DEFAULT_PRESET = "24h"

REFRESH_CHOICES: dict[str, int | None] = {"off": None, "30s": 30, "1m": 60, "5m": 300}


@dataclass(frozen=True)
class TimeRange:
    """A closed interval ending at `end`; `preset` names it ("24h") for labels and links."""

    preset: str
    start: datetime
    end: datetime

    @property
    def duration(self) -> timedelta:
        return self.end - self.start

    @property
    def label(self) -> str:
        return PRESET_LABELS.get(self.preset, self.preset)

    @property
    def promql_window(self) -> str:
        """The range as a PromQL duration, e.g. `24h` or `7d`."""
        return self.preset


def time_range(preset: str, now: datetime) -> TimeRange:
    """The preset's range ending at `now` floored to the minute, so equal requests share a cache key."""
    if preset not in PRESETS:
        preset = DEFAULT_PRESET
    end = now.replace(second=0, microsecond=0)
    return TimeRange(preset=preset, start=end - PRESETS[preset], end=end)


def pinned_time(text: str | None, now: datetime) -> datetime | None:
    """The time of a frozen view (`?at=2026-11-23T09:00Z`), floored to the minute; None without one.

    Raises ValueError, in words for the page, when the text is not a time `app.times.parse_time` reads,
    lies outside the years Sextant can show, or lies after `now`'s minute. A time without a zone is UTC.
    """
    if not text:
        return None
    next_minute = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    return parse_time(text, before=next_minute).replace(second=0, microsecond=0)


def pinned_text(at: datetime) -> str:
    """`at` as the `?at=` value that pins it: 2026-11-23T09:00Z."""
    return rfc3339(at, timespec="minutes")

"""What an SLO is once loaded: one shape for both file formats (OpenSLO v1 and Sloth prometheus/v1).

Everything downstream (math, rule generation, status) works on `SloDefinition` only, so a definition read
from a Sloth file and one read from an OpenSLO file behave identically.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Literal

DOMAINS = ("ingestion", "extraction", "reconciliation", "filing", "assistant")
# Each domain in words, wherever it is shown; a title starts with the name of the page that shows it.
DOMAIN_TITLES = {
    "ingestion": "Ingestion",
    "extraction": "Extraction",
    "reconciliation": "Tax · reconciliation",
    "filing": "Tax · HMRC filing",
    "assistant": "Assistant",
}

# The windows every SLO is measured over (besides its period), shortest first. Alerting pairs use them.
WINDOWS: tuple[str, ...] = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")

# Default minimum number of events in an alert's long window before a burn-rate alert may fire: below it
# a handful of failures would page someone at 3am for one user. Overridable per SLO (`sextant/min-events`).
DEFAULT_MIN_EVENTS = 20

CalendarUnit = Literal["week", "month", "quarter"]
Budgeting = Literal["Occurrences", "Timeslices"]
Operator = Literal["gte", "gt", "lte", "lt"]

_DURATION = re.compile(r"^(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_UNIT_SECONDS = (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60), ("s", 1))


def parse_duration(text: str) -> timedelta:
    """A Prometheus-style duration without milliseconds: `5m`, `1h30m`, `28d`, `4w`. Raises ValueError."""
    if not isinstance(text, str):
        raise ValueError(f"{text!r} is not a duration such as 5m, 6h, 7d or 4w")
    return _parse_duration(text)


@functools.lru_cache(maxsize=256)  # a board of 10,000 SLOs reads its few alert windows 40,000 times
def _parse_duration(text: str) -> timedelta:
    match = _DURATION.match(text.strip())
    if not match or not text.strip() or not any(match.groups()):
        raise ValueError(f"{text!r} is not a duration such as 5m, 6h, 7d or 4w")
    weeks, days, hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
    value = timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes, seconds=seconds)
    if value <= timedelta(0):
        raise ValueError(f"{text!r} must be longer than zero")
    return value


def format_duration(value: timedelta) -> str:
    """The shortest Prometheus duration for `value` (`30d`, `1h`, `90s` → `1m30s`); milliseconds kept."""
    total_ms = round(value.total_seconds() * 1000)
    if total_ms <= 0:
        raise ValueError("a duration must be positive")
    seconds, millis = divmod(total_ms, 1000)
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    if millis:
        parts.append(f"{millis}ms")
    return "".join(parts)


@dataclass(frozen=True)
class TimeWindow:
    """The SLO period: rolling (`duration`) or calendar-aligned (`unit`, in UTC)."""

    duration: timedelta | None = None
    unit: CalendarUnit | None = None

    @property
    def is_calendar(self) -> bool:
        return self.unit is not None

    @property
    def nominal(self) -> timedelta:
        """The length used to scale alert thresholds; calendar months count as 30 days, quarters as 90
        (OpenSLO's own reading of `1M` and `1Q`), because the generated rules cannot change each month."""
        if self.unit == "week":
            return timedelta(days=7)
        if self.unit == "month":
            return timedelta(days=30)
        if self.unit == "quarter":
            return timedelta(days=90)
        assert self.duration is not None
        return self.duration

    @property
    def label(self) -> str:
        """How the window is named in the status JSON: `30d`, or `calendar month`."""
        return f"calendar {self.unit}" if self.unit else format_duration(self.nominal)


@dataclass(frozen=True)
class Indicator:
    """Queries with `{{.window}}` placeholders.

    Occurrences: `total` with one of `good`/`bad` (per-second rates, as Sloth queries are written).
    Timeslices: either the same ratio per slice compared with `threshold` (the `timeSliceTarget`), or a
    gauge `query` per slice compared with `threshold` using `op`.
    """

    total: str | None = None
    good: str | None = None
    bad: str | None = None
    query: str | None = None  # gauge (threshold metric)

    def queries(self) -> dict[str, str]:
        return {
            k: v
            for k, v in (("good", self.good), ("bad", self.bad), ("total", self.total), ("query", self.query))
            if v is not None
        }


@dataclass(frozen=True)
class AlertingOptions:
    """What the generated alerts look like (from Sloth's `alerting`, defaults for OpenSLO)."""

    name: str = "SLOErrorBudgetBurn"
    page: bool = True
    ticket: bool = True
    labels: tuple[tuple[str, str], ...] = ()
    annotations: tuple[tuple[str, str], ...] = ()
    page_labels: tuple[tuple[str, str], ...] = ()
    ticket_labels: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class SloDefinition:
    name: str
    service: str
    domain: str
    team: str
    target: float
    window: TimeWindow
    indicator: Indicator
    budgeting: Budgeting = "Occurrences"
    display_name: str = ""
    description: str = ""
    runbook: str | None = None
    labels: tuple[tuple[str, str], ...] = ()
    time_slice_window: timedelta | None = None
    threshold: float | None = None
    op: Operator = "gte"
    min_events: int = DEFAULT_MIN_EVENTS
    alerting: AlertingOptions = field(default_factory=AlertingOptions)
    source: Path | None = None
    source_format: Literal["openslo", "sloth"] = "openslo"

    @property
    def title(self) -> str:
        return self.display_name or self.name

    @property
    def error_budget(self) -> float:
        return 1.0 - self.target

    def fingerprint(self) -> str:
        """Short hash of everything that changes the recorded numbers: status compares it with the
        `sextant_hash` label of the loaded rules and ignores recorded series of a stale rule file."""
        return self._fingerprint

    @functools.cached_property
    def _fingerprint(self) -> str:  # a definition never changes: hashed once, not at every board
        parts = [
            self.name,
            self.service,
            self.domain,
            repr(self.target),
            self.window.label,
            repr(self.window.duration),
            self.budgeting,
            repr(self.indicator),
            repr(self.time_slice_window),
            repr(self.threshold),
            self.op,
            str(self.min_events),
        ]
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:12]

    def events_fingerprint(self) -> str:
        """Short hash of what decides which events are counted (not the target or the period): the hourly
        tiles carry it (`sextant_events`), so tiles of an earlier SLI query are never summed with new ones."""
        parts = [
            self.budgeting,
            repr(self.indicator),
            repr(self.time_slice_window),
            repr(self.threshold),
            self.op,
        ]
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:12]

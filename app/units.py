"""How numbers are written on screen: always with their unit, never as raw floats."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import pandas as pd


def format_value(value: float | None, unit: str) -> str:
    """`0.0123, "ratio"` → `1.23%`; `0.25, "seconds"` → `250 ms`; `None` → `no data`."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "no data"
    if unit in ("ratio", "percent"):
        pct = value * 100 if unit == "ratio" else value
        return f"{pct:.3g}%" if abs(pct) < 1 else f"{pct:.2f}%" if abs(pct) < 99.9 else f"{pct:.3f}%"
    if unit == "seconds":
        return format_seconds(value)
    if unit == "req/s":
        return f"{value:.3g} req/s" if value < 100 else f"{value:,.0f} req/s"
    if unit == "count":
        return f"{value:,.0f}"
    if unit == "x":
        return f"{value:.2f}×"
    return f"{value:,.4g} {unit}".strip()


def format_seconds(seconds: float) -> str:
    """Durations in the unit a person would say: 250 ms, 4.2 s, 12 min, 6.0 h, 3.5 days."""
    if abs(seconds) < 1:
        return f"{seconds * 1000:.0f} ms"
    if abs(seconds) < 60:
        return f"{seconds:.2g} s" if abs(seconds) < 10 else f"{seconds:.0f} s"
    if abs(seconds) < 3600:
        return f"{seconds / 60:.0f} min"
    if abs(seconds) < 86400 * 2:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def counted(count: int, noun: str) -> str:
    """`1 day`, `0 days`, `12 days`: a whole count with its noun (a regular plural)."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def format_age(then: datetime, now: datetime) -> str:
    """`3 min ago`, used for the age of stale data and of the snapshot."""
    delta: timedelta = now - then
    if delta.total_seconds() < 60:
        return "just now"
    return f"{format_seconds(delta.total_seconds())} ago"


def format_span(start: datetime, end: datetime | None) -> str:
    """`Wed 25 Nov 14:00–18:00 UTC`, with both dates when it crosses midnight, or `since Sat 21 Nov
    05:00 UTC, ongoing` for a standing condition (an incident without an end)."""
    if end is None or pd.isna(end):
        return f"since {start:%a %d %b %H:%M} UTC, ongoing"
    if start.date() == end.date():
        return f"{start:%a %d %b %H:%M}–{end:%H:%M} UTC"
    return f"{start:%a %d %b %H:%M} – {end:%a %d %b %H:%M} UTC"

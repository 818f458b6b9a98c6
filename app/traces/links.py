"""What the Traces page's URL says (`TraceView`) and the link that reproduces it: trace ids and times
read from the URL, parameters written back in a fixed order."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from app import links, times
from app.timerange import DEFAULT_PRESET, PRESETS, TimeRange, time_range

SORTS = ("duration", "time")
MIN_DURATIONS = ("", "100ms", "250ms", "500ms", "1s", "2s", "5s", "10s")
MAX_WINDOW = timedelta(days=31)
_HEX_ID = re.compile(r"^[0-9a-f]{1,32}$")


@dataclass(frozen=True)
class TraceView:
    """Everything the page's URL says. `start`/`end` (both or neither) replace the range preset with an
    explicit window, e.g. a link from an SLO burn."""

    service: str = ""
    operation: str = ""
    preset: str = DEFAULT_PRESET
    errors_only: bool = False
    min_duration: str = ""
    sort: str = "duration"
    trace_id: str = ""
    start: datetime | None = None
    end: datetime | None = None
    all_spans: bool = False  # a big trace's every span, not grouped and folded (`app.traces.fold`)

    def time_range(self, now: datetime) -> TimeRange:
        if self.start is not None and self.end is not None:
            return TimeRange(preset="custom", start=self.start, end=self.end)
        return time_range(self.preset, now)


def normalize_trace_id(text: object) -> str | None:
    """A trace id as Jaeger writes it (lower-case hex, at most 32 digits), or None when it is not one
    (anything but text included: a log line without a trace has NaN there)."""
    if not isinstance(text, str):
        return None
    value = text.strip().lower()
    return value if _HEX_ID.match(value) else None


def parse_time(text: str | None) -> datetime | None:
    """A time from the URL in UTC (`app.times.parse_time`'s forms), or None when absent or unusable."""
    if not text:
        return None
    try:
        return times.parse_time(text)
    except ValueError:
        return None


def parse_window(start: str | None, end: str | None) -> tuple[datetime, datetime] | None:
    """The explicit window of `start`/`end` URL parameters, when both are valid and in order."""
    first, last = parse_time(start), parse_time(end)
    if first is None or last is None or not first < last or last - first > MAX_WINDOW:
        return None
    return first, last


def range_token(preset: str) -> str:
    """What the shared sidebar's `range` selectbox reads from the URL for a preset: the preset itself
    (`7d`); test_traces_page checks that a link built with it reproduces the view."""
    return preset if preset in PRESETS else DEFAULT_PRESET


def link_params(view: TraceView) -> dict[str, str]:
    """The URL parameters that reproduce `view`, in a fixed order, defaults left out."""
    params: dict[str, str] = {}
    if view.service:
        params["service"] = view.service
    if view.operation:
        params["operation"] = view.operation
    if view.start is not None and view.end is not None:
        params["start"], params["end"] = times.rfc3339(view.start), times.rfc3339(view.end)
    elif view.preset != DEFAULT_PRESET and view.preset in PRESETS:
        params["range"] = range_token(view.preset)
    if view.errors_only:
        params["errors_only"] = "true"
    if view.min_duration:
        params["min_duration"] = view.min_duration
    if view.sort != SORTS[0]:
        params["sort"] = view.sort
    if view.trace_id:
        params["trace"] = view.trace_id
    if view.all_spans:
        params["all_spans"] = "true"
    return params


def trace_link(view: TraceView) -> str:
    """The relative address of the Traces page showing `view` (`app.links`)."""
    return links.url("traces", **link_params(view))

"""Jaeger query client (HTTP API v1, the one the Jaeger UI uses).

v1 rather than /api/v3: at Jaeger 2.13 v3 has no attribute (tag) filters. On the wire times are
MICROseconds since the epoch and durations are Go duration strings; this module speaks datetimes and
timedeltas. Jaeger's envelope `{data, errors}` can carry errors next to data: with no data the errors
become `QueryRejected`/`BackendUnavailable`, otherwise they are kept as warnings.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pandas as pd
from typing_extensions import Unpack  # typing's own needs Python 3.12

from app.sources._http import BackendClient, HttpOptions, json_or_none, status_error
from app.sources.errors import BackendError, BackendUnavailable, QueryRejected
from app.sources.stats import BackendHealth, probe, tracked
from app.times import micros

NAME = "jaeger"

_GO_DURATION = re.compile(r"^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$")
_HEX_ID = re.compile(r"^[0-9a-fA-F]{1,32}$")
SPAN_COLUMNS = ("span_id", "parent_id", "service", "operation", "start", "duration_ms", "error", "tags")


@dataclass(frozen=True)
class TraceSummary:
    trace_id: str
    root_service: str
    root_operation: str
    start: datetime
    duration_ms: float
    span_count: int
    error: bool
    services: tuple[str, ...]


class TraceList(list[TraceSummary]):
    """The traces found, plus any `errors[]` Jaeger sent along with them."""

    def __init__(self, traces: Iterable[TraceSummary] = (), warnings: tuple[str, ...] = ()) -> None:
        super().__init__(traces)
        self.warnings = warnings

    def frame(self) -> pd.DataFrame:
        """One row per trace, for a table."""
        columns = list(TraceSummary.__dataclass_fields__)
        return pd.DataFrame([vars(t) for t in self], columns=columns)


@dataclass(frozen=True, eq=False)
class Trace:
    trace_id: str
    spans: pd.DataFrame  # SPAN_COLUMNS, ordered by start
    warnings: tuple[str, ...] = ()


def go_duration(value: timedelta | str) -> str:
    """A duration as Jaeger parses it (`1.5s`, `250ms`, or whole microseconds for a timedelta)."""
    if isinstance(value, timedelta):
        return f"{value // timedelta(microseconds=1)}us"
    if not _GO_DURATION.match(value):
        raise ValueError(f"not a duration Jaeger understands: {value!r}")
    return value


def _tags(span: Mapping[str, Any]) -> dict[str, Any]:
    return {tag["key"]: tag.get("value") for tag in span.get("tags") or [] if "key" in tag}


def _is_error(tags: Mapping[str, Any]) -> bool:
    """The OTLP → Jaeger translation sets `error=true` and `otel.status_code=ERROR` on failed spans."""
    return tags.get("error") in (True, "true") or str(tags.get("otel.status_code", "")).upper() == "ERROR"


def _parent(span: Mapping[str, Any]) -> str | None:
    refs = span.get("references") or []
    for ref in refs:
        if ref.get("refType") == "CHILD_OF" and ref.get("traceID") == span.get("traceID"):
            return ref.get("spanID")
    return refs[0].get("spanID") if refs else None


def spans_frame(trace: Mapping[str, Any]) -> pd.DataFrame:
    processes = trace.get("processes") or {}
    rows = []
    for span in trace.get("spans") or []:
        tags = _tags(span)
        rows.append(
            {
                "span_id": span.get("spanID"),
                "parent_id": _parent(span),
                "service": (processes.get(span.get("processID")) or {}).get("serviceName", ""),
                "operation": span.get("operationName", ""),
                "start": int(span.get("startTime", 0)),
                "duration_ms": float(span.get("duration", 0)) / 1000.0,
                "error": _is_error(tags),
                "tags": tags,
            }
        )
    frame = pd.DataFrame(rows, columns=list(SPAN_COLUMNS))
    frame["start"] = pd.to_datetime(frame["start"].astype("int64"), unit="us", utc=True)
    frame["duration_ms"] = frame["duration_ms"].astype("float64")
    frame["error"] = frame["error"].astype("bool")
    return frame.sort_values("start", kind="stable").reset_index(drop=True)


def summarize(trace: Mapping[str, Any]) -> TraceSummary:
    return summary_of(str(trace.get("traceID", "")), spans_frame(trace))


def summary_of(trace_id: str, spans: pd.DataFrame) -> TraceSummary:
    """A trace's line in a search's list, from its spans (`spans_frame`)."""
    if spans.empty:
        return TraceSummary(trace_id, "", "", datetime.fromtimestamp(0, UTC), 0.0, 0, False, ())
    known = set(spans["span_id"])
    roots = spans[spans["parent_id"].isna() | ~spans["parent_id"].isin(known)]
    root = (roots if not roots.empty else spans).iloc[0]
    ends = spans["start"] + pd.to_timedelta(spans["duration_ms"], unit="ms")
    start = spans["start"].min()
    return TraceSummary(
        trace_id=trace_id,
        root_service=str(root["service"]),
        root_operation=str(root["operation"]),
        start=start.to_pydatetime(),
        duration_ms=(ends.max() - start) / pd.Timedelta(milliseconds=1),
        span_count=len(spans),
        error=bool(spans["error"].any()),
        services=tuple(sorted(set(spans["service"]))),
    )


class RecentTraces:
    """The traces a client's searches returned in the last `keep_s` seconds, at most `max_spans` spans in
    all (the newest kept), by trace id.

    Jaeger's search answers whole traces, so the trace picked from a list has just been downloaded and
    parsed: a 10,000-span trace is 4.7 MB and seconds of Jaeger's time. A trace taken from here is as
    fresh as the search that brought it (the pages cache a fetched trace for as long). 50,000 spans take
    about 12 MB. Callers still ask `trace()`, so a recording (`app.sources.snapshot`) keeps the trace."""

    def __init__(self, keep_s: float = 30.0, max_spans: int = 50_000) -> None:
        self.keep_s = keep_s
        self.max_spans = max_spans
        self._traces: OrderedDict[int, tuple[float, Trace]] = OrderedDict()
        self._spans = 0
        self._lock = threading.Lock()

    def add(self, trace: Trace) -> None:
        key, size = _id_number(trace.trace_id), len(trace.spans)
        if key is None or size > self.max_spans:
            return
        with self._lock:
            self._drop(key)
            self._traces[key] = (time.monotonic(), trace)
            self._spans += size
            while self._spans > self.max_spans:
                self._drop(next(iter(self._traces)))

    def get(self, trace_id: str) -> Trace | None:
        key = _id_number(trace_id)
        with self._lock:
            kept = self._traces.get(key) if key is not None else None
            if kept is None:
                return None
            if time.monotonic() - kept[0] > self.keep_s:
                self._drop(key)
                return None
            return kept[1]

    def _drop(self, key: int | None) -> None:
        kept = self._traces.pop(key, None) if key is not None else None
        if kept is not None:
            self._spans -= len(kept[1].spans)


def _id_number(trace_id: str) -> int | None:
    """A trace id as a number: Jaeger writes `00000b16…` in 16 digits where a link may carry 32."""
    return int(trace_id, 16) if _HEX_ID.match(trace_id) else None


def _trace(answer: Mapping[str, Any], trace_id: str) -> Trace:
    """One trace of Jaeger's answer, with the warnings Jaeger attached to it."""
    warnings = tuple(str(w) for w in answer.get("warnings") or [])
    return Trace(str(answer.get("traceID") or trace_id), spans_frame(answer), warnings)


class JaegerClient(BackendClient):
    """Read-only client for one Jaeger query service."""

    name = NAME
    probe_path = "/api/services"

    def __init__(self, base_url: str, **options: Unpack[HttpOptions]) -> None:
        super().__init__(base_url, **options)
        self.recent = RecentTraces()

    @tracked
    def services(self) -> list[str]:
        data, _ = self._call("/api/services")
        return sorted(data or [])

    @tracked
    def operations(self, service: str) -> list[str]:
        data, _ = self._call(f"/api/services/{quote(service, safe='')}/operations")
        return sorted(data or [])

    @tracked
    def search(
        self,
        service: str,
        *,
        operation: str | None = None,
        tags: Mapping[str, str] | None = None,
        start: datetime,
        end: datetime,
        min_duration: timedelta | str | None = None,
        max_duration: timedelta | str | None = None,
        limit: int = 20,
    ) -> TraceList:
        """Traces of `service` that started in [start, end], newest first as Jaeger returns them."""
        params: dict[str, Any] = {
            "service": service,
            "start": micros(start),
            "end": micros(end),
            "limit": int(limit),
        }
        if operation:
            params["operation"] = operation
        if tags:
            params["tags"] = json.dumps({str(k): str(v) for k, v in tags.items()}, sort_keys=True)
        if min_duration is not None:
            params["minDuration"] = go_duration(min_duration)
        if max_duration is not None:
            params["maxDuration"] = go_duration(max_duration)
        data, warnings = self._call("/api/traces", params=params)
        found = TraceList((), warnings)
        for answer in data or []:
            trace = _trace(answer, str(answer.get("traceID", "")))
            self.recent.add(trace)
            found.append(summary_of(trace.trace_id, trace.spans))
        return found

    def trace(self, trace_id: str) -> Trace:
        """One trace: from a search of the last `RecentTraces.keep_s` seconds that returned it, else
        asked of Jaeger."""
        return self.recent.get(trace_id) or self._fetch_trace(trace_id)

    @tracked
    def _fetch_trace(self, trace_id: str) -> Trace:
        if not _HEX_ID.match(trace_id):
            raise QueryRejected(NAME, f"not a trace id: {trace_id[:40]!r}", error_type="bad_trace_id")
        data, warnings = self._call(f"/api/traces/{trace_id}")
        if not data:
            raise QueryRejected(NAME, "trace not found", 404)
        trace = _trace(data[0], trace_id)
        return Trace(trace.trace_id, trace.spans, warnings + trace.warnings)

    def health(self) -> BackendHealth:
        # The v1 API does not report Jaeger's version.
        return probe(NAME, self.url, self.services, lambda _: None)

    def _call(self, path: str, params: Mapping[str, Any] | None = None) -> tuple[Any, tuple[str, ...]]:
        response = self._http.request("GET", path, params=params)
        body = json_or_none(response)
        if not isinstance(body, dict):
            if response.is_success:
                raise BackendError(NAME, f"{path} did not answer with JSON", response.status_code)
            raise status_error(NAME, response)
        errors = [e for e in body.get("errors") or [] if isinstance(e, Mapping)]
        messages = tuple(str(e.get("msg") or e) for e in errors)
        data = body.get("data")
        if errors and not data:
            code = errors[0].get("code")
            status = int(code) if isinstance(code, int) else response.status_code
            cls = BackendUnavailable if status >= 500 else QueryRejected
            raise cls(NAME, "; ".join(messages), status)
        if not response.is_success:
            raise status_error(NAME, response)
        return data, messages

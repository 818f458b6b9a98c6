"""Prometheus HTTP API client whose answers read as pandas frames.

Why not `prometheus-api-client`: it drops the server's JSON error body on retries (a 503 becomes a bare
`RetryError`), drops `warnings`, has no default timeout, returns naive timestamps and cannot build an empty
range frame. This client keeps Prometheus's own `errorType`/`error` in `QueryRejected`/`BackendUnavailable`,
passes `warnings` through, and answers with a `QueryResult` whose frame always has a fixed shape
(`app.sources.prometheus_frame`). The frame is built on first use, so that pandas loads only for a caller
that reads one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from typing_extensions import Unpack

from app.sources._http import BackendClient, HttpOptions, json_or_none, status_error
from app.sources.errors import BackendError, BackendUnavailable, QueryRejected
from app.sources.stats import BackendHealth, probe, tracked
from app.times import unix

if TYPE_CHECKING:
    import pandas as pd

NAME = "prometheus"

MAX_POINTS = 11_000  # Prometheus refuses a range query with more points per series.
TARGET_POINTS = 500  # Enough for a chart a page wide; more only costs transfer and rendering.
# A chart a third of the page wide (about 350 px at 1440): 200 points are more than it has pixels. Fewer
# steps cost Prometheus less (each step re-aggregates every series): Service health's day of p95 latency
# for 204 services took 1.3 s at 288 points, 0.6–0.8 s at 144.
NARROW_CHART_POINTS = 200
SCRAPE_INTERVAL_S = 60.0  # of the platform's series; the simulator's values change once a minute
MIN_STEP_S = SCRAPE_INTERVAL_S  # a finer step repeats samples
NICE_STEPS_S = (60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)


RESULT_TYPES = ("vector", "matrix", "scalar", "string")


def result_type(data: Mapping[str, Any]) -> str:
    """The `resultType` of a query or query_range answer's `data`; a BackendError for any other."""
    kind = data.get("resultType")
    if kind not in RESULT_TYPES:
        raise BackendError(NAME, f"unexpected resultType {kind!r}")
    return str(kind)


class QueryResult:
    """One answer to `instant` or `range`: its `warnings`, and its series as a frame of a fixed shape.

    Made from a frame, or from the answer's `data`: then the frame is built on first use
    (`app.sources.prometheus_frame`), and `rows` reads an instant vector without building it, so that
    `python -m app.slo status` never loads pandas."""

    def __init__(
        self,
        frame: pd.DataFrame | None = None,
        warnings: Sequence[str] = (),
        *,
        data: Mapping[str, Any] | None = None,
    ) -> None:
        if (frame is None) == (data is None):
            raise TypeError("QueryResult takes either a frame or the answer's data")
        if data is not None:
            result_type(data)  # an answer of another kind is refused now, not when its frame is read
        self._frame = frame
        self._data = data
        self.warnings = tuple(warnings)

    @property
    def frame(self) -> pd.DataFrame:
        frame, data = self._frame, self._data
        if frame is None:
            if data is None:  # another thread built it meanwhile
                return self._frame
            from app.sources.prometheus_frame import to_frame

            frame = self._frame = to_frame(data)
            self._data = None  # keep one copy of the answer
        return frame

    def rows(self) -> list[dict[str, Any]]:
        """One dict per row of `frame`: its labels and its `value`. A label a series lacks is left out, or
        None or NaN as in the frame. An instant vector not yet read as a frame is read from the answer,
        without pandas."""
        data = self._data
        if data is not None and data.get("resultType") == "vector":
            return [
                {**series.get("metric", {}), "value": float(series["value"][1])}
                for series in data.get("result") or []
            ]
        return list(self.frame.to_dict("records"))


def auto_step(start: datetime, end: datetime, points: int = TARGET_POINTS) -> float:
    """A step in seconds for a chart of [start, end].

    Aims at about `points` points (as Grafana's "max data points" follows a panel's width: `TARGET_POINTS`
    for a chart a page wide, `NARROW_CHART_POINTS` for a third of it), never below the 60 s scrape
    interval, rounded up to a value from `NICE_STEPS_S` (then to whole days) so that neighbouring ranges
    share sample times and cache well. Rounding up can only lower the point count, so the 11,000-point
    limit always holds.
    """
    span = max((end - start).total_seconds(), 0.0)
    raw = max(span / points, span / MAX_POINTS, MIN_STEP_S)
    for nice in NICE_STEPS_S:
        if nice >= raw:
            return float(nice)
    return float(math.ceil(raw / 86400) * 86400)


def rate_window(step_s: float) -> str:
    """The `rate()` window for a chart step, as Grafana's $__rate_interval: at least four scrapes and
    never shorter than one step plus a scrape, so every point sees enough samples."""
    return f"{int(max(4 * SCRAPE_INTERVAL_S, step_s + SCRAPE_INTERVAL_S))}s"


def align(start: datetime, end: datetime, step: float) -> tuple[float, float]:
    """Floor start and end to multiples of `step` (Unix time), as Grafana does, so every refresh asks for
    the same sample times: the curve does not shimmer and results can be cached."""
    s = math.floor(unix(start) / step) * step
    e = math.floor(unix(end) / step) * step
    return s, max(s, e)


class PrometheusClient(BackendClient):
    """Read-only client for one Prometheus server (or a compatible API such as Mimir with `org_id`)."""

    name = NAME
    probe_path = "/api/v1/status/buildinfo"

    def __init__(self, base_url: str, *, org_id: str | None = None, **options: Unpack[HttpOptions]) -> None:
        """`org_id`: the `X-Scope-OrgID` tenant of a Mimir or Cortex in front of Prometheus."""
        if org_id:
            options["headers"] = {**(options.get("headers") or {}), "X-Scope-OrgID": org_id}
        super().__init__(base_url, **options)
        # Ask Prometheus to give up a little before we do, so its JSON 503 arrives instead of a socket error.
        self._query_timeout = f"{max(self.timeout - min(1.0, self.timeout * 0.1), 0.1):g}"

    # -- queries -----------------------------------------------------------------------------------------

    @tracked
    def instant(self, query: str, at: datetime | None = None) -> QueryResult:
        form = {"query": query, "timeout": self._query_timeout}
        if at is not None:
            form["time"] = f"{unix(at):.3f}"
        data, warnings = self._call("POST", "/api/v1/query", data=form)
        return QueryResult(warnings=warnings, data=data)

    @tracked
    def range(self, query: str, start: datetime, end: datetime, step: float | None = None) -> QueryResult:
        """`step` in seconds; None picks one with `auto_step`. Start and end are aligned to the step."""
        step = step if step is not None else auto_step(start, end)
        if step <= 0:
            raise QueryRejected(NAME, "step must be positive", error_type="bad_data")
        s, e = align(start, end, step)
        form = {
            "query": query,
            "start": f"{s:.3f}",
            "end": f"{e:.3f}",
            "step": f"{step:g}",
            "timeout": self._query_timeout,
        }
        data, warnings = self._call("POST", "/api/v1/query_range", data=form)
        return QueryResult(warnings=warnings, data=data)

    @tracked
    def series(self, match: str | Sequence[str], start: datetime, end: datetime) -> list[dict[str, str]]:
        matchers = [match] if isinstance(match, str) else list(match)
        form = {"match[]": matchers, "start": f"{unix(start):.3f}", "end": f"{unix(end):.3f}"}
        data, _ = self._call("POST", "/api/v1/series", data=form)
        return list(data or [])

    @tracked
    def format_query(self, query: str) -> str:
        """Prometheus's canonical form of `query`; raises `QueryRejected` with the parser's message."""
        data, _ = self._call("GET", "/api/v1/format_query", params={"query": query})
        return str(data)

    # -- state -------------------------------------------------------------------------------------------

    @tracked
    def rules(self) -> list[dict[str, Any]]:
        """Every alerting rule, flattened, each with its `group` and `file` added.

        Only the alerting ones (`type=alert`): every caller reads those, and the recording rules are most of
        the answer (1,000 SLOs' generated rules: ~30 recording rules an SLO against ~5 alerting). The name
        stays `rules`, the key a recorded snapshot answers by."""
        data, _ = self._call("GET", "/api/v1/rules", params={"type": "alert"})
        return [
            {**rule, "group": group.get("name"), "file": group.get("file")}
            for group in (data or {}).get("groups", [])
            for rule in group.get("rules", [])
        ]

    @tracked
    def alerts(self) -> list[dict[str, Any]]:
        data, _ = self._call("GET", "/api/v1/alerts")
        return list((data or {}).get("alerts", []))

    @tracked
    def targets(self) -> list[dict[str, Any]]:
        data, _ = self._call("GET", "/api/v1/targets", params={"state": "active"})
        return list((data or {}).get("activeTargets", []))

    @tracked
    def buildinfo(self) -> dict[str, Any]:
        data, _ = self._call("GET", "/api/v1/status/buildinfo")
        return dict(data or {})

    @tracked
    def runtimeinfo(self) -> dict[str, Any]:
        """`storageRetention` ("60d", or "60d or 10GiB"), `startTime`, `reloadConfigSuccess`, …"""
        data, _ = self._call("GET", "/api/v1/status/runtimeinfo")
        return dict(data or {})

    def health(self) -> BackendHealth:
        return probe(NAME, self.url, self.buildinfo, lambda info: info.get("version"))

    # -- plumbing ----------------------------------------------------------------------------------------

    def _call(self, method: str, path: str, **kwargs: Any) -> tuple[Any, tuple[str, ...]]:
        response = self._http.request(method, path, **kwargs)
        body = json_or_none(response)
        if not isinstance(body, dict) or "status" not in body:
            if response.is_success:
                raise BackendError(NAME, f"{path} did not answer with Prometheus JSON", response.status_code)
            raise status_error(NAME, response)
        if body["status"] != "success":
            raise _api_error(response.status_code, body)
        warnings = tuple(str(w) for w in [*(body.get("warnings") or []), *(body.get("infos") or [])])
        return body.get("data"), warnings


def _api_error(status: int, body: Mapping[str, Any]) -> BackendError:
    """Prometheus's `{"status": "error", "errorType", "error"}`: timeouts and aborts (503) mean the server
    could not answer now; bad_data (400) and execution (422) mean this query will not work."""
    error_type = str(body.get("errorType") or "") or None
    message = str(body.get("error") or error_type or f"HTTP {status}")
    if status >= 500 or error_type in ("timeout", "canceled", "unavailable"):
        return BackendUnavailable(NAME, message, status, error_type)
    if 400 <= status < 500:
        return QueryRejected(NAME, message, status, error_type)
    return BackendError(NAME, message, status, error_type)

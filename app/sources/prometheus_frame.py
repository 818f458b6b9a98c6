"""Prometheus answers as pandas frames of a fixed shape (what `QueryResult.frame` holds):

- instant vector: one column per label name (sorted) + `value` (float), one row per series;
- range matrix: the same + `timestamp` (tz-aware UTC), long format, one row per sample;
- scalar / string: one row with `value`;
- nothing matched: an empty frame with the `value` (and `timestamp`) columns.

Apart from the client so that pandas loads only when a caller reads a frame: `python -m app.slo status`
reads its instant vectors as rows (`QueryResult.rows`) and starts without it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from app.sources.prometheus import result_type


def _timestamps(seconds: Sequence[float]) -> pd.Series:
    """Prometheus's times (seconds, to the millisecond) as UTC timestamps: read as whole milliseconds, which
    is exact and some fifteen times faster than converting floats of seconds (a range of 200 series)."""
    millis = np.rint(np.asarray(seconds, dtype="float64") * 1000).astype("int64")
    return pd.Series(pd.to_datetime(millis, unit="ms", utc=True)).astype("datetime64[ns, UTC]")


def _vector_frame(result: list[dict[str, Any]]) -> pd.DataFrame:
    labels = sorted({name for series in result for name in series.get("metric", {})})
    columns: dict[str, Any] = {
        name: [series.get("metric", {}).get(name) for series in result] for name in labels
    }
    columns["value"] = pd.Series([float(series["value"][1]) for series in result], dtype="float64")
    return pd.DataFrame(columns, columns=[*labels, "value"])


def _matrix_frame(result: list[dict[str, Any]]) -> pd.DataFrame:
    labels = sorted({name for series in result for name in series.get("metric", {})})
    columns: dict[str, list[Any]] = {name: [] for name in labels}
    times: list[float] = []
    values: list[float] = []
    for series in result:
        samples = series.get("values", [])
        metric = series.get("metric", {})
        for name in labels:
            columns[name].extend([metric.get(name)] * len(samples))
        times.extend(float(t) for t, _ in samples)
        values.extend(float(v) for _, v in samples)
    frame = pd.DataFrame(columns, columns=labels)
    frame["timestamp"] = _timestamps(times)
    frame["value"] = pd.Series(values, dtype="float64")
    return frame


def to_frame(data: Mapping[str, Any]) -> pd.DataFrame:
    """Turn the `data` of a query or query_range answer into a frame of the documented shape."""
    kind = result_type(data)
    result: Any = data.get("result")  # a list of series, or [time, value] for a scalar or string
    if kind == "vector":
        return _vector_frame(result or [])
    if kind == "matrix":
        return _matrix_frame(result or [])
    if kind == "scalar":
        return pd.DataFrame({"value": pd.Series([float(result[1])], dtype="float64")})
    return pd.DataFrame({"value": [result[1]]})

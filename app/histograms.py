"""Quantiles of classic Prometheus histograms, computed here from one query's bucket rates.

A page showing p50, p95 and p99 over a range would otherwise send three `histogram_quantile` queries that
each read every bucket series over the whole range: at 200 services that is most of the page's time. It
asks once for the buckets' rates (`sum by (service, le) (rate(..._bucket[range]))`, the very vector
`histogram_quantile` would be given) and computes every quantile from them, as Prometheus 2.42 does, so
the figures are the ones Prometheus would return.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Mapping

import pandas as pd


def bucket_quantile(q: float, buckets: Iterable[tuple[float, float]]) -> float:
    """The q-quantile of (upper bound, cumulative count) buckets, by Prometheus's `histogram_quantile`:
    linear within the bucket the rank falls in; NaN without a +Inf bucket, with fewer than two bounds or
    no observations; the second-highest bound when the rank falls in the +Inf bucket."""
    if math.isnan(q):
        return math.nan
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    merged: dict[float, float] = {}
    for bound, count in buckets:
        merged[bound] = merged.get(bound, 0.0) + count  # the same bound twice counts as one bucket
    bounds = sorted(merged)
    if not bounds or bounds[-1] != math.inf:
        return math.nan
    counts: list[float] = []
    for bound in bounds:  # a bucket can never count fewer than the one below it
        counts.append(max(merged[bound], counts[-1]) if counts else merged[bound])
    if len(bounds) < 2 or counts[-1] == 0:
        return math.nan
    rank = q * counts[-1]
    b = bisect.bisect_left(counts, rank, 0, len(counts) - 1)
    if b == len(bounds) - 1:
        return bounds[-2]
    if b == 0 and bounds[0] <= 0:
        return bounds[0]
    start, end, count = 0.0, bounds[b], counts[b]
    if b > 0:
        start = bounds[b - 1]
        count -= counts[b - 1]
        rank -= counts[b - 1]
    return start + (end - start) * (rank / count)


def quantiles(frame: pd.DataFrame, by: str, wanted: Mapping[str, float]) -> pd.DataFrame:
    """One row per `by` value with a column per wanted quantile, from a frame of bucket rates (columns `by`,
    `le` and `value`); rows whose `le` is not a number are ignored, as Prometheus ignores them."""
    columns = [by, *wanted]
    if frame.empty or not {by, "le", "value"} <= set(frame.columns):
        return pd.DataFrame(columns=columns)
    bounds = pd.to_numeric(frame["le"], errors="coerce")
    usable = frame.assign(bound=bounds).dropna(subset=["bound"])
    rows = []
    for key, group in usable.groupby(by, sort=True):
        buckets = list(zip(group["bound"], group["value"], strict=True))
        rows.append({by: key, **{label: bucket_quantile(q, buckets) for label, q in wanted.items()}})
    return pd.DataFrame(rows, columns=columns)

"""Where each backend keeps its data and how far back it goes, for the Data sources page.

- Prometheus: its retention setting (`/api/v1/status/runtimeinfo`) and its oldest sample
  (`prometheus_tsdb_lowest_timestamp_seconds`, from Prometheus's scrape of itself, when it scrapes itself).
- OpenSearch: its indices grouped by family (`logs-2026.11.06` → `logs-*`), with their documents, size on
  disk and the date range of their documents up to now.
- Jaeger: its v1 API says nothing of its storage, so Sextant looks for Jaeger's span indices in the
  OpenSearch it reads: found, the storage is that OpenSearch, and the oldest span there names the oldest
  trace, which Jaeger is then asked for (so the page says whether Jaeger really serves it). Not found, the
  storage is one Sextant cannot see (memory, or another cluster): said so, never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from app.sources import Sources
from app.sources.cache import Outcome, ResultCache, default_cache, warnings_of
from app.sources.concurrent import fetch_all
from app.sources.opensearch import SearchResult
from app.sources.prometheus import QueryResult

TTL_S = 300.0  # retention moves slowly
OLDEST_SAMPLE = 'min(prometheus_tsdb_lowest_timestamp_seconds{job="prometheus"})'
JAEGER_SPANS = "jaeger-span-*"
INDICES = "*,-.*"  # every index but the hidden and system ones
_DATED = re.compile(r"^(?P<family>.+?)[-_.]?\d{4}[-.]\d{2}(?:[-.]\d{2})?$")
DATE_FIELDS = ("@timestamp", "startTimeMillis", "start")  # logs/audit, Jaeger spans, incidents


@dataclass(frozen=True)
class PrometheusRetention:
    retention: str | None  # as Prometheus reports it: "60d", "60d or 10GiB"
    oldest_sample: datetime | None


@dataclass(frozen=True)
class JaegerStorage:
    kind: str  # "OpenSearch (jaeger-span-* in the OpenSearch Sextant reads)" or why it is not known
    oldest_trace_id: str | None
    oldest_trace_at: datetime | None
    served: bool | None  # Jaeger answered for that trace (None: not asked)


@dataclass(frozen=True)
class Retention:
    """Every figure with the outcome it came from, so each backend's failure shows on its own."""

    prometheus: PrometheusRetention | None
    indices: pd.DataFrame  # family, indices, documents, size_bytes, oldest, newest
    jaeger: JaegerStorage | None
    outcomes: dict[str, Outcome[Any]]

    @property
    def problems(self) -> list[tuple[str, Outcome[Any]]]:
        owner = {"runtime": "prometheus", "oldest": "prometheus", "trace": "jaeger"}
        return [(owner.get(k, "opensearch"), o) for k, o in self.outcomes.items() if o.error is not None]

    @property
    def warnings(self) -> list[str]:
        return warnings_of(self.outcomes.values())


def family(index: str) -> str:
    """`logs-2026.11.06` → `logs-*`, `jaeger-span-2026-11-06` → `jaeger-span-*`; undated names stay."""
    match = _DATED.match(index)
    return f"{match['family']}-*" if match else index


def date_ranges_body(now: datetime) -> dict[str, Any]:
    """Per index: documents and the oldest and newest date, over documents dated up to `now` (the
    simulator writes ahead of its anchor; production never has tomorrow's logs)."""
    up_to_now = [
        {"range": {name: {"lte": int(now.timestamp() * 1000), "format": "epoch_millis"}}}
        for name in DATE_FIELDS
    ]
    undated = {"bool": {"must_not": [{"exists": {"field": name}} for name in DATE_FIELDS]}}
    aggs = {f"min {name}": {"min": {"field": name}} for name in DATE_FIELDS}
    aggs |= {f"max {name}": {"max": {"field": name}} for name in DATE_FIELDS}
    return {
        "size": 0,
        "track_total_hits": True,
        "query": {"bool": {"should": [*up_to_now, undated], "minimum_should_match": 1}},
        "aggs": {"index": {"terms": {"field": "_index", "size": 1000}, "aggs": aggs}},
    }


def oldest_span_body() -> dict[str, Any]:
    return {"size": 1, "sort": [{"startTimeMillis": "asc"}], "_source": ["traceID", "startTimeMillis"]}


def _epoch_ms(value: Any) -> datetime | None:
    """Epoch milliseconds (a number, or a string of one: Jaeger's `startTimeMillis`) as a UTC time."""
    try:
        ms = float(value)
    except (TypeError, ValueError):
        return None
    return datetime.fromtimestamp(ms / 1000, UTC) if ms == ms else None


def index_table(cat: list[dict[str, Any]] | None, ranges: SearchResult | None) -> pd.DataFrame:
    """One row per index family: how many indices, documents up to now, bytes on disk, oldest and newest
    document. Sizes come from `_cat/indices`, counts from a search (the cat counts nested objects)."""
    columns = ["family", "indices", "documents", "size_bytes", "oldest", "newest"]
    rows: dict[str, dict[str, Any]] = {}
    for row in cat or []:
        name = str(row.get("index", ""))
        blank = {"family": family(name), "indices": 0, "documents": None, "size_bytes": 0}
        entry = rows.setdefault(family(name), {**blank, "oldest": None, "newest": None})
        entry["indices"] += 1
        entry["size_bytes"] += int(row.get("store.size") or 0)
    buckets = ((ranges.aggregations.get("index") or {}).get("buckets") or []) if ranges else []
    for bucket in buckets:
        kept = rows.get(family(str(bucket.get("key", ""))))
        if kept is None:
            continue
        entry = kept
        entry["documents"] = (entry["documents"] or 0) + int(bucket.get("doc_count", 0))
        for end, pick in (("oldest", min), ("newest", max)):
            prefix = "min" if end == "oldest" else "max"
            found = [_epoch_ms((bucket.get(f"{prefix} {f}") or {}).get("value")) for f in DATE_FIELDS]
            dates = [d for d in found if d is not None] + ([entry[end]] if entry[end] else [])
            entry[end] = pick(dates) if dates else None
    return pd.DataFrame(sorted(rows.values(), key=lambda r: r["family"]), columns=columns)


def jaeger_storage(spans: Outcome[Any], trace: Outcome[Any] | None) -> JaegerStorage | None:
    """What Sextant can tell of Jaeger's storage from its span indices in OpenSearch."""
    if spans.value is None:
        return None
    found: SearchResult = spans.value
    if found.total == 0 or found.hits.empty:
        return JaegerStorage(
            "not visible to Sextant: no Jaeger span indices in its OpenSearch (Jaeger keeps traces in memory "
            "or in a store Sextant does not read)",
            None,
            None,
            None,
        )
    first = found.hits.iloc[0]
    served = None  # Jaeger not asked, or not answered yet
    if trace is not None and not trace.loading and (trace.value is not None or trace.error is not None):
        served = trace.error is None
    return JaegerStorage(
        f"OpenSearch ({JAEGER_SPANS} in the OpenSearch Sextant reads)",
        str(first.get("traceID")),
        _epoch_ms(first.get("startTimeMillis")),
        served,
    )


def load(sources: Sources, now: datetime, cache: ResultCache = default_cache) -> Retention:
    """Every backend's storage figures at once; Jaeger is asked for the oldest trace OpenSearch names."""
    prom, search, budget = sources.prometheus, sources.opensearch, sources.run_budget_s
    parts = fetch_all(
        {
            "runtime": prom.runtimeinfo,
            "oldest": lambda: prom.instant(OLDEST_SAMPLE, now),
            "indices": lambda: search.indices(INDICES),
            "ranges": lambda: search.search(INDICES, date_ranges_body(now)),
            "spans": lambda: search.search(JAEGER_SPANS, oldest_span_body()),
        },
        key_prefix=(sources.cache_key, "retention"),
        window=now,
        untimed=("runtime", "indices", "spans"),
        cache=cache,
        ttl_s=TTL_S,
        budget_s=budget,
    )
    oldest_trace = None
    spans: SearchResult | None = parts["spans"].value
    if spans is not None and not spans.hits.empty and spans.hits.iloc[0].get("traceID"):
        trace_id = str(spans.hits.iloc[0]["traceID"])
        parts["trace"] = oldest_trace = fetch_all(
            {"trace": lambda: sources.jaeger.trace(trace_id)},
            key_prefix=(sources.cache_key, "retention", trace_id),
            cache=cache,
            ttl_s=TTL_S,
            budget_s=budget,
        )["trace"]
    return Retention(
        prometheus=_prometheus(parts["runtime"], parts["oldest"]),
        indices=index_table(parts["indices"].value, parts["ranges"].value),
        jaeger=jaeger_storage(parts["spans"], oldest_trace),
        outcomes=parts,
    )


def _prometheus(runtime: Outcome[Any], oldest: Outcome[Any]) -> PrometheusRetention | None:
    if runtime.value is None and oldest.value is None:
        return None
    retention = (runtime.value or {}).get("storageRetention")
    found: QueryResult | None = oldest.value
    at = None
    if found is not None and not found.frame.empty:
        value = found.frame["value"].iloc[0]
        at = datetime.fromtimestamp(float(value), UTC) if value == value else None
    return PrometheusRetention(str(retention) if retention else None, at)

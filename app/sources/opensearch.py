"""OpenSearch search client returning pandas frames, and the one write Sextant makes (its access log).

Built on httpx rather than `opensearch-py`: the same layering, error mapping, stats and respx-based tests
as the other two clients, and no hidden retries (opensearch-py 3.x retries 3 times by default, which
triples the wait when a node is down). We only need a handful of read endpoints, `_bulk` with `create`
(so that sending a document twice stores it once) and an index template for the access log's indices.

OpenSearch reports partial success with HTTP 200: `timed_out` and `_shards.failed` are kept on
`SearchResult` and summarised in `SearchResult.warnings`, so a page can say the numbers are incomplete.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pandas as pd

from app.sources._http import BackendClient, json_or_none, status_error
from app.sources.errors import BackendError
from app.sources.stats import BackendHealth, probe, tracked

NAME = "opensearch"

_INDEX = re.compile(r"^[A-Za-z0-9_.*+\-]+$")


@dataclass(frozen=True, eq=False)
class SearchResult:
    hits: pd.DataFrame  # `_id` + one column per `_source` field (nested objects as dotted names)
    aggregations: dict[str, Any]
    total: int
    total_relation: str = "eq"  # "gte" when OpenSearch stopped counting (track_total_hits)
    timed_out: bool = False
    shards_failed: int = 0
    failures: tuple[str, ...] = ()  # reasons of the failed shards
    took_ms: int = 0
    truncated: bool = False  # search_all stopped at max_docs

    @property
    def warnings(self) -> tuple[str, ...]:
        notes = []
        if self.timed_out:
            notes.append("the search timed out: results are partial")
        if self.shards_failed:
            notes.append(f"{self.shards_failed} shard(s) failed: results are partial")
        if self.truncated:
            notes.append(f"stopped after {len(self.hits)} documents")
        return (*notes, *self.failures)


@dataclass(frozen=True)
class BulkResult:
    """What `_bulk` did with each document, by id."""

    stored: tuple[str, ...]  # held by OpenSearch now: created, or already there from an earlier attempt
    refused: dict[str, str]  # id -> why OpenSearch would not take it
    unmapped: tuple[str, ...] = ()  # of those refused: with fields their index's strict mapping lacks


def hits_frame(hits: list[Mapping[str, Any]]) -> pd.DataFrame:
    """`_id` first, then the `_source` fields flattened with dots (`http.status`)."""
    if not hits:
        return pd.DataFrame({"_id": pd.Series([], dtype="str")})
    frame = pd.json_normalize([dict(hit.get("_source") or {}) for hit in hits])
    frame.insert(0, "_id", [hit.get("_id") for hit in hits])
    return frame


def buckets_frame(aggregations: Mapping[str, Any], name: str) -> pd.DataFrame:
    """Flatten the bucket aggregation `name` (terms, date_histogram, filters…), nested bucket aggregations
    included, into rows: one column per bucket aggregation holding its key (date_histogram keys become UTC
    timestamps), `doc_count` of the innermost bucket, and one column per metric sub-aggregation (`name` for
    single values, `name.stat` for stats/percentiles)."""
    rows = [
        {**keys, "doc_count": count, **metrics}
        for keys, count, metrics in _bucket_rows(name, aggregations.get(name) or {}, {}, {})
    ]
    if not rows:
        return pd.DataFrame(columns=[name, "doc_count"])
    return pd.DataFrame(rows)


def _bucket_rows(
    name: str, agg: Mapping[str, Any], keys: dict[str, Any], metrics: dict[str, Any]
) -> Iterator[tuple[dict[str, Any], int, dict[str, Any]]]:
    buckets = agg.get("buckets", [])
    items = buckets.items() if isinstance(buckets, Mapping) else ((None, b) for b in buckets)
    for keyed, bucket in items:
        key: Any = keyed if keyed is not None else bucket.get("key")
        if isinstance(key, int | float) and "key_as_string" in bucket and _looks_like_epoch_ms(key):
            key = pd.Timestamp(int(key), unit="ms", tz="UTC")
        row_keys = {**keys, name: key}
        row_metrics = dict(metrics)
        nested = None
        for sub, value in bucket.items():
            if isinstance(value, Mapping) and "buckets" in value:
                nested = nested or (sub, value)
            elif isinstance(value, Mapping):
                row_metrics.update(_metric_columns(sub, value))
        if nested:
            yield from _bucket_rows(nested[0], nested[1], row_keys, row_metrics)
        else:
            yield row_keys, int(bucket.get("doc_count", 0)), row_metrics


def _looks_like_epoch_ms(key: float) -> bool:
    return 1e11 < key < 1e14  # 1973 … 5138 in milliseconds


def _metric_columns(name: str, value: Mapping[str, Any]) -> dict[str, Any]:
    if "value" in value:
        return {name: value["value"]}
    if isinstance(value.get("values"), Mapping):
        return {f"{name}.{k}": v for k, v in value["values"].items()}
    numbers = {k: v for k, v in value.items() if isinstance(v, int | float) and not isinstance(v, bool)}
    return {f"{name}.{k}": v for k, v in numbers.items()}


def _index_path(index: str) -> str:
    """Refuse anything but index names and patterns: the name goes into the URL path."""
    parts = index.split(",")
    if not index or any(not _INDEX.match(p) or p in (".", "..") for p in parts):
        raise ValueError(f"not an index name or pattern: {index!r}")
    return quote(index, safe=",*+")


def _sort_field(entry: Any) -> str:
    return entry if isinstance(entry, str) else next(iter(entry))


class OpenSearchClient(BackendClient):
    """Client for one OpenSearch cluster: searches, plus the access log's writes."""

    name = NAME
    probe_path = "/"

    @tracked
    def search(self, index: str, body: Mapping[str, Any]) -> SearchResult:
        answer = self._call("POST", f"/{_index_path(index)}/_search", json=dict(body))
        return _search_result(answer, answer.get("hits", {}).get("hits", []))

    @tracked
    def search_all(
        self,
        index: str,
        body: Mapping[str, Any],
        *,
        page_size: int = 1000,
        max_docs: int = 50_000,
        tiebreaker: str = "_id",
        pit_keep_alive: str | None = None,
    ) -> SearchResult:
        """Every matching document up to `max_docs`, paged with `search_after`.

        The body's `sort` gets `tiebreaker` appended (a field unique per document) so that pages neither
        skip nor repeat documents with equal sort values. Aggregations are computed on the first page only.
        With `pit_keep_alive` (e.g. "1m") the pages read one point in time, so documents indexed meanwhile
        do not shift them; the point in time is deleted afterwards.
        """
        request = dict(body)
        sort = list(request.get("sort") or [])
        if tiebreaker not in (_sort_field(entry) for entry in sort):
            sort.append({tiebreaker: "asc"})
        request["sort"] = sort
        path = f"/{_index_path(index)}/_search"
        pit_id = None
        if pit_keep_alive:
            pit_id = self._call(
                "POST", f"/{_index_path(index)}/_search/point_in_time", params={"keep_alive": pit_keep_alive}
            )["pit_id"]
            path = "/_search"
        hits: list[dict[str, Any]] = []
        first: dict[str, Any] | None = None
        timed_out, shards_failed = False, 0
        failures: list[str] = []
        try:
            while len(hits) < max_docs:
                request["size"] = min(page_size, max_docs - len(hits))
                if pit_id:
                    request["pit"] = {"id": pit_id, "keep_alive": pit_keep_alive}
                answer = self._call("POST", path, json=request)
                pit_id = answer.get("pit_id", pit_id)
                page = answer.get("hits", {}).get("hits", [])
                if first is None:
                    first = answer
                    request.pop("aggs", None)
                    request.pop("aggregations", None)
                    request["track_total_hits"] = False
                partial = _search_result(answer, [])
                timed_out = timed_out or partial.timed_out
                shards_failed += partial.shards_failed
                failures.extend(partial.failures)
                hits.extend(page)
                if len(page) < request["size"] or not page:
                    break
                request["search_after"] = page[-1]["sort"]
        finally:
            if pit_id:
                self._delete_pit(pit_id)
        result = _search_result(first or {}, hits)
        return SearchResult(
            hits=result.hits,
            aggregations=result.aggregations,
            total=result.total,
            total_relation=result.total_relation,
            timed_out=timed_out,
            shards_failed=shards_failed,
            failures=tuple(dict.fromkeys(failures)),
            took_ms=result.took_ms,
            truncated=len(hits) >= max_docs and (result.total > len(hits) or result.total_relation == "gte"),
        )

    @tracked
    def open_point_in_time(self, index: str, keep_alive: str) -> str:
        """A point in time over `index`: searches through it see the documents as they were now, whatever
        is indexed or deleted later, for `keep_alive` (e.g. "5m") after each use."""
        path = f"/{_index_path(index)}/_search/point_in_time"
        return str(self._call("POST", path, params={"keep_alive": keep_alive})["pit_id"])

    @tracked
    def search_point_in_time(self, pit_id: str, body: Mapping[str, Any], keep_alive: str) -> SearchResult:
        """`body` searched in the point in time `pit_id` (its index is the one the point was opened on),
        which is kept alive `keep_alive` longer. An expired one is refused with HTTP 404."""
        answer = self._call(
            "POST", "/_search", json={**body, "pit": {"id": pit_id, "keep_alive": keep_alive}}
        )
        return _search_result(answer, answer.get("hits", {}).get("hits", []))

    @tracked
    def count(self, index: str, body: Mapping[str, Any] | None = None) -> int:
        """Matching documents; only the body's `query` is used (`_count` accepts nothing else)."""
        query = {"query": body["query"]} if body and "query" in body else None
        return int(self._call("POST", f"/{_index_path(index)}/_count", json=query)["count"])

    @tracked
    def indices(self, pattern: str = "*") -> list[dict[str, Any]]:
        """The indices matching `pattern` (`_cat/indices`): `index`, `health`, `docs.count` (Lucene
        documents: nested objects count too), `store.size` in bytes."""
        response = self._http.request(
            "GET",
            f"/_cat/indices/{_index_path(pattern)}",
            params={"format": "json", "bytes": "b", "h": "index,health,docs.count,store.size"},
        )
        body = json_or_none(response)
        if response.is_success and isinstance(body, list):
            return [dict(row) for row in body if isinstance(row, Mapping)]
        if response.is_success:
            raise BackendError(NAME, "_cat/indices did not answer with a JSON list", response.status_code)
        if isinstance(body, dict) and "error" in body:
            message, error_type = _error_reason(body["error"])
            raise status_error(NAME, response, message, error_type)
        raise status_error(NAME, response)

    @tracked
    def info(self) -> dict[str, Any]:
        """The root endpoint: cluster name and `version.number`."""
        return self._call("GET", "/")

    @tracked
    def create_documents(self, documents: Sequence[tuple[str, str, Mapping[str, Any]]]) -> BulkResult:
        """Store each (index, id, document) with `_bulk` `create`: a document whose id is already there is
        left alone and counts as stored, so a retry after a lost answer stores nothing twice."""
        lines = []
        for index, doc_id, source in documents:
            if "*" in index or "," in index:
                raise ValueError(f"not one index: {index!r}")
            _index_path(index)
            lines.append(json.dumps({"create": {"_index": index, "_id": doc_id}}))
            lines.append(json.dumps(dict(source)))
        if not lines:
            return BulkResult((), {})
        answer = self._call(
            "POST",
            "/_bulk",
            content=("\n".join(lines) + "\n").encode("utf-8"),
            headers={"Content-Type": "application/x-ndjson"},
        )
        stored, refused, unmapped = [], {}, []
        for item in answer.get("items") or []:
            result = next(iter(item.values())) if isinstance(item, Mapping) and item else {}
            doc_id, status = str(result.get("_id")), int(result.get("status") or 0)
            if 200 <= status < 300 or status == 409:  # 409: created by an earlier attempt
                stored.append(doc_id)
            else:
                refused[doc_id], kind = _error_reason(result.get("error") or f"HTTP {status}")
                if kind == "strict_dynamic_mapping_exception":
                    unmapped.append(doc_id)
        return BulkResult(tuple(stored), refused, tuple(unmapped))

    @tracked
    def put_mapping(self, index: str, mapping: Mapping[str, Any]) -> None:
        """Add `mapping`'s fields to the existing `index` (a field already mapped otherwise is refused)."""
        self._call("PUT", f"/{_index_path(index)}/_mapping", json=dict(mapping))

    @tracked
    def put_index_template(self, name: str, body: Mapping[str, Any]) -> None:
        """Create or replace the composable index template `name`."""
        if not _INDEX.match(name) or "*" in name:
            raise ValueError(f"not a template name: {name!r}")
        self._call("PUT", f"/_index_template/{quote(name, safe='')}", json=dict(body))

    def health(self) -> BackendHealth:
        return probe(NAME, self.url, self.info, lambda info: info.get("version", {}).get("number"))

    def _delete_pit(self, pit_id: str) -> None:
        """Best effort: an undeleted point in time expires by itself after its keep_alive."""
        try:
            self._http.request("DELETE", "/_search/point_in_time", json={"pit_id": [pit_id]})
        except BackendError:
            return

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = self._http.request(method, path, **kwargs)
        body = json_or_none(response)
        if response.is_success and isinstance(body, dict):
            return body
        if response.is_success:
            raise BackendError(NAME, f"{path} did not answer with JSON", response.status_code)
        if isinstance(body, dict) and "error" in body:
            message, error_type = _error_reason(body["error"])
            raise status_error(NAME, response, message, error_type)
        raise status_error(NAME, response)


def _error_reason(error: Any) -> tuple[str, str | None]:
    """The most specific reason OpenSearch gives: the first root cause, else the error itself."""
    if not isinstance(error, Mapping):
        return str(error), None
    causes = error.get("root_cause") or []
    cause = causes[0] if causes and isinstance(causes[0], Mapping) else error
    reason = cause.get("reason") or error.get("reason") or error.get("type") or "unknown error"
    return str(reason), cause.get("type") or error.get("type")


def _search_result(answer: Mapping[str, Any], hits: Sequence[Mapping[str, Any]]) -> SearchResult:
    total = answer.get("hits", {}).get("total", 0)
    shards = answer.get("_shards", {})
    failures = tuple(
        dict.fromkeys(
            str((f.get("reason") or {}).get("reason") or (f.get("reason") or {}).get("type") or f)
            for f in shards.get("failures", [])
        )
    )
    return SearchResult(
        hits=hits_frame(list(hits)),
        aggregations=dict(answer.get("aggregations") or {}),
        total=int(total["value"] if isinstance(total, Mapping) else total or 0),
        total_relation=str(total.get("relation", "eq")) if isinstance(total, Mapping) else "eq",
        timed_out=bool(answer.get("timed_out", False)),
        shards_failed=int(shards.get("failed", 0) or 0),
        failures=failures,
        took_ms=int(answer.get("took", 0) or 0),
    )

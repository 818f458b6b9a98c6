"""An in-memory OpenSearch for loader and page tests: it answers each search from its documents.

A fake that answered every search with the same hits let a wrong index, a dropped filter or a wrong time
range go unnoticed. This one evaluates the query shapes Sextant sends (`bool` with `filter`, `must`,
`should`, `must_not`; `term`, `terms`, `range`, `exists`, `simple_query_string`, `match_all`), sorts,
pages with `search_after`, and computes `terms` and `date_histogram` aggregations (with sub-aggregations).
Anything else raises `NotImplementedError`, so a query it cannot answer fails the test instead of getting
a made-up answer.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from app.sources.errors import BackendUnavailable, QueryRejected
from app.sources.opensearch import SearchResult, hits_frame

Doc = Mapping[str, Any]  # {"_id": ..., "_source": {...}}


class MemoryOpenSearch:
    url = "fake://opensearch"

    def __init__(self, indices: Mapping[str, Sequence[Doc]], fail: bool = False) -> None:
        self.indices = {name: list(docs) for name, docs in indices.items()}
        self.fail = fail
        self.requests: list[tuple[str, dict]] = []
        self.points: dict[str, list[Doc]] = {}  # point in time id -> the documents it saw

    def search(self, index: str, body: dict) -> SearchResult:
        self.requests.append((index, body))
        if self.fail:
            raise BackendUnavailable("opensearch", "connection refused")
        held = [doc for name, docs in self.indices.items() if index_matches(name, index) for doc in docs]
        return self._answer(held, body)

    def open_point_in_time(self, index: str, keep_alive: str) -> str:
        """A frozen copy of the documents `index` holds now, under a new id."""
        self.requests.append((index, {"open_point_in_time": keep_alive}))
        if self.fail:
            raise BackendUnavailable("opensearch", "connection refused")
        pit_id = f"pit-{len(self.points)}"
        self.points[pit_id] = [
            doc for name, docs in self.indices.items() if index_matches(name, index) for doc in docs
        ]
        return pit_id

    def search_point_in_time(self, pit_id: str, body: dict, keep_alive: str) -> SearchResult:
        self.requests.append(("", {**body, "pit": {"id": pit_id, "keep_alive": keep_alive}}))
        if self.fail:
            raise BackendUnavailable("opensearch", "connection refused")
        if pit_id not in self.points:
            raise QueryRejected(
                "opensearch", "No search context found for id", 404, "search_context_missing_exception"
            )
        return self._answer(self.points[pit_id], body)

    def _answer(self, held: list[Doc], body: dict) -> SearchResult:
        docs = [doc for doc in held if matches(doc["_source"], body.get("query", {"match_all": {}}))]
        aggregations = {name: aggregate(docs, spec) for name, spec in body.get("aggs", {}).items()}
        ordered = sort_docs(docs, body.get("sort", []))
        if "search_after" in body:
            after = tuple(body["search_after"])
            ordered = [d for d in ordered if _after(sort_key(d, body["sort"]), after, body["sort"])]
        size = int(body.get("size", 10))
        return SearchResult(hits=hits_frame(ordered[:size]), aggregations=aggregations, total=len(docs))


def index_matches(name: str, pattern: str) -> bool:
    """OpenSearch's multi-target syntax: comma-separated patterns, a leading `-` excludes what it matches."""
    included = False
    for part in pattern.split(","):
        if part.startswith("-"):
            included = included and not fnmatch.fnmatch(name, part[1:])
        elif fnmatch.fnmatch(name, part):
            included = True
    return included


def field(source: Mapping[str, Any], name: str) -> Any:
    """A field by its dotted name, from nested objects or a flat key."""
    if name in source:
        return source[name]
    node: Any = source
    for part in name.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def _comparable(value: Any) -> Any:
    """Numbers as numbers, anything else as a UTC time (the range queries Sextant sends are on times;
    date math such as `now-30d` is not understood and raises)."""
    if isinstance(value, int | float):
        return value
    if isinstance(value, str) and value.startswith("now"):
        raise NotImplementedError(f"date math {value!r}")
    stamp = pd.Timestamp(value)
    return stamp.tz_convert("UTC") if stamp.tzinfo else stamp.tz_localize("UTC")


def matches(source: Mapping[str, Any], query: Mapping[str, Any]) -> bool:
    ((kind, spec),) = query.items()
    if kind == "match_all":
        return True
    if kind == "bool":
        return _bool(source, spec)
    if kind == "term":
        ((name, value),) = spec.items()
        wanted = value["value"] if isinstance(value, Mapping) else value
        got = field(source, name)
        return wanted in got if isinstance(got, list) else got == wanted
    if kind == "terms":
        ((name, values),) = spec.items()
        return field(source, name) in values
    if kind == "exists":
        return field(source, spec["field"]) is not None
    if kind == "range":
        ((name, bounds),) = spec.items()
        got = field(source, name)
        if got is None:
            return False
        value = _comparable(got)
        checks = {"gte": "__ge__", "gt": "__gt__", "lte": "__le__", "lt": "__lt__"}
        unknown = set(bounds) - set(checks)
        if unknown:
            raise NotImplementedError(f"range options {unknown}")
        return all(getattr(value, checks[op])(_comparable(bound)) for op, bound in bounds.items())
    if kind == "simple_query_string":
        return _simple_query(source, spec)
    raise NotImplementedError(f"query kind {kind!r}")


def _bool(source: Mapping[str, Any], spec: Mapping[str, Any]) -> bool:
    must = [*spec.get("filter", []), *spec.get("must", [])]
    if not all(matches(source, q) for q in must):
        return False
    if any(matches(source, q) for q in spec.get("must_not", [])):
        return False
    should = spec.get("should", [])
    needed = int(spec.get("minimum_should_match", 0 if must else 1)) if should else 0
    return sum(matches(source, q) for q in should) >= needed


def _simple_query(source: Mapping[str, Any], spec: Mapping[str, Any]) -> bool:
    """Every word (or quoted phrase) among the words of the fields, none of a `-word`; the analyser is
    taken to split on anything but letters and digits and to ignore case."""
    if spec.get("default_operator", "or") != "and":
        raise NotImplementedError("simple_query_string with the 'or' operator")
    words = _words(" ".join(str(field(source, f) or "") for f in spec["fields"]))
    for term in re.findall(r'-?"[^"]*"|\S+', spec["query"]):
        negated = term.startswith("-")
        found = _has_phrase(words, _words(term))
        if found == negated:
            return False
    return True


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def _has_phrase(words: list[str], phrase: list[str]) -> bool:
    n = len(phrase)
    return any(words[k : k + n] == phrase for k in range(len(words) - n + 1))


def _sort_value(doc: Doc, name: str) -> Any:
    if name == "_id":
        return doc["_id"]
    value = field(doc["_source"], name)
    return int(_comparable(value).timestamp() * 1000) if name == "@timestamp" else value


def _sort_terms(sort: Sequence[Any]) -> list[tuple[str, bool]]:
    """(field, descending) of each sort clause."""
    terms = []
    for clause in sort:
        ((name, order),) = clause.items()
        order = order["order"] if isinstance(order, Mapping) else order
        terms.append((name, order == "desc"))
    return terms


def sort_key(doc: Doc, sort: Sequence[Any]) -> tuple:
    return tuple(_sort_value(doc, name) for name, _ in _sort_terms(sort))


def sort_docs(docs: list[Doc], sort: Sequence[Any]) -> list[Doc]:
    ordered = list(docs)
    for name, descending in reversed(_sort_terms(sort)):
        ordered.sort(key=lambda d, n=name: _sort_value(d, n), reverse=descending)
    return ordered


def _after(key: tuple, after: tuple, sort: Sequence[Any]) -> bool:
    """Whether a document with sort values `key` comes after `after` in the sort order."""
    for (_, descending), mine, theirs in zip(_sort_terms(sort), key, after, strict=True):
        if mine != theirs:
            return mine < theirs if descending else mine > theirs
    return False


def aggregate(docs: list[Doc], spec: Mapping[str, Any]) -> dict[str, Any]:
    subs = spec.get("aggs", {})
    if "terms" in spec:
        return {"buckets": _terms(docs, spec["terms"], subs)}
    if "date_histogram" in spec:
        return {"buckets": _date_histogram(docs, spec["date_histogram"], subs)}
    raise NotImplementedError(f"aggregation {sorted(spec)}")


def _bucket(key: Any, docs: list[Doc], subs: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
    return {"key": key, **extra, "doc_count": len(docs), **{n: aggregate(docs, s) for n, s in subs.items()}}


def _terms(docs: list[Doc], spec: Mapping[str, Any], subs: Mapping[str, Any]) -> list[dict[str, Any]]:
    groups: dict[Any, list[Doc]] = {}
    for doc in docs:
        value = field(doc["_source"], spec["field"])
        if value is not None:
            groups.setdefault(value, []).append(doc)
    ordered = sorted(groups.items(), key=lambda kv: (-len(kv[1]), str(kv[0])))
    return [_bucket(key, group, subs) for key, group in ordered[: int(spec.get("size", 10))]]


def _date_histogram(
    docs: list[Doc], spec: Mapping[str, Any], subs: Mapping[str, Any]
) -> list[dict[str, Any]]:
    step = int(pd.Timedelta(spec["fixed_interval"]).total_seconds() * 1000)
    groups: dict[int, list[Doc]] = {}
    for doc in docs:
        ms = _sort_value(doc, spec["field"]) if spec["field"] == "@timestamp" else None
        if ms is None:
            raise NotImplementedError("date_histogram on a field other than @timestamp")
        groups.setdefault(ms // step * step, []).append(doc)
    keys = set(groups)
    if int(spec.get("min_doc_count", 1)) == 0:
        bounds = spec.get("extended_bounds") or {}
        low = [int(_comparable(bounds["min"]).timestamp() * 1000)] if "min" in bounds else []
        high = [int(_comparable(bounds["max"]).timestamp() * 1000)] if "max" in bounds else []
        if keys or (low and high):
            first = min([*keys, *(m // step * step for m in low)])
            last = max([*keys, *(m // step * step for m in high)])
            keys = set(range(first, last + step, step))
    return [
        _bucket(
            key, groups.get(key, []), subs, key_as_string=pd.Timestamp(key, unit="ms", tz="UTC").isoformat()
        )
        for key in sorted(keys)
    ]

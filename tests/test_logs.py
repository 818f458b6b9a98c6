"""app/logs.py: request bodies from named queries, frames from OpenSearch answers, and the loaders."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from app import audit, directory, logs, queries
from app.sources import Sources
from app.sources.cache import ResultCache
from app.sources.opensearch import SearchResult, hits_frame
from app.timerange import time_range
from tests.conftest import UNASKED
from tests.fake_opensearch import MemoryOpenSearch

NOW = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
TR = time_range("1h", NOW)


# -- request bodies --------------------------------------------------------------------------------------


def test_no_filter_gives_the_time_range_only():
    index, body = logs.search_request(
        "lines", logs.filter_clauses(logs.LogFilters()), start=TR.start, end=TR.end
    )
    assert index == "logs-*"
    assert body["query"]["bool"]["filter"] == [
        {"range": {"@timestamp": {"gte": "2026-11-28T01:00:00Z", "lte": "2026-11-28T02:00:00Z"}}}
    ]
    assert body["size"] == logs.PAGE_SIZE
    assert body["sort"] == [{"@timestamp": "desc"}, {"_id": "desc"}]


def test_link_params_leave_out_defaults():
    assert logs.link_params(logs.LogFilters(), "24h") == {}
    f = logs.LogFilters(service="filing", level="ERROR", tenant="elm-street", q='"503" hmrc', trace_id="ab")
    assert logs.link_params(f, "7d") == {
        "service": "filing",
        "level": "ERROR",
        "tenant": "elm-street",
        "q": '"503" hmrc',
        "trace_id": "ab",
        "range": "7d",
    }


def test_every_filter_is_one_typed_clause():
    filters = logs.LogFilters(
        service="filing", level="error", tenant="cobalt-cpa", q="hmrc 503", trace_id="abc"
    )
    clauses = logs.filter_clauses(filters)
    assert clauses == [
        {"term": {"service": "filing"}},
        {"term": {"level": "error"}},
        {"term": {"tenant": "cobalt-cpa"}},
        {
            "simple_query_string": {
                "query": "hmrc 503",
                "fields": ["message", "action", "route"],
                "default_operator": "and",
                "lenient": True,
            }
        },
        {"term": {"trace_id": "abc"}},
    ]
    _, body = logs.search_request("histogram", clauses, start=TR.start, end=TR.end, interval="1m")
    assert body["query"]["bool"]["filter"][1:] == clauses


def test_hostile_text_stays_one_json_string():
    hostile = '"}}, {"match_all": {}}], "must_not": [{"x'
    clauses = logs.filter_clauses(logs.LogFilters(q=hostile, service=hostile))
    assert clauses[0] == {"term": {"service": hostile}}
    assert clauses[1]["simple_query_string"]["query"] == hostile
    assert len(clauses) == 2 and "match_all" not in json.dumps(list(clauses[0]))


def keys(node) -> set[str]:
    if isinstance(node, dict):
        return set(node) | {k for v in node.values() for k in keys(v)}
    if isinstance(node, list):
        return {k for v in node for k in keys(v)}
    return set()


def test_no_named_query_uses_query_string():
    used = set()
    for query in queries.load_file(queries.QUERIES_DIR / "logs.yaml"):
        used |= keys(query.query)
    assert "simple_query_string" in used and "query_string" not in used


def test_with_filters_does_not_change_the_rendered_query():
    rendered = logs.render("logs", "lines", start=TR.start, end=TR.end).query
    before = json.dumps(rendered, sort_keys=True)
    logs.with_filters(rendered, [{"term": {"level": "error"}}])
    assert json.dumps(rendered, sort_keys=True) == before


def test_next_page_asks_after_the_last_line():
    _, body = logs.search_request(
        "lines_after", [], start=TR.start, end=TR.end, after_ms=1795827600123, after_id="x1"
    )
    assert body["search_after"] == [1795827600123, "x1"]


@pytest.mark.parametrize(
    ("preset", "interval"), [("1h", "1m"), ("6h", "5m"), ("24h", "10m"), ("7d", "1h"), ("30d", "6h")]
)
def test_histogram_interval_keeps_at_most_200_bars(preset, interval):
    assert logs.histogram_interval(time_range(preset, NOW)) == interval


@pytest.mark.parametrize(
    ("value", "ms"),
    [
        ("2026-11-28T01:00:00Z", 1795827600000),
        ("2026-11-28T01:00:00.123456Z", 1795827600123),  # a date field keeps milliseconds
        ("2026-11-28T01:00:00.5+00:00", 1795827600500),
        ("2026-11-28T01:00:00", 1795827600000),
        ("not a time", None),
        (None, None),
    ],
)
def test_epoch_ms(value, ms):
    assert logs.epoch_ms(value) == ms


def test_after_of_the_last_hit():
    hits = hits_frame(
        [
            {"_id": "b", "_source": {"@timestamp": "2026-11-28T01:00:02.000Z"}},
            {"_id": "a", "_source": {"@timestamp": "2026-11-28T01:00:01.250Z"}},
        ]
    )
    assert logs.after_of(hits) == (1795827601250, "a")
    assert logs.after_of(hits_frame([])) is None


# -- frames ----------------------------------------------------------------------------------------------


def test_lines_table_orders_known_columns_and_keeps_text_as_text():
    hits = hits_frame(
        [
            {
                "_id": "1",
                "_source": {
                    "@timestamp": "2026-11-28T01:00:00.5Z",
                    "message": "**bold** <script>x</script> [link](http://e)",
                    "level": "error",
                    "service": "filing",
                    "http": {"method": "POST"},
                },
            }
        ]
    )
    table = logs.lines_table(hits)
    assert list(table.columns[:3]) == ["time", "level", "service"]
    assert table["time"].iloc[0] == pd.Timestamp("2026-11-28T01:00:00.5Z")
    assert table["message"].iloc[0] == "**bold** <script>x</script> [link](http://e)"
    assert "http.method" in table.columns and "_id" not in table.columns


def test_empty_lines_table_has_the_columns():
    table = logs.lines_table(None)
    assert table.empty and list(table.columns)[0] == "time" and "message" in table.columns


def bucket(ms: int, **levels: int) -> dict:
    return {
        "key": ms,
        "key_as_string": "x",
        "doc_count": sum(levels.values()),
        "level": {"buckets": [{"key": k, "doc_count": v} for k, v in levels.items()]},
    }


HISTOGRAM = SearchResult(
    hits=hits_frame([]),
    aggregations={
        "over_time": {
            "buckets": [
                bucket(1795827600000, info=5, error=1),
                bucket(1795827660000),
                bucket(1795827720000, info=2),
            ]
        },
        "levels": {"buckets": [{"key": "info", "doc_count": 7}, {"key": "error", "doc_count": 1}]},
    },
    total=8,
)


def test_histogram_frame_fills_empty_buckets_with_zeros():
    frame = logs.histogram_frame(HISTOGRAM)
    assert len(frame) == 6  # 3 buckets x 2 levels
    counts = frame.set_index(["time", "level"])["count"]
    t1 = pd.Timestamp(1795827660000, unit="ms", tz="UTC")
    assert counts[(t1, "info")] == 0 and counts[(t1, "error")] == 0
    assert counts[(pd.Timestamp(1795827600000, unit="ms", tz="UTC"), "error")] == 1
    assert frame["count"].sum() == 8


def test_level_counts_most_first():
    assert logs.level_counts(HISTOGRAM).to_dict("list") == {"level": ["info", "error"], "count": [7, 1]}
    assert logs.level_counts(None).empty


def test_audit_counts_by_action_and_outcome():
    result = SearchResult(
        hits=hits_frame([]),
        aggregations={
            "action": {
                "buckets": [
                    {
                        "key": "login",
                        "doc_count": 50,
                        "outcome": {
                            "buckets": [
                                {"key": "success", "doc_count": 45},
                                {"key": "failure", "doc_count": 5},
                            ]
                        },
                    },
                    {
                        "key": "export",
                        "doc_count": 60,
                        "outcome": {"buckets": [{"key": "success", "doc_count": 60}]},
                    },
                ]
            }
        },
        total=110,
    )
    result.aggregations["tenants"] = {"buckets": [{"key": "elm-street", "doc_count": 9}]}
    counts = audit.audit_counts(result)
    assert counts.values.tolist() == [
        ["export", "success", 60],
        ["login", "success", 45],
        ["login", "failure", 5],
    ]
    assert audit.audit_counts(None).empty


@pytest.mark.parametrize(
    ("interval", "fmt"), [("1m", "%H:%M"), ("30m", "%H:%M"), ("1h", "%d %b"), ("6h", "%d %b")]
)
def test_time_axis_shows_hours_or_days(interval, fmt):
    assert logs.time_format(interval) == fmt


def test_audit_pickers_list_each_action_and_tenant_once():
    client = FakeOpenSearch(3)
    aggregations = {
        "action": {
            "buckets": [
                {
                    "key": "login.failure",
                    "doc_count": 5,
                    "outcome": {"buckets": [{"key": "failure", "doc_count": 5}]},
                },
                {
                    "key": "data.export",
                    "doc_count": 2,
                    "outcome": {
                        "buckets": [{"key": "success", "doc_count": 1}, {"key": "denied", "doc_count": 1}]
                    },
                },
            ]
        },
        "tenants": {
            "buckets": [{"key": "greyfriars", "doc_count": 4}, {"key": "elm-street", "doc_count": 3}]
        },
    }
    client.search = lambda index, body: SearchResult(hits=hits_frame([]), aggregations=aggregations, total=7)  # type: ignore[method-assign]
    view = audit.load(sources(client), TR, cache=ResultCache())
    assert view.actions == ["data.export", "login.failure"] and view.tenants == ["elm-street", "greyfriars"]


def test_stacked_bars_colours_known_levels():
    spec = logs.stacked_bars(
        logs.histogram_frame(HISTOGRAM), by="level", title="t", interval="1m", colors=logs.LEVEL_COLORS
    ).to_dict()
    assert spec["encoding"]["color"]["scale"] == {
        "domain": ["error", "info"],
        "range": ["#C62828", "#1565C0"],
    }


# -- loaders on a fake OpenSearch ------------------------------------------------------------------------


def _iso(at: datetime) -> str:
    return pd.Timestamp(at).isoformat().replace("+00:00", "Z")


def log_line(i: int, **fields: str) -> dict:
    """Log line `i`, i + 1 seconds before NOW: every tenth an ERROR, the rest INFO, all of `filing`."""
    source = {
        "@timestamp": _iso(NOW - timedelta(seconds=i + 1)),
        "level": "ERROR" if i % 10 == 0 else "INFO",
        "service": "filing",
        "tenant": "elm-street" if i % 4 == 0 else "greyfriars",
        "message": f"line {i}",
        "trace_id": f"{i:032x}",
        **fields,
    }
    return {"_id": f"d{i:04d}", "_source": source}


AUDIT_ACTIONS = ("login.success", "login.failure", "data.export")


def audit_event(i: int) -> dict:
    """Audit event `i`, i + 1 minutes before NOW: actions in turn, tenants alternating."""
    action = AUDIT_ACTIONS[i % 3]
    source = {
        "@timestamp": _iso(NOW - timedelta(minutes=i + 1)),
        "action": action,
        "outcome": "failure" if action == "login.failure" else "success",
        "tenant": ("elm-street", "greyfriars")[i % 2],
        "actor": f"user{i}@example.com",
    }
    return {"_id": f"a{i:04d}", "_source": source}


class FakeOpenSearch(MemoryOpenSearch):
    """`n` log lines (`log_line`) plus any `extra` ones in `logs-sextant`, `audit` audit events
    (`audit_event`) in `audit-sextant`; each search answers what its query selects."""

    def __init__(
        self, n: int = 250, fail: bool = False, *, audit: int = 0, extra: Sequence[dict] = ()
    ) -> None:
        super().__init__(
            {
                "logs-sextant": [*(log_line(i) for i in range(n)), *extra],
                "audit-sextant": [audit_event(i) for i in range(audit)],
            },
            fail,
        )
        self.docs = self.indices["logs-sextant"]


def sources(client) -> Sources:
    return Sources(prometheus=UNASKED, opensearch=client, jaeger=UNASKED, mode="live")


def pages_of(client, filters, cache=None, page_size=logs.PAGE_SIZE) -> list:
    """Every page from the newest, each through `LogsPage.older()`."""
    cache = cache if cache is not None else ResultCache()
    views = [logs.load(sources(client), filters, TR, cache=cache, page_size=page_size)]
    while views[-1].older() is not None:
        views.append(logs.load(sources(client), filters, TR, views[-1].older(), cache, page_size))
    return views


def test_the_histogram_is_an_aggregation_and_only_the_first_page_of_lines_is_fetched():
    client = FakeOpenSearch(250)
    view = logs.load(sources(client), logs.LogFilters(), TR, cache=ResultCache())
    bodies = {("aggs" in b): b for _, b in client.requests}
    assert len(client.requests) == 2
    assert bodies[True]["size"] == 0 and bodies[True]["track_total_hits"] is True
    assert bodies[False]["size"] == logs.PAGE_SIZE and "from" not in bodies[False]
    assert view.total == 250 and len(view.lines) == logs.PAGE_SIZE and view.first_line == 1


def test_older_pages_use_search_after_in_one_point_in_time_without_gaps_or_repeats():
    client = FakeOpenSearch(250)
    views = pages_of(client, logs.LogFilters(service="filing"))
    lines = pd.concat([v.lines for v in views], ignore_index=True)
    assert list(lines["message"]) == [f"line {i}" for i in range(250)]
    assert [v.first_line for v in views] == [1, 101, 201] and not views[-1].more
    assert views[-1].total == 250 and views[-1].levels.to_dict("list") == {
        "level": ["INFO", "ERROR"],
        "count": [225, 25],
    }
    # the histogram and the first page; one point in time opened for pages 2 and 3, never from/size
    asked = [
        ("pit" if "pit" in b else "open" if "open_point_in_time" in b else "search", b)
        for _, b in client.requests
    ]
    assert [kind for kind, _ in asked] == ["search", "search", "open", "pit", "pit"]
    in_pit = [b for kind, b in asked if kind == "pit"]
    assert {b["pit"]["id"] for b in in_pit} == {"pit-0"} and views[-1].paging.pit_id == "pit-0"
    assert all("from" not in b for _, b in client.requests)
    assert all({"term": {"service": "filing"}} in b["query"]["bool"]["filter"] for b in in_pit)
    assert [b["search_after"] for b in in_pit] == [
        [logs.epoch_ms(client.docs[99]["_source"]["@timestamp"]), "d0099"],
        [logs.epoch_ms(client.docs[199]["_source"]["@timestamp"]), "d0199"],
    ]


def test_lines_written_after_paging_began_do_not_shift_the_pages():
    client, cache = FakeOpenSearch(250), ResultCache()
    first = logs.load(sources(client), logs.LogFilters(), TR, cache=cache)
    second = logs.load(sources(client), logs.LogFilters(), TR, first.older(), cache)
    client.docs.append(log_line(150, message="written late"))  # sorts into page 3, after the point in time
    third = logs.load(sources(client), logs.LogFilters(), TR, second.older(), cache)
    assert "written late" not in set(third.lines["message"])
    assert list(third.lines["message"]) == [f"line {i}" for i in range(200, 250)]


def test_an_expired_point_in_time_is_opened_again_once():
    client = FakeOpenSearch(250)
    first = logs.load(sources(client), logs.LogFilters(), TR, cache=ResultCache())
    expired = replace(first.older(), pit_id="gone")
    view = logs.load(sources(client), logs.LogFilters(), TR, expired, ResultCache())
    assert view.problems == [] and view.paging.pit_id == "pit-0"
    assert list(view.lines["message"]) == [f"line {i}" for i in range(100, 200)]


def test_newer_goes_back_a_page_and_from_the_second_to_the_first():
    paging = logs.Paging().older((3, "c"), (TR.start, TR.end)).older((2, "b"), (TR.end, TR.end))
    assert paging.number == 3 and paging.window == (TR.start, TR.end)  # the first page's window kept
    assert paging.newer().after == ((3, "c"),) and paging.newer().newer() == logs.Paging()


def test_each_filter_narrows_the_lines_and_the_counts():
    client = FakeOpenSearch(250)
    errors = logs.load(sources(client), logs.LogFilters(level="ERROR"), TR, cache=ResultCache())
    assert list(errors.lines["message"]) == [f"line {i}" for i in range(0, 250, 10)]
    assert errors.total == 25 and errors.levels["level"].tolist() == ["ERROR"]
    assert errors.histogram.groupby("level")["count"].sum().to_dict() == {"ERROR": 25}
    tenant = logs.load(sources(client), logs.LogFilters(tenant="elm-street"), TR, cache=ResultCache())
    assert tenant.total == 63  # every fourth line; shown by the firm's name
    assert set(tenant.lines["tenant"]) == {directory.name("tenant", "elm-street")}
    one = logs.load(sources(client), logs.LogFilters(trace_id=f"{7:032x}"), TR, cache=ResultCache())
    assert list(one.lines["message"]) == ["line 7"]
    words = logs.load(sources(client), logs.LogFilters(q="line 12"), TR, cache=ResultCache())
    assert list(words.lines["message"]) == ["line 12"]  # words, not substrings: not line 112 or 120


def test_first_page_says_more_may_follow():
    view = logs.load(sources(FakeOpenSearch(250)), logs.LogFilters(), TR, cache=ResultCache())
    assert len(view.lines) == logs.PAGE_SIZE and view.more


def test_paging_back_reuses_the_pages_already_fetched():
    client, cache = FakeOpenSearch(250), ResultCache()
    views = pages_of(client, logs.LogFilters(), cache)
    asked = len(client.requests)
    back = logs.load(sources(client), logs.LogFilters(), TR, views[-1].paging.newer(), cache)
    assert len(client.requests) == asked and back.first_line == 101


def test_failing_opensearch_gives_a_problem_and_empty_frames():
    older = logs.Paging(after=((1, "d0001"),))
    view = logs.load(sources(FakeOpenSearch(fail=True)), logs.LogFilters(), TR, older, ResultCache())
    assert view.lines.empty and view.histogram.empty and view.total is None
    assert {b for b, _ in view.problems} == {"opensearch"}
    trail = audit.load(sources(FakeOpenSearch(fail=True)), TR, cache=ResultCache())
    assert trail.counts.empty and trail.total is None and trail.problems


def test_facets_list_the_pickers_values():
    client = FakeOpenSearch()
    client.search = lambda index, body: SearchResult(  # type: ignore[method-assign]
        hits=hits_frame([]),
        aggregations={
            "services": {"buckets": [{"key": "gateway", "doc_count": 9}, {"key": "filing", "doc_count": 3}]},
            "levels": {"buckets": [{"key": "info", "doc_count": 9}]},
            "tenants": {"buckets": []},
        },
        total=12,
    )
    facets = logs.load_facets(sources(client), TR, ResultCache())
    assert (facets.services, facets.levels, facets.tenants) == (["filing", "gateway"], ["info"], [])


def test_audit_filters_by_tenant_and_action():
    client = FakeOpenSearch(0, audit=12)
    view = audit.load(sources(client), TR, tenant="elm-street", action="data.export", cache=ResultCache())
    assert {i for i, _ in client.requests} == {"audit-*,-audit-sextant-*"}  # not Sextant's access log
    assert len(client.requests) == 2  # the summary and the latest events
    for _, body in client.requests:
        assert body["query"]["bool"]["filter"][1:] == [
            {"term": {"tenant": "elm-street"}},
            {"term": {"action": "data.export"}},
        ]
    # Events 2 and 8 are the data exports of elm-street (actions in turn, tenants alternating).
    assert list(view.latest["actor"]) == ["user2@example.com", "user8@example.com"]
    assert view.total == 2 and view.counts.values.tolist() == [["data.export", "success", 2]]
    assert view.problems == []


def test_trace_logs_ask_for_one_trace_oldest_first():
    client = FakeOpenSearch(3)
    logs.trace_logs(client, "abc")
    index, body = client.requests[0]
    assert index == "logs-*" and body["query"]["bool"]["filter"] == [{"term": {"trace_id": "abc"}}]
    assert body["sort"][0] == {"@timestamp": "asc"}

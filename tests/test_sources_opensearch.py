"""OpenSearchClient: result parsing, partial failures, paging, aggregations, and error mapping."""

from __future__ import annotations

import json

import httpx
import pandas as pd
import pytest
import respx

from app.sources.errors import BackendError, BackendUnavailable, QueryRejected
from app.sources.opensearch import OpenSearchClient, buckets_frame, hits_frame

URL = "http://os.test:9200"


def hit(i: int, **source):
    return {"_index": "logs", "_id": f"id{i:03d}", "_source": {"n": i, **source}, "sort": [i, f"id{i:03d}"]}


def answer(hits, total=None, **extra):
    body = {
        "took": 3,
        "timed_out": False,
        "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
        "hits": {"total": {"value": len(hits) if total is None else total, "relation": "eq"}, "hits": hits},
    }
    body.update(extra)
    return httpx.Response(200, json=body)


@pytest.fixture
def osc():
    with respx.mock(base_url=URL, assert_all_called=False) as mock:
        yield mock, OpenSearchClient(URL, timeout=5.0)


def test_search_returns_hits_frame_total_and_aggregations(osc):
    mock, client = osc
    route = mock.post("/logs-*/_search").mock(
        return_value=answer(
            [hit(1, http={"status": 500}, tenant="acme"), hit(2, tenant="elm")],
            total=42,
            aggregations={"by_tenant": {"buckets": [{"key": "acme", "doc_count": 30}]}},
        )
    )
    result = client.search("logs-*", {"query": {"match_all": {}}})
    assert list(result.hits.columns) == ["_id", "n", "tenant", "http.status"]
    assert result.hits["_id"].tolist() == ["id001", "id002"]
    assert result.total == 42 and result.total_relation == "eq"
    assert result.aggregations["by_tenant"]["buckets"][0]["key"] == "acme"
    assert result.took_ms == 3 and not result.timed_out and result.warnings == ()
    assert json.loads(route.calls.last.request.content) == {"query": {"match_all": {}}}


def test_empty_search_has_id_column():
    frame = hits_frame([])
    assert list(frame.columns) == ["_id"] and frame.empty


def test_timed_out_and_failed_shards_are_kept_as_warnings(osc):
    mock, client = osc
    mock.post("/logs/_search").mock(
        return_value=answer(
            [hit(1)],
            timed_out=True,
            _shards={
                "total": 3,
                "successful": 1,
                "skipped": 0,
                "failed": 2,
                "failures": [
                    {
                        "shard": 1,
                        "index": "logs",
                        "reason": {"type": "x", "reason": "No mapping found for [ts]"},
                    },
                    {
                        "shard": 2,
                        "index": "logs",
                        "reason": {"type": "x", "reason": "No mapping found for [ts]"},
                    },
                ],
            },
        )
    )
    result = client.search("logs", {})
    assert result.timed_out and result.shards_failed == 2
    assert result.failures == ("No mapping found for [ts]",)
    assert result.warnings == (
        "the search timed out: results are partial",
        "2 shard(s) failed: results are partial",
        "No mapping found for [ts]",
    )


def test_old_style_integer_total(osc):
    mock, client = osc
    mock.post("/logs/_search").mock(return_value=httpx.Response(200, json={"hits": {"total": 7, "hits": []}}))
    assert client.search("logs", {}).total == 7


def test_query_error_keeps_the_root_cause_reason(osc):
    mock, client = osc
    mock.post("/logs/_search").mock(
        return_value=httpx.Response(
            400,
            json={
                "error": {
                    "root_cause": [{"type": "parsing_exception", "reason": "unknown query [nope]"}],
                    "type": "parsing_exception",
                    "reason": "unknown query [nope] wrapped",
                },
                "status": 400,
            },
        )
    )
    with pytest.raises(QueryRejected) as caught:
        client.search("logs", {"query": {"nope": {}}})
    assert caught.value.message == "unknown query [nope]"
    assert caught.value.error_type == "parsing_exception"
    assert caught.value.status == 400


def test_missing_index_is_rejected_and_overload_is_unavailable(osc):
    mock, client = osc
    mock.post("/nope/_search").mock(
        return_value=httpx.Response(
            404, json={"error": {"type": "index_not_found_exception", "reason": "no such index [nope]"}}
        )
    )
    mock.post("/busy/_search").mock(
        return_value=httpx.Response(429, json={"error": "rejected execution of search", "status": 429})
    )
    with pytest.raises(QueryRejected, match=r"no such index \[nope\]") as caught:
        client.search("nope", {})
    assert caught.value.error_type == "index_not_found_exception"
    with pytest.raises(BackendUnavailable, match="rejected execution"):
        client.search("busy", {})


def test_non_json_answers(osc):
    mock, client = osc
    mock.get("/").mock(
        side_effect=[httpx.Response(200, text="hello"), httpx.Response(503, text="Service Unavailable")]
    )
    with pytest.raises(BackendError, match="did not answer with JSON"):
        client.info()
    with pytest.raises(BackendUnavailable, match="Service Unavailable"):
        client.info()


def test_connection_refused(osc):
    mock, client = osc
    mock.post("/logs/_search").mock(side_effect=httpx.ConnectError("Connection refused"))
    with pytest.raises(BackendUnavailable, match="Connection refused"):
        client.search("logs", {})
    assert client.stats.snapshot().failures == 1


@pytest.mark.parametrize("index", ["", "../_cluster", "a/b", "logs,..", "x y"])
def test_index_names_cannot_escape_the_path(osc, index):
    _, client = osc
    with pytest.raises(ValueError, match="not an index name"):
        client.search(index, {})


def test_search_all_pages_with_search_after_and_a_tiebreaker(osc):
    mock, client = osc
    pages = [[hit(i) for i in range(0, 3)], [hit(i) for i in range(3, 6)], [hit(6)]]
    route = mock.post("/logs/_search").mock(
        side_effect=[
            answer(pages[0], total=7, aggregations={"a": {"value": 1}}),
            answer(pages[1], total=7),
            answer(pages[2], total=7),
        ]
    )
    result = client.search_all(
        "logs", {"query": {"match_all": {}}, "sort": [{"n": "asc"}], "aggs": {"a": {}}}, page_size=3
    )
    assert result.hits["n"].tolist() == list(range(7))
    assert result.total == 7 and not result.truncated
    assert result.aggregations == {"a": {"value": 1}}
    bodies = [json.loads(call.request.content) for call in route.calls]
    assert bodies[0]["sort"] == [{"n": "asc"}, {"_id": "asc"}]
    assert "search_after" not in bodies[0] and "aggs" in bodies[0]
    assert bodies[1]["search_after"] == [2, "id002"] and "aggs" not in bodies[1]
    assert bodies[1]["track_total_hits"] is False
    assert bodies[2]["search_after"] == [5, "id005"]


def test_search_all_stops_at_max_docs_and_says_so(osc):
    mock, client = osc
    route = mock.post("/logs/_search").mock(
        side_effect=[answer([hit(0), hit(1)], total=100), answer([hit(2)], total=100)]
    )
    result = client.search_all("logs", {"sort": ["n", {"_id": {"order": "asc"}}]}, page_size=2, max_docs=3)
    assert len(result.hits) == 3 and result.truncated
    assert "stopped after 3 documents" in result.warnings
    bodies = [json.loads(call.request.content) for call in route.calls]
    assert bodies[0]["sort"] == ["n", {"_id": {"order": "asc"}}]  # tiebreaker already there
    assert bodies[1]["size"] == 1


def test_search_all_collects_partial_failures(osc):
    mock, client = osc
    failed = {"total": 2, "successful": 1, "failed": 1, "failures": [{"reason": {"reason": "shard down"}}]}
    mock.post("/logs/_search").mock(side_effect=[answer([hit(0)], _shards=failed, timed_out=True)])
    result = client.search_all("logs", {}, page_size=5)
    assert result.timed_out and result.shards_failed == 1 and result.failures == ("shard down",)


def test_search_all_with_point_in_time_deletes_it(osc):
    mock, client = osc
    create = mock.post("/logs/_search/point_in_time").mock(
        return_value=httpx.Response(200, json={"pit_id": "P1"})
    )
    search = mock.post("/_search").mock(
        side_effect=[answer([hit(0), hit(1)], pit_id="P2"), answer([], pit_id="P2")]
    )
    delete = mock.delete("/_search/point_in_time").mock(return_value=httpx.Response(200, json={}))
    result = client.search_all("logs", {}, page_size=2, pit_keep_alive="1m")
    assert len(result.hits) == 2
    assert create.calls.last.request.url.params["keep_alive"] == "1m"
    bodies = [json.loads(call.request.content) for call in search.calls]
    assert bodies[0]["pit"] == {"id": "P1", "keep_alive": "1m"}
    assert bodies[1]["pit"] == {"id": "P2", "keep_alive": "1m"}
    assert json.loads(delete.calls.last.request.content) == {"pit_id": ["P2"]}


def test_point_in_time_is_deleted_even_when_a_page_fails_and_delete_errors_are_ignored(osc):
    mock, client = osc
    mock.post("/logs/_search/point_in_time").mock(return_value=httpx.Response(200, json={"pit_id": "P1"}))
    mock.post("/_search").mock(return_value=httpx.Response(500, json={"error": {"reason": "boom"}}))
    delete = mock.delete("/_search/point_in_time").mock(side_effect=httpx.ConnectError("gone"))
    with pytest.raises(BackendUnavailable, match="boom"):
        client.search_all("logs", {}, pit_keep_alive="1m")
    assert delete.called


def test_a_page_in_a_point_in_time_goes_to_search_without_an_index(osc):
    mock, client = osc
    create = mock.post("/logs-*/_search/point_in_time").mock(
        return_value=httpx.Response(200, json={"pit_id": "P1"})
    )
    search = mock.post("/_search").mock(return_value=answer([hit(5)], total=12_000))
    assert client.open_point_in_time("logs-*", "5m") == "P1"
    assert create.calls.last.request.url.params["keep_alive"] == "5m"
    body = {"size": 100, "sort": [{"@timestamp": "desc"}, {"_id": "desc"}], "search_after": [9, "id009"]}
    result = client.search_point_in_time("P1", body, "5m")
    sent = json.loads(search.calls.last.request.content)
    assert sent == {**body, "pit": {"id": "P1", "keep_alive": "5m"}} and "from" not in sent
    assert result.hits["_id"].tolist() == ["id005"] and result.total == 12_000


def test_an_expired_point_in_time_is_a_404(osc):
    mock, client = osc
    mock.post("/_search").mock(
        return_value=httpx.Response(
            404,
            json={"error": {"type": "search_context_missing_exception", "reason": "No search context found"}},
        )
    )
    with pytest.raises(QueryRejected) as refused:
        client.search_point_in_time("gone", {"size": 1}, "5m")
    assert refused.value.status == 404


def test_count_sends_only_the_query(osc):
    mock, client = osc
    route = mock.post("/logs/_count").mock(return_value=httpx.Response(200, json={"count": 12}))
    assert client.count("logs", {"query": {"term": {"a": 1}}, "size": 0, "aggs": {}}) == 12
    assert json.loads(route.calls.last.request.content) == {"query": {"term": {"a": 1}}}
    assert client.count("logs") == 12
    assert route.calls.last.request.content in (b"", b"null")


def test_info_and_health(osc):
    mock, client = osc
    mock.get("/").mock(
        side_effect=[
            httpx.Response(200, json={"cluster_name": "c", "version": {"number": "2.19.6"}}),
            httpx.Response(401, json={"error": "unauthorised"}),
        ]
    )
    health = client.health()
    assert health.reachable and health.version == "2.19.6" and health.name == "opensearch"
    down = client.health()
    assert not down.reachable and down.error == "unauthorised"
    client.close()


def test_buckets_frame_flattens_terms_date_histogram_and_metrics():
    aggregations = {
        "by_service": {
            "buckets": [
                {
                    "key": "gateway",
                    "doc_count": 5,
                    "per_hour": {
                        "buckets": [
                            {
                                "key": 1709294400000,
                                "key_as_string": "2024-03-01T12:00:00.000Z",
                                "doc_count": 3,
                                "latency": {"value": 0.25},
                                "pct": {"values": {"95.0": 0.9}},
                                "st": {"count": 3, "min": 1.0, "max": 2.0, "min_as_string": "x"},
                            }
                        ]
                    },
                }
            ]
        },
        "by_filter": {"buckets": {"errors": {"doc_count": 2}, "ok": {"doc_count": 8}}},
        "empty": {"buckets": []},
    }
    frame = buckets_frame(aggregations, "by_service")
    assert list(frame.columns) == [
        "by_service",
        "per_hour",
        "doc_count",
        "latency",
        "pct.95.0",
        "st.count",
        "st.min",
        "st.max",
    ]
    row = frame.iloc[0]
    assert row["by_service"] == "gateway" and row["doc_count"] == 3
    assert row["per_hour"] == pd.Timestamp("2024-03-01T12:00:00Z")
    assert row["latency"] == 0.25 and row["pct.95.0"] == 0.9
    filters = buckets_frame(aggregations, "by_filter")
    assert filters.to_dict("records") == [
        {"by_filter": "errors", "doc_count": 2},
        {"by_filter": "ok", "doc_count": 8},
    ]
    assert list(buckets_frame(aggregations, "empty").columns) == ["empty", "doc_count"]
    assert buckets_frame(aggregations, "missing").empty

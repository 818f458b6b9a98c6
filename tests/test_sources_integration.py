"""The three clients against the real stack (`make stack-up`): real versions, figures and error words."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from app import histograms, queries
from app.sources.errors import QueryRejected
from app.sources.jaeger import JaegerClient
from app.sources.opensearch import OpenSearchClient, buckets_frame
from app.sources.prometheus import MAX_POINTS, PrometheusClient
from stack.simulator import model

pytestmark = pytest.mark.integration

INJECTION = 'a"} or vector(1) #'


@pytest.fixture(scope="module")
def prom(live_stack):
    client = PrometheusClient(live_stack.prometheus_url, timeout=20.0)
    yield client
    client.close()


@pytest.fixture(scope="module")
def opensearch(live_stack):
    client = OpenSearchClient(live_stack.opensearch_url, timeout=20.0)
    yield client
    client.close()


@pytest.fixture(scope="module")
def jaeger(live_stack):
    client = JaegerClient(live_stack.jaeger_url, timeout=20.0)
    yield client
    client.close()


def http_requests_series() -> int:
    return sum(1 for series in model.catalogue() if series.name == "http_requests_total")


# -- Prometheus --------------------------------------------------------------------------------------


def test_prometheus_version_and_health(prom):
    assert prom.buildinfo()["version"].startswith("2.42")
    health = prom.health()
    assert health.reachable and health.version.startswith("2.42") and health.error is None


def test_instant_count_matches_the_simulator_catalogue(prom, live_stack):
    at = live_stack.anchor - timedelta(hours=1)  # inside the backfill: no lookback gap
    result = prom.instant("count(http_requests_total)", at=at)
    assert list(result.frame.columns) == ["value"]
    assert result.frame["value"].tolist() == [http_requests_series()] == [27]


def test_instant_vector_has_one_row_per_series(prom, live_stack):
    frame = prom.instant("http_requests_total", at=live_stack.anchor - timedelta(hours=1)).frame
    assert {"__name__", "code", "route", "service", "value"} <= set(frame.columns)
    assert len(frame) == http_requests_series()
    assert set(frame["service"]) == set(model.SERVICES)


def test_thirty_day_range_with_auto_step_stays_under_the_point_limit(prom, live_stack):
    start, end = live_stack.anchor - timedelta(days=30), live_stack.anchor - timedelta(minutes=5)
    frame = prom.range("count(http_requests_total)", start, end).frame
    assert list(frame.columns) == ["timestamp", "value"]
    assert 300 <= len(frame) <= MAX_POINTS
    assert str(frame["timestamp"].dtype) == "datetime64[ns, UTC]"
    assert frame["timestamp"].min() >= start - timedelta(hours=2)
    assert set(frame["value"]) == {27.0}


@pytest.mark.parametrize(("by", "window"), [("service", "24h"), ("route", "1h")])
def test_quantiles_from_bucket_rates_are_prometheus_histogram_quantile(prom, live_stack, by, window):
    """Service health computes p50/p95/p99 from one answer of bucket rates (`app.histograms`): for every
    service or route, the figures Prometheus's `histogram_quantile` gives for the same vector."""
    at = live_stack.anchor - timedelta(minutes=30)
    rates = f"sum by ({by}, le) (rate(http_request_duration_seconds_bucket[{window}]))"
    wanted = {"p10": 0.1, "p50": 0.5, "p95": 0.95, "p99": 0.99, "p999": 0.999}
    ours = histograms.quantiles(prom.instant(rates, at=at).frame, by, wanted).set_index(by)
    assert len(ours) >= 5
    for label, q in wanted.items():
        theirs = prom.instant(f"histogram_quantile({q}, {rates})", at=at).frame.set_index(by)["value"]
        assert set(theirs.index) == set(ours.index)
        for key, value in theirs.items():
            assert ours.loc[key, label] == pytest.approx(value, rel=1e-12, nan_ok=True), (key, label)


def test_too_many_points_keeps_prometheus_message(prom, live_stack):
    end = live_stack.anchor
    with pytest.raises(QueryRejected) as caught:
        prom.range("up", end - timedelta(days=30), end, step=60)
    assert caught.value.error_type == "bad_data"
    assert "exceeded maximum resolution of 11,000 points per timeseries" in caught.value.message


def test_bad_promql_keeps_prometheus_message(prom):
    with pytest.raises(QueryRejected) as caught:
        prom.instant("sum(rate(http_requests_total[5m])")
    assert caught.value.status == 400 and caught.value.error_type == "bad_data"
    assert "parse error" in caught.value.message
    assert prom.stats.snapshot().last_error.startswith("prometheus: ")


def test_format_query_validates_promql(prom):
    assert prom.format_query("sum(up)by(job)") == "sum by (job) (up)"
    with pytest.raises(QueryRejected, match="parse error"):
        prom.format_query("sum(")


def test_escaped_injection_is_one_inert_matcher(prom, live_stack, tmp_path):
    (tmp_path / "t.yaml").write_text(
        "q:\n  backend: prometheus\n  query: 'tenant_backlog_documents{tenant=\"{{tenant}}\"}'\n"
        "  params: {tenant: {type: label_value}}\n"
    )
    text = queries.load_catalogue(tmp_path).get("t", "q").render(tenant=INJECTION).query
    formatted = prom.format_query(text)
    assert "vector(1)" in formatted and formatted.startswith("tenant_backlog_documents{tenant=")
    assert prom.instant(text, at=live_stack.anchor - timedelta(hours=1)).frame.empty


def test_series_targets_rules_alerts(prom, live_stack):
    at = live_stack.anchor - timedelta(hours=1)
    series = prom.series("http_requests_total", at - timedelta(minutes=10), at)
    assert {(s["service"], s["route"], s["code"]) for s in series} == {
        (s.label_dict["service"], s.label_dict["route"], s.label_dict["code"])
        for s in model.catalogue()
        if s.name == "http_requests_total"
    }
    assert any(t.get("labels", {}).get("job") == "simulator" for t in prom.targets())
    assert isinstance(prom.alerts(), list)
    # The alerting rules only (the callers read no other), the generated SLO alerts among them.
    rules = prom.rules()
    assert {r["type"] for r in rules} == {"alerting"}
    assert any((r.get("labels") or {}).get("sextant_alert") == "page-1h-5m" for r in rules)


# -- OpenSearch --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scratch_index(live_stack):
    """A throw-away index with 25 known documents, deleted afterwards (the client itself is read-only)."""
    name = f"sextant-sources-it-{uuid.uuid4().hex[:8]}"
    base = live_stack.opensearch_url
    mapping = {"tenant": {"type": "keyword"}, "n": {"type": "integer"}, "@timestamp": {"type": "date"}}
    httpx.put(
        f"{base}/{name}", json={"settings": {"number_of_replicas": 0}, "mappings": {"properties": mapping}}
    )
    lines = []
    for n in range(25):
        lines.append({"index": {"_index": name, "_id": f"doc-{n:02d}"}})
        lines.append(
            {
                "tenant": ("acme-accounts", "elm-street")[n % 2],
                "n": n,
                "@timestamp": f"2024-03-01T{n % 24:02d}:00:00Z",
            }
        )
    body = "\n".join(json.dumps(line) for line in lines) + "\n"
    answer = httpx.post(
        f"{base}/_bulk?refresh=true",
        content=body,
        headers={"Content-Type": "application/x-ndjson"},
        timeout=30,
    ).json()
    assert answer["errors"] is False
    yield name
    httpx.delete(f"{base}/{name}")


def test_opensearch_version_and_health(opensearch):
    assert opensearch.info()["version"]["number"] == "2.19.6"
    health = opensearch.health()
    assert health.reachable and health.version == "2.19.6"


def test_search_count_and_aggregations(opensearch, scratch_index):
    body = {
        "query": {"term": {"tenant": "acme-accounts"}},
        "size": 5,
        "sort": [{"n": "asc"}],
        "aggs": {"by_tenant": {"terms": {"field": "tenant"}}},
    }
    result = opensearch.search(scratch_index, body)
    assert result.total == 13 and result.shards_failed == 0 and not result.timed_out
    assert result.hits["n"].tolist() == [0, 2, 4, 6, 8]
    assert result.hits["_id"].iloc[0] == "doc-00"
    frame = buckets_frame(result.aggregations, "by_tenant")
    assert frame.to_dict("records") == [{"by_tenant": "acme-accounts", "doc_count": 13}]
    assert opensearch.count(scratch_index, {"query": {"range": {"n": {"gte": 20}}}}) == 5
    assert opensearch.count(scratch_index) == 25


def test_date_histogram_buckets_are_timestamps(opensearch, scratch_index):
    body = {
        "size": 0,
        "aggs": {"per_day": {"date_histogram": {"field": "@timestamp", "calendar_interval": "day"}}},
    }
    frame = buckets_frame(opensearch.search(scratch_index, body).aggregations, "per_day")
    assert str(frame["per_day"].dtype).startswith("datetime64") and frame["doc_count"].sum() == 25


@pytest.mark.parametrize("pit", [None, "1m"])
def test_search_all_pages_through_everything(opensearch, scratch_index, pit):
    result = opensearch.search_all(
        scratch_index, {"sort": [{"tenant": "asc"}]}, page_size=4, pit_keep_alive=pit
    )
    assert len(result.hits) == 25 and result.hits["_id"].is_unique and not result.truncated
    capped = opensearch.search_all(scratch_index, {}, page_size=4, max_docs=10, pit_keep_alive=pit)
    assert len(capped.hits) == 10 and capped.truncated


def test_missing_index_and_bad_query_keep_opensearch_reasons(opensearch, scratch_index):
    with pytest.raises(QueryRejected) as caught:
        opensearch.search("sextant-no-such-index", {})
    assert caught.value.status == 404 and caught.value.error_type == "index_not_found_exception"
    assert "no such index [sextant-no-such-index]" in caught.value.message
    with pytest.raises(QueryRejected) as caught:
        opensearch.search(scratch_index, {"query": {"no_such_query": {}}})
    assert caught.value.status == 400 and "no_such_query" in caught.value.message


# -- Jaeger ------------------------------------------------------------------------------------------


def test_jaeger_services_include_the_simulator_services(jaeger):
    assert set(model.SERVICES) <= set(jaeger.services())
    assert jaeger.health().reachable


def test_trace_search_and_trace_detail(jaeger, live_stack):
    operations = jaeger.operations("gateway")
    assert operations
    # up to now, as the pages ask: the loader also writes the days after the anchor, and Jaeger looks a trace
    # id up in the daily indices up to today only, so a trace of tomorrow is listed but not found
    end = datetime.now(UTC)
    traces = jaeger.search("gateway", start=live_stack.anchor - timedelta(days=31), end=end, limit=5)
    assert 1 <= len(traces) <= 5
    summary = traces[0]
    assert "gateway" in summary.services and summary.span_count >= 1 and summary.duration_ms > 0
    trace = jaeger.trace(summary.trace_id)
    assert len(trace.spans) == summary.span_count
    assert trace.spans["service"].isin(model.SERVICES).all()


def test_unknown_trace_is_rejected(jaeger):
    with pytest.raises(QueryRejected) as caught:
        jaeger.trace("0123456789abcdef0123456789abcdef")
    assert caught.value.status == 404 and "not found" in caught.value.message

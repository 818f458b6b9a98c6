"""JaegerClient: microsecond wire format, trace summaries, span frames, envelope errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pandas as pd
import pytest
import respx

from app.sources.errors import BackendError, BackendUnavailable, QueryRejected
from app.sources.jaeger import JaegerClient, RecentTraces, Trace, go_duration, summarize

URL = "http://jaeger.test:16686"
T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
T0_US = 1709294400 * 1_000_000


def span(span_id, parent=None, process="p1", op="POST /api/upload", start=0, duration=1000, tags=()):
    return {
        "traceID": "abc123",
        "spanID": span_id,
        "operationName": op,
        "references": [{"refType": "CHILD_OF", "traceID": "abc123", "spanID": parent}] if parent else [],
        "startTime": T0_US + start,
        "duration": duration,
        "tags": [{"key": k, "type": "string", "value": v} for k, v in tags],
        "processID": process,
    }


TRACE = {
    "traceID": "abc123",
    "spans": [
        span(
            "s2",
            parent="s1",
            process="p2",
            op="/ingest/document",
            start=100,
            duration=500,
            tags=[("otel.status_code", "ERROR")],
        ),
        span("s1", process="p1", op="POST /api/upload", start=0, duration=2000, tags=[("tenant", "acme")]),
        span("s3", parent="s2", process="p2", op="db", start=200, duration=2500, tags=[("error", True)]),
    ],
    "processes": {"p1": {"serviceName": "gateway"}, "p2": {"serviceName": "ingestion"}},
    "warnings": None,
}


def envelope(data, errors=None):
    return {"data": data, "total": 0, "limit": 0, "offset": 0, "errors": errors}


@pytest.fixture
def jg():
    with respx.mock(base_url=URL, assert_all_called=False) as mock:
        yield mock, JaegerClient(URL, timeout=5.0)


def test_services_and_operations_are_sorted_and_escaped(jg):
    mock, client = jg
    mock.get("/api/services").mock(return_value=httpx.Response(200, json=envelope(["gateway", "filing"])))
    ops = mock.get("/api/services/odd%2Fname/operations").mock(
        return_value=httpx.Response(200, json=envelope(["b", "a"]))
    )
    assert client.services() == ["filing", "gateway"]
    assert client.operations("odd/name") == ["a", "b"]
    assert ops.called


def test_no_services_is_an_empty_list(jg):
    mock, client = jg
    mock.get("/api/services").mock(return_value=httpx.Response(200, json=envelope(None)))
    assert client.services() == []


def test_search_sends_microseconds_tags_json_and_durations(jg):
    mock, client = jg
    route = mock.get("/api/traces").mock(return_value=httpx.Response(200, json=envelope([TRACE])))
    traces = client.search(
        "gateway",
        operation="POST /api/upload",
        tags={"tenant": "acme", "http.status_code": 500},
        start=T0 - timedelta(hours=1),
        end=T0,
        min_duration=timedelta(milliseconds=250),
        max_duration="2s",
        limit=5,
    )
    params = route.calls.last.request.url.params
    assert params["service"] == "gateway"
    assert params["operation"] == "POST /api/upload"
    assert int(params["start"]) == T0_US - 3600 * 1_000_000
    assert int(params["end"]) == T0_US
    assert json.loads(params["tags"]) == {"http.status_code": "500", "tenant": "acme"}
    assert params["minDuration"] == "250000us"
    assert params["maxDuration"] == "2s"
    assert params["limit"] == "5"
    assert traces.warnings == ()
    (summary,) = traces
    assert summary.trace_id == "abc123"
    assert summary.root_service == "gateway" and summary.root_operation == "POST /api/upload"
    assert summary.start == T0
    assert summary.duration_ms == 2.7  # the db span ends last, at 200 + 2500 µs
    assert summary.span_count == 3
    assert summary.error is True
    assert summary.services == ("gateway", "ingestion")
    assert list(traces.frame().columns)[:3] == ["trace_id", "root_service", "root_operation"]


def test_search_optional_params_are_left_out(jg):
    mock, client = jg
    route = mock.get("/api/traces").mock(return_value=httpx.Response(200, json=envelope([])))
    assert client.search("gateway", start=T0, end=T0) == []
    params = route.calls.last.request.url.params
    assert set(params) == {"service", "start", "end", "limit"} and params["limit"] == "20"


def test_naive_datetimes_are_utc(jg):
    mock, client = jg
    route = mock.get("/api/traces").mock(return_value=httpx.Response(200, json=envelope([])))
    client.search("gateway", start=datetime(2024, 3, 1, 12), end=datetime(2024, 3, 1, 12))
    assert int(route.calls.last.request.url.params["start"]) == T0_US


def test_go_duration_validation():
    assert go_duration("1h30m") == "1h30m"
    assert go_duration(timedelta(seconds=1)) == "1000000us"
    with pytest.raises(ValueError, match="not a duration"):
        go_duration("5 minutes")


def test_trace_spans_frame(jg):
    mock, client = jg
    mock.get("/api/traces/abc123").mock(return_value=httpx.Response(200, json=envelope([TRACE])))
    trace = client.trace("abc123")
    spans = trace.spans
    assert list(spans.columns) == [
        "span_id",
        "parent_id",
        "service",
        "operation",
        "start",
        "duration_ms",
        "error",
        "tags",
    ]
    assert spans["span_id"].tolist() == ["s1", "s2", "s3"]  # ordered by start
    assert pd.isna(spans["parent_id"].iloc[0]) and spans["parent_id"].iloc[1] == "s1"
    assert spans["service"].tolist() == ["gateway", "ingestion", "ingestion"]
    assert spans["start"].iloc[1] == pd.Timestamp("2024-03-01T12:00:00.0001Z")
    assert spans["duration_ms"].tolist() == [2.0, 0.5, 2.5]
    assert spans["error"].tolist() == [False, True, True]
    assert spans["tags"].iloc[0] == {"tenant": "acme"}


def test_trace_warnings_and_partial_errors_are_kept(jg):
    mock, client = jg
    body = envelope(
        [{**TRACE, "warnings": ["clock skew adjusted"]}], errors=[{"code": 500, "msg": "one shard failed"}]
    )
    mock.get("/api/traces/abc123").mock(return_value=httpx.Response(200, json=body))
    trace = client.trace("abc123")
    assert trace.warnings == ("one shard failed", "clock skew adjusted")


def test_search_errors_without_data_are_rejected(jg):
    mock, client = jg
    mock.get("/api/traces").mock(
        return_value=httpx.Response(
            400, json=envelope(None, errors=[{"code": 400, "msg": "parameter 'service' is required"}])
        )
    )
    with pytest.raises(QueryRejected, match="parameter 'service' is required") as caught:
        client.search("", start=T0, end=T0)
    assert caught.value.status == 400


def test_storage_errors_are_unavailable(jg):
    mock, client = jg
    mock.get("/api/services").mock(
        return_value=httpx.Response(500, json=envelope(None, errors=[{"code": 500, "msg": "storage down"}]))
    )
    with pytest.raises(BackendUnavailable, match="storage down"):
        client.services()


def test_trace_not_found_and_bad_ids(jg):
    mock, client = jg
    mock.get("/api/traces/ffff").mock(
        return_value=httpx.Response(
            404, json=envelope(None, errors=[{"code": 404, "msg": "trace not found"}])
        )
    )
    mock.get("/api/traces/eeee").mock(return_value=httpx.Response(200, json=envelope([])))
    with pytest.raises(QueryRejected, match="trace not found") as caught:
        client.trace("ffff")
    assert caught.value.status == 404
    with pytest.raises(QueryRejected, match="trace not found"):
        client.trace("eeee")
    with pytest.raises(QueryRejected, match="not a trace id"):
        client.trace("../api/services")


def test_plain_text_and_transport_errors(jg):
    mock, client = jg
    mock.get("/api/services").mock(
        side_effect=[
            httpx.Response(400, text="bad request\nmore"),
            httpx.Response(200, text="<html>"),
            httpx.Response(502, json={"data": ["x"], "errors": None}),
            httpx.ConnectError("Connection refused"),
        ]
    )
    with pytest.raises(QueryRejected, match="^jaeger: bad request$"):
        client.services()
    with pytest.raises(BackendError, match="did not answer with JSON"):
        client.services()
    with pytest.raises(BackendUnavailable):
        client.services()
    with pytest.raises(BackendUnavailable, match="Connection refused"):
        client.services()


def test_health_has_no_version(jg):
    mock, client = jg
    mock.get("/api/services").mock(return_value=httpx.Response(200, json=envelope(["gateway"])))
    health = client.health()
    assert health.reachable and health.version is None and health.name == "jaeger"
    client.close()


def test_summary_of_an_empty_or_orphaned_trace():
    empty = summarize({"traceID": "x", "spans": [], "processes": {}})
    assert empty.span_count == 0 and empty.services == ()
    orphan = summarize(
        {
            "traceID": "y",
            "spans": [span("c", parent="missing", op="child")],
            "processes": {"p1": {"serviceName": "s"}},
        }
    )
    assert orphan.root_operation == "child" and orphan.error is False


def test_a_trace_a_search_returned_is_not_asked_again(jg):
    mock, client = jg
    mock.get("/api/traces").mock(return_value=httpx.Response(200, json=envelope([TRACE])))
    fetched = mock.get(url__regex=r"/api/traces/.+").mock(
        return_value=httpx.Response(200, json=envelope([TRACE]))
    )
    client.search("gateway", start=T0, end=T0 + timedelta(hours=1))
    # Jaeger writes a 64-bit id in 16 digits; a link may carry the 32-digit form
    trace = client.trace("0" * 26 + "abc123")
    assert not fetched.called
    assert trace.trace_id == "abc123" and trace.spans["span_id"].tolist() == ["s1", "s2", "s3"]
    assert client.trace("abc124") is not None and fetched.call_count == 1  # not in the search: asked


def test_a_searched_trace_is_asked_again_once_it_is_old_or_crowded_out(jg):
    mock, client = jg
    mock.get("/api/traces").mock(return_value=httpx.Response(200, json=envelope([TRACE])))
    fetched = mock.get("/api/traces/abc123").mock(return_value=httpx.Response(200, json=envelope([TRACE])))
    client.recent = RecentTraces(keep_s=-1.0)
    client.search("gateway", start=T0, end=T0 + timedelta(hours=1))
    client.trace("abc123")
    assert fetched.call_count == 1
    client.recent = RecentTraces(max_spans=2)  # the trace's 3 spans are more than it keeps
    client.search("gateway", start=T0, end=T0 + timedelta(hours=1))
    client.trace("abc123")
    assert fetched.call_count == 2


def test_recent_traces_keep_the_newest_within_their_span_budget():
    recent = RecentTraces(max_spans=5)
    spans = pd.DataFrame({"span_id": ["a", "b", "c"]})
    for trace_id in ("a1", "a2", "a3"):
        recent.add(Trace(trace_id, spans.head(2)))
    assert recent.get("a1") is None and recent.get("a2") is not None and recent.get("a3") is not None
    recent.add(Trace("a2", spans))  # the same trace again replaces it: 3 + 2 spans
    assert recent.get("a2") is not None and recent.get("a3") is not None

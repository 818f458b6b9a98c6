"""PrometheusClient against recorded-shape answers: frames, auto step, and every error path."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import httpx
import pandas as pd
import pytest
import respx

from app.sources.errors import BackendError, BackendUnavailable, QueryRejected
from app.sources.prometheus import (
    MAX_POINTS,
    NARROW_CHART_POINTS,
    TARGET_POINTS,
    PrometheusClient,
    align,
    auto_step,
)
from app.sources.prometheus_frame import to_frame
from app.sources.stats import CallStats

URL = "http://prom.test:9090"
T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def ok(data, **extra):
    return httpx.Response(200, json={"status": "success", "data": data, **extra})


def form(request: httpx.Request) -> dict[str, list[str]]:
    return parse_qs(request.content.decode())


@pytest.fixture
def prom():
    with respx.mock(base_url=URL, assert_all_called=False) as mock:
        yield mock, PrometheusClient(URL, timeout=10.0)


def test_instant_vector_frame_has_sorted_label_columns_and_float_values(prom):
    mock, client = prom
    route = mock.post("/api/v1/query").mock(
        return_value=ok(
            {
                "resultType": "vector",
                "result": [
                    {"metric": {"service": "gateway", "code": "200"}, "value": [1709294400, "4.5"]},
                    {"metric": {"service": "filing"}, "value": [1709294400, "NaN"]},
                ],
            }
        )
    )
    result = client.instant("sum by (service, code) (up)", at=T0)
    assert list(result.frame.columns) == ["code", "service", "value"]
    assert result.frame["value"].dtype == "float64"
    assert result.frame["value"].iloc[0] == 4.5
    assert pd.isna(result.frame["code"].iloc[1])
    sent = form(route.calls.last.request)
    assert sent["time"] == [f"{T0.timestamp():.3f}"]
    assert sent["query"] == ["sum by (service, code) (up)"]
    assert sent["timeout"] == ["9"]  # below the 10 s HTTP timeout
    assert result.warnings == ()


def test_instant_without_time_lets_prometheus_use_its_clock(prom):
    mock, client = prom
    route = mock.post("/api/v1/query").mock(return_value=ok({"resultType": "vector", "result": []}))
    client.instant("up")
    assert "time" not in form(route.calls.last.request)


def test_empty_instant_result_has_value_column(prom):
    mock, client = prom
    mock.post("/api/v1/query").mock(return_value=ok({"resultType": "vector", "result": []}))
    frame = client.instant("nothing").frame
    assert frame.empty and list(frame.columns) == ["value"] and frame["value"].dtype == "float64"


def test_scalar_and_string_results_are_one_row(prom):
    mock, client = prom
    mock.post("/api/v1/query").mock(
        side_effect=[
            ok({"resultType": "scalar", "result": [1709294400, "+Inf"]}),
            ok({"resultType": "string", "result": [1709294400, "hello"]}),
        ]
    )
    assert client.instant("1/0").frame["value"].tolist() == [float("inf")]
    assert client.instant('"hello"').frame["value"].tolist() == ["hello"]


def test_unknown_result_type_is_a_backend_error(prom):
    with pytest.raises(BackendError, match="unexpected resultType"):
        to_frame({"resultType": "histogram", "result": []})
    mock, client = prom
    mock.post("/api/v1/query").mock(return_value=ok({"resultType": "histogram", "result": []}))
    with pytest.raises(BackendError, match="unexpected resultType"):  # when asked, not when the frame is read
        client.instant("up")


def test_an_instant_vector_reads_as_rows_without_a_frame_and_as_the_frame_reads(prom):
    mock, client = prom
    series = [
        {"metric": {"service": "gateway", "code": "200"}, "value": [1709294400, "4.5"]},
        {"metric": {"service": "filing"}, "value": [1709294400, "2"]},
    ]
    mock.post("/api/v1/query").mock(return_value=ok({"resultType": "vector", "result": series}))
    result = client.instant("up")
    rows = [{"code": "200", "service": "gateway", "value": 4.5}, {"service": "filing", "value": 2.0}]
    assert result.rows() == rows
    assert result._frame is None  # the rows did not build the frame (and so did not need pandas)
    assert result.frame is result.frame  # built once
    framed = result.rows()  # read from the frame now: a column per label, missing where a series lacks it
    assert framed[0] == rows[0]
    assert pd.isna(framed[1].pop("code")) and framed[1] == rows[1]


def test_range_is_long_format_with_utc_timestamps(prom):
    mock, client = prom
    route = mock.post("/api/v1/query_range").mock(
        return_value=ok(
            {
                "resultType": "matrix",
                "result": [
                    {"metric": {"service": "a"}, "values": [[1709294400, "1"], [1709294460, "2"]]},
                    {"metric": {"service": "b"}, "values": [[1709294400, "3"]]},
                ],
            }
        )
    )
    result = client.range("rate(x[5m])", T0 - timedelta(hours=1), T0)
    frame = result.frame
    assert list(frame.columns) == ["service", "timestamp", "value"]
    assert str(frame["timestamp"].dtype) == "datetime64[ns, UTC]"
    assert frame["service"].tolist() == ["a", "a", "b"]
    assert frame["timestamp"].iloc[1] == pd.Timestamp("2024-03-01T12:01:00Z")
    assert frame["value"].tolist() == [1.0, 2.0, 3.0]
    sent = form(route.calls.last.request)
    assert sent["step"] == ["60"]


def test_empty_range_result_has_timestamp_and_value(prom):
    mock, client = prom
    mock.post("/api/v1/query_range").mock(return_value=ok({"resultType": "matrix", "result": []}))
    frame = client.range("nothing", T0 - timedelta(hours=1), T0).frame
    assert list(frame.columns) == ["timestamp", "value"]
    assert str(frame["timestamp"].dtype) == "datetime64[ns, UTC]"


def test_range_aligns_start_and_end_to_the_step(prom):
    mock, client = prom
    route = mock.post("/api/v1/query_range").mock(return_value=ok({"resultType": "matrix", "result": []}))
    client.range("up", T0 + timedelta(seconds=59), T0 + timedelta(minutes=30, seconds=7), step=300)
    sent = form(route.calls.last.request)
    assert float(sent["start"][0]) == T0.timestamp()
    assert float(sent["end"][0]) == (T0 + timedelta(minutes=30)).timestamp()
    assert sent["step"] == ["300"]


def test_range_refuses_a_non_positive_step(prom):
    _, client = prom
    with pytest.raises(QueryRejected, match="step must be positive"):
        client.range("up", T0, T0, step=0)


@pytest.mark.parametrize(
    ("span", "points", "step"),
    [
        (timedelta(minutes=5), TARGET_POINTS, 60),
        (timedelta(hours=1), TARGET_POINTS, 60),
        (timedelta(hours=6), TARGET_POINTS, 60),
        (timedelta(hours=24), TARGET_POINTS, 300),
        (timedelta(days=7), TARGET_POINTS, 1800),
        (timedelta(days=30), TARGET_POINTS, 7200),
        (timedelta(days=365), TARGET_POINTS, 86400),
        (timedelta(days=3000), TARGET_POINTS, 6 * 86400),
        # a chart a third of the page wide: fewer points, never a finer step than a page-wide chart's
        (timedelta(hours=1), NARROW_CHART_POINTS, 60),
        (timedelta(hours=6), NARROW_CHART_POINTS, 120),
        (timedelta(hours=24), NARROW_CHART_POINTS, 600),
        (timedelta(days=7), NARROW_CHART_POINTS, 3600),
        (timedelta(days=30), NARROW_CHART_POINTS, 21600),
    ],
)
def test_auto_step_is_nice_at_least_a_minute_and_within_the_point_limit(span, points, step):
    got = auto_step(T0 - span, T0, points)
    assert got == step
    assert span.total_seconds() / got <= points
    assert span.total_seconds() / got <= MAX_POINTS
    assert got >= auto_step(T0 - span, T0)


def test_auto_step_of_an_empty_or_reversed_range_is_the_minimum():
    assert auto_step(T0, T0) == 60
    assert auto_step(T0, T0 - timedelta(hours=1)) == 60


def test_align_treats_naive_times_as_utc_and_never_ends_before_start():
    naive = datetime(2024, 3, 1, 12, 0, 30)
    assert align(naive, naive, 60) == (T0.timestamp(), T0.timestamp())


def test_warnings_and_infos_are_passed_through(prom):
    mock, client = prom
    mock.post("/api/v1/query").mock(
        return_value=ok(
            {"resultType": "vector", "result": []}, warnings=["PromQL warning: x"], infos=["info: y"]
        )
    )
    assert client.instant("x").warnings == ("PromQL warning: x", "info: y")


def test_bad_data_400_keeps_prometheus_words(prom):
    mock, client = prom
    message = '1:5: parse error: unexpected "}" in label matching'
    mock.post("/api/v1/query").mock(
        return_value=httpx.Response(400, json={"status": "error", "errorType": "bad_data", "error": message})
    )
    with pytest.raises(QueryRejected) as caught:
        client.instant("up{}}")
    assert caught.value.message == message
    assert caught.value.error_type == "bad_data"
    assert caught.value.status == 400
    assert str(caught.value) == f"prometheus: {message}"


def test_execution_422_is_rejected(prom):
    mock, client = prom
    mock.post("/api/v1/query_range").mock(
        return_value=httpx.Response(
            422,
            json={
                "status": "error",
                "errorType": "execution",
                "error": "query processing would load too many samples into memory in query execution",
            },
        )
    )
    with pytest.raises(QueryRejected, match="too many samples") as caught:
        client.range("x", T0 - timedelta(days=1), T0)
    assert caught.value.error_type == "execution"


def test_timeout_503_means_unavailable_and_keeps_the_message(prom):
    mock, client = prom
    mock.post("/api/v1/query").mock(
        return_value=httpx.Response(
            503,
            json={
                "status": "error",
                "errorType": "timeout",
                "error": "query timed out in expression evaluation",
            },
        )
    )
    with pytest.raises(BackendUnavailable) as caught:
        client.instant("x")
    assert caught.value.error_type == "timeout"
    assert caught.value.message == "query timed out in expression evaluation"


def test_other_json_error_statuses(prom):
    mock, client = prom
    mock.get("/api/v1/rules").mock(
        return_value=httpx.Response(500, json={"status": "error", "errorType": "internal", "error": "boom"})
    )
    mock.get("/api/v1/alerts").mock(
        return_value=httpx.Response(200, json={"status": "error", "errorType": "odd", "error": "weird"})
    )
    with pytest.raises(BackendUnavailable, match="boom"):
        client.rules()
    with pytest.raises(BackendError, match="weird") as caught:
        client.alerts()
    assert type(caught.value) is BackendError


def test_plain_text_404_keeps_the_text(prom):
    mock, client = prom
    mock.get("/api/v1/status/buildinfo").mock(return_value=httpx.Response(404, text="404 page not found\n"))
    with pytest.raises(QueryRejected) as caught:
        client.buildinfo()
    assert caught.value.message == "404 page not found"
    assert caught.value.status == 404


def test_non_json_success_and_proxy_errors(prom):
    mock, client = prom
    mock.get("/api/v1/targets").mock(
        side_effect=[
            httpx.Response(200, text="<html>login</html>"),
            httpx.Response(502, text=""),
            httpx.Response(401, text="unauthorised"),
        ]
    )
    with pytest.raises(BackendError, match="did not answer with Prometheus JSON"):
        client.targets()
    with pytest.raises(BackendUnavailable, match="HTTP 502 Bad Gateway"):
        client.targets()
    with pytest.raises(BackendError, match="unauthorised") as caught:
        client.targets()
    assert caught.value.status == 401


def test_connection_refused_is_unavailable(prom):
    mock, client = prom
    mock.post("/api/v1/query").mock(side_effect=httpx.ConnectError("[Errno 111] Connection refused"))
    with pytest.raises(BackendUnavailable, match="Connection refused") as caught:
        client.instant("up")
    assert caught.value.error_type == "connection"


def test_read_timeout_is_unavailable(prom):
    mock, client = prom
    mock.post("/api/v1/query").mock(side_effect=httpx.ReadTimeout("timed out"))
    with pytest.raises(BackendUnavailable, match="no answer within 10 s"):
        client.instant("up")


def test_series_rules_alerts_targets_buildinfo(prom):
    mock, client = prom
    series = mock.post("/api/v1/series").mock(return_value=ok([{"__name__": "up", "job": "x"}]))
    mock.get("/api/v1/rules").mock(
        return_value=ok(
            {
                "groups": [
                    {"name": "slo", "file": "rules.yml", "rules": [{"name": "r1", "type": "recording"}]},
                    {"name": "alerts", "file": "a.yml", "rules": [{"name": "A", "type": "alerting"}]},
                ]
            }
        )
    )
    mock.get("/api/v1/alerts").mock(return_value=ok({"alerts": [{"labels": {"alertname": "A"}}]}))
    targets = mock.get("/api/v1/targets").mock(return_value=ok({"activeTargets": [{"health": "up"}]}))
    mock.get("/api/v1/status/buildinfo").mock(return_value=ok({"version": "2.42.0"}))

    assert client.series(["up", "x"], T0 - timedelta(hours=1), T0) == [{"__name__": "up", "job": "x"}]
    assert form(series.calls.last.request)["match[]"] == ["up", "x"]
    client.series("up", T0, T0)
    assert form(series.calls.last.request)["match[]"] == ["up"]
    assert client.rules() == [
        {"name": "r1", "type": "recording", "group": "slo", "file": "rules.yml"},
        {"name": "A", "type": "alerting", "group": "alerts", "file": "a.yml"},
    ]
    assert client.alerts() == [{"labels": {"alertname": "A"}}]
    assert client.targets() == [{"health": "up"}]
    assert targets.calls.last.request.url.params["state"] == "active"
    assert client.buildinfo()["version"] == "2.42.0"


def test_format_query_returns_canonical_text_or_rejects(prom):
    mock, client = prom
    mock.get("/api/v1/format_query").mock(
        side_effect=[
            ok("sum by (service) (up)"),
            httpx.Response(
                400, json={"status": "error", "errorType": "bad_data", "error": "1:4: parse error"}
            ),
        ]
    )
    assert client.format_query("sum(up)by(service)") == "sum by (service) (up)"
    with pytest.raises(QueryRejected, match="parse error"):
        client.format_query("sum(")


def test_org_id_auth_and_headers_are_sent():
    seen = []

    def handler(request):
        seen.append(request)
        return ok({"version": "2.42.0"})

    client = PrometheusClient(
        URL + "/",
        org_id="tenant-1",
        headers={"X-Extra": "1"},
        auth=("u", "p"),
        transport=httpx.MockTransport(handler),
    )
    client.buildinfo()
    headers = seen[0].headers
    assert headers["X-Scope-OrgID"] == "tenant-1"
    assert headers["X-Extra"] == "1"
    assert headers["Authorization"].startswith("Basic ")
    assert str(seen[0].url) == URL + "/api/v1/status/buildinfo"
    client.close()


def test_stats_record_latency_success_and_last_error(prom):
    mock, client = prom
    mock.get("/api/v1/status/buildinfo").mock(
        side_effect=[ok({"version": "2.42.0"}), httpx.ConnectError("[Errno 111] Connection refused")]
    )
    client.buildinfo()
    first = client.stats.snapshot()
    assert first.calls == 1 and first.failures == 0 and first.last_success_at is not None
    assert first.last_latency_s is not None and first.last_error is None
    with pytest.raises(BackendUnavailable):
        client.buildinfo()
    second = client.stats.snapshot()
    assert second.calls == 2 and second.failures == 1
    # In the banners' words, never the address (Data sources shows it apart).
    assert second.last_error == "prometheus: connection refused" and second.last_error_at is not None
    assert second.last_success_at == first.last_success_at


def test_health_reports_version_or_error(prom):
    mock, client = prom
    mock.get("/api/v1/status/buildinfo").mock(
        side_effect=[ok({"version": "2.42.0"}), httpx.ConnectError("[Errno 111] Connection refused")]
    )
    up = client.health()
    assert up.reachable and up.version == "2.42.0" and up.error is None and up.name == "prometheus"
    down = client.health()
    assert not down.reachable and down.version is None
    # In words for the page; the address and errno kept apart, for its Details.
    assert down.error == "connection refused"
    assert down.detail == f"cannot reach {URL}: [Errno 111] Connection refused"
    assert down.url == URL


def test_url_credentials_are_not_shown():
    client = PrometheusClient("https://user:secret@prom.test:9443/prefix")
    assert client.url == "https://prom.test:9443/prefix"


def test_the_shared_record_of_failures_never_keeps_a_backends_words_about_a_query():
    """Clients are shared by every visitor: the Data sources page must not show one visitor's search."""
    stats = CallStats()
    stats.record_failure(
        0.1, QueryRejected("opensearch", "failed to parse [mallory bob@example.com]", 400, "parse_exception")
    )
    assert stats.snapshot().last_error == "opensearch: refused a query, HTTP 400 (parse_exception)"
    stats.record_failure(
        0.1, BackendUnavailable("prometheus", "query timed out in expression", 503, "timeout")
    )
    assert stats.snapshot().last_error == "prometheus: failed a request, HTTP 503 (timeout)"
    stats.record_failure(2.0, BackendUnavailable("jaeger", "cannot reach http://127.0.0.1:16686: refused"))
    assert stats.snapshot().last_error == "jaeger: cannot reach http://127.0.0.1:16686: refused"

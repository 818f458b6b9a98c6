"""`make load`'s own arithmetic and the backends' request counters it reads (bench/)."""

import re

import httpx
import pytest

from bench.backend_counters import BackendUrls, RequestCounter, counters, read_all, sum_samples
from bench.load_report import FIRST_LOAD, PhaseResult, percentile, table, verdicts

PAGES = ["Overview", "Tax"]
RATE = RequestCounter("Prometheus API requests", "its /metrics", lambda client: 0.0)

METRICS = """# HELP prometheus_http_requests_total Counter of HTTP requests.
# TYPE prometheus_http_requests_total counter
prometheus_http_requests_total{code="200",handler="/api/v1/query"} 1368
prometheus_http_requests_total{code="400",handler="/api/v1/query_range"} 2
prometheus_http_requests_total{code="200",handler="/metrics"} 35
prometheus_http_requests_total_other{handler="/api/v1/query"} 1000
http_server_request_duration_seconds_count{server_port="16686",http_route="/api/say \\"hi\\""} 4
"""


def test_sum_samples_adds_only_the_samples_whose_labels_are_kept():
    api = sum_samples(
        METRICS, "prometheus_http_requests_total", lambda labels: labels["handler"].startswith("/api/")
    )
    assert api == 1370
    assert sum_samples(METRICS, "prometheus_http_requests_total", lambda labels: True) == 1405
    jaeger = sum_samples(
        METRICS,
        "http_server_request_duration_seconds_count",
        lambda labels: labels["http_route"] == '/api/say \\"hi\\"',
    )
    assert jaeger == 4


def test_sum_samples_refuses_a_metric_that_is_not_there():
    with pytest.raises(ValueError, match="no jaeger_nothing"):
        sum_samples(METRICS, "jaeger_nothing", lambda labels: True)


def test_percentile_interpolates_between_ranks():
    assert percentile([4.0, 1.0, 3.0, 2.0], 0.5) == 2.5
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.95) == pytest.approx(3.85)
    assert percentile([7.0], 0.95) == 7.0


def phase(sessions: int, rate: float | str, settle: dict[str, list[float]], errors=()) -> PhaseResult:
    result = PhaseResult(sessions, elapsed_s=60, peak_rss_mb=300, errors=list(errors))
    for label, values in {FIRST_LOAD: [9.0], **settle}.items():
        for seconds in values:
            result.record(label, seconds)
    result.cpu_percent = {"sextant": 50.0, "machine": 150.0}
    result.requests_per_min = {RATE.name: rate}
    return result


def test_every_target_met():
    fast = {"Overview": [0.5, 1.0, 2.9], "Tax": [1.0]}
    checks = verdicts([phase(10, 100.0, fast), phase(30, 119.0, fast)], PAGES, [RATE], 400)
    assert [met for met, _ in checks] == [True, True, True, True]


def test_a_slow_page_an_unmeasured_rate_too_much_memory_and_an_error_each_miss_a_target():
    slow = {"Overview": [0.5, 1.0, 2.9], "Tax": [1.0, 3.5]}
    checks = verdicts(
        [phase(10, 100.0, slow), phase(30, "ConnectError: refused", slow, errors=["Tax: banner: x"])],
        PAGES,
        [RATE],
        800,
    )
    assert [met for met, _ in checks] == [False, False, False, False]
    assert (
        "Tax: 3.38 s" in checks[0][1] and "Overview" not in checks[0][1]
    )  # the session's first load is apart
    assert checks[1][1].endswith("not measured")
    assert checks[3][1] == "zero errors: 1"


def test_more_requests_with_more_sessions_misses_the_ratio_and_a_page_never_seen_misses_p95():
    checks = verdicts(
        [phase(10, 100.0, {"Overview": [1.0]}), phase(30, 121.0, {"Overview": [1.0]})], PAGES, [RATE], 400
    )
    assert checks[0] == (False, "p95 to settle under 3 s on every page at 10 sessions; never measured: Tax")
    assert checks[1] == (False, "Prometheus API requests per minute at 30 sessions within 1.2× of 10: 1.21×")


def test_fewer_requests_from_a_crowd_that_could_not_open_its_pages_do_not_meet_the_ratio():
    pages = {"Overview": [1.0, 1.0], "Tax": [1.0]}
    stuck = PhaseResult(30, elapsed_s=60, peak_rss_mb=300, requests_per_min={RATE.name: 10.0})
    stuck.record("Overview", 60.0, settled=False)
    stuck.record("Tax", 1.0)
    checks = verdicts([phase(10, 100.0, pages), stuck], PAGES, [RATE], 400)
    assert checks[1] == (
        False,
        "Prometheus API requests per minute at 30 sessions within 1.2× of 10: 0.10×,"
        " but 30 sessions settled 1 page views against 4 (not shown)",
    )


def test_one_session_count_has_no_ratio_to_check():
    checks = verdicts([phase(2, 100.0, {"Overview": [1.0], "Tax": [1.0]})], PAGES, [RATE], 400)
    assert [what.split(" ")[0] for _, what in checks] == ["p95", "RSS", "zero"]


def test_the_table_says_no_data_and_not_measured_rather_than_zero():
    text = table([phase(10, "ConnectError: refused", {"Overview": [1.0, 2.0]})], PAGES, [RATE], 300)
    rows = [re.split(r"\s{2,}", line.strip()) for line in text.splitlines()]
    cells = {row[0]: row[1:] for row in rows}  # the last row of a name
    assert cells["Tax"] == ["0", "no data", "no data"]
    assert cells["Overview"] == ["2", "1.50", "1.95"]
    assert cells["page views settled"] == ["3"]
    assert cells["Prometheus API requests"] == ["not measured"]
    assert cells["the stack's Prometheus, OpenSearch and Jaeger"] == ["not measured"]
    per_view = rows.index(["CPU seconds per settled page view"])
    # 50% of one core for 60 s over 3 page views, the session's first included
    assert rows[per_view + 1] == ["Sextant", "10.00"]
    assert rows[per_view + 2] == ["Chromium, Playwright and this script", "not measured"]


@pytest.mark.integration
def test_each_counter_counts_a_request_sent_to_its_backend(live_stack, monkeypatch):
    monkeypatch.setenv("SEXTANT_PROMETHEUS_URL", live_stack.prometheus_url)
    monkeypatch.setenv("SEXTANT_OPENSEARCH_URL", live_stack.opensearch_url)
    monkeypatch.setenv("SEXTANT_JAEGER_URL", live_stack.jaeger_url)
    urls = BackendUrls.from_env()
    wanted = counters(urls)
    with httpx.Client(timeout=10) as client:
        before = read_all(client, wanted)
        client.get(f"{urls.prometheus}/api/v1/query", params={"query": "up"}).raise_for_status()
        client.post(f"{urls.opensearch}/logs-*/_search", json={"size": 0}).raise_for_status()
        client.get(f"{urls.jaeger}/api/services").raise_for_status()
        after = read_all(client, wanted)
    for name, value in after.items():
        assert isinstance(value, float | int), f"{name}: {value}"
        assert value - before[name] >= 1, name


def test_the_load_run_visits_every_page_a_person_can_open():
    """A page left out of `make load` is a page whose cost under a crowd nobody measured."""
    from app import links
    from bench.load import VIEWS

    visited = {view.path.split("?")[0] for view in VIEWS}
    pages = {"/" + page.slug for page in links.PAGES.values()}
    assert pages <= visited

"""app/logs.py against the real stack: counts agree with the simulator's model, paging, text search, audit."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pandas as pd
import pytest

from app import audit, directory, logs
from app.sources import Sources
from app.sources.cache import ResultCache
from app.sources.opensearch import OpenSearchClient
from app.timerange import TimeRange, time_range
from stack.simulator import model
from stack.simulator.model import hmrc_outage_start
from tests.conftest import UNASKED

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def live(live_stack) -> Sources:
    client = OpenSearchClient(live_stack.opensearch_url, timeout=30.0)
    yield Sources(prometheus=UNASKED, opensearch=client, jaeger=UNASKED, mode="live")
    client.close()


def window(start, end) -> TimeRange:
    """[start, end) as the closed range the queries use."""
    return TimeRange("custom", start, end - timedelta(milliseconds=1))


def test_error_lines_of_filing_in_the_outage_match_the_5xx_count(live, live_stack):
    start = hmrc_outage_start(live_stack.anchor)
    end = start + timedelta(hours=4)
    expected = model.counter_increase(
        "http_requests_total",
        {"service": "filing", "code": "500"},
        start,
        end,
        live_stack.anchor,
        live_stack.seed,
    )
    view = logs.load(
        live, logs.LogFilters(service="filing", level="ERROR"), window(start, end), cache=ResultCache()
    )
    assert view.problems == []
    assert view.total == expected > 100
    assert view.levels.to_dict("list") == {"level": ["ERROR"], "count": [int(expected)]}
    assert view.histogram["count"].sum() == expected
    assert view.interval == "5m" and view.histogram["time"].nunique() == 48


def test_free_text_and_tenant_filters(live, live_stack):
    start = hmrc_outage_start(live_stack.anchor)
    end = start + timedelta(hours=4)
    f = logs.LogFilters(q="SERVICE_UNAVAILABLE", tenant="cobalt-cpa")
    view = logs.load(live, f, window(start, end), cache=ResultCache())
    assert view.problems == [] and len(view.lines) > 0
    assert view.lines["message"].str.contains("SERVICE_UNAVAILABLE").all()
    assert set(view.lines["tenant"]) == {directory.name("tenant", "cobalt-cpa")}  # shown by name
    # query_string syntax is only text here: no error, just (probably) nothing found
    odd = logs.load(
        live, replace(f, q='status:500 AND (/x/ OR "unclosed'), window(start, end), cache=ResultCache()
    )
    assert odd.problems == []


def test_older_pages_follow_on_without_gaps(live, live_stack):
    tr = time_range("6h", live_stack.anchor)
    paging, pages = logs.Paging(), []
    for _ in range(3):
        view = logs.load(live, logs.LogFilters(), tr, paging, ResultCache(), page_size=50)
        assert view.problems == [] and len(view.lines) == 50
        pages.append(view.lines)
        paging = view.older()
    assert view.paging.pit_id  # pages 2 and 3 read one point in time
    paged = pd.concat(pages, ignore_index=True)
    _, body = logs.search_request("lines", [], start=tr.start, end=tr.end, size=150)
    # Masked as the page masks them: the leak scenario puts personal data in the last day's lines.
    whole = live.masker.frame(logs.lines_table(live.opensearch.search(index="logs-*", body=body).hits))
    assert paged.equals(whole)
    assert paged["time"].is_monotonic_decreasing


def test_facets_list_services_levels_tenants(live, live_stack):
    facets = logs.load_facets(live, time_range("24h", live_stack.anchor), ResultCache())
    assert set(facets.services) == set(model.SERVICES)
    assert set(facets.levels) == {"ERROR", "WARN", "INFO"}
    # the client firms, and the platform itself: its health probes log under its own tenant (not a firm)
    assert set(facets.tenants) == {*model.TENANTS, model.PLATFORM_TENANT}


def test_audit_failed_logins_in_the_burst_match_the_model(live, live_stack):
    start, end = live_stack.anchor - timedelta(hours=5), live_stack.anchor - timedelta(minutes=270)
    expected = model.counter_increase(
        "auth_logins_total", {"result": "failure"}, start, end, live_stack.anchor, live_stack.seed
    )
    trail = audit.load(live, window(start, end), action="login.failure", cache=ResultCache())
    assert trail.problems == []
    assert trail.total == expected >= 40 * 30
    assert trail.counts.to_dict("list") == {
        "action": ["login.failure"],
        "outcome": ["failure"],
        "count": [int(expected)],
    }
    assert set(trail.latest["action"]) == {"login.failure"}


def test_audit_tab_counts_every_kind_of_action(live, live_stack):
    trail = audit.load(live, time_range("7d", live_stack.anchor), cache=ResultCache())
    actions = set(trail.counts["action"])
    assert {"login.success", "login.failure", "role.change", "config.change", "rulepack.edit"} <= actions
    assert {"assistant.action", "data.export"} <= actions
    assert set(trail.counts["outcome"]) <= {"success", "failure", "denied"}

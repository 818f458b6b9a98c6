"""The Logs page's paging past OpenSearch's 10,000-hit window, on a real OpenSearch.

12,000 lines are planted in a throwaway index that no query of Sextant reads (`paging-test-*`, not
`logs-*`), deleted at the end. `logs.load` runs unchanged against the real client; only the index its
named queries name is redirected to the throwaway one (`Redirected`), so every request is the page's own.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pandas as pd
import pytest

from app import logs
from app.sources import Sources
from app.sources.cache import ResultCache
from app.sources.errors import QueryRejected
from app.sources.opensearch import OpenSearchClient
from app.timerange import TimeRange
from stack.simulator.mappings import LOG_MAPPING
from tests.conftest import UNASKED

# Not `planting`: no other test reads its index. Beside the browser tests that plant, its bulk load and
# paging slowed the Logs page that the access test reads (its planted line was not drawn in time).
pytestmark = pytest.mark.integration

LINES = 12_000
END = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


class Redirected:
    """The real client, with the index of the named queries (`logs-*`) replaced by `index`."""

    name = "opensearch"

    def __init__(self, client: OpenSearchClient, index: str) -> None:
        self.client, self.index, self.url = client, index, client.url

    def search(self, index: str, body: dict) -> object:
        return self.client.search(index=self.index, body=body)

    def open_point_in_time(self, index: str, keep_alive: str) -> str:
        return self.client.open_point_in_time(self.index, keep_alive)

    def search_point_in_time(self, pit_id: str, body: dict, keep_alive: str) -> object:
        return self.client.search_point_in_time(pit_id, body, keep_alive)


def line(i: int) -> dict:
    """Line i, i × 250 ms before END (four share each second: ties on the second, not on the millisecond);
    every 100th an ERROR."""
    at = END - timedelta(milliseconds=250 * i)
    return {
        "@timestamp": at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "level": "ERROR" if i % 100 == 0 else "INFO",
        "service": "filing",
        "message": f"planted line {i}",
    }


@pytest.fixture(scope="module")
def planted(live_stack):
    url = live_stack.opensearch_url
    index = f"paging-test-{uuid.uuid4().hex[:8]}"
    client = OpenSearchClient(url, timeout=60.0)
    created = httpx.put(
        f"{url}/{index}",
        json={"settings": {"number_of_shards": 1, "number_of_replicas": 0}, "mappings": LOG_MAPPING},
        timeout=30,
    )
    assert created.is_success, created.text
    try:
        for first in range(0, LINES, 2_000):
            batch = [(index, f"p{i:05d}", line(i)) for i in range(first, min(first + 2_000, LINES))]
            assert not client.create_documents(batch).refused
        httpx.post(f"{url}/{index}/_refresh", timeout=30).raise_for_status()
        yield client, index
    finally:
        httpx.delete(f"{url}/{index}", timeout=30)
        client.close()


def sources(planted) -> Sources:
    client, index = planted
    return Sources(prometheus=UNASKED, opensearch=Redirected(client, index), jaeger=UNASKED, mode="live")


WINDOW = TimeRange("custom", END - timedelta(hours=1), END)


def test_from_and_size_cannot_reach_past_10000_lines(planted):
    client, index = planted
    with pytest.raises(QueryRejected) as refused:
        client.search(index=index, body={"from": 10_000, "size": 100, "query": {"match_all": {}}})
    assert refused.value.status == 400


def test_paging_reaches_every_line_past_10000_without_gaps_or_repeats(planted):
    live, cache = sources(planted), ResultCache()
    view = logs.load(live, logs.LogFilters(), WINDOW, cache=cache, page_size=1_000)
    assert view.problems == [] and view.total == LINES
    assert view.levels.set_index("level")["count"].to_dict() == {"INFO": 11_880, "ERROR": 120}
    assert view.histogram["count"].sum() == LINES  # from the aggregation: no line fetched for it
    pages = [view.lines]
    while view.older() is not None:
        view = logs.load(live, logs.LogFilters(), WINDOW, view.older(), cache, page_size=1_000)
        assert view.problems == []
        pages.append(view.lines)
    assert len(pages) == 12 and view.first_line == 11_001 and view.paging.pit_id
    messages = pd.concat(pages, ignore_index=True)["message"]
    assert messages.tolist() == [f"planted line {i}" for i in range(LINES)]


def test_a_page_past_10000_lines_reads_the_point_in_time_it_began_with(planted):
    client, index = planted
    live, cache = sources(planted), ResultCache()
    view = logs.load(live, logs.LogFilters(), WINDOW, cache=cache, page_size=1_000)
    for _ in range(10):
        view = logs.load(live, logs.LogFilters(), WINDOW, view.older(), cache, page_size=1_000)
    assert view.first_line == 10_001
    late = END - timedelta(milliseconds=250 * 11_500 + 1)  # would sort into the next page
    stamp = late.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    client.create_documents([(index, "late", {**line(11_500), "@timestamp": stamp, "message": "late"})])
    httpx.post(f"{client.url}/{index}/_refresh", timeout=30).raise_for_status()
    try:
        after = logs.load(live, logs.LogFilters(), WINDOW, view.older(), cache, page_size=1_000)
        assert after.paging.pit_id == view.paging.pit_id
        assert after.lines["message"].tolist() == [f"planted line {i}" for i in range(11_000, LINES)]
    finally:
        httpx.request("DELETE", f"{client.url}/{index}/_doc/late", params={"refresh": "true"}, timeout=30)

"""`make snapshot`'s staff visits: the people of access.example.yaml open their pages through the pages' own
access gate, against the real stack, and each visit is one event in Sextant's access log in OpenSearch (the
demo's Access log page shows them)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from app.access.log import INDEX_PATTERN
from app.config import load_config
from app.record import STAFF_VISITS, visit_as_staff
from app.sources import build_sources
from app.times import rfc3339

# It writes access events into the stack, which no golden figure counts: not a planting test.
pytestmark = pytest.mark.integration


def test_each_staff_visit_is_one_access_event_allowed_or_denied_as_the_example_file_says(live_mode):
    started = datetime.now(UTC) - timedelta(seconds=1)
    live = build_sources(load_config())
    visit_as_staff(live)
    httpx.post(f"{live_mode.opensearch_url}/{INDEX_PATTERN}/_refresh", timeout=10).raise_for_status()
    since = {"range": {"@timestamp": {"gte": rfc3339(started)}}}
    found = live.opensearch.search(INDEX_PATTERN, {"query": since, "size": 100}).hits
    mine = found[found["user"].isin({email for email, *_ in STAFF_VISITS})]
    seen = sorted(zip(mine["user"], mine["page"], mine["outcome"], strict=True))
    assert seen == sorted(
        [
            ("sam@example.com", "logs", "allowed"),
            ("sam@example.com", "traces", "allowed"),
            ("lee@example.com", "logs", "allowed"),
            ("lee@example.com", "security", "denied"),  # support may not open Security
            ("ana@audit.example.com", "security", "allowed"),
            ("alice@example.com", "access_log", "allowed"),
        ]
    )
    assert set(mine["params"]) >= {"service=filing&level=ERROR", "service=filing&errors_only=true"}

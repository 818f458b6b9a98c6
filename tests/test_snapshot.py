"""The shipped demo snapshot: intact, small, and closed under navigation: every view the app's own links
and pickers lead to replays from it."""

from pathlib import Path

import pytest

from app import crawl
from app.sources import snapshot

SHIPPED = Path(__file__).resolve().parents[1] / "snapshots" / "demo.json.gz"
MAX_BYTES = 8 * 1024 * 1024


def test_the_shipped_snapshot_is_intact_and_small():
    assert snapshot.verify(SHIPPED), "SHA-256 mismatch: re-record with `make snapshot`"
    assert SHIPPED.stat().st_size < MAX_BYTES


@pytest.mark.usefixtures("snapshot_mode")
def test_the_demo_has_no_dead_end():
    """Every page at every range preset, the overview at the weekly review's instants, and every view
    their links and pickers lead to, transitively: no exception, no error, nothing "not in the demo
    snapshot". The walk is the one `make snapshot` records with, so a new link is checked as it lands."""
    now = snapshot.load(SHIPPED).recorded_at
    assert now is not None
    visited, dead = 0, []
    for visit in crawl.walk(crawl.start_views(now)):
        visited += 1
        if visit.problems:
            dead.append(f"{visit.view.address}: {visit.problems[0][:200]}")
    assert visited > 200  # every page, its pickers and links: not a walk that stopped at the start
    assert not dead, f"{len(dead)} dead ends of {visited} views, e.g. " + "; ".join(dead[:5])

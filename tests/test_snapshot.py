"""The shipped demo snapshot: intact, small, and closed under navigation: every view the app's own links
and pickers lead to replays from it."""

import os
from pathlib import Path

import pytest

from app import crawl
from app.sources import snapshot

SHIPPED = Path(__file__).resolve().parents[1] / "snapshots" / "demo.json.gz"
MAX_BYTES = 8 * 1024 * 1024
SAMPLED = 2  # views of each shape the demo walk in `make test` takes: every shape, at two values each


def test_the_shipped_snapshot_is_intact_and_small():
    assert snapshot.verify(SHIPPED), "SHA-256 mismatch: re-record with `make snapshot`"
    assert SHIPPED.stat().st_size < MAX_BYTES


@pytest.mark.usefixtures("snapshot_mode")
@pytest.mark.long(3)
def test_the_demo_has_no_dead_end():
    """Every page at every range preset, the overview at the weekly review's instants, and the views their
    links and pickers lead to, transitively: no exception, no error, nothing "not in the demo snapshot".
    The walk is the one `make snapshot` records with, so a new link is checked as it lands. `make test` walks
    a few views of each shape (every kind of link and picker value; about 2,000 views in all would take ten
    minutes here); SEXTANT_CRAWL_ALL=1 walks every one."""
    now = snapshot.load(SHIPPED).recorded_at
    assert now is not None
    admit = (lambda _: True) if os.environ.get("SEXTANT_CRAWL_ALL") == "1" else crawl.per_shape(SAMPLED)
    visited, dead = 0, []
    for visit in crawl.walk(crawl.start_views(now), admit=admit):
        visited += 1
        if visit.problems:
            dead.append(f"{visit.view.address}: {visit.problems[0][:200]}")
    assert visited > 200  # every page, its pickers and links: not a walk that stopped at the start
    assert not dead, f"{len(dead)} dead ends of {visited} views, e.g. " + "; ".join(dead[:5])

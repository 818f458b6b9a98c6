"""The shipped demo snapshot: intact, small, and holding every question every page asks."""

from pathlib import Path

from app import record
from app.config import load_config
from app.sources import build_sources, snapshot
from app.sources.errors import SnapshotMiss

SHIPPED = Path(__file__).resolve().parents[1] / "snapshots" / "demo.json.gz"


class MissCounter:
    """Passes calls through to a replay client and notes every question the snapshot cannot answer."""

    def __init__(self, client, misses: list[str]) -> None:
        self._client, self._misses = client, misses

    def __getattr__(self, name):
        attribute = getattr(self._client, name)
        if not callable(attribute):
            return attribute

        def call(*args, **kwargs):
            try:
                return attribute(*args, **kwargs)
            except SnapshotMiss as miss:
                self._misses.append(f"{name}: {miss.message}")
                raise

        return call


def test_the_shipped_snapshot_is_intact_and_small():
    assert snapshot.verify(SHIPPED), "SHA-256 mismatch: re-record with `make snapshot`"
    assert SHIPPED.stat().st_size < 5 * 1024 * 1024


def test_every_page_query_is_in_the_shipped_snapshot():
    replay = build_sources(load_config(environ={"SEXTANT_SNAPSHOT": str(SHIPPED)}))
    assert replay.mode == "snapshot"
    misses: list[str] = []
    counting = type(replay)(
        prometheus=MissCounter(replay.prometheus, misses),
        opensearch=MissCounter(replay.opensearch, misses),
        jaeger=MissCounter(replay.jaeger, misses),
        mode="snapshot",
        snapshot_recorded_at=replay.snapshot_recorded_at,
    )
    record.run_all_pages(counting, replay.now())
    assert misses == [], f"{len(misses)} questions missing from the snapshot, e.g. {misses[:3]}"

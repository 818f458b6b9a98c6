"""The shipped demo snapshot: intact, small, and holding every question every page asks."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from app import record, slo_view
from app.config import load_config
from app.slo.model import SloDefinition
from app.sources import build_sources, snapshot
from app.sources.errors import SnapshotMiss
from app.timerange import PRESETS

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


class AskedOnce:
    """Wraps a function of (definitions, client, time) whose questions depend only on its arguments: the
    first call with given arguments runs it, later calls with the same arguments get the same answer back.

    The SLO detail page computes the status and history of an SLO at `at` whatever the range picked, so
    replaying it at every range asks those questions again and recomputes the same burn-rate history
    (about 1 s per SLO, 95 times). Answering the repeats from here keeps every question asked once and
    leaves the range-dependent ones (curves, incidents) asked at every range."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self._fn = fn
        self.answers: dict[tuple, Any] = {}
        self.calls = 0

    def __call__(self, definitions: Any, prom: Any, at: Any, **options: Any) -> Any:
        self.calls += 1
        names = (
            definitions.name if isinstance(definitions, SloDefinition) else tuple(d.name for d in definitions)
        )
        key = (names, prom, at, tuple(sorted(options.items())))  # the client itself: the same one asks
        if key not in self.answers:
            self.answers[key] = self._fn(definitions, prom, at, **options)
        return self.answers[key]


@pytest.fixture
def detail_asked_once(monkeypatch) -> tuple[AskedOnce, AskedOnce]:
    status = AskedOnce(slo_view.compute_status)
    history = AskedOnce(slo_view.slo_history)
    monkeypatch.setattr(slo_view, "compute_status", status)
    monkeypatch.setattr(slo_view, "slo_history", history)
    return status, history


def test_the_shipped_snapshot_is_intact_and_small():
    assert snapshot.verify(SHIPPED), "SHA-256 mismatch: re-record with `make snapshot`"
    assert SHIPPED.stat().st_size < 5 * 1024 * 1024


def test_every_page_query_is_in_the_shipped_snapshot(detail_asked_once):
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
    # Every SLO's detail was loaded at every range, its status and history computed once per SLO.
    slos = len(slo_view.definitions().definitions)
    for function in detail_asked_once:
        assert function.calls >= slos * len(PRESETS) and len(function.answers) >= slos

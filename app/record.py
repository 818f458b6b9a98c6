"""`make snapshot`: ask every page's questions of the live stack and keep the answers in one file.

`python -m app.record PATH` records through live clients (configured as usual, from SEXTANT_* variables)
every call that each page's loader makes, for every time-range preset, at one fixed "now". Replayed with
`Sources.now()` equal to that time, the pages ask exactly the recorded questions.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from app import audit, dashboards, data_sources, logs, overview, retention, security, service_health, traces
from app.alerting import view as alerts_view
from app.config import load_config
from app.readiness import view as readiness_view
from app.slo import view as slo_view
from app.sources import Sources, build_sources
from app.sources.cache import ResultCache
from app.sources.errors import BackendError
from app.sources.snapshot import Recorder
from app.timerange import PRESETS, time_range
from app.times import to_utc

PageLoader = Callable[[Sources, datetime, ResultCache], object]


def _service_health(sources: Sources, now: datetime, cache: ResultCache) -> None:
    for preset in PRESETS:
        service_health.load(sources, time_range(preset, now), cache)


def _data_sources(sources: Sources, now: datetime, cache: ResultCache) -> None:
    """The page probes each backend; replayed, the probes answer with the recorded versions."""
    data_sources.load(sources)
    probes = (
        sources.prometheus.buildinfo,
        sources.opensearch.info,
        sources.jaeger.services,
        sources.alertmanager.status,
    )
    for probe in probes:
        with contextlib.suppress(BackendError):
            probe()
    retention.load(sources, now, cache)


def _overview(sources: Sources, now: datetime, cache: ResultCache) -> None:
    overview.load(sources, now, cache)


def _alerts(sources: Sources, now: datetime, cache: ResultCache) -> None:
    alerts_view.load(sources, now, cache)


def _slos(sources: Sources, now: datetime, cache: ResultCache) -> None:
    slo_view.load_board(sources, now, cache)


def _slo_details(sources: Sources, now: datetime, cache: ResultCache) -> None:
    """Every SLO's detail page at every range: links pasted into a chat carry any of them."""
    for definition in slo_view.definitions().definitions:
        for preset in PRESETS:
            slo_view.load_detail(sources, definition, now, time_range(preset, now), cache)


PAGE_LOADERS: dict[str, PageLoader] = {
    "Overview": _overview,
    "Service health": _service_health,
    "SLOs": _slos,
    "SLO detail": _slo_details,
    "Alerts": _alerts,
    "Domain dashboards": dashboards.record_all,
    "Readiness": readiness_view.record_all,
    "Security": security.record_all,
    "Traces": traces.record_all,
    "Logs": logs.record_all,
    "Audit": audit.record_all,
    "Data sources": _data_sources,
}


def run_all_pages(sources: Sources, now: datetime) -> None:
    """Every page's loader, each with an empty cache so that every question really reaches `sources`."""
    for loader in PAGE_LOADERS.values():
        loader(sources, now, ResultCache())


def record(live: Sources, path: Path, now: datetime, anchor: datetime | None = None) -> Path:
    recorder = Recorder()
    recording = replace(
        live,
        prometheus=recorder.wrap(live.prometheus),
        opensearch=recorder.wrap(live.opensearch),
        jaeger=recorder.wrap(live.jaeger),
        alertmanager=recorder.wrap(live.alertmanager),
    )
    run_all_pages(recording, now)
    return recorder.save(path, recorded_at=now, anchor=anchor, time_range=(now - max(PRESETS.values()), now))


def _anchor() -> datetime | None:
    run_dir = Path(os.environ.get("SEXTANT_RUN", Path.home() / ".cache" / "sextant" / "run"))
    anchor_file = run_dir / "anchor"
    return to_utc(datetime.fromisoformat(anchor_file.read_text().strip())) if anchor_file.exists() else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.record", description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path)
    args = parser.parse_args(argv)
    live = build_sources(load_config())
    if live.mode != "live":
        print("no backend configured: set SEXTANT_PROMETHEUS_URL and the others", file=sys.stderr)
        return 2
    now = live.now()
    path = record(live, args.path, now, _anchor())
    print(f"recorded {path} at {now:%Y-%m-%dT%H:%M}Z ({path.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

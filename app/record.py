"""`make snapshot`: walk the app through the live stack as a user can, and keep every answer in one file.

`python -m app.record PATH` drives every page through Streamlit's AppTest (`app.crawl`), with live clients
wrapped by a `Recorder` and "now" fixed at one minute: every page at every range preset, the overview at the
weekly review's instants, then every view the pages' links and pickers lead to. Replayed with `Sources.now()`
equal to that minute, the pages ask exactly the recorded questions, so the demo has no dead end that the app
itself draws. A view a visitor can only reach by typing (free text in a search) is not recorded; the page
says so and offers the recorded views. Before the walk, the people of `access.example.yaml` open a few pages
as themselves (`STAFF_VISITS`), through the pages' own access gate: their views and the one denial are the
access log the demo's Access log page shows (the walk itself is not a visitor). It also freezes the last full
week before that minute into `weeks/` beside PATH (`app.report.freeze.freeze_demo`), so that the demo opens
a frozen weekly review.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from streamlit.testing.v1 import AppTest

from app import crawl, links, ui
from app.access.log import AccessLog
from app.access.spool import Spool
from app.config import BACKENDS, REPO_ROOT, Config, load_config, settings_for
from app.report.frozen import DEMO_WEEKS
from app.sources import Sources, build_sources
from app.sources.cache import default_cache
from app.sources.errors import BackendError
from app.sources.opensearch import OpenSearchClient
from app.sources.snapshot import Recorder
from app.timerange import PRESETS
from app.times import to_utc
from stack.addresses import run_dir

RECORDING_TIMEOUT_S = 120.0  # a recording waits for slow answers rather than keeping a gap
ACCESS_EXAMPLE = REPO_ROOT / "access.example.yaml"
# Who opens what before the walk, as a sign-in proxy names them (e-mail, groups of access.example.yaml): an
# on-call engineer following a filing error, a support agent who may not open Security, an auditor, and an
# admin reading the access log.
STAFF_VISITS: tuple[tuple[str, str, str, dict[str, str]], ...] = (
    ("sam@example.com", "oncall", "logs", {"service": "filing", "level": "ERROR"}),
    ("sam@example.com", "oncall", "traces", {"service": "filing", "errors_only": "true"}),
    ("lee@example.com", "support", "logs", {"service": "intake"}),
    ("lee@example.com", "support", "security", {}),
    ("ana@audit.example.com", "audit", "security", {"range": "7d"}),
    ("alice@example.com", "sextant-admins", "access_log", {}),
)


def recording(live: Sources, recorder: Recorder, now: datetime) -> Sources:
    """`live` with every call recorded by `recorder`, and "now" fixed at `now`. Its present
    (`Sources.present`) stays the real clock's at the start: Prometheus's current alerts are the answer for
    `now` only when it is that minute (the demo, recorded at the real time, however long its walk), never
    for a week frozen at its end after it ended."""
    return replace(
        live,
        prometheus=recorder.wrap(live.prometheus),
        opensearch=recorder.wrap(live.opensearch),
        jaeger=recorder.wrap(live.jaeger),
        alertmanager=recorder.wrap(live.alertmanager),
        frozen_at=now,
        present_at=live.present(),
    )


def walk_pages(
    sources: Sources, starts: Iterable[crawl.View], *, follow: bool = True, limit: int | None = None
) -> Iterator[crawl.Visit]:
    """Run the pages from `starts` (and, with `follow`, every view they lead to) serving from `sources`."""
    default_cache.clear()  # every question must reach the recording clients, none be answered from memory
    with ui.pages_serve(sources):
        yield from crawl.walk(starts, limit=limit, follow=lambda _: follow)


def record(
    live: Sources,
    path: Path,
    now: datetime,
    anchor: datetime | None = None,
    *,
    views: Iterable[crawl.View] | None = None,
    follow: bool = True,
    limit: int | None = None,
) -> Path:
    """Walk the app at `now` through recording clients and save what they answered to `path`: from every
    page and the review instants (`crawl.start_views`), or from `views`; `follow=False` visits those
    views only (a test recording one page)."""
    recorder = Recorder()
    started = time.monotonic()
    starts = crawl.start_views(now) if views is None else views
    recorded = recording(live, recorder, now)
    # The Data sources page names each backend's version: a live client's health check asks for it
    # inside the client, past the recorder, so ask once through it for the replay to answer.
    for client, method in ((recorded.prometheus, "buildinfo"), (recorded.opensearch, "info")):
        version = getattr(client, method, None)  # a test's fake backend may not have it
        with contextlib.suppress(BackendError):
            if version is not None:
                version()
    walked = walk_pages(recorded, starts, follow=follow, limit=limit)
    for count, visited in enumerate(walked, start=1):
        for problem in visited.problems:
            print(f"  {visited.view.address}: {problem[:200]}", file=sys.stderr)
        if count % 50 == 0:
            print(
                f"{count} views, {len(recorder)} answers, {time.monotonic() - started:.0f} s",
                file=sys.stderr,
            )
    return recorder.save(path, recorded_at=now, anchor=anchor, time_range=(now - max(PRESETS.values()), now))


def visit_as_staff(live: Sources) -> None:
    """Run `STAFF_VISITS` through the pages as their people, against the live backends, and store the access
    events they record (one each) in OpenSearch."""
    with (
        tempfile.TemporaryDirectory() as spool_dir,
        settings_for(
            {"SEXTANT_ACCESS_FILE": str(ACCESS_EXAMPLE), "SEXTANT_ACCESS_SPOOL": f"{spool_dir}/spool.jsonl"}
        ),
    ):
        for email, group, key, params in STAFF_VISITS:
            run = AppTest.from_file(str(REPO_ROOT / links.page(key).file), default_timeout=120)
            run.user = {"email": email, "groups": [group]}
            for name, value in params.items():
                run.query_params[name] = value
            run.run()
        if not isinstance(live.opensearch, OpenSearchClient):
            raise RuntimeError("the staff visits need a live OpenSearch for their access events")
        log = AccessLog(Spool(Path(spool_dir) / "spool.jsonl", 100), live.opensearch)
        if log.flush():
            raise RuntimeError(f"the staff visits' access events were not stored: {log.last_error}")


def for_recording(config: Config) -> Config:
    """The configuration with long timeouts and no circuit breaker: a slow answer is waited for, not
    recorded as a failure (a recorded failure would be a dead end in the demo)."""
    backends = {
        name: replace(getattr(config, name), timeout_s=RECORDING_TIMEOUT_S, down_s=0.0) for name in BACKENDS
    }
    return replace(config, **backends)


def _anchor() -> datetime | None:
    anchor_file = run_dir() / "anchor"
    return to_utc(datetime.fromisoformat(anchor_file.read_text().strip())) if anchor_file.exists() else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.record", description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--limit", type=int, default=None, help="visit at most this many views (a trial run)")
    args = parser.parse_args(argv)
    live = build_sources(for_recording(load_config()))
    if live.mode != "live":
        print("no backend configured: set SEXTANT_PROMETHEUS_URL and the others", file=sys.stderr)
        return 2
    visit_as_staff(live)
    time.sleep(60 - time.time() % 60 + 1)  # the walk's minute after the visits: their events are in its range
    now = live.now()
    path = record(live, args.path, now, _anchor(), limit=args.limit)
    print(f"recorded {path} at {now:%Y-%m-%dT%H:%M}Z ({path.stat().st_size / 1e6:.2f} MB)")
    from app.report.freeze import freeze_demo  # here: app.report.freeze records through this module

    week = freeze_demo(live, args.path.parent / DEMO_WEEKS, now)
    print(f"froze the demo's last full week into {week} ({week.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

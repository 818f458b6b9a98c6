"""Freezing a week: record what the review and every other page ask at the week's end, sign it, keep it.

`freeze` records through live clients (as `make snapshot` does, driving the pages themselves) the weekly
review of the week and every page's views at every range (`page_views`) at its end, adds the week's
action items, signs the whole with SEXTANT_REPORT_KEY (`app.report.frozen`) and writes it atomically.
Before writing it replays the review from what it recorded: a recording that cannot answer the review (a
backend failed, a fetch ran out of time) is refused, never kept as the week's record.

A week already frozen is left alone (the call is idempotent: cron may run it twice); `force` freezes it
again and keeps the old file beside the new one, renamed `<week>.superseded-<when it was frozen>.json.gz`.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from app import crawl
from app.config import Config
from app.record import recording, walk_pages
from app.report import review
from app.report.actions import ActionStore
from app.report.frozen import (
    DEMO_KEY,
    SUFFIX,
    FrozenWeek,
    SigningKey,
    configured_key,
    read,
    replay,
    report_section,
    sign,
    week_path,
    weeks_dir,
)
from app.report.weeks import IsoWeek, last_full_week
from app.slo.view import definitions
from app.sources import Sources
from app.sources import snapshot as snapshots
from app.sources.cache import ResultCache
from app.sources.snapshot import Recorder
from app.times import parse_time, utc_now
from app.units import format_seconds

HISTORY = timedelta(days=30)


class FreezeError(Exception):
    """The week was not frozen. `kind`: "usage" (a setting or the week itself: not over, no key) or
    "backend" (the recording failed: a backend did not answer)."""

    def __init__(self, kind: Literal["usage", "backend"], message: str) -> None:
        self.kind = kind
        super().__init__(message)


@dataclass(frozen=True)
class Freeze:
    frozen: FrozenWeek
    created: bool  # False: the week was frozen already and nothing was written
    superseded: Path | None = None  # where the previous file was kept (with force)


def page_views(at: datetime) -> list[crawl.View]:
    """Every page but the review at every range preset, and every SLO's detail (the review links to each):
    the views a frozen week opens on (`?week=`) without a gap. Other views (a tenant, a trace) show "not
    recorded"."""
    pages = [v for v in crawl.start_views(at) if v.page != "weekly_review" and "at" not in dict(v.params)]
    details = [
        view.with_param("slo", slo.name)
        for slo in definitions().definitions
        for view in pages
        if view.page == "slos"
    ]
    return pages + details


def record_week(
    live: Sources, week: IsoWeek, at: datetime, views: Iterable[crawl.View] | None = None
) -> Recorder:
    """Every call the review of `week` taken at `at` makes, and every other page's at `at`: those of
    `views`, by default `page_views(at)`."""
    recorder = Recorder()
    sources = recording(live, recorder, at)
    review.load(sources, week, ResultCache(), at=at)
    for _ in walk_pages(sources, page_views(at) if views is None else views, follow=False):
        pass  # a page's own problem shows as a missing answer: `recording_failures`, `replay_problems`
    return recorder


def recording_failures(document: dict[str, Any]) -> list[str]:
    """The recorded calls that got no answer (timeouts, refused connections, an overloaded backend)."""
    failed = []
    for entry in document["entries"]:
        result = entry["result"]
        if isinstance(result, dict) and "__error__" in result:
            error = result["__error__"]
            if error["class"] == "BackendUnavailable":
                failed.append(
                    f"{error['backend']}: {error['message']} ({entry['method']} {entry['query_text']})"
                )
    return failed


def replay_problems(document: dict[str, Any], week: IsoWeek, at: datetime) -> list[str]:
    """What the review replayed from `document` could not show: nothing, for a recording to keep."""
    snapshot = snapshots.from_document(Path(f"{week}.json.gz"), document)
    sources = replay(snapshot, at, parse_time(document["report"]["frozen_at"]))
    replayed = review.load(sources, week, ResultCache(), at=at)
    return [str(outcome.error) for _, outcome in replayed.problems if outcome.error is not None]


def build(
    live: Sources,
    week: IsoWeek,
    at: datetime,
    *,
    by: str,
    actions: list[Any],
    key: SigningKey,
    views: Iterable[crawl.View] | None = None,
) -> dict[str, Any]:
    """The signed document of `week` taken at `at` (with the pages' `views`, by default all of them:
    `page_views`); FreezeError when the recording is not whole."""
    frozen_at = utc_now()  # the backends' present for the whole recording, and so for its replay
    recorder = record_week(replace(live, present_at=frozen_at), week, at, views)
    document = recorder.document(recorded_at=at, time_range=(at - HISTORY, at))
    failed = recording_failures(document)
    if failed:
        raise FreezeError(
            "backend",
            f"{len(failed)} backend call(s) got no answer while recording, the first: {failed[0]}; nothing "
            "was written, try again",
        )
    document["report"] = report_section(week, at, frozen_at, by, actions, key)
    missing = replay_problems(document, week, at)
    if missing:
        raise FreezeError(
            "backend", f"the recording cannot answer the whole review ({missing[0]}); nothing was written"
        )
    return sign(document, key)


def freeze(
    live: Sources,
    config: Config,
    week: IsoWeek,
    *,
    by: str,
    force: bool = False,
    key: SigningKey | None = None,
    directory: Path | None = None,
) -> Freeze:
    """Freeze `week` (it must be over) into `directory` (default: the reports directory)."""
    key = key or configured_key(config)
    if key is None:
        raise FreezeError("usage", "SEXTANT_REPORT_KEY is not set: a frozen week must be signed")
    if live.mode != "live":
        raise FreezeError("usage", "no backend is configured: a week is frozen from the live backends")
    if not week.is_over(live.now()):
        left = format_seconds((week.end - live.now()).total_seconds())
        raise FreezeError(
            "usage",
            f"{week} is not over until {week.end:%a %d %b %Y %H:%M} UTC (in {left}): it cannot be frozen yet",
        )
    path = week_path(directory or weeks_dir(config), week)
    if path.exists() and not force:
        return Freeze(read(path, (key,)), created=False)
    actions = ActionStore(config.reports_dir).for_week(week)
    document = build(live, week, week.end, by=by, actions=actions, key=key)
    superseded = _keep_old(path) if path.exists() else None
    created = _write(path, document, replace_old=superseded is not None)
    return Freeze(read(path, (key,)), created=created, superseded=superseded)


def _keep_old(path: Path) -> Path:
    """Keep the file being replaced under a name of its own (its frozen time, when it can be read)."""
    try:
        when = parse_time(snapshots.read_document(path)["report"]["frozen_at"])
    except (snapshots.SnapshotFormatError, KeyError, TypeError, ValueError):
        when = utc_now()  # unreadable: named after the time it was set aside
    stamp = f"{when:%Y%m%dT%H%M%SZ}"
    week = path.name.removesuffix(".json.gz")
    kept = path.with_name(f"{week}.superseded-{stamp}.json.gz")
    number = 1
    while kept.exists():
        number += 1
        kept = path.with_name(f"{week}.superseded-{stamp}-{number}.json.gz")
    try:
        os.link(path, kept)
    except OSError:
        shutil.copy2(path, kept)
    return kept


def _write(path: Path, document: dict[str, Any], *, replace_old: bool) -> bool:
    """Write atomically. A first freeze never replaces a file: if another freeze of the same week wrote
    one meanwhile, that one stays and this returns False."""
    if replace_old:
        snapshots.write_document(path, document)
        return True
    temporary = snapshots.write_document(path.with_name(f".{path.name}.{os.getpid()}.new"), document)
    try:
        os.link(temporary, path)
    except FileExistsError:
        return False
    finally:
        temporary.unlink(missing_ok=True)
    return True


def freeze_demo(live: Sources, directory: Path, now: datetime) -> Path:
    """The demo's frozen week (`make snapshot`): the last full week before `now`, signed with the published
    demo key, replacing the demo's earlier weeks (one week ships with the demo snapshot)."""
    week = last_full_week(now)
    document = build(live, week, week.end, by="make snapshot (the demo)", actions=[], key=DEMO_KEY)
    for old in Path(directory).glob(f"*{SUFFIX}"):
        old.unlink()
    return snapshots.write_document(week_path(directory, week), document)

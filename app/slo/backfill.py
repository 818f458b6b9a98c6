"""Hourly tiles for the history Prometheus already holds, as TSDB blocks (`python -m app.slo backfill`).

The generated rules read an SLO's period from `slo:sli_events_{total,bad}:hour_tile` and record it only once
the tiles cover the whole period (`app.slo.promql`). Prometheus evaluates the tile rules from the moment it
loads them; this writes the tiles of the hours before, so the period is read from tiles at once instead of
after a whole period of evaluations (until then the status code computes it from the raw series).

Each hour's tile is the raw window evaluated at that hour, exactly what the tile rule records, asked of
Prometheus in one range query per SLO (a step of an hour). It is written a quarter past the hour, inside
the window where the rule's own samples fall (`promql.TILE_LOOKBACK`). The blocks are made by
`promtool tsdb create-blocks-from openmetrics` in `output`; move them into Prometheus's data directory,
where it picks them up within a minute (its block reload).

With the tiles it writes, at every whole hour of the last `WINDOW_HISTORY`, the records the status reads
(each window's events, the period's, `slo:objective:ratio`): the same raw expressions the status computes
an SLO from, asked in one range query per SLO at a step of an hour (a calendar period is summed from the
hours since it began, `calendar_period`). A board of a past hour (the overview's week-ago comparison, the
weekly review's Mondays, the readiness trend) then reads one query per window, as in a Prometheus that has
run the rules all along, instead of one query per SLO over its whole period. The records are labelled
`sextant_backfill="hourly"`: the status reads them only at their whole hour, never at an instant a few
minutes later that Prometheus's lookback would answer with them.
"""

from __future__ import annotations

import bisect
import itertools
import math
import subprocess
import tempfile
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from app.slo.math import period_bounds
from app.slo.model import SloDefinition
from app.slo.promql import HOUR, PARTS, labelled, window_events
from app.slo.rules import (
    BACKFILLED,
    BAD,
    OBJECTIVE,
    PERIOD,
    TILE_BAD,
    TILE_TOTAL,
    TOTAL,
    base_labels,
    objective_labels,
    record_name,
    tile_labels,
    uses_tiles,
)
from app.slo.status import PERIOD_KEY, pool_map, raw_queries
from app.times import start_of_hour, unix

WRITTEN_AFTER_HOUR = timedelta(minutes=15)
RANGE_WORKERS = 4  # range queries in flight: the backfill runs while the stack loads logs and traces
WINDOW_HISTORY = timedelta(days=30)  # the weekly review's month (Prometheus's history in the stack)
HOURLY = {BACKFILLED: "hourly"}  # the records' mark: the status reads them only at their whole hour
# record name -> [(labels, [(Unix time, value)])], the blocks' contents
Rows = dict[str, list[tuple[dict[str, str], list[tuple[float, float]]]]]
# Blocks up to about a quarter's worth: few enough for Prometheus to open at once, as the simulator's.
MAX_BLOCK_DURATION = "162h"


def history_needed(definitions: Iterable[SloDefinition], now: datetime) -> timedelta:
    """How far back tiles are read at `now`: to the start of the earliest period in progress (a calendar
    one's own start, not its longest length) and two hours more, for the edge pieces. Tiles older than
    Prometheus's history read zero events, as the raw query would, and are the oldest samples it holds."""
    starts = (period_bounds(d.window, now)[0] for d in definitions)
    return max((now - start for start in starts), default=timedelta(0)) + 2 * HOUR


def tiles_query(defn: SloDefinition) -> str:
    """Both tiles of one SLO, tagged `part`, for a range query at a step of an hour."""
    return labelled({part: f"({window_events(defn, part, HOUR)}) or vector(0)" for part in PARTS})


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def openmetrics(rows: Rows) -> str:
    """Record name → [(labels, [(unix time, value)])] as OpenMetrics text (one family per record)."""
    lines: list[str] = []
    for name, series in rows.items():
        lines.append(f"# TYPE {name} gauge")
        for labels, samples in series:
            text = ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items())
            lines.extend(f"{name}{{{text}}} {value!r} {stamp:.0f}" for stamp, value in samples)
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


def tile_rows(definitions: Iterable[SloDefinition], prom: Any, start: datetime, end: datetime) -> Rows:
    """The tiles of every hour ending in [start, end) whose sample time (a quarter past) is before `end`."""
    rows: Rows = {TILE_TOTAL: [], TILE_BAD: []}
    cutoff = unix(end)
    for defn in definitions:
        if not uses_tiles(defn):
            continue
        frame = prom.range(tiles_query(defn), start, end, 3600.0).frame
        if frame.empty:
            continue
        for part, record in (("total", TILE_TOTAL), ("bad", TILE_BAD)):
            mine = frame[frame["part"] == part]
            samples = [
                (stamp, float(value))
                for stamp, value in zip(
                    (t.timestamp() + WRITTEN_AFTER_HOUR.total_seconds() for t in mine["timestamp"]),
                    mine["value"],
                    strict=True,
                )
                if stamp < cutoff
            ]
            rows[record].append((tile_labels(defn), samples))
    return rows


def window_rows(definitions: Iterable[SloDefinition], prom: Any, start: datetime, end: datetime) -> Rows:
    """The records the status reads, at every whole hour in [start, end): each window's and the period's
    events where the raw query has them, and the objective at every hour (an hour without events then
    reads "no data" from the records, as it would from the raw series)."""
    first = start_of_hour(start + HOUR - timedelta(microseconds=1))  # the first whole hour from `start`
    count = max(0, math.ceil((end - first) / HOUR))  # the hours first, first + 1h, … before end
    hours = [first + i * HOUR for i in range(count)]
    rows: Rows = {OBJECTIVE: []}
    if not hours:
        return rows

    def one(defn: SloDefinition) -> tuple[SloDefinition, Any]:
        if not defn.window.is_calendar:
            query = prom.range(raw_queries(defn), first, hours[-1], HOUR.total_seconds())
        else:  # the 1h windows from the first period's start, summed below (`calendar_period`)
            since = period_bounds(defn.window, first)[0]
            query = prom.range(raw_queries(defn, period=False), since, hours[-1], HOUR.total_seconds())
        return defn, query.frame

    stamps = {unix(h) for h in hours}
    for defn, frame in pool_map(one, list(definitions), RANGE_WORKERS):
        objective = [(unix(h), defn.target) for h in hours]
        rows[OBJECTIVE].append(({**objective_labels(defn), **HOURLY}, objective))
        series: dict[str, dict[float, float]] = {}
        for key, group in frame.groupby("sextant_key") if not frame.empty else ():
            values = zip(group["timestamp"], group["value"], strict=True)
            series[str(key)] = {t.timestamp(): float(v) for t, v in values if v == v}  # NaN: absent
        for part in PARTS if defn.window.is_calendar else ():
            series[f"{part}:{PERIOD_KEY}"] = calendar_period(defn, series.get(f"{part}:1h", {}), hours)
        for key, samples in series.items():
            which, _, window = key.partition(":")
            template = TOTAL if which == "total" else BAD
            record = record_name(template, PERIOD if window == PERIOD_KEY else window)
            kept = [(t, v) for t, v in sorted(samples.items()) if t in stamps]
            if kept:
                rows.setdefault(record, []).append(({**base_labels(defn), **HOURLY}, kept))
    return rows


def calendar_period(
    defn: SloDefinition, hourly: dict[float, float], hours: list[datetime]
) -> dict[float, float]:
    """A calendar period's events at each whole hour from the 1h windows at the whole hours since the period
    began, as `promql.calendar_events` counts them there: its query reads its evaluation time with
    `@ end()`, which a range query pins to the range's end, so it cannot be asked over a range. At a whole
    hour its 5-minute tiles and unfinished 5 minutes count nothing, and an hour without events counts 0."""
    stamps = sorted(hourly)
    running = [0.0, *itertools.accumulate(hourly[t] for t in stamps)]  # events up to and with stamps[i - 1]

    def up_to(t: float) -> float:
        return running[bisect.bisect_right(stamps, t)]

    return {unix(h): up_to(unix(h)) - up_to(unix(period_bounds(defn.window, h)[0])) for h in hours}


def write_blocks(text: str, output: Path, promtool: str = "promtool") -> list[Path]:
    """Turn OpenMetrics text into TSDB blocks in `output`; returns the new block directories."""
    output.mkdir(parents=True, exist_ok=True)
    before = set(output.iterdir())
    with tempfile.NamedTemporaryFile("w", suffix=".om", delete=False) as f:
        f.write(text)
        path = Path(f.name)
    try:
        run = subprocess.run(
            [
                promtool,
                "tsdb",
                "create-blocks-from",
                "openmetrics",
                f"--max-block-duration={MAX_BLOCK_DURATION}",
                str(path),
                str(output),
            ],
            capture_output=True,
            text=True,
        )
    finally:
        path.unlink(missing_ok=True)
    if run.returncode != 0:
        raise RuntimeError(f"promtool exited {run.returncode}: {run.stderr.strip()[-500:]}")
    return sorted(set(output.iterdir()) - before)


def with_tiles(prom: Any, at: datetime) -> set[tuple[str, str]]:
    """(slo, sextant_events) of the SLOs that already have tiles older than two hours at `at`: backfilled, or
    recorded by Prometheus for a while (`--only-missing` leaves them alone)."""
    query = f"count by (slo, sextant_events) (count_over_time({TILE_TOTAL}[32d] offset 2h))"
    frame = prom.instant(query, at).frame
    if frame.empty or "slo" not in frame.columns:
        return set()
    return set(zip(frame["slo"].astype(str), frame["sextant_events"].astype(str), strict=True))


def backfill(
    definitions: Iterable[SloDefinition],
    prom: Any,
    output: Path,
    now: datetime,
    promtool: str = "promtool",
    *,
    only_missing: bool = False,
) -> tuple[int, int, list[Path]]:
    """Write the tiles of the history before `now`, and the records of its last `WINDOW_HISTORY`, as blocks
    in `output`: (tile samples, record samples, blocks). `only_missing`: only the tiles of the SLOs without
    any (`with_tiles`); no records, which a running Prometheus may have evaluated for those hours already."""
    defs = list(definitions)
    if only_missing:
        have = with_tiles(prom, now)
        defs = [d for d in defs if (d.name, d.events_fingerprint()) not in have]
    tiles = tile_rows(defs, prom, now - history_needed(defs, now), now)
    records = {} if only_missing else window_rows(defs, prom, now - WINDOW_HISTORY, now)
    tile_count, record_count = _samples(tiles), _samples(records)
    if not tile_count + record_count:
        return 0, 0, []
    return tile_count, record_count, write_blocks(openmetrics(tiles | records), output, promtool)


def _samples(rows: Rows) -> int:
    return sum(len(samples) for series in rows.values() for _, samples in series)

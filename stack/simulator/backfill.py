"""30 days of history as Prometheus TSDB blocks: one OpenMetrics file per day, promtool two at a time.

The parent process generates every day's data (about a second with numpy) and the counters' values at the
start of each day; forked workers then each format a day as OpenMetrics (into /dev/shm when it has room) and
run ``promtool tsdb create-blocks-from openmetrics`` on it, so formatting and promtool overlap on both cores.
"""

from __future__ import annotations

import json
import multiprocessing
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from . import model
from .exposition import openmetrics_day

MARKER = ".simulator-blocks.json"  # the blocks a previous backfill wrote into the data directory

# state shared with the forked workers
_JOB: dict = {}


def _log(msg: str) -> None:
    print(f"[simulator backfill] {msg}", file=sys.stderr, flush=True)


def day_times(m: model.Model, day: int) -> np.ndarray:
    return m.t0 + 60 * (day * model.DAY_MINUTES + np.arange(model.DAY_MINUTES, dtype=np.int64))


def write_day(m: model.Model, day: int, offsets: dict[str, int], extra: Mapping[str, str], path: Path) -> int:
    """Writes one day as OpenMetrics; ``offsets`` (counter values at the day's first minute) is advanced."""
    text = openmetrics_day(m.day_data(day), offsets, day_times(m, day), extra)
    path.write_text(text)
    return len(text)


def _work(day: int) -> tuple[int, int, str]:
    job = _JOB
    path = job["text_dir"] / f"day-{day:02d}.om"
    try:
        size = write_day(job["model"], day, dict(job["offsets"][day]), job["extra"], path)
        proc = subprocess.run([*job["cmd"], str(path), str(job["blocks"])], capture_output=True)
        err = (
            ""
            if proc.returncode == 0
            else f"day {day}: promtool exited {proc.returncode}: {proc.stderr[-2000:]}"
        )
        return day, size, err
    finally:
        path.unlink(missing_ok=True)


def backfill(
    anchor: str,
    seed: int,
    out: Path,
    extra: Mapping[str, str],
    workers: int = 2,
    days: int = model.HISTORY_DAYS,
    promtool: str = "promtool",
    max_block_duration: str | None = None,
) -> dict:
    """Writes the ``days`` days before the anchor (exclusive) into the Prometheus data directory ``out``.

    Idempotent: blocks written by a previous run (listed in ``out/.simulator-blocks.json``) are replaced.
    """
    started = time.monotonic()
    if shutil.which(promtool) is None:
        raise RuntimeError(f"{promtool} not found")
    m = model.Model(anchor, seed)
    first_day = model.HISTORY_DAYS - days
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".simulator-backfill-", dir=out))
    blocks = work / "blocks"
    blocks.mkdir()
    # a day is about 52 MB of text: use memory when /dev/shm has room for a few (containers often give 64 MB)
    shm = Path("/dev/shm")
    roomy = shm.is_dir() and shutil.disk_usage(shm).free > (workers + 2) * 80 * 2**20
    text_dir = Path(tempfile.mkdtemp(prefix="simulator-om-", dir=shm)) if roomy else work
    try:
        # counters' values at the start of each day, from the day totals
        counters = [s for s in model.catalogue() if s.kind == "counter"]
        running = {
            s.key: (m.counter_value_raw(s, first_day * model.DAY_MINUTES) if first_day else 0)
            for s in counters
        }
        offsets: dict[int, dict[str, int]] = {}
        for day in range(first_day, model.HISTORY_DAYS):
            offsets[day] = dict(running)
            data = m.day_data(day)
            for s in counters:
                running[s.key] += int(data[s.key].sum())
        m.day_data(first_day - 1)  # the accuracy gauge of the first day looks back an hour
        cmd = [promtool, "tsdb", "create-blocks-from", "openmetrics"]
        if max_block_duration:
            cmd.append(f"--max-block-duration={max_block_duration}")
        _JOB.update(model=m, offsets=offsets, extra=dict(extra), text_dir=text_dir, blocks=blocks, cmd=cmd)
        generated = time.monotonic() - started
        ctx = multiprocessing.get_context("fork")
        total_bytes, failures = 0, []
        with ctx.Pool(max(1, workers)) as pool:
            for _day, size, err in pool.imap_unordered(_work, range(first_day, model.HISTORY_DAYS)):
                total_bytes += size
                if err:
                    failures.append(err)
        if failures:
            raise RuntimeError("promtool failed:\n" + "\n".join(failures))
        marker = out / MARKER
        if marker.exists():
            for name in json.loads(marker.read_text()).get("blocks", []):
                shutil.rmtree(out / name, ignore_errors=True)
        new = sorted(p.name for p in blocks.iterdir() if p.is_dir())
        for name in new:
            (blocks / name).rename(out / name)
        summary = {
            "anchor": m.anchor.isoformat(),
            "seed": seed,
            "days": days,
            "series": len(model.catalogue()),
            "samples": len(model.catalogue()) * days * model.DAY_MINUTES,
            "openmetrics_bytes": total_bytes,
            "blocks": new,
            "generate_seconds": round(generated, 1),
            "seconds": round(time.monotonic() - started, 1),
        }
        marker.write_text(json.dumps(summary, indent=1))
        return summary
    finally:
        _JOB.clear()
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(text_dir, ignore_errors=True)

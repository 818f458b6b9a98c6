"""The running stack's addresses for Python (tests, benchmarks): the environment's SEXTANT_*_URL if set,
else what `stack/up.sh` wrote to $RUN/urls.env from `stack/lib.sh`, where the ports are decided."""

from __future__ import annotations

import os
from pathlib import Path


def run_dir() -> Path:
    """$SEXTANT_RUN, else $SEXTANT_CACHE/run, else ~/.cache/sextant/run (as stack/lib.sh decides it)."""
    if os.environ.get("SEXTANT_RUN"):
        return Path(os.environ["SEXTANT_RUN"])
    cache = os.environ.get("SEXTANT_CACHE") or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return Path(cache) / ("run" if os.environ.get("SEXTANT_CACHE") else "sextant/run")


def stack_url(name: str) -> str | None:
    """`stack_url("SEXTANT_PROMETHEUS_URL")`: the address the tests and benchmarks should use, or None
    when neither the environment nor a started stack says."""
    if os.environ.get(name):
        return os.environ[name]
    written = run_dir() / "urls.env"
    if not written.exists():
        return None
    lines = dict(line.split("=", 1) for line in written.read_text().splitlines() if "=" in line)
    return lines.get(name)

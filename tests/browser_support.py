"""Serve the app for browser tests and drive Debian's Chromium with Playwright."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from tests.process_support import free_port, stop, wait_until_ok

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextlib.contextmanager
def served_process(
    env: dict[str, str], base_path: str = "", options: tuple[str, ...] = ()
) -> Iterator[tuple[str, subprocess.Popen]]:
    """`streamlit run Overview.py` on a free loopback port (under `base_path`, Streamlit's
    server.baseUrlPath, when given; with more `--option value` pairs); yields the app's base URL and the
    server's process once it is healthy."""
    port = free_port()
    options = (*(["--server.baseUrlPath", base_path] if base_path else []), *options)
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "Overview.py", "--server.port", str(port), *options],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}" + (f"/{base_path.strip('/')}" if base_path else "")
    try:
        if not wait_until_ok(f"{base}/_stcore/health", 60, process):
            raise RuntimeError("streamlit did not become healthy within 60 s")
        yield base, process
    finally:
        stop(process, 10)


@contextlib.contextmanager
def served_app(env: dict[str, str], base_path: str = "", options: tuple[str, ...] = ()) -> Iterator[str]:
    """As `served_process`; yields the app's base URL."""
    with served_process(env, base_path, options) as (base, _):
        yield base


def snapshot_env() -> dict[str, str]:
    """The environment with no backend configured: the app serves the shipped snapshot."""
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("SEXTANT_") or k in ("SEXTANT_RUN", "SEXTANT_CACHE")
    }


def wait_for_app(page, timeout_ms: int = 60_000) -> None:
    """Wait as Streamlit's own e2e suite does: connected, script finished, no skeletons left."""
    page.wait_for_selector(
        "[data-testid='stApp'][data-test-connection-state='CONNECTED']", timeout=timeout_ms
    )
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=timeout_ms)
    page.wait_for_function("!document.querySelector(\"[data-testid='stSkeleton']\")", timeout=timeout_ms)

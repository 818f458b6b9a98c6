"""Serve the app for browser tests and drive Debian's Chromium with Playwright."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def served_app(env: dict[str, str], base_path: str = "", options: tuple[str, ...] = ()) -> Iterator[str]:
    """`streamlit run Overview.py` on a free loopback port (under `base_path`, Streamlit's
    server.baseUrlPath, when given; with more `--option value` pairs); yields the app's base URL."""
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
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/_stcore/health", timeout=1).status_code == 200:
                    break
            time.sleep(0.3)
        else:
            raise RuntimeError("streamlit did not become healthy within 60 s")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


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

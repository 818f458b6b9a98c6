"""Local servers that tests and benchmarks start: a free port, and waiting until one answers.

No Playwright here: the benchmarks that start a Prometheus of their own import it too."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_ok(url: str, within_s: float, process: subprocess.Popen | None = None) -> bool:
    """Ask `url` until it answers 200 (a server's readiness or health path): True once it has; False after
    `within_s`, or at once when `process` (the server) has exited, which no wait would mend."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2).status_code == 200:
                return True
        if process is not None and process.poll() is not None:
            return False
        time.sleep(0.3)
    return False


def stop(process: subprocess.Popen, within_s: float = 30) -> None:
    """Terminate `process`, and kill it when it has not exited within `within_s`."""
    process.terminate()
    try:
        process.wait(timeout=within_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()

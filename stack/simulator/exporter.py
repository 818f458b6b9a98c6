"""``/metrics``: every series at the current minute, continuous with the backfill; ``/healthz``.

`--planted FILE`: lines of the Prometheus text format appended to every scrape while the file exists, so a
test can put a series the model never makes (a hostile label value, say) into the real Prometheus."""

from __future__ import annotations

import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from . import model
from .exposition import prometheus_text

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Exposition:
    """Renders the model at a minute, cached per minute (scrapes within a minute get the same text)."""

    def __init__(self, anchor: str, seed: int, planted: Path | None = None):
        self.model = model.Model(anchor, seed)
        self.planted = planted
        self._lock = threading.Lock()
        self._minute: int | None = None
        self._body = b""

    def minute_now(self, now: float | None = None) -> int:
        # live values start at the anchor: the backfill holds everything before it
        return max(self.model.minute(time.time() if now is None else now), model.HISTORY_MINUTES)

    def render(self, minute: int) -> bytes:
        with self._lock:
            if minute != self._minute:
                self._body = prometheus_text(self.model.values_at(minute)).encode()
                self._minute = minute
            body = self._body
        return body + self._planted_lines()

    def _planted_lines(self) -> bytes:
        try:
            text = self.planted.read_bytes() if self.planted else b""
        except FileNotFoundError:
            return b""
        return text if not text or text.endswith(b"\n") else text + b"\n"


def make_handler(expo: Exposition):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server API)
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                self._send(200, expo.render(expo.minute_now()), CONTENT_TYPE)
            elif path == "/healthz":
                self._send(200, b"ok\n", "text/plain")
            elif path == "/":
                self._send(200, b"stack.simulator: /metrics /healthz\n", "text/plain")
            else:
                self._send(404, b"not found\n", "text/plain")

        def _send(self, code: int, body: bytes, ctype: str) -> None:
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args) -> None:  # noqa: A002 (http.server API)
            pass

    return Handler


def serve(
    anchor: str, seed: int, host: str = "127.0.0.1", port: int = 19100, planted: Path | None = None
) -> None:
    expo = Exposition(anchor, seed, planted)
    started = time.monotonic()
    expo.render(expo.minute_now())  # computes the 30 days of counters once (about a second)
    server = ThreadingHTTPServer((host, port), make_handler(expo))
    server.daemon_threads = True
    print(
        f"[simulator serve] anchor={expo.model.anchor.isoformat()} seed={seed} "
        f"on http://{host}:{port}/metrics (ready in {time.monotonic() - started:.1f} s)",
        file=sys.stderr,
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()

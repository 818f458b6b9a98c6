"""Backends that misbehave on purpose, on real loopback sockets, for tests of deadlines and the breaker.

`hanging_port()`: a port whose kernel accepts connections that nothing ever reads or answers, as with a
paused (SIGSTOP) process: a client's connect succeeds and its read waits until its own timeout.
`SlowPrometheus`: answers every query after `delay_s` with nothing (or the instant `vector` given), counting
the requests.
`PausableProxy`: a real backend behind a proxy that `pause()` freezes as SIGSTOP freezes a process.
`HangingTransport`: an httpx transport that waits out the read timeout each request carries and then
raises `ReadTimeout`, as a hanging backend would, without a socket; it records each request's timeout.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx


@contextlib.contextmanager
def hanging_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(256)
        yield sock.getsockname()[1]


class HangingTransport(httpx.BaseTransport):
    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.timeouts: list[float] = []
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        read = request.extensions["timeout"]["read"]
        with self._lock:
            self.requests.append(request)
            self.timeouts.append(read)
        time.sleep(read)
        raise httpx.ReadTimeout("timed out", request=request)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64  # a page's queries arrive at once


class SlowPrometheus:
    """A Prometheus-shaped HTTP server answering every query `delay_s` late: a range query with nothing, an
    instant one with `vector` (Prometheus's `result` list, default nothing)."""

    def __init__(self, delay_s: float, vector: list[dict[str, object]] | None = None) -> None:
        self.delay_s = delay_s
        self.vector = vector or []
        self.requests = 0
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                self._answer()

            def do_POST(self) -> None:  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self._answer()

            def _answer(self) -> None:
                with outer._lock:
                    outer.requests += 1
                time.sleep(outer.delay_s)
                ranged = "query_range" in self.path
                result = [] if ranged else outer.vector
                data = {"resultType": "matrix" if ranged else "vector", "result": result}
                body = json.dumps({"status": "success", "data": data}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: object) -> None:
                """Quiet."""

        self._server = _Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> SlowPrometheus:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


class PausableProxy:
    """A TCP proxy in front of a real backend that can be paused like the process behind it (SIGSTOP):
    while paused, new and open connections alike get no byte in either direction, and the backend
    answers again on `resume()`."""

    def __init__(self, upstream: str) -> None:
        parts = httpx.URL(upstream)
        self._upstream = (parts.host, parts.port or 80)
        self._running = threading.Event()
        self._running.set()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def __enter__(self) -> PausableProxy:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._running.set()
        self._listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        self._running.wait()
        try:
            upstream = socket.create_connection(self._upstream)
        except OSError:
            client.close()
            return
        for source, target in ((client, upstream), (upstream, client)):
            threading.Thread(target=self._pipe, args=(source, target), daemon=True).start()

    def _pipe(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                self._running.wait()
                target.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, target):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)
                end.close()

"""Helpers of the access tests: the shipped example access file's identities, and a stand-in for all three
backends that counts every request and keeps the access events written to it."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from app.access import policy
from tests.browser_support import ROOT

EXAMPLE = ROOT / "access.example.yaml"
RULES = policy.load(EXAMPLE)
ROLES = tuple(policy.DEFAULTS)
# One identity per role, holding it through a group of the example file (as a sign-in proxy passes it).
GROUP_OF = {name: sorted(RULES.roles[name].groups)[0] for name in ROLES}
WRITES = {("POST", "/_bulk"), ("PUT", "/_index_template/sextant-access")}  # the access log's own requests


def identity(role: str) -> dict[str, str]:
    """`st.user` as a sign-in proxy fills it for someone holding `role` (and only it)."""
    return {"email": f"{role}.person@example.com", "groups": GROUP_OF[role]}


class CountingBackend:
    """One HTTP server standing in for Prometheus, OpenSearch and Jaeger: every request is counted; the
    access log's `_bulk` writes are answered like OpenSearch does (each document created) and kept; every
    other request is answered 503, so a page that asks anything shows an outage, quickly. It listens on
    `port`, else on one the OS gives."""

    def __init__(self, port: int = 0) -> None:
        self.requests: list[tuple[str, str]] = []
        self.events: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                self._answer(b"")

            def do_POST(self) -> None:  # noqa: N802
                self._answer(self.rfile.read(int(self.headers.get("Content-Length") or 0)))

            def do_PUT(self) -> None:  # noqa: N802
                self._answer(self.rfile.read(int(self.headers.get("Content-Length") or 0)))

            def _answer(self, body: bytes) -> None:
                path = self.path.split("?")[0]
                with outer._lock:
                    outer.requests.append((self.command, path))
                if path == "/_bulk":
                    lines = [json.loads(line) for line in body.decode().splitlines() if line.strip()]
                    docs = lines[1::2]
                    with outer._lock:
                        outer.events.extend(docs)
                    items = [{"create": {"_id": d["id"], "status": 201}} for d in docs]
                    self._send(200, {"errors": False, "items": items})
                elif path.startswith("/_index_template/"):
                    self._send(200, {"acknowledged": True})
                else:
                    self._send(
                        503, {"status": "error", "error": "counting stand-in", "errorType": "unavailable"}
                    )

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_args: object) -> None:
                """Quiet."""

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def data_requests(self) -> list[tuple[str, str]]:
        """Every request but the access log's writes."""
        with self._lock:
            return [r for r in self.requests if r not in WRITES]

    def wait_for_event(self, timeout_s: float = 15.0, **fields: Any) -> dict[str, Any]:
        """The first access event written with these field values (the sender is a background thread)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self._lock:
                for event in self.events:
                    if all(event.get(k) == v for k, v in fields.items()):
                        return event
            time.sleep(0.1)
        raise AssertionError(f"no access event {fields} arrived; got {self.events}")

    def __enter__(self) -> CountingBackend:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

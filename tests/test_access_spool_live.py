"""Nothing lost while OpenSearch is away: 20 views of an audited page opened while Sextant's OpenSearch
address refuses connections wait in the spool, and once the address answers again (the real OpenSearch,
behind it) exactly those 20 access events arrive, each once, and the spool is empty.

OpenSearch "stops" and "starts" as a TCP gate in front of the shared stack's OpenSearch closes and opens
its port: to Sextant that is a stopped server (connection refused) and a started one, and the shared stack,
which others use, is never stopped. `make chaos` (bench/chaos.py, run last by `make test`) does the same with
the stack's OpenSearch process really killed and restarted.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
from streamlit.testing.v1 import AppTest

from app.access.spool import Spool
from tests.access_support import EXAMPLE, GROUP_OF
from tests.browser_support import ROOT
from tests.process_support import free_port

pytestmark = pytest.mark.integration

VIEWS = 20
INDEX_PATTERN = "audit-sextant-*"


class TcpGate:
    """A port that forwards every connection to `target` while open and refuses connections while closed."""

    def __init__(self, target: str) -> None:
        host, port = target.removeprefix("http://").split(":")
        self.target = (host, int(port.rstrip("/")))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._listener: socket.socket | None = None

    def open(self) -> None:
        listener = socket.create_server(("127.0.0.1", self.port))
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def close(self) -> None:
        if self._listener is not None:
            self._listener.close()
            self._listener = None

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:  # closed
                return
            upstream = socket.create_connection(self.target, timeout=30)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


@pytest.fixture
def gate(live_stack) -> Iterator[TcpGate]:
    found = TcpGate(live_stack.opensearch_url)
    yield found
    found.close()


def stored(opensearch_url: str, user: str) -> list[str]:
    """The ids of the access events OpenSearch holds for `user` (one per document, copies included)."""
    httpx.post(f"{opensearch_url}/{INDEX_PATTERN}/_refresh", timeout=10)
    body = {"size": 100, "query": {"term": {"user": user}}, "_source": False}
    hits = httpx.post(f"{opensearch_url}/{INDEX_PATTERN}/_search", json=body, timeout=10)
    if hits.status_code == 404:  # no access index yet
        return []
    return [h["_id"] for h in hits.json()["hits"]["hits"]]


def test_twenty_views_while_opensearch_is_down_arrive_exactly_once_when_it_is_back(
    live_stack, gate, monkeypatch, tmp_path
):
    spool_path = tmp_path / "spool.jsonl"
    monkeypatch.setenv("SEXTANT_PROMETHEUS_URL", live_stack.prometheus_url)
    monkeypatch.setenv("SEXTANT_JAEGER_URL", live_stack.jaeger_url)
    monkeypatch.setenv("SEXTANT_OPENSEARCH_URL", gate.url)  # closed: OpenSearch is down
    monkeypatch.setenv("SEXTANT_ACCESS_FILE", str(EXAMPLE))
    monkeypatch.setenv("SEXTANT_ACCESS_SPOOL", str(spool_path))
    monkeypatch.delenv("SEXTANT_SNAPSHOT", raising=False)
    user = f"spool-{uuid.uuid4().hex[:8]}@example.com"

    for n in range(VIEWS):  # 20 sensitive views: the Logs page, each with its own search
        at = AppTest.from_file(str(ROOT / "pages/11_Logs.py"), default_timeout=120)
        at.user = {"email": user, "groups": GROUP_OF["oncall"]}
        at.query_params["q"] = f"view-{n}"
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        assert [t.value for t in at.title] == ["Logs"]  # shown, with OpenSearch's outage on it
    waiting = Spool(spool_path, 1000).pending()
    assert len(waiting) == VIEWS and {d["user"] for d in waiting} == {user}
    assert sorted(d["params"] for d in waiting) == sorted(f"q=view-{n}" for n in range(VIEWS))
    assert stored(live_stack.opensearch_url, user) == []

    gate.open()  # OpenSearch is back: the background sender retries on its own
    deadline = time.monotonic() + 60
    while Spool(spool_path, 1000).count() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert Spool(spool_path, 1000).count() == 0
    time.sleep(6)  # one more retry period of the sender: nothing is sent again
    ids = stored(live_stack.opensearch_url, user)
    assert len(ids) == VIEWS and sorted(ids) == sorted(d["id"] for d in waiting)

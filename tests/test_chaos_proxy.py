"""The chaos proxy (stack/chaos/proxy.py): each fault does to a real HTTP exchange what it says."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from app.sources.errors import BackendUnavailable
from app.sources.jaeger import JaegerClient
from app.sources.opensearch import OpenSearchClient
from app.sources.prometheus import PrometheusClient
from stack.chaos.faults import INJECTED_503, SIGN_IN_PAGE, Fault
from stack.chaos.proxy import ProxyThread
from tests.process_support import free_port

ANSWER = json.dumps({"status": "success", "data": {"resultType": "vector", "result": []}, "pad": "x" * 400})


class Upstream(BaseHTTPRequestHandler):
    """Echoes what it was sent; answers chunked when asked to (`?chunked`), as Go servers do."""

    protocol_version = "HTTP/1.1"

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        self.server.seen.append((self.path, self.rfile.read(length), dict(self.headers)))
        body = ANSWER.encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if "chunked" in self.path:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (body[:100], body[100:]):
                self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    def log_message(self, *_args):
        pass


@pytest.fixture(scope="module")
def upstream():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    server.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


@pytest.fixture
def proxy(upstream):
    with ProxyThread() as proxies:
        yield proxies.add("prometheus", upstream.server_address)


def test_passing_through_keeps_the_exchange_and_asks_for_an_uncompressed_answer(proxy, upstream):
    with httpx.Client(base_url=proxy.url) as client:
        for path in ("/api/v1/query", "/api/v1/query?chunked"):
            answer = client.post(path, data={"query": "up"})
            assert answer.status_code == 200 and answer.text == ANSWER
            sent_path, body, headers = upstream.seen[-1]
            assert (sent_path, body) == (path, b"query=up")
            assert headers["Accept-Encoding"] == "identity" and headers["Connection"] == "close"
    assert proxy.targets == ["/api/v1/query", "/api/v1/query?chunked"]


def test_a_new_fault_applies_to_the_next_request_on_a_pooled_connection(proxy):
    with httpx.Client(base_url=proxy.url) as client:
        assert client.post("/q").status_code == 200
        proxy.fault = Fault.ERROR
        assert client.post("/q").status_code == 503
        proxy.fault = Fault.NONE
        assert client.post("/q").status_code == 200


def test_503_is_in_each_backends_own_json_and_its_client_reads_the_reason():
    with ProxyThread() as proxies:
        calls = {
            "prometheus": lambda url: PrometheusClient(url).instant("up"),
            "opensearch": lambda url: OpenSearchClient(url).info(),
            "jaeger": lambda url: JaegerClient(url).services(),
        }
        for backend, call in calls.items():
            proxy = proxies.add(backend, None, Fault.ERROR)
            with pytest.raises(BackendUnavailable) as raised:
                call(proxy.url)
            assert (raised.value.backend, raised.value.status) == (backend, 503)
            assert raised.value.message == INJECTED_503


def test_html_answers_200_with_a_sign_in_page(proxy):
    proxy.fault = Fault.HTML
    answer = httpx.post(f"{proxy.url}/api/v1/query")
    assert answer.status_code == 200 and answer.content == SIGN_IN_PAGE
    assert answer.headers["content-type"].startswith("text/html")


def test_latency_delays_the_real_answer(proxy):
    proxy.fault, proxy.delay_s = Fault.LATENCY, 0.4
    started = time.perf_counter()
    answer = httpx.post(f"{proxy.url}/q")
    assert time.perf_counter() - started >= 0.4 and answer.text == ANSWER


def test_malformed_cuts_the_json_in_half(proxy):
    proxy.fault = Fault.MALFORMED
    answer = httpx.post(f"{proxy.url}/q?chunked")
    assert answer.status_code == 200 and answer.text == ANSWER[: len(ANSWER) // 2]
    with pytest.raises(ValueError):
        answer.json()


def test_trickle_sends_the_whole_answer_slowly_in_small_pieces(proxy):
    proxy.fault, proxy.trickle_bytes, proxy.trickle_every_s = Fault.TRICKLE, 100, 0.05
    started = time.perf_counter()
    with httpx.Client(timeout=httpx.Timeout(1.0)) as client:
        answer = client.post(f"{proxy.url}/q")
    took = time.perf_counter() - started
    assert answer.text == ANSWER
    assert took >= (len(ANSWER) // 100) * 0.05  # more than any read timeout below one piece's wait


def test_a_trickle_lifted_midway_sends_the_rest_at_once(proxy):
    proxy.fault, proxy.trickle_bytes, proxy.trickle_every_s = Fault.TRICKLE, 10, 0.5
    lifted = threading.Timer(0.6, lambda: setattr(proxy, "fault", Fault.NONE))
    lifted.start()
    started = time.perf_counter()
    answer = httpx.post(f"{proxy.url}/q", timeout=5)
    assert answer.text == ANSWER and time.perf_counter() - started < 2.0  # not the 25 s of a whole trickle


def test_reset_breaks_the_connection_mid_answer(proxy):
    proxy.fault = Fault.RESET
    with pytest.raises(httpx.TransportError):
        httpx.post(f"{proxy.url}/q")


def test_hang_reads_the_request_and_never_answers(proxy):
    proxy.fault = Fault.HANG
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(f"{proxy.url}/q", timeout=0.5)
    assert proxy.targets == ["/q"]


def test_a_backend_that_refuses_connections_resets_sextants():
    with ProxyThread() as proxies:
        proxy = proxies.add("jaeger", ("127.0.0.1", free_port()))
        with pytest.raises(httpx.TransportError):
            httpx.get(f"{proxy.url}/api/services")

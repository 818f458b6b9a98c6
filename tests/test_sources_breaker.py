"""The circuit breaker: a timeout or a refused connection counts the backend down for a while, calls then
fail at once saying since when and why, a background probe closes it as soon as the backend answers, and
an HTTP error answer does not open it."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import httpx
import pytest

from app.config import DEFAULT_DOWN_S, ConfigError, load_config
from app.sources import breaker, build_sources
from app.sources.breaker import Breaker
from app.sources.errors import BackendUnavailable
from app.sources.prometheus import PrometheusClient
from tests.faults import HangingTransport

TRIPPED_AT = datetime(2026, 11, 23, 14, 2, 5, tzinfo=UTC)
TIMEOUT = BackendUnavailable("prometheus", "no answer within 10 s", error_type="timeout")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Probe:
    """Fails until `answering` is set; counts its calls."""

    def __init__(self) -> None:
        self.answering = False
        self.calls = 0

    def __call__(self) -> None:
        self.calls += 1
        if not self.answering:
            raise BackendUnavailable("prometheus", "connection refused")


def quiet_breaker(down_s: float = 30.0) -> tuple[Breaker, Clock, Probe]:
    clock, probe = Clock(), Probe()
    return (
        Breaker("prometheus", down_s, probe, background=False, clock=clock, wall_clock=lambda: TRIPPED_AT),
        clock,
        probe,
    )


def test_opens_fails_fast_saying_since_when_and_why_then_a_probe_closes_it():
    b, _, probe = quiet_breaker()
    b.check()  # closed: nothing raised
    b.trip(TIMEOUT)
    with pytest.raises(BackendUnavailable, match=r"down since 14:02:05 UTC \(no answer within 10 s\)"):
        b.check()
    assert not b.probe_once() and b.is_open
    probe.answering = True
    assert b.probe_once() and not b.is_open
    b.check()
    assert probe.calls == 2


def test_stays_down_for_down_s_after_the_last_failure_seen_then_lets_calls_through():
    b, clock, _ = quiet_breaker(down_s=30)
    b.trip(TIMEOUT)
    clock.now += 25
    assert not b.probe_once()  # the probe failed too: down 30 s from now
    clock.now += 25
    assert b.is_open
    clock.now += 6
    b.check()  # expired: the next call tries the backend for real


def test_a_second_failure_keeps_the_first_time_and_reason():
    b, clock, _ = quiet_breaker()
    b.trip(TIMEOUT)
    clock.now += 10
    b.trip(BackendUnavailable("prometheus", "connection refused"))
    with pytest.raises(BackendUnavailable, match="since 14:02:05 UTC .no answer within 10 s"):
        b.check()


def test_down_s_zero_turns_it_off():
    b, _, _ = quiet_breaker(down_s=0)
    b.trip(TIMEOUT)
    assert not b.is_open
    b.check()


# -- in the HTTP layer -----------------------------------------------------------------------------------


class Flaky(httpx.BaseTransport):
    """Refuses connections until `up` is set, then answers buildinfo and queries; counts requests."""

    def __init__(self) -> None:
        self.up = threading.Event()
        self.requests = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        if not self.up.is_set():
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        data = (
            {"version": "2.42.0"}
            if request.url.path.endswith("buildinfo")
            else {"resultType": "vector", "result": []}
        )
        return httpx.Response(200, json={"status": "success", "data": data})


def test_a_refused_connection_opens_it_and_the_probe_recovers_without_a_restart(monkeypatch):
    monkeypatch.setattr(breaker, "PROBE_EVERY_S", 0.05)
    transport = Flaky()
    prom = PrometheusClient("http://prom.test", transport=transport, down_s=30)
    with pytest.raises(BackendUnavailable, match="Connection refused"):
        prom.instant("up")
    sent = transport.requests
    with pytest.raises(BackendUnavailable, match="down since"):
        prom.instant("up")
    assert transport.requests - sent <= 1  # at most the quiet probe: the query itself was not sent
    transport.up.set()
    deadline = time.monotonic() + 5
    while prom._http.breaker.is_open and time.monotonic() < deadline:
        time.sleep(0.02)
    assert prom.instant("up").frame.empty  # answered: recovered by itself
    assert prom.stats.snapshot().calls == 3  # the probes are not counted as the page's calls


def test_a_closed_clients_breaker_probes_no_more():
    """Its backend's port may serve another server by then (a later test's fake counts what it gets)."""
    probe = Probe()
    b = Breaker("prometheus", 30, probe, probe_every_s=0.02)
    b.trip(TIMEOUT)
    deadline = time.monotonic() + 5
    while not probe.calls and time.monotonic() < deadline:
        time.sleep(0.01)
    b.stop()
    while b._probing and time.monotonic() < deadline:  # the loop ends at its next turn
        time.sleep(0.01)
    asked = probe.calls
    time.sleep(0.1)
    assert not b._probing and probe.calls == asked
    with pytest.raises(BackendUnavailable, match="down since"):  # still down, failing at once
        b.check()
    b.trip(TIMEOUT)  # and a failure starts no probe again
    assert not b._probing


def test_a_timeout_opens_it_so_a_hanging_backend_costs_one_timeout():
    transport = HangingTransport()
    prom = PrometheusClient("http://prom.test", timeout=0.2, transport=transport, down_s=30)
    prom._http.breaker = Breaker("prometheus", 30, prom._http._probe, background=False)
    with pytest.raises(BackendUnavailable, match="no answer within 0.2 s"):
        prom.instant("up")
    started = time.perf_counter()
    with pytest.raises(BackendUnavailable, match="down since"):
        prom.instant("up")
    assert time.perf_counter() - started < 0.1 and len(transport.requests) == 1


@pytest.mark.parametrize(
    "answer",
    [
        lambda request: httpx.Response(
            503, json={"status": "error", "errorType": "timeout", "error": "busy"}
        ),
        lambda request: httpx.Response(200, text="<html>a proxy page</html>"),
        lambda request: (_ for _ in ()).throw(httpx.RemoteProtocolError("reset mid-answer", request=request)),
    ],
    ids=["5xx", "malformed", "reset"],
)
def test_error_answers_do_not_open_it(answer):
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return answer(request)

    prom = PrometheusClient("http://prom.test", transport=httpx.MockTransport(handler), down_s=30)
    for _ in range(2):
        with pytest.raises(Exception) as raised:
            prom.instant("up")
        assert "down since" not in str(raised.value)
    assert len(calls) == 2 and not prom._http.breaker.is_open


# -- the setting -----------------------------------------------------------------------------------------


def test_down_s_is_set_per_backend_and_reaches_its_client():
    config = load_config(
        {
            "SEXTANT_PROMETHEUS_URL": "http://p",
            "SEXTANT_OPENSEARCH_URL": "http://o",
            "SEXTANT_PROMETHEUS_DOWN_S": "0",
            "SEXTANT_OPENSEARCH_DOWN_S": "90",
        }
    )
    assert (config.prometheus.down_s, config.opensearch.down_s, config.jaeger.down_s) == (
        0.0,
        90.0,
        DEFAULT_DOWN_S,
    )
    sources = build_sources(config)
    assert sources.prometheus._http.breaker.down_s == 0.0 and sources.opensearch._http.breaker.down_s == 90.0


@pytest.mark.parametrize("value", ["abc", "-1", "3601", "nan"])
def test_a_bad_down_s_names_the_setting(value):
    with pytest.raises(ConfigError, match="SEXTANT_JAEGER_DOWN_S"):
        load_config({"SEXTANT_JAEGER_DOWN_S": value})

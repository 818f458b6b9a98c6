"""The Data sources page's one verdict per backend: never a green beside a failing last call."""

import socket
from datetime import UTC, datetime, timedelta

from app.data_sources import BackendStatus
from tests.conftest import BACKEND_VARS
from tests.page_views import DATA_SOURCES, render

T = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def status(reachable: bool, success: datetime | None, error: datetime | None) -> BackendStatus:
    return BackendStatus(
        "prometheus", "http://p", reachable, None, 0.01, None if reachable else "refused", None,
        calls=737, failures=22, last_query_latency_s=0.1, last_success_at=success,
        last_error="prometheus: refused a query, HTTP 400 (bad_data)" if error else None, last_error_at=error,
    )  # fmt: skip


def test_one_verdict_from_the_probe_and_the_last_call():
    assert status(False, T, None).state == "failing"
    assert status(True, T - timedelta(minutes=1), T).state == "attention"  # answers, but the last call failed
    assert status(True, T, T - timedelta(minutes=1)).state == "ok"  # an older failure is history
    assert status(True, None, None).verdict == "Working"


def test_a_refused_backend_has_no_latency_and_an_unconfigured_one_names_its_own_variable(monkeypatch):
    """Prometheus on a closed port answered nothing, so it has no latency to show (a "0 ms" reads as fast);
    OpenSearch, not configured, is told to set its own variable, not Alertmanager's."""
    for name in (*BACKEND_VARS, "SEXTANT_SNAPSHOT"):
        monkeypatch.delenv(name, raising=False)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed once we leave: nothing listens there
    monkeypatch.setenv("SEXTANT_PROMETHEUS_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("SEXTANT_PROMETHEUS_TIMEOUT", "1")
    drawn = render(DATA_SOURCES)
    prometheus = {m.label: m.value for m in drawn.at.metric if m.label.endswith("latency")}
    assert prometheus == {"Probe latency": "—", "Last query latency": "failed"}
    # The probe's failure in words; the address and the transport's own error only under Details.
    assert drawn.banner("prometheus") == "Probe failed: connection refused"
    details = [c.value for e in drawn.at.expander if e.label == "Details" for c in e.code]
    assert any(d.startswith(f"cannot reach http://127.0.0.1:{port}") for d in details), details
    boxes = drawn.source_boxes()
    assert "set SEXTANT_OPENSEARCH_URL to read it" in boxes["opensearch"]
    assert "set SEXTANT_JAEGER_URL to read it" in boxes["jaeger"]

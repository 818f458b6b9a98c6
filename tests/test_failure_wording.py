"""What a page says of a backend that failed is what is known: a backend the page never asked (it ran out of
time on another's answers) is not said to be failing, and old incidents are said to be old."""

from datetime import UTC, datetime, timedelta

import pytest
from streamlit.testing.v1 import AppTest

from app.dashboards import draw
from app.sources.breaker import Breaker
from app.sources.cache import Outcome
from app.sources.errors import BackendDown, BackendError, BackendUnavailable, StillLoading, plain_reason
from app.sources.prometheus import PrometheusClient
from stack.chaos.proxy import ProxyThread
from tests.conftest import BACKEND_VARS
from tests.page_views import render
from tests.process_support import free_port

NOT_ASKED = BackendUnavailable("opensearch", "not asked: the page ran out of time", error_type="deadline")


def _banner_script():
    from datetime import UTC, datetime

    from app import ui
    from app.sources.cache import Outcome
    from app.sources.errors import BackendUnavailable

    not_asked = BackendUnavailable("opensearch", "not asked: the page ran out of time", error_type="deadline")
    refused = BackendUnavailable("prometheus", "connection refused", error_type="connection")
    now = datetime(2026, 11, 28, 14, 5, tzinfo=UTC)
    ui.show_problems([("opensearch", Outcome(None, not_asked)), ("prometheus", Outcome(None, refused))], now)


def test_the_banner_says_not_asked_instead_of_not_answering():
    at = AppTest.from_function(_banner_script).run()
    assert not at.exception
    assert [e.value for e in at.error] == [
        "**OpenSearch was not asked**: the page ran out of time on slower answers. Its panels are empty.",
        "**Prometheus is not answering**: connection refused. Its panels are empty.",
    ]


def test_the_incidents_note_blames_opensearch_only_when_it_failed_and_says_when_they_are_old():
    now = datetime(2026, 11, 28, 14, 5, tzinfo=UTC)
    note = draw.incidents_problem
    assert note(Outcome(None, NOT_ASKED), now) == (
        ":material/warning: Incidents are not marked on the charts: OpenSearch was not asked, the page ran "
        "out of time."
    )
    assert note(Outcome(None, StillLoading()), now).endswith(
        "not marked on the charts: OpenSearch has not answered yet."
    )
    refused = BackendUnavailable("opensearch", "connection refused", error_type="connection")
    kept = Outcome("hits", refused, now - timedelta(minutes=3), stale=True)
    assert note(kept, now) == (
        ":material/history: The incidents on the charts are the last good data, from 3 min ago: "
        "OpenSearch is not answering (connection refused)."
    )
    assert note(Outcome("hits"), now) is None and note(None, now) is None


def _failure(url: str) -> BackendError:
    """What a real request to `url` raised (no circuit breaker: each request goes out)."""
    with pytest.raises(BackendError) as raised:
        PrometheusClient(url, timeout=5, down_s=0).instant("up")
    return raised.value


def test_transport_failures_are_said_in_plain_words_without_address_or_errno():
    closed = _failure(f"http://127.0.0.1:{free_port()}")
    assert closed.message.startswith("cannot reach http://127.0.0.1:") and "[Errno 111]" in closed.message
    assert plain_reason(closed) == "connection refused"
    with ProxyThread() as proxies:  # make chaos's killed backend: its proxy resets Sextant's connection
        proxy = proxies.add("prometheus", ("127.0.0.1", free_port()))
        assert plain_reason(_failure(proxy.url)) == "the connection was cut"
    said = {  # as the OS and httpx word them
        "cannot reach http://x.invalid: [Errno -2] Name or service not known": "its host name is not known",
        "cannot reach https://h:1: [SSL: WRONG_VERSION_NUMBER] wrong version": "the TLS handshake failed",
        "cannot reach https://h:1: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed "
        "certificate": "its TLS certificate is not trusted",
        "cannot reach http://ssl.example: ProtocolError": "the connection failed",  # not the address's words
    }
    for message, words in said.items():
        assert plain_reason(BackendUnavailable("jaeger", message, error_type="connection")) == words
    slow = BackendUnavailable("jaeger", "no answer within 10 s", error_type="timeout")
    assert plain_reason(slow) == "no answer within 10 s"  # already plain words


def test_a_backend_down_a_while_says_why_and_since_when():
    breaker = Breaker("prometheus", 30.0, probe=lambda: None, background=False)
    breaker.trip(_failure(f"http://127.0.0.1:{free_port()}"))
    with pytest.raises(BackendDown) as raised:
        breaker.check()
    since = f"{raised.value.since:%H:%M:%S} UTC"
    assert plain_reason(raised.value) == (
        f"connection refused; down since {since}, checked again in the background"
    )
    assert raised.value.message.startswith(f"down since {since} (cannot reach http://127.0.0.1:")


def _refused_script():
    from datetime import UTC, datetime

    from app import ui
    from app.sources.cache import Outcome
    from app.sources.errors import BackendError
    from app.sources.prometheus import PrometheusClient

    try:
        PrometheusClient("http://127.0.0.1:1", timeout=5, down_s=0).instant("up")
    except BackendError as refused:
        ui.show_problems([("prometheus", Outcome(None, refused))], datetime(2026, 11, 28, 14, 5, tzinfo=UTC))


def test_the_banner_says_connection_refused_and_keeps_the_raw_error_in_details():
    at = AppTest.from_function(_refused_script).run()
    assert not at.exception
    assert [e.value for e in at.error] == [
        "**Prometheus is not answering**: connection refused. Its panels are empty."
    ]
    (details,) = at.get("expander")
    assert details.label == "Details" and not details.markdown  # the raw error as text, not Markdown
    raw = "cannot reach http://127.0.0.1:1: [Errno 111] Connection refused"
    assert [c.value for c in details.code] == [raw]
    assert all(c.proto.wrap_lines for c in details.code)  # whole at 1440 px, not cut at the box's edge


def test_a_backend_without_a_url_is_not_configured_rather_than_not_answering(monkeypatch):
    """Nobody named OpenSearch or Jaeger, so neither is "not answering": each banner says it is not configured
    and which setting would show its panels, and so does every note that names it (the overview's incidents),
    beside a Prometheus that is configured and does fail. The chaos run's reading of banners finds them."""
    for name in (*BACKEND_VARS, "SEXTANT_SNAPSHOT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SEXTANT_PROMETHEUS_URL", f"http://127.0.0.1:{free_port()}")  # nothing listens
    drawn = render("Overview.py")
    assert not drawn.exceptions()
    banners = drawn.banners()
    opensearch = "**OpenSearch is not configured**: set SEXTANT_OPENSEARCH_URL to show these panels."
    assert opensearch in banners
    assert "**Jaeger is not configured**: set SEXTANT_JAEGER_URL to show these panels." in banners
    assert any(b.startswith("**Prometheus is not answering**: connection refused") for b in banners), banners
    words = drawn.words()
    # Needs attention's note too names the failure in words: the address and errno are the banner's Details.
    assert "19 SLOs: no data — Prometheus is not answering (connection refused)" in words, words
    assert "Errno" not in words and "127.0.0.1" not in words
    assert "Incidents: not known, OpenSearch is not configured." in words
    assert "OpenSearch is not answering" not in words and "Jaeger is not answering" not in words
    assert drawn.banner("opensearch") == opensearch

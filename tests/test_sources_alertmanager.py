"""AlertmanagerClient: the rare error answers (mocked), then the real Alertmanager of the stack."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
import respx

from app.config import load_config
from app.sources import build_sources
from app.sources.alertmanager import AlertmanagerClient
from app.sources.errors import BackendError, BackendUnavailable, QueryRejected
from app.sources.unconfigured import NotConfiguredClient

URL = "http://alertmanager.test:9093"


@pytest.fixture
def am():
    with respx.mock(base_url=URL, assert_all_called=False) as mock:
        yield mock, AlertmanagerClient(URL, timeout=5.0)


def test_an_error_in_alertmanagers_own_words(am):
    mock, client = am
    mock.get("/api/v2/alerts").mock(return_value=httpx.Response(400, json='bad matcher "x"'))
    with pytest.raises(QueryRejected, match='bad matcher "x"'):
        client.alerts()
    mock.get("/api/v2/silences").mock(return_value=httpx.Response(503, text="overloaded\nmore"))
    with pytest.raises(BackendUnavailable, match="overloaded"):
        client.silences()


def test_an_answer_of_the_wrong_shape_is_an_error_not_an_empty_list(am):
    mock, client = am
    mock.get("/api/v2/alerts").mock(return_value=httpx.Response(200, json={"alerts": []}))
    with pytest.raises(BackendError, match="did not answer with a JSON list"):
        client.alerts()
    mock.get("/api/v2/status").mock(return_value=httpx.Response(200, text="<html>proxy</html>"))
    with pytest.raises(BackendError, match="did not answer with JSON"):
        client.status()
    assert client.health().reachable is False


def test_without_a_url_alertmanager_is_not_configured_and_the_app_stays_live():
    sources = build_sources(load_config({"SEXTANT_PROMETHEUS_URL": "http://p:9090"}))
    assert sources.mode == "live" and isinstance(sources.alertmanager, NotConfiguredClient)
    with pytest.raises(BackendUnavailable, match="set SEXTANT_ALERTMANAGER_URL"):
        sources.alertmanager.alerts()
    live = build_sources(load_config({"SEXTANT_ALERTMANAGER_URL": "http://am:9093/"}))
    assert live.mode == "live" and live.alertmanager.url == "http://am:9093"
    assert "http://am:9093" in live.cache_key


# -- the stack's Alertmanager ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real(live_stack):
    if not live_stack.alertmanager_url:
        pytest.skip("the stack's Alertmanager address is not known")
    client = AlertmanagerClient(live_stack.alertmanager_url, timeout=20.0)
    yield client
    client.close()


@pytest.mark.integration
def test_status_reports_the_version_and_the_inhibit_rules(real):
    status = real.status()
    assert status["versionInfo"]["version"]
    assert "inhibit_rules" in status["config"]["original"]
    health = real.health()
    assert health.reachable and health.version == status["versionInfo"]["version"]


@pytest.mark.integration
def test_alerts_carry_their_state_and_silences_their_author(real, live_stack):
    for alert in real.alerts():
        assert alert["labels"]["alertname"]
        assert alert["status"]["state"] in ("active", "suppressed", "unprocessed")
    # a throw-away silence that matches no alert, expired again afterwards
    now = datetime.now(UTC)
    silence = {
        "matchers": [{"name": "alertname", "value": "SextantClientTest", "isRegex": False, "isEqual": True}],
        "startsAt": now.isoformat(),
        "endsAt": (now + timedelta(minutes=5)).isoformat(),
        "createdBy": "Sextant client test",
        "comment": "client test <b>not markup</b>",
    }
    made = httpx.post(f"{live_stack.alertmanager_url}/api/v2/silences", json=silence, timeout=10).json()
    try:
        found = {s["id"]: s for s in real.silences()}[made["silenceID"]]
        assert found["createdBy"] == "Sextant client test"
        assert found["comment"] == "client test <b>not markup</b>"
        assert found["status"]["state"] == "active"
    finally:
        httpx.delete(f"{live_stack.alertmanager_url}/api/v2/silence/{made['silenceID']}", timeout=10)

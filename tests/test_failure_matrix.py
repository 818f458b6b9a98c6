"""Missing data is never health: every page, with one backend failing in each way a backend fails.

Each backend in turn sits behind the chaos proxy (stack/chaos/proxy.py, with no backend behind it) or on a
closed port, with the others not configured: closed port, an HTML page with status 200 (a misrouted sign-in
proxy), 503 with the backend's own JSON error, and a request that is never answered. Every page must then
say which backend failed, draw no green verdict (success box, "healthy", "ok", "pass"), claim no emptiness
it cannot know ("No trace matches …"), and list every SLO, readiness check and security check its
definition files hold as "no data".
"""

from __future__ import annotations

import re

import pytest
import yaml

from app import readiness, security
from app.access.log import TEMPLATE
from app.slo import view as slo_view
from app.sources.alertmanager import AlertmanagerClient
from app.sources.jaeger import JaegerClient
from app.sources.opensearch import OpenSearchClient
from app.sources.prometheus import PrometheusClient
from stack.chaos.faults import Fault
from stack.chaos.proxy import ProxyThread
from tests.conftest import BACKEND_VARS
from tests.page_views import BACKENDS, DATA_SOURCES, EMPTINESS_CLAIMS, PAGES, READS, Drawn, render
from tests.process_support import free_port

MODES = {"closed": None, "html 200": Fault.HTML, "503 JSON": Fault.ERROR, "hanging": Fault.HANG}
GREEN = ("healthy", "ok", "pass")
CLIENTS = (PrometheusClient, OpenSearchClient, JaegerClient, AlertmanagerClient)
ACCESS_LOG_WRITES = {"/_bulk", f"/_index_template/{TEMPLATE}"}  # an audited page's view is recorded
PROBES = {c.name: c.probe_path for c in CLIENTS}
SAYS_HEALTHY = re.compile(r"(?i)\b(?:is|are)\s+(?:all\s+)?healthy\b|later calls succeeded")
SLOS = len(slo_view.definitions().definitions)
READINESS_CHECKS = len(readiness.load_definition().items)
# one per policy section; `alerts` holds the generated alert rules' thresholds, not a check
SECURITY_CHECKS = len(set(yaml.safe_load(security.DEFAULT_PATH.read_text())["spec"]) - {"alerts"})


@pytest.fixture(scope="module")
def failing():
    """(backend, mode) -> the URL that fails that way, and the proxy behind it (None for a closed port)."""
    with ProxyThread() as proxies:
        urls = {}
        for backend in BACKENDS:
            for mode, fault in MODES.items():
                proxy = proxies.add(backend, None, fault) if fault else None
                urls[(backend, mode)] = (proxy.url if proxy else f"http://127.0.0.1:{free_port()}", proxy)
        yield urls


@pytest.fixture
def only(monkeypatch, failing):
    """Configure one backend, failing in one way; 1 s timeouts, a tenth of a second when it hangs: every
    test has clients of its own (`tests.conftest.page_clients_released`), so each hanging case waits its
    timeout out instead of finding a breaker an earlier test opened."""

    def configure(backend: str, mode: str):
        for name in (*BACKEND_VARS, "SEXTANT_SNAPSHOT"):
            monkeypatch.delenv(name, raising=False)
        url, proxy = failing[(backend, mode)]
        monkeypatch.setenv(f"SEXTANT_{backend.upper()}_URL", url)
        monkeypatch.setenv(f"SEXTANT_{backend.upper()}_TIMEOUT", "0.1" if mode == "hanging" else "1")
        return proxy

    return configure


def claims_of_health(drawn: Drawn) -> list[str]:
    green = [v for v in drawn.verdicts() if v.strip().lower() in GREEN]
    return green + SAYS_HEALTHY.findall(drawn.words())


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("backend", BACKENDS)
def test_a_failing_backend_is_named_and_never_shown_as_health(only, backend, mode, page):
    proxy = only(backend, mode)
    asked_before = len(proxy.targets) if proxy else 0
    drawn = render(page)

    assert not drawn.exceptions(), drawn.exceptions()
    assert not drawn.at.success, [s.value for s in drawn.at.success]
    assert not claims_of_health(drawn)
    words = drawn.words()
    assert not [claim for claim in EMPTINESS_CLAIMS if claim in words]
    if backend in READS[page]:
        assert drawn.banner(backend), drawn.banners()
        assert not drawn.has_data(backend)
    elif proxy is not None:  # the circuit breaker's probe and the access log's writes are not the page's
        not_the_pages = {PROBES[backend], *ACCESS_LOG_WRITES}
        asked = [t for t in proxy.targets[asked_before:] if t not in not_the_pages]
        assert not asked, f"{page} asked {backend} for {asked}, and READS does not list it"


@pytest.mark.parametrize("mode", MODES)
def test_with_prometheus_failing_every_defined_slo_and_check_is_no_data(only, mode):
    only("prometheus", mode)

    slos = render("pages/2_SLOs.py")
    counts = {m.label: m.value for m in slos.at.metric}
    assert counts == {
        "Healthy": "no data",
        "At risk": "no data",
        "Exhausted": "no data",
        "No data": f"{SLOS} SLOs",
    }
    board = slos.table("slo")
    assert len(board) == SLOS and set(board["state"]) == {"? no data"}
    assert any(f"{SLOS} of {SLOS} SLOs shown" in c for c in slos.captions())

    overview = render("Overview.py")
    assert {m.label: m.value for m in overview.at.metric} == {
        "Filing readiness": "no data",
        "SLOs healthy": "no data",
        "SLOs at risk": "no data",
        "SLOs exhausted": "no data",
        "SLOs no data": str(SLOS),
    }

    score = render("pages/8_Readiness.py")
    assert score.metric("Filing readiness score") == "no data"
    checks = score.table("domain")
    assert len(checks) == READINESS_CHECKS and set(checks["status"]) == {"no data"}

    security = render("pages/9_Security.py")  # OpenSearch is not configured: every check is without data
    figures = {m.label: m.value for m in security.at.metric}
    assert figures.pop("Security posture") == "Unknown"  # the grade: most controls without evidence
    assert len(figures) >= SECURITY_CHECKS and set(figures.values()) == {"no data"}
    card = render("pages/12_Scorecard.py")
    assert card.metric("Criteria met") == f"0 of {len(card.table('verdict'))}"


@pytest.mark.parametrize("mode", MODES)
def test_with_opensearch_failing_the_audit_check_is_no_data_and_no_address_list_is_claimed_empty(only, mode):
    only("opensearch", mode)
    security = render("pages/9_Security.py")
    assert security.metric("Audit log") == "no data"
    assert "Not known: the audit log could not be read." in security.captions()
    logs = render("pages/11_Logs.py")
    assert logs.metric("Matching lines") is None and logs.table("message") is None


@pytest.mark.parametrize("mode", MODES)
def test_with_jaeger_failing_the_traces_page_lists_no_trace_and_data_sources_says_it_is_failing(only, mode):
    only("jaeger", mode)
    traces = render("pages/10_Traces.py")
    assert traces.table("trace_id") is None
    sources = render(DATA_SOURCES)
    box = sources.source_boxes()["jaeger"]
    assert box[0] == "failing" and "Not answering" in box, box

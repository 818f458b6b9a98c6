"""The Filing readiness page under AppTest: on the shipped snapshot, on a snapshot recorded from a fake
Prometheus (exact figures, the tenant filter from the URL), with Prometheus down, and live on the real stack
(the score shown is the one app.readiness computes for the same time)."""

from __future__ import annotations

import itertools
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from app import readiness_view as rv
from app import slo_view
from app.config import REPO_ROOT, load_config
from app.readiness import gather_inputs, load_definition, score
from app.sources import Sources, build_sources, snapshot
from app.sources.cache import ResultCache
from app.sources.snapshot import Recorder
from app.sources.unconfigured import NotConfiguredClient
from stack.simulator import model
from tests.conftest import metrics, run_page, texts
from tests.test_readiness_view import AT, FakePrometheus

PAGE = "pages/8_Readiness.py"
TITLE = "Filing readiness"

_unique = itertools.count()


def headline(at: AppTest) -> str:
    return metrics(at)[rv.HEADLINE_LABEL]


def trend_points(at: AppTest) -> pd.DataFrame:
    """The trend chart's data as sent to the browser (the largest of its Arrow datasets)."""
    (chart,) = at.get("vega_lite_chart")
    frames = [pa.ipc.open_stream(d.data.data).read_all().to_pandas() for d in chart.proto.datasets]
    return max(frames, key=len)


# -- the shipped snapshot ------------------------------------------------------------------------------------


def test_page_on_the_shipped_snapshot(snapshot_mode):
    at = run_page(PAGE)
    assert at.title[0].value == TITLE


COMPONENT_CHECKS = {  # the four per-tenant checks that read the simulator's component gauges
    "Documents ingested": "documents_ingested",
    "Extracted above accuracy target": "extracted_above_target",
    "Reconciled within SLA": "reconciled_within_sla",
    "Approved by the accountant": "approved",
}


def test_the_snapshot_shows_each_tenants_figures_the_model_implies(snapshot_mode):
    """Per tenant and check, the figure shown is the model's gauge (the minute before the snapshot, or its
    own: an instant query sees the last scrape), its pass/fail follows the definition's threshold, and the
    checks table counts the tenants passing."""
    shipped = snapshot.load(REPO_ROOT / "snapshots" / "demo.json.gz")
    m = model.get_model(shipped.anchor, 7)
    definition = load_definition()
    at = run_page(PAGE)
    per_tenant = at.dataframe[0].value
    checks = at.dataframe[2].value.set_index("check")
    for title, component in COMPONENT_CHECKS.items():
        rows = per_tenant[per_tenant["check"] == title].set_index("tenant")
        assert set(rows.index) == set(model.TENANTS), title
        target = definition.item(component).threshold
        passing = 0
        for tenant in model.TENANTS:
            labels = {"tenant": tenant, "component": component}
            candidates = [
                m.gauge_value(
                    "filing_readiness_component_ratio", labels, shipped.recorded_at - timedelta(minutes=k)
                )
                for k in (1, 0)
            ]
            shown = float(rows.loc[tenant, "figure"].rstrip("%")) / 100
            value = min(candidates, key=lambda c: abs(shown - c))  # the scrape the page saw
            assert abs(shown - value) < 0.00006, (title, tenant, shown, candidates)
            assert rows.loc[tenant, "status"] == ("pass" if value >= target else "fail"), (title, tenant)
            passing += value >= target
        assert checks.loc[title, "tenants_passing"] == f"{passing} of {len(model.TENANTS)}"


# -- a snapshot recorded from a fake Prometheus: exact figures ----------------------------------------------


class NamedFakePrometheus(FakePrometheus):
    name = "prometheus"


@pytest.fixture(scope="module")
def fake_snapshot(tmp_path_factory) -> Path:
    """What `make snapshot` records once record_all is wired in, from the fake Prometheus."""
    recorder = Recorder()
    sources = Sources(
        prometheus=recorder.wrap(NamedFakePrometheus()),
        opensearch=NotConfiguredClient("opensearch"),
        jaeger=NotConfiguredClient("jaeger"),
        mode="live",
    )
    rv.record_all(sources, AT, ResultCache())
    path = tmp_path_factory.mktemp("snap") / f"readiness-{next(_unique)}.json.gz"
    return recorder.save(path, recorded_at=AT)


@pytest.fixture
def on_fake_snapshot(snapshot_mode, fake_snapshot):
    snapshot_mode.setenv("SEXTANT_SNAPSHOT", str(fake_snapshot))
    return fake_snapshot


def expected_on_fake():
    """The same loader on the fake directly, with no snapshot in between."""
    prom = NamedFakePrometheus()
    return rv.load(
        Sources(prom, NotConfiguredClient("o"), NotConfiguredClient("j"), "live"), AT, ResultCache()
    )


def test_page_shows_the_score_checks_domains_tenants_and_trend(on_fake_snapshot):
    at = run_page(PAGE)
    assert at.title[0].value == TITLE
    assert not at.error, [e.value for e in at.error]
    view = expected_on_fake()
    assert headline(at) == rv.format_score(view.score.score) != "no data"
    shown = metrics(at)
    for domain in rv.domain_scores(view.score, view.definition):
        assert shown[domain.domain] == domain.value
    frames = [d.value for d in at.dataframe]
    checks = next(f for f in frames if "why" in f.columns)
    assert list(checks["check"]) == [c.display_name for c in view.definition.items]
    # The filing SLOs have no data in this world: shown as no data, never as healthy.
    assert checks.set_index("check").loc["Filing SLOs healthy", "status"] == "no data"
    tenants = next(f for f in frames if "held_back_by" in f.columns)
    # cobalt has nothing due and the SLO states have no data: too little data for a score, listed first.
    assert list(tenants["tenant"]) == ["cobalt", "bright", "acme"]
    assert pd.isna(tenants["score"].iloc[0]) and tenants["held_back_by"].iloc[0].startswith("no data")
    points = trend_points(at)
    assert len(points) == 12
    assert points["label"].iloc[-1] == headline(at)
    words = texts(at)
    assert "Approved by the accountant fell from pass to fail for 1 tenant (bright)" in words
    assert "Held back most by “Approved by the accountant”" in words
    assert [p.proto.popover.label for p in at.get("popover")] == ["Where does this number come from?"]
    assert "Evaluated at 28 Nov 2026 02:00 UTC" in words


def test_tenant_from_the_url_narrows_the_checks(on_fake_snapshot):
    at = run_page(PAGE, tenant="bright")
    assert at.selectbox(key="tenant").value == "bright"
    view = expected_on_fake()
    alone = rv.for_tenant(view.definition, view.evaluation.inputs, "bright")
    assert (
        metrics(at)["Tenant bright"]
        == rv.format_score(alone.score)
        == rv.format_score(view.score.tenant("bright").score)
    )
    assert "Checks for tenant bright" in [s.value for s in at.subheader]
    checks = next(d.value for d in at.dataframe if "why" in d.value.columns).set_index("check")
    assert checks.loc["Approved by the accountant", "figure"] == "50.00%"
    assert headline(at) == rv.format_score(view.score.score)  # the overall score is unchanged
    assert set(trend_points(at)["series"]) == {"all tenants", "bright"}


def test_prometheus_down_is_a_banner_and_no_data(monkeypatch):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed once we leave: nothing listens there
    monkeypatch.setenv("SEXTANT_PROMETHEUS_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("SEXTANT_PROMETHEUS_TIMEOUT", "2")
    monkeypatch.delenv("SEXTANT_OPENSEARCH_URL", raising=False)
    monkeypatch.delenv("SEXTANT_JAEGER_URL", raising=False)
    at = run_page(PAGE)
    assert at.title[0].value == TITLE
    assert any("Prometheus is not answering" in e.value for e in at.error)
    assert headline(at) == "no data"
    assert not at.get("vega_lite_chart")  # no blank chart: the page says there is no trend
    assert any("No trend to show" in i.value for i in at.info)


# -- live, on the real stack -------------------------------------------------------------------------------


def _minute() -> datetime:
    return datetime.now(UTC).replace(second=0, microsecond=0)


def computed_by_app_readiness(at_time: datetime):
    """app.readiness on its own at `at_time`, with the filing SLO states of the SLO board at that time."""
    sources = build_sources(load_config())
    board = slo_view.load_board(sources, at_time, ResultCache())
    states = {s.name: s.state for s in board.statuses if s.domain == "filing"}
    definition = load_definition()
    return score(definition, gather_inputs(definition, sources.prometheus, at_time, states))


@pytest.mark.integration
def test_live_page_shows_what_app_readiness_computes(live_stack, monkeypatch):
    monkeypatch.setenv("SEXTANT_PROMETHEUS_URL", live_stack.prometheus_url)
    monkeypatch.setenv("SEXTANT_OPENSEARCH_URL", live_stack.opensearch_url)
    monkeypatch.setenv("SEXTANT_JAEGER_URL", live_stack.jaeger_url)
    for _ in range(3):  # the page evaluates at the current minute: retry if the minute turned meanwhile
        before = _minute()
        at = run_page(PAGE)
        if _minute() == before:
            break
    assert at.title[0].value == TITLE
    assert not at.error, [e.value for e in at.error]
    expected = computed_by_app_readiness(before)
    assert headline(at) == rv.format_score(expected.score)
    assert expected.score is not None  # the simulated platform has data
    tenants = next(d.value for d in at.dataframe if "held_back_by" in d.value.columns)
    assert sorted(tenants["tenant"]) == sorted(r.key for r in expected.tenants)
    assert len(trend_points(at)) == 12

"""The Filing readiness page under AppTest: on the shipped snapshot, on a snapshot recorded from a fake
Prometheus (exact figures, the tenant filter from the URL), with Prometheus down, and live on the real stack
(figures and score as the simulator's model implies them at that minute)."""

from __future__ import annotations

import itertools
import json
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from app import directory
from app.config import REPO_ROOT, load_config
from app.crawl import View
from app.deadlines import next_deadline
from app.readiness import ReadinessInputs, load_definition, score
from app.readiness import view as rv
from app.slo import view as slo_view
from app.sources import Sources, build_sources, snapshot
from app.sources.cache import ResultCache
from app.sources.unconfigured import NotConfiguredClient
from stack.simulator import model
from tests.conftest import metrics, record_views, run_page, texts
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


def chart_frames(chart) -> list[pd.DataFrame]:
    return [pa.ipc.open_stream(d.data.data).read_all().to_pandas() for d in chart.proto.datasets]


# -- the shipped snapshot ------------------------------------------------------------------------------------


def test_the_readiness_trend_is_one_chart_with_its_target_from_where_the_data_starts(snapshot_mode):
    """The overview, the Readiness page and the weekly review draw the same chart: the same layers and
    title, the definition's target as a rule labelled in words, and its first week the first with a score
    (the demo holds 30 days: the weeks before are not drawn as "no data")."""
    target = load_definition().target
    assert target == 90
    shapes, points, moments = {}, {}, {}
    for page in ("Overview.py", PAGE, "pages/3_Weekly_review.py"):
        at = run_page(page)
        (chart,) = [c for c in at.get("vega_lite_chart") if "Filing readiness" in c.proto.spec]
        spec = json.loads(chart.proto.spec)
        shapes[page] = (
            spec["title"]["text"],
            [{k: v for k, v in layer.items() if k != "data"} for layer in spec["layer"]],
        )
        frames = chart_frames(chart)
        (goal,) = [f for f in frames if "label" in f and f["label"].eq(f"Target {target:g}").any()]
        assert goal["value"].tolist() == [target]
        drawn = max(frames, key=len)
        first = drawn["timestamp"].min()
        assert drawn.loc[drawn["timestamp"] == first, "value"].notna().any(), page  # starts with a score
        moment, start = spec["title"]["subtitle"]
        assert start == f"From {first:%d %b}: no score before", page
        moments[page] = moment
        points[page] = drawn
    assert shapes["Overview.py"] == shapes[PAGE] == shapes["pages/3_Weekly_review.py"]
    # The overview and Readiness score at this hour each week, the weekly review at each week's end: each
    # says so, so that side by side their figures for "a week ago" do not read as disagreeing.
    recorded = snapshot.load(REPO_ROOT / "snapshots" / "demo.json.gz").recorded_at  # the pages' "now"
    hourly = f"Scored each {recorded:%a} at {recorded:%H}:00 UTC"
    assert moments[PAGE] == moments["Overview.py"] == (
        hourly if recorded.minute == 0 else f"{hourly}, the last at {recorded:%a %H:%M}"
    )
    assert moments["pages/3_Weekly_review.py"] == "Scored each Mon at 00:00 UTC"
    pd.testing.assert_frame_equal(points["Overview.py"], points[PAGE])  # the same instant, the same weeks


def test_page_on_the_shipped_snapshot(snapshot_mode):
    at = run_page(PAGE)
    assert at.title[0].value == TITLE


FIRM_IDS = {directory.name("tenant", t): t for t in model.TENANTS}  # the firms' names, back to their ids
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
        assert set(rows.index) == {directory.name("tenant", t) for t in model.TENANTS}, title
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
            row = rows.loc[directory.name("tenant", tenant)]
            shown = float(row["figure"].rstrip("%")) / 100
            value = min(candidates, key=lambda c: abs(shown - c))  # the scrape the page saw
            assert abs(shown - value) < 0.00006, (title, tenant, shown, candidates)
            assert row["status"] == ("pass" if value >= target else "fail"), (title, tenant)
            passing += value >= target
        assert checks.loc[title, "tenants_passing"] == f"{passing} of {len(model.TENANTS)}"


# -- a snapshot recorded from a fake Prometheus: exact figures ----------------------------------------------


class NamedFakePrometheus(FakePrometheus):
    name = "prometheus"


@pytest.fixture(scope="module")
def fake_snapshot(tmp_path_factory) -> Path:
    """What `make snapshot` records of the page's default view from the fake Prometheus."""
    sources = Sources(
        prometheus=NamedFakePrometheus(),
        opensearch=NotConfiguredClient("opensearch"),
        jaeger=NotConfiguredClient("jaeger"),
        mode="live",
    )
    path = tmp_path_factory.mktemp("snap") / f"readiness-{next(_unique)}.json.gz"
    return record_views(path, sources, AT, View.of("readiness"))


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
    # By hand: the filing SLOs have no data here, so 85 points are assessed; bright's approvals lose 7.5.
    assert headline(at) == rv.format_score(view.score.score) == "91.2"  # 77.5 / 85
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
    points = trend_points(at)  # 12 weeks asked; the fake holds scores for the last 4: the chart starts there
    assert len(points) == 4 and points["value"].notna().all()
    assert points["label"].iloc[-1] == headline(at)
    words = texts(at)
    assert "Approved by the accountant fell from pass to fail for 1 client firm (bright)" in words
    assert "Held back most by “Approved by the accountant”" in words
    assert [p.proto.popover.label for p in at.get("popover")] == ["Where does this number come from?"]
    assert "Evaluated at 28 Nov 2026 02:00 UTC" in words


def test_tenant_from_the_url_narrows_the_checks(on_fake_snapshot):
    at = run_page(PAGE, tenant="bright")
    assert at.selectbox(key="tenant").value == "bright"
    view = expected_on_fake()
    alone = rv.for_tenant(view.definition, view.evaluation.inputs, "bright")
    assert (
        metrics(at)["bright"]  # a firm without a display name is shown as its id
        == "82.4"  # by hand: 70 of its 85 assessed points (its approvals fail)
        == rv.format_score(alone.score)
        == rv.format_score(view.score.tenant("bright").score)
    )
    assert "Checks for bright" in [s.value for s in at.subheader]
    checks = next(d.value for d in at.dataframe if "why" in d.value.columns).set_index("check")
    assert checks.loc["Approved by the accountant", "figure"] == "50.00%"
    assert headline(at) == rv.format_score(view.score.score)  # the overall score is unchanged
    assert set(trend_points(at)["series"]) == {"all client firms", "bright"}


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


MINUTE = timedelta(minutes=1)


def shown_figure(text: str) -> tuple[float, float]:
    """A figure as the page shows it ("97.05%", "0.0581%", "0") and half a unit of its last digit."""
    number = text.removesuffix("%").replace(",", "")
    scale = 0.01 if text.endswith("%") else 1.0
    decimals = len(number.split(".")[1]) if "." in number else 0
    return float(number) * scale, 0.5 * 10**-decimals * scale


def matching(options: list[float | None], text: str, what: object, relative: float = 0.0) -> float | None:
    """The model's option the page shows (None for "no data"); fails when the page shows none of them, within
    the figure's rounding and `relative` of the option."""
    if text == "no data":
        assert None in options, (what, options)
        return None
    value, half_step = shown_figure(text)
    best = min((o for o in options if o is not None), key=lambda o: abs(o - value))
    within = half_step + relative * abs(best) + 1e-12
    assert abs(best - value) <= within, (what, text, sorted({o for o in options if o is not None}))
    return best


# A live scrape's sample is stamped seconds into its minute while the model's windows are whole minutes, so
# the span Prometheus divides a day's increase by can be up to a minute shorter: the throughput, and so a
# backlog's share, up to 1/1440 off (1.4e-4 seen, as the deadline nears and the share grows).
SCRAPE_IN_A_DAY = 60 / 86400


def recent(t: datetime) -> list[datetime]:
    """The minutes whose scrape an instant query at `t` can return: the newest sample within Prometheus's
    five-minute lookback (a minute apart; on a busy machine the last scrapes can be late or missed)."""
    return [t - k * MINUTE for k in (4, 3, 2, 1, 0)]


def windows(at_time: datetime, length: timedelta) -> list[tuple[datetime, datetime]]:
    """[at - length, at) with either end moved by up to two minutes: the first and last samples of a range
    vector can fall there."""
    return [(at_time - length + s * MINUTE, at_time + e * MINUTE) for s in range(-2, 3) for e in range(-2, 1)]


def model_inputs(stack, at_time: datetime, page: pd.DataFrame, slo_states: dict[str, str]):
    """What the readiness checks should read at `at_time`, from the simulator's model: component gauges and
    backlogs at the last scrape, counter ratios over the last hour and day. Of the few samples a query can
    land on, the one the page shows is picked, and it must be one of them. The SLO states are the SLO board's
    (a feature with its own golden tests), aggregated by hand."""
    m = model.get_model(stack.anchor, stack.seed)
    definition = load_definition()
    names = {item.display_name: item.name for item in definition.items}
    firms = page["tenant"].map(FIRM_IDS.get).fillna(page["tenant"])  # the page shows firms by name
    figure = {(names[c], t): f for c, t, f in zip(page["check"], firms, page["figure"], strict=True)}
    values: dict[str, object] = {}
    for component in COMPONENT_CHECKS.values():
        values[component] = {
            t: matching(
                [
                    m.gauge_value(
                        "filing_readiness_component_ratio", {"tenant": t, "component": component}, u
                    )
                    for u in recent(at_time)
                ],
                figure[(component, t)],
                (component, t),
            )
            for t in model.TENANTS
        }

    def ratio(metric: str, part: dict[str, str], length: timedelta) -> list[float | None]:
        out = []
        for start, end in windows(at_time, length):
            total = m.counter_increase(metric, None, start, end)
            out.append(m.counter_increase(metric, part, start, end) / total if total else None)
        return out

    hmrc = ratio("hmrc_submissions_total", {"result": "error"}, timedelta(hours=1))
    values["hmrc_api_error_rate"] = matching(
        hmrc, figure[("hmrc_api_error_rate", "all client firms")], "hmrc"
    )
    headers = ratio("fraud_prevention_headers_total", {"result": "complete"}, timedelta(hours=1))
    gate = "fraud_prevention_headers_complete"
    values[gate] = matching(headers, figure[(gate, "all client firms")], gate)
    # Documents extracted per hour over the last day, shared by the tenants; hours to the calendar's VAT
    # deadline (app.deadlines, checked by hand in test_deadlines.py).
    hourly = [
        m.counter_increase("extraction_documents_total", None, start, end)
        / (end - start).total_seconds()
        * 3600
        / len(model.TENANTS)
        for start, end in windows(at_time, timedelta(days=1))
    ]
    hours = (next_deadline(at_time, "vat").closes_at - at_time).total_seconds() / 3600
    values["backlog_before_deadline"] = {
        t: matching(
            [
                m.gauge_value("tenant_backlog_documents", {"tenant": t}, u) / (rate * hours)
                for u in recent(at_time)
                for rate in hourly
            ],
            figure[("backlog_before_deadline", t)],
            ("backlog", t),
            SCRAPE_IN_A_DAY,
        )
        for t in model.TENANTS
    }
    known = [s for s in slo_states.values() if s != "no data"]
    all_known = len(known) == len(slo_states)
    values["filing_slos_healthy"] = known.count("healthy") / len(known) if all_known else None
    exhausted = known.count("exhausted")
    values["no_exhausted_filing_slo"] = float(exhausted) if all_known or exhausted else None
    return ReadinessInputs(values=values, tenants=model.TENANTS, at=at_time)  # type: ignore[arg-type]


@pytest.mark.integration
def test_live_page_shows_the_score_the_simulators_model_implies(live_mode):
    for _ in range(3):  # the page evaluates at the current minute: retry if the minute turned meanwhile
        before = _minute()
        at = run_page(PAGE)
        if _minute() == before:
            break
    assert at.title[0].value == TITLE
    assert not at.error, [e.value for e in at.error]
    per_tenant = at.dataframe[0].value
    board = slo_view.load_board(build_sources(load_config()), before, ResultCache())
    states = {s.name: s.state for s in board.statuses if s.domain == "filing"}
    assert states == dict(zip(at.dataframe[1].value["slo"], at.dataframe[1].value["state"], strict=True))
    definition = load_definition()
    expected = score(definition, model_inputs(live_mode, before, per_tenant, states))
    assert expected.score is not None  # the simulated platform has data
    assert headline(at) == rv.format_score(expected.score)
    names = {item.display_name: item.name for item in definition.items}
    for check, tenant, status in zip(
        per_tenant["check"], per_tenant["tenant"], per_tenant["status"], strict=True
    ):
        result = expected.result(names[check])
        tenant = FIRM_IDS.get(tenant, tenant)
        want = result.status if tenant == "all client firms" else result.tenants[tenant].status
        assert status == rv.status_label(want), (check, tenant)
    tenants = next(d.value for d in at.dataframe if "held_back_by" in d.value.columns)
    tenants = tenants.assign(tenant=tenants["tenant"].map(FIRM_IDS)).set_index("tenant")
    assert sorted(tenants.index) == sorted(model.TENANTS)
    for row in expected.tenants:
        assert tenants.loc[row.key, "score"] == pytest.approx(row.score), row.key
    points = trend_points(at)  # 12 weeks asked; drawn from the first with a score (the stack holds 30 days)
    assert 1 <= len(points) <= 12 and pd.notna(points["value"].iloc[0])

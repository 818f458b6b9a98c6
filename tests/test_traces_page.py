"""The Traces page under AppTest: on the shipped snapshot, on a snapshot recorded from fakes (table, trace
detail, logs, one backend failing), links that reproduce the view, and live against the real stack."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest

from app import traces
from app.config import REPO_ROOT
from app.crawl import View
from app.sources import Sources, snapshot
from app.sources.cache import ResultCache
from app.sources.jaeger import Trace
from app.sources.snapshot import Recorder
from stack.simulator import events, model
from stack.simulator.model import hmrc_outage_start
from tests import big_trace
from tests.conftest import UNASKED, record_views, run_link, run_page
from tests.test_logs import FakeOpenSearch, log_line
from tests.test_traces import NOW, TRACE_ID, FakeJaeger

PAGE = "pages/10_Traces.py"


class NamedJaeger(FakeJaeger):
    name = "jaeger"


class NamedOpenSearch(FakeOpenSearch):
    name = "opensearch"


def trace_lines() -> list[dict]:
    """Log lines of two traces: three of the slowest trace "bb", two of TRACE_ID."""
    return [log_line(1000 + k, trace_id="bb") for k in range(3)] + [
        log_line(2000 + k, trace_id=TRACE_ID) for k in range(2)
    ]


def record_snapshot(path: Path, what: View | Callable[[Sources], None], jaeger=None, opensearch=None) -> Path:
    """A snapshot file of fake backends' answers at NOW: what a page asks to draw a view (recorded as
    `make snapshot` does), or what a loader asks (`what(sources)`: a view no address leads to)."""
    live = Sources(
        prometheus=UNASKED,
        opensearch=opensearch or NamedOpenSearch(20, extra=trace_lines()),
        jaeger=jaeger or NamedJaeger(),
        mode="live",
    )
    if isinstance(what, View):
        return record_views(path, live, NOW, what)
    recorder = Recorder()
    recording = replace(live, opensearch=recorder.wrap(live.opensearch), jaeger=recorder.wrap(live.jaeger))
    what(recording)
    return recorder.save(path, recorded_at=NOW)


def test_page_runs_on_the_shipped_snapshot(snapshot_mode):
    at = run_page(PAGE)
    assert not at.exception
    assert at.title[0].value == "Traces"


def test_traces_on_the_snapshot_are_the_ones_the_simulator_sent(snapshot_mode):
    """Every trace listed has the root, span count, duration and error flag of the trace the simulator
    generated with that id (seed 7, the snapshot's anchor)."""
    shipped = snapshot.load(REPO_ROOT / "snapshots" / "demo.json.gz")
    generator = events.EventGenerator(shipped.anchor, 7)
    last_day = model.get_model(shipped.anchor, 7).minute(shipped.anchor) // model.DAY_MINUTES
    sent = {
        f"{spans[0].trace_id:032x}": spans
        for day in (last_day - 2, last_day - 1, last_day)
        for spans in generator.day(day, with_audit=False).traces
    }
    table = run_page(PAGE).dataframe[0].value
    assert len(table) > 10
    for row in table.itertuples():
        spans = sent[row.trace_id]
        root = next(s for s in spans if s.parent_id is None)
        assert (row.root_service, row.root_operation) == (root.service, root.name)
        assert row.span_count == len(spans)
        duration_ms = (max(s.end_ns for s in spans) - min(s.start_ns for s in spans)) / 1e6
        assert row.duration_ms == pytest.approx(duration_ms, abs=0.001)
        assert row.error == any(s.error for s in spans)
        assert set(row.services.split(", ")) == {s.service for s in spans}


@pytest.fixture
def fake_snapshot(snapshot_mode, tmp_path, request):
    def make(what: View | Callable[[Sources], None], **fakes) -> Path:
        path = record_snapshot(tmp_path / f"{request.node.name}.json.gz", what, **fakes)
        snapshot_mode.setenv("SEXTANT_SNAPSHOT", str(path))
        return path

    return make


def test_default_view_lists_the_traces_of_the_entry_service(fake_snapshot):
    fake_snapshot(View.of("traces"))
    at = run_page(PAGE)
    assert not at.exception and not at.error
    table = at.dataframe[0].value
    assert list(table["trace_id"]) == ["bb", "aa", "cc"]  # slowest first
    assert at.selectbox(key="service").value == "gateway"
    assert at.code[0].value == "Traces?service=gateway"


def test_a_trace_from_the_url_shows_its_waterfall_spans_and_logs(fake_snapshot):
    fake_snapshot(View.of("traces", service="gateway", trace="bb"))
    at = run_page(PAGE, service="gateway", trace="bb")
    assert not at.exception and not at.error
    assert at.subheader[1].value == "Trace bb"
    spec = at.get("vega_lite_chart")[0].proto.spec
    assert '"hconcat"' in spec and "datum.error" in spec
    spans = at.dataframe[1].value
    assert list(spans["service"]) == ["gateway", "filing", "filing", "filing", "assistant"]
    assert {m.label: m.value for m in at.metric}["Failed spans"] == "2"
    lines = at.dataframe[-1].value
    assert list(lines["message"]) == ["line 1002", "line 1001", "line 1000"]  # the trace's own, oldest first
    assert at.code[0].value == "Traces?service=gateway&trace=bb"


def test_jaeger_down_keeps_the_trace_logs(fake_snapshot):
    view = traces.TraceView(service="filing", trace_id=TRACE_ID)
    fake_snapshot(
        lambda s: (traces.load_services(s, ResultCache()), traces.load(s, view, NOW, ResultCache())),
        jaeger=NamedJaeger(fail=True),
    )
    at = run_page(PAGE, service="filing", trace=TRACE_ID)
    assert not at.exception
    banners = [e.value for e in at.error]
    assert len(banners) == 1 and "Jaeger is not answering" in banners[0]
    assert list(at.dataframe[-1].value["message"]) == ["line 2001", "line 2000"]  # the logs still show


def test_not_a_trace_id_is_refused_politely(fake_snapshot):
    fake_snapshot(View.of("traces"))
    at = run_page(PAGE, trace="<script>")
    assert not at.exception
    assert any("not a trace id" in w.value for w in at.warning)


@pytest.mark.parametrize(
    "view",
    [
        traces.TraceView(service="filing"),
        traces.TraceView(
            service="filing",
            operation="hmrc.submit",
            preset="7d",
            errors_only=True,
            min_duration="1s",
            sort="time",
            trace_id=TRACE_ID,
        ),
        traces.TraceView(
            service="gate way&x", start=NOW - timedelta(hours=60), end=NOW - timedelta(hours=56)
        ),
    ],
    ids=["service", "every-param", "window"],
)
def test_the_link_reproduces_the_view(snapshot_mode, view):
    """Open the page with the link's parameters: the widgets take them, and the page shows the same link."""
    link = traces.trace_link(view)
    at = run_link(PAGE, link)
    assert not at.exception
    assert at.code[0].value == link
    assert at.selectbox(key="service").value == view.service
    assert at.checkbox(key="errors_only").value is view.errors_only
    assert at.sidebar.selectbox(key="range").value == view.preset


# -- live: the real stack --------------------------------------------------------------------------------


@pytest.mark.integration
def test_live_filing_errors_in_the_hmrc_outage_are_hmrc_submit_failures(live_mode):
    start = hmrc_outage_start(live_mode.anchor)
    end = start + timedelta(hours=4)
    view = traces.TraceView(service="filing", errors_only=True, start=start, end=end)
    at = run_link(PAGE, traces.trace_link(view))
    assert not at.exception and not at.error
    table = at.dataframe[0].value
    assert len(table) > 0 and table["error"].all()
    assert all(start <= t.to_pydatetime() < end + timedelta(minutes=1) for t in table["start"])

    slowest = str(table["trace_id"].iloc[0])
    at = run_link(PAGE, traces.trace_link(replace(view, trace_id=slowest)))
    assert not at.exception and not at.error
    spans = at.dataframe[1].value
    failed = spans[spans["error"]]
    assert "hmrc.submit" in set(spans["label"].str.strip().str.split(" ").str[0])
    assert any(
        "hmrc.submit" in label and "SERVICE_UNAVAILABLE" in detail
        for label, detail in zip(failed["label"], failed["detail"], strict=True)
    )
    lines = at.dataframe[-1].value
    assert len(lines) > 0 and set(lines["trace_id"]) == {slowest}
    assert any("SERVICE_UNAVAILABLE" in m for m in lines["message"])


@pytest.mark.integration
def test_live_default_view_has_traces(live_mode):
    at = run_page(PAGE, range="24h")
    assert not at.exception and not at.error
    assert at.selectbox(key="service").value == "gateway"
    assert len(at.dataframe[0].value) > 0


class BigJaeger(NamedJaeger):
    """A trace of 10,000 spans (`tests.big_trace`) whatever id is asked."""

    def trace(self, trace_id):
        started = int(pd.Timestamp(NOW - timedelta(hours=1)).value)
        return Trace(trace_id, big_trace.spans_frame(big_trace.big_trace(10_000, started)))


def test_a_trace_of_10000_spans_is_grouped_and_says_so(fake_snapshot):
    fake_snapshot(View.of("traces", service="gateway", trace="b16"), jaeger=BigJaeger())
    at = run_page(PAGE, service="gateway", trace="b16")
    assert not at.exception and not at.error
    figures = {m.label: m.value for m in at.metric}
    assert figures["Spans"] == "10,000" and figures["Failed spans"] == "17"
    said = [i.value for i in at.info if "spans shown as" in i.value]
    assert len(said) == 1 and said[0].startswith("10,000 spans shown as ")
    shown = at.dataframe[1].value
    assert len(shown) <= traces.CHART_MAX_SPANS and shown["spans"].sum() == 10_000
    assert int(shown["error"].sum()) == 17  # every failure its own row
    assert shown.loc[shown["label"].str.contains("prepare return"), "count"].max() > 1_000
    box = at.checkbox(key="all_spans")
    box.check().run()
    assert not at.exception
    assert len(at.dataframe[1].value) == 10_000
    assert "all_spans=true" in at.code[0].value
    again = run_page(PAGE, service="gateway", trace="b16", all_spans="true")  # the link opens it so
    assert not again.exception and again.checkbox(key="all_spans").value
    assert len(again.dataframe[1].value) == 10_000

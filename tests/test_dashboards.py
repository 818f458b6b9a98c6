"""The dashboards loader on fake backends: frames in, panel data out; variables narrow the queries; one
failing backend costs only its own panels; incidents become clipped annotations."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pandas as pd

from app import dashboards, directory
from app.dashboards import draw
from app.dashboards import spec as panels
from app.dashboards.spec import ALL, variable_regex
from app.sources import Sources
from app.sources.cache import ResultCache
from app.sources.errors import BackendUnavailable
from app.sources.prometheus import QueryResult
from app.timerange import time_range
from tests.fake_opensearch import MemoryOpenSearch

NOW = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
ROUTES = ("/ingest/bank-feed", "/ingest/document")
TENANTS = ("acme-accounts", "cobalt-cpa")


ACCURACY = {"invoice": 0.95, "receipt": 0.91, "bank_statement": 0.97, "payslip": 0.96}  # receipts miss 95%
HMRC_ERRORS = {"vat": 0.004, "itsa": 0.03}  # ITSA misses the 2% SLO
FRAUD_HEADERS_COMPLETE = 0.998  # short of HMRC's 100%


def _value(query: str, row: dict[str, str]) -> float:
    """A recognisable figure per question, and per label where a page compares it with a target."""
    if "histogram_quantile(0.5," in query:
        return 0.35
    if "histogram_quantile(0.95," in query:
        return 1.2
    if "histogram_quantile(0.99," in query:
        return 2.4
    if 'outcome="correct"' in query:
        return ACCURACY[row["document_type"]]
    if 'hmrc_submissions_total{result="error"}' in query:
        return HMRC_ERRORS[row["kind"]]
    if 'fraud_prevention_headers_total{result="complete"}' in query:
        return FRAUD_HEADERS_COMPLETE
    if 'result="within_sla"' in query:
        return 0.96
    if 'rating="positive"' in query:
        return 0.85
    if 'code=~"5.."' in query:
        return 0.001
    if "queue_oldest_item_age_seconds" in query:
        return 40.0
    if "queue_depth" in query:
        return 42.0
    if "filing_readiness_component_ratio" in query:
        return 0.97
    return 3.0  # rates and counts


def _labels(query: str) -> dict[str, list[str]]:
    """The label columns a query's `by (…)` would return, honouring a route/tenant regex matcher."""
    match = re.search(r"by \(([^)]*)\)", query)
    names = [n.strip() for n in match.group(1).split(",")] if match else []
    names = [n for n in names if n != "le"]
    values = {
        "route": list(ROUTES),
        "tenant": list(TENANTS),
        "queue": ["ingestion"],
        "document_type": list(ACCURACY),
        "kind": list(HMRC_ERRORS),
    }
    out = {}
    for name in names:
        picked = values.get(name, ["x"])
        regex = re.search(rf'{name}=~"((?:[^"\\]|\\.)*)"', query)
        if regex and regex.group(1) != ".*" and name in ("route", "tenant", "document_type"):
            wanted = regex.group(1).replace("\\\\", "\\")
            picked = [v for v in picked if re.fullmatch(wanted, v)]
        out[name] = picked
    return out


class FakePrometheus:
    url = "fake://prometheus"

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.calls: list[tuple[str, str]] = []

    def _frame(self, query: str) -> pd.DataFrame:
        labels = _labels(query)
        rows = [{}]
        for name, values in labels.items():
            rows = [{**row, name: value} for row in rows for value in values]
        return pd.DataFrame([{**row, "value": _value(query, row)} for row in rows])

    def instant(self, query, at=None):
        self.calls.append(("instant", query))
        if self.fail:
            raise BackendUnavailable("prometheus", "connection refused")
        return QueryResult(self._frame(query))

    def rules(self):  # no generated alert rules loaded: SLO alerts come from the burn-rate computation
        self.calls.append(("rules", ""))
        if self.fail:
            raise BackendUnavailable("prometheus", "connection refused")
        return []

    def alerts(self):
        self.calls.append(("alerts", ""))
        if self.fail:
            raise BackendUnavailable("prometheus", "connection refused")
        return []

    def range(self, query, start, end, step=None):
        self.calls.append(("range", query))
        if self.fail:
            raise BackendUnavailable("prometheus", "connection refused")
        stamps = pd.date_range(start, end, periods=3, tz=UTC)
        frame = self._frame(query)
        return QueryResult(frame.merge(pd.DataFrame({"timestamp": stamps}), how="cross"))


INCIDENTS = [
    {
        "name": "vat_backlog",
        "title": "VAT deadline backlog",
        "start": "2026-11-27T16:00:00Z",
        "end": "2026-11-28T04:00:00Z",
        "services": ["extraction", "reconciliation"],
        "description": "Queue backlog before the VAT deadline.",
    },
    {
        "name": "hmrc_outage",
        "title": "HMRC API outage",
        "start": "2026-11-25T14:00:00Z",
        "end": "2026-11-25T18:00:00Z",
        "services": ["filing"],
        "description": "HMRC answers 503.",
    },
    {
        "name": "secret_rotation_overdue",
        "title": "Secret rotation overdue",
        "start": "2026-11-21T02:00:00Z",
        "end": None,
        "services": ["filing"],
        "description": "Static.",
    },
]


class FakeOpenSearch(MemoryOpenSearch):
    """The `incidents` index holding INCIDENTS; each search answers what its query selects."""

    def __init__(self, fail: bool = False) -> None:
        super().__init__({"incidents": [{"_id": d["name"], "_source": d} for d in INCIDENTS]}, fail)


class FakeJaeger:
    url = "fake://jaeger"
    name = "jaeger"


def make_sources(prom=None, search=None) -> Sources:
    return Sources(
        prometheus=prom or FakePrometheus(),
        opensearch=search or FakeOpenSearch(),
        jaeger=FakeJaeger(),
        mode="live",
    )


# -- variables -----------------------------------------------------------------------------------------------


def test_variable_choices_come_from_label_values_or_the_fixed_set():
    prom = FakePrometheus()
    tr = time_range("24h", NOW)
    choices = dashboards.variable_choices(
        make_sources(prom), panels.dashboard("ingestion"), tr, ResultCache()
    )
    assert choices["route"].values == ROUTES
    assert choices["tenant"].values == TENANTS
    assert len(prom.calls) == 2  # one label-values question per variable
    assert all(kind == "instant" and "[24h]" in q for kind, q in prom.calls)
    fixed = dashboards.variable_choices(make_sources(), panels.dashboard("extraction"), tr, ResultCache())
    assert fixed["document_type"].values == ("invoice", "receipt", "bank_statement", "payslip")
    assert fixed["document_type"].outcome is None


def test_variable_choices_when_prometheus_fails():
    board = panels.dashboard("ingestion")
    choices = dashboards.variable_choices(
        make_sources(FakePrometheus(fail=True)), board, time_range("1h", NOW), ResultCache()
    )
    assert choices["route"].values == ()
    assert "connection refused" in choices["route"].error.message


# -- panels ------------------------------------------------------------------------------------------------


def test_load_turns_frames_into_panel_data():
    prom = FakePrometheus()
    board = panels.dashboard("ingestion")
    view = dashboards.load(make_sources(prom), board, time_range("24h", NOW), cache=ResultCache())
    assert [p.panel.id for p in view.panels] == [p.id for p in board.panels]
    assert not view.problems

    latency = view.panel("latency")
    assert set(latency.frame["series"]) == {"p50", "p95", "p99"}
    assert "p95 · /ingest/document" in set(latency.frame["legend"])
    assert {"timestamp", "value", "route"} <= set(latency.frame.columns)
    figures = latency.figures.set_index("legend")["value"]
    assert figures["p50 · /ingest/bank-feed"] == 0.35 and figures["p99 · /ingest/document"] == 2.4
    assert not latency.figures_now

    depth = view.panel("queue_depth")
    assert depth.figures_now and depth.figures["value"].tolist() == [42.0]

    bars = view.panel("documents_ingested")
    assert bars.figures is None
    assert set(bars.frame["legend"]) == {directory.name("tenant", t) for t in TENANTS}

    # Curves over the range with a rate window fitted to the step; figures over the whole range.
    curves = [q for kind, q in prom.calls if kind == "range"]
    figures_q = [q for kind, q in prom.calls if kind == "instant"]
    assert curves and all("[24h]" not in q for q in curves)
    assert any("[24h]" in q for q in figures_q)
    http = [q for _, q in prom.calls if 'service="ingestion"' in q]
    assert http and all('route=~".*"' in q for q in http)


def test_a_service_of_many_routes_draws_its_worst_routes_and_the_rest_as_others(monkeypatch):
    many = tuple(f"/ingest/document/v{i}" for i in range(1, 13))
    monkeypatch.setattr(f"{__name__}.ROUTES", many)
    view = dashboards.load(
        make_sources(), panels.dashboard("ingestion"), time_range("24h", NOW), ResultCache()
    )
    latency = view.panel("latency")  # 3 quantiles of 12 routes: 3 routes and "others", 12 lines
    reduced = draw.fewest_lines(latency)
    assert reduced.frame["legend"].nunique() == 12 and (reduced.kept, reduced.folded) == (3, 9)
    assert {"p50 · others", "p95 · others", "p99 · others"} <= set(reduced.frame["legend"])
    others = reduced.frame[reduced.frame["legend"] == "p99 · others"]
    assert others["value"].tolist() == [2.4] * 3  # the highest of the rest
    assert draw.lines_note(reduced, latency) == (
        "The 3 routes with the highest figure over the range; "
        'the other 9 drawn as "others" (the highest of them).'
    )
    throughput = draw.fewest_lines(view.panel("throughput"))  # one series: 10 routes and the rest summed
    assert throughput.frame[throughput.frame["legend"] == "others"]["value"].tolist() == [6.0] * 3
    assert len(latency.figures) == 36  # the table of figures above the chart keeps every route


def test_a_variable_narrows_every_panel_that_has_the_label():
    prom = FakePrometheus()
    board = panels.dashboard("ingestion")
    view = dashboards.load(
        make_sources(prom), board, time_range("6h", NOW), {"route": "/ingest/document"}, ResultCache()
    )
    narrowed = rf'route=~"{variable_regex("/ingest/document")}"'.replace("\\", "\\\\")
    http = [q for _, q in prom.calls if 'service="ingestion"' in q]
    assert http and all(narrowed in q for q in http)
    assert set(view.panel("throughput").frame["route"]) == {"/ingest/document"}
    assert view.panel("latency").applies("route") and not view.panel("queue_depth").applies("route")
    per_tenant = [q for _, q in prom.calls if "tenant=~" in q]
    assert per_tenant and all('tenant=~".*"' in q for q in per_tenant)
    assert view.values == {"route": "/ingest/document", "tenant": ALL}


def test_an_injection_attempt_matches_nothing_and_changes_no_query():
    prom = FakePrometheus()
    board = panels.dashboard("ingestion")
    evil = '.*"} or vector(1) or up{a=~"'
    view = dashboards.load(make_sources(prom), board, time_range("1h", NOW), {"route": evil}, ResultCache())
    assert view.panel("throughput").frame.empty  # no route is literally that text
    for _, query in prom.calls:
        assert "or vector(1)" not in query and "or up{" not in query


def test_a_failing_prometheus_degrades_only_its_panels():
    board = panels.dashboard("tax")
    view = dashboards.load(
        make_sources(FakePrometheus(fail=True)), board, time_range("24h", NOW), cache=ResultCache()
    )
    assert view.problems and all(backend == "prometheus" for backend, _ in view.problems)
    assert len(view.panels) == len(board.panels)
    assert all(p.frame.empty and p.error is not None for p in view.panels)
    assert not view.incidents.empty and view.incidents_error is None  # OpenSearch still answered


def test_a_failing_opensearch_costs_only_the_annotations():
    board = panels.dashboard("tax")
    view = dashboards.load(
        make_sources(search=FakeOpenSearch(fail=True)), board, time_range("24h", NOW), cache=ResultCache()
    )
    assert not view.problems
    assert len(view.panels) == len(board.panels)
    assert all(not p.frame.empty for p in view.panels)
    assert view.incidents.empty and "connection refused" in view.incidents_error.message


def test_last_good_values_are_kept_when_prometheus_goes_down():
    clock = [0.0]
    cache = ResultCache(clock=lambda: clock[0])
    prom = FakePrometheus()
    board = panels.dashboard("assistant")
    tr = time_range("1h", NOW)
    dashboards.load(make_sources(prom), board, tr, cache=cache)
    clock[0] += dashboards.TTL_S + 1
    prom.fail = True
    view = dashboards.load(make_sources(prom), board, tr, cache=cache)
    assert view.problems and all(o.stale for _, o in view.problems)
    answers = view.panel("answers")
    assert not answers.frame.empty and answers.error is not None and answers.stale_since is not None


def test_tables_and_series_of_the_tax_page():
    view = dashboards.load(
        make_sources(), panels.dashboard("tax"), time_range("7d", NOW), cache=ResultCache()
    )
    obligations = view.panel("obligations")
    assert set(obligations.frame["series"]) == {"due", "ready"}
    assert {"tenant", "obligation"} <= set(obligations.frame.columns)
    outcomes = view.panel("hmrc_outcomes")
    assert {"result", "error_code"} <= set(outcomes.frame.columns)


# -- incidents ---------------------------------------------------------------------------------------------


def test_incidents_overlapping_the_range_are_clipped_and_filtered_by_service():
    search = FakeOpenSearch()
    tr = time_range("7d", NOW)
    view = dashboards.load(make_sources(search=search), panels.dashboard("tax"), tr, cache=ResultCache())
    index, body = search.requests[0]
    assert index == "incidents"
    assert "2026-11-28T02:00:00Z" in str(body) and "2026-11-21T02:00:00Z" in str(body)
    titles = view.incidents["title"].tolist()
    assert titles == ["Secret rotation overdue", "HMRC API outage", "VAT deadline backlog"]
    backlog = view.incidents.iloc[2]
    assert backlog["end"] == pd.Timestamp(NOW)  # clipped to the range
    assert view.incidents.iloc[0]["end"] == pd.Timestamp(NOW)  # ongoing: lasts to the end of the range
    assert view.incidents["ongoing"].tolist() == [True, False, False]

    ingestion = dashboards.load(
        make_sources(), panels.dashboard("ingestion"), tr, cache=ResultCache()
    ).incidents
    assert ingestion.empty  # no scenario touches the ingestion service

    hour = time_range("1h", NOW)
    answer = dashboards.load(
        make_sources(), panels.dashboard("tax"), hour, cache=ResultCache()
    ).incidents_outcome
    # The search itself asks for what overlaps the hour: the outage of three days ago is not fetched.
    assert answer.value.hits["name"].tolist() == ["secret_rotation_overdue", "vat_backlog"]
    short = dashboards.incident_frame(answer, ("filing",), hour)
    assert short["name"].tolist() == ["secret_rotation_overdue"]


def test_incident_frame_without_an_answer():
    tr = time_range("1h", NOW)
    assert dashboards.incident_frame(None, ("filing",), tr).empty


# -- the snapshot ------------------------------------------------------------------------------------------


def test_the_same_questions_hit_the_cache():
    prom = FakePrometheus()
    cache = ResultCache()
    board = panels.dashboard("extraction")
    tr = time_range("24h", NOW)
    dashboards.load(make_sources(prom), board, tr, cache=cache)
    asked = len(prom.calls)
    dashboards.load(make_sources(prom), board, tr, cache=cache)
    assert len(prom.calls) == asked
    dashboards.load(make_sources(prom), board, tr, {"document_type": "invoice"}, cache)
    assert len(prom.calls) > asked
    assert time_range("24h", NOW + timedelta(seconds=30)) == tr

"""The Readiness page's loader and view helpers, on a fake Prometheus (no stack needed)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pandas as pd
import pytest

from app import overview, queries
from app.readiness import Status, load_definition
from app.readiness import view as rv
from app.slo.model import DOMAIN_TITLES
from app.sources import Sources
from app.sources.cache import ResultCache
from app.sources.errors import BackendUnavailable, QueryRejected, SnapshotMiss
from app.sources.prometheus import QueryResult
from app.sources.unconfigured import NotConfiguredClient
from tests.readiness_support import vector

AT = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
DEFINITION = load_definition()
TENANTS_QUERY = DEFINITION.tenants_query
QUERY = {c.name: c.query for c in DEFINITION.items if c.query}
FIRST_DATA = queries.render("readiness", "first_data")
WEEKS_WITH_DATA = 4  # world() has data from 3 weeks ago
THROUGHPUT = DEFINITION.item("backlog_before_deadline").throughput_query
HEALTHY_SLOS = {"hmrc-submissions": "healthy", "filing-latency": "healthy"}
COMPONENTS = ("documents_ingested", "extracted_above_target", "reconciled_within_sla", "approved")


def weeks_ago(at: datetime) -> int:
    return round((AT - at) / timedelta(weeks=1))


def world(at: datetime) -> dict[str, list[dict]]:
    """The platform by week: no data before 4 weeks ago, headers incomplete 2 weeks ago, bright behind now."""
    ago = weeks_ago(at)
    if ago > 3:
        return {}
    approved_bright = 0.5 if ago == 0 else 0.9
    table = {
        FIRST_DATA: [{"value": (AT - timedelta(weeks=3, hours=1)).timestamp()}],
        TENANTS_QUERY: [
            {"tenant": "acme", "value": 10},
            {"tenant": "bright", "value": 5},
            {"tenant": "cobalt", "value": 0},
        ],
        THROUGHPUT: [{"value": 100}],
        QUERY["backlog_before_deadline"]: [
            {"tenant": "acme", "value": 100},
            {"tenant": "bright", "value": 200},
        ],
        QUERY["hmrc_api_error_rate"]: [{"value": 0.01}],
        QUERY["fraud_prevention_headers_complete"]: [{"value": 0.99 if ago == 2 else 1.0}],
    }
    for component in COMPONENTS:
        table[QUERY[component]] = [
            {"tenant": "acme", "value": 0.99},
            {"tenant": "bright", "value": approved_bright if component == "approved" else 0.97},
            {"tenant": "cobalt", "value": 0.99},
        ]
    return table


class FakePrometheus:
    """`instant(query, at)` answers from `answer(query, at)`: rows, or an exception to raise."""

    url = "http://fake-prometheus"

    def __init__(self, answer=None) -> None:
        self.answer = answer or (lambda query, at: world(at).get(query, []))
        self.calls: list[tuple[str, datetime]] = []
        self._lock = threading.Lock()

    def instant(self, query: str, at: datetime | None = None) -> QueryResult:
        with self._lock:
            self.calls.append((query, at))
        got = self.answer(query, at)
        if isinstance(got, Exception):
            raise got
        return QueryResult(vector(got), ())

    def rules(self) -> list:  # no generated alert rules: SLO alerts come from the burn-rate computation
        return []

    def alerts(self) -> list:
        return []


def sources(prom: FakePrometheus, mode: str = "live") -> Sources:
    return Sources(
        prometheus=prom,  # type: ignore[arg-type]
        opensearch=NotConfiguredClient("opensearch"),
        jaeger=NotConfiguredClient("jaeger"),
        mode=mode,  # type: ignore[arg-type]
    )


def healthy_states(_at: datetime) -> dict[str, str]:
    return dict(HEALTHY_SLOS)


def load(prom: FakePrometheus, cache: ResultCache | None = None, at: datetime = AT, states=healthy_states):
    return rv.load(sources(prom), at, ResultCache() if cache is None else cache, slo_states_at=states)


def test_the_score_now_is_what_the_world_implies_worked_by_hand():
    """world(AT) against slo_definitions/readiness.yaml, by hand. cobalt has nothing due, so its tenant
    checks do not apply; acme and bright are assessed. Every check passes for both (ratios 0.97 to 0.99
    against 0.9 or 0.95, HMRC errors 1% against 5%, both filing SLOs healthy, backlogs of 1 and 2 hours of
    throughput with over a week to the 7 December VAT deadline) except "Approved by the accountant": bright
    0.50 against 0.80 loses half of its 15 points. 100 - 7.5 = 92.5; neither gate fails (headers 100%, no
    filing SLO exhausted)."""
    view = load(FakePrometheus())
    assert view.problems == []
    assert view.score is not None and view.score.score == pytest.approx(92.5)
    assert rv.format_score(view.score.score) == "92.5"
    assert view.score.cap is None and view.score.held_back_by == ("approved",)
    # Per tenant: bright loses the 15 points of its approvals; cobalt keeps the platform checks (25 of 25).
    tenants = {row.key: row.score for row in view.score.tenants}
    assert tenants == {"acme": pytest.approx(100), "bright": pytest.approx(85), "cobalt": pytest.approx(100)}
    # Per domain: filing holds approvals (7.5 of 15), its SLOs (15) and HMRC errors (10): 32.5 of 40.
    domains = {row.key: row.score for row in view.score.domains}
    assert domains == {
        "ingestion": pytest.approx(100),
        "extraction": pytest.approx(100),
        "reconciliation": pytest.approx(100),
        "filing": pytest.approx(81.25),
    }
    assert view.evaluation is not None and view.evaluation.slo_states == HEALTHY_SLOS


def test_one_query_per_check_and_week_all_cached_under_mode_url_and_time():
    prom = FakePrometheus()
    cache = ResultCache()
    view = load(prom, cache)
    per_evaluation = 9  # tenants + 7 Prometheus checks and gates + the backlog's throughput
    # The world's data starts 3 weeks ago: 4 week ends are asked, the 8 before cost nothing, plus the one
    # query that finds where the data starts.
    asked = per_evaluation * WEEKS_WITH_DATA + 1
    assert len(prom.calls) == asked == view.requests
    assert {at for _, at in prom.calls} == set(view.trend_times[-WEEKS_WITH_DATA:])
    load(prom, cache)
    assert len(prom.calls) == asked  # served from the cache
    load(prom, cache, at=AT + timedelta(minutes=1))
    # another minute: the current score is asked again; the earlier week ends are the same hours, kept
    assert len(prom.calls) == asked + per_evaluation
    load(prom, cache, at=AT + timedelta(hours=1))
    assert len(prom.calls) == 2 * asked + per_evaluation  # another hour: every week end asked again
    rv.load(sources(prom, mode="snapshot"), AT, cache, slo_states_at=healthy_states)
    assert len(prom.calls) == 3 * asked + per_evaluation  # another mode: not mixed up


def test_trend_has_twelve_weeks_ending_with_the_current_score():
    view = load(FakePrometheus())
    trend = view.trend
    assert len(trend) == rv.TREND_WEEKS
    assert [t for t, _ in trend] == [AT - timedelta(weeks=k) for k in range(11, -1, -1)]
    assert trend[-1][1] is view.score
    frame = rv.trend_frame(view)
    assert len(frame) == 12 and list(frame["series"].unique()) == ["all client firms"]
    old = frame[frame["timestamp"] < pd.Timestamp(AT - timedelta(weeks=3, days=1))]
    assert old["value"].isna().all() and set(old["label"]) == {"no data"}  # no data is not a score
    assert frame["value"].iloc[-1] == pytest.approx(view.score.score)
    assert frame[frame["timestamp"] == pd.Timestamp(AT - timedelta(weeks=2))]["value"].item() == 50
    with_tenant = rv.trend_frame(view, "bright")
    assert set(with_tenant["series"]) == {"all client firms", "bright"} and len(with_tenant) == 24


def test_what_moved_week_over_week_in_words():
    view = load(FakePrometheus())
    weeks = rv.weekly_moves(view)
    assert len(weeks) == 11
    latest = weeks[0]
    assert latest.end == AT and latest.before == 100
    assert latest.heading.startswith("Week to 28 Nov 02:00 UTC: 100 → ")
    assert any(
        s.startswith("Approved by the accountant fell from pass to fail for 1 client firm (bright)")
        for s in latest.sentences
    )
    recovered = weeks[1]  # 2 weeks ago -> 1 week ago: the headers gate stopped capping
    assert recovered.before == 50 and recovered.after == 100
    assert any(
        "Fraud-prevention headers complete recovered from fail to pass" in s for s in recovered.sentences
    )
    assert rv.week_delta(view) == pytest.approx(view.score.score - 100)
    assert rv.delta_text(rv.week_delta(view)) == "-7.5 points since last week"
    assert rv.delta_text(0.01) == "0 points since last week" and rv.delta_text(None) is None
    quiet = [w for w in weeks if w.before is None and w.after is None]
    assert quiet and all(w.sentences == ("Nothing moved.",) for w in quiet)


def test_headline_explains_a_cap_and_what_holds_the_score_back():
    capped_at = AT - timedelta(weeks=2)
    view = load(FakePrometheus(), at=capped_at)
    head = rv.headline(view.score, DEFINITION)
    assert head.value == "50"
    capped_rows = rv.check_rows(view.score).set_index("check")
    assert capped_rows.loc["Fraud-prevention headers complete", "points"] == "−50.0 (its cut)"
    assert capped_rows.loc["Fraud-prevention headers complete", "status"] == "fail"
    assert head.lines[0] == (
        "Capped at 50: “Fraud-prevention headers complete” fails "
        "(99.00% over the last hour against ≥ 100.000%). "
        "Without this gate the score would be 100."
    )
    now = rv.headline(load(FakePrometheus()).score, DEFINITION)
    assert any(line.startswith("Held back most by “Approved by the accountant”") for line in now.lines)


def test_no_data_is_never_a_score_and_says_why():
    view = load(FakePrometheus(lambda q, at: []), states=lambda at: None)
    assert view.problems == []  # Prometheus answered: there is just nothing there
    assert view.score is not None and view.score.score is None
    head = rv.headline(view.score, DEFINITION)
    assert head.value == "no data"
    assert head.lines[0].startswith("No score: none of the checks has data")
    rows = rv.check_rows(view.score)
    assert set(rows["status"]) == {"no data"}
    assert set(rows["points"]) == {"—"}
    assert rv.status_colour("no data") == "color: #9AA5B1; font-style: italic"  # grey, never green
    assert rv.status_colour("pass") == "color: #3A8F5C; font-weight: 600"
    assert rv.format_score(None) == "no data"


def test_prometheus_down_is_a_problem_not_a_page_of_no_data_and_last_good_is_kept():
    clock = [0.0]
    cache = ResultCache(clock=lambda: clock[0])
    good = load(FakePrometheus(), cache)
    assert good.score is not None and good.score.score is not None
    clock[0] += rv.TTL_S + 1
    down = FakePrometheus(lambda q, at: BackendUnavailable("prometheus", "connection refused"))
    stale = load(down, cache)
    assert stale.problems and stale.problems[0][1].error.message == "connection refused"
    assert stale.current.stale and stale.score is not None
    assert stale.score.score == good.score.score

    fresh = load(down, ResultCache())
    assert fresh.problems and fresh.score is None
    assert rv.headline(fresh.score, DEFINITION).value == "no data"
    assert rv.weekly_moves(fresh)[0].sentences[0].startswith("Not known")
    assert rv.trend_frame(fresh)["value"].isna().all() and not rv.has_trend(fresh)
    assert rv.has_trend(good)


def test_a_snapshot_without_these_calls_is_a_problem_too():
    miss = FakePrometheus(lambda q, at: SnapshotMiss("prometheus", "this call was not recorded"))
    view = load(miss)
    assert [b for b, _ in view.problems] == ["prometheus", "prometheus"]
    assert view.score is None


def test_one_rejected_query_is_that_check_without_data_and_a_warning():
    bad = QUERY["hmrc_api_error_rate"]

    def answer(query, at):
        return (
            QueryRejected("prometheus", "parse error", error_type="bad_data")
            if query == bad
            else world(at).get(query, [])
        )

    view = load(FakePrometheus(answer))
    assert view.problems == []
    assert view.score.result("hmrc_api_error_rate").status is Status.NO_DATA
    assert any("hmrc_api_error_rate: query failed" in w for w in view.warnings)
    assert view.score.score is not None


def test_tenant_filter_narrows_checks_to_that_tenant_and_matches_the_tenant_row():
    view = load(FakePrometheus())
    result, inputs = view.score, view.evaluation.inputs
    assert rv.tenant_choices(result) == ["acme", "bright", "cobalt"]
    for tenant in rv.tenant_choices(result):
        alone = rv.for_tenant(DEFINITION, inputs, tenant)
        row = result.tenant(tenant)
        assert alone.score == pytest.approx(row.score) if row.score is not None else alone.score is None
        assert {i.name: i.status for i in alone.items} == dict(row.statuses)
    bright = rv.check_rows(rv.for_tenant(DEFINITION, inputs, "bright"), "bright").set_index("check")
    assert bright.loc["Approved by the accountant", "status"] == "fail"
    assert bright.loc["Approved by the accountant", "figure"] == "50.00%"
    cobalt = rv.check_rows(rv.for_tenant(DEFINITION, inputs, "cobalt"), "cobalt").set_index("check")
    assert cobalt.loc["Approved by the accountant", "status"] == "not applicable"  # nothing due
    unknown = rv.for_tenant(DEFINITION, inputs, "nobody")
    assert unknown.result("approved").status is Status.NO_DATA


def test_check_rows_show_status_figure_threshold_weight_and_points():
    view = load(FakePrometheus())
    rows = rv.check_rows(view.score).set_index("check")
    approved = rows.loc["Approved by the accountant"]
    assert approved["status"] == "fail" and approved["tenants_passing"] == "1 of 2"
    assert approved["figure"] == "50.00%" and approved["target"] == "≥ 80.00%"
    # Weight 15 of 100, every check with data: 15 points to earn, half the tenants earn them.
    assert approved["weight"] == "15" and approved["points"] == "7.5 of 15.0"
    gate = rows.loc["Fraud-prevention headers complete"]
    assert gate["weight"] == "cap 50" and gate["points"] == "—"
    # Its window is said: the Tax page judges the same figure over the page's range.
    assert gate["why"].startswith("100.000% over the last hour (target ≥ 100.000%)"), gate["why"]
    earned = sum(float(p.split(" of ")[0]) for p in rows["points"] if " of " in p)
    assert earned == pytest.approx(view.score.score, abs=0.5)
    assert "h left until the VAT return" in rows.loc["Backlog clears before the VAT deadline", "why"]
    assert rv.attention(view.score) == [
        "Approved by the accountant: 1 of 2 client firms ≥ 80.00%; failing: bright 50.00%"
    ]


def test_domains_and_tenant_table():
    view = load(FakePrometheus())
    domains = {d.domain: d for d in rv.domain_scores(view.score, DEFINITION)}
    assert set(domains) == {DOMAIN_TITLES[d] for d in ("ingestion", "extraction", "reconciliation", "filing")}
    assert domains["Ingestion"].value == "100" and domains["Ingestion"].help == "Every check passes."
    assert domains[DOMAIN_TITLES["filing"]].help == "Held back by Approved by the accountant."
    table = rv.tenant_table(view.score, DEFINITION)
    assert list(table["tenant"]) == ["bright", "acme", "cobalt"]  # worst first
    assert table.iloc[0]["held_back_by"] == "Approved by the accountant"
    assert table.iloc[1]["held_back_by"] == "nothing: every check passes"
    assert table["score"].dtype == "float64"


def test_where_the_number_comes_from_lists_queries_inputs_and_time():
    view = load(FakePrometheus())
    info = rv.provenance(view)
    assert info.evaluated_at == AT and info.definition_file == "slo_definitions/readiness.yaml"
    assert set(info.queries["query"]) >= {q for q in QUERY.values()} | {TENANTS_QUERY, THROUGHPUT}
    assert info.requests == 9 * WEEKS_WITH_DATA + 1
    assert "Score = 100 ×" in info.rules and "50%" in info.rules
    bright = info.inputs[
        (info.inputs["check"] == "Approved by the accountant") & (info.inputs["tenant"] == "bright")
    ]
    assert bright["figure"].item() == "50.00%" and bright["status"].item() == "fail"
    assert list(info.slo_states["slo"]) == sorted(HEALTHY_SLOS)
    assert any(n.startswith("Backlog clears before the VAT deadline: throughput") for n in info.notes)


def test_filing_slo_states_come_from_the_slo_board_by_default():
    prom = FakePrometheus()  # answers nothing for SLO queries: every SLO has no data
    view = rv.load(sources(prom), AT, ResultCache())
    states = view.evaluation.slo_states
    assert states and set(states.values()) == {"no data"}
    assert "hmrc-submissions" in states and all(
        name in {d.name for d in rv.slo_view.definitions().definitions if d.domain == "filing"}
        for name in states
    )
    assert view.score.result("filing_slos_healthy").status is Status.NO_DATA  # never healthy
    assert view.slo_board is not None and view.slo_board.error is None
    statuses = [
        SimpleNamespace(name="a", domain="filing", state="exhausted"),
        SimpleNamespace(name="b", domain="ingestion", state="healthy"),
    ]
    assert rv.filing_states(statuses) == {"a": "exhausted"}


def test_the_slo_states_are_fetched_while_the_checks_are_asked():
    """The states come from the SLO board (its own round trips): the score's queries must not wait for it."""
    asked = threading.Event()

    def answer(query, at):
        if at == AT:  # a query of the current score (the earlier weeks' run beside it)
            asked.set()
        return world(at).get(query, [])

    def states_once_a_check_was_asked(at):
        if at == AT:  # the current score's states; the earlier weeks' are asked after their queries anyway
            assert asked.wait(timeout=3), "the states were asked for before any check's query"
        return dict(HEALTHY_SLOS)

    view = load(FakePrometheus(answer), states=states_once_a_check_was_asked)
    assert view.evaluation.slo_states == dict(HEALTHY_SLOS)
    assert view.score.result("filing_slos_healthy").status is Status.PASS


def test_an_invalid_definition_is_reported_not_raised(tmp_path):
    broken = tmp_path / "readiness.yaml"
    broken.write_text("apiVersion: sextant/v1\nkind: ReadinessScore\n")
    view = rv.load(sources(FakePrometheus()), AT, ResultCache(), path=broken)
    assert view.definition is None and view.definition_errors
    assert rv.provenance(view) is None


def test_earlier_week_ends_are_whole_hours_shared_with_the_overviews_week_ago():
    at = AT.replace(minute=0) + timedelta(minutes=37)
    times = rv.trend_times(at)
    assert times[-1] == at
    assert times[:-1] == [at.replace(minute=0) - timedelta(weeks=k) for k in range(11, 0, -1)]
    assert times[-2] == overview.week_earlier(at)  # one set of past SLO states for both pages

"""Readiness inputs from Prometheus: one concurrent request per distinct query; no data never passes."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from app.readiness import (
    NOT_APPLICABLE,
    Status,
    calendar_deadline,
    gather_inputs,
    load_definition,
    planned_queries,
    score,
    week_ends,
    weekly_trend,
)
from tests.readiness_support import FakeProm, FakeResult, by_query, check, definition, gate, vector

AT = datetime(2025, 11, 20, 12, 0, tzinfo=UTC)


def small():
    return definition(
        [
            check("ingested", weight=40, scope="tenant", query="min by (tenant) (ingested)"),
            check("errors", weight=20, comparison="<=", threshold=0.05, query="sum(errors)"),
            check("slos", weight=20, source="slo_states", aggregate="share_healthy", threshold=1.0),
            check(
                "backlog",
                weight=20,
                scope="tenant",
                source="backlog",
                comparison="<=",
                threshold=0.5,
                query="sum by (tenant) (backlog)",
                throughputQuery="sum(throughput)",
                deadline="vat",
            ),
        ],
        [
            gate("headers", 50, threshold=1.0, query="sum(headers)"),
            gate(
                "exhausted",
                40,
                source="slo_states",
                aggregate="count_exhausted",
                comparison="<=",
                threshold=0,
            ),
        ],
        tenants={"query": "sum by (tenant) (due)"},
    )


def ten_hours(at: datetime, kind: str) -> tuple[datetime, str]:
    assert kind == "vat"
    return at + timedelta(hours=10), "the test deadline"


TABLE = {
    "sum by (tenant) (due)": [
        {"tenant": "a", "value": 10},
        {"tenant": "b", "value": 5},
        {"tenant": "c", "value": 0},
    ],
    "min by (tenant) (ingested)": [
        {"tenant": "a", "value": 0.99},
        {"tenant": "b", "value": 0.5},
        {"tenant": "c", "value": 0.99},
    ],
    "sum(errors)": [{"value": 0.01}],
    "sum by (tenant) (backlog)": [{"tenant": "a", "value": 100}, {"tenant": "b", "value": 900}],
    "sum(throughput)": [{"value": 100}],
    "sum(headers)": [{"value": 1.0}],
}


def test_one_request_per_distinct_query_all_at_once() -> None:
    prom = FakeProm(by_query(TABLE), delay=0.05)
    inputs = gather_inputs(small(), prom, AT, {"hmrc": "healthy"}, deadline_for=ten_hours)
    queries = planned_queries(small())
    assert len(queries) == 6
    assert inputs.requests == 6
    assert sorted(q for q, _ in prom.calls) == sorted(queries)
    assert all(at == AT for _, at in prom.calls)
    assert prom.max_parallel > 1  # they ran concurrently
    assert inputs.at == AT


def test_duplicate_queries_are_sent_once() -> None:
    d = definition([check("a", query="sum(x)"), check("b", query="sum(x)", comparison="<=")])
    prom = FakeProm(by_query({"sum(x)": [{"value": 0.95}]}))
    inputs = gather_inputs(d, prom, AT, None)
    assert inputs.requests == 1 and len(prom.calls) == 1
    assert inputs.values == {"a": 0.95, "b": 0.95}


def test_frames_become_plain_numbers_per_tenant() -> None:
    inputs = gather_inputs(
        small(), FakeProm(by_query(TABLE)), AT, {"hmrc": "healthy"}, deadline_for=ten_hours
    )
    assert inputs.tenants == ("a", "b", "c")
    # c has nothing due: its tenant checks do not apply.
    assert inputs.values["ingested"] == {"a": 0.99, "b": 0.5, "c": NOT_APPLICABLE}
    assert inputs.values["errors"] == 0.01
    assert inputs.values["slos"] == 1.0
    assert inputs.values["exhausted"] == 0.0
    # backlog / (throughput 100/h x 10 h): a needs 10% of the time left, b 90%.
    assert inputs.values["backlog"] == {"a": pytest.approx(0.1), "b": pytest.approx(0.9), "c": NOT_APPLICABLE}
    assert (
        inputs.details["backlog"]
        == "throughput 100 items/h per client firm; 10.0 h left until the test deadline"
    )
    assert inputs.details["slos"] == "1 filing SLOs: 1 healthy"
    assert inputs.queries["backlog"] == ("sum by (tenant) (backlog)", "sum(throughput)")
    assert inputs.warnings == ()

    result = score(small(), inputs)
    # ingested: 1 of 2 tenants fails (-20), backlog: b fails (-10).
    assert result.score == pytest.approx(70)
    assert result.held_back_by == ("ingested",)
    assert result.tenant("c").statuses["ingested"] is Status.NOT_APPLICABLE


def test_failures_and_empty_answers_are_no_data_with_the_reason() -> None:
    table = dict(TABLE)
    table["sum(errors)"] = RuntimeError("prometheus: query timed out")
    table["sum(headers)"] = []
    inputs = gather_inputs(small(), FakeProm(by_query(table)), AT, None, deadline_for=ten_hours)
    assert inputs.values["errors"] is None
    assert inputs.values["headers"] is None
    assert inputs.values["slos"] is None and inputs.values["exhausted"] is None
    assert "errors: query failed: prometheus: query timed out" in inputs.warnings
    assert "headers: the query returned no series" in inputs.warnings
    result = score(small(), inputs)
    assert set(result.no_data) == {"errors", "headers", "slos", "exhausted"}
    assert result.result("slos").detail == "the filing SLO states were not supplied"


def test_prometheus_unreachable_gives_no_score() -> None:
    inputs = gather_inputs(small(), FakeProm(lambda q, at: ConnectionError("refused")), AT, None)
    assert inputs.requests == 6
    assert score(small(), inputs).score is None


def test_shape_problems_are_warned_not_guessed() -> None:
    table = dict(TABLE)
    table["sum(errors)"] = [{"route": "x", "value": 0.01}, {"route": "y", "value": 0.5}]
    table["min by (tenant) (ingested)"] = [{"service": "x", "value": 0.99}]
    table["sum by (tenant) (backlog)"] = [{"tenant": "a", "value": 1}, {"tenant": "a", "value": 2}]
    table["sum(throughput)"] = FakeResult(vector([{"value": math.nan}]), warnings=("partial data",))
    inputs = gather_inputs(small(), FakeProm(by_query(table)), AT, {}, deadline_for=ten_hours)
    text = "\n".join(inputs.warnings)
    assert "errors: expected one series, got 2" in text
    assert "ingested: the result has no 'tenant' label" in text
    assert "backlog: more than one series for tenant='a'" in text
    assert "backlog throughput: Prometheus warning: partial data" in text
    assert inputs.values["errors"] is None
    assert inputs.values["ingested"] == {"a": None, "b": None, "c": NOT_APPLICABLE}
    assert inputs.values["backlog"] == {"a": None, "b": None, "c": NOT_APPLICABLE}  # NaN throughput: no data


def test_slo_states() -> None:
    prom = FakeProm(by_query(TABLE))
    states = {
        "submit": "healthy",
        "latency": "At risk",
        "budget": "exhausted",
        "new": "no data",
        "odd": "green",
    }
    inputs = gather_inputs(small(), prom, AT, states, deadline_for=ten_hours)
    # Two SLOs without data could be in any state: no share of healthy SLOs holds, so no data, never a
    # share of the known ones only; one exhausted SLO is a count that holds whatever the others are.
    assert inputs.values["slos"] is None
    assert inputs.values["exhausted"] == 1.0
    known = {"submit": "healthy", "latency": "at risk", "budget": "exhausted"}
    assert gather_inputs(small(), prom, AT, known, deadline_for=ten_hours).values["slos"] == pytest.approx(
        1 / 3
    )
    unsure = gather_inputs(small(), prom, AT, {"submit": "healthy", "x": "no data"}, deadline_for=ten_hours)
    assert unsure.values["exhausted"] is None  # 0 exhausted of the known: the unknown one may be
    assert "slos: SLO 'odd' has unknown state 'green'; counted as no data" in inputs.warnings
    assert inputs.details["slos"] == "5 filing SLOs: 1 healthy, 1 at risk, 1 exhausted, 2 no data"
    # No filing SLOs at all: not applicable. All without data: no data.
    assert gather_inputs(small(), prom, AT, {}, deadline_for=ten_hours).values["slos"] is NOT_APPLICABLE
    quiet = gather_inputs(small(), prom, AT, {"x": "no_data"}, deadline_for=ten_hours)
    assert quiet.values["slos"] is None and quiet.values["exhausted"] is None


def test_backlog_edge_cases() -> None:
    table = dict(TABLE)
    table["sum(throughput)"] = [{"value": 0}]
    table["sum by (tenant) (backlog)"] = [{"tenant": "a", "value": 0}, {"tenant": "b", "value": 5}]
    inputs = gather_inputs(small(), FakeProm(by_query(table)), AT, {}, deadline_for=ten_hours)
    assert inputs.values["backlog"] == {"a": 0.0, "b": math.inf, "c": NOT_APPLICABLE}
    assert score(small(), inputs).result("backlog").failing_tenants() == ["b"]
    passed = gather_inputs(
        small(), FakeProm(by_query(TABLE)), AT, {}, deadline_for=lambda at, k: (at, "gone")
    )
    assert passed.values["backlog"] == {"a": None, "b": None, "c": NOT_APPLICABLE}
    assert passed.details["backlog"].endswith("(passed)")


def test_the_calendar_deadline_is_the_default() -> None:
    closes, name = calendar_deadline(AT, "vat")
    assert closes == datetime(2025, 12, 8, 0, 0, tzinfo=UTC)  # end of 7 Dec, GMT
    assert name == "the VAT return (period ended 31 Oct) deadline on 7 Dec 2025"
    inputs = gather_inputs(small(), FakeProm(by_query(TABLE)), AT.replace(tzinfo=None), {})
    assert inputs.at == AT
    assert inputs.details["backlog"].endswith(
        "h left until the VAT return (period ended 31 Oct) deadline on 7 Dec 2025"
    )
    assert inputs.details["backlog"].startswith("throughput 100 items/h per client firm; 420.0 h left")


def test_the_shipped_definition_against_a_fake() -> None:
    d = load_definition()
    tenants = ["acme", "bright"]
    table = {"sum by (tenant) (filing_obligations_due)": [{"tenant": t, "value": 10} for t in tenants]}
    for c in d.items:
        for q in c.queries():
            if "by (tenant)" in q:
                table[q] = [{"tenant": t, "value": 0.97} for t in tenants]
            else:
                table[q] = [{"value": 1.0 if c.comparison == ">=" else 0.0}]
    table["max by (tenant) (tenant_backlog_documents)"] = [{"tenant": t, "value": 10} for t in tenants]
    table[d.item("backlog_before_deadline").throughput_query] = [{"value": 500}]
    prom = FakeProm(by_query(table))
    result = score(d, gather_inputs(d, prom, AT, {"hmrc_submissions": "healthy"}))
    assert result.requests == 9
    assert result.score == 100
    assert result.warnings == ()
    # Prometheus down, SLOs healthy: one check worth 15 of 100 points is not a score.
    down = FakeProm(lambda q, at: ConnectionError("refused"))
    result = score(d, gather_inputs(d, down, AT, {"hmrc_submissions": "healthy"}))
    assert result.coverage == pytest.approx(0.15)
    assert result.score is None


def test_week_ends() -> None:
    ends = week_ends(AT, 3)
    assert ends == [AT - timedelta(weeks=2), AT - timedelta(weeks=1), AT]
    with pytest.raises(ValueError, match="weeks"):
        week_ends(AT, 0)


def test_weekly_trend_runs_every_week_in_one_pool() -> None:
    good = dict(TABLE)
    bad = dict(TABLE)
    bad["sum(errors)"] = [{"value": 0.5}]

    def answer(query: str, at: datetime):
        return (bad if at == AT else good).get(query, [])

    prom = FakeProm(answer, delay=0.01)
    seen: list[datetime] = []

    def states(at: datetime) -> dict[str, str]:
        seen.append(at)
        return {"hmrc": "healthy"}

    trend = weekly_trend(small(), prom, AT, weeks=12, slo_states_at=states, deadline_for=ten_hours)
    assert len(trend.points) == 12
    assert [p.at for p in trend.points] == week_ends(AT, 12)
    assert seen == week_ends(AT, 12)
    assert trend.requests == 12 * 6 == len(prom.calls)
    assert prom.max_parallel > 1
    assert trend.points[-2].score == pytest.approx(70)
    assert trend.points[-1].score == pytest.approx(50)
    [move] = trend.moved()
    assert move.name == "errors"
    assert move.text == "Errors fell from pass to fail: −20 points"


def test_weekly_trend_without_slo_states_leaves_them_out() -> None:
    trend = weekly_trend(small(), FakeProm(by_query(TABLE)), AT, weeks=1, deadline_for=ten_hours)
    assert len(trend.points) == 1 and trend.moved() == []
    assert set(trend.points[0].no_data) == {"slos", "exhausted"}

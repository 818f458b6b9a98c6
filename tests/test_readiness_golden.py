"""Golden test: the VAT backlog scenario pulls the readiness score down by exactly what the seed implies.

The expectation is computed from the simulator's model (stack/simulator/model.py), not from Prometheus:
gauges at the last sample at or before the evaluation time, counter increases between the first and last
samples of each window. We evaluate half a minute before A - 12 h and before A, so that no 60 s sample sits
on a window's edge (Prometheus 2 includes a range's left end, Prometheus 3 does not): every window then
extrapolates to its full length on both sides, a ratio of increases is a ratio of event counts, and a rate
is the increase over the sampled interval. The backlog check races the simulator's own deadline (A + 2 h),
not the calendar's.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from app import directory
from app.readiness import (
    ReadinessDefinition,
    ReadinessInputs,
    ReadinessScore,
    Status,
    gather_inputs,
    load_definition,
    score,
    what_moved,
)

model = pytest.importorskip("stack.simulator.model")

FILING_SLOS = {"hmrc_submissions": "healthy"}  # SLO states are not in Prometheus: the same at both times
COMPONENTS = ("documents_ingested", "extracted_above_target", "reconciled_within_sla", "approved")


def simulated_clock(anchor: datetime):
    closes = anchor + model.DEADLINE_AFTER_ANCHOR

    def clock(at: datetime, kind: str) -> tuple[datetime, str]:
        return closes, "the simulated VAT deadline"

    return clock


def evaluation_times(anchor: datetime) -> tuple[datetime, datetime]:
    """A - 12 h (before the backlog) and A (during it), each half a minute early."""
    half = timedelta(seconds=30)
    return anchor - timedelta(hours=12) - half, anchor - half


def _floor_minute(t: datetime) -> datetime:
    return t.replace(second=0, microsecond=0)


def _samples(anchor: datetime, at: datetime, window: timedelta) -> tuple[datetime, datetime]:
    """First and last backfilled sample in [at - window, at] (history ends at A - 60 s)."""
    last = min(_floor_minute(at), anchor - timedelta(minutes=1))
    start = at - window
    first = (
        _floor_minute(start) if _floor_minute(start) == start else _floor_minute(start) + timedelta(minutes=1)
    )
    return first, last


def _increase(m, metric: str, labels: dict | None, first: datetime, last: datetime) -> float:
    return m.counter_increase(metric, labels, first, last)


def expected_inputs(d: ReadinessDefinition, anchor: datetime, seed: int, at: datetime) -> ReadinessInputs:
    """The inputs the shipped definition should see at `at`, straight from the model."""
    m = model.get_model(anchor, seed)
    sample = min(_floor_minute(at), anchor - timedelta(minutes=1))
    tenants = model.TENANTS
    values: dict[str, object] = {}
    for component in COMPONENTS:  # the checks are named after the components they read
        values[component] = {
            t: m.gauge_value(
                "filing_readiness_component_ratio", {"tenant": t, "component": component}, sample
            )
            for t in tenants
        }
    first, last = _samples(anchor, at, timedelta(hours=1))
    errors = _increase(m, "hmrc_submissions_total", {"result": "error"}, first, last)
    total = _increase(m, "hmrc_submissions_total", None, first, last)
    values["hmrc_api_error_rate"] = errors / total if total else None
    complete = _increase(m, "fraud_prevention_headers_total", {"result": "complete"}, first, last)
    all_headers = _increase(m, "fraud_prevention_headers_total", None, first, last)
    values["fraud_prevention_headers_complete"] = complete / all_headers if all_headers else None

    first, last = _samples(anchor, at, timedelta(days=1))
    documents = _increase(m, "extraction_documents_total", None, first, last)
    per_tenant_hourly = documents / (last - first).total_seconds() * 3600 / len(tenants)
    hours = (anchor + model.DEADLINE_AFTER_ANCHOR - at).total_seconds() / 3600
    values["backlog_before_deadline"] = {
        t: m.gauge_value("tenant_backlog_documents", {"tenant": t}, sample) / (per_tenant_hourly * hours)
        for t in tenants
    }
    values["filing_slos_healthy"] = 1.0
    values["no_exhausted_filing_slo"] = 0.0
    assert all(model.OBLIGATIONS_VAT[t] > 0 for t in tenants)  # every tenant has something due
    return ReadinessInputs(values=values, tenants=tenants, at=at)  # type: ignore[arg-type]


def _assert_same_figures(live: ReadinessScore, expected: ReadinessScore) -> None:
    for mine, want in zip(live.items, expected.items, strict=True):
        assert mine.name == want.name
        assert mine.status is want.status, mine.summary
        if want.tenants:
            assert set(mine.tenants) == set(want.tenants)
            for tenant, outcome in want.tenants.items():
                got = mine.tenants[tenant]
                assert got.status is outcome.status, (mine.name, tenant, got, outcome)
                assert got.figure == pytest.approx(outcome.figure, rel=1e-9), (mine.name, tenant)
        elif want.figure is not None:
            assert mine.figure == pytest.approx(want.figure, rel=1e-9), mine.name


BACKLOG_CHECKS = ("approved", "backlog_before_deadline", "extracted_above_target", "reconciled_within_sla")


def _assert_the_scenario(before: ReadinessScore, during: ReadinessScore) -> None:
    """What vat_backlog does, whatever the anchor: before it every tenant passes the four steps it touches;
    during it exactly the three backlog tenants fail them. Four checks of 15 points (of 100 assessed), each
    failed by 3 of 8 tenants: 4 x 15 x 3/8 = 22.5 points off the uncapped score, 5.625 per check."""
    backlog_tenants = sorted(model.BACKLOG_TENANTS)
    for name in BACKLOG_CHECKS:
        assert before.result(name).failing_tenants() == [], name
        assert during.result(name).failing_tenants() == backlog_tenants, name
    assert during.result("documents_ingested").status is Status.PASS
    assert before.uncapped is not None and during.uncapped is not None
    assert before.uncapped - during.uncapped == pytest.approx(22.5)
    moves = {m.name: m for m in what_moved(before, during)}
    for name in BACKLOG_CHECKS:
        assert moves[name].points == pytest.approx(-5.625)
        firms = ", ".join(directory.name("tenant", t) for t in backlog_tenants)
        assert moves[name].text.endswith(f"fell from pass to fail for 3 client firms ({firms}): −5.6 points")
    assert before.score is not None and during.score is not None
    assert sum(m.points for m in moves.values()) == pytest.approx(during.score - before.score)
    for row in during.tenants:
        if row.key in backlog_tenants:
            assert row.score == pytest.approx(min(40.0, during.cap or 100.0))
            assert row.held_back_by[0] == "approved"  # the four tie at 15 points: alphabetical
        else:
            assert row.holding_back in (None, during.capped_by)


@pytest.mark.integration
def test_vat_backlog_pulls_the_score_down_by_what_the_seed_implies(live_stack) -> None:
    prometheus = pytest.importorskip("app.sources.prometheus")
    anchor, seed = live_stack.anchor, live_stack.seed
    window = model.scenario("vat_backlog", anchor)
    before_at, during_at = evaluation_times(anchor)
    assert not window.contains(before_at) and window.contains(during_at)

    d = load_definition()
    clock = simulated_clock(anchor)
    prom = prometheus.PrometheusClient(live_stack.prometheus_url, timeout=30)
    try:
        before = score(d, gather_inputs(d, prom, before_at, FILING_SLOS, deadline_for=clock))
        during = score(d, gather_inputs(d, prom, during_at, FILING_SLOS, deadline_for=clock))
    finally:
        prom.close()
    want_before = score(d, expected_inputs(d, anchor, seed, before_at))
    want_during = score(d, expected_inputs(d, anchor, seed, during_at))

    assert before.warnings == () and during.warnings == ()
    assert before.requests == during.requests == 9
    _assert_same_figures(before, want_before)
    _assert_same_figures(during, want_during)
    assert before.score == pytest.approx(want_before.score)
    assert during.score == pytest.approx(want_during.score)
    _assert_the_scenario(before, during)
    assert before.score is not None and during.score is not None
    assert want_before.score is not None and want_during.score is not None
    assert before.score - during.score == pytest.approx(want_before.score - want_during.score)
    # The backlog always costs points before the gates; a gate may cap either score (at anchors 11:00 and
    # 12:00 incomplete fraud-prevention headers cap the score before the backlog at 50, below the 77.5
    # during it), so compare the scores the checks give.
    assert during.uncapped < before.uncapped


def test_the_expectation_on_a_fixed_anchor() -> None:
    """Without the stack: the model-side golden figures for one anchor (a Wednesday, 10:00 UTC)."""
    anchor = datetime.fromisoformat("2026-11-25T10:00:00+00:00")
    d = load_definition()
    before_at, during_at = evaluation_times(anchor)
    before = score(d, expected_inputs(d, anchor, 7, before_at))
    during = score(d, expected_inputs(d, anchor, 7, during_at))
    _assert_the_scenario(before, during)
    assert (before.score, during.score) == (pytest.approx(100), pytest.approx(77.5))
    assert during.held_back_by == BACKLOG_CHECKS
    backlog = during.result("backlog_before_deadline").tenants
    assert backlog["greyfriars"].figure == pytest.approx(1.0795, abs=1e-4)  # needs 108% of the time left

"""The pure readiness score: weights, gates, no data, not applicable, ties, per domain and per tenant."""

from __future__ import annotations

import math

import pytest

from app.readiness import NOT_APPLICABLE, ReadinessInputs, Status, score
from tests.readiness_support import TENANTS, check, definition, gate, healthy_values, standard


def test_everything_passing_scores_100_with_nothing_holding_it_back() -> None:
    result = score(standard(), healthy_values())
    assert result.score == 100
    assert result.uncapped == 100
    assert result.cap is None and result.capped_by is None
    assert result.held_back_by == ()
    assert result.no_data == ()
    assert {r.name: r.status for r in result.items} == dict.fromkeys(
        ["ingested", "reconciled", "error_rate", "slos_healthy", "headers", "no_exhausted"], Status.PASS
    )
    assert [row.key for row in result.tenants] == list(TENANTS)
    assert all(row.score == 100 and row.holding_back is None for row in result.tenants)


def test_a_failing_platform_check_costs_its_weight() -> None:
    result = score(standard(), healthy_values(error_rate=0.08))
    assert result.score == pytest.approx(90)
    assert result.held_back_by == ("error_rate",)
    error_rate = result.result("error_rate")
    assert (error_rate.status, error_rate.figure) == (Status.FAIL, 0.08)
    assert error_rate.points == 0 and error_rate.points_lost == pytest.approx(10)
    assert error_rate.summary == "Error rate: 8.00% (target ≤ 5.00%): fail"
    # A platform check holds back every tenant.
    assert [row.key for row in result.tenants] == list(TENANTS)
    assert all(row.score == pytest.approx(90) and row.holding_back == "error_rate" for row in result.tenants)


def test_a_tenant_check_earns_its_weight_in_proportion_to_tenants_passing() -> None:
    ingested = {"acme": 0.99, "bright": 0.5, "cobalt": 0.99, "dunmore": 0.99}
    result = score(standard(), healthy_values(ingested=ingested))
    # 30 points x 1 of 4 tenants failing = 7.5 points lost.
    assert result.score == pytest.approx(92.5)
    check_result = result.result("ingested")
    assert check_result.status is Status.FAIL
    assert check_result.pass_share == pytest.approx(0.75)
    assert check_result.figure == 0.5  # the worst tenant
    assert check_result.failing_tenants() == ["bright"]
    assert check_result.summary == "Ingested: 3 of 4 client firms ≥ 90.00%; failing: bright 50.00%"
    assert result.tenant("bright").score == pytest.approx(70)
    assert result.tenant("bright").holding_back == "ingested"
    assert result.tenant("acme").score == 100


def test_weights_are_relative_not_absolute() -> None:
    light = definition([check("a", weight=1), check("b", weight=3)])
    assert score(light, {"a": 0.1, "b": 0.95}).score == pytest.approx(75)
    assert score(light, {"a": 0.95, "b": 0.1}).score == pytest.approx(25)


def test_comparisons_are_exact_at_the_threshold() -> None:
    d = definition(
        [
            check("ge", threshold=0.9),
            check("gt", comparison=">", threshold=0.9),
            check("le", comparison="<=", threshold=0.9),
            check("lt", comparison="<", threshold=0.9),
        ]
    )
    result = score(d, {"ge": 0.9, "gt": 0.9, "le": 0.9, "lt": 0.9})
    assert {r.name: r.status for r in result.checks} == {
        "ge": Status.PASS,
        "gt": Status.FAIL,
        "le": Status.PASS,
        "lt": Status.FAIL,
    }


def test_a_failed_gate_caps_the_score_whatever_the_weights() -> None:
    result = score(standard(), healthy_values(headers=0.999))
    assert result.uncapped == 100
    assert result.score == 50
    assert result.cap == 50 and result.capped_by == "headers"
    assert result.held_back_by == ("headers",)
    headers = result.result("headers")
    assert headers.status is Status.FAIL
    assert headers.points == -50 and headers.points_lost == 50
    assert headers.summary == "Headers: 99.900% (target ≥ 100.000%): fail (caps the score at 50)"
    assert [row.key for row in result.tenants] == list(TENANTS)
    assert all(row.score == 50 and row.holding_back == "headers" for row in result.tenants)


def test_the_exhausted_slo_gate() -> None:
    result = score(standard(), healthy_values(no_exhausted=1.0, slos_healthy=0.5))
    # slos_healthy fails (-40) -> 60 uncapped, then capped at 40.
    assert result.uncapped == pytest.approx(60)
    assert result.score == 40
    assert result.capped_by == "no_exhausted"
    assert result.held_back_by == ("slos_healthy",)  # 40 points lost beats the gate's 20


def test_a_gate_above_the_score_costs_nothing_but_is_reported() -> None:
    values = healthy_values(slos_healthy=0.0, ingested={t: 0.1 for t in TENANTS}, headers=0.9)
    result = score(standard(), values)
    assert result.uncapped == pytest.approx(30)
    assert result.score == pytest.approx(30)
    assert result.cap == 50 and result.capped_by is None
    assert result.result("headers").status is Status.FAIL
    assert result.result("headers").points_lost == 0
    assert result.held_back_by == ("slos_healthy",)


def test_two_failed_gates_the_lowest_cap_wins() -> None:
    result = score(standard(), healthy_values(headers=0.5, no_exhausted=2.0))
    assert result.score == 40
    assert result.cap == 40 and result.capped_by == "no_exhausted"
    assert result.result("headers").status is Status.FAIL
    assert result.result("headers").points_lost == 0  # the lower cap does the work
    assert result.held_back_by == ("no_exhausted",)


def test_two_gates_with_equal_caps_bind_alphabetically() -> None:
    d = definition([check("a")], [gate("zulu", 30), gate("alpha", 30)])
    result = score(d, {"a": 1.0, "zulu": 0.0, "alpha": 0.0})
    assert result.score == 30
    assert result.capped_by == "alpha"
    assert result.held_back_by == ("alpha",)


def test_one_check_without_data_leaves_the_denominator_and_is_reported() -> None:
    result = score(standard(), healthy_values(error_rate=None, ingested={"acme": 0.1}))
    # Assessed weights: ingested 30 (1 of 1 tenant fails; others no data), reconciled 20, slos 40 = 90.
    assert result.score == pytest.approx(100 * 60 / 90)
    assert result.no_data == ("error_rate",)
    assert result.result("error_rate").status is Status.NO_DATA
    ingested = result.result("ingested")
    assert ingested.status is Status.FAIL
    assert ingested.no_data_tenants() == ["bright", "cobalt", "dunmore"]
    assert "no data: bright, cobalt, dunmore" in ingested.summary
    assert result.tenant("bright").statuses["ingested"] is Status.NO_DATA
    assert result.tenant("bright").score == pytest.approx(100)  # 20 + 40 of 60 assessed


def test_a_missing_or_nan_input_is_no_data() -> None:
    values = healthy_values(error_rate=math.nan)
    del values["slos_healthy"]
    result = score(standard(), values)
    assert result.no_data == ("error_rate", "slos_healthy")
    assert result.score == 100


def test_all_checks_without_data_gives_no_score_never_healthy() -> None:
    result = score(standard(), {})
    assert result.score is None and result.uncapped is None
    assert result.held_back_by == ()
    assert set(result.no_data) == {
        "ingested",
        "reconciled",
        "error_rate",
        "slos_healthy",
        "headers",
        "no_exhausted",
    }
    assert sorted(d.key for d in result.domains) == ["filing", "ingestion", "reconciliation"]
    assert all(d.score is None for d in result.domains)


def test_all_checks_without_data_but_a_failed_gate_still_has_no_score() -> None:
    result = score(standard(), {"headers": 0.5, "ingested": {t: None for t in TENANTS}})
    assert result.score is None
    assert result.cap == 50
    assert result.result("headers").status is Status.FAIL
    assert [row.key for row in result.tenants] == list(TENANTS)
    assert all(row.score is None for row in result.tenants)


def test_a_gate_without_data_does_not_cap_but_is_listed() -> None:
    result = score(standard(), healthy_values(headers=None))
    assert result.score == 100
    assert result.no_data == ("headers",)


def test_not_applicable_leaves_the_denominator_and_is_not_no_data() -> None:
    ingested = {"acme": NOT_APPLICABLE, "bright": 0.1, "cobalt": 0.99, "dunmore": 0.99}
    reconciled = {"acme": NOT_APPLICABLE, "bright": 0.95, "cobalt": 0.95, "dunmore": 0.95}
    result = score(
        standard(), healthy_values(ingested=ingested, reconciled=reconciled, slos_healthy=NOT_APPLICABLE)
    )
    assert result.no_data == ()
    assert result.result("slos_healthy").status is Status.NOT_APPLICABLE
    # Assessed: ingested 30 (2 of 3 pass), reconciled 20, error_rate 10 -> (20 + 20 + 10) / 60.
    assert result.score == pytest.approx(100 * 50 / 60)
    assert result.tenant("acme").score == 100  # only error_rate is assessed for acme
    assert result.tenant("acme").statuses["ingested"] is Status.NOT_APPLICABLE


def test_a_check_not_applicable_everywhere() -> None:
    d = definition([check("a"), check("b", scope="tenant")])
    result = score(d, {"a": NOT_APPLICABLE, "b": {"x": NOT_APPLICABLE}})
    assert result.score is None
    assert result.result("b").status is Status.NOT_APPLICABLE
    assert result.no_data == ()


def test_ties_list_every_tied_check_alphabetically() -> None:
    d = definition([check("zeta", weight=25), check("beta", weight=25), check("mu", weight=50)])
    result = score(d, {"zeta": 0.0, "beta": 0.0, "mu": 1.0})
    assert result.score == pytest.approx(50)
    assert result.held_back_by == ("beta", "zeta")
    # The same tie-break decides the single name shown in the tenant table.
    d = definition([check("zeta", weight=25, scope="tenant"), check("beta", weight=25, scope="tenant")])
    result = score(d, {"zeta": {"t1": 0.0, "t2": 1.0}, "beta": {"t1": 0.0, "t2": 0.0}})
    assert result.held_back_by == ("beta",)  # beta loses 25, zeta 12.5
    assert result.tenant("t1").held_back_by == ("beta", "zeta")
    assert result.tenant("t1").holding_back == "beta"
    assert result.tenant("t2").holding_back == "beta"


def test_a_tie_between_a_check_and_a_gate() -> None:
    d = definition([check("a", weight=50), check("b", weight=50)], [gate("gate", 0)])
    result = score(d, {"a": 1.0, "b": 0.0, "gate": 0.0})
    assert result.score == 0
    assert result.held_back_by == ("b", "gate")  # b loses 50 of 100, the gate the remaining 50: a tie
    result = score(d, {"a": 1.0, "b": 0.0, "gate": 1.0})
    assert result.held_back_by == ("b",)


def test_per_domain_scores_are_capped_only_by_their_own_gates() -> None:
    ingested = {t: 0.5 for t in TENANTS}
    result = score(standard(), healthy_values(ingested=ingested, headers=0.0))
    domains = {d.key: d for d in result.domains}
    assert list(domains) == ["ingestion", "reconciliation", "filing"]  # definition-independent order
    assert domains["ingestion"].score == 0
    assert domains["ingestion"].holding_back == "ingested"
    assert domains["reconciliation"].score == 100
    assert domains["filing"].uncapped == 100
    assert domains["filing"].score == 50
    assert domains["filing"].holding_back == "headers"
    assert result.domain("filing").statuses["headers"] is Status.FAIL


def test_per_tenant_rows() -> None:
    ingested = {"acme": 0.99, "bright": 0.5, "cobalt": 0.5, "dunmore": 0.99}
    reconciled = {"acme": 0.95, "bright": 0.95, "cobalt": 0.5, "dunmore": None}
    result = score(standard(), healthy_values(ingested=ingested, reconciled=reconciled))
    rows = {row.key: (row.score, row.holding_back) for row in result.tenants}
    assert rows == {
        "acme": (100, None),
        "bright": (pytest.approx(70), "ingested"),
        "cobalt": (pytest.approx(50), "ingested"),
        "dunmore": (100, None),  # reconciled: no data, left out
    }
    assert result.tenant("cobalt").held_back_by == ("ingested",)
    assert result.tenant("dunmore").statuses["reconciled"] is Status.NO_DATA


def test_a_tenant_gate_caps_the_overall_score_and_that_tenant_only() -> None:
    d = definition([check("a", scope="tenant")], [gate("g", 20, scope="tenant")])
    result = score(d, {"a": {"x": 1.0, "y": 1.0}, "g": {"x": 1.0, "y": 0.5}})
    assert result.score == 20
    assert result.tenant("x").score == 100
    assert result.tenant("y").score == 20
    assert result.result("g").failing_tenants() == ["y"]


def test_tenants_listed_in_inputs_appear_even_without_rows() -> None:
    d = definition([check("a", scope="tenant")])
    result = score(d, ReadinessInputs(values={"a": {"x": 1.0}}, tenants=("x", "y")))
    assert [row.key for row in result.tenants] == ["x", "y"]
    assert result.tenant("y").score is None
    assert result.result("a").no_data_tenants() == ["y"]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"nope": 1.0}, "unknown checks: nope"),
        ({"ingested": 0.5}, "a tenant check needs"),
        ({"error_rate": {"acme": 0.5}}, "a platform check needs one figure"),
        ({"error_rate": "0.5"}, "expected a number"),
        ({"error_rate": True}, "expected a number"),
    ],
)
def test_bad_inputs_are_refused_with_the_check_named(values: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        score(standard(), values)


def test_provenance_is_carried_through() -> None:
    inputs = ReadinessInputs(
        values=healthy_values(), details={"error_rate": "last hour"}, requests=7, warnings=("w",)
    )
    result = score(standard(), inputs)
    assert result.result("error_rate").detail == "last hour"
    assert result.requests == 7 and result.warnings == ("w",)


def test_the_score_is_pure() -> None:
    values = healthy_values(error_rate=0.2)
    first = score(standard(), values)
    assert score(standard(), values) == first
    assert values == healthy_values(error_rate=0.2)


def test_coverage_is_the_share_of_applicable_weight_with_data() -> None:
    result = score(standard(), healthy_values(error_rate=None, slos_healthy=NOT_APPLICABLE))
    assert result.coverage == pytest.approx(50 / 60)  # ingested 30 + reconciled 20 of 60 applicable
    assert score(standard(), healthy_values()).coverage == 1
    assert score(standard(), {}).coverage == 0


def test_below_the_minimum_coverage_there_is_no_score() -> None:
    doc_checks = [check("a", weight=10), check("b", weight=90, scope="tenant")]
    strict = definition(doc_checks, minimumCoverage=0.5)
    thin = {"a": 1.0, "b": {"x": None, "y": None}}
    result = score(strict, thin)
    assert result.coverage == pytest.approx(0.1)
    assert result.score is None and result.uncapped is None
    assert result.held_back_by == ()
    assert [r.name for r in result.checks] == ["a", "b"] and all(r.points == 0 for r in result.checks)
    assert [row.key for row in result.tenants] == ["x", "y"]
    assert all(row.score is None for row in result.tenants)
    # Without a minimum, one check is enough (the rule is then only "all no data: no score").
    assert score(definition(doc_checks), thin).score == 100
    # Not-applicable weight does not count against coverage.
    assert score(strict, {"a": 1.0, "b": {"x": NOT_APPLICABLE}}).score == 100

"""What moved the readiness score between two weeks."""

from __future__ import annotations

import pytest

from app.readiness import Status, format_points, score, what_moved
from tests.readiness_support import TENANTS, check, definition, gate, healthy_values, standard

EIGHT = ("t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8")


def eight_tenants():
    # reconciled weighs 32 of 100: 3 of 8 tenants failing costs 32 x 3/8 = 12 points.
    return definition(
        [check("reconciled", weight=32, scope="tenant"), check("rest", weight=68)],
        [gate("headers", 50)],
    )


def test_three_tenants_falling_from_pass_to_fail() -> None:
    d = eight_tenants()
    before = score(d, {"reconciled": dict.fromkeys(EIGHT, 0.95), "rest": 1.0, "headers": 1.0})
    failing = {"t2": 0.5, "t5": 0.6, "t7": 0.7}
    after = score(d, {"reconciled": {t: failing.get(t, 0.95) for t in EIGHT}, "rest": 1.0, "headers": 1.0})
    assert after.score == pytest.approx(88)
    [move] = what_moved(before, after)
    assert move.name == "reconciled"
    assert move.points == pytest.approx(-12)
    assert (move.before, move.after) == (Status.PASS, Status.FAIL)
    assert [(t.before, t.after, t.tenants) for t in move.transitions] == [
        (Status.PASS, Status.FAIL, ("t2", "t5", "t7"))
    ]
    assert move.text == "Reconciled fell from pass to fail for 3 client firms (t2, t5, t7): −12 points"


def test_nothing_changed_means_nothing_moved() -> None:
    result = score(standard(), healthy_values())
    assert what_moved(result, result) == []


def test_movements_add_up_to_the_change_in_score() -> None:
    d = standard()
    before = score(d, healthy_values(error_rate=0.2, ingested={t: 0.5 for t in TENANTS}))
    after = score(d, healthy_values(slos_healthy=0.5, ingested={"acme": 0.99, "bright": 0.1}, headers=0.9))
    moves = what_moved(before, after)
    assert after.score is not None and before.score is not None
    assert sum(m.points for m in moves) == pytest.approx(after.score - before.score)
    # Biggest move first.
    assert [abs(m.points) for m in moves] == sorted((abs(m.points) for m in moves), reverse=True)


def test_a_gate_starting_to_cap_the_score() -> None:
    d = standard()
    before = score(d, healthy_values(error_rate=0.2))
    after = score(d, healthy_values(error_rate=0.2, headers=0.99))
    [move] = what_moved(before, after)
    assert move.is_gate
    assert move.points == pytest.approx(-40)
    assert move.text == "Headers fell from pass to fail (caps the score at 50): −40 points"


def test_recovery_and_mixed_tenant_transitions() -> None:
    d = standard()
    before = score(d, healthy_values(ingested={"acme": 0.1, "bright": 0.1, "cobalt": 0.99, "dunmore": 0.99}))
    after = score(d, healthy_values(ingested={"acme": 0.99, "bright": 0.1, "cobalt": 0.1, "dunmore": None}))
    [move] = what_moved(before, after)
    assert [(t.before, t.after, t.tenants) for t in move.transitions] == [
        (Status.PASS, Status.FAIL, ("cobalt",)),
        (Status.PASS, Status.NO_DATA, ("dunmore",)),
        (Status.FAIL, Status.PASS, ("acme",)),
    ]
    assert move.text.startswith(
        "Ingested fell from pass to fail for 1 client firm (cobalt); lost its data (was pass) for 1 "
        "client firm (dunmore); recovered from fail to pass for 1 client firm (acme): "
    )


def test_losing_data_moves_other_checks_weights() -> None:
    d = standard()
    before = score(d, healthy_values(error_rate=0.2))  # 90
    after = score(d, healthy_values(error_rate=None))  # 100 over the 90 assessed
    moves = {m.name: m for m in what_moved(before, after)}
    assert moves["error_rate"].text == "Error rate lost its data (was fail): ±0 points"
    assert moves["slos_healthy"].points == pytest.approx(100 * 40 / 90 - 40)
    assert moves["slos_healthy"].transitions == ()
    assert "weighs differently" in moves["slos_healthy"].text
    assert sum(m.points for m in moves.values()) == pytest.approx(10)


def test_from_no_score_at_all() -> None:
    d = standard()
    before = score(d, {})
    after = score(d, healthy_values(error_rate=0.2))
    moves = what_moved(before, after)
    assert sum(m.points for m in moves) == pytest.approx(90)
    assert {m.name: m.text.split(":")[0] for m in moves}["error_rate"] == "Error rate has data again (fail)"


def test_long_tenant_lists_are_shortened() -> None:
    d = eight_tenants()
    before = score(d, {"reconciled": dict.fromkeys(EIGHT, 0.95)})
    after = score(d, {"reconciled": dict.fromkeys(EIGHT, 0.1)})
    [move] = what_moved(before, after)
    assert "for 8 client firms (t1, t2, t3, t4, t5 and 3 more): −100 points" in move.text


def test_ties_in_movement_order_are_alphabetical() -> None:
    d = definition([check("zeta", weight=10), check("alpha", weight=10), check("mid", weight=80)])
    before = score(d, {"zeta": 1.0, "alpha": 1.0, "mid": 1.0})
    after = score(d, {"zeta": 0.0, "alpha": 0.0, "mid": 1.0})
    assert [m.name for m in what_moved(before, after)] == ["alpha", "zeta"]


@pytest.mark.parametrize(
    ("points", "text"),
    [(-12, "−12 points"), (3.46, "+3.5 points"), (0.01, "±0 points"), (1, "+1 point"), (-0.96, "−1 point")],
)
def test_format_points(points: float, text: str) -> None:
    assert format_points(points) == text

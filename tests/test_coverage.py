"""Observability coverage: the five checks judged from backend answers (a failing backend is "no data", never
a pass), the definition file, personal data in logs found with the masking's own patterns, and, on the real
stack, the page and the scorecard against the simulator's model (the `traces_lost` scenario's gap, the
`leak` scenario's share)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from app import links
from app.config import load_config
from app.coverage import checks, definition
from app.coverage import view as coverage_view
from app.scorecard import view as scorecard_view
from app.sources import build_sources
from app.sources.cache import ResultCache
from stack.simulator import leak, model, oncall
from tests.conftest import run_page

PAGE = links.PAGES["coverage"].file
C = definition.coverage()
GATEWAY = next(s for s in C.services if s.name == "gateway")
GOOD_RULES = [
    {"name": "GatewayBurn", "annotations": {"runbook_url": "runbooks/gateway-upload-availability.md"}}
]
ALL_GOOD = checks.ServiceFacts(True, True, True, checks.LogCounts(1000, 995), GOOD_RULES)


def verdicts(facts: checks.ServiceFacts) -> dict[str, str]:
    return {c.name: c.verdict for c in checks.judge(GATEWAY, facts, C, "hour").checks}


def test_a_service_with_everything_passes_all_five():
    judged = checks.judge(GATEWAY, ALL_GOOD, C, "hour")
    assert verdicts(ALL_GOOD) == dict.fromkeys(checks.CHECKS, "pass") and judged.verdict == "pass"


@pytest.mark.parametrize(
    ("change", "failed"),
    [
        ({"target_up": None}, "metrics"),
        ({"exports": None}, "metrics"),
        ({"traced": None}, "traces"),
        ({"logs": None}, "logs"),
    ],
)
def test_a_backend_that_did_not_answer_is_no_data_never_a_pass(change, failed):
    facts = checks.ServiceFacts(**{**ALL_GOOD.__dict__, **change})
    found = verdicts(facts)
    assert found[failed] == "no data" and checks.judge(GATEWAY, facts, C, "hour").verdict == "no data"
    assert checks.share([checks.judge(GATEWAY, facts, C, "hour")]) is None


def test_without_prometheus_rules_both_rule_checks_are_no_data():
    assert verdicts(checks.ServiceFacts(**{**ALL_GOOD.__dict__, "rules": None}))["alert rules"] == "no data"
    assert verdicts(checks.ServiceFacts(**{**ALL_GOOD.__dict__, "rules": None}))["runbooks"] == "no data"


@pytest.mark.parametrize(
    ("change", "failed"),
    [
        ({"target_up": False}, "metrics"),
        ({"exports": False}, "metrics"),
        ({"traced": False}, "traces"),
        ({"logs": checks.LogCounts(0, 0)}, "logs"),
        ({"logs": checks.LogCounts(1000, 989)}, "logs"),  # 98.9% structured: under 99%
        ({"rules": []}, "alert rules"),
        ({"rules": [*GOOD_RULES, {"name": "NoBook", "annotations": {}}]}, "runbooks"),
        ({"rules": [{"name": "Gone", "annotations": {"runbook_url": "runbooks/no-such.md"}}]}, "runbooks"),
    ],
)
def test_each_shortfall_is_a_gap_with_how_to_close_it(change, failed):
    judged = checks.judge(GATEWAY, checks.ServiceFacts(**{**ALL_GOOD.__dict__, **change}), C, "hour")
    gap = judged.check(failed)
    assert gap.verdict == "gap" and gap.fix and judged.verdict == "gap"


def test_exactly_99_percent_structured_passes():
    assert (
        verdicts(checks.ServiceFacts(**{**ALL_GOOD.__dict__, "logs": checks.LogCounts(1000, 990)}))["logs"]
        == "pass"
    )


def test_the_share_counts_every_service_of_the_file_and_is_unknown_while_one_is():
    good = checks.judge(GATEWAY, ALL_GOOD, C, "hour")
    gap = checks.judge(GATEWAY, checks.ServiceFacts(**{**ALL_GOOD.__dict__, "traced": False}), C, "hour")
    unknown = checks.judge(GATEWAY, checks.ServiceFacts(**{**ALL_GOOD.__dict__, "traced": None}), C, "hour")
    assert checks.share([good, gap, good, good]) == 0.75
    # a service that could not be judged makes the share unknown: it is neither a pass nor a gap
    assert checks.share([good, gap, unknown, good]) is None


def test_the_definition_lists_the_simulators_services_and_rejects_a_bad_file(tmp_path: Path):
    assert [s.name for s in C.services] == list(model.SERVICES)
    assert C.target == 1.0 and C.within == timedelta(hours=1) and C.structured_at_least == 0.99
    bad = tmp_path / "observability.yaml"
    bad.write_text(
        "kind: ObservabilityCoverage\nspec:\n  target: 2\n  services: {}\n  leakage: {sample: 0}\n"
    )
    with pytest.raises(definition.CoverageError) as raised:
        definition.coverage(bad)
    said = "\n".join(raised.value.problems)
    assert "spec.target" in said and "spec.services" in said and "spec.leakage.sample" in said


def test_leaked_documents_are_found_with_the_masking_patterns():
    anchor = datetime(2026, 11, 28, 9, tzinfo=UTC)
    start, _ = leak.window(anchor)
    found = None
    for n in range(200):  # the first document of the window that leaks
        found = leak.leaked_values(7, anchor, int(start.timestamp() * 1000) + n, f"k{n}")
        if found:
            break
    assert found
    leaking = {"message": leak.message("GET /returns answered 200", found), "trace_id": "1" * 32}
    clean = {
        "message": "GET /returns answered 200 in 41 ms",
        "trace_id": "4" * 32,
        "span_id": "1234567890123456",
    }
    hits = pd.DataFrame([leaking, clean, clean])
    assert coverage_view.leaking_documents(hits) == 1


def test_the_trend_has_30_utc_days_ending_now():
    at = datetime(2026, 12, 6, 5, 42, tzinfo=UTC)
    days = coverage_view.days(at)
    assert len(days) == 30 and days[-1] == (datetime(2026, 12, 6, tzinfo=UTC), at)
    assert days[0][0] == datetime(2026, 11, 7, tzinfo=UTC) and all(
        e - s <= timedelta(days=1) for s, e in days
    )


# -- the real stack, against the simulator's model ---------------------------------------------------------


def expected_gaps(anchor: datetime, now: datetime) -> set[tuple[str, str]]:
    """The model's gaps now: the traces_lost scenario takes the assistant's spans away from A-3h."""
    lost = model.scenario(oncall.TRACES_LOST, anchor)
    running = lost.start <= now - timedelta(hours=1) and (lost.end is None or now < lost.end)
    return {(oncall.TRACES_LOST_SERVICE, "traces")} if running else set()


@pytest.mark.integration
def test_coverage_on_the_stack_is_the_models(live_mode, live_stack):
    now = datetime.now(UTC)
    view = coverage_view.load(build_sources(load_config()), now, ResultCache())
    assert not view.problems
    gaps = {(s, c.name) for s, c in view.gaps}
    assert gaps == expected_gaps(live_stack.anchor, now)
    assert view.share == pytest.approx((len(C.services) - len({s for s, _ in gaps})) / len(C.services))
    assert all(c.verdict != "no data" for s in view.services for c in s.checks)


@pytest.mark.integration
def test_personal_data_in_logs_is_the_leak_scenarios_share(live_mode, live_stack):
    now = datetime.now(UTC)
    found = coverage_view.load(build_sources(load_config()), now, ResultCache(), trend=False).leakage
    assert found is not None and found.examined == C.leakage_sample
    start, end = leak.window(live_stack.anchor)
    window_start = now - C.leakage_within
    overlap = max(0.0, (min(end, now) - max(start, window_start)) / C.leakage_within)
    expected = leak.SHARE * overlap  # documents spread about evenly over the day: a rough weight
    spread = 4 * math.sqrt(expected * (1 - expected) / found.examined) + 0.01
    assert found.share == pytest.approx(expected, abs=spread)
    assert found.verdict == ("failing" if found.leaking else "passing")


@pytest.mark.integration
def test_the_page_shows_the_gap_the_trend_and_the_control(live_mode, live_stack):
    at = run_page(PAGE)
    assert not at.exception and not at.error
    shown = {m.label: m.value for m in at.metric}
    gaps = expected_gaps(live_stack.anchor, datetime.now(UTC))
    services = len(C.services)
    passing = services - len({s for s, _ in gaps})
    assert shown["Services fully observed"] == f"{passing} of {services} ({passing / services:.0%})"
    assert shown["Playbook target"] == "100%"
    table = next(d.value for d in at.dataframe if "close it" in d.value.columns)
    assert set(zip(table["service"], table["check"], strict=True)) == gaps
    assert at.get("vega_lite_chart") or at.get("arrow_vega_lite_chart")


@pytest.mark.integration
def test_the_scorecards_observability_criterion_is_the_coverage_share(live_mode):
    sources = build_sources(load_config())
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    cache = ResultCache()
    card = scorecard_view.load(sources, now, timedelta(hours=24), cache, trend=False)
    criterion = next(c for c in card.criteria if c.key == "observability.coverage")
    share = coverage_view.load(sources, now, cache, trend=False).share
    assert share is not None and criterion.value == pytest.approx(share)
    assert criterion.verdict == ("met" if share >= C.target else "not met")


def test_no_scrape_target_at_all_is_not_known_and_a_missing_job_is_a_gap():
    """Before Prometheus scraped anything (backfilled history) `up` has no series: the scorecard's figure a
    window earlier read 0% of services observed, a figure made of missing data."""
    nothing = pd.DataFrame({"value": pd.Series([], dtype=float)})
    assert coverage_view._job_up(nothing, "filing") is None
    scraped = pd.DataFrame({"job": ["gateway", "filing"], "value": [1.0, 0.0]})
    assert coverage_view._job_up(scraped, "gateway") is True
    assert coverage_view._job_up(scraped, "filing") is False
    assert coverage_view._job_up(scraped, "assistant") is False  # Prometheus scrapes, but not this service

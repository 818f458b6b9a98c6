"""The acceptance scorecard (app/scorecard/, pages/12_Scorecard.py): the criteria file and its validation, the
criteria judged from their figures, the changes between two instants, and the six scenarios of the simulator
shown on the Scorecard and Security pages of the shipped snapshot (figures from the model)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
import yaml

from app.config import load_config
from app.report import review as rv
from app.report.weeks import WEEK, last_full_week
from app.scorecard import criteria
from app.scorecard import view as scorecard_view
from app.scorecard.definition import DEFAULT_PATH, AcceptanceError, acceptance, parse_acceptance
from app.sources import build_sources, snapshot
from app.sources.cache import ResultCache
from app.units import format_seconds
from stack.simulator import controls, delivery, model
from tests.browser_support import ROOT
from tests.conftest import BACKEND_VARS, run_page, shown, texts
from tests.process_support import free_port
from tests.test_simulator_evidence import median_of_buckets

SOURCE = "slo_definitions/acceptance.yaml"
DAY = timedelta(days=1)


# -- the file --------------------------------------------------------------------------------------------


def test_the_shipped_criteria_hold_the_playbooks_targets():
    a = acceptance()
    assert a.median_duration_below == timedelta(minutes=20) and a.coverage_at_least == 0.8
    assert set(a.golden) == {"extraction", "ledger", "tax"}
    assert {e.name for e in a.experiments} == {"mq-outage", "bank-api-failure", "database-failover"}
    assert set(a.critical_paths) == {"onboarding", "upload", "reconciliation", "filing-approval",
                                     "assistant-answer"}  # fmt: skip
    assert a.observability_at_least == 1.0 and a.grade == "Strong"
    assert set(a.security_controls) == {"secrets-central", "penetration-tests", "soc2-readiness"}


def test_validation_names_the_file_and_the_field_and_reports_everything():
    raw = yaml.safe_load(DEFAULT_PATH.read_text())
    spec = raw["spec"]
    spec["ci"]["medianDurationBelow"] = "soon"
    spec["ci"]["colour"] = "red"
    spec["golden"]["datasets"].pop("tax")
    spec["load"]["p95Below"]["gateway"]["slo"] = "no-such-slo"
    spec["security"]["grade"] = "Excellent"
    spec["security"]["controls"].append("moat")
    with pytest.raises(AcceptanceError) as caught:
        parse_acceptance(raw, SOURCE)
    expected = [
        "spec.ci.colour: unknown key",
        "spec.ci.medianDurationBelow: ",
        "spec.golden.datasets: needs one dataset for each of extraction, ledger, tax",
        "spec.load.p95Below.gateway.slo: no SLO 'no-such-slo'",
        "spec.security.grade: must be one of",
        "spec.security.controls: no control 'moat' in controls.yaml",
    ]
    problems = caught.value.problems
    for text in expected:
        assert any(p.startswith(f"{SOURCE}: {text}") for p in problems), (text, problems)
    assert len(problems) == len(expected)


# -- criteria from their figures -------------------------------------------------------------------------


def frame(label: str | None, values: dict[str, float]) -> criteria.Answer:
    rows = [{**({label: k} if label else {}), "value": v} for k, v in values.items()]
    return criteria.Answer(pd.DataFrame(rows, columns=[*([label] if label else []), "value"]))


def healthy() -> dict[str, criteria.Answer]:
    a = acceptance()
    golden = [(a.golden[k], o) for k in a.golden for o in ("total", "vat")]
    pairs = pd.DataFrame(golden, columns=["dataset", "output"])
    return {
        "ci_runs": frame("result", {"success": 95, "failure": 5}),
        "ci_median_duration": frame(None, {"": 780.0}),
        "ci_blocking": frame("check", dict.fromkeys(a.blocking_checks, 1.0)),
        "unit_coverage": frame("service", dict.fromkeys(a.services, 0.85)),
        "e2e_results": frame("path", dict.fromkeys(a.critical_paths, 1.0)),
        "e2e_age": frame("path", dict.fromkeys(a.critical_paths, 3600.0)),
        "nightly_results": frame("result", {"passed": 1900, "failed": 0, "skipped": 12}),
        "nightly_age": frame(None, {"": 7200.0}),
        "golden_divergence": criteria.Answer(pairs.assign(value=0.001)),
        "golden_tolerance": criteria.Answer(pairs.assign(value=0.005)),
        "golden_hash": frame("dataset", dict.fromkeys(a.golden.values(), 1.0)),
        "golden_age": frame("dataset", dict.fromkeys(a.golden.values(), 600.0)),
        "chaos_results": frame("experiment", {e.name: 1.0 for e in a.experiments}),
        "chaos_recovery": frame("experiment", {e.name: 30.0 for e in a.experiments}),
        "chaos_age": frame("experiment", {e.name: 86400.0 for e in a.experiments}),
        "load_p95": frame("service", {t.service: 0.5 for t in a.load_targets}),
        "load_age": frame(None, {"": 86400.0}),
    }


def judged(answers) -> dict[str, criteria.Criterion]:
    a = acceptance()
    found = (
        criteria.ci(a, answers, DAY)
        + criteria.tests(a, answers)
        + criteria.golden(a, answers)
        + criteria.chaos(a, answers)
        + [criteria.load(a, answers)]
    )
    return {c.key: c for c in found}


def test_every_figure_within_its_target_meets_every_criterion():
    verdicts = {k: c.verdict for k, c in judged(healthy()).items()}
    assert len(verdicts) == 14 and set(verdicts.values()) == {"met"}


def test_a_missing_figure_is_no_data_never_met():
    down = criteria.Answer(None, "Prometheus is not answering")
    every = judged(dict.fromkeys(healthy(), down))
    assert {c.verdict for c in every.values()} == {"no data"}
    assert all("Prometheus is not answering" in c.reason for c in every.values())
    a = acceptance()
    partial = healthy() | {
        "unit_coverage": frame("service", dict.fromkeys(a.services[1:], 0.9)),
        "e2e_results": frame("path", dict.fromkeys(a.critical_paths[:-1], 1.0)),
        "chaos_results": frame("experiment", {"mq-outage": 1.0}),
        "ci_runs": frame("result", {}),
        "ci_median_duration": frame(None, {}),
    }
    some = judged(partial)
    assert some["tests.coverage"].verdict == "no data" and a.services[0] in some["tests.coverage"].reason
    assert some["tests.e2e"].verdict == "no data" and a.critical_paths[-1] in some["tests.e2e"].reason
    assert some["chaos.database-failover"].verdict == "no data" and some["chaos.mq-outage"].verdict == "met"
    assert some["ci.runs"].verdict == "not met" and some["ci.pass_rate"].verdict == "no data"
    assert some["ci.median_duration"].verdict == "no data"
    assert criteria.observability(a, None, "no coverage view").verdict == "no data"
    assert criteria.security(a, None, {}, "not loaded")[0].verdict == "no data"


def test_each_breach_is_not_met_and_says_which():
    a = acceptance()
    extraction = a.golden["extraction"]
    answers = healthy()
    divergence = answers["golden_divergence"].frame
    assert divergence is not None
    broken = answers | {
        "ci_median_duration": frame(None, {"": 1500.0}),
        "ci_blocking": frame("check", dict.fromkeys(a.blocking_checks, 1.0) | {"lint": 0.0}),
        "golden_divergence": criteria.Answer(
            divergence.assign(
                value=[
                    0.03 if d == extraction and o == "vat" else 0.001
                    for d, o in zip(divergence["dataset"], divergence["output"])
                ]
            )
        ),  # fmt: skip
        "chaos_results": frame(
            "experiment", {e.name: float(e.name != "database-failover") for e in a.experiments}
        ),
        "load_p95": frame("service", {t.service: 0.5 for t in a.load_targets} | {"assistant": 9.0}),
        "nightly_age": frame(None, {"": 30 * 3600.0}),
    }
    c = judged(broken)
    assert c["ci.median_duration"].verdict == "not met" and c["ci.median_duration"].figure == "25 min"
    assert c["ci.blocking"].verdict == "not met" and "lint does not block" in c["ci.blocking"].reason
    golden = c["golden.extraction"]
    assert golden.verdict == "not met" and golden.figure == "vat 3% (tolerance 0.5%)"
    assert golden.reason == f"In {extraction}, vat diverges by 3%, beyond its 0.5% tolerance."
    assert c["golden.ledger"].verdict == "met"
    failover = c["chaos.database-failover"]
    assert failover.verdict == "not met" and "did not hold" in failover.reason
    assert c["load.p95"].verdict == "not met" and c["load.p95"].reason == "Assistant p95 9 s above 8 s."
    assert c["tests.nightly"].verdict == "not met" and "older than" in c["tests.nightly"].reason


def test_direction_and_changes_worse_first():
    ok = criteria.Criterion("ci.median_duration", "CI", "Median", "", "13 min", "met", "", 780.0, "lower")
    slow = criteria.Criterion(
        "ci.median_duration", "CI", "Median", "", "24 min", "not met", "", 1440.0, "lower"
    )
    more = criteria.Criterion("ci.runs", "CI", "Runs", "", "40 runs", "met", "", 40.0, "either")
    fewer = criteria.Criterion("ci.runs", "CI", "Runs", "", "17 runs", "met", "", 17.0, "either")
    up = criteria.Criterion("tests.coverage", "Tests", "Coverage", "", "74%", "not met", "", 0.74)
    down = criteria.Criterion("tests.coverage", "Tests", "Coverage", "", "73%", "not met", "", 0.73)
    assert scorecard_view.direction(ok, slow) == "worse" and scorecard_view.direction(slow, ok) == "better"
    assert scorecard_view.direction(more, fewer) == "changed" and scorecard_view.direction(up, up) == "same"
    assert scorecard_view.direction(down, up) == "better"
    a_bit_slower = criteria.Criterion(
        "ci.median_duration", "CI", "Median", "", "13 min", "met", "", 790.0, "lower"
    )
    assert scorecard_view.direction(ok, a_bit_slower) == "same"  # 13 min → 13 min is not a move

    def card(*found: criteria.Criterion) -> scorecard_view.Scorecard:
        return scorecard_view.Scorecard(snapshot_at(), DAY, list(found), None, None, {})

    moved = scorecard_view.changes(card(down, more, ok), card(up, fewer, slow))
    assert [(m.key, m.direction) for m in moved] == [
        ("ci.median_duration", "worse"),
        ("ci.runs", "changed"),
        ("tests.coverage", "better"),
    ]
    assert moved[0].text == "CI · Median: 13 min → 24 min (met → not met)."


# -- the scenarios on the shipped snapshot (figures from the model) ----------------------------------------

SHIPPED = snapshot.load(ROOT / "snapshots" / "demo.json.gz")
SEED = 7


def snapshot_at():
    return SHIPPED.recorded_at


@pytest.fixture(scope="module")
def m() -> model.Model:
    return model.get_model(SHIPPED.anchor, SEED)


def scorecard_rows(at) -> pd.DataFrame:
    return at.dataframe[0].value.set_index("criterion")


def test_the_scorecard_shows_the_ci_golden_and_chaos_scenarios(snapshot_mode, m):
    end = SHIPPED.recorded_at
    at = run_page("pages/12_Scorecard.py")  # the last 24 hours
    assert not at.error, [e.value for e in at.error]
    rows = scorecard_rows(at)
    a = acceptance()

    # CI slowdown: the median run over the day is past 20 minutes; a day earlier it was under.
    assert delivery.scenario("ci_slowdown", SHIPPED.anchor).start <= end - DAY
    median, before = median_of_buckets(m, end - DAY, end), median_of_buckets(m, end - 2 * DAY, end - DAY)
    assert before < 1200 < median
    row = rows.loc["Median run time"]
    assert (row["verdict"], row["trend"]) == ("not met", "↓ worse")
    shown_now = float(row["now"].removesuffix(" min")) * 60
    assert shown_now == pytest.approx(median, abs=60)  # Prometheus extrapolates the increase a little
    assert float(row["before"].removesuffix(" min")) * 60 == pytest.approx(before, abs=60)
    failures = m.counter_increase("ci_pipeline_runs_total", {"result": "failure"}, end - DAY, end)
    rate = 1 - failures / m.counter_increase("ci_pipeline_runs_total", {}, end - DAY, end)
    assert float(rows.loc["Pass rate", "now"].removesuffix("%")) / 100 == pytest.approx(rate, abs=0.03)

    # Golden regression: the extraction dataset's output beyond its tolerance, named.
    dataset = a.golden["extraction"]
    labels = {"dataset": dataset, "output": "vat_amount"}
    divergence = m.gauge_value("golden_dataset_divergence_ratio", labels, end)
    tolerance = m.gauge_value("golden_dataset_tolerance_ratio", labels, end)
    assert divergence > tolerance
    golden = rows.loc["Golden extraction outputs"]
    expected = f"vat_amount {criteria.percent(divergence)} (tolerance {criteria.percent(tolerance)})"
    assert (golden["now"], golden["verdict"]) == (expected, "not met")
    texts = [shown(md.value) for md in at.markdown]
    assert any(f"In {dataset}, vat_amount diverges by {criteria.percent(divergence)}" in t for t in texts)
    assert set(rows.loc[["Golden ledger outputs", "Golden tax outputs"], "verdict"]) == {"met"}

    # A failed chaos experiment: database failover, its recovery time the model's.
    for e in a.experiments:
        held = m.gauge_value("chaos_experiment_last_result", {"experiment": e.name}, end)
        took = m.gauge_value("chaos_experiment_recovery_seconds", {"experiment": e.name}, end)
        row = rows.loc[f"Chaos: {e.title}"]
        assert row["now"] == f"{'held' if held else 'failed'}, recovered in {format_seconds(took)}"
        assert row["verdict"] == ("met" if held and took <= e.recover_within.total_seconds() else "not met")
    assert rows.loc["Chaos: Database failover", "verdict"] == "not met"

    # Every row of the table is a criterion; the headline counts them.
    counts = rows["verdict"].value_counts()
    assert at.metric[0].value == f"{counts.get('met', 0)} of {len(rows)}"
    # The coverage page's share: the assistant's traces are lost (the model's `traces_lost`), 5 of 6 services.
    assert rows.loc["Observability coverage", "verdict"] == "not met"
    assert rows.loc["Observability coverage", "now"].startswith("83")
    assert not (rows.loc[rows["now"] == "no data", "verdict"] == "met").any()


def test_the_security_page_shows_the_restore_replication_and_export_scenarios(snapshot_mode, m):
    end = SHIPPED.recorded_at
    at = run_page("pages/9_Security.py")
    assert not at.error, [e.value for e in at.error]
    table = at.tabs[0].dataframe[0].value.set_index("control")
    lines = [shown(md.value) for md in at.markdown]

    # A failed restore drill: the documents store's, with its restore time.
    assert m.gauge_value("restore_drill_last_success", {"target": "documents"}, end) == 0
    took = m.gauge_value("restore_drill_last_duration_seconds", {"target": "documents"}, end)
    assert table.loc["Restore drills", "status"] == "failing"
    assert any(
        "Restore drills" in t and f"documents {format_seconds(took)}, outside the limit" in t for t in lines
    )
    # Its three checks in one line that tells them apart: how many pass, and for which store they fail.
    drilled = [
        end.timestamp() - m.gauge_value("restore_drill_last_timestamp_seconds", {"target": t}, end)
        for t in model.BACKUPS
    ]
    failing = 1 + (took > 3600) + (max(drilled) > 8 * 86400)  # the documents drill failed: one at least
    assert table.loc["Restore drills", "evidence"] == f"{3 - failing} of 3 checks pass; failing for documents"

    # Replication lag over the 15-minute RPO for documents (the last scrape's, a minute either way).
    lags = {
        round(m.gauge_value("replication_lag_seconds", {"store": "documents"}, t))
        for t in (end - timedelta(minutes=1), end)
    }
    assert min(lags) > 900
    assert table.loc["Cross-region replication", "status"] == "failing"
    assert any(
        "Cross-region replication" in t and any(f"documents {format_seconds(s)}, outside" in t for s in lags)
        for t in lines
    )

    # An export without admin approval: who and when, as the model wrote it.
    when = controls.scenario("unapproved_export", SHIPPED.anchor).start
    assert table.loc["Admin approval for exports and role changes", "status"] == "failing"
    assert any(
        f"data.export by {controls.UNAPPROVED_EXPORT_ACTOR} at {when:%a %d %b %H:%M} UTC had no admin" in t
        for t in lines
    )
    unapproved = at.tabs[2].dataframe[2].value
    assert list(unapproved["actor"]) == [controls.UNAPPROVED_EXPORT_ACTOR]
    assert "[UTR]" in unapproved.iloc[0]["details"]


def test_the_weekly_review_carries_the_scorecards_changes(snapshot_mode):
    """The weekly review's scorecard is the Scorecard page's over a week at the review's time: the same
    figures, and the same moves against the week before."""
    sources = build_sources(load_config())
    end = SHIPPED.recorded_at.replace(second=0, microsecond=0)
    card = scorecard_view.load(sources, end, WEEK, ResultCache())
    week = last_full_week(end + WEEK)  # the week in progress at the recording
    review = rv.load(sources, week, ResultCache(), at=end)
    assert review.scorecard is not None
    assert [c.figure for c in review.scorecard.criteria] == [c.figure for c in card.criteria]
    assert review.scorecard_changes == scorecard_view.changes(card.previous, card)
    # The model's golden regression began inside the week (a day's CI slowdown does not move a week's median).
    assert "golden.extraction" in {c.key for c in review.scorecard_changes}
    assert review.scorecard_changes[0].direction == "worse"


def test_a_missing_figure_makes_the_direction_not_known_never_same():
    """Two "no data" figures are equal strings, and that is not "nothing changed": whenever a figure is
    missing at either instant (or the criterion was not there), which way it moved is not known."""
    runs = criteria.Criterion("ci.runs", "CI", "Runs", "", "40 runs", "met", "", 40.0, "either")
    blind = criteria.Criterion("ci.runs", "CI", "Runs", "", "no data", "no data", "", None, "either")
    unknown = criteria.Criterion("security.grade", "Security", "Grade", "", "Unknown", "no data", "")
    for before, after in ((blind, blind), (runs, blind), (blind, runs), (None, runs), (unknown, unknown)):
        assert scorecard_view.direction(before, after) == "not known", (before, after)

    def card(*found: criteria.Criterion, before: scorecard_view.Scorecard | None = None):
        return scorecard_view.Scorecard(snapshot_at(), DAY, list(found), before, None, {})

    assert scorecard_view.changes(card(runs), card(blind)) == []  # not a move: a gap
    assert scorecard_view.comparison_gaps(card(runs), card(blind)) == (
        "1 of 1 criteria have no figure now or a window earlier (Runs), so whether they moved is not known."
    )


def test_the_scorecard_page_trend_is_not_known_exactly_where_a_figure_is_missing(snapshot_mode):
    """On the demo a row's trend is "not known" when it has no figure now or a range earlier (or no verdict),
    and a direction wherever both figures are there; the demo's coverage has figures, and moved."""
    rows = scorecard_rows(run_page("pages/12_Scorecard.py"))
    blind = (rows["now"] == "no data") | (rows["before"] == "no data") | (rows["verdict"] == "no data")
    assert ((rows["trend"] == "? not known") == blind).all(), rows.loc[blind, "trend"]
    assert not rows["trend"].isna().any()
    coverage = rows.loc["Observability coverage"]
    assert coverage["now"] != coverage["before"] and coverage["trend"] in {"↓ worse", "↑ better"}


def test_nothing_moved_is_said_only_when_every_criterion_has_figures_at_both_instants():
    def card(*found: criteria.Criterion, before: scorecard_view.Scorecard | None = None):
        return scorecard_view.Scorecard(snapshot_at(), DAY, list(found), before, None, {})

    runs = criteria.Criterion("ci.runs", "CI", "Runs", "", "40 runs", "met", "", 40.0, "either")
    blind = criteria.Criterion("ci.runs", "CI", "Runs", "", "no data", "no data", "", None, "either")
    assert scorecard_view.comparison_gaps(card(runs), card(runs)) is None
    assert scorecard_view.changes(card(blind), card(blind)) == []  # nothing is seen to move...
    gaps = scorecard_view.comparison_gaps(card(blind), card(blind))  # ...and that is not "nothing moved"
    assert gaps == (
        "1 of 1 criteria have no figure now or a window earlier (Runs), so whether they moved is not known."
    )
    assert scorecard_view.comparison_gaps(card(blind), card(runs)) == gaps
    assert "could not be loaded" in scorecard_view.comparison_gaps(None, card(runs))


@pytest.mark.parametrize("page", ["pages/12_Scorecard.py", "pages/3_Weekly_review.py"])
def test_a_failing_prometheus_never_reads_as_nothing_moved(monkeypatch, page):
    for name in (*BACKEND_VARS, "SEXTANT_SNAPSHOT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SEXTANT_PROMETHEUS_URL", f"http://127.0.0.1:{free_port()}")
    drawn = texts(run_page(page))
    assert "No criterion moved" not in drawn
    assert "criteria have no figure now or a window earlier" in drawn


# -- live, on the real stack -----------------------------------------------------------------------------


@pytest.mark.integration
def test_the_scenarios_live(live_mode):
    """The six scenarios on the running stack's pages, judged now (the model says each is on now)."""
    live = model.get_model(live_mode.anchor, live_mode.seed)
    end = datetime.now(UTC).replace(second=0, microsecond=0)
    assert median_of_buckets(live, end - DAY, end) > 1200  # the CI slowdown
    extraction = {"dataset": acceptance().golden["extraction"], "output": "vat_amount"}
    assert live.gauge_value("golden_dataset_divergence_ratio", extraction, end) > 0.005

    card = run_page("pages/12_Scorecard.py", range="24h")
    assert not card.error, [e.value for e in card.error]
    rows = scorecard_rows(card)
    assert rows.loc["Median run time", "verdict"] == "not met"
    golden = rows.loc["Golden extraction outputs"]
    assert golden["verdict"] == "not met" and golden["now"].startswith("vat_amount ")
    assert rows.loc["Chaos: Database failover", "verdict"] == "not met"
    assert rows.loc["Chaos: MQ outage", "verdict"] == "met"
    assert rows.loc["Load test (peak-deadline): p95 per service", "verdict"] == "met"

    security = run_page("pages/9_Security.py", range="7d")  # the export stays in range all day
    assert not security.error, [e.value for e in security.error]
    table = security.tabs[0].dataframe[0].value.set_index("control")
    for control in (
        "Restore drills",
        "Cross-region replication",
        "Admin approval for exports and role changes",
    ):
        assert table.loc[control, "status"] == "failing", control
    assert table.loc["Encryption at rest", "status"] == "met"
    assert security.metric[0].value == "Weak"
    unapproved = security.tabs[2].dataframe[2].value
    assert controls.UNAPPROVED_EXPORT_ACTOR in set(unapproved["actor"])


def test_a_control_without_a_status_is_named_by_its_title_not_its_id():
    """The controls could not be loaded in time: their rows are "no data" under the controls' titles."""
    a = acceptance()
    titles = scorecard_view.control_titles()
    rows = criteria.security(a, None, {}, "the security controls could not be loaded in time", titles)
    controls_rows = [c for c in rows if c.key != "security.grade"]
    assert {c.title for c in controls_rows} == {titles[i] for i in a.security_controls}
    assert not {c.title for c in controls_rows} & set(a.security_controls)  # words, not ids
    assert {c.verdict for c in rows} == {"no data"}


def test_a_move_names_its_criterion_once():
    """ "Chaos: MQ outage" already says its area: not "Chaos · Chaos: MQ outage"."""

    def card(*found: criteria.Criterion, before: scorecard_view.Scorecard | None = None):
        return scorecard_view.Scorecard(snapshot_at(), DAY, list(found), before, None, {})

    def chaos(took: float) -> criteria.Criterion:
        figure = f"held, recovered in {took:.0f} s"
        return criteria.Criterion(
            "chaos.mq", "Chaos", "Chaos: MQ outage", "", figure, "met", "", took, "lower"
        )

    runs = criteria.Criterion("ci.runs", "CI", "Runs", "", "40 runs", "met", "", 40.0, "either")
    more = criteria.Criterion("ci.runs", "CI", "Runs", "", "45 runs", "met", "", 45.0, "either")
    moved = scorecard_view.changes(card(chaos(33), runs), card(chaos(45), more))
    assert [m.text for m in moved] == [
        "Chaos: MQ outage: held, recovered in 33 s → held, recovered in 45 s.",
        "CI · Runs: 40 runs → 45 runs.",
    ]

"""The simulator's security and delivery evidence (stack/simulator/controls.py, delivery.py): the README's
figures, the six scenarios at and around the anchor, audit approvals and the findings documents."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from stack.simulator import controls, delivery, events, model
from stack.simulator.exposition import prometheus_text

ANCHOR = model.parse_anchor("2026-03-20T12:00:00Z")  # a Friday, noon
SEED = 7
H = timedelta(hours=1)
MINUTE = timedelta(minutes=1)


@pytest.fixture(scope="module")
def m() -> model.Model:
    return model.get_model(ANCHOR, SEED)


def gauge(m: model.Model, metric: str, t, **labels: str) -> float:
    return m.gauge_value(metric, labels, t)


def median_of_buckets(m: model.Model, start, end) -> float:
    """histogram_quantile(0.5) over the CI duration buckets' increase in [start, end), as Prometheus does it:
    linear within the bucket that holds the middle run."""
    bounds = [float(le) for le in delivery.CI_LE[:-1]]
    cum = [
        m.counter_increase("ci_pipeline_duration_seconds_bucket", {"le": le}, start, end)
        for le in delivery.CI_LE
    ]
    rank = 0.5 * cum[-1]
    for i, upper in enumerate(bounds):
        if cum[i] >= rank:
            lower, below = (bounds[i - 1], cum[i - 1]) if i else (0.0, 0.0)
            return lower + (upper - lower) * (rank - below) / (cum[i] - below)
    return bounds[-1]


def test_every_evidence_family_is_exported_with_help_and_type(m):
    text = prometheus_text(m.values_at(model.HISTORY_MINUTES))
    families = {s.family for s in controls.series() + delivery.series()}
    for family in families:
        name = f"{family}_total" if family == "ci_pipeline_runs" else family
        assert f"# HELP {name} " in text and f"# TYPE {name} " in text, family
    assert {**controls.HELP, **delivery.HELP}.keys() == families


def test_restore_drill_failed(m):
    s = controls.scenario("restore_drill_failed", ANCHOR)
    assert s.start == ANCHOR - 9 * H and s.end == s.start + timedelta(days=7)
    before, during = s.start - MINUTE, s.start
    assert gauge(m, "restore_drill_last_success", before, target="documents") == 1
    assert gauge(m, "restore_drill_last_success", during, target="documents") == 0
    assert gauge(m, "restore_drill_last_duration_seconds", ANCHOR, target="documents") == 11_400
    assert gauge(m, "restore_drill_last_timestamp_seconds", ANCHOR, target="documents") == s.start.timestamp()
    for store in ("postgres", "opensearch"):  # the other stores' drills pass, within 12% of typical
        assert gauge(m, "restore_drill_last_success", ANCHOR, target=store) == 1
        took = gauge(m, "restore_drill_last_duration_seconds", ANCHOR, target=store)
        assert abs(took / controls.DRILL_RESTORE_S[store] - 1) <= 0.12 + 1e-9
        last = gauge(m, "restore_drill_last_timestamp_seconds", ANCHOR, target=store)
        assert last == ANCHOR.timestamp() - controls.DRILL_BEFORE_ANCHOR_S[store]


def test_replication_lag(m):
    s = controls.scenario("replication_lag", ANCHOR)
    assert (s.start, s.end) == (ANCHOR - 3 * H, ANCHOR + 24 * H)
    lag = m.gauge_series("replication_lag_seconds", {"store": "documents"}, s.start - 24 * H, s.start)
    assert lag.max() < 900  # under the RPO before the scenario
    assert gauge(m, "replication_lag_seconds", s.start + 4 * H, store="documents") == 2700
    assert gauge(m, "replication_lag_seconds", ANCHOR + 20 * H, store="documents") == 2700
    assert gauge(m, "replication_lag_seconds", ANCHOR, store="documents") > 900
    assert gauge(m, "replication_lag_seconds", s.end, store="documents") < 900
    assert m.gauge_series("replication_lag_seconds", {"store": "postgres"}, s.start, s.end).max() < 30


def test_unapproved_export_and_approvals(m):
    gen = events.EventGenerator(ANCHOR, SEED, m)
    when = controls.scenario("unapproved_export", ANCHOR).start
    assert when == ANCHOR - timedelta(hours=2, minutes=15)
    docs = gen.audit(model.HISTORY_DAYS - 1)
    needs = [d for d in docs if d["action"] in controls.NEEDS_APPROVAL]
    assert needs and {d["outcome"] for d in needs} >= {"success"}
    unapproved = [d for d in needs if d["outcome"] == "success" and "approved_by" not in d]
    assert [(d["actor"], d["@timestamp"]) for d in unapproved] == [
        (controls.UNAPPROVED_EXPORT_ACTOR, when.strftime("%Y-%m-%dT%H:%M:%S.000Z"))
    ]
    assert "[UTR]" in unapproved[0]["details"]  # masked before ingest
    for d in needs:
        if d["outcome"] == "success" and d is not unapproved[0]:
            assert d["approved_by"].startswith(f"user:{d['tenant']}/admin")
        if d["outcome"] == "denied":
            assert "approved_by" not in d
    earlier = gen.audit(model.HISTORY_DAYS - 2)
    assert all(
        "approved_by" in d
        for d in earlier
        if d["action"] in controls.NEEDS_APPROVAL and d["outcome"] == "success"
    )


def test_keys_encryption_scanner_and_soc2_at_the_anchor(m):
    for key, (ago, _) in controls.KEYS.items():
        assert (
            gauge(m, "encryption_key_last_rotated_timestamp_seconds", ANCHOR, key=key)
            == (ANCHOR - ago).timestamp()
        )
    client = gauge(m, "documents_stored", ANCHOR, encryption="client_side")
    legacy = gauge(m, "documents_stored", ANCHOR, encryption="server_side_only")
    assert legacy == 1500 and client == 2_000_000 + 0.6 * 30 * 86400
    assert gauge(m, "secret_scan_findings", ANCHOR - 13 * 24 * H, repository="tax-engine") == 2
    assert gauge(m, "secret_scan_findings", ANCHOR, repository="tax-engine") == 0
    complete = gauge(m, "compliance_checklist_items", ANCHOR, framework="soc2-type2", status="complete")
    open_items = gauge(m, "compliance_checklist_items", ANCHOR, framework="soc2-type2", status="open")
    assert (complete, complete + open_items) == (58, 64)


def test_ci_runs_and_the_slowdown(m):
    slow = delivery.scenario("ci_slowdown", ANCHOR)
    assert (slow.start, slow.end) == (ANCHOR - 30 * H, ANCHOR + 24 * H)
    week_before = (ANCHOR - timedelta(days=8), ANCHOR - timedelta(days=7))
    assert median_of_buckets(m, *week_before) < 1200 < median_of_buckets(m, ANCHOR - 24 * H, ANCHOR)
    runs = m.counter_increase("ci_pipeline_runs_total", {}, ANCHOR - timedelta(days=7), ANCHOR)
    count = m.counter_increase("ci_pipeline_duration_seconds_count", {}, ANCHOR - timedelta(days=7), ANCHOR)
    inf = m.counter_increase(
        "ci_pipeline_duration_seconds_bucket", {"le": "+Inf"}, ANCHOR - timedelta(days=7), ANCHOR
    )
    assert runs == count == inf > 100
    failures = m.counter_increase("ci_pipeline_runs_total", {"result": "failure"}, *week_before)
    total = m.counter_increase("ci_pipeline_runs_total", {}, *week_before)
    assert failures / total < 0.2  # 8% outside the golden regression


def test_golden_regression(m):
    s = delivery.scenario("golden_regression", ANCHOR)
    assert (s.start, s.end) == (ANCHOR - 20 * H, ANCHOR + 24 * H)
    labels = {"dataset": "extraction-golden-v7", "output": "vat_amount"}
    assert m.gauge_value("golden_dataset_divergence_ratio", labels, ANCHOR) == 0.031
    before = m.gauge_series("golden_dataset_divergence_ratio", labels, s.start - 24 * H, s.start - H)
    assert before.max() <= 0.005
    for dataset, outputs in delivery.GOLDEN.items():
        for output, tolerance in outputs.items():
            if (dataset, output) == ("extraction-golden-v7", "vat_amount"):
                continue
            share = gauge(m, "golden_dataset_divergence_ratio", ANCHOR, dataset=dataset, output=output)
            assert share <= tolerance and (tolerance > 0 or share == 0)
        assert gauge(m, "golden_dataset_hash_verified", ANCHOR, dataset=dataset) == 1
    failures = m.counter_increase("ci_pipeline_runs_total", {"result": "failure"}, s.start, ANCHOR)
    assert failures / m.counter_increase("ci_pipeline_runs_total", {}, s.start, ANCHOR) > 0.6
    ran = gauge(m, "nightly_regression_last_run_timestamp_seconds", ANCHOR)
    failed = gauge(m, "nightly_regression_tests", ANCHOR, result="failed")
    assert failed == (3 if s.start.timestamp() <= ran else 0)


def test_failed_chaos_experiment(m):
    s = delivery.scenario("chaos_experiment_failed", ANCHOR)
    assert s.start == ANCHOR - 26 * H
    labels = {"experiment": "database-failover"}
    assert m.gauge_value("chaos_experiment_last_result", labels, s.start - MINUTE) == 1
    assert m.gauge_value("chaos_experiment_last_result", labels, ANCHOR) == 0
    assert m.gauge_value("chaos_experiment_recovery_seconds", labels, ANCHOR) == 412
    for experiment in ("mq-outage", "bank-api-failure"):
        assert gauge(m, "chaos_experiment_last_result", ANCHOR, experiment=experiment) == 1


def test_coverage_load_test_and_end_to_end(m):
    assert gauge(m, "unit_test_coverage_ratio", ANCHOR, service="assistant") == 0.74
    month_ago = gauge(m, "unit_test_coverage_ratio", ANCHOR - timedelta(days=30), service="assistant")
    assert month_ago == pytest.approx(0.69, abs=1e-9)
    ran = gauge(m, "load_test_last_run_timestamp_seconds", ANCHOR, test="peak-deadline")
    assert ran == (ANCHOR - timedelta(hours=46)).timestamp()
    for service, p95 in delivery.LOAD_TEST_P95_S.items():
        shown = gauge(m, "load_test_p95_seconds", ANCHOR, test="peak-deadline", service=service)
        assert abs(shown / p95 - 1) <= 0.08 + 1e-3
    for path in delivery.E2E_PATHS:
        assert gauge(m, "e2e_test_last_result", ANCHOR, path=path) == 1
    blocking = {c: gauge(m, "ci_check_blocking", ANCHOR, pipeline="main", check=c) for c in delivery.CHECKS}
    assert blocking == {c: float(b) for c, b in delivery.CHECKS.items()}


def test_findings_documents():
    docs = controls.findings(ANCHOR)
    ids = [d["id"] for d in docs]
    assert len(ids) == len(set(ids)) == controls.PENTESTS + len(controls.FINDINGS)
    tests = [d for d in docs if d["kind"] == "pentest"]
    assert tests[0]["ended_at"] == (ANCHOR - timedelta(days=40)).strftime("%Y-%m-%dT%H:%M:%SZ")
    found = [d for d in docs if d["kind"] == "finding"]
    assert {d["source"] for d in found} >= {
        tests[0]["id"],
        tests[1]["id"],
        "dependency-scan",
        "container-scan",
    }
    assert all(("fixed_at" in d) == (d["status"] == "fixed") for d in found)
    assert np.all([d["found_at"] <= ANCHOR.strftime("%Y-%m-%dT%H:%M:%SZ") for d in found])

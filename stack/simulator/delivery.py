"""The delivery pipeline's evidence, exported as a CI system and its test runners would: scraped metrics.

A CI exporter beside the CI system (the way GitLab's or Jenkins' Prometheus exporters work) exposes the
pipeline runs and their durations, which checks block a merge, unit coverage per service, the end-to-end
critical paths, the nightly regression, the golden datasets, the chaos experiments and the last
peak-deadline load test. Scraping (rather than Pushgateway) keeps one path for every series: the backfill
writes their 30 days of history, the exporter serves them live, exactly as the platform's own metrics.

Hooked into model.py's catalogue and generators (`series`, `generators`); the scenarios (`scenarios`) sit
around the anchor. The README's "Delivery evidence" section is the contract.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import numpy as np

from . import model
from .controls import DAY, H, last_event, unit_noise

PIPELINE = "main"
CI_RUNS_PER_HOUR = 4.0  # at the working-day peak
CI_FAILURE = 0.08
GOLDEN_REGRESSION_FAILURE = 0.85  # the golden check blocks the merge: most runs fail while it regresses
CI_MEDIAN_S = 780.0  # 13 minutes
CI_SIGMA = 0.25
CI_SLOWDOWN = 1.9  # ci_slowdown: every run takes 1.9 times as long (median about 25 minutes)
CI_BOUNDS = (300.0, 600.0, 900.0, 1200.0, 1500.0, 1800.0, 2400.0, 3600.0)
CI_LE = ("300", "600", "900", "1200", "1500", "1800", "2400", "3600", "+Inf")
# check -> blocking a merge on main (1) or not (0)
CHECKS = {"unit-tests": 1, "integration-tests": 1, "lint": 1, "golden-regression": 1, "e2e": 0}

# Unit test coverage per service: the figure at the anchor and its change over the 30 days before it (it
# moves once a day, with the nightly build).
COVERAGE = {
    "gateway": (0.86, 0.01),
    "ingestion": (0.83, 0.02),
    "extraction": (0.81, 0.03),
    "reconciliation": (0.88, 0.0),
    "filing": (0.91, 0.01),
    "assistant": (0.74, 0.05),
}
E2E_PATHS = ("onboarding", "upload", "reconciliation", "filing-approval", "assistant-answer")
E2E_AT_S = int(1.5 * H)  # nightly at 01:30 UTC
NIGHTLY_AT_S = 2 * H  # nightly regression at 02:00 UTC
NIGHTLY_TESTS_AT_T0 = 1840
NIGHTLY_TESTS_PER_DAY = 3
NIGHTLY_GOLDEN_TESTS = 3  # failing during a golden regression

# Golden datasets: dataset -> output -> tolerance (largest share diverging from the reviewed output)
GOLDEN = {
    "extraction-golden-v7": {"invoice_total": 0.005, "vat_amount": 0.005, "supplier_vat_number": 0.0},
    "ledger-golden-2026q3": {"account_balances": 0.0, "matched_transactions": 0.001},
    "tax-golden-2026": {"vat_return_boxes": 0.0, "itsa_tax_due": 0.0001},
}
GOLDEN_EVERY_S = 30 * 60  # on main, every 30 minutes at :05 and :35
GOLDEN_OFFSET_S = 5 * 60
REGRESSED = ("extraction-golden-v7", "vat_amount", 0.031)  # golden_regression: dataset, output, divergence

# Chaos experiments: experiment -> (last run before the anchor, typical recovery in seconds); weekly
CHAOS = {
    "mq-outage": (timedelta(days=3, hours=2), 38.0),
    "bank-api-failure": (timedelta(days=5, hours=4), 22.0),
    "database-failover": (timedelta(hours=26), 47.0),
}
CHAOS_EVERY_S = 7 * DAY
FAILED_EXPERIMENT = ("database-failover", 412.0)  # chaos_experiment_failed: experiment, recovery (s)

# The peak-deadline load test runs two days before each filing deadline; p95 per service (seconds).
LOAD_TEST = "peak-deadline"
LOAD_TEST_BEFORE_DEADLINE = timedelta(days=2)
LOAD_TEST_P95_S = {
    "gateway": 0.62,
    "ingestion": 1.9,
    "extraction": 3.7,
    "reconciliation": 2.2,
    "filing": 1.4,
    "assistant": 6.1,
}
LOAD_TEST_PEAK_RPS = 420.0

HELP = {
    "ci_pipeline_runs": "CI pipeline runs finished, by result.",
    "ci_pipeline_duration_seconds": "CI pipeline run time.",
    "ci_check_blocking": "1 when the check blocks a merge, else 0.",
    "unit_test_coverage_ratio": "Unit test line coverage of the service's main branch.",
    "e2e_test_last_result": "1 when the critical path's last end-to-end run passed, else 0.",
    "e2e_test_last_run_timestamp_seconds": "Unix time of the critical path's last end-to-end run.",
    "nightly_regression_tests": "Tests of the last nightly regression, by result.",
    "nightly_regression_last_run_timestamp_seconds": "Unix time of the last nightly regression.",
    "golden_dataset_divergence_ratio": "Share of the output diverging from the golden dataset, last run.",
    "golden_dataset_tolerance_ratio": "The share of the output allowed to diverge.",
    "golden_dataset_hash_verified": "1 when the dataset's hash matched its recorded hash, last run.",
    "golden_dataset_last_run_timestamp_seconds": "Unix time of the dataset's last golden run.",
    "chaos_experiment_last_run_timestamp_seconds": "Unix time of the experiment's last run.",
    "chaos_experiment_last_result": "1 when the steady state held in the last run, else 0.",
    "chaos_experiment_recovery_seconds": "Time to recover in the experiment's last run.",
    "load_test_last_run_timestamp_seconds": "Unix time of the load test's last run.",
    "load_test_p95_seconds": "95th percentile latency per service in the load test's last run.",
    "load_test_peak_rps": "Requests per second at the load test's peak.",
}


def _gauge(name: str, labels: dict[str, str], group: str) -> model.Series:
    return model._mk(name, labels, "gauge", name, "gauge", group)


def series() -> list[model.Series]:
    """Every series this module adds to the catalogue, in exposition order."""
    out = [
        model._mk(
            "ci_pipeline_runs_total",
            {"pipeline": PIPELINE, "result": r},
            "counter",
            "ci_pipeline_runs",
            "counter",
            "delivery:ci",
        )
        for r in ("success", "failure")
    ]
    out += model._histogram("ci_pipeline_duration_seconds", {"pipeline": PIPELINE}, CI_LE, "delivery:ci")
    static = "delivery:static"
    out += [_gauge("ci_check_blocking", {"pipeline": PIPELINE, "check": c}, static) for c in CHECKS]
    out += [_gauge("unit_test_coverage_ratio", {"service": s}, static) for s in COVERAGE]
    out += [_gauge("e2e_test_last_result", {"path": p}, static) for p in E2E_PATHS]
    out += [_gauge("e2e_test_last_run_timestamp_seconds", {"path": p}, static) for p in E2E_PATHS]
    out += [
        _gauge("nightly_regression_tests", {"result": r}, static) for r in ("passed", "failed", "skipped")
    ]
    out.append(_gauge("nightly_regression_last_run_timestamp_seconds", {}, static))
    for name in ("golden_dataset_divergence_ratio", "golden_dataset_tolerance_ratio"):
        out += [_gauge(name, {"dataset": d, "output": o}, static) for d, outs in GOLDEN.items() for o in outs]
    for name in ("golden_dataset_hash_verified", "golden_dataset_last_run_timestamp_seconds"):
        out += [_gauge(name, {"dataset": d}, static) for d in GOLDEN]
    for name in (
        "chaos_experiment_last_run_timestamp_seconds",
        "chaos_experiment_last_result",
        "chaos_experiment_recovery_seconds",
    ):
        out += [_gauge(name, {"experiment": e}, static) for e in CHAOS]
    out.append(_gauge("load_test_last_run_timestamp_seconds", {"test": LOAD_TEST}, static))
    out += [
        _gauge("load_test_p95_seconds", {"test": LOAD_TEST, "service": s}, static) for s in LOAD_TEST_P95_S
    ]
    out.append(_gauge("load_test_peak_rps", {"test": LOAD_TEST}, static))
    return out


def scenarios(anchor: str | datetime) -> list[model.Scenario]:
    """The scenarios this module plays (not incidents: they are not written to the `incidents` index)."""
    a = model.parse_anchor(anchor)
    experiment, _ = FAILED_EXPERIMENT
    failed_run = a - CHAOS[experiment][0]
    dataset, output, divergence = REGRESSED
    return [
        model.Scenario(
            "ci_slowdown",
            "CI pipeline slowdown",
            a - timedelta(hours=30),
            a + timedelta(hours=24),
            (),
            f"Every pipeline run takes {CI_SLOWDOWN} times as long: the median goes from 13 to about "
            "25 minutes, past the playbook's 20.",
        ),
        model.Scenario(
            "golden_regression",
            "Golden regression in extraction",
            a - timedelta(hours=20),
            a + timedelta(hours=24),
            ("extraction",),
            f"{output} of {dataset} diverges by {divergence:.1%} (tolerance "
            f"{GOLDEN[dataset][output]:.1%}); the blocking golden check fails "
            f"{GOLDEN_REGRESSION_FAILURE:.0%} of pipeline runs, and the nightly regression its golden tests.",
        ),
        model.Scenario(
            "chaos_experiment_failed",
            "Failed chaos experiment",
            failed_run,
            failed_run + timedelta(seconds=CHAOS_EVERY_S),
            ("reconciliation",),
            f"The weekly {experiment} experiment takes {FAILED_EXPERIMENT[1]:.0f} s to recover and the "
            "steady state does not hold; it stays the last run until the next, a week later.",
        ),
    ]


def scenario(name: str, anchor: str | datetime) -> model.Scenario:
    return next(s for s in scenarios(anchor) if s.name == name)


def inside(m: model.Model, name: str, ts: np.ndarray) -> np.ndarray:
    s = scenario(name, m.anchor)
    end = s.end.timestamp() if s.end else np.inf
    return (ts >= s.start.timestamp()) & (ts < end)


# -- generators ------------------------------------------------------------------------------------------


def _ci(m: model.Model) -> Callable:
    def gen(ctx, rng: np.random.Generator) -> dict[str, np.ndarray]:
        runs = rng.poisson(CI_RUNS_PER_HOUR / 60.0 * ctx.curve)
        p_fail = np.where(inside(m, "golden_regression", ctx.ts), GOLDEN_REGRESSION_FAILURE, CI_FAILURE)
        failed = rng.binomial(runs, p_fail)
        slow = np.where(inside(m, "ci_slowdown", ctx.ts), CI_SLOWDOWN, 1.0)
        probs = np.empty((len(ctx), len(CI_BOUNDS) + 1))
        means = np.empty_like(probs)
        for factor in np.unique(slow):
            p, mean = model.lognormal_buckets(float(CI_MEDIAN_S * factor), CI_SIGMA, CI_BOUNDS)
            probs[slow == factor], means[slow == factor] = p, mean
        counts = rng.multinomial(runs, probs)
        cum = np.cumsum(counts, axis=1)
        labels = {"pipeline": PIPELINE}
        out = {
            model.series_key("ci_pipeline_runs_total", {**labels, "result": "success"}): runs - failed,
            model.series_key("ci_pipeline_runs_total", {**labels, "result": "failure"}): failed,
            model.series_key("ci_pipeline_duration_seconds_sum", labels): np.rint(
                (counts * means).sum(axis=1) * 1000
            ),
            model.series_key("ci_pipeline_duration_seconds_count", labels): cum[:, -1],
        }
        for i, le in enumerate(CI_LE):
            out[model.series_key("ci_pipeline_duration_seconds_bucket", {**labels, "le": le})] = cum[:, i]
        return {k: np.asarray(v, dtype=np.int64) for k, v in out.items()}

    return gen


def coverage(m: model.Model, service: str, ts: np.ndarray) -> np.ndarray:
    """A service's unit coverage: the anchor's figure, moved by its 30-day change once a day at 02:00."""
    at_anchor, change = COVERAGE[service]
    days = np.floor((np.asarray(ts, dtype=float) - NIGHTLY_AT_S) / DAY) - np.floor((m.a - NIGHTLY_AT_S) / DAY)
    return np.round(at_anchor + change * days / model.HISTORY_DAYS, 4)


def _static(m: model.Model) -> Callable:
    def gen(ctx, rng: np.random.Generator) -> dict[str, np.ndarray]:
        ts = np.asarray(ctx.ts, dtype=float)
        ones = np.ones(len(ts))
        out: dict[str, np.ndarray] = {}
        for check, blocking in CHECKS.items():
            out[model.series_key("ci_check_blocking", {"pipeline": PIPELINE, "check": check})] = (
                ones * blocking
            )
        for service in COVERAGE:
            out[model.series_key("unit_test_coverage_ratio", {"service": service})] = coverage(m, service, ts)
        _, e2e_at = last_event(ts, E2E_AT_S, DAY)
        for path in E2E_PATHS:
            out[model.series_key("e2e_test_last_result", {"path": path})] = ones
            out[model.series_key("e2e_test_last_run_timestamp_seconds", {"path": path})] = e2e_at
        out.update(nightly(m, ts))
        out.update(golden(m, ts))
        out.update(chaos(m, ts))
        out.update(load_test(m, ts))
        return out

    return gen


def nightly(m: model.Model, ts: np.ndarray) -> dict[str, np.ndarray]:
    """The last nightly regression: its golden tests fail when it ran during the golden regression."""
    _, ran = last_event(ts, NIGHTLY_AT_S, DAY)
    total = NIGHTLY_TESTS_AT_T0 + NIGHTLY_TESTS_PER_DAY * np.floor((ran - m.t0) / DAY)
    failed = np.where(inside(m, "golden_regression", ran), NIGHTLY_GOLDEN_TESTS, 0)
    return {
        model.series_key("nightly_regression_tests", {"result": "passed"}): total - failed,
        model.series_key("nightly_regression_tests", {"result": "failed"}): failed.astype(float),
        model.series_key("nightly_regression_tests", {"result": "skipped"}): np.full(len(ts), 12.0),
        model.series_key("nightly_regression_last_run_timestamp_seconds", {}): ran,
    }


def golden(m: model.Model, ts: np.ndarray) -> dict[str, np.ndarray]:
    """The last golden run of each dataset: every output within a tenth to four tenths of its tolerance
    (exact outputs exactly), but the regressed output while the scenario lasts."""
    k, ran = last_event(ts, GOLDEN_OFFSET_S, GOLDEN_EVERY_S)
    regressed = inside(m, "golden_regression", ran)
    out = {}
    for dataset, outputs in GOLDEN.items():
        for output, tolerance in outputs.items():
            labels = {"dataset": dataset, "output": output}
            share = tolerance * (0.25 + 0.15 * unit_noise(m.seed, f"golden:{dataset}:{output}", k))
            if (dataset, output) == REGRESSED[:2]:
                share = np.where(regressed, REGRESSED[2], share)
            out[model.series_key("golden_dataset_divergence_ratio", labels)] = np.round(share, 6)
            out[model.series_key("golden_dataset_tolerance_ratio", labels)] = np.full(len(ts), tolerance)
        out[model.series_key("golden_dataset_hash_verified", {"dataset": dataset})] = np.ones(len(ts))
        out[model.series_key("golden_dataset_last_run_timestamp_seconds", {"dataset": dataset})] = ran
    return out


def chaos(m: model.Model, ts: np.ndarray) -> dict[str, np.ndarray]:
    out = {}
    failed_experiment, failed_recovery = FAILED_EXPERIMENT
    for experiment, (before, typical) in CHAOS.items():
        k, ran = last_event(ts, m.a - before.total_seconds(), CHAOS_EVERY_S)
        failed = (k == 0) & (experiment == failed_experiment)
        recovery = np.round(typical * (1 + 0.2 * unit_noise(m.seed, f"chaos:{experiment}", k)))
        labels = {"experiment": experiment}
        out[model.series_key("chaos_experiment_last_run_timestamp_seconds", labels)] = ran
        out[model.series_key("chaos_experiment_last_result", labels)] = np.where(failed, 0.0, 1.0)
        out[model.series_key("chaos_experiment_recovery_seconds", labels)] = np.where(
            failed, failed_recovery, recovery
        )
    return out


def load_test(m: model.Model, ts: np.ndarray) -> dict[str, np.ndarray]:
    first = m.a + (model.DEADLINE_AFTER_ANCHOR - LOAD_TEST_BEFORE_DEADLINE).total_seconds()
    k, ran = last_event(ts, first, model.DEADLINE_CYCLE.total_seconds())
    labels = {"test": LOAD_TEST}
    out = {
        model.series_key("load_test_last_run_timestamp_seconds", labels): ran,
        model.series_key("load_test_peak_rps", labels): np.full(len(ts), LOAD_TEST_PEAK_RPS),
    }
    for service, p95 in LOAD_TEST_P95_S.items():
        jitter = 1 + 0.08 * unit_noise(m.seed, f"load:{service}", k)
        out[model.series_key("load_test_p95_seconds", {**labels, "service": service})] = np.round(
            p95 * jitter, 3
        )
    return out


def generators(m: model.Model) -> dict[str, Callable]:
    return {"delivery:ci": _ci(m), "delivery:static": _static(m)}

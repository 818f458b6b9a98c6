"""Golden tests: which alerts the simulator's scenarios make fire, and when, minute by minute.

For each scenario the model's own series around its window become the input of a `promtool test rules`
case over the real rule files (the generated security rules and `alert_rules/infrastructure.yml`), and
the expected alerts at every evaluation come from the model's numbers and the policy's limits, computed
here with numpy: never from the rule files under test. Time 0 of a case is the start of its series, so
timestamp gauges are shifted to it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import yaml

from app.alerting.rules import load_security, render_security, security_group, shipped_files
from stack.simulator import model, oncall

ANCHOR = model.parse_anchor("2026-03-20T12:00:00Z")
SEED = 7
MIN = timedelta(minutes=1)
PROMTOOL = shutil.which("promtool")
pytestmark = pytest.mark.skipif(PROMTOOL is None, reason="promtool is not installed")


@pytest.fixture(scope="module")
def m() -> model.Model:
    return model.get_model(ANCHOR, SEED)


@dataclass
class Case:
    """One promtool case: input series from `start` every `step`, and the alerts expected at each
    evaluation (offsets from `start`: a list of label sets, each with its alert's name)."""

    name: str
    start: datetime
    step: timedelta
    series: dict[str, list[float]]
    expected: dict[str, dict[int, list[dict[str, str]]]]  # alertname -> evaluation index -> label sets


def rules_by_name() -> dict[str, list[dict]]:
    groups = [security_group(*load_security(), interval=None)]
    for path in shipped_files():
        groups += yaml.safe_load(path.read_text())["groups"]
    out: dict[str, list[dict]] = {}
    for group in groups:
        for rule in group["rules"]:
            if "alert" in rule:
                out.setdefault(rule["alert"], []).append(rule)
    return out


def annotations(alert: str, labels: dict[str, str]) -> dict[str, str]:
    """The rule's annotations with `{{ $labels.x }}` filled in, as Prometheus renders them."""
    rule = next(r for r in rules_by_name()[alert] if r["labels"].items() <= labels.items())
    fill = lambda text: re.sub(r"\{\{ \$labels\.(\w+) \}\}", lambda g: labels.get(g.group(1), ""), text)  # noqa: E731
    return {k: fill(v) for k, v in rule["annotations"].items()}


def run_case(case: Case, tmp_path: Path) -> None:
    policy, alerts = load_security()
    (tmp_path / "security_rules.yml").write_text(render_security(policy, alerts, interval=None))
    for path in shipped_files():
        shutil.copy(path, tmp_path / path.name)
    step_s = int(case.step.total_seconds())
    tests = []
    for alert, by_eval in case.expected.items():
        for index, label_sets in sorted(by_eval.items()):
            tests.append(
                {
                    "eval_time": f"{index * step_s}s",
                    "alertname": alert,
                    "exp_alerts": [
                        {"exp_labels": labels, "exp_annotations": annotations(alert, labels)}
                        for labels in label_sets
                    ],
                }
            )
    document = {
        "rule_files": ["security_rules.yml", *[p.name for p in shipped_files()]],
        "evaluation_interval": f"{step_s}s",
        "tests": [
            {
                "name": case.name,
                "interval": f"{step_s}s",
                "input_series": [
                    {"series": s, "values": " ".join(_number(v) for v in values)}
                    for s, values in case.series.items()
                ],
                "alert_rule_test": tests,
            }
        ],
    }
    path = tmp_path / f"{case.name}_test.yml"
    path.write_text(yaml.safe_dump(document, sort_keys=False, width=10_000))
    run = subprocess.run([PROMTOOL, "test", "rules", str(path)], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]


def _number(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else repr(float(value))


def minutes(start: datetime, end: datetime) -> int:
    return int((end - start) / MIN)


def counter(m: model.Model, metric: str, labels: dict, start: datetime, n: int, step: int = 1) -> np.ndarray:
    """The counter as sampled every `step` minutes from `start` (n samples)."""
    first = m.counter_value(metric, labels, start)
    increments = m.increments(metric, labels, start, start + (n - 1) * step * MIN + MIN)
    values = first + np.concatenate([[0], np.cumsum(increments)])
    return values[: (n - 1) * step + 1 : step]


def held(condition: np.ndarray, evaluations: int) -> np.ndarray:
    """Firing with `for:` = true at this evaluation and the `evaluations - 1` before it."""
    out = condition.copy()
    for back in range(1, evaluations):
        out[back:] &= condition[:-back]
        out[:back] = False
    return out


def expect(firing: np.ndarray, labels: dict[str, str]) -> dict[int, list[dict[str, str]]]:
    return {i: ([labels] if fire else []) for i, fire in enumerate(firing)}


def spans(firing: np.ndarray, start: datetime, step: timedelta = MIN) -> list[tuple[datetime, datetime]]:
    """The firing intervals as (first, last) evaluation times."""
    out, begun = [], None
    for i, fire in enumerate(firing):
        if fire and begun is None:
            begun = i
        if not fire and begun is not None:
            out.append((start + begun * step, start + (i - 1) * step))
            begun = None
    if begun is not None:
        out.append((start + begun * step, start + (len(firing) - 1) * step))
    return out


# -- security ----------------------------------------------------------------------------------------------


def test_the_failed_logins_burst_pages_within_its_first_minute(m, tmp_path):
    burst = model.scenario("failed_logins_burst", ANCHOR)
    start, n = burst.start - 30 * MIN, minutes(burst.start - 30 * MIN, burst.end + 30 * MIN) + 1
    failures = counter(m, "auth_logins_total", {"result": "failure"}, start, n)
    window = 5
    recent = np.concatenate([np.zeros(window), failures[window:] - failures[:-window]])
    firing = recent >= 25
    run_case(
        Case(
            "failed_logins_burst",
            start,
            MIN,
            {'auth_logins_total{result="failure"}': list(failures)},
            {"FailedSignInBurst": expect(firing, {"severity": "page", "control": "logins"})},
        ),
        tmp_path,
    )
    # 40 failures a minute: the first minute of the burst is enough, and 5 minutes after it, it is over
    assert spans(firing, start) == [(burst.start + MIN, burst.end + 4 * MIN)]


def test_the_missed_documents_backups_page_until_the_next_good_one(m, tmp_path):
    missed = model.scenario(oncall.BACKUP_MISSED, ANCHOR)
    start = missed.start - 3 * timedelta(hours=1)
    n = minutes(start, missed.end + timedelta(hours=2)) + 1
    shift = start.timestamp()
    times = shift + 60 * np.arange(n)
    policy, _ = load_security()
    series, expected = {}, {}
    firing_documents = None
    for target, limit in policy.backup_max_age.items():
        last = m.gauge_series(
            "backup_last_success_timestamp_seconds", {"target": target}, start, start + n * MIN
        )
        series[f'backup_last_success_timestamp_seconds{{target="{target}"}}'] = list(last - shift)
        firing = held(times - last > limit.total_seconds(), 2)
        if target == oncall.BACKUP_MISSED_TARGET:
            firing_documents = firing
        else:
            assert not firing.any()  # the other targets keep to their schedule
    labels = {"severity": "page", "control": "backups", "target": oncall.BACKUP_MISSED_TARGET}
    expected["BackupOlderThanRPO"] = expect(firing_documents, labels)
    run_case(Case("backup_missed", start, MIN, series, expected), tmp_path)
    # the last good backup before the window (hh:30) is 90 min old an hour into it, firing a minute later;
    # the first good one after the window (hh:30) ends it
    last_good = missed.start - 30 * MIN
    assert spans(firing_documents, start) == [(last_good + 91 * MIN + MIN, missed.end + 29 * MIN)]


def test_a_kind_missing_from_the_audit_log_for_seven_days_is_flagged(m, tmp_path):
    missing = model.scenario(oncall.AUDIT_KIND_MISSING, ANCHOR)
    step = timedelta(minutes=30)
    start = missing.start - timedelta(days=7)
    n = int((missing.end + timedelta(days=1) - start) / step) + 1
    per_step = int(step / MIN)
    policy, alerts = load_security()
    lookback = int(alerts.audit_missing_after / step)
    series, expected = {}, {}
    firing_by_action = {}
    for action in policy.required_actions:
        values = counter(m, "audit_events_total", {"action": action}, start, n, per_step)
        series[f'audit_events_total{{action="{action}"}}'] = list(values)
        quiet = np.zeros(n, dtype=bool)
        quiet[lookback:] = values[lookback:] - values[:-lookback] == 0
        firing_by_action[action] = quiet
    firing_sets = {  # checked once the series cover the whole 7 days
        i: [
            {"severity": "ticket", "control": "audit", "action": a}
            for a in policy.required_actions
            if firing_by_action[a][i]
        ]
        for i in range(lookback, n)
    }
    expected["AuditEventKindMissing"] = firing_sets
    run_case(Case("audit_kind_missing", start, step, series, expected), tmp_path)
    found = spans(firing_by_action[oncall.MISSING_AUDIT_ACTION], start, step)
    assert len(found) == 1 and missing.start + timedelta(days=7) - found[0][0] < timedelta(days=2)
    assert missing.end <= found[0][1] < missing.end + timedelta(days=1)
    assert not any(firing_by_action[a].any() for a in policy.required_actions if a != "data.export")


def test_the_overdue_secret_is_flagged_five_minutes_after_crossing_the_policy(m, tmp_path):
    overdue = model.scenario("secret_rotation_overdue", ANCHOR)
    start = overdue.start - 20 * MIN
    n = 41
    shift = start.timestamp()
    times = shift + 60 * np.arange(n)
    policy, _ = load_security()
    series, expected_sets = {}, {i: [] for i in range(n)}
    for secret in model.SECRETS:
        rotated = m.gauge_series(
            "secret_last_rotated_timestamp_seconds", {"secret": secret}, start, start + n * MIN
        )
        series[f'secret_last_rotated_timestamp_seconds{{secret="{secret}"}}'] = list(rotated - shift)
        firing = held(times - rotated > policy.secret_max_age.total_seconds(), 6)
        for i in np.nonzero(firing)[0]:
            expected_sets[int(i)].append({"severity": "ticket", "control": "secrets", "secret": secret})
    run_case(
        Case("secret_rotation_overdue", start, MIN, series, {"SecretRotationOverdue": expected_sets}),
        tmp_path,
    )
    first = min(i for i, found in expected_sets.items() if found)
    assert start + first * MIN == overdue.start + 6 * MIN  # older than 90 days from its next minute, held 5
    assert {a["secret"] for i in expected_sets for a in expected_sets[i]} == {"hmrc-oauth-client-secret"}


# -- infrastructure --------------------------------------------------------------------------------------


def deriv(values: np.ndarray, window: int) -> np.ndarray:
    """Prometheus's deriv() over the `window + 1` samples of a range of `window` minutes: the least-squares
    slope per second (0 before a full window)."""
    x = np.arange(window + 1) * 60.0
    x -= x.mean()
    out = np.zeros(len(values))
    for i in range(window, len(values)):
        out[i] = float(np.dot(values[i - window : i + 1], x) / np.dot(x, x))
    return out


def queue_case(
    m: model.Model, name: str, start: datetime, end: datetime
) -> tuple[Case, dict[str, np.ndarray]]:
    n = minutes(start, end) + 1
    document, item = "Oldest waiting document", "Oldest waiting item"
    pages = {
        "ingestion": ("ingestion", document),
        "extraction": ("extraction", document),
        "reconciliation": ("tax", item),
        "filing": ("tax", item),
    }
    series, by_queue = {}, {}
    expected: dict[int, list[dict[str, str]]] = {i: [] for i in range(35, n)}  # a full window, held
    for queue in model.QUEUES:
        age = m.gauge_series("queue_oldest_item_age_seconds", {"queue": queue}, start, start + n * MIN)
        depth = m.gauge_series("queue_depth", {"queue": queue}, start, start + n * MIN)
        series[f'queue_oldest_item_age_seconds{{queue="{queue}"}}'] = list(age)
        series[f'queue_depth{{queue="{queue}"}}'] = list(depth)
        firing = held((deriv(age, 30) > 0.25) & (deriv(depth, 30) > 0), 6)
        firing[:35] = False  # not checked: before a full half hour of samples, held 5 minutes
        by_queue[queue] = firing
        page, panel = pages[queue]
        for i in np.nonzero(firing)[0]:
            expected[int(i)].append({"severity": "ticket", "queue": queue, "page": page, "panel": panel})
    return Case(name, start, MIN, series, {"QueueNotDraining": expected}), by_queue


def test_the_vat_backlog_stops_the_extraction_and_reconciliation_queues_draining(m, tmp_path):
    backlog = model.scenario("vat_backlog", ANCHOR)
    case, by_queue = queue_case(
        m, "vat_backlog", backlog.start - timedelta(hours=1), backlog.end + timedelta(hours=1)
    )
    run_case(case, tmp_path)
    for queue in ("extraction", "reconciliation"):
        ((first, last),) = spans(by_queue[queue], case.start)
        # half an hour of backlog makes the slope, then 5 minutes held; it lasts until the backlog clears
        assert backlog.start + 10 * MIN < first < backlog.start + 40 * MIN
        assert backlog.end - 10 * MIN < last <= backlog.end + 5 * MIN
    assert not by_queue["ingestion"].any() and not by_queue["filing"].any()


def test_the_hmrc_outage_stops_the_filing_queue_draining_while_retries_pile_up(m, tmp_path):
    outage = model.scenario("hmrc_outage", ANCHOR)
    case, by_queue = queue_case(
        m, "hmrc_outage", outage.start - timedelta(hours=1), outage.end + timedelta(hours=1)
    )
    run_case(case, tmp_path)
    ((first, last),) = spans(by_queue["filing"], case.start)
    # retries pile up over the outage's first half hour (the oldest retry ages with the clock), then hold
    assert outage.start < first < outage.start + 30 * MIN < last < outage.start + 70 * MIN
    assert not any(by_queue[q].any() for q in ("ingestion", "extraction", "reconciliation"))


def test_the_extraction_restart_is_a_service_down_for_its_second_minute(m, tmp_path):
    regression = model.scenario("extraction_regression", ANCHOR)
    start = regression.start - 10 * MIN
    n = 21
    series, expected = {}, {i: [] for i in range(n)}
    for service in model.SERVICES:
        up = m.gauge_series("service_up", {"service": service}, start, start + n * MIN)
        series[f'service_up{{service="{service}"}}'] = list(up)
        for i in np.nonzero(held(up == 0, 2))[0]:
            expected[int(i)].append(
                {"severity": "page", "page": "service_health", "panel": "Request rate", "service": service}
            )
    run_case(Case("extraction_restart", start, MIN, series, {"ServiceDown": expected}), tmp_path)
    assert [start + i * MIN for i, found in expected.items() if found] == [regression.start + MIN]

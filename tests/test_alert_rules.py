"""The alert rules beyond SLO burn: generated from the security policy, shipped for infrastructure, each
with a runbook, accepted by `promtool check rules`, tested by `promtool test rules` (tests/rules/oncall/)."""

from __future__ import annotations

import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from app.alerting import __main__ as cli
from app.alerting import runbooks
from app.alerting.rules import (
    SECURITY_GROUP,
    load_security,
    parse_alerts,
    render_security,
    security_group,
    shipped_files,
)
from app.security import SecurityPolicyError, load_policy

REPO = Path(__file__).resolve().parent.parent
CASES = REPO / "tests" / "rules" / "oncall"
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(PROMTOOL is None, reason="promtool is not installed")


def all_alert_rules() -> list[dict]:
    policy, alerts = load_security()
    groups = [security_group(policy, alerts)]
    for path in shipped_files():
        groups += yaml.safe_load(path.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def test_the_security_rules_hold_the_platform_to_the_policy_file():
    policy = load_policy()
    rules = security_group(*load_security())["rules"]
    by_name: dict[str, list[dict]] = {}
    for rule in rules:
        by_name.setdefault(rule["alert"], []).append(rule)
    (secrets,) = by_name["SecretRotationOverdue"]
    assert f"> {int(policy.secret_max_age.total_seconds())}" in secrets["expr"]
    backups = {r["labels"]["target"]: r["expr"] for r in by_name["BackupOlderThanRPO"]}
    assert set(backups) == set(policy.backup_max_age)
    for target, limit in policy.backup_max_age.items():
        assert f'{{target="{target}"}} > {int(limit.total_seconds())} or absent(' in backups[target]
    audited = {r["labels"]["action"] for r in by_name["AuditEventKindMissing"]}
    assert audited == set(policy.required_actions)
    (burst,) = by_name["FailedSignInBurst"]
    assert burst["expr"] == 'sum(increase(auth_logins_total{result="failure"}[5m])) >= 25'


def test_every_alert_has_a_severity_an_owner_to_link_and_a_runbook_in_the_repository():
    rules = all_alert_rules()
    assert {r["alert"] for r in rules} == {
        "SecretRotationOverdue",
        "BackupOlderThanRPO",
        "FailedSignInBurst",
        "AuditEventKindMissing",
        "ScrapeTargetDown",
        "QueueNotDraining",
        "ServiceDown",
    }
    for rule in rules:
        labels = rule["labels"]
        assert labels["severity"] in ("page", "ticket"), rule["alert"]
        assert "control" in labels or "page" in labels, rule["alert"]
        found = runbooks.resolve(rule["annotations"]["runbook_url"])
        assert found is not None and found.in_app, rule["alert"]
        assert runbooks.markdown(found.name or "").startswith("# Runbook:"), rule["alert"]


def test_a_published_base_url_keeps_the_runbook_openable_in_the_app():
    policy, alerts = load_security()
    rule = security_group(policy, alerts, base_url="https://git.example/sextant/blob/main")["rules"][0]
    url = rule["annotations"]["runbook_url"]
    assert url == "https://git.example/sextant/blob/main/runbooks/secret-rotation-overdue.md"
    assert runbooks.resolve(url) == runbooks.Runbook(name="secret-rotation-overdue")


@pytest.mark.parametrize(
    ("alerts", "problem"),
    [
        ({}, "spec.alerts.failedSignInBurst: needs a window and minFailures"),
        ({"failedSignInBurst": {"window": "5 minutes", "minFailures": 25}, "auditKindMissingAfter": "7d"},
         "failedSignInBurst.window: '5 minutes' is not a duration"),
        ({"failedSignInBurst": {"window": "5m", "minFailures": 0}, "auditKindMissingAfter": "7d"},
         "minFailures: a whole number of at least 1"),
        ({"failedSignInBurst": {"window": "5m", "minFailures": 25}}, "auditKindMissingAfter: None is not"),
    ],
)  # fmt: skip
def test_a_bad_alerts_section_names_its_field(alerts, problem):
    with pytest.raises(SecurityPolicyError, match=problem.replace("(", r"\(")):
        parse_alerts({"spec": {"alerts": alerts}}, "security.yaml")


def test_the_command_line_writes_the_rules_and_refuses_a_bad_policy(tmp_path, capsys):
    out = tmp_path / "rules" / "security.yml"
    assert cli.main(["rules", "--output", str(out)]) == 0
    assert out.read_text() == render_security(*load_security())
    bad = tmp_path / "security.yaml"
    bad.write_text(yaml.safe_dump({"apiVersion": "sextant/v1", "kind": "SecurityPolicy", "spec": {}}))
    assert cli.main(["rules", "--output", str(out), "--policy", str(bad)]) == 1
    assert "spec.secrets.maxAge" in capsys.readouterr().err


@needs_promtool
def test_promtool_accepts_every_rule_file(tmp_path):
    generated = tmp_path / "security.yml"
    generated.write_text(render_security(*load_security()))
    for path in (generated, *shipped_files()):
        check = subprocess.run([PROMTOOL, "check", "rules", str(path)], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr


def prepare_cases(directory: Path) -> list[Path]:
    """The rule files the cases name, next to copies of the cases: the security rules rendered without a
    group interval (evaluations on the minute), the shipped files as they are."""
    policy, alerts = load_security()
    (directory / "security_rules.yml").write_text(render_security(policy, alerts, interval=None))
    for path in shipped_files():
        shutil.copy(path, directory / path.name)
    cases = []
    for case in sorted(CASES.glob("*_test.yml")):
        cases.append(Path(shutil.copy(case, directory / case.name)))
    return cases


@needs_promtool
def test_promtool_rule_tests_pass(tmp_path):
    cases = prepare_cases(tmp_path)
    assert [c.name for c in cases] == [
        "infrastructure_test.yml",
        "security_audit_test.yml",
        "security_test.yml",
    ]
    run = subprocess.run([PROMTOOL, "test", "rules", *map(str, cases)], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]


def test_the_security_group_has_its_own_name_and_no_interval_for_tests():
    policy, alerts = load_security()
    assert security_group(policy, alerts)["name"] == SECURITY_GROUP
    assert security_group(policy, alerts)["interval"] == "1m"
    assert "interval" not in security_group(policy, alerts, interval=None)
    assert alerts.audit_missing_after == timedelta(days=7)

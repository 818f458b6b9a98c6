"""The security posture's rules: policy validation and each check's state, figure and reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
import yaml

from app import security
from app.masking import Masker
from app.security import Policy, SecurityPolicyError
from app.sources import Sources
from app.sources.cache import ResultCache
from app.sources.opensearch import SearchResult
from app.sources.prometheus import QueryResult
from app.timerange import time_range
from tests.conftest import UNASKED

NOW = datetime(2026, 11, 28, 4, 0, tzinfo=UTC)
TR = time_range("24h", NOW)
POLICY = security.load_policy()


def stamps(column: str, ages: dict[str, timedelta]) -> pd.DataFrame:
    return pd.DataFrame({column: list(ages), "value": [(NOW - age).timestamp() for age in ages.values()]})


def test_the_shipped_policy_loads():
    assert POLICY.secret_max_age == timedelta(days=90)
    assert POLICY.backup_max_age["postgres"] == timedelta(minutes=20)
    assert "data.export" in POLICY.required_actions


def test_an_invalid_policy_names_the_file_and_every_field(tmp_path: Path):
    raw = yaml.safe_load(security.DEFAULT_PATH.read_text())
    raw["spec"]["secrets"]["maxAge"] = "ninety days"
    raw["spec"]["logins"]["maxFailureShare"] = 5
    raw["spec"]["backups"].append({"maxAge": "1h"})
    raw["spec"]["audit"] = ["login.success"]
    path = tmp_path / "security.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(SecurityPolicyError) as info:
        security.load_policy(path)
    problems = "\n".join(info.value.problems)
    assert str(path) in problems
    for field in ("spec.secrets.maxAge", "spec.logins.maxFailureShare", "spec.backups[3]", "spec.audit:"):
        assert field in problems, field


def test_secrets_overdue_fail_due_soon_needs_attention_and_missing_is_no_data():
    frame = stamps("secret", {"a": timedelta(days=97), "b": timedelta(days=80), "c": timedelta(days=3)})
    check = security.assess_secrets(frame, POLICY, NOW)
    assert (check.state, check.figure) == ("failing", "1 of 3 overdue")
    assert "a was last rotated 97 days ago, 7.0 days past the 90-day limit" in check.reason
    assert list(check.detail["state"]) == ["failing", "attention", "ok"]  # closest to the limit first
    soon = security.assess_secrets(frame[frame["secret"] != "a"], POLICY, NOW)
    assert (soon.state, soon.figure) == ("attention", "1 of 2 due soon")
    assert "due for rotation in 10 days" in soon.reason
    fine = security.assess_secrets(frame[frame["secret"] == "c"], POLICY, NOW)
    assert (fine.state, fine.figure) == ("ok", "1 of 1 current")
    assert security.assess_secrets(pd.DataFrame(), POLICY, NOW).state == "no data"


def test_backups_late_or_missing_fail():
    on_time = stamps(
        "target",
        {
            "postgres": timedelta(minutes=14),
            "documents": timedelta(minutes=80),
            "opensearch": timedelta(hours=3),
        },
    )
    check = security.assess_backups(on_time, POLICY, NOW)
    assert (check.state, check.figure) == ("ok", "3 of 3 on time")
    assert "closest to its limit is documents, 1.3 h ago" in check.reason
    late = stamps("target", {"postgres": timedelta(minutes=35), "documents": timedelta(minutes=10)})
    check = security.assess_backups(late, POLICY, NOW)
    assert (check.state, check.figure) == ("failing", "1 of 3 on time")
    assert check.reason == "postgres last backed up 35 min ago (limit 20 min)."
    states = dict(zip(check.detail["target"], check.detail["state"], strict=True))
    assert states == {"postgres": "failing", "documents": "ok", "opensearch": "failing"}  # none on record
    assert security.assess_backups(None, POLICY, NOW).state == "no data"


def failures(*rows: tuple[str, int]) -> pd.DataFrame:
    first = pd.Timestamp("2026-11-27T22:00:00Z")
    return pd.DataFrame(
        [
            {
                "source_ip": ip,
                "failures": n,
                "first": first,
                "last": first + pd.Timedelta(minutes=29),
                "tenants": 8,
            }
            for ip, n in rows
        ]
    )


def test_sign_ins_flag_a_guessing_source_or_a_high_failure_share():
    counts = pd.DataFrame({"result": ["success", "failure"], "value": [1000.0, 1225.0]})
    check = security.assess_logins(counts, failures(("198.51.100.66", 1200), ("198.51.100.4", 3)), POLICY, TR)
    assert (check.state, check.figure) == ("failing", "1,225 failed (55.1%)")  # a breached policy fails
    assert check.reason == (
        "55.1% of sign-ins failed, above the 5% limit; 1,200 failed sign-ins from 198.51.100.66 "
        "(Fri 27 Nov 22:00–22:29 UTC), above the 200 a single address may have: password guessing?"
    )
    quiet = pd.DataFrame({"result": ["success", "failure"], "value": [1000.0, 20.0]})
    assert security.assess_logins(quiet, failures(("198.51.100.4", 3)), POLICY, TR).state == "ok"
    many = pd.DataFrame({"result": ["success", "failure"], "value": [100.0, 20.0]})
    check = security.assess_logins(many, None, POLICY, TR)  # the audit log is down: counts still judge
    assert check.state == "failing" and "16.7% of sign-ins failed, above the 5% limit" in check.reason
    assert security.assess_logins(pd.DataFrame(), None, POLICY, TR).state == "no data"


def test_audit_needs_every_required_kind_in_the_range():
    every = pd.DataFrame({"action": list(POLICY.required_actions), "outcome": "success", "count": 2})
    check = security.assess_audit(every, POLICY, TR)
    assert (check.state, check.figure) == ("ok", "7 of 7 kinds recorded")
    check = security.assess_audit(every[every["action"] != "data.export"], POLICY, TR)
    assert (check.state, check.figure) == ("attention", "6 of 7 kinds recorded")
    assert "No data.export event in the last 24 hours" in check.reason
    assert security.assess_audit(None, POLICY, TR).state == "no data"


def test_search_aggregations_become_tables():
    result = SearchResult(
        hits=pd.DataFrame(),
        total=5,
        aggregations={
            "action": {
                "buckets": [
                    {
                        "key": "data.export",
                        "doc_count": 5,
                        "outcome": {
                            "buckets": [{"key": "success", "doc_count": 4}, {"key": "denied", "doc_count": 1}]
                        },
                    }
                ]
            },
            "failed_logins": {
                "doc_count": 3,
                "source": {
                    "buckets": [
                        {
                            "key": "198.51.100.66",
                            "doc_count": 3,
                            "first": {"value": 1795816800000.0},
                            "last": {"value": 1795818540000.0},
                            "tenants": {"value": 2},
                        }
                    ]
                },
            },
        },
    )
    actions = security.audit_actions(result)
    assert actions.to_dict("records") == [
        {"action": "data.export", "outcome": "success", "count": 4},
        {"action": "data.export", "outcome": "denied", "count": 1},
    ]
    sources = security.failing_sources(result)
    assert sources.iloc[0]["source_ip"] == "198.51.100.66" and sources.iloc[0]["failures"] == 3
    assert sources.iloc[0]["first"] == pd.Timestamp("2026-11-27T22:00:00Z")
    assert security.audit_actions(None) is None and security.failing_sources(None).empty


def test_the_worst_state_wins_and_no_data_is_never_ok():
    assert security.worst(["ok", "attention", "ok"]) == "attention"
    assert security.worst(["ok", "no data"]) == "no data"
    assert security.worst(["no data", "failing"]) == "failing"
    assert security.worst([]) == "no data"
    assert isinstance(POLICY, Policy)


class _Prometheus:
    """Sign-ins counted (so the sign-in check weighs the sources), nothing else."""

    url = "fake://prometheus"

    def instant(self, query: str, at: datetime) -> QueryResult:
        if "auth_logins_total" in query:
            return QueryResult(pd.DataFrame({"result": ["failure", "success"], "value": [500.0, 100.0]}))
        return QueryResult(pd.DataFrame())


class _OpenSearch:
    """The audit posture's aggregations, with personal data where a platform bug might put it."""

    url = "fake://opensearch"

    def __init__(self, result: SearchResult) -> None:
        self.result = result

    def search(self, index: str, body: dict) -> SearchResult:
        return self.result


def test_what_the_audit_log_says_is_masked_before_any_check_words_it():
    leaked_ip, leaked_action = "07700 900123", "export for jane@example.org"
    result = SearchResult(
        hits=pd.DataFrame(),
        total=400,
        aggregations={
            "action": {
                "buckets": [
                    {
                        "key": leaked_action,
                        "doc_count": 400,
                        "outcome": {"buckets": [{"key": "success", "doc_count": 400}]},
                    }
                ]
            },
            "failed_logins": {
                "source": {
                    "buckets": [
                        {
                            "key": leaked_ip,
                            "doc_count": 400,
                            "first": {"value": 1795816800000.0},
                            "last": {"value": 1795818540000.0},
                            "tenants": {"value": 2},
                        }
                    ]
                }
            },
        },
    )
    masker = Masker("test key")
    sources = Sources(_Prometheus(), _OpenSearch(result), UNASKED, mode="live", masker=masker)
    posture = security.load(sources, TR, cache=ResultCache(), chart=False)
    checks = {c.name: c for c in posture.checks}
    logins, audit = checks["Sign-ins"], checks["Audit log"]
    assert logins.state == "failing" and masker.token("phone", leaked_ip) in logins.reason
    assert logins.detail.iloc[0]["source_ip"] == masker.token("phone", leaked_ip)
    everything = " ".join(
        [c.reason for c in posture.checks]
        + [c.detail.to_csv() for c in posture.checks if c.detail is not None]
    )
    assert leaked_ip not in everything and "jane@example.org" not in everything
    assert masker.token("email", "jane@example.org") in audit.detail.to_csv()

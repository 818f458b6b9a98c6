"""The security controls (app/controls/): the controls file and its validation, the status rules, the grade,
the audit evidence and the findings, without servers."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest
import yaml

from app.config import load_config
from app.controls import audit, findings
from app.controls import status as judge
from app.controls.definition import (
    DEFAULT_PATH,
    Control,
    ControlsError,
    EvidenceSpec,
    controls,
    parse_controls,
)
from app.masking import Masker
from app.security import Check
from app.sources.opensearch import SearchResult, hits_frame

AT = datetime(2026, 12, 6, 1, 0, tzinfo=UTC)
SOURCE = "slo_definitions/controls.yaml"


def control(**changes) -> Control:
    fields = dict(
        id="restore-drills",
        title="Restore drills",
        area="Backups & DR",
        playbook="Restore drills.",
        owner="platform-sre",
        review_every=timedelta(days=90),
        last_reviewed=date(2026, 11, 9),
        evidence_link="https://wiki.example.com/dr",
        evidence=(),
    )
    return Control(**(fields | changes))


def spec(**changes) -> EvidenceSpec:
    return EvidenceSpec(**({"describe": "replication lag", "query": "replication_lag", "label": "store",
                            "max": 900.0, "unit": "seconds"} | changes))  # fmt: skip


# -- the file --------------------------------------------------------------------------------------------


def test_the_shipped_file_covers_every_control_the_playbook_lists():
    ids = {c.id for c in controls().controls}
    playbook = {
        "secrets managed centrally": "secrets-central",
        "encryption at rest": "encryption-at-rest",
        "client-side encryption of documents": "client-side-encryption",
        "key rotation": "key-rotation",
        "RBAC": "rbac",
        "admin approval flows": "admin-approval",
        "audit logs of config, rulepack, assistant and export actions": "audit-coverage",
        "backups with an RPO of at most 15 minutes": "backups-rpo",
        "restore drills": "restore-drills",
        "cross-region replication": "cross-region-replication",
        "incident response": "incident-response",
        "tabletop exercises": "tabletop-exercises",
        "quarterly penetration tests": "penetration-tests",
        "SOC 2 Type II readiness checklist": "soc2-readiness",
    }
    assert set(playbook.values()) <= ids
    every = controls()
    assert all(c.owner and c.review_every and c.last_reviewed for c in every.controls)


def raw(*entries: dict, **spec_extra) -> dict:
    return {
        "apiVersion": "sextant/v1",
        "kind": "SecurityControls",
        "spec": {"controls": list(entries), **spec_extra},
    }


def test_validation_names_the_file_the_control_and_the_field_and_reports_everything():
    good = yaml.safe_load(DEFAULT_PATH.read_text())["spec"]["controls"][0]
    broken = [
        {**good, "owner": ""},
        {**good, "id": "two", "reviewEvery": "often", "lastReviewed": "last week", "colour": "red"},
        {**good, "id": "three", "evidence": [{"query": "no_such_query", "max": 1, "describe": "x"}]},
        {
            **good,
            "id": "four",
            "evidence": [{"query": "replication_lag", "check": "backups", "describe": "x"}],
        },
        {**good, "id": "five", "evidence": [{"signal": "audit.unapproved", "max": "lots", "describe": "x"}]},
        {**good, "id": "six", "evidence": [{"check": "secrets", "unit": "parsecs", "describe": "x"}]},
        {**good, "id": "seven", "evidenceLink": "javascript:alert(1)"},
        {**good, "id": "secrets-central"},  # the first one's id again
    ]
    with pytest.raises(ControlsError) as caught:
        parse_controls(raw(*broken), SOURCE)
    problems = caught.value.problems
    expected = [
        "control 'secrets-central': owner: is required",
        "control 'two': reviewEvery: must be a duration",
        "control 'two': lastReviewed: must be a date",
        "control 'two': colour: unknown key",
        "control 'three': evidence[0].query: no query 'no_such_query' in queries/controls.yaml",
        "control 'four': evidence[0]: needs exactly one of query, check or signal",
        "control 'five': evidence[0].max: must be a number or a duration",
        "control 'five': evidence[0].window: an audit signal needs a window",
        "control 'five': evidence[0].actions: an audit signal needs the actions",
        "control 'six': evidence[0].unit: 'parsecs' is not one of",
        "control 'seven': evidenceLink: must be an http(s) address",
        "control 'secrets-central': id: is used by another control too",
    ]
    for text in expected:
        assert any(p.startswith(f"{SOURCE}: {text}") for p in problems), (text, problems)
    assert len(problems) == len(expected)


def test_overdue_findings_need_a_fix_by_delay_for_every_severity():
    good = yaml.safe_load(DEFAULT_PATH.read_text())["spec"]["controls"]
    with pytest.raises(ControlsError, match=r"spec.findings.fixWithin: needs a delay for each severity"):
        parse_controls(raw(*good, findings={"fixWithin": {"critical": "7d"}}), SOURCE)


# -- status ----------------------------------------------------------------------------------------------


def lag(values: dict[str, float]) -> pd.DataFrame:
    return pd.DataFrame({"store": list(values), "value": list(values.values())})


def test_a_control_with_several_checks_says_how_many_pass_and_what_fails():
    """Not "3 of 3 within; 2 of 3 within; 2 of 3 within": which check is which cannot be told apart."""
    age = judge.from_frame(spec(), lag({"documents": 1.0, "ledger": 2.0, "postgres": 3.0}), None)
    slow = judge.from_frame(spec(), lag({"documents": 5000.0, "ledger": 2.0, "postgres": 3.0}), None)
    missing = judge.from_frame(spec(), None, "Prometheus is not answering")
    status = judge.ControlStatus(control(), "failing", "", (age, slow, missing), True)
    assert status.figure == "1 of 3 checks pass; failing for documents; 1 without data"
    assert judge.ControlStatus(control(), "failing", "", (slow,), True).figure == "2 of 3 within"


def test_live_evidence_judged_per_item():
    ok = judge.from_frame(spec(), lag({"documents": 120.0, "postgres": 1.5}), None)
    assert (ok.state, ok.figure) == ("pass", "2 of 2 within")
    bad = judge.from_frame(spec(), lag({"documents": 2460.0, "postgres": 1.5}), None)
    assert bad.state == "fail" and "documents 41 min, outside the limit (at most 15 min)" in bad.reason
    assert list(bad.items.loc[~bad.items["passes"], "item"]) == ["documents"]


def test_missing_evidence_is_never_met():
    unreachable = judge.from_frame(spec(), None, "Prometheus is not answering")
    empty = judge.from_frame(spec(), lag({}), None)
    assert unreachable.state == empty.state == "none"
    for evidence in (unreachable, empty):
        status = judge.control_status(control(evidence=(spec(),)), [evidence], AT)
        assert status.status == "no evidence"
    assert "Prometheus is not answering" in judge.control_status(control(), [unreachable], AT).reason
    bare = judge.control_status(control(evidence_link=None), [], AT)
    assert bare.status == "no evidence" and "no live evidence and no evidence link" in bare.reason
    written = judge.control_status(control(), [], AT)
    assert written.status == "met" and written.basis == "written"
    no_check = judge.from_check(
        spec(check="backups", query=None), Check("Backups", "no data", "", "", "x", "")
    )
    assert no_check.state == "none"


def test_failing_then_no_evidence_then_stale_then_met():
    failing = judge.from_frame(spec(), lag({"documents": 2460.0}), None)
    passing = judge.from_frame(spec(), lag({"documents": 60.0}), None)
    unknown = judge.from_frame(spec(), None, "down")
    old = control(last_reviewed=date(2026, 1, 5))  # due again on 5 Apr 2026
    assert judge.control_status(old, [failing, unknown], AT).status == "failing"
    assert "The review is overdue too" in judge.control_status(old, [failing], AT).reason
    assert judge.control_status(old, [passing, unknown], AT).status == "no evidence"
    stale = judge.control_status(old, [passing], AT)
    assert stale.status == "stale" and "overdue since 05 Apr 2026" in stale.reason
    assert judge.control_status(control(), [passing], AT).status == "met"
    # A review dated after the moment shown (an earlier, frozen view) counts as current.
    assert judge.control_status(control(), [passing], datetime(2026, 6, 1, tzinfo=UTC)).status == "met"
    # The check a control rests on: attention (a limit near) passes, failing fails.
    check = spec(check="secrets", query=None)
    attention = Check("Secrets rotation", "attention", "1 of 5", "due soon", "due in 3 days.", "")
    assert judge.from_check(check, attention).state == "pass"
    assert judge.from_check(check, Check("Secrets rotation", "failing", "1", "", "x", "")).state == "fail"


def statuses(*words: str) -> list[judge.ControlStatus]:
    return [judge.ControlStatus(control(id=f"c{i}"), w, "", (), True) for i, w in enumerate(words)]


def test_grade_is_one_word_with_its_why():
    weak = judge.grade(statuses("met", "failing", "no evidence", "no evidence", "no evidence"))
    assert weak.word == "Weak" and weak.state == "failing"  # a known failure is never hidden by unknowns
    assert [s.status for s in weak.not_met] == ["failing", "no evidence", "no evidence", "no evidence"]
    assert judge.grade(statuses("met", "no evidence")).word == "Unknown"
    assert judge.grade(statuses("met", "met", "stale")).word == "Fair"
    assert judge.grade(statuses("met", "met", "met", "no evidence")).word == "Fair"
    strong = judge.grade(statuses("met", "met"))
    assert (strong.word, strong.summary, strong.not_met) == ("Strong", "All 2 controls met.", [])
    assert judge.grade([]).word == "Unknown"
    assert weak.summary == "1 of 5 controls failing, 3 without evidence; 1 met."


# -- audit evidence --------------------------------------------------------------------------------------


def bucket(key: str, count: int, **subs) -> dict:
    return {"key": key, "doc_count": count, **subs}


def answer(current: list[dict], weeks: dict[str, dict[str, int]], first: datetime | None) -> SearchResult:
    return SearchResult(
        hits_frame([]),
        {
            "first": {"value": first.timestamp() * 1000 if first else None},
            "current": {"action": {"buckets": current}},
            "weeks": {
                "buckets": {
                    k: {"action": {"buckets": [bucket(a, n) for a, n in counts.items()]}}
                    for k, counts in weeks.items()
                }
            },
        },
        0,
    )


def test_audit_counts_against_the_weeks_the_log_holds_and_the_anomalies_with_who_and_when():
    start, end = AT - timedelta(days=1), AT
    t = int(AT.timestamp() * 1000)
    burst = bucket(
        "login.failure",
        1207,
        sources={
            "buckets": [bucket("198.51.100.66", 1200, first={"value": t - 3_600_000}, last={"value": t})]
        },
        actors={"buckets": [bucket("user:cobalt-cpa/admin", 57, first={"value": t}, last={"value": t})]},
    )
    weeks = {str(k): {"data.export": 4, "login.failure": 8, "config.change": 2} for k in (1, 2, 3, 4)}
    # The log begins between the third and the fourth week before: three weeks count.
    result = answer([bucket("data.export", 5), burst], weeks, AT - timedelta(days=23))
    evidence = audit.audit_evidence(result, start, end, ("data.export",))
    assert evidence is not None and evidence.weeks == 3
    rows = evidence.counts.set_index("action")
    assert list(rows.index) == [*audit.SENSITIVE, "login.failure"]  # every sensitive kind, and the anomaly
    assert rows.loc["data.export", "count"] == 5 and rows.loc["data.export", "expected"] == 4
    assert rows.loc["rulepack.edit", "count"] == 0 and rows.loc["data.export", "verdict"] == "usual"
    assert rows.loc["login.failure", "verdict"] == "unusually many"
    who = evidence.anomalies
    assert list(who["who"]) == ["198.51.100.66", "user:cobalt-cpa/admin"] and who.iloc[0]["events"] == 1200
    assert who.iloc[0]["first"] == pd.Timestamp(t - 3_600_000, unit="ms", tz="UTC")
    no_log = audit.audit_evidence(answer([], {}, None), start, end, ())
    assert no_log is not None and no_log.weeks == 0 and set(no_log.counts["verdict"]) == {"no baseline"}
    assert audit.audit_evidence(None, start, end, ()) is None


def test_poisson_band():
    assert audit.verdict(20, 10.0) == "usual"  # 10 + 4·√10 + 3 ≈ 25.6
    assert audit.verdict(26, 10.0) == "unusually many"
    assert audit.verdict(0, 10.0) == "usual" and audit.verdict(0, 40.0) == "unusually few"
    assert audit.verdict(3, None) == "no baseline"


def test_unapproved_actions_counted_listed_and_masked():
    hit = {
        "_source": {
            "@timestamp": "2026-12-05T22:45:00.000Z",
            "actor": "user:harbour-ledger/liam4",
            "tenant": "harbour-ledger",
            "action": "data.export",
            "source_ip": "198.51.100.23",
            "details": "exported 480 documents of jo.bloggs@example.com, NI QQ 12 34 56 C, UTR 4817300265",
        }
    }
    export = bucket("data.export", 9, unapproved={"doc_count": 25, "events": {"hits": {"hits": [hit]}}})
    evidence = audit.audit_evidence(answer([export], {}, None), AT - timedelta(days=7), AT, ("data.export",))
    assert evidence is not None
    assert evidence.unapproved_count(("data.export",)) == 25  # the count, not the 20 listed
    row = evidence.unapproved.iloc[0]
    assert row["actor"] == "user:harbour-ledger/liam4" and row["time"] == pd.Timestamp("2026-12-05T22:45Z")
    masker = Masker(load_config({}).masking_key)  # the app's one masking step: the other pages' tokens
    email, nino, utr = (
        masker.token(kind, value)
        for kind, value in (
            ("email", "jo.bloggs@example.com"),
            ("nino", "QQ 12 34 56 C"),
            ("utr", "4817300265"),
        )
    )
    assert row["details"] == f"exported 480 documents of {email}, NI {nino}, UTR {utr}"
    assert row["source_ip"] == "198.51.100.23"
    week, exports = timedelta(days=7), ("data.export",)
    spec_ = EvidenceSpec(
        "exports without approval", signal="audit.unapproved", max=0, actions=exports, window=week
    )
    judged = judge.from_audit(spec_, evidence, None)
    assert judged.state == "fail" and judged.figure == "25 without approval"
    assert judged.reason.startswith("data.export by user:harbour-ledger/liam4 at Sat 05 Dec 22:45 UTC")


# -- findings --------------------------------------------------------------------------------------------

FIX_WITHIN = {"critical": timedelta(days=7), "high": timedelta(days=30), "medium": timedelta(days=90),
              "low": timedelta(days=180)}  # fmt: skip


def found(docs: list[dict], at: datetime = AT) -> findings.Findings:
    hits = [{"_id": d.pop("id"), "_source": d} for d in docs]
    result = findings.findings(SearchResult(hits_frame(hits), {}, len(hits)), at, FIX_WITHIN)
    assert result is not None
    return result


def days_ago(n: int, at: datetime = AT) -> str:
    return (at - timedelta(days=n)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_findings_as_they_stood_overdue_first():
    docs = [
        {"id": "A", "kind": "finding", "severity": "low", "status": "open", "found_at": days_ago(200)},
        {"id": "B", "kind": "finding", "severity": "high", "status": "open", "found_at": days_ago(40)},
        {"id": "C", "kind": "finding", "severity": "critical", "status": "open", "found_at": days_ago(5)},
        {"id": "D", "kind": "finding", "severity": "critical", "status": "fixed", "found_at": days_ago(50),
         "fixed_at": days_ago(1)},
        {"id": "E", "kind": "finding", "severity": "medium", "status": "risk_accepted",
         "found_at": days_ago(300)},
        {"id": "F", "kind": "finding", "severity": "high", "status": "open", "found_at": days_ago(-1)},
        {"id": "P", "kind": "pentest", "title": "Q4", "vendor": "V", "started_at": days_ago(45),
         "ended_at": days_ago(40)},
    ]  # fmt: skip
    now = found([dict(d) for d in docs])
    assert list(now.open["id"]) == ["A", "B", "C", "E"]  # overdue (most first), then by severity
    assert list(now.overdue["id"]) == ["A", "B"] and now.open.set_index("id").loc["B", "overdue_days"] == 10
    assert now.by_severity() == {"critical": 1, "high": 1, "medium": 0, "low": 1}  # accepted risk left out
    assert now.last_pentest_ended == AT - timedelta(days=40)
    earlier = found([dict(d) for d in docs], AT - timedelta(days=2))  # D was not fixed yet; C overdue? no
    assert "D" in set(earlier.open["id"]) and earlier.open.set_index("id").loc["D", "overdue_days"] == 41
    judged = judge.from_findings(
        EvidenceSpec("overdue findings", signal="findings.overdue", max=0), now, None
    )
    assert judged.state == "fail" and judged.reason.startswith(
        "2 open findings past the fix-by date; the most"
    )
    pentest = EvidenceSpec("last pen test", signal="findings.pentest", max=92 * 86400.0, unit="seconds")
    assert judge.from_findings(pentest, now, None).state == "pass"
    assert judge.from_findings(pentest, found([]), None).state == "none"


def test_the_file_is_parsed_once_per_change(tmp_path):
    path = tmp_path / "controls.yaml"
    path.write_text(DEFAULT_PATH.read_text())
    first = controls(path)
    assert controls(path) is first  # not parsed again
    text = path.read_text().replace("owner: compliance", "owner: grc-team", 1)
    assert text != path.read_text()
    before = path.stat().st_mtime_ns
    path.write_text(text)
    os.utime(path, ns=(before + 10**9, before + 10**9))  # a modification time that certainly differs
    again = controls(path)
    assert again is not first and "grc-team" in {c.owner for c in again.controls}

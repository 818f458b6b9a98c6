"""The Security page under AppTest: golden figures on the shipped snapshot (from the simulator's model),
live on the real stack, and with OpenSearch down."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest

from app import directory
from app.sources import snapshot
from stack.simulator import events, model
from tests.browser_support import ROOT
from tests.conftest import run_page, shown

PAGE = "pages/9_Security.py"
SHIPPED = snapshot.load(ROOT / "snapshots" / "demo.json.gz")
SEED = 7
END = SHIPPED.recorded_at
START = END - timedelta(hours=24)  # the default range


def checks_tab(at):
    """The Checks tab: the four checks against the policy and their tables."""
    tab = at.tabs[1]
    assert tab.label == "Checks"
    return tab


def figures(at) -> dict[str, str]:
    """Each check's figure as the page shows it: the big value and the words under it."""
    tab = checks_tab(at)
    words = [shown(md.value).strip("*") for md in tab.markdown if md.value.startswith("**")]
    labels = [w for w in words if w not in CHECK_TITLES]
    with_words = [m for m in tab.metric if m.value != "no data"]
    # Paired in page order: exactly one line of words per figure that has some, or the pairing is off.
    assert len(labels) == len(with_words), (labels, [m.label for m in with_words])
    pairs = dict(zip((m.label for m in with_words), labels, strict=True))
    return {m.label: f"{m.value} {pairs[m.label]}" if m.label in pairs else m.value for m in tab.metric}


REQUIRED = ("login.success", "login.failure", "role.change", "config.change", "rulepack.edit")
REQUIRED += ("assistant.action", "data.export")


def audited_kinds(start, end) -> set[str]:
    """The actions of the audit events the simulator writes in [start, end)."""
    gen = events.EventGenerator(SHIPPED.anchor, SEED)
    days = {
        min(max(gen.model.minute(t) // model.DAY_MINUTES, 0), model.HISTORY_DAYS - 1) for t in (start, end)
    }
    return {
        d["action"]
        for day in range(min(days), max(days) + 1)
        for d in gen.audit(day)
        if start <= datetime.fromisoformat(d["@timestamp"]) < end
    }


CHECK_TITLES = {
    "Secrets rotation",
    "Backups",
    "Sign-ins",
    "Audit log",
    "Addresses with the most failed sign-ins",
}


def test_security_on_the_snapshot_matches_the_model(snapshot_mode):
    at = run_page(PAGE)
    assert not at.error
    figs = figures(at)
    m = model.get_model(SHIPPED.anchor, SEED)

    # Secrets: the seed's HMRC client secret is past the 90-day policy; the others rotate monthly.
    tables = checks_tab(at).dataframe
    secrets = tables[0].value.set_index("secret")
    assert set(secrets.index) == {directory.name("secret", s) for s in model.SECRETS}
    for secret in model.SECRETS:
        rotated = m.gauge_value("secret_last_rotated_timestamp_seconds", {"secret": secret}, END)
        age = secrets.loc[directory.name("secret", secret), "age_days"]
        assert age == pytest.approx((END.timestamp() - rotated) / 86400, abs=1e-6)
    assert secrets.loc[directory.name("secret", "hmrc-oauth-client-secret"), "state"] == "failing"
    assert figs["Secrets rotation"] == "1 of 5 overdue"

    # Backups: each target's last success is the model's, a minute either way (the last scrape's).
    backups = tables[1].value.set_index("target")
    for target in model.BACKUPS:
        candidates = {
            END.timestamp() - m.gauge_value("backup_last_success_timestamp_seconds", {"target": target}, t)
            for t in (END - timedelta(minutes=1), END)
        }
        assert min(abs(backups.loc[target, "age_min"] * 60 - c) for c in candidates) < 1e-6, target
    assert figs["Backups"] == "3 of 3 on time"

    # Sign-ins: failures over the range from the counter, and the burst's address with exactly the
    # failures the seed put in it (40 a minute for 30 minutes).
    failed = model.counter_increase(
        "auth_logins_total", {"result": "failure"}, START, END, SHIPPED.anchor, SEED
    )
    total = model.counter_increase("auth_logins_total", {}, START, END, SHIPPED.anchor, SEED)
    number, share = figs["Sign-ins"].removesuffix("%)").split(" failed (")
    assert float(number.replace(",", "")) == pytest.approx(failed, rel=0.01)
    assert float(share) / 100 == pytest.approx(failed / total, abs=0.002)
    minutes = np.arange(int(START.timestamp()) // 60 * 60, int(END.timestamp()), 60)
    burst = int(m.burst_failures(minutes).sum())
    assert burst == 1200
    sources = tables[2].value
    assert sources.iloc[0]["source_ip"] == "198.51.100.66" and sources.iloc[0]["failures"] == burst
    assert any(
        "1,200 failed sign-ins from 198.51.100.66" in shown(md.value) for md in checks_tab(at).markdown
    )

    # Audit: every required kind of event is there.
    # Audit: the kinds of event the simulator wrote in the range, of the seven the policy requires.
    kinds = audited_kinds(START, END)
    assert set(tables[3].value["action"]) == kinds
    assert figs["Audit log"] == f"{len(kinds & set(REQUIRED))} of {len(REQUIRED)} kinds recorded"


@pytest.mark.integration
def test_security_live(live_mode):
    at = run_page(PAGE, range="7d")
    assert not at.error, [e.value for e in at.error]
    figs = figures(at)
    assert figs["Secrets rotation"] == "1 of 5 overdue"
    assert figs["Backups"] == "3 of 3 on time"
    assert figs["Audit log"] == "7 of 7 kinds recorded"
    assert checks_tab(at).dataframe[2].value.iloc[0]["source_ip"] == "198.51.100.66"  # the burst: last 7 days


@pytest.mark.integration
def test_security_with_opensearch_down_keeps_the_prometheus_checks(live_mode, monkeypatch):
    monkeypatch.setenv("SEXTANT_OPENSEARCH_URL", "http://127.0.0.1:9")  # nothing listens on the discard port
    at = run_page(PAGE)
    banners = [e.value for e in at.error]
    assert any("OpenSearch" in b for b in banners) and not any("Prometheus" in b for b in banners)
    figs = figures(at)
    assert figs["Secrets rotation"] == "1 of 5 overdue" and figs["Backups"] == "3 of 3 on time"
    assert figs["Audit log"] == "no data"
    assert figs["Sign-ins"] != "no data"  # the counts come from Prometheus


def test_security_with_every_backend_down_shows_banners_and_no_data_not_tracebacks(monkeypatch):
    for backend in ("PROMETHEUS", "OPENSEARCH", "JAEGER"):
        monkeypatch.setenv(f"SEXTANT_{backend}_URL", "http://127.0.0.1:9")  # nothing listens there
    at = run_page(PAGE)
    banners = " ".join(e.value for e in at.error)
    assert "Prometheus is not answering" in banners and "OpenSearch is not answering" in banners
    assert {m.label: m.value for m in checks_tab(at).metric} == dict.fromkeys(
        ("Secrets rotation", "Backups", "Sign-ins", "Audit log"), "no data"
    )
    assert at.metric[0].label == "Security posture" and at.metric[0].value == "Unknown"
    # A table without rows says nothing: each says why it has none instead.
    assert [len(t.value) for t in checks_tab(at).dataframe if t.value.empty] == []
    reasons = [shown(c.value) for c in checks_tab(at).caption]
    assert "No secret reports when it was last rotated." in reasons  # the check's own reason
    assert "No backup target reports its last success." in reasons

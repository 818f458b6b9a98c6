"""The Alerts page under AppTest: on the real stack (Prometheus's alerts and rules, Alertmanager's view),
with Alertmanager unset or down, with Prometheus down, and runbooks opened inside the app as Markdown that
never renders HTML."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import httpx
import pytest

from app import links
from app.alerting import runbooks
from tests.conftest import run_link, run_page, shown, texts

PAGE = links.PAGES["alerts"].file
CLOSED = "http://127.0.0.1:9"  # nothing listens there: connection refused at once


def firing_by_severity(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def table(at, column: str):
    """The page's one dataframe with `column`: `summary` (the alerts), `group` (the rules)."""
    found = [d.value for d in at.dataframe if column in d.value.columns]
    assert len(found) == 1, [list(d.value.columns) for d in at.dataframe]
    return found[0]


@pytest.mark.integration
def test_every_active_alert_of_prometheus_with_its_runbook_and_alertmanagers_word(live_mode):
    at = run_page(PAGE)
    assert not at.error
    asked = httpx.get(f"{live_mode.prometheus_url}/api/v1/alerts", timeout=10).json()["data"]["alerts"]
    rules = httpx.get(f"{live_mode.prometheus_url}/api/v1/rules", params={"type": "alert"}, timeout=10).json()
    alerting = [r for g in rules["data"]["groups"] for r in g["rules"]]

    shown_alerts = table(at, "summary")
    # The page's rows are Prometheus's active alerts (an alert moving between the two reads is rare: the
    # stack's alerts hold for hours once they fire).
    assert Counter(
        zip(shown_alerts["alert"], shown_alerts["state"], shown_alerts["severity"], strict=True)
    ) == (Counter((a["labels"]["alertname"], a["state"], a["labels"].get("severity", "—")) for a in asked))
    firing = Counter(a["labels"].get("severity") for a in asked if a["state"] == "firing")
    figures = firing_by_severity(at)
    assert figures["Pages firing"] == str(firing["page"]) and figures["Tickets firing"] == str(
        firing["ticket"]
    )
    assert (
        firing["page"] + firing["ticket"] > 0
    )  # the default seed's incidents burn budgets: none would be a bug

    # Every rule the stack loads names a runbook of this repository; each opens here.
    rules_shown = table(at, "group")
    assert len(rules_shown) == len(alerting)
    assert all(
        str(link).startswith(links.url("alerts") + "?runbook=") for link in rules_shown["runbook_link"]
    )
    assert figures["Rules without a runbook"] == f"0 of {len(alerting)}"
    owned = [a["labels"]["slo"] for a in asked if a["labels"].get("slo")]
    slo_rows = shown_alerts[shown_alerts["belongs_to"].str.startswith("SLO: ")]
    assert sorted(slo_rows["link"]) == sorted(links.url("slos", slo=slo) for slo in owned)

    # Alertmanager holds the firing alerts: each row says what it does with them, never "not known".
    managed = httpx.get(f"{live_mode.alertmanager_url}/api/v2/alerts", timeout=10).json()
    assert managed, "the stack's Prometheus sends its alerts to its Alertmanager"
    assert "not known" not in set(shown_alerts.loc[shown_alerts["state"] == "firing", "alertmanager"])

    # An alert's runbook link opens the runbook on this page, rendered from the repository's file.
    link = shown_alerts["runbook_link"].iloc[0]
    name = link.split("runbook=", 1)[1]
    opened = run_link(PAGE, link)
    body = [md for md in opened.markdown if md.value == (runbooks.markdown(name) or "").strip()]
    assert len(body) == 1 and body[0].proto.allow_html is False


@pytest.mark.integration
def test_without_alertmanager_the_alerts_are_listed_and_silences_are_said_unknown(live_mode, monkeypatch):
    monkeypatch.delenv("SEXTANT_ALERTMANAGER_URL")
    at = run_page(PAGE)
    assert not at.error and not at.warning
    assert "Not configured (SEXTANT_ALERTMANAGER_URL)" in texts(at)
    assert set(table(at, "summary")["alertmanager"]) == {"not known"}


@pytest.mark.integration
def test_with_alertmanager_down_prometheus_alerts_stay_and_its_banner_says_so(live_mode, monkeypatch):
    monkeypatch.setenv("SEXTANT_ALERTMANAGER_URL", CLOSED)
    at = run_page(PAGE)
    errors = [shown(e.value) for e in at.error]
    assert len(errors) == 1 and "Alertmanager is not answering" in errors[0], errors
    alerts = table(at, "summary")
    assert len(alerts) > 0 and set(alerts["alertmanager"]) == {"not known"}


def test_with_prometheus_down_figures_are_no_data_and_runbooks_still_open(snapshot_mode, tmp_path: Path):
    hostile = "# Hostile\n\n<img src=x onerror=alert(1)> <script>alert(2)</script> <b>bold</b>\n"
    (tmp_path / "hostile.md").write_text(hostile, encoding="utf-8")
    snapshot_mode.setattr(runbooks, "DIRECTORY", tmp_path)
    snapshot_mode.setenv("SEXTANT_PROMETHEUS_URL", CLOSED)
    at = run_page(PAGE, runbook="hostile")
    assert [m.value for m in at.metric] == ["no data"] * 4
    assert any("Prometheus is not answering" in shown(e.value) for e in at.error), at.error
    assert "Not known: Prometheus's alerts could not be read." in texts(at)
    # The runbook's text is drawn as Markdown that Streamlit shows tags of as text, never as HTML.
    body = [md for md in at.markdown if md.value == hostile.strip()]
    assert len(body) == 1 and body[0].proto.allow_html is False
    assert all(not md.proto.allow_html for md in at.markdown)

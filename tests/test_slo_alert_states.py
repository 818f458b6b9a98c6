"""The SLO alerts' states: Prometheus's own alerts when the generated rules are loaded, the burn-rate
computation otherwise, and the words that say which, on the overview and the SLO detail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from app import links
from app.slo import alert_states
from app.slo.status import evaluate
from app.slo.view import definitions
from app.sources.errors import BackendUnavailable
from tests.conftest import run_page, texts

AT = datetime(2026, 12, 6, 6, 0, tzinfo=UTC)
DEFN = definitions().definitions[0]
WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d", "period")


def healthy_status():
    """Plenty of budget left and no burn: every computed alert quiet, the SLO healthy."""
    total = dict.fromkeys(WINDOWS, 100_000.0)
    return evaluate(DEFN, AT, dict.fromkeys(WINDOWS, 0.0), total)


def rules_for(names, slo=DEFN.name):
    return [{"type": "alerting", "labels": {"slo": slo, "sextant_alert": n}} for n in names]


def test_with_the_rules_loaded_an_alert_fires_as_prometheus_says_and_the_state_follows():
    s = healthy_status()
    assert s.state == "healthy" and not s.firing_alerts
    names = [a.name for a in s.alerts]
    page = next(a.name for a in s.alerts if a.severity == "page")
    alerts = [
        {"state": "firing", "labels": {"slo": DEFN.name, "sextant_alert": page}},
        {"state": "pending", "labels": {"slo": DEFN.name, "sextant_alert": names[-2]}},
        {"state": "firing", "labels": {"slo": "another-slo", "sextant_alert": names[-2]}},
    ]
    (found,) = alert_states.with_prometheus_alerts([s], rules_for(names), alerts)
    assert [a.name for a in found.firing_alerts] == [page]  # pending is not firing; other SLOs not mine
    assert found.state == "at risk" and found.alerts_from == alert_states.FROM_PROMETHEUS


def test_a_quiet_prometheus_quiets_an_alert_the_computation_would_fire():
    total = dict.fromkeys(WINDOWS, 100_000.0)
    burning = evaluate(DEFN, AT, dict.fromkeys(WINDOWS, 50_000.0), total)
    assert burning.firing_alerts
    (found,) = alert_states.with_prometheus_alerts([burning], rules_for(a.name for a in burning.alerts), [])
    assert not found.firing_alerts and found.alerts_from == alert_states.FROM_PROMETHEUS


def test_without_every_rule_loaded_the_computation_stays_and_says_why():
    s = healthy_status()
    partly = rules_for([a.name for a in s.alerts][:-1])
    (found,) = alert_states.with_prometheus_alerts([s], partly, [])
    assert found.alerts == s.alerts and found.alerts_from == alert_states.NOT_LOADED


class Failing:
    def rules(self):
        raise BackendUnavailable("prometheus", "connection refused")

    alerts = rules


def test_a_past_instant_or_unreadable_alerts_fall_back_to_the_computation():
    s = healthy_status()
    assert alert_states.apply([s], Failing(), AT - timedelta(hours=1), AT)[0].alerts_from == alert_states.PAST
    assert alert_states.apply([s], Failing(), AT, AT)[0].alerts_from == alert_states.UNREAD


def test_the_note_says_how_the_alerts_are_known():
    s = healthy_status()
    mine = alert_states.with_prometheus_alerts([s], rules_for(a.name for a in s.alerts), [])
    assert alert_states.note(mine) == f"Alerts: {alert_states.FROM_PROMETHEUS}."
    mixed = alert_states.note([*mine, s, s])
    assert mixed.startswith(f"Alerts: 2 SLOs {alert_states.COMPUTED}; 1 SLOs from Prometheus's alerts")


@pytest.mark.integration
def test_on_the_stack_the_overview_and_slo_detail_use_prometheuss_alerts(live_mode):
    overview = run_page("Overview.py")
    assert not overview.exception
    assert f"Alerts: {alert_states.FROM_PROMETHEUS}." in texts(overview)
    firing = httpx.get(f"{live_mode.prometheus_url}/api/v1/alerts", timeout=10).json()["data"]["alerts"]
    burning = [a["labels"] for a in firing if a["state"] == "firing" and a["labels"].get("sextant_alert")]
    assert burning, "the default seed's incidents keep some burn alert firing"
    slo = burning[0]["slo"]
    detail = run_page(links.PAGES["slos"].file, slo=slo)
    assert f"Alerts: {alert_states.FROM_PROMETHEUS}." in texts(detail)
    table = next(d.value for d in detail.dataframe if "threshold" in d.value.columns)
    shown = set(table.loc[table["firing"] == "FIRING", "alert"])
    assert shown == {b["sextant_alert"] for b in burning if b["slo"] == slo}

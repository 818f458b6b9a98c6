"""The SLO alerts' states: Prometheus's own alerts when the generated rules are loaded, the burn-rate
computation otherwise, and the words that say which, on the overview and the SLO detail."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

import app.sources
from app import links, record
from app.config import load_config
from app.report import frozen
from app.slo import alert_states
from app.slo.status import evaluate
from app.slo.view import definitions
from app.sources import Sources, build_sources
from app.sources import snapshot as snapshots
from app.sources.errors import BackendUnavailable
from app.sources.snapshot import Recorder
from app.sources.unconfigured import NotConfiguredClient
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
    name = url = "prometheus"

    def rules(self):
        raise BackendUnavailable("prometheus", "connection refused")

    alerts = rules


class Paging:
    """A Prometheus with every alert of DEFN loaded and its page alert firing now; counts what it is asked."""

    name = url = "prometheus"

    def __init__(self) -> None:
        self.asked = 0
        self._lock = threading.Lock()  # asked from two threads at once (`apply`)

    def _count(self) -> None:
        with self._lock:
            self.asked += 1

    def rules(self):
        self._count()
        return rules_for(a.name for a in healthy_status().alerts)

    def alerts(self):
        self._count()
        return [{"state": "firing", "labels": {"slo": DEFN.name, "sextant_alert": PAGE}}]


PAGE = next(a.name for a in healthy_status().alerts if a.severity == "page")


def live(prometheus, **fields) -> Sources:
    quiet = NotConfiguredClient
    return Sources(prometheus, quiet("opensearch"), quiet("jaeger"), "live", **fields)


def test_a_past_instant_or_unreadable_alerts_fall_back_to_the_computation():
    s = healthy_status()
    at_present = live(Failing(), present_at=AT)
    past = alert_states.apply(lambda: [s], at_present, AT - timedelta(hours=1))
    assert past[0].alerts_from == alert_states.PAST
    assert alert_states.apply(lambda: [s], at_present, AT)[0].alerts_from == alert_states.UNREAD


def test_the_alerts_are_read_while_the_statuses_are_computed():
    """The board's statuses take two round trips of their own: the rules and alerts are not asked after."""
    prometheus = Paging()
    sources = live(prometheus, present_at=AT)

    def compute():
        deadline = time.monotonic() + 3
        while prometheus.asked < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert prometheus.asked == 2, "the rules and alerts were asked only after the statuses"
        return [healthy_status()]

    (found,) = alert_states.apply(compute, sources, AT)
    assert found.alerts_from == alert_states.FROM_PROMETHEUS and found.state == "at risk"
    past = alert_states.apply(lambda: [healthy_status()], sources, AT - timedelta(hours=1))
    assert past[0].alerts_from == alert_states.PAST and prometheus.asked == 2  # a past instant: not asked
    failing = live(Failing(), present_at=AT)
    unread = alert_states.apply(lambda: [healthy_status()], failing, AT)
    assert unread[0].alerts_from == alert_states.UNREAD


def test_live_a_now_frozen_in_the_past_is_computed_not_given_todays_alerts():
    prometheus = Paging()
    recording = record.recording(live(prometheus), Recorder(), AT)  # a week frozen at its end, days later
    (found,) = alert_states.apply(lambda: [healthy_status()], recording, recording.now())
    assert found.alerts_from == alert_states.PAST and found.state == "healthy" and not found.firing_alerts
    assert prometheus.asked == 0


def test_live_at_the_present_the_slo_follows_prometheuss_alerts(monkeypatch):
    sources = live(Paging())
    (found,) = alert_states.apply(lambda: [healthy_status()], sources, sources.now())
    assert found.alerts_from == alert_states.FROM_PROMETHEUS and found.state == "at risk"
    # A recording at the real time (the demo) keeps its start as the present however long its walk takes.
    recording = record.recording(sources, Recorder(), sources.now())
    later = sources.present() + timedelta(minutes=15)
    monkeypatch.setattr(app.sources, "_clock_minute", lambda: later)
    assert sources.present() == later and recording.present() == recording.now()
    (found,) = alert_states.apply(lambda: [healthy_status()], recording, recording.now())
    assert found.alerts_from == alert_states.FROM_PROMETHEUS and found.state == "at risk"


def recorded_alerts(recorded_at):
    """A recording whose Prometheus had DEFN's page alert firing, made through `record.recording`."""
    recorder = Recorder()
    recording = record.recording(live(Paging(), present_at=recorded_at), recorder, recorded_at)
    assert alert_states.apply(lambda: [healthy_status()], recording, recorded_at)[0].state == "at risk"
    return recorder


def test_the_demo_replayed_at_its_recording_time_shows_the_recorded_alerts(tmp_path):
    path = recorded_alerts(AT).save(tmp_path / "demo.json.gz", recorded_at=AT)
    demo = build_sources(load_config({"SEXTANT_SNAPSHOT": str(path)}))
    assert demo.mode == "snapshot" and demo.present() == demo.now() == AT
    (found,) = alert_states.apply(lambda: [healthy_status()], demo, demo.now())
    assert found.alerts_from == alert_states.FROM_PROMETHEUS
    assert [a.name for a in found.firing_alerts] == [PAGE]


def test_a_frozen_week_replays_the_alerts_of_its_end_only_when_frozen_as_it_ended(tmp_path):
    end = AT
    document = recorded_alerts(end).document(recorded_at=end)  # the alerts asked when it was frozen
    snapshot = snapshots.from_document(tmp_path / "2026-W49.json.gz", document)
    days_later = frozen.replay(snapshot, end, end + timedelta(days=6))
    (found,) = alert_states.apply(lambda: [healthy_status()], days_later, days_later.now())
    assert found.alerts_from == alert_states.PAST and found.state == "healthy"
    as_it_ended = frozen.replay(snapshot, end, end + timedelta(seconds=40))
    (found,) = alert_states.apply(lambda: [healthy_status()], as_it_ended, as_it_ended.now())
    assert found.alerts_from == alert_states.FROM_PROMETHEUS and found.state == "at risk"


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

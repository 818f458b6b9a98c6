"""The Alerts page's data (app.alerting.view): what each alert belongs to, its runbook, Alertmanager's word
on it, silences and inhibit rules, from answers shaped as Prometheus and Alertmanager give them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app import links
from app.alerting import runbooks
from app.alerting import view as alerts_view
from app.config import REPO_ROOT

TITLES = {"filing-availability": "Filing availability"}
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def prom_alert(name: str, state: str, active_at: str, runbook: str | None = None, **labels: str) -> dict:
    annotations = {"summary": f"{name} summary"} | ({"runbook_url": runbook} if runbook else {})
    return {
        "labels": {"alertname": name, **labels},
        "annotations": annotations,
        "state": state,
        "activeAt": active_at,
        "value": "1e+00",
    }


def managed(alert: dict, fingerprint: str, state: str = "active", silenced=(), inhibited=()) -> dict:
    return {
        "labels": alert["labels"],
        "fingerprint": fingerprint,
        "status": {"state": state, "silencedBy": list(silenced), "inhibitedBy": list(inhibited)},
    }


def test_what_an_alert_belongs_to_and_where_the_app_shows_it():
    slo = alerts_view.owner_of({"slo": "filing-availability", "service": "filing"}, TITLES)
    assert slo == alerts_view.Owner(
        "SLO", "Filing availability", links.url("slos", slo="filing-availability")
    )
    control = alerts_view.owner_of({"control": "backups", "target": "postgres"}, TITLES)
    assert control == alerts_view.Owner("security control", "Backups", links.url("security"))
    panel = alerts_view.owner_of({"page": "ingestion", "panel": "Queue depth"}, TITLES)
    assert panel == alerts_view.Owner("panel", "Queue depth (Ingestion)", links.url("ingestion"))
    service = alerts_view.owner_of({"service": "filing", "page": "no-such-page"}, TITLES)
    assert service == alerts_view.Owner("service", "filing", links.url("service_health"))
    assert alerts_view.owner_of({"job": "x"}, TITLES) is None


def test_runbooks_resolve_to_the_repositorys_files_a_link_out_or_none():
    assert runbooks.resolve("runbooks/service-down.md") == runbooks.Runbook(name="service-down")
    published = "https://git.example/sextant/blob/main/runbooks/service-down.md#first-checks"
    assert runbooks.resolve(published) == runbooks.Runbook(name="service-down")
    assert runbooks.resolve("https://wiki.example/oncall/x") == runbooks.Runbook(
        url="https://wiki.example/oncall/x"
    )
    assert runbooks.resolve("runbooks/nobody-wrote-this.md") is None
    assert runbooks.resolve("") is None and runbooks.resolve(None) is None


@pytest.mark.parametrize(
    "name", ["../README", "service-down/../../README", "Service-Down", "", "service-down.md"]
)
def test_only_a_plain_runbook_name_of_the_folder_is_ever_read(name):
    assert runbooks.markdown(name) is None


def test_a_runbook_is_read_from_the_folder(tmp_path: Path, monkeypatch):
    (tmp_path / "x.md").write_text("# X\n<script>alert(1)</script>\n", encoding="utf-8")
    monkeypatch.setattr(runbooks, "DIRECTORY", tmp_path)
    assert runbooks.names() == ["x"]
    assert runbooks.markdown("x") == "# X\n<script>alert(1)</script>\n"
    assert runbooks.markdown("service-down") is None  # no longer in the folder read
    assert runbooks.names(REPO_ROOT / "runbooks") == sorted(
        p.stem for p in (REPO_ROOT / "runbooks").glob("*.md")
    )


def test_alerts_join_their_rules_runbook_and_alertmanagers_view_firing_pages_first():
    burn = prom_alert(
        "SLOErrorBudgetBurn", "firing", "2026-03-02T11:00:00Z", "runbooks/filing-availability.md",
        slo="filing-availability", severity="ticket", service="filing",
    )  # fmt: skip
    page = prom_alert(
        "SLOErrorBudgetBurn", "firing", "2026-03-02T11:30:00Z", "runbooks/filing-availability.md",
        slo="filing-availability", severity="page", service="filing",
    )  # fmt: skip
    down = prom_alert("ServiceDown", "pending", "2026-03-02T11:58:00Z", severity="page", service="filing")
    bare = prom_alert("Unwritten", "firing", "2026-03-02T10:00:00Z", "runbooks/nobody-wrote-this.md")
    rule_books = alerts_view.rule_runbooks(
        [
            {
                "type": "alerting",
                "name": "ServiceDown",
                "annotations": {"runbook_url": "runbooks/service-down.md"},
            },
            {
                "type": "recording",
                "name": "Unwritten",
                "annotations": {"runbook_url": "runbooks/service-down.md"},
            },
        ]
    )
    am = [
        managed(page, "f-page"),
        managed(burn, "f-burn", state="suppressed", inhibited=["f-page"]),
        managed(bare, "f-bare", state="suppressed", silenced=["s1", "s2"]),
    ]
    rows = alerts_view.alert_rows([burn, down, bare, page], rule_books, am, TITLES)

    assert [(a.name, a.state, a.severity) for a in rows] == [
        ("SLOErrorBudgetBurn", "firing", "page"),
        ("SLOErrorBudgetBurn", "firing", "ticket"),
        ("Unwritten", "firing", ""),
        ("ServiceDown", "pending", "page"),
    ]
    page_row, burn_row, bare_row, down_row = rows
    assert burn_row.since == datetime(2026, 3, 2, 11, 0, tzinfo=UTC)
    assert burn_row.owner is not None and burn_row.owner.text == "SLO: Filing availability"
    assert burn_row.runbook == runbooks.Runbook(name="filing-availability")
    assert down_row.runbook == runbooks.Runbook(name="service-down")  # from its rule: the alert names none
    assert bare_row.runbook is None  # names a file nobody wrote: flagged
    assert [alerts_view.notification(a) for a in rows] == [
        "notified",
        "held back by SLO error budget burn",  # the alert holding it back, in words
        "silenced (2 silences)",
        "not received (yet)",  # pending: Prometheus has not sent it
    ]
    without_am = alerts_view.alert_rows([burn], rule_books, None, TITLES)
    assert alerts_view.notification(without_am[0]) == "not known"

    table = alerts_view.alerts_table(rows, NOW).set_index("alert", append=True)
    assert list(table["runbook_link"].isna()) == [False, False, True, False]  # none: flagged
    assert list(table["runbook_link"])[:2] == [links.url("alerts", runbook="filing-availability")] * 2
    assert list(table["for_min"]) == [30.0, 60.0, 120.0, 2.0]
    earlier = alerts_view.alerts_table(rows, NOW - timedelta(minutes=45))  # two became active after it
    assert list(earlier["for_min"]) == [0.0, 15.0, 75.0, 0.0]
    assert list(table["link"])[0] == links.url("slos", slo="filing-availability")


def test_rules_without_a_runbook_are_flagged():
    rules = [
        {"type": "alerting", "name": "A", "group": "g", "labels": {"severity": "page", "service": "filing"},
         "annotations": {"runbook_url": "runbooks/service-down.md"}, "state": "firing", "alerts": [{}, {}]},
        {"type": "alerting", "name": "B", "group": "g", "labels": {}, "annotations": {}, "state": "inactive"},
        {"type": "recording", "name": "slo:x", "group": "g"},
    ]  # fmt: skip
    view = alerts_view.AlertsView(
        alerts=[],
        rules=alerts_view.rule_rows(rules, TITLES),
        silences=[],
        inhibit_rules=[],
        alertmanager=False,
        outcomes={},
    )
    assert [(r.name, r.active, r.runbook is None) for r in view.rules] == [("A", 2, False), ("B", 0, True)]
    assert [r.name for r in view.without_runbook] == ["B"]
    table = alerts_view.rules_table(view.rules)
    assert list(table["runbook_link"].isna()) == [False, True]
    assert list(table["belongs_to"]) == ["service: filing", "not said"]


def test_silences_say_who_why_until_when_and_how_many_alerts_they_hold():
    silences = [
        {"id": "old", "status": {"state": "expired"}, "createdBy": "ana", "comment": "done",
         "startsAt": "2026-03-01T09:00:00Z", "endsAt": "2026-03-01T10:00:00Z",
         "matchers": [{"name": "alertname", "value": "ServiceDown", "isRegex": False, "isEqual": True}]},
        {"id": "now", "status": {"state": "active"}, "createdBy": "bo", "comment": "deploy <b>x</b>",
         "startsAt": "2026-03-02T11:00:00Z", "endsAt": "2026-03-02T13:00:00Z",
         "matchers": [{"name": "service", "value": "fil.*", "isRegex": True, "isEqual": True},
                      {"name": "severity", "value": "page", "isRegex": False, "isEqual": False}]},
    ]  # fmt: skip
    held = [{"status": {"silencedBy": ["now"]}}, {"status": {"silencedBy": ["now"]}}, {"status": {}}]
    rows = alerts_view.silence_rows(silences, held)
    assert [(s.id, s.state, s.silencing) for s in rows] == [("now", "active", 2), ("old", "expired", 0)]
    assert rows[0].matchers == 'service=~"fil.*", severity!="page"'
    assert (rows[0].created_by, rows[0].comment) == ("bo", "deploy <b>x</b>")
    assert rows[0].ends == datetime(2026, 3, 2, 13, 0, tzinfo=UTC)
    assert list(alerts_view.silences_table(rows)["comment"]) == ["deploy <b>x</b>", "done"]


def test_inhibit_rules_come_from_alertmanagers_running_configuration():
    original = (REPO_ROOT / "stack" / "config" / "alertmanager.yml").read_text()
    rules = alerts_view.inhibit_rules({"config": {"original": original}})
    assert alerts_view.InhibitRule('severity="page"', 'severity="ticket"', "slo") in rules
    assert (
        alerts_view.InhibitRule('alertname="ServiceDown"', 'alertname="SLOErrorBudgetBurn"', "service")
        in rules
    )
    older = "inhibit_rules:\n- source_match: {severity: page}\n  target_match_re: {severity: tick.*}\n"
    assert alerts_view.inhibit_rules({"config": {"original": older}}) == [
        alerts_view.InhibitRule('severity="page"', 'severity=~"tick.*"', "")
    ]
    assert alerts_view.inhibit_rules({"config": {"original": "::: not yaml"}}) == []
    assert alerts_view.inhibit_rules(None) == []


def test_an_slo_burn_alert_says_which_it_is_in_words():
    """Every SLO's burn alerts share the rule name SLOErrorBudgetBurn: the table says which one it is."""

    def alert(**labels: str) -> alerts_view.Alert:
        return alerts_view.Alert("SLOErrorBudgetBurn", "firing", "page", None, labels, "", None, None)

    fast = alert(sextant_alert="page-1h-5m", long_window="1h", short_window="5m")
    assert alerts_view.burn_words(fast) == "fast-burn page, 1h window"
    assert alerts_view.burn_words(alert(sextant_alert="no-data")) == "page: no data"
    assert alerts_view.burn_words(alert(service="filing")) == ""  # not an SLO burn alert
    assert list(alerts_view.alerts_table([fast], NOW)["title"]) == ["fast-burn page, 1h window"]
    assert fast.title == "fast-burn page, 1h window"
    assert alert(service="filing").title == "SLO error budget burn"  # no burn labels: its name in words


def test_a_rule_name_reads_as_words():
    """What a rule's CamelCase name says, with its acronyms and figures kept whole."""
    words = {
        "QueueNotDraining": "Queue not draining",
        "BackupOlderThanRPO": "Backup older than RPO",
        "SLONoData": "SLO no data",
        "HTTP5xxHigh": "HTTP 5xx high",
        "snake_case_alert": "Snake case alert",
        "": "",
    }
    assert {name: alerts_view.name_words(name) for name in words} == words


def test_an_alert_held_back_names_the_one_holding_it_in_words():
    fast = prom_alert(
        "SLOErrorBudgetBurn", "firing", "2026-03-02T11:30:00Z", slo="filing-availability", severity="page",
        sextant_alert="page-1h-5m", long_window="1h", short_window="5m",
    )  # fmt: skip
    slow = prom_alert(
        "SLOErrorBudgetBurn", "firing", "2026-03-02T11:00:00Z", slo="filing-availability", severity="ticket",
        sextant_alert="ticket-1d-2h", long_window="1d", short_window="2h",
    )  # fmt: skip
    am = [managed(fast, "f-fast"), managed(slow, "f-slow", state="suppressed", inhibited=["f-fast"])]
    rows = alerts_view.alert_rows([fast, slow], {}, am, TITLES)
    held = next(a for a in rows if a.severity == "ticket")
    assert alerts_view.notification(held) == "held back by fast-burn page, 1h window"
    assert list(alerts_view.inhibited_table(rows)["alert"]) == ["slow-burn ticket, 1d window"]

"""The generated Prometheus rule file: shape, `promtool check rules`, and `promtool test rules` cases.

The promtool cases live in tests/rules/*_test.yml over the test-only SLOs of tests/rules/definitions/.
They are run against rules rendered for tests (`max_range=4h, interval=None`, see `rules.slo_group`):
promtool's test engine refuses queries touching more than 10,000 samples, which a 31-day subquery of
5-minute tiles does, and re-evaluating 3-day subqueries of 1-minute slices every minute of every case
takes a minute; capping the ranges at 4 hours (longer than any test series) gives identical results
in seconds. Expected alerts that do not spell out
their annotations get the generated ones filled in, so each case states what fires, and the first case
checks the annotation texts themselves.
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from app.slo.loader import load_definitions
from app.slo.math import ALERT_PAIRS
from app.slo.model import WINDOWS, AlertingOptions, Indicator, SloDefinition, TimeWindow
from app.slo.rules import (
    BAD,
    BUDGET_REMAINING,
    ERROR_RATIO,
    OBJECTIVE,
    TILE_BAD,
    TILE_TOTAL,
    TOTAL,
    alert_summary,
    record_name,
    render_rules,
    rule_file,
    runbook_url,
    uses_tiles,
)
from tests.slo_support import api_slo

REPO = Path(__file__).resolve().parents[1]
RULE_TESTS = REPO / "tests" / "rules"
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(PROMTOOL is None, reason="promtool is not installed")


def test_every_slo_gets_one_group_with_records_for_each_window_and_the_period():
    groups = rule_file([api_slo(), api_slo(name="other")])["groups"]
    assert [g["name"] for g in groups] == [
        "sextant-slo-api",
        "sextant-tiles-api",
        "sextant-slo-other",
        "sextant-tiles-other",
    ]
    assert [g["interval"] for g in groups] == ["1m", "30m", "1m", "30m"]
    records = [r["record"] for r in groups[0]["rules"] if "record" in r]
    for w in (*WINDOWS, "_period"):
        for template in (TOTAL, BAD, ERROR_RATIO):
            assert record_name(template, w) in records
    assert OBJECTIVE in records and BUDGET_REMAINING in records
    for rule in groups[0]["rules"] + groups[1]["rules"]:
        assert rule["labels"]["slo"] == "api"
        assert rule["labels"]["service"] == "svc"
        assert rule["labels"]["domain"] == "filing"
    assert [r["record"] for r in groups[1]["rules"]] == [TILE_TOTAL, TILE_BAD]


def _expr(defn: SloDefinition, record: str, **kw) -> str:
    rules = [r for g in rule_file([defn], **kw)["groups"] for r in g["rules"]]
    return next(r["expr"] for r in rules if r.get("record") == record)


def test_the_period_is_read_from_hourly_tiles_and_recorded_only_once_they_cover_it():
    period = _expr(api_slo(), record_name(TOTAL, "_period"))
    tile = f'{TILE_TOTAL}{{slo="api",sextant_events="{api_slo().events_fingerprint()}"}}'
    assert "x_total[30d]" not in period  # no 30 days of raw samples
    assert f"sum_over_time(last_over_time({tile}[50m])[29d:1h] offset 1d)" in period
    assert "slo:sli_events_total:increase1d{" in period  # the last day: the raw window recorded anyway
    assert "offset 30d" in period  # the edge a period ago is taken off
    assert period.endswith(f"(count_over_time(last_over_time({tile}[50m])[29d:1h] offset 1d) >= 696)")
    # the status reads an SLO from the rules only where its period is recorded
    assert _expr(api_slo(), OBJECTIVE).endswith('and on() slo:sli_events_total:increase_period{slo="api"}')
    assert "x_total[1h]" in _expr(api_slo(), TILE_TOTAL)


def test_tiles_are_kept_apart_per_sli_query_and_left_out_where_they_cannot_stand_for_the_period():
    changed = api_slo(
        indicator=Indicator(total="sum(rate(y_total[{{.window}}]))", bad="sum(rate(y_bad[{{.window}}]))")
    )
    assert changed.events_fingerprint() != api_slo().events_fingerprint()
    assert api_slo(target=0.99).events_fingerprint() == api_slo().events_fingerprint()
    assert uses_tiles(api_slo(window=TimeWindow(unit="month")))
    assert not uses_tiles(api_slo(window=TimeWindow(duration=timedelta(days=1))))  # short: raw is cheap
    not_whole_hours = TimeWindow(duration=timedelta(days=2, minutes=30))
    assert not uses_tiles(api_slo(window=not_whole_hours))
    raw = rule_file([api_slo(window=TimeWindow(duration=timedelta(days=1)))])["groups"]
    assert len(raw) == 1
    assert "x_total[1d]" in _expr(
        api_slo(window=TimeWindow(duration=timedelta(days=1))), record_name(TOTAL, "_period")
    )
    assert "x_total[30d]" in _expr(api_slo(), record_name(TOTAL, "_period"), tiles=False)


def test_records_are_named_alike_across_slos_so_one_query_per_window_returns_all():
    text = render_rules([api_slo(), api_slo(name="b", service="other")])
    assert text.count("record: slo:sli_events_total:increase1h\n") == 2
    assert "&id" not in text and "*id" not in text  # no YAML anchors


def test_alert_thresholds_follow_the_workbook_for_30_days_and_rescale_for_other_periods():
    def factors(defn):
        return {
            r["labels"]["sextant_alert"]: r["expr"]
            for r in rule_file([defn])["groups"][0]["rules"]
            if r.get("alert") == "SLOErrorBudgetBurn"
        }

    thirty = factors(api_slo())
    assert "> 14.4)" in thirty["page-1h-5m"] and "> 6.0)" in thirty["page-6h-30m"]
    assert "> 3.0)" in thirty["ticket-1d-2h"] and "> 1.0)" in thirty["ticket-3d-6h"]
    week = factors(api_slo(window=TimeWindow(duration=timedelta(days=7))))
    assert "> 3.36)" in week["page-1h-5m"] and "> 1.4)" in week["page-6h-30m"]
    assert "> 0.7)" in week["ticket-1d-2h"] and "> 0.233333333)" in week["ticket-3d-6h"]
    month = factors(api_slo(window=TimeWindow(unit="month")))
    assert "> 14.4)" in month["page-1h-5m"]  # a calendar month counts as 30 days


def test_alerts_carry_severity_runbook_and_a_plain_english_summary():
    rules = rule_file([api_slo()], base_url="https://git.example/sextant/blob/main")["groups"][0]["rules"]
    alerts = [r for r in rules if "alert" in r]
    assert {a["labels"]["severity"] for a in alerts} == {"page", "ticket"}
    for a in alerts:
        assert a["annotations"]["runbook_url"] == "https://git.example/sextant/blob/main/runbooks/api.md"
        assert a["annotations"]["summary"]
    page = next(a for a in alerts if a["labels"].get("sextant_alert") == "page-1h-5m")
    assert page["annotations"]["summary"] == (
        "api: the error budget is burning at more than 14.4× the sustainable rate over the last 1h, and "
        "still over the last 5m. At that pace 2% of the 30d budget goes every 1h and all of it within 2.1 "
        "days. Page the on-call engineer."
    )
    assert 'slo:sli_events_total:increase1h{slo="api"} >= 20' in page["expr"]  # low traffic: no page
    no_data = next(a for a in alerts if a["alert"] == "SLONoData")
    assert no_data["expr"] == 'absent(slo:sli_events_total:increase1h{slo="api"})'


def test_timeslice_slos_have_no_low_traffic_guard_and_sloth_options_are_honoured():
    sliced = api_slo(
        budgeting="Timeslices",
        indicator=Indicator(query="max_over_time(age[{{.window}}])"),
        time_slice_window=timedelta(minutes=1),
        threshold=60.0,
        op="lte",
    )
    alert = next(r for r in rule_file([sliced])["groups"][0]["rules"] if r.get("alert"))
    assert ">=" not in alert["expr"]
    quiet = api_slo(alerting=AlertingOptions(name="MyBurn", ticket=False, labels=(("team_channel", "x"),)))
    alerts = [r for r in rule_file([quiet])["groups"][0]["rules"] if r.get("alert") == "MyBurn"]
    assert {a["labels"]["severity"] for a in alerts} == {"page"}
    assert all(a["labels"]["team_channel"] == "x" for a in alerts)


def test_runbook_urls_and_summaries_for_calendar_periods(monkeypatch):
    monkeypatch.setenv("SEXTANT_RUNBOOK_BASE_URL", "https://wiki.example/")
    assert runbook_url(api_slo()) == "https://wiki.example/runbooks/api.md"
    assert runbook_url(api_slo(runbook="https://x.example/rb")) == "https://x.example/rb"
    assert runbook_url(api_slo(runbook=None)) == ""
    monthly = api_slo(window=TimeWindow(unit="month"))
    assert "of the calendar month budget" in alert_summary(monthly, ALERT_PAIRS[0])


@needs_promtool
def test_the_shipped_definitions_give_a_rule_file_promtool_accepts(tmp_path):
    result = load_definitions(REPO / "slo_definitions")
    assert result.ok, result.errors
    path = tmp_path / "slo.yml"
    path.write_text(render_rules(result.definitions))
    check = subprocess.run([PROMTOOL, "check", "rules", str(path)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert f"SUCCESS: {_count_rules(path)} rules found" in check.stdout


def _count_rules(path: Path) -> int:
    return sum(len(g["rules"]) for g in yaml.safe_load(path.read_text())["groups"])


def prepare_rule_tests(directory: Path) -> list[Path]:
    """Render the test SLOs' rules into `directory` and copy the promtool cases next to them."""
    result = load_definitions(RULE_TESTS / "definitions")
    assert result.ok, result.errors
    rules_text = render_rules(result.definitions, max_range=timedelta(hours=4), interval=None, tiles=False)
    (directory / "slo_rules.yml").write_text(rules_text)
    annotations = {
        (r["labels"]["slo"], r["labels"]["sextant_alert"]): r["annotations"]
        for g in yaml.safe_load(rules_text)["groups"]
        for r in g["rules"]
        if "alert" in r
    }
    out = []
    for case in sorted(RULE_TESTS.glob("*_test.yml")):
        text = case.read_text()
        for d in result.definitions:
            text = text.replace(f"@HASH_{d.name}@", d.fingerprint())
        doc = yaml.safe_load(text)
        for test in doc["tests"]:
            for alert_test in test.get("alert_rule_test", []):
                for expected in alert_test.get("exp_alerts") or []:
                    labels = expected["exp_labels"]
                    generated = annotations[(labels["slo"], labels["sextant_alert"])]
                    expected.setdefault("exp_annotations", generated)
        target = directory / case.name
        target.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
        out.append(target)
    return out


@needs_promtool
def test_promtool_rule_tests_pass(tmp_path):
    cases = prepare_rule_tests(tmp_path)
    assert cases
    run = subprocess.run([PROMTOOL, "test", "rules", *map(str, cases)], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]

"""Status and history: figures from event counts, the rules/raw paths, request counts, the CLI."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
import yaml

from app.slo import cli
from app.slo import history as slo_history
from app.slo import status as st
from app.slo.loader import load_definitions
from app.slo.model import WINDOWS, AlertingOptions, Indicator, SloDefinition, TimeWindow, parse_duration
from app.slo.promql import calendar_events, window_events
from app.slo.rules import BACKFILLED, OBJECTIVE, PERIOD
from app.sources.counting import CountingClient
from app.sources.errors import BackendUnavailable, QueryRejected
from app.sources.prometheus import PrometheusClient, QueryResult

AT = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
D30 = timedelta(days=30)
REPO = Path(__file__).resolve().parents[1]
PROMTOOL = shutil.which("promtool")


def defn(name: str = "api", **kw) -> SloDefinition:
    base = dict(
        name=name,
        service="svc",
        domain="filing",
        team="t",
        target=0.999,
        window=TimeWindow(duration=D30),
        indicator=Indicator(
            total=f'sum(rate(req_total{{slo="{name}"}}[{{{{.window}}}}]))',
            bad=f'sum(rate(req_total{{slo="{name}",code="500"}}[{{{{.window}}}}]))',
        ),
        runbook=f"runbooks/{name}.md",
    )
    base.update(kw)
    return SloDefinition(**base)


def counts(total_rate: float, error_ratio: float, **overrides: tuple[float, float]):
    """bad/total per window for a constant rate; overrides: window → (total, error ratio)."""
    bad, total = {}, {}
    for w in (*WINDOWS, "period"):
        seconds = (D30 if w == "period" else parse_duration(w)).total_seconds()
        t, e = overrides.get(w, (total_rate * seconds, error_ratio))
        total[w], bad[w] = t, (None if t is None else t * e)
    return bad, total


# -- evaluate ---------------------------------------------------------------------------------------------

# The windows of the four multiwindow alerts (5m/1h, 30m/6h, 2h/1d, 6h/3d), shortest first.
ALERT_WINDOWS = ["5m", "30m", "1h", "2h", "6h", "1d", "3d"]


def test_healthy_slo_figures():
    bad, total = counts(10.0, 0.0001)  # burn 0.1 everywhere
    s = st.evaluate(defn(), AT, bad, total)
    assert s.state == "healthy"
    assert s.sli == pytest.approx(0.9999)
    assert s.error_budget_remaining == pytest.approx(0.9)
    assert list(s.burn_rates) == ALERT_WINDOWS
    assert all(b == pytest.approx(0.1) for b in s.burn_rates.values())
    assert [a.firing for a in s.alerts] == [False] * 5
    assert s.forecast == {"1h": None, "6h": None, "1d": None}  # 270 days at 0.1×: not within the period
    assert s.budget_exhausted_at is None and not s.low_traffic
    assert (s.period_start, s.period_end) == (AT - D30, AT)


def test_fast_burn_pages_and_forecasts_exhaustion():
    bad, total = counts(10.0, 0.0001, **{"5m": (3000, 0.02), "1h": (36000, 0.02)})
    s = st.evaluate(defn(), AT, bad, total)
    firing = {a.name: a.firing for a in s.alerts}
    assert firing == {
        "page-1h-5m": True,
        "page-6h-30m": False,
        "ticket-1d-2h": False,
        "ticket-3d-6h": False,
        "no-data": False,
    }
    assert s.state == "at risk"
    assert s.burn_rates["1h"] == pytest.approx(20.0)
    # 90% left at 20×: 0.9 × 30 d / 20 = 1.35 days
    assert s.forecast["1h"] == AT + timedelta(days=1.35)
    assert s.budget_exhausted_at == s.forecast["1h"]
    assert s.firing_alerts[0].factor == 14.4


def test_overspent_budget_is_negative_and_exhausted():
    bad, total = counts(10.0, 0.002)  # burn 2 over the whole period
    s = st.evaluate(defn(), AT, bad, total)
    assert s.error_budget_remaining == pytest.approx(-1.0)
    assert s.state == "exhausted"
    assert s.budget_exhausted_at == AT


def test_no_data_is_never_healthy():
    s = st.evaluate(defn(), AT, {}, {})
    assert s.state == "no data" and s.sli is None and s.error_budget_remaining is None
    assert list(s.burn_rates) == ALERT_WINDOWS
    assert all(v is None for v in s.burn_rates.values())
    assert [a.firing for a in s.alerts[:-1]] == [None] * 4
    assert s.alerts[-1].name == "no-data" and s.alerts[-1].firing
    zero = st.evaluate(defn(), AT, {"period": 0.0}, {"period": 0.0, "1h": 0.0})
    assert zero.state == "no data" and not zero.alerts[-1].firing


def test_low_traffic_is_flagged_not_paged():
    bad, total = counts(10.0, 0.0001, **{"5m": (2, 0.5), "1h": (5, 0.5)})
    s = st.evaluate(defn(), AT, bad, total)
    assert s.low_traffic
    assert not any(a.firing for a in s.alerts)
    unfetched = st.unknown(defn(), AT, "prometheus: no answer within 1 s")
    assert unfetched.state == "no data" and not unfetched.low_traffic  # not counted, so not said to be low


def test_calendar_slo_forecast_stops_at_the_period_end():
    month = defn(window=TimeWindow(unit="month"))
    at = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
    bad, total = counts(10.0, 0.0005, **{"1h": (36000, 0.003), "6h": (216000, 0.003)})  # burn 3 in 1h/6h
    s = st.evaluate(month, at, bad, total)
    assert (s.period_start, s.period_end) == (
        datetime(2026, 11, 1, tzinfo=UTC),
        datetime(2026, 12, 1, tzinfo=UTC),
    )
    # 50% left at 3× over a 30-day November: 5 days → after 1 December: not within the period
    assert s.forecast["1h"] is None


def test_disabled_alerts_are_not_listed():
    s = st.evaluate(defn(alerting=AlertingOptions(ticket=False)), AT, *counts(10.0, 0.0001))
    assert [a.name for a in s.alerts] == ["page-1h-5m", "page-6h-30m", "no-data"]


def test_status_json_shape():
    s = st.evaluate(defn(), AT, *counts(10.0, 0.0001))
    doc = s.to_json()
    assert list(doc) == [
        "name",
        "service",
        "domain",
        "target",
        "window",
        "sli",
        "error_budget_remaining",
        "burn_rates",
        "state",
        "alerts",
        "budget_exhausted_at",
    ]
    assert list(doc["burn_rates"]) == ["5m", "30m", "1h", "2h", "6h", "1d", "3d"]
    assert doc["alerts"][0] == {"name": "page-1h-5m", "severity": "page", "firing": False}
    assert doc["window"] == "30d" and doc["budget_exhausted_at"] is None
    assert json.loads(json.dumps(doc)) == doc
    assert st.rfc3339(AT) == "2026-11-28T02:00:00Z"


def test_sorting_and_counts():
    healthy = st.evaluate(defn("a"), AT, *counts(10.0, 0.0001))
    exhausted = st.evaluate(defn("b"), AT, *counts(10.0, 0.002))
    empty = st.evaluate(defn("c"), AT, {}, {})
    risky = st.evaluate(defn("d"), AT, *counts(10.0, 0.0008))
    order = [s.name for s in st.sort_worst_first([healthy, empty, risky, exhausted])]
    assert order == ["b", "d", "c", "a"]  # by state as `worst_state` ranks them: the first sets a domain's
    assert st.state_counts([healthy, exhausted, empty, risky]) == {
        "exhausted": 1,
        "at risk": 1,
        "no data": 1,
        "healthy": 1,
    }
    failed = [st.unknown(defn(n), AT, "prometheus: down") for n in "xy"]
    assert st.state_counts(failed) == {"exhausted": None, "at risk": None, "no data": 2, "healthy": None}
    assert st.state_counts([*failed, healthy])["healthy"] == 1  # partly known: the known ones count


# -- fetching -----------------------------------------------------------------------------------------------


class FakePrometheus:
    """Answers the exact queries the SLO code sends, from constant per-second rates per SLO."""

    def __init__(
        self,
        definitions,
        rates,
        *,
        recorded=True,
        hashes=None,
        reject=(),
        down=(),
        windows_down=False,
        backfilled=(),
    ):
        self.defs = {d.name: d for d in definitions}
        self.rates = rates  # name -> (total per second, error ratio)
        self.recorded = recorded
        self.hashes = hashes or {d.name: d.fingerprint() for d in definitions}
        self.reject = set(reject)
        self.down = set(down)  # SLOs whose raw query times out
        self.windows_down = windows_down  # the recorded-window queries time out
        # "only": the records are backfilled ones (`app.slo.backfill`); "both": a live record too, after it
        # a backfilled one counting ten times the errors
        self.backfilled = backfilled
        self.calls: list[str] = []
        self.lock = threading.Lock()

    def _events(self, name, seconds):
        total_rate, ratio = self.rates[name]
        return total_rate * seconds * ratio, total_rate * seconds

    def instant(self, query, at=None):
        with self.lock:
            self.calls.append(query)
        if query == OBJECTIVE:
            if not self.recorded:
                return QueryResult(pd.DataFrame({"value": pd.Series([], dtype=float)}))
            rows = [
                {"__name__": OBJECTIVE, "slo": n, "sextant_hash": self.hashes[n], "value": d.target}
                for n, d in self.defs.items()
            ]
            return QueryResult(pd.DataFrame(self._marked(rows)))
        for w in (*WINDOWS, PERIOD):
            if query == st.recorded_query("period" if w == PERIOD else w):
                if self.windows_down:
                    raise BackendUnavailable("prometheus", "no answer within 3 s", error_type="timeout")
                seconds = D30.total_seconds() if w == PERIOD else parse_duration(w).total_seconds()
                rows = []
                for n in self.defs:
                    bad, total = self._events(n, seconds)
                    rows.append({"__name__": f"slo:sli_events_total:increase{w}", "slo": n, "value": total})
                    rows.append({"__name__": f"slo:sli_events_bad:increase{w}", "slo": n, "value": bad})
                return QueryResult(pd.DataFrame(self._marked(rows)))
        for n, d in self.defs.items():
            if query == st.raw_queries(d):
                if n in self.reject:
                    raise QueryRejected("prometheus", "bad_data: nope", 400, "bad_data")
                if n in self.down:
                    raise BackendUnavailable("prometheus", "no answer within 3 s", error_type="timeout")
                rows = []
                for w in (*WINDOWS, "period"):
                    seconds = (D30 if w == "period" else parse_duration(w)).total_seconds()
                    bad, total = self._events(n, seconds)
                    rows += [
                        {"sextant_key": f"total:{w}", "value": total},
                        {"sextant_key": f"bad:{w}", "value": bad},
                    ]
                return QueryResult(pd.DataFrame(rows))
            for seconds in range(300, 86401, 300):
                if query == slo_history.events_query(d, timedelta(seconds=seconds)):
                    bad, total = self._events(n, seconds)
                    return QueryResult(pd.DataFrame({"part": ["bad", "total"], "value": [bad, total]}))
        raise AssertionError(f"unexpected query {query[:120]}")

    def _marked(self, rows):
        backfilled = [
            {**r, BACKFILLED: "hourly", "value": r["value"] * (10 if "_bad:" in r["__name__"] else 1)}
            for r in rows
        ]
        return {(): rows, "only": backfilled, "both": rows + backfilled}[self.backfilled or ()]

    def range(self, query, start, end, step=None):
        with self.lock:
            self.calls.append(query)
        step = float(step)
        times = pd.date_range(
            pd.Timestamp(start).floor(f"{int(step)}s"),
            pd.Timestamp(end).floor(f"{int(step)}s"),
            freq=f"{int(step)}s",
        )
        for n, d in self.defs.items():
            for w in (*WINDOWS, None):
                window = parse_duration(w) if w else timedelta(seconds=step)
                if query == slo_history.events_query(d, window):
                    bad, total = self._events(n, window.total_seconds())
                    rows = [
                        {"part": p, "timestamp": t, "value": v}
                        for t in times
                        for p, v in (("bad", bad), ("total", total))
                    ]
                    return QueryResult(pd.DataFrame(rows))
        raise AssertionError(f"unexpected range query {query[:120]}")


def test_with_recording_rules_requests_do_not_grow_with_slos():
    for n in (2, 40):
        defs = [defn(f"s{i}") for i in range(n)]
        # each SLO its own error ratio, so that figures attached to the wrong SLO show
        rates = {d.name: (10.0, 0.0001 * (i % 9 + 1)) for i, d in enumerate(defs)}
        prom = CountingClient(FakePrometheus(defs, rates))
        result = st.compute_status(defs, prom, AT)
        assert prom.requests == 1 + len(WINDOWS) + 1  # presence + one per window + the period
        assert {s.source for s in result} == {"rules"}
        assert [s.name for s in result] == [d.name for d in defs]
        left = [s.error_budget_remaining for s in result]
        assert left == pytest.approx([1 - 0.1 * (i % 9 + 1) for i in range(n)])


def test_without_rules_each_slo_is_one_concurrent_raw_query():
    defs = [defn(f"s{i}") for i in range(5)]
    fake = FakePrometheus(
        defs, {d.name: (10.0, 0.0001 * (i + 1)) for i, d in enumerate(defs)}, recorded=False
    )
    prom = CountingClient(fake)
    result = st.compute_status(defs, prom, AT)
    assert prom.requests == 1 + 5
    assert {s.source for s in result} == {"raw"}
    assert [s.error_budget_remaining for s in result] == pytest.approx([0.9, 0.8, 0.7, 0.6, 0.5])
    forced = CountingClient(fake)
    st.compute_status(defs, forced, AT, use_rules=False)
    assert forced.requests == 5  # no presence check


def test_rules_from_an_older_definition_are_not_trusted():
    defs = [defn("a"), defn("b")]
    fake = FakePrometheus(
        defs, {"a": (10.0, 0.0001), "b": (10.0, 0.0001)}, hashes={"a": defs[0].fingerprint(), "b": "stale"}
    )
    result = st.compute_status(defs, fake, AT)
    assert [s.source for s in result] == ["rules", "raw"]


def test_backfilled_records_stand_for_their_whole_hour_only():
    """`python -m app.slo backfill` writes records at whole hours; Prometheus's lookback would answer an
    instant minutes later with them, as if they were that instant's figures."""
    defs = [defn("a")]
    fake = FakePrometheus(defs, {"a": (10.0, 0.0001)}, backfilled="only")
    assert AT.replace(minute=0) == AT
    (on_the_hour,) = st.compute_status(defs, fake, AT)
    assert on_the_hour.source == "rules"
    assert on_the_hour.error_budget_remaining == pytest.approx(0.0)  # the backfilled figures: 10 × the errors
    (later,) = st.compute_status(defs, fake, AT + timedelta(minutes=3))
    assert later.source == "raw" and later.error_budget_remaining == pytest.approx(0.9)


def test_a_live_record_wins_over_a_backfilled_one():
    defs = [defn("a")]
    fake = FakePrometheus(defs, {"a": (10.0, 0.0001)}, backfilled="both")
    for at in (AT, AT + timedelta(minutes=3)):
        (status,) = st.compute_status(defs, fake, at)
        assert status.source == "rules" and status.error_budget_remaining == pytest.approx(0.9), at


def test_a_rejected_query_gives_that_slo_no_data_and_the_others_their_figures():
    defs = [defn("a"), defn("b")]
    fake = FakePrometheus(defs, {"a": (10.0, 0.0001), "b": (10.0, 0.0001)}, recorded=False, reject={"b"})
    a, b = st.compute_status(defs, fake, AT)
    assert a.state == "healthy"
    assert b.state == "no data" and "nope" in b.error


def test_slos_whose_queries_fail_are_no_data_and_the_others_keep_their_figures():
    defs = [defn("a"), defn("b"), defn("c")]
    rates = {n: (10.0, 0.0001) for n in "abc"}
    a, b, c = st.compute_status(defs, FakePrometheus(defs, rates, recorded=False, down={"b"}), AT)
    assert (a.state, c.state) == ("healthy", "healthy")
    assert b.state == "no data" and b.error == "prometheus: no answer within 3 s"
    assert len(b.alerts) == 5  # four burn-rate pairs and the no-data alert
    assert all(alert.firing is None for alert in b.alerts)  # neither firing nor quiet: unknown
    with pytest.raises(BackendUnavailable):  # nothing at all: the caller keeps its last good board
        st.compute_status(defs, FakePrometheus(defs, rates, recorded=False, down=set("abc")), AT)
    # "c" has no recording rules (another hash): it is read raw while the recorded windows go unanswered.
    hashes = {"a": defs[0].fingerprint(), "b": defs[1].fingerprint(), "c": "old"}
    fake = FakePrometheus(defs, rates, windows_down=True, hashes=hashes)
    assert [s.state for s in st.compute_status(defs, fake, AT)] == ["no data", "no data", "healthy"]


def test_unreachable_prometheus_raises():
    class Down:
        def instant(self, query, at=None):
            raise BackendUnavailable("prometheus", "connection refused")

    with pytest.raises(BackendUnavailable):
        st.compute_status([defn()], Down(), AT)
    assert st.compute_status([], Down(), AT) == []


# -- history -------------------------------------------------------------------------------------------------


def test_budget_burndown_against_the_ideal_line():
    d = defn()
    fake = FakePrometheus([d], {"api": (10.0, 0.0005)})
    burn = slo_history.budget_burndown(d, fake, AT)
    frame = burn.frame
    assert (burn.period_start, burn.period_end) == (AT - D30, AT)
    # constant burn 0.5: the budget falls linearly to 50%, the ideal line to 0
    assert frame["budget_remaining"].iloc[-1] == pytest.approx(0.5)
    assert frame["ideal"].iloc[-1] == pytest.approx(0.0)
    assert frame["budget_remaining"].is_monotonic_decreasing
    assert frame["sli"].iloc[0] == pytest.approx(0.9995) and frame["sli_period"].iloc[-1] == pytest.approx(
        0.9995
    )
    assert slo_history.history_step(AT - D30, AT) == 7200


def test_burn_rate_and_alert_history():
    d = defn()
    fake = FakePrometheus([d], {"api": (10.0, 0.02)})  # burn 20 everywhere
    burns = slo_history.burn_rate_history(d, fake, AT - timedelta(hours=2), AT, step=600)
    assert set(burns["window"]) == set(WINDOWS)
    assert burns["burn_rate"].tolist() == pytest.approx([20.0] * len(burns))
    history = slo_history.alert_history(d, burns)
    assert set(history["alert"]) == {"page-1h-5m", "page-6h-30m", "ticket-1d-2h", "ticket-3d-6h"}
    assert history["firing"].all()
    spans = slo_history.firing_spans(history)
    assert len(spans) == 4 and (spans["start"] == AT - timedelta(hours=2)).all()
    assert st.alert_thresholds(d) == {
        "page-1h-5m": 14.4,
        "page-6h-30m": 6.0,
        "ticket-1d-2h": 3.0,
        "ticket-3d-6h": 1.0,
    }
    assert slo_history.alert_history(d, burns.iloc[0:0]).empty


def test_firing_spans_split_on_gaps():
    ts = [AT + timedelta(minutes=i) for i in range(6)]
    history = pd.DataFrame(
        {
            "timestamp": ts,
            "alert": "page-1h-5m",
            "severity": "page",
            "firing": [True, True, False, True, False, False],
        }
    )
    spans = slo_history.firing_spans(history)
    assert spans[["start", "end"]].values.tolist() == [[ts[0], ts[1]], [ts[3], ts[3]]]


def test_compliance_per_calendar_week_and_month():
    d = defn()
    fake = FakePrometheus([d], {"api": (10.0, 0.0005)})
    table = slo_history.compliance_history(d, fake, AT, weeks=3, months=2)
    weeks = table[table["unit"] == "week"]
    months = table[table["unit"] == "month"]
    assert len(weeks) == 3 and len(months) == 2
    assert weeks["start"].tolist() == [
        datetime(2026, 11, 9, tzinfo=UTC),
        datetime(2026, 11, 16, tzinfo=UTC),
        datetime(2026, 11, 23, tzinfo=UTC),
    ]
    assert months["start"].tolist() == [datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)]
    assert weeks["sli"].tolist() == pytest.approx([0.9995] * 3)
    assert weeks["met"].all()  # 99.95% ≥ 99.9%
    # the current week holds 5 whole days (23–27 November) plus 2 hours of the 28th
    assert weeks["total"].iloc[-1] == pytest.approx(10.0 * (5 * 86400 + 7200))


def test_slo_history_bundles_everything():
    d = defn()
    fake = FakePrometheus([d], {"api": (10.0, 0.0005)})
    h = slo_history.slo_history(d, fake, AT, start=AT - timedelta(hours=6), step=1800)
    assert h.definition is d and h.at == AT
    assert not h.burndown.frame.empty and not h.burn_rates.empty and not h.compliance.empty
    assert set(h.thresholds) == set(h.alerts["alert"])


# -- the CLI -----------------------------------------------------------------------------------------


def run_cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(args), out, err)
    return code, out.getvalue(), err.getvalue()


def test_cli_status_json(monkeypatch):
    defs = load_definitions(REPO / "slo_definitions").definitions
    fake = FakePrometheus(defs, {d.name: (5.0, 0.0001) for d in defs})
    fake.url = "http://fake"
    monkeypatch.setattr(cli, "_client", lambda url, timeout=None: fake)
    code, out, err = run_cli("status", "--json", "--at", "2026-11-28T02:00:00Z")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["at"] == "2026-11-28T02:00:00Z"
    assert [s["name"] for s in doc["slos"]] == [d.name for d in defs]
    assert {s["state"] for s in doc["slos"]} <= {"healthy", "at risk", "exhausted", "no data"}
    code, out, _ = run_cli("status", "--at", "2026-11-28T02:00:00")
    assert code == 0 and "hmrc-submissions" in out and "recording rules" in out


def test_cli_status_exit_codes_say_findings_usage_or_unreachable(tmp_path, monkeypatch):
    (tmp_path / "bad.yaml").write_text("version: prometheus/v1\nservice: x\nslos: []\n")
    code, _, err = run_cli("status", "--json", "--definitions", str(tmp_path), "--prometheus-url", "http://x")
    assert code == cli.EXIT_FINDINGS == 1 and "bad.yaml: slos: must be a non-empty list" in err
    code, _, err = run_cli("status", "--json", "--prometheus-url", "http://127.0.0.1:9", "--timeout", "2")
    assert code == cli.EXIT_UNREACHABLE == 3 and "did not answer" in err and "127.0.0.1:9" in err
    monkeypatch.delenv("SEXTANT_PROMETHEUS_URL", raising=False)
    monkeypatch.setenv("SEXTANT_OPENSEARCH_URL", "http://127.0.0.1:9")  # live, but no Prometheus
    code, _, err = run_cli("status", "--json")
    assert code == cli.EXIT_USAGE == 2 and "SEXTANT_PROMETHEUS_URL" in err
    with pytest.raises(SystemExit) as exited:
        run_cli("status", "--at", "yesterday")
    assert exited.value.code == 2


def test_cli_check(tmp_path, monkeypatch):
    monkeypatch.delenv("SEXTANT_PROMETHEUS_URL", raising=False)
    code, out, _ = run_cli("check")
    assert code == 0 and "PromQL checked locally" in out
    (tmp_path / "bad.yaml").write_text("apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: x}\n")
    code, _, err = run_cli("check", "--definitions", str(tmp_path))
    assert code == 1 and "bad.yaml: metadata.labels.domain: is required" in err
    code, out, err = run_cli("check", "--prometheus-url", "http://127.0.0.1:9")
    assert code == 0 and "unreachable" in err


def test_cli_rules(tmp_path):
    target = tmp_path / "rules" / "slo.yml"
    code, _, err = run_cli("rules", "--output", str(target))
    assert code == 0 and "wrote 19 SLO(s)" in err
    groups = yaml.safe_load(target.read_text())["groups"]
    assert len([g for g in groups if g["interval"] == "1m"]) == 19  # and a 30-minute group of tiles each
    assert len([g for g in groups if g["name"].startswith("sextant-tiles-")]) == 19
    code, out, _ = run_cli("rules", "--runbook-base-url", "https://git.example/r")
    assert code == 0 and "runbook_url: https://git.example/r/runbooks/hmrc-submissions.md" in out
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "bad.yaml").write_text("foo: 1\n")
    code, out, err = run_cli("rules", "--definitions", str(tmp_path / "d"))
    assert code == 1 and "groups: []" in out and "bad.yaml" in err


def test_cli_builds_a_client_from_the_environment(monkeypatch):
    monkeypatch.setenv("SEXTANT_PROMETHEUS_URL", "http://127.0.0.1:19090")
    client = cli._client(None)
    assert isinstance(client, PrometheusClient) and client.url.startswith("http://127.0.0.1:19090")
    assert cli._client("http://other:9090").url.startswith("http://other:9090")
    assert cli._client("http://other:9090", 5.0)._query_timeout == "4.5"  # asks Prometheus to stop first


# -- the PromQL itself, evaluated by Prometheus's engine (promtool) ------------------------------------


@pytest.mark.skipif(PROMTOOL is None, reason="promtool is not installed")
def _calendar(d: SloDefinition, unit: str, part: str) -> str:
    return calendar_events(replace(d, window=TimeWindow(unit=unit)), part, max_range=timedelta(hours=4))


def test_raw_and_history_queries_count_exact_events_in_promtool(tmp_path):
    d = defn(
        "exact",
        target=0.75,
        indicator=Indicator(
            total='sum(rate(test_requests_total{case="exact"}[{{.window}}]))',
            good='sum(rate(test_requests_total{case="exact",code="200"}[{{.window}}]))',
        ),
    )
    # 2/s in total, 0.25/s bad, for 3 hours; evaluated at 2 h (an aligned time: exact rates)
    expected = []
    for w in (*WINDOWS, "period"):
        seconds = min((D30 if w == "period" else parse_duration(w)).total_seconds(), 7200)
        expected += [
            {"labels": f'{{sextant_key="total:{w}"}}', "value": 2 * seconds},
            {"labels": f'{{sextant_key="bad:{w}"}}', "value": 0.25 * seconds},
        ]
    test = {
        "rule_files": [],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [
                    {"series": 'test_requests_total{case="exact",code="200"}', "values": "0+105x180"},
                    {"series": 'test_requests_total{case="exact",code="500"}', "values": "0+15x180"},
                    {"series": 'slo:sli_events_total:increase1h{slo="a"}', "values": "7200x180"},
                    {"series": 'slo:sli_events_bad:increase1h{slo="a"}', "values": "900x180"},
                    {"series": 'slo:sli_events_total:increase1h{slo="b"}', "values": "7200x180"},
                    {"series": 'slo:sli_events_bad:increase1h{slo="b"}', "values": "900x180"},
                ],
                "promql_expr_test": [
                    # calendar periods from 1970-01-01 (a Thursday, in a week that began on Monday 29
                    # December): at 2:37:30, 2 whole hours + 7 five-minute tiles + 150 s pro rata, at 2/s
                    *(
                        {
                            "expr": f"round({_calendar(d, unit, part)}, 0.001)",
                            "eval_time": "2h37m30s",
                            "exp_samples": [{"labels": "{}", "value": value}],
                        }
                        for unit in ("week", "month", "quarter")
                        for part, value in (("total", 18900), ("bad", 2362.5))
                    ),
                    # rounded: total − good and 3-day rates carry float noise in the last digit
                    {
                        "expr": f"round({st.raw_queries(d)}, 0.001)",
                        "eval_time": "2h",
                        "exp_samples": expected,
                    },
                    # the status code's one query per window returns both counts of every SLO
                    {
                        "expr": st.recorded_query("1h"),
                        "eval_time": "2h",
                        "exp_samples": [
                            {"labels": 'slo:sli_events_total:increase1h{slo="a"}', "value": 7200},
                            {"labels": 'slo:sli_events_bad:increase1h{slo="a"}', "value": 900},
                            {"labels": 'slo:sli_events_total:increase1h{slo="b"}', "value": 7200},
                            {"labels": 'slo:sli_events_bad:increase1h{slo="b"}', "value": 900},
                        ],
                    },
                    {
                        "expr": f"round({slo_history.events_query(d, timedelta(minutes=30))}, 0.001)",
                        "eval_time": "2h",
                        "exp_samples": [
                            {"labels": '{part="bad"}', "value": 450},
                            {"labels": '{part="total"}', "value": 3600},
                        ],
                    },
                ],
            }
        ],
    }
    path = tmp_path / "raw_test.yml"
    path.write_text(yaml.safe_dump(test))
    run = subprocess.run([PROMTOOL, "test", "rules", str(path)], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]


@pytest.mark.skipif(PROMTOOL is None, reason="promtool is not installed")
def test_time_slice_queries_in_promtool(tmp_path):
    """Ratio slices (good and bad forms) and a calendar period of gauge slices, counted by Prometheus."""
    five = timedelta(minutes=5)
    common = dict(budgeting="Timeslices", time_slice_window=five, threshold=0.9, target=0.9)
    bad_form = defn("bad-form", **common)  # req_total{slo="bad-form"} / {code="500"}
    good_form = defn(
        "good-form",
        indicator=Indicator(
            total='sum(rate(req_total{slo="bad-form"}[{{.window}}]))',
            good='sum(rate(req_total{slo="bad-form",code="200"}[{{.window}}]))',
        ),
        **common,
    )
    gauge = defn(
        "gauge",
        budgeting="Timeslices",
        time_slice_window=timedelta(minutes=1),
        threshold=10.0,
        op="lte",
        window=TimeWindow(unit="month"),
        indicator=Indicator(query="max_over_time(age_seconds[{{.window}}])"),
    )
    hour = timedelta(hours=1)
    cases = []
    for d in (bad_form, good_form):
        # 25% errors (ratio 0.75 < 0.9) for the first hour, none after: 12 bad slices of 12, then 0 of 12
        for at, bad in (("1h", 12), ("2h", 0)):
            cases.append(
                {"expr": window_events(d, "bad", hour), "eval_time": at, "exp_samples": [{"value": bad}]}
            )
            cases.append(
                {"expr": window_events(d, "total", hour), "eval_time": at, "exp_samples": [{"value": 12}]}
            )
    # gauge over 10 s for minutes 60-120; January so far at 3h: slices ending at minutes 1-180 (the one
    # ending at 0 began in December), 62 bad
    for part, value in (("bad", 62), ("total", 180)):
        expr = calendar_events(gauge, part, max_range=timedelta(hours=4))
        cases.append({"expr": expr, "eval_time": "3h", "exp_samples": [{"value": value}]})
    for case in cases:
        case["exp_samples"][0]["labels"] = "{}"
    test = {
        "rule_files": [],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [
                    {"series": 'req_total{slo="bad-form",code="200"}', "values": "0+90x60 5400+120x120"},
                    {"series": 'req_total{slo="bad-form",code="500"}', "values": "0+30x60 1800+0x120"},
                    {"series": "age_seconds", "values": "5x59 20x60 5x60"},
                ],
                "promql_expr_test": cases,
            }
        ],
    }
    path = tmp_path / "slices_test.yml"
    path.write_text(yaml.safe_dump(test))
    run = subprocess.run([PROMTOOL, "test", "rules", str(path)], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]


class TiledPrometheus:
    """Step-long tiles of a burst of errors in one tile and no samples at all in another; any other window
    asked directly answers constant counts. Records each range query's window."""

    def __init__(self, d: SloDefinition, step: int, burst_at: datetime, gap_at: datetime):
        self.d, self.step, self.burst_at, self.gap_at = d, step, burst_at, gap_at
        self.asked: list[tuple[timedelta, datetime]] = []

    def range(self, query, start, end, step=None):
        times = pd.date_range(
            pd.Timestamp(start).floor(f"{self.step}s"),
            pd.Timestamp(end).floor(f"{self.step}s"),
            freq=f"{self.step}s",
        )
        window = next(
            parse_duration(w)
            for w in (*WINDOWS, "10m")
            if query == slo_history.events_query(self.d, parse_duration(w))
        )
        self.asked.append((window, start))
        rows = []
        for t in times:
            if window == timedelta(seconds=self.step) and t == self.gap_at:
                continue
            bad = 50.0 if (window == timedelta(seconds=self.step) and t == self.burst_at) else 0.0
            rows += [
                {"part": "bad", "timestamp": t, "value": bad},
                {"part": "total", "timestamp": t, "value": 1000.0},
            ]
        return QueryResult(pd.DataFrame(rows))


def test_long_burn_windows_are_summed_from_one_query_of_step_long_tiles():
    d = defn()
    step = 1800
    burst, gap = AT - timedelta(hours=5), AT - timedelta(hours=3)
    fake = TiledPrometheus(d, step, burst, gap)
    start = AT - timedelta(hours=12)
    burns = slo_history.burn_rate_history(d, fake, start, AT, step=step)

    # 5m is shorter than a step: asked directly; 30m … 3d come from one tile query reaching 3 days back
    assert sorted(w for w, _ in fake.asked) == [timedelta(minutes=5), timedelta(minutes=30)]
    assert min(s for _, s in fake.asked) == start - timedelta(days=3) + timedelta(seconds=step)
    assert set(burns["window"]) == set(WINDOWS)

    def at(window: str, ts: datetime) -> pd.Series:
        rows = burns[(burns["window"] == window) & (burns["timestamp"] == pd.Timestamp(ts))]
        assert len(rows) == 1
        return rows.iloc[0]

    # the burst's tile counts in every window that covers it, and only while it covers it
    one_hour = at("1h", burst + timedelta(minutes=30))
    assert (one_hour["bad"], one_hour["total"]) == (50.0, 2000.0)
    assert one_hour["burn_rate"] == pytest.approx((50 / 2000) / d.error_budget)
    assert at("1h", burst + timedelta(hours=1))["bad"] == 0.0
    six_hours = at("6h", AT)
    assert six_hours["bad"] == 50.0
    # a tile without samples counts no events: the 6h window holds 11 tiles' worth, not 12
    assert six_hours["total"] == 11 * 1000.0
    assert at("3d", AT)["total"] == (3 * 48 - 1) * 1000.0
    # a window made only of the missing tile has no figure, as Prometheus would leave it
    assert burns[(burns["window"] == "30m") & (burns["timestamp"] == pd.Timestamp(gap))].empty
    # every timestamp of the range, and no earlier one
    assert burns["timestamp"].min() == pd.Timestamp(start) and burns["timestamp"].max() == pd.Timestamp(AT)


def test_windows_that_are_not_whole_steps_are_asked_directly():
    d = defn()
    fake = TiledPrometheus(d, 600, AT, AT)
    slo_history.burn_rate_history(d, fake, AT - timedelta(hours=1), AT, step=600, windows=("5m", "10m", "1h"))
    assert sorted(w for w, _ in fake.asked) == [timedelta(minutes=5), timedelta(minutes=10)]
    fake = TiledPrometheus(d, 60, AT, AT)  # one-minute tiles hold too few scrapes: every window directly
    slo_history.burn_rate_history(d, fake, AT - timedelta(hours=1), AT, step=60, windows=("5m", "1h"))
    assert sorted(w for w, _ in fake.asked) == [timedelta(minutes=5), timedelta(hours=1)]

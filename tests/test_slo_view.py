"""The SLO pages' view logic: filters, the table, links, forecasts, alert rows."""

import dataclasses
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pandas as pd
import pytest

from app import links, overview
from app.slo import history as slo_history
from app.slo import view as slo_view
from app.slo.history import SloHistory
from app.slo.status import PERIOD_KEY, WINDOWS, AlertStatus, evaluate
from app.sources import Sources
from app.sources.cache import Outcome, ResultCache
from app.sources.counting import CountingClient
from app.sources.errors import BackendUnavailable
from app.timerange import time_range
from tests.conftest import UNASKED
from tests.test_slo_status import FakePrometheus

AT = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
DEFS = slo_view.definitions().by_name()


def status(name: str, bad_share: float, total: float = 100_000.0):
    counts = {w: total for w in (*WINDOWS, PERIOD_KEY)}
    return evaluate(DEFS[name], AT, {w: total * bad_share for w in counts}, counts)


def test_the_shipped_definitions_load_without_errors():
    loaded = slo_view.definitions()
    assert loaded.errors == ()
    assert len(loaded.definitions) >= 12
    assert {d.domain for d in loaded.definitions} == {
        "ingestion",
        "extraction",
        "reconciliation",
        "filing",
        "assistant",
    }


def test_filters_combine_search_domain_team_state_and_labels():
    statuses = [
        status("hmrc-submissions", 0.05),
        status("filing-latency", 0.0),
        status("extraction-accuracy", 0.0),
    ]
    assert [s.name for s in slo_view.filter_statuses(statuses, text="HMRC")] == ["hmrc-submissions"]
    assert {s.name for s in slo_view.filter_statuses(statuses, domains=["filing"])} == {
        "hmrc-submissions",
        "filing-latency",
    }
    assert [s.name for s in slo_view.filter_statuses(statuses, states=["exhausted"])] == ["hmrc-submissions"]
    assert slo_view.filter_statuses(statuses, teams=["nobody"]) == []
    assert [s.name for s in slo_view.filter_statuses(statuses, labels=["tier=1"], domains=["filing"])] == [
        "hmrc-submissions"
    ]
    assert "domain=filing" in slo_view.label_choices(statuses)


def test_the_board_says_how_many_slos_were_computed_from_raw_counters_without_guessing_why():
    raw = status("hmrc-submissions", 0.01)  # `evaluate`'s default source: raw
    recorded = dataclasses.replace(status("filing-latency", 0.0), source="rules")
    board = slo_view.SloBoard([raw, recorded], (), Outcome([raw, recorded]), 0)
    note = board.source_note or ""
    assert note.startswith("1 of 2 SLOs computed from raw counters")
    assert "not loaded, or not yet recording their whole period" in note
    assert slo_view.SloBoard([recorded], (), Outcome([recorded]), 0).source_note is None


def test_board_table_keeps_order_and_figures():
    statuses = [status("hmrc-submissions", 0.01), status("filing-latency", 0.0)]
    table = slo_view.board_table(statuses)
    assert list(table["slo"]) == ["HMRC submissions", DEFS["filing-latency"].display_name or "filing-latency"]
    first = table.iloc[0]
    # 1% errors against a 98% objective: half the budget spent, burning at 0.5×.
    assert (
        first["sli"] == 0.99
        and abs(first["budget_remaining"] - 0.5) < 1e-12
        and abs(first["burn_1h"] - 0.5) < 1e-12
    )
    assert first["link"] == "SLOs?slo=hmrc-submissions"
    assert table.iloc[1]["firing"] == "—"


def test_firing_alerts_fit_a_cell_grouped_by_kind():
    page = {"severity": "page", "firing": True}
    alerts = [
        AlertStatus("page-1h-5m", long_window="1h", short_window="5m", factor=14.4, **page),
        AlertStatus("page-6h-30m", long_window="6h", short_window="30m", factor=6, **page),
        AlertStatus("ticket-1d-2h", "ticket", True, "1d", "2h", 3),
        AlertStatus("no-data", "ticket", True),
    ]
    assert slo_view.firing_words(alerts) == "fast-burn page: 1h, 6h; slow-burn ticket: 1d; ticket: no data"
    assert slo_view.firing_words([]) == "—"


def test_detail_link_reproduces_the_view():
    assert slo_view.detail_link("hmrc-submissions", "7d") == "SLOs?slo=hmrc-submissions&range=7d"
    assert slo_view.detail_link("a b") == "SLOs?slo=a%20b"  # %20 like every other link, not +


def test_forecasts_in_words():
    burning = status("hmrc-submissions", 0.015)  # 0.75× everywhere: a quarter of the budget left
    lines = slo_view.forecast_sentences(burning)
    assert len(lines) == 3 and all("budget" in line for line in lines)
    spent = slo_view.forecast_sentences(status("hmrc-submissions", 0.05))
    assert spent[0].startswith("The error budget is spent")
    empty = evaluate(DEFS["hmrc-submissions"], AT, {}, {})
    assert slo_view.forecast_sentences(empty) == ["No data in the period, so no forecast."]


def test_alert_table_says_since_when_an_alert_fires():
    defn = DEFS["hmrc-submissions"]
    current = status("hmrc-submissions", 0.5)  # burning at 25×: every alert fires
    alerts = pd.DataFrame(
        [
            {
                "timestamp": AT - timedelta(minutes=m),
                "alert": a.name,
                "severity": a.severity,
                "firing": m <= 30,
            }
            for a in current.alerts
            for m in (60, 30, 0)
        ]
    )
    history = SloHistory(defn, AT, None, pd.DataFrame(), {}, alerts, pd.DataFrame())
    detail = slo_view.SloDetail(defn, Outcome([current]), Outcome(history), Outcome(None), {}, Outcome(None))
    table = slo_view.alert_table(detail).set_index("alert")
    assert table.loc["page-1h-5m", "firing"] == "FIRING"
    assert table.loc["page-1h-5m", "since"] == AT - timedelta(minutes=30)
    assert table.loc["page-1h-5m", "threshold"] == 14.4
    # the runbook opens inside Sextant (the Alerts page renders it), never as a file path of the repository
    assert table.loc["page-1h-5m", "runbook"] == links.url("alerts", runbook="hmrc-submissions")


def test_runbooks_of_every_slo_are_files_here():
    for defn in DEFS.values():
        text = slo_view.runbook_text(defn)
        assert not text.startswith("Runbook:") and len(text) > 200, defn.name


PAST = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)  # a whole hour a week before the tests' present


def counted_sources(recorded: bool) -> tuple[CountingClient, SimpleNamespace]:
    """Every shipped SLO at 10 events a second, their records loaded or not, through a counting client."""
    fake = FakePrometheus(list(DEFS.values()), {n: (10.0, 0.0005) for n in DEFS}, recorded=recorded)
    prom = CountingClient(fake)
    return prom, SimpleNamespace(cache_key=("test",), prometheus=prom)


def test_a_board_without_slos_asks_prometheus_nothing(tmp_path):
    """No definition: nothing to compute, and Prometheus's rules and alerts are not read either (they are
    read while the statuses are computed, for the SLOs' alerts)."""
    asked: list[str] = []

    class Watched:
        def __getattr__(self, name):
            return lambda *args, **kwargs: asked.append(name)

    sources = Sources(prometheus=Watched(), opensearch=UNASKED, jaeger=UNASKED, mode="live")
    board = slo_view.load_board(sources, sources.present(), ResultCache(), directory=tmp_path)
    assert board.statuses == [] and board.outcome.error is None
    assert asked == []


def test_past_statuses_compute_each_slo_once_per_instant_across_callers():
    """The overview's week-ago board (every SLO) and the readiness trend (the filing SLOs) at one instant:
    the filing SLOs' raw queries, and the presence check, are sent once."""
    defs = list(DEFS.values())
    filing = [d for d in defs if d.domain == "filing"]
    prom, sources = counted_sources(recorded=False)
    cache, at = ResultCache(), PAST
    board = slo_view.past_statuses(sources, defs, at, cache)
    assert prom.requests == 1 + len(defs)
    again = slo_view.past_statuses(sources, filing, at, cache)
    assert prom.requests == 1 + len(defs)  # nothing asked again
    assert again == [s for s in board if s.domain == "filing"] and len(again) == 4
    slo_view.past_statuses(sources, filing, at + timedelta(hours=1), cache)
    assert prom.requests == 1 + len(defs) + 1 + len(filing)  # another instant is another question


def test_past_statuses_read_from_records_are_kept_too():
    """At a backfilled whole hour every SLO is read from records: one query per window, for all SLOs, and
    the board of that hour asks none of them again (the overview asks for it each minute of the hour)."""
    defs = list(DEFS.values())
    prom, sources = counted_sources(recorded=True)
    cache, at = ResultCache(), PAST
    board = slo_view.past_statuses(sources, defs, at, cache)
    assert {s.source for s in board} == {"rules"}
    asked = prom.requests
    assert asked <= 1 + 9
    filing = [d for d in defs if d.domain == "filing"]
    assert slo_view.past_statuses(sources, filing, at, cache) == [s for s in board if s.domain == "filing"]
    assert slo_view.past_statuses(sources, defs, at, cache) == board
    assert prom.requests == asked


def test_past_statuses_keep_a_failure_only_as_long_as_failures_are_remembered():
    defs = list(DEFS.values())[:2]
    rates = {d.name: (10.0, 0.0005) for d in defs}
    down = FakePrometheus(defs, rates, recorded=False, down={d.name for d in defs})
    sources = SimpleNamespace(cache_key=("test",), prometheus=down)
    clock = [0.0]
    cache, at = ResultCache(clock=lambda: clock[0]), PAST
    with pytest.raises(BackendUnavailable):
        slo_view.past_statuses(sources, defs, at, cache)
    sources.prometheus = FakePrometheus(defs, rates, recorded=False)
    with pytest.raises(BackendUnavailable):  # within the time a failure is remembered: not asked again
        slo_view.past_statuses(sources, defs, at, cache)
    clock[0] = cache.error_ttl_s + 1
    assert [s.error for s in slo_view.past_statuses(sources, defs, at, cache)] == [None, None]


def test_the_overview_compares_with_the_hour_a_week_ago_computed_once_an_hour():
    """Every minute of an hour compares with the same instant, and its raw statuses are kept, not asked again
    each minute (19 SLOs over their 30-day period cost Prometheus about 90 s)."""
    defs = list(DEFS.values())
    fake = FakePrometheus(defs, {d.name: (10.0, 0.0005) for d in defs}, recorded=False)
    prom = CountingClient(fake)
    sources = SimpleNamespace(cache_key=("test",), prometheus=prom)
    clock = [0.0]
    cache = ResultCache(clock=lambda: clock[0])
    first = datetime(2026, 12, 6, 9, 1, tzinfo=UTC)
    for minute in range(0, 59, 7):
        at = first + timedelta(minutes=minute)
        assert overview.week_earlier(at) == datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
        clock[0] = minute * 60.0
        slo_view.past_statuses(sources, defs, overview.week_earlier(at), cache)
    raw = [q for q in fake.calls if "sextant_key" in q]
    assert len(raw) == len(defs)  # one raw question per SLO in the whole hour
    assert overview.week_earlier(first + timedelta(hours=1)) == datetime(2026, 11, 29, 10, 0, tzinfo=UTC)


def test_the_detail_computes_status_and_history_once_whatever_range_is_picked(monkeypatch):
    """Picking another range redraws the service's curves; the SLO's status and period history stay."""
    asked: list[str] = []
    monkeypatch.setattr(slo_view, "compute_status", lambda defs, prom, at: asked.append("status") or [])
    monkeypatch.setattr(slo_view, "slo_history", lambda defn, prom, at: asked.append("history") or None)
    monkeypatch.setattr(
        slo_view, "range_history", lambda defn, prom, start, end: asked.append("range") or None
    )

    class Quiet:
        url = "quiet"

        def range(self, query, start, end, step=None):
            asked.append("curve")
            return SimpleNamespace(frame=pd.DataFrame())

        def search(self, index, body):
            asked.append("incidents")
            return SimpleNamespace(hits=pd.DataFrame())

    sources = SimpleNamespace(
        cache_key=("test",),
        prometheus=Quiet(),
        opensearch=Quiet(),
        run_budget_s=5.0,
        now=lambda: AT,
        present=lambda: AT + timedelta(hours=1),  # `AT` is not the backends' present: no alerts are asked
    )
    cache = ResultCache()
    for preset in ("24h", "7d", "1h"):
        slo_view.load_detail(sources, DEFS["hmrc-submissions"], AT, time_range(preset, AT), cache)
    assert asked.count("status") == 1 and asked.count("history") == 1 and asked.count("incidents") == 1
    assert asked.count("curve") == 3 * 3  # request rate, error ratio and p95 at each range
    assert asked.count("range") == 3  # the SLI and burn rates drawn over each range


def test_the_detail_draws_the_sli_and_burn_rates_over_the_pages_range_at_its_own_step():
    defn = DEFS["hmrc-submissions"]
    fake = FakePrometheus([defn], {defn.name: (10.0, 0.004)}, recorded=False)
    for preset, step in (("1h", timedelta(minutes=5)), ("7d", timedelta(minutes=30))):
        tr = time_range(preset, AT)
        got = slo_history.range_history(defn, fake, tr.start, tr.end)
        times = got.sli["timestamp"]
        assert times.min() == pd.Timestamp(tr.start) + step and times.max() == pd.Timestamp(tr.end)
        assert (times.diff().dropna() == step).all()
        assert got.sli["value"].tolist() == pytest.approx([0.996] * len(times))
        burns = got.burn_rates
        assert burns["timestamp"].min() == pd.Timestamp(tr.start)
        assert burns["timestamp"].max() == pd.Timestamp(tr.end)
        assert burns["burn_rate"].tolist() == pytest.approx([0.004 / defn.error_budget] * len(burns))


def test_the_detail_leads_with_when_the_budget_runs_out():
    burning = status("hmrc-submissions", 0.05)  # 5% errors against 2%: spent
    assert slo_view.runs_out(burning)[0] == "spent"
    calm = status("hmrc-submissions", 0.0)
    assert slo_view.runs_out(calm) == (
        "not this period",
        "At the recent burn rates the budget lasts beyond the period.",
    )
    unknown = evaluate(DEFS["hmrc-submissions"], AT, {}, {})
    assert slo_view.runs_out(unknown)[0] == "unknown"


def test_a_title_names_its_slo_in_any_case():
    assert slo_view.resolve_name("hmrc-submissions", DEFS) == "hmrc-submissions"
    assert slo_view.resolve_name(" HMRC Submissions ", DEFS) == "hmrc-submissions"
    assert slo_view.resolve_name("nothing like it", DEFS) is None

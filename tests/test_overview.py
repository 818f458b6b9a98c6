"""The overview's plain-English pieces: tile reasons, week-over-week changes, deadlines, headlines."""

from datetime import UTC, date, datetime, timedelta

import pandas as pd

from app import overview
from app.controls import view as controls_view
from app.controls.definition import Control
from app.controls.status import ControlStatus, grade
from app.deadlines import Deadline
from app.slo import view as slo_view
from app.slo.status import PERIOD_KEY, WINDOWS, evaluate, unknown
from app.sources.errors import BackendUnavailable
from app.timerange import time_range

AT = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)  # a Thursday
DEFS = slo_view.definitions().by_name()
NO_INCIDENTS = pd.DataFrame(columns=["start", "end", "title", "services"])


def status(name: str, bad_share: float | None, total: float = 100_000.0, at: datetime = AT):
    if bad_share is None:
        return evaluate(DEFS[name], at, {}, {})
    counts = {w: total for w in (*WINDOWS, PERIOD_KEY)}
    return evaluate(DEFS[name], at, {w: total * bad_share for w in counts}, counts)


def test_tile_colour_is_the_worst_state_and_no_data_is_never_healthy():
    statuses = [status("hmrc-submissions", 0.001), status("filing-latency", None)]
    tile = next(t for t in overview.domain_tiles(statuses, NO_INCIDENTS) if t.domain == "filing")
    assert tile.state == "no data"
    assert "no data" in tile.reason
    empty = next(t for t in overview.domain_tiles([], NO_INCIDENTS) if t.domain == "assistant")
    assert empty.state == "no data" and empty.page == "assistant"


def failed(name: str):
    return unknown(DEFS[name], AT, "prometheus: cannot reach http://127.0.0.1:1: connection refused")


def test_an_slo_not_fetched_is_no_data_and_its_domain_is_never_healthy():
    partly = [status("hmrc-submissions", 0.001), failed("filing-latency")]
    tile = next(t for t in overview.domain_tiles(partly, NO_INCIDENTS) if t.domain == "filing")
    assert tile.state == "no data"
    assert tile.reason == "1 of 2 SLOs: no data — Prometheus is not answering."  # the banner says why
    risky = [status("hmrc-submissions", 0.016), failed("filing-latency")]
    tile = next(t for t in overview.domain_tiles(risky, NO_INCIDENTS) if t.domain == "filing")
    assert tile.state == "at risk" and tile.reason.endswith("1 other SLO: no data.")
    assert not any(a.firing is not None for a in failed("filing-latency").alerts)  # unknown, not quiet


def test_what_changed_never_says_nothing_changed_when_it_does_not_know():
    week_ago = [status("hmrc-submissions", 0.0, at=AT - timedelta(days=7))]
    assert overview.state_changes(None, [status("hmrc-submissions", 0.0)]) == [
        "Not known: the SLO states of a week ago could not be fetched."
    ]
    lines = overview.state_changes(week_ago, [failed("hmrc-submissions")])
    assert lines == ["Not known for HMRC submissions: their figures could not be fetched now or a week ago."]
    assert overview.readiness_lines([None, None]) == [
        "Readiness: not known, the score now or a week ago could not be computed."
    ]
    error = BackendUnavailable("opensearch", "connection refused")
    assert overview.incident_lines(NO_INCIDENTS, AT, error) == [
        "Incidents: not known, OpenSearch is not answering."
    ]


def test_reason_names_the_budget_left_and_the_incident_behind_it():
    hmrc = status("hmrc-submissions", 0.016)  # 80% of the budget spent: at risk
    incidents = pd.DataFrame(
        {
            "start": [AT - timedelta(days=2, hours=3)],
            "end": [AT - timedelta(days=2)],
            "title": ["HMRC API outage"],
            "services": [["filing", "gateway"]],
        }
    )
    assert overview.reason_for([hmrc], incidents) == (
        "HMRC submissions: 20% of its 30d window's error budget left after Tuesday's HMRC API outage."
    )
    healthy = overview.reason_for([status("hmrc-submissions", 0.0124)], incidents)
    assert healthy == "HMRC submissions is healthy, with 38% of its budget left."  # no blame where no harm
    spent = overview.reason_for([status("hmrc-submissions", 0.05)], NO_INCIDENTS)
    assert spent.startswith("HMRC submissions: error budget overspent (-150% left")


def test_state_changes_and_new_alerts_since_last_week():
    before = [status("hmrc-submissions", 0.0, at=AT - timedelta(days=7))]
    after = [status("hmrc-submissions", 0.5)]
    lines = overview.state_changes(before, after)
    assert lines[0] == "HMRC submissions: healthy → exhausted."
    assert "fast-burn page, 1h window" in lines[1] and "not a week ago" in lines[1]


def test_what_changed_lists_the_worst_slos_changes_and_counts_the_rest():
    names = list(DEFS)
    before = [status(n, 0.0) for n in names]
    after = [status(n, 0.5) for n in names]  # every SLO exhausted, with alerts firing
    lines = overview.state_changes(before * 2, after * 2)
    moved = 2 * 2 * len(names)  # each SLO twice, each with its state moved and alerts firing anew
    assert len(lines) == overview.LIST_ROWS + 1
    assert lines[0].endswith(": healthy → exhausted.") and "firing now, not a week ago" in lines[1]
    assert lines[-1] == f"And {moved - 20} more changes: each SLO's history is on the SLOs page."


def test_headline_deltas_know_which_way_is_good():
    now = [status("hmrc-submissions", 0.05), status("filing-latency", 0.0)]
    week_ago = [status("hmrc-submissions", 0.0), status("filing-latency", 0.0)]
    heads = {h.key: h for h in overview.slo_headlines(now, week_ago, AT)}
    assert (heads["healthy"].value, heads["healthy"].previous, heads["healthy"].good_news) == (1, 2, False)
    assert (heads["exhausted"].delta, heads["exhausted"].good_news) == (1, False)
    assert heads["exhausted"].delta_text == "+1"
    assert heads["at risk"].good_news is None  # no change
    assert "- HMRC submissions" in heads["exhausted"].explanation  # display names, not ids
    unknown = overview.slo_headlines(None, None, AT)
    assert [h.key for h in unknown] == [h.key for h in heads.values()]  # the same headlines, no figures
    assert all(h.value is None and h.display_value == "no data" and h.delta is None for h in unknown)


def test_deadlines_join_entities_due_and_ready_by_obligation():
    deadlines = [
        Deadline("vat", "VAT return (period ended 31 Oct)", date(2026, 12, 7), 9, date(2026, 10, 31)),
        Deadline("itsa_final", "Final declaration", date(2027, 1, 31), 64, date(2026, 4, 5)),
    ]
    obligations = pd.DataFrame(
        {
            "obligation": ["vat", "vat", "itsa_quarterly"],
            "value": [40.0, 30.0, 12.0],
            "what": ["due", "ready", "due"],
        }
    )
    table = overview.deadline_table(overview.deadline_rows(deadlines, obligations))
    assert table.iloc[0][["entities_due", "entities_ready", "ready_share"]].tolist() == [40.0, 30.0, 0.75]
    assert pd.isna(table.iloc[1]["entities_due"])  # no metric for the final declaration: unknown, not zero


def posture(*statuses: str) -> controls_view.ControlsView:
    """A controls view whose controls have these statuses, named after them ("Control 1 (failing)")."""
    judged = [
        ControlStatus(
            Control(
                f"c{i}",
                f"Control {i} ({status})",
                "Area",
                "the playbook",
                "owner",
                timedelta(days=90),
                date(2026, 11, 1),
            ),  # fmt: skip
            status,
            f"reason {i}",
            (),
            True,
        )
        for i, status in enumerate(statuses, start=1)
    ]
    return controls_view.ControlsView(time_range("24h", AT), judged, grade(judged), None, None, None, {})


def test_security_line_is_the_grade_with_its_count_and_the_failing_controls():
    line = overview.security_line(
        posture("failing", "met", "stale", "failing", "no evidence", "failing", "failing")
    )
    assert line == (
        "Weak: 4 of 7 controls failing, 1 stale, 1 without evidence; 1 met. Failing: Control 1 (failing), "
        "Control 4 (failing), Control 6 (failing) and 1 more."
    )
    assert overview.security_line(posture("met", "met")) == "Strong: All 2 controls met."
    assert overview.security_line(posture("met", "stale")) == "Fair: 1 of 2 controls stale; 1 met."
    assert overview.security_line(posture("no evidence", "met")).startswith(
        "Unknown: 1 of 2 controls without"
    )
    assert overview.security_line(posture()) == "Not known: the security controls file could not be read."
    assert overview.security_line(None) == "Not known: the security controls could not be loaded in time."


def test_incident_lines_of_the_week_including_a_standing_condition_without_an_end():
    incidents = pd.DataFrame(
        {
            "start": pd.to_datetime(
                ["2026-11-25T14:00Z", "2026-11-21T05:00Z", "2026-11-10T00:00Z"], utc=True
            ),
            "end": pd.to_datetime(["2026-11-25T18:00Z", None, "2026-11-10T01:00Z"], utc=True),
            "title": ["HMRC API outage", "HMRC client secret overdue", "Too old"],
            "services": [["filing"], ["filing"], ["filing"]],
        }
    )
    assert overview.incident_lines(incidents, AT) == [
        "Incident: HMRC client secret overdue (since Sat 21 Nov 05:00 UTC, ongoing).",
        "Incident: HMRC API outage (Wed 25 Nov 14:00–18:00 UTC).",
    ]

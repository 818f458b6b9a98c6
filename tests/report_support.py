"""A weekly review made by hand (no backend) and a small frozen week, for the report's unit tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd

from app import overview, security
from app.deadlines import Deadline
from app.report import frozen
from app.report import review as rv
from app.report.actions import ActionItem
from app.report.weeks import IsoWeek
from app.scorecard import criteria
from app.scorecard.view import Scorecard
from app.slo.status import evaluate
from app.slo.view import definitions
from app.sources.cache import Outcome
from app.sources.prometheus import QueryResult
from app.sources.snapshot import Recorder
from app.timerange import time_range

WEEK = IsoWeek(2026, 48)
TEST_KEY = frozen.SigningKey(b"a test key of at least sixteen characters", "SEXTANT_REPORT_KEY")
HOSTILE = "<script>alert(1)</script> & <b>bold</b> https://evil.example"

# SLO -> (bad, total) this week and the week before; a counter SLO of each domain, one without figures
WEEKS = {
    "hmrc-submissions": ((660.0, 10_000.0), (20.0, 10_000.0)),  # 330% of its 2% budget, then 10%
    "filing-availability": ((300.0, 10_000.0), (10.0, 10_000.0)),  # 150%
    "extraction-accuracy": ((400.0, 10_000.0), (350.0, 10_000.0)),  # 80%
    "assistant-availability": ((10.0, 10_000.0), (5.0, 10_000.0)),  # 20%
    "ingestion-availability": None,  # not fetched
}


def figures(name: str, counts: tuple[float, float] | None, target: float) -> rv.WeekFigures | None:
    if counts is None:
        return None
    bad, total = counts
    return rv.WeekFigures(1 - bad / total, 1 - bad / total >= target, total, bad, target)


def synthetic_review(*, incident_title: str = "HMRC API outage") -> rv.WeeklyReview:
    """A review of WEEK with known figures: budgets spent, one incident, two alerts, a deadline, security."""
    by_name = definitions().by_name()
    at = WEEK.end
    slos = []
    for name, counts in WEEKS.items():
        d = by_name[name]
        period = {"period": 1_000_000.0}
        status = evaluate(d, at, {"period": 1_000_000.0 * (1 - d.target) * 0.5}, period)  # half the budget
        this, before = counts if counts else (None, None)
        slos.append(
            rv.SloWeek(
                status,
                figures(name, this, d.target),
                figures(name, before, d.target),
                None if counts else "prometheus: no answer within 10 s",
            )
        )
    slos = rv.worst_spent_first(slos)
    domains = []
    for domain, (title, page) in overview.DOMAINS.items():
        mine = tuple(s for s in slos if s.definition.domain == domain)
        domains.append(
            rv.DomainWeek(domain, title, page, "at risk" if domain == "filing" else "healthy", mine)
        )
    outage = datetime(2026, 11, 26, 13, 0, tzinfo=UTC)
    hour = timedelta(hours=1)
    alerts = [
        rv.FiredAlert("hmrc-submissions", "HMRC submissions", "page-1h-5m", "page", outage + hour / 2,
                      outage + 4 * hour, False, False),
        rv.FiredAlert("filing-availability", "Filing API availability", "ticket-1d-2h", "ticket",
                      outage + hour, outage + 6 * hour, False, False),
    ]  # fmt: skip
    incidents = [
        rv.WeekIncident(
            incident_title, outage, outage + timedelta(hours=4), ("filing",), ("HMRC submissions",)
        )
    ]
    headlines = [
        overview.Headline("readiness", "Filing readiness", 72.5, 80.0, "points", "From the readiness file."),
        overview.Headline("healthy", "SLOs healthy", 17, 19, "count", "Counted."),
        rv.budget_headline(slos, WEEK),
    ]
    deadline = Deadline(
        "vat",
        "VAT return (period ended 31 Oct)",
        datetime(2026, 12, 7).date(),
        7,
        datetime(2026, 10, 31).date(),
    )
    tr = time_range("7d", at)
    checks = [
        security.Check("Secrets rotation", "failing", "1 of 5", "overdue", "A secret is overdue.", "90 days"),
        security.Check("Sign-ins", "failing", "1,396", "failed", "1,200 failed from 198.51.100.66.", "5%"),
    ]
    posture = security.Posture(tr, checks, pd.DataFrame(columns=["timestamp", "value"]), {})
    return rv.WeeklyReview(
        week=WEEK,
        at=at,
        headlines=headlines,
        domains=domains,
        slos=slos,
        alerts=alerts,
        alert_step=timedelta(minutes=30),
        incidents=incidents,
        readiness=None,
        deadlines=[overview.DeadlineRow(deadline, 1000.0, 889.0)],
        security=rv.SecurityWeek(
            posture,
            posture,
            ("Sign-ins: ok → failing. 1,200 failed sign-ins from 198.51.100.66.",),
            ("hmrc-oauth-client-secret: last rotated 97 days ago, 7.0 days past its limit",),
            ("198.51.100.66: 1,200 failed sign-ins, Sat 28 Nov 20:00–20:29 UTC (limit 200)",),
        ),
        scorecard=scorecard(at),
        outcomes={"overview": Outcome(None)},
    )


def scorecard(at: datetime) -> Scorecard:
    """The scorecard over the week and the week before: the median CI run got slower, the pass rate had a
    figure the week before and has none now, the coverage has no figure in either week."""

    def card(
        when: datetime, median: criteria.Criterion, rate: criteria.Criterion, previous: Scorecard | None
    ) -> Scorecard:
        blind = criteria.Criterion(
            "observability.coverage",
            "Observability",
            "Coverage",
            "100%",
            "no data",
            "no data",
            "No figure.",
            None,
        )
        return Scorecard(when, timedelta(days=7), [median, rate, blind], previous, None, {})

    fast = criteria.Criterion(
        "ci.median_duration", "CI", "Median CI run", "under 20 min", "13 min", "met", "", 780.0, "lower"
    )
    slow = criteria.Criterion(
        "ci.median_duration", "CI", "Median CI run", "under 20 min", "24 min", "not met", "", 1440.0, "lower"
    )
    passed = criteria.Criterion("ci.pass_rate", "CI", "Pass rate", "at least 95%", "97%", "met", "", 0.97)
    lost = criteria.Criterion(
        "ci.pass_rate", "CI", "Pass rate", "at least 95%", "no data", "no data", "No figure.", None
    )
    return card(at, slow, lost, card(at - timedelta(days=7), fast, passed, None))


def action(text: str, added: str, closed: str | None = None, owner: str = "Priya") -> ActionItem:
    return ActionItem("id-" + text[:6], text, owner, added, "2026-11-23T10:00:00Z", "the meeting", closed)


def frozen_document(week: IsoWeek = WEEK, *, value: float = 42.0, key: frozen.SigningKey = TEST_KEY) -> dict:
    """A signed frozen week whose only recorded call answers `value`."""
    recorder = Recorder()
    frame = pd.DataFrame({"value": [value]})
    recorder.add("prometheus", "instant", {"query": "up", "at": week.end.isoformat()}, QueryResult(frame))
    document = recorder.document(recorded_at=week.end)
    document["report"] = frozen.report_section(
        week,
        week.end,
        week.end + timedelta(hours=6),
        "cron@host",
        [action("Rotate the HMRC secret", "2026-W48")],
        key,
    )
    return frozen.sign(document, key)


def write_frozen(directory: Path, document: dict, week: IsoWeek = WEEK) -> Path:
    from app.sources.snapshot import write_document

    return write_document(frozen.week_path(directory, week), document)

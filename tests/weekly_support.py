"""What the simulator's model says a weekly review must show: budgets spent, SLO states, readiness.

Everything here comes from `stack.simulator.model` (exact event counts and gauge values), never from the
code under test; the definitions (objectives, alert pairs, readiness checks) are read from their files.

The golden week is the ISO week holding the HMRC outage ([A-60h, A-56h)), taken at its end or, while it
has not ended, at the last midnight before the anchor A: every window then sits on whole minutes of the
backfilled history, where Prometheus counts exactly what the model holds (stack/simulator/README.md).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from app.deadlines import next_deadline
from app.readiness import ReadinessInputs, ReadinessScore, load_definition, score
from app.report.weeks import IsoWeek, week_of
from app.slo import math as slo_math
from app.slo.loader import load_definitions
from app.slo.model import SloDefinition, parse_duration
from stack.simulator import model
from tests.browser_support import ROOT

DEFS = load_definitions(ROOT / "slo_definitions").by_name()
MINUTE = timedelta(minutes=1)

Series = tuple[str, dict[str, str]]
# SLO -> (bad, total) or ("good", good, total) as model counters; the time-slice SLOs are not here.
COUNTERS: dict[str, tuple[str, Series, Series]] = {
    "assistant-availability": (
        "bad",
        ("http_requests_total", {"service": "assistant", "code": "500"}),
        ("http_requests_total", {"service": "assistant"}),
    ),
    "assistant-answer-latency": (
        "good",
        ("assistant_answer_duration_seconds_bucket", {"le": "8"}),
        ("assistant_answer_duration_seconds_count", {}),
    ),
    "assistant-helpfulness": (
        "bad",
        ("assistant_feedback_total", {"rating": "negative"}),
        ("assistant_feedback_total", {}),
    ),
    "extraction-accuracy": (
        "bad",
        ("extraction_documents_total", {"outcome": "incorrect"}),
        ("extraction_documents_total", {}),
    ),
    "extraction-availability": (
        "bad",
        ("http_requests_total", {"service": "extraction", "code": "500"}),
        ("http_requests_total", {"service": "extraction"}),
    ),
    "extraction-latency": (
        "good",
        ("http_request_duration_seconds_bucket", {"service": "extraction", "route": "/extract", "le": "5"}),
        ("http_request_duration_seconds_count", {"service": "extraction", "route": "/extract"}),
    ),
    "filing-availability": (
        "bad",
        ("http_requests_total", {"service": "filing", "code": "500"}),
        ("http_requests_total", {"service": "filing"}),
    ),
    "filing-latency": (
        "good",
        ("http_request_duration_seconds_bucket", {"service": "filing", "le": "2.5"}),
        ("http_request_duration_seconds_count", {"service": "filing"}),
    ),
    "fraud-prevention-headers": (
        "bad",
        ("fraud_prevention_headers_total", {"result": "incomplete"}),
        ("fraud_prevention_headers_total", {}),
    ),
    "hmrc-submissions": (
        "bad",
        ("hmrc_submissions_total", {"result": "error"}),
        ("hmrc_submissions_total", {}),
    ),
    "gateway-upload-availability": (
        "bad",
        ("http_requests_total", {"service": "gateway", "route": "/api/upload", "code": "500"}),
        ("http_requests_total", {"service": "gateway", "route": "/api/upload"}),
    ),
    "ingestion-availability": (
        "bad",
        ("http_requests_total", {"service": "ingestion", "code": "500"}),
        ("http_requests_total", {"service": "ingestion"}),
    ),
    "ingestion-document-latency": (
        "good",
        (
            "http_request_duration_seconds_bucket",
            {"service": "ingestion", "route": "/ingest/document", "le": "2.5"},
        ),
        ("http_request_duration_seconds_count", {"service": "ingestion", "route": "/ingest/document"}),
    ),
    "reconciliation-availability": (
        "bad",
        ("http_requests_total", {"service": "reconciliation", "code": "500"}),
        ("http_requests_total", {"service": "reconciliation"}),
    ),
    "reconciliation-within-sla": (
        "good",
        ("reconciliation_duration_seconds_bucket", {"le": "3600"}),
        ("reconciliation_duration_seconds_count", {}),
    ),
}


def golden_week(anchor: datetime) -> tuple[IsoWeek, datetime]:
    """The week of the HMRC outage, and when to take it: its end, or the last midnight before A."""
    outage = model.scenario("hmrc_outage", anchor)
    week = week_of(outage.start)
    midnight = (anchor - MINUTE).replace(hour=0, minute=0, second=0, microsecond=0)
    return week, min(week.end, midnight)


class Model:
    def __init__(self, anchor: datetime, seed: int) -> None:
        self.anchor = anchor
        self.sim = model.get_model(anchor, seed)
        self.t0 = anchor - timedelta(days=model.HISTORY_DAYS)

    def counts(self, slo: str, start: datetime, end: datetime) -> tuple[float, float]:
        """Bad and total events of a counter SLO in [start, end), clipped to the history."""
        kind, (metric, labels), (total_metric, total_labels) = COUNTERS[slo]
        start = max(start, self.t0)
        total = self.sim.counter_increase(total_metric, total_labels, start, end)
        found = self.sim.counter_increase(metric, labels, start, end)
        return (total - found if kind == "good" else found), total

    def spent(self, slo: str, start: datetime, end: datetime) -> float:
        bad, total = self.counts(slo, start, end)
        return bad / total / (1 - DEFS[slo].target)

    def state(self, defn: SloDefinition, at: datetime) -> str:
        """The SLO's state at `at`: budget left over its period and the alerts its burn rates fire."""
        target = defn.target
        bad, total = self.counts(defn.name, at - defn.window.duration, at)
        remaining = 1 - bad / total / (1 - target) if total else None
        min_events = defn.min_events if defn.budgeting == "Occurrences" else 0

        def window(w: str) -> tuple[float | None, float]:
            b, t = self.counts(defn.name, at - parse_duration(w), at)
            return (min(max(b / t, 0.0), 1.0) / (1 - target) if t else None), t

        page = ticket = False
        for pair in slo_math.ALERT_PAIRS:
            enabled = defn.alerting.page if pair.severity == "page" else defn.alerting.ticket
            if not enabled:
                continue
            (burn_long, events), (burn_short, _) = window(pair.long_window), window(pair.short_window)
            factor = pair.factor(defn.window.nominal)
            firing = (
                burn_long is not None
                and burn_short is not None
                and (not min_events or events >= min_events)
                and burn_long > factor
                and burn_short > factor
            )
            page, ticket = (page or firing, ticket) if pair.severity == "page" else (page, ticket or firing)
        return slo_math.slo_state(remaining, has_data=bool(total), ticket_firing=ticket, page_firing=page)

    def readiness(self, at: datetime) -> ReadinessScore:
        """The filing readiness score at `at`, from the model's gauges and counters, the calendar's VAT
        deadline and the filing SLOs' states."""
        d = load_definition()
        tenants = model.TENANTS
        values: dict[str, object] = {}
        for component in (
            "documents_ingested",
            "extracted_above_target",
            "reconciled_within_sla",
            "approved",
        ):
            values[component] = {
                t: self.sim.gauge_value(
                    "filing_readiness_component_ratio", {"tenant": t, "component": component}, at
                )
                for t in tenants
            }
        hour = at - timedelta(hours=1)
        errors = self.sim.counter_increase("hmrc_submissions_total", {"result": "error"}, hour, at)
        submissions = self.sim.counter_increase("hmrc_submissions_total", {}, hour, at)
        values["hmrc_api_error_rate"] = errors / submissions if submissions else None
        complete = self.sim.counter_increase(
            "fraud_prevention_headers_total", {"result": "complete"}, hour, at
        )
        headers = self.sim.counter_increase("fraud_prevention_headers_total", {}, hour, at)
        values["fraud_prevention_headers_complete"] = complete / headers if headers else None
        documents = self.sim.counter_increase("extraction_documents_total", {}, at - timedelta(days=1), at)
        per_tenant_hourly = documents / 86400 * 3600 / len(tenants)
        hours = (next_deadline(at, "vat").closes_at - at).total_seconds() / 3600
        values["backlog_before_deadline"] = {
            t: self.sim.gauge_value("tenant_backlog_documents", {"tenant": t}, at)
            / (per_tenant_hourly * hours)
            for t in tenants
        }
        states = [self.state(defn, at) for defn in DEFS.values() if defn.domain == "filing"]
        values["filing_slos_healthy"] = states.count("healthy") / len(states)
        values["no_exhausted_filing_slo"] = float(states.count("exhausted"))
        return score(d, ReadinessInputs(values=values, tenants=tenants, at=at))  # type: ignore[arg-type]

"""Everything the Security page shows, loaded at once: the controls with their status and the posture grade,
the Security page's four checks, the audit evidence over the range and the findings.

Live evidence is asked at the end of the range: Prometheus instant queries, one audit search per window
(an audit signal's own window, and the range for the page's audit panel; equal windows share one search),
and the findings as they stood then. The checks come from `app.security.load`, so the control that rests on
a check and the check itself are one verdict.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from app import queries, security
from app.controls import audit as audit_evidence
from app.controls import findings as findings_table
from app.controls import status as judge
from app.controls.definition import DEFAULT_PATH, QUERY_GROUP, Control, Controls, ControlsError, controls
from app.sources import Sources
from app.sources.cache import Outcome, ResultCache, default_cache
from app.sources.concurrent import fetch_all
from app.sources.errors import plain_reason
from app.timerange import TimeRange

GROUP = "controls"
TTL_S = 30.0


@dataclass(frozen=True)
class ControlsView:
    time_range: TimeRange
    statuses: list[judge.ControlStatus]  # in the file's order
    grade: judge.Grade
    posture: security.Posture | None  # the Security page's checks (None: not loaded in time)
    audit: audit_evidence.AuditEvidence | None  # over the range, against the four weeks before
    findings: findings_table.Findings | None
    outcomes: dict[str, Outcome[Any]] = field(repr=False)
    definition_errors: tuple[str, ...] = ()

    @property
    def problems(self) -> list[tuple[str, Outcome[Any]]]:
        own = [
            ("prometheus" if name.startswith("query ") else "opensearch", o)
            for name, o in self.outcomes.items()
            if o.error is not None and not name.startswith("security")
        ]
        return own + (self.posture.problems if self.posture else [])

    def status(self, control_id: str) -> judge.ControlStatus:
        return next(s for s in self.statuses if s.control.id == control_id)


def approval_actions(definition: Controls) -> tuple[str, ...]:
    """The actions that need an admin's approval: those of the controls' `audit.unapproved` evidence."""
    return tuple(
        dict.fromkeys(
            a
            for c in definition.controls
            for e in c.evidence
            if e.signal == "audit.unapproved"
            for a in e.actions
        )
    )


def _windows(definition: Controls) -> set[timedelta]:
    return {e.window for c in definition.controls for e in c.evidence if e.window and e.signal}


def load(
    sources: Sources,
    tr: TimeRange,
    cache: ResultCache = default_cache,
    *,
    path: Path = DEFAULT_PATH,
    chart: bool = True,
) -> ControlsView:
    """The controls judged at the end of `tr`, the checks and the audit evidence over `tr`. `chart`: also
    the Security page's failed sign-ins chart (the overview does without)."""
    end = tr.end
    errors: tuple[str, ...] = ()
    try:
        definition = controls(path)
    except ControlsError as exc:  # the checks, audit evidence and findings still show
        definition, errors = Controls(()), exc.problems
    prom, search = sources.prometheus, sources.opensearch
    names = sorted({e.query for c in definition.controls for e in c.evidence if e.query})
    windows = _windows(definition) | {tr.duration}

    def audit_task(window: timedelta) -> Any:
        rendered = audit_evidence.render_query(end - window, end)
        return lambda: search.search(rendered.target_index, rendered.query)

    at_end = queries.render_query(GROUP, "findings", at=end)
    tasks: dict[str, Any] = {
        f"query {n}": (lambda n=n: prom.instant(queries.render(QUERY_GROUP, n), end)) for n in names
    }
    tasks |= {f"audit {int(w.total_seconds())}s": audit_task(w) for w in windows}
    tasks["findings"] = lambda: search.search(at_end.target_index, at_end.query)
    tasks[f"security {tr.preset} {chart}"] = lambda: security.load(sources, tr, cache, chart=chart)
    out = fetch_all(
        tasks,
        cache=cache,
        ttl_s=TTL_S,
        budget_s=sources.run_budget_s,
        key_prefix=(sources.cache_key, GROUP),
        window=end,
    )
    needs = approval_actions(definition)
    audits = {
        w: audit_evidence.audit_evidence(out[f"audit {int(w.total_seconds())}s"].value, end - w, end, needs)
        for w in windows
    }
    found = findings_table.findings(out["findings"].value, end, definition.fix_within)
    posture: security.Posture | None = out[f"security {tr.preset} {chart}"].value
    checks = {c.name: c for c in posture.checks} if posture else {}
    statuses = [
        judge.control_status(c, _evidence(c, out, audits, found, checks), end) for c in definition.controls
    ]
    return ControlsView(
        time_range=tr,
        statuses=statuses,
        grade=judge.grade(statuses),
        posture=posture,
        audit=audits[tr.duration],
        findings=found,
        outcomes=out,
        definition_errors=errors,
    )


CHECK_NAMES = {"secrets": "Secrets rotation", "backups": "Backups"}  # evidence `check:` -> Check.name


def _evidence(
    control: Control,
    out: dict[str, Outcome[Any]],
    audits: dict[timedelta, audit_evidence.AuditEvidence | None],
    found: findings_table.Findings | None,
    checks: dict[str, security.Check],
) -> list[judge.Evidence]:
    results = []
    for spec in control.evidence:
        if spec.query:
            outcome = out[f"query {spec.query}"]
            frame = outcome.value.frame if outcome.value is not None else None
            results.append(judge.from_frame(spec, frame, _error(outcome)))
        elif spec.check:
            results.append(judge.from_check(spec, checks.get(CHECK_NAMES[spec.check])))
        elif spec.signal and spec.signal.startswith("audit.") and spec.window is not None:
            outcome = out[f"audit {int(spec.window.total_seconds())}s"]
            results.append(judge.from_audit(spec, audits[spec.window], _error(outcome)))
        else:
            results.append(judge.from_findings(spec, found, _error(out["findings"])))
    return results


def _error(outcome: Outcome[Any]) -> str | None:
    return None if outcome.error is None else plain_reason(outcome.error)


# -- what the page draws, in words and tables -------------------------------------------------------------

EVIDENCE_STATES = {"pass": "ok", "fail": "failing", "none": "no data"}  # evidence -> a badge state


def controls_table(statuses: list[judge.ControlStatus]) -> pd.DataFrame:
    """One row per control, worst first (then in the file's order)."""
    return pd.DataFrame(
        [
            {
                "status": s.status,
                "control": s.control.title,
                "area": s.control.area,
                "owner": s.control.owner,
                "evidence": s.figure,
                "last_reviewed": s.control.last_reviewed,
                "review_due": s.control.review_due().date(),
                "link": s.control.evidence_link,
            }
            for s in judge.worst_first(statuses)
        ],
        columns=["status", "control", "area", "owner", "evidence", "last_reviewed", "review_due", "link"],
    )


def audit_caption(evidence: audit_evidence.AuditEvidence) -> str:
    span = f"{evidence.start:%d %b %H:%M} – {evidence.end:%d %b %H:%M} UTC"
    baseline = (
        f"against the same hours of the {evidence.weeks} week{'s' if evidence.weeks > 1 else ''} before"
        if evidence.weeks
        else "with no baseline: the audit log does not go back a whole week before this range"
    )
    needs = ", ".join(evidence.needs_approval) or "none"
    return (
        f"Audit events of {span}, {baseline}. Actions that need an admin's approval: {needs}. "
        "Personal data is masked."
    )


def pentest_line(found: findings_table.Findings) -> str:
    if found.pentests.empty:
        return "No penetration test is on record."
    last = found.pentests.iloc[0]
    days = (found.at - last["ended"].to_pydatetime()).total_seconds() / 86400
    return (
        f"Last penetration test: {last['title']} by {last['vendor']}, ended {last['ended']:%d %b %Y} "
        f"({days:.0f} days ago); {len(found.pentests)} on record."
    )

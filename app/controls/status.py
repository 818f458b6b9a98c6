"""A control's status, computed from its evidence and its review date; the posture grade from all of them.

Evidence is judged "pass", "fail" or "none" (nothing to judge: the figure could not be fetched or came back
empty; never a pass). Then, in this order:

- **failing**: some live evidence fails;
- **no evidence**: some live evidence could not be judged, or the control has neither live evidence nor an
  evidence link;
- **stale**: the last review is older than the control's cadence (`reviewEvery`) at the moment shown;
- **met**: the evidence passes (live, or the written evidence when there is no live check) and the review
  is current.

A review dated after the moment shown (a frozen, earlier view) counts as current: the file keeps only the
latest review.

The grade, for an executive in one word: **Weak** when any control is failing; else **Unknown** when half
the controls or more have no evidence (too little is known to grade); else **Fair** when some are stale or
without evidence; **Strong** when every control is met.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd

from app.controls.audit import AuditEvidence
from app.controls.definition import Control, EvidenceSpec
from app.controls.findings import Findings
from app.security import Check
from app.units import format_seconds

STATUSES = ("failing", "no evidence", "stale", "met")  # worst first
GRADES = ("Weak", "Unknown", "Fair", "Strong")  # worst first
GRADE_STATES = {"Weak": "failing", "Unknown": "no data", "Fair": "attention", "Strong": "ok"}
ITEM_COLUMNS = ["item", "value", "shown", "limit", "passes"]


@dataclass(frozen=True)
class Evidence:
    spec: EvidenceSpec
    state: str  # "pass", "fail" or "none"
    figure: str  # short: "2 of 3 within", "41 min", "1 without approval"
    reason: str  # one sentence
    items: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=ITEM_COLUMNS), repr=False)


@dataclass(frozen=True)
class ControlStatus:
    control: Control
    status: str  # one of STATUSES
    reason: str
    evidence: tuple[Evidence, ...]
    review_current: bool

    @property
    def figure(self) -> str:
        """The evidence in a few words, for a table cell."""
        if not self.evidence:
            return "written evidence" if self.control.evidence_link else "none"
        if len(self.evidence) == 1:
            return self.evidence[0].figure
        # Several checks' figures side by side ("3 of 3 within; 2 of 3 within") do not say which is which:
        # how many pass, and what fails.
        passing = sum(e.state == "pass" for e in self.evidence)
        parts = [f"{passing} of {len(self.evidence)} checks pass"]
        failed = (e.items.loc[~e.items["passes"], "item"] for e in self.evidence)
        outside = sorted({str(i) for items in failed for i in items if i != "all"})  # "all": one figure
        if outside:
            parts.append(f"failing for {', '.join(outside)}")
        blind = sum(e.state == "none" for e in self.evidence)
        if blind:
            parts.append(f"{blind} without data")
        return "; ".join(parts)

    @property
    def basis(self) -> str:
        return "live" if self.control.evidence else "written" if self.control.evidence_link else "none"


# -- evidence --------------------------------------------------------------------------------------------


def shown(value: float, unit: str) -> str:
    if unit == "seconds":
        return format_seconds(value)
    if unit == "ratio":
        return f"{value * 100:.4g}%"
    if unit == "flag":
        return "yes" if value >= 1 else "no"
    return f"{value:,.0f}"


def _limit_text(spec: EvidenceSpec) -> str:
    parts = []
    if spec.max is not None:
        parts.append(f"at most {shown(spec.max, spec.unit)}")
    if spec.min is not None:
        parts.append("must be yes" if spec.unit == "flag" else f"at least {shown(spec.min, spec.unit)}")
    return " and ".join(parts)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def judge_values(spec: EvidenceSpec, values: Mapping[str, float]) -> Evidence:
    """Items (a store, a key, "all") and their figures against the spec's `max`/`min`."""
    if not values:
        return Evidence(spec, "none", "no data", f"No figure for {spec.describe}: nothing was reported.")
    limit = _limit_text(spec)
    rows = []
    for item, value in values.items():
        ok = (spec.max is None or value <= spec.max) and (spec.min is None or value >= spec.min)
        rows.append(
            {"item": item, "value": value, "shown": shown(value, spec.unit), "limit": limit, "passes": ok}
        )
    items = pd.DataFrame(rows, columns=ITEM_COLUMNS)
    bad = items[~items["passes"]]
    if len(items) == 1:
        only = items.iloc[0]
        figure = str(only["shown"])
        verdict = "within" if only["passes"] else "outside"
        reason = f"{_sentence(spec.describe)}: {figure}, {verdict} the limit ({limit})."
    else:
        figure = f"{len(items) - len(bad)} of {len(items)} within"
        if bad.empty:
            reason = f"{_sentence(spec.describe)}: every one within the limit ({limit})."
        else:
            listed = ", ".join(f"{r['item']} {r['shown']}" for _, r in bad.iterrows())
            reason = f"{_sentence(spec.describe)}: {listed}, outside the limit ({limit})."
    return Evidence(spec, "fail" if not bad.empty else "pass", figure, reason, items)


def from_frame(spec: EvidenceSpec, frame: pd.DataFrame | None, error: str | None) -> Evidence:
    """A Prometheus answer (one series per `label` value, or one series) judged against the spec."""
    if frame is None:
        return Evidence(spec, "none", "no data", f"No figure for {spec.describe}: {error or 'not fetched'}.")
    if spec.label and spec.label not in frame.columns and not frame.empty:
        return Evidence(spec, "none", "no data", f"No figure for {spec.describe}: no {spec.label} label.")
    names = frame[spec.label].astype(str) if spec.label and not frame.empty else ["all"] * len(frame)
    return judge_values(spec, {n: float(v) for n, v in zip(names, frame["value"], strict=True)})


def from_check(spec: EvidenceSpec, check: Check | None) -> Evidence:
    """A Security page check: ok or attention (a limit near, not broken) pass; failing fails; no data is
    nothing to judge."""
    if check is None or check.state == "no data":
        reason = check.reason if check else "The security checks could not be loaded."
        return Evidence(spec, "none", "no data", reason)
    state = "fail" if check.state == "failing" else "pass"
    return Evidence(spec, state, check.figure, check.reason)


def from_audit(spec: EvidenceSpec, audit: AuditEvidence | None, error: str | None) -> Evidence:
    if audit is None:
        return Evidence(spec, "none", "no data", f"No figure for {spec.describe}: {error or 'not fetched'}.")
    if spec.signal == "audit.unapproved":
        values = {a: float(audit.unapproved_count((a,))) for a in spec.actions}
        evidence = judge_values(spec, values)
        mine = audit.unapproved[audit.unapproved["action"].isin(spec.actions)]
        if not mine.empty:
            latest = mine.iloc[0]
            more = f" ({len(mine) - 1} more listed on the page)" if len(mine) > 1 else ""
            reason = (
                f"{latest['action']} by {latest['actor']} at {latest['time']:%a %d %b %H:%M} UTC had no "
                f"admin approval on record{more}."
            )
            total = int(sum(values.values()))
            return Evidence(spec, evidence.state, f"{total} without approval", reason, evidence.items)
        return evidence
    values = {a: float(audit.count(a) == 0) for a in spec.actions}  # audit.kinds: 1 = no event at all
    evidence = judge_values(spec, values)
    missing = [a for a, v in values.items() if v]
    figure = f"{len(spec.actions) - len(missing)} of {len(spec.actions)} kinds recorded"
    window = format_seconds(spec.window.total_seconds() if spec.window else 0.0)
    reason = (
        f"No {', '.join(missing)} event in the audit log over the last {window}."
        if missing
        else f"Every kind ({', '.join(spec.actions)}) has events over the last {window}."
    )
    items = evidence.items.assign(
        shown=["missing" if v else "recorded" for v in values.values()], limit="recorded"
    )
    return Evidence(spec, evidence.state, figure, reason, items)


def from_findings(spec: EvidenceSpec, found: Findings | None, error: str | None) -> Evidence:
    if found is None:
        return Evidence(spec, "none", "no data", f"No figure for {spec.describe}: {error or 'not fetched'}.")
    if spec.signal == "findings.pentest":
        ended = found.last_pentest_ended
        if ended is None:
            return Evidence(spec, "none", "no data", "No penetration test is on record.")
        evidence = judge_values(spec, {str(found.pentests["id"].iloc[0]): (found.at - ended).total_seconds()})
        return Evidence(spec, evidence.state, f"{evidence.figure} ago", evidence.reason, evidence.items)
    overdue = found.overdue
    items = pd.DataFrame(
        [
            {
                "item": r["id"],
                "value": r["overdue_days"],
                "shown": f"{r['overdue_days']:.0f} days overdue",
                "limit": f"fix by {r['fix_by']:%d %b %Y}",
                "passes": False,
            }
            for _, r in overdue.iterrows()
        ],
        columns=ITEM_COLUMNS,
    )
    state = judge_values(spec, {"overdue": float(len(overdue))}).state
    if overdue.empty:
        reason = f"No open finding is past its fix-by date ({len(found.open)} open)."
        return Evidence(spec, state, "none overdue", reason, items)
    top = overdue.iloc[0]
    reason = (
        f"{len(overdue)} open finding{'s' if len(overdue) > 1 else ''} past the fix-by date; the most "
        f"overdue, {top['id']} ({top['severity']}, {top['service']}), {top['overdue_days']:.0f} days late."
    )
    return Evidence(spec, state, f"{len(overdue)} overdue", reason, items)


# -- status and grade ------------------------------------------------------------------------------------


def control_status(control: Control, evidence: Sequence[Evidence], at: datetime) -> ControlStatus:
    due = control.review_due()
    current = at < due
    review = (
        f"last reviewed {control.last_reviewed:%d %b %Y}, due again every {control.review_every.days} days"
    )
    failing = [e for e in evidence if e.state == "fail"]
    unknown = [e for e in evidence if e.state == "none"]
    late = "" if current else f" The review is overdue too ({review})."
    if failing:
        reason = " ".join(e.reason for e in failing) + late
        return ControlStatus(control, "failing", reason, tuple(evidence), current)
    if unknown:
        return ControlStatus(control, "no evidence", unknown[0].reason + late, tuple(evidence), current)
    if not evidence and not control.evidence_link:
        reason = "Nothing to check it against: no live evidence and no evidence link." + late
        return ControlStatus(control, "no evidence", reason, (), current)
    if not current:
        reason = f"The review is overdue since {due:%d %b %Y} ({review})."
        return ControlStatus(control, "stale", reason, tuple(evidence), current)
    basis = " ".join(e.reason for e in evidence) if evidence else "Written evidence, reviewed."
    return ControlStatus(control, "met", f"{basis} Review current ({review}).", tuple(evidence), current)


@dataclass(frozen=True)
class Grade:
    word: str  # one of GRADES
    counts: dict[str, int]  # controls per status, every status present
    not_met: list[ControlStatus]  # worst first: the why

    @property
    def state(self) -> str:
        """The badge state of the word (`app.ui.STATE_STYLES`)."""
        return GRADE_STATES[self.word]

    @property
    def summary(self) -> str:
        """ "6 of 18 controls failing, 1 stale, 1 without evidence." """
        total = sum(self.counts.values())
        if not total:
            return "No control is defined."
        parts = [
            f"{self.counts[s]} {'without evidence' if s == 'no evidence' else s}"
            for s in ("failing", "stale", "no evidence")
            if self.counts[s]
        ]
        if not parts:
            return f"All {total} controls met."
        first, *rest = parts
        return (
            f"{first.split(' ', 1)[0]} of {total} controls {first.split(' ', 1)[1]}"
            + "".join(f", {p}" for p in rest)
            + f"; {self.counts['met']} met."
        )


def worst_first(statuses: Sequence[ControlStatus]) -> list[ControlStatus]:
    return sorted(statuses, key=lambda s: STATUSES.index(s.status))


def grade(statuses: Sequence[ControlStatus]) -> Grade:
    counts = {s: sum(1 for c in statuses if c.status == s) for s in STATUSES}
    not_met = [s for s in worst_first(statuses) if s.status != "met"]
    if counts["failing"]:
        word = "Weak"
    elif not statuses or counts["no evidence"] * 2 >= len(statuses):
        word = "Unknown"
    elif counts["stale"] or counts["no evidence"]:
        word = "Fair"
    else:
        word = "Strong"
    return Grade(word, counts, not_met)

"""The weekly review as one self-contained HTML document (`report.html`), the source of `report.pdf`.

Self-contained: the styles are in the page, the charts are inline SVG (`app.report.svg`), there is no
script, and a Content-Security-Policy forbids any request, so opening the file fetches nothing. Every
outside text (SLO and check names, incident titles, action items) is escaped. Each section starts a new
printed page.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape

from app.report import review as rv
from app.report import svg
from app.report.actions import ActionItem
from app.report.frozen import FrozenWeek
from app.report.weeks import IsoWeek
from app.scorecard import view as scorecard_view
from app.units import format_value

STYLE = """
@page { size: A4; margin: 14mm 12mm; }
body { font-family: Helvetica, Arial, sans-serif; color: #1F2933; font-size: 11pt; margin: 0 auto;
       max-width: 820px; padding: 12px; }
h1 { font-size: 20pt; margin: 0 0 4px; }
h2 { font-size: 15pt; margin: 0 0 8px; border-bottom: 2px solid #3E6FB0; }
h3 { font-size: 12pt; margin: 14px 0 6px; }
.status { color: #616E7C; margin: 0 0 12px; }
section { break-before: page; page-break-before: always; margin-top: 24px; }
section.first { break-before: auto; page-break-before: auto; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 10px; font-size: 9.5pt; }
th, td { border-bottom: 1px solid #E4E7EB; padding: 4px 6px; text-align: left; vertical-align: top; }
th { background: #F5F7FA; } td.num, th.num { text-align: right; }
tr { break-inside: avoid; page-break-inside: avoid; }
.bad { color: #C44E52; font-weight: 600; } .good { color: #3A8F5C; } .muted { color: #616E7C; }
svg { display: block; margin: 8px 0; max-width: 100%; height: auto; }
footer { margin-top: 24px; color: #616E7C; font-size: 8.5pt; }
"""
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def status_line(review: rv.WeeklyReview, frozen: FrozenWeek | None) -> str:
    """Where the figures come from and how far they can be trusted, in a sentence or two."""
    if frozen is not None:
        return (
            f"Frozen on {frozen.frozen_at:%a %d %b %Y %H:%M} UTC by {frozen.frozen_by}: figures as recorded "
            f"at the week's end, {frozen.at:%a %d %b %Y %H:%M} UTC. {frozen.signature_note}"
        )
    if review.complete:
        return (
            "Not frozen: computed from the live backends at the week's end, "
            f"{review.at:%a %d %b %Y %H:%M} UTC. Freeze it to keep these figures as they are (Prometheus "
            "keeps 30 days)."
        )
    return f"Week in progress: figures up to {review.at:%a %d %b %Y %H:%M} UTC."


def _cell(value: object, cls: str = "") -> str:
    attribute = f' class="{cls}"' if cls else ""
    return f"<td{attribute}>{escape(str(value))}</td>"


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], numeric: Sequence[int] = ()) -> str:
    head = "".join(
        f"<th{' class=num' if i in numeric else ''}>{escape(h)}</th>" for i, h in enumerate(headers)
    )
    body = "".join("<tr>" + "".join(row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _list(lines: Sequence[str], empty: str) -> str:
    if not lines:
        return f'<p class="muted">{escape(empty)}</p>'
    return "<ul>" + "".join(f"<li>{escape(line)}</li>" for line in lines) + "</ul>"


def _spent_cell(value: float | None) -> str:
    return _cell(rv.spent_text(value), "num bad" if value is not None and value > 1 else "num")


def headlines(review: rv.WeeklyReview) -> str:
    rows = []
    for h in review.headlines:
        verdict = {True: " (better)", False: " (worse)", None: ""}[h.good_news]
        cls = "good" if h.good_news else "bad" if h.good_news is False else ""
        rows.append(
            [
                _cell(h.label),
                _cell(h.display_value, "num"),
                _cell(h.display_previous, "num"),
                _cell((h.delta_text or "—") + verdict, cls),
            ]
        )
    return _table(["Figure", "This week", "A week earlier", "Change"], rows, numeric=(1, 2))


def slo_section(review: rv.WeeklyReview) -> str:
    bars = [svg.Bar(d.title, d.spent, d.previous_spent) for d in review.domains]
    domain_rows = []
    for d in review.domains:
        met, known = d.met
        missing = f" ({len(d.missing)} no data)" if d.missing else ""
        domain_rows.append(
            [
                _cell(d.title),
                _spent_cell(d.spent),
                _spent_cell(d.previous_spent),
                _cell(d.worst.title if d.worst else "no data"),
                _cell(f"{met} of {known}{missing}"),
                _cell(d.state),
            ]
        )
    slo_rows = []
    for s in review.slos:
        week = s.week
        result = "no data" if week is None or week.met is None else ("met" if week.met else "missed")
        slo_rows.append(
            [
                _cell(s.title),
                _cell(s.definition.domain),
                _cell(format_value(s.definition.target, "ratio"), "num"),
                _cell(format_value(week.sli if week else None, "ratio"), "num"),
                _cell(result, "bad" if result == "missed" else ""),
                _spent_cell(s.spent),
                _spent_cell(s.previous_spent),
                _cell(s.status.state),
            ]
        )
    note = f'<p class="muted">{escape(review.unknown_note)}.</p>' if review.unknown_note else ""
    return (
        svg.budget_bars(bars, title="Error budget spent this week, worst SLO of each domain")
        + "<h3>Per domain, most budget spent first</h3>"
        + _table(
            ["Domain", "Spent", "Week before", "Worst SLO", "Objective met", "State at the end"],
            domain_rows,
            numeric=(1, 2),
        )
        + "<h3>Per SLO, most budget spent first</h3>"
        + note
        + _table(
            [
                "SLO",
                "Domain",
                "Objective",
                "SLI this week",
                "Objective this week",
                "Spent",
                "Week before",
                "State",
            ],
            slo_rows,
            numeric=(2, 3, 5, 6),
        )
        + '<p class="muted">Budget spent: the week\'s bad events over those its objective allows for the '
        "week's events; 100% is exactly on budget.</p>"
    )


def incidents_section(review: rv.WeeklyReview) -> str:
    spans = [svg.Span(i.title, i.start, i.end or review.at, "incident") for i in review.incidents] + [
        svg.Span(f"{a.title}: {a.alert}", a.start, a.end, a.severity) for a in review.alerts
    ]
    incident_rows = [
        [
            _cell(i.title),
            _cell(f"{i.start:%a %d %b %H:%M} UTC"),
            _cell(rv.format_duration(i.duration)),
            _cell(", ".join(i.services)),
            _cell(", ".join(i.slos_hit) or "none alerted"),
        ]
        for i in review.incidents
    ]
    alert_rows = [
        [
            _cell(a.title),
            _cell(a.alert),
            _cell(a.severity),
            _cell(f"{a.start:%a %d %b %H:%M} UTC"),
            _cell(("≥ " if a.at_week_start or a.at_review else "") + rv.format_duration(a.duration)),
        ]
        for a in review.alerts
    ]
    return (
        svg.week_timeline(spans, review.week.start, review.week.end, title="Incidents and alerts this week")
        + "<h3>Incidents</h3>"
        + (
            _table(["Incident", "Start", "Duration", "Services", "SLOs alerting during it"], incident_rows)
            if incident_rows
            else '<p class="muted">No incident this week.</p>'
            if review.incidents_known
            else '<p class="muted">Incidents: not known, the incident list could not be read.</p>'
        )
        + "<h3>Alerts that fired</h3>"
        + (
            _table(["SLO", "Alert", "Severity", "Start", "Duration"], alert_rows)
            if alert_rows
            else '<p class="muted">No alert fired this week.</p>'
            if review.alerts_known
            else '<p class="muted">Alerts: not known, the burn rates could not be read.</p>'
        )
        + f'<p class="muted">{escape(rv.alert_note(review))}</p>'
    )


def readiness_section(review: rv.WeeklyReview) -> str:
    moves = review.readiness_week
    trend = review.readiness.trend if review.readiness else []
    points = [(at, score.score if score else None) for at, score in trend]
    chart = svg.trend_line(points, title="Filing readiness, last 12 weeks", target=90.0) if points else ""
    if moves is None:
        return chart + '<p class="muted">The readiness score could not be computed.</p>'
    return (
        chart + f"<p><strong>{escape(moves.heading)}</strong></p>" + _list(moves.sentences, "Nothing moved.")
    )


def deadlines_section(review: rv.WeeklyReview) -> str:
    rows = []
    for row in review.deadlines:
        d = row.deadline
        due = "—" if row.due_entities is None else f"{row.due_entities:,.0f}"
        ready = "—" if row.ready_entities is None else f"{row.ready_entities:,.0f}"
        rows.append(
            [_cell(d.label), _cell(f"{d.due:%a %d %b %Y}"), _cell(d.days_left, "num"), _cell(due, "num"),
             _cell(ready, "num")]
        )  # fmt: skip
    if not rows:
        return f'<p class="muted">No filing deadline in the {rv.DEADLINE_DAYS} days after the week.</p>'
    return _table(
        ["Deadline", "Due", "Days left", "Entities due", "Ready to file"], rows, numeric=(2, 3, 4)
    ) + ('<p class="muted">Entities are counted for the next deadline of each kind of return.</p>')


def security_section(review: rv.WeeklyReview) -> str:
    sec = review.security
    checks = sec.now.checks if sec.now else []
    rows = [[_cell(c.name), _cell(c.state), _cell(c.figure), _cell(c.reason)] for c in checks]
    known = "" if sec.now else '<p class="bad">The security checks could not be loaded.</p>'
    return (
        known
        + "<h3>Checks that changed state since the week before</h3>"
        + _list(
            sec.changes, "None changed state." if sec.before else "Not known: last week's checks are missing."
        )
        + "<h3>Overdue rotations</h3>"
        + _list(sec.overdue, "No secret is overdue.")
        + "<h3>Sign-in bursts</h3>"
        + _list(sec.bursts, "No address went over the policy's limit of failed sign-ins.")
        + "<h3>The checks over the week</h3>"
        + (_table(["Check", "State", "Figure", "Why"], rows) if rows else "")
    )


def scorecard_section(review: rv.WeeklyReview) -> str:
    card = review.scorecard
    if card is None:
        return '<p class="bad">The acceptance scorecard could not be loaded.</p>'
    moved = [change.text for change in review.scorecard_changes]
    gaps = scorecard_view.comparison_gaps(card.previous, card)
    rows = [
        [_cell(c.area), _cell(c.title), _cell(c.target), _cell(c.figure), _cell(c.verdict)]
        for c in card.criteria
    ]
    return (
        f"<p>{escape(card.summary)}</p>"
        + "<h3>What moved since the week before</h3>"
        + (_list(moved, "No criterion moved.") if moved or not gaps else "")
        + (f'<p class="muted">{escape(gaps)}</p>' if gaps else "")
        + "<h3>The criteria at the review's time</h3>"
        + _table(["Area", "Criterion", "Target", "Figure", "Verdict"], rows)
    )


def actions_section(items: Sequence[ActionItem], week: IsoWeek) -> str:
    rows = []
    for item in items:
        status = f"closed in {item.closed_week}" if item.closed_week else "open"
        origin = "carried from " + item.added_week if item.carried(week) else "added this week"
        rows.append(
            [_cell(status), _cell(item.text), _cell(item.owner), _cell(f"{origin}, by {item.added_by}")]
        )
    if not rows:
        return '<p class="muted">No action item.</p>'
    return _table(["Status", "Action", "Owner", "Since"], rows)


def render(
    review: rv.WeeklyReview,
    actions: Sequence[ActionItem],
    *,
    frozen: FrozenWeek | None,
    generated_at: datetime,
    link: str | None = None,
) -> str:
    """The whole report of `review`, with the week's action items, as an HTML document."""
    week = review.week
    title = f"Weekly review {week}"
    sections = [
        ("Headlines", headlines(review)),
        ("SLO compliance and error budget this week", slo_section(review)),
        ("Incidents and alerts", incidents_section(review)),
        ("Filing readiness: what moved", readiness_section(review)),
        (f"Deadlines in the next {rv.DEADLINE_DAYS // 7} weeks", deadlines_section(review)),
        ("Security posture", security_section(review)),
        ("Acceptance scorecard", scorecard_section(review)),
        ("Action items", actions_section(actions, week)),
    ]
    body = "".join(
        f"<section{' class=first' if n == 0 else ''}><h2>{escape(name)}</h2>{content}</section>"
        for n, (name, content) in enumerate(sections)
    )
    where = f" Online: {escape(link)}" if link else ""
    proof = f" File SHA-256 {frozen.sha256}." if frozen else ""
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
        f"<h1>Sextant weekly review: {escape(str(week))}</h1>"
        f'<p class="status">{escape(week.label)}. {escape(status_line(review, frozen))}</p>'
        f"{body}<footer>Generated by Sextant on {generated_at:%a %d %b %Y %H:%M} UTC.{proof}{where}</footer>"
        "</body></html>"
    )

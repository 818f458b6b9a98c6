"""The executive overview: per-domain state in plain words, SLO counts, readiness, deadlines, and what
changed since last week. Every figure carries where it came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

import pandas as pd

from app import links, queries, readiness
from app.config import REPO_ROOT
from app.controls import view as controls_view
from app.deadlines import Deadline, upcoming_deadlines
from app.incidents import frame as incident_frame
from app.readiness import view as readiness_view
from app.readiness.definition import DEFAULT_PATH as READINESS_PATH
from app.scorecard import view as scorecard_view
from app.slo import alert_states
from app.slo import view as slo_view
from app.slo.loader import DEFAULT_DIRECTORY as SLO_DIRECTORY
from app.slo.math import SHOWN_ORDER, worst_state
from app.slo.model import DOMAIN_TITLES
from app.slo.status import SloStatus, sort_worst_first, state_counts, unknown
from app.slo.view import definitions
from app.sources import Sources
from app.sources.cache import Outcome, ResultCache, default_cache
from app.sources.concurrent import fetch_all
from app.sources.errors import BackendError, failed_backend
from app.sources.prometheus import QueryResult
from app.text import plain
from app.timerange import PRESETS, pinned_text, time_range
from app.times import start_of_hour
from app.units import counted, format_span, format_value

TTL_S = 60.0
WEEK = timedelta(days=7)
LIST_ROWS = 20  # the most lines of either overview list, "Needs attention" and "What changed": worst first


def week_earlier(at: datetime) -> datetime:
    """What the overview compares `at` with: a week earlier, at the start of that hour.

    At a whole hour the board reads the SLOs' records, those Prometheus evaluated then or, in history older
    than its rules, those `python -m app.slo backfill` wrote for every whole hour: one query per window.
    Elsewhere each SLO would be computed from its raw series, a query over its whole period; and an instant
    that moved every minute would compute the whole board again each minute a page was open."""
    return start_of_hour(at - WEEK)


SECURITY_RANGE = "24h"  # the overview's security line: controls now, sign-ins and the audit log over a day

DOMAIN_PAGES = {  # domain -> the page that shows it (an `app.links` key)
    "ingestion": "ingestion",
    "extraction": "extraction",
    "reconciliation": "tax",
    "filing": "tax",
    "assistant": "assistant",
}
DOMAINS: dict[str, tuple[str, str]] = {d: (DOMAIN_TITLES[d], page) for d, page in DOMAIN_PAGES.items()}
# Where the headlines' definitions live in the repository: for a tooltip, never the text on screen.
READINESS_SOURCE = READINESS_PATH.relative_to(REPO_ROOT).as_posix()
SLO_SOURCE = f"{SLO_DIRECTORY.relative_to(REPO_ROOT).as_posix()}/"
# For each headline: is a rise good news?
RISE_IS_GOOD = {
    "healthy": True,
    "at risk": False,
    "exhausted": False,
    "no data": False,
    "readiness": True,
    "budget": False,  # the weekly review's error budget spent
}


@dataclass(frozen=True)
class DomainTile:
    domain: str
    title: str
    page: str
    state: str  # worst SLO state; "no data" when the domain has no SLO with data
    reason: str  # one line, plain English
    slos: tuple[str, ...]


@dataclass(frozen=True)
class Headline:
    key: str
    label: str
    value: float | None
    previous: float | None
    unit: str  # "count", "points", or "share" (a fraction shown as a percentage)
    explanation: str  # Markdown: our own text, with every outside name through `plain`; no file paths
    source: str = ""  # where it is declared in the repository (a path: for a tooltip, never the text)

    @property
    def delta(self) -> float | None:
        if self.value is None or self.previous is None:
            return None
        if self.unit == "share":  # to the whole percentage point shown: 62% to 62% is no change
            return round(self.value, 2) - round(self.previous, 2)
        return self.value - self.previous

    @property
    def display_value(self) -> str:
        return self._display(self.value)

    @property
    def display_previous(self) -> str:
        return self._display(self.previous)

    def _display(self, value: float | None) -> str:
        if value is None:
            return "no data"
        if self.unit == "share":
            return f"{value:.0%}"
        if self.unit == "points":  # a readiness score, written as the Readiness page writes it
            return readiness_view.format_score(value)
        return f"{value:.0f}" if self.unit == "count" else f"{value:.1f}"

    @property
    def delta_text(self) -> str | None:
        if self.delta is None:
            return None
        # Short enough for five tiles across a laptop screen; the page says what the change is against.
        if self.delta == 0:
            return "no change"
        if self.unit == "share":
            return f"{self.delta * 100:+.0f} points"
        unit = " points" if self.unit == "points" else ""
        return f"{self.delta:+.0f}" if self.unit == "count" else f"{self.delta:+.1f}{unit}"

    @property
    def delta_colour(self) -> Literal["normal", "inverse", "off"]:
        """For st.metric: green when the change is good news, red when bad, grey when nothing moved."""
        if not self.delta:
            return "off"
        return "normal" if RISE_IS_GOOD[self.key] else "inverse"

    @property
    def good_news(self) -> bool | None:
        """Whether the week's change is good, bad, or (None) no change or nothing to compare."""
        if not self.delta:
            return None
        return (self.delta > 0) == RISE_IS_GOOD[self.key]


@dataclass(frozen=True)
class DeadlineRow:
    deadline: Deadline
    due_entities: float | None
    ready_entities: float | None


@dataclass(frozen=True)
class Overview:
    at: datetime
    tiles: list[DomainTile]
    headlines: list[Headline]
    attention: list[SloStatus]  # not healthy, worst first
    readiness_now: readiness.ReadinessScore | None
    readiness_trend: pd.DataFrame  # the Readiness page's trend frame: timestamp, series, value, label
    deadlines: list[DeadlineRow]
    changes: list[str]
    outcomes: dict[str, Outcome] = field(repr=False)
    security: controls_view.ControlsView | None = None  # the posture grade and its controls, for one line
    scorecard: scorecard_view.Scorecard | None = None  # the acceptance criteria, for one line
    slo_count: int = 0  # SLOs defined: every one is on the board, fetched or not
    readiness_target: float | None = None  # the readiness definition's target, for the trend
    unknown_note: str | None = None  # "19 SLOs: no data — Prometheus is not answering (…)"
    alerts_note: str = ""  # "Alerts: from Prometheus's alerts …" or how they were computed instead

    @property
    def most_urgent(self) -> list[SloStatus]:
        """The first `LIST_ROWS` of `attention`: what the overview and its report list (a platform of
        hundreds of SLOs would otherwise list hundreds; the SLOs page has them all, worst first)."""
        return self.attention[:LIST_ROWS]

    @property
    def more_note(self) -> str | None:
        """ "The 20 most urgent of 312 SLOs that need attention: …", when the list is cut."""
        if len(self.attention) <= LIST_ROWS:
            return None
        return (
            f"The {LIST_ROWS} most urgent of {len(self.attention)} SLOs that need attention: every one "
            "is on the SLOs page, worst first."
        )

    @property
    def all_healthy(self) -> bool:
        """Every defined SLO was fetched and is healthy: the only case that may say so."""
        return self.slo_count > 0 and not self.attention and self.unknown_note is None

    @property
    def problems(self) -> list[tuple[str, Outcome]]:
        backend = {"incidents": "opensearch"}
        own = [(backend.get(k, "prometheus"), o) for k, o in self.outcomes.items() if o.error is not None]
        card = self.scorecard.problems if self.scorecard else []
        return own + (self.security.problems if self.security else []) + card


# -- pure pieces -----------------------------------------------------------------------------------------


def incident_phrase(status: SloStatus, incidents: pd.DataFrame) -> str:
    """' after Tuesday's HMRC API outage' when an incident hit the SLO's service in its period."""
    if incidents.empty:
        return ""
    mine = incidents[
        incidents["services"].map(lambda names: status.service in names)
        & (incidents["start"] >= status.period_start)
        & (incidents["start"] <= status.at)
    ]
    if mine.empty:
        return ""
    latest = mine.sort_values("start").iloc[-1]
    return f" after {latest['start']:%A}'s {latest['title']}"


def reason_for(statuses: list[SloStatus], incidents: pd.DataFrame) -> str:
    """The domain's one-line reason: the SLO that sets its state, in words; never "healthy" while any SLO
    of the domain is unknown."""
    if not statuses:
        return "No SLO is defined for this domain yet."
    worst = sort_worst_first(statuses)[0]  # its state is the domain's
    missing = [s for s in statuses if s.error is not None]
    name = worst.definition.title
    period = (
        f"the {worst.window} period" if worst.definition.window.is_calendar else f"its {worst.window} window"
    )
    left = worst.error_budget_remaining
    also = (
        f" {len(missing)} other SLO{'s' if len(missing) > 1 else ''}: no data."
        if missing and worst.state in ("exhausted", "at risk")
        else ""
    )
    if worst.state == "no data":
        if missing:
            count = (
                f"{len(missing)} of {len(statuses)} SLOs"
                if len(missing) < len(statuses)
                else ("All its SLOs" if len(statuses) > 1 else name)
            )
            return f"{count}: no data — {slo_view.unknown_reason(missing[0].error, detail=False)}."
        return f"{name}: no data in {period}, so its health is unknown."
    after = incident_phrase(worst, incidents) if worst.state != "healthy" else ""
    if worst.state == "exhausted":
        return f"{name}: error budget overspent ({left:.0%} left in {period}){after}.{also}"
    firing = [a.words for a in worst.firing_alerts]
    if worst.state == "at risk":
        alert = f"; {firing[0]} alert firing" if firing else ""
        return f"{name}: {left:.0%} of {period}'s error budget left{after}{alert}.{also}"
    if len(statuses) == 1:
        return f"{name} is healthy, with {left:.0%} of its budget left."
    return f"All {len(statuses)} SLOs healthy; the tightest, {name}, has {left:.0%} of its budget left."


def domain_tiles(statuses: list[SloStatus], incidents: pd.DataFrame) -> list[DomainTile]:
    tiles = []
    for domain, (title, page) in DOMAINS.items():
        mine = [s for s in statuses if s.domain == domain]
        state = worst_state([s.state for s in mine]) or "no data"
        tiles.append(
            DomainTile(domain, title, page, state, reason_for(mine, incidents), tuple(s.name for s in mine))
        )
    return tiles


def state_changes(before: list[SloStatus] | None, after: list[SloStatus]) -> list[str]:
    """SLOs whose state moved over the week, and alerts that fire now but did not a week ago, worst SLO first
    and at most `LIST_ROWS` lines of them, then how many more. An SLO unknown at either end is said to
    be unknown, never left out as if it had not changed."""
    if before is None:
        return ["Not known: the SLO states of a week ago could not be fetched."]
    was = {s.name: s for s in before}
    lines, unknown = [], []
    for s in sort_worst_first(after):
        old = was.get(s.name)
        if s.error is not None or (old is not None and old.error is not None):
            unknown.append(s.definition.title)
            continue
        name = s.definition.title
        if old is not None and old.state != s.state:
            lines.append(f"{name}: {old.state} → {s.state}.")
        new_alerts = {a.words for a in s.firing_alerts} - (
            {a.words for a in old.firing_alerts} if old else set()
        )
        if new_alerts:
            lines.append(f"{name}: firing now, not a week ago: {'; '.join(sorted(new_alerts))}.")
    if len(lines) > LIST_ROWS:  # the worst SLOs' changes first; a big platform's would fill the page
        more = len(lines) - LIST_ROWS
        lines = lines[:LIST_ROWS] + [f"And {more} more changes: each SLO's history is on the SLOs page."]
    if unknown:
        which = ", ".join(unknown) if len(unknown) <= 3 else f"{len(unknown)} SLOs"
        lines.append(f"Not known for {which}: their figures could not be fetched now or a week ago.")
    return lines


def incident_lines(incidents: pd.DataFrame, at: datetime, error: BackendError | None = None) -> list[str]:
    """The week's incidents, or that they are not known when OpenSearch did not answer."""
    if error is not None and incidents.empty:
        return [f"Incidents: not known, {failed_backend(error)}."]
    recent = (
        incidents[(incidents["start"] >= at - WEEK) & (incidents["start"] <= at)]
        if not incidents.empty
        else incidents
    )
    return [
        f"Incident: {row['title']} ({format_span(row['start'], row['end'])})."
        for _, row in recent.sort_values("start").iterrows()
    ]


def slo_headlines(
    now: list[SloStatus] | None, before: list[SloStatus] | None, at: datetime
) -> list[Headline]:
    """SLO counts per state, now and a week earlier; None (no data) where the statuses could not be had."""
    counts = state_counts(now) if now is not None else None
    previous = state_counts(before) if before is not None else None
    headlines = []
    for state in SHOWN_ORDER:
        names = [s.definition.title for s in now or [] if s.state == state]
        earlier = previous.get(state) if previous else None
        explanation = (
            f"SLOs in state **{state}** at {at:%d %b %H:%M} UTC, each over its own period, computed from the "
            f"SLO definitions kept in the repository "
            f"(a week earlier: {'no data' if earlier is None else earlier}).\n\n"
            + ("\n".join(f"- {plain(n)}" for n in names) if names else "No SLO.")
        )
        headlines.append(
            Headline(
                state,
                f"SLOs {state}",
                counts[state] if counts else None,
                previous[state] if previous else None,
                "count",
                explanation,
                SLO_SOURCE,
            )
        )
    return headlines


def readiness_headline(trend: list[readiness.ReadinessScore | None], at: datetime) -> Headline:
    now = trend[-1] if trend else None
    prev = trend[-2] if len(trend) > 1 else None
    lines = [
        f"Filing readiness at {at:%d %b %H:%M} UTC, from the readiness definition kept in the repository: "
        "weighted checks, capped by hard gates."
    ]
    if now is not None:
        lines += [f"- {plain(item.summary)}" for item in now.items]
        if now.capped_by:
            lines.append(f"\nCapped at {now.cap:.0f} by the gate **{plain(now.capped_by)}**.")
    return Headline(
        "readiness",
        "Filing readiness",
        now.score if now else None,
        prev.score if prev else None,
        "points",
        "\n".join(lines),
        READINESS_SOURCE,
    )


def security_line(view: controls_view.ControlsView | None) -> str:
    """The posture grade in one line: the word, the count of controls per status, the controls that set it
    (the Security page says why, one click away)."""
    if view is None:
        return "Not known: the security controls could not be loaded in time."
    if not view.statuses:
        return "Not known: the security controls file could not be read."
    grade = view.grade
    failing = [s.control.title for s in grade.not_met if s.status == "failing"]
    named = ", ".join(failing[:3]) + (f" and {len(failing) - 3} more" if len(failing) > 3 else "")
    return f"{grade.word}: {grade.summary}" + (f" Failing: {named}." if failing else "")


def scorecard_line(card: scorecard_view.Scorecard | None) -> str:
    """How far from the playbook's acceptance, in one line: the count met, and what is not."""
    if card is None:
        return "Not known: the acceptance scorecard could not be loaded in time."
    if card.definition_errors:
        return "Not known: the acceptance criteria file could not be read."
    missing = [c.title for c in card.criteria if c.verdict == "not met"]
    named = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
    unknown = [c.title for c in card.criteria if c.verdict == "no data"]
    return (
        card.summary
        + (f" Not met: {named}." if missing else "")
        + (f" No data: {', '.join(unknown)}." if unknown else "")
    )


def deadline_rows(deadlines: list[Deadline], obligations: pd.DataFrame) -> list[DeadlineRow]:
    """Each upcoming deadline with the entities due and ready for its obligation (VAT, MTD quarterly)."""
    rows, seen = [], set()
    for d in deadlines:
        due = ready = None
        # The gauges count entities for the *next* deadline of each obligation only.
        if d.kind not in seen and not obligations.empty and d.kind in set(obligations["obligation"]):
            mine = obligations[obligations["obligation"] == d.kind]
            due = float(mine.loc[mine["what"] == "due", "value"].sum())
            ready = float(mine.loc[mine["what"] == "ready", "value"].sum())
        seen.add(d.kind)
        rows.append(DeadlineRow(d, due, ready))
    return rows


# -- loading ---------------------------------------------------------------------------------------------


def _obligations(due: Outcome[QueryResult], ready: Outcome[QueryResult]) -> pd.DataFrame:
    frames = []
    for what, outcome in (("due", due), ("ready", ready)):
        if outcome.value is not None and "obligation" in outcome.value.frame.columns:
            frames.append(outcome.value.frame[["obligation", "value"]].assign(what=what))
    return (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=["obligation", "value", "what"])
    )


def load(
    sources: Sources, at: datetime, cache: ResultCache = default_cache, *, scorecard: bool = True
) -> Overview:
    """Everything at once: the SLO board (shared with the SLOs page), the SLOs a week ago, the readiness view
    (shared with the Readiness page, so both show the same score), incidents and filing obligations; and,
    with `scorecard`, the acceptance scorecard's line (its observability criterion asks Jaeger too)."""
    prom = sources.prometheus
    parts = fetch_all(
        {
            "board": lambda: slo_view.load_board(sources, at, cache),
            "readiness": lambda: readiness_view.load(sources, at, cache),
            "slos_week_ago": lambda: slo_view.past_statuses(
                sources, definitions().definitions, week_earlier(at), cache
            ),
            "incidents": lambda: sources.opensearch.search(
                "incidents", queries.render("overview", "incidents")
            ),
            "obligations_due": lambda: prom.instant(queries.render("overview", "obligations_due"), at),
            "obligations_ready": lambda: prom.instant(queries.render("overview", "obligations_ready"), at),
            "security": lambda: controls_view.load(
                sources, time_range(SECURITY_RANGE, at), cache, chart=False
            ),
            "scorecard": lambda: (
                scorecard_view.load(sources, at, PRESETS[SECURITY_RANGE], cache, trend=False)
                if scorecard
                else None
            ),
        },
        cache=cache,
        ttl_s=TTL_S,
        budget_s=sources.run_budget_s,
        key_prefix=(sources.cache_key, "overview"),
        window=at,
    )
    board: slo_view.SloBoard | None = parts["board"].value
    ready: readiness_view.ReadinessView | None = parts["readiness"].value
    now_outcome = board.outcome if board else parts["board"]
    if board is not None:
        now, unknown_note = board.statuses, board.unknown_note
    else:  # the board itself did not arrive in time: every SLO is unknown, none is left out
        error = parts["board"].error or "not fetched"
        now = [unknown(d, at, error) for d in definitions().definitions]
        unknown_note = f"{len(now)} SLOs: no data — {slo_view.unknown_reason(str(error))}" if now else None
    before = parts["slos_week_ago"].value
    trend = [score for _, score in ready.trend] if ready else []
    incidents = incident_frame(parts["incidents"].value)
    outcomes = {k: o for k, o in parts.items() if k not in ("board", "readiness", "security", "scorecard")}
    outcomes["slos_now"] = now_outcome
    outcomes |= {f"readiness_{i}": o for i, (_, o) in enumerate(ready.problems)} if ready else {}
    return Overview(
        at=at,
        tiles=domain_tiles(now, incidents),
        headlines=[readiness_headline(trend, at), *slo_headlines(now, before, at)],
        attention=[s for s in sort_worst_first(now) if s.state != "healthy"],
        alerts_note=alert_states.note(now),
        readiness_now=trend[-1] if trend else None,
        readiness_trend=readiness_view.trend_frame(ready)
        if ready and readiness_view.has_trend(ready)
        else pd.DataFrame(columns=["timestamp", "series", "value", "label"]),
        readiness_target=readiness_view.target(ready) if ready else None,
        deadlines=deadline_rows(
            upcoming_deadlines(at), _obligations(parts["obligations_due"], parts["obligations_ready"])
        ),
        changes=state_changes(before, now)
        + incident_lines(incidents, at, parts["incidents"].error)
        + readiness_lines(trend),
        outcomes=outcomes,
        security=parts["security"].value,
        scorecard=parts["scorecard"].value,
        slo_count=len(now),
        unknown_note=unknown_note,
    )


def readiness_lines(trend: list[readiness.ReadinessScore | None]) -> list[str]:
    """What moved the readiness score over the week, or that it is not known."""
    if len(trend) < 2 or trend[-1] is None or trend[-2] is None:
        return ["Readiness: not known, the score now or a week ago could not be computed."]
    if trend[-1].score is None or trend[-2].score is None:
        return ["Readiness: not known, one of the two weeks has no score (too little data)."]
    return [f"Readiness: {m.text}." for m in readiness.what_moved(trend[-2], trend[-1])]


def attention_table(statuses: list[SloStatus]) -> pd.DataFrame:
    """The SLOs that need attention as the overview lists them: the SLO board's name, domain, state, firing
    alerts and detail link, and the budget left in words ("-12.50%", or "no data")."""
    table = slo_view.board_table(statuses)
    table["budget_left"] = [format_value(left, "ratio") for left in table["budget_remaining"]]
    return table[["slo", "domain", "budget_left", "state", "firing", "link"]]


def deadline_table(rows: list[DeadlineRow]) -> pd.DataFrame:
    """Deadlines as a table: label, due date, days left, entities due and ready, and the ready share."""
    return pd.DataFrame(
        [
            {
                "deadline": r.deadline.label,
                "due": r.deadline.due,
                "days_left": r.deadline.days_left,
                "entities_due": r.due_entities,
                "entities_ready": r.ready_entities,
                "ready_share": r.ready_entities / r.due_entities
                if r.due_entities and r.ready_entities is not None
                else None,
            }
            for r in rows
        ],
        columns=["deadline", "due", "days_left", "entities_due", "entities_ready", "ready_share"],
    )


# -- the frozen report -----------------------------------------------------------------------------------


def attention_line(s: SloStatus) -> str:
    """One SLO that needs attention, in words: its state, budget left and firing alerts."""
    left = (
        f"{s.error_budget_remaining:.0%} of the budget left"
        if s.error_budget_remaining is not None
        else "no data"
    )
    firing = f"; firing: {', '.join(a.words for a in s.firing_alerts)}" if s.firing_alerts else ""
    return f"{s.definition.title} ({s.domain}): {s.state}, {left}{firing}"


def frozen_link(at: datetime) -> str:
    """The overview pinned at `at` (relative: `app.ui.absolute` makes it a link to paste): whoever opens it
    later sees the same figures (Prometheus keeps 30 days)."""
    return links.url("overview", at=pinned_text(at))


def report_markdown(view: Overview) -> str:
    """The overview as a Markdown document for the weekly review: headlines with their change over the
    week, the domains, security, what needs attention, deadlines and what changed."""
    lines = [
        f"# Sextant weekly report, {view.at:%A %d %B %Y %H:%M} UTC",
        "",
        f"Changes are against a week earlier, {week_earlier(view.at):%a %d %b %H:%M} UTC.",
        "",
        "## Headlines",
        "",
        "| figure | now | a week earlier | change |",
        "|---|---|---|---|",
    ]
    for h in view.headlines:
        verdict = {True: " (better)", False: " (worse)", None: ""}[h.good_news]
        lines.append(
            f"| {h.label} | {h.display_value} | {h.display_previous} | {h.delta_text or '—'}{verdict} |"
        )
    lines += ["", "## Domains", ""]
    lines += [f"- **{t.title}** ({t.state}): {t.reason}" for t in view.tiles]
    lines += ["", f"## Security ({view.security.grade.word if view.security else 'no data'})", ""]
    lines.append(f"- {security_line(view.security)}")
    if view.security is not None:
        lines += [f"- **{s.control.title}** ({s.status}): {s.reason}" for s in view.security.grade.not_met]
        posture = view.security.posture
        lines += (
            [f"- **{c.name}** ({c.state}): {c.figure}. {c.reason}" for c in posture.checks] if posture else []
        )
    lines += ["", "## Acceptance scorecard", "", f"- {scorecard_line(view.scorecard)}"]
    if view.scorecard is not None:
        lines += [
            f"- **{c.title}** ({c.verdict}): {c.reason}"
            for c in view.scorecard.criteria
            if c.verdict != "met"
        ]
    lines += ["", "## Needs attention", ""]
    if view.unknown_note:
        lines.append(f"- {view.unknown_note}.")
    lines += [f"- {attention_line(s)}" for s in view.most_urgent if s.error is None]
    if view.more_note:
        lines.append(f"- {view.more_note}")
    if view.all_healthy:
        lines.append("- Every SLO is healthy.")
    lines += ["", "## Upcoming filing deadlines", ""]
    for row in view.deadlines:
        d = row.deadline
        ready = (
            f"; {row.ready_entities:,.0f} of {row.due_entities:,.0f} entities ready"
            if row.due_entities
            else ""
        )
        lines.append(f"- {d.label}: due {d.due:%a %d %b %Y} ({counted(d.days_left, 'day')} left){ready}")
    lines += ["", "## What changed since last week", ""]
    lines += [f"- {c}" for c in view.changes] or ["- Nothing changed state."]  # each unknown is a line
    return "\n".join(lines) + "\n"

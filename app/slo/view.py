"""What the SLOs and SLO detail pages show, computed by `app.slo` (the same code as the CLI), cached."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from app import incidents, links, queries
from app.alerting import runbooks
from app.slo import alert_states
from app.slo.history import RangeHistory, SloHistory, firing_spans, range_history, slo_history
from app.slo.loader import DEFAULT_DIRECTORY, DefinitionError, LoadResult, cached_definitions
from app.slo.model import DOMAIN_TITLES, SloDefinition
from app.slo.rules import runbook_url
from app.slo.status import AlertStatus, SloStatus, compute_status, sort_worst_first, unknown
from app.sources import Sources
from app.sources.cache import Outcome, ResultCache, default_cache
from app.sources.concurrent import fetch_keyed
from app.sources.counting import CountingClient, KeptAnswers
from app.sources.deadline import page_run
from app.sources.errors import BACKEND_TITLES, failed_backend, in_plain_words
from app.sources.prometheus import QueryResult, auto_step, rate_window
from app.timerange import TimeRange
from app.units import format_seconds

TTL_S = 60.0
PAST_TTL_S = 3600.0  # an SLO's status at a past instant: its data no longer changes
BURN_WINDOWS = ("5m", "1h", "6h", "1d", "3d")


@dataclass(frozen=True)
class SloBoard:
    """Every defined SLO's status, worst first: one row per definition whatever Prometheus answered."""

    statuses: list[SloStatus]  # worst first; "no data" with the reason for each SLO not fetched
    definition_errors: tuple[DefinitionError, ...]
    outcome: Outcome[list[SloStatus]]
    requests: int  # Prometheus requests this load made (0 when served from the cache)

    @property
    def source_note(self) -> str | None:
        """Says so when SLOs were queried raw: Prometheus held no matching records for them at that instant
        (their rules not loaded, or not yet recording the whole period, as in a stack's first hours)."""
        raw = sum(1 for s in self.statuses if s.source == "raw" and s.error is None)
        if raw == 0:
            return None
        return (
            f"{raw} of {len(self.statuses)} SLOs computed from raw counters (Prometheus has no recorded "
            "figures for them at this time: their rules are not loaded, or not yet recording their whole "
            "period), one query set per SLO, run concurrently."
        )

    @property
    def alerts_note(self) -> str:
        """How the alerts' states are known: from Prometheus's alerts, or computed from the burn rates."""
        return alert_states.note(self.statuses)

    @property
    def unknown(self) -> list[SloStatus]:
        """The SLOs whose figures could not be fetched (not those that simply have no events)."""
        return [s for s in self.statuses if s.error is not None]

    @property
    def complete(self) -> bool:
        """Every SLO was fetched, now (not the last good board of an earlier minute)."""
        return self.outcome.error is None and not self.unknown

    @property
    def unknown_note(self) -> str | None:
        """Says how many SLOs have no data because their figures could not be fetched, and why."""
        missing = self.unknown
        if not missing:
            return None
        count = (
            f"{len(missing)} of {len(self.statuses)} SLOs"
            if len(missing) < len(self.statuses)
            else (f"{len(missing)} SLOs")
        )
        return f"{count}: no data — {unknown_reason(missing[0].error)}"


def unknown_reason(error: str | None, *, detail: bool = True) -> str:
    """ "Prometheus is not answering (connection refused)" from a status' error text ("prometheus: …"), or
    "is not configured" when it has no URL (`failed_backend`); without `detail`, for a small tile beside the
    page's banner that holds it, "Prometheus is not answering"."""
    backend, _, message = (error or "").partition(": ")
    if backend not in BACKEND_TITLES:
        return error or "not fetched"
    return failed_backend(error or "") + (f" ({in_plain_words(message)})" if detail else "")


def definitions_directory() -> Path:
    """`slo_definitions/`, or `SEXTANT_SLO_DEFINITIONS` (another set of SLOs, e.g. for the benchmark)."""
    return Path(os.environ.get("SEXTANT_SLO_DEFINITIONS") or DEFAULT_DIRECTORY)


def definitions(directory: Path | None = None) -> LoadResult:
    return cached_definitions(directory or definitions_directory())


def past_statuses(
    sources: Sources, slos: Sequence[SloDefinition], at: datetime, cache: ResultCache = default_cache
) -> list[SloStatus]:
    """`compute_status` at a past instant, with Prometheus's answers there kept for an hour.

    The overview's week-ago board and the readiness trend's filing SLOs ask for the same instant: they
    share the answers, whether an SLO is read from records (one query per window, for all SLOs) or, without
    records at that instant, computed from raw series over its whole period. Raises the backend's error
    when Prometheus fails.
    """
    kept = KeptAnswers(sources.prometheus, cache, (sources.cache_key, "past"), PAST_TTL_S)
    return compute_status(slos, kept, at)


def load_board(
    sources: Sources, at: datetime, cache: ResultCache = default_cache, directory: Path | None = None
) -> SloBoard:
    """Every SLO's status at `at`; one Prometheus request per window when the recording rules are loaded.

    The list comes from the definitions, never from Prometheus: when it cannot be asked (and no earlier
    answer is kept) every SLO is "no data" with the reason, so a failing backend never empties the board.
    """
    directory = directory or definitions_directory()
    loaded = definitions(directory)
    counting = CountingClient(sources.prometheus)

    def board() -> list[SloStatus]:
        if not loaded.definitions:  # no SLO: no status to compute, nor alert to read
            return []
        return alert_states.apply(lambda: compute_status(loaded.definitions, counting, at), sources, at)

    with page_run(sources.run_budget_s):
        outcome = cache.fetch(
            (sources.cache_key, "slo_board", str(directory)),
            board,
            partial_ttl(TTL_S, cache),
            window=at,
        )
    statuses = outcome.value
    if statuses is None:
        error = outcome.error or "not fetched"
        statuses = [unknown(d, at, error) for d in loaded.definitions]
    return SloBoard(sort_worst_first(statuses), loaded.errors, outcome, counting.requests)


def states(sources: Sources, at: datetime, cache: ResultCache = default_cache) -> dict[str, str]:
    """Each SLO's state at `at`, as the SLOs page shows it: what a domain page says of an SLO's objective."""
    return {s.definition.name: s.state for s in load_board(sources, at, cache).statuses}


def partial_ttl(ttl_s: float, cache: ResultCache) -> Callable[[list[SloStatus]], float]:
    """Keep a board with SLOs not fetched only as long as a failure is remembered, not a whole TTL."""
    return lambda statuses: cache.error_ttl_s if any(s.error for s in statuses) else ttl_s


BOARD_PAGE_ROWS = 100  # a board of thousands of SLOs shows them a page at a time, worst first


def board_page(shown: Sequence[SloStatus], page: str | None) -> tuple[list[SloStatus], int, int]:
    """The SLOs of page `page` ("1" the worst; anything else, or past the end, is page 1), the page's
    number and the number of pages: the filters and the order are applied first, on the server, so the
    browser gets one page of rows, not thousands."""
    pages = max(1, -(-len(shown) // BOARD_PAGE_ROWS))
    number = int(page) if page and page.isdigit() and 1 <= int(page) <= pages else 1
    first = (number - 1) * BOARD_PAGE_ROWS
    return list(shown[first : first + BOARD_PAGE_ROWS]), number, pages


def filter_statuses(
    statuses: Iterable[SloStatus],
    *,
    text: str = "",
    domains: Sequence[str] = (),
    teams: Sequence[str] = (),
    states: Sequence[str] = (),
    labels: Sequence[str] = (),
) -> list[SloStatus]:
    """Search by name (or display name) and narrow by domain, team, state and `key=value` labels."""
    needle = text.strip().lower()
    wanted_labels = {tuple(item.split("=", 1)) for item in labels if "=" in item}

    def keep(s: SloStatus) -> bool:
        d = s.definition
        return (
            (not needle or needle in d.name.lower() or needle in (d.display_name or "").lower())
            and (not domains or d.domain in domains)
            and (not teams or d.team in teams)
            and (not states or s.state in states)
            and wanted_labels <= set(d.labels)
        )

    return [s for s in statuses if keep(s)]


def label_choices(statuses: Iterable[SloStatus]) -> list[str]:
    return sorted({f"{k}={v}" for s in statuses for k, v in s.definition.labels})


def domain_choices(statuses: Iterable[SloStatus]) -> dict[str, str]:
    """The domains of these SLOs: id -> title (`DOMAIN_TITLES`), in the titles' order."""
    titles = {s.domain: DOMAIN_TITLES.get(s.domain, s.domain) for s in statuses if s.domain}
    return dict(sorted(titles.items(), key=lambda item: item[1].casefold()))


def detail_link(name: str, preset: str | None = None) -> str:
    """The relative address of an SLO's detail (`app.links`), for tables and chat links."""
    return links.url("slos", slo=name, range=preset)


STATE_MARKS = {"healthy": "✔", "at risk": "⚠", "exhausted": "✖", "no data": "?"}  # not by colour alone


def firing_words(alerts: Sequence[AlertStatus]) -> str:
    """The firing alerts of one SLO, short enough for a table cell: the long windows of each kind of burn
    alert together ("fast-burn page: 1h, 6h; slow-burn ticket: 1d"), other alerts by name; "—" for none."""
    burns: dict[str, list[str]] = {}
    others: list[str] = []
    for alert in alerts:
        if alert.long_window is None:
            others.append(alert.words)
        else:
            burns.setdefault(alert.kind, []).append(alert.long_window)
    parts = [f"{kind}: {', '.join(windows)}" for kind, windows in burns.items()]
    return "; ".join(parts + others) or "—"


def board_table(statuses: Sequence[SloStatus]) -> pd.DataFrame:
    """One row per SLO in the given order, what matters first (name, state, budget left, firing alerts), the
    SLI and objective both as fractions for the table's own percent format."""
    rows = []
    for s in statuses:
        d = s.definition
        rows.append(
            {
                "slo": d.title,
                "state": f"{STATE_MARKS[s.state]} {s.state}" + (" (low traffic)" if s.low_traffic else ""),
                "budget_remaining": s.error_budget_remaining,
                "firing": firing_words(s.firing_alerts),
                "sli": s.sli,
                "objective": d.target,
                "window": s.window,
                "domain": DOMAIN_TITLES.get(d.domain, d.domain),
                "team": d.team,
                **{f"burn_{w}": s.burn_rates.get(w) for w in BURN_WINDOWS},
                "link": detail_link(d.name),
            }
        )
    columns = [
        "slo",
        "state",
        "budget_remaining",
        "firing",
        "sli",
        "objective",
        "window",
        "domain",
        "team",
        *[f"burn_{w}" for w in BURN_WINDOWS],
        "link",
    ]
    return pd.DataFrame(rows, columns=columns)


@dataclass(frozen=True)
class SloDetail:
    definition: SloDefinition
    status: Outcome[list[SloStatus]]
    history: Outcome[SloHistory]  # the period's: budget burn-down, alerts, compliance
    in_range: Outcome[RangeHistory]  # the page range's SLI and burn rates
    service: dict[str, Outcome[QueryResult]]  # request_rate, error_ratio, p95 curves of the SLO's service
    incidents: Outcome[QueryResult]

    @property
    def current(self) -> SloStatus | None:
        return self.status.value[0] if self.status.value else None

    @property
    def problems(self) -> list[tuple[str, Outcome]]:
        found: list[tuple[str, Outcome]] = [
            ("prometheus", o) for o in (self.status, self.history, self.in_range) if o.error
        ]
        found += [("prometheus", o) for o in self.service.values() if o.error]
        if self.incidents.error:
            found.append(("opensearch", self.incidents))
        return found


def load_detail(
    sources: Sources,
    definition: SloDefinition,
    at: datetime,
    tr: TimeRange,
    cache: ResultCache = default_cache,
) -> SloDetail:
    """Status, period history, the service's golden signals over `tr`, and incidents, all at once."""
    prom = sources.prometheus
    step = auto_step(tr.start, tr.end)
    window = rate_window(step)
    service = definition.service

    def curve(name: str, **params: object):
        return lambda: prom.range(
            queries.render("slo_detail", name, service=service, window=window, **params),
            tr.start,
            tr.end,
            step,
        )

    # The status and the period's history do not depend on the range: one answer for every range picked.
    span = (tr.preset, tr.end - at)  # the range's length and its end relative to `at` (0 on the page)
    out = fetch_keyed(
        {
            "status": (
                (),
                lambda: alert_states.apply(
                    lambda: compute_status([definition], prom, at), sources, at
                ),
            ),
            "history": ((), lambda: slo_history(definition, prom, at)),
            "in_range": (span, lambda: range_history(definition, prom, tr.start, tr.end)),
            "request_rate": (span, curve("service_request_rate")),
            "error_ratio": (span, curve("service_error_ratio")),
            "p95": (span, curve("service_latency_quantile", quantile=0.95)),
            "incidents": (
                (),
                lambda: sources.opensearch.search(
                    "incidents", queries.render("slo_detail", "incidents", service=service)
                ),
            ),
        },
        prefix=(sources.cache_key, "slo_detail", definition.name),
        ttl_s=TTL_S,
        budget_s=sources.run_budget_s,
        cache=cache,
        window=at,
    )
    return SloDetail(
        definition=definition,
        status=out["status"],
        history=out["history"],
        in_range=out["in_range"],
        service={k: out[k] for k in ("request_rate", "error_ratio", "p95")},
        incidents=out["incidents"],
    )


def alert_table(detail: SloDetail) -> pd.DataFrame:
    """One row per alert: its id (`sextant_alert`) and its words ("fast-burn page, 1h window"), threshold,
    windows, whether it fires now and since when, and the runbook."""
    status, history = detail.current, detail.history.value
    spans = (
        firing_spans(history.alerts)
        if history is not None
        else pd.DataFrame(columns=["alert", "start", "end"])
    )
    runbook = runbooks.runbook_link(runbooks.resolve(runbook_url(detail.definition)))
    rows = []
    for alert in status.alerts if status else ():
        since = None
        if alert.firing:
            mine = spans[spans["alert"] == alert.name]
            since = mine["start"].max() if not mine.empty else None
        fired = spans[spans["alert"] == alert.name]
        rows.append(
            {
                "alert": alert.name,
                "title": alert.words,
                "severity": alert.severity,
                "threshold": alert.factor,
                "windows": f"{alert.long_window} and {alert.short_window}" if alert.long_window else "—",
                "firing": "no data" if alert.firing is None else ("FIRING" if alert.firing else "quiet"),
                "since": since,
                "last_fired": fired["end"].max() if not fired.empty else None,
                "runbook": runbook,
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "alert",
            "title",
            "severity",
            "threshold",
            "windows",
            "firing",
            "since",
            "last_fired",
            "runbook",
        ],
    )


def runs_out(status: SloStatus) -> tuple[str, str]:
    """The SLO detail's headline: when the error budget runs out (short), and how that is known."""
    left, when = status.error_budget_remaining, status.budget_exhausted_at
    if left is None:
        return "unknown", "No data in the period, so no forecast."
    if left <= 0:
        return "spent", f"Overspent: {left:.0%} of the budget left." + (
            f" Ran out {when:%a %d %b %H:%M} UTC." if when else ""
        )
    if when is None:
        return "not this period", "At the recent burn rates the budget lasts beyond the period."
    window = next(w for w, t in status.forecast.items() if t == when)  # the soonest
    return (
        f"in {format_seconds((when - status.at).total_seconds())}",
        f"{when:%a %d %b %H:%M} UTC, at the last {window}'s burn rate.",
    )


def resolve_name(text: str, by_name: Mapping[str, SloDefinition]) -> str | None:
    """The SLO a `?slo=` value names: its name, or its title as people paste it (any case)."""
    if text in by_name:
        return text
    titles = {d.title.casefold(): name for name, d in by_name.items()}
    return titles.get(text.strip().casefold())


def forecast_sentences(status: SloStatus) -> list[str]:
    """Plain English: when the budget runs out at the recent burn rates."""
    if status.error_budget_remaining is None:
        return ["No data in the period, so no forecast."]
    if status.error_budget_remaining <= 0:
        when = status.budget_exhausted_at
        return [f"The error budget is spent{f' (since {when:%d %b %H:%M} UTC)' if when else ''}."]
    lines = []
    for window, when in status.forecast.items():
        lines.append(
            f"At the last {window}'s burn rate, the budget runs out {when:%a %d %b %H:%M} UTC."
            if when
            else f"At the last {window}'s burn rate, the budget lasts beyond the period."
        )
    return lines


def incident_annotations(outcome: Outcome[Any], at: datetime) -> pd.DataFrame:
    """The service's incidents as chart annotations (start, end, title); an ongoing one lasts until `at`."""
    found = incidents.frame(outcome.value)
    return found.assign(end=found["end"].fillna(pd.Timestamp(at)))[["start", "end", "title"]]


def burndown_lines(history: SloHistory) -> pd.DataFrame:
    """Budget left and the ideal even-spend line, long format for one chart."""
    frame = history.burndown.frame.melt("timestamp", ["budget_remaining", "ideal"], "line", "value")
    frame["line"] = frame["line"].map({"budget_remaining": "budget left", "ideal": "ideal (even spend)"})
    return frame


def sli_curve(in_range: RangeHistory) -> pd.DataFrame:
    return in_range.sli


def burn_rate_curves(in_range: RangeHistory) -> pd.DataFrame:
    return in_range.burn_rates.rename(columns={"burn_rate": "value"})[["timestamp", "window", "value"]]


def compliance_rows(history: SloHistory, unit: str) -> pd.DataFrame:
    """Calendar weeks or months with their SLI and whether the objective was met, labelled for a chart."""
    rows = history.compliance[history.compliance["unit"] == unit].copy()
    rows["period"] = [f"{start:%d %b}" if unit == "week" else f"{start:%b %Y}" for start in rows["start"]]
    rows["result"] = rows["met"].map({True: "met", False: "missed"}).fillna("no data")
    return rows[["period", "start", "sli", "target", "result", "total"]]


def runbook_text(definition: SloDefinition) -> str:
    """The runbook's Markdown when it is a file of this repository, else its link."""
    if not definition.runbook:
        return "No runbook declared."
    path = DEFAULT_DIRECTORY.parent / definition.runbook
    if "://" not in definition.runbook and path.suffix == ".md" and path.is_file():
        return path.read_text()
    return f"Runbook: {definition.runbook}"

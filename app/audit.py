"""The audit trail (`audit-*`): logins, role changes, configuration and rulepack edits, assistant actions
and exports, as the Logs page's audit tab shows them and the Security page counts them.

Sextant's own access log (`audit-sextant-*`, `app.access`) is not part of it: the named queries leave it
out. Every value is masked (`app.masking`) except the actor, the staff account an audit is about.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from app import logs
from app.sources import Sources
from app.sources.cache import FromOneBackend, Outcome, ResultCache, default_cache
from app.sources.concurrent import fetch_keyed
from app.sources.opensearch import SearchResult, buckets_frame
from app.timerange import TimeRange

AUDIT_COLUMNS = (
    "@timestamp",
    "action",
    "outcome",
    "actor",
    "role",
    "tenant",
    "target",
    "source_ip",
    "message",
)
SHOWN_AS_IS = ("actor",)  # staff accounts: who did what is the audit trail's point, so never masked


def audit_counts(result: SearchResult | None) -> pd.DataFrame:
    """Audit events per action and outcome, actions with most events first."""
    columns = ["action", "outcome", "count"]
    if result is None or "action" not in result.aggregations:
        return pd.DataFrame({"action": [], "outcome": [], "count": pd.Series([], dtype="int64")})
    frame = buckets_frame(result.aggregations, "action").rename(columns={"doc_count": "count"})
    if frame.empty:
        return pd.DataFrame({"action": [], "outcome": [], "count": pd.Series([], dtype="int64")})
    if "outcome" not in frame.columns:
        frame["outcome"] = None
    frame["count"] = frame["count"].astype("int64")
    totals = frame.groupby("action")["count"].transform("sum")
    return frame.assign(_total=totals).sort_values(
        ["_total", "action", "count"], ascending=[False, True, False], ignore_index=True
    )[columns]


@dataclass(frozen=True)
class AuditPage(FromOneBackend):
    backend = "opensearch"
    time_range: TimeRange
    interval: str
    counts: pd.DataFrame  # action, outcome, count
    over_time: pd.DataFrame  # time, outcome, count
    latest: pd.DataFrame  # lines_table of audit events, newest first
    total: int | None
    outcomes: dict[str, Outcome[SearchResult]] = field(repr=False)
    tenants: list[str] = field(default_factory=list)  # seen in the window, for the pickers
    actions: list[str] = field(default_factory=list)
    tokens: dict[str, str] = field(default_factory=dict, repr=False)  # masked value -> value, for a reveal


def audit_clauses(tenant: str = "", action: str = "") -> list[dict[str, Any]]:
    clauses = []
    if tenant.strip():
        clauses.append(logs.render(logs.GROUP, "filter_tenant", tenant=tenant.strip()).query)
    if action.strip():
        clauses.append(logs.render(logs.GROUP, "filter_action", action=action.strip()).query)
    return clauses


def load(
    sources: Sources, tr: TimeRange, tenant: str = "", action: str = "", cache: ResultCache = default_cache
) -> AuditPage:
    """Audit events (logins, role changes, config and rulepack edits, assistant actions, exports): counts
    by action and outcome, outcomes over time, and the newest events."""
    client = sources.opensearch
    clauses = audit_clauses(tenant, action)
    interval = logs.histogram_interval(tr)
    outcomes = fetch_keyed(
        {
            "audit_summary": logs.search_task(client, tr, "audit_summary", clauses, interval=interval),
            "audit_latest": logs.search_task(client, tr, "audit_latest", clauses),
        },
        prefix=(sources.cache_key, logs.GROUP),
        ttl_s=logs.TTL_S,
        budget_s=sources.run_budget_s,
        cache=cache,
        window=tr,
    )
    summary = outcomes["audit_summary"].value
    latest = outcomes["audit_latest"].value
    tokens: dict[str, str] = {}
    mask = sources.masker
    return AuditPage(
        time_range=tr,
        interval=interval,
        counts=mask.frame(audit_counts(summary), tokens),
        over_time=mask.frame(logs.histogram_frame(summary, by="outcome"), tokens),
        latest=mask.frame(
            logs.lines_table(latest.hits if latest is not None else None, AUDIT_COLUMNS),
            tokens,
            keep=SHOWN_AS_IS,
        ),
        total=summary.total if summary is not None else None,
        outcomes=outcomes,
        tenants=mask.strings(logs.terms(summary, "tenants")),
        actions=mask.strings(logs.terms(summary, "action")),
        tokens=tokens,
    )

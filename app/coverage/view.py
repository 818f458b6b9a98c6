"""What the Observability coverage page shows: every service of `slo_definitions/observability.yaml` with
the five checks (now: the last `within`), the share passing all five against the target, the gaps with how
to close them, the daily trend over 30 days, and personal data in logs as a control.

Asked at once: Prometheus (`up` of each scrape job, each service's metric, the alerting rules), Jaeger (one
trace of each service in the window) and OpenSearch (log documents per service, and those with every
structured field, in one aggregation; a sample of recent documents for the leak check). The trend asks the
same per UTC day: the metric present that day (`up` is only known since the stack scraped it, so the trend's
metrics check is the series being there), logs and traces that day, and the alert rules and runbooks as they
are now (Prometheus keeps no history of its rules).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pandas as pd

from app import queries
from app.coverage import checks
from app.coverage.definition import Coverage, CoverageError, coverage
from app.masking import holds_personal_data
from app.sources import Sources
from app.sources.cache import Outcome, ResultCache, default_cache, warnings_of
from app.sources.concurrent import fetch_all
from app.times import rfc3339

TTL_S = 60.0
TREND_TTL_S = 600.0  # closed days do not change; today's last point is at most this old
TREND_DAYS = 30
DAY = timedelta(days=1)
NOT_TEXT = ("@timestamp", "trace_id", "span_id")  # ids and times: digits that are not personal data
BACKEND_OF = {  # the backend of each answer; the rest (traces) are Jaeger's
    **dict.fromkeys(("up", "exports", "rules", "trend exports"), "prometheus"),
    **dict.fromkeys(("logs", "trend logs", "leak"), "opensearch"),
}
TREND_COLUMNS = ["day", "share", "passing", "services"]


@dataclass(frozen=True)
class Leakage:
    """Personal data in logs as a control (target: zero)."""

    examined: int | None  # documents sampled; None: OpenSearch could not be read
    leaking: int
    within: timedelta

    @property
    def share(self) -> float | None:
        return self.leaking / self.examined if self.examined else None

    @property
    def verdict(self) -> str:
        if self.examined is None:
            return "no data"
        return "failing" if self.leaking else "passing"


@dataclass(frozen=True)
class CoverageView:
    at: datetime
    definition: Coverage | None
    services: list[checks.ServiceCoverage]
    trend: pd.DataFrame  # day, share (None: no data), passing, services
    leakage: Leakage | None
    outcomes: dict[str, Outcome[Any]] = field(repr=False)
    definition_errors: tuple[str, ...] = ()

    @property
    def share(self) -> float | None:
        return checks.share(self.services)

    @property
    def passing(self) -> int:
        return sum(s.verdict == "pass" for s in self.services)

    @property
    def problems(self) -> list[tuple[str, Outcome[Any]]]:
        return [
            (BACKEND_OF.get(k, "jaeger"), o)
            for k, o in self.outcomes.items()
            if o.error is not None and not k.startswith("trend traces")
        ]

    @property
    def warnings(self) -> list[str]:
        return warnings_of(self.outcomes.values())

    @property
    def gaps(self) -> list[tuple[str, checks.Check]]:
        return [(s.service, c) for s in self.services for c in s.checks if c.verdict == "gap"]


# -- asking ----------------------------------------------------------------------------------------------


def logs_body(c: Coverage, windows: Mapping[str, tuple[datetime, datetime]]) -> dict[str, Any]:
    """Per window and service: log documents, and those carrying every structured field."""
    start, end = min(s for s, _ in windows.values()), max(e for _, e in windows.values())
    ranges = [{"key": k, "from": rfc3339(s), "to": rfc3339(e)} for k, (s, e) in windows.items()]
    structured = {"bool": {"filter": [{"exists": {"field": f}} for f in c.structured_fields]}}
    per_service = {
        "terms": {"field": "service", "size": max(100, 2 * len(c.services))},
        "aggs": {"structured": {"filter": structured}},
    }
    return {
        "size": 0,
        "track_total_hits": False,
        "query": {"range": {"@timestamp": {"gte": rfc3339(start), "lt": rfc3339(end)}}},
        "aggs": {
            "windows": {
                "date_range": {"field": "@timestamp", "ranges": ranges},
                "aggs": {"service": per_service},
            }
        },
    }


def leak_body(c: Coverage, start: datetime, end: datetime) -> dict[str, Any]:
    """A fixed-seed random sample of the window's log documents (the same documents on every ask)."""
    return {
        "size": c.leakage_sample,
        "track_total_hits": False,
        "query": {
            "function_score": {
                "query": {"range": {"@timestamp": {"gte": rfc3339(start), "lt": rfc3339(end)}}},
                "random_score": {"seed": 12, "field": "_seq_no"},
                "boost_mode": "replace",
            }
        },
    }


def log_counts(aggregations: Mapping[str, Any]) -> dict[str, dict[str, checks.LogCounts]]:
    """window key → service → counts, from `logs_body`'s answer."""
    out: dict[str, dict[str, checks.LogCounts]] = {}
    for window in (aggregations.get("windows") or {}).get("buckets") or []:
        out[str(window.get("key"))] = {
            str(b["key"]): checks.LogCounts(int(b["doc_count"]), int(b["structured"]["doc_count"]))
            for b in (window.get("service") or {}).get("buckets") or []
        }
    return out


def leaking_documents(hits: pd.DataFrame) -> int:
    """Sampled documents in which the masking patterns find personal data (any field but ids and times)."""
    fields = [c for c in hits.columns if c not in NOT_TEXT and c != "_id"]
    return sum(holds_personal_data(row) for row in hits[fields].to_dict("records")) if len(hits) else 0


def days(at: datetime) -> list[tuple[datetime, datetime]]:
    """The trend's UTC days, oldest first, the last one ending at `at`."""
    today = at.replace(hour=0, minute=0, second=0, microsecond=0)
    return [(today - k * DAY, min(today - (k - 1) * DAY, at)) for k in range(TREND_DAYS - 1, -1, -1)]


# -- judging ---------------------------------------------------------------------------------------------


def _value(outcomes: Mapping[str, Outcome[Any]], key: str) -> Any:
    outcome = outcomes.get(key)
    return outcome.value if outcome is not None else None


def rules_by_service(rules: list[dict[str, Any]] | None) -> dict[str, list[dict[str, Any]]] | None:
    if rules is None:
        return None
    out: dict[str, list[dict[str, Any]]] = {}
    for rule in rules:
        service = (rule.get("labels") or {}).get("service")
        if rule.get("type") == "alerting" and service:
            out.setdefault(str(service), []).append(rule)
    return out


def judge_now(c: Coverage, outcomes: Mapping[str, Outcome[Any]]) -> list[checks.ServiceCoverage]:
    up, exports = _value(outcomes, "up"), _value(outcomes, "exports")
    logs = _value(outcomes, "logs")
    counts = log_counts(logs.aggregations).get("now", {}) if logs is not None else None
    rules = rules_by_service(_value(outcomes, "rules"))
    window = window_words(c.within)
    out = []
    for s in c.services:
        traced = _value(outcomes, f"traces {s.name}")
        facts = checks.ServiceFacts(
            target_up=_job_up(up.frame, s.scrape_job) if up is not None else None,
            exports=_has(exports.frame, s) if exports is not None else None,
            traced=len(traced) > 0 if traced is not None else None,
            logs=counts.get(s.name, checks.LogCounts(0, 0)) if counts is not None else None,
            rules=rules.get(s.name, []) if rules is not None else None,
        )
        out.append(checks.judge(s, facts, c, window))
    return out


def _job_up(frame: pd.DataFrame, job: str) -> bool | None:
    """Whether the service's scrape target is up; None when Prometheus had no target at all at that instant
    (before the stack scraped anything, in backfilled history): not known, never a gap of every service."""
    if frame.empty or "job" not in frame.columns:
        return None
    values = frame.loc[frame["job"] == job, "value"]
    return bool(len(values)) and bool((values == 1).all())


def _has(frame: pd.DataFrame, s: checks.Service) -> bool:
    if "service" not in frame.columns or "__name__" not in frame.columns:
        return False
    return bool(((frame["service"] == s.name) & (frame["__name__"] == s.metric)).any())


def window_words(window: timedelta) -> str:
    """ "hour", "24 hours", "30 days": a window in the words of a sentence."""
    hours = window.total_seconds() / 3600
    return "hour" if hours == 1 else f"{hours:g} hours" if hours < 48 else f"{hours / 24:g} days"


def judge_trend(c: Coverage, outcomes: Mapping[str, Outcome[Any]], at: datetime) -> pd.DataFrame:
    """Per day: the share of services passing all five (None when no service could be judged)."""
    exported = _value(outcomes, "trend exports")
    logs = _value(outcomes, "trend logs")
    counts = log_counts(logs.aggregations) if logs is not None else None
    rules = rules_by_service(_value(outcomes, "rules"))
    rows = []
    for start, end in days(at):
        key = start.date().isoformat()
        judged = []
        for s in c.services:
            traced = _value(outcomes, f"trend traces {s.name} {key}")
            facts = checks.ServiceFacts(
                target_up=True if exported is not None else None,  # see the module note
                exports=_present_on(exported.frame, s, end) if exported is not None else None,
                traced=len(traced) > 0 if traced is not None else None,
                logs=counts.get(key, {}).get(s.name, checks.LogCounts(0, 0)) if counts is not None else None,
                rules=rules.get(s.name, []) if rules is not None else None,
            )
            judged.append(checks.judge(s, facts, c, "day"))
        share = checks.share(judged)
        rows.append(
            {"day": start, "share": share, "passing": sum(j.verdict == "pass" for j in judged),
             "services": len(judged)}
        )  # fmt: skip
    return pd.DataFrame(rows, columns=TREND_COLUMNS)


def _present_on(frame: pd.DataFrame, s: checks.Service, end: datetime) -> bool:
    """`present_over_time(metric[1d])` evaluated at the day's end holds a sample for the service."""
    if "service" not in frame.columns or "timestamp" not in frame.columns:
        return False
    stamp = pd.Timestamp(end).tz_convert("UTC") if pd.Timestamp(end).tzinfo else pd.Timestamp(end, tz="UTC")
    hit = (frame["service"] == s.name) & ((frame["timestamp"] - stamp).abs() < pd.Timedelta(minutes=1))
    return bool(hit.any())


# -- loading ---------------------------------------------------------------------------------------------


def load(
    sources: Sources, at: datetime, cache: ResultCache = default_cache, *, trend: bool = True
) -> CoverageView:
    """The coverage view at `at` (floored to the minute)."""
    at = at.replace(second=0, microsecond=0)
    try:
        c = coverage()
    except CoverageError as exc:
        return CoverageView(at, None, [], pd.DataFrame(), None, {}, exc.problems)
    prom, os_, jaeger = sources.prometheus, sources.opensearch, sources.jaeger
    start = at - c.within
    metrics = sorted({s.metric for s in c.services})
    exports = queries.render("coverage", "exports", metrics=metrics)
    tasks: dict[str, Any] = {
        "up": lambda: prom.instant("up", at),
        "exports": lambda: prom.instant(exports, at),
        "rules": prom.rules,
        "logs": lambda: os_.search(c.logs_index, logs_body(c, {"now": (start, at)})),
        "leak": lambda: os_.search(c.logs_index, leak_body(c, at - c.leakage_within, at)),
    }
    for s in c.services:
        tasks[f"traces {s.name}"] = lambda n=s.name: jaeger.search(n, start=start, end=at, limit=1)
    out = fetch_all(
        tasks,
        cache=cache,
        ttl_s=TTL_S,
        budget_s=sources.run_budget_s,
        key_prefix=(sources.cache_key, "coverage"),
        window=at,
    )
    if trend:
        out |= _trend_outcomes(sources, c, at, metrics, cache)
    leak = out["leak"].value
    leakage = Leakage(
        len(leak.hits) if leak is not None else None,
        leaking_documents(leak.hits) if leak is not None else 0,
        c.leakage_within,
    )
    trend_frame = judge_trend(c, out, at) if trend else pd.DataFrame(columns=TREND_COLUMNS)
    return CoverageView(at, c, judge_now(c, out), trend_frame, leakage, out)


def _trend_outcomes(
    sources: Sources, c: Coverage, at: datetime, metrics: list[str], cache: ResultCache
) -> dict[str, Outcome[Any]]:
    """The trend's answers, cached by the day they are about (a closed day is not asked again)."""
    prom, os_, jaeger = sources.prometheus, sources.opensearch, sources.jaeger
    spans = days(at)
    first, today = spans[0][0], spans[-1][0]
    ends = [e for _, e in spans]
    query = queries.render("coverage", "exported_over_a_day", metrics=metrics)
    windows = {s.date().isoformat(): (s, e) for s, e in spans}
    tasks: dict[str, Any] = {
        "trend exports": lambda: _at_each(prom, query, ends),
        "trend logs": lambda: os_.search(c.logs_index, logs_body(c, windows)),
    }
    for s in c.services:
        for start, end in spans:
            key = f"trend traces {s.name} {start.date().isoformat()}"
            tasks[key] = lambda n=s.name, a=start, b=end: jaeger.search(n, start=a, end=b, limit=1)
    return fetch_all(
        tasks,
        cache=cache,
        ttl_s=TREND_TTL_S,
        budget_s=sources.run_budget_s,
        key_prefix=(sources.cache_key, "coverage trend", first, today),
        window=at.replace(minute=(at.minute // 10) * 10),
    )


def _at_each(prom: Any, query: str, ends: list[datetime]) -> Any:
    """One range query whose steps fall on each day's end (all but the last at midnight UTC)."""
    closed = prom.range(query, ends[0], ends[-2], step=DAY.total_seconds()) if len(ends) > 1 else None
    last = prom.instant(query, ends[-1])
    frame = last.frame.assign(timestamp=pd.Timestamp(ends[-1]))
    if closed is not None:
        frame = pd.concat([closed.frame, frame], ignore_index=True)
    return type(last)(frame, (*(closed.warnings if closed else ()), *last.warnings))


# -- tables ----------------------------------------------------------------------------------------------

MARKS = {"pass": "✓ pass", "gap": "✗ gap", "no data": "? no data"}


def services_table(view: CoverageView) -> pd.DataFrame:
    """One row per service: the verdict of each check in words, and the service's own verdict."""
    rows = [
        {"service": s.service, **{c.name: MARKS[c.verdict] for c in s.checks}, "all five": MARKS[s.verdict]}
        for s in view.services
    ]
    return pd.DataFrame(rows, columns=["service", *checks.CHECKS, "all five"])


def details_table(view: CoverageView) -> pd.DataFrame:
    """What each check found, per service and check."""
    rows = [
        {"service": s.service, "check": c.name, "verdict": MARKS[c.verdict], "found": c.reason}
        for s in view.services
        for c in s.checks
    ]
    return pd.DataFrame(rows, columns=["service", "check", "verdict", "found"])


def gaps_table(view: CoverageView) -> pd.DataFrame:
    rows = [{"service": s, "check": c.name, "found": c.reason, "close it": c.fix} for s, c in view.gaps]
    return pd.DataFrame(rows, columns=["service", "check", "found", "close it"])


def trend_frame(view: CoverageView) -> pd.DataFrame:
    """The trend as `charts.score_trend` draws it: percent per day, None where no service was judged."""
    frame = view.trend
    return pd.DataFrame(
        {
            "timestamp": frame["day"],
            "series": "services fully observed",
            "value": [None if v is None or pd.isna(v) else 100 * v for v in frame["share"]],
            "label": [
                "no data" if v is None or pd.isna(v) else f"{p} of {n} ({v:.0%})"
                for v, p, n in zip(frame["share"], frame["passing"], frame["services"], strict=True)
            ],
        }
    )

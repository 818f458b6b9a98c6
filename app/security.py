"""The Security page: secrets rotation, backups, sign-ins and audit coverage against a written policy.

- `load_policy(path)`: `slo_definitions/security.yaml`, validated (errors name the file and the field).
- `assess_*`: pure functions from query results to `Check`s: a state ("ok", "attention", "failing" or
  "no data"; missing data is never ok), the figure behind it, the policy it is held to, and one line in
  plain words.
- `load(sources, tr, cache)`: the queries of `queries/security.yaml`, concurrently and cached; Prometheus
  (secrets, backups, sign-in counts) and OpenSearch (the audit log) fail on their own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pandas as pd

from app import directory, queries
from app.audit import audit_counts
from app.config import REPO_ROOT
from app.filecache import FileCache, UnreadableFile, read_yaml
from app.sources import Sources
from app.sources.cache import Outcome, ResultCache, default_cache
from app.sources.concurrent import fetch_all
from app.sources.opensearch import SearchResult
from app.sources.prometheus import QueryResult, auto_step, rate_window
from app.timerange import TimeRange
from app.units import format_seconds, format_span

DEFAULT_PATH = REPO_ROOT / "slo_definitions" / "security.yaml"
API_VERSION = "sextant/v1"
KIND = "SecurityPolicy"
GROUP = "security"
TTL_S = 30.0
STATES = ("failing", "attention", "no data", "ok")  # worst first


class SecurityPolicyError(ValueError):
    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = tuple(problems)


@dataclass(frozen=True)
class Policy:
    secret_max_age: timedelta
    secret_due_soon: timedelta
    backup_max_age: dict[str, timedelta]  # target -> newest backup at most this old
    max_failure_share: float
    max_failures_from_one_source: int
    required_actions: tuple[str, ...]


def parse_policy(raw: Any, source: str = "<memory>") -> Policy:
    """Validate a parsed policy document; SecurityPolicyError lists every problem with its field."""
    problems: list[str] = []

    def fail(where: str, message: str) -> None:
        problems.append(f"{source}: {where}: {message}")

    def section(name: str) -> Mapping[str, Any]:
        value = cast(Mapping[str, Any], spec).get(name) or {}  # called once spec is known to be a mapping
        if not isinstance(value, Mapping):
            fail(f"spec.{name}", "must be a mapping")
            return {}
        return value

    def duration(where: str, value: Any) -> timedelta:
        try:
            return queries.duration_timedelta(str(value))
        except (ValueError, TypeError):
            fail(where, f"{value!r} is not a duration such as 90d, 20m or 26h")
            return timedelta(0)

    if not isinstance(raw, Mapping) or raw.get("apiVersion") != API_VERSION or raw.get("kind") != KIND:
        raise SecurityPolicyError([f"{source}: must be apiVersion {API_VERSION}, kind {KIND}"])
    spec = raw.get("spec")
    if not isinstance(spec, Mapping):
        raise SecurityPolicyError([f"{source}: spec: must be a mapping"])
    secrets, logins, audit = section("secrets"), section("logins"), section("audit")
    max_age = duration("spec.secrets.maxAge", secrets.get("maxAge"))
    due_soon = duration("spec.secrets.dueSoon", secrets.get("dueSoon", "0d"))
    backups: dict[str, timedelta] = {}
    for i, item in enumerate(spec.get("backups") or []):
        if not isinstance(item, Mapping) or not isinstance(item.get("target"), str):
            fail(f"spec.backups[{i}]", "needs a target (a name) and a maxAge")
            continue
        backups[item["target"]] = duration(f"spec.backups[{i}].maxAge", item.get("maxAge"))
    share = logins.get("maxFailureShare")
    if not isinstance(share, int | float) or not 0 <= share <= 1:
        fail("spec.logins.maxFailureShare", f"must be a share between 0 and 1, got {share!r}")
    per_source = logins.get("maxFailuresFromOneSource")
    if not isinstance(per_source, int) or per_source < 1:
        fail(
            "spec.logins.maxFailuresFromOneSource",
            f"must be a whole number of at least 1, got {per_source!r}",
        )
    actions = audit.get("requiredActions")
    if not isinstance(actions, list) or not all(isinstance(a, str) for a in actions):
        fail("spec.audit.requiredActions", "must be a list of action names")
        actions = []
    if problems:
        raise SecurityPolicyError(problems)
    return Policy(
        max_age, due_soon, backups, float(cast(float, share)), cast(int, per_source), tuple(actions)
    )


def load_policy(path: str | Path = DEFAULT_PATH) -> Policy:
    path = Path(path)
    try:
        raw = read_yaml(path)
    except UnreadableFile as exc:
        raise SecurityPolicyError([str(exc)]) from exc
    return parse_policy(raw, str(path))


_policies = FileCache(load_policy)


# -- checks (pure) ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    name: str  # what is checked, in words ("Secrets rotation")
    state: str  # one of STATES
    value: str  # the big number ("1 of 5"), short enough for a narrow tile
    label: str  # what it counts, in words ("overdue")
    reason: str  # one line: why this state
    policy: str  # what it is held to
    detail: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)

    @property
    def figure(self) -> str:
        """The figure in words: "1 of 5 overdue"."""
        return f"{self.value} {self.label}".strip()


def worst(states: Sequence[str]) -> str:
    return min(states, key=STATES.index) if states else "no data"


def _days(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 86400:.0f} days"


def assess_secrets(frame: pd.DataFrame | None, policy: Policy, now: datetime) -> Check:
    """Each secret's age against the rotation policy: overdue is failing, due soon is attention."""
    rule = (
        f"Rotated at least every {_days(policy.secret_max_age)}; "
        f"flagged {_days(policy.secret_due_soon)} before."
    )
    if frame is None or frame.empty or "secret" not in frame.columns:
        return Check(
            "Secrets rotation", "no data", "no data", "", "No secret reports when it was last rotated.", rule
        )
    rows = []
    for secret, stamp in sorted(zip(frame["secret"], frame["value"], strict=True)):
        rotated = datetime.fromtimestamp(float(stamp), tz=UTC)
        age = now - rotated
        left = policy.secret_max_age - age
        state = "failing" if left < timedelta(0) else "attention" if left <= policy.secret_due_soon else "ok"
        rows.append(
            {
                "secret": directory.name("secret", secret),  # in words (`app.directory`)
                "last_rotated": rotated,
                "age_days": age.total_seconds() / 86400,
                "days_left": left.total_seconds() / 86400,
                "state": state,
            }
        )
    detail = pd.DataFrame(rows).sort_values(["days_left", "secret"], ignore_index=True)
    overdue = detail[detail["state"] == "failing"]
    soon = detail[detail["state"] == "attention"]
    if not overdue.empty:
        top = overdue.iloc[0]
        reason = (
            f"{top['secret']} was last rotated {top['age_days']:.0f} days ago, "
            f"{format_seconds(-top['days_left'] * 86400)} past the {policy.secret_max_age.days}-day limit."
        )
        figure = (f"{len(overdue)} of {len(detail)}", "overdue")
    elif not soon.empty:
        top = soon.iloc[0]
        reason = f"{top['secret']} is due for rotation in {top['days_left']:.0f} days."
        figure = (f"{len(soon)} of {len(detail)}", "due soon")
    else:
        reason = f"Every secret was rotated within the last {detail['age_days'].max():.0f} days."
        figure = (f"{len(detail)} of {len(detail)}", "current")
    return Check("Secrets rotation", worst(list(detail["state"])), *figure, reason, rule, detail)


def assess_backups(frame: pd.DataFrame | None, policy: Policy, now: datetime) -> Check:
    """The newest backup of each target the policy names against its maximum age; a target the policy
    names that reports nothing is failing (no backup is known)."""
    rule = (
        "Newest backup at most: "
        + ", ".join(
            f"{target} {format_seconds(limit.total_seconds())}"
            for target, limit in policy.backup_max_age.items()
        )
        + "."
    )
    if frame is None or frame.empty or "target" not in frame.columns:
        return Check("Backups", "no data", "no data", "", "No backup target reports its last success.", rule)
    seen = {str(t): float(v) for t, v in zip(frame["target"], frame["value"], strict=True)}
    rows = []
    for target, limit in policy.backup_max_age.items():
        if target not in seen:
            rows.append(
                {
                    "target": target,
                    "last_success": pd.NaT,
                    "age_s": None,
                    "max_age_s": limit.total_seconds(),
                    "state": "failing",
                }
            )
            continue
        done = datetime.fromtimestamp(seen[target], tz=UTC)
        age = (now - done).total_seconds()
        rows.append(
            {
                "target": target,
                "last_success": done,
                "age_s": age,
                "max_age_s": limit.total_seconds(),
                "state": "failing" if age > limit.total_seconds() else "ok",
            }
        )
    detail = pd.DataFrame(rows)
    late = detail[detail["state"] != "ok"]
    if late.empty:
        oldest = detail.assign(share=detail["age_s"] / detail["max_age_s"]).sort_values("share").iloc[-1]
        reason = (
            f"Every target backed up on time; the closest to its limit is {oldest['target']}, "
            f"{format_seconds(oldest['age_s'])} ago."
        )
    else:
        top = late.iloc[0]
        when = (
            "has no successful backup on record"
            if pd.isna(top["last_success"])
            else (f"last backed up {format_seconds(top['age_s'])} ago")
        )
        reason = f"{top['target']} {when} (limit {format_seconds(top['max_age_s'])})."
    value = f"{len(detail) - len(late)} of {len(detail)}"
    return Check("Backups", worst(list(detail["state"])), value, "on time", reason, rule, detail)


def assess_logins(
    counts: pd.DataFrame | None, by_address: pd.DataFrame | None, policy: Policy, tr: TimeRange
) -> Check:
    """Failed sign-ins over the range: their share of all sign-ins, and any one source address with more
    failures than the policy allows (password guessing)."""
    rule = (
        f"At most {policy.max_failure_share:.0%} of sign-ins failing, and at most "
        f"{policy.max_failures_from_one_source:,} failures from one address, over the range."
    )
    by_result: dict[str, float] = {}
    if counts is not None and not counts.empty and "result" in counts.columns:
        by_result = {str(r): float(v) for r, v in zip(counts["result"], counts["value"], strict=True)}
    total = sum(by_result.values())
    if not total:
        return Check(
            "Sign-ins", "no data", "no data", "", f"No sign-in was counted in the {tr.label.lower()}.", rule
        )
    failed = by_result.get("failure", 0.0)
    share = failed / total
    noisy = (
        by_address[by_address["failures"] > policy.max_failures_from_one_source]
        if by_address is not None and not by_address.empty
        else pd.DataFrame()
    )
    value, label = f"{failed:,.0f}", f"failed ({share:.1%})"
    breaches = []
    if share > policy.max_failure_share:
        breaches.append(f"{share:.1%} of sign-ins failed, above the {policy.max_failure_share:.0%} limit")
    if not noisy.empty:
        top = noisy.iloc[0]
        breaches.append(
            f"{top['failures']:,} failed sign-ins from {top['source_ip']} "
            f"({format_span(top['first'], top['last'])}), above the {policy.max_failures_from_one_source:,} "
            "a single address may have: password guessing?"
        )
    reason = "; ".join(breaches) or f"{share:.1%} of {total:,.0f} sign-ins failed; no address stands out"
    state = "failing" if breaches else "ok"  # a policy breached is failing, never only "attention"
    detail = by_address if by_address is not None else pd.DataFrame()
    sentence = reason[0].upper() + reason[1:] + ("" if reason.endswith("?") else ".")
    return Check("Sign-ins", state, value, label, sentence, rule, detail)


def assess_audit(actions: pd.DataFrame | None, policy: Policy, tr: TimeRange) -> Check:
    """Whether every required kind of event reached the audit log in the range."""
    rule = "Audited: " + ", ".join(policy.required_actions) + "."
    if actions is None:
        return Check("Audit log", "no data", "no data", "", "The audit log could not be read.", rule)
    counts = actions.groupby("action")["count"].sum() if not actions.empty else pd.Series(dtype="int64")
    missing = [a for a in policy.required_actions if counts.get(a, 0) == 0]
    present = len(policy.required_actions) - len(missing)
    value = f"{present} of {len(policy.required_actions)}"
    if missing:
        reason = f"No {', '.join(missing)} event in the {tr.label.lower()}: quiet, or no longer audited?"
    else:
        reason = f"{int(counts.sum()):,} events in the {tr.label.lower()}, every required kind among them."
    return Check(
        "Audit log", "attention" if missing else "ok", value, "kinds recorded", reason, rule, actions
    )


# -- loading ---------------------------------------------------------------------------------------------


def failing_sources(result: SearchResult | None) -> pd.DataFrame:
    """Addresses with the most failed sign-ins: source_ip, failures, first, last, tenants."""
    columns = ["source_ip", "failures", "first", "last", "tenants"]
    buckets = (((result.aggregations if result else {}).get("failed_logins") or {}).get("source") or {}).get(
        "buckets", []
    )
    rows = [
        {
            "source_ip": b["key"],
            "failures": int(b["doc_count"]),
            "first": pd.Timestamp(b["first"]["value"], unit="ms", tz="UTC"),
            "last": pd.Timestamp(b["last"]["value"], unit="ms", tz="UTC"),
            "tenants": int(b["tenants"]["value"]),
        }
        for b in buckets
    ]
    return pd.DataFrame(rows, columns=columns)


def audit_actions(result: SearchResult | None) -> pd.DataFrame | None:
    """action, outcome, count; None when the audit log could not be read."""
    return None if result is None else audit_counts(result)


@dataclass(frozen=True)
class Posture:
    time_range: TimeRange
    checks: list[Check]
    failed_logins: pd.DataFrame  # timestamp, value (failed sign-ins per minute)
    outcomes: dict[str, Outcome[Any]] = field(repr=False)
    policy_errors: tuple[str, ...] = ()

    @property
    def state(self) -> str:
        return worst([c.state for c in self.checks])

    @property
    def problems(self) -> list[tuple[str, Outcome[Any]]]:
        backend = {"audit": "opensearch"}
        return [(backend.get(k, "prometheus"), o) for k, o in self.outcomes.items() if o.error is not None]


def _frame(outcome: Outcome[QueryResult]) -> pd.DataFrame | None:
    return outcome.value.frame if outcome.value is not None else None


def load(
    sources: Sources,
    tr: TimeRange,
    cache: ResultCache = default_cache,
    path: Path = DEFAULT_PATH,
    *,
    chart: bool = True,
) -> Posture:
    """The four checks over `tr` and, with `chart`, failed sign-ins per minute (the overview, which only
    shows the checks, passes False and saves that range query)."""
    try:
        policy = _policies.get(path)
    except SecurityPolicyError as exc:
        return Posture(tr, [], pd.DataFrame(columns=["timestamp", "value"]), {}, exc.problems)
    prom, search = sources.prometheus, sources.opensearch
    step = auto_step(tr.start, tr.end)
    audit = queries.render_query(GROUP, "audit_posture", start=tr.start, end=tr.end)
    tasks = {
        "secrets": lambda: prom.instant(queries.render(GROUP, "secret_last_rotated"), tr.end),
        "backups": lambda: prom.instant(queries.render(GROUP, "backup_last_success"), tr.end),
        "logins": lambda: prom.instant(queries.render(GROUP, "logins", window=tr.promql_window), tr.end),
        "failed_logins": lambda: prom.range(
            queries.render(GROUP, "failed_logins_per_minute", window=rate_window(step)),
            tr.start,
            tr.end,
            step,
        ),
        "audit": lambda: search.search(str(audit.index), audit.query),
    }
    if not chart:
        del tasks["failed_logins"]
    out = fetch_all(
        tasks,
        cache=cache,
        ttl_s=TTL_S,
        budget_s=sources.run_budget_s,
        key_prefix=(sources.cache_key, GROUP, tr.preset),
        window=tr,
    )
    audit_result: SearchResult | None = out["audit"].value
    now = tr.end
    # what the audit log says is masked (app.masking) before any check words it
    sources_of_failures = sources.masker.frame(failing_sources(audit_result)) if audit_result else None
    actions = audit_actions(audit_result)
    checks = [
        assess_secrets(_frame(out["secrets"]), policy, now),
        assess_backups(_frame(out["backups"]), policy, now),
        assess_logins(_frame(out["logins"]), sources_of_failures, policy, tr),
        assess_audit(sources.masker.frame(actions) if actions is not None else None, policy, tr),
    ]
    per_minute = _frame(out["failed_logins"]) if chart else None
    return Posture(
        tr,
        checks,
        per_minute if per_minute is not None else pd.DataFrame(columns=["timestamp", "value"]),
        out,
    )

"""What the Alerts page shows: every firing and pending alert of Prometheus (`/api/v1/alerts`) with its
severity, since when, what it belongs to (an SLO, a security control or a dashboard panel, with a link) and
its runbook; every alerting rule (`/api/v1/rules`), those without a runbook flagged; and, when Alertmanager is
configured, who silenced what (and until when) and which alert holds back another.

Prometheus's answers and Alertmanager's fail on their own: without Alertmanager the alerts are still listed,
with a note that silences and inhibitions are not known.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd
import yaml

from app import directory, links
from app.alerting.runbooks import Runbook, resolve, runbook_link
from app.slo.status import AlertStatus
from app.slo.view import definitions
from app.sources import Sources
from app.sources.cache import Outcome, ResultCache, default_cache, warnings_of
from app.sources.concurrent import fetch_all
from app.sources.unconfigured import NotConfiguredClient
from app.times import parse_time

TTL_S = 30.0
SEVERITIES = ("page", "ticket")  # most urgent first; anything else sorts after them
CONTROLS = {  # a security alert's `control` label → the Security page's check
    "secrets": "Secrets rotation",
    "backups": "Backups",
    "logins": "Sign-ins",
    "audit": "Audit log",
}
LabelSet = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Owner:
    """What an alert belongs to, in words, and where Sextant shows it."""

    kind: str  # "SLO", "security control", "panel", "service"
    name: str
    link: str  # relative address (app.links)

    @property
    def text(self) -> str:
        return f"{self.kind}: {self.name}"


@dataclass(frozen=True)
class Alert:
    name: str
    state: str  # Prometheus: firing or pending
    severity: str  # page, ticket, or "" when the rule sets none
    since: datetime | None  # when it became active (pending, then firing)
    labels: dict[str, str]
    summary: str
    owner: Owner | None
    runbook: Runbook | None  # None: the alert has no runbook (flagged)
    silenced_by: tuple[str, ...] = ()  # Alertmanager silence ids
    inhibited_by: tuple[str, ...] = ()  # the alerts that hold it back, in words (`title`)
    # Alertmanager's state: active, suppressed, unprocessed or "not received"; None: not configured
    notified: str | None = None

    @property
    def title(self) -> str:
        return title(self.name, self.labels, self.severity)


@dataclass(frozen=True)
class Rule:
    name: str
    group: str
    severity: str
    owner: Owner | None
    runbook: Runbook | None
    state: str  # inactive, pending, firing
    active: int  # alerts of this rule now active
    title: str = ""  # what it is in words (`title`)


@dataclass(frozen=True)
class Silence:
    id: str
    state: str  # active, pending, expired
    matchers: str
    created_by: str
    comment: str
    starts: datetime | None
    ends: datetime | None
    silencing: int  # alerts it silences now


@dataclass(frozen=True)
class InhibitRule:
    source: str
    target: str
    equal: str


@dataclass(frozen=True)
class AlertsView:
    alerts: list[Alert]  # firing first, then by severity, oldest first
    rules: list[Rule]
    silences: list[Silence]
    inhibit_rules: list[InhibitRule]
    alertmanager: bool  # configured
    outcomes: dict[str, Outcome[Any]] = field(repr=False)

    @property
    def problems(self) -> list[tuple[str, Outcome[Any]]]:
        owner = {"alerts": "prometheus", "rules": "prometheus"}
        return [(owner.get(k, "alertmanager"), o) for k, o in self.outcomes.items() if o.error is not None]

    @property
    def warnings(self) -> list[str]:
        return warnings_of(self.outcomes.values())

    def known(self, part: str) -> bool:
        """Whether Prometheus's `alerts` or `rules` answered (now or from the cache): else "no data"."""
        return self.outcomes[part].value is not None

    @property
    def without_runbook(self) -> list[Rule]:
        return [r for r in self.rules if r.runbook is None]

    def firing(self, severity: str | None = None) -> list[Alert]:
        return [
            a for a in self.alerts if a.state == "firing" and (severity is None or a.severity == severity)
        ]


# -- pure pieces ----------------------------------------------------------------------------------------


def owner_of(labels: Mapping[str, str], slo_titles: Mapping[str, str]) -> Owner | None:
    """An SLO (`slo`), a security control (`control`), a page's panel (`page`, `panel`), else the
    service (`service`); None when the alert says nothing of what it belongs to."""
    if labels.get("slo"):
        name = labels["slo"]
        return Owner("SLO", slo_titles.get(name, name), links.url("slos", slo=name))
    if labels.get("control"):
        control = labels["control"]
        return Owner("security control", CONTROLS.get(control, control), links.url("security"))
    page = labels.get("page")
    if page and page in links.PAGES:
        title = links.PAGES[page].title
        panel = labels.get("panel")
        return Owner("panel", f"{panel} ({title})" if panel else title, links.url(page))
    if labels.get("service"):
        return Owner("service", labels["service"], links.url("service_health"))
    return None


def _key(labels: Mapping[str, Any]) -> LabelSet:
    return tuple(sorted((str(k), str(v)) for k, v in labels.items()))


def _time(value: Any) -> datetime | None:
    try:
        return parse_time(str(value)) if value else None
    except ValueError:
        return None


def _severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)


def rule_runbooks(rules: Iterable[Mapping[str, Any]]) -> dict[str, Runbook | None]:
    """Alert name → the runbook its rule names (rules of one name share it; the first that names one wins)."""
    found: dict[str, Runbook | None] = {}
    for rule in rules:
        if rule.get("type") != "alerting":
            continue
        runbook = resolve((rule.get("annotations") or {}).get("runbook_url"))
        if found.get(str(rule.get("name"))) is None:
            found[str(rule.get("name"))] = runbook
    return found


def alert_rows(
    alerts: Iterable[Mapping[str, Any]],
    rule_books: Mapping[str, Runbook | None],
    managed: Iterable[Mapping[str, Any]] | None,
    slo_titles: Mapping[str, str],
) -> list[Alert]:
    """Prometheus's active alerts joined with their rule's runbook and Alertmanager's view of them."""
    held = {_key(a.get("labels") or {}): a for a in managed or []}
    names = {str(a.get("fingerprint")): _managed_title(a) for a in managed or []}
    rows = []
    for alert in alerts:
        labels = {str(k): str(v) for k, v in (alert.get("labels") or {}).items()}
        annotations = alert.get("annotations") or {}
        name = labels.get("alertname", "")
        runbook = resolve(annotations.get("runbook_url")) or rule_books.get(name)
        am = held.get(_key(labels))
        status = (am or {}).get("status") or {}
        rows.append(
            Alert(
                name=name,
                state=str(alert.get("state", "")),
                severity=labels.get("severity", ""),
                since=_time(alert.get("activeAt")),
                labels=labels,
                summary=str(annotations.get("summary") or annotations.get("description") or ""),
                owner=owner_of(labels, slo_titles),
                runbook=runbook,
                silenced_by=tuple(str(s) for s in status.get("silencedBy") or ()),
                inhibited_by=tuple(names.get(str(f), str(f)) for f in status.get("inhibitedBy") or ()),
                notified=_notified(am, managed is not None),
            )
        )
    return sorted(
        rows,
        key=lambda a: (
            a.state != "firing",
            _severity_rank(a.severity),
            a.since is None,
            a.since.timestamp() if a.since else 0.0,
            a.name,
        ),
    )


def _managed_title(alert: Mapping[str, Any]) -> str:
    """An Alertmanager alert in words, as the alert it holds back names it."""
    labels = {str(k): str(v) for k, v in (alert.get("labels") or {}).items()}
    return title(labels.get("alertname", ""), labels, labels.get("severity", ""))


def _notified(managed_alert: Mapping[str, Any] | None, configured: bool) -> str | None:
    """Alertmanager's state of an alert; "not received" when it is configured but does not hold it."""
    if not configured:
        return None
    if managed_alert is None:
        return "not received"
    return str((managed_alert.get("status") or {}).get("state") or "") or None


def rule_rows(rules: Iterable[Mapping[str, Any]], slo_titles: Mapping[str, str]) -> list[Rule]:
    rows = []
    for rule in rules:
        if rule.get("type") != "alerting":
            continue
        labels = {str(k): str(v) for k, v in (rule.get("labels") or {}).items()}
        rows.append(
            Rule(
                name=str(rule.get("name", "")),
                group=str(rule.get("group", "")),
                severity=labels.get("severity", ""),
                owner=owner_of(labels, slo_titles),
                runbook=resolve((rule.get("annotations") or {}).get("runbook_url")),
                state=str(rule.get("state", "inactive")),
                active=len(rule.get("alerts") or []),
                title=title(str(rule.get("name", "")), labels, labels.get("severity", "")),
            )
        )
    return rows


def matchers_text(matchers: Iterable[Mapping[str, Any]]) -> str:
    """`alertname="X", target=~"doc.*"`, as Alertmanager writes matchers."""
    parts = []
    for m in matchers:
        equal, regex = m.get("isEqual", True), m.get("isRegex", False)
        op = ("=~" if regex else "=") if equal else ("!~" if regex else "!=")
        parts.append(f'{m.get("name")}{op}"{m.get("value")}"')
    return ", ".join(parts)


def silence_rows(
    silences: Iterable[Mapping[str, Any]], managed: Iterable[Mapping[str, Any]]
) -> list[Silence]:
    """Active and pending silences first, then the expired ones, newest first within each."""
    counts: dict[str, int] = {}
    for alert in managed:
        for sid in (alert.get("status") or {}).get("silencedBy") or ():
            counts[str(sid)] = counts.get(str(sid), 0) + 1
    rows = [
        Silence(
            id=str(s.get("id", "")),
            state=str((s.get("status") or {}).get("state", "")),
            matchers=matchers_text(s.get("matchers") or ()),
            created_by=str(s.get("createdBy", "")),
            comment=str(s.get("comment", "")),
            starts=_time(s.get("startsAt")),
            ends=_time(s.get("endsAt")),
            silencing=counts.get(str(s.get("id", "")), 0),
        )
        for s in silences
    ]
    order = {"active": 0, "pending": 1}
    return sorted(rows, key=lambda s: (order.get(s.state, 2), -(s.starts.timestamp() if s.starts else 0)))


def inhibit_rules(status: Mapping[str, Any] | None) -> list[InhibitRule]:
    """The inhibit rules of Alertmanager's running configuration (`status.config.original`)."""
    original = ((status or {}).get("config") or {}).get("original") or ""
    try:
        config = yaml.safe_load(original) or {}
    except yaml.YAMLError:
        return []
    rows = []
    for rule in config.get("inhibit_rules") or [] if isinstance(config, Mapping) else []:
        if not isinstance(rule, Mapping):
            continue
        rows.append(
            InhibitRule(
                source=_matchers(rule, "source"),
                target=_matchers(rule, "target"),
                equal=", ".join(str(e) for e in rule.get("equal") or ()),
            )
        )
    return rows


def _matchers(rule: Mapping[str, Any], side: str) -> str:
    """`source_matchers` (a list of strings) or the older `source_match` / `source_match_re` maps."""
    found = [str(m) for m in rule.get(f"{side}_matchers") or ()]
    found += [f'{k}="{v}"' for k, v in (rule.get(f"{side}_match") or {}).items()]
    found += [f'{k}=~"{v}"' for k, v in (rule.get(f"{side}_match_re") or {}).items()]
    return ", ".join(found)


# -- loading ---------------------------------------------------------------------------------------------


def slo_titles() -> dict[str, str]:
    return {d.name: d.display_name or d.name for d in definitions().definitions}


def load(sources: Sources, at: datetime, cache: ResultCache = default_cache) -> AlertsView:
    """Prometheus's alerts and rules and Alertmanager's alerts, silences and status, all at once."""
    prom, am = sources.prometheus, sources.alertmanager
    configured = not isinstance(am, NotConfiguredClient)
    tasks: dict[str, Any] = {"alerts": prom.alerts, "rules": prom.rules}
    if configured:
        tasks |= {"managed": am.alerts, "silences": am.silences, "status": am.status}
    parts = fetch_all(
        tasks,
        cache=cache,
        ttl_s=TTL_S,
        budget_s=sources.run_budget_s,
        key_prefix=(sources.cache_key, "alerts"),
        window=at,
    )
    titles = slo_titles()
    rules = parts["rules"].value or []
    managed = parts["managed"].value if "managed" in parts else None
    return AlertsView(
        alerts=alert_rows(parts["alerts"].value or [], rule_runbooks(rules), managed, titles),
        rules=rule_rows(rules, titles),
        silences=silence_rows(parts["silences"].value or [], managed or []) if "silences" in parts else [],
        inhibit_rules=inhibit_rules(parts["status"].value) if "status" in parts else [],
        alertmanager=configured,
        outcomes=parts,
    )


# -- tables ----------------------------------------------------------------------------------------------


def alerts_table(alerts: Iterable[Alert], now: datetime) -> pd.DataFrame:
    """One row per alert: state, severity, name (and in words), since, what it belongs to with its link,
    its runbook's link (None: it has none), Alertmanager's word on it, and its summary."""
    rows = [
        {
            "state": a.state,
            "severity": a.severity or "—",
            "alert": a.name,
            "title": a.title,
            "since": a.since,
            # the page's "now" is the minute: an alert active since within it has been so for 0 min, not -1
            "for_min": max((now - a.since).total_seconds() / 60, 0.0) if a.since else None,
            "belongs_to": a.owner.text if a.owner else "not said",
            "link": a.owner.link if a.owner else None,
            "runbook_link": runbook_link(a.runbook),
            "alertmanager": notification(a),
            "summary": summary_words(a),
        }
        for a in alerts
    ]
    columns = ["state", "severity", "alert", "title", "since", "for_min", "belongs_to", "link",
               "runbook_link", "alertmanager", "summary"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def summary_words(alert: Alert) -> str:
    """The alert's summary with the ids of its labels that have display names (a secret, a client firm:
    `app.directory`) in words: a rule's template writes the label's id."""
    text = alert.summary
    for label in directory.LABELS:
        value = alert.labels.get(label)
        if value:
            text = text.replace(value, directory.name(label, value))
    return text


def burn_words(alert: Alert) -> str:
    """An SLO burn alert as people say it ("fast-burn page, 1h window", `AlertStatus.words`): every SLO's
    alerts share one rule name, so the name alone reads as the same alert twice; "" for other alerts."""
    return _burn_words(alert.labels, alert.severity)


def _burn_words(labels: Mapping[str, str], severity: str) -> str:
    name = labels.get("sextant_alert")
    if not name:
        return ""
    return AlertStatus(name, severity, True, labels.get("long_window"), labels.get("short_window")).words


def name_words(name: str) -> str:
    """A rule's CamelCase name as words: "QueueNotDraining" reads "Queue not draining", an acronym kept
    ("BackupOlderThanRPO": "Backup older than RPO")."""
    parts = re.findall(r"[A-Z]+(?=[A-Z][a-z]|[^A-Za-z]|$)|[A-Z]?[a-z]+|\d+[a-z]*", name)
    if not parts:
        return name
    words = [p if p.isupper() and len(p) > 1 else p.lower() for p in parts]
    return " ".join(words)[:1].upper() + " ".join(words)[1:]


def title(name: str, labels: Mapping[str, str], severity: str) -> str:
    """What an alert or a rule is, in words: an SLO burn alert's kind and window, else its rule's name as
    words. The rule's name itself is for the column's tooltip."""
    return _burn_words(labels, severity) or name_words(name)


def notification(alert: Alert) -> str:
    """What Alertmanager does with the alert, in words."""
    if alert.inhibited_by:
        return "held back by " + "; ".join(dict.fromkeys(alert.inhibited_by))
    if alert.silenced_by:
        return f"silenced ({len(alert.silenced_by)} silence{'s' if len(alert.silenced_by) > 1 else ''})"
    words = {
        "active": "notified",
        "unprocessed": "not processed yet",
        "not received": "not received (yet)",
        None: "not known",
    }
    return words.get(alert.notified, alert.notified or "not known")


def rules_table(rules: Iterable[Rule]) -> pd.DataFrame:
    rows = [
        {
            "alert": r.name,
            "title": r.title,
            "group": r.group,
            "severity": r.severity or "—",
            "belongs_to": r.owner.text if r.owner else "not said",
            "link": r.owner.link if r.owner else None,
            "runbook_link": runbook_link(r.runbook),
            "state": r.state,
            "active": r.active,
        }
        for r in rules
    ]
    columns = [
        "alert",
        "title",
        "group",
        "severity",
        "belongs_to",
        "link",
        "runbook_link",
        "state",
        "active",
    ]
    return pd.DataFrame(rows, columns=columns)


def silences_table(silences: Iterable[Silence]) -> pd.DataFrame:
    rows = [
        {
            "state": s.state,
            "matchers": s.matchers,
            "created_by": s.created_by,
            "comment": s.comment,
            "starts": s.starts,
            "ends": s.ends,
            "silencing": s.silencing,
        }
        for s in silences
    ]
    return pd.DataFrame(
        rows, columns=["state", "matchers", "created_by", "comment", "starts", "ends", "silencing"]
    )


def inhibited_table(alerts: Iterable[Alert]) -> pd.DataFrame:
    rows = [
        {"alert": a.title, "belongs_to": a.owner.text if a.owner else "not said", "held_back_by": b}
        for a in alerts
        for b in dict.fromkeys(a.inhibited_by)
    ]
    return pd.DataFrame(rows, columns=["alert", "belongs_to", "held_back_by"])


def inhibit_table(rules: Iterable[InhibitRule]) -> pd.DataFrame:
    rows = [{"source": r.source, "target": r.target, "equal": r.equal} for r in rules]
    return pd.DataFrame(rows, columns=["source", "target", "equal"])

"""The security controls file (`slo_definitions/controls.yaml`): model, loading and validation.

Each control says what the playbook asks, who owns it, how often it is reviewed and when it last was, where
its evidence is written down, and optionally how live evidence checks it. Its status is computed
(`app.controls.status`), never written in the file. Every problem names the file, the control and the field
(`slo_definitions/controls.yaml: control 'restore-drills': evidence[1].max: must be a number`), all at once.

A live evidence entry is one of:
- `query:` a named Prometheus query of `queries/controls.yaml`, asked at the moment shown; each series (one
  per `label` value, e.g. per store) must stay within `max` and/or `min`;
- `check:` the verdict of one of the Security page's checks (`secrets`, `backups`): the same fact, computed
  once, against `slo_definitions/security.yaml`;
- `signal:` a figure Sextant computes from OpenSearch: `audit.unapproved` (actions that need an admin's
  approval, done without one, over `window`), `audit.kinds` (required kinds of audit event with no event
  over `window`), `findings.overdue` (open findings past their fix-by date), `findings.pentest` (age of
  the last penetration test).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from app import queries
from app.config import REPO_ROOT
from app.filecache import FileCache, UnreadableFile, read_yaml

DEFAULT_PATH = REPO_ROOT / "slo_definitions" / "controls.yaml"
API_VERSION = "sextant/v1"
KIND = "SecurityControls"
QUERY_GROUP = "controls"  # queries/controls.yaml
CHECKS = ("secrets", "backups")  # app.security checks a control may rest on
SIGNALS = ("audit.unapproved", "audit.kinds", "findings.overdue", "findings.pentest")
UNITS = ("count", "ratio", "seconds", "flag")
SEVERITIES = ("critical", "high", "medium", "low")

_ID = re.compile(r"^[a-z][a-z0-9-]*$")
_URL = re.compile(r"^https?://[^\s/]+\S*$")
_TOP_KEYS = {"apiVersion", "kind", "metadata", "spec"}
_SPEC_KEYS = {"controls", "findings"}
_FINDINGS_KEYS = {"fixWithin"}
_CONTROL_KEYS = {"id", "title", "area", "playbook", "owner", "reviewEvery", "lastReviewed", "evidenceLink"}
_CONTROL_KEYS |= {"evidence"}
_EVIDENCE_KEYS = {"query", "check", "signal", "label", "max", "min", "unit", "describe", "window", "actions"}


class ControlsError(ValueError):
    """The controls file is invalid; `problems` lists every one."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("invalid security controls:\n  " + "\n  ".join(problems))


@dataclass(frozen=True)
class EvidenceSpec:
    """How live evidence checks a control: exactly one of `query`, `check` and `signal`."""

    describe: str  # what it measures, in words ("time since the last restore drill")
    query: str | None = None
    check: str | None = None
    signal: str | None = None
    label: str | None = None  # the label naming each item of a query's answer (store, key, repository)
    max: float | None = None  # every item must be at most this
    min: float | None = None  # … and at least this
    unit: str = "count"
    window: timedelta | None = None  # audit signals: how far back
    actions: tuple[str, ...] = ()  # audit signals: which actions

    @property
    def kind(self) -> str:
        return "query" if self.query else "check" if self.check else "signal"


@dataclass(frozen=True)
class Control:
    id: str
    title: str
    area: str
    playbook: str
    owner: str
    review_every: timedelta
    last_reviewed: date
    evidence_link: str | None = None
    evidence: tuple[EvidenceSpec, ...] = ()

    def review_due(self) -> datetime:
        """When the next review is due (midnight UTC of the day)."""
        reviewed = datetime(self.last_reviewed.year, self.last_reviewed.month, self.last_reviewed.day)
        return (reviewed + self.review_every).replace(tzinfo=UTC)


@dataclass(frozen=True)
class Controls:
    controls: tuple[Control, ...]
    fix_within: Mapping[str, timedelta] = field(default_factory=dict)  # severity -> fix-by delay
    source: str = "<memory>"

    @property
    def areas(self) -> list[str]:
        return list(dict.fromkeys(c.area for c in self.controls))


def load_controls(path: str | Path = DEFAULT_PATH) -> Controls:
    path = Path(path)
    try:
        raw = read_yaml(path)
    except UnreadableFile as exc:
        raise ControlsError([str(exc)]) from exc
    return parse_controls(raw, str(path))


_files = FileCache(load_controls)


def controls(path: str | Path = DEFAULT_PATH) -> Controls:
    """The controls of `path`, parsed again only when the file changes."""
    return _files.get(path)


def parse_controls(raw: Any, source: str = "<memory>") -> Controls:
    """Validate a parsed document; ControlsError lists every problem with its control and field."""
    v = _Validator(source)
    if not isinstance(raw, Mapping):
        raise ControlsError([f"{source}: must be a mapping with apiVersion, kind, metadata and spec"])
    v.unknown(raw, _TOP_KEYS, "")
    if raw.get("apiVersion") != API_VERSION or raw.get("kind") != KIND:
        v.problem("", f"must be apiVersion {API_VERSION}, kind {KIND}")
    spec = raw.get("spec")
    if not isinstance(spec, Mapping):
        v.problem("spec", "must be a mapping")
        raise ControlsError(v.problems)
    v.unknown(spec, _SPEC_KEYS, "spec")
    fix_within = _fix_within(v, spec.get("findings"))
    items = spec.get("controls")
    if not isinstance(items, list) or not items:
        v.problem("spec.controls", "must be a non-empty list of controls")
        items = []
    parsed, seen = [], set()
    for i, node in enumerate(items):
        name = node.get("id") if isinstance(node, Mapping) else None
        if isinstance(name, str) and name in seen:
            v.problem(f"control {name!r}: id", "is used by another control too")
        seen.add(name)
        control = _control(v, node, i)
        if control is not None:
            parsed.append(control)
    needs_findings = any(e.signal == "findings.overdue" for c in parsed for e in c.evidence)
    if needs_findings and set(fix_within) != set(SEVERITIES):
        v.problem("spec.findings.fixWithin", f"needs a delay for each severity: {', '.join(SEVERITIES)}")
    v.raise_if_any()
    return Controls(tuple(parsed), fix_within, source)


def _fix_within(v: _Validator, node: Any) -> dict[str, timedelta]:
    if node is None:
        return {}
    if not isinstance(node, Mapping):
        v.problem("spec.findings", "must be a mapping")
        return {}
    v.unknown(node, _FINDINGS_KEYS, "spec.findings")
    delays = node.get("fixWithin")
    if not isinstance(delays, Mapping):
        v.problem("spec.findings.fixWithin", "must map each severity to a delay such as 30d")
        return {}
    out = {}
    for severity, value in delays.items():
        if severity not in SEVERITIES:
            v.problem(f"spec.findings.fixWithin.{severity}", f"is not one of {', '.join(SEVERITIES)}")
            continue
        delay = v.duration(value, f"spec.findings.fixWithin.{severity}")
        if delay is not None:
            out[str(severity)] = delay
    return out


def _control(v: _Validator, node: Any, i: int) -> Control | None:
    if not isinstance(node, Mapping):
        v.problem(f"spec.controls[{i}]", "must be a mapping")
        return None
    name = node.get("id")
    where = f"control {name!r}" if isinstance(name, str) and name else f"spec.controls[{i}]"
    v.unknown(node, _CONTROL_KEYS, where)
    if not isinstance(name, str) or not _ID.match(name):
        v.problem(f"{where}: id", "must be lower-case words joined by hyphens, e.g. restore-drills")
    text = {key: v.text(node, key, where) for key in ("title", "area", "playbook", "owner")}
    every = v.duration(node.get("reviewEvery"), f"{where}: reviewEvery")
    reviewed = node.get("lastReviewed")
    if not isinstance(reviewed, date) or isinstance(reviewed, datetime):
        v.problem(f"{where}: lastReviewed", f"must be a date such as 2026-11-02, got {reviewed!r}")
    link = node.get("evidenceLink")
    if link is not None and not (isinstance(link, str) and _URL.match(link)):
        v.problem(f"{where}: evidenceLink", f"must be an http(s) address, got {link!r}")
    evidence_nodes = node.get("evidence") or []
    if not isinstance(evidence_nodes, list):
        v.problem(f"{where}: evidence", "must be a list")
        evidence_nodes = []
    evidence = [_evidence(v, e, f"{where}: evidence[{j}]") for j, e in enumerate(evidence_nodes)]
    if not isinstance(name, str) or every is None or not isinstance(reviewed, date) or None in evidence:
        return None
    if any(value is None for value in text.values()):
        return None
    return Control(
        id=name,
        title=str(text["title"]),
        area=str(text["area"]),
        playbook=str(text["playbook"]),
        owner=str(text["owner"]),
        review_every=every,
        last_reviewed=reviewed,
        evidence_link=link,
        evidence=tuple(e for e in evidence if e is not None),
    )


def _evidence(v: _Validator, node: Any, where: str) -> EvidenceSpec | None:
    if not isinstance(node, Mapping):
        v.problem(where, "must be a mapping with one of query, check or signal")
        return None
    before = len(v.problems)
    v.unknown(node, _EVIDENCE_KEYS, where)
    kinds = [k for k in ("query", "check", "signal") if k in node]
    if len(kinds) != 1:
        v.problem(where, "needs exactly one of query, check or signal")
        return None
    kind = kinds[0]
    value = node[kind]
    if kind == "query":
        try:
            queries.catalogue().get(QUERY_GROUP, str(value))
        except KeyError:
            v.problem(f"{where}.query", f"no query {value!r} in queries/{QUERY_GROUP}.yaml")
    elif kind == "check" and value not in CHECKS:
        v.problem(f"{where}.check", f"{value!r} is not one of {', '.join(CHECKS)}")
    elif kind == "signal" and value not in SIGNALS:
        v.problem(f"{where}.signal", f"{value!r} is not one of {', '.join(SIGNALS)}")
    bounds = {b: _bound(v, node.get(b), f"{where}.{b}") for b in ("max", "min")}
    if kind != "check" and node.get("max") is None and node.get("min") is None:
        v.problem(where, "needs a max or a min to hold the figure to")
    unit = node.get("unit", "count")
    if unit not in UNITS:
        v.problem(f"{where}.unit", f"{unit!r} is not one of {', '.join(UNITS)}")
    window = v.duration(node["window"], f"{where}.window") if "window" in node else None
    if kind == "signal" and str(value).startswith("audit.") and window is None:
        v.problem(f"{where}.window", "an audit signal needs a window such as 7d")
    actions = node.get("actions", [])
    if not isinstance(actions, list) or not all(isinstance(a, str) and a for a in actions):
        v.problem(f"{where}.actions", "must be a list of audit actions such as data.export")
        actions = []
    if kind == "signal" and str(value).startswith("audit.") and not actions:
        v.problem(f"{where}.actions", "an audit signal needs the actions it looks at")
    describe = node.get("describe")
    if not isinstance(describe, str) or not describe.strip():
        v.problem(f"{where}.describe", "is required: what the figure is, in words")
    if len(v.problems) > before:
        return None
    return EvidenceSpec(
        describe=str(describe),
        query=str(value) if kind == "query" else None,
        check=str(value) if kind == "check" else None,
        signal=str(value) if kind == "signal" else None,
        label=str(node["label"]) if node.get("label") else None,
        max=bounds["max"],
        min=bounds["min"],
        unit=str(unit),
        window=window,
        actions=tuple(actions),
    )


def _bound(v: _Validator, value: Any, where: str) -> float | None:
    if value is None:
        return None
    number = _number(value)
    if number is None:
        v.problem(where, f"must be a number or a duration such as 8d, got {value!r}")
    return number


def _number(value: Any) -> float | None:
    if isinstance(value, str):
        try:
            return queries.duration_timedelta(value).total_seconds()  # "8d" as seconds
        except ValueError:
            return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


class _Validator:
    """Collects every problem instead of stopping at the first."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[str] = []

    def problem(self, where: str, message: str) -> None:
        self.problems.append(f"{self.source}: {where}: {message}" if where else f"{self.source}: {message}")

    def raise_if_any(self) -> None:
        if self.problems:
            raise ControlsError(self.problems)

    def unknown(self, node: Mapping[str, Any], allowed: set[str], where: str) -> None:
        for key in node:
            if key not in allowed:
                place = f"{where}.{key}" if where.startswith("spec") or not where else f"{where}: {key}"
                self.problem(place, f"unknown key (expected one of {', '.join(sorted(allowed))})")

    def text(self, node: Mapping[str, Any], key: str, where: str) -> str | None:
        value = node.get(key)
        if not isinstance(value, str) or not value.strip():
            self.problem(f"{where}: {key}", "is required (text)")
            return None
        return value.strip()

    def duration(self, value: Any, where: str) -> timedelta | None:
        try:
            delay = queries.duration_timedelta(str(value))
        except ValueError:
            delay = timedelta(0)
        if delay <= timedelta(0):
            self.problem(where, f"must be a duration such as 90d or 12h, got {value!r}")
            return None
        return delay

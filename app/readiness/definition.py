"""The filing readiness score definition (`slo_definitions/readiness.yaml`): model, loading and validation.

The file is data, not code, so a reviewer can change a weight or threshold without touching Python. Every
problem is reported with the file and the field path (`spec.checks[2].threshold`), all at once, so one
round of fixes is enough.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.config import REPO_ROOT
from app.deadlines import KINDS as DEADLINE_KINDS
from app.filecache import UnreadableFile, read_yaml
from app.timerange import PRESET_LABELS, PRESETS

DEFAULT_PATH = REPO_ROOT / "slo_definitions" / "readiness.yaml"

API_VERSION = "sextant/v1"
KIND = "ReadinessScore"
DOMAINS = ("ingestion", "extraction", "reconciliation", "filing", "assistant")
SCOPES = ("tenant", "platform")
COMPARISONS = (">=", ">", "<=", "<")

PROMETHEUS = "prometheus"
SLO_STATES_SOURCE = "slo_states"
BACKLOG = "backlog"
SOURCES = (PROMETHEUS, SLO_STATES_SOURCE, BACKLOG)

SHARE_HEALTHY = "share_healthy"
COUNT_EXHAUSTED = "count_exhausted"
SLO_AGGREGATES = (SHARE_HEALTHY, COUNT_EXHAUSTED)

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_PLACEHOLDER = re.compile(r"\{\{[^}]*\}\}")
_RANGE = re.compile(r"\[(\d+[smhdwy])(?::\w*)?\]")  # a range selector's window: [1h], or a subquery's [1d:5m]

_TOP_KEYS = {"apiVersion", "kind", "metadata", "spec"}
_METADATA_KEYS = {"name", "displayName", "description"}
_SPEC_KEYS = {"tenants", "checks", "gates", "minimumCoverage", "target"}
_TENANTS_KEYS = {"label", "query", "description"}
_ITEM_KEYS = {
    "name",
    "displayName",
    "description",
    "domain",
    "scope",
    "source",
    "query",
    "throughputQuery",
    "deadline",
    "aggregate",
    "comparison",
    "threshold",
    "unit",
    "window",
}
_CHECK_KEYS = _ITEM_KEYS | {"weight"}
_GATE_KEYS = _ITEM_KEYS | {"cap"}


class ReadinessDefinitionError(ValueError):
    """The definition file is invalid; `problems` lists every `file: field: what is wrong`."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid readiness definition:\n  " + "\n  ".join(problems))


@dataclass(frozen=True)
class Check:
    """A weighted check (`weight` set) or a hard gate (`cap` set).

    `source` says where the figure comes from:
    - `prometheus`: `query` gives the figure (one series per tenant when `scope: tenant`, else one series);
    - `slo_states`: the states of the filing SLOs handed to the score, reduced by `aggregate`
      (`share_healthy`: healthy / SLOs with data; `count_exhausted`: how many have no budget left);
    - `backlog`: `query` gives the backlog per tenant, `throughputQuery` the items one tenant can expect to
      be worked off per hour; the figure is backlog / (throughput x hours left to the next `deadline`),
      i.e. the share of the remaining time the backlog needs.
    """

    name: str
    display_name: str
    description: str
    domain: str
    scope: str
    source: str
    comparison: str
    threshold: float
    unit: str
    weight: float = 0.0
    cap: float | None = None
    query: str | None = None
    throughput_query: str | None = None
    deadline: str | None = None
    aggregate: str | None = None
    window: str | None = None  # "1h": the figure covers the last hour, said beside it (`app.timerange`)

    @property
    def over(self) -> str:
        """" over the last hour" after the figure, when it covers a fixed window; else nothing."""
        return f" over the {PRESET_LABELS[self.window].lower()}" if self.window else ""

    @property
    def is_gate(self) -> bool:
        return self.cap is not None

    def passes(self, figure: float) -> bool:
        """Exact comparison against the threshold (no tolerance: 0.9999 is not 100% complete)."""
        match self.comparison:
            case ">=":
                return figure >= self.threshold
            case ">":
                return figure > self.threshold
            case "<=":
                return figure <= self.threshold
            case _:
                return figure < self.threshold

    def queries(self) -> tuple[str, ...]:
        """The PromQL this check runs (none for SLO-state checks)."""
        return tuple(q for q in (self.query, self.throughput_query) if q)


@dataclass(frozen=True)
class ReadinessDefinition:
    name: str
    display_name: str
    description: str
    tenant_label: str
    tenants_query: str | None
    tenants_description: str
    checks: tuple[Check, ...]
    gates: tuple[Check, ...]
    source: str = "<memory>"
    minimum_coverage: float = 0.0
    """Share of the applicable weight that must have data for a score to be shown (0: any data at all)."""
    target: float | None = None
    """The score the firms should be at (0-100): drawn, labelled, on the trend charts; None: not set."""

    @property
    def items(self) -> tuple[Check, ...]:
        """Checks then gates, in file order."""
        return self.checks + self.gates

    def item(self, name: str) -> Check:
        for check in self.items:
            if check.name == name:
                return check
        raise KeyError(name)


def load_definition(path: str | Path = DEFAULT_PATH) -> ReadinessDefinition:
    """Read and validate a definition file; ReadinessDefinitionError names the file and the field."""
    path = Path(path)
    try:
        raw = read_yaml(path)
    except UnreadableFile as exc:
        raise ReadinessDefinitionError([str(exc)]) from exc
    return parse_definition(raw, source=str(path))


def parse_definition(raw: Any, source: str = "<memory>") -> ReadinessDefinition:
    """Validate an already-parsed document (see load_definition)."""
    v = _Validator(source)
    if not isinstance(raw, Mapping):
        v.problem("", "the document must be a mapping with apiVersion, kind, metadata and spec")
        v.raise_if_any()
    v.unknown_keys(raw, _TOP_KEYS, "")
    if raw.get("apiVersion") != API_VERSION:
        v.problem("apiVersion", f"must be {API_VERSION!r}, got {raw.get('apiVersion')!r}")
    if raw.get("kind") != KIND:
        v.problem("kind", f"must be {KIND!r}, got {raw.get('kind')!r}")
    metadata = v.mapping(raw, "metadata", "metadata")
    v.unknown_keys(metadata, _METADATA_KEYS, "metadata")
    name = v.name(metadata, "name", "metadata.name")
    spec = v.mapping(raw, "spec", "spec")
    v.unknown_keys(spec, _SPEC_KEYS, "spec")

    tenants = v.mapping(spec, "tenants", "spec.tenants", required=False)
    v.unknown_keys(tenants, _TENANTS_KEYS, "spec.tenants")
    tenant_label = v.string(tenants, "label", "spec.tenants.label", required=False) or "tenant"
    tenants_query = v.string(tenants, "query", "spec.tenants.query", required=False)
    if tenants_query:
        v.promql(tenants_query, "spec.tenants.query")

    minimum_coverage = 0.0
    if "minimumCoverage" in spec:
        minimum_coverage = v.number(spec, "minimumCoverage", "spec.minimumCoverage")
        if not math.isnan(minimum_coverage) and not 0 <= minimum_coverage <= 1:
            v.problem("spec.minimumCoverage", f"must be in [0, 1], got {spec['minimumCoverage']!r}")
    target = None
    if "target" in spec:
        target = v.number(spec, "target", "spec.target")
        if not math.isnan(target) and not 0 < target <= 100:
            v.problem("spec.target", f"must be in (0, 100], got {spec['target']!r}")
    checks = tuple(v.items(spec, "checks", gate=False))
    gates = tuple(v.items(spec, "gates", gate=True))
    if not checks:
        v.problem("spec.checks", "at least one check is required")
    seen: dict[str, str] = {}
    for kind in ("checks", "gates"):
        nodes = spec.get(kind)
        for i, node in enumerate(nodes if isinstance(nodes, list) else []):
            item = node.get("name") if isinstance(node, Mapping) else None
            if not isinstance(item, str):
                continue
            where = f"spec.{kind}[{i}].name"
            if item in seen:
                v.problem(where, f"duplicate name {item!r} (also {seen[item]})")
            seen.setdefault(item, where)
    v.raise_if_any()
    return ReadinessDefinition(
        name=name,
        display_name=str(metadata.get("displayName") or name),
        description=str(metadata.get("description") or ""),
        tenant_label=tenant_label,
        tenants_query=tenants_query,
        tenants_description=str(tenants.get("description") or ""),
        checks=checks,
        gates=gates,
        source=source,
        minimum_coverage=minimum_coverage,
        target=target,
    )


class _Validator:
    """Collects every problem instead of stopping at the first."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[str] = []

    def problem(self, field: str, message: str) -> None:
        self.problems.append(f"{self.source}: {field or '(document)'}: {message}")

    def raise_if_any(self) -> None:
        if self.problems:
            raise ReadinessDefinitionError(self.problems)

    def unknown_keys(self, node: Mapping[str, Any], allowed: set[str], path: str) -> None:
        for key in node:
            if key not in allowed:
                field = f"{path}.{key}" if path else str(key)
                self.problem(field, f"unknown key (expected one of {', '.join(sorted(allowed))})")

    def mapping(
        self, node: Mapping[str, Any], key: str, path: str, required: bool = True
    ) -> Mapping[str, Any]:
        value = node.get(key)
        if value is None:
            if required:
                self.problem(path, "is required")
            return {}
        if not isinstance(value, Mapping):
            self.problem(path, f"must be a mapping, got {type(value).__name__}")
            return {}
        return value

    def string(self, node: Mapping[str, Any], key: str, path: str, required: bool = True) -> str | None:
        value = node.get(key)
        if value is None or value == "":
            if required:
                self.problem(path, "is required")
            return None
        if not isinstance(value, str):
            self.problem(path, f"must be a string, got {type(value).__name__}")
            return None
        return value

    def name(self, node: Mapping[str, Any], key: str, path: str) -> str:
        value = self.string(node, key, path) or ""
        if value and not _NAME.match(value):
            self.problem(path, f"{value!r} must be lower_snake_case (letters, digits, underscores)")
        return value

    def number(self, node: Mapping[str, Any], key: str, path: str) -> float:
        value = node.get(key)
        if value is None:
            self.problem(path, "is required")
            return math.nan
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            self.problem(path, f"must be a finite number, got {value!r}")
            return math.nan
        return float(value)

    def choice(self, node: Mapping[str, Any], key: str, path: str, choices: tuple[str, ...]) -> str:
        value = self.string(node, key, path) or ""
        if value and value not in choices:
            self.problem(path, f"{value!r} is not one of {', '.join(choices)}")
        return value

    def promql(self, query: str, path: str) -> None:
        placeholders = _PLACEHOLDER.findall(query)
        if placeholders:
            self.problem(
                path,
                f"placeholders {', '.join(placeholders)} are not supported: write one query for all tenants "
                "that returns one series per tenant",
            )
        if query.count("(") != query.count(")") or query.count("{") != query.count("}"):
            self.problem(path, "unbalanced brackets")

    def items(self, spec: Mapping[str, Any], key: str, gate: bool) -> list[Check]:
        raw = spec.get(key)
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.problem(f"spec.{key}", f"must be a list, got {type(raw).__name__}")
            return []
        out = []
        for i, node in enumerate(raw):
            path = f"spec.{key}[{i}]"
            if not isinstance(node, Mapping):
                self.problem(path, f"must be a mapping, got {type(node).__name__}")
                continue
            check = self.item(node, path, gate)
            if check is not None:
                out.append(check)
        return out

    def item(self, node: Mapping[str, Any], path: str, gate: bool) -> Check | None:
        before = len(self.problems)
        self.unknown_keys(node, _GATE_KEYS if gate else _CHECK_KEYS, path)
        name = self.name(node, "name", f"{path}.name")
        for key in ("displayName", "description", "unit"):
            self.string(node, key, f"{path}.{key}")
        domain = self.choice(node, "domain", f"{path}.domain", DOMAINS)
        scope = self.choice(node, "scope", f"{path}.scope", SCOPES)
        source = self.choice(node, "source", f"{path}.source", SOURCES)
        comparison = self.choice(node, "comparison", f"{path}.comparison", COMPARISONS)
        threshold = self.number(node, "threshold", f"{path}.threshold")
        weight, cap = 0.0, None
        if gate:
            cap = self.number(node, "cap", f"{path}.cap")
            if not math.isnan(cap) and not 0 <= cap < 100:
                self.problem(f"{path}.cap", f"must be in [0, 100), got {node.get('cap')!r}")
        else:
            weight = self.number(node, "weight", f"{path}.weight")
            if not math.isnan(weight) and not weight > 0:
                self.problem(f"{path}.weight", f"must be > 0, got {node.get('weight')!r}")
        query = self.string(node, "query", f"{path}.query", required=source in (PROMETHEUS, BACKLOG))
        throughput = self.string(
            node, "throughputQuery", f"{path}.throughputQuery", required=source == BACKLOG
        )
        deadline = aggregate = None
        if source == BACKLOG:
            deadline = self.choice(node, "deadline", f"{path}.deadline", DEADLINE_KINDS)
            if scope and scope != "tenant":
                self.problem(
                    f"{path}.scope", "a backlog check compares each tenant's backlog: use scope: tenant"
                )
        if source == SLO_STATES_SOURCE:
            aggregate = self.choice(node, "aggregate", f"{path}.aggregate", SLO_AGGREGATES)
            if scope and scope != "platform":
                self.problem(f"{path}.scope", "SLO states are platform-wide: use scope: platform")
        for key, value in (("query", query), ("throughputQuery", throughput)):
            if value and source == SLO_STATES_SOURCE:
                self.problem(f"{path}.{key}", "not used by source: slo_states")
            elif value:
                self.promql(value, f"{path}.{key}")
        if source == PROMETHEUS and "throughputQuery" in node:
            self.problem(f"{path}.throughputQuery", "only used by source: backlog")
        if source != BACKLOG and "deadline" in node:
            self.problem(f"{path}.deadline", "only used by source: backlog")
        if source != SLO_STATES_SOURCE and "aggregate" in node:
            self.problem(f"{path}.aggregate", "only used by source: slo_states")
        window = self.window(node, query, path)
        if len(self.problems) > before:
            return None
        return Check(
            name=name,
            display_name=str(node["displayName"]),
            description=str(node["description"]).strip(),
            domain=domain,
            scope=scope,
            source=source,
            comparison=comparison,
            threshold=threshold,
            unit=str(node["unit"]),
            weight=weight,
            cap=cap,
            query=query.strip() if query else None,
            throughput_query=throughput.strip() if throughput else None,
            deadline=deadline or None,
            aggregate=aggregate or None,
            window=window,
        )

    def window(self, node: Mapping[str, Any], query: str | None, path: str) -> str | None:
        """The window a Prometheus figure covers, one of the pages' range presets, and the only range its
        query selects: the words beside the figure name it, so they cannot disagree with the query."""
        window = self.string(node, "window", f"{path}.window", required=False)
        if window is None:
            return None
        if window not in PRESETS:
            self.problem(f"{path}.window", f"{window!r} is not one of {', '.join(PRESETS)}")
        elif query is None:
            self.problem(f"{path}.window", "only used with a query")
        elif set(_RANGE.findall(query)) != {window}:
            self.problem(f"{path}.window", f"the query must select [{window}] and no other range")
        return window
